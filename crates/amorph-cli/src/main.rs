//! `amorph`: the command line of the amorph workspace.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use amorph::structure::{Rdf, Structure, io};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;

mod batch;
mod db;
mod diffusion;
mod eos;
mod features;
mod md;
mod melt;
mod ml;
mod pack;
mod run;
mod sisso;
mod slurm;
mod train;

#[derive(Parser)]
#[command(
    name = "amorph",
    version,
    about = "Non-crystalline materials: structures, RDFs, file formats"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise a structure: atoms, formula, volume, density, cell, species counts.
    Info {
        /// Structure file (POSCAR/CONTCAR/.vasp, XDATCAR, .xyz/.extxyz, pymatgen .json, .cif, LAMMPS .data);
        /// for a trajectory, its first frame.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Radial distribution functions (total and partial) as CSV; trajectories are averaged over frames.
    Rdf {
        /// Structure or trajectory file.
        file: PathBuf,
        /// Largest distance, Å.
        #[arg(long, default_value_t = 6.0)]
        rmax: f64,
        /// Number of bins.
        #[arg(long, default_value_t = 60)]
        bins: usize,
        /// Output CSV (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Pack a composition at random into a periodic cubic cell at a density, every pair of atoms at
    /// least a tolerance apart (PACKMOL's job); writes nothing if it cannot.
    Pack(pack::PackArgs),
    /// Energy, forces, virial and pressure of a structure with a classical force field, or with an
    /// external engine through the i-PI socket protocol (--calculator ipi:unix:NAME|ipi:tcp:HOST:PORT).
    Energy(md::EnergyArgs),
    /// The whole pipeline for a composition: pack, melt, quench, diffusivities, Arrhenius fit,
    /// descriptors; writes DIR/record.json (resumable).
    Run(run::RunArgs),
    /// Many compositions, each an `amorph run` in DB/runs/FORMULA (a local pool of processes),
    /// gathered into the SQLite database DB/amorph.sqlite; `batch status DB`, `batch gather DB`.
    Batch(batch::BatchArgs),
    /// A database of records: `db list DB`, `db export DB --csv FILE --extxyz FILE`.
    Db(db::DbArgs),
    /// Random forest, gradient boosting (with the paper's grid) and SISSO over a descriptor table
    /// (a database or CSV): metrics, importances, parity plots, formulas.
    Train(train::TrainArgs),
    /// MPMorph volume search at a temperature (NVT probes, P(V) fits), then NVT production at the
    /// accepted volume; resumes an interrupted run.
    Melt(melt::MeltArgs),
    /// Quench a melt: the volume search and production again at each of several temperatures.
    Quench(melt::QuenchArgs),
    /// Molecular dynamics (NVE, Nosé–Hoover NVT, Langevin, CSVR, MTK NPT/NPH) with a classical force
    /// field or an external engine through the i-PI socket protocol (--calculator).
    Md(md::MdArgs),
    /// Mean-squared displacement, diffusion coefficient with its uncertainty, Nernst–Einstein
    /// conductivity; pymatgen's DiffusionAnalyzer modes with --smoothed.
    Diffusion(diffusion::DiffusionArgs),
    /// Arrhenius fit of a T_K,D_cm2_s[,D_stderr_cm2_s] table: Ea, D0, D at 300 K.
    Arrhenius(diffusion::ArrheniusArgs),
    /// Fit an equation of state to a CSV table of E(V) (volume_A3,energy_eV) or, with --pv, P(V)
    /// (volume_A3,pressure_GPa): V0, E0, B0, B0′ with standard errors and goodness of fit.
    Eos(eos::EosArgs),
    /// The descriptors of Zheng et al. (2024) Table 1 (Sendek's structural ones, compositional
    /// averages, synthetic ones) for structure files, or the compositional ones of a formula.
    Features(features::FeaturesArgs),
    /// SISSO symbolic regression on a CSV table: features built with units, sure independence
    /// screening, exhaustive ℓ0 search; the best model of each dimension.
    Sisso(sisso::SissoArgs),
    /// Random forests and gradient-boosted trees on a CSV table: cross-validation, grid search,
    /// fit, predict, importances (scikit-learn/XGBoost parameter names).
    Ml(ml::MlArgs),
    /// Convert between structure formats (chosen from the file extensions).
    Convert {
        /// Input file.
        input: PathBuf,
        /// Output file.
        output: PathBuf,
    },
}

#[derive(Serialize)]
struct LatticeInfo {
    a: f64,
    b: f64,
    c: f64,
    alpha: f64,
    beta: f64,
    gamma: f64,
}

#[derive(Serialize)]
struct Info {
    natoms: usize,
    reduced_formula: String,
    #[serde(rename = "volume_A3")]
    volume_a3: f64,
    density_g_cm3: f64,
    lattice: LatticeInfo,
    species: BTreeMap<String, usize>,
}

fn info(s: &Structure) -> Info {
    let [a, b, c] = s.lattice().abc();
    let [alpha, beta, gamma] = s.lattice().angles();
    let mut species = BTreeMap::new();
    for e in s.species() {
        *species.entry(e.symbol().to_string()).or_insert(0) += 1;
    }
    Info {
        natoms: s.len(),
        reduced_formula: s.composition().reduced_formula(),
        volume_a3: s.volume(),
        density_g_cm3: s.density(),
        lattice: LatticeInfo {
            a,
            b,
            c,
            alpha,
            beta,
            gamma,
        },
        species,
    }
}

fn info_text(i: &Info, path: &Path) -> String {
    let l = &i.lattice;
    let counts: Vec<String> = i.species.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(
        "file            {}\natoms           {}\nreduced formula {}\nspecies         {}\nvolume          {:.4} Å³\ndensity         {:.4} g/cm³\n\
         a b c           {:.5} {:.5} {:.5} Å\nα β γ           {:.4} {:.4} {:.4}°\n",
        path.display(),
        i.natoms,
        i.reduced_formula,
        counts.join(", "),
        i.volume_a3,
        i.density_g_cm3,
        l.a,
        l.b,
        l.c,
        l.alpha,
        l.beta,
        l.gamma
    )
}

fn rdf_csv(rdf: &Rdf) -> String {
    let mut out = String::from("r,g_total");
    for p in &rdf.partials {
        let _ = write!(out, ",g_{}-{}", p.a, p.b);
    }
    out.push('\n');
    for k in 0..rdf.r.len() {
        // Bin centres are k·Δr + Δr/2: print them without the last-bit noise of the product.
        let r = (rdf.r[k] * 1e9).round() / 1e9;
        let _ = write!(out, "{r},{}", rdf.total[k]);
        for p in &rdf.partials {
            let _ = write!(out, ",{}", p.g[k]);
        }
        out.push('\n');
    }
    out
}

/// Write via a temporary file in the same directory, then rename: never a half-written output.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("output path has no file name")?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(contents).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { file, json } => {
            let s = io::read_structure(&file)?;
            let i = info(&s);
            if json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                print!("{}", info_text(&i, &file));
            }
        }
        Command::Rdf {
            file,
            rmax,
            bins,
            output,
        } => {
            let t = io::read_trajectory(&file)?;
            let rdf = Rdf::from_trajectory(&t, rmax, bins)?;
            let csv = rdf_csv(&rdf);
            match output {
                Some(p) => write_atomically(&p, csv.as_bytes())?,
                None => std::io::stdout().write_all(csv.as_bytes())?,
            }
        }
        Command::Pack(args) => pack::run(args)?,
        Command::Energy(args) => md::energy(&args)?,
        Command::Md(args) => md::md(&args)?,
        Command::Run(args) => run::run(&args)?,
        Command::Batch(args) => batch::run(&args)?,
        Command::Db(args) => db::run(&args)?,
        Command::Train(args) => train::run(&args)?,
        Command::Melt(args) => melt::melt(&args)?,
        Command::Quench(args) => melt::quench(&args)?,
        Command::Features(args) => features::run(args)?,
        Command::Sisso(args) => sisso::run(&args)?,
        Command::Ml(args) => ml::run(args)?,
        Command::Eos(args) => eos::run(&args)?,
        Command::Diffusion(args) => diffusion::diffusion(&args)?,
        Command::Arrhenius(args) => diffusion::arrhenius(&args)?,
        Command::Convert { input, output } => {
            let t = io::read_trajectory(&input)?;
            if t.len() > 1
                && matches!(
                    io::Format::from_path(&output),
                    Some(io::Format::Xdatcar | io::Format::ExtXyz)
                )
            {
                io::write_trajectory(&output, &t)?;
            } else {
                if t.len() > 1 {
                    eprintln!(
                        "note: {} has {} frames; {} holds one, writing the first",
                        input.display(),
                        t.len(),
                        output.display()
                    );
                }
                io::write_structure(&output, &t.frame(0)?)?;
            }
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {}", error_chain(&e));
        std::process::exit(1);
    }
}

/// The error and its causes, `a: b: c`, leaving out a cause whose text the message before it
/// already holds (library errors often print their source as part of their own message).
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}
