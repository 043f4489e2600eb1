//! The SQLite database of records: gathering is idempotent and safe under concurrency, failed runs
//! are kept with their stage, exports carry every descriptor and structure, bad input is typed.

use std::path::{Path, PathBuf};

use amorph::db::{Database, DbError, Gathered};
use amorph::features::{FeatureSet, Options};
use amorph::pipeline::PipelineConfig;
use amorph::structure::{Element, io};
use serde_json::{Value, json};

fn glass_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/Li2Si2O5_glass.vasp")
}

/// A run directory as `amorph run` leaves it: record.json plus the structure of each stage.
fn write_run(dir: &Path, seed: u64, temperatures: &[(f64, f64)]) -> Value {
    let glass = io::read_structure(glass_path()).unwrap();
    for sub in ["melt".to_string()]
        .into_iter()
        .chain(temperatures.iter().map(|(t, _)| format!("T{t}K")))
    {
        std::fs::create_dir_all(dir.join(&sub)).unwrap();
        io::write_structure(dir.join(&sub).join("final.vasp"), &glass).unwrap();
    }
    io::write_structure(dir.join("packed.vasp"), &glass).unwrap();
    let temps: Vec<Value> = temperatures
        .iter()
        .map(|&(t, d)| {
            let options = Options {
                mobile: Element::from_symbol("Li").unwrap(),
                temperature: Some(t),
                ..Options::default()
            };
            let set = FeatureSet::table1(options).unwrap();
            let features: serde_json::Map<String, Value> = set
                .names()
                .into_iter()
                .zip(set.compute(&glass).unwrap())
                .map(|(n, v)| (n, v.ok().map_or(Value::Null, |x| json!(x))))
                .collect();
            json!({"T_K": t, "volume_A3": glass.volume(), "density_g_cm3": glass.density(),
                   "pressure_GPa": 0.1, "D_cm2_s": d, "D_stderr_cm2_s": d / 10.0, "features": features})
        })
        .collect();
    let record = json!({
        "composition": "Li2Si2O5", "natoms": glass.len(), "seed": seed,
        "force_field": {"name": "pedone", "reference": "Pedone et al. 2006"},
        "settings": PipelineConfig { seed, ..PipelineConfig::default() },
        "melt": {"T_K": 3000.0, "volume_A3": glass.volume(), "density_g_cm3": glass.density()},
        "temperatures": temps,
        "arrhenius": {"Ea_eV": 0.5, "Ea_stderr_eV": 0.05, "D0_cm2_s": 1e-3, "D_300K_cm2_s": 1e-11},
        "versions": {"amorph": "test"}, "timings_s": {"pack": 0.1},
    });
    std::fs::write(
        dir.join("record.json"),
        serde_json::to_string_pretty(&record).unwrap(),
    )
    .unwrap();
    record
}

#[test]
fn gather_is_idempotent_and_exports_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("runs/Li2Si2O5");
    write_run(&run, 7, &[(1000.0, 1e-6), (2000.0, -1e-7)]);
    let mut db = Database::open(&tmp.path().join("db.sqlite")).unwrap();
    assert_eq!(db.gather_run(&run).unwrap(), Gathered::Inserted);
    assert_eq!(db.gather_run(&run).unwrap(), Gathered::Unchanged);
    let records = db.records().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].formula, "Li2Si2O5");
    assert_eq!(records[0].seed, 7);
    assert_eq!(records[0].status, "ok");
    assert_eq!(records[0].ea_ev, Some(0.5));

    let table = db.feature_table().unwrap();
    assert_eq!(table.values.len(), 2);
    assert_eq!(table.columns[..6], amorph::db::FeatureTable::NON_FEATURES);
    for name in ["AAV", "LNC", "PF", "SLPW_pp", "T", "1/kBT"] {
        assert!(table.columns.iter().any(|c| c == name), "{name} missing");
    }
    let lnc = table.columns.iter().position(|c| c == "LNC").unwrap() - 2;
    let log_d = table.columns.iter().position(|c| c == "log10_D").unwrap() - 2;
    assert!(table.values[0][lnc].unwrap() > 1.0);
    assert!((table.values[0][log_d].unwrap() + 6.0).abs() < 1e-12);
    // log10 of a non-positive D is undefined, written as an empty cell.
    assert_eq!(table.values[1][log_d], None);
    let csv = table.to_csv();
    assert!(csv.lines().nth(1).unwrap().starts_with("Li2Si2O5,7,1000.0,"));
    assert!(csv.lines().nth(2).unwrap().contains(",,"));

    let xyz = db.extxyz().unwrap();
    let frames: Vec<&str> = xyz.lines().filter(|l| l.starts_with("Lattice=")).collect();
    assert_eq!(frames.len(), 4, "packed, melt and two quenched structures");
    assert!(frames[0].contains("stage=packed") && frames[1].contains("stage=melt"));
    assert!(frames[2].contains("stage=T1000K") && frames[2].contains("T_K=1000"));
    assert_eq!(xyz.lines().filter(|l| l.trim() == "216").count(), 4);
}

