//! Random forests of CART trees (scikit-learn's `RandomForestRegressor`).

use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result, invalid};
use crate::grow::{Mse, NodeFeatures, Stats, grow};
use crate::rng::Rng;
use crate::tree::Tree;
use crate::{Fit, Regressor, check_xy, metrics, predict_rows, to_matrix};

/// How many features each split considers (scikit-learn's `max_features`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum MaxFeatures {
    /// All features (scikit-learn's default for regression, `1.0`).
    All,
    /// ⌊√d⌋ (at least 1).
    Sqrt,
    /// ⌊log₂ d⌋ (at least 1).
    Log2,
    /// ⌊fraction·d⌋ (at least 1), fraction in (0, 1].
    Fraction(f64),
    /// A fixed number (at most d).
    Count(usize),
}

impl MaxFeatures {
    fn resolve(self, d: usize) -> usize {
        let k = match self {
            MaxFeatures::All => d,
            MaxFeatures::Sqrt => (d as f64).sqrt() as usize,
            MaxFeatures::Log2 => (d as f64).log2() as usize,
            MaxFeatures::Fraction(f) => (f * d as f64) as usize,
            MaxFeatures::Count(k) => k,
        };
        k.clamp(1, d.max(1))
    }

    /// Parses scikit-learn spellings: `sqrt`, `log2`, `none`/`all`, a fraction `0.33`, a count `5`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            invalid(
                "max_features",
                s,
                "sqrt, log2, none, a fraction in (0, 1] or a count",
            )
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "sqrt" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            "none" | "all" | "1.0" => Ok(MaxFeatures::All),
            t if t.contains('.') || t.contains('e') => {
                let f: f64 = t.parse().map_err(|_| bad())?;
                if f > 0.0 && f <= 1.0 {
                    Ok(MaxFeatures::Fraction(f))
                } else {
                    Err(bad())
                }
            }
            t => match t.parse::<usize>() {
                Ok(k) if k > 0 => Ok(MaxFeatures::Count(k)),
                _ => Err(bad()),
            },
        }
    }
}

/// Hyperparameters of a random forest (scikit-learn names and defaults), as a builder;
/// [`check`](Self::check) validates them into a [`RandomForestConfig`] that can fit.
///
/// A single tree that equals scikit-learn's `DecisionTreeRegressor` is
/// `RandomForestParams::new().n_estimators(1).bootstrap(false)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestParams {
    /// Number of trees (100).
    pub n_estimators: usize,
    /// Maximum depth (`None`: grow until pure or too small).
    pub max_depth: Option<usize>,
    /// Minimum rows in a node to split it (2).
    pub min_samples_split: usize,
    /// Minimum rows in each leaf (1).
    pub min_samples_leaf: usize,
    /// Features considered per split (all).
    pub max_features: MaxFeatures,
    /// Weighted impurity decrease a split must reach (0).
    pub min_impurity_decrease: f64,
    /// Bootstrap the rows of each tree (true).
    pub bootstrap: bool,
    /// Compute the out-of-bag R² (false; needs `bootstrap`).
    pub oob_score: bool,
    /// Seed of every random choice (0).
    pub seed: u64,
}

impl Default for RandomForestParams {
    fn default() -> Self {
        RandomForestParams {
            n_estimators: 100,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::All,
            min_impurity_decrease: 0.0,
            bootstrap: true,
            oob_score: false,
            seed: 0,
        }
    }
}

/// Validated random-forest hyperparameters; [`Fit`] them to data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestConfig(RandomForestParams);

impl RandomForestConfig {
    /// The parameters.
    pub fn params(&self) -> &RandomForestParams {
        &self.0
    }
}

