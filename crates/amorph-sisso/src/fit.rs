//! Hyperparameters (validated builder) and the SISSO loop.

use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::expr::Op;
use crate::l0;
use crate::model::{Descriptor, Model, TaskFit};
use crate::space::{Kind, Space, SpaceOptions};
use crate::units::Bases;

/// SISSO's hyperparameters, as a builder: set what you need, then [`SissoParams::check`] them
/// once into [`SissoValidParams`], which can [`fit`](SissoValidParams::fit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SissoParams {
    ops: Vec<Op>,
    max_complexity: u8,
    rung: Option<u8>,
    desc_dim: usize,
    subs_sis: usize,
    n_models: usize,
    fmax_min: f64,
    fmax_max: f64,
    dedup_tol: f64,
    memory_budget: u64,
    #[serde(default)]
    task_weighting: TaskWeighting,
}

/// How the training errors of the tasks combine into the error that ranks multi-task models
/// (SISSO's `task_weighting`; irrelevant with one task). The combined MaxAE is the largest of the
/// tasks' in both cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskWeighting {
    /// Every task counts equally: `RMSE = sqrt(Σ_t RMSE_t² / T)`, SISSO's default
    /// (`task_weighting=1`).
    #[default]
    PerTask,
    /// Every sample counts equally: `RMSE = sqrt(Σ_t SSE_t / N)` over all `N` samples (SISSO's
    /// `task_weighting=2`).
    PerSample,
}

impl Default for SissoParams {
    fn default() -> Self {
        Self {
            ops: Vec::new(),
            max_complexity: 0,
            rung: None,
            desc_dim: 2,
            subs_sis: 100,
            n_models: 10,
            fmax_min: 1e-3,
            fmax_max: 1e5,
            dedup_tol: 1e-10,
            memory_budget: 8 << 30,
            task_weighting: TaskWeighting::PerTask,
        }
    }
}

impl SissoParams {
    /// Defaults: no operators (the primaries only), descriptor dimension 2, `subs_sis` 100, 10
    /// models kept per dimension, SISSO's value bounds 1e-3 and 1e5, duplicates dropped when
    /// `1 − |r| < 1e-10`, memory budget 8 GiB, tasks weighted equally ([`TaskWeighting::PerTask`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The operator set (empty: no feature construction).
    pub fn operators(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        self.ops = ops.into_iter().collect();
        self.ops.sort();
        self.ops.dedup();
        self
    }

    /// Largest number of operators in a feature (SISSO's `fcomplexity`).
    pub fn max_complexity(mut self, c: u8) -> Self {
        self.max_complexity = c;
        self
    }

    /// Largest nesting depth of operators (SISSO's `rung`); by default the complexity bounds it.
    pub fn rung(mut self, r: u8) -> Self {
        self.rung = Some(r);
        self
    }

    /// Largest descriptor dimension: models with 1..=`d` descriptors are fitted.
    pub fn desc_dim(mut self, d: usize) -> Self {
        self.desc_dim = d;
        self
    }

    /// Features screened per dimension (SISSO's `subs_sis`).
    pub fn subs_sis(mut self, k: usize) -> Self {
        self.subs_sis = k;
        self
    }

    /// Models kept per dimension, best first (SISSO's `nm_output`).
    pub fn n_models(mut self, k: usize) -> Self {
        self.n_models = k;
        self
    }

    /// A constructed feature whose largest absolute value is below this is dropped.
    pub fn fmax_min(mut self, v: f64) -> Self {
        self.fmax_min = v;
        self
    }

    /// A constructed feature whose largest absolute value is above this is dropped.
    pub fn fmax_max(mut self, v: f64) -> Self {
        self.fmax_max = v;
        self
    }

    /// Features with `1 − |corr| <` this are duplicates; the simpler (earlier) one is kept.
    pub fn dedup_tol(mut self, t: f64) -> Self {
        self.dedup_tol = t;
        self
    }

    /// Bytes allowed for the stored operand levels of the feature space.
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// How the tasks' errors combine when the dataset has several tasks
    /// ([`Dataset::with_tasks`]); default [`TaskWeighting::PerTask`], as SISSO.
    pub fn task_weighting(mut self, w: TaskWeighting) -> Self {
        self.task_weighting = w;
        self
    }

