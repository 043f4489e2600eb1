//! # amorph
//!
//! Libraries for computational non-crystalline (amorphous, glassy, molten) materials science, after the
//! pipeline of Zheng et al., *npj Comput. Mater.* **10**, 296 (2024). This umbrella crate re-exports the
//! workspace crates so that one dependency brings the whole pipeline:
//!
//! | module | crate | what it does |
//! |---|---|---|
//! | [`structure`] | `amorph-structure` | elements, compositions, lattices, structures, trajectories, neighbour search, RDF, file formats |
//! | [`pack`] | `amorph-pack` | random periodic packing of a composition at a density with minimum pair distances (PACKMOL's job) |
//! | [`md`] | `amorph-md` | calculators, classical force fields (Pedone, BKS, Teter), Coulomb solvers, molecular dynamics |
//! | [`eos`] | `amorph-eos` | equation-of-state fits and the MPMorph volume search |
//! | [`diffusion`] | `amorph-diffusion` | mean-squared displacement, diffusivity with uncertainty, Arrhenius fits |
//! | [`features`] | `amorph-features` | the paper's compositional and structural descriptors |
//! | [`ml`] | `amorph-ml` | random forests, gradient-boosted trees, cross-validation, TreeSHAP |
//! | [`sisso`] | `amorph-sisso` | SISSO symbolic regression with units |
//!
//! and wires them together:
//!
//! - [`pipeline`]: the whole run for one composition (pack, melt, quench, diffusivities, Arrhenius fit,
//!   descriptors) into a [`pipeline::Record`], as `amorph run` does;
//! - [`melt`]: amorph-md NVT probes for the MPMorph volume search of amorph-eos, and the search +
//!   production stage at one temperature;
//! - [`msd_observer`]: amorph-diffusion's streaming MSD as an amorph-md observer;
//! - [`report`]: the plots and the one-page `report.html` of a run.
//!
//! ```
//! use amorph::structure::Composition;
//! let c: Composition = "Li2Si2O5".parse()?;
//! assert_eq!(c.reduced_formula(), "Li2Si2O5");
//! # Ok::<(), amorph::structure::Error>(())
//! ```

pub mod db;
pub mod melt;
pub mod msd_observer;
pub mod pipeline;
pub mod report;
pub use amorph_diffusion as diffusion;
pub use amorph_eos as eos;
pub use amorph_features as features;
pub use amorph_md as md;
pub use amorph_ml as ml;
pub use amorph_pack as pack;
pub use amorph_sisso as sisso;
pub use amorph_structure as structure;
