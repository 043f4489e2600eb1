//! Agreement with scikit-learn and XGBoost on reference files from `validation/ml_refs.py`.

mod common;

use amorph_ml::{Fit, GbtParams, ModelConfig, RandomForestParams, Regressor, TreeMethod, cross_validate};
use common::{floats, json, load};
use ndarray::s;

/// A single tree with bootstrap off equals `DecisionTreeRegressor` on tie-free data.
#[test]
fn single_tree_equals_sklearn_decision_tree() {
    let refs = json("tree_refs.json");
    let ds = load("friedman1.csv");
    let (n_train, n_test) = (300, 200);
    let x = ds.x.slice(s![..n_train, ..]);
    let y = ds.y.slice(s![..n_train]);
    let xt = ds.x.slice(s![n_train..n_train + n_test, ..]);
    let mut worst = 0.0f64;
    for t in refs["trees"].as_array().expect("trees") {
        let p = &t["params"];
        let mut params = RandomForestParams::new().n_estimators(1).bootstrap(false);
        params.max_depth = p["max_depth"].as_u64().map(|d| d as usize);
        if let Some(v) = p.get("min_samples_leaf") {
            params.min_samples_leaf = v.as_u64().expect("int") as usize;
        }
        if let Some(v) = p.get("min_samples_split") {
            params.min_samples_split = v.as_u64().expect("int") as usize;
        }
        let model = params.check().expect("valid").fit(x, y).expect("fit");
        let tree = &model.trees()[0];
        assert_eq!(
            tree.n_leaves() as u64,
            t["n_leaves"].as_u64().expect("int"),
            "{p}"
        );
        assert_eq!(tree.depth() as u64, t["depth"].as_u64().expect("int"), "{p}");
        for (pred, key) in [
            (model.predict(xt).expect("predict"), "pred_test"),
            (model.predict(x).expect("predict"), "pred_train"),
        ] {
            let want = floats(&t[key]);
            for (a, b) in pred.iter().zip(&want) {
                worst = worst.max((a - b).abs() / b.abs().max(1.0));
            }
        }
        let imp = floats(&t["feature_importances"]);
        for (a, b) in model.feature_importances().iter().zip(&imp) {
            assert!((a - b).abs() < 1e-12, "importances {p}: {a} vs {b}");
        }
    }
    // Leaf means are sums in a different order: equal up to rounding of the last bit.
    assert!(worst < 1e-14, "largest relative difference {worst:e}");
}

fn check_cv(name: &str, key: &str, cfg_of: &dyn Fn(u64) -> ModelConfig, tol: f64) {
    let ds = load(name);
    let refs = json("cv_refs.json");
    for run in refs[name.trim_end_matches(".csv")].as_array().expect("runs") {
        let seed = run["seed"].as_u64().expect("seed");
        let fold_of: Vec<usize> = run["fold_of"]
            .as_array()
            .expect("folds")
            .iter()
            .map(|v| v.as_u64().expect("int") as usize)
            .collect();
        let folds: Vec<(Vec<usize>, Vec<usize>)> = (0..5)
            .map(|f| (0..fold_of.len()).partition(|&i| fold_of[i] != f))
            .collect();
        let cv = cross_validate(&cfg_of(seed), ds.x.view(), ds.y.view(), &folds, None).expect("cv");
        let want = floats(&run[key]);
        let want_mean = want.iter().sum::<f64>() / want.len() as f64;
        let rel = cv.rmse_mean / want_mean - 1.0;
        eprintln!(
            "{name} {key} seed {seed}: amorph {:.5} reference {want_mean:.5} ({:+.3} %)",
            cv.rmse_mean,
            100.0 * rel
        );
        assert!(
            rel.abs() < tol,
            "{name} {key} seed {seed}: {} vs {want_mean}",
            cv.rmse_mean
        );
    }
}

fn rf(seed: u64) -> ModelConfig {
    ModelConfig::RandomForest(
        RandomForestParams::new()
            .n_estimators(100)
            .max_depth(Some(4))
            .seed(seed)
            .check()
            .expect("valid"),
    )
}

fn xgb(method: TreeMethod) -> impl Fn(u64) -> ModelConfig {
    move |_| {
        ModelConfig::Gbt(
            GbtParams::new()
                .n_estimators(100)
                .max_depth(4)
                .learning_rate(0.1)
                .reg_alpha(0.8)
                .tree_method(method)
                .check()
                .expect("valid"),
        )
    }
}

#[test]
fn random_forest_cv_rmse_within_2_percent_of_sklearn() {
    check_cv("diabetes.csv", "rf_rmse", &rf, 0.02);
    check_cv("friedman1.csv", "rf_rmse", &rf, 0.02);
}

#[test]
fn xgboost_exact_cv_rmse_within_2_percent() {
    check_cv("diabetes.csv", "xgb_exact_rmse", &xgb(TreeMethod::Exact), 0.02);
    check_cv("friedman1.csv", "xgb_exact_rmse", &xgb(TreeMethod::Exact), 0.02);
}

#[test]
fn xgboost_hist_cv_rmse_within_2_percent() {
    check_cv("diabetes.csv", "xgb_hist_rmse", &xgb(TreeMethod::Hist), 0.02);
    check_cv("friedman1.csv", "xgb_hist_rmse", &xgb(TreeMethod::Hist), 0.02);
}
