//! Gradient-boosted trees in XGBoost's formulation.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result, invalid};
use crate::forest::parse;
use crate::grow::{Stats, XgbGain, grow};
use crate::hist::{Binned, GradPair, HistGrower};
use crate::rng::Rng;
use crate::tree::{LEAF, Node, Tree};
use crate::{Fit, Regressor, check_xy, predict_rows, to_matrix};

/// A twice-differentiable loss: its gradient and hessian with respect to the prediction.
///
/// [`SquaredError`] is XGBoost's `reg:squarederror`; implement this trait for other losses and fit
/// with [`GbtConfig::fit_with`].
pub trait Objective: Sync {
    /// (gradient, hessian) of the loss of one row at the current prediction.
    fn grad_hess(&self, y: f64, pred: f64) -> (f64, f64);
    /// The constant first prediction (XGBoost's estimated `base_score`).
    fn base_score(&self, y: &[f64]) -> f64;
    /// Evaluation metric on a validation set for early stopping (smaller is better).
    fn eval(&self, y: &[f64], pred: &[f64]) -> f64 {
        crate::metrics::rmse(y, pred)
    }
}

/// Squared error ½(pred − y)²: gradient pred − y, hessian 1; base score the mean target.
#[derive(Clone, Copy, Debug, Default)]
pub struct SquaredError;

impl Objective for SquaredError {
    fn grad_hess(&self, y: f64, pred: f64) -> (f64, f64) {
        (pred - y, 1.0)
    }
    fn base_score(&self, y: &[f64]) -> f64 {
        y.iter().sum::<f64>() / y.len().max(1) as f64
    }
}

/// How splits are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreeMethod {
    /// Every distinct value is a candidate (XGBoost `tree_method="exact"`).
    Exact,
    /// Values are binned into at most `max_bin` quantile bins once; splits are searched over bin
    /// boundaries from per-node gradient histograms (XGBoost `tree_method="hist"`).
    Hist,
}

/// Hyperparameters of gradient boosting (XGBoost names and defaults), as a builder; [`check`](
/// Self::check) validates them into a [`GbtConfig`] that can fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbtParams {
    /// Boosting rounds (100).
    pub n_estimators: usize,
    /// Maximum depth of each tree (6).
    pub max_depth: usize,
    /// Shrinkage `eta` (0.3).
    pub learning_rate: f64,
    /// L2 penalty on leaf weights, `lambda` (1).
    pub reg_lambda: f64,
    /// L1 penalty on leaf weights, `alpha` (0).
    pub reg_alpha: f64,
    /// Minimum loss reduction to keep a split, `gamma`/`min_split_loss` (0).
    pub gamma: f64,
    /// Minimum hessian sum in a child (1).
    pub min_child_weight: f64,
    /// Fraction of rows sampled per tree (1).
    pub subsample: f64,
    /// Fraction of features sampled per tree (1).
    pub colsample_bytree: f64,
    /// Split finding (exact).
    pub tree_method: TreeMethod,
    /// Bins per feature for `Hist` (256).
    pub max_bin: usize,
    /// Stop when the validation metric has not improved for this many rounds (needs a validation
    /// set); the model keeps the trees up to the best round.
    pub early_stopping_rounds: Option<usize>,
    /// The first prediction; `None` = the objective's estimate (the mean for squared error).
    pub base_score: Option<f64>,
    /// Seed of the row and feature sampling (0).
    pub seed: u64,
}

impl Default for GbtParams {
    fn default() -> Self {
        GbtParams {
            n_estimators: 100,
            max_depth: 6,
            learning_rate: 0.3,
            reg_lambda: 1.0,
            reg_alpha: 0.0,
            gamma: 0.0,
            min_child_weight: 1.0,
            subsample: 1.0,
            colsample_bytree: 1.0,
            tree_method: TreeMethod::Exact,
            max_bin: 256,
            early_stopping_rounds: None,
            base_score: None,
            seed: 0,
        }
    }
}

