//! Melt and quench glue: a [`VolumeProbe`] that runs `amorph-md`, so that the MPMorph volume search of
//! `amorph-eos` works with any [`Calculator`].
//!
//! ```no_run
//! use amorph::eos::{SearchSettings, VolumeSearch};
//! use amorph::md::forcefield::CalculatorOptions;
//! use amorph::md::{ForceField, System};
//! use amorph::melt::MdProbe;
//! use amorph::structure::io;
//!
//! let glass = io::read_structure("Li2Si2O5.vasp")?;
//! let elements = glass.elements();
//! let mut system = System::from_structure(&glass)?;
//! system.set_maxwell_boltzmann(5000.0, 7)?;
//! let mut probe = MdProbe::new(
//!     Box::new(move |_| Ok(Box::new(ForceField::pedone().calculator(&elements, &CalculatorOptions::default())?))),
//!     5000.0,
//!     7,
//! )?;
//! let volume = system.lattice.volume();
//! let accepted = VolumeSearch::new(SearchSettings::default(), system, volume)?.run(&mut probe)?;
//! println!("{} Å³ at {} ± {} GPa", accepted.volume_A3, accepted.pressure_GPa, accepted.pressure_err_GPa);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use amorph_eos::{
    ProbeOutcome, ProbeRequest, SearchEvent, SearchHistory, SearchSettings, VolumeProbe, VolumeSearch,
};
use amorph_md::observers::{ThermoLog, TrajectoryRecorder};
use amorph_md::{Calculator, Error, Result, Simulation, Snapshot, System, Thermostat};
use amorph_structure::{Lattice, Trajectory, io};
use serde::{Deserialize, Serialize};

/// Builds the calculator for a probe's system (a fresh one per probe, so that no cache outlives a
/// change of cell).
pub type CalculatorFactory = Box<dyn FnMut(&System) -> Result<Box<dyn Calculator>> + Send>;

/// Where a long run reports: log lines, and the progress of its tasks (MD runs of a known number
/// of steps). The libraries draw nothing; the CLI draws bars. Any `FnMut(&str)` is a `Progress`
/// that receives the log lines and ignores the rest.
pub trait Progress {
    /// One line of log.
    fn log(&mut self, line: &str);
    /// A task of `total` steps begins; `label` names the stage and the task.
    fn begin(&mut self, label: &str, total: u64) {
        let _ = (label, total);
    }
    /// `done` of the current task's steps are done (resumed tasks start above zero).
    fn advance(&mut self, done: u64) {
        let _ = done;
    }
    /// The current task ended, finished or failed.
    fn end(&mut self) {}
}

impl<F: FnMut(&str)> Progress for F {
    fn log(&mut self, line: &str) {
        self(line)
    }
}

/// Run `steps` steps of `sim` in slices of about a fiftieth, calling `on_steps` with the
/// simulation's step after each slice. Only for runs whose observers tolerate several `finish`
/// calls (probes, warm-up): a thermo log completes its file when a run finishes.
fn run_reporting(sim: &mut Simulation, steps: u64, on_steps: &mut dyn FnMut(u64)) -> Result<()> {
    let slice = (steps / 50).max(1);
    let end = sim.step() + steps;
    while sim.step() < end {
        let next = ((sim.step() / slice + 1) * slice).min(end);
        sim.run(next - sim.step())?;
        on_steps(sim.step());
    }
    Ok(())
}

/// Scale the cell and every position (affinely, about the origin) to `volume_a3` Å³.
pub fn rescale_to_volume(system: &mut System, volume_a3: f64) -> Result<()> {
    let v = system.lattice.volume();
    if !(volume_a3.is_finite() && volume_a3 > 0.0 && v > 0.0) {
        return Err(Error::InvalidParameter(format!(
            "cannot rescale a cell of {v} Å³ to {volume_a3} Å³"
        )));
    }
    let f = (volume_a3 / v).cbrt();
    system.lattice = Lattice::new(system.lattice.matrix() * f)?;
    for x in &mut system.positions {
        *x *= f;
    }
    Ok(())
}

