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
//!
//! ```
//! use amorph::structure::Composition;
//! let c: Composition = "Li2Si2O5".parse()?;
//! assert_eq!(c.reduced_formula(), "Li2Si2O5");
//! # Ok::<(), amorph::structure::Error>(())
//! ```

pub use amorph_md as md;
pub use amorph_pack as pack;
pub use amorph_structure as structure;
