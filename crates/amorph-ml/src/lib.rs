//! Random forests and gradient-boosted trees for tabular regression on `ndarray`.
//!
//! `amorph-ml` is a general regression toolkit for tables of numbers: it knows nothing about
//! materials. In the amorph pipeline it predicts Li diffusivity from the descriptor table, as
//! Zheng et al. (2024) did with scikit-learn and XGBoost, and it matches both (see
//! `docs/benchmarks.md` and the tests against reference files under `tests/data/ml/`).
//!
//! - **Models.** [`RandomForestParams`] (scikit-learn's `RandomForestRegressor`: bootstrap,
//!   `max_features`, `max_depth`, `min_samples_split`/`_leaf`, impurity importances, out-of-bag
//!   score, spread across trees) and [`GbtParams`] (XGBoost's second-order boosting with
//!   `reg_lambda`, `reg_alpha`, `gamma`, `min_child_weight`, `subsample`, `colsample_bytree`,
//!   exact or histogram split finding, early stopping, gain importances; losses behind the
//!   [`Objective`] trait). A single tree with `bootstrap(false)` is scikit-learn's
//!   `DecisionTreeRegressor`.
//! - **Builders, validated once.** Hyperparameters are builders with the peers' names;
//!   `check()` turns them into a config that implements [`Fit`], so a fitted model never holds
//!   invalid settings. Fitted models implement [`Regressor`] and [`Persist`] (bincode files,
//!   written atomically).
//! - **Explanations.** Path-dependent TreeSHAP for both model kinds; XGBoost JSON models load
//!   with [`load_xgboost_json`] and give XGBoost's `pred_contribs`.
//! - **Model selection.** [`train_test_split`], [`KFold`], [`cross_validate`] (RMSE, MAE, R² per
//!   fold, with a [`TargetTransform`] such as log), [`grid_search`] in parallel over a parameter
//!   grid, [`permutation_importance`], [`bootstrap_ensemble`] for error bars.
//! - **Data.** [`Dataset`] reads and writes CSV with a header; NaN, infinite or missing values
//!   are errors unless a [`MissingPolicy`] drops those rows.
//!
//! Everything random takes a seed (ChaCha8); results do not depend on the number of threads.
//!
//! ```
//! use amorph_ml::{Fit, GbtParams, KFold, RandomForestParams, Regressor, cross_validate};
//! use ndarray::{Array1, Array2};
//!
//! // y = 3 x0 − 2 x1 on a grid.
//! let x = Array2::from_shape_fn((200, 3), |(i, j)| ((i * (j + 3)) % 17) as f64 / 17.0);
//! let y: Array1<f64> = x.rows().into_iter().map(|r| 3.0 * r[0] - 2.0 * r[1]).collect();
//!
//! let rf = RandomForestParams::new().n_estimators(50).max_depth(Some(6)).seed(1).check()?;
//! let model = rf.fit(x.view(), y.view())?;
//! let pred = model.predict(x.view())?;
//! assert!((pred[0] - y[0]).abs() < 0.3);
//!
//! let gbt = GbtParams::new().n_estimators(100).max_depth(4).learning_rate(0.1).reg_alpha(0.8);
//! let folds = KFold::new(5).seed(62).split(x.nrows())?; // KFold(5, shuffle=True)
//! let cv = cross_validate(&gbt.check()?, x.view(), y.view(), &folds, None)?;
//! assert!(cv.rmse_mean < 0.2);
//!
//! let shap = model.shap_values(x.view())?; // one column per feature + the expected value
//! assert!((shap.row(0).sum() - pred[0]).abs() < 1e-9);
//! # Ok::<(), amorph_ml::MlError>(())
//! ```

mod dataset;
mod error;
mod forest;
mod gbt;
mod grow;
mod hist;
pub mod metrics;
mod model;
mod rng;
mod select;
mod tree;
mod xgb_json;

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The `ndarray` version this crate takes and returns.
pub use ndarray;

pub use dataset::{Dataset, MissingPolicy};
pub use error::{MlError, Result};
pub use forest::{MaxFeatures, RandomForest, RandomForestConfig, RandomForestParams};
pub use gbt::{GbtConfig, GbtParams, GradientBoosting, ImportanceType, Objective, SquaredError, TreeMethod};
pub use model::{Model, ModelConfig, ModelFile, ModelKind, ModelSpec};
pub use select::{
    BootstrapEnsemble, CvReport, FoldScore, GridPoint, KFold, PermutationImportance, Split, TargetTransform,
    bootstrap_ensemble, cross_val_predict, cross_validate, grid_search, permutation_importance,
    train_test_split,
};
pub use tree::{Decision, Tree};
pub use xgb_json::load_xgboost_json;

use grow::Matrix;

