//! The whole pipeline for one composition: pack → melt (MPMorph volume search, production) → quench
//! to each temperature (search, production) → Li diffusivity from the MSD of each production run →
//! Arrhenius fit → Table-1 descriptors of each quenched structure → [`Record`] (`record.json`).
//!
//! Every stage is a call into its crate; this module only wires them. Each stage keeps its files in
//! its own directory and resumes what it finds there, so rerunning after a kill continues.
//!
//! ```no_run
//! use amorph::pipeline::{PipelineConfig, run};
//!
//! let record = run(&"Li2Si2O5".parse()?, &PipelineConfig::quick(), "Li2Si2O5".as_ref(), |line| eprintln!("{line}"))?;
//! println!("Ea = {:?} eV", record.arrhenius.map(|a| a.Ea_eV));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use amorph_diffusion::plot::{self, MsdCurve};
use amorph_diffusion::{
    ArrheniusPoint, Displacements, Drift, FitOptions, Msd, MsdMethod, Selection, fit_arrhenius,
};
use amorph_features::{Convention, FeatureSet, Options};
use amorph_md::forcefield::CalculatorOptions;
use amorph_md::{ForceField, System};
use amorph_pack::{PackRequest, pack};
use amorph_structure::{Composition, Element, Rdf, io};
use serde::{Deserialize, Serialize};

pub use crate::melt::Progress;
use crate::melt::{SharedFactory, StageError, StageSettings, run_stage_with_progress, warm_up_with_progress};
use crate::report::{self, Plot};

/// Everything a run depends on (serde: a TOML or JSON file; unknown keys are an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct PipelineConfig {
    /// Atoms to pack (rounded to whole formula units).
    pub natoms: usize,
    /// Packing density, g/cm³; by default estimated from covalent radii (see [`estimated_density`]).
    pub density_g_cm3: Option<f64>,
    /// Seed of packing, velocities, probes and production.
    pub seed: u64,
    /// Force field: a built-in name (`pedone`, `bks`, `teter`) or a TOML file; Coulomb by DSF.
    pub force_field: String,
    /// An external force engine in place of the force field, e.g. `ipi:unix:NAME` (i-PI socket
    /// protocol): recorded here, bound by the caller and passed to [`run_with_engine`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calculator: Option<String>,
    /// Melt temperature, K. The paper melts at 5000 K with DFT; with the classical Pedone potential the
    /// Li2Si2O5 liquid has no zero-pressure volume there (docs/validation.md), so 3000 K.
    pub melt_T_K: f64,
    /// Quench temperatures, K.
    pub temperatures_K: Vec<f64>,
    /// Langevin warm-up of the packed structure before the melt search, steps.
    pub warmup_steps: u64,
    /// Volume search and production at each temperature.
    pub stage: StageSettings,
    /// The diffusing species.
    pub mobile: String,
    /// Descriptor convention.
    pub convention: Convention,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            natoms: 100,
            density_g_cm3: None,
            seed: 1,
            force_field: "pedone".into(),
            calculator: None,
            melt_T_K: 3000.0,
            temperatures_K: vec![1000.0, 1500.0, 2000.0, 2500.0],
            warmup_steps: 2000,
            stage: StageSettings::default(),
            mobile: "Li".into(),
            convention: Convention::default(),
        }
    }
}

impl PipelineConfig {
    /// A demonstration preset that finishes in about a minute on two cores: ~50 atoms, short probes
    /// (400 steps) and production (2 000 steps = 4 ps), a loose pressure tolerance (1 GPa). Its
    /// numbers are noisy; use the defaults for results.
    pub fn quick() -> Self {
        PipelineConfig {
            natoms: 50,
            warmup_steps: 500,
            stage: StageSettings {
                probe_steps: 400,
                production_steps: 2000,
                chunk_steps: 1000,
                pressure_tolerance_gpa: 1.0,
                ..StageSettings::default()
            },
            ..PipelineConfig::default()
        }
    }
}

