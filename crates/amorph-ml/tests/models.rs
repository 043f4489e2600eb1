//! Properties of the models: reproducibility, persistence, uncertainty, SHAP, errors.

mod common;

use amorph_ml::{
    Fit, GbtParams, ImportanceType, KFold, MaxFeatures, MlError, Model, ModelKind, ModelSpec, Persist,
    RandomForest, RandomForestParams, Regressor, TargetTransform, TreeMethod, bootstrap_ensemble,
    cross_validate, grid_search, permutation_importance, train_test_split,
};
use common::load;
use ndarray::{Array1, Array2, Axis, s};

fn friedman(n: usize) -> (Array2<f64>, Array1<f64>) {
    let ds = load("friedman1.csv");
    (ds.x.slice(s![..n, ..]).to_owned(), ds.y.slice(s![..n]).to_owned())
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (x, y) = friedman(600);
    let rf = RandomForestParams::new()
        .n_estimators(30)
        .max_depth(Some(6))
        .max_features(MaxFeatures::Sqrt)
        .oob_score(true)
        .seed(7)
        .check()
        .expect("valid");
    let gbt = GbtParams::new()
        .n_estimators(30)
        .max_depth(5)
        .subsample(0.7)
        .colsample_bytree(0.6)
        .seed(7)
        .check()
        .expect("valid");
    let hist = GbtParams::new()
        .n_estimators(30)
        .tree_method(TreeMethod::Hist)
        .max_bin(32)
        .check()
        .expect("valid");
    // Large enough for the parallel paths of histogram building and split search.
    let (xl, yl) = friedman(2000);
    let hist_sampled = GbtParams::new()
        .n_estimators(20)
        .max_depth(7)
        .tree_method(TreeMethod::Hist)
        .subsample(0.8)
        .colsample_bytree(0.7)
        .gamma(0.5)
        .seed(3)
        .check()
        .expect("valid");
    let fit_all = || {
        (
            rf.fit(x.view(), y.view()).expect("rf"),
            gbt.fit(x.view(), y.view()).expect("gbt"),
            hist.fit(x.view(), y.view()).expect("hist"),
            hist_sampled.fit(xl.view(), yl.view()).expect("hist"),
        )
    };
    let one = pool(1).install(fit_all);
    let two = pool(3).install(fit_all);
    assert_eq!(one, two);
    // A different seed gives a different forest.
    let other = RandomForestParams::new()
        .n_estimators(30)
        .max_depth(Some(6))
        .max_features(MaxFeatures::Sqrt)
        .seed(8)
        .check()
        .expect("valid")
        .fit(x.view(), y.view())
        .expect("rf");
    assert_ne!(other.trees(), one.0.trees());
}

#[test]
fn models_round_trip_through_bincode_files() {
    let (x, y) = friedman(300);
    let dir = std::env::temp_dir().join(format!("amorph-ml-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for kind in [ModelKind::RandomForest, ModelKind::Gbt] {
        let mut spec = ModelSpec::new(kind);
        spec.set("n_estimators", "10").expect("set");
        spec.set("max_depth", "4").expect("set");
        let model = spec.check().expect("valid").fit(x.view(), y.view()).expect("fit");
        let path = dir.join("m.bin");
        model.save(&path).expect("save");
        let back = Model::load(&path).expect("load");
        assert_eq!(back, model);
        assert_eq!(
            back.predict(x.view()).expect("p"),
            model.predict(x.view()).expect("p")
        );
    }
    std::fs::write(dir.join("junk.bin"), b"not a model").expect("write");
    assert!(matches!(
        Model::load(&dir.join("junk.bin")),
        Err(MlError::Model(_))
    ));
    assert!(matches!(
        Model::load(&dir.join("missing.bin")),
        Err(MlError::Io { .. })
    ));
}

#[test]
fn forest_uncertainty_oob_and_importances() {
    let (x, y) = friedman(800);
    let rf = RandomForestParams::new()
        .n_estimators(60)
        .oob_score(true)
        .seed(3)
        .check()
        .expect("valid")
        .fit(x.view(), y.view())
        .expect("fit");
    let (mean, std) = rf.predict_with_std(x.view()).expect("predict");
    assert_eq!(mean, rf.predict(x.view()).expect("p"));
    // Spread across trees by hand for one row.
    let row = x.row(5).to_vec();
    let v: Vec<f64> = rf.trees().iter().map(|t| t.predict_row(&row)).collect();
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / v.len() as f64).sqrt();
    assert!((std[5] - sd).abs() < 1e-9 && (mean[5] - m).abs() < 1e-9);
    // Friedman #1: y depends on x0..x4 only, and the OOB R² of a full forest is high.
    let oob = rf.oob_score().expect("oob");
    assert!(oob > 0.8 && oob < 1.0, "oob {oob}");
    let imp = rf.feature_importances();
    assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let informative: f64 = imp[..5].iter().sum();
    assert!(informative > 0.9, "{imp:?}");
    let perm = permutation_importance(&rf, x.view(), y.view(), 3, 1).expect("perm");
    assert!(perm.mean[3] > 0.1 && perm.mean[7].abs() < 0.02, "{perm:?}");
}