macro_rules! setter {
    ($($name:ident: $t:ty),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($name), "`.")]
            pub fn $name(mut self, v: $t) -> Self {
                self.$name = v;
                self
            }
        )*
    };
}

impl GbtParams {
    /// XGBoost's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    setter!(
        n_estimators: usize,
        max_depth: usize,
        learning_rate: f64,
        reg_lambda: f64,
        reg_alpha: f64,
        gamma: f64,
        min_child_weight: f64,
        subsample: f64,
        colsample_bytree: f64,
        tree_method: TreeMethod,
        max_bin: usize,
        early_stopping_rounds: Option<usize>,
        base_score: Option<f64>,
        seed: u64,
    );

    /// Sets a parameter by its XGBoost name (`n_estimators`, `max_depth`, `learning_rate`/`eta`,
    /// `reg_lambda`/`lambda`, `reg_alpha`/`alpha`, `gamma`/`min_split_loss`, `min_child_weight`,
    /// `subsample`, `colsample_bytree`, `tree_method` (`exact`|`hist`), `max_bin`,
    /// `early_stopping_rounds`, `base_score`, `random_state`/`seed`) from text.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.trim();
        match key {
            "n_estimators" | "num_boost_round" => self.n_estimators = parse(key, v)?,
            "max_depth" => self.max_depth = parse(key, v)?,
            "learning_rate" | "eta" => self.learning_rate = parse(key, v)?,
            "reg_lambda" | "lambda" => self.reg_lambda = parse(key, v)?,
            "reg_alpha" | "alpha" => self.reg_alpha = parse(key, v)?,
            "gamma" | "min_split_loss" => self.gamma = parse(key, v)?,
            "min_child_weight" => self.min_child_weight = parse(key, v)?,
            "subsample" => self.subsample = parse(key, v)?,
            "colsample_bytree" => self.colsample_bytree = parse(key, v)?,
            "tree_method" => {
                self.tree_method = match v {
                    "exact" => TreeMethod::Exact,
                    "hist" => TreeMethod::Hist,
                    _ => return Err(invalid(key, v, "exact or hist")),
                }
            }
            "max_bin" => self.max_bin = parse(key, v)?,
            "early_stopping_rounds" => {
                self.early_stopping_rounds = if v.eq_ignore_ascii_case("none") {
                    None
                } else {
                    Some(parse(key, v)?)
                }
            }
            "base_score" => self.base_score = Some(parse(key, v)?),
            "random_state" | "seed" => self.seed = parse(key, v)?,
            _ => {
                return Err(MlError::UnknownParameter {
                    name: key.into(),
                    model: "gradient boosting".into(),
                });
            }
        }
        Ok(())
    }

    /// Validates the parameters.
    pub fn check(self) -> Result<GbtConfig> {
        let nonneg = |name: &str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(invalid(name, v, "finite and ≥ 0"))
            }
        };
        let frac = |name: &str, v: f64| {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(invalid(name, v, "in (0, 1]"))
            }
        };
        if self.n_estimators == 0 {
            return Err(invalid("n_estimators", 0, "at least 1"));
        }
        if self.max_depth == 0 {
            return Err(invalid("max_depth", 0, "at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(invalid("learning_rate", self.learning_rate, "finite and > 0"));
        }
        nonneg("reg_lambda", self.reg_lambda)?;
        nonneg("reg_alpha", self.reg_alpha)?;
        nonneg("gamma", self.gamma)?;
        nonneg("min_child_weight", self.min_child_weight)?;
        frac("subsample", self.subsample)?;
        frac("colsample_bytree", self.colsample_bytree)?;
        if !(2..=65536).contains(&self.max_bin) {
            return Err(invalid("max_bin", self.max_bin, "in 2..=65536"));
        }
        if self.early_stopping_rounds == Some(0) {
            return Err(invalid("early_stopping_rounds", 0, "at least 1, or none"));
        }
        if let Some(b) = self.base_score
            && !b.is_finite()
        {
            return Err(invalid("base_score", b, "finite"));
        }
        Ok(GbtConfig(self))
    }
}

