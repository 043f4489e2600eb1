//! The input table: primary features with names and units, and the target.

use ndarray::{Array1, Array2};

use crate::error::{Error, Result};
use crate::units::Unit;

/// A table of primary features (rows = samples, columns = features) with names and units, and the
/// target property. Validated on construction: no NaN or infinity, no constant column, shapes that
/// fit.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub(crate) x: Array2<f64>,
    pub(crate) y: Array1<f64>,
    pub(crate) names: Vec<String>,
    pub(crate) units: Vec<Unit>,
    pub(crate) target: String,
    pub(crate) target_unit: Unit,
}

impl Dataset {
    /// A dataset with dimensionless primaries and target `y`. `names` name the columns of `x`.
    pub fn new(x: Array2<f64>, y: Array1<f64>, names: Vec<String>) -> Result<Self> {
        if x.nrows() != y.len() {
            return Err(Error::InvalidInput(format!(
                "{} rows of features but {} target values",
                x.nrows(),
                y.len()
            )));
        }
        if x.ncols() != names.len() {
            return Err(Error::InvalidInput(format!(
                "{} feature columns but {} names",
                x.ncols(),
                names.len()
            )));
        }
        if x.ncols() == 0 || x.nrows() < 3 {
            return Err(Error::TooFew(format!(
                "{} samples of {} features (need at least 3 samples and 1 feature)",
                x.nrows(),
                x.ncols()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for nm in &names {
            if !seen.insert(nm.as_str()) {
                return Err(Error::InvalidInput(format!("feature name {nm} appears twice")));
            }
        }
        check_column("target", y.iter().copied())?;
        for (j, nm) in names.iter().enumerate() {
            check_column(nm, x.column(j).iter().copied())?;
        }
        let units = vec![Unit::dimensionless(); names.len()];
        Ok(Self {
            x,
            y,
            names,
            units,
            target: "y".to_string(),
            target_unit: Unit::dimensionless(),
        })
    }

    /// Sets the units of the primaries, one per column, in column order.
    pub fn with_units(mut self, units: Vec<Unit>) -> Result<Self> {
        if units.len() != self.names.len() {
            return Err(Error::MissingUnits(format!(
                "{} units for {} features",
                units.len(),
                self.names.len()
            )));
        }
        self.units = units;
        Ok(self)
    }

    /// Sets the units from `(name, unit)` pairs; every feature needs one and every name must be a
    /// feature.
    pub fn with_named_units<'a>(self, pairs: impl IntoIterator<Item = (&'a str, Unit)>) -> Result<Self> {
        let mut units: Vec<Option<Unit>> = vec![None; self.names.len()];
        for (name, u) in pairs {
            let j = self.names.iter().position(|n| n == name).ok_or_else(|| {
                Error::MissingUnits(format!("units given for {name}, which is not a feature"))
            })?;
            units[j] = Some(u);
        }
        let missing: Vec<&str> = self
            .names
            .iter()
            .zip(&units)
            .filter(|(_, u)| u.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingUnits(format!("no unit for {}", missing.join(", "))));
        }
        self.with_units(units.into_iter().flatten().collect())
    }

    /// Names the target and gives its unit (used in formulas and coefficient units).
    pub fn with_target(mut self, name: &str, unit: Unit) -> Self {
        self.target = name.to_string();
        self.target_unit = unit;
        self
    }

    /// Number of samples.
    pub fn nsamples(&self) -> usize {
        self.x.nrows()
    }

    /// The feature names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

fn check_column(name: &str, it: impl Iterator<Item = f64>) -> Result<()> {
    let mut first = None;
    let mut constant = true;
    for (row, v) in it.enumerate() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                column: name.to_string(),
                row,
            });
        }
        match first {
            None => first = Some(v),
            Some(f) => constant &= v == f,
        }
    }
    if constant {
        return Err(Error::ConstantColumn(name.to_string()));
    }
    Ok(())
}
