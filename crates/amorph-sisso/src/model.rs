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

/// The coefficients and training errors of a multi-task model for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskFit {
    /// The task's label.
    pub task: String,
    /// One coefficient per descriptor.
    pub coefficients: Vec<f64>,
    /// The task's intercept.
    pub intercept: f64,
    /// Root-mean-square error on the task's training rows.
    pub rmse: f64,
    /// Largest absolute error on the task's training rows.
    pub max_ae: f64,
}

/// A linear model `y = c0 + Σ ci di` over descriptors; with several tasks (multi-task SISSO), the
/// descriptors are shared and every task has its own `c0, ci` ([`Model::tasks`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Number of descriptors.
    pub dim: usize,
    /// The descriptors.
    pub descriptors: Vec<Descriptor>,
    /// One coefficient per descriptor (unit: target unit / descriptor unit); empty for a multi-task
    /// model, whose coefficients are in [`Model::tasks`].
    pub coefficients: Vec<f64>,
    /// The intercept `c0` (unit of the target); 0 for a multi-task model (see [`Model::tasks`]).
    pub intercept: f64,
    /// Root-mean-square error on the training data; for a multi-task model the combined error of
    /// the tasks chosen by [`TaskWeighting`](crate::TaskWeighting).
    pub rmse: f64,
    /// Largest absolute error on the training data (over all tasks).
    pub max_ae: f64,
    /// Multi-task models: the fit of every task, in the order of [`Dataset::tasks`](crate::Dataset::tasks).
    /// Empty for a single-task model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskFit>,
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
    /// value) is an error naming the row. A multi-task model needs the task of every row:
    /// [`Model::predict_tasks`].
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        if !self.tasks.is_empty() {
            return Err(Error::InvalidInput(format!(
                "a model of {} tasks needs the task of every row (predict_tasks)",
                self.tasks.len()
            )));
        }
        let values = self.descriptor_values(x)?;
        let mut out = Array1::from_elem(x.nrows(), self.intercept);
        for (v, c) in values.iter().zip(&self.coefficients) {
            for (o, v) in out.iter_mut().zip(v) {
                *o += c * v;
            }
        }
        finite(out)
    }

    /// Predictions for rows that each belong to a task: `tasks[i]` is the label of row `i`, one of
    /// the labels of [`Model::tasks`] (an unknown label is an error). A single-task model has one
    /// task and ignores the labels.
    pub fn predict_tasks<S: AsRef<str>>(&self, x: ArrayView2<'_, f64>, tasks: &[S]) -> Result<Array1<f64>> {
        if tasks.len() != x.nrows() {
            return Err(Error::InvalidInput(format!(
                "{} task labels for {} rows",
                tasks.len(),
                x.nrows()
            )));
        }
        if self.tasks.is_empty() {
            return self.predict(x);
        }
        let which: Vec<&TaskFit> = tasks
            .iter()
            .map(|l| {
                let l = l.as_ref();
                self.tasks.iter().find(|t| t.task == l).ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "task {l:?} is not one of the model's tasks ({})",
                        self.tasks
                            .iter()
                            .map(|t| t.task.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            })
            .collect::<Result<_>>()?;
        let values = self.descriptor_values(x)?;
        let out = Array1::from_shape_fn(x.nrows(), |i| {
            let t = which[i];
            t.intercept
                + values
                    .iter()
                    .zip(&t.coefficients)
                    .map(|(v, c)| c * v[i])
                    .sum::<f64>()
        });
        finite(out)
    }

    /// The values of the descriptors on a table of primaries.
    fn descriptor_values(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Vec<f64>>> {
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
        Ok(self.descriptors.iter().map(|d| d.expr.eval(x)).collect())
    }

    /// The model as one line: `target = c1·d1 + c2·d2 + c0`; for a multi-task model one such
    /// formula per task, `[task] target = ...`, separated by `; `.
    pub fn formula(&self) -> String {
        if self.tasks.is_empty() {
            return self.formula_with(&self.coefficients, self.intercept);
        }
        self.tasks
            .iter()
            .map(|t| format!("[{}] {}", t.task, self.formula_with(&t.coefficients, t.intercept)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn formula_with(&self, coefficients: &[f64], intercept: f64) -> String {
        let mut s = format!("{} =", self.target);
        for (k, (d, c)) in self.descriptors.iter().zip(coefficients).enumerate() {
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
        let sign = if intercept < 0.0 { "-" } else { "+" };
        s.push_str(&format!(" {sign} {}", num(intercept.abs())));
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

/// Predictions, or an error naming the first row whose prediction is not finite.
fn finite(out: Array1<f64>) -> Result<Array1<f64>> {
    if let Some(row) = out.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            column: "prediction".to_string(),
            row,
        });
    }
    Ok(out)
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.tasks.is_empty() {
            writeln!(f, "{}D model of {} tasks", self.dim, self.tasks.len())?;
            for (k, d) in self.descriptors.iter().enumerate() {
                writeln!(f, "  d{} = {}   [{}]", k + 1, d.formula, d.unit)?;
            }
            for t in &self.tasks {
                let c: Vec<String> = t.coefficients.iter().map(|c| num(*c)).collect();
                writeln!(
                    f,
                    "  task {}: c0 = {} [{}], c = [{}], RMSE = {}, MaxAE = {}",
                    t.task,
                    num(t.intercept),
                    self.target_unit,
                    c.join(", "),
                    num(t.rmse),
                    num(t.max_ae)
                )?;
            }
            return write!(f, "  RMSE = {}, MaxAE = {}", num(self.rmse), num(self.max_ae));
        }
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
