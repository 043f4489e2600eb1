//! `amorph energy` and `amorph md`: classical force fields on a structure file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use amorph::md::forcefield::{CalculatorOptions, CoulombMethod};
use amorph::md::ipi::{IpiAddress, IpiCalculator, IpiOptions, IpiUnits};
use amorph::md::observers::{ThermoLog, TrajectoryRecorder};
use amorph::md::{Barostat, Calculator, ForceField, Simulation, System, Thermostat, Truncation, evaluate};
use amorph::structure::{Structure, io};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Coulomb solvers selectable on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CoulombChoice {
    /// Ewald summation (the reference).
    Ewald,
    /// Particle–particle particle–mesh (smooth PME) with FFTs.
    Pppm,
    /// Damped shifted force (LAMMPS coul/dsf).
    Dsf,
    /// Wolf summation (LAMMPS coul/wolf).
    Wolf,
    /// No Coulomb term.
    None,
}

/// The force-field flags shared by `energy` and `md`.
#[derive(Args, Debug, Clone)]
pub struct PotentialArgs {
    /// A built-in force field (pedone, bks, teter) or a TOML parameter file.
    #[arg(long, default_value = "pedone")]
    pub potential: String,
    /// Short-range cutoff, Å (default: the force field's).
    #[arg(long)]
    pub cutoff: Option<f64>,
    /// Shift short-range energies to zero at the cutoff (LAMMPS pair_modify shift yes).
    #[arg(long, conflicts_with = "no_shift")]
    pub shift: bool,
    /// Plain cut at the cutoff (LAMMPS pair_modify shift no).
    #[arg(long)]
    pub no_shift: bool,
    /// Coulomb solver.
    #[arg(long, value_enum, default_value = "dsf")]
    pub coulomb: CoulombChoice,
    /// Coulomb real-space cutoff, Å.
    #[arg(long, default_value_t = 10.0)]
    pub coulomb_cutoff: f64,
    /// DSF/Wolf damping α, Å⁻¹.
    #[arg(long, default_value_t = 0.25)]
    pub alpha: f64,
    /// Ewald/PPPM relative force accuracy.
    #[arg(long, default_value_t = 1e-5)]
    pub accuracy: f64,
}

impl PotentialArgs {
    pub(crate) fn build(&self, structure: &Structure) -> Result<Box<dyn Calculator>> {
        let ff = ForceField::by_name_or_file(&self.potential)?;
        let truncation = if self.shift {
            Some(Truncation::ShiftEnergy)
        } else if self.no_shift {
            Some(Truncation::Cut)
        } else {
            None
        };
        let coulomb = match self.coulomb {
            CoulombChoice::Ewald => CoulombMethod::Ewald {
                cutoff: self.coulomb_cutoff,
                accuracy: self.accuracy,
            },
            CoulombChoice::Pppm => CoulombMethod::Pppm {
                cutoff: self.coulomb_cutoff,
                accuracy: self.accuracy,
            },
            CoulombChoice::Dsf => CoulombMethod::Dsf {
                alpha: self.alpha,
                cutoff: self.coulomb_cutoff,
            },
            CoulombChoice::Wolf => CoulombMethod::Wolf {
                alpha: self.alpha,
                cutoff: self.coulomb_cutoff,
            },
            CoulombChoice::None => CoulombMethod::None,
        };
        let options = CalculatorOptions {
            cutoff: self.cutoff,
            truncation,
            coulomb,
        };
        Ok(Box::new(ff.calculator(&structure.elements(), &options)?))
    }
}

/// Where the forces come from when not from a built-in force field.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// An external force engine through the i-PI socket protocol, e.g. ASE's SocketClient (any ASE
    /// calculator: CHGNet, MACE, VASP), LAMMPS fix ipi, CP2K, Quantum ESPRESSO: ipi:unix:NAME
    /// (socket /tmp/ipi_NAME) or ipi:tcp:HOST:PORT. The force-field flags are then ignored.
    #[arg(long, value_name = "ipi:unix:NAME|ipi:tcp:HOST:PORT")]
    pub calculator: Option<String>,
    /// Seconds to wait for the i-PI client to connect, and to reconnect after it drops.
    #[arg(long, default_value_t = 600.0)]
    pub ipi_wait: f64,
    /// Seconds one evaluation by the i-PI client may take (0: no limit).
    #[arg(long, default_value_t = 3600.0)]
    pub ipi_timeout: f64,
    /// The client's Bohr and Hartree: codata2018, ase or lammps (only the last digits differ).
    #[arg(long, default_value = "codata2018")]
    pub ipi_units: String,
}

