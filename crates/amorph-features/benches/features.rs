//! All Table-1 features (default `sendek` convention, union packing fractions by the lens method) of
//! a 100-atom and a 1 000-atom random LiAlO2 structure, and of 1 000 100-atom structures in one
//! batch. `validation/features_bench.py` times the Python reference on the same files.

use std::path::PathBuf;

use amorph_features::{FeatureSet, Options};
use amorph_structure::{Structure, io};
use criterion::{Criterion, criterion_group, criterion_main};

fn data(name: &str) -> Structure {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/features")
        .join(name);
    io::read_structure(&p).expect("bench structure in tests/data/features")
}

fn bench(c: &mut Criterion) {
    let set = FeatureSet::table1(Options::default()).expect("default options are valid");
    let small = data("bench_LiAlO2_100.vasp");
    let large = data("bench_LiAlO2_1000.vasp");
    let mut g = c.benchmark_group("features");
    g.sample_size(20);
    g.bench_function("table1_100_atoms", |b| {
        b.iter(|| set.compute(&small).expect("features"))
    });
    g.bench_function("table1_1000_atoms", |b| {
        b.iter(|| set.compute(&large).expect("features"))
    });
    // 1 000 distinct structures: the 100-atom one with every atom displaced a little.
    let batch: Vec<Structure> = (0..1000)
        .map(|k| {
            let mut s = small.clone();
            for (i, p) in s.positions_mut().iter_mut().enumerate() {
                let phase = (k * 131 + i * 17) as f64;
                p.x += 0.05 * phase.sin();
                p.y += 0.05 * (1.3 * phase).cos();
                p.z += 0.05 * (0.7 * phase).sin();
            }
            s
        })
        .collect();
    g.sample_size(10);
    g.bench_function("table1_batch_1000x100_atoms", |b| {
        b.iter(|| set.compute_batch(&batch).expect("features"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
