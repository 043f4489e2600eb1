//! `amorph sisso` end to end: the paper's model from its SISSO table, a planted formula with units,
//! the JSON shape, a saved model, a multi-task fit from a task column, and bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn zheng() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/sisso/zheng2024/train.csv")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn reproduces_the_published_model_as_json() {
    let f = zheng();
    let o = amorph(&[
        "sisso",
        &f,
        "--target",
        "lnD",
        "--drop",
        "formula",
        "--ops",
        "none",
        "--dim",
        "4",
        "--subs-sis",
        "20",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 4);
    for (k, m) in models.iter().enumerate() {
        assert_eq!(m["dim"], k + 1);
        let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{keys:?}");
        for key in [
            "dim",
            "descriptors",
            "coefficients",
            "intercept",
            "rmse",
            "max_ae",
        ] {
            assert!(keys.contains(&key), "{key}");
        }
    }
    // SISSO 3.3's 4D model (SISSO.out of the paper's run).
    let m = &models[3];
    let want = [
        ("inverse_kbT", -0.3339406718),
        ("LNC", -0.1064562223),
        ("LLB", 0.1124328014),
        ("PF", -1.946232403),
    ];
    let descriptors: Vec<&str> = m["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    for (name, c) in want {
        let k = descriptors.iter().position(|d| *d == name).unwrap();
        assert!((m["coefficients"][k].as_f64().unwrap() - c).abs() < 1e-8 * c.abs().max(1.0));
    }
    assert!((m["intercept"].as_f64().unwrap() + 3.550389618).abs() < 1e-8);
    assert!((m["rmse"].as_f64().unwrap() - 0.3645380858).abs() < 1e-9);
    assert!((m["max_ae"].as_f64().unwrap() - 2.113525694).abs() < 1e-8);
    assert_eq!(models[0]["descriptors"][0], "inverse_kbT");
}