impl EngineArgs {
    /// The i-PI server these flags ask for, or `None` for the built-in force field.
    pub(crate) fn ipi(&self) -> Result<Option<IpiCalculator>> {
        let Some(spec) = &self.calculator else {
            return Ok(None);
        };
        if !IpiAddress::is_spec(spec) {
            bail!("unknown calculator '{spec}' (expected ipi:unix:NAME or ipi:tcp:HOST:PORT)");
        }
        let seconds = |x: f64, what: &str| -> Result<Duration> {
            Duration::try_from_secs_f64(x).with_context(|| format!("--{what} must be ≥ 0 s, got {x}"))
        };
        let options = IpiOptions {
            connect_timeout: seconds(self.ipi_wait, "ipi-wait")?,
            step_timeout: Some(seconds(self.ipi_timeout, "ipi-timeout")?).filter(|t| !t.is_zero()),
            units: IpiUnits::by_name(&self.ipi_units)?,
            ..IpiOptions::default()
        };
        let address = IpiAddress::parse(spec)?;
        let ipi = IpiCalculator::bind(address, options)?;
        let shown = match (ipi.address(), ipi.local_port()) {
            (IpiAddress::Tcp { host, .. }, Some(port)) => format!("tcp:{host}:{port}"),
            (a, _) => a.to_string(),
        };
        eprintln!("waiting for an i-PI client on {shown}");
        Ok(Some(ipi))
    }

    /// The calculator: the i-PI client when `--calculator` is given, else the force field.
    pub(crate) fn build(
        &self,
        potential: &PotentialArgs,
        structure: &Structure,
    ) -> Result<Box<dyn Calculator>> {
        match self.ipi()? {
            Some(ipi) => Ok(Box::new(ipi)),
            None => potential.build(structure),
        }
    }
}

/// `amorph energy`.
#[derive(Args, Debug)]
pub struct EnergyArgs {
    /// Structure file.
    pub file: PathBuf,
    #[command(flatten)]
    pub potential: PotentialArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Print JSON (energy_eV, forces_eV_A, virial_eV, stress_GPa, pressure_GPa).
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct EnergyReport {
    #[serde(rename = "energy_eV")]
    energy_ev: f64,
    #[serde(rename = "forces_eV_A")]
    forces_ev_a: Vec<[f64; 3]>,
    #[serde(rename = "virial_eV")]
    virial_ev: [[f64; 3]; 3],
    #[serde(rename = "stress_GPa")]
    stress_gpa: [[f64; 3]; 3],
    #[serde(rename = "pressure_GPa")]
    pressure_gpa: f64,
}

pub fn energy(args: &EnergyArgs) -> Result<()> {
    let s = io::read_structure(&args.file)?;
    let mut calc = args.engine.build(&args.potential, &s)?;
    let system = System::from_structure(&s)?;
    let e = evaluate(calc.as_mut(), &system.configuration())?;
    let v = s.volume();
    let stress = e.virial_stress_gpa(v);
    let report = EnergyReport {
        energy_ev: e.energy,
        forces_ev_a: e.forces.iter().map(|f| [f.x, f.y, f.z]).collect(),
        virial_ev: [0, 1, 2].map(|i| [0, 1, 2].map(|j| e.virial[(i, j)])),
        stress_gpa: [0, 1, 2].map(|i| [0, 1, 2].map(|j| stress[(i, j)])),
        pressure_gpa: e.virial_pressure_gpa(v),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let fmax = e.forces.iter().map(|f| f.norm()).fold(0.0, f64::max);
        println!("calculator      {}", calc.name());
        println!(
            "energy          {:.8} eV ({:.6} eV/atom)",
            e.energy,
            e.energy / s.len() as f64
        );
        println!("max |force|     {fmax:.6} eV/Å");
        println!("pressure        {:.6} GPa (virial part)", report.pressure_gpa);
    }
    Ok(())
}

/// Ensembles of `amorph md`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EnsembleChoice {
    /// Constant energy (velocity Verlet).
    Nve,
    /// Nosé–Hoover chain (LAMMPS fix nvt).
    Nvt,
    /// Langevin dynamics.
    Langevin,
    /// Stochastic velocity rescaling (Bussi).
    Csvr,
    /// Nosé–Hoover chain with the MTK isotropic barostat (LAMMPS fix npt … iso).
    Npt,
    /// MTK isotropic barostat without a thermostat (LAMMPS fix nph … iso).
    Nph,
}

