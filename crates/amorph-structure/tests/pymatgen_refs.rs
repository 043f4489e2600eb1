//! Summaries, neighbour lists, RDFs and coordination numbers against pymatgen on three structures
//! (cubic, skewed monoclinic, and a triclinic cell narrower than twice the RDF range).
//! References: tests/data/refs_structure, written by validation/structure_refs.py.

use std::path::PathBuf;

use amorph_structure::{Element, Lattice, NeighborList, Rdf, Structure, coordination_number};
use approx::assert_relative_eq;
use nalgebra::{Matrix3, Vector3};
use serde_json::Value;

const CASES: [&str; 3] = ["cubic_Li2Si2O5", "monoclinic_Li3PS4", "triclinic_small_LiAlO2"];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/refs_structure")
}

fn load(name: &str) -> (Structure, Value) {
    let read = |f: String| -> Value {
        serde_json::from_str(&std::fs::read_to_string(data_dir().join(&f)).unwrap()).unwrap()
    };
    let d = read(format!("{name}.json"));
    let m = &d["lattice"]["matrix"];
    let lattice = Lattice::new(Matrix3::from_fn(|i, j| m[i][j].as_f64().unwrap())).unwrap();
    let mut species = vec![];
    let mut frac = vec![];
    for site in d["sites"].as_array().unwrap() {
        species.push(Element::from_symbol(site["species"][0]["element"].as_str().unwrap()).unwrap());
        let f = &site["abc"];
        frac.push(Vector3::new(
            f[0].as_f64().unwrap(),
            f[1].as_f64().unwrap(),
            f[2].as_f64().unwrap(),
        ));
    }
    let s = Structure::from_fractional(lattice, species, &frac).unwrap();
    (s, read(format!("{name}.ref.json")))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn summary_matches_pymatgen() {
    for name in CASES {
        let (s, r) = load(name);
        assert_eq!(s.len() as u64, r["natoms"].as_u64().unwrap());
        assert_eq!(
            s.composition().reduced_formula(),
            r["reduced_formula"].as_str().unwrap()
        );
        assert_relative_eq!(s.volume(), f(&r["volume_A3"]), max_relative = 1e-12);
        assert_relative_eq!(s.density(), f(&r["density_g_cm3"]), max_relative = 1e-12);
        let [a, b, c] = s.lattice().abc();
        let [al, be, ga] = s.lattice().angles();
        for (got, key) in [
            (a, "a"),
            (b, "b"),
            (c, "c"),
            (al, "alpha"),
            (be, "beta"),
            (ga, "gamma"),
        ] {
            assert_relative_eq!(got, f(&r["lattice"][key]), max_relative = 1e-12);
        }
        for (w, want) in s
            .lattice()
            .perpendicular_widths()
            .iter()
            .zip(r["perpendicular_widths_A"].as_array().unwrap())
        {
            assert_relative_eq!(*w, f(want), max_relative = 1e-12);
        }
    }
}

#[test]
fn neighbor_list_matches_pymatgen() {
    for name in CASES {
        let (s, r) = load(name);
        let nl = NeighborList::new(&s, 5.0).unwrap();
        let want = &r["neighbors_5A"];
        assert_eq!(nl.num_entries() as u64, want["count"].as_u64().unwrap(), "{name}");
        let sum: f64 = nl.iter().map(|(_, n)| n.distance).sum();
        assert_relative_eq!(sum, f(&want["sum_distance"]), max_relative = 1e-12);
        for (i, c) in want["per_atom"].as_array().unwrap().iter().enumerate() {
            assert_eq!(
                nl.neighbors(i).len() as u64,
                c.as_u64().unwrap(),
                "{name} atom {i}"
            );
        }
        // The image vector reproduces the Cartesian vector.
        for (i, n) in nl.iter() {
            let img = Vector3::new(n.image[0] as f64, n.image[1] as f64, n.image[2] as f64);
            let v = s.positions()[n.index as usize] + s.lattice().to_cartesian(&img) - s.positions()[i];
            assert!((v - nl.vector(i, n)).norm() < 1e-10);
            assert!((v.norm() - n.distance).abs() < 1e-10);
        }
    }
}

#[test]
fn rdf_matches_pymatgen_to_1e9() {
    for name in CASES {
        let (s, r) = load(name);
        let want = &r["rdf"];
        let rdf = Rdf::new(&s, f(&want["rmax"]), want["bins"].as_u64().unwrap() as usize).unwrap();
        let cmp = |got: &[f64], key: &str| {
            let w = want[key].as_array().unwrap_or_else(|| panic!("{name}: no {key}"));
            assert_eq!(got.len(), w.len());
            for (k, (g, w)) in got.iter().zip(w).enumerate() {
                assert!(
                    (g - f(w)).abs() <= 1e-9 * f(w).abs().max(1.0),
                    "{name} {key} bin {k}: {g} vs {w}"
                );
            }
        };
        cmp(&rdf.r, "r");
        cmp(&rdf.total, "g_total");
        let expected_keys = want
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("g_") && *k != "g_total")
            .count();
        assert_eq!(rdf.partials.len(), expected_keys, "{name}");
        for p in &rdf.partials {
            cmp(&p.g, &format!("g_{}-{}", p.a, p.b));
        }
    }
}

#[test]
fn coordination_numbers_match_pymatgen() {
    for name in CASES {
        let (s, r) = load(name);
        let rc = f(&r["coordination_cutoff_A"]);
        for (key, want) in r["coordination"].as_object().unwrap() {
            let (a, b) = key.split_once('-').unwrap();
            let (a, b) = (Element::from_symbol(a).unwrap(), Element::from_symbol(b).unwrap());
            let cn = coordination_number(&s, a, b, rc).unwrap();
            assert_relative_eq!(cn, f(want), max_relative = 1e-12);
        }
    }
}
