//! `amorph features` end to end: --list, --formula, files to CSV and JSON, trajectories, bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/features/amorphous")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn list_names_every_feature_with_unit_and_description() {
    let o = amorph(&["features", "--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 45);
    assert!(text.lines().next().unwrap().starts_with("AAV"));
    assert!(text.lines().any(|l| l.starts_with("SLPW_pp") && l.contains('Å')));
    let o = amorph(&["features", "--list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 45);
    assert_eq!(v[0]["name"], "AAV");
    assert_eq!(v[0]["unit"], "Å³");
}

#[test]
fn formula_gives_the_compositional_features_in_both_conventions() {
    let o = amorph(&["features", "--formula", "Li2Si2O5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = v.as_object().unwrap();
    assert_eq!(m.len(), 21);
    assert!(!m.contains_key("LNC"));
    assert!((m["Li%"].as_f64().unwrap() - 2.0 / 9.0).abs() < 1e-15);
    let sendek_dx = m["ΔX"].as_f64().unwrap();
    assert!((sendek_dx - ((2.0 * 1.90 + 5.0 * 3.44) / 7.0 - 0.98)).abs() < 1e-12);
    let o = amorph(&[
        "features",
        "--formula",
        "Li2Si2O5",
        "--convention",
        "zheng2024",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let zheng_dx = v["ΔX"].as_f64().unwrap();
    assert!(
        (zheng_dx - ((2.0 * 1.90 + 5.0 * 3.44) / 7.0 - (2.0 * 0.98 + 2.0 * 1.90 + 5.0 * 3.44) / 9.0)).abs()
            < 1e-12
    );
    // Ecoh: Kittel (sendek) vs the released table's elemental values (zheng2024).
    assert!((v["Ecoh"].as_f64().unwrap() - m["Ecoh"].as_f64().unwrap()).abs() > 0.1);
    // Keys in table order.
    let text = stdout(&o);
    assert!(text.find("\"Li%\"").unwrap() < text.find("\"ΔX\"").unwrap());
}

#[test]
fn files_give_one_csv_row_each_and_json_objects_with_nulls() {
    let (a, b) = (data("Li3PS4.vasp"), data("SiO2.vasp"));
    let o = amorph(&["features", &a, &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("file,AAV,LBI,SDLI,SBI,ENS,RBI,AFC,AASD,VPA,LASD,LLSD,LNC,"));
    assert_eq!(lines[0].split(',').count(), 44);
    assert!(lines[1].starts_with(&a));
    let o = amorph(&["features", &a, &b, "--json", "--temperature", "1500"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v[&b]["LNC"].is_null(), "no Li in SiO2");
    assert!(v[&b]["SBI"].as_f64().unwrap() > 0.0);
    assert_eq!(v[&a]["T"].as_f64(), Some(1500.0));
    assert!((v[&a]["1/kBT"].as_f64().unwrap() - 1.0 / (8.617333262e-5 * 1500.0)).abs() < 1e-9);
    // The values are the library's.
    let s = amorph::structure::io::read_structure(&a).unwrap();
    let set = amorph::features::FeatureSet::table1(amorph::features::Options::default()).unwrap();
    let lib = set.compute(&s).unwrap();
    for (name, x) in set.names().iter().zip(&lib) {
        assert_eq!(v[&a][name.as_str()].as_f64(), x.clone().ok(), "{name}");
    }
}

#[test]
fn csv_file_is_written_atomically_and_trajectories_are_averaged() {
    let dir = tempfile::tempdir().unwrap();
    // A three-frame XDATCAR from three structures of the same composition and cell.
    let frames: Vec<amorph::structure::Structure> = (0..3)
        .map(|k| {
            let mut s = amorph::structure::io::read_structure(data("Li3N.vasp")).unwrap();
            for p in s.positions_mut() {
                p.x += 0.05 * k as f64 * (p.y * 0.7).sin();
            }
            s
        })
        .collect();
    let traj = amorph::structure::Trajectory::from_structures(&frames).unwrap();
    let xdatcar = dir.path().join("XDATCAR");
    amorph::structure::io::write_trajectory(&xdatcar, &traj).unwrap();
    let out = dir.path().join("features.csv");
    let o = amorph(&[
        "features",
        xdatcar.to_str().unwrap(),
        "--std",
        "--csv",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header.len(), 1 + 2 * 43);
    assert!(header.contains(&"LNC_std"));
    let row: Vec<&str> = lines[1].split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let lnc: Vec<f64> = frames
        .iter()
        .map(|s| {
            let set =
                amorph::features::FeatureSet::from_names(amorph::features::Options::default(), &["LNC"])
                    .unwrap();
            set.compute(s).unwrap()[0].clone().unwrap()
        })
        .collect();
    let mean = lnc.iter().sum::<f64>() / 3.0;
    let sd = (lnc.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!((row[col("LNC")].parse::<f64>().unwrap() - mean).abs() < 1e-12);
    assert!((row[col("LNC_std")].parse::<f64>().unwrap() - sd).abs() < 1e-12);
    // Only the two files in the directory: no temporary left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn bad_input_fails_with_a_message_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let o = amorph(&["features", "/nonexistent/POSCAR", "--csv", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/nonexistent/POSCAR"), "{}", stderr(&o));
    assert!(!out.exists());
    let o = amorph(&["features"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--formula"));
    let o = amorph(&["features", "--formula", "Li2Xx3"]);
    assert!(!o.status.success());
    let o = amorph(&["features", "--formula", "Li2O", "--convention", "sendek2017"]);
    assert!(stderr(&o).contains("unknown convention"), "{}", stderr(&o));
    let o = amorph(&["features", &data("Li3N.vasp"), "--cutoff", "-1"]);
    assert!(stderr(&o).contains("cutoff"), "{}", stderr(&o));
}
