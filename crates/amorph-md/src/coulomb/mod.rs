//! Coulomb solvers: Ewald summation (the reference), smooth particle-mesh Ewald for large cells, and
//! the damped shifted force (DSF) and Wolf sums for cheap runs.
//!
//! Every solver is a [`Calculator`](crate::Calculator): it adds the *complete* Coulomb energy of a
//! periodic configuration (eV), the forces (eV/Å), the virial `W = Σ_pairs r_ij ⊗ f_ij` (eV, LAMMPS's
//! sign) and, on request, per-atom energies (eV, summing to the energy). Charges are per element, in
//! units of e ([`Charges`]); the Coulomb constant is LAMMPS `metal`'s
//! [`COULOMB_EV_A`](crate::units::COULOMB_EV_A) = 14.399645 eV·Å.
//!
//! | solver | LAMMPS equivalent | cost | use |
//! |---|---|---|---|
//! | [`Ewald`] | `pair_style coul/long rc` + `kspace_style ewald acc` | O(N^1.5) | reference energies, small cells |
//! | [`Pppm`] | `pair_style coul/long rc` + `kspace_style pppm acc` (same accuracy; SPME instead of P3M) | O(N log N) | large cells |
//! | [`Dsf`] | `pair_style coul/dsf α rc` | O(N) | cheap MD of glasses |
//! | [`Wolf`] | `pair_style coul/wolf α rc` | O(N) | cheap MD, compatibility |
//!
//! Ewald and PPPM take a *relative force accuracy* as LAMMPS's `kspace_style`: the target RMS force
//! error is `accuracy × 14.399645 eV/Å` (the force between two unit charges 1 Å apart), and the Ewald
//! parameter and the k-space resolution are chosen from it and the real-space cutoff as LAMMPS does
//! (see [`Ewald`] and [`Pppm`] for the rules).
//!
//! # Determinism
//!
//! Every sum is either per atom (each atom's own loop, in a fixed order) or split into chunks whose
//! number depends only on the atom count and then added in order, so results are identical — bit for
//! bit — on any number of threads, and equal to a fresh calculator's: the Verlet lists store each pair
//! in a canonical place and order (see the source of `pairs.rs`), so their age does not matter.
//!
//! # Example
//!
//! ```
//! use amorph_md::coulomb::{Charges, Dsf, Ewald};
//! use amorph_md::{Configuration, evaluate};
//! use amorph_structure::{Element, Lattice};
//! use nalgebra::Vector3;
//!
//! // Rock salt, conventional cell: E = −4 M k / r0 with Madelung constant M = 1.747565.
//! let (na, cl) = (Element::from_symbol("Na")?, Element::from_symbol("Cl")?);
//! let charges = Charges::new([(na, 1.0), (cl, -1.0)])?;
//! let a = 5.64;
//! let lattice = Lattice::cubic(a)?;
//! let mut species = Vec::new();
//! let mut positions = Vec::new();
//! for f in [[0., 0., 0.], [0., 0.5, 0.5], [0.5, 0., 0.5], [0.5, 0.5, 0.]] {
//!     species.push(na);
//!     positions.push(Vector3::new(f[0], f[1], f[2]) * a);
//!     species.push(cl);
//!     positions.push(Vector3::new(f[0] + 0.5, f[1], f[2]) * a);
//! }
//! let config = Configuration { lattice: &lattice, species: &species, positions: &positions };
//! let mut ewald = Ewald::new(charges.clone(), 8.0, 1e-8)?;
//! let e = evaluate(&mut ewald, &config)?.energy;
//! let exact = -4.0 * 1.747565 * 14.399645 / (a / 2.0);
//! assert!((e - exact).abs() < 1e-5 * exact.abs());
//!
//! let mut dsf = Dsf::new(charges, 0.2, 10.0)?;
//! let e_dsf = evaluate(&mut dsf, &config)?.energy;
//! assert!((e_dsf - exact).abs() < 1e-2 * exact.abs());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use amorph_structure::Element;
use serde::{Deserialize, Serialize};

use crate::calculator::{Configuration, Evaluation};
use crate::error::{Error, Result};

mod dsf;
mod erfc;
mod ewald;
mod kspace;
mod pairs;
mod pppm;
mod wolf;

pub use dsf::Dsf;
pub use erfc::Erfc;
pub use ewald::{Ewald, EwaldParameters};
pub use pppm::{Pppm, PppmParameters};
pub use wolf::{Wolf, WolfForces};

/// Default Verlet-list skin of the real-space sums, Å.
pub const DEFAULT_SKIN: f64 = 1.0;

