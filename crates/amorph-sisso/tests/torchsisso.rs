//! Against TorchSISSO (PyPI `TorchSisso` 0.1.8; `validation/sisso_torchsisso.py`) on the options it
//! shares with us: no units, no value bounds, its feature space of `n_expansion − 1` operators, `k`
//! features screened per dimension. Same best model at every dimension (up to equivalent forms:
//! descriptors are matched by their values, up to sign), coefficients and intercept to 1e-8.

use std::path::PathBuf;

use amorph_sisso::{Dataset, Op, SissoParams};
use ndarray::{Array1, Array2};
use serde_json::Value;

fn load(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/sisso/torchsisso")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn op(name: &str) -> Op {
    match name {
        "ln" => Op::Log,
        "pow(2)" => Op::Square,
        "pow(3)" => Op::Cube,
        "exp(-1)" => Op::ExpNeg,
        other => Op::parse(other).unwrap(),
    }
}

fn compare(case: &str) {
    let r = load(case);
    let names: Vec<String> = r["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let rows: Vec<Vec<f64>> = r["x"].as_array().unwrap().iter().map(floats).collect();
    let x = Array2::from_shape_fn((rows.len(), names.len()), |(i, j)| rows[i][j]);
    let y = Array1::from(floats(&r["y"]));
    let ops: Vec<Op> = r["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| op(o.as_str().unwrap()))
        .collect();
    let complexity = r["n_expansion"].as_u64().unwrap() as u8 - 1;
    let dim = r["n_term"].as_u64().unwrap() as usize;
    let data = Dataset::new(x.clone(), y, names).unwrap();
    let fit = SissoParams::new()
        .operators(ops)
        .max_complexity(complexity)
        .fmax_min(0.0)
        .fmax_max(f64::MAX)
        .desc_dim(dim)
        .subs_sis(r["k"].as_u64().unwrap() as usize)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    for m in r["models"].as_array().unwrap() {
        let d = m["dim"].as_u64().unwrap() as usize;
        let ours = fit.best(d).unwrap();
        let values: Vec<Vec<f64>> = m["values"].as_array().unwrap().iter().map(floats).collect();
        let coefs = floats(&m["coefficients"]);
        for (k, tname) in m["names"].as_array().unwrap().iter().enumerate() {
            let t: Vec<f64> = values.iter().map(|row| row[k]).collect();
            let found = ours
                .descriptors
                .iter()
                .zip(&ours.coefficients)
                .find_map(|(ds, c)| {
                    let v = ds.expr.eval(x.view());
                    [1.0, -1.0].into_iter().find_map(|s| {
                        v.iter()
                            .zip(&t)
                            .all(|(a, b)| (s * a - b).abs() <= 1e-12 * b.abs().max(1.0))
                            .then_some(s * c)
                    })
                });
            let c = found.unwrap_or_else(|| panic!("{case} dim {d}: TorchSISSO's {tname} not in\n{ours}"));
            assert!(
                (c - coefs[k]).abs() <= 1e-8 * coefs[k].abs().max(1.0),
                "{case} dim {d} {tname}: {c} vs {}",
                coefs[k]
            );
        }
        let c0 = m["intercept"].as_f64().unwrap();
        assert!(
            (ours.intercept - c0).abs() <= 1e-8 * c0.abs().max(1.0),
            "{case} dim {d}: {} vs {c0}",
            ours.intercept
        );
        let rmse = m["rmse"].as_f64().unwrap();
        assert!((ours.rmse - rmse).abs() <= 1e-8 * rmse, "{case} dim {d}");
    }
}

#[test]
fn same_models_as_torchsisso_on_primaries_only() {
    compare("raw.json");
}

#[test]
fn same_models_as_torchsisso_with_one_round_of_operators() {
    compare("rung1.json");
}