#[test]
fn a_changed_record_replaces_the_old_one_and_failures_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let mut record = write_run(&run, 1, &[(1500.0, 1e-6)]);
    let failed = {
        let mut r = record.clone();
        r["error"] = json!({"stage": "quench to 1500 K", "message": "exploded at step 12"});
        r["temperatures"] = json!([]);
        r["arrhenius"] = Value::Null;
        r
    };
    std::fs::write(run.join("record.json"), failed.to_string()).unwrap();
    let mut db = Database::open(&tmp.path().join("db.sqlite")).unwrap();
    assert_eq!(db.gather_run(&run).unwrap(), Gathered::Inserted);
    let r = &db.records().unwrap()[0];
    assert_eq!(r.status, "failed");
    assert_eq!(r.failed_stage.as_deref(), Some("quench to 1500 K"));
    assert_eq!(r.error.as_deref(), Some("exploded at step 12"));
    assert!(db.feature_table().unwrap().values.is_empty());

    // The run is resumed and finishes: the same key, a new content.
    record["timings_s"]["pack"] = json!(0.2);
    std::fs::write(run.join("record.json"), record.to_string()).unwrap();
    assert_eq!(db.gather_run(&run).unwrap(), Gathered::Updated);
    let records = db.records().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, "ok");
    assert_eq!(db.feature_table().unwrap().values.len(), 1);

    // Another seed is another record.
    let other = tmp.path().join("other");
    write_run(&other, 2, &[(1500.0, 1e-6)]);
    assert_eq!(db.gather_run(&other).unwrap(), Gathered::Inserted);
    assert_eq!(db.records().unwrap().len(), 2);
}

#[test]
fn concurrent_gathers_neither_lose_nor_duplicate() {
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<PathBuf> = (0..4)
        .map(|i| {
            let dir = tmp.path().join(format!("run{i}"));
            write_run(&dir, i, &[(1000.0, 1e-6)]);
            dir
        })
        .collect();
    let path = tmp.path().join("db.sqlite");
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut db = Database::open(&path).unwrap();
                for r in &runs {
                    db.gather_run(r).unwrap();
                }
            });
        }
    });
    let db = Database::open(&path).unwrap();
    let records = db.records().unwrap();
    assert_eq!(records.len(), 4);
    let seeds: Vec<u64> = records.iter().map(|r| r.seed).collect();
    assert_eq!(seeds, vec![0, 1, 2, 3]);
}

#[test]
fn bad_input_is_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut db = Database::open(&tmp.path().join("db.sqlite")).unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(db.gather_run(&empty), Err(DbError::NoRecord(_))));

    std::fs::write(empty.join("record.json"), "{\"composition\": ").unwrap();
    let e = db.gather_run(&empty).unwrap_err();
    assert!(matches!(e, DbError::BadRun { .. }), "{e}");
    assert!(e.to_string().contains("record.json"), "{e}");

    std::fs::write(
        empty.join("record.json"),
        "{\"composition\": \"Qq2O\", \"seed\": 1, \"settings\": {}}",
    )
    .unwrap();
    assert!(matches!(db.gather_run(&empty), Err(DbError::BadRun { .. })));

    let not_db = tmp.path().join("text.sqlite");
    std::fs::write(
        &not_db,
        "this is not a database, only text that is long enough to be read",
    )
    .unwrap();
    let e = Database::open(&not_db).err().expect("not a database");
    assert!(matches!(e, DbError::Sqlite { .. }), "{e}");
    assert!(e.to_string().contains("text.sqlite"), "{e}");

    drop(db);
    let conn = rusqlite::Connection::open(tmp.path().join("db.sqlite")).unwrap();
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", [])
        .unwrap();
    drop(conn);
    let e = Database::open(&tmp.path().join("db.sqlite"))
        .err()
        .expect("newer schema");
    assert!(matches!(e, DbError::Schema { .. }), "{e}");
}
