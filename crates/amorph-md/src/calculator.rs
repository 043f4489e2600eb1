//! The force-provider boundary: anything that turns a configuration into energy, forces and virial.

use amorph_structure::{Element, Lattice};
use nalgebra::{Matrix3, Vector3};

use crate::error::Result;
use crate::units::EV_PER_A3_IN_GPA;

/// What a calculator sees: the cell, the species and the Cartesian positions (Å) of every atom.
/// Positions need not be wrapped.
#[derive(Debug, Clone, Copy)]
pub struct Configuration<'a> {
    /// The periodic cell.
    pub lattice: &'a Lattice,
    /// Species of every atom.
    pub species: &'a [Element],
    /// Cartesian positions, Å.
    pub positions: &'a [Vector3<f64>],
}

impl<'a> Configuration<'a> {
    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True for an empty configuration.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}

/// Energy, forces and virial of a configuration; calculators add their terms into it.
///
/// The virial is LAMMPS's: `W = Σ_pairs r_ij ⊗ f_ij` (r_ij = r_i − r_j, f_ij the force on i from j),
/// in eV, so that the virial pressure is `tr(W) / (3V)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Potential energy, eV.
    pub energy: f64,
    /// Force on every atom, eV/Å.
    pub forces: Vec<Vector3<f64>>,
    /// Virial tensor, eV.
    pub virial: Matrix3<f64>,
    /// Per-atom energies, eV (summing to `energy`), when requested and supported.
    pub per_atom_energies: Option<Vec<f64>>,
    /// When true, calculators may leave the virial out (zero) to save time. A [`Simulation`]
    /// sets it on the steps where neither a barostat nor an observer needs the pressure.
    ///
    /// [`Simulation`]: crate::Simulation
    pub skip_virial: bool,
}

impl Evaluation {
    /// Zero energy, forces and virial for `natoms` atoms.
    pub fn zeros(natoms: usize) -> Self {
        Evaluation {
            energy: 0.0,
            forces: vec![Vector3::zeros(); natoms],
            virial: Matrix3::zeros(),
            per_atom_energies: None,
            skip_virial: false,
        }
    }

    /// Zero everything, keeping the allocation (per-atom energies stay requested if they were).
    pub fn reset(&mut self, natoms: usize) {
        self.energy = 0.0;
        self.forces.clear();
        self.forces.resize(natoms, Vector3::zeros());
        self.virial = Matrix3::zeros();
        if let Some(e) = &mut self.per_atom_energies {
            e.clear();
            e.resize(natoms, 0.0);
        }
    }

    /// Ask calculators for per-atom energies.
    pub fn request_per_atom_energies(&mut self) {
        if self.per_atom_energies.is_none() {
            self.per_atom_energies = Some(vec![0.0; self.forces.len()]);
        }
    }

    /// Virial pressure `tr(W) / (3V)`, GPa (LAMMPS `compute pressure NULL virial`).
    pub fn virial_pressure_gpa(&self, volume: f64) -> f64 {
        self.virial.trace() / (3.0 * volume) * EV_PER_A3_IN_GPA
    }

    /// Virial stress `−W / V`, GPa (tension positive, the ASE convention; the pressure is minus a
    /// third of its trace).
    pub fn virial_stress_gpa(&self, volume: f64) -> Matrix3<f64> {
        -self.virial / volume * EV_PER_A3_IN_GPA
    }

    /// True when energy, forces and virial are all finite.
    pub fn is_finite(&self) -> bool {
        self.energy.is_finite()
            && self.virial.iter().all(|x| x.is_finite())
            && self.forces.iter().all(|f| f.iter().all(|x| x.is_finite()))
    }
}

/// A force provider: classical potentials, Coulomb solvers, external engines.
///
/// `compute` **adds** its energy, forces and virial into `out`, so calculators compose by summation
/// ([`Sum`]). It takes `&mut self` so that a calculator can keep caches (neighbour lists, k-vectors)
/// between calls; it must give the same answer as a fresh instance.
pub trait Calculator: Send {
    /// A short human-readable name, e.g. `"pedone short-range (cutoff 5.5 Å)"`.
    fn name(&self) -> String;

    /// The interaction cutoff, Å, or `None` when the calculator is not a finite-range one (Ewald,
    /// external engines).
    fn cutoff(&self) -> Option<f64>;

    /// Whether `compute` fills the virial (and so pressure and stress are available).
    fn supports_stress(&self) -> bool {
        true
    }

    /// Add this calculator's energy (eV), forces (eV/Å) and virial (eV) for `config` into `out`, and
    /// its per-atom energies when `out.per_atom_energies` is `Some`.
    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()>;

    /// Drop cached state (neighbour lists, ...) so that the next `compute` starts afresh. Simulations
    /// call it when they checkpoint, so that a restarted run sums forces in the same order as the
    /// uninterrupted one and continues bit for bit.
    fn invalidate(&mut self) {}
}

/// The sum of several calculators (pair terms + Coulomb + anything else).
pub struct Sum {
    terms: Vec<Box<dyn Calculator>>,
}

impl Sum {
    /// The sum of these terms.
    pub fn new(terms: Vec<Box<dyn Calculator>>) -> Self {
        Sum { terms }
    }

    /// The terms.
    pub fn terms(&self) -> &[Box<dyn Calculator>] {
        &self.terms
    }
}

impl Calculator for Sum {
    fn name(&self) -> String {
        self.terms
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    fn cutoff(&self) -> Option<f64> {
        let mut max: Option<f64> = Some(0.0);
        for t in &self.terms {
            max = match (max, t.cutoff()) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        max
    }

    fn supports_stress(&self) -> bool {
        self.terms.iter().all(|t| t.supports_stress())
    }

    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()> {
        for t in &mut self.terms {
            t.compute(config, out)?;
        }
        Ok(())
    }

    fn invalidate(&mut self) {
        for t in &mut self.terms {
            t.invalidate();
        }
    }
}

/// Evaluate a calculator from scratch on a configuration.
pub fn evaluate(calculator: &mut dyn Calculator, config: &Configuration) -> Result<Evaluation> {
    let mut out = Evaluation::zeros(config.len());
    calculator.compute(config, &mut out)?;
    Ok(out)
}
