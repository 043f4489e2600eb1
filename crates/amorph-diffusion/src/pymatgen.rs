//! pymatgen-analysis-diffusion's `DiffusionAnalyzer` reproduced: its three `smoothed` modes, its
//! fit, its standard deviation.

use serde::{Deserialize, Serialize};

use crate::displacement::Displacements;
use crate::error::{Error, Result};
use crate::msd::Msd;
use crate::stats::fit_line;

/// pymatgen's `smoothed` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Smoothing {
    /// `smoothed="max"` (pymatgen's default): the all-origins MSD at up to 200 lags from
    /// ⌊1000 fs/Δt⌋ frames (the first picosecond is skipped) to min(N·T // `min_obs`, T), fitted
    /// with weights 1/t.
    Max {
        /// pymatgen's `min_obs` (default 30).
        min_obs: usize,
    },
    /// `smoothed="constant"`: MSD at lags 0..T−`avg_nsteps` averaged over the first `avg_nsteps`
    /// time origins only, fitted unweighted.
    Constant {
        /// pymatgen's `avg_nsteps` (default 1000).
        avg_nsteps: usize,
    },
    /// `smoothed=False`: displacements from the first frame only (one time origin), every lag,
    /// fitted unweighted.
    None,
}

/// What `DiffusionAnalyzer` reports, in its units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PymatgenDiffusivity {
    /// `diffusivity`, cm²/s.
    pub d_cm2_s: f64,
    /// `diffusivity_std_dev`, cm²/s: pymatgen's formula (meaningful only without smoothing, as its
    /// documentation says).
    pub d_std_cm2_s: f64,
    /// `diffusivity_components` (x, y, z), cm²/s.
    pub components_cm2_s: [f64; 3],
    /// `diffusivity_components_std_dev`, cm²/s.
    pub components_std_cm2_s: [f64; 3],
    /// `dt`: the lag times of the fit, fs.
    pub time_fs: Vec<f64>,
    /// `msd`, Å².
    pub msd_a2: Vec<f64>,
    /// `msd_components`, Å².
    pub msd_components_a2: Vec<[f64; 3]>,
}

/// pymatgen's `get_diffusivity_from_msd`: (D, std dev), cm²/s.
fn diffusivity_from_msd(msd: &[f64], dt: &[f64], weighted: bool) -> Result<(f64, f64)> {
    let n = dt.len();
    if n < 3 {
        return Err(Error::TooShort(format!(
            "{n} MSD point(s): pymatgen's fit and its standard deviation need at least 3"
        )));
    }
    let w: Option<Vec<f64>> = weighted.then(|| dt.iter().map(|t| 1.0 / t).collect());
    if let Some(w) = &w
        && w.iter().any(|x| !x.is_finite())
    {
        return Err(Error::InvalidArgument(
            "smoothed=max weights points by 1/t and the fit starts at t = 0 (pymatgen gives NaN): the \
             time between frames exceeds 1000 fs"
                .into(),
        ));
    }
    let line = fit_line(dt, msd, w.as_deref()).ok_or_else(|| Error::Fit("all fit times are equal".into()))?;
    let m = line.slope.max(1e-15);
    let d = m / 60.0;
    let nf = n as f64;
    let s1: f64 = dt.iter().map(|t| (t / 1000.0).powi(2)).sum();
    let s2: f64 = dt.iter().map(|t| t / 1000.0).sum();
    let denom = (nf * s1 - s2 * s2) * (nf - 2.0);
    let std = (nf * line.weighted_rss / denom).sqrt() / 60.0 / 1000.0;
    Ok((d, std))
}

