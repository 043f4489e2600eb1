//! Physical checks on the shipped example glass through the umbrella crate: what the README's first
//! command reads must be a sensible Li2Si2O5 glass.

use std::path::Path;

use amorph::structure::{Element, NeighborList, Rdf, coordination_number, io};

fn glass() -> amorph::structure::Structure {
    io::read_structure(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/Li2Si2O5_glass.vasp"))
        .unwrap()
}

#[test]
fn composition_and_density() {
    let g = glass();
    assert_eq!(g.len(), 216);
    assert_eq!(g.composition().reduced_formula(), "Li2Si2O5");
    assert!((g.density() - 2.35).abs() < 1e-3, "density {}", g.density());
}

#[test]
fn silicon_is_tetrahedral_and_nothing_overlaps() {
    let g = glass();
    let si = Element::from_symbol("Si").unwrap();
    let o = Element::from_symbol("O").unwrap();
    let cn = coordination_number(&g, si, o, 2.0).unwrap();
    assert!((cn - 4.0).abs() < 0.05, "Si-O coordination {cn}");
    let nl = NeighborList::new(&g, 1.2).unwrap();
    assert_eq!(nl.num_entries(), 0, "pairs closer than 1.2 Å");
}

#[test]
fn rdf_tends_to_one_and_peaks_at_the_si_o_bond() {
    let g = glass();
    let rdf = Rdf::new(&g, 6.0, 120).unwrap();
    let tail: Vec<f64> = rdf
        .r
        .iter()
        .zip(&rdf.total)
        .filter(|(r, _)| **r > 5.0)
        .map(|(_, g)| *g)
        .collect();
    let mean = tail.iter().sum::<f64>() / tail.len() as f64;
    assert!((mean - 1.0).abs() < 0.1, "g(r > 5 Å) averages {mean}");
    let si_o = rdf
        .partial(
            Element::from_symbol("O").unwrap(),
            Element::from_symbol("Si").unwrap(),
        )
        .unwrap();
    let peak = si_o
        .g
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert!((rdf.r[peak] - 1.6).abs() < 0.1, "Si-O peak at {} Å", rdf.r[peak]);
    // Running coordination of Si by O reaches 4 after the first shell.
    let k = rdf.r.iter().position(|r| *r > 2.0).unwrap();
    assert!((si_o.coordination[k] - 4.0).abs() < 0.05);
}
