//! `amorph melt` and `amorph quench` end to end, with tiny runs.

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

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

const TINY: [&str; 12] = [
    "--probe-steps",
    "40",
    "--production-steps",
    "60",
    "--chunk",
    "25",
    "--every",
    "10",
    "--timestep",
    "1",
    "--pressure-tolerance",
    "3",
];

#[test]
fn melt_then_quench_write_searches_trajectories_and_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let melt = dir.path().join("melt");
    let g = glass();
    let mut args = vec!["melt", g.to_str().unwrap(), "--temperature", "3000"];
    args.extend(TINY);
    args.extend(["-o", melt.to_str().unwrap()]);
    ok(&amorph(&args));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(melt.join("summary.json")).unwrap()).unwrap();
    let p = summary["pressure_GPa"].as_f64().unwrap();
    assert!(p.abs() < 3.0, "{summary}");
    let v = summary["volume_A3"].as_f64().unwrap();
    let s = amorph::structure::io::read_structure(melt.join("final.vasp")).unwrap();
    assert!((s.lattice().volume() - v).abs() < 1e-6 * v);
    // 60 steps, a frame every 10 and at step 0; chunks 25 + 25 + 10 joined.
    let t = amorph::structure::io::read_trajectory(melt.join("XDATCAR")).unwrap();
    assert_eq!(t.len(), 7);
    let thermo = std::fs::read_to_string(melt.join("thermo.csv")).unwrap();
    assert_eq!(thermo.lines().count(), 1 + 7);
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(melt.join("search.json")).unwrap()).unwrap();
    assert!(history["records"].as_array().unwrap().len() >= 3);

    // A finished stage is not recomputed.
    let again = ok(&amorph(&args));
    assert!(again.contains(&format!("{v}")), "{again}");

    let quench = dir.path().join("quench");
    let mut args = vec!["quench", melt.to_str().unwrap(), "--temperatures", "1500,2000"];
    args.extend(TINY);
    args.extend(["-o", quench.to_str().unwrap()]);
    ok(&amorph(&args));
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(quench.join("quench.json")).unwrap()).unwrap();
    let temps: Vec<f64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["T_K"].as_f64().unwrap())
        .collect();
    assert_eq!(temps, vec![1500.0, 2000.0]);
    assert!(quench.join("T1500K/XDATCAR").exists() && quench.join("T2000K/final.vasp").exists());
}

#[test]
fn quench_of_an_unfinished_melt_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = amorph(&["quench", dir.path().to_str().unwrap(), "-o", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a finished melt"));
}
