//! Results must not depend on the number of threads.

use amorph_structure::{Element, Lattice, NeighborList, PairSet, Rdf, Structure, coordination_number};
use nalgebra::Vector3;

fn structure() -> Structure {
    // 4 624 atoms on a jittered grid in a triclinic cell (deterministic, no RNG crate needed): enough
    // for the binning to split its counting sort into blocks.
    let lattice = Lattice::from_parameters(34.0, 33.0, 35.0, 84.0, 97.0, 88.0).unwrap();
    let kinds = ["Li", "Si", "O", "O"].map(|s| Element::from_symbol(s).unwrap());
    let (mut species, mut frac) = (vec![], vec![]);
    let mut x: u64 = 12345;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..17 {
        for j in 0..17 {
            for k in 0..16 {
                let jitter = Vector3::new(next(), next(), next()) * 0.5;
                frac.push(
                    (Vector3::new(i as f64, j as f64, k as f64) + jitter)
                        .component_div(&Vector3::new(17.0, 17.0, 16.0)),
                );
                species.push(kinds[species.len() % 4]);
            }
        }
    }
    Structure::from_fractional(lattice, species, &frac).unwrap()
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn neighbour_lists_and_rdfs_are_identical_on_any_thread_count() {
    let s = structure();
    let run = || {
        (
            NeighborList::new(&s, 5.0).unwrap(),
            NeighborList::build(s.lattice(), s.positions(), 4.0, PairSet::Half).unwrap(),
            Rdf::new(&s, 7.0, 70).unwrap(),
            coordination_number(
                &s,
                Element::from_symbol("Si").unwrap(),
                Element::from_symbol("O").unwrap(),
                3.0,
            )
            .unwrap(),
        )
    };
    let one = in_pool(1, run);
    for threads in [2, 3, 8] {
        assert!(in_pool(threads, run) == one, "{threads} threads differ from one");
    }
}