/// Validated boosting hyperparameters; [`Fit`] them to data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbtConfig(GbtParams);

/// A fitted gradient-boosted tree ensemble: `base_score + Σ trees`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientBoosting {
    pub(crate) base_score: f64,
    pub(crate) trees: Vec<Tree>,
    pub(crate) n_features: usize,
    pub(crate) best_iteration: Option<usize>,
    pub(crate) eval_history: Vec<f64>,
}

/// What a gain importance counts (XGBoost's `importance_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportanceType {
    /// Mean loss change of the splits on the feature (XGBoost's default, `gain`).
    Gain,
    /// Total loss change (`total_gain`).
    TotalGain,
    /// Number of splits (`weight`).
    Weight,
}

impl GbtConfig {
    /// The parameters.
    pub fn params(&self) -> &GbtParams {
        &self.0
    }

    /// Fits with any objective, optionally tracking a validation set (for early stopping and the
    /// evaluation history).
    pub fn fit_with(
        &self,
        objective: &dyn Objective,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
        valid: Option<(ArrayView2<f64>, ArrayView1<f64>)>,
    ) -> Result<GradientBoosting> {
        let p = &self.0;
        check_xy(x, y)?;
        if let Some((xv, yv)) = valid {
            check_xy(xv, yv)?;
            if xv.ncols() != x.ncols() {
                return Err(MlError::Shape(format!(
                    "validation set has {} features, training set {}",
                    xv.ncols(),
                    x.ncols()
                )));
            }
        } else if p.early_stopping_rounds.is_some() {
            return Err(invalid(
                "early_stopping_rounds",
                p.early_stopping_rounds.unwrap_or(0),
                "needs a validation set",
            ));
        }
        let m = to_matrix(x)?;
        let y = y.to_vec();
        let (n, d) = (m.n, m.d());
        let binned = (p.tree_method == TreeMethod::Hist).then(|| Binned::new(&m, p.max_bin));
        let mut grower = binned.as_ref().map(HistGrower::new);
        let order = if grower.is_none() { m.argsort() } else { Vec::new() };
        let rule = XgbGain {
            max_depth: p.max_depth,
            lambda: p.reg_lambda,
            alpha: p.reg_alpha,
            min_child_weight: p.min_child_weight,
            eta: p.learning_rate,
        };
        let base = p.base_score.unwrap_or_else(|| objective.base_score(&y));
        let mut pred = vec![base; n];
        let mut vpred = valid.map(|(xv, _)| vec![base; xv.nrows()]);
        let yv: Option<Vec<f64>> = valid.map(|(_, yv)| yv.to_vec());
        let vrows: Option<Array2<f64>> = valid.map(|(xv, _)| xv.as_standard_layout().into_owned());
        let mut trees = Vec::with_capacity(p.n_estimators);
        let mut history = Vec::new();
        let mut best: Option<(usize, f64)> = None;
        let k_features = ((p.colsample_bytree * d as f64) as usize).clamp(1, d);
        let row = vec![0.0; d];
        let sampling = p.subsample < 1.0;
        let mut keep = vec![true; n];
        let mut grad = vec![GradPair::default(); n];
        for t in 0..p.n_estimators {
            let mut rng = Rng::derived(p.seed, 2, t as u64);
            for i in 0..n {
                keep[i] = !sampling || rng.uniform() < p.subsample;
                let (g, h) = if keep[i] {
                    objective.grad_hess(y[i], pred[i])
                } else {
                    (0.0, 0.0)
                };
                grad[i] = GradPair { g, h };
            }
            let feats: Vec<usize> = if k_features < d {
                let mut all: Vec<usize> = (0..d).collect();
                rng.shuffle(&mut all);
                let mut f = all[..k_features].to_vec();
                f.sort_unstable();
                f
            } else {
                (0..d).collect()
            };
            let tree = match grower.as_mut() {
                None => {
                    let stats: Vec<Stats> = grad
                        .iter()
                        .zip(&keep)
                        .map(|(gp, &k)| Stats {
                            a: gp.g,
                            b: gp.h,
                            c: 0.0,
                            n: k as u32,
                        })
                        .collect();
                    let (tree, _) = prune(grow(&rule, &m, &order, &stats, Some(&feats), None, true), p.gamma);
                    for (i, pi) in pred.iter_mut().enumerate() {
                        *pi += tree.predict_column_major(&m.cols, i);
                    }
                    tree
                }
                Some(g) => {
                    let grown = g.grow(&rule, &grad, sampling.then_some(&keep[..]), &feats);
                    let leaves: Vec<usize> = (0..grown.nodes.len())
                        .filter(|&i| grown.nodes[i].feature == LEAF)
                        .collect();
                    let (tree, map) = prune(grown, p.gamma);
                    // The rows in the sample: from the leaf they ended in; the others through the tree.
                    for i in leaves {
                        let v = tree.nodes[map.as_ref().map_or(i, |m| m[i] as usize)].value;
                        for &r in g.rows_of(i) {
                            pred[r as usize] += v;
                        }
                    }
                    if sampling {
                        for (i, pi) in pred.iter_mut().enumerate() {
                            if !keep[i] {
                                *pi += tree.predict_column_major(&m.cols, i);
                            }
                        }
                    }
                    tree
                }
            };
            if let (Some(vp), Some(xv), Some(yv)) = (vpred.as_mut(), vrows.as_ref(), yv.as_ref()) {
                for (pi, r) in vp.iter_mut().zip(xv.rows()) {
                    *pi += tree.predict_row(r.as_slice().unwrap_or(&row));
                }
                let score = objective.eval(yv, vp);
                history.push(score);
                if best.is_none_or(|(_, b)| score < b) {
                    best = Some((t, score));
                }
            }
            trees.push(tree);
            if let (Some(rounds), Some((bt, _))) = (p.early_stopping_rounds, best)
                && t - bt >= rounds
            {
                break;
            }
        }
        let best_iteration = best.map(|(t, _)| t);
        if p.early_stopping_rounds.is_some()
            && let Some(bt) = best_iteration
        {
            trees.truncate(bt + 1);
        }
        Ok(GradientBoosting {
            base_score: base,
            trees,
            n_features: d,
            best_iteration,
            eval_history: history,
        })
    }
}

