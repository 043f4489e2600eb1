//! `amorph run COMPOSITION`: the whole pipeline for one composition.

use std::io::IsTerminal;
use std::path::PathBuf;

use std::sync::Arc;

use amorph::md::{Calculator, SharedIpiCalculator};
use amorph::melt::SharedFactory;
use amorph::pipeline::{
    PipelineConfig, PipelineError, Progress, Record, RecordFile, read_record, run_with_engine,
};
use amorph::structure::Composition;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

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
    #[command(flatten)]
    pub engine: crate::md::EngineArgs,
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
    // An external engine serves every stage through one socket (clones of one handle).
    let engine: Option<SharedFactory> = match args.engine.ipi()? {
        Some(ipi) => {
            config.calculator = args.engine.calculator.clone();
            let shared = SharedIpiCalculator::new(ipi);
            Some(Arc::new(move |_: &amorph::md::System| {
                Ok(Box::new(shared.clone()) as Box<dyn Calculator>)
            }))
        }
        None => None,
    };
    let mut bars = Bars::new(std::io::stderr().is_terminal());
    let record = match run_with_engine(&composition, &config, &out, &mut bars, engine) {
        Ok(record) => record,
        Err(e) => {
            drop(bars);
            // A failure after the directory was claimed leaves a record naming the stage.
            if !matches!(e, PipelineError::Settings(_))
                && let Ok(RecordFile::Failed(failed)) = read_record(&out)
            {
                return Err(anyhow::anyhow!(
                    "stage '{}' failed: {} (recorded in {})",
                    failed.error.stage,
                    failed.error.message,
                    out.join("record.json").display()
                ));
            }
            return Err(e.into());
        }
    };
    drop(bars);
    print_summary(&record, &config);
    println!("record: {}", out.join("record.json").display());
    println!("report: {}", out.join("report.html").display());
    Ok(())
}

/// The pipeline's progress as one indicatif bar per task (steps, ETA, elapsed) on a terminal, log
/// lines above it; without a terminal only the log lines.
struct Bars {
    terminal: bool,
    bar: Option<ProgressBar>,
}

impl Bars {
    fn new(terminal: bool) -> Self {
        Bars { terminal, bar: None }
    }
}

impl Progress for Bars {
    fn log(&mut self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn begin(&mut self, label: &str, total: u64) {
        if let Some(old) = self.bar.take() {
            old.finish_and_clear();
        }
        if !self.terminal {
            return;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg:32!} [{bar:30}] {pos}/{len} steps, ETA {eta} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(label.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.end();
    }
}

/// The table at the end: melt, then T, V, ρ, P, D ± σ per temperature, then the Arrhenius fit.
fn print_summary(record: &Record, config: &PipelineConfig) {
    println!(
        "{} ({} atoms, {}): melt at {} K → {:.1} Å³, {:.3} g/cm³",
        record.composition,
        record.natoms,
        config.force_field,
        record.melt.T_K,
        record.melt.volume_A3,
        record.melt.density_g_cm3
    );
    println!(
        "{:>8} {:>10} {:>10} {:>8} {:>12} {:>12}",
        "T (K)", "V (Å³)", "ρ (g/cm³)", "P (GPa)", "D (cm²/s)", "± (cm²/s)"
    );
    for t in &record.temperatures {
        println!(
            "{:>8} {:>10.1} {:>10.3} {:>8.2} {:>12.3e} {:>12.1e}",
            t.T_K, t.volume_A3, t.density_g_cm3, t.pressure_GPa, t.D_cm2_s, t.D_stderr_cm2_s
        );
    }
    match &record.arrhenius {
        Some(a) => println!(
            "Ea = {:.3}{} eV, D0 = {:.3e} cm²/s, D(300 K) = {:.3e}{} cm²/s",
            a.Ea_eV,
            a.Ea_stderr_eV.map_or(String::new(), |e| format!(" ± {e:.3}")),
            a.D0_cm2_s,
            a.D_300K_cm2_s,
            a.D_300K_stderr_cm2_s
                .map_or(String::new(), |e| format!(" ± {e:.1e}"))
        ),
        None => println!("no Arrhenius fit (fewer than two positive diffusivities)"),
    }
}
