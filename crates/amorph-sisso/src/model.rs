//! Fitted models: descriptors, coefficients, errors, evaluation on new data, files.

use std::fmt;
use std::path::Path;

use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::expr::Expr;

/// One descriptor of a model: a symbolic feature with its unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The expression over the primary features.
    pub expr: Expr,
    /// The expression as text, primaries by name.
    pub formula: String,
    /// The unit of the descriptor's values.
    pub unit: String,
}

/// A linear model `y = c0 + Σ ci di` over descriptors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Number of descriptors.
    pub dim: usize,
    /// The descriptors.
    pub descriptors: Vec<Descriptor>,
    /// One coefficient per descriptor (unit: target unit / descriptor unit).
    pub coefficients: Vec<f64>,
    /// The intercept `c0` (unit of the target).
    pub intercept: f64,
    /// Root-mean-square error on the training data.
    pub rmse: f64,
    /// Largest absolute error on the training data.
    pub max_ae: f64,
    /// Names of the primary features, in the column order that [`Model::predict`] expects.
    pub primaries: Vec<String>,
    /// Name of the target.
    pub target: String,
    /// Unit of the target.
    pub target_unit: String,
}

impl Model {
    /// Predictions for a table whose columns are the primary features in the order of
    /// [`Model::primaries`] (rows = samples). A non-finite prediction (e.g. `log` of a negative
    /// value) is an error naming the row.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        if x.ncols() != self.primaries.len() {
            return Err(Error::InvalidInput(format!(
                "{} columns given, the model's primaries are {} ({})",
                x.ncols(),
                self.primaries.len(),
                self.primaries.join(", ")
            )));
        }
        if let Some(d) = self
            .descriptors
            .iter()
            .find(|d| d.expr.max_primary() >= self.primaries.len())
        {
            return Err(Error::InvalidInput(format!(
                "descriptor {} uses a missing primary",
                d.formula
            )));
        }
        let mut out = Array1::from_elem(x.nrows(), self.intercept);
        for (d, c) in self.descriptors.iter().zip(&self.coefficients) {
            for (o, v) in out.iter_mut().zip(d.expr.eval(x)) {
                *o += c * v;
            }
        }
        if let Some(row) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                column: "prediction".to_string(),
                row,
            });
        }
        Ok(out)
    }

    /// The model as one line: `target = c1·d1 + c2·d2 + c0`.
    pub fn formula(&self) -> String {
        let mut s = format!("{} =", self.target);
        for (k, (d, c)) in self.descriptors.iter().zip(&self.coefficients).enumerate() {
            let sign = if *c < 0.0 {
                "-"
            } else if k == 0 {
                ""
            } else {
                "+"
            };
            if k == 0 {
                s.push_str(&format!(" {sign}{}·{}", num(c.abs()), d.formula));
            } else {
                s.push_str(&format!(" {sign} {}·{}", num(c.abs()), d.formula));
            }
        }
        let sign = if self.intercept < 0.0 { "-" } else { "+" };
        s.push_str(&format!(" {sign} {}", num(self.intercept.abs())));
        s
    }

    /// Writes the model as JSON, atomically (temporary file, then rename).
    pub fn save_json(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the model: {e}")))?;
        write_atomic(path, text.as_bytes())
    }

    /// Reads a model written by [`Model::save_json`].
    pub fn load_json(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        serde_json::from_str(&text).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}D model: {}", self.dim, self.formula())?;
        for (k, (d, c)) in self.descriptors.iter().zip(&self.coefficients).enumerate() {
            writeln!(
                f,
                "  d{} = {}   [{}]   c{} = {}",
                k + 1,
                d.formula,
                d.unit,
                k + 1,
                num(*c)
            )?;
        }
        writeln!(f, "  c0 = {} [{}]", num(self.intercept), self.target_unit)?;
        write!(f, "  RMSE = {}, MaxAE = {}", num(self.rmse), num(self.max_ae))
    }
}

/// Ten significant digits, in fixed notation for moderate magnitudes.
fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-3..1e6).contains(&a) {
        let digits = (9 - a.log10().floor() as i32).clamp(0, 12) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.9e}")
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
