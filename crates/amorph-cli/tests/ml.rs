//! `amorph ml` end to end on the reference tables of `tests/data/ml/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use amorph::ml::{Dataset, Fit, KFold, MissingPolicy, ModelKind, ModelSpec, Regressor, cross_validate};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/ml")
        .join(name)
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn spec(kind: ModelKind, sets: &[(&str, &str)]) -> ModelSpec {
    let mut s = ModelSpec::new(kind);
    s.set("random_state", "62").unwrap();
    for (k, v) in sets {
        s.set(k, v).unwrap();
    }
    s
}

#[test]
fn cv_json_has_the_documented_keys_and_the_librarys_numbers() {
    let table = data("diabetes.csv");
    let out = amorph(&[
        "ml",
        "cv",
        table.to_str().unwrap(),
        "--target",
        "y",
        "--model",
        "gbt",
        "--set",
        "n_estimators=50",
        "--set",
        "max_depth=4",
        "--set",
        "learning_rate=0.1",
        "--set",
        "reg_alpha=0.8",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    for k in ["rmse_mean", "rmse_std", "r2_mean", "mae_mean"] {
        assert!(v[k].is_f64(), "{k} in {v}");
    }
    assert_eq!(v["folds"].as_array().unwrap().len(), 5);
    let (ds, _) = Dataset::from_csv(&table, "y", &[], MissingPolicy::Error).unwrap();
    let cfg = spec(
        ModelKind::Gbt,
        &[
            ("n_estimators", "50"),
            ("max_depth", "4"),
            ("learning_rate", "0.1"),
            ("reg_alpha", "0.8"),
        ],
    )
    .check()
    .unwrap();
    let folds = KFold::new(5).seed(62).split(ds.n_rows()).unwrap();
    let cv = cross_validate(&cfg, ds.x.view(), ds.y.view(), &folds, None).unwrap();
    assert_eq!(v["rmse_mean"].as_f64().unwrap(), cv.rmse_mean);
    assert_eq!(v["r2_mean"].as_f64().unwrap(), cv.r2_mean);
}

#[test]
fn fit_then_predict_matches_the_library_and_reports_the_spread() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("rf.bin");
    let table = data("diabetes.csv");
    let t = table.to_str().unwrap();
    let out = amorph(&[
        "ml",
        "fit",
        t,
        "--target",
        "y",
        "--drop",
        "x9",
        "--set",
        "n_estimators=20",
        "--set",
        "max_depth=4",
        "-o",
        model.to_str().unwrap(),
    ]);
    ok(&out);
    let pred = ok(&amorph(&["ml", "predict", model.to_str().unwrap(), t]));
    let got: Vec<f64> = pred.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    let (ds, _) = Dataset::from_csv(&table, "y", &["x9".into()], MissingPolicy::Error).unwrap();
    let m = spec(
        ModelKind::RandomForest,
        &[("n_estimators", "20"), ("max_depth", "4")],
    )
    .check()
    .unwrap()
    .fit(ds.x.view(), ds.y.view())
    .unwrap();
    assert_eq!(got, m.predict(ds.x.view()).unwrap().to_vec());
    let csv = dir.path().join("p.csv");
    ok(&amorph(&[
        "ml",
        "predict",
        model.to_str().unwrap(),
        t,
        "--std",
        "-o",
        csv.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("prediction,std\n"));
    let std: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(std.len(), 442);
    assert!(std.iter().all(|&s| s > 0.0));
    // A table without a feature the model needs.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x0,x1\n1,2\n").unwrap();
    let out = amorph(&["ml", "predict", model.to_str().unwrap(), bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown column \"x2\""));
}

#[test]
fn grid_json_is_sorted_and_importance_writes_svg() {
    let dir = tempfile::tempdir().unwrap();
    let table = data("diabetes.csv");
    let t = table.to_str().unwrap();
    let out = amorph(&[
        "ml",
        "grid",
        t,
        "--target",
        "y",
        "--model",
        "gbt",
        "--folds",
        "3",
        "--set",
        "n_estimators=20",
        "--grid",
        "learning_rate=0.01,0.1",
        "--grid",
        "max_depth=2,4",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let pts = v.as_array().unwrap();
    assert_eq!(pts.len(), 4);
    let r: Vec<f64> = pts.iter().map(|p| p["rmse_mean"].as_f64().unwrap()).collect();
    assert!(r.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
    assert!(pts[0]["params"]["learning_rate"].is_string());

    let svg = dir.path().join("imp.svg");
    let parity = dir.path().join("parity.svg");
    let out = amorph(&[
        "ml",
        "importance",
        t,
        "--target",
        "y",
        "--set",
        "n_estimators=20",
        "--permutation",
        "2",
        "--svg",
        svg.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let rows = v["importances"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    let total: f64 = rows.iter().map(|r| r["importance"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert!(rows[0]["permutation_mean"].is_f64());
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    ok(&amorph(&[
        "ml",
        "cv",
        t,
        "--target",
        "y",
        "--set",
        "n_estimators=10",
        "--parity-svg",
        parity.to_str().unwrap(),
    ]));
    let p = std::fs::read_to_string(&parity).unwrap();
    assert_eq!(p.matches("<circle").count(), 442);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let err = |args: &[&str]| {
        let out = amorph(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let nan = write("nan.csv", "a,b,y\n1,2,3\n4,nan,5\n6,7,8\n9,1,2\n3,3,1\n2,2,2\n");
    let n = nan.to_str().unwrap();
    assert!(err(&["ml", "cv", n, "--target", "y", "--folds", "2"]).contains("nan.csv:3: column b"));
    ok(&amorph(&[
        "ml",
        "cv",
        n,
        "--target",
        "y",
        "--folds",
        "2",
        "--drop-missing",
        "--set",
        "n_estimators=5",
    ]));
    assert!(err(&["ml", "cv", n, "--target", "z"]).contains("unknown column \"z\""));
    let small = write("small.csv", "a,y\n1,2\n2,3\n3,1\n");
    assert!(
        err(&["ml", "cv", small.to_str().unwrap(), "--target", "y"])
            .contains("cannot make 5 folds from 3 rows")
    );
    let constant = write("c.csv", "a,y\n1,2\n2,2\n3,2\n4,2\n5,2\n");
    let c = constant.to_str().unwrap();
    assert!(err(&["ml", "cv", constant.to_str().unwrap(), "--target", "y"]).contains("constant"));
    assert!(
        err(&["ml", "cv", c, "--target", "y", "--set", "max_leaves=3"])
            .contains("unknown parameter max_leaves")
    );
    assert!(err(&["ml", "cv", c, "--target", "y", "--model", "svm"]).contains("rf or gbt"));
    let zero = write("zero.csv", "a,y\n1,2\n2,0\n3,1\n4,2\n5,3\n");
    assert!(
        err(&[
            "ml",
            "cv",
            zero.to_str().unwrap(),
            "--target",
            "y",
            "--transform",
            "log"
        ])
        .contains("positive target")
    );
}
