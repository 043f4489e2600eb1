//! Multi-task SISSO: compared with an independent NumPy brute force of SISSO's multi-task SIS and ℓ0
//! (`validation/sisso_multitask.py`, `tests/data/multitask.json`), a planted problem with one
//! descriptor and different coefficients per task, one task equal to the single-task fit, and
//! independence of the thread count and of the row order.

mod common;

use amorph_sisso::{Dataset, Error, Fit, Model, Op, SissoParams, TaskWeighting, Unit};
use common::Rng;
use ndarray::{Array1, Array2};
use serde_json::Value;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/multitask.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn dataset(t: &Value) -> (Dataset, Vec<String>) {
    let names: Vec<String> = t["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let rows = t["x"].as_array().unwrap();
    let x = Array2::from_shape_fn((rows.len(), names.len()), |(i, j)| rows[i][j].as_f64().unwrap());
    let y: Array1<f64> = t["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let labels: Vec<String> = t["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    (Dataset::new(x, y, names).unwrap(), labels)
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_f64().unwrap())
        .collect()
}

#[test]
fn matches_the_numpy_brute_force() {
    let r = reference();
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (data, labels) = dataset(&r["tables"][case["table"].as_str().unwrap()]);
        let data = data.with_tasks(&labels).unwrap();
        assert!(data.tasks().len() >= 2);
        let weighting = match case["weighting"].as_str().unwrap() {
            "per_task" => TaskWeighting::PerTask,
            _ => TaskWeighting::PerSample,
        };
        let fit = SissoParams::new()
            .operators(Op::parse_list(case["ops"].as_str().unwrap()).unwrap())
            .max_complexity(case["complexity"].as_u64().unwrap() as u8)
            .desc_dim(case["desc_dim"].as_u64().unwrap() as usize)
            .subs_sis(case["subs_sis"].as_u64().unwrap() as usize)
            .n_models(5)
            .task_weighting(weighting)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let dims = case["dims"].as_array().unwrap();
        assert_eq!(fit.models.len(), dims.len(), "{name}");
        for (k, dref) in dims.iter().enumerate() {
            // SIS: the same features picked, in the same order, with SISSO's multi-task score.
            let sub = dref["subspace"].as_array().unwrap();
            let got = &fit.sis_subspaces[k];
            assert_eq!(got.len(), sub.len(), "{name} d={}", k + 1);
            for ((f, s), want) in got.iter().zip(sub) {
                assert_eq!(f, want["feature"].as_str().unwrap(), "{name} d={}", k + 1);
                assert!(
                    close(*s, want["score"].as_f64().unwrap(), 1e-10),
                    "{name} {f}: {s}"
                );
            }
            // ℓ0: the same ranked models, per-task coefficients to 1e-8.
            let models = dref["models"].as_array().unwrap();
            assert_eq!(fit.models[k].len(), models.len(), "{name} d={}", k + 1);
            for (m, want) in fit.models[k].iter().zip(models) {
                let want_desc: Vec<&str> = want["descriptors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_str().unwrap())
                    .collect();
                let got_desc: Vec<&str> = m.descriptors.iter().map(|d| d.formula.as_str()).collect();
                assert_eq!(got_desc, want_desc, "{name} d={}", k + 1);
                assert!(
                    close(m.rmse, want["rmse"].as_f64().unwrap(), 1e-8),
                    "{name}: {}",
                    m.rmse
                );
                assert!(close(m.max_ae, want["max_ae"].as_f64().unwrap(), 1e-8), "{name}");
                assert!(m.coefficients.is_empty());
                let tasks = want["tasks"].as_array().unwrap();
                assert_eq!(m.tasks.len(), tasks.len());
                for (t, tw) in m.tasks.iter().zip(tasks) {
                    assert_eq!(t.task, tw["task"].as_str().unwrap());
                    assert!(
                        close(t.intercept, tw["intercept"].as_f64().unwrap(), 1e-8),
                        "{name}"
                    );
                    assert!(close(t.rmse, tw["rmse"].as_f64().unwrap(), 1e-8), "{name}");
                    assert!(close(t.max_ae, tw["max_ae"].as_f64().unwrap(), 1e-8), "{name}");
                    let c = floats(&tw["coefficients"]);
                    assert_eq!(t.coefficients.len(), c.len());
                    for (a, b) in t.coefficients.iter().zip(&c) {
                        assert!(close(*a, *b, 1e-8), "{name} {}: {a} vs {b}", t.task);
                    }
                }
            }
        }
    }
}

#[test]
fn one_task_is_the_single_task_fit() {
    let r = reference();
    let (data, _) = dataset(&r["tables"]["unary"]);
    let one = vec!["all"; data.nsamples()];
    for ops in ["none", "^2,^-1,sqrt,*"] {
        let params = SissoParams::new()
            .operators(Op::parse_list(ops).unwrap())
            .max_complexity(if ops == "none" { 0 } else { 2 })
            .desc_dim(3)
            .subs_sis(6)
            .n_models(8)
            .check()
            .unwrap();
        let plain = params.fit(&data).unwrap();
        let tasked = params.fit(&data.clone().with_tasks(&one).unwrap()).unwrap();
        assert_eq!(plain, tasked, "{ops}");
        assert!(plain.models.iter().flatten().all(|m| m.tasks.is_empty()));
    }
}

/// Three tasks of a planted model `y = a_t x1/x2² + b_t exp(−x3) + c_t` (units: x1 eV, x2 Å).
fn planted(seed: u64, n: usize) -> (Dataset, Vec<String>, Array2<f64>) {
    let mut rng = Rng(seed);
    let x = Array2::from_shape_fn((n, 4), |_| rng.range(0.5, 2.5));
    let coef = [(2.0, -0.5, 1.0), (-1.0, 3.0, 0.2), (0.5, 1.5, -2.0)];
    let names = ["melt", "glass", "crystal"];
    let labels: Vec<String> = (0..n).map(|i| names[(i * 7 + i / 3) % 3].to_string()).collect();
    let y = Array1::from_shape_fn(n, |i| {
        let t = names.iter().position(|s| *s == labels[i]).unwrap();
        let (a, b, c) = coef[t];
        a * x[[i, 0]] / (x[[i, 1]] * x[[i, 1]]) + b * (-x[[i, 2]]).exp() + c
    });
    let data = Dataset::new(
        x.clone(),
        y,
        vec!["x1".into(), "x2".into(), "x3".into(), "x4".into()],
    )
    .unwrap()
    .with_units(vec![
        Unit::parse("eV").unwrap(),
        Unit::parse("Å").unwrap(),
        Unit::dimensionless(),
        Unit::dimensionless(),
    ])
    .unwrap()
    .with_target("E", Unit::parse("eV Å^-2").unwrap())
    .with_tasks(&labels)
    .unwrap();
    (data, labels, x)
}

fn planted_fit(data: &Dataset) -> Fit {
    SissoParams::new()
        .operators(Op::parse_list("*,/,^2,exp-").unwrap())
        .max_complexity(2)
        .desc_dim(2)
        .subs_sis(30)
        .n_models(3)
        .check()
        .unwrap()
        .fit(data)
        .unwrap()
}

#[test]
fn recovers_a_planted_multitask_model() {
    let (data, labels, x) = planted(3, 90);
    assert_eq!(data.tasks(), ["melt", "glass", "crystal"]);
    let fit = planted_fit(&data);
    let best = fit.best(2).unwrap();
    let formulas: Vec<&str> = best.descriptors.iter().map(|d| d.formula.as_str()).collect();
    let k_exp = formulas.iter().position(|f| *f == "exp(-x3)").expect("exp(-x3)");
    let k_q = 1 - k_exp;
    assert!(
        ["(x1/x2^2)", "((x1/x2)/x2)"].contains(&formulas[k_q]),
        "{formulas:?}"
    );
    let want_coef = [
        ("melt", 2.0, -0.5, 1.0),
        ("glass", -1.0, 3.0, 0.2),
        ("crystal", 0.5, 1.5, -2.0),
    ];
    assert_eq!(best.tasks.len(), 3);
    for (t, (name, a, b, c)) in best.tasks.iter().zip(want_coef) {
        assert_eq!(t.task, name);
        assert!((t.coefficients[k_q] - a).abs() < 1e-9, "{t:?}");
        assert!((t.coefficients[k_exp] - b).abs() < 1e-9, "{t:?}");
        assert!((t.intercept - c).abs() < 1e-9, "{t:?}");
        assert!(t.rmse < 1e-10 && t.max_ae < 1e-9);
    }
    assert!(best.rmse < 1e-10);
    // The pooled single-task fit over the same descriptors cannot do this.
    let pooled = SissoParams::new()
        .operators(Op::parse_list("*,/,^2,exp-").unwrap())
        .max_complexity(2)
        .desc_dim(2)
        .subs_sis(30)
        .check()
        .unwrap()
        .fit(&data.clone().with_tasks(&vec!["one"; data.nsamples()]).unwrap())
        .unwrap();
    assert!(pooled.best(2).unwrap().rmse > 0.1);
    // Predictions need each row's task, and reproduce the training targets.
    let rows: Vec<usize> = (0..4).map(|i| i * 11).collect();
    let xr = x.select(ndarray::Axis(0), &rows);
    let tl: Vec<&str> = rows.iter().map(|&i| labels[i].as_str()).collect();
    let p = best.predict_tasks(xr.view(), &tl).unwrap();
    for (k, &i) in rows.iter().enumerate() {
        let t = best.tasks.iter().find(|t| t.task == labels[i]).unwrap();
        let d: Vec<f64> = best
            .descriptors
            .iter()
            .map(|d| d.expr.eval(xr.view())[k])
            .collect();
        let want = t.intercept + t.coefficients[0] * d[0] + t.coefficients[1] * d[1];
        assert!((p[k] - want).abs() < 1e-12);
        let (_, a, b, c) = want_coef.iter().find(|w| w.0 == labels[i]).unwrap();
        let truth = a * xr[[k, 0]] / (xr[[k, 1]] * xr[[k, 1]]) + b * (-xr[[k, 2]]).exp() + c;
        assert!((p[k] - truth).abs() < 1e-9);
    }
    assert!(matches!(best.predict(xr.view()), Err(Error::InvalidInput(_))));
    assert!(matches!(
        best.predict_tasks(xr.view(), &["melt", "melt", "liquid", "melt"]),
        Err(Error::InvalidInput(_))
    ));
    assert!(best.formula().starts_with("[melt] E = "));
    // serde: the per-task fits round-trip.
    let back: Model = serde_json::from_str(&serde_json::to_string(best).unwrap()).unwrap();
    assert_eq!(&back, best);
}

#[test]
fn independent_of_threads_and_of_row_order() {
    let (data, _, x) = planted(5, 60);
    // Noise, so that the ranking is not a set of exact ties.
    let mut rng = Rng(9);
    let labels: Vec<String> = data
        .task_of_rows()
        .iter()
        .map(|&t| data.tasks()[t].clone())
        .collect();
    let y: Array1<f64> = (0..60)
        .map(|i| {
            let v = x.row(i);
            (v[0] / v[1]).powi(2) * (data.task_of_rows()[i] as f64 - 1.0) + v[3] + 0.05 * rng.normal()
        })
        .collect();
    let names: Vec<String> = data.names().to_vec();
    let noisy = Dataset::new(x.clone(), y.clone(), names.clone())
        .unwrap()
        .with_tasks(&labels)
        .unwrap();
    let params = SissoParams::new()
        .operators(Op::parse_list("*,/,^2,exp-,sqrt").unwrap())
        .max_complexity(2)
        .desc_dim(3)
        .subs_sis(15)
        .n_models(10)
        .task_weighting(TaskWeighting::PerSample)
        .check()
        .unwrap();
    let run = |threads: usize, d: &Dataset| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| params.fit(d).unwrap())
    };
    let one = run(1, &noisy);
    assert_eq!(one, run(3, &noisy));
    // The same table, rows reversed: the same models (equivalent forms such as x4/(x2·x3) and
    // (x4/x2)/x3 may swap, as rounding differs: compared by value).
    let rev: Vec<usize> = (0..60).rev().collect();
    let xr = x.select(ndarray::Axis(0), &rev);
    let yr: Array1<f64> = rev.iter().map(|&i| y[i]).collect();
    let lr: Vec<String> = rev.iter().map(|&i| labels[i].clone()).collect();
    let reversed = Dataset::new(xr, yr, names).unwrap().with_tasks(&lr).unwrap();
    let other = run(2, &reversed);
    for (a, b) in one.models.iter().flatten().zip(other.models.iter().flatten()) {
        for (da, db) in a.descriptors.iter().zip(&b.descriptors) {
            let (va, vb) = (da.expr.eval(x.view()), db.expr.eval(x.view()));
            assert!(
                va.iter().zip(&vb).all(|(u, v)| close(*u, *v, 1e-12)),
                "{} vs {}",
                da.formula,
                db.formula
            );
        }
        assert!(close(a.rmse, b.rmse, 1e-9));
        // Task order is that of first appearance, which reversal changes: match by label.
        for t in &a.tasks {
            let u = b.tasks.iter().find(|u| u.task == t.task).unwrap();
            assert!(close(t.intercept, u.intercept, 1e-8));
            for (c, e) in t.coefficients.iter().zip(&u.coefficients) {
                assert!(close(*c, *e, 1e-8));
            }
        }
    }
}

#[test]
fn bad_task_assignments_are_typed_errors() {
    let (data, labels, _) = planted(3, 30);
    assert!(matches!(
        data.clone().with_tasks(&labels[..29]),
        Err(Error::InvalidInput(_))
    ));
    let mut few = labels.clone();
    few[0] = "lonely".into();
    few[1] = "lonely".into();
    assert!(matches!(data.with_tasks(&few), Err(Error::TooFew(_))));
}
