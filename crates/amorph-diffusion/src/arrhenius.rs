//! Arrhenius fits D(T) = D₀ exp(−Eₐ/k_BT): least squares on ln D against 1/T, extrapolation with
//! its uncertainty, and the `T_K,D_cm2_s[,D_stderr_cm2_s]` table format.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::fit_line;

/// Boltzmann's constant in eV/K (k/e, both exact in the SI since 2019).
pub const BOLTZMANN_EV_PER_K: f64 = 1.380649e-23 / 1.602176634e-19;

/// One diffusivity measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArrheniusPoint {
    /// Temperature, K.
    pub t_k: f64,
    /// Diffusivity, cm²/s.
    pub d_cm2_s: f64,
    /// Its standard error, cm²/s, when known (turns the fit into weighted least squares).
    pub d_stderr_cm2_s: Option<f64>,
}

/// The result of [`fit_arrhenius`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrheniusFit {
    /// Activation energy, eV.
    pub ea_ev: f64,
    /// Its standard error, eV (`None` for two points without errors: no residual to estimate from).
    pub ea_stderr_ev: Option<f64>,
    /// Pre-exponential factor, cm²/s.
    pub d0_cm2_s: f64,
    /// Its standard error (D₀ × the standard error of ln D₀), cm²/s.
    pub d0_stderr_cm2_s: Option<f64>,
    /// Number of points.
    pub n: usize,
    /// True when the points carried standard errors and were weighted by (D/σ_D)².
    pub weighted: bool,
    /// Covariance of (slope, intercept) of ln D = intercept + slope/T (slope in K).
    pub covariance: Option<[[f64; 2]; 2]>,
    slope_k: f64,
    intercept: f64,
}

impl ArrheniusFit {
    /// D at temperature `t_k` (K) from the fitted line, with its standard error from the parameter
    /// covariance (σ_D = D·σ_lnD), cm²/s.
    pub fn diffusivity_at(&self, t_k: f64) -> Result<(f64, Option<f64>)> {
        if !(t_k.is_finite() && t_k > 0.0) {
            return Err(Error::Arrhenius(format!("temperature {t_k} K must be positive")));
        }
        let x = 1.0 / t_k;
        let d = (self.intercept + self.slope_k * x).exp();
        let se = self.covariance.map(|c| {
            let var = c[1][1] + x * x * c[0][0] + 2.0 * x * c[0][1];
            d * var.max(0.0).sqrt()
        });
        Ok((d, se))
    }
}

