//! # amorph-features
//!
//! The descriptors of Zheng et al., *npj Comput. Mater.* **10**, 296 (2024), Table 1: the 20
//! structural descriptors of Sendek et al., *Energy Environ. Sci.* **10**, 306 (2017) (Li and anion
//! neighbourhoods, bond ionicities, packing fractions, straight-line path widths), compositional
//! averages of elemental properties and their synthetic combinations, the density and, given a
//! temperature, `T` and `1/kBT` — for any periodic [`Structure`](amorph_structure::Structure).
//!
//! - [`Feature`] is the registry: every descriptor under its paper name (`AAV`, `LNC`, `SLPW_pp`,
//!   `Ecoh-Li`, `ΔX`, ...), with unit and definition; [`Featurizer`] is the trait it shares with your
//!   own descriptors.
//! - [`FeatureSet`] computes many features of a structure over one shared [`Context`] (one neighbour
//!   list, cached nearest-neighbour searches, path widths and packing fractions), batches of
//!   structures in parallel ([`FeatureSet::compute_batch`] → [`FeatureTable`]: an `ndarray` matrix with
//!   names, units and CSV output) and trajectories as means and standard deviations over frames.
//! - [`Options`]: the [`Convention`] (`sendek`, the reference definitions, by default; `zheng2024`, the
//!   paper's released table with its departures), the mobile species, the neighbour cutoff (4 Å), the
//!   [`RadiusTable`], the packing-fraction method ([`PfMethod`]) and its resolution, the seed and the
//!   temperature.
//! - A feature that cannot be computed (no Li, a missing elemental value, nothing to average) is a
//!   typed [`Undefined`] with the reason, never a silent zero.
//!
//! Units: Å, Å³, eV, GPa, amu, g/cm³, K; χ is Pauling's. The elemental data and their sources are
//! listed in [`data`].
//!
//! ## Definitions and choices (`sendek`)
//! A bond is any other atom, any periodic image, within the cutoff; "Li" is the mobile species and
//! the sublattice every other atom; the anion is the most electronegative element present. Standard
//! deviations are sample (n − 1) ones. Nearest distances (AASD, LASD, LLSD) include periodic images of
//! the atom itself and are found beyond the cutoff when needed. SLPW: for each Li, the segment to its
//! nearest Li; among the atoms (other than the two ends) whose projection falls on the segment, the
//! smallest (distance to the segment − effective radius), floored at 0; SLPE is χ of that atom (ties
//! within 1e-9 Å go to the higher χ). SLPW_pp: the smallest (distance to the segment's closest point −
//! radius) over every atom, near the end points included, not floored. PF/SPF: the union volume of the
//! effective spheres (periodic): sphere volumes minus exact pairwise lens volumes, plus the volume
//! where three or more spheres overlap measured on lines 0.05 Å apart (at most 40 000 lines) whose
//! covered lengths are exact; exact when no three spheres share a point, otherwise within about 1e-5
//! (see [`PfMethod::Lens`]). Effective radii: [`RadiusTable::Shannon`].
//!
//! ## Checks
//! Tests compare rock-salt LiF, antifluorite Li2O and α-Li3N with values derived by hand (shell
//! counts, nearest distances, path widths, lens volumes), the invariances under translation, atom
//! reordering and 2×2×2 supercells (proptest), 23 random amorphous structures under both conventions
//! with the independent Python reference `validation/features_ref.py` (deterministic features to
//! 1e-9; they agree to 1e-14), and the `zheng2024` compositional features, PF, SPF and VPA with the
//! paper's released table (`validation/features_released.py`).
//!
//! ```
//! use amorph_features::{FeatureSet, Options};
//! use amorph_structure::{Element, Lattice, Structure};
//! use nalgebra::Vector3;
//!
//! // Rock-salt LiF, a = 4.03 Å (conventional cell: 4 Li, 4 F).
//! let a = 4.03;
//! let (li, f) = (Element::from_symbol("Li")?, Element::from_symbol("F")?);
//! let fcc = [[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]];
//! let mut species = Vec::new();
//! let mut frac = Vec::new();
//! for p in fcc {
//!     species.push(li);
//!     frac.push(Vector3::new(p[0], p[1], p[2]));
//!     species.push(f);
//!     frac.push(Vector3::new(p[0] + 0.5, p[1], p[2]));
//! }
//! let s = Structure::from_fractional(Lattice::cubic(a)?, species, &frac)?;
//!
//! let set = FeatureSet::table1(Options::default())?;
//! let values = set.compute(&s)?;
//! let get = |name: &str| values[set.names().iter().position(|n| n == name).unwrap()].clone();
//! assert!((get("LLSD").unwrap() - a / 2f64.sqrt()).abs() < 1e-12);
//! assert_eq!(get("AFC").unwrap(), 12.0);
//! assert_eq!(get("LNC").unwrap(), 26.0); // 6 F + 12 Li + 8 F within 4 Å
//! assert_eq!(get("Li%").unwrap(), 0.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod context;
pub mod data;
mod error;
mod features;
mod geometry;
mod options;
mod set;

pub use context::Context;
pub use error::{Error, Result, Undefined, Value};
pub use features::{Feature, Featurizer, KB_EV_PER_K};
pub use options::{Convention, Options, PfMethod, RadiusTable};
pub use set::{FeatureSet, FeatureTable, TrajectoryFeatures};