impl Displacements {
    /// The diffusivity exactly as pymatgen's `DiffusionAnalyzer` computes it in a `smoothed` mode
    /// (with [`Drift::Framework`](crate::Drift::Framework) displacements, which is what it does).
    /// `msd` must be the all-origins MSD of these displacements (used by [`Smoothing::Max`]).
    ///
    /// In a variable cell pymatgen maps the accumulated fractional displacement with the current
    /// frame's cell, L(t)·Δf, whereas [`Displacements`] are differences of unwrapped positions,
    /// L(t)·f(t) − L(0)·f(0); the two agree for a fixed cell (NVT), where the references were checked.
    pub fn pymatgen_diffusivity(&self, msd: &Msd, smoothing: Smoothing) -> Result<PymatgenDiffusivity> {
        let nsteps = self.nframes();
        let natoms = self.natoms();
        let step = self.frame_interval_fs;
        if msd.len() != nsteps || msd.natoms() != natoms {
            return Err(Error::InvalidArgument(
                "the MSD does not belong to these displacements".into(),
            ));
        }
        let (timesteps, comps): (Vec<usize>, Vec<[f64; 3]>) = match smoothing {
            Smoothing::Max { min_obs } => {
                if min_obs == 0 {
                    return Err(Error::InvalidArgument("min_obs must be at least 1".into()));
                }
                let min_dt = (1000.0 / step) as usize; // Python int(): truncation
                let max_dt = (natoms * nsteps / min_obs).min(nsteps);
                if min_dt >= max_dt {
                    return Err(Error::TooShort(format!(
                        "smoothed=max needs lags from {min_dt} frames (1 ps) to min(N·T/min_obs, T) = {max_dt}: \
                         not enough data to calculate diffusivity"
                    )));
                }
                let stride = ((max_dt - min_dt) as f64 / 200.0) as usize;
                let ts: Vec<usize> = (min_dt..max_dt).step_by(stride.max(1)).collect();
                let c = ts
                    .iter()
                    .map(|&k| [msd.component(k, 0), msd.component(k, 1), msd.component(k, 2)])
                    .collect();
                (ts, c)
            }
            Smoothing::Constant { avg_nsteps } => {
                if nsteps <= avg_nsteps {
                    return Err(Error::TooShort(format!(
                        "smoothed=constant needs more than avg_nsteps = {avg_nsteps} frames, the run has {nsteps}"
                    )));
                }
                let ts: Vec<usize> = (0..nsteps - avg_nsteps).collect();
                let mut c = vec![[0.0; 3]; ts.len()];
                for a in 0..natoms {
                    for (d, cd) in (0..3).map(|d| (d, self.series(a, d))) {
                        for (i, ci) in c.iter_mut().enumerate() {
                            let s: f64 = (0..avg_nsteps).map(|o| (cd[i + o] - cd[o]).powi(2)).sum();
                            ci[d] += s / avg_nsteps as f64;
                        }
                    }
                }
                c.iter_mut()
                    .for_each(|v| v.iter_mut().for_each(|x| *x /= natoms as f64));
                (ts, c)
            }
            Smoothing::None => {
                let ts: Vec<usize> = (0..nsteps).collect();
                let mut c = vec![[0.0; 3]; nsteps];
                for a in 0..natoms {
                    for d in 0..3 {
                        for (ci, x) in c.iter_mut().zip(self.series(a, d)) {
                            ci[d] += x * x;
                        }
                    }
                }
                c.iter_mut()
                    .for_each(|v| v.iter_mut().for_each(|x| *x /= natoms as f64));
                (ts, c)
            }
        };
        let dt: Vec<f64> = timesteps.iter().map(|&k| k as f64 * step).collect();
        let total: Vec<f64> = comps.iter().map(|c| c[0] + c[1] + c[2]).collect();
        let weighted = matches!(smoothing, Smoothing::Max { .. });
        let (d, d_std) = diffusivity_from_msd(&total, &dt, weighted)?;
        let mut components = [0.0; 3];
        let mut components_std = [0.0; 3];
        for j in 0..3 {
            let col: Vec<f64> = comps.iter().map(|c| c[j]).collect();
            let (dj, sj) = diffusivity_from_msd(&col, &dt, weighted)?;
            components[j] = 3.0 * dj;
            components_std[j] = 3.0 * sj;
        }
        Ok(PymatgenDiffusivity {
            d_cm2_s: d,
            d_std_cm2_s: d_std,
            components_cm2_s: components,
            components_std_cm2_s: components_std,
            time_fs: dt,
            msd_a2: total,
            msd_components_a2: comps,
        })
    }
}
