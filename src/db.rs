//! A database of pipeline records: one SQLite file (schema in `docs/database.md`) gathering the
//! run directories written by [`crate::pipeline::run`].
//!
//! Gathering is idempotent and safe to run concurrently: a record is keyed by its composition,
//! seed and settings, and each run directory is merged in one write transaction, so gathering the
//! same directories twice (or from two processes at once) neither loses nor duplicates a record.
//!
//! ```no_run
//! use amorph::db::Database;
//!
//! let mut db = Database::open("campaign/amorph.sqlite".as_ref())?;
//! db.gather_run("campaign/runs/Li2Si2O5".as_ref())?;
//! let table = db.feature_table()?;
//! std::fs::write("features.csv", table.to_csv())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amorph_features::Feature;
use amorph_structure::io::{self, Format};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

/// Version of the schema written in the `meta` table.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS compositions (
    id INTEGER PRIMARY KEY,
    formula TEXT NOT NULL UNIQUE,
    elements TEXT NOT NULL,
    nelements INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    composition_id INTEGER NOT NULL REFERENCES compositions(id),
    seed INTEGER NOT NULL,
    settings_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    failed_stage TEXT,
    error TEXT,
    natoms INTEGER,
    force_field TEXT,
    melt_T_K REAL,
    melt_volume_A3 REAL,
    melt_density_g_cm3 REAL,
    Ea_eV REAL,
    Ea_stderr_eV REAL,
    D0_cm2_s REAL,
    D_300K_cm2_s REAL,
    run_dir TEXT NOT NULL,
    record_json TEXT NOT NULL,
    UNIQUE (composition_id, seed, settings_json)
);
CREATE TABLE IF NOT EXISTS temperatures (
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    T_K REAL NOT NULL,
    volume_A3 REAL,
    density_g_cm3 REAL,
    pressure_GPa REAL,
    D_cm2_s REAL,
    D_stderr_cm2_s REAL,
    PRIMARY KEY (record_id, T_K)
);
CREATE TABLE IF NOT EXISTS features (
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    T_K REAL NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (record_id, T_K, name)
);
CREATE TABLE IF NOT EXISTS structures (
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    T_K REAL,
    natoms INTEGER NOT NULL,
    volume_A3 REAL NOT NULL,
    extxyz TEXT NOT NULL,
    PRIMARY KEY (record_id, stage)
);
";

/// What went wrong with the database or a run directory.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused (the file is not a database, is locked for too long, the disk is full, …).
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file is an amorph database of another schema version.
    #[error("{path}: schema version {found}, this amorph writes version {SCHEMA_VERSION}")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: String,
    },
    /// A run directory has no record yet (still running, or never started).
    #[error("{0}: no record.json (the run has not finished)")]
    NoRecord(PathBuf),
    /// A record or structure file could not be read or does not say what it must.
    #[error("{path}: {message}")]
    BadRun {
        /// The offending file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// What [`Database::gather_run`] did with a run directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gathered {
    /// A record that was not in the database.
    Inserted,
    /// A record whose content changed since it was last gathered (e.g. a failed run that was
    /// resumed and finished).
    Updated,
    /// The database already held this exact record.
    Unchanged,
}

/// One record's summary, as [`Database::records`] lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    /// Reduced formula.
    pub formula: String,
    /// Seed of the run.
    pub seed: u64,
    /// `ok` or `failed`.
    pub status: String,
    /// The stage that failed, for failed records.
    pub failed_stage: Option<String>,
    /// The error message, for failed records.
    pub error: Option<String>,
    /// Arrhenius activation energy, eV.
    pub ea_ev: Option<f64>,
    /// The run directory the record was gathered from.
    pub run_dir: String,
}

/// A long table of descriptors and diffusivities: one row per (successful record, temperature).
///
/// Columns: `composition`, `seed`, `T_K`, `D_cm2_s`, `D_stderr_cm2_s`, `log10_D`, then every
/// descriptor present in Table-1 order (extra ones after, alphabetically). Undefined values
/// (a descriptor without Li, log10 of a non-positive D) are `None` and written as empty cells.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Column names; the first two (`composition`, `seed`) are labels, the rest numbers.
    pub columns: Vec<String>,
    /// Per row: the composition's reduced formula.
    pub compositions: Vec<String>,
    /// Per row: the seed of its run.
    pub seeds: Vec<u64>,
    /// Per row: the numeric cells of `columns[2..]`.
    pub values: Vec<Vec<Option<f64>>>,
}

