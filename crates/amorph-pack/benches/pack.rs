//! Packing Li2Si2O5 at 2.3 g/cm³: 999 and 9 999 atoms, tolerance 2.0 and 2.2 Å (the requests that
//! `validation/packmol_compare.py --bench` also gives PACKMOL, side by side).

use amorph_pack::{PackRequest, pack};
use criterion::{Criterion, criterion_group, criterion_main};

fn request(atoms: usize, tolerance: f64) -> PackRequest {
    PackRequest::new("Li2Si2O5".parse().expect("formula"))
        .atoms(atoms)
        .density(2.3)
        .tolerance(tolerance)
        .seed(1)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pack_Li2Si2O5_2.3");
    // Whole formula units nearest 1 000 and 10 000 atoms (9 atoms each).
    for atoms in [999, 9_999] {
        for tolerance in [2.0, 2.2] {
            let r = request(atoms, tolerance);
            if atoms > 5_000 {
                g.sample_size(10);
            }
            g.bench_function(format!("{atoms}_atoms_{tolerance:.1}A"), |b| {
                b.iter(|| pack(&r).expect("packs"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