/// Fits ln D = ln D₀ − Eₐ/(k_B T).
///
/// Without standard errors this is ordinary least squares and equals pymatgen's
/// `fit_arrhenius(temps, diffusivities)` (Eₐ, D₀ = `c` and the standard error of Eₐ, which pymatgen
/// gives for three or more points) and `get_extrapolated_diffusivity`. With standard errors σ_D on
/// every point, each ln D is weighted by (D/σ_D)² (σ_lnD = σ_D/D) and the parameter covariance is
/// (XᵀWX)⁻¹ scaled by the reduced χ² when that exceeds one (three or more points): the stated
/// errors are trusted unless the scatter about the line shows they are too small.
///
/// Errors: fewer than two points, a non-positive or non-finite T, D or σ_D, temperatures that are
/// not strictly monotonic in the given order, errors on some points but not all.
pub fn fit_arrhenius(points: &[ArrheniusPoint]) -> Result<ArrheniusFit> {
    let n = points.len();
    if n < 2 {
        return Err(Error::Arrhenius(format!(
            "{n} point(s): an Arrhenius fit needs at least two"
        )));
    }
    for (i, p) in points.iter().enumerate() {
        if !(p.t_k.is_finite() && p.t_k > 0.0) {
            return Err(Error::Arrhenius(format!(
                "row {}: temperature {} K must be positive",
                i + 1,
                p.t_k
            )));
        }
        if !(p.d_cm2_s.is_finite() && p.d_cm2_s > 0.0) {
            return Err(Error::Arrhenius(format!(
                "row {}: D = {} cm²/s at {} K; ln D needs D > 0",
                i + 1,
                p.d_cm2_s,
                p.t_k
            )));
        }
        if let Some(s) = p.d_stderr_cm2_s
            && !(s.is_finite() && s > 0.0)
        {
            return Err(Error::Arrhenius(format!(
                "row {}: standard error {s} must be positive",
                i + 1
            )));
        }
    }
    let increasing = points.windows(2).all(|w| w[1].t_k > w[0].t_k);
    let decreasing = points.windows(2).all(|w| w[1].t_k < w[0].t_k);
    if !(increasing || decreasing) {
        let t: Vec<String> = points.iter().map(|p| p.t_k.to_string()).collect();
        return Err(Error::Arrhenius(format!(
            "temperatures must be strictly increasing or decreasing, got {}",
            t.join(", ")
        )));
    }
    let with_errors = points.iter().filter(|p| p.d_stderr_cm2_s.is_some()).count();
    if with_errors != 0 && with_errors != n {
        return Err(Error::Arrhenius(format!(
            "{with_errors} of {n} rows have a standard error: give it on every row or on none"
        )));
    }
    let weighted = with_errors == n;
    let x: Vec<f64> = points.iter().map(|p| 1.0 / p.t_k).collect();
    let y: Vec<f64> = points.iter().map(|p| p.d_cm2_s.ln()).collect();
    let w: Option<Vec<f64>> = weighted.then(|| {
        points
            .iter()
            .map(|p| (p.d_cm2_s / p.d_stderr_cm2_s.unwrap_or(f64::NAN)).powi(2))
            .collect()
    });
    let line = fit_line(&x, &y, w.as_deref()).ok_or_else(|| Error::Fit("degenerate temperatures".into()))?;
    let dof = n as f64 - 2.0;
    // (XᵀWX)⁻¹ = [[1/Sxx, −x̄/Sxx], [−x̄/Sxx, 1/Σw + x̄²/Sxx]] (centred form).
    let base = [
        [1.0 / line.sxx, -line.mean_x / line.sxx],
        [
            -line.mean_x / line.sxx,
            1.0 / line.sum_w + line.mean_x.powi(2) / line.sxx,
        ],
    ];
    let factor = if weighted {
        Some(if n > 2 {
            (line.weighted_rss / dof).max(1.0)
        } else {
            1.0
        })
    } else if n > 2 {
        Some(line.weighted_rss / dof)
    } else {
        None
    };
    let covariance = factor.map(|f| [[base[0][0] * f, base[0][1] * f], [base[1][0] * f, base[1][1] * f]]);
    let ea = -line.slope * BOLTZMANN_EV_PER_K;
    let d0 = line.intercept.exp();
    Ok(ArrheniusFit {
        ea_ev: ea,
        ea_stderr_ev: covariance.map(|c| c[0][0].sqrt() * BOLTZMANN_EV_PER_K),
        d0_cm2_s: d0,
        d0_stderr_cm2_s: covariance.map(|c| d0 * c[1][1].sqrt()),
        n,
        weighted,
        covariance,
        slope_k: line.slope,
        intercept: line.intercept,
    })
}

