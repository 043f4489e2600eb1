//! E(V) and P(V) fits on the reference data of `tests/data/eos/` (what `docs/benchmarks.md` compares
//! with pymatgen's `EOS(name).fit`).

use std::hint::black_box;

use amorph_eos::{EnergyModel, PressureModel, fit_energy, fit_pressure};
use criterion::{Criterion, criterion_group, criterion_main};

fn table(name: &str) -> (Vec<f64>, Vec<f64>) {
    let path = format!("{}/../../tests/data/eos/{name}.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("reference table");
    text.lines()
        .skip(1)
        .map(|l| {
            let mut it = l.split(',').map(|x| x.trim().parse::<f64>().expect("number"));
            (it.next().expect("volume"), it.next().expect("value"))
        })
        .unzip()
}

fn bench(c: &mut Criterion) {
    let (v, e) = table("noisy_liquid");
    let mut g = c.benchmark_group("eos_fit_noisy_liquid");
    for model in [
        EnergyModel::BirchMurnaghan,
        EnergyModel::Vinet,
        EnergyModel::Murnaghan,
        EnergyModel::BirchMurnaghan4,
        EnergyModel::NumericalEos,
    ] {
        g.bench_function(model.name(), |b| {
            b.iter(|| fit_energy(model, black_box(&v), black_box(&e)).unwrap())
        });
    }
    g.finish();
    let (v, p) = table("pv_six_noisy");
    let mut g = c.benchmark_group("eos_fit_pv_six_noisy");
    g.bench_function("birch_murnaghan", |b| {
        b.iter(|| fit_pressure(PressureModel::BirchMurnaghan, black_box(&v), black_box(&p)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