/// Mass over the volume of covalent-radius spheres at a packing fraction of 0.35, g/cm³: a loose
/// starting density (the volume search then finds the liquid's own).
pub fn estimated_density(composition: &Composition) -> f64 {
    let (mut mass, mut volume) = (0.0, 0.0);
    for e in composition.elements() {
        let n = composition.amount(e);
        let r = e.covalent_radius().unwrap_or(1.5);
        mass += n * e.atomic_mass();
        volume += n * 4.0 / 3.0 * std::f64::consts::PI * r.powi(3);
    }
    mass * 1.660_539_066_60 / (volume / 0.35)
}

/// Which stage failed and why.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The settings.
    #[error("invalid settings: {0}")]
    Settings(String),
    /// Packing.
    #[error("packing: {0}")]
    Pack(#[from] amorph_pack::PackError),
    /// The force field (unknown name, elements it does not cover).
    #[error("force field: {0}")]
    ForceField(#[from] amorph_md::Error),
    /// A warm-up, melt or quench stage.
    #[error("{stage}")]
    Stage {
        stage: String,
        #[source]
        source: StageError,
    },
    /// The diffusion analysis at one temperature.
    #[error("diffusion at {temperature_k} K: {source}")]
    Diffusion {
        temperature_k: f64,
        source: amorph_diffusion::Error,
    },
    /// The Arrhenius fit over the temperatures.
    #[error("Arrhenius fit: {0}")]
    Arrhenius(amorph_diffusion::Error),
    /// The descriptors.
    #[error("features: {0}")]
    Features(#[from] amorph_features::Error),
    /// Files.
    #[error(transparent)]
    Structure(#[from] amorph_structure::Error),
    /// The record or the settings file.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

/// The melt stage in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct MeltRecord {
    pub T_K: f64,
    pub volume_A3: f64,
    pub density_g_cm3: f64,
}

/// One quench temperature in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct TemperatureRecord {
    pub T_K: f64,
    pub volume_A3: f64,
    pub density_g_cm3: f64,
    /// Mean pressure of the production run, GPa.
    pub pressure_GPa: f64,
    /// Diffusivity of the mobile species, cm²/s.
    pub D_cm2_s: f64,
    pub D_stderr_cm2_s: f64,
    /// Descriptors of the stage's last frame (null when undefined).
    pub features: BTreeMap<String, Option<f64>>,
}

/// The Arrhenius fit over the temperatures in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ArrheniusRecord {
    pub Ea_eV: f64,
    pub Ea_stderr_eV: Option<f64>,
    pub D0_cm2_s: f64,
    pub D_300K_cm2_s: f64,
    pub D_300K_stderr_cm2_s: Option<f64>,
}

/// `record.json`: the paper's record for one composition (schema in docs/record.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub composition: String,
    pub natoms: usize,
    pub seed: u64,
    /// Force-field name and its provenance.
    pub force_field: BTreeMap<String, String>,
    pub settings: PipelineConfig,
    pub melt: MeltRecord,
    pub temperatures: Vec<TemperatureRecord>,
    /// `None` when fewer than two temperatures gave a positive D.
    pub arrhenius: Option<ArrheniusRecord>,
    pub versions: BTreeMap<String, String>,
    /// Wall time of each stage in this invocation, s (a resumed stage counts only what it redid).
    pub timings_s: BTreeMap<String, f64>,
}

/// The `error` object of a failed run's record: the stage (`force field`, `pack`, `warm-up 3000 K`,
/// `melt 3000 K`, `quench 1000 K`, `diffusion 1000 K`, `features 1000 K`, `arrhenius`, `report`)
/// and the error with its causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub stage: String,
    pub message: String,
}

/// `record.json` of a run that failed: the keys of [`Record`] that were reached, and `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedRecord {
    pub composition: String,
    /// Atoms packed (null when packing was not reached or failed).
    pub natoms: Option<usize>,
    pub seed: u64,
    /// `name` (and `reference` once the force field was read).
    pub force_field: BTreeMap<String, String>,
    pub settings: PipelineConfig,
    /// Null when the melt was not finished.
    pub melt: Option<MeltRecord>,
    /// The temperatures finished before the failure.
    pub temperatures: Vec<TemperatureRecord>,
    pub versions: BTreeMap<String, String>,
    pub timings_s: BTreeMap<String, f64>,
    /// Which stage failed and why.
    pub error: Failure,
}

