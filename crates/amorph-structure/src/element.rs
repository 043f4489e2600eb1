//! Chemical elements H–Pu and their data.
//!
//! The numbers come from pymatgen's periodic table (`pymatgen/core/periodic_table.json.gz`, which names
//! no sources itself) and pymatgen's `CovalentRadius`, the cohesive energies from matminer's copy of
//! Kittel's table; `validation/elements.py` extracts them and writes `element_data.rs`.
//! See [`PROVENANCE`] for the sources of every column.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

mod data {
    #![allow(clippy::all)]
    use super::{ElementData, ShannonRadius};
    include!("element_data.rs");
}

pub use data::PROVENANCE;

/// One Shannon (1976) effective radius: a row of pymatgen's `Element.data["Shannon radii"]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShannonRadius {
    /// Oxidation state.
    pub oxidation_state: i8,
    /// Coordination as Shannon writes it in Roman numerals: `"IV"`, `"VI"`, `"IVSQ"`, ...
    pub coordination: &'static str,
    /// `""`, `"High Spin"` or `"Low Spin"`.
    pub spin: &'static str,
    /// Crystal radius, Å.
    pub crystal_radius: f64,
    /// Effective ionic radius, Å.
    pub ionic_radius: f64,
}

/// Everything tabulated for one element. Missing values are `None`, never zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ElementData {
    /// Atomic number.
    pub z: u8,
    /// Symbol, e.g. `"Li"`.
    pub symbol: &'static str,
    /// English name, e.g. `"Lithium"`.
    pub name: &'static str,
    /// Standard atomic mass, amu.
    pub atomic_mass: f64,
    /// Pauling electronegativity (pymatgen `Element.X`); `None` where undefined (He, Ne, Ar).
    pub electronegativity: Option<f64>,
    /// Empirical atomic radius, Å (pymatgen `Element.atomic_radius`, Slater 1964).
    pub atomic_radius: Option<f64>,
    /// Covalent radius, Å (Cordero et al. 2008, as pymatgen `CovalentRadius.radius`).
    pub covalent_radius: Option<f64>,
    /// Common oxidation states (pymatgen `Element.common_oxidation_states`).
    pub common_oxidation_states: &'static [i8],
    /// Ionic radius by oxidation state, Å (pymatgen `Element.ionic_radii`: numerically Shannon crystal
    /// radii, mostly for six-fold coordination, high spin where it matters).
    pub ionic_radii: &'static [(i8, f64)],
    /// Full Shannon table for the element.
    pub shannon_radii: &'static [ShannonRadius],
    /// Cohesive energy of the elemental ground state, eV/atom, where known (Kittel, Table 3.1).
    pub cohesive_energy: Option<f64>,
}

/// A chemical element, H (Z = 1) to Pu (Z = 94).
///
/// Elements order as pymatgen orders them: by Pauling electronegativity, then by symbol (elements
/// without an electronegativity last). That order writes formulas (`Li2Si2O5`, cations before anions)
/// and names partial RDF columns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Element(u8);

impl Element {
    /// Heaviest element with data.
    pub const MAX_Z: u8 = 94;

    /// The element with atomic number `z` (1–94).
    pub fn from_z(z: u8) -> Result<Self> {
        if (1..=Self::MAX_Z).contains(&z) {
            Ok(Element(z))
        } else {
            Err(Error::UnknownElement(format!("Z={z}")))
        }
    }

    /// The element with this symbol, case-sensitive as in pymatgen (`"Li"`, not `"LI"`).
    pub fn from_symbol(symbol: &str) -> Result<Self> {
        data::ELEMENTS
            .iter()
            .find(|d| d.symbol == symbol)
            .map(|d| Element(d.z))
            .ok_or_else(|| Error::UnknownElement(symbol.to_string()))
    }

    /// Iterate over all elements H–Pu.
    pub fn all() -> impl Iterator<Item = Element> {
        (1..=Self::MAX_Z).map(Element)
    }

    /// All tabulated data of this element.
    pub fn data(self) -> &'static ElementData {
        &data::ELEMENTS[usize::from(self.0) - 1]
    }

    /// Atomic number.
    pub fn z(self) -> u8 {
        self.0
    }

    /// Symbol, e.g. `"Li"`.
    pub fn symbol(self) -> &'static str {
        self.data().symbol
    }

    /// Standard atomic mass, amu.
    pub fn atomic_mass(self) -> f64 {
        self.data().atomic_mass
    }

    /// Pauling electronegativity, or `None` (noble gases He, Ne, Ar).
    pub fn electronegativity(self) -> Option<f64> {
        self.data().electronegativity
    }

    /// Empirical atomic radius, Å.
    pub fn atomic_radius(self) -> Option<f64> {
        self.data().atomic_radius
    }

    /// Cordero covalent radius, Å.
    pub fn covalent_radius(self) -> Option<f64> {
        self.data().covalent_radius
    }

    /// Ionic radius for an oxidation state, Å (pymatgen `Element.ionic_radii`).
    pub fn ionic_radius(self, oxidation_state: i8) -> Option<f64> {
        self.data()
            .ionic_radii
            .iter()
            .find(|(q, _)| *q == oxidation_state)
            .map(|&(_, r)| r)
    }

    /// Shannon effective ionic radius for an oxidation state and coordination (Roman numerals, e.g.
    /// `"VI"`); where the table splits by spin, the high-spin value.
    pub fn shannon_radius(self, oxidation_state: i8, coordination: &str) -> Option<f64> {
        let rows = self
            .data()
            .shannon_radii
            .iter()
            .filter(|s| s.oxidation_state == oxidation_state && s.coordination == coordination);
        let mut best: Option<&ShannonRadius> = None;
        for s in rows {
            if best.is_none() || s.spin == "High Spin" {
                best = Some(s);
            }
        }
        best.map(|s| s.ionic_radius)
    }

    /// Common oxidation states.
    pub fn common_oxidation_states(self) -> &'static [i8] {
        self.data().common_oxidation_states
    }

    /// Cohesive energy of the elemental ground state, eV/atom, where known.
    pub fn cohesive_energy(self) -> Option<f64> {
        self.data().cohesive_energy
    }

    fn order_key(self) -> (f64, &'static str) {
        (self.electronegativity().unwrap_or(f64::INFINITY), self.symbol())
    }
}

impl Ord for Element {
    fn cmp(&self, other: &Self) -> Ordering {
        let (xa, sa) = self.order_key();
        let (xb, sb) = other.order_key();
        xa.total_cmp(&xb).then_with(|| sa.cmp(sb))
    }
}

impl PartialOrd for Element {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl FromStr for Element {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Element::from_symbol(s)
    }
}

impl Serialize for Element {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.symbol())
    }
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Element::from_symbol(&s).map_err(serde::de::Error::custom)
    }
}
