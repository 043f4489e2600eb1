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

use amorph_diffusion::{
    ArrheniusPoint, Displacements, Drift, FitOptions, Msd, MsdMethod, Selection, fit_arrhenius,
};
use amorph_features::{Convention, FeatureSet, Options};
use amorph_md::forcefield::CalculatorOptions;
use amorph_md::{ForceField, System};
use amorph_pack::{PackRequest, pack};
use amorph_structure::{Composition, Element, io};
use serde::{Deserialize, Serialize};

use crate::melt::{SharedFactory, StageError, StageSettings, run_stage, warm_up};

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
    /// A melt or quench stage.
    #[error("{stage}")]
    Stage {
        stage: String,
        #[source]
        source: StageError,
    },
    /// The diffusion analysis.
    #[error("diffusion at {temperature_k} K: {source}")]
    Diffusion {
        temperature_k: f64,
        source: amorph_diffusion::Error,
    },
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

fn io_err(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Run the pipeline for `composition` into `out` (created; resumed when it holds a run with the same
/// settings). `log` receives progress lines.
pub fn run(
    composition: &Composition,
    config: &PipelineConfig,
    out: &Path,
    mut log: impl FnMut(&str),
) -> Result<Record, PipelineError> {
    if config.temperatures_K.is_empty() || config.temperatures_K.iter().any(|t| !(t.is_finite() && *t > 0.0))
    {
        return Err(PipelineError::Settings(
            "temperatures must be positive and at least one".into(),
        ));
    }
    let mobile = Element::from_symbol(&config.mobile)?;
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
        Ok(_) => log(&format!("resuming the run in {}", out.display())),
        Err(_) => io::write_atomically(&settings_path, settings_text.as_bytes())?,
    }
    let mut timings = BTreeMap::new();

    // Pack.
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
        log(&format!("packing {units} formula units at {density:.3} g/cm³"));
        let s = pack(
            &PackRequest::new(composition.clone())
                .formula_units(units)
                .density(density)
                .seed(config.seed),
        )?;
        io::write_structure(&packed_path, &s)?;
        s
    };
    timings.insert("pack".to_string(), clock.elapsed().as_secs_f64());

    let ff = ForceField::by_name_or_file(&config.force_field)?;
    let elements = packed.elements();
    ff.calculator(&elements, &CalculatorOptions::default())?;
    let factory: SharedFactory = {
        let (ff, elements) = (ff.clone(), elements.clone());
        Arc::new(
            move |_: &System| Ok(Box::new(ff.calculator(&elements, &CalculatorOptions::default())?) as _),
        )
    };
    let stage_err = |stage: String| move |source| PipelineError::Stage { stage, source };

    // Melt.
    let clock = Instant::now();
    let melt_dir = out.join("melt");
    let mut system = System::from_structure(&packed)?;
    system.set_maxwell_boltzmann(config.melt_T_K, config.seed)?;
    if !melt_dir.join("search.json").exists() {
        log(&format!(
            "warm-up: {} steps at {} K",
            config.warmup_steps, config.melt_T_K
        ));
        system = warm_up(
            system,
            &factory,
            config.melt_T_K,
            config.stage.timestep_fs,
            config.warmup_steps,
            config.seed,
        )?;
    }
    let melt = run_stage(
        &melt_dir,
        system,
        &factory,
        config.melt_T_K,
        &config.stage,
        &mut log,
    )
    .map_err(stage_err(format!("melt at {} K", config.melt_T_K)))?;
    timings.insert("melt".to_string(), clock.elapsed().as_secs_f64());
    let melted = io::read_structure(melt_dir.join("final.vasp"))?;

    // Quench, diffusion and features at each temperature.
    let mut temperatures = Vec::new();
    for &t in &config.temperatures_K {
        let clock = Instant::now();
        let dir = out.join(format!("T{t}K"));
        let mut start = System::from_structure(&melted)?;
        start.set_maxwell_boltzmann(t, config.seed)?;
        let summary = run_stage(&dir, start, &factory, t, &config.stage, &mut log)
            .map_err(stage_err(format!("quench to {t} K")))?;
        timings.insert(format!("T{t}K"), clock.elapsed().as_secs_f64());

        let clock = Instant::now();
        let traj = io::read_trajectory(dir.join("XDATCAR"))?;
        let frame_fs = config.stage.every as f64 * config.stage.timestep_fs;
        let diffusion = |e| PipelineError::Diffusion {
            temperature_k: t,
            source: e,
        };
        let disp =
            Displacements::from_trajectory(&traj, &Selection::Species(mobile), Drift::default(), frame_fs)
                .map_err(diffusion)?;
        let d = Msd::compute(&disp, MsdMethod::Fft)
            .diffusivity(&FitOptions::default())
            .map_err(diffusion)?;
        let last = io::read_structure(dir.join("final.vasp"))?;
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
        timings.insert(format!("analysis_T{t}K"), clock.elapsed().as_secs_f64());
        log(&format!(
            "T = {t} K: D = {:.3e} ± {:.1e} cm²/s",
            d.d_cm2_s, d.stderr_cm2_s
        ));
        temperatures.push(TemperatureRecord {
            T_K: t,
            volume_A3: summary.volume_A3,
            density_g_cm3: summary.density_g_cm3,
            pressure_GPa: summary.production_mean_pressure_GPa,
            D_cm2_s: d.d_cm2_s,
            D_stderr_cm2_s: d.stderr_cm2_s,
            features,
        });
    }

    let points: Vec<ArrheniusPoint> = temperatures
        .iter()
        .filter(|r| r.D_cm2_s > 0.0)
        .map(|r| ArrheniusPoint {
            t_k: r.T_K,
            d_cm2_s: r.D_cm2_s,
            d_stderr_cm2_s: Some(r.D_stderr_cm2_s),
        })
        .collect();
    let arrhenius = if points.len() >= 2 {
        let fit = fit_arrhenius(&points).map_err(|e| PipelineError::Diffusion {
            temperature_k: 300.0,
            source: e,
        })?;
        let (d300, d300_err) = fit.diffusivity_at(300.0).map_err(|e| PipelineError::Diffusion {
            temperature_k: 300.0,
            source: e,
        })?;
        Some(ArrheniusRecord {
            Ea_eV: fit.ea_ev,
            Ea_stderr_eV: fit.ea_stderr_ev,
            D0_cm2_s: fit.d0_cm2_s,
            D_300K_cm2_s: d300,
            D_300K_stderr_cm2_s: d300_err,
        })
    } else {
        None
    };

    let versions = [("amorph", env!("CARGO_PKG_VERSION"))]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let force_field = [("name", ff.name.clone()), ("reference", ff.reference.clone())]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let record = Record {
        composition: composition.reduced_formula(),
        natoms: packed.len(),
        seed: config.seed,
        force_field,
        settings: config.clone(),
        melt: MeltRecord {
            T_K: melt.T_K,
            volume_A3: melt.volume_A3,
            density_g_cm3: melt.density_g_cm3,
        },
        temperatures,
        arrhenius,
        versions,
        timings_s: timings,
    };
    let path = out.join("record.json");
    let text = serde_json::to_string_pretty(&record).map_err(|e| io_err(&path, e))?;
    io::write_atomically(&path, text.as_bytes())?;
    Ok(record)
}