impl RandomForestParams {
    /// scikit-learn's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of trees.
    pub fn n_estimators(mut self, n: usize) -> Self {
        self.n_estimators = n;
        self
    }
    /// Maximum depth (`None` = unlimited).
    pub fn max_depth(mut self, d: Option<usize>) -> Self {
        self.max_depth = d;
        self
    }
    /// Minimum rows to split a node.
    pub fn min_samples_split(mut self, n: usize) -> Self {
        self.min_samples_split = n;
        self
    }
    /// Minimum rows per leaf.
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.min_samples_leaf = n;
        self
    }
    /// Features per split.
    pub fn max_features(mut self, m: MaxFeatures) -> Self {
        self.max_features = m;
        self
    }
    /// Minimum weighted impurity decrease of a split.
    pub fn min_impurity_decrease(mut self, v: f64) -> Self {
        self.min_impurity_decrease = v;
        self
    }
    /// Bootstrap rows per tree.
    pub fn bootstrap(mut self, b: bool) -> Self {
        self.bootstrap = b;
        self
    }
    /// Compute the out-of-bag score.
    pub fn oob_score(mut self, b: bool) -> Self {
        self.oob_score = b;
        self
    }
    /// Seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }

    /// Sets a parameter by its scikit-learn name (`n_estimators`, `max_depth` (`none`),
    /// `min_samples_split`, `min_samples_leaf`, `max_features`, `min_impurity_decrease`,
    /// `bootstrap`, `oob_score`, `random_state`/`seed`) from text.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.trim();
        match key {
            "n_estimators" => self.n_estimators = parse(key, v)?,
            "max_depth" => {
                self.max_depth = if v.eq_ignore_ascii_case("none") {
                    None
                } else {
                    Some(parse(key, v)?)
                }
            }
            "min_samples_split" => self.min_samples_split = parse(key, v)?,
            "min_samples_leaf" => self.min_samples_leaf = parse(key, v)?,
            "max_features" => self.max_features = MaxFeatures::parse(v)?,
            "min_impurity_decrease" => self.min_impurity_decrease = parse(key, v)?,
            "bootstrap" => self.bootstrap = parse_bool(key, v)?,
            "oob_score" => self.oob_score = parse_bool(key, v)?,
            "random_state" | "seed" => self.seed = parse(key, v)?,
            _ => {
                return Err(MlError::UnknownParameter {
                    name: key.into(),
                    model: "random forest".into(),
                });
            }
        }
        Ok(())
    }

    /// Validates the parameters.
    pub fn check(self) -> Result<RandomForestConfig> {
        if self.n_estimators == 0 {
            return Err(invalid("n_estimators", 0, "at least 1"));
        }
        if self.max_depth == Some(0) {
            return Err(invalid("max_depth", 0, "at least 1, or none"));
        }
        if self.min_samples_split < 2 {
            return Err(invalid("min_samples_split", self.min_samples_split, "at least 2"));
        }
        if self.min_samples_leaf < 1 {
            return Err(invalid("min_samples_leaf", 0, "at least 1"));
        }
        if let MaxFeatures::Fraction(f) = self.max_features
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(invalid("max_features", f, "a fraction in (0, 1]"));
        }
        if self.max_features == MaxFeatures::Count(0) {
            return Err(invalid("max_features", 0, "at least 1"));
        }
        if !(self.min_impurity_decrease >= 0.0 && self.min_impurity_decrease.is_finite()) {
            return Err(invalid(
                "min_impurity_decrease",
                self.min_impurity_decrease,
                "finite and ≥ 0",
            ));
        }
        if self.oob_score && !self.bootstrap {
            return Err(invalid("oob_score", true, "needs bootstrap=true"));
        }
        Ok(RandomForestConfig(self))
    }
}

pub(crate) fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| invalid(key, v, "not a number of the expected kind"))
}

pub(crate) fn parse_bool(key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(key, v, "true or false")),
    }
}

/// A fitted random forest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    trees: Vec<Tree>,
    n_features: usize,
    importances: Vec<f64>,
    oob_score: Option<f64>,
}

