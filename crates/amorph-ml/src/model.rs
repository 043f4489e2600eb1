//! Either model kind behind one type: parameters set by name, fitted models saved with their
//! feature names.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};
use crate::forest::{RandomForest, RandomForestConfig, RandomForestParams};
use crate::gbt::{GbtConfig, GbtParams, GradientBoosting, ImportanceType};
use crate::select::TargetTransform;
use crate::{Fit, Regressor};

/// The model families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelKind {
    /// Random forest (`rf`).
    RandomForest,
    /// Gradient-boosted trees (`gbt`, `xgb`).
    Gbt,
}

impl ModelKind {
    /// Parses `rf` or `gbt`/`xgb`/`xgboost`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "rf" | "random_forest" => Ok(ModelKind::RandomForest),
            "gbt" | "xgb" | "xgboost" => Ok(ModelKind::Gbt),
            _ => Err(crate::error::invalid("model", s, "rf or gbt")),
        }
    }
}

/// Unchecked parameters of either family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelSpec {
    /// Random forest.
    RandomForest(RandomForestParams),
    /// Gradient boosting.
    Gbt(GbtParams),
}

impl ModelSpec {
    /// Default parameters of a family.
    pub fn new(kind: ModelKind) -> Self {
        match kind {
            ModelKind::RandomForest => ModelSpec::RandomForest(RandomForestParams::new()),
            ModelKind::Gbt => ModelSpec::Gbt(GbtParams::new()),
        }
    }
    /// Sets a parameter by its scikit-learn/XGBoost name.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match self {
            ModelSpec::RandomForest(p) => p.set(key, value),
            ModelSpec::Gbt(p) => p.set(key, value),
        }
    }
    /// Validates.
    pub fn check(self) -> Result<ModelConfig> {
        Ok(match self {
            ModelSpec::RandomForest(p) => ModelConfig::RandomForest(p.check()?),
            ModelSpec::Gbt(p) => ModelConfig::Gbt(p.check()?),
        })
    }
}

/// Validated parameters of either family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelConfig {
    /// Random forest.
    RandomForest(RandomForestConfig),
    /// Gradient boosting.
    Gbt(GbtConfig),
}

impl Fit for ModelConfig {
    type Model = Model;
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<Model> {
        Ok(match self {
            ModelConfig::RandomForest(c) => Model::RandomForest(c.fit(x, y)?),
            ModelConfig::Gbt(c) => Model::Gbt(c.fit(x, y)?),
        })
    }
}

/// A fitted model of either family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Model {
    /// Random forest.
    RandomForest(RandomForest),
    /// Gradient boosting.
    Gbt(GradientBoosting),
}

impl Model {
    /// Impurity importances (forest) or gain importances (boosting), summing to 1.
    pub fn feature_importances(&self) -> Vec<f64> {
        match self {
            Model::RandomForest(m) => m.feature_importances().to_vec(),
            Model::Gbt(m) => m.feature_importances(ImportanceType::Gain),
        }
    }
    /// TreeSHAP values: features, then the expected value; rows sum to the predictions.
    pub fn shap_values(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        match self {
            Model::RandomForest(m) => m.shap_values(x),
            Model::Gbt(m) => m.shap_values(x),
        }
    }
}

impl Regressor for Model {
    fn n_features(&self) -> usize {
        match self {
            Model::RandomForest(m) => m.n_features(),
            Model::Gbt(m) => m.n_features(),
        }
    }
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        match self {
            Model::RandomForest(m) => m.predict(x),
            Model::Gbt(m) => m.predict(x),
        }
    }
}

/// A fitted model with what is needed to apply it to a new table: feature names in order, the
/// target's name and its transform (predictions are returned on the original scale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Feature columns, in the model's order.
    pub feature_names: Vec<String>,
    /// Target column.
    pub target: String,
    /// Transform applied to the target when fitting.
    pub transform: TargetTransform,
    /// The model.
    pub model: Model,
}

impl ModelFile {
    /// Predictions on the original target scale.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        if x.ncols() != self.feature_names.len() {
            return Err(MlError::Shape(format!(
                "model has {} features, data {}",
                self.feature_names.len(),
                x.ncols()
            )));
        }
        Ok(self.transform.inverse(self.model.predict(x)?))
    }
}