/// What a run directory's `record.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordFile {
    /// A run that failed (the file has an `error` key).
    Failed(FailedRecord),
    /// A finished run.
    Finished(Record),
}

/// Read `DIR/record.json`, finished or failed.
pub fn read_record(dir: &Path) -> Result<RecordFile, PipelineError> {
    let path = dir.join("record.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    serde_json::from_str(&text).map_err(|e| io_err(&path, e))
}

/// An error and its causes, joined by `: ` (skipping a cause its parent already spells out).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

fn versions() -> BTreeMap<String, String> {
    [("amorph", env!("CARGO_PKG_VERSION"))]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), PipelineError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| io_err(path, e))?;
    io::write_atomically(path, text.as_bytes())?;
    Ok(())
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Run the pipeline for `composition` into `out` (created; resumed when it holds a run with the same
/// settings). `log` receives progress lines. Same as [`run_with_progress`] with a log-only
/// [`Progress`].
pub fn run(
    composition: &Composition,
    config: &PipelineConfig,
    out: &Path,
    mut log: impl FnMut(&str),
) -> Result<Record, PipelineError> {
    run_with_progress(composition, config, out, &mut log)
}

/// What a run has reached, for the record of a failure.
struct Reached {
    stage: String,
    natoms: Option<usize>,
    force_field: BTreeMap<String, String>,
    melt: Option<MeltRecord>,
    temperatures: Vec<TemperatureRecord>,
    timings: BTreeMap<String, f64>,
}

/// Run the pipeline for `composition` into `out`, reporting log lines and the progress of every MD
/// run (warm-up, each probe of each volume search, each production run) to `progress`.
///
/// Besides `record.json` the directory receives the structures of every stage (POSCAR and extended
/// XYZ), per temperature the MSD table `msd.csv`, the plots under `plots/` and `report.html`
/// (docs/record.md). A finished stage is resumed from its files; the plots and the report are
/// recomputed from those files on every invocation, so they come out the same.
///
/// When a stage fails after the directory was claimed (its `settings.json` written or matched),
/// `record.json` is written as a [`FailedRecord`] naming the stage and the error before the error
/// is returned.
pub fn run_with_progress(
    composition: &Composition,
    config: &PipelineConfig,
    out: &Path,
    progress: &mut dyn Progress,
) -> Result<Record, PipelineError> {
    run_with_engine(composition, config, out, progress, None)
}

/// [`run_with_progress`] with the forces of an external engine: `engine` makes the calculator of
/// every MD run (e.g. clones of one [`amorph_md::SharedIpiCalculator`], so that one i-PI client
/// serves every stage). `config.calculator` must name it (it goes into the settings and the
/// record); the force field is then not used.
pub fn run_with_engine(
    composition: &Composition,
    config: &PipelineConfig,
    out: &Path,
    progress: &mut dyn Progress,
    engine: Option<SharedFactory>,
) -> Result<Record, PipelineError> {
    check_settings(config)?;
    if config.calculator.is_some() != engine.is_some() {
        return Err(PipelineError::Settings(match &config.calculator {
            Some(c) => format!("calculator {c} named in the settings but no engine given"),
            None => "an engine given but no calculator named in the settings".into(),
        }));
    }
    std::fs::create_dir_all(out).map_err(|e| io_err(out, e))?;
    let settings_path = out.join("settings.json");
    let settings_text = serde_json::to_string_pretty(config).map_err(|e| io_err(&settings_path, e))?;
    match std::fs::read_to_string(&settings_path) {
        Ok(old) if old != settings_text => {
            return Err(PipelineError::Settings(format!(
                "{} holds a run with other settings ({}); choose another directory or remove it",
                out.display(),
                settings_path.display()
            )));
        }
        Ok(_) => progress.log(&format!("resuming the run in {}", out.display())),
        Err(_) => io::write_atomically(&settings_path, settings_text.as_bytes())?,
    }
    let mut reached = Reached {
        stage: "force field".into(),
        natoms: None,
        force_field: [("name".to_string(), config.force_field.clone())].into(),
        melt: None,
        temperatures: Vec::new(),
        timings: BTreeMap::new(),
    };
    let result = stages(composition, config, out, progress, &mut reached, engine);
    if let Err(e) = &result {
        let failure = Failure {
            stage: reached.stage.clone(),
            message: error_chain(e),
        };
        let failed = FailedRecord {
            composition: composition.reduced_formula(),
            natoms: reached.natoms,
            seed: config.seed,
            force_field: reached.force_field,
            settings: config.clone(),
            melt: reached.melt,
            temperatures: reached.temperatures,
            versions: versions(),
            timings_s: reached.timings,
            error: failure,
        };
        if let Err(w) = write_json(&out.join("record.json"), &failed) {
            progress.log(&format!("could not write the failure record: {w}"));
        }
    }
    result
}

fn check_settings(config: &PipelineConfig) -> Result<(), PipelineError> {
    let bad = |m: String| Err(PipelineError::Settings(m));
    let t = &config.temperatures_K;
    if t.is_empty() || t.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
        return bad("temperatures must be positive and at least one".into());
    }
    let mut dirs: Vec<String> = t.iter().map(|t| format!("T{t}K")).collect();
    dirs.sort();
    dirs.dedup();
    if dirs.len() != t.len() {
        return bad(format!("temperatures must be distinct, got {t:?}"));
    }
    if !(config.melt_T_K.is_finite() && config.melt_T_K > 0.0) {
        return bad(format!(
            "melt temperature must be positive, got {} K",
            config.melt_T_K
        ));
    }
    if let Err(e) = Element::from_symbol(&config.mobile) {
        return bad(format!("mobile species: {e}"));
    }
    Ok(())
}

