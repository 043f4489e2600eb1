//! Shared by the LAMMPS comparison tests: reading `tests/data/lammps/*.json` (written by
//! `validation/lammps_refs.py`) and comparing a calculator's energy, forces, virial and per-atom
//! energies with it.
#![allow(dead_code)]

use amorph_md::coulomb::Charges;
use amorph_md::{Calculator, Configuration, Evaluation};
use amorph_structure::io::read_structure;
use nalgebra::{Matrix3, Vector3};
use serde_json::Value;

pub const K: f64 = 14.399645;
pub const GLASSES: [&str; 3] = ["Li2Si2O5", "Na2CaSi6O14", "LiAlP2O7"];

pub fn data(rel: &str) -> String {
    format!("{}/../../tests/data/{rel}", env!("CARGO_MANIFEST_DIR"))
}

pub struct Reference {
    pub energy: f64,
    pub forces: Vec<Vector3<f64>>,
    pub virial: Matrix3<f64>,
    pub per_atom: Vec<f64>,
}

pub fn reference(name: &str) -> Reference {
    let text = std::fs::read_to_string(data(&format!("lammps/{name}.json"))).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let f = |x: &Value| x.as_f64().unwrap();
    Reference {
        energy: f(&v["energy_eV"]),
        forces: v["forces_eV_A"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Vector3::new(f(&r[0]), f(&r[1]), f(&r[2])))
            .collect(),
        virial: Matrix3::from_fn(|a, b| f(&v["virial_eV"][a][b])),
        per_atom: v["per_atom_energy_eV"]
            .as_array()
            .unwrap()
            .iter()
            .map(f)
            .collect(),
    }
}

pub fn pedone() -> Charges {
    Charges::from_symbols([
        ("Li", 0.6),
        ("Na", 0.6),
        ("Ca", 1.2),
        ("Al", 1.8),
        ("Si", 2.4),
        ("P", 3.0),
        ("O", -1.2),
    ])
    .unwrap()
}

pub fn run(calc: &mut dyn Calculator, glass: &str) -> Evaluation {
    let s = read_structure(data(&format!("glasses/{glass}.vasp"))).unwrap();
    let config = Configuration {
        lattice: s.lattice(),
        species: s.species(),
        positions: s.positions(),
    };
    let mut out = Evaluation::zeros(s.len());
    out.request_per_atom_energies();
    calc.compute(&config, &mut out).unwrap();
    out
}

pub fn rms(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    (s / n as f64).sqrt()
}

/// (energy, forces, virial, per-atom) relative deviations.
pub fn deviations(got: &Evaluation, want: &Reference) -> [f64; 4] {
    let fscale = rms(want.forces.iter().map(|f| f.norm()));
    let df = got
        .forces
        .iter()
        .zip(&want.forces)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    let escale = rms(want.per_atom.iter().copied());
    let de = got
        .per_atom_energies
        .as_ref()
        .unwrap()
        .iter()
        .zip(&want.per_atom)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    [
        ((got.energy - want.energy) / want.energy).abs(),
        df / fscale,
        (got.virial - want.virial).abs().max() / want.virial.abs().max(),
        de / escale,
    ]
}

pub fn check(calc: &mut dyn Calculator, reference_name: &str, glass: &str, tol: f64) -> [f64; 4] {
    let got = run(calc, glass);
    let d = deviations(&got, &reference(reference_name));
    println!(
        "{reference_name}: energy {:.1e}, forces {:.1e}, virial {:.1e}, per-atom {:.1e}",
        d[0], d[1], d[2], d[3]
    );
    assert!(
        d.iter().all(|x| *x <= tol),
        "{} vs {reference_name}: {d:?} (tolerance {tol:e})",
        calc.name()
    );
    d
}
