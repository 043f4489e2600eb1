//! The MPMorph volume search over any [`VolumeProbe`].
//!
//! The search is a pure function of its history: every decision (which volume to probe next, whether
//! to accept) is recomputed from the probes recorded so far. Resuming after a crash is therefore
//! replaying the history: [`VolumeSearch::resume`] checks that each recorded probe is the one these
//! settings would have asked for and continues from there, never repeating a probe.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{EosError, PressureFit, PressureModel, fit_pressure};

/// Why a probe was run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// One of the initial probes (0.8, 1.0, 1.2 × the starting volume).
    Initial,
    /// A probe beyond the explored range, because the fitted zero-pressure volume lies outside it.
    Edge,
    /// A probe at the zero-pressure volume of the P(V) fit (or of the linear fallback).
    Eos,
    /// A probe at V₂ = V₁·exp(β·P) after a probe whose pressure was outside the tolerance.
    Rescale,
    /// A repeated probe at the same volume because the energies of the two halves disagreed.
    EnergyRerun,
}

/// What the search asks a probe to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ProbeRequest {
    /// Position of this probe in the history (0, 1, …): a natural seed offset and file name.
    pub index: usize,
    /// Cell volume to run at, Å³ (scale the configuration's cell and positions to it).
    pub volume_A3: f64,
    /// MD steps to run.
    pub steps: usize,
    /// Why.
    pub kind: ProbeKind,
}

/// What a probe reports: an NVT segment at the requested volume, averaged over its second half.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ProbeOutcome<C> {
    /// Mean pressure over the second half, GPa.
    pub pressure_GPa: f64,
    /// Its standard error, GPa (e.g. from block averages).
    pub pressure_err_GPa: f64,
    /// Mean total energy over the first half, eV.
    pub energy_first_half_eV: f64,
    /// Mean total energy over the second half, eV.
    pub energy_second_half_eV: f64,
    /// The final configuration (the next probe near this volume starts from it).
    pub configuration: C,
}

/// Something that runs a constant-volume segment and reports pressure and energy: an MD engine, or in
/// tests an analytic P(V).
///
/// ```
/// use amorph_eos::{ProbeOutcome, ProbeRequest, VolumeProbe};
///
/// /// A liquid whose pressure is exactly P = 30 GPa · ln(1500 Å³ / V).
/// struct Analytic;
/// impl VolumeProbe for Analytic {
///     type Configuration = f64; // here: just the volume
///     type Error = std::convert::Infallible;
///     fn probe(&mut self, _start: &f64, r: &ProbeRequest) -> Result<ProbeOutcome<f64>, Self::Error> {
///         Ok(ProbeOutcome {
///             pressure_GPa: 30.0 * (1500.0 / r.volume_A3).ln(),
///             pressure_err_GPa: 0.01,
///             energy_first_half_eV: -700.0,
///             energy_second_half_eV: -700.0,
///             configuration: r.volume_A3,
///         })
///     }
/// }
/// ```
pub trait VolumeProbe {
    /// What a probe starts from and ends with (a structure with velocities, a checkpoint, …).
    type Configuration: Clone;
    /// What a failed probe reports.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Run `request.steps` steps at `request.volume_A3`, starting from `start` rescaled to that volume.
    ///
    /// # Errors
    /// Whatever the engine reports; the search stops with [`EosError::Probe`].
    fn probe(
        &mut self,
        start: &Self::Configuration,
        request: &ProbeRequest,
    ) -> Result<ProbeOutcome<Self::Configuration>, Self::Error>;
}

/// MPMorph's compressibility for the rescale step, per bar.
pub const MPMORPH_BETA_PER_BAR: f64 = 5e-7;
/// Range of the fitted bulk modulus used for the default rescale, GPa.
const MIN_RESCALE_B_GPA: f64 = 1.0;
const MAX_RESCALE_B_GPA: f64 = 500.0;
/// Largest |ln(V₂/V₁)| of a default rescale: 5 %.
const MAX_RESCALE_LOG_STEP: f64 = 0.05;