/// Parses an Arrhenius table: CSV with a header naming `T_K` and `D_cm2_s` and optionally
/// `D_stderr_cm2_s` (any order, other columns ignored); blank lines and lines starting with `#`
/// are skipped. `path` only names the source in errors.
pub fn parse_table(text: &str, path: &str) -> Result<Vec<ArrheniusPoint>> {
    let err = |line: usize, message: String| Error::Table {
        path: path.to_string(),
        line,
        message,
    };
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (hline, header) = rows.next().ok_or_else(|| err(0, "empty table".into()))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| names.iter().position(|&c| c == name);
    let ct = col("T_K").ok_or_else(|| err(hline, format!("no T_K column in header '{header}'")))?;
    let cd = col("D_cm2_s").ok_or_else(|| err(hline, format!("no D_cm2_s column in header '{header}'")))?;
    let ce = col("D_stderr_cm2_s");
    let mut out = Vec::new();
    for (line, text) in rows {
        let cells: Vec<&str> = text.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(err(
                line,
                format!("{} fields, the header has {}", cells.len(), names.len()),
            ));
        }
        let num = |c: usize, what: &str| -> Result<f64> {
            cells[c]
                .parse::<f64>()
                .map_err(|_| err(line, format!("{what} '{}' is not a number", cells[c])))
        };
        let d_stderr_cm2_s = match ce {
            Some(c) if !cells[c].is_empty() => Some(num(c, "D_stderr_cm2_s")?),
            _ => None,
        };
        out.push(ArrheniusPoint {
            t_k: num(ct, "T_K")?,
            d_cm2_s: num(cd, "D_cm2_s")?,
            d_stderr_cm2_s,
        });
    }
    if out.is_empty() {
        return Err(err(hline, "the table has a header but no rows".into()));
    }
    Ok(out)
}

/// Reads an Arrhenius table file (see [`parse_table`]).
pub fn read_table(path: impl AsRef<Path>) -> Result<Vec<ArrheniusPoint>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| amorph_structure::Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_table(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(t: &[f64], d: &[f64]) -> Vec<ArrheniusPoint> {
        t.iter()
            .zip(d)
            .map(|(&t_k, &d_cm2_s)| ArrheniusPoint {
                t_k,
                d_cm2_s,
                d_stderr_cm2_s: None,
            })
            .collect()
    }

    #[test]
    fn exact_arrhenius_data_are_recovered() {
        let t = [1000.0, 1500.0, 2000.0, 2500.0];
        let d: Vec<f64> = t
            .iter()
            .map(|t| 1e-3 * (-0.5 / (BOLTZMANN_EV_PER_K * t)).exp())
            .collect();
        let f = fit_arrhenius(&pts(&t, &d)).unwrap();
        assert!((f.ea_ev - 0.5).abs() < 1e-12 && (f.d0_cm2_s / 1e-3 - 1.0).abs() < 1e-12);
        assert!(f.ea_stderr_ev.unwrap() < 1e-12);
        let (d300, _) = f.diffusivity_at(300.0).unwrap();
        assert!((d300 / (1e-3 * (-0.5 / (BOLTZMANN_EV_PER_K * 300.0)).exp()) - 1.0).abs() < 1e-10);
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(fit_arrhenius(&pts(&[1000.0, 2000.0, 1500.0], &[1e-6, 1e-5, 3e-6])).is_err());
        assert!(fit_arrhenius(&pts(&[1000.0, 1000.0], &[1e-6, 1e-5])).is_err());
        assert!(fit_arrhenius(&pts(&[1000.0, 2000.0], &[0.0, 1e-5])).is_err());
        assert!(fit_arrhenius(&pts(&[1000.0, 2000.0], &[-1e-6, 1e-5])).is_err());
        assert!(fit_arrhenius(&pts(&[1000.0], &[1e-6])).is_err());
        let e = parse_table("T_K,D_cm2_s\n1000,abc\n", "t.csv").unwrap_err();
        assert_eq!(e.to_string(), "t.csv:2: D_cm2_s 'abc' is not a number");
        assert!(parse_table("T,D\n1,2\n", "t.csv").is_err());
    }

    #[test]
    fn two_points_without_errors_have_no_standard_error() {
        let f = fit_arrhenius(&pts(&[1000.0, 2000.0], &[1e-6, 1e-5])).unwrap();
        assert!(f.ea_stderr_ev.is_none() && f.diffusivity_at(300.0).unwrap().1.is_none());
    }
}