/// Nosé–Hoover NVT probes: each request rescales the starting system to the requested volume, runs
/// the requested steps at `temperature_k`, and reports the mean pressure (kinetic + virial) of the
/// second half with its block-averaged standard error, and the mean total energy (potential +
/// kinetic) of each half. Probe `i` uses seed `seed + i`.
pub struct MdProbe {
    factory: CalculatorFactory,
    temperature_k: f64,
    seed: u64,
    /// Time step, fs (default 2, the paper's).
    pub timestep_fs: f64,
    /// Nosé–Hoover damping time, fs (default 100 time steps).
    pub damping_fs: Option<f64>,
    /// Finest blocking for the pressure's standard error (default 16): the error is the largest
    /// block-mean error over `blocks`, `blocks / 2`, … down to 4 blocks, so that the longest blocks
    /// see correlations of up to a quarter of the averaging window.
    pub blocks: usize,
}

impl MdProbe {
    /// Probes at `temperature_k` K with calculators from `factory`.
    pub fn new(factory: CalculatorFactory, temperature_k: f64, seed: u64) -> Result<Self> {
        if !(temperature_k.is_finite() && temperature_k > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "probe temperature must be positive, got {temperature_k} K"
            )));
        }
        Ok(MdProbe {
            factory,
            temperature_k,
            seed,
            timestep_fs: 2.0,
            damping_fs: None,
            blocks: 16,
        })
    }
}

/// Mean, and standard error of the mean from block averages: the largest over the blockings into
/// `finest`, `finest / 2`, … and at least 4 blocks. Short blocks alone miss the slow part of the
/// pressure's fluctuations: over 24 seeds of 2 000-step Li2Si2O5 probes (108 atoms, 1500 and 3000 K)
/// the means scattered 1.9–2.1 times the 10-block error, and 1.6 times this one.
fn block_mean(x: &[f64], finest: usize) -> (f64, f64) {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n.max(1) as f64;
    let error = |blocks: usize| {
        let per = n / blocks;
        if per == 0 {
            return f64::NAN;
        }
        let means: Vec<f64> = x
            .chunks_exact(per)
            .take(blocks)
            .map(|c| c.iter().sum::<f64>() / per as f64)
            .collect();
        let m = means.iter().sum::<f64>() / blocks as f64;
        let var = means.iter().map(|b| (b - m).powi(2)).sum::<f64>() / (blocks as f64 - 1.0);
        (var / blocks as f64).sqrt()
    };
    let mut blocks = finest.clamp(2, n.max(2));
    let mut worst = error(blocks);
    while blocks / 2 >= 4 {
        blocks /= 2;
        worst = worst.max(error(blocks));
    }
    (mean, worst)
}

impl MdProbe {
    /// [`VolumeProbe::probe`], calling `on_steps` with the steps done as the run goes.
    pub fn probe_reporting(
        &mut self,
        start: &System,
        request: &ProbeRequest,
        on_steps: &mut dyn FnMut(u64),
    ) -> Result<ProbeOutcome<System>> {
        if request.steps < 4 {
            return Err(Error::InvalidParameter(format!(
                "a probe needs at least 4 steps, got {}",
                request.steps
            )));
        }
        let mut system = start.clone();
        rescale_to_volume(&mut system, request.volume_A3)?;
        let calculator = (self.factory)(&system)?;
        let damping = self.damping_fs.unwrap_or(100.0 * self.timestep_fs);
        let mut sim = Simulation::new(
            system,
            calculator,
            self.timestep_fs,
            Thermostat::nose_hoover(damping, 3)?,
            self.seed.wrapping_add(request.index as u64),
        )?;
        sim.set_temperature(self.temperature_k)?;
        let samples = Arc::new(Mutex::new(Vec::with_capacity(request.steps)));
        let sink = samples.clone();
        sim.add_observer(
            1,
            Box::new(move |s: &Snapshot| {
                if s.step > 0
                    && let Ok(mut v) = sink.lock()
                {
                    v.push((s.pressure_gpa(), s.potential_energy() + s.kinetic_energy()));
                }
                Ok(())
            }),
        )?;
        run_reporting(&mut sim, request.steps as u64, on_steps)?;
        let samples = samples
            .lock()
            .map_err(|_| Error::InvalidParameter("probe observer poisoned".into()))?;
        let half = samples.len() / 2;
        let (first, second) = samples.split_at(half);
        let pressures: Vec<f64> = second.iter().map(|x| x.0).collect();
        let (pressure, pressure_err) = block_mean(&pressures, self.blocks);
        let mean_energy = |xs: &[(f64, f64)]| xs.iter().map(|x| x.1).sum::<f64>() / xs.len().max(1) as f64;
        Ok(ProbeOutcome {
            pressure_GPa: pressure,
            pressure_err_GPa: pressure_err,
            energy_first_half_eV: mean_energy(first),
            energy_second_half_eV: mean_energy(second),
            configuration: sim.system().clone(),
        })
    }
}

