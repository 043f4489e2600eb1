//! The input table: primary features with names and units, and the target.

use ndarray::{Array1, Array2};

use crate::error::{Error, Result};
use crate::units::Unit;

/// A table of primary features (rows = samples, columns = features) with names and units, and the
/// target property. Validated on construction: no NaN or infinity, no constant column, shapes that
/// fit. Optionally each row belongs to a task ([`Dataset::with_tasks`], multi-task SISSO).
#[derive(Debug, Clone)]
pub struct Dataset {
    pub(crate) x: Array2<f64>,
    pub(crate) y: Array1<f64>,
    pub(crate) names: Vec<String>,
    pub(crate) units: Vec<Unit>,
    pub(crate) target: String,
    pub(crate) target_unit: Unit,
    /// Task labels, in order of first appearance (one entry `""` without tasks).
    pub(crate) task_names: Vec<String>,
    /// Task index of every row.
    pub(crate) task: Vec<usize>,
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
        let x_rows = x.nrows();
        Ok(Self {
            x,
            y,
            names,
            units,
            target: "y".to_string(),
            target_unit: Unit::dimensionless(),
            task_names: vec![String::new()],
            task: vec![0; x_rows],
        })
    }

    /// Assigns every row to a task (multi-task SISSO): `labels[i]` is the task of row `i`; tasks are
    /// numbered in order of first appearance. All tasks share the descriptors of a model, each has
    /// its own coefficients and intercept. One distinct label is the ordinary single-task fit. Every
    /// task needs at least 3 rows.
    ///
    /// ```
    /// use amorph_sisso::{Dataset, SissoParams};
    /// use ndarray::{Array1, Array2};
    ///
    /// // Two tasks sharing the descriptor `a`: y = 2a + 1 on even rows, y = −a on odd ones.
    /// let x = Array2::from_shape_fn((30, 2), |(i, j)| 1.0 + ((i * (j + 3) * 7) % 11) as f64);
    /// let y = Array1::from_shape_fn(30, |i| if i % 2 == 0 { 2.0 * x[[i, 0]] + 1.0 } else { -x[[i, 0]] });
    /// let labels: Vec<&str> = (0..30).map(|i| if i % 2 == 0 { "even" } else { "odd" }).collect();
    /// let data = Dataset::new(x, y, vec!["a".into(), "b".into()])?.with_tasks(&labels)?;
    /// let fit = SissoParams::new().desc_dim(1).check()?.fit(&data)?;
    /// let best = fit.best(1).unwrap();
    /// assert_eq!(best.descriptors[0].formula, "a");
    /// let (even, odd) = (&best.tasks[0], &best.tasks[1]);
    /// assert!((even.coefficients[0] - 2.0).abs() < 1e-12 && (even.intercept - 1.0).abs() < 1e-12);
    /// assert!((odd.coefficients[0] + 1.0).abs() < 1e-12 && odd.intercept.abs() < 1e-12);
    /// let p = best.predict_tasks(ndarray::array![[3.0, 1.0], [3.0, 1.0]].view(), &["even", "odd"])?;
    /// assert!((p[0] - 7.0).abs() < 1e-12 && (p[1] + 3.0).abs() < 1e-12);
    /// # Ok::<(), amorph_sisso::Error>(())
    /// ```
    pub fn with_tasks<S: AsRef<str>>(mut self, labels: &[S]) -> Result<Self> {
        if labels.len() != self.nsamples() {
            return Err(Error::InvalidInput(format!(
                "{} task labels for {} samples",
                labels.len(),
                self.nsamples()
            )));
        }
        let mut names: Vec<String> = Vec::new();
        let mut task = Vec::with_capacity(labels.len());
        for l in labels {
            let l = l.as_ref();
            let t = match names.iter().position(|n| n == l) {
                Some(t) => t,
                None => {
                    names.push(l.to_string());
                    names.len() - 1
                }
            };
            task.push(t);
        }
        for (t, nm) in names.iter().enumerate() {
            let count = task.iter().filter(|&&k| k == t).count();
            if count < 3 {
                return Err(Error::TooFew(format!(
                    "task {nm:?} has {count} samples (need at least 3)"
                )));
            }
        }
        self.task_names = names;
        self.task = task;
        Ok(self)
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

    /// The task labels in order of first appearance (`[""]` when no tasks were assigned).
    pub fn tasks(&self) -> &[String] {
        &self.task_names
    }

    /// The task index (into [`Dataset::tasks`]) of every row.
    pub fn task_of_rows(&self) -> &[usize] {
        &self.task
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