    /// Validates the parameters.
    pub fn check(self) -> Result<SissoValidParams> {
        let bad = |s: String| Err(Error::InvalidParameter(s));
        if self.desc_dim == 0 || self.desc_dim > l0::MAX_D {
            return bad(format!(
                "desc_dim must be in 1..={}, got {}",
                l0::MAX_D,
                self.desc_dim
            ));
        }
        if self.subs_sis == 0 {
            return bad("subs_sis must be at least 1".into());
        }
        if self.n_models == 0 {
            return bad("n_models must be at least 1".into());
        }
        if self.max_complexity > 0 && self.ops.is_empty() {
            return bad(format!(
                "complexity {} needs at least one operator",
                self.max_complexity
            ));
        }
        if self.max_complexity > 10 {
            return bad(format!(
                "complexity must be at most 10, got {}",
                self.max_complexity
            ));
        }
        if !(self.fmax_min >= 0.0 && self.fmax_max > self.fmax_min) {
            return bad(format!(
                "value bounds must satisfy 0 ≤ fmax_min < fmax_max, got {} and {}",
                self.fmax_min, self.fmax_max
            ));
        }
        if !(self.dedup_tol >= 0.0 && self.dedup_tol < 0.1) {
            return bad(format!("dedup_tol must be in [0, 0.1), got {}", self.dedup_tol));
        }
        if self.rung == Some(0) && self.max_complexity > 0 {
            return bad("rung 0 allows no operators; use complexity 0".into());
        }
        Ok(SissoValidParams(self))
    }
}

/// A stage of a fit, reported by [`SissoValidParams::fit_with_progress`] as it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Building and storing the feature levels below `max_complexity`.
    Construction {
        /// The largest complexity (the level that will be streamed).
        max_complexity: u8,
    },
    /// Screening the whole space against the residual for dimension `dim`.
    Screening {
        /// The dimension.
        dim: usize,
    },
    /// The ℓ0 search over `features` screened features at dimension `dim`.
    Search {
        /// The dimension.
        dim: usize,
        /// The number of screened features.
        features: usize,
    },
}

/// Checked [`SissoParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SissoValidParams(SissoParams);

/// Size of the feature space explored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceSummary {
    /// Stored features per complexity 0, 1, ... (after removing duplicates and out-of-bound ones).
    pub stored_per_complexity: Vec<u64>,
    /// Valid features of the streamed last level (not checked for duplicates), if there is one.
    pub streamed: u64,
}

impl SpaceSummary {
    /// Total number of features in the space.
    pub fn total(&self) -> u64 {
        self.stored_per_complexity.iter().sum::<u64>() + self.streamed
    }
}

/// The result of a fit: the best models of each dimension, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// `models[d - 1]`: the best models with `d` descriptors, by RMSE (with several tasks, the
    /// combined RMSE of [`TaskWeighting`]).
    pub models: Vec<Vec<Model>>,
    /// The features picked by SIS at each dimension (formula, |correlation| with the target or
    /// residual; with several tasks SISSO's multi-task score), in screening order.
    pub sis_subspaces: Vec<Vec<(String, f64)>>,
    /// Size of the feature space.
    pub space: SpaceSummary,
}

impl Fit {
    /// The best model with `dim` descriptors.
    pub fn best(&self, dim: usize) -> Option<&Model> {
        self.models.get(dim.checked_sub(1)?)?.first()
    }
}

impl SissoValidParams {
    /// The parameters.
    pub fn params(&self) -> &SissoParams {
        &self.0
    }

    /// Runs SISSO on a dataset: builds the feature space, then for each dimension `d` screens
    /// `subs_sis` new features against the residual of the best `(d − 1)`-dimensional model (the
    /// target for `d = 1`) and searches all `d`-combinations of the features screened so far.
    pub fn fit(&self, data: &Dataset) -> Result<Fit> {
        self.fit_with_progress(data, &mut |_| {})
    }