impl FeatureTable {
    /// Columns that are labels or targets rather than descriptors.
    pub const NON_FEATURES: [&'static str; 6] = [
        "composition",
        "seed",
        "T_K",
        "D_cm2_s",
        "D_stderr_cm2_s",
        "log10_D",
    ];

    /// The table as CSV (header row; `.17` significant digits; empty cells for undefined values).
    pub fn to_csv(&self) -> String {
        let mut s = self.columns.join(",");
        s.push('\n');
        for ((formula, seed), row) in self.compositions.iter().zip(&self.seeds).zip(&self.values) {
            let _ = write!(s, "{formula},{seed}");
            for v in row {
                s.push(',');
                if let Some(v) = v {
                    let _ = write!(s, "{v:?}");
                }
            }
            s.push('\n');
        }
        s
    }
}

/// An open amorph database.
pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl Database {
    /// Opens (creating if needed) the database file at `path` and its schema. A busy database
    /// (another process gathering) is waited for up to 10 minutes.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let sql = |source| DbError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(600)).map_err(sql)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(sql)?;
        let db = Database {
            conn,
            path: path.to_path_buf(),
        };
        db.init_schema()?;
        Ok(db)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn init_schema(&self) -> Result<(), DbError> {
        let tx_err = |e| self.sql(e);
        self.conn
            .execute_batch(&format!("BEGIN IMMEDIATE;{SCHEMA}"))
            .map_err(tx_err)?;
        let found: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(tx_err)?;
        let result = match found {
            Some(v) if v != SCHEMA_VERSION.to_string() => Err(DbError::Schema {
                path: self.path.clone(),
                found: v,
            }),
            Some(_) => Ok(()),
            None => self
                .conn
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION.to_string()],
                )
                .map(|_| ())
                .map_err(tx_err),
        };
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(tx_err)?;
        result
    }

    /// Merges the record of one run directory (its `record.json`, and the structures of each
    /// stage as extended XYZ) into the database, in one transaction.
    pub fn gather_run(&mut self, run_dir: &Path) -> Result<Gathered, DbError> {
        let run = RunFiles::read(run_dir)?;
        let path = self.path.clone();
        let sql = |source| DbError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute(
            "INSERT OR IGNORE INTO compositions (formula, elements, nelements) VALUES (?1, ?2, ?3)",
            params![run.formula, run.elements.join(" "), run.elements.len() as i64],
        )
        .map_err(sql)?;
        let composition_id: i64 = tx
            .query_row(
                "SELECT id FROM compositions WHERE formula = ?1",
                params![run.formula],
                |r| r.get(0),
            )
            .map_err(sql)?;
        let existing: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, record_json FROM records
                 WHERE composition_id = ?1 AND seed = ?2 AND settings_json = ?3",
                params![composition_id, run.seed as i64, run.settings_json],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)?;
        let outcome = match &existing {
            Some((_, old)) if *old == run.record_json => return Ok(Gathered::Unchanged),
            Some((id, _)) => {
                tx.execute("DELETE FROM records WHERE id = ?1", params![id])
                    .map_err(sql)?;
                Gathered::Updated
            }
            None => Gathered::Inserted,
        };
        let r = &run.record;
        let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
        let melt = r.get("melt").unwrap_or(&Value::Null);
        let arr = r.get("arrhenius").unwrap_or(&Value::Null);
        tx.execute(
            "INSERT INTO records (composition_id, seed, settings_json, status, failed_stage, error,
                natoms, force_field, melt_T_K, melt_volume_A3, melt_density_g_cm3, Ea_eV,
                Ea_stderr_eV, D0_cm2_s, D_300K_cm2_s, run_dir, record_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                composition_id,
                run.seed as i64,
                run.settings_json,
                if run.error.is_some() { "failed" } else { "ok" },
                run.error.as_ref().map(|e| e.0.clone()),
                run.error.as_ref().map(|e| e.1.clone()),
                r.get("natoms").and_then(Value::as_i64),
                r.pointer("/force_field/name").and_then(Value::as_str),
                num(melt, "T_K"),
                num(melt, "volume_A3"),
                num(melt, "density_g_cm3"),
                num(arr, "Ea_eV"),
                num(arr, "Ea_stderr_eV"),
                num(arr, "D0_cm2_s"),
                num(arr, "D_300K_cm2_s"),
                run_dir.to_string_lossy(),
                run.record_json,
            ],
        )
        .map_err(sql)?;
        let record_id = tx.last_insert_rowid();
        for t in r
            .get("temperatures")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let Some(t_k) = num(t, "T_K") else { continue };
            tx.execute(
                "INSERT INTO temperatures (record_id, T_K, volume_A3, density_g_cm3, pressure_GPa,
                    D_cm2_s, D_stderr_cm2_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    record_id,
                    t_k,
                    num(t, "volume_A3"),
                    num(t, "density_g_cm3"),
                    num(t, "pressure_GPa"),
                    num(t, "D_cm2_s"),
                    num(t, "D_stderr_cm2_s"),
                ],
            )
            .map_err(sql)?;
            if let Some(features) = t.get("features").and_then(Value::as_object) {
                for (name, value) in features {
                    tx.execute(
                        "INSERT INTO features (record_id, T_K, name, value) VALUES (?1, ?2, ?3, ?4)",
                        params![record_id, t_k, name, value.as_f64()],
                    )
                    .map_err(sql)?;
                }
            }
        }
        for s in &run.structures {
            tx.execute(
                "INSERT INTO structures (record_id, stage, T_K, natoms, volume_A3, extxyz)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![record_id, s.stage, s.t_k, s.natoms as i64, s.volume_a3, s.extxyz],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(outcome)
    }

    /// Every record, by formula then seed.
    pub fn records(&self) -> Result<Vec<RecordSummary>, DbError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.formula, r.seed, r.status, r.failed_stage, r.error, r.Ea_eV, r.run_dir
                 FROM records r JOIN compositions c ON c.id = r.composition_id
                 ORDER BY c.formula, r.seed, r.id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RecordSummary {
                    formula: r.get(0)?,
                    seed: r.get::<_, i64>(1)? as u64,
                    status: r.get(2)?,
                    failed_stage: r.get(3)?,
                    error: r.get(4)?,
                    ea_ev: r.get(5)?,
                    run_dir: r.get(6)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// The descriptor table of every successful record (see [`FeatureTable`]).
    pub fn feature_table(&self) -> Result<FeatureTable, DbError> {
        let sql = |e| self.sql(e);
        let mut names = BTreeSet::new();
        let mut cells: BTreeMap<(i64, u64), BTreeMap<String, Option<f64>>> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT record_id, T_K, name, value FROM features")
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            let (id, t, name, value): (i64, f64, String, Option<f64>) = (
                r.get(0).map_err(sql)?,
                r.get(1).map_err(sql)?,
                r.get(2).map_err(sql)?,
                r.get(3).map_err(sql)?,
            );
            names.insert(name.clone());
            cells.entry((id, t.to_bits())).or_default().insert(name, value);
        }
        // Table-1 order first, then anything else alphabetically.
        let mut ordered: Vec<String> = Feature::ALL
            .iter()
            .map(|f| f.name().to_string())
            .filter(|n| names.contains(n))
            .collect();
        let extra: Vec<String> = names.iter().filter(|n| !ordered.contains(n)).cloned().collect();
        ordered.extend(extra);

        let mut columns: Vec<String> = FeatureTable::NON_FEATURES.iter().map(|s| s.to_string()).collect();
        columns.extend(ordered.iter().cloned());
        let mut table = FeatureTable {
            columns,
            compositions: Vec::new(),
            seeds: Vec::new(),
            values: Vec::new(),
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.formula, r.seed, r.id, t.T_K, t.D_cm2_s, t.D_stderr_cm2_s
                 FROM temperatures t JOIN records r ON r.id = t.record_id
                 JOIN compositions c ON c.id = r.composition_id
                 WHERE r.status = 'ok' ORDER BY c.formula, r.seed, r.id, t.T_K",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            let formula: String = r.get(0).map_err(sql)?;
            let seed: i64 = r.get(1).map_err(sql)?;
            let id: i64 = r.get(2).map_err(sql)?;
            let t: f64 = r.get(3).map_err(sql)?;
            let d: Option<f64> = r.get(4).map_err(sql)?;
            let d_err: Option<f64> = r.get(5).map_err(sql)?;
            let log_d = d.filter(|d| *d > 0.0).map(f64::log10);
            let mut row = vec![Some(t), d, d_err, log_d];
            let features = cells.get(&(id, t.to_bits()));
            row.extend(
                ordered
                    .iter()
                    .map(|n| features.and_then(|f| f.get(n).copied().flatten())),
            );
            table.compositions.push(formula);
            table.seeds.push(seed as u64);
            table.values.push(row);
        }
        Ok(table)
    }

    /// Every stored structure as one extended-XYZ text; each frame's comment line carries
    /// `composition`, `seed`, `stage` and (for quenched structures) `T_K`, which ASE reads into
    /// `Atoms.info`.
    pub fn extxyz(&self) -> Result<String, DbError> {
        let sql = |e| self.sql(e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.formula, r.seed, s.stage, s.T_K, s.extxyz
                 FROM structures s JOIN records r ON r.id = s.record_id
                 JOIN compositions c ON c.id = r.composition_id
                 ORDER BY c.formula, r.seed, r.id,
                    CASE s.stage WHEN 'packed' THEN 0 WHEN 'melt' THEN 1 ELSE 2 END, s.T_K, s.stage",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        let mut out = String::new();
        while let Some(r) = rows.next().map_err(sql)? {
            let formula: String = r.get(0).map_err(sql)?;
            let seed: i64 = r.get(1).map_err(sql)?;
            let stage: String = r.get(2).map_err(sql)?;
            let t: Option<f64> = r.get(3).map_err(sql)?;
            let text: String = r.get(4).map_err(sql)?;
            let mut info = format!(" composition={formula} seed={seed} stage={stage}");
            if let Some(t) = t {
                let _ = write!(info, " T_K={t}");
            }
            for (i, line) in text.lines().enumerate() {
                out.push_str(line);
                if i == 1 {
                    out.push_str(&info);
                }
                out.push('\n');
            }
        }
        Ok(out)
    }
}

struct StoredStructure {
    stage: String,
    t_k: Option<f64>,
    natoms: usize,
    volume_a3: f64,
    extxyz: String,
}

/// What a run directory holds, read before the transaction starts.
struct RunFiles {
    formula: String,
    elements: Vec<String>,
    seed: u64,
    settings_json: String,
    record_json: String,
    record: Value,
    error: Option<(String, String)>,
    structures: Vec<StoredStructure>,
}

impl RunFiles {
    fn read(dir: &Path) -> Result<Self, DbError> {
        let path = dir.join("record.json");
        let record_json = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DbError::NoRecord(dir.to_path_buf()));
            }
            Err(e) => {
                return Err(DbError::BadRun {
                    path,
                    message: e.to_string(),
                });
            }
        };
        let bad = |message: String| DbError::BadRun {
            path: path.clone(),
            message,
        };
        let record: Value = serde_json::from_str(&record_json).map_err(|e| bad(e.to_string()))?;
        let formula = record
            .get("composition")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no \"composition\"".into()))?
            .to_string();
        let composition: amorph_structure::Composition = formula
            .parse()
            .map_err(|e| bad(format!("composition {formula}: {e}")))?;
        let mut elements: Vec<String> = composition.elements().map(|e| e.symbol().to_string()).collect();
        elements.sort();
        let seed = record
            .get("seed")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no \"seed\"".into()))?;
        let settings = record
            .get("settings")
            .ok_or_else(|| bad("no \"settings\"".into()))?;
        let settings_json = serde_json::to_string(settings).map_err(|e| bad(e.to_string()))?;
        let error = record.get("error").filter(|e| !e.is_null()).map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (s("stage"), s("message"))
        });

        let mut stages: Vec<(String, Option<f64>, PathBuf)> = vec![
            ("packed".into(), None, dir.join("packed.vasp")),
            ("melt".into(), None, dir.join("melt").join("final.vasp")),
        ];
        for t in record
            .get("temperatures")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let Some(t) = t.get("T_K").and_then(Value::as_f64) {
                stages.push((
                    format!("T{t}K"),
                    Some(t),
                    dir.join(format!("T{t}K")).join("final.vasp"),
                ));
            }
        }
        let mut structures = Vec::new();
        for (stage, t_k, file) in stages {
            if !file.exists() {
                continue;
            }
            let s = io::read_structure(&file).map_err(|e| DbError::BadRun {
                path: file.clone(),
                message: e.to_string(),
            })?;
            let extxyz = io::structure_to_string(&s, Format::ExtXyz).map_err(|e| DbError::BadRun {
                path: file.clone(),
                message: e.to_string(),
            })?;
            structures.push(StoredStructure {
                stage,
                t_k,
                natoms: s.len(),
                volume_a3: s.lattice().volume(),
                extxyz,
            });
        }
        Ok(RunFiles {
            formula,
            elements,
            seed,
            settings_json,
            record_json,
            record,
            error,
            structures,
        })
    }
}
