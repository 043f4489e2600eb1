//! Every feature of 23 random amorphous structures (oxides, sulfides, halides, a nitride, two
//! intermetallics, a Li-free oxide; six in triclinic cells) under both conventions against the
//! independent Python reference `validation/features_ref.py` (`tests/data/features/reference.json`):
//! deterministic features to 1e-9, union packing fractions within 4 Monte Carlo standard errors of the
//! reference plus the grid's 5e-4.

use std::path::PathBuf;

use amorph_features::{Convention, FeatureSet, Options};
use amorph_structure::io;
use serde_json::Value as Json;

#[test]
fn all_features_agree_with_the_python_reference() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/features");
    let reference: serde_json::Map<String, Json> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap();
    assert!(reference.len() >= 20);
    let mut compared = 0;
    let (mut worst, mut worst_pf) = (0.0f64, 0.0f64);
    let mut failures = Vec::new();
    for (file, by_convention) in &reference {
        let s = io::read_structure(dir.join("amorphous").join(file)).unwrap();
        for (conv, expected) in by_convention.as_object().unwrap() {
            let convention: Convention = conv.parse().unwrap();
            let set = FeatureSet::table1(Options::new(convention)).unwrap();
            let values = set.compute(&s).unwrap();
            for (name, got) in set.names().iter().zip(&values) {
                let want = &expected[name.as_str()];
                compared += 1;
                match (got, want.as_f64()) {
                    (Err(_), None) => {}
                    (Ok(x), Some(y)) => {
                        let union_pf = convention == Convention::Sendek && (name == "PF" || name == "SPF");
                        let tol = if union_pf {
                            4.0 * expected[format!("_{name}_stderr").as_str()].as_f64().unwrap() + 5e-4
                        } else {
                            1e-9 * y.abs().max(1.0)
                        };
                        if union_pf {
                            worst_pf = worst_pf.max((x - y).abs());
                        } else {
                            worst = worst.max((x - y).abs() / y.abs().max(1.0));
                        }
                        if (x - y).abs() > tol {
                            failures.push(format!(
                                "{file} {conv} {name}: {x} vs reference {y} (tolerance {tol:.1e})"
                            ));
                        }
                    }
                    _ => failures.push(format!("{file} {conv} {name}: {got:?} vs reference {want}")),
                }
            }
        }
    }
    eprintln!("{compared} values; largest deviation {worst:.1e} (relative), union PF/SPF {worst_pf:.1e}");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 20 * 2 * 43);
}
