//! Property tests: periodic wrapping and minimum image, and the cell list against brute force on
//! random triclinic cells (including cutoffs longer than the cell).

use amorph_structure::pbc::wrap_fractional;
use amorph_structure::{Lattice, NeighborList, PairSet};
use nalgebra::Vector3;
use proptest::prelude::*;

fn lattice() -> impl Strategy<Value = Lattice> {
    (
        3.0..10.0f64,
        3.0..10.0f64,
        3.0..10.0f64,
        55.0..125.0f64,
        55.0..125.0f64,
        55.0..125.0f64,
    )
        .prop_filter_map("degenerate cell", |(a, b, c, al, be, ga)| {
            let l = Lattice::from_parameters(a, b, c, al, be, ga).ok()?;
            // Keep cells whose volume is not tiny relative to abc (no near-flat cells).
            (l.volume() > 0.2 * a * b * c).then_some(l)
        })
}

fn point() -> impl Strategy<Value = Vector3<f64>> {
    (-3.0..3.0f64, -3.0..3.0f64, -3.0..3.0f64).prop_map(|(x, y, z)| Vector3::new(x, y, z))
}

fn is_integer_vector(v: &Vector3<f64>) -> bool {
    v.iter().all(|x| (x - x.round()).abs() < 1e-9)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn wrapping_lands_in_the_unit_cell(f in point()) {
        let w = wrap_fractional(&f);
        prop_assert!(w.iter().all(|x| (0.0..1.0).contains(x)));
        prop_assert!(is_integer_vector(&(w - f)));
    }

    #[test]
    fn minimum_image_is_shortest_and_equivalent(l in lattice(), f in point()) {
        let d = l.to_cartesian(&f);
        let m = l.minimum_image(&d);
        prop_assert!(is_integer_vector(&l.to_fractional(&(m - d))));
        for i in -3..=3 {
            for j in -3..=3 {
                for k in -3..=3 {
                    let v = d + l.to_cartesian(&Vector3::new(i as f64, j as f64, k as f64));
                    prop_assert!(m.norm() <= v.norm() + 1e-9);
                }
            }
        }
        // Symmetric and translation invariant.
        prop_assert!((l.minimum_image(&-d).norm() - m.norm()).abs() < 1e-9);
        let shifted = d + l.vector(0) * 2.0 - l.vector(2);
        prop_assert!((l.minimum_image(&shifted).norm() - m.norm()).abs() < 1e-9);
    }

    #[test]
    fn cell_list_equals_brute_force(
        l in lattice(),
        fracs in prop::collection::vec(point(), 1..12),
        cutoff in 0.5..9.0f64,
    ) {
        let pos: Vec<_> = fracs.iter().map(|f| l.to_cartesian(f)).collect();
        let nl = NeighborList::build(&l, &pos, cutoff, PairSet::Full).unwrap();
        for i in 0..pos.len() {
            let mut want = vec![];
            for (j, pj) in pos.iter().enumerate() {
                let f = l.to_fractional(&(pj - pos[i]));
                l.for_each_image_within(&f, cutoff, |v| {
                    let img = l.to_fractional(&v) - f;
                    let img = [img.x.round() as i32, img.y.round() as i32, img.z.round() as i32];
                    if !(j == i && img == [0, 0, 0]) {
                        want.push((j, img));
                    }
                });
            }
            let mut got: Vec<_> = nl.neighbors(i).iter().map(|n| (n.index as usize, n.image)).collect();
            want.sort();
            got.sort();
            prop_assert_eq!(&got, &want, "atom {}", i);
            for n in nl.neighbors(i) {
                prop_assert!(n.distance <= cutoff && (nl.vector(i, n).norm() - n.distance).abs() < 1e-12);
            }
        }
        let half = NeighborList::build(&l, &pos, cutoff, PairSet::Half).unwrap();
        prop_assert_eq!(2 * half.num_entries(), nl.num_entries());
    }
}