/// Settings of the search (MPMorph's defaults, except the rescale's β: see
/// [`beta_per_bar`](Self::beta_per_bar)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct SearchSettings {
    /// Scale factors of the initial volume for the first probes; default 0.8, 1.0, 1.2.
    pub initial_scales: Vec<f64>,
    /// Steps per probe; default 2 000 (4 ps at 2 fs).
    pub steps: usize,
    /// An edge probe goes this fraction of the initial volume beyond the explored range; default 0.1.
    pub edge_step: f64,
    /// Edge probes allowed before [`EosError::NoRootInRange`]; default 4.
    pub max_edge_probes: usize,
    /// The P(V) form fitted to the probes; default Birch–Murnaghan.
    pub model: PressureModel,
    /// Accept when |P| is below this, GPa; default 0.5 (5 kbar).
    pub pressure_tolerance_GPa: f64,
    /// Accept when |E₂ − E₁| ≤ this × |(E₁ + E₂)/2| for the mean energies of the two halves; default 5e-4
    /// (MPMorph's `ionic` criterion).
    pub energy_tolerance: f64,
    /// β of the rescale V₂ = V₁·exp(β·P), per bar. Default `None`: β = 1/B0 of the last P(V) fit
    /// (B0 clamped to 1–500 GPa), a Newton step on the fitted equation of state, damped to at most
    /// 5 % in volume per rescale. MPMorph's constant
    /// 5e-7 bar⁻¹ ([`MPMORPH_BETA_PER_BAR`]) is 1/B for B = 200 GPa, a DFT solid; for a classical
    /// liquid at 3000 K (B ≈ 3–10 GPa) it moves the volume by 0.5 % per GPa, too little to converge in
    /// a few rescales.
    pub beta_per_bar: Option<f64>,
    /// Rescales allowed before [`EosError::SearchNotConverged`]; default 10.
    pub max_rescales: usize,
    /// Reruns at an accepted pressure while the energy drifts; then the volume is accepted with
    /// `energy_converged = false` (as MPMorph continues to production); default 3.
    pub max_energy_reruns: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            initial_scales: vec![0.8, 1.0, 1.2],
            steps: 2000,
            edge_step: 0.1,
            max_edge_probes: 4,
            model: PressureModel::BirchMurnaghan,
            pressure_tolerance_GPa: 0.5,
            energy_tolerance: 5e-4,
            beta_per_bar: None,
            max_rescales: 10,
            max_energy_reruns: 3,
        }
    }
}

impl SearchSettings {
    fn check(&self) -> Result<(), EosError> {
        let bad = |m: &str| Err(EosError::Search(m.to_string()));
        if self.initial_scales.len() < 3 || self.initial_scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return bad("need at least three positive initial scales");
        }
        if self.steps == 0 {
            return bad("probes need at least one step");
        }
        if !(self.edge_step > 0.0 && self.edge_step.is_finite()) {
            return bad("edge_step must be positive");
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let valid = positive(self.pressure_tolerance_GPa)
            && self.energy_tolerance.is_finite()
            && self.energy_tolerance >= 0.0
            && self.beta_per_bar.is_none_or(positive);
        if !valid {
            return bad("tolerances must be non-negative and β positive");
        }
        Ok(())
    }
}

/// How the volume of an edge or EOS probe was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct FitSummary {
    /// `birch_murnaghan`, `vinet`, `murnaghan`, or `linear` (the fallback).
    pub method: String,
    /// Zero-pressure volume of the fit, Å³.
    pub v0_A3: f64,
    /// Its standard error when the fit has degrees of freedom left, Å³.
    pub v0_err_A3: Option<f64>,
    /// Bulk modulus of the fit, GPa (−V dP/dV at V0 for the linear fallback).
    pub b0_GPa: f64,
    /// B0′ (absent for the linear fallback).
    pub b1: Option<f64>,
}

/// One probe in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord<C> {
    /// What was asked.
    pub request: ProbeRequest,
    /// The fit that chose the volume (edge and EOS probes).
    pub fit: Option<FitSummary>,
    /// What the probe reported.
    pub outcome: ProbeOutcome<C>,
}