impl Fit for RandomForestConfig {
    type Model = RandomForest;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<RandomForest> {
        let p = &self.0;
        check_xy(x, y)?;
        let m = to_matrix(x)?;
        let y = y.to_vec();
        let order = m.argsort();
        let n = m.n;
        let d = m.d();
        let max_features = p.max_features.resolve(d);
        let parallel_inside = p.n_estimators == 1;
        let grown: Vec<(Tree, Vec<(u32, f64)>)> = (0..p.n_estimators)
            .into_par_iter()
            .map(|t| {
                let mut rng = Rng::derived(p.seed, 1, t as u64);
                let mut counts = vec![if p.bootstrap { 0u32 } else { 1 }; n];
                if p.bootstrap {
                    for _ in 0..n {
                        counts[rng.below(n)] += 1;
                    }
                }
                let stats: Vec<Stats> = counts
                    .iter()
                    .zip(&y)
                    .map(|(&c, &yi)| {
                        let w = c as f64;
                        Stats {
                            a: w * yi,
                            b: w,
                            c: w * yi * yi,
                            n: (c > 0) as u32,
                        }
                    })
                    .collect();
                let rule = Mse {
                    max_depth: p.max_depth.unwrap_or(usize::MAX),
                    min_samples_split: p.min_samples_split,
                    min_samples_leaf: p.min_samples_leaf,
                    min_impurity_decrease: p.min_impurity_decrease,
                    root_weight: counts.iter().map(|&c| c as f64).sum(),
                };
                let sampling = NodeFeatures {
                    max_features,
                    rng: &mut rng,
                };
                let tree = grow(&rule, &m, &order, &stats, None, Some(sampling), parallel_inside);
                let mut oob = Vec::new();
                if p.oob_score {
                    let mut row = vec![0.0; d];
                    for (i, &c) in counts.iter().enumerate() {
                        if c == 0 {
                            m.row_into(i, &mut row);
                            oob.push((i as u32, tree.predict_row(&row)));
                        }
                    }
                }
                (tree, oob)
            })
            .collect();
        let mut oob_sum = vec![0.0; n];
        let mut oob_n = vec![0u32; n];
        let mut trees = Vec::with_capacity(grown.len());
        for (tree, oob) in grown {
            for (i, v) in oob {
                oob_sum[i as usize] += v;
                oob_n[i as usize] += 1;
            }
            trees.push(tree);
        }
        let oob_score = if p.oob_score {
            let (pred, truth): (Vec<f64>, Vec<f64>) = (0..n)
                .filter(|&i| oob_n[i] > 0)
                .map(|i| (oob_sum[i] / oob_n[i] as f64, y[i]))
                .unzip();
            if pred.len() < 2 {
                return Err(MlError::Empty(
                    "too few out-of-bag rows for an out-of-bag score; use more trees".into(),
                ));
            }
            Some(metrics::r2(&truth, &pred))
        } else {
            None
        };
        let importances = impurity_importances(&trees, d);
        Ok(RandomForest {
            trees,
            n_features: d,
            importances,
            oob_score,
        })
    }
}

/// scikit-learn's `feature_importances_`: each tree's impurity decreases normalised to sum 1, averaged
/// over the trees that split at all, normalised again.
fn impurity_importances(trees: &[Tree], d: usize) -> Vec<f64> {
    let mut total = vec![0.0; d];
    let mut used = 0;
    for t in trees.iter().filter(|t| t.n_nodes() > 1) {
        let mut g = vec![0.0; d];
        let mut c = vec![0; d];
        t.add_gains(&mut g, &mut c);
        let s: f64 = g.iter().sum();
        if s > 0.0 {
            for (a, b) in total.iter_mut().zip(&g) {
                *a += b / s;
            }
        }
        used += 1;
    }
    let s: f64 = total.iter().sum();
    if used > 0 && s > 0.0 {
        total.iter_mut().for_each(|v| *v /= s);
    }
    total
}

impl RandomForest {
    /// The trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Impurity (mean decrease in squared error) importances, summing to 1 (scikit-learn's
    /// `feature_importances_`).
    pub fn feature_importances(&self) -> &[f64] {
        &self.importances
    }

    /// Out-of-bag R² if it was asked for (scikit-learn's `oob_score_`).
    pub fn oob_score(&self) -> Option<f64> {
        self.oob_score
    }

    /// Mean prediction and its spread across trees (population standard deviation), the
    /// forest's per-prediction uncertainty.
    pub fn predict_with_std(&self, x: ArrayView2<f64>) -> Result<(Array1<f64>, Array1<f64>)> {
        let n_t = self.trees.len() as f64;
        let both = predict_rows(x, self.n_features, |row| {
            let (mut s, mut s2) = (0.0, 0.0);
            for t in &self.trees {
                let v = t.predict_row(row);
                s += v;
                s2 += v * v;
            }
            let m = s / n_t;
            [m, (s2 / n_t - m * m).max(0.0).sqrt()]
        })?;
        Ok((both.column(0).to_owned(), both.column(1).to_owned()))
    }

    /// TreeSHAP values (path-dependent), one row per sample and one column per feature plus a
    /// last column with the expected value; each row sums to the prediction.
    pub fn shap_values(&self, x: ArrayView2<f64>) -> Result<ndarray::Array2<f64>> {
        crate::shap_of(
            &self.trees,
            0.0,
            1.0 / self.trees.len() as f64,
            self.n_features,
            x,
        )
    }
}

impl Regressor for RandomForest {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let n_t = self.trees.len() as f64;
        let out = predict_rows(x, self.n_features, |row| {
            [self.trees.iter().map(|t| t.predict_row(row)).sum::<f64>() / n_t]
        })?;
        Ok(out.column(0).to_owned())
    }
}
