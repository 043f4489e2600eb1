//! The `amorph` binary end to end: info, rdf, convert and clean failures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn glass() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Li2Si2O5_glass.vasp")
}

#[test]
fn info_json_has_the_documented_keys() {
    let out = amorph(&["info", glass().to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for k in [
        "natoms",
        "reduced_formula",
        "volume_A3",
        "density_g_cm3",
        "lattice",
        "species",
    ] {
        assert!(keys.contains(&k), "missing {k} in {keys:?}");
    }
    assert_eq!(v["natoms"], 216);
    assert_eq!(v["reduced_formula"], "Li2Si2O5");
    for k in ["a", "b", "c", "alpha", "beta", "gamma"] {
        assert!(v["lattice"][k].is_f64(), "lattice.{k}");
    }
    assert_eq!(v["species"]["O"], 120);
    let volume = v["volume_A3"].as_f64().unwrap();
    assert!((volume - v["lattice"]["a"].as_f64().unwrap().powi(3)).abs() < 1e-9);
}

#[test]
fn rdf_csv_has_r_total_and_ordered_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rdf.csv");
    let out = amorph(&[
        "rdf",
        glass().to_str().unwrap(),
        "--rmax",
        "5",
        "--bins",
        "50",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "r,g_total,g_Li-Li,g_Li-Si,g_Li-O,g_Si-Si,g_Si-O,g_O-O"
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0][0], 0.05);
    assert_eq!(rows[49][0], 4.95);
    // Nothing left behind but the output.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn convert_round_trips_through_every_writable_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut previous = glass();
    for name in ["g.json", "g.extxyz", "g.cif", "POSCAR", "g.data"] {
        let next = dir.path().join(name);
        let out = amorph(&["convert", previous.to_str().unwrap(), next.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info = amorph(&["info", next.to_str().unwrap(), "--json"]);
        assert!(
            info.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&info.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        assert_eq!(v["natoms"], 216, "{name}");
        assert_eq!(v["reduced_formula"], "Li2Si2O5", "{name}");
        previous = next;
    }
}

#[test]
fn bad_input_fails_cleanly_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("POSCAR");
    std::fs::write(&bad, "title\n1.0\n3 0 0\n0 3 0\n0 0 x\nLi\n1\nDirect\n0 0 0\n").unwrap();
    let out = amorph(&["info", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("POSCAR") && err.contains(":5"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = amorph(&["info", dir.path().join("missing.vasp").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.vasp"));

    let out = amorph(&["rdf", glass().to_str().unwrap(), "--bins", "0"]);
    assert!(!out.status.success());
}
