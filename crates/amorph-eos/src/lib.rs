//! # amorph-eos
//!
//! Equation-of-state fits (energy–volume and pressure–volume) and the MPMorph volume search that finds
//! the zero-pressure volume of a liquid from constant-volume MD runs.
//!
//! ## Fits
//!
//! [`fit_energy`] fits E(V) data with one of the [`EnergyModel`]s, [`fit_pressure`] fits P(V) data with
//! one of the [`PressureModel`]s. Units at the boundary: volume Å³, energy eV, pressure and bulk
//! modulus GPa; 1 eV/Å³ = [`EV_PER_A3_IN_GPA`] GPa, the factor pymatgen uses.
//!
//! | model | E(V) | P(V) | parameters |
//! |---|---|---|---|
//! | Birch–Murnaghan 3rd order | `birch_murnaghan` | `birch_murnaghan` | V0, E0, B0, B0′ |
//! | Birch–Murnaghan 4th order | `birch_murnaghan4` | | + B0″ |
//! | Murnaghan | `murnaghan` | `murnaghan` | V0, E0, B0, B0′ |
//! | Vinet | `vinet` | `vinet` | V0, E0, B0, B0′ |
//! | Poirier–Tarantola | `poirier_tarantola` (`pourier_tarantola`) | | V0, E0, B0, B0′ |
//! | Birch (pymatgen's) | `birch` | | V0, E0, B0, B0′ |
//! | Δ-factor cubic in V^(−2/3) | `deltafactor` | | derived V0, E0, B0, B0′ |
//! | pymatgen's numerical EOS | `numerical_eos` | | derived |
//! | polynomial in V | `polynomialN` | | derived |
//!
//! The E(V) fits solve pymatgen's least-squares problems (`pymatgen.analysis.eos.EOS(name).fit`) from
//! pymatgen's initial guess (a parabola through the data; B0′ = 4), the P(V) fits start from MPMorph's
//! guess (a quadratic P(V); V0 the mean volume). The nonlinear fits use the crate's own
//! Levenberg–Marquardt (Marquardt scaling, Nielsen damping, QR steps) with exact Jacobians from forward
//! automatic differentiation, converged to machine precision rather than MINPACK's default 1.5e-8.
//! Each fit returns standard errors (s²(JᵀJ)⁻¹, as scipy's `curve_fit`), residuals, RMSE and R². A fit
//! that does not converge, or data that give no starting point, are [`EosError`]s, never numbers.
//!
//! Agreement (`tests/pymatgen_refs.rs`, data from `validation/eos_refs.py`): on clean, noisy, badly
//! sampled and one-sided E(V) data every analytic model is within 4e-13 (relative) of the exact
//! least-squares optimum (Newton's method in 40-digit arithmetic), the polynomial models within 5e-12 of
//! the exact minimum of pymatgen's procedure, and all within 1e-6 of pymatgen's own numbers except
//! where pymatgen stops early: its MINPACK tolerances leave V0, B0, B0′ up to 2.8e-5 from the optimum on
//! badly sampled data, and its BFGS minimum of polynomial fits can stay at the lowest data point
//! (2e-3). P(V) fits equal scipy's `curve_fit` to 3e-9 and the exact optimum to 4e-15.
//!
//! ```
//! use amorph_eos::{EnergyModel, fit_energy};
//!
//! // Energies of a cell at seven volumes (Å³, eV).
//! let volumes = [36.0, 37.5, 39.0, 40.0, 41.0, 42.5, 44.0];
//! let energies = [-9.8486, -9.9451, -9.9918, -10.0, -9.9925, -9.9564, -9.8952];
//! let fit = fit_energy(EnergyModel::BirchMurnaghan, &volumes, &energies)?;
//! assert!((fit.v0_A3 - 40.0).abs() < 0.01 && (fit.b0_GPa - 100.0).abs() < 1.0);
//! let se = fit.stderr.expect("7 points, 4 parameters");
//! println!("V0 = {:.3} ± {:.3} Å³, B0 = {:.1} ± {:.1} GPa, B0' = {:.2}", fit.v0_A3, se.v0_A3, fit.b0_GPa, se.b0_GPa, fit.b1);
//! println!("RMSE {:.2e} eV, P(38 Å³) = {:.2} GPa", fit.goodness.rmse, fit.pressure_GPa(38.0));
//! # Ok::<(), amorph_eos::EosError>(())
//! ```
//!
//! ## The volume search (MPMorph)
//!
//! [`VolumeSearch`] finds the volume at which a liquid's mean pressure vanishes, from constant-volume
//! runs done by any [`VolumeProbe`] (amorph-md's NVT runs; an analytic P(V) in tests):
//!
//! 1. probes at 0.8, 1.0 and 1.2 × the starting volume ([`SearchSettings::initial_scales`]);
//! 2. fits P(V) (Birch–Murnaghan by default; a linear fit when that fails; pressure that does not fall
//!    with volume is [`EosError::NonMonotonicPressure`]). If the zero-pressure volume V0 lies inside the
//!    probed range it probes at V0, else it probes 0.1 × the starting volume beyond the nearer edge and
//!    refits, at most [`SearchSettings::max_edge_probes`] times ([`EosError::NoRootInRange`]);
//! 3. accepts the latest probe when |P| < 0.5 GPa and the mean energies of its two halves agree to
//!    5e-4 (relative), reruns at the same volume while only the energy drifts (then accepts, flagged),
//!    and otherwise rescales V₂ = V₁·exp(β·P), β = 5e-7 bar⁻¹, up to [`SearchSettings::max_rescales`]
//!    times ([`EosError::SearchNotConverged`]).
//!
//! Every probe is recorded in a serde [`SearchHistory`]; each decision is recomputed from it, so
//! [`VolumeSearch::resume`] continues a crashed search without repeating a probe. Progress comes
//! through a callback ([`VolumeSearch::run_with_progress`]).
//!
//! ```
//! use amorph_eos::{ProbeOutcome, ProbeRequest, SearchSettings, VolumeProbe, VolumeSearch};
//!
//! /// A liquid with P = 25 GPa · ln(1500 Å³ / V); the "configuration" is just a counter here.
//! struct Liquid;
//! impl VolumeProbe for Liquid {
//!     type Configuration = usize;
//!     type Error = std::convert::Infallible;
//!     fn probe(&mut self, _start: &usize, r: &ProbeRequest) -> Result<ProbeOutcome<usize>, Self::Error> {
//!         Ok(ProbeOutcome {
//!             pressure_GPa: 25.0 * (1500.0 / r.volume_A3).ln(),
//!             pressure_err_GPa: 0.05,
//!             energy_first_half_eV: -700.0,
//!             energy_second_half_eV: -700.1,
//!             configuration: r.index,
//!         })
//!     }
//! }
//!
//! let mut search = VolumeSearch::new(SearchSettings::default(), 0, 1300.0)?;
//! let accepted = search.run(&mut Liquid)?;
//! assert!(accepted.pressure_GPa.abs() < 0.5);
//! assert!((accepted.volume_A3 - 1500.0).abs() < 1500.0 * 0.5 / 25.0);
//! println!("{:.1} Å³ after {} probes", accepted.volume_A3, search.history().records.len());
//! # Ok::<(), amorph_eos::EosError>(())
//! ```
mod dual;
mod error;
mod fit;
mod linalg;
mod lm;
mod models;
mod polynomial;
mod search;

pub use error::EosError;
pub use fit::{
    EnergyFit, EnergyStdErrors, Goodness, PressureFit, PressureStdErrors, fit_energy, fit_pressure,
    fit_pressure_from,
};
pub use models::{EnergyModel, PressureModel};
pub use search::{
    Accepted, FitSummary, MPMORPH_BETA_PER_BAR, ProbeKind, ProbeOutcome, ProbeRecord, ProbeRequest,
    SearchEvent, SearchHistory, SearchSettings, VolumeProbe, VolumeSearch,
};

/// 1 eV/Å³ in GPa: e × 10²¹ with CODATA 2018's exact e = 1.602176634 × 10⁻¹⁹ C (pymatgen's
/// `FloatWithUnit(1, "eV ang^-3").to("GPa")` gives 160.21766339999996, the same to 2e-16).
pub const EV_PER_A3_IN_GPA: f64 = 160.217_663_4;