/// Everything the search did: settings, start, every probe. Serialise it after each probe
/// ([`SearchHistory::write_json`]) and [`VolumeSearch::resume`] from it after a crash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct SearchHistory<C> {
    /// The settings.
    pub settings: SearchSettings,
    /// The starting volume, Å³.
    pub initial_volume_A3: f64,
    /// The starting configuration.
    pub initial_configuration: C,
    /// Every probe, in order.
    pub records: Vec<ProbeRecord<C>>,
}

impl<C> SearchHistory<C> {
    /// The history as a text table, one probe per line: index, kind, volume (Å³), pressure ± error
    /// (GPa), mean energies of the two halves (eV), and the fit that chose the volume.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:>3} {:<12} {:>12} {:>20} {:>16} {:>16}  {}\n",
            "#", "kind", "V (Å³)", "P ± err (GPa)", "E1 (eV)", "E2 (eV)", "fit"
        );
        for r in &self.records {
            let o = &r.outcome;
            let fit = r.fit.as_ref().map_or(String::new(), |f| {
                format!("{} V0 = {:.3} Å³, B0 = {:.2} GPa", f.method, f.v0_A3, f.b0_GPa)
            });
            let line = format!(
                "{:>3} {:<12} {:>12.4} {:>+11.4} ± {:<6.4} {:>16.6} {:>16.6}  {}",
                r.request.index,
                format!("{:?}", r.request.kind),
                r.request.volume_A3,
                o.pressure_GPa,
                o.pressure_err_GPa,
                o.energy_first_half_eV,
                o.energy_second_half_eV,
                fit
            );
            out += line.trim_end();
            out.push('\n');
        }
        out
    }
}

impl<C: Serialize + DeserializeOwned> SearchHistory<C> {
    /// Write as JSON, atomically (a temporary file in the same directory, then a rename).
    ///
    /// # Errors
    /// [`EosError::Io`].
    pub fn write_json(&self, path: &Path) -> Result<(), EosError> {
        let io = |e: &dyn std::fmt::Display| EosError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| io(&e))?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| io(&"no file name"))?;
        let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
        let result = std::fs::write(&tmp, text.as_bytes()).and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(&e));
        }
        Ok(())
    }

    /// Read what [`SearchHistory::write_json`] wrote.
    ///
    /// # Errors
    /// [`EosError::Io`].
    pub fn read_json(path: &Path) -> Result<Self, EosError> {
        let io = |e: &dyn std::fmt::Display| EosError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let text = std::fs::read_to_string(path).map_err(|e| io(&e))?;
        serde_json::from_str(&text).map_err(|e| io(&e))
    }
}

/// The accepted volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct Accepted<C> {
    /// The accepted cell volume, Å³.
    pub volume_A3: f64,
    /// Mean pressure of the accepted probe, GPa.
    pub pressure_GPa: f64,
    /// Its standard error, GPa.
    pub pressure_err_GPa: f64,
    /// Whether the energies of the two halves agreed (false: accepted after the allowed reruns).
    pub energy_converged: bool,
    /// Index of the accepted probe in the history.
    pub index: usize,
    /// Its final configuration: the start of production.
    pub configuration: C,
    /// The P(V) fit over every probe (`None` when it does not converge).
    pub eos: Option<PressureFit>,
}

/// Progress reports of [`VolumeSearch::run_with_progress`].
#[derive(Debug)]
pub enum SearchEvent<'a, C> {
    /// A probe is about to run.
    Probing(&'a ProbeRequest),
    /// A probe finished and is in the history (persist the history now to survive a crash).
    Probed(&'a ProbeRecord<C>, &'a SearchHistory<C>),
}

enum Step {
    Probe(ProbeRequest, Option<FitSummary>),
    Accept(usize, bool),
}

/// The MPMorph volume search (see the crate documentation for the algorithm).
#[derive(Clone, Debug)]
pub struct VolumeSearch<C> {
    history: SearchHistory<C>,
}