    /// [`fit`](Self::fit), reporting each stage to `progress` as it starts (for a progress bar).
    pub fn fit_with_progress(&self, data: &Dataset, progress: &mut dyn FnMut(Stage)) -> Result<Fit> {
        let p = &self.0;
        progress(Stage::Construction {
            max_complexity: if p.ops.is_empty() { 0 } else { p.max_complexity },
        });
        let n = data.nsamples();
        let ntasks = data.task_names.len();
        // Multi-task: the rows grouped by task (stable), so that every task is one range of rows.
        let order: Vec<usize> = if ntasks > 1 {
            let mut o: Vec<usize> = (0..n).collect();
            o.sort_by_key(|&i| data.task[i]);
            o
        } else {
            (0..n).collect()
        };
        let mut segments: Vec<(Range<usize>, f64)> = Vec::with_capacity(ntasks);
        let mut at = 0;
        for t in 0..ntasks {
            let len = data.task.iter().filter(|&&k| k == t).count();
            let w = match p.task_weighting {
                _ if ntasks == 1 => 1.0,
                TaskWeighting::PerTask => 1.0 / len as f64,
                TaskWeighting::PerSample => 1.0,
            };
            segments.push((at..at + len, w));
            at += len;
        }
        let wn: f64 = segments.iter().map(|(r, w)| w * r.len() as f64).sum();
        let min_task = segments.iter().map(|(r, _)| r.len()).min().unwrap_or(n);
        let bases = Bases::from_units(data.units.iter().chain(std::iter::once(&data.target_unit)))?;
        let dims: Vec<_> = data.units.iter().map(|u| bases.dim(u)).collect();
        let cols: Vec<Vec<f64>> = data
            .x
            .columns()
            .into_iter()
            .map(|c| order.iter().map(|&i| c[i]).collect())
            .collect();
        let rung = p.rung.unwrap_or(p.max_complexity).min(p.max_complexity);
        let opts = SpaceOptions {
            ops: p.ops.clone(),
            max_complexity: if p.ops.is_empty() { 0 } else { p.max_complexity },
            rung,
            fmax_min: p.fmax_min,
            fmax_max: p.fmax_max,
            dedup_tol: p.dedup_tol,
            memory_budget: p.memory_budget,
        };
        let mut space = Space::build(&cols, &dims, opts).map_err(|e| match e {
            Error::ConstantColumn(c) => {
                let j: usize = c.trim_start_matches('#').parse().unwrap_or(0);
                Error::ConstantColumn(data.names.get(j).cloned().unwrap_or(c))
            }
            e => e,
        })?;
        space.set_tasks(segments.iter().map(|(r, _)| r.clone()).collect());
        let y: Vec<f64> = order.iter().map(|&i| data.y[i]).collect();
        let mut resid = y.clone();
        center_tasks(&mut resid, &segments);
        let mut taken: HashSet<Kind> = HashSet::new();
        let mut picked_values = Vec::new();
        let mut selected: Vec<Kind> = Vec::new();
        let mut models = Vec::new();
        let mut subspaces = Vec::new();
        for d in 1..=p.desc_dim {
            if d + 1 >= min_task {
                break;
            }
            progress(Stage::Screening { dim: d });
            let picks = space.screen(&resid, p.subs_sis, &taken, &mut picked_values);
            subspaces.push(
                picks
                    .iter()
                    .map(|pk| (space.expr(pk.kind).format(&data.names), pk.score))
                    .collect::<Vec<_>>(),
            );
            for pk in &picks {
                taken.insert(pk.kind);
                selected.push(pk.kind);
            }
            if selected.len() < d {
                if d == 1 {
                    return Err(Error::TooFew(
                        "no feature survived construction and screening".into(),
                    ));
                }
                subspaces.pop();
                break;
            }
            let m = picked_values.len() as u64;
            let needed = ntasks as u64 * m * m * 8 + 2 * m * n as u64 * 8;
            if needed > p.memory_budget {
                return Err(Error::MemoryBudget {
                    what: format!("the ℓ0 search over {m} screened features"),
                    needed_bytes: needed,
                    budget_bytes: p.memory_budget,
                });
            }
            let values: Vec<Vec<f64>> = picked_values.iter().map(|(v, _, _)| v.clone()).collect();
            progress(Stage::Search {
                dim: d,
                features: values.len(),
            });
            let combos = if ntasks == 1 {
                l0::search(&values, &y, d, p.n_models)
            } else {
                l0::search_tasks(&values, &y, &segments, d, p.n_models)
            };
            let mut ms: Vec<(f64, Vec<usize>, Model)> = Vec::new();
            for c in &combos {
                let cols: Vec<&[f64]> = c.idx.iter().map(|&i| values[i].as_slice()).collect();
                // Every task's least-squares fit (one task: all rows).
                let mut fits = Vec::with_capacity(ntasks);
                let mut score = 0.0;
                let mut max_ae = 0.0f64;
                for (t, (rows, w)) in segments.iter().enumerate() {
                    let ct: Vec<&[f64]> = cols.iter().map(|x| &x[rows.clone()]).collect();
                    let yt = &y[rows.clone()];
                    let Some((c0, coef)) = l0::lstsq(&ct, yt) else {
                        break;
                    };
                    let mut rss = 0.0;
                    let mut mae = 0.0f64;
                    for i in 0..yt.len() {
                        let pred = c0 + ct.iter().zip(&coef).map(|(x, b)| b * x[i]).sum::<f64>();
                        let e = yt[i] - pred;
                        rss += e * e;
                        mae = mae.max(e.abs());
                    }
                    score += w * rss;
                    max_ae = max_ae.max(mae);
                    fits.push(TaskFit {
                        task: data.task_names[t].clone(),
                        coefficients: coef,
                        intercept: c0,
                        rmse: (rss / yt.len() as f64).sqrt(),
                        max_ae: mae,
                    });
                }
                if fits.len() < ntasks {
                    continue;
                }
                let descriptors = c
                    .idx
                    .iter()
                    .map(|&i| {
                        let kind = selected[i];
                        let expr = space.expr(kind);
                        Descriptor {
                            formula: expr.format(&data.names),
                            unit: bases.unit(space.dim(kind)).to_string(),
                            expr,
                        }
                    })
                    .collect();
                let (coefficients, intercept, tasks) = if ntasks == 1 {
                    let f = fits.pop().expect("one task");
                    (f.coefficients, f.intercept, Vec::new())
                } else {
                    (Vec::new(), 0.0, fits)
                };
                ms.push((
                    score,
                    c.idx.clone(),
                    Model {
                        dim: d,
                        descriptors,
                        coefficients,
                        intercept,
                        rmse: (score / wn).sqrt(),
                        max_ae,
                        tasks,
                        primaries: data.names.clone(),
                        target: data.target.clone(),
                        target_unit: data.target_unit.to_string(),
                    },
                ));
            }
            rank_models(&mut ms);
            if let Some((_, _, best)) = ms.first() {
                // The residual of the best model (rows in task order).
                let bx: Vec<Vec<f64>> = best
                    .descriptors
                    .iter()
                    .map(|ds| {
                        let v = ds.expr.eval(data.x.view());
                        order.iter().map(|&i| v[i]).collect()
                    })
                    .collect();
                for (t, (rows, _)) in segments.iter().enumerate() {
                    let (c0, coef) = match best.tasks.get(t) {
                        Some(f) => (f.intercept, &f.coefficients),
                        None => (best.intercept, &best.coefficients),
                    };
                    for i in rows.clone() {
                        let pred = c0 + bx.iter().zip(coef).map(|(x, b)| b * x[i]).sum::<f64>();
                        resid[i] = y[i] - pred;
                    }
                }
                center_tasks(&mut resid, &segments);
            }
            models.push(ms.into_iter().map(|(_, _, m)| m).collect());
        }
        let space_summary = SpaceSummary {
            stored_per_complexity: space.stored_per_complexity(),
            streamed: space.streamed_count.unwrap_or(0),
        };
        Ok(Fit {
            models,
            sis_subspaces: subspaces,
            space: space_summary,
        })
    }
}

/// Subtracts every task's mean from its rows.
fn center_tasks(r: &mut [f64], segments: &[(Range<usize>, f64)]) {
    for (rows, _) in segments {
        let part = &mut r[rows.clone()];
        let mean = part.iter().sum::<f64>() / part.len() as f64;
        part.iter_mut().for_each(|v| *v -= mean);
    }
}

/// Sorts models by RSS; models whose RSS agree to 1e-10 (relative) are equivalent up to rounding
/// (e.g. two identical columns) and are ordered by their features' screening order instead.
fn rank_models(ms: &mut [(f64, Vec<usize>, Model)]) {
    ms.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut i = 0;
    while i < ms.len() {
        let mut j = i + 1;
        while j < ms.len() && ms[j].0 - ms[j - 1].0 <= 1e-10 * ms[j].0.abs().max(f64::MIN_POSITIVE) {
            j += 1;
        }
        ms[i..j].sort_by(|a, b| a.1.cmp(&b.1));
        i = j;
    }
}
