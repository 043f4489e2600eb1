//! The LAMMPS `in.melt` benchmark in amorph: 32 000 Lennard-Jones atoms (fcc at reduced density
//! 0.8442, T* = 3.0, cutoff 2.5σ, skin 0.3σ, NVE, dt = 0.005τ), in argon units (σ = 3.405 Å,
//! ε = 0.0103 eV, m = 39.948 amu). `validation/bench_md.py` runs LAMMPS on the same problem.
//!
//! Two neighbour-list rules: `checked` rebuilds when an atom has moved half the skin (LAMMPS's
//! default `neigh_modify every 1 delay 0 check yes`, and amorph's), `every20` rebuilds every 20 steps
//! unchecked, as `in.melt` is written (`neigh_modify every 20 delay 0 check no`).

use std::hint::black_box;

use amorph_md::{PairInteractions, PairTerm, Simulation, System, Thermostat, Truncation};
use amorph_structure::{Element, Lattice, RebuildPolicy, Structure};
use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::Vector3;

const SIGMA: f64 = 3.405;
const EPSILON: f64 = 0.0103;
const CELLS: usize = 20;

fn melt(threads: usize, policy: RebuildPolicy) -> Simulation {
    let ar = Element::from_symbol("Ar").unwrap();
    let a = SIGMA * (4.0f64 / 0.8442).cbrt();
    let lattice = Lattice::cubic(a * CELLS as f64).unwrap();
    let mut positions = Vec::with_capacity(4 * CELLS.pow(3));
    for i in 0..CELLS {
        for j in 0..CELLS {
            for k in 0..CELLS {
                for b in [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    positions.push(Vector3::new(i as f64 + b[0], j as f64 + b[1], k as f64 + b[2]) * a);
                }
            }
        }
    }
    let s = Structure::new(lattice, vec![ar; positions.len()], positions).unwrap();
    let mut lj = PairInteractions::new(2.5 * SIGMA)
        .unwrap()
        .with_skin(0.3 * SIGMA)
        .unwrap()
        .with_rebuild_policy(policy)
        .unwrap();
    lj.set_pair(
        ar,
        ar,
        vec![PairTerm::LennardJones {
            epsilon: EPSILON,
            sigma: SIGMA,
        }],
        Truncation::Cut,
        None,
    )
    .unwrap();
    let mut system = System::from_structure(&s).unwrap();
    system
        .set_maxwell_boltzmann(3.0 * EPSILON / amorph_md::units::BOLTZMANN_EV_PER_K, 87287)
        .unwrap();
    // τ = σ √(m/ε) in fs; dt = 0.005 τ.
    let tau = SIGMA * (39.948 * amorph_md::units::AMU_A2_PER_FS2_IN_EV / EPSILON).sqrt();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| Simulation::new(system, Box::new(lj), 0.005 * tau, Thermostat::None, 1).unwrap())
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("lj_melt_32000");
    g.sample_size(10);
    let rules = [
        ("checked", RebuildPolicy::default()),
        (
            "every20",
            RebuildPolicy {
                every: 20,
                check: false,
            },
        ),
    ];
    for (rule, policy) in rules {
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut sim = melt(threads, policy);
            pool.install(|| sim.run(20).unwrap());
            // 20 steps per iteration: every iteration holds the same number of unchecked rebuilds.
            g.bench_function(format!("20_steps_{threads}_threads_{rule}"), |b| {
                b.iter(|| pool.install(|| sim.run(black_box(20)).unwrap()))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
