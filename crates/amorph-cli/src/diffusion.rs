//! `amorph diffusion` (MSD, D with its uncertainty, conductivity) and `amorph arrhenius` (Eₐ, D₀).

use std::path::PathBuf;

use amorph::diffusion::{
    Diffusivity, Displacements, Drift, FitOptions, FitWindow, Msd, MsdMethod, PymatgenDiffusivity, Selection,
    Smoothing, arrhenius, default_charge, fit_arrhenius, nernst_einstein_ms_per_cm, plot,
};
use amorph::structure::io;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

/// pymatgen's `smoothed` modes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SmoothedChoice {
    /// smoothed="max": all-origins MSD from 1 ps, weights 1/t, min_obs.
    Max,
    /// smoothed="constant": avg_nsteps time origins.
    Constant,
    /// smoothed=False: one time origin.
    False,
}

/// Drift removal choices.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DriftChoice {
    /// Mean displacement of the other atoms (pymatgen's rule, the default).
    Framework,
    /// Mass-weighted centre of mass of all atoms.
    Com,
    /// No drift removal.
    None,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("atoms").required(true).args(["species", "indices"])))]
pub struct DiffusionArgs {
    /// Trajectory: XDATCAR, extended XYZ, or any format amorph reads (wrapped or unwrapped).
    traj: PathBuf,
    /// Element whose diffusion is measured (e.g. Li).
    #[arg(long)]
    species: Option<String>,
    /// Or atoms by 0-based index, comma-separated.
    #[arg(long, value_delimiter = ',')]
    indices: Option<Vec<usize>>,
    /// MD time step, fs.
    #[arg(long)]
    timestep: f64,
    /// MD steps between stored frames (time between frames = timestep × step-skip).
    #[arg(long)]
    step_skip: u32,
    /// Reproduce pymatgen's DiffusionAnalyzer(smoothed=…) exactly; without it, amorph's default
    /// (generalised least squares on 10–50 % of the run, standard error, 95 % interval).
    #[arg(long, value_enum)]
    smoothed: Option<SmoothedChoice>,
    /// pymatgen's min_obs (with --smoothed max).
    #[arg(long, default_value_t = 30)]
    min_obs: usize,
    /// pymatgen's avg_nsteps (with --smoothed constant).
    #[arg(long, default_value_t = 1000)]
    avg_nsteps: usize,
    /// Drift removal.
    #[arg(long, value_enum, default_value = "framework")]
    drift: DriftChoice,
    /// Start of the fit window, fs (default: 10 % of the run; amorph's rule only).
    #[arg(long, requires = "fit_end")]
    fit_start: Option<f64>,
    /// End of the fit window, fs (default: 50 % of the run).
    #[arg(long, requires = "fit_start")]
    fit_end: Option<f64>,
    /// Temperature of the run, K: gives the Nernst–Einstein conductivity.
    #[arg(long)]
    temperature: Option<f64>,
    /// Ionic charge in e for the conductivity (default: the element's single common oxidation state).
    #[arg(long, allow_negative_numbers = true)]
    charge: Option<f64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Write the MSD (all lags) as CSV: time_fs,msd_A2,msd_x_A2,msd_y_A2,msd_z_A2.
    #[arg(long)]
    msd: Option<PathBuf>,
    /// Write an SVG plot of the MSD and the fitted line.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Serialize)]
struct DiffusionReport {
    file: String,
    selection: String,
    natoms: usize,
    frames: usize,
    frame_interval_fs: f64,
    method: String,
    #[serde(rename = "D_cm2_s")]
    d_cm2_s: f64,
    #[serde(rename = "D_stderr_cm2_s")]
    d_stderr_cm2_s: f64,
    #[serde(rename = "D_ci95_cm2_s", skip_serializing_if = "Option::is_none")]
    d_ci95_cm2_s: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n_effective: Option<f64>,
    #[serde(rename = "D_components_cm2_s")]
    d_components_cm2_s: [f64; 3],
    fit_start_fs: f64,
    fit_end_fs: f64,
    #[serde(rename = "temperature_K")]
    temperature_k: Option<f64>,
    charge_e: Option<f64>,
    #[serde(rename = "volume_A3")]
    volume_a3: f64,
    #[serde(rename = "conductivity_mS_cm")]
    conductivity_ms_cm: Option<f64>,
    #[serde(rename = "conductivity_stderr_mS_cm")]
    conductivity_stderr_ms_cm: Option<f64>,
    haven_ratio: f64,
}

fn selection(args: &DiffusionArgs) -> Result<(Selection, String)> {
    match (&args.species, &args.indices) {
        (Some(s), _) => Ok((Selection::species(s)?, s.clone())),
        (None, Some(ix)) => Ok((
            Selection::Indices(ix.clone()),
            format!("{} atoms by index", ix.len()),
        )),
        (None, None) => bail!("give --species or --indices"),
    }
}

pub fn diffusion(args: &DiffusionArgs) -> Result<()> {
    if !(args.timestep.is_finite() && args.timestep > 0.0) || args.step_skip == 0 {
        bail!("--timestep must be positive and --step-skip at least 1");
    }
    let dt = args.timestep * args.step_skip as f64;
    let traj = io::read_trajectory(&args.traj)?;
    let (sel, label) = selection(args)?;
    let drift = match args.drift {
        DriftChoice::Framework => Drift::Framework,
        DriftChoice::Com => Drift::CentreOfMass,
        DriftChoice::None => Drift::None,
    };
    let disp = Displacements::from_trajectory(&traj, &sel, drift, dt)
        .with_context(|| format!("{}", args.traj.display()))?;
    let msd = Msd::compute(&disp, MsdMethod::Fft);
    let mut ours: Option<Diffusivity> = None;
    let mut pm: Option<PymatgenDiffusivity> = None;
    let method = match args.smoothed {
        None => {
            let window = match (args.fit_start, args.fit_end) {
                (Some(start_fs), Some(end_fs)) => FitWindow::Time { start_fs, end_fs },
                _ => FitWindow::default(),
            };
            ours = Some(msd.diffusivity(&FitOptions {
                window,
                ..FitOptions::default()
            })?);
            "amorph: GLS with the random-walk covariance; stderr = max(spread over atoms, model)".to_string()
        }
        Some(s) => {
            if !matches!(args.drift, DriftChoice::Framework) {
                bail!("--smoothed reproduces pymatgen, which removes the framework drift: drop --drift");
            }
            if args.fit_start.is_some() {
                bail!(
                    "--fit-start/--fit-end apply to amorph's rule, not to --smoothed (pymatgen picks its own window)"
                );
            }
            let smoothing = match s {
                SmoothedChoice::Max => Smoothing::Max {
                    min_obs: args.min_obs,
                },
                SmoothedChoice::Constant => Smoothing::Constant {
                    avg_nsteps: args.avg_nsteps,
                },
                SmoothedChoice::False => Smoothing::None,
            };
            pm = Some(disp.pymatgen_diffusivity(&msd, smoothing)?);
            format!("pymatgen DiffusionAnalyzer smoothed={s:?}").to_lowercase()
        }
    };
    let (d, se, comps, start, end) = match (&ours, &pm) {
        (Some(o), _) => (
            o.d_cm2_s,
            o.stderr_cm2_s,
            o.components_cm2_s,
            o.fit_start_fs(),
            o.fit_end_fs(),
        ),
        (None, Some(p)) => (
            p.d_cm2_s,
            p.d_std_cm2_s,
            p.components_cm2_s,
            p.time_fs[0],
            p.time_fs[p.time_fs.len() - 1],
        ),
        (None, None) => unreachable!("one analysis ran"),
    };
    let charge = match (args.charge, &sel) {
        (Some(z), _) => Some(z),
        (None, Selection::Species(e)) => default_charge(*e),
        (None, Selection::Indices(_)) => None,
    };
    let (sigma, sigma_se) = match (args.temperature, charge) {
        (Some(t), Some(z)) => {
            let s = nernst_einstein_ms_per_cm(d, disp.natoms(), z, disp.volume_a3(), t)?;
            let per_d = nernst_einstein_ms_per_cm(1.0, disp.natoms(), z, disp.volume_a3(), t)?;
            (Some(s), Some(se * per_d))
        }
        (Some(_), None) => {
            eprintln!(
                "note: no conductivity: give --charge (the species has no single common oxidation state)"
            );
            (None, None)
        }
        _ => (None, None),
    };
    if let Some(p) = &args.msd {
        io::write_atomically(p, msd.to_csv().as_bytes())?;
    }
    if let Some(p) = &args.plot {
        io::write_atomically(p, plot::msd_svg(&msd, ours.as_ref()).as_bytes())?;
    }
    let report = DiffusionReport {
        file: args.traj.display().to_string(),
        selection: label,
        natoms: disp.natoms(),
        frames: disp.nframes(),
        frame_interval_fs: dt,
        method,
        d_cm2_s: d,
        d_stderr_cm2_s: se,
        d_ci95_cm2_s: ours.as_ref().map(|o| o.ci95_cm2_s),
        n_effective: ours.as_ref().map(|o| o.n_effective),
        d_components_cm2_s: comps,
        fit_start_fs: start,
        fit_end_fs: end,
        temperature_k: args.temperature,
        charge_e: charge,
        volume_a3: disp.volume_a3(),
        conductivity_ms_cm: sigma,
        conductivity_stderr_ms_cm: sigma_se,
        haven_ratio: 1.0,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("file            {}", report.file);
        println!(
            "atoms           {} ({}), {} frames {} fs apart",
            report.natoms, report.selection, report.frames, dt
        );
        println!("method          {}", report.method);
        println!("D               {:.6e} ± {:.2e} cm²/s", d, se);
        if let Some(o) = &ours {
            println!(
                "95 % interval   {:.6e} – {:.6e} cm²/s ({:.0} effective independent samples)",
                o.ci95_cm2_s[0], o.ci95_cm2_s[1], o.n_effective
            );
        }
        println!(
            "D x, y, z       {:.4e} {:.4e} {:.4e} cm²/s",
            comps[0], comps[1], comps[2]
        );
        println!("fit window      {start} – {end} fs");
        if let (Some(s), Some(e)) = (sigma, sigma_se) {
            println!("conductivity    {s:.6e} ± {e:.2e} mS/cm (Nernst–Einstein, Haven ratio 1)");
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ArrheniusArgs {
    /// CSV with columns T_K,D_cm2_s[,D_stderr_cm2_s]; with standard errors the fit is weighted.
    table: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also extrapolate D to this temperature, K (D at 300 K is always given).
    #[arg(long)]
    at: Option<f64>,
    /// Write an SVG Arrhenius plot (log D against 1000/T with the fitted line).
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Serialize)]
struct Extrapolation {
    #[serde(rename = "T_K")]
    t_k: f64,
    #[serde(rename = "D_cm2_s")]
    d_cm2_s: f64,
    #[serde(rename = "D_stderr_cm2_s")]
    d_stderr_cm2_s: Option<f64>,
}

#[derive(Serialize)]
struct ArrheniusReport {
    file: String,
    n: usize,
    weighted: bool,
    #[serde(rename = "Ea_eV")]
    ea_ev: f64,
    #[serde(rename = "Ea_stderr_eV")]
    ea_stderr_ev: Option<f64>,
    #[serde(rename = "D0_cm2_s")]
    d0_cm2_s: f64,
    #[serde(rename = "D0_stderr_cm2_s")]
    d0_stderr_cm2_s: Option<f64>,
    #[serde(rename = "D_at_300K_cm2_s")]
    d_at_300k_cm2_s: f64,
    #[serde(rename = "D_at_300K_stderr_cm2_s")]
    d_at_300k_stderr_cm2_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extrapolated: Option<Extrapolation>,
}

pub fn arrhenius(args: &ArrheniusArgs) -> Result<()> {
    let points = arrhenius::read_table(&args.table)?;
    let fit = fit_arrhenius(&points).with_context(|| format!("{}", args.table.display()))?;
    let (d300, se300) = fit.diffusivity_at(300.0)?;
    let extrapolated = match args.at {
        Some(t) => {
            let (d, se) = fit.diffusivity_at(t)?;
            Some(Extrapolation {
                t_k: t,
                d_cm2_s: d,
                d_stderr_cm2_s: se,
            })
        }
        None => None,
    };
    if let Some(p) = &args.plot {
        io::write_atomically(p, plot::arrhenius_svg(&points, &fit).as_bytes())?;
    }
    let r = ArrheniusReport {
        file: args.table.display().to_string(),
        n: fit.n,
        weighted: fit.weighted,
        ea_ev: fit.ea_ev,
        ea_stderr_ev: fit.ea_stderr_ev,
        d0_cm2_s: fit.d0_cm2_s,
        d0_stderr_cm2_s: fit.d0_stderr_cm2_s,
        d_at_300k_cm2_s: d300,
        d_at_300k_stderr_cm2_s: se300,
        extrapolated,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let pm = |v: Option<f64>, p: usize| {
            v.map_or("(no residual: two points)".to_string(), |s| format!("± {s:.p$e}"))
        };
        println!(
            "file            {} ({} points{})",
            r.file,
            r.n,
            if r.weighted { ", weighted by D/σ_D" } else { "" }
        );
        println!("Ea              {:.6} eV {}", r.ea_ev, pm(r.ea_stderr_ev, 2));
        println!(
            "D0              {:.6e} cm²/s {}",
            r.d0_cm2_s,
            pm(r.d0_stderr_cm2_s, 2)
        );
        println!(
            "D(300 K)        {:.6e} cm²/s {}",
            r.d_at_300k_cm2_s,
            pm(r.d_at_300k_stderr_cm2_s, 2)
        );
        if let Some(e) = &r.extrapolated {
            println!(
                "D({} K)      {:.6e} cm²/s {}",
                e.t_k,
                e.d_cm2_s,
                pm(e.d_stderr_cm2_s, 2)
            );
        }
    }
    Ok(())
}