/// Charges per element, in units of the elementary charge e.
///
/// Serialises as a map from element symbol to charge, e.g. `{"Li": 0.6, "O": -1.2}`.
///
/// ```
/// use amorph_md::coulomb::Charges;
/// use amorph_structure::Element;
///
/// let c = Charges::from_symbols([("Li", 0.6), ("Si", 2.4), ("O", -1.2)])?;
/// let li = Element::from_symbol("Li")?;
/// assert_eq!(c.get(li), Some(0.6));
/// let na = Element::from_symbol("Na")?;
/// assert!(c.per_atom(&[li, na]).is_err()); // names Na
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Charges {
    map: BTreeMap<Element, f64>,
}

impl Charges {
    /// Charges from (element, charge in e) pairs. Every charge must be finite; an element listed twice
    /// is an error.
    pub fn new(pairs: impl IntoIterator<Item = (Element, f64)>) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (el, q) in pairs {
            if !q.is_finite() {
                return Err(Error::InvalidParameter(format!(
                    "charge of {} is not finite: {q}",
                    el.symbol()
                )));
            }
            if map.insert(el, q).is_some() {
                return Err(Error::InvalidParameter(format!(
                    "charge of {} given twice",
                    el.symbol()
                )));
            }
        }
        Ok(Charges { map })
    }

    /// Charges from (symbol, charge in e) pairs, e.g. `[("Li", 0.6), ("O", -1.2)]`.
    pub fn from_symbols<'a>(pairs: impl IntoIterator<Item = (&'a str, f64)>) -> Result<Self> {
        let mut v = Vec::new();
        for (s, q) in pairs {
            v.push((Element::from_symbol(s)?, q));
        }
        Self::new(v)
    }

    /// Charges from a map element → charge (e).
    pub fn from_map(map: BTreeMap<Element, f64>) -> Result<Self> {
        Self::new(map)
    }

    /// The charge of an element, e.
    pub fn get(&self, element: Element) -> Option<f64> {
        self.map.get(&element).copied()
    }

    /// Set (or replace) the charge of an element, e.
    pub fn set(&mut self, element: Element, charge: f64) -> Result<()> {
        if !charge.is_finite() {
            return Err(Error::InvalidParameter(format!(
                "charge of {} is not finite: {charge}",
                element.symbol()
            )));
        }
        self.map.insert(element, charge);
        Ok(())
    }

    /// Every (element, charge) pair, in element order.
    pub fn iter(&self) -> impl Iterator<Item = (Element, f64)> + '_ {
        self.map.iter().map(|(e, q)| (*e, *q))
    }

    /// Number of elements with a charge.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no element has a charge.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The charge of every atom (e), or [`Error::NotCovered`] naming the elements without a charge.
    pub fn per_atom(&self, species: &[Element]) -> Result<Vec<f64>> {
        let mut missing: Vec<Element> = Vec::new();
        let q = species
            .iter()
            .map(|e| match self.map.get(e) {
                Some(q) => *q,
                None => {
                    if !missing.contains(e) {
                        missing.push(*e);
                    }
                    0.0
                }
            })
            .collect();
        if missing.is_empty() {
            Ok(q)
        } else {
            missing.sort();
            Err(Error::NotCovered {
                force_field: "Coulomb charges".into(),
                missing: missing.iter().map(|e| e.symbol().to_string()).collect(),
            })
        }
    }
}

/// Per-element charges plus the per-atom charges of the last species list seen.
#[derive(Debug, Clone)]
pub(crate) struct AtomCharges {
    table: Charges,
    species: Vec<Element>,
    q: Vec<f64>,
}

impl AtomCharges {
    pub(crate) fn new(table: Charges) -> Self {
        AtomCharges {
            table,
            species: Vec::new(),
            q: Vec::new(),
        }
    }

    pub(crate) fn table(&self) -> &Charges {
        &self.table
    }

    /// Per-atom charges for this configuration; also checks the configuration's shape.
    pub(crate) fn per_atom(&mut self, config: &Configuration) -> Result<Vec<f64>> {
        if config.species.len() != config.positions.len() {
            return Err(Error::Configuration(format!(
                "{} species for {} positions",
                config.species.len(),
                config.positions.len()
            )));
        }
        if self.species != config.species {
            self.q = self.table.per_atom(config.species)?;
            self.species = config.species.to_vec();
        }
        Ok(self.q.clone())
    }
}

/// Checks that `out` is sized for `config`.
pub(crate) fn check_output(config: &Configuration, out: &Evaluation) -> Result<()> {
    let n = config.len();
    let pe_ok = out.per_atom_energies.as_ref().is_none_or(|e| e.len() == n);
    if out.forces.len() != n || !pe_ok {
        return Err(Error::Configuration(format!(
            "evaluation sized for {} atoms, configuration has {n}",
            out.forces.len()
        )));
    }
    Ok(())
}