/// RDF range and bins of the plots, Å.
const RDF_RMAX_A: f64 = 6.0;
const RDF_BINS: usize = 120;

fn stages(
    composition: &Composition,
    config: &PipelineConfig,
    out: &Path,
    progress: &mut dyn Progress,
    reached: &mut Reached,
    engine: Option<SharedFactory>,
) -> Result<Record, PipelineError> {
    let mobile = Element::from_symbol(&config.mobile)?;

    // The force field, checked against the composition before anything runs (unless an external
    // engine gives the forces).
    let ff = match &config.calculator {
        Some(spec) => {
            reached.force_field = [
                ("name".to_string(), spec.clone()),
                (
                    "reference".to_string(),
                    "external engine (i-PI socket protocol)".to_string(),
                ),
            ]
            .into();
            None
        }
        None => {
            let ff = ForceField::by_name_or_file(&config.force_field)?;
            reached.force_field = [("name", ff.name.clone()), ("reference", ff.reference.clone())]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            ff.check_covers(&composition.elements().collect::<Vec<_>>())?;
            Some(ff)
        }
    };

    // Pack.
    reached.stage = "pack".into();
    let clock = Instant::now();
    let packed_path = out.join("packed.vasp");
    let packed = if packed_path.exists() {
        io::read_structure(&packed_path)?
    } else {
        let per_unit = composition.reduced_composition().num_atoms();
        let units = ((config.natoms as f64 / per_unit).round() as usize).max(1);
        let density = config
            .density_g_cm3
            .unwrap_or_else(|| estimated_density(composition));
        progress.log(&format!("packing {units} formula units at {density:.3} g/cm³"));
        let s = pack(
            &PackRequest::new(composition.clone())
                .formula_units(units)
                .density(density)
                .seed(config.seed),
        )?;
        io::write_structure(&packed_path, &s)?;
        // Continue from the file, as a resumed run does: the text keeps fewer digits than memory,
        // and MD turns that last-digit difference into another trajectory.
        io::read_structure(&packed_path)?
    };
    io::write_structure(out.join("packed.extxyz"), &packed)?;
    reached.natoms = Some(packed.len());
    reached
        .timings
        .insert("pack".to_string(), clock.elapsed().as_secs_f64());

    reached.stage = "force field".into();
    let factory: SharedFactory = match (engine, ff) {
        (Some(engine), _) => engine,
        (None, Some(ff)) => {
            let elements = packed.elements();
            ff.calculator(&elements, &CalculatorOptions::default())?;
            Arc::new(move |_: &System| {
                Ok(Box::new(ff.calculator(&elements, &CalculatorOptions::default())?) as _)
            })
        }
        (None, None) => {
            return Err(PipelineError::Settings(
                "an external calculator is named but no engine was given".into(),
            ));
        }
    };
    let stage_err = |stage: &str| {
        let stage = stage.to_string();
        move |source| PipelineError::Stage { stage, source }
    };

    // Warm-up and melt.
    let clock = Instant::now();
    let melt_dir = out.join("melt");
    let melt_t = config.melt_T_K;
    reached.stage = format!("warm-up {melt_t} K");
    let mut system = System::from_structure(&packed).map_err(|e| stage_err(&reached.stage)(e.into()))?;
    system
        .set_maxwell_boltzmann(melt_t, config.seed)
        .map_err(|e| stage_err(&reached.stage)(e.into()))?;
    if !melt_dir.join("search.json").exists() {
        system = warm_up_with_progress(
            system,
            &factory,
            melt_t,
            config.stage.timestep_fs,
            config.warmup_steps,
            config.seed,
            progress,
        )
        .map_err(|e| stage_err(&reached.stage)(e.into()))?;
    }
    reached.stage = format!("melt {melt_t} K");
    let melt = run_stage_with_progress(
        &melt_dir,
        system,
        &factory,
        melt_t,
        &config.stage,
        &reached.stage,
        progress,
    )
    .map_err(stage_err(&reached.stage))?;
    let melted = io::read_structure(melt_dir.join("final.vasp"))?;
    io::write_structure(melt_dir.join("final.extxyz"), &melted)?;
    reached.melt = Some(MeltRecord {
        T_K: melt.T_K,
        volume_A3: melt.volume_A3,
        density_g_cm3: melt.density_g_cm3,
    });
    reached
        .timings
        .insert("melt".to_string(), clock.elapsed().as_secs_f64());

    // Quench, diffusion and features at each temperature.
    let mut analyses = Vec::new();
    for &t in &config.temperatures_K {
        let clock = Instant::now();
        let dir = out.join(format!("T{t}K"));
        reached.stage = format!("quench {t} K");
        let mut start = System::from_structure(&melted).map_err(|e| stage_err(&reached.stage)(e.into()))?;
        start
            .set_maxwell_boltzmann(t, config.seed)
            .map_err(|e| stage_err(&reached.stage)(e.into()))?;
        let summary =
            run_stage_with_progress(&dir, start, &factory, t, &config.stage, &reached.stage, progress)
                .map_err(stage_err(&reached.stage))?;
        let last = io::read_structure(dir.join("final.vasp"))?;
        io::write_structure(dir.join("final.extxyz"), &last)?;
        reached
            .timings
            .insert(format!("T{t}K"), clock.elapsed().as_secs_f64());

        let clock = Instant::now();
        reached.stage = format!("diffusion {t} K");
        let traj = io::read_trajectory(dir.join("XDATCAR"))?;
        let frame_fs = config.stage.every as f64 * config.stage.timestep_fs;
        let diffusion = |e| PipelineError::Diffusion {
            temperature_k: t,
            source: e,
        };
        let disp =
            Displacements::from_trajectory(&traj, &Selection::Species(mobile), Drift::default(), frame_fs)
                .map_err(diffusion)?;
        let msd = Msd::compute(&disp, MsdMethod::Fft);
        io::write_atomically(dir.join("msd.csv"), msd.to_csv().as_bytes())?;
        let d = msd.diffusivity(&FitOptions::default()).map_err(diffusion)?;
        if !(d.d_cm2_s.is_finite() && d.stderr_cm2_s.is_finite()) {
            return Err(diffusion(amorph_diffusion::Error::Fit(format!(
                "D = {} ± {} cm²/s",
                d.d_cm2_s, d.stderr_cm2_s
            ))));
        }
        let rdf = Rdf::from_trajectory(&traj, RDF_RMAX_A, RDF_BINS)?;

        reached.stage = format!("features {t} K");
        let options = Options {
            convention: config.convention,
            mobile,
            temperature: Some(t),
            seed: config.seed,
            ..Options::default()
        };
        let set = FeatureSet::table1(options)?;
        let features = set
            .names()
            .into_iter()
            .zip(set.compute(&last)?)
            .map(|(n, v)| (n, v.ok()))
            .collect();
        reached
            .timings
            .insert(format!("analysis_T{t}K"), clock.elapsed().as_secs_f64());
        progress.log(&format!(
            "T = {t} K: D = {:.3e} ± {:.1e} cm²/s",
            d.d_cm2_s, d.stderr_cm2_s
        ));
        reached.temperatures.push(TemperatureRecord {
            T_K: t,
            volume_A3: summary.volume_A3,
            density_g_cm3: summary.density_g_cm3,
            pressure_GPa: summary.production_mean_pressure_GPa,
            D_cm2_s: d.d_cm2_s,
            D_stderr_cm2_s: d.stderr_cm2_s,
            features,
        });
        analyses.push((t, msd, d, rdf));
    }

    // Arrhenius fit over the positive diffusivities, in order of temperature.
    reached.stage = "arrhenius".into();
    let mut points: Vec<ArrheniusPoint> = reached
        .temperatures
        .iter()
        .filter(|r| r.D_cm2_s > 0.0)
        .map(|r| ArrheniusPoint {
            t_k: r.T_K,
            d_cm2_s: r.D_cm2_s,
            d_stderr_cm2_s: Some(r.D_stderr_cm2_s),
        })
        .collect();
    points.sort_by(|a, b| a.t_k.total_cmp(&b.t_k));
    let fit = if points.len() >= 2 {
        Some(fit_arrhenius(&points).map_err(PipelineError::Arrhenius)?)
    } else {
        None
    };
    let arrhenius = match &fit {
        Some(fit) => {
            let (d300, d300_err) = fit.diffusivity_at(300.0).map_err(PipelineError::Arrhenius)?;
            Some(ArrheniusRecord {
                Ea_eV: fit.ea_ev,
                Ea_stderr_eV: fit.ea_stderr_ev,
                D0_cm2_s: fit.d0_cm2_s,
                D_300K_cm2_s: d300,
                D_300K_stderr_cm2_s: d300_err,
            })
        }
        None => None,
    };

    // Plots and report, then the record.
    reached.stage = "report".into();
    let clock = Instant::now();
    let mut plots = Vec::new();
    for (t, _, _, rdf) in &analyses {
        plots.push(Plot {
            file: format!("rdf_T{t}K.svg"),
            caption: format!(
                "g(r) at {t} K averaged over the production run: the pairs with the most abundant \
                 element and the total"
            ),
            svg: report::rdf_svg(rdf),
        });
    }
    let labels: Vec<String> = analyses.iter().map(|a| format!("{} K", a.0)).collect();
    let curves: Vec<MsdCurve<'_>> = analyses
        .iter()
        .zip(&labels)
        .map(|((_, msd, d, _), label)| MsdCurve {
            label,
            msd,
            fit: Some(d),
        })
        .collect();
    plots.push(Plot {
        file: "msd.svg".into(),
        caption: format!(
            "{} mean-squared displacement at each temperature; dashed: the fitted lines over their \
             windows",
            config.mobile
        ),
        svg: plot::msd_curves_svg(&curves),
    });
    if let Some(fit) = &fit {
        plots.push(Plot {
            file: "arrhenius.svg".into(),
            caption: "D against 1000/T with ±1 standard error and the weighted Arrhenius fit".into(),
            svg: plot::arrhenius_svg(&points, fit),
        });
    }
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| io_err(&plots_dir, e))?;
    for p in &plots {
        io::write_atomically(plots_dir.join(&p.file), p.svg.as_bytes())?;
    }
    reached
        .timings
        .insert("report".to_string(), clock.elapsed().as_secs_f64());

    let record = Record {
        composition: composition.reduced_formula(),
        natoms: packed.len(),
        seed: config.seed,
        force_field: reached.force_field.clone(),
        settings: config.clone(),
        melt: MeltRecord {
            T_K: melt.T_K,
            volume_A3: melt.volume_A3,
            density_g_cm3: melt.density_g_cm3,
        },
        temperatures: reached.temperatures.clone(),
        arrhenius,
        versions: versions(),
        timings_s: reached.timings.clone(),
    };
    io::write_atomically(out.join("report.html"), report::html(&record, &plots).as_bytes())?;
    write_json(&out.join("record.json"), &record)?;
    progress.log(&format!(
        "record: {}; report: {}",
        out.join("record.json").display(),
        out.join("report.html").display()
    ));
    Ok(record)
}