impl VolumeProbe for MdProbe {
    type Configuration = System;
    type Error = Error;

    fn probe(&mut self, start: &System, request: &ProbeRequest) -> Result<ProbeOutcome<System>> {
        self.probe_reporting(start, request, &mut |_| {})
    }
}

/// An [`MdProbe`] that reports each probe as a task of a [`Progress`].
struct ReportingProbe<'a, 'p, 'd> {
    probe: MdProbe,
    progress: &'a RefCell<&'p mut (dyn Progress + 'd)>,
    label: &'a str,
}

impl VolumeProbe for ReportingProbe<'_, '_, '_> {
    type Configuration = System;
    type Error = Error;

    fn probe(&mut self, start: &System, request: &ProbeRequest) -> Result<ProbeOutcome<System>> {
        self.progress.borrow_mut().begin(
            &format!(
                "{}: probe {} at {:.1} Å³",
                self.label, request.index, request.volume_A3
            ),
            request.steps as u64,
        );
        let progress = self.progress;
        let outcome = self
            .probe
            .probe_reporting(start, request, &mut |done| progress.borrow_mut().advance(done));
        self.progress.borrow_mut().end();
        outcome
    }
}

/// A calculator factory that can be shared by probes and production runs.
pub type SharedFactory = Arc<dyn Fn(&System) -> Result<Box<dyn Calculator>> + Send + Sync>;

/// Settings of one stage: the volume search at a temperature, then NVT production at the accepted
/// volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageSettings {
    /// Steps of each volume probe (pressure averaged over the second half).
    pub probe_steps: usize,
    /// NVT production steps at the accepted volume.
    pub production_steps: u64,
    /// Production checkpoint (and trajectory chunk) interval, steps.
    pub chunk_steps: u64,
    /// Time step, fs.
    pub timestep_fs: f64,
    /// Steps between production frames and thermo lines.
    pub every: u64,
    /// Accept a volume when |P| is below this, GPa.
    #[serde(rename = "pressure_tolerance_GPa")]
    pub pressure_tolerance_gpa: f64,
    /// Seed of the probes and of production.
    pub seed: u64,
}

impl Default for StageSettings {
    fn default() -> Self {
        StageSettings {
            probe_steps: 2000,
            production_steps: 10_000,
            chunk_steps: 1000,
            timestep_fs: 2.0,
            every: 10,
            pressure_tolerance_gpa: 0.5,
            seed: 1,
        }
    }
}

/// What a finished stage leaves in its directory's `summary.json`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[allow(non_snake_case)]
pub struct StageSummary {
    /// Temperature, K.
    pub T_K: f64,
    /// Accepted volume, Å³.
    pub volume_A3: f64,
    /// Density at that volume, g/cm³.
    pub density_g_cm3: f64,
    /// Mean pressure of the accepted probe, GPa.
    pub pressure_GPa: f64,
    /// Its standard error, GPa.
    pub pressure_err_GPa: f64,
    /// Whether the energies of the accepted probe's halves agreed.
    pub energy_converged: bool,
    /// Probes run.
    pub probes: usize,
    /// Production steps.
    pub production_steps: u64,
    /// Mean pressure over the production run, GPa.
    pub production_mean_pressure_GPa: f64,
}

