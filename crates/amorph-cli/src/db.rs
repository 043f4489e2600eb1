//! `amorph db`: list and export a database of records (`amorph batch`'s DB/amorph.sqlite).

use std::path::{Path, PathBuf};

use amorph::db::Database;
use anyhow::{Result, bail};

use crate::batch::database_path;

#[derive(clap::Args, Debug)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(clap::Subcommand, Debug)]
enum DbCommand {
    /// One line per record: composition, seed, status (with the failed stage), Ea.
    List {
        /// A batch directory or its .sqlite file.
        db: PathBuf,
    },
    /// Write the descriptor table (one row per composition and temperature: composition, seed,
    /// T_K, D_cm2_s, D_stderr_cm2_s, log10_D, the descriptors in Table-1 order) and/or every stored
    /// structure as extended XYZ (ASE/pymatgen read it; each frame's info holds composition, seed,
    /// stage, T_K).
    Export {
        /// A batch directory or its .sqlite file.
        db: PathBuf,
        /// Descriptor table as CSV.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Structures as extended XYZ.
        #[arg(long)]
        extxyz: Option<PathBuf>,
    },
}

/// Opens an existing database (never creates one).
pub fn open_existing(db: &Path) -> Result<Database> {
    let path = database_path(db);
    if !path.is_file() {
        bail!("{}: no such database", path.display());
    }
    Ok(Database::open(&path)?)
}

pub fn run(args: &DbArgs) -> Result<()> {
    match &args.command {
        DbCommand::List { db } => {
            let db = open_existing(db)?;
            for r in db.records()? {
                let status = match (&r.failed_stage, &r.error) {
                    (Some(stage), Some(e)) if r.status == "failed" => format!("failed in {stage}: {e}"),
                    _ => r.status.clone(),
                };
                let ea = r.ea_ev.map_or("-".to_string(), |e| format!("{e:.3} eV"));
                println!("{:<20} seed {:<6} Ea {:<10} {status}", r.formula, r.seed, ea);
            }
        }
        DbCommand::Export { db, csv, extxyz } => {
            if csv.is_none() && extxyz.is_none() {
                bail!("nothing to export: give --csv FILE and/or --extxyz FILE");
            }
            let db = open_existing(db)?;
            if let Some(path) = csv {
                let table = db.feature_table()?;
                amorph::structure::io::write_atomically(path, table.to_csv().as_bytes())?;
                eprintln!("amorph db: {} rows → {}", table.values.len(), path.display());
            }
            if let Some(path) = extxyz {
                amorph::structure::io::write_atomically(path, db.extxyz()?.as_bytes())?;
                eprintln!("amorph db: structures → {}", path.display());
            }
        }
    }
    Ok(())
}
