//! [`FeatureSet`]: many features over one shared [`Context`] per structure, batches in parallel,
//! trajectory averages, and the resulting [`FeatureTable`] (ndarray, names, units, CSV).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use amorph_structure::{Composition, Structure, Trajectory};
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result, Undefined, Value};
use crate::features::{Feature, Featurizer};
use crate::options::Options;

/// An ordered set of features computed together under one set of checked [`Options`].
#[derive(Clone)]
pub struct FeatureSet {
    options: Options,
    features: Vec<Arc<dyn Featurizer>>,
}

impl std::fmt::Debug for FeatureSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureSet")
            .field("options", &self.options)
            .field("features", &self.names())
            .finish()
    }
}

impl FeatureSet {
    /// No features yet (add them with [`push`](Self::push)); fails if the options do not pass
    /// [`Options::check`].
    pub fn empty(options: Options) -> Result<Self> {
        options.check()?;
        Ok(FeatureSet {
            options,
            features: Vec::new(),
        })
    }

    /// Every Table-1 feature in table order, plus `T` and `1/kBT` when the options carry a
    /// temperature.
    pub fn table1(options: Options) -> Result<Self> {
        let with_t = options.temperature.is_some();
        let mut set = Self::empty(options)?;
        for f in Feature::table1() {
            set.push(f);
        }
        if with_t {
            set.push(Feature::T);
            set.push(Feature::InvKbT);
        }
        Ok(set)
    }

    /// The compositional features only (no structure needed), plus `T` and `1/kBT` when the options
    /// carry a temperature.
    pub fn compositional(options: Options) -> Result<Self> {
        let with_t = options.temperature.is_some();
        let mut set = Self::empty(options)?;
        for f in Feature::compositional() {
            set.push(f);
        }
        if with_t {
            set.push(Feature::T);
            set.push(Feature::InvKbT);
        }
        Ok(set)
    }

    /// Built-in features by name ([`Feature::from_name`]), in the order given.
    pub fn from_names<S: AsRef<str>>(options: Options, names: &[S]) -> Result<Self> {
        let mut set = Self::empty(options)?;
        for n in names {
            let f = Feature::from_name(n.as_ref())
                .ok_or_else(|| Error::UnknownFeature(n.as_ref().to_string()))?;
            set.push(f);
        }
        Ok(set)
    }

    /// Appends a feature (built-in or your own).
    pub fn push(&mut self, f: impl Featurizer + 'static) -> &mut Self {
        self.features.push(Arc::new(f));
        self
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the set has no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Feature names, in order.
    pub fn names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name().to_string()).collect()
    }

    /// Feature units, in order.
    pub fn units(&self) -> Vec<String> {
        self.features.iter().map(|f| f.unit().to_string()).collect()
    }

    /// Every feature of one structure, sharing one neighbour list and the cached intermediates.
    pub fn compute(&self, structure: &Structure) -> Result<Vec<Value>> {
        let needs = self.features.iter().any(|f| f.needs_structure());
        let ctx = Context::build(structure, &self.options, needs)?;
        Ok(self.features.iter().map(|f| f.compute(&ctx)).collect())
    }

    /// Every feature of a bare composition: structural ones are [`Undefined::NeedsStructure`].
    pub fn compute_composition(&self, composition: &Composition) -> Result<Vec<Value>> {
        let ctx = Context::from_composition(composition, &self.options)?;
        Ok(self
            .features
            .iter()
            .map(|f| {
                if f.needs_structure() {
                    Err(Undefined::NeedsStructure)
                } else {
                    f.compute(&ctx)
                }
            })
            .collect())
    }

    /// One row per structure, in parallel over structures (the result does not depend on the thread
    /// count). Rows are labelled `0`, `1`, ...; see [`FeatureTable::with_labels`].
    pub fn compute_batch(&self, structures: &[Structure]) -> Result<FeatureTable> {
        self.compute_batch_with_progress(structures, |_| {})
    }

    /// [`compute_batch`](Self::compute_batch), calling `progress(done)` after each structure (from
    /// the worker threads, in completion order) with the number of structures done so far.
    pub fn compute_batch_with_progress(
        &self,
        structures: &[Structure],
        progress: impl Fn(usize) + Sync,
    ) -> Result<FeatureTable> {
        let done = AtomicUsize::new(0);
        let rows: Vec<Vec<Value>> = structures
            .par_iter()
            .map(|s| {
                let row = self.compute(s);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                row
            })
            .collect::<Result<_>>()?;
        Ok(self.table(rows))
    }

    /// Features of every frame of a trajectory, averaged: mean and sample standard deviation over
    /// frames, in parallel over frames. A feature undefined in any frame is undefined (with that
    /// frame's reason); the standard deviation of a single frame is undefined.
    pub fn compute_trajectory(&self, trajectory: &Trajectory) -> Result<TrajectoryFeatures> {
        if trajectory.is_empty() {
            return Err(Error::InvalidInput("the trajectory has no frames".into()));
        }
        let frames: Vec<Vec<Value>> = (0..trajectory.len())
            .into_par_iter()
            .map(|k| self.compute(&trajectory.frame(k)?))
            .collect::<Result<_>>()?;
        Ok(self.average(&frames))
    }

    /// Mean and sample standard deviation over rows of feature values (e.g. frames).
    pub fn average(&self, frames: &[Vec<Value>]) -> TrajectoryFeatures {
        let n = frames.len();
        let mut mean = Vec::with_capacity(self.len());
        let mut std = Vec::with_capacity(self.len());
        for k in 0..self.len() {
            let mut vals = Vec::with_capacity(n);
            let mut err = None;
            for row in frames {
                match &row[k] {
                    Ok(v) => vals.push(*v),
                    Err(e) => {
                        err = Some(e.clone());
                        break;
                    }
                }
            }
            match (err, n) {
                (Some(e), _) => {
                    mean.push(Err(e.clone()));
                    std.push(Err(e));
                }
                (None, 0) => {
                    mean.push(Err(Undefined::TooFewValues { what: "frames", n: 0 }));
                    std.push(Err(Undefined::TooFewValues { what: "frames", n: 0 }));
                }
                (None, _) => {
                    let m = vals.iter().sum::<f64>() / n as f64;
                    mean.push(Ok(m));
                    std.push(if n < 2 {
                        Err(Undefined::TooFewValues { what: "frames", n })
                    } else {
                        Ok((vals.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64).sqrt())
                    });
                }
            }
        }
        TrajectoryFeatures {
            names: self.names(),
            units: self.units(),
            frames: n,
            mean,
            std,
        }
    }

    /// A table from rows of values computed by this set.
    pub fn table(&self, rows: Vec<Vec<Value>>) -> FeatureTable {
        let labels = (0..rows.len()).map(|i| i.to_string()).collect();
        FeatureTable::new(self.names(), self.units(), labels, rows)
    }
}