impl Fit for GbtConfig {
    type Model = GradientBoosting;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<GradientBoosting> {
        self.fit_with(&SquaredError, x, y, None)
    }
}

/// XGBoost's pruning: a split whose children are both leaves and whose loss change is below
/// `gamma` becomes a leaf, bottom-up. Also returns, if anything was pruned, the node of the pruned
/// tree that each node of `tree` falls into.
fn prune(tree: Tree, gamma: f64) -> (Tree, Option<Vec<u32>>) {
    if gamma <= 0.0 {
        return (tree, None);
    }
    fn mark(t: &Tree, i: usize, id: u32, map: &mut [u32]) {
        map[i] = id;
        let n = &t.nodes[i];
        if n.feature != LEAF {
            mark(t, n.left as usize, id, map);
            mark(t, n.right as usize, id, map);
        }
    }
    fn rebuild(t: &Tree, i: usize, out: &mut Vec<Node>, gamma: f64, map: &mut [u32]) -> usize {
        let n = &t.nodes[i];
        let id = out.len();
        map[i] = id as u32;
        out.push(Node {
            feature: LEAF,
            left: LEAF,
            right: LEAF,
            ..n.clone()
        });
        if n.feature == LEAF {
            return id;
        }
        let l = rebuild(t, n.left as usize, out, gamma, map);
        let r = rebuild(t, n.right as usize, out, gamma, map);
        if out[l].feature == LEAF && out[r].feature == LEAF && n.gain < gamma {
            out.truncate(id + 1);
            out[id].gain = 0.0;
            mark(t, i, id as u32, map);
        } else {
            out[id].feature = n.feature;
            out[id].left = l as u32;
            out[id].right = r as u32;
        }
        id
    }
    let mut nodes = Vec::with_capacity(tree.nodes.len());
    let mut map = vec![0; tree.nodes.len()];
    rebuild(&tree, 0, &mut nodes, gamma, &mut map);
    (
        Tree {
            nodes,
            decision: tree.decision,
        },
        Some(map),
    )
}

