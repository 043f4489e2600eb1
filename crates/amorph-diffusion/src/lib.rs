//! # amorph-diffusion
//!
//! Mean-squared displacements, diffusion coefficients with honest uncertainties, Arrhenius fits and
//! Nernst–Einstein conductivities: the last analysis step of the melt–quench–diffuse pipeline
//! (Zheng et al., *npj Comput. Mater.* **10**, 296 (2024): Li diffusivity at 1000–2500 K, then Eₐ).
//!
//! - [`Displacements`]: unwrapped (via [`Trajectory::unwrapped`](amorph_structure::Trajectory::unwrapped)),
//!   drift-corrected displacements of a [`Selection`] (a species or any atom subset). [`Drift`]
//!   removal is on by default and is pymatgen's: the mean displacement of the other atoms.
//! - [`Msd`]: MSD over all time origins, per atom and direction, by FFT ([`MsdMethod::Fft`],
//!   O(T log T)) or by the definition ([`MsdMethod::Direct`]); the two agree to 1e-10.
//! - [`Msd::diffusivity`]: D by generalised least squares with the random-walk covariance of the
//!   MSD points on a documented default window (10–50 % of the run, [`FitWindow`]), its standard
//!   error (the larger of the spread over atoms and the covariance model), a 95 % interval and the
//!   effective number of independent samples ([`Diffusivity`]).
//! - [`Displacements::pymatgen_diffusivity`]: pymatgen-analysis-diffusion's `DiffusionAnalyzer`
//!   reproduced in its three [`Smoothing`] modes (`smoothed="max"`, `"constant"`, `False`, with
//!   `min_obs` and `avg_nsteps`), equal to it to ~1e-12.
//! - [`fit_arrhenius`]: Eₐ (eV), D₀ (cm²/s), their standard errors, extrapolation with uncertainty
//!   ([`ArrheniusFit::diffusivity_at`]); equal to pymatgen's `fit_arrhenius` and
//!   `get_extrapolated_diffusivity` without error bars, weighted by the error bars when given.
//! - [`nernst_einstein_ms_per_cm`]: conductivity from D with the Haven ratio taken as 1.
//! - [`MsdAccumulator`] and the [`FrameSink`] trait: collect the same displacements frame by frame
//!   during an MD run (the `amorph` umbrella crate adapts it to amorph-md's `Observer`), so
//!   production runs need not store trajectories.
//! - [`plot`]: small SVG plots of the MSD and of Arrhenius lines.
//!
//! Units: Å, fs, Å² for MSDs, cm²/s for diffusivities, eV, K, mS/cm.
//!
//! ```
//! use amorph_diffusion::{Displacements, Drift, FitOptions, Msd, MsdMethod, Selection};
//! use amorph_structure::{Element, Lattice, Trajectory};
//! use nalgebra::Vector3;
//!
//! // Eight Li atoms hopping on a cubic lattice (±0.5 Å per 10 fs frame in x, y and z, a
//! // deterministic pseudo-random sequence) among eight fixed O atoms: D = 0.5²/(2·10 fs) per
//! // direction = 0.0125 Å²/fs = 1.25e-3 cm²/s.
//! let (li, o) = (Element::from_symbol("Li")?, Element::from_symbol("O")?);
//! let species: Vec<Element> = [li; 8].into_iter().chain([o; 8]).collect();
//! let mut state = 12345u64;
//! let mut coin = || { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); state >> 63 == 1 };
//! let mut x: Vec<Vector3<f64>> = (0..16).map(|i| Vector3::new(i as f64, 2.0 * i as f64, 5.0)).collect();
//! let mut traj = Trajectory::new(species, Lattice::cubic(20.0)?);
//! for _ in 0..2000 {
//!     traj.push_positions(&x, None)?; // unwrapped here; wrapped positions work too
//!     for p in x.iter_mut().take(8) {
//!         for d in 0..3 {
//!             p[d] += if coin() { 0.5 } else { -0.5 };
//!         }
//!     }
//! }
//! let disp = Displacements::from_trajectory(&traj, &Selection::species("Li")?, Drift::default(), 10.0)?;
//! let msd = Msd::compute(&disp, MsdMethod::Fft);
//! let d = msd.diffusivity(&FitOptions::default())?;
//! assert!(d.ci95_cm2_s[0] < d.d_cm2_s && d.d_cm2_s < d.ci95_cm2_s[1]);
//! assert!((d.d_cm2_s / 1.25e-3 - 1.0).abs() < 0.5, "{}", d.d_cm2_s);
//! println!("D = {:.3e} ± {:.1e} cm²/s from {:.0} effective samples", d.d_cm2_s, d.stderr_cm2_s, d.n_effective);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod arrhenius;
mod conductivity;
mod displacement;
mod error;
mod fit;
mod msd;
pub mod plot;
mod pymatgen;
mod stats;
mod stream;

pub use arrhenius::{ArrheniusFit, ArrheniusPoint, BOLTZMANN_EV_PER_K, fit_arrhenius};
pub use conductivity::{default_charge, nernst_einstein_ms_per_cm};
pub use displacement::{Displacements, Drift, Selection};
pub use error::{Error, Result};
pub use fit::{A2_PER_FS_IN_CM2_PER_S, Diffusivity, FitOptions, FitWindow};
pub use msd::{Msd, MsdMethod};
pub use pymatgen::{PymatgenDiffusivity, Smoothing};
pub use stats::t975;
pub use stream::{FrameSink, MsdAccumulator};
