//! Loading a model saved by XGBoost as JSON (`Booster.save_model("m.json")`).

use std::path::Path;

use serde_json::Value;

use crate::error::{MlError, Result};
use crate::gbt::GradientBoosting;
use crate::tree::{Decision, LEAF, Node, Tree};

fn err(m: impl Into<String>) -> MlError {
    MlError::Model(format!("XGBoost JSON: {}", m.into()))
}

/// XGBoost writes some numbers as strings, `base_score` as `"[1.4E0]"` (3.x) or `"1.4E0"`.
fn number(v: &Value) -> Result<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| err("bad number")),
        Value::String(s) => s
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| err(format!("not a number: {s:?}"))),
        _ => Err(err("expected a number")),
    }
}

fn array<'a>(t: &'a Value, key: &str) -> Result<&'a Vec<Value>> {
    t.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| err(format!("tree without {key}")))
}

fn floats(t: &Value, key: &str) -> Result<Vec<f64>> {
    array(t, key)?.iter().map(number).collect()
}

fn ints(t: &Value, key: &str) -> Result<Vec<i64>> {
    array(t, key)?
        .iter()
        .map(|v| v.as_i64().ok_or_else(|| err(format!("{key}: expected integers"))))
        .collect()
}

/// Loads a regression model saved by XGBoost as JSON (objective `reg:squarederror`, one target,
/// numerical splits, `gbtree` booster). Predictions compare features in single precision as
/// XGBoost does; [`GradientBoosting::shap_values`] then gives XGBoost's `pred_contribs`.
pub fn load_xgboost_json(path: &Path) -> Result<GradientBoosting> {
    let text = std::fs::read_to_string(path).map_err(|source| MlError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| err(format!("{}: not JSON: {e}", path.display())))?;
    let learner = v.get("learner").ok_or_else(|| err("no learner"))?;
    let objective = learner
        .pointer("/objective/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if objective != "reg:squarederror" {
        return Err(err(format!(
            "objective {objective:?}: only reg:squarederror is supported"
        )));
    }
    let param = learner
        .get("learner_model_param")
        .ok_or_else(|| err("no learner_model_param"))?;
    let base_score = number(param.get("base_score").ok_or_else(|| err("no base_score"))?)?;
    let n_features = number(param.get("num_feature").ok_or_else(|| err("no num_feature"))?)? as usize;
    if let Some(t) = param.get("num_target")
        && number(t)? != 1.0
    {
        return Err(err("only single-target models are supported"));
    }
    let booster = learner
        .pointer("/gradient_booster/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if booster != "gbtree" {
        return Err(err(format!("booster {booster:?}: only gbtree is supported")));
    }
    let trees = learner
        .pointer("/gradient_booster/model/trees")
        .and_then(Value::as_array)
        .ok_or_else(|| err("no trees"))?;
    let trees = trees
        .iter()
        .map(|t| tree(t, n_features))
        .collect::<Result<Vec<_>>>()?;
    Ok(GradientBoosting {
        base_score,
        trees,
        n_features,
        best_iteration: None,
        eval_history: Vec::new(),
    })
}

fn tree(t: &Value, n_features: usize) -> Result<Tree> {
    let left = ints(t, "left_children")?;
    let right = ints(t, "right_children")?;
    let feat = ints(t, "split_indices")?;
    let cond = floats(t, "split_conditions")?;
    let weight = floats(t, "base_weights")?;
    let hess = floats(t, "sum_hessian")?;
    let gain = floats(t, "loss_changes")?;
    let n = left.len();
    if [
        right.len(),
        feat.len(),
        cond.len(),
        weight.len(),
        hess.len(),
        gain.len(),
    ]
    .iter()
    .any(|&l| l != n)
        || n == 0
    {
        return Err(err("tree arrays of different lengths"));
    }
    if let Ok(types) = ints(t, "split_type")
        && types.iter().any(|&s| s != 0)
    {
        return Err(err("categorical splits are not supported"));
    }
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let is_leaf = left[i] == -1;
        if !is_leaf {
            let ok = |c: i64| c > 0 && (c as usize) < n;
            if !ok(left[i]) || !ok(right[i]) || feat[i] < 0 || feat[i] as usize >= n_features {
                return Err(err(format!("node {i}: bad children or feature")));
            }
        }
        nodes.push(Node {
            feature: if is_leaf { LEAF } else { feat[i] as u32 },
            threshold: if is_leaf { 0.0 } else { cond[i] },
            left: if is_leaf { LEAF } else { left[i] as u32 },
            right: if is_leaf { LEAF } else { right[i] as u32 },
            value: if is_leaf { cond[i] } else { weight[i] },
            cover: hess[i],
            gain: if is_leaf { 0.0 } else { gain[i] },
        });
    }
    Ok(Tree {
        nodes,
        decision: Decision::LessF32,
    })
}