impl GradientBoosting {
    /// The trees (leaf values include the learning rate).
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// The constant first prediction.
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// Round with the best validation metric, if a validation set was given.
    pub fn best_iteration(&self) -> Option<usize> {
        self.best_iteration
    }

    /// Validation metric after each round, if a validation set was given.
    pub fn eval_history(&self) -> &[f64] {
        &self.eval_history
    }

    /// Importances normalised to sum 1 (XGBoost's `feature_importances_` with the same
    /// `importance_type`).
    pub fn feature_importances(&self, kind: ImportanceType) -> Vec<f64> {
        let mut g = vec![0.0; self.n_features];
        let mut c = vec![0usize; self.n_features];
        for t in &self.trees {
            t.add_gains(&mut g, &mut c);
        }
        let mut v: Vec<f64> = match kind {
            ImportanceType::Gain => g
                .iter()
                .zip(&c)
                .map(|(&g, &c)| if c > 0 { g / c as f64 } else { 0.0 })
                .collect(),
            ImportanceType::TotalGain => g,
            ImportanceType::Weight => c.iter().map(|&c| c as f64).collect(),
        };
        let s: f64 = v.iter().sum();
        if s > 0.0 {
            v.iter_mut().for_each(|x| *x /= s);
        }
        v
    }

    /// TreeSHAP values (path-dependent), one row per sample and one column per feature plus a
    /// last column with the expected value (`base_score` + the trees' expected values); each row
    /// sums to the prediction (XGBoost's `pred_contribs`).
    pub fn shap_values(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        crate::shap_of(&self.trees, self.base_score, 1.0, self.n_features, x)
    }
}

impl Regressor for GradientBoosting {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let out = predict_rows(x, self.n_features, |row| {
            [self.base_score + self.trees.iter().map(|t| t.predict_row(row)).sum::<f64>()]
        })?;
        Ok(out.column(0).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grow::Matrix;

    /// After pruning, the rows of every leaf of the grown tree get the value of the node the map
    /// names, which is the leaf those rows reach in the pruned tree.
    #[test]
    fn prune_map_sends_the_rows_of_each_leaf_to_their_pruned_leaf() {
        let n = 1500;
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|j| {
                (0..n)
                    .map(|i| ((i * (7 + 3 * j) + j) % 101) as f64 / 101.0)
                    .collect()
            })
            .collect();
        let grad: Vec<GradPair> = (0..n)
            .map(|i| GradPair {
                g: (cols[0][i] * 6.0).sin() + cols[1][i] - 0.5 + ((i % 13) as f64 - 6.0) / 20.0,
                h: 1.0,
            })
            .collect();
        let m = Matrix { n, cols };
        let b = Binned::new(&m, 64);
        let mut g = HistGrower::new(&b);
        let rule = XgbGain {
            max_depth: 6,
            lambda: 1.0,
            alpha: 0.0,
            min_child_weight: 1.0,
            eta: 0.3,
        };
        let grown = g.grow(&rule, &grad, None, &[0, 1, 2, 3]);
        let (same, map) = prune(grown.clone(), 0.0);
        assert!(map.is_none() && same == grown);
        let (pruned, map) = prune(grown.clone(), 2.0);
        let map = map.expect("a map");
        assert!(pruned.n_nodes() < grown.n_nodes() && pruned.n_nodes() > 3);
        for (i, node) in grown.nodes.iter().enumerate() {
            if node.feature != LEAF {
                continue;
            }
            let v = pruned.nodes[map[i] as usize].value;
            for &r in g.rows_of(i) {
                assert_eq!(pruned.predict_column_major(&m.cols, r as usize), v);
            }
        }
    }
}