#[test]
fn finds_a_planted_formula_with_units_and_saves_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("data.csv");
    let mut text = String::from("x1,x2,x3,x4,y\n");
    for i in 0..60 {
        let x1 = 0.5 + (i * 37 % 61) as f64 / 25.0;
        let x2 = 0.8 + (i * 17 % 53) as f64 / 40.0;
        let x3 = -1.0 + (i * 29 % 47) as f64 / 15.0;
        let x4 = 1.0 + (i * 13 % 43) as f64 / 20.0;
        let y = 2.0 * x1 / (x2 * x2) - 0.5 * (-x3).exp() + 1.0;
        text.push_str(&format!("{x1},{x2},{x3},{x4},{y}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let units = dir.path().join("units.txt");
    std::fs::write(&units, "# column,unit\nx1,eV\nx2,Å\nx3,1\nx4,Å\ny,eV/Å^2\n").unwrap();
    let model = dir.path().join("model.json");
    let (c, u, m) = (
        csv.to_str().unwrap(),
        units.to_str().unwrap(),
        model.to_str().unwrap(),
    );
    let args = [
        "sisso",
        c,
        "--target",
        "y",
        "--units",
        u,
        "--ops",
        "*,/,^2,exp-",
        "--complexity",
        "2",
        "--dim",
        "2",
        "--subs-sis",
        "30",
    ];
    let o = amorph(&[&args[..], &["--save-model", m]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("exp(-x3)") && text.contains("eV Å^-2"), "{text}");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(saved["dim"], 2);
    assert!(saved["rmse"].as_f64().unwrap() < 1e-12);
    let o = amorph(&[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m2 = &v["models"][1];
    let k = m2["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .position(|d| d == "exp(-x3)")
        .unwrap();
    assert!((m2["coefficients"][k].as_f64().unwrap() + 0.5).abs() < 1e-10);
    assert!((m2["intercept"].as_f64().unwrap() - 1.0).abs() < 1e-10);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = zheng();
    let o = amorph(&[
        "sisso", &f, "--target", "lnD", "--drop", "formula", "--ops", "+,sin",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown operator 'sin'"), "{}", stderr(&o));
    let o = amorph(&["sisso", &f, "--target", "lnD"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--drop formula"), "{}", stderr(&o));
    let o = amorph(&["sisso", &f, "--target", "nope", "--drop", "formula"]);
    assert!(stderr(&o).contains("no target column nope"), "{}", stderr(&o));

    let csv = dir.path().join("nan.csv");
    std::fs::write(&csv, "a,b,y\n1,2,3\n2,nan,4\n3,1,5\n4,5,1\n").unwrap();
    let o = amorph(&["sisso", csv.to_str().unwrap(), "--target", "y"]);
    assert!(
        stderr(&o).contains("non-finite value in b at row 1"),
        "{}",
        stderr(&o)
    );
    let csv = dir.path().join("const.csv");
    std::fs::write(&csv, "a,b,y\n1,2,3\n2,2,4\n3,2,5\n4,2,1\n").unwrap();
    let o = amorph(&["sisso", csv.to_str().unwrap(), "--target", "y"]);
    assert!(stderr(&o).contains("column b is constant"), "{}", stderr(&o));
    let units = dir.path().join("units.txt");
    std::fs::write(&units, "a,eV\n").unwrap();
    let csv = dir.path().join("ok.csv");
    std::fs::write(&csv, "a,b,y\n1,2,3\n2,3,4\n3,1,5\n4,5,1\n").unwrap();
    let o = amorph(&[
        "sisso",
        csv.to_str().unwrap(),
        "--target",
        "y",
        "--units",
        units.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no unit for b"), "{}", stderr(&o));
}

#[test]
fn multi_task_fits_per_task_coefficients_from_a_task_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tasks.csv");
    // y = a_t·x1/x2² + b_t·exp(−x3) + c_t, tasks named in a text column, rows interleaved.
    let coef = [("bulk", 2.0, -0.5, 1.0), ("film", -1.0, 3.0, 0.2)];
    let mut text = String::from("phase,x1,x2,x3,y\n");
    for i in 0..60 {
        let x1 = 0.5 + (i * 37 % 61) as f64 / 25.0;
        let x2 = 0.8 + (i * 17 % 53) as f64 / 40.0;
        let x3 = -1.0 + (i * 29 % 47) as f64 / 15.0;
        let (name, a, b, c) = coef[(i * 5 + i / 4) % 2];
        let y = a * x1 / (x2 * x2) + b * (-x3).exp() + c;
        text.push_str(&format!("{name},{x1},{x2},{x3},{y}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let c = csv.to_str().unwrap();
    let args = [
        "sisso",
        c,
        "--target",
        "y",
        "--task",
        "phase",
        "--ops",
        "*,/,^2,exp-",
        "--complexity",
        "2",
        "--dim",
        "2",
        "--subs-sis",
        "30",
    ];
    let o = amorph(&[&args[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = &v["models"][1];
    assert!(m["coefficients"].is_null() && m["intercept"].is_null(), "{m}");
    assert!(m["rmse"].as_f64().unwrap() < 1e-10);
    let k = m["descriptors"]
        .as_array()
        .unwrap()
        .iter()
        .position(|d| d == "exp(-x3)")
        .unwrap();
    let tasks = m["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    for (t, (name, a, b, c0)) in tasks.iter().zip(coef) {
        assert_eq!(t["task"], name);
        let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
        assert!((t["coefficients"][k].as_f64().unwrap() - b).abs() < 1e-9, "{t}");
        assert!(
            (t["coefficients"][1 - k].as_f64().unwrap() - a).abs() < 1e-9,
            "{t}"
        );
        assert!((t["intercept"].as_f64().unwrap() - c0).abs() < 1e-9, "{t}");
        assert!(t["rmse"].as_f64().unwrap() < 1e-10 && t["max_ae"].as_f64().unwrap() < 1e-9);
    }
    // The text report names the tasks.
    let o = amorph(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("in 2 tasks") && text.contains("task film"),
        "{text}"
    );
    // Errors: a missing column, the target as task column, a task with too few rows.
    let o = amorph(&["sisso", c, "--target", "y", "--task", "nope"]);
    assert!(
        stderr(&o).contains("--task nope: no such column"),
        "{}",
        stderr(&o)
    );
    let o = amorph(&["sisso", c, "--target", "y", "--task", "y"]);
    assert!(stderr(&o).contains("is the target column"), "{}", stderr(&o));
    let o = amorph(&["sisso", c, "--target", "y", "--task", "x1", "--drop", "phase"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("need at least 3"), "{}", stderr(&o));
    let o = amorph(&[
        "sisso",
        c,
        "--target",
        "y",
        "--task",
        "phase",
        "--task-weighting",
        "odd",
    ]);
    assert!(
        stderr(&o).contains("expected per-task or per-sample"),
        "{}",
        stderr(&o)
    );
}
