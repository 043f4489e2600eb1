//! `amorph batch`, `amorph db` and `amorph train` end to end on tiny runs.

use std::path::Path;
use std::process::{Command, Output};

fn amorph_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn err(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8(out.stderr.clone()).unwrap()
}

const TINY: &str = "natoms = 45\ntemperatures_K = [1500.0, 2500.0]\nwarmup_steps = 300\n\
                    [stage]\nprobe_steps = 300\nproduction_steps = 1500\nchunk_steps = 500\n\
                    pressure_tolerance_GPa = 2.0\n";

#[test]
fn a_batch_runs_gathers_resumes_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    // Xe is not in the Pedone force field: that composition fails, the batch carries on.
    std::fs::write(
        d.join("list.txt"),
        "# two glasses\nLi2Si2O5\n\nXe2O  # no Pedone charge\n",
    )
    .unwrap();
    let out = amorph_in(
        d,
        &[
            "batch",
            "list.txt",
            "--out",
            "db",
            "--config",
            "tiny.toml",
            "--jobs",
            "2",
        ],
    );
    ok(&out);
    assert!(d.join("db/amorph.sqlite").is_file());
    assert!(d.join("db/runs/Li2Si2O5/record.json").is_file());
    assert!(d.join("db/runs/Xe2O/run.log").is_file());

    let status = ok(&amorph_in(d, &["batch", "status", "db"]));
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Li2Si2O5") && l.contains("done")),
        "{status}"
    );
    // Its record names the stage and the reason; the database keeps it as a failure.
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Xe2O") && l.contains("failed in force field") && l.contains("Xe")),
        "{status}"
    );

    let list = ok(&amorph_in(d, &["db", "list", "db"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("Xe2O") && l.contains("failed in force field")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("Li2Si2O5") && l.contains(" ok")),
        "{list}"
    );

    // Gathering again changes nothing; rerunning the batch only retries what is not done.
    let again = amorph_in(d, &["batch", "gather", "db"]);
    ok(&again);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 new, 0 updated"));
    let rerun = amorph_in(d, &["batch", "list.txt", "--out", "db", "--config", "tiny.toml"]);
    ok(&rerun);
    assert!(String::from_utf8_lossy(&rerun.stderr).contains("1 of 2 compositions to run"));
    let list_again = ok(&amorph_in(d, &["db", "list", "db"]));
    assert_eq!(
        list_again.lines().filter(|l| l.starts_with("Li2Si2O5")).count(),
        1
    );

    // Another batch in the same directory is refused.
    let other = amorph_in(d, &["batch", "list.txt", "--out", "db", "--quick"]);
    assert!(err(&other).contains("another batch"));

    ok(&amorph_in(
        d,
        &["db", "export", "db", "--csv", "f.csv", "--extxyz", "s.extxyz"],
    ));
    let csv = std::fs::read_to_string(d.join("f.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(
        &header[..6],
        [
            "composition",
            "seed",
            "T_K",
            "D_cm2_s",
            "D_stderr_cm2_s",
            "log10_D"
        ]
    );
    assert!(header.contains(&"LNC") && header.contains(&"1/kBT"));
    assert_eq!(csv.lines().count(), 3, "a row per temperature");
    let xyz = std::fs::read_to_string(d.join("s.extxyz")).unwrap();
    assert_eq!(xyz.lines().filter(|l| l.starts_with("Lattice=")).count(), 4);
}

#[test]
fn bad_lists_and_databases_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("bad.txt"), "Li2O\nLi2Qq3\n").unwrap();
    let e = err(&amorph_in(d, &["batch", "bad.txt", "--out", "db"]));
    assert!(e.contains("bad.txt:2"), "{e}");
    std::fs::write(d.join("twice.txt"), "Li2O\nO2Li4\n").unwrap();
    let e = err(&amorph_in(d, &["batch", "twice.txt", "--out", "db"]));
    assert!(e.contains("twice.txt:2") && e.contains("line 1"), "{e}");
    assert!(!d.join("db").exists(), "nothing written for a bad list");

    let e = err(&amorph_in(d, &["db", "export", "nowhere", "--csv", "f.csv"]));
    assert!(e.contains("no such database"), "{e}");
    assert!(!d.join("f.csv").exists() && !d.join("nowhere").exists());
    let e = err(&amorph_in(d, &["batch", "status", "nowhere"]));
    assert!(e.contains("not a batch directory"), "{e}");
}

