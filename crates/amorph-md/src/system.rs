//! The dynamical state: positions, velocities, masses and the cell.

use amorph_structure::{Element, Lattice, SiteProperty, Structure, structure::props};
use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::calculator::Configuration;
use crate::error::{Error, Result};
use crate::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};

/// Atoms in motion. Positions (Å) are not wrapped during a run, so displacements stay continuous;
/// velocities are in Å/fs, masses in amu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct System {
    /// The periodic cell.
    pub lattice: Lattice,
    /// Species of every atom.
    pub species: Vec<Element>,
    /// Masses, amu.
    pub masses: Vec<f64>,
    /// Cartesian positions, Å.
    pub positions: Vec<Vector3<f64>>,
    /// Velocities, Å/fs.
    pub velocities: Vec<Vector3<f64>>,
}

impl System {
    /// A system at rest from a structure (standard atomic masses); velocities are taken from the
    /// structure's `velocities` site property (Å/fs) when it has one.
    pub fn from_structure(s: &Structure) -> Result<Self> {
        if s.is_empty() {
            return Err(Error::Configuration("a system needs at least one atom".into()));
        }
        let velocities = match s.site_property(props::VELOCITIES) {
            Some(SiteProperty::Vector(v)) => v.iter().map(|x| Vector3::new(x[0], x[1], x[2])).collect(),
            _ => vec![Vector3::zeros(); s.len()],
        };
        Ok(System {
            lattice: s.lattice().clone(),
            species: s.species().to_vec(),
            masses: s.species().iter().map(|e| e.atomic_mass()).collect(),
            positions: s.positions().to_vec(),
            velocities,
        })
    }

    /// The current frame as a structure (positions wrapped into the cell, velocities attached).
    pub fn to_structure(&self) -> Result<Structure> {
        let mut s = Structure::new(self.lattice.clone(), self.species.clone(), self.positions.clone())?;
        s.wrap();
        s.set_site_property(
            props::VELOCITIES,
            SiteProperty::Vector(self.velocities.iter().map(|v| [v.x, v.y, v.z]).collect()),
        )?;
        Ok(s)
    }

    /// What a calculator sees.
    pub fn configuration(&self) -> Configuration<'_> {
        Configuration {
            lattice: &self.lattice,
            species: &self.species,
            positions: &self.positions,
        }
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True for an empty system.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Degrees of freedom: 3N − 3 (total momentum is conserved and removed), at least 1.
    pub fn degrees_of_freedom(&self) -> f64 {
        (3 * self.len()).saturating_sub(3).max(1) as f64
    }

    /// Kinetic energy, eV.
    pub fn kinetic_energy(&self) -> f64 {
        0.5 * AMU_A2_PER_FS2_IN_EV
            * self
                .masses
                .iter()
                .zip(&self.velocities)
                .map(|(m, v)| m * v.norm_squared())
                .sum::<f64>()
    }

    /// Instantaneous temperature 2·KE / (N_f k_B), K.
    pub fn temperature(&self) -> f64 {
        2.0 * self.kinetic_energy() / (self.degrees_of_freedom() * BOLTZMANN_EV_PER_K)
    }

    /// Kinetic contribution to the pressure tensor, eV (Σ m v ⊗ v), to add to the virial.
    pub fn kinetic_tensor(&self) -> nalgebra::Matrix3<f64> {
        self.masses
            .iter()
            .zip(&self.velocities)
            .map(|(m, v)| v * v.transpose() * (m * AMU_A2_PER_FS2_IN_EV))
            .sum()
    }

    /// Remove the centre-of-mass velocity.
    pub fn remove_drift(&mut self) {
        let total_mass: f64 = self.masses.iter().sum();
        let p: Vector3<f64> = self
            .masses
            .iter()
            .zip(&self.velocities)
            .map(|(m, v)| v * *m)
            .sum();
        let vcm = p / total_mass;
        for v in &mut self.velocities {
            *v -= vcm;
        }
    }

    /// Maxwell–Boltzmann velocities at `temperature` K from `seed`, with zero total momentum and
    /// rescaled to exactly that temperature (as LAMMPS `velocity ... dist gaussian mom yes`, then
    /// scaled). Same seed, same velocities.
    pub fn set_maxwell_boltzmann(&mut self, temperature: f64, seed: u64) -> Result<()> {
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "temperature must be ≥ 0 K, got {temperature}"
            )));
        }
        let mut rng = <ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(seed);
        for (v, m) in self.velocities.iter_mut().zip(&self.masses) {
            let sigma = (BOLTZMANN_EV_PER_K * temperature / (m * AMU_A2_PER_FS2_IN_EV)).sqrt();
            *v = Vector3::new(normal(&mut rng), normal(&mut rng), normal(&mut rng)) * sigma;
        }
        self.remove_drift();
        let t = self.temperature();
        if t > 0.0 {
            let scale = (temperature / t).sqrt();
            for v in &mut self.velocities {
                *v *= scale;
            }
        }
        Ok(())
    }
}

/// A standard normal deviate (Box–Muller on two uniform deviates in (0, 1]): a fixed algorithm, so
/// the stream for a seed never changes with a dependency's version.
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = uniform_open(rng);
    let u2 = uniform_open(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A uniform deviate in (0, 1].
pub(crate) fn uniform_open(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
}
