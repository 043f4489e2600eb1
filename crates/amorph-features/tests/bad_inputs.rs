//! Inputs that leave some features undefined get typed reasons, and everything else is computed.

mod common;

use amorph_features::{Convention, Error, FeatureSet, Options, Undefined};
use amorph_structure::{Lattice, Structure};
use common::*;
use nalgebra::Vector3;

fn structure(symbols: &[&str], a: f64) -> Structure {
    let n = symbols.len();
    let frac: Vec<Vector3<f64>> = (0..n)
        .map(|i| {
            Vector3::new(
                i as f64 / n as f64,
                (i * 3 % n) as f64 / n as f64,
                (i * 7 % n) as f64 / n as f64,
            )
        })
        .collect();
    Structure::from_fractional(
        Lattice::cubic(a).unwrap(),
        symbols.iter().map(|s| el(s)).collect(),
        &frac,
    )
    .unwrap()
}

#[test]
fn no_li_leaves_li_features_undefined_and_computes_the_rest() {
    let s = structure(&["Si", "Si", "O", "O", "O", "O"], 5.0);
    let f = features(&s, Options::default());
    let no_li = Undefined::NoMobile { mobile: el("Li") };
    for name in [
        "LNC", "SDLC", "LBI", "SDLI", "LLB", "LASD", "LLSD", "SLPW", "SLPW_pp", "SLPE", "ΔX",
    ] {
        assert_eq!(get(&f, name), Err(no_li.clone()), "{name}");
    }
    assert!(matches!(
        get(&f, "RBI"),
        Err(Undefined::Depends { feature: "LBI", .. })
    ));
    assert!(matches!(
        get(&f, "RNC"),
        Err(Undefined::Depends { feature: "LNC", .. })
    ));
    for name in [
        "AAV", "SBI", "SNC", "ENS", "AFC", "AASD", "VPA", "PF", "SPF", "B", "B-Li", "X", "density",
    ] {
        assert!(get(&f, name).is_ok(), "{name}: {:?}", get(&f, name));
    }
    assert_eq!(val(&f, "Li%"), 0.0);
    assert_eq!(val(&f, "B"), val(&f, "B-Li"));
    assert_eq!(val(&f, "PF"), val(&f, "SPF"));
    // The zheng2024 ΔX needs no Li.
    let z = features(&s, Options::new(Convention::Zheng2024));
    assert_eq!(val(&z, "ΔX"), 0.0);
}

#[test]
fn a_single_element_structure() {
    // bcc Li: no sublattice; the anion is Li itself.
    let s = Structure::from_fractional(
        Lattice::cubic(3.49).unwrap(),
        vec![el("Li"), el("Li")],
        &[Vector3::zeros(), Vector3::new(0.5, 0.5, 0.5)],
    )
    .unwrap();
    let f = features(&s, Options::default());
    for name in ["SBI", "SNC", "ENS", "SPF", "B-Li", "X-Li", "ΔX", "R-ratio"] {
        let v = get(&f, name);
        assert!(
            matches!(&v, Err(Undefined::NoSublattice)) || matches!(&v, Err(Undefined::Depends { .. })),
            "{name}: {v:?}"
        );
    }
    // 8 at a√3/2 = 3.02 Å and 6 at a = 3.49 Å.
    assert_eq!(val(&f, "LNC"), 14.0);
    assert_eq!(val(&f, "LBI"), 0.0);
    assert!((val(&f, "LLSD") - 3.49 * 3f64.sqrt() / 2.0).abs() < 1e-12);
    assert_eq!(val(&f, "AFC"), 14.0);
    assert_eq!(val(&f, "Li%"), 1.0);
    // Silicon alone: no Li, anion Si.
    let si = structure(&["Si", "Si", "Si"], 4.0);
    let f = features(&si, Options::default());
    assert!(get(&f, "AFC").is_ok() && get(&f, "SBI").is_ok());
    assert_eq!(get(&f, "LNC"), Err(Undefined::NoMobile { mobile: el("Li") }));
}

#[test]
fn an_element_missing_from_a_property_table_is_named() {
    // U has no elemental moduli in the table; Ar has no Pauling electronegativity.
    let s = structure(&["Li", "Li", "U", "O", "O", "O", "O"], 5.0);
    let f = features(&s, Options::default());
    let missing = |p| Undefined::MissingData {
        element: el("U"),
        property: p,
    };
    assert_eq!(get(&f, "B"), Err(missing("bulk modulus")));
    assert_eq!(get(&f, "G-Li"), Err(missing("shear modulus")));
    assert_eq!(get(&f, "BR5m"), Err(missing("bulk modulus")));
    assert!(get(&f, "LNC").is_ok() && get(&f, "Ecoh").is_ok() && get(&f, "X").is_ok());
    let s = structure(&["Li", "Li", "Ar", "Ar"], 5.0);
    let f = features(&s, Options::default());
    let no_chi = Undefined::MissingData {
        element: el("Ar"),
        property: "electronegativity",
    };
    assert_eq!(get(&f, "LBI"), Err(no_chi.clone()));
    assert_eq!(get(&f, "X"), Err(no_chi));
    assert!(get(&f, "LNC").is_ok());
    assert!(format!("{}", get(&f, "ENS").unwrap_err()).contains("Ar"));
}

#[test]
fn an_empty_structure_has_no_features_but_is_not_an_error() {
    let s = Structure::new(Lattice::cubic(5.0).unwrap(), vec![], vec![]).unwrap();
    let set = FeatureSet::table1(Options::default()).unwrap();
    let values = set.compute(&s).unwrap();
    for (name, v) in set.names().iter().zip(&values) {
        assert_eq!(v, &Err(Undefined::EmptyStructure), "{name}");
    }
}

#[test]
fn bad_options_and_names_are_errors() {
    let bad = Options {
        cutoff: -1.0,
        ..Options::default()
    };
    assert!(matches!(FeatureSet::table1(bad), Err(Error::InvalidOption(_))));
    let bad = Options {
        pf_spacing: 0.0,
        ..Options::default()
    };
    assert!(matches!(FeatureSet::table1(bad), Err(Error::InvalidOption(_))));
    let bad = Options {
        temperature: Some(f64::NAN),
        ..Options::default()
    };
    assert!(matches!(FeatureSet::table1(bad), Err(Error::InvalidOption(_))));
    assert!(matches!(
        FeatureSet::from_names(Options::default(), &["LNC", "XYZ"]),
        Err(Error::UnknownFeature(n)) if n == "XYZ"
    ));
    assert!(serde_json::from_str::<Options>(r#"{"convention": "sendek2017"}"#).is_err());
    assert!(serde_json::from_str::<Options>(r#"{"cutof": 4.0}"#).is_err());
    assert!(matches!(
        "foo".parse::<Convention>(),
        Err(Error::InvalidOption(_))
    ));
}
