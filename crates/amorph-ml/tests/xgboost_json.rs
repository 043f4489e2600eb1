//! An XGBoost JSON model: predictions and TreeSHAP (`pred_contribs`) agree with XGBoost.

mod common;

use amorph_ml::{Regressor, load_xgboost_json};
use common::{data_dir, floats, json, load};
use ndarray::{Array2, s};

#[test]
fn loaded_model_predicts_and_explains_like_xgboost() {
    let model = load_xgboost_json(&data_dir().join("xgb_model.json")).expect("load");
    let refs = json("xgb_shap.json");
    let rows: Vec<Vec<f64>> = refs["x"].as_array().expect("x").iter().map(floats).collect();
    let x = Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j]);
    let pred = model.predict(x.view()).expect("predict");
    for (a, b) in pred.iter().zip(floats(&refs["pred"])) {
        assert!((a - b).abs() < 1e-5, "prediction {a} vs {b}");
    }
    let shap = model.shap_values(x.view()).expect("shap");
    let want: Vec<Vec<f64>> = refs["contribs"]
        .as_array()
        .expect("c")
        .iter()
        .map(floats)
        .collect();
    let mut worst = 0.0f64;
    for (i, w) in want.iter().enumerate() {
        for (j, b) in w.iter().enumerate() {
            worst = worst.max((shap[[i, j]] - b).abs());
        }
        assert!((shap.row(i).sum() - pred[i]).abs() < 1e-9);
    }
    assert!(worst < 1e-6, "largest |Δ| of pred_contribs: {worst:e}");
}

/// XGBoost's estimated base score for squared error is the mean target.
#[test]
fn base_score_is_the_mean_target() {
    let model = load_xgboost_json(&data_dir().join("xgb_model.json")).expect("load");
    let ds = load("friedman1.csv");
    let mean = ds.y.slice(s![..500]).mean().expect("rows") / 10.0;
    assert!((model.base_score() - mean).abs() < 1e-6 * mean.abs());
}

/// Our exact booster, fitted with the reference model's settings to the same rows, grows the same
/// trees as XGBoost: the predictions agree to XGBoost's single precision.
#[test]
fn exact_booster_reproduces_xgboost_trees() {
    use amorph_ml::{Fit, GbtParams, TreeMethod};
    let ds = load("friedman1.csv");
    let x = ds.x.slice(s![..500, ..]);
    let y = ds.y.slice(s![..500]).mapv(|v| v / 10.0);
    let ours = GbtParams::new()
        .n_estimators(20)
        .max_depth(4)
        .learning_rate(0.3)
        .reg_alpha(0.8)
        .tree_method(TreeMethod::Exact)
        .check()
        .expect("valid")
        .fit(x, y.view())
        .expect("fit");
    let theirs = load_xgboost_json(&data_dir().join("xgb_model.json")).expect("load");
    let xq = ds.x.slice(s![1000..1040, ..]);
    let (a, b) = (ours.predict(xq).expect("p"), theirs.predict(xq).expect("p"));
    let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
    eprintln!("largest |Δ| of predictions vs XGBoost: {worst:e}");
    assert!(worst < 1e-4, "{worst:e}");
    for (t, u) in ours.trees().iter().zip(theirs.trees()) {
        assert_eq!(t.n_nodes(), u.n_nodes());
    }
}
