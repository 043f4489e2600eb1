//! Planted formulas with noise are recovered with the operators on, at dimensions 1, 2 and 3.

mod common;

use amorph_sisso::{Dataset, Fit, Op, SissoParams, Stage, Unit};
use common::Rng;
use ndarray::{Array1, Array2};

const P: usize = 6;

/// x1 (eV), x2 (Å), x3 (dimensionless), x4 (Å), x5 (eV), x6 (dimensionless), and the true terms.
fn primaries(seed: u64, n: usize) -> Array2<f64> {
    let mut rng = Rng(seed);
    Array2::from_shape_fn((n, P), |(_, j)| match j {
        0 => rng.range(0.5, 3.0),
        1 => rng.range(0.8, 2.0),
        2 => rng.range(-1.0, 2.0),
        3 => rng.range(1.0, 4.0),
        4 => rng.range(0.2, 1.5),
        _ => rng.range(0.0, 1.0),
    })
}

fn units() -> Vec<Unit> {
    ["eV", "Å", "1", "Å", "eV", "1"]
        .iter()
        .map(|u| Unit::parse(u).unwrap())
        .collect()
}

fn names() -> Vec<String> {
    (1..=P).map(|j| format!("x{j}")).collect()
}

fn fit(x: Array2<f64>, y: Array1<f64>, dim: usize, complexity: u8) -> Fit {
    let data = Dataset::new(x, y, names())
        .unwrap()
        .with_units(units())
        .unwrap()
        .with_target("y", Unit::parse("eV/Å^2").unwrap());
    SissoParams::new()
        .operators(Op::parse_list("+,-,*,/,^2,^3,^-1,exp,exp-,log,sqrt").unwrap())
        .max_complexity(complexity)
        .desc_dim(dim)
        .subs_sis(50)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap()
}

/// |Pearson r| between a descriptor's values and a reference term.
fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    (ab / (aa * bb).sqrt()).abs()
}

/// Checks that the best `terms.len()`-dimensional model has one descriptor equal (up to
/// equivalent forms) to each term, with the coefficient given, within `tol`.
/// A true term of the formula (a function of a row of primaries) and its coefficient.
type Term = (fn(&[f64]) -> f64, f64);

fn check(fit: &Fit, x: &Array2<f64>, terms: &[Term], intercept: f64, tol: f64) {
    let m = fit.best(terms.len()).unwrap();
    for (term, coef) in terms {
        let t: Vec<f64> = x
            .rows()
            .into_iter()
            .map(|r| term(r.as_slice().unwrap()))
            .collect();
        let k = m
            .descriptors
            .iter()
            .position(|d| {
                let v = d.expr.eval(x.view());
                corr(&v, &t) > 1.0 - 1e-12
                    && v.iter()
                        .zip(&t)
                        .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
            })
            .unwrap_or_else(|| panic!("term with coefficient {coef} not found in\n{m}"));
        assert!((m.coefficients[k] - coef).abs() < tol * coef.abs(), "{m}");
    }
    assert!((m.intercept - intercept).abs() < tol.max(0.02), "{m}");
}

fn t1(r: &[f64]) -> f64 {
    r[0] / (r[1] * r[1])
}
fn t2(r: &[f64]) -> f64 {
    (-r[2]).exp()
}
fn t3(r: &[f64]) -> f64 {
    r[4] * r[5]
}

#[test]
fn recovers_a_one_term_formula() {
    let x = primaries(11, 120);
    let mut rng = Rng(99);
    let y = Array1::from_shape_fn(120, |i| {
        1.5 * t1(x.row(i).as_slice().unwrap()) + 0.2 + 0.01 * rng.normal()
    });
    let f = fit(x.clone(), y, 1, 2);
    check(&f, &x, &[(t1, 1.5)], 0.2, 0.01);
    assert!(f.best(1).unwrap().descriptors[0].unit == "eV Å^-2");
}

#[test]
fn recovers_the_issue_formula_at_dimension_2() {
    // y = 2 x1/x2² − 0.5 exp(−x3) + 1, noise σ = 0.01.
    let x = primaries(5, 150);
    let mut rng = Rng(17);
    let y = Array1::from_shape_fn(150, |i| {
        let r = x.row(i);
        let r = r.as_slice().unwrap();
        2.0 * t1(r) - 0.5 * t2(r) + 1.0 + 0.01 * rng.normal()
    });
    let f = fit(x.clone(), y.clone(), 2, 2);
    check(&f, &x, &[(t1, 2.0), (t2, -0.5)], 1.0, 0.02);
    // The same fit with a progress callback sees every stage, in order, and gives the same result.
    let data = Dataset::new(x.clone(), y, names())
        .unwrap()
        .with_units(units())
        .unwrap()
        .with_target("y", Unit::parse("eV/Å^2").unwrap());
    let mut stages = Vec::new();
    let again = SissoParams::new()
        .operators(Op::parse_list("+,-,*,/,^2,^3,^-1,exp,exp-,log,sqrt").unwrap())
        .max_complexity(2)
        .desc_dim(2)
        .subs_sis(50)
        .check()
        .unwrap()
        .fit_with_progress(&data, &mut |s| stages.push(s))
        .unwrap();
    assert_eq!(again, f);
    assert_eq!(
        stages,
        [
            Stage::Construction { max_complexity: 2 },
            Stage::Screening { dim: 1 },
            Stage::Search { dim: 1, features: 50 },
            Stage::Screening { dim: 2 },
            Stage::Search {
                dim: 2,
                features: 100
            },
        ]
    );
    // The residual RMSE is the noise level.
    let m = f.best(2).unwrap();
    assert!(m.rmse < 0.012, "{m}");
    assert!(f.best(1).unwrap().rmse > m.rmse);
}

#[test]
fn recovers_a_three_term_formula() {
    let x = primaries(23, 200);
    let mut rng = Rng(3);
    let y = Array1::from_shape_fn(200, |i| {
        let r = x.row(i);
        let r = r.as_slice().unwrap();
        2.0 * t1(r) - 0.5 * t2(r) + 0.8 * t3(r) + 1.0 + 0.005 * rng.normal()
    });
    let f = fit(x.clone(), y, 3, 2);
    check(&f, &x, &[(t1, 2.0), (t2, -0.5), (t3, 0.8)], 1.0, 0.03);
}

#[test]
fn predicts_new_data_and_round_trips_through_json() {
    let x = primaries(5, 150);
    let y = Array1::from_shape_fn(150, |i| {
        let r = x.row(i);
        let r = r.as_slice().unwrap();
        2.0 * t1(r) - 0.5 * t2(r) + 1.0
    });
    let f = fit(x, y, 2, 2);
    let m = f.best(2).unwrap();
    let new = primaries(6, 10);
    let p = m.predict(new.view()).unwrap();
    for (i, v) in p.iter().enumerate() {
        let r = new.row(i);
        let r = r.as_slice().unwrap();
        assert!((v - (2.0 * t1(r) - 0.5 * t2(r) + 1.0)).abs() < 1e-9);
    }
    let dir = std::env::temp_dir().join(format!("amorph-sisso-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.json");
    m.save_json(&path).unwrap();
    let back = amorph_sisso::Model::load_json(&path).unwrap();
    assert_eq!(&back, m);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(m.predict(new.slice(ndarray::s![.., ..3]).view()).is_err());
    let text = m.to_string();
    assert!(text.contains("RMSE") && text.contains("eV Å^-2"), "{text}");
}
