//! # amorph-structure
//!
//! The vocabulary of the amorph workspace: chemical [`Element`]s and their data, [`Composition`]s
//! parsed from formulas, periodic [`Lattice`]s of any shape, [`Structure`]s and [`Trajectory`]s,
//! periodic geometry, O(N) neighbour search ([`NeighborList`], [`VerletList`]), radial distribution
//! functions ([`Rdf`]) and the usual file formats ([`io`]).
//!
//! Units: lengths Å, masses amu, densities g/cm³, angles degrees, time fs.
//! Names and numbers follow pymatgen (`Structure`, `Composition.reduced_formula`, `Structure.density`)
//! so that results can be compared line by line.
//!
//! ```
//! use amorph_structure::{Composition, Element, Lattice, Structure};
//! use nalgebra::Vector3;
//!
//! let c: Composition = "Li4(SiI3)3".parse()?;
//! assert_eq!(c.reduced_formula(), "Li4(SiI3)3");
//! assert_eq!(c.num_atoms(), 16.0);
//!
//! let li = Element::from_symbol("Li")?;
//! let s = Structure::new(
//!     Lattice::cubic(3.0)?,
//!     vec![li, li],
//!     vec![Vector3::new(0.1, 0.0, 0.0), Vector3::new(2.9, 0.0, 0.0)],
//! )?;
//! assert!((s.distance(0, 1) - 0.2).abs() < 1e-12); // minimum image across the boundary
//! # Ok::<(), amorph_structure::Error>(())
//! ```

pub mod composition;
pub mod element;
mod error;
pub mod io;
pub mod lattice;
pub mod neighbors;
pub mod pbc;
pub mod rdf;
pub mod structure;
pub mod trajectory;

pub use composition::Composition;
pub use element::Element;
pub use error::{Error, Result};
pub use lattice::Lattice;
pub use neighbors::{Neighbor, NeighborList, PairSet, RebuildPolicy, VerletList};
pub use rdf::{Rdf, coordination_number};
pub use structure::{SiteProperty, Structure};
pub use trajectory::{Cells, Trajectory};