impl<C: Clone> VolumeSearch<C> {
    /// A new search from `configuration` at `volume_A3`.
    ///
    /// # Errors
    /// [`EosError::Search`] for invalid settings or volume.
    #[allow(non_snake_case)]
    pub fn new(settings: SearchSettings, configuration: C, volume_A3: f64) -> Result<Self, EosError> {
        settings.check()?;
        if !(volume_A3 > 0.0 && volume_A3.is_finite()) {
            return Err(EosError::Search(format!(
                "initial volume {volume_A3} Å³ is not positive"
            )));
        }
        Ok(Self {
            history: SearchHistory {
                settings,
                initial_volume_A3: volume_A3,
                initial_configuration: configuration,
                records: Vec::new(),
            },
        })
    }

    /// Continue a search from its history: every recorded probe must be the one these settings ask for.
    ///
    /// # Errors
    /// [`EosError::Search`] when the history does not replay.
    pub fn resume(history: SearchHistory<C>) -> Result<Self, EosError> {
        history.settings.check()?;
        for (i, record) in history.records.iter().enumerate() {
            match decide(
                &history.settings,
                history.initial_volume_A3,
                &history.records[..i],
            ) {
                Ok(Step::Probe(want, _)) => {
                    let got = &record.request;
                    if got.kind != want.kind
                        || got.index != want.index
                        || got.steps != want.steps
                        || (got.volume_A3 - want.volume_A3).abs() > 1e-9 * want.volume_A3
                    {
                        return Err(EosError::Search(format!(
                            "history probe {i} ({:?} at {} Å³) is not what these settings ask for ({:?} at {} Å³)",
                            got.kind, got.volume_A3, want.kind, want.volume_A3
                        )));
                    }
                }
                _ => {
                    return Err(EosError::Search(format!(
                        "the history goes on after the search ended (probe {i})"
                    )));
                }
            }
        }
        Ok(Self { history })
    }

    /// The history so far (also after a failure: every probe made).
    pub fn history(&self) -> &SearchHistory<C> {
        &self.history
    }

    /// The history, consuming the search.
    pub fn into_history(self) -> SearchHistory<C> {
        self.history
    }

    /// Run to the accepted volume.
    ///
    /// # Errors
    /// [`EosError::NonMonotonicPressure`], [`EosError::NoRootInRange`], [`EosError::SearchNotConverged`],
    /// [`EosError::Probe`]; the history keeps every probe made.
    pub fn run<P: VolumeProbe<Configuration = C>>(&mut self, probe: &mut P) -> Result<Accepted<C>, EosError> {
        self.run_with_progress(probe, |_| {})
    }

