//! Gradient-boosted trees in XGBoost's formulation.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result, invalid};
use crate::forest::parse;
use crate::grow::{Matrix, Rule, Stats, XgbGain, grow};
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
        let order = m.argsort();
        let binned = (p.tree_method == TreeMethod::Hist).then(|| Binned::new(&m, &order, p.max_bin));
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
        for t in 0..p.n_estimators {
            let mut rng = Rng::derived(p.seed, 2, t as u64);
            let stats: Vec<Stats> = (0..n)
                .map(|i| {
                    let keep = p.subsample >= 1.0 || rng.uniform() < p.subsample;
                    if keep {
                        let (g, h) = objective.grad_hess(y[i], pred[i]);
                        Stats {
                            a: g,
                            b: h,
                            c: 0.0,
                            n: 1,
                        }
                    } else {
                        Stats::default()
                    }
                })
                .collect();
            let feats: Vec<usize> = if k_features < d {
                let mut all: Vec<usize> = (0..d).collect();
                rng.shuffle(&mut all);
                let mut f = all[..k_features].to_vec();
                f.sort_unstable();
                f
            } else {
                (0..d).collect()
            };
            let tree = match &binned {
                None => grow(&rule, &m, &order, &stats, Some(&feats), None, true),
                Some(b) => b.grow(&rule, &stats, &feats),
            };
            let tree = prune(&tree, p.gamma);
            for (i, pi) in pred.iter_mut().enumerate() {
                *pi += tree.predict_column_major(&m.cols, i);
            }
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
/// `gamma` becomes a leaf, bottom-up.
fn prune(tree: &Tree, gamma: f64) -> Tree {
    if gamma <= 0.0 {
        return tree.clone();
    }
    fn rebuild(t: &Tree, i: usize, out: &mut Vec<Node>, gamma: f64) -> usize {
        let n = &t.nodes[i];
        let id = out.len();
        out.push(Node {
            feature: LEAF,
            left: LEAF,
            right: LEAF,
            ..n.clone()
        });
        if n.feature == LEAF {
            return id;
        }
        let l = rebuild(t, n.left as usize, out, gamma);
        let r = rebuild(t, n.right as usize, out, gamma);
        if out[l].feature == LEAF && out[r].feature == LEAF && n.gain < gamma {
            out.truncate(id + 1);
            out[id].gain = 0.0;
        } else {
            out[id].feature = n.feature;
            out[id].left = l as u32;
            out[id].right = r as u32;
        }
        id
    }
    let mut nodes = Vec::with_capacity(tree.nodes.len());
    rebuild(tree, 0, &mut nodes, gamma);
    Tree {
        nodes,
        decision: tree.decision,
    }
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

/// Features binned once for histogram split finding.
struct Binned {
    /// Per feature, the cut values: a row is in bin `b` = number of cuts ≤ x, and a split after bin
    /// `b` sends `x < cuts[b]` left.
    cuts: Vec<Vec<f64>>,
    /// Per feature, the bin of every row.
    bins: Vec<Vec<u16>>,
}

impl Binned {
    fn new(m: &Matrix, order: &[Vec<u32>], max_bin: usize) -> Binned {
        let (cuts, bins) = m
            .cols
            .par_iter()
            .zip(order)
            .map(|(c, o)| {
                let sorted: Vec<f64> = o.iter().map(|&r| c[r as usize]).collect();
                let mut distinct = sorted.clone();
                distinct.dedup();
                let cuts: Vec<f64> = if distinct.len() <= max_bin {
                    distinct
                        .windows(2)
                        .map(|w| XgbGain::threshold(w[0], w[1]))
                        .collect()
                } else {
                    let n = sorted.len();
                    let mut cuts: Vec<f64> = (1..max_bin).map(|q| sorted[q * n / max_bin]).collect();
                    cuts.dedup();
                    cuts.retain(|&v| v > sorted[0]);
                    cuts
                };
                let bins = c
                    .iter()
                    .map(|&x| cuts.partition_point(|&t| t <= x) as u16)
                    .collect();
                (cuts, bins)
            })
            .unzip();
        Binned { cuts, bins }
    }

    /// Per-feature gradient histograms of `rows` (features in parallel when the work is large).
    fn histograms(&self, rows: &[u32], stats: &[Stats], feats: &[usize]) -> Vec<Vec<Stats>> {
        let one = |&f: &usize| {
            let mut hist = vec![Stats::default(); self.cuts[f].len() + 1];
            let b = &self.bins[f];
            for &r in rows {
                add(&mut hist[b[r as usize] as usize], &stats[r as usize]);
            }
            hist
        };
        if rows.len() * feats.len() >= 1 << 13 {
            feats.par_iter().map(one).collect()
        } else {
            feats.iter().map(one).collect()
        }
    }

    fn grow(&self, rule: &XgbGain, stats: &[Stats], feats: &[usize]) -> Tree {
        let mut rows: Vec<u32> = (0..stats.len() as u32)
            .filter(|&r| stats[r as usize].n > 0)
            .collect();
        let mut root = Stats::default();
        for &r in &rows {
            add(&mut root, &stats[r as usize]);
        }
        let mut nodes = vec![leaf_node(rule, &root)];
        // (node id, start, end, depth, stats, histograms if known)
        type Item = (usize, usize, usize, usize, Stats, Option<Vec<Vec<Stats>>>);
        let mut stack: Vec<Item> = vec![(0, 0, rows.len(), 0, root, None)];
        let mut right_buf = Vec::new();
        while let Some((id, s, e, depth, ps, hists)) = stack.pop() {
            if !rule.splittable(&ps, depth) {
                continue;
            }
            let hists = hists.unwrap_or_else(|| self.histograms(&rows[s..e], stats, feats));
            let pg = rule.node_gain(&ps);
            // Best split of each feature from its histogram: (score, feature index, bin, left).
            let search = |(k, hist): (usize, &Vec<Stats>)| -> Option<(f64, usize, usize, Stats)> {
                let nb = hist.len();
                let mut left = Stats::default();
                let mut best: Option<(f64, usize, usize, Stats)> = None;
                for (bin, h) in hist[..nb.saturating_sub(1)].iter().enumerate() {
                    add(&mut left, h);
                    if h.n == 0 || left.n == ps.n {
                        continue;
                    }
                    let right = minus(&ps, &left);
                    if let Some(sc) = rule.score(&left, &right, pg)
                        && best.is_none_or(|b| sc > b.0)
                    {
                        best = Some((sc, k, bin, left));
                    }
                }
                best
            };
            let best = hists.iter().enumerate().filter_map(search).fold(
                None,
                |a: Option<(f64, usize, usize, Stats)>, b| match a {
                    Some(a) if a.0 >= b.0 => Some(a),
                    _ => Some(b),
                },
            );
            let Some((score, k, bin, left)) = best else {
                continue;
            };
            let right = minus(&ps, &left);
            let Some(gain) = rule.accept(score, &left, &right, &ps) else {
                continue;
            };
            let f = feats[k];
            let b = &self.bins[f];
            right_buf.clear();
            let mut w = s;
            for i in s..e {
                let r = rows[i];
                if (b[r as usize] as usize) <= bin {
                    rows[w] = r;
                    w += 1;
                } else {
                    right_buf.push(r);
                }
            }
            rows[w..e].copy_from_slice(&right_buf);
            let l = nodes.len();
            nodes.push(leaf_node(rule, &left));
            nodes.push(leaf_node(rule, &right));
            let node = &mut nodes[id];
            node.feature = f as u32;
            node.threshold = self.cuts[f][bin];
            node.left = l as u32;
            node.right = (l + 1) as u32;
            node.gain = gain;
            // Histogram subtraction: build the smaller child's, the sibling's is the difference.
            let (hl, hr) = if rule.splittable(&left, depth + 1) || rule.splittable(&right, depth + 1) {
                let left_small = w - s <= e - w;
                let small = if left_small {
                    self.histograms(&rows[s..w], stats, feats)
                } else {
                    self.histograms(&rows[w..e], stats, feats)
                };
                let big: Vec<Vec<Stats>> = hists
                    .iter()
                    .zip(&small)
                    .map(|(p, c)| p.iter().zip(c).map(|(p, c)| minus(p, c)).collect())
                    .collect();
                if left_small {
                    (Some(small), Some(big))
                } else {
                    (Some(big), Some(small))
                }
            } else {
                (None, None)
            };
            stack.push((l + 1, w, e, depth + 1, right, hr));
            stack.push((l, s, w, depth + 1, left, hl));
        }
        Tree {
            nodes,
            decision: XgbGain::DECISION,
        }
    }
}

fn add(a: &mut Stats, o: &Stats) {
    a.a += o.a;
    a.b += o.b;
    a.n += o.n;
}

fn minus(a: &Stats, o: &Stats) -> Stats {
    Stats {
        a: a.a - o.a,
        b: a.b - o.b,
        c: 0.0,
        n: a.n - o.n,
    }
}

fn leaf_node(rule: &XgbGain, s: &Stats) -> Node {
    Node {
        feature: LEAF,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value: rule.value(s),
        cover: rule.cover(s),
        gain: 0.0,
    }
}
