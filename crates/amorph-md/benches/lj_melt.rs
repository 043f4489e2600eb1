//! The LAMMPS `in.melt` benchmark in amorph: 32 000 Lennard-Jones atoms (fcc at reduced density
//! 0.8442, T* = 3.0, cutoff 2.5σ, skin 0.3σ, NVE, dt = 0.005τ), in argon units (σ = 3.405 Å,
//! ε = 0.0103 eV, m = 39.948 amu). `validation/bench_md.py` runs LAMMPS on the same problem.
//!
//! Two neighbour-list rules: `checked` rebuilds when an atom has moved half the skin (LAMMPS's
//! default `neigh_modify every 1 delay 0 check yes`, and amorph's), `every20` rebuilds every 20 steps
//! unchecked, as `in.melt` is written (`neigh_modify every 20 delay 0 check no`).
//!
//! `cargo bench -p amorph-md --bench lj_melt -- --paired [ROUNDS]` instead times one and two threads
//! in turn, 20 steps each, on two copies of the system advancing together, and prints the median of
//! the per-round speed-ups: each pair of runs sees the same state of the host (a virtual machine
//! whose speed drifts within seconds), which separate criterion runs minutes apart do not.

use std::hint::black_box;

use amorph_md::{PairInteractions, PairTerm, Simulation, System, Thermostat, Truncation};
use amorph_structure::{Element, Lattice, RebuildPolicy, Structure};
use criterion::{Criterion, criterion_group};
use nalgebra::Vector3;

const SIGMA: f64 = 3.405;
const EPSILON: f64 = 0.0103;
const CELLS: usize = 20;

/// The two neighbour-list rules (see above).
const RULES: [(&str, RebuildPolicy); 2] = [
    (
        "checked",
        RebuildPolicy {
            every: 1,
            check: true,
        },
    ),
    (
        "every20",
        RebuildPolicy {
            every: 20,
            check: false,
        },
    ),
];

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
    for (rule, policy) in RULES {
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

/// One and two threads in alternation (which goes first alternates too), `rounds` times 20 steps
/// per rule; prints the rates and the median speed-up.
fn paired(rounds: usize) {
    for (rule, policy) in RULES {
        let pools = [1, 2].map(|threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
        });
        let mut sims = [melt(1, policy), melt(2, policy)];
        for (pool, sim) in pools.iter().zip(&mut sims) {
            pool.install(|| sim.run(20).unwrap());
        }
        let mut seconds = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for i in [round % 2, 1 - round % 2] {
                let start = std::time::Instant::now();
                pools[i].install(|| sims[i].run(black_box(20)).unwrap());
                seconds[i].push(start.elapsed().as_secs_f64());
            }
        }
        let mut speedup: Vec<f64> = seconds[0].iter().zip(&seconds[1]).map(|(a, b)| a / b).collect();
        speedup.sort_by(f64::total_cmp);
        for s in &mut seconds {
            s.sort_by(f64::total_cmp);
        }
        let rate = |s: f64| (32_000 * 20) as f64 / s / 1e6;
        println!(
            "{rule}, {rounds} rounds: M atom-steps/s median (best) 1 thread {:.2} ({:.2}), 2 threads {:.2} ({:.2}); \
             paired 2-thread speed-up median {:.2}x (quartiles {:.2}-{:.2})",
            rate(seconds[0][rounds / 2]),
            rate(seconds[0][0]),
            rate(seconds[1][rounds / 2]),
            rate(seconds[1][0]),
            speedup[rounds / 2],
            speedup[rounds / 4],
            speedup[3 * rounds / 4],
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--paired") {
        let rounds = args.get(at + 1).and_then(|a| a.parse().ok()).unwrap_or(40);
        paired(rounds.max(1));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
