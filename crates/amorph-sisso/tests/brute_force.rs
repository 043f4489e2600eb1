//! With no operators, SISSO is an exhaustive ℓ0 search over subsets of the primaries: compare it with
//! an independent brute force (every subset, least squares by nalgebra's SVD) on tables of 42–45
//! features: same ranking, coefficients to 1e-10; and the same bits on 1 and 2 threads.

mod common;

use amorph_sisso::{Dataset, Fit, SissoParams};
use common::{Rng, names};
use nalgebra::{DMatrix, DVector};
use ndarray::{Array1, Array2};

struct Ref {
    rss: f64,
    idx: Vec<usize>,
    intercept: f64,
    coef: Vec<f64>,
}

fn brute(x: &Array2<f64>, y: &Array1<f64>, d: usize, top: usize) -> Vec<Ref> {
    let (n, p) = x.dim();
    let yv = DVector::from_iterator(n, y.iter().copied());
    let mut all = Vec::new();
    let mut idx: Vec<usize> = (0..d).collect();
    loop {
        let a = DMatrix::from_fn(n, d + 1, |i, j| if j == 0 { 1.0 } else { x[[i, idx[j - 1]]] });
        let beta = a.clone().svd(true, true).solve(&yv, 1e-14).unwrap();
        let r = &yv - &a * &beta;
        all.push(Ref {
            rss: r.norm_squared(),
            idx: idx.clone(),
            intercept: beta[0],
            coef: beta.iter().skip(1).copied().collect(),
        });
        // Next combination in lexicographic order.
        let mut k = d;
        while k > 0 && idx[k - 1] == p - d + k - 1 {
            k -= 1;
        }
        if k == 0 {
            break;
        }
        idx[k - 1] += 1;
        for t in k..d {
            idx[t] = idx[t - 1] + 1;
        }
    }
    all.sort_by(|a, b| a.rss.total_cmp(&b.rss));
    all.truncate(top);
    all
}

fn table(seed: u64, n: usize, p: usize, planted: &[(usize, f64)], noise: f64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = Rng(seed);
    // Correlated columns (a shared latent factor) make the ranking non-trivial.
    let latent: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let x = Array2::from_shape_fn((n, p), |(i, j)| {
        let w = (j % 5) as f64 * 0.2;
        w * latent[i] + rng.normal() + 0.1 * j as f64
    });
    let y = Array1::from_shape_fn(n, |i| {
        0.7 + planted.iter().map(|&(j, c)| c * x[[i, j]]).sum::<f64>() + noise * rng.normal()
    });
    (x, y)
}

fn column_of(names: &[String], formula: &str) -> usize {
    names.iter().position(|n| n == formula).unwrap()
}

fn compare(x: &Array2<f64>, y: &Array1<f64>, max_d: usize, top: usize) -> Fit {
    let p = x.ncols();
    let nm = names(p);
    let data = Dataset::new(x.clone(), y.clone(), nm.clone()).unwrap();
    let fit = SissoParams::new()
        .desc_dim(max_d)
        .subs_sis(p)
        .n_models(top)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    for d in 1..=max_d {
        let reference = brute(x, y, d, top);
        let ours = &fit.models[d - 1];
        assert_eq!(ours.len(), top);
        for (rank, (m, r)) in ours.iter().zip(&reference).enumerate() {
            let mut cols: Vec<(usize, f64)> = m
                .descriptors
                .iter()
                .zip(&m.coefficients)
                .map(|(ds, c)| (column_of(&nm, &ds.formula), *c))
                .collect();
            cols.sort_by_key(|c| c.0);
            let idx: Vec<usize> = cols.iter().map(|c| c.0).collect();
            assert_eq!(idx, r.idx, "dim {d} rank {rank}");
            for ((_, c), rc) in cols.iter().zip(&r.coef) {
                assert!(
                    (c - rc).abs() <= 1e-10 * rc.abs().max(1.0),
                    "dim {d} rank {rank}: {c} vs {rc}"
                );
            }
            assert!((m.intercept - r.intercept).abs() <= 1e-10 * r.intercept.abs().max(1.0));
            let rmse = (r.rss / x.nrows() as f64).sqrt();
            assert!(
                (m.rmse - rmse).abs() <= 1e-10 * rmse.max(1e-3),
                "{} vs {rmse}",
                m.rmse
            );
        }
    }
    fit
}

#[test]
fn no_operators_equals_brute_force_on_42_features_with_a_planted_model() {
    let (x, y) = table(1, 80, 42, &[(3, 1.5), (17, -0.8), (30, 0.4)], 0.3);
    let fit = compare(&x, &y, 3, 12);
    let best: Vec<&str> = fit.models[2][0]
        .descriptors
        .iter()
        .map(|d| d.formula.as_str())
        .collect();
    let mut best = best;
    best.sort();
    assert_eq!(best, ["x18", "x31", "x4"]);
}

#[test]
fn no_operators_equals_brute_force_on_45_random_features_to_dimension_4() {
    let (x, y) = table(7, 60, 45, &[], 1.0);
    compare(&x, &y, 4, 8);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (x, y) = table(3, 70, 43, &[(0, 1.0), (5, 1.0)], 0.5);
    let data = Dataset::new(x, y, names(43)).unwrap();
    let params = SissoParams::new()
        .desc_dim(3)
        .subs_sis(10)
        .n_models(20)
        .check()
        .unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| params.fit(&data).unwrap())
    };
    let (a, b, c) = (run(1), run(2), run(3));
    assert_eq!(a, b);
    assert_eq!(a, c);
}
