//! Neighbour-list build and RDF on a 10 000-atom glass-like cell.
//!
//! The structure is a jittered cubic grid at the number density of Li2Si2O5 glass (0.0744 Å⁻³), built by
//! a SplitMix64 sequence that `validation/bench_structure.py` reproduces bit for bit, so pymatgen times
//! the same structure (see docs/benchmarks.md).
//!
//! `cargo bench -p amorph-structure --bench neighbors -- --times N` instead builds each of the three
//! N times in turn and prints the wall times (seconds) as JSON, for the script's interleaved rounds.

use std::hint::black_box;

use amorph_structure::{Element, Lattice, NeighborList, PairSet, Rdf, Structure};
use criterion::{Criterion, criterion_group};
use nalgebra::Vector3;

struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 10 000 atoms (Li, Si, O in 2:2:5) on a jittered 22³ grid, first 10 000 sites.
fn glass_10k() -> Structure {
    let n = 22usize;
    let natoms = 10_000usize;
    let edge = (natoms as f64 / 0.0744).cbrt();
    let spacing = edge / n as f64;
    let lattice = Lattice::cubic(edge).unwrap();
    let kinds = ["Li", "Li", "Si", "Si", "O", "O", "O", "O", "O"].map(|s| Element::from_symbol(s).unwrap());
    let mut rng = SplitMix64(2024);
    let mut species = Vec::with_capacity(natoms);
    let mut positions = Vec::with_capacity(natoms);
    'outer: for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                if positions.len() == natoms {
                    break 'outer;
                }
                let jitter = |r: &mut SplitMix64| (r.next_f64() - 0.5) * 0.6 * spacing;
                let p = Vector3::new(
                    (i as f64 + 0.5) * spacing + jitter(&mut rng),
                    (j as f64 + 0.5) * spacing + jitter(&mut rng),
                    (k as f64 + 0.5) * spacing + jitter(&mut rng),
                );
                species.push(kinds[positions.len() % kinds.len()]);
                positions.push(p);
            }
        }
    }
    Structure::new(lattice, species, positions).unwrap()
}

fn bench(c: &mut Criterion) {
    let s = glass_10k();
    let mut g = c.benchmark_group("glass_10k");
    g.sample_size(20);
    g.bench_function("neighbor_list_full_5A", |b| {
        b.iter(|| NeighborList::build(s.lattice(), s.positions(), black_box(5.0), PairSet::Full).unwrap())
    });
    g.bench_function("neighbor_list_half_5A", |b| {
        b.iter(|| NeighborList::build(s.lattice(), s.positions(), black_box(5.0), PairSet::Half).unwrap())
    });
    g.bench_function("rdf_6A_60bins", |b| {
        b.iter(|| Rdf::new(&s, black_box(6.0), 60).unwrap())
    });
    g.finish();
}

/// `--times N`: the three tasks in turn, N times, one wall time each.
fn times(n: usize) {
    let s = glass_10k();
    let time = |f: &dyn Fn()| {
        let start = std::time::Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let (mut full, mut half, mut rdf) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        full.push(time(&|| {
            black_box(
                NeighborList::build(s.lattice(), s.positions(), black_box(5.0), PairSet::Full).unwrap(),
            );
        }));
        half.push(time(&|| {
            black_box(
                NeighborList::build(s.lattice(), s.positions(), black_box(5.0), PairSet::Half).unwrap(),
            );
        }));
        rdf.push(time(&|| {
            black_box(Rdf::new(&s, black_box(6.0), 60).unwrap());
        }));
    }
    let list = |v: &[f64]| v.iter().map(|t| format!("{t:.9}")).collect::<Vec<_>>().join(", ");
    println!(
        "{{\"full\": [{}], \"half\": [{}], \"rdf\": [{}]}}",
        list(&full),
        list(&half),
        list(&rdf)
    );
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--times") {
        times(args.get(at + 1).and_then(|a| a.parse().ok()).unwrap_or(50).max(1));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