    /// [`VolumeSearch::run`], reporting each probe through `progress`.
    ///
    /// # Errors
    /// As [`VolumeSearch::run`].
    pub fn run_with_progress<P: VolumeProbe<Configuration = C>>(
        &mut self,
        probe: &mut P,
        mut progress: impl FnMut(SearchEvent<'_, C>),
    ) -> Result<Accepted<C>, EosError> {
        loop {
            let h = &self.history;
            match decide(&h.settings, h.initial_volume_A3, &h.records)? {
                Step::Accept(index, energy_converged) => {
                    let r = &h.records[index];
                    let (v, p): (Vec<f64>, Vec<f64>) = h
                        .records
                        .iter()
                        .map(|r| (r.request.volume_A3, r.outcome.pressure_GPa))
                        .unzip();
                    return Ok(Accepted {
                        volume_A3: r.request.volume_A3,
                        pressure_GPa: r.outcome.pressure_GPa,
                        pressure_err_GPa: r.outcome.pressure_err_GPa,
                        energy_converged,
                        index,
                        configuration: r.outcome.configuration.clone(),
                        eos: fit_pressure(h.settings.model, &v, &p).ok(),
                    });
                }
                Step::Probe(request, fit) => {
                    progress(SearchEvent::Probing(&request));
                    let start = start_for(h, request.volume_A3, request.kind).clone();
                    let outcome = probe.probe(&start, &request).map_err(|e| EosError::Probe {
                        index: request.index,
                        volume_A3: request.volume_A3,
                        source: Box::new(e),
                    })?;
                    let finite = [
                        outcome.pressure_GPa,
                        outcome.pressure_err_GPa,
                        outcome.energy_first_half_eV,
                        outcome.energy_second_half_eV,
                    ]
                    .iter()
                    .all(|x| x.is_finite());
                    if !finite {
                        return Err(EosError::Probe {
                            index: request.index,
                            volume_A3: request.volume_A3,
                            source: "the probe reported a non-finite pressure or energy".into(),
                        });
                    }
                    self.history.records.push(ProbeRecord {
                        request,
                        fit,
                        outcome,
                    });
                    let h = &self.history;
                    if let Some(last) = h.records.last() {
                        progress(SearchEvent::Probed(last, h));
                    }
                }
            }
        }
    }
}

/// The configuration a probe at `volume` starts from: the initial one for the initial probes, else the
/// final configuration of the probe nearest in volume (the latest among equals).
fn start_for<C>(h: &SearchHistory<C>, volume: f64, kind: ProbeKind) -> &C {
    if kind == ProbeKind::Initial {
        return &h.initial_configuration;
    }
    let mut best: Option<(&ProbeRecord<C>, f64)> = None;
    for r in &h.records {
        let d = (r.request.volume_A3 - volume).abs();
        if best.is_none_or(|(_, bd)| d <= bd) {
            best = Some((r, d));
        }
    }
    best.map_or(&h.initial_configuration, |(r, _)| &r.outcome.configuration)
}

fn linear_fit(v: &[f64], p: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mv = v.iter().sum::<f64>() / n;
    let mp = p.iter().sum::<f64>() / n;
    let sxy: f64 = v.iter().zip(p).map(|(a, b)| (a - mv) * (b - mp)).sum();
    let sxx: f64 = v.iter().map(|a| (a - mv) * (a - mv)).sum();
    let slope = sxy / sxx;
    (slope, mp - slope * mv)
}

/// Fit the bracketing probes: the P(V) model, else the linear fallback.
fn bracket_fit<C>(settings: &SearchSettings, records: &[&ProbeRecord<C>]) -> Result<FitSummary, EosError> {
    let mut pts: Vec<(f64, f64, f64)> = records
        .iter()
        .map(|r| {
            (
                r.request.volume_A3,
                r.outcome.pressure_GPa,
                r.outcome.pressure_err_GPa,
            )
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let v: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let p: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let (slope, intercept) = linear_fit(&v, &p);
    let rises = pts
        .windows(2)
        .any(|w| w[1].1 - w[0].1 > 3.0 * (w[0].2 * w[0].2 + w[1].2 * w[1].2).sqrt() && w[1].0 > w[0].0);
    if !(slope.is_finite() && slope < 0.0) || rises {
        return Err(EosError::NonMonotonicPressure {
            volumes_A3: v,
            pressures_GPa: p,
            slope_GPa_per_A3: slope,
        });
    }
    if let Ok(fit) = fit_pressure(settings.model, &v, &p)
        && fit.v0_A3 > 0.0
        && fit.b0_GPa > 0.0
        && fit.v0_A3.is_finite()
    {
        return Ok(FitSummary {
            method: settings.model.name().to_string(),
            v0_A3: fit.v0_A3,
            v0_err_A3: fit.stderr.map(|s| s.v0_A3),
            b0_GPa: fit.b0_GPa,
            b1: Some(fit.b1),
        });
    }
    // The fallback is the secant through the two probes closest to zero pressure: P(V) is convex,
    // so a regression over probes far from the root puts the root at the wrong place (and can pull
    // it inside the explored range when it is not).
    let mut near: Vec<&(f64, f64, f64)> = pts.iter().collect();
    near.sort_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    let secant = near
        .iter()
        .skip(1)
        .find(|q| q.0 != near[0].0)
        .map(|q| (q.1 - near[0].1) / (q.0 - near[0].0))
        .filter(|s| s.is_finite() && *s < 0.0);
    let (slope, v0) = match secant {
        Some(s) => (s, near[0].0 - near[0].1 / s),
        None => (slope, -intercept / slope),
    };
    Ok(FitSummary {
        method: "linear".into(),
        v0_A3: v0,
        v0_err_A3: None,
        b0_GPa: -v0 * slope,
        b1: None,
    })
}

fn decide<C>(settings: &SearchSettings, v_init: f64, records: &[ProbeRecord<C>]) -> Result<Step, EosError> {
    let request = |kind, volume: f64| ProbeRequest {
        index: records.len(),
        volume_A3: volume,
        steps: settings.steps,
        kind,
    };
    let n_init = settings.initial_scales.len();
    if records.len() < n_init {
        return Ok(Step::Probe(
            request(
                ProbeKind::Initial,
                settings.initial_scales[records.len()] * v_init,
            ),
            None,
        ));
    }
    let bracketing = records
        .iter()
        .all(|r| matches!(r.request.kind, ProbeKind::Initial | ProbeKind::Edge));
    if bracketing {
        let all: Vec<&ProbeRecord<C>> = records.iter().collect();
        let vmin = records
            .iter()
            .map(|r| r.request.volume_A3)
            .fold(f64::INFINITY, f64::min);
        let vmax = records
            .iter()
            .map(|r| r.request.volume_A3)
            .fold(f64::NEG_INFINITY, f64::max);
        // Pressures of one sign everywhere say which way the root lies even when noise (or a
        // cavitated, flat P(V) at low density) leaves no usable slope: follow them outward.
        let all_positive = records.iter().all(|r| r.outcome.pressure_GPa > 0.0);
        let all_negative = records.iter().all(|r| r.outcome.pressure_GPa < 0.0);
        let fit = match bracket_fit(settings, &all) {
            Ok(fit) => Some(fit),
            Err(EosError::NonMonotonicPressure { .. }) if all_positive || all_negative => None,
            Err(e @ EosError::NonMonotonicPressure { .. }) => {
                // A liquid that cavitates has P rising again with V beyond its spinodal: fit only
                // the compressed side, up to the first negative pressure after a positive one.
                let mut sorted = all.clone();
                sorted.sort_by(|a, b| a.request.volume_A3.total_cmp(&b.request.volume_A3));
                let first_negative = sorted.iter().position(|r| r.outcome.pressure_GPa < 0.0);
                match first_negative.filter(|&i| i > 0) {
                    Some(i) => match bracket_fit(settings, &sorted[..=i]) {
                        Ok(fit) => Some(fit),
                        Err(_) => return Err(e),
                    },
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(fit) = fit.as_ref().filter(|f| f.v0_A3 >= vmin && f.v0_A3 <= vmax) {
            let v0 = fit.v0_A3;
            return Ok(Step::Probe(request(ProbeKind::Eos, v0), Some(fit.clone())));
        }
        let edges = records
            .iter()
            .filter(|r| r.request.kind == ProbeKind::Edge)
            .count();
        let outward = match &fit {
            Some(fit) => fit.v0_A3 > vmax,
            None => all_positive,
        };
        let estimate = fit
            .as_ref()
            .map_or(if outward { f64::INFINITY } else { 0.0 }, |f| f.v0_A3);
        let next = if outward {
            vmax + settings.edge_step * v_init
        } else {
            vmin - settings.edge_step * v_init
        };
        if edges >= settings.max_edge_probes || !(next.is_finite() && next > 0.0) {
            return Err(EosError::NoRootInRange {
                min_A3: vmin,
                max_A3: vmax,
                edge_probes: edges,
                estimate_A3: estimate,
            });
        }
        return Ok(Step::Probe(request(ProbeKind::Edge, next), fit));
    }
    let (last_index, last) = (records.len() - 1, &records[records.len() - 1]);
    let o = &last.outcome;
    let v = last.request.volume_A3;
    let pressure_ok = o.pressure_GPa.abs() < settings.pressure_tolerance_GPa;
    let mean = 0.5 * (o.energy_first_half_eV + o.energy_second_half_eV);
    let energy_ok =
        (o.energy_second_half_eV - o.energy_first_half_eV).abs() <= settings.energy_tolerance * mean.abs();
    if pressure_ok && energy_ok {
        return Ok(Step::Accept(last_index, true));
    }
    if pressure_ok {
        let reruns = records
            .iter()
            .rev()
            .take_while(|r| r.request.kind == ProbeKind::EnergyRerun)
            .count();
        if reruns >= settings.max_energy_reruns {
            return Ok(Step::Accept(last_index, false));
        }
        return Ok(Step::Probe(request(ProbeKind::EnergyRerun, v), None));
    }
    let rescales = records
        .iter()
        .filter(|r| r.request.kind == ProbeKind::Rescale)
        .count();
    if rescales >= settings.max_rescales {
        return Err(EosError::SearchNotConverged {
            rescales,
            last_volume_A3: v,
            last_pressure_GPa: o.pressure_GPa,
            tolerance_GPa: settings.pressure_tolerance_GPa,
        });
    }
    // β per bar → per GPa (1 GPa = 10⁴ bar); by default 1/B of the last P(V) fit.
    let beta_per_gpa = match settings.beta_per_bar {
        Some(beta) => beta * 1e4,
        None => records
            .iter()
            .rev()
            .find_map(|r| r.fit.as_ref())
            .map_or(MPMORPH_BETA_PER_BAR * 1e4, |f| {
                1.0 / f.b0_GPa.clamp(MIN_RESCALE_B_GPA, MAX_RESCALE_B_GPA)
            }),
    };
    let mut step = beta_per_gpa * o.pressure_GPa;
    if settings.beta_per_bar.is_none() {
        // A soft liquid (B of a few GPa) with pressure noise of ~0.1 GPa would make full Newton
        // steps overshoot by tens of per cent; damp them.
        step = step.clamp(-MAX_RESCALE_LOG_STEP, MAX_RESCALE_LOG_STEP);
    }
    Ok(Step::Probe(request(ProbeKind::Rescale, v * step.exp()), None))
}

#[cfg(test)]
mod bracket_tests {
    use super::*;

    fn record(v: f64, p: f64, err: f64) -> ProbeRecord<()> {
        ProbeRecord {
            request: ProbeRequest {
                index: 0,
                volume_A3: v,
                steps: 1,
                kind: ProbeKind::Initial,
            },
            fit: None,
            outcome: ProbeOutcome {
                pressure_GPa: p,
                pressure_err_GPa: err,
                energy_first_half_eV: 0.0,
                energy_second_half_eV: 0.0,
                configuration: (),
            },
        }
    }

    #[test]
    fn the_root_of_steep_positive_pressures_lies_beyond_the_probes() {
        // A 198-atom Pedone Li2Si2O5 melt at 3000 K packed too densely (amorph run, seed 2): every
        // probe has P > 0, so whatever the method the zero-pressure volume lies beyond the largest.
        let data = [
            (1762.4, 27.51, 0.23),
            (2203.0, 7.92, 0.24),
            (2643.6, 2.09, 0.14),
            (2863.9, 1.32, 0.20),
        ];
        let records: Vec<ProbeRecord<()>> = data.iter().map(|&(v, p, e)| record(v, p, e)).collect();
        let refs: Vec<&ProbeRecord<()>> = records.iter().collect();
        for model in [
            PressureModel::BirchMurnaghan,
            PressureModel::Vinet,
            PressureModel::Murnaghan,
        ] {
            let settings = SearchSettings {
                model,
                ..SearchSettings::default()
            };
            let fit = bracket_fit(&settings, &refs).unwrap();
            assert!(fit.v0_A3 > 2863.9, "{model:?}: {fit:?}");
            assert!(fit.b0_GPa > 0.5 && fit.b0_GPa < 20.0, "{model:?}: {fit:?}");
        }
    }
}
