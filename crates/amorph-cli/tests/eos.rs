//! `amorph eos` end to end on the reference tables of `tests/data/eos/` (pymatgen's numbers in
//! `refs.json`, compared in detail by `crates/amorph-eos/tests/pymatgen_refs.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/eos")
        .join(name)
}

fn refs() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data("refs.json")).unwrap()).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn energy_fit_json_has_the_documented_keys_and_pymatgens_numbers() {
    let table = data("noisy_liquid.csv");
    let out = amorph(&["eos", table.to_str().unwrap(), "--model", "vinet", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "V0_A3",
        "E0_eV",
        "B0_GPa",
        "B1",
        "V0_A3_stderr",
        "E0_eV_stderr",
        "B0_GPa_stderr",
        "B1_stderr",
    ] {
        assert!(v[k].is_f64(), "{k} in {v}");
    }
    let r = &refs()["energy"]["noisy_liquid"]["fits"]["vinet"];
    let tight = r["tight"].as_array().unwrap();
    assert!(rel(v["V0_A3"].as_f64().unwrap(), tight[3].as_f64().unwrap()) < 1e-8);
    assert!(rel(v["E0_eV"].as_f64().unwrap(), tight[0].as_f64().unwrap()) < 1e-8);
    assert!(rel(v["B1"].as_f64().unwrap(), tight[2].as_f64().unwrap()) < 1e-6);
    assert!(rel(v["B0_GPa"].as_f64().unwrap(), r["b0_GPa"].as_f64().unwrap()) < 1e-6);
    assert_eq!(v["residuals_eV"].as_array().unwrap().len(), 11);
}

#[test]
fn default_model_is_birch_murnaghan_and_text_output_names_it() {
    let table = data("clean_vinet.csv");
    let out = amorph(&["eos", table.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("birch_murnaghan E(V) fit"), "{text}");
    let v0: f64 = refs()["energy"]["clean_vinet"]["fits"]["birch_murnaghan"]["v0"]
        .as_f64()
        .unwrap();
    assert!(text.contains(&format!("{v0:.8}")), "{text}");
}

#[test]
fn pressure_fit_with_pv() {
    let table = data("pv_six_noisy.csv");
    let out = amorph(&["eos", table.to_str().unwrap(), "--pv", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &refs()["pressure"]["pv_six_noisy"]["fits"]["birch_murnaghan"];
    assert!(rel(v["V0_A3"].as_f64().unwrap(), r["v0"].as_f64().unwrap()) < 1e-6);
    assert!(rel(v["B0_GPa"].as_f64().unwrap(), r["b0_GPa"].as_f64().unwrap()) < 1e-6);
    assert!(v.get("E0_eV").is_none());
    assert!(v["V0_A3_stderr"].is_f64());
    // Three points: an exact fit, no standard errors.
    let out = amorph(&[
        "eos",
        data("pv_three_exact.csv").to_str().unwrap(),
        "--pv",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((v["V0_A3"].as_f64().unwrap() - 1550.0).abs() < 1e-6);
    assert!(v["V0_A3_stderr"].is_null());
}

#[test]
fn failures_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    // P(V) table without --pv: the message says what to do.
    let out = amorph(&["eos", data("pv_wide.csv").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--pv"), "{err}");
    // A bad number names the file and line.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "volume_A3,energy_eV\n40,-10\n41,abc\n").unwrap();
    let out = amorph(&["eos", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bad.csv:3"), "{err}");
    // pymatgen refuses the expanded-only data; so does amorph, with the reason.
    let out = amorph(&[
        "eos",
        data("expanded_only.csv").to_str().unwrap(),
        "--model",
        "vinet",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("parabola"), "{err}");
    // Unknown model.
    let out = amorph(&[
        "eos",
        data("clean_vinet.csv").to_str().unwrap(),
        "--model",
        "nope",
    ]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown model"));
    // No panic on a missing file.
    let out = amorph(&["eos", dir.path().join("missing.csv").to_str().unwrap()]);
    assert!(!out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
