//! `amorph diffusion` and `amorph arrhenius` end to end, against the pymatgen references of
//! `tests/data/diffusion/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/diffusion")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn reference(name: &str) -> serde_json::Value {
    json(&std::fs::read_to_string(data(name)).unwrap())
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn smoothed_modes_equal_pymatgen_through_the_command_line() {
    let r = reference("walk_cubic.pymatgen.json");
    let traj = data("walk_cubic.XDATCAR");
    for (mode, key) in [("max", "max"), ("constant", "constant"), ("false", "false")] {
        let v = json(&ok(&amorph(&[
            "diffusion",
            &traj,
            "--species",
            "Li",
            "--timestep",
            "2",
            "--step-skip",
            "5",
            "--smoothed",
            mode,
            "--temperature",
            "1500",
            "--json",
        ])));
        let m = &r["modes"][key];
        assert!(
            rel(v["D_cm2_s"].as_f64().unwrap(), m["diffusivity"].as_f64().unwrap()) < 1e-6,
            "{mode}"
        );
        assert!(
            rel(
                v["D_stderr_cm2_s"].as_f64().unwrap(),
                m["diffusivity_std_dev"].as_f64().unwrap()
            ) < 1e-6
        );
        assert!(
            rel(
                v["conductivity_mS_cm"].as_f64().unwrap(),
                m["conductivity"].as_f64().unwrap()
            ) < 1e-6
        );
        let dt = m["dt"].as_array().unwrap();
        assert_eq!(v["fit_start_fs"].as_f64(), dt[0].as_f64());
        assert_eq!(v["fit_end_fs"].as_f64(), dt[dt.len() - 1].as_f64());
    }
}

#[test]
fn default_rule_reports_d_its_error_interval_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let csv: PathBuf = dir.path().join("msd.csv");
    let svg: PathBuf = dir.path().join("msd.svg");
    let v = json(&ok(&amorph(&[
        "diffusion",
        &data("Li2Si2O5_melt_3000K.XDATCAR"),
        "--species",
        "Li",
        "--timestep",
        "2",
        "--step-skip",
        "40",
        "--temperature",
        "3000",
        "--json",
        "--msd",
        csv.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ])));
    for k in [
        "D_cm2_s",
        "D_stderr_cm2_s",
        "conductivity_mS_cm",
        "fit_start_fs",
        "fit_end_fs",
        "n_effective",
    ] {
        assert!(v[k].as_f64().is_some(), "missing {k}: {v}");
    }
    let d = v["D_cm2_s"].as_f64().unwrap();
    let ci = v["D_ci95_cm2_s"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() < d && d < ci[1].as_f64().unwrap());
    // 61 frames 80 fs apart: the window is 10–50 % of 4800 fs.
    assert_eq!(v["fit_start_fs"].as_f64(), Some(480.0));
    assert_eq!(v["fit_end_fs"].as_f64(), Some(2400.0));
    assert_eq!(v["haven_ratio"].as_f64(), Some(1.0));
    // σ/D is the Nernst–Einstein factor n e²/(V k T) × 1000.
    let factor = 48.0 * 1.602176634e-19f64.powi(2)
        / (v["volume_A3"].as_f64().unwrap() * 1e-24 * 1.380649e-23 * 3000.0)
        * 1000.0;
    assert!(rel(v["conductivity_mS_cm"].as_f64().unwrap(), d * factor) < 1e-12);
    let table = std::fs::read_to_string(&csv).unwrap();
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("time_fs,msd_A2,msd_x_A2,msd_y_A2,msd_z_A2"));
    assert_eq!(lines.count(), 61);
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.contains("polyline") && plot.trim_end().ends_with("</svg>"));
    // Text output names the interval.
    let text = ok(&amorph(&[
        "diffusion",
        &data("Li2Si2O5_melt_3000K.XDATCAR"),
        "--species",
        "Li",
        "--timestep",
        "2",
        "--step-skip",
        "40",
    ]));
    assert!(text.contains("95 % interval"), "{text}");
}