/// `amorph md`.
#[derive(Args, Debug)]
pub struct MdArgs {
    /// Starting structure.
    pub file: PathBuf,
    #[command(flatten)]
    pub potential: PotentialArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Ensemble.
    #[arg(long, value_enum, default_value = "nvt")]
    pub ensemble: EnsembleChoice,
    /// Temperature, K: the thermostat's set point and the initial Maxwell–Boltzmann velocities.
    #[arg(long)]
    pub temperature: f64,
    /// Ramp the set point linearly to this temperature over the run, K.
    #[arg(long)]
    pub final_temperature: Option<f64>,
    /// Time step, fs.
    #[arg(long, default_value_t = 2.0)]
    pub timestep: f64,
    /// Number of steps.
    #[arg(long)]
    pub steps: u64,
    /// Thermostat damping / time constant, fs (default 100 time steps).
    #[arg(long)]
    pub damping: Option<f64>,
    /// Target pressure for --ensemble npt|nph, GPa.
    #[arg(long, default_value_t = 0.0)]
    pub pressure: f64,
    /// Barostat damping time for --ensemble npt|nph, fs (default 1000 time steps).
    #[arg(long)]
    pub pressure_damping: Option<f64>,
    /// Seed for the velocities and stochastic thermostats.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Trajectory output (XDATCAR or .extxyz).
    #[arg(long)]
    pub traj: Option<PathBuf>,
    /// Steps between trajectory frames and thermo lines.
    #[arg(long, default_value_t = 10)]
    pub every: u64,
    /// Thermo log (CSV).
    #[arg(long)]
    pub thermo: Option<PathBuf>,
    /// Write a checkpoint here at the end of the run (and every --checkpoint-every steps).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Also checkpoint every this many steps, so a crashed run can resume (needs --checkpoint).
    #[arg(long, requires = "checkpoint")]
    pub checkpoint_every: Option<u64>,
    /// Continue from this checkpoint instead of starting from FILE's velocities.
    #[arg(long)]
    pub restart: Option<PathBuf>,
    /// Final structure (any structure format).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// A steps progress bar with rate and ETA, shown only on a terminal.
fn progress_bar(steps: u64) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} steps {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

pub fn md(args: &MdArgs) -> Result<()> {
    let s = io::read_structure(&args.file)?;
    let calc = args.engine.build(&args.potential, &s)?;
    let damping = args.damping.unwrap_or(100.0 * args.timestep);
    let mut sim = match &args.restart {
        Some(ckpt) => Simulation::restart(ckpt, calc)?,
        None => {
            let mut system = System::from_structure(&s)?;
            system.set_maxwell_boltzmann(args.temperature, args.seed)?;
            let thermostat = match args.ensemble {
                EnsembleChoice::Nve | EnsembleChoice::Nph => Thermostat::None,
                EnsembleChoice::Nvt | EnsembleChoice::Npt => Thermostat::nose_hoover(damping, 3)?,
                EnsembleChoice::Langevin => Thermostat::langevin(damping)?,
                EnsembleChoice::Csvr => Thermostat::csvr(damping)?,
            };
            let mut sim = Simulation::new(system, calc, args.timestep, thermostat, args.seed)?;
            if matches!(args.ensemble, EnsembleChoice::Npt | EnsembleChoice::Nph) {
                let tau = args.pressure_damping.unwrap_or(1000.0 * args.timestep);
                sim.set_barostat(Barostat::mtk(args.pressure, tau)?)?;
            }
            sim
        }
    };
    let t_end = args.final_temperature.unwrap_or(args.temperature);
    sim.ramp_temperature(args.temperature, t_end, args.steps)?;
    if let Some(p) = &args.traj {
        sim.add_observer(args.every, Box::new(TrajectoryRecorder::new(p)?))?;
    }
    if let Some(p) = &args.thermo {
        sim.add_observer(args.every, Box::new(ThermoLog::create(p)?))?;
    }
    let progress = progress_bar(args.steps);
    let bar = progress.clone();
    sim.add_observer(
        args.every.clamp(1, 100),
        Box::new(move |snap: &amorph::md::Snapshot| {
            bar.set_position(snap.step);
            bar.set_message(format!("T {:.0} K", snap.temperature()));
            Ok(())
        }),
    )?;
    let start = Instant::now();
    let first_step = sim.step();
    let result = match (&args.checkpoint, args.checkpoint_every) {
        (Some(path), Some(every)) if every > 0 => {
            let mut left = args.steps;
            let mut result = Ok(());
            while left > 0 && result.is_ok() {
                let n = left.min(every);
                result = sim.run(n).and_then(|_| sim.checkpoint(path));
                left -= n;
            }
            result
        }
        _ => sim.run(args.steps),
    };
    progress.finish_and_clear();
    if let Err(e) = result {
        // The simulation rolled back to its last good step; keep that frame and make it resumable.
        let good = sim.step();
        let mut msg = match e {
            amorph::md::Error::Unstable { .. } => e.to_string(),
            _ => format!("step {}: {e}", good + 1),
        };
        if let Some(out) = &args.output {
            io::write_structure(out, &sim.system().to_structure()?)
                .with_context(|| "writing the last good frame")?;
            msg += &format!("; last good frame (step {good}) written to {}", out.display());
        }
        if let Some(path) = &args.checkpoint {
            sim.checkpoint(path)
                .with_context(|| "writing the checkpoint of the last good step")?;
            msg += &format!(
                "; checkpoint of step {good} written to {} (continue with --restart)",
                path.display()
            );
        }
        bail!("{msg}");
    }
    if let Some(p) = &args.checkpoint {
        sim.checkpoint(p)?;
    }
    if let Some(out) = &args.output {
        io::write_structure(out, &sim.system().to_structure()?)?;
    }
    let secs = start.elapsed().as_secs_f64();
    let steps = sim.step() - first_step;
    eprintln!(
        "{} steps of {} atoms in {secs:.2} s ({:.0} atom-steps/s); final T {:.1} K, E {:.6} eV",
        steps,
        sim.system().len(),
        steps as f64 * sim.system().len() as f64 / secs.max(1e-9),
        sim.system().temperature(),
        sim.evaluation().energy
    );
    Ok(())
}
