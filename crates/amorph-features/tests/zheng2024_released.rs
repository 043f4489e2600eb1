//! The `zheng2024` convention against the paper's released feature table
//! (`tests/data/features/zheng2024_released.csv`, extracted by `validation/features_released.py`):
//! every compositional column, and PF, SPF, VPA and ENS, which in that convention follow from the
//! composition and the volume per atom alone.

use std::path::PathBuf;

use amorph_features::{Convention, FeatureSet, Options};
use amorph_structure::{Composition, Lattice, Structure};
use nalgebra::Vector3;

/// (formula, [(feature, released value)]); empty cells (released PF/SPF that do not follow from the
/// formula, see the script) are left out.
fn rows() -> Vec<(String, Vec<(String, f64)>)> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/features/zheng2024_released.csv");
    let text = std::fs::read_to_string(p).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let values = header[1..]
                .iter()
                .zip(&cells[1..])
                .filter(|(_, c)| !c.is_empty())
                .map(|(h, c)| (h.clone(), c.parse::<f64>().unwrap()))
                .collect();
            (cells[0].to_string(), values)
        })
        .collect()
}

/// The formula's atoms on a simple cubic grid in a cube of `aav` Å³ per atom.
fn structure(formula: &str, aav: f64) -> Structure {
    let c: Composition = formula.parse().unwrap();
    let mut species = Vec::new();
    for (e, n) in c.iter() {
        assert_eq!(n.fract(), 0.0, "{formula}");
        species.extend(std::iter::repeat_n(e, n as usize));
    }
    let n = species.len();
    let side = (n as f64).cbrt().ceil() as usize;
    let frac: Vec<Vector3<f64>> = (0..n)
        .map(|i| {
            let (x, y, z) = (i % side, (i / side) % side, i / (side * side));
            Vector3::new(x as f64, y as f64, z as f64) / side as f64
        })
        .collect();
    let lattice = Lattice::cubic((aav * n as f64).cbrt()).unwrap();
    Structure::from_fractional(lattice, species, &frac).unwrap()
}

#[test]
fn compositional_features_pf_spf_vpa_match_the_released_table() {
    let rows = rows();
    assert!(rows.len() >= 40);
    let set = FeatureSet::table1(Options::new(Convention::Zheng2024)).unwrap();
    let names = set.names();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (formula, expected) in &rows {
        let aav = expected.iter().find(|(n, _)| n == "AAV").unwrap().1;
        let s = structure(formula, aav);
        let values = set.compute(&s).unwrap();
        for (name, want) in expected {
            let k = names.iter().position(|n| n == name).unwrap();
            let got = values[k]
                .clone()
                .unwrap_or_else(|e| panic!("{formula} {name}: {e}"));
            // The released table prints 10 significant digits for structural columns.
            let tol = 2e-9 * want.abs().max(1.0);
            if (got - want).abs() > tol {
                failures.push(format!("{formula} {name}: {got} vs released {want}"));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= rows.len() * 26 - 4, "{checked}");
}

#[test]
fn compositional_features_from_a_formula_alone_match_too() {
    let set = FeatureSet::compositional(Options::new(Convention::Zheng2024)).unwrap();
    let names = set.names();
    for (formula, expected) in rows() {
        let c: Composition = formula.parse().unwrap();
        let values = set.compute_composition(&c).unwrap();
        for (name, want) in &expected {
            if let Some(k) = names.iter().position(|n| n == name) {
                let got = values[k].clone().unwrap();
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{formula} {name}: {got} vs {want}"
                );
            }
        }
    }
}
