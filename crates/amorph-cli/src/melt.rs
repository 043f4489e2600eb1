//! `amorph melt` and `amorph quench`: the MPMorph volume search at a temperature, then NVT production
//! at the accepted volume, resumable after a crash.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use amorph::md::{Simulation, System, Thermostat};
use amorph::melt::{SharedFactory, StageSettings, StageSummary, run_stage, warm_up};
use amorph::structure::{Structure, io};
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::md::PotentialArgs;

/// Settings shared by `melt` and `quench`.
#[derive(Args, Debug, Clone)]
pub struct StageArgs {
    #[command(flatten)]
    pub potential: PotentialArgs,
    /// Steps of each volume probe (pressure averaged over the second half).
    #[arg(long, default_value_t = 2000)]
    pub probe_steps: usize,
    /// NVT production steps at the accepted volume.
    #[arg(long, default_value_t = 10_000)]
    pub production_steps: u64,
    /// Production checkpoint (and trajectory chunk) interval, steps.
    #[arg(long, default_value_t = 1000)]
    pub chunk: u64,
    /// Time step, fs.
    #[arg(long, default_value_t = 2.0)]
    pub timestep: f64,
    /// Steps between trajectory frames and thermo lines in production.
    #[arg(long, default_value_t = 10)]
    pub every: u64,
    /// Accept a volume when |P| is below this, GPa.
    #[arg(long, default_value_t = 0.5)]
    pub pressure_tolerance: f64,
    /// Seed of velocities and probes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `amorph melt`.
#[derive(Args, Debug)]
pub struct MeltArgs {
    /// Starting structure (e.g. from `amorph pack`).
    pub file: PathBuf,
    /// Melt temperature, K.
    #[arg(long, default_value_t = 5000.0)]
    pub temperature: f64,
    /// Steps of a Langevin warm-up at a quarter of the time step before the search: it lets a freshly
    /// packed structure's close contacts relax without blowing up the first probes.
    #[arg(long, default_value_t = 2000)]
    pub warmup_steps: u64,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Output directory (resumed if it holds an unfinished run).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `amorph quench`.
#[derive(Args, Debug)]
pub struct QuenchArgs {
    /// A directory written by `amorph melt` (its `final.vasp` is the start).
    pub melt_dir: PathBuf,
    /// Temperatures, K, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,1500,2000,2500")]
    pub temperatures: Vec<f64>,
    /// Cool linearly from the melt temperature over this many NVT steps at the melt volume before
    /// each search (0: start each search directly from the melt's last frame, as the paper).
    #[arg(long, default_value_t = 0)]
    pub ramp_steps: u64,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Output directory, one subdirectory per temperature.
    #[arg(short, long)]
    pub output: PathBuf,
}

impl StageArgs {
    fn settings(&self) -> StageSettings {
        StageSettings {
            probe_steps: self.probe_steps,
            production_steps: self.production_steps,
            chunk_steps: self.chunk,
            timestep_fs: self.timestep,
            every: self.every,
            pressure_tolerance_gpa: self.pressure_tolerance,
            seed: self.seed,
        }
    }

    /// A calculator factory for the structure's elements, checked once here.
    fn factory(&self, structure: &Structure) -> Result<SharedFactory> {
        let potential = self.potential.clone();
        let source = structure.clone();
        potential.build(&source)?;
        Ok(Arc::new(move |_: &System| {
            potential
                .build(&source)
                .map_err(|e| amorph::md::Error::InvalidParameter(format!("{e:#}")))
        }))
    }
}

fn stage(
    dir: &Path,
    start: System,
    factory: &SharedFactory,
    t: f64,
    args: &StageArgs,
) -> Result<StageSummary> {
    run_stage(dir, start, factory, t, &args.settings(), |line| {
        eprintln!("{line}")
    })
    .with_context(|| format!("stage at {t} K in {}", dir.display()))
}

fn summary_path(dir: &Path) -> PathBuf {
    dir.join("summary.json")
}

pub fn melt(args: &MeltArgs) -> Result<()> {
    let s = io::read_structure(&args.file)?;
    let factory = args.stage.factory(&s)?;
    let mut system = System::from_structure(&s)?;
    system.set_maxwell_boltzmann(args.temperature, args.stage.seed)?;
    if !args.output.join("search.json").exists() {
        system = warm_up(
            system,
            &factory,
            args.temperature,
            args.stage.timestep,
            args.warmup_steps,
            args.stage.seed,
        )
        .context("warm-up")?;
    }
    let summary = stage(&args.output, system, &factory, args.temperature, &args.stage)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

pub fn quench(args: &QuenchArgs) -> Result<()> {
    let melt_summary: StageSummary = serde_json::from_str(
        &std::fs::read_to_string(summary_path(&args.melt_dir))
            .with_context(|| format!("{} is not a finished melt", args.melt_dir.display()))?,
    )?;
    let s = io::read_structure(args.melt_dir.join("final.vasp"))?;
    let factory = args.stage.factory(&s)?;
    if args.temperatures.is_empty() {
        bail!("no temperatures given");
    }
    let mut all = Vec::new();
    for &t in &args.temperatures {
        if !(t.is_finite() && t > 0.0) {
            bail!("temperatures must be positive, got {t} K");
        }
        let dir = args.output.join(format!("T{t}K"));
        let mut system = System::from_structure(&s)?;
        if args.ramp_steps > 0 && !summary_path(&dir).exists() {
            // Cool at the melt volume from the melt temperature to t.
            let calculator = factory(&system)?;
            let mut sim = Simulation::new(
                system,
                calculator,
                args.stage.timestep,
                Thermostat::nose_hoover(100.0 * args.stage.timestep, 3)?,
                args.stage.seed,
            )?;
            sim.ramp_temperature(melt_summary.T_K, t, args.ramp_steps)?;
            sim.run(args.ramp_steps)?;
            system = sim.system().clone();
        } else {
            system.set_maxwell_boltzmann(t, args.stage.seed)?;
        }
        all.push(stage(&dir, system, &factory, t, &args.stage)?);
    }
    io::write_atomically(
        args.output.join("quench.json"),
        serde_json::to_string_pretty(&all)?.as_bytes(),
    )?;
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(())
}