/// Errors of a stage: from the engine, the search, or the files.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// Molecular dynamics.
    #[error(transparent)]
    Md(#[from] Error),
    /// Structures and trajectories on disk.
    #[error(transparent)]
    Structure(#[from] amorph_structure::Error),
    /// The volume search.
    #[error("volume search at {temperature_k} K")]
    Search {
        temperature_k: f64,
        #[source]
        source: amorph_eos::EosError,
    },
    /// Reading or writing the stage's files.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> StageError {
    StageError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Run one stage in `dir` from `start` at `temperature_k` K: the MPMorph volume search (history in
/// `search.json`, written after every probe), then production in chunks (`production_NNNN.XDATCAR`
/// and `.csv`, checkpoint `production.ckpt`), joined into `XDATCAR` and `thermo.csv`, the last frame in
/// `final.vasp`, and `summary.json`. Whatever is already in `dir` is resumed; a finished stage is
/// returned as it is. `log` receives one line per event.
pub fn run_stage(
    dir: &Path,
    start: System,
    factory: &SharedFactory,
    temperature_k: f64,
    settings: &StageSettings,
    mut log: impl FnMut(&str),
) -> std::result::Result<StageSummary, StageError> {
    let label = format!("{temperature_k} K");
    run_stage_with_progress(dir, start, factory, temperature_k, settings, &label, &mut log)
}

/// [`run_stage`] reporting to a [`Progress`]: each probe and the production run are tasks, named
/// after `label` (e.g. `melt 3000 K`).
pub fn run_stage_with_progress(
    dir: &Path,
    start: System,
    factory: &SharedFactory,
    temperature_k: f64,
    settings: &StageSettings,
    label: &str,
    progress: &mut dyn Progress,
) -> std::result::Result<StageSummary, StageError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let summary_path = dir.join("summary.json");
    if let Ok(text) = std::fs::read_to_string(&summary_path) {
        return serde_json::from_str(&text).map_err(|e| io_err(&summary_path, e));
    }
    let search_err = |source| StageError::Search {
        temperature_k,
        source,
    };
    let shared = factory.clone();
    let mut probe = MdProbe::new(
        Box::new(move |s: &System| shared(s)),
        temperature_k,
        settings.seed,
    )?;
    probe.timestep_fs = settings.timestep_fs;
    let history_path = dir.join("search.json");
    let mut search = if history_path.exists() {
        let history: SearchHistory<System> = SearchHistory::read_json(&history_path).map_err(search_err)?;
        progress.log(&format!(
            "{label}: resuming the volume search ({} probes done)",
            history.records.len()
        ));
        VolumeSearch::resume(history).map_err(search_err)?
    } else {
        let search_settings = SearchSettings {
            steps: settings.probe_steps,
            pressure_tolerance_GPa: settings.pressure_tolerance_gpa,
            ..SearchSettings::default()
        };
        let v = start.lattice.volume();
        VolumeSearch::new(search_settings, start, v).map_err(search_err)?
    };
    let mut save_error = None;
    let accepted = {
        let shared_progress = RefCell::new(&mut *progress);
        let mut reporting = ReportingProbe {
            probe,
            progress: &shared_progress,
            label,
        };
        search.run_with_progress(&mut reporting, |event| match event {
            SearchEvent::Probing(r) => shared_progress.borrow_mut().log(&format!(
                "{label}: probe {} ({:?}) at {:.3} Å³, {} steps",
                r.index, r.kind, r.volume_A3, r.steps
            )),
            SearchEvent::Probed(record, history) => {
                shared_progress.borrow_mut().log(&format!(
                    "  P = {:+.4} ± {:.4} GPa",
                    record.outcome.pressure_GPa, record.outcome.pressure_err_GPa
                ));
                if let Err(e) = history.write_json(&history_path) {
                    save_error = Some(e);
                }
            }
        })
    };
    if let Some(e) = save_error {
        return Err(search_err(e));
    }
    let history = search.into_history();
    history.write_json(&history_path).map_err(search_err)?;
    progress.log(history.table().trim_end());
    let accepted = accepted.map_err(search_err)?;

    // Production in chunks: each chunk writes its own trajectory and thermo file, then a checkpoint,
    // so a crash loses at most one chunk.
    let ckpt = dir.join("production.ckpt");
    let mut sim = if ckpt.exists() {
        Simulation::restart(&ckpt, factory(&accepted.configuration)?)?
    } else {
        let damping = 100.0 * settings.timestep_fs;
        let mut sim = Simulation::new(
            accepted.configuration.clone(),
            factory(&accepted.configuration)?,
            settings.timestep_fs,
            Thermostat::nose_hoover(damping, 3)?,
            settings.seed,
        )?;
        sim.set_temperature(temperature_k)?;
        sim
    };
    let chunk = settings.chunk_steps.max(1);
    let every = settings.every.max(1);
    let part = |k: u64, ext: &str| dir.join(format!("production_{k:04}.{ext}"));
    progress.begin(&format!("{label}: production"), settings.production_steps);
    progress.advance(sim.step().min(settings.production_steps));
    let produced = (|| -> std::result::Result<(), StageError> {
        while sim.step() < settings.production_steps {
            let k = sim.step() / chunk;
            let n = chunk.min(settings.production_steps - sim.step());
            sim.add_observer(every, Box::new(TrajectoryRecorder::new(part(k, "XDATCAR"))?))?;
            sim.add_observer(every, Box::new(ThermoLog::create(part(k, "csv"))?))?;
            // One run per chunk: the thermo log's file is completed when a run finishes.
            sim.run(n)?;
            sim.checkpoint(&ckpt)?;
            progress.advance(sim.step());
            // A fresh simulation from the checkpoint drops this chunk's observers.
            let config = sim.system().clone();
            sim = Simulation::restart(&ckpt, factory(&config)?)?;
        }
        Ok(())
    })();
    progress.end();
    produced?;
    progress.log(&format!("{label}: production done ({} steps)", sim.step()));
    // Join the chunks (only a fresh run records its step 0, so they do not overlap).
    let mut joined: Option<Trajectory> = None;
    let mut thermo = String::new();
    let mut pressures = Vec::new();
    for k in 0..settings.production_steps.div_ceil(chunk) {
        let traj = io::read_trajectory(part(k, "XDATCAR"))?;
        match &mut joined {
            None => joined = Some(traj),
            Some(t) => {
                for frame in traj.frames() {
                    t.push(&frame)?;
                }
            }
        }
        let path = part(k, "csv");
        let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        for (i, line) in text.lines().enumerate() {
            if i == 0 && k > 0 {
                continue;
            }
            if i > 0 {
                pressures.extend(line.split(',').nth(8).and_then(|x| x.parse::<f64>().ok()));
            }
            thermo.push_str(line);
            thermo.push('\n');
        }
    }
    if let Some(t) = &joined {
        io::write_trajectory(dir.join("XDATCAR"), t)?;
    }
    io::write_atomically(dir.join("thermo.csv"), thermo.as_bytes())?;
    let last = sim.system().to_structure()?;
    io::write_structure(dir.join("final.vasp"), &last)?;
    let summary = StageSummary {
        T_K: temperature_k,
        volume_A3: accepted.volume_A3,
        density_g_cm3: last.density(),
        pressure_GPa: accepted.pressure_GPa,
        pressure_err_GPa: accepted.pressure_err_GPa,
        energy_converged: accepted.energy_converged,
        probes: history.records.len(),
        production_steps: settings.production_steps,
        production_mean_pressure_GPa: pressures.iter().sum::<f64>() / pressures.len().max(1) as f64,
    };
    let text = serde_json::to_string_pretty(&summary).map_err(|e| io_err(&summary_path, e))?;
    io::write_atomically(&summary_path, text.as_bytes())?;
    Ok(summary)
}

/// A Langevin warm-up of `steps` steps at a quarter of `timestep_fs`, at `temperature_k` K: lets the
/// close contacts of a freshly packed structure relax before the first probe.
pub fn warm_up(
    system: System,
    factory: &SharedFactory,
    temperature_k: f64,
    timestep_fs: f64,
    steps: u64,
    seed: u64,
) -> Result<System> {
    warm_up_with_progress(
        system,
        factory,
        temperature_k,
        timestep_fs,
        steps,
        seed,
        &mut |_: &str| {},
    )
}

/// [`warm_up`] reported to `progress` as one task (`warm-up T K`).
pub fn warm_up_with_progress(
    system: System,
    factory: &SharedFactory,
    temperature_k: f64,
    timestep_fs: f64,
    steps: u64,
    seed: u64,
    progress: &mut dyn Progress,
) -> Result<System> {
    if steps == 0 {
        return Ok(system);
    }
    let calculator = factory(&system)?;
    let mut sim = Simulation::new(
        system,
        calculator,
        0.25 * timestep_fs,
        Thermostat::langevin(100.0)?,
        seed,
    )?;
    sim.set_temperature(temperature_k)?;
    progress.begin(&format!("warm-up {temperature_k} K"), steps);
    let result = run_reporting(&mut sim, steps, &mut |done| progress.advance(done));
    progress.end();
    result?;
    Ok(sim.system().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use amorph_eos::{ProbeKind, SearchSettings, VolumeSearch};
    use amorph_md::{PairInteractions, PairTerm, Truncation};
    use amorph_structure::{Element, Structure};
    use nalgebra::Vector3;

    /// 108 argon-like LJ atoms (fcc, a = 5.8 Å): a liquid at 100–140 K.
    fn argon() -> System {
        let ar = Element::from_symbol("Ar").unwrap();
        let a = 5.8;
        let mut pos = vec![];
        for i in 0..3 {
            for j in 0..3 {
                for l in 0..3 {
                    for b in [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                        pos.push(Vector3::new(i as f64 + b[0], j as f64 + b[1], l as f64 + b[2]) * a);
                    }
                }
            }
        }
        let s = Structure::new(Lattice::cubic(3.0 * a).unwrap(), vec![ar; pos.len()], pos).unwrap();
        System::from_structure(&s).unwrap()
    }

    fn lj_factory() -> CalculatorFactory {
        Box::new(|_| {
            let ar = Element::from_symbol("Ar").unwrap();
            let mut lj = PairInteractions::new(8.5)?;
            lj.set_pair(
                ar,
                ar,
                vec![PairTerm::LennardJones {
                    epsilon: 0.0104,
                    sigma: 3.4,
                }],
                Truncation::ShiftEnergy,
                None,
            )?;
            Ok(Box::new(lj))
        })
    }

    #[test]
    fn the_pressure_error_sees_correlations_longer_than_the_finest_blocks() {
        // White noise: every blocking estimates sigma / sqrt(n) (= 1 / 32 here).
        let n = 1024;
        // SplitMix64 uniforms, scaled to unit variance.
        let noise: Vec<f64> = (1..=n as u64)
            .map(|i| {
                let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            })
            .map(|u| (u - 0.5) * 12f64.sqrt())
            .collect();
        let (_, e) = block_mean(&noise, 16);
        assert!((e * 32.0 - 1.0).abs() < 0.5, "{e}");
        // A slow square wave (±1, half period n / 4) on top: block means of any length follow it,
        // so the error grows as the blocks get fewer and the 4-block one is reported. Its means are
        // about +1, −1, +1, −1: variance 4/3 over 4 blocks, error √(1/3).
        let slow: Vec<f64> = noise
            .iter()
            .enumerate()
            .map(|(i, x)| x + if (i / 256) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let (_, coarse) = block_mean(&slow, 16);
        assert!((coarse - (1.0f64 / 3.0).sqrt()).abs() < 0.05, "{coarse}");
    }

    #[test]
    fn probes_rescale_and_report_pressure_that_falls_with_volume() {
        let mut system = argon();
        system.set_maxwell_boltzmann(140.0, 1).unwrap();
        let v0 = system.lattice.volume();
        let mut probe = MdProbe::new(lj_factory(), 140.0, 3).unwrap();
        let mut run = |scale: f64, index: usize| {
            let request = ProbeRequest {
                index,
                volume_A3: scale * v0,
                steps: 1000,
                kind: ProbeKind::Initial,
            };
            probe.probe(&system, &request).unwrap()
        };
        let (small, large) = (run(0.9, 0), run(1.2, 1));
        assert!((small.configuration.lattice.volume() - 0.9 * v0).abs() < 1e-6 * v0);
        let combined = small.pressure_err_GPa.hypot(large.pressure_err_GPa);
        assert!(small.pressure_GPa - large.pressure_GPa > 4.0 * combined);
        assert!(small.pressure_err_GPa > 0.0 && small.pressure_err_GPa.is_finite());
        assert!(small.energy_first_half_eV < 0.0 && large.energy_second_half_eV < 0.0);
    }

    /// The MPMorph search on an LJ liquid accepts a volume whose pressure, measured again over a run
    /// ten times longer than a probe, is within the tolerance (up to the statistical errors).
    #[test]
    fn search_finds_a_zero_pressure_volume_of_the_lj_liquid() {
        let mut system = argon();
        system.set_maxwell_boltzmann(100.0, 2).unwrap();
        let v_start = system.lattice.volume();
        let tolerance = 0.02;
        let settings = SearchSettings {
            steps: 600,
            pressure_tolerance_GPa: tolerance,
            ..SearchSettings::default()
        };
        let mut probe = MdProbe::new(lj_factory(), 100.0, 5).unwrap();
        let accepted = VolumeSearch::new(settings, system, v_start)
            .unwrap()
            .run(&mut probe)
            .unwrap();
        assert!(accepted.pressure_GPa.abs() < tolerance, "{accepted:?}");
        assert!((accepted.configuration.lattice.volume() - accepted.volume_A3).abs() < 1e-6);
        let check = ProbeRequest {
            index: 100,
            volume_A3: accepted.volume_A3,
            steps: 6000,
            kind: ProbeKind::Eos,
        };
        let long = probe.probe(&accepted.configuration, &check).unwrap();
        let sigma = accepted.pressure_err_GPa + long.pressure_err_GPa;
        assert!(
            long.pressure_GPa.abs() < tolerance + 4.0 * sigma,
            "accepted {} Å³ at {} ± {} GPa; long run {} ± {} GPa",
            accepted.volume_A3,
            accepted.pressure_GPa,
            accepted.pressure_err_GPa,
            long.pressure_GPa,
            long.pressure_err_GPa
        );
    }
}
