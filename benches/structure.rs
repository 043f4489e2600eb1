//! What `amorph info` and `amorph rdf` do on the shipped example glass: parse the POSCAR, summarise,
//! compute the RDF.

use std::hint::black_box;
use std::path::Path;

use amorph::structure::{Rdf, io};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/Li2Si2O5_glass.vasp");
    let text = std::fs::read_to_string(&path).unwrap();
    let glass = io::read_structure(&path).unwrap();
    let mut g = c.benchmark_group("example_glass_216");
    g.bench_function("parse_poscar", |b| {
        b.iter(|| io::parse_structure(black_box(&text), io::Format::Poscar, &path).unwrap())
    });
    g.bench_function("summary", |b| {
        b.iter(|| {
            let s = black_box(&glass);
            (
                s.composition().reduced_formula(),
                s.density(),
                s.lattice().angles(),
            )
        })
    });
    g.bench_function("rdf_6A_60bins", |b| {
        b.iter(|| Rdf::new(black_box(&glass), 6.0, 60).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
