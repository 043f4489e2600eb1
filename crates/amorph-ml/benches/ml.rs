//! Fit time of 100 trees (random forest and gradient boosting, exact and hist) at depth 4 and 8 on
//! 10 000 × 45 and 1 000 × 45 tables (the descriptor table's width: 43 descriptors plus
//! temperature, and a spare).

use amorph_ml::{Fit, GbtParams, RandomForestParams, TreeMethod};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2};

/// Deterministic pseudo-random table with a Friedman-like target.
fn table(n: usize, d: usize) -> (Array2<f64>, Array1<f64>) {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = Array2::from_shape_fn((n, d), |_| next());
    let y = x
        .rows()
        .into_iter()
        .map(|r| {
            10.0 * (std::f64::consts::PI * r[0] * r[1]).sin()
                + 20.0 * (r[2] - 0.5).powi(2)
                + 10.0 * r[3]
                + 5.0 * r[4]
        })
        .collect();
    (x, y)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fit_100_trees");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let (x, y) = table(n, 45);
        for depth in [4usize, 8] {
            let rf = RandomForestParams::new()
                .n_estimators(100)
                .max_depth(Some(depth))
                .seed(1)
                .check()
                .expect("valid");
            g.bench_function(format!("rf/{n}x45/depth{depth}"), |b| {
                b.iter(|| rf.fit(x.view(), y.view()).expect("fit"))
            });
            for (name, method) in [("exact", TreeMethod::Exact), ("hist", TreeMethod::Hist)] {
                let gbt = GbtParams::new()
                    .n_estimators(100)
                    .max_depth(depth)
                    .learning_rate(0.1)
                    .reg_alpha(0.8)
                    .tree_method(method)
                    .check()
                    .expect("valid");
                g.bench_function(format!("gbt_{name}/{n}x45/depth{depth}"), |b| {
                    b.iter(|| gbt.fit(x.view(), y.view()).expect("fit"))
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
