//! `amorph energy` and `amorph md` end to end.

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

#[test]
fn energy_json_has_the_documented_keys_and_consistent_numbers() {
    let g = glass();
    let text = ok(&amorph(&[
        "energy",
        g.to_str().unwrap(),
        "--potential",
        "pedone",
        "--coulomb",
        "dsf",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for k in [
        "energy_eV",
        "forces_eV_A",
        "virial_eV",
        "stress_GPa",
        "pressure_GPa",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["forces_eV_A"].as_array().unwrap().len(), 216);
    // Newton's third law: the forces sum to zero.
    let mut sum = [0.0; 3];
    for f in v["forces_eV_A"].as_array().unwrap() {
        for d in 0..3 {
            sum[d] += f[d].as_f64().unwrap();
        }
    }
    assert!(sum.iter().all(|x| x.abs() < 1e-9), "{sum:?}");
    // pressure = −tr(stress)/3 = tr(W)/(3V).
    let p = v["pressure_GPa"].as_f64().unwrap();
    let tr: f64 = (0..3).map(|i| v["stress_GPa"][i][i].as_f64().unwrap()).sum();
    assert!((p + tr / 3.0).abs() < 1e-9 * p.abs().max(1.0));
    // --shift changes the energy but not the forces.
    let shifted: serde_json::Value = serde_json::from_str(&ok(&amorph(&[
        "energy",
        g.to_str().unwrap(),
        "--no-shift",
        "--json",
    ])))
    .unwrap();
    assert_ne!(shifted["energy_eV"], v["energy_eV"]);
    assert_eq!(shifted["forces_eV_A"], v["forces_eV_A"]);
}

#[test]
fn md_writes_thermo_trajectory_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let g = glass();
    let args = |steps: &str, extra: &[String]| {
        let mut a: Vec<String> = [
            "md",
            g.to_str().unwrap(),
            "--temperature",
            "1000",
            "--timestep",
            "1",
            "--steps",
            steps,
            "--every",
            "10",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend_from_slice(extra);
        a
    };
    let run = |a: Vec<String>| amorph(&a.iter().map(String::as_str).collect::<Vec<_>>());
    ok(&run(args(
        "50",
        &[
            "--thermo".into(),
            p("thermo.csv"),
            "--traj".into(),
            p("XDATCAR"),
            "--checkpoint".into(),
            p("run.ckpt"),
            "-o".into(),
            p("final.vasp"),
        ],
    )));
    let thermo = std::fs::read_to_string(p("thermo.csv")).unwrap();
    assert!(thermo.starts_with("step,time_fs,T_K"));
    assert_eq!(thermo.lines().count(), 1 + 6, "{thermo}");
    let traj = std::fs::read_to_string(p("XDATCAR")).unwrap();
    assert_eq!(traj.matches("Direct configuration").count(), 6);
    assert!(Path::new(&p("final.vasp")).exists());
    ok(&run(args(
        "20",
        &[
            "--restart".into(),
            p("run.ckpt"),
            "--thermo".into(),
            p("thermo2.csv"),
        ],
    )));
    let thermo2 = std::fs::read_to_string(p("thermo2.csv")).unwrap();
    let last = thermo2.lines().last().unwrap();
    assert!(last.starts_with("70,"), "{last}");

    // Periodic checkpoints: a run of 30 steps checkpointed every 10, and a run stopped at step 20 (same
    // checkpoints) then restarted for 10 more, end in exactly the same state.
    ok(&run(args(
        "30",
        &[
            "--ensemble".into(),
            "csvr".into(),
            "--checkpoint".into(),
            p("a.ckpt"),
            "--checkpoint-every".into(),
            "10".into(),
            "-o".into(),
            p("a.vasp"),
        ],
    )));
    ok(&run(args(
        "20",
        &[
            "--ensemble".into(),
            "csvr".into(),
            "--checkpoint".into(),
            p("b.ckpt"),
            "--checkpoint-every".into(),
            "10".into(),
        ],
    )));
    ok(&run(args(
        "10",
        &["--restart".into(), p("b.ckpt"), "-o".into(), p("b.vasp")],
    )));
    assert_eq!(
        std::fs::read_to_string(p("a.vasp")).unwrap(),
        std::fs::read_to_string(p("b.vasp")).unwrap()
    );
}

#[test]
fn npt_changes_the_volume_towards_the_set_pressure() {
    let dir = tempfile::tempdir().unwrap();
    let thermo = dir.path().join("npt.csv");
    ok(&amorph(&[
        "md",
        glass().to_str().unwrap(),
        "--ensemble",
        "npt",
        "--pressure",
        "5",
        "--pressure-damping",
        "200",
        "--temperature",
        "1500",
        "--timestep",
        "1",
        "--steps",
        "300",
        "--every",
        "10",
        "--thermo",
        thermo.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&thermo).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "volume_A3").unwrap();
    let volumes: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    // 5 GPa is far above the glass's pressure at its own volume: the cell shrinks.
    assert!(
        volumes.last().unwrap() < &(0.99 * volumes[0]),
        "{:?}",
        (volumes[0], volumes.last())
    );
}

#[test]
fn uncovered_elements_and_unknown_potentials_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let nacl = dir.path().join("NaCl.vasp");
    std::fs::write(
        &nacl,
        "NaCl\n1.0\n5.64 0 0\n0 5.64 0\n0 0 5.64\nNa Cl\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n",
    )
    .unwrap();
    let out = amorph(&["energy", nacl.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Cl (no charge)"), "{err}");
    let out = amorph(&["energy", glass().to_str().unwrap(), "--potential", "nonsense"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown force field"));
}
