//! Short-range pair forms and the whole Pedone force field against LAMMPS (29 Sep 2021) on three
//! glasses. References: `validation/lammps_refs.py --all` (Pedone as morse + lj/cut + buck overlay).
//!
//! Tolerances: pair terms and Pedone + DSF (LAMMPS-compatible erfc) to 1e-9 relative; Pedone + Ewald
//! at accuracy 1e-10 to 1e-6 (LAMMPS's erfc) and 3e-5 (exact erfc).

mod common;

use amorph_md::coulomb::{Dsf, Ewald};
use amorph_md::{Calculator, ForceField, PairInteractions, PairTerm, Sum, Truncation};
use amorph_structure::Element;
use common::*;

fn el(s: &str) -> Element {
    Element::from_symbol(s).unwrap()
}

fn glass_elements(glass: &str) -> Vec<Element> {
    amorph_structure::io::read_structure(data(&format!("glasses/{glass}.vasp")))
        .unwrap()
        .elements()
}

fn pedone_short(glass: &str, truncation: Truncation) -> PairInteractions {
    ForceField::pedone()
        .pair_interactions(&glass_elements(glass), Some(5.5), Some(truncation))
        .unwrap()
}

#[test]
fn pedone_short_range_matches_lammps() {
    for g in GLASSES {
        check(
            &mut pedone_short(g, Truncation::Cut),
            &format!("pedone_short_cut_{g}"),
            g,
            1e-9,
        );
        check(
            &mut pedone_short(g, Truncation::ShiftEnergy),
            &format!("pedone_short_shift_{g}"),
            g,
            1e-9,
        );
    }
}

#[test]
fn whole_pedone_force_field_matches_lammps() {
    for g in GLASSES {
        let mut dsf = Sum::new(vec![
            Box::new(pedone_short(g, Truncation::ShiftEnergy)) as Box<dyn Calculator>,
            Box::new(Dsf::new(pedone(), 0.25, 10.0).unwrap().lammps_compatible()),
        ]);
        check(&mut dsf, &format!("pedone_dsf_{g}"), g, 1e-9);
        let ewald = |lammps_erfc: bool| {
            let e = Ewald::new(pedone(), 10.0, 1e-10).unwrap();
            Sum::new(vec![
                Box::new(pedone_short(g, Truncation::ShiftEnergy)) as Box<dyn Calculator>,
                Box::new(if lammps_erfc { e.lammps_compatible() } else { e }),
            ])
        };
        check(&mut ewald(true), &format!("pedone_ewald_{g}"), g, 1e-6);
        // With the exact erfc the difference is LAMMPS's erfc polynomial (error ≤ 1.5e-7 in the
        // real-space Coulomb), magnified in the virial because short-range and Coulomb parts nearly
        // cancel there.
        check(&mut ewald(false), &format!("pedone_ewald_{g}"), g, 3e-5);
    }
}

#[test]
fn buckingham_lennard_jones_and_born_match_lammps() {
    let elements = glass_elements("Li2Si2O5");
    let mut bks = ForceField::bks()
        .pair_interactions(&[el("Si"), el("O")], Some(5.5), None)
        .unwrap();
    check(&mut bks, "buck_bks_Li2Si2O5", "Li2Si2O5", 1e-9);

    let all_pairs = |term: PairTerm, rc: f64, truncation: Truncation| {
        let mut p = PairInteractions::new(rc).unwrap();
        for (k, a) in elements.iter().enumerate() {
            for b in &elements[k..] {
                p.set_pair(*a, *b, vec![term.clone()], truncation, None).unwrap();
            }
        }
        p
    };
    let mut lj = all_pairs(
        PairTerm::LennardJones {
            epsilon: 0.01,
            sigma: 2.2,
        },
        6.0,
        Truncation::Cut,
    );
    check(&mut lj, "lj_Li2Si2O5", "Li2Si2O5", 1e-9);
    let born = PairTerm::BornMayerHuggins {
        a: 0.2,
        rho: 0.3,
        sigma: 2.0,
        c: 1.5,
        d: 0.8,
    };
    let mut born = all_pairs(born, 6.0, Truncation::ShiftEnergy);
    check(&mut born, "born_Li2Si2O5", "Li2Si2O5", 1e-9);
}