#[test]
fn shap_values_sum_to_predictions_for_both_models() {
    let (x, y) = friedman(400);
    let rf = RandomForestParams::new()
        .n_estimators(20)
        .max_depth(Some(6))
        .check()
        .expect("valid")
        .fit(x.view(), y.view())
        .expect("fit");
    let gbt = GbtParams::new()
        .n_estimators(40)
        .max_depth(4)
        .reg_alpha(0.8)
        .gamma(0.5)
        .check()
        .expect("valid")
        .fit(x.view(), y.view())
        .expect("fit");
    let xt = x.slice(s![..50, ..]);
    for (shap, pred) in [
        (rf.shap_values(xt).expect("shap"), rf.predict(xt).expect("p")),
        (gbt.shap_values(xt).expect("shap"), gbt.predict(xt).expect("p")),
    ] {
        assert_eq!(shap.ncols(), 11);
        for (row, p) in shap.axis_iter(Axis(0)).zip(&pred) {
            assert!(
                (row.sum() - p).abs() < 1e-9 * p.abs().max(1.0),
                "{} vs {p}",
                row.sum()
            );
        }
        // The bias column is the same for every row.
        assert!(shap.column(10).iter().all(|&b| b == shap[[0, 10]]));
    }
    // Gain importances: normalised, concentrated on the informative features.
    for kind in [
        ImportanceType::Gain,
        ImportanceType::TotalGain,
        ImportanceType::Weight,
    ] {
        let imp = gbt.feature_importances(kind);
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let total = gbt.feature_importances(ImportanceType::TotalGain);
    assert!(total[..5].iter().sum::<f64>() > 0.9, "{total:?}");
}

#[test]
fn gamma_prunes_and_l1_shrinks() {
    let (x, y) = friedman(400);
    let fit = |p: GbtParams| p.check().expect("valid").fit(x.view(), y.view()).expect("fit");
    let base = fit(GbtParams::new().n_estimators(5).max_depth(6));
    let pruned = fit(GbtParams::new().n_estimators(5).max_depth(6).gamma(50.0));
    let nodes = |m: &amorph_ml::GradientBoosting| m.trees().iter().map(|t| t.n_nodes()).sum::<usize>();
    assert!(nodes(&pruned) < nodes(&base));
    // Every split left in the pruned model has a leaf pair only if its gain reaches gamma.
    let l1 = fit(GbtParams::new().n_estimators(1).max_depth(1).reg_alpha(1e9));
    // With a huge alpha every leaf weight is zero: the prediction stays at the base score.
    let p = l1.predict(x.view()).expect("p");
    assert!(p.iter().all(|&v| (v - l1.base_score()).abs() < 1e-12));
}

#[test]
fn early_stopping_keeps_the_best_round() {
    let (x, y) = friedman(1000);
    let (train, valid) = train_test_split(1000, 0.3, 5).expect("split");
    let (xt, yt) = (x.select(Axis(0), &train), y.select(Axis(0), &train));
    let (xv, yv) = (x.select(Axis(0), &valid), y.select(Axis(0), &valid));
    let cfg = GbtParams::new()
        .n_estimators(2000)
        .max_depth(6)
        .learning_rate(0.5)
        .early_stopping_rounds(Some(10))
        .check()
        .expect("valid");
    let m = cfg
        .fit_with(
            &amorph_ml::SquaredError,
            xt.view(),
            yt.view(),
            Some((xv.view(), yv.view())),
        )
        .expect("fit");
    let best = m.best_iteration().expect("best");
    assert_eq!(m.trees().len(), best + 1);
    assert!(m.eval_history().len() < 2000 && m.eval_history().len() == best + 11);
    let h = m.eval_history();
    assert!(h[best] <= h.iter().cloned().fold(f64::INFINITY, f64::min));
    // Without a validation set, early stopping is refused.
    assert!(matches!(
        cfg.fit(xt.view(), yt.view()),
        Err(MlError::InvalidParameter { .. })
    ));
}

#[test]
fn grid_search_transform_and_bootstrap() {
    let (x, y) = friedman(300);
    let folds = KFold::new(3).seed(62).split(300).expect("folds");
    let mut base = ModelSpec::new(ModelKind::Gbt);
    base.set("n_estimators", "30").expect("set");
    let grid = vec![
        (
            "learning_rate".to_string(),
            vec!["0.01".into(), "0.1".into(), "0.5".into()],
        ),
        ("max_depth".to_string(), vec!["2".into(), "4".into()]),
    ];
    let points = grid_search(&base, &grid, x.view(), y.view(), &folds, None).expect("grid");
    assert_eq!(points.len(), 6);
    assert!(points.windows(2).all(|w| w[0].cv.rmse_mean <= w[1].cv.rmse_mean));
    // Each point equals a direct cross-validation with those parameters.
    let best = &points[0];
    let mut spec = base.clone();
    for (k, v) in &best.params {
        spec.set(k, v).expect("set");
    }
    let direct = cross_validate(&spec.check().expect("valid"), x.view(), y.view(), &folds, None).expect("cv");
    assert_eq!(direct, best.cv);
    // lr 0.01 × 30 rounds underfits: it is last.
    assert!(
        points[5]
            .params
            .contains(&("learning_rate".into(), "0.01".into()))
    );
    // Unknown parameter and invalid value are refused before any fitting.
    let bad = vec![("max_leaves".to_string(), vec!["3".into()])];
    assert!(matches!(
        grid_search(&base, &bad, x.view(), y.view(), &folds, None),
        Err(MlError::UnknownParameter { .. })
    ));
    // Log target: y > 0 for Friedman #1 here; predictions come back on the original scale.
    let cfg = RandomForestParams::new().n_estimators(20).check().expect("valid");
    let cv = cross_validate(&cfg, x.view(), y.view(), &folds, Some(TargetTransform::Ln)).expect("cv");
    assert!(cv.rmse_mean < 4.0 && cv.r2_mean > 0.5, "{cv:?}");
    // Bootstrap refits: spread is positive and shrinks nowhere to zero.
    let ens = bootstrap_ensemble(&cfg, x.view(), y.view(), 5, 9).expect("ensemble");
    let (m, sd) = ens.predict_mean_std(x.view()).expect("predict");
    assert_eq!(m.len(), 300);
    assert!(sd.iter().all(|&v| v > 0.0));
}

#[test]
fn bad_input_gives_clear_errors() {
    let (x, y) = friedman(50);
    let cfg = RandomForestParams::new().n_estimators(5).check().expect("valid");
    let mut xn = x.clone();
    xn[[3, 2]] = f64::NAN;
    assert!(matches!(
        cfg.fit(xn.view(), y.view()),
        Err(MlError::NonFinite {
            what: "features",
            row: 3,
            column: 2,
            ..
        })
    ));
    let mut xi = x.clone();
    xi[[1, 0]] = f64::INFINITY;
    let model: RandomForest = cfg.fit(x.view(), y.view()).expect("fit");
    assert!(matches!(model.predict(xi.view()), Err(MlError::NonFinite { .. })));
    assert!(matches!(
        model.predict(x.slice(s![.., ..3])),
        Err(MlError::Shape(_))
    ));
    let constant = Array1::from_elem(50, 2.5);
    let folds = KFold::new(5).split(50).expect("folds");
    assert!(matches!(
        cross_validate(&cfg, x.view(), constant.view(), &folds, None),
        Err(MlError::ConstantTarget(_))
    ));
    assert!(matches!(
        KFold::new(5).split(3),
        Err(MlError::TooFewRows { rows: 3, folds: 5 })
    ));
    assert!(matches!(
        RandomForestParams::new().n_estimators(0).check(),
        Err(MlError::InvalidParameter { .. })
    ));
    assert!(GbtParams::new().subsample(1.5).check().is_err());
    assert!(GbtParams::new().learning_rate(0.0).check().is_err());
    assert!(GbtParams::new().reg_alpha(-1.0).check().is_err());
    let mut spec = ModelSpec::new(ModelKind::RandomForest);
    assert!(matches!(
        spec.set("max_depth", "four"),
        Err(MlError::InvalidParameter { .. })
    ));
    assert!(matches!(
        spec.set("eta", "0.1"),
        Err(MlError::UnknownParameter { .. })
    ));
}
