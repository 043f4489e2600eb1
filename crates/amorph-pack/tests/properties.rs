//! Properties over random requests: exact composition and density, every pair at least its minimum
//! distance apart (checked by brute force), positions wrapped; infeasible requests refused.

mod common;

use std::f64::consts::PI;

use amorph_pack::{PACKING_FRACTION_LIMIT, PackError, PackRequest, PairDistances, pack};
use amorph_structure::{Composition, Element, Lattice};
use common::{assert_distances, assert_wrapped};
use proptest::prelude::*;

const ELEMENTS: [&str; 10] = ["Li", "Na", "Mg", "Al", "Si", "P", "S", "O", "Cl", "Y"];

/// A composition of 1–4 distinct elements with integer amounts 1–5.
fn composition() -> impl Strategy<Value = Composition> {
    proptest::sample::subsequence(ELEMENTS.to_vec(), 1..=4)
        .prop_flat_map(|els| {
            let n = els.len();
            (Just(els), proptest::collection::vec(1u32..=5, n))
        })
        .prop_map(|(els, amounts)| {
            Composition::from_amounts(
                els.iter()
                    .zip(amounts)
                    .map(|(e, a)| (Element::from_symbol(e).unwrap(), a as f64)),
            )
            .unwrap()
        })
}

/// Density (g/cm³) at which `natoms` atoms of mass `mass` (amu) fill packing fraction `phi` with
/// spheres of diameter `d`.
fn density_for(phi: f64, natoms: usize, mass: f64, d: f64) -> f64 {
    let volume = natoms as f64 * PI / 6.0 * d.powi(3) / phi;
    mass * 1.660_539_068_92 / volume
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_pack_exactly(
        c in composition(),
        target in 20usize..160,
        phi in 0.05f64..0.55,
        tol in 1.2f64..3.0,
        seed in any::<u64>(),
    ) {
        let reduced = c.reduced_composition();
        let per_unit = reduced.num_atoms().round() as usize;
        let units = (target / per_unit).max(1);
        let natoms = units * per_unit;
        let density = density_for(phi, natoms, reduced.weight() * units as f64, tol);
        let r = PackRequest::new(c.clone())
            .formula_units(units)
            .density(density)
            .tolerance(tol)
            .seed(seed);
        match pack(&r) {
            Ok(s) => {
                prop_assert_eq!(s.len(), natoms);
                for (e, a) in reduced.iter() {
                    prop_assert_eq!(s.indices_of(e).len(), a.round() as usize * units);
                }
                prop_assert!((s.density() - density).abs() < 1e-9 * density);
                assert_wrapped(&s);
                assert_distances(&s, &PairDistances::new(), tol);
            }
            // Few formula units in a cell narrower than the tolerance: refused, correctly.
            Err(PackError::CellTooSmall { translation, required, .. }) => {
                prop_assert!(translation < required);
            }
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn per_pair_distances_in_any_cell(
        c in composition(),
        target in 20usize..120,
        phi in 0.05f64..0.45,
        scale in 0.6f64..1.0,
        angles in (60.0f64..120.0, 60.0f64..120.0, 60.0f64..120.0),
        seed in any::<u64>(),
    ) {
        let els: Vec<Element> = c.elements().collect();
        let pairs = PairDistances::covalent(els.iter().copied(), scale).unwrap();
        let dmax = pairs.iter().map(|p| p.2).fold(0.0, f64::max);
        let shape = Lattice::from_parameters(1.0, 1.1, 0.95, angles.0, angles.1, angles.2);
        prop_assume!(shape.is_ok());
        let reduced = c.reduced_composition();
        let per_unit = reduced.num_atoms().round() as usize;
        let units = (target / per_unit).max(1);
        let density = density_for(phi, units * per_unit, reduced.weight() * units as f64, dmax);
        let r = PackRequest::new(c)
            .formula_units(units)
            .density(density)
            .shape(shape.unwrap())
            .tolerance(dmax)
            .pair_distances(pairs.clone())
            .seed(seed);
        match pack(&r) {
            Ok(s) => assert_distances(&s, &pairs, dmax),
            Err(PackError::CellTooSmall { .. }) => {}
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn beyond_the_limit_is_refused_with_the_fraction(
        c in composition(),
        units in 1usize..200,
        excess in 1.001f64..3.0,
        tol in 1.0f64..3.0,
    ) {
        let reduced = c.reduced_composition();
        let natoms = units * reduced.num_atoms().round() as usize;
        let density = density_for(PACKING_FRACTION_LIMIT * excess, natoms, reduced.weight() * units as f64, tol);
        let e = pack(&PackRequest::new(c).formula_units(units).density(density).tolerance(tol)).unwrap_err();
        match e {
            PackError::TooDense { fraction, limit, .. } => {
                prop_assert!((fraction / (limit * excess) - 1.0).abs() < 1e-9);
            }
            // A cell too small for the tolerance is refused first.
            PackError::CellTooSmall { .. } => {}
            other => prop_assert!(false, "{}", other),
        }
    }
}
