//! # amorph-md
//!
//! Molecular dynamics for non-crystalline materials (work in progress).

pub mod calculator;
pub mod coulomb;
mod error;
pub mod forcefield;
pub mod observers;
pub mod pair;
pub mod simulation;
pub mod system;
pub mod thermostat;
pub mod units;

pub use calculator::{Calculator, Configuration, Evaluation, Sum, evaluate};
pub use error::{Error, Result};
pub use forcefield::ForceField;
pub use pair::{PairInteractions, PairPotential, PairTerm, Truncation};
pub use simulation::{Barostat, Observer, Safety, Simulation, Snapshot};
pub use system::System;
pub use thermostat::Thermostat;