/// Means and sample standard deviations of features over the frames of a trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrajectoryFeatures {
    /// Feature names.
    pub names: Vec<String>,
    /// Feature units.
    pub units: Vec<String>,
    /// Number of frames.
    pub frames: usize,
    /// Mean over frames.
    pub mean: Vec<Value>,
    /// Sample standard deviation over frames.
    pub std: Vec<Value>,
}

/// Feature values of many structures: an `ndarray` matrix (rows = structures, columns = features,
/// NaN where undefined), the column names and units, row labels, and why each missing value is missing.
/// This is the input format of `amorph-ml` and `amorph-sisso`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureTable {
    names: Vec<String>,
    units: Vec<String>,
    labels: Vec<String>,
    values: Array2<f64>,
    undefined: Vec<(usize, usize, Undefined)>,
}

impl FeatureTable {
    /// A table from names, units, row labels and rows of values (each row as long as `names`).
    pub fn new(names: Vec<String>, units: Vec<String>, labels: Vec<String>, rows: Vec<Vec<Value>>) -> Self {
        let ncols = names.len();
        let mut values = Array2::from_elem((rows.len(), ncols), f64::NAN);
        let mut undefined = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            for (j, v) in row.into_iter().enumerate().take(ncols) {
                match v {
                    Ok(x) => values[[i, j]] = x,
                    Err(e) => undefined.push((i, j, e)),
                }
            }
        }
        FeatureTable {
            names,
            units,
            labels,
            values,
            undefined,
        }
    }

    /// Replaces the row labels (e.g. file names); fails if the count differs from the rows.
    pub fn with_labels(mut self, labels: Vec<String>) -> Result<Self> {
        if labels.len() != self.values.nrows() {
            return Err(Error::InvalidInput(format!(
                "{} labels for {} rows",
                labels.len(),
                self.values.nrows()
            )));
        }
        self.labels = labels;
        Ok(self)
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Column units.
    pub fn units(&self) -> &[String] {
        &self.units
    }

    /// Row labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The values, NaN where undefined.
    pub fn values(&self) -> &Array2<f64> {
        &self.values
    }

    /// The column of a feature by name.
    pub fn column(&self, name: &str) -> Option<ndarray::ArrayView1<'_, f64>> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| self.values.column(j))
    }

    /// Why the value at (row, column) is undefined, if it is.
    pub fn reason(&self, row: usize, col: usize) -> Option<&Undefined> {
        self.undefined
            .iter()
            .find(|(i, j, _)| *i == row && *j == col)
            .map(|(_, _, e)| e)
    }

    /// CSV: a header `label,<names...>`, one line per row, undefined values empty. Values are written
    /// in Rust's shortest round-trip form.
    pub fn to_csv(&self, label_header: &str) -> String {
        let mut out = String::new();
        let quote = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        out.push_str(&quote(label_header));
        for n in &self.names {
            out.push(',');
            out.push_str(&quote(n));
        }
        out.push('\n');
        for (i, row) in self.values.rows().into_iter().enumerate() {
            out.push_str(&quote(&self.labels[i]));
            for x in row {
                out.push(',');
                if x.is_finite() {
                    let _ = write!(out, "{x}");
                }
            }
            out.push('\n');
        }
        out
    }

    /// Writes [`to_csv`](Self::to_csv) atomically (temporary file, then rename).
    pub fn write_csv(&self, path: impl AsRef<Path>, label_header: &str) -> Result<()> {
        amorph_structure::io::write_atomically(path.as_ref(), self.to_csv(label_header).as_bytes())?;
        Ok(())
    }
}