#[test]
fn train_fits_the_three_models_on_a_table() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // log10 D = −Ea/(kB T ln 10) with Ea rising with LNC; a noise-free law the models must find.
    let mut csv = String::from("composition,seed,T_K,D_cm2_s,D_stderr_cm2_s,log10_D,LNC,PF,T,1/kBT\n");
    for i in 0..40 {
        let t = [1000.0, 1500.0, 2000.0, 2500.0][i % 4];
        let lnc = 3.0 + (i / 4) as f64 * 0.3;
        let pf = 0.4 + ((i * 7) % 10) as f64 * 0.01;
        let inv_kt = 1.0 / (8.617_333e-5 * t);
        let log_d = -3.0 - (0.1 + 0.05 * lnc) * inv_kt / std::f64::consts::LN_10;
        let dd = 10f64.powf(log_d);
        csv.push_str(&format!(
            "G{i},1,{t},{dd},{},{log_d},{lnc},{pf},{t},{inv_kt}\n",
            dd / 10.0
        ));
    }
    std::fs::write(d.join("table.csv"), csv).unwrap();
    let out = amorph_in(
        d,
        &[
            "train",
            "table.csv",
            "--out",
            "model",
            "--sisso-ops",
            "*",
            "--sisso-dim",
            "2",
        ],
    );
    ok(&out);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model/metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["rows"], 40);
    assert_eq!(metrics["features"].as_array().unwrap().len(), 4);
    for m in ["rf", "gbt"] {
        assert!(
            metrics[m]["cv"]["r2_mean"].as_f64().unwrap() > 0.8,
            "{m}: {}",
            metrics[m]
        );
    }
    assert_eq!(metrics["gbt"]["grid"].as_array().unwrap().len(), 27);
    // The law is exact in 1/kBT and LNC × 1/kBT: SISSO's 2D model finds it to rounding.
    let sisso: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model/sisso.json")).unwrap()).unwrap();
    assert!(sisso["models"][1]["rmse"].as_f64().unwrap() < 1e-8, "{sisso}");
    for f in [
        "parity_rf.svg",
        "parity_gbt.svg",
        "importances_rf.svg",
        "importances.csv",
    ] {
        assert!(d.join("model").join(f).is_file(), "{f}");
    }

    // A per-temperature target: the rows at 1500 K only.
    let out = amorph_in(
        d,
        &[
            "train",
            "table.csv",
            "--target",
            "log10_D_1500K",
            "--out",
            "m2",
            "--no-grid",
        ],
    );
    ok(&out);
    let m2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m2/metrics.json")).unwrap()).unwrap();
    assert_eq!(m2["rows"], 10);

    let e = err(&amorph_in(d, &["train", "table.csv", "--target", "nope"]));
    assert!(e.contains("no target column nope"), "{e}");
}

#[test]
fn a_run_does_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    let record = |threads: &str| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_amorph"))
            .current_dir(d)
            .env("RAYON_NUM_THREADS", threads)
            .args(["run", "Li2SiO3", "--config", "tiny.toml", "--out", threads])
            .output()
            .unwrap();
        ok(&out);
        let mut r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(threads).join("record.json")).unwrap())
                .unwrap();
        r.as_object_mut().unwrap().remove("timings_s");
        r
    };
    assert_eq!(record("1"), record("2"));
}

#[test]
fn a_run_resumed_from_its_packed_structure_gives_the_same_record() {
    // What a kill during the warm-up leaves: packed.vasp and nothing after it.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    let run = || {
        ok(&amorph_in(
            d,
            &["run", "Li2SiO3", "--config", "tiny.toml", "--out", "r"],
        ));
        let mut r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("r/record.json")).unwrap()).unwrap();
        r.as_object_mut().unwrap().remove("timings_s");
        r
    };
    let first = run();
    for entry in std::fs::read_dir(d.join("r")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else if name != "packed.vasp" && name != "settings.json" {
            std::fs::remove_file(&path).unwrap();
        }
    }
    assert_eq!(run(), first);
}
