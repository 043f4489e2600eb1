//! # amorph-md
//!
//! Molecular dynamics for non-crystalline materials, usable on its own where you would otherwise
//! reach for LAMMPS: classical force fields for oxide glasses whose energies, forces and virials
//! equal LAMMPS's, and the melt–quench toolkit around them.
//!
//! - [`Calculator`]: the force-provider boundary (energy eV, forces eV/Å, virial eV), composable by
//!   summation ([`Sum`]); classical potentials here, external engines (DFT codes, machine-learned
//!   potentials) through the i-PI socket protocol ([`IpiCalculator`]).
//! - [`pair`]: Lennard-Jones, Buckingham, Born–Mayer–Huggins, Morse, r⁻¹², tables, with LAMMPS's
//!   truncations; [`coulomb`]: Ewald, smooth PME, DSF, Wolf.
//! - [`ForceField`]: named parameter sets with provenance (`pedone`, `bks`, `teter`) and TOML files.
//! - [`Simulation`]: velocity Verlet with a [`Thermostat`] (Nosé–Hoover chain, Langevin, CSVR,
//!   Berendsen), an optional [`Barostat`] (Berendsen, MTK), [`Observer`]s, checkpoints and blow-up detection.
//!
//! Units: LAMMPS `metal` with time in fs (Å, eV, amu, K, e; velocities Å/fs; pressure GPa).
//!
//! ```
//! use amorph_md::forcefield::CalculatorOptions;
//! use amorph_md::{ForceField, Simulation, System, Thermostat};
//! use amorph_structure::io;
//!
//! let glass = io::read_structure(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/Li2Si2O5_glass.vasp"))?;
//! // Pedone (2006) with DSF Coulomb (α = 0.25 Å⁻¹, 10 Å), the defaults.
//! let calculator = ForceField::by_name("pedone")?.calculator(&glass.elements(), &CalculatorOptions::default())?;
//! let mut system = System::from_structure(&glass)?;
//! system.set_maxwell_boltzmann(1500.0, 42)?;
//! let mut md = Simulation::new(system, Box::new(calculator), 2.0, Thermostat::nose_hoover(200.0, 3)?, 42)?;
//! md.set_temperature(1500.0)?;
//! md.run(20)?;
//! assert_eq!(md.step(), 20);
//! assert!(md.evaluation().energy < 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod barostat;
pub mod calculator;
pub mod coulomb;
mod error;
pub mod forcefield;
pub mod ipi;
pub mod observers;
pub mod pair;
pub mod simulation;
pub mod system;
pub mod thermostat;
pub mod units;

pub use barostat::Barostat;
pub use calculator::{Calculator, Configuration, Evaluation, Sum, evaluate};
pub use error::{Error, Result};
pub use forcefield::ForceField;
pub use ipi::{IpiAddress, IpiCalculator, IpiError, IpiOptions, SharedIpiCalculator};
pub use pair::{PairInteractions, PairPotential, PairTerm, Truncation};
pub use simulation::{Observer, Safety, Simulation, Snapshot};
pub use system::System;
pub use thermostat::Thermostat;