/// A fitted regression model.
pub trait Regressor {
    /// Number of features the model was fitted on.
    fn n_features(&self) -> usize;
    /// Predictions for the rows of `x` (one column per feature, in training order).
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>>;
}

/// Validated hyperparameters that fit a model to data.
pub trait Fit {
    /// The fitted model.
    type Model: Regressor;
    /// Fits to features `x` (rows × features) and target `y`.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<Self::Model>;
}

/// Saving and loading a fitted model as a compact bincode file (written atomically).
pub trait Persist: Serialize + DeserializeOwned {
    /// Encodes the model.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(|e| MlError::Model(format!("cannot encode: {e}")))
    }
    /// Decodes a model.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (m, used) = bincode::serde::decode_from_slice(bytes, bincode::config::standard())
            .map_err(|e| MlError::Model(format!("not a model file of this kind: {e}")))?;
        if used != bytes.len() {
            return Err(MlError::Model("trailing bytes after the model".into()));
        }
        Ok(m)
    }
    /// Writes the model to `path` atomically.
    fn save(&self, path: &Path) -> Result<()> {
        error::write_atomic(path, &self.to_bytes()?)
    }
    /// Reads a model written by [`save`](Self::save).
    fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| MlError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|e| MlError::Model(format!("{}: {e}", path.display())))
    }
}

impl Persist for RandomForest {}
impl Persist for GradientBoosting {}
impl Persist for Model {}
impl Persist for ModelFile {}

pub(crate) fn check_xy(x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(MlError::Shape(format!(
            "{} rows of features but {} targets",
            x.nrows(),
            y.len()
        )));
    }
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(MlError::Empty(format!(
            "{} rows × {} features",
            x.nrows(),
            x.ncols()
        )));
    }
    if let Some((row, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(MlError::NonFinite {
            what: "target",
            row,
            column: 0,
            value,
        });
    }
    Ok(())
}

/// Column-major copy, checked finite.
pub(crate) fn to_matrix(x: ArrayView2<f64>) -> Result<Matrix> {
    let mut cols = Vec::with_capacity(x.ncols());
    for (j, c) in x.columns().into_iter().enumerate() {
        if let Some((row, &value)) = c.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(MlError::NonFinite {
                what: "features",
                row,
                column: j,
                value,
            });
        }
        cols.push(c.to_vec());
    }
    Ok(Matrix { n: x.nrows(), cols })
}

/// The width and finiteness of a matrix to predict on.
fn check_input(x: ArrayView2<f64>, n_features: usize) -> Result<()> {
    if x.ncols() != n_features {
        return Err(MlError::Shape(format!(
            "model has {n_features} features, data {}",
            x.ncols()
        )));
    }
    if let Some(((row, column), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(MlError::NonFinite {
            what: "features",
            row,
            column,
            value,
        });
    }
    Ok(())
}

/// Applies `f` to every row (contiguous), in parallel; checks the width and finiteness.
pub(crate) fn predict_rows<const K: usize>(
    x: ArrayView2<f64>,
    n_features: usize,
    f: impl Fn(&[f64]) -> [f64; K] + Sync,
) -> Result<Array2<f64>> {
    check_input(x, n_features)?;
    let xs = x.as_standard_layout();
    let n = x.nrows();
    let mut out = Array2::zeros((n, K));
    let data = xs.as_slice().unwrap_or(&[]);
    if let Some(o) = out.as_slice_mut() {
        o.par_chunks_mut(K)
            .zip(data.par_chunks(n_features.max(1)))
            .for_each(|(o, r)| o.copy_from_slice(&f(r)));
    }
    Ok(out)
}

/// SHAP matrix of an additive tree ensemble: `bias + scale · Σ trees`.
pub(crate) fn shap_of(
    trees: &[Tree],
    bias: f64,
    scale: f64,
    n_features: usize,
    x: ArrayView2<f64>,
) -> Result<Array2<f64>> {
    let expected: f64 = bias + scale * trees.iter().map(|t| t.expected_value()).sum::<f64>();
    let k = n_features + 1;
    // Rows in parallel; each row's values accumulate over the trees in order.
    check_input(x, n_features)?;
    let xs = x.as_standard_layout();
    let data = xs.as_slice().unwrap_or(&[]);
    let mut out = Array2::zeros((x.nrows(), k));
    if let Some(o) = out.as_slice_mut() {
        o.par_chunks_mut(k)
            .zip(data.par_chunks(n_features.max(1)))
            .for_each(|(o, r)| {
                let mut phi = vec![0.0; n_features];
                for t in trees {
                    t.shap_row(r, &mut phi);
                }
                for (a, b) in o.iter_mut().zip(&phi) {
                    *a = scale * b;
                }
                o[n_features] = expected;
            });
    }
    Ok(out)
}
