//! Coulomb solvers on the Pedone Li2Si2O5 glass: 216 atoms (tests/data/glasses/Li2Si2O5.vasp) and
//! its 4×4×3 replica (10 368 atoms), one force evaluation with the neighbour list already built (what
//! LAMMPS reports as Pair + Kspace time per step). `validation/bench_coulomb.py` times LAMMPS on the
//! same structures and settings and prints the ratios recorded in docs/benchmarks.md.
//!
//!     cargo bench -p amorph-md --bench coulomb
//!     RAYON_NUM_THREADS=1 cargo bench -p amorph-md --bench coulomb     # one thread

use std::hint::black_box;
use std::time::Duration;

use amorph_md::coulomb::{Charges, Dsf, Ewald, Pppm};
use amorph_md::{Calculator, Configuration, Evaluation};
use amorph_structure::io::read_structure;
use amorph_structure::{Element, Lattice};
use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::Vector3;

struct System {
    lattice: Lattice,
    species: Vec<Element>,
    positions: Vec<Vector3<f64>>,
}

/// The glass, replicated `n` times along a, b, c (images in a, b, c loop order, atoms in file order
/// inside each image — as `validation/bench_coulomb.py` writes it).
fn glass(n: [usize; 3]) -> System {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/glasses/Li2Si2O5.vasp"
    );
    let s = read_structure(path).expect("tests/data/glasses/Li2Si2O5.vasp");
    let m = s.lattice().matrix();
    let lattice = Lattice::new(nalgebra::Matrix3::from_rows(&[
        m.row(0) * n[0] as f64,
        m.row(1) * n[1] as f64,
        m.row(2) * n[2] as f64,
    ]))
    .expect("supercell");
    let mut species = Vec::new();
    let mut positions = Vec::new();
    for i in 0..n[0] {
        for j in 0..n[1] {
            for k in 0..n[2] {
                let t = s
                    .lattice()
                    .to_cartesian(&Vector3::new(i as f64, j as f64, k as f64));
                for (e, p) in s.species().iter().zip(s.positions()) {
                    species.push(*e);
                    positions.push(p + t);
                }
            }
        }
    }
    System {
        lattice,
        species,
        positions,
    }
}

fn bench(c: &mut Criterion) {
    let charges = Charges::from_symbols([("Li", 0.6), ("Si", 2.4), ("O", -1.2)]).expect("charges");
    for (label, reps) in [("216", [1, 1, 1]), ("1728", [2, 2, 2]), ("10368", [4, 4, 3])] {
        let s = glass(reps);
        let config = Configuration {
            lattice: &s.lattice,
            species: &s.species,
            positions: &s.positions,
        };
        let mut group = c.benchmark_group(format!("coulomb_{label}"));
        if label != "216" {
            group.sample_size(10).measurement_time(Duration::from_secs(8));
        }
        let mut calcs: Vec<(&str, Box<dyn Calculator>)> = vec![
            (
                "dsf_0.25_10",
                Box::new(
                    Dsf::new(charges.clone(), 0.25, 10.0)
                        .expect("dsf")
                        .lammps_compatible(),
                ),
            ),
            (
                "pppm_1e-5_rc10",
                Box::new(Pppm::new(charges.clone(), 10.0, 1e-5).expect("pppm")),
            ),
            (
                "pppm_1e-5_rc10_table",
                Box::new(
                    Pppm::new(charges.clone(), 10.0, 1e-5)
                        .expect("pppm")
                        .tabulated(true),
                ),
            ),
        ];
        calcs.push((
            "ewald_1e-5_rc10",
            Box::new(Ewald::new(charges.clone(), 10.0, 1e-5).expect("ewald")),
        ));
        for (name, mut calc) in calcs {
            let mut out = Evaluation::zeros(s.positions.len());
            calc.compute(&config, &mut out).expect("first evaluation");
            group.bench_function(name, |b| {
                b.iter(|| {
                    out.reset(s.positions.len());
                    calc.compute(black_box(&config), &mut out).expect("evaluation");
                    black_box(out.energy)
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
