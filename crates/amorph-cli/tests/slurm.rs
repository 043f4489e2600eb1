//! `amorph batch --slurm` on a real single-node Slurm cluster (`validation/slurm_cluster.sh start`;
//! `.ci/run` starts one and sets AMORPH_REQUIRE_SLURM=1): six compositions as a job array, one task
//! cancelled mid-run, the follow-up job resubmits it, and the gathered database equals a local batch
//! with the same seed.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

fn slurm_answers() -> bool {
    Command::new("sinfo")
        .args(["--noheader", "--format=%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

fn state(db: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(db.join("slurm/state.json")).unwrap()).unwrap()
}

const TINY: &str = "natoms = 45\ntemperatures_K = [1500.0, 2500.0]\nwarmup_steps = 300\n\
                    [stage]\nprobe_steps = 300\nproduction_steps = 1500\nchunk_steps = 500\n\
                    pressure_tolerance_GPa = 2.0\n";

const LIST: &str = "Li2Si2O5\nLi2SiO3\nLi2Si3O7\nLi3PO4\nLiPO3\nLiAlSiO4\n";

#[test]
fn a_cancelled_task_is_resubmitted_and_the_database_equals_a_local_run() {
    if !slurm_answers() {
        assert!(
            std::env::var_os("AMORPH_REQUIRE_SLURM").is_none(),
            "AMORPH_REQUIRE_SLURM is set but no Slurm cluster answers"
        );
        eprintln!("skipped: no Slurm cluster here (validation/slurm_cluster.sh start)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    std::fs::write(d.join("list.txt"), LIST).unwrap();
    ok(&amorph_in(
        d,
        &[
            "batch",
            "list.txt",
            "--out",
            "cluster",
            "--config",
            "tiny.toml",
            "--slurm",
            "--cpus-per-task",
            "1",
        ],
    ));
    let db = d.join("cluster");
    let array = state(&db)["submissions"][0]["array_job"]
        .as_str()
        .unwrap()
        .to_string();

    // Cancel the first task seen running once its run has started writing checkpoints.
    let clock = Instant::now();
    let cancelled = loop {
        assert!(clock.elapsed() < Duration::from_secs(300), "no task started");
        let q = Command::new("squeue")
            .args(["--noheader", "--array", "--format=%i %T", "--jobs", &array])
            .output()
            .unwrap();
        let running = String::from_utf8_lossy(&q.stdout)
            .lines()
            .filter_map(|l| {
                let (id, st) = l.split_once(' ')?;
                let idx: usize = id.split_once('_')?.1.parse().ok()?;
                (st.trim() == "RUNNING").then_some(idx)
            })
            .find(|&i| {
                let formula = LIST.lines().nth(i).unwrap();
                db.join("runs").join(formula).join("melt").exists()
            });
        if let Some(i) = running {
            let status = Command::new("scancel")
                .arg(format!("{array}_{i}"))
                .status()
                .unwrap();
            assert!(status.success());
            break i;
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    // The follow-up job gathers and resubmits until everything is done.
    let clock = Instant::now();
    while !state(&db)["finished"].as_bool().unwrap_or(false) {
        assert!(
            clock.elapsed() < Duration::from_secs(900),
            "the Slurm batch did not finish: {}",
            ok(&amorph_in(d, &["batch", "status", "cluster"]))
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let s = state(&db);
    let resubmitted: Vec<u64> = s["submissions"][1]["indices"]
        .as_array()
        .expect("a resubmission")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(resubmitted.contains(&(cancelled as u64)), "{s}");
    let formula = LIST.lines().nth(cancelled).unwrap();
    let log = std::fs::read_to_string(db.join("runs").join(formula).join("run.log")).unwrap();
    assert!(
        log.contains("resuming"),
        "the resubmitted task resumed its checkpoints:\n{log}"
    );

    let status = ok(&amorph_in(d, &["batch", "status", "cluster"]));
    assert!(status.contains("6 done, 0 failed, 0 pending"), "{status}");
    let list = ok(&amorph_in(d, &["db", "list", "cluster"]));
    assert_eq!(list.lines().filter(|l| l.ends_with(" ok")).count(), 6, "{list}");

    // The same compositions and seed without a scheduler give the same table, to the last digit.
    ok(&amorph_in(
        d,
        &["batch", "list.txt", "--out", "local", "--config", "tiny.toml"],
    ));
    ok(&amorph_in(
        d,
        &["db", "export", "cluster", "--csv", "cluster.csv"],
    ));
    ok(&amorph_in(d, &["db", "export", "local", "--csv", "local.csv"]));
    let a = std::fs::read_to_string(d.join("cluster.csv")).unwrap();
    let b = std::fs::read_to_string(d.join("local.csv")).unwrap();
    assert_eq!(a.lines().count(), 1 + 6 * 2);
    let differing: Vec<String> = a
        .lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .map(|(x, y)| {
            format!(
                "cluster {}\nlocal   {}",
                &x[..x.len().min(90)],
                &y[..y.len().min(90)]
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "cancelled task {cancelled} ({formula}); rows differing:\n{}",
        differing.join("\n")
    );
}