#[test]
fn arrhenius_equals_pymatgen_and_plots() {
    let r = reference("arrhenius.pymatgen.json");
    let v = json(&ok(&amorph(&[
        "arrhenius",
        &data("arrhenius_noisy.csv"),
        "--json",
        "--at",
        "1200",
    ])));
    let m = &r["arrhenius_noisy.csv"];
    assert!(rel(v["Ea_eV"].as_f64().unwrap(), m["Ea_eV"].as_f64().unwrap()) < 1e-9);
    assert!(
        rel(
            v["Ea_stderr_eV"].as_f64().unwrap(),
            m["Ea_stderr_eV"].as_f64().unwrap()
        ) < 1e-9
    );
    assert!(rel(v["D0_cm2_s"].as_f64().unwrap(), m["c_cm2_s"].as_f64().unwrap()) < 1e-9);
    assert!(
        rel(
            v["D_at_300K_cm2_s"].as_f64().unwrap(),
            m["D_at_300K_cm2_s"].as_f64().unwrap()
        ) < 1e-9
    );
    assert_eq!(v["extrapolated"]["T_K"].as_f64(), Some(1200.0));
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("arrhenius.svg");
    ok(&amorph(&[
        "arrhenius",
        &data("arrhenius_decreasing.csv"),
        "--plot",
        svg.to_str().unwrap(),
    ]));
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(plot.matches("<circle").count(), 6);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let traj = data("walk_cubic.XDATCAR");
    let e = fails(&amorph(&[
        "diffusion",
        &traj,
        "--species",
        "Na",
        "--timestep",
        "2",
        "--step-skip",
        "5",
    ]));
    assert!(
        e.contains("species Na is absent from the trajectory (present: Li, O)"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    // A trajectory too short to fit.
    let short = dir.path().join("short_XDATCAR");
    let text = std::fs::read_to_string(&traj).unwrap();
    let cut: Vec<&str> = text.split("Direct configuration=").take(6).collect();
    std::fs::write(&short, cut.join("Direct configuration=")).unwrap();
    let e = fails(&amorph(&[
        "diffusion",
        short.to_str().unwrap(),
        "--species",
        "Li",
        "--timestep",
        "2",
        "--step-skip",
        "5",
    ]));
    assert!(
        e.contains("too little data") && e.contains("5-frame trajectory"),
        "{e}"
    );
    let e = fails(&amorph(&[
        "diffusion",
        short.to_str().unwrap(),
        "--species",
        "Li",
        "--timestep",
        "2",
        "--step-skip",
        "5",
        "--smoothed",
        "max",
    ]));
    assert!(e.contains("not enough data"), "{e}");
    // Arrhenius tables: non-monotonic temperatures, D ≤ 0, a malformed number.
    for (body, expect) in [
        (
            "T_K,D_cm2_s\n1000,1e-6\n2000,1e-5\n1500,3e-6\n",
            "strictly increasing or decreasing",
        ),
        ("T_K,D_cm2_s\n1000,0\n2000,1e-5\n", "ln D needs D > 0"),
        ("T_K,D_cm2_s\n1000,-1e-6\n2000,1e-5\n", "ln D needs D > 0"),
        (
            "T_K,D_cm2_s\n1000,1e-6\n2000,x\n",
            ":3: D_cm2_s 'x' is not a number",
        ),
    ] {
        let p = dir.path().join("t.csv");
        std::fs::write(&p, body).unwrap();
        let e = fails(&amorph(&["arrhenius", p.to_str().unwrap()]));
        assert!(e.contains(expect), "{body}: {e}");
    }
}

#[test]
fn extended_xyz_gives_the_same_answer_as_the_xdatcar() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("walk.extxyz");
    ok(&amorph(&[
        "convert",
        &data("walk_triclinic.XDATCAR"),
        xyz.to_str().unwrap(),
    ]));
    let d = |path: &str| {
        json(&ok(&amorph(&[
            "diffusion",
            path,
            "--species",
            "Li",
            "--timestep",
            "1",
            "--step-skip",
            "10",
            "--json",
        ])))["D_cm2_s"]
            .as_f64()
            .unwrap()
    };
    let (a, b) = (d(&data("walk_triclinic.XDATCAR")), d(xyz.to_str().unwrap()));
    assert!(rel(a, b) < 1e-9, "{a} vs {b}");
}
