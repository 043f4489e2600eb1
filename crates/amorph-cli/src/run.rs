//! `amorph run COMPOSITION`: the whole pipeline for one composition.

use std::path::PathBuf;

use amorph::pipeline::{PipelineConfig, run as run_pipeline};
use amorph::structure::Composition;
use anyhow::{Context, Result};
use clap::Args;

/// `amorph run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Composition, e.g. Li2Si2O5 or Li2O(SiO2)2.
    pub composition: String,
    /// Atoms to pack (rounded to whole formula units); default 100 (50 with --quick).
    #[arg(long)]
    pub atoms: Option<usize>,
    /// Force field: pedone, bks, teter, or a TOML parameter file.
    #[arg(long)]
    pub potential: Option<String>,
    /// Seed of every random step.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The demonstration preset: ~50 atoms, short runs, about a minute on two cores.
    #[arg(long)]
    pub quick: bool,
    /// Settings file (TOML; the keys of record.json's "settings"); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output directory (default: the composition's reduced formula); an unfinished run there is
    /// resumed.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Discard what the output directory holds and start afresh.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &RunArgs) -> Result<()> {
    let composition: Composition = args.composition.parse()?;
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?
        }
        None if args.quick => PipelineConfig::quick(),
        None => PipelineConfig::default(),
    };
    if let Some(n) = args.atoms {
        config.natoms = n;
    }
    if let Some(p) = &args.potential {
        config.force_field = p.clone();
    }
    if let Some(s) = args.seed {
        config.seed = s;
        config.stage.seed = s;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(composition.reduced_formula()));
    if args.force && out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    let record = run_pipeline(&composition, &config, &out, |line| eprintln!("{line}"))?;
    println!(
        "{} ({} atoms, {}): melt at {} K → {:.3} g/cm³",
        record.composition, record.natoms, config.force_field, record.melt.T_K, record.melt.density_g_cm3
    );
    println!(
        "{:>8} {:>10} {:>10} {:>12} {:>12}",
        "T (K)", "V (Å³)", "ρ (g/cm³)", "D (cm²/s)", "± (cm²/s)"
    );
    for t in &record.temperatures {
        println!(
            "{:>8} {:>10.1} {:>10.3} {:>12.3e} {:>12.1e}",
            t.T_K, t.volume_A3, t.density_g_cm3, t.D_cm2_s, t.D_stderr_cm2_s
        );
    }
    match &record.arrhenius {
        Some(a) => println!(
            "Ea = {:.3}{} eV, D0 = {:.3e} cm²/s, D(300 K) = {:.3e} cm²/s",
            a.Ea_eV,
            a.Ea_stderr_eV.map_or(String::new(), |e| format!(" ± {e:.3}")),
            a.D0_cm2_s,
            a.D_300K_cm2_s
        ),
        None => println!("no Arrhenius fit (fewer than two positive diffusivities)"),
    }
    println!("record: {}", out.join("record.json").display());
    Ok(())
}
