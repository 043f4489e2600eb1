//! SISSO on the bench table (43 features, 300 samples, `tests/data/sisso/bench_43x300.csv`, written by
//! `validation/sisso_torchsisso.py`): the no-operator mode of the paper, the TorchSISSO side-by-side
//! cases, and complexity 1–2 with subs_sis 1000. `docs/benchmarks.md` has the numbers.

use std::path::PathBuf;

use amorph_sisso::{Dataset, Op, SissoParams};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2};

fn table() -> Dataset {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sisso/bench_43x300.csv");
    let text = std::fs::read_to_string(p).expect("bench table");
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    let x = Array2::from_shape_fn((rows.len(), 43), |(i, j)| rows[i][j + 1]);
    let y = Array1::from_shape_fn(rows.len(), |i| rows[i][0]);
    Dataset::new(x, y, header[1..].to_vec()).unwrap()
}

fn bench(c: &mut Criterion) {
    let data = table();
    let ops = Op::PAPER;
    let mut g = c.benchmark_group("sisso_43x300");
    g.sample_size(10);
    let cases: [(&str, u8, usize, usize); 7] = [
        ("no_ops_dim4_sis10", 0, 4, 10),
        ("no_ops_dim4_exhaustive", 0, 4, 43),
        ("c1_dim2_sis300", 1, 2, 300),
        ("c1_dim3_sis20", 1, 3, 20),
        ("c1_dim4_sis10", 1, 4, 10),
        ("c1_dim2_sis1000", 1, 2, 1000),
        ("c2_dim2_sis1000", 2, 2, 1000),
    ];
    for (name, complexity, dim, sis) in cases {
        let params = SissoParams::new()
            .operators(if complexity == 0 { Vec::new() } else { ops.to_vec() })
            .max_complexity(complexity)
            .desc_dim(dim)
            .subs_sis(sis)
            .check()
            .unwrap();
        g.bench_function(name, |b| b.iter(|| params.fit(&data).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
