//! Periodic structures: species, Cartesian positions and a lattice.

use std::collections::BTreeMap;

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::composition::Composition;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::lattice::Lattice;

/// amu/Å³ → g/cm³: the atomic mass constant in g × 1e24 (CODATA 2022, as pymatgen uses through scipy).
pub(crate) const AMU_PER_A3_TO_G_PER_CM3: f64 = 1.660_539_068_92;

/// A per-site property column carried along with a structure (velocities, charges, selective-dynamics
/// flags, forces, labels, ...). File readers fill the columns they find; writers write the ones their
/// format can hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "values", rename_all = "snake_case")]
pub enum SiteProperty {
    /// One real number per site (e.g. `charge` in e, `magmom` in μB).
    Real(Vec<f64>),
    /// One integer per site (e.g. LAMMPS `type`, `id`).
    Int(Vec<i64>),
    /// One flag per site.
    Bool(Vec<bool>),
    /// One string per site (e.g. labels such as `Fe2+`).
    Text(Vec<String>),
    /// One 3-vector per site (e.g. `velocities` in Å/fs, `forces` in eV/Å).
    Vector(Vec<[f64; 3]>),
    /// Three flags per site (`selective_dynamics`: T/F per Cartesian or lattice direction).
    Flags(Vec<[bool; 3]>),
}

impl SiteProperty {
    /// Number of sites the column describes.
    pub fn len(&self) -> usize {
        match self {
            SiteProperty::Real(v) => v.len(),
            SiteProperty::Int(v) => v.len(),
            SiteProperty::Bool(v) => v.len(),
            SiteProperty::Text(v) => v.len(),
            SiteProperty::Vector(v) => v.len(),
            SiteProperty::Flags(v) => v.len(),
        }
    }

    /// True for a column of zero sites.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn select(&self, idx: &[usize]) -> SiteProperty {
        fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().map(|&i| v[i].clone()).collect()
        }
        match self {
            SiteProperty::Real(v) => SiteProperty::Real(pick(v, idx)),
            SiteProperty::Int(v) => SiteProperty::Int(pick(v, idx)),
            SiteProperty::Bool(v) => SiteProperty::Bool(pick(v, idx)),
            SiteProperty::Text(v) => SiteProperty::Text(pick(v, idx)),
            SiteProperty::Vector(v) => SiteProperty::Vector(pick(v, idx)),
            SiteProperty::Flags(v) => SiteProperty::Flags(pick(v, idx)),
        }
    }
}

/// Well-known site-property names shared by the readers and writers.
pub mod props {
    /// Velocities, Å/fs ([`SiteProperty::Vector`](super::SiteProperty::Vector)).
    pub const VELOCITIES: &str = "velocities";
    /// Selective-dynamics flags ([`SiteProperty::Flags`](super::SiteProperty::Flags)).
    pub const SELECTIVE_DYNAMICS: &str = "selective_dynamics";
    /// Atomic charges, e ([`SiteProperty::Real`](super::SiteProperty::Real)).
    pub const CHARGE: &str = "charge";
    /// Forces, eV/Å ([`SiteProperty::Vector`](super::SiteProperty::Vector)).
    pub const FORCES: &str = "forces";
    /// Magnetic moments, μB ([`SiteProperty::Real`](super::SiteProperty::Real)).
    pub const MAGMOM: &str = "magmom";
}

/// A periodic structure: a [`Lattice`], one [`Element`] and one Cartesian position (Å) per site,
/// optional per-site properties and free-form structure-level properties.
///
/// Positions need not lie inside the cell; [`wrap`](Self::wrap) brings them in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    lattice: Lattice,
    species: Vec<Element>,
    positions: Vec<Vector3<f64>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    site_properties: BTreeMap<String, SiteProperty>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    properties: BTreeMap<String, serde_json::Value>,
}

impl Structure {
    /// A structure from species and Cartesian positions (Å). Lengths must agree and every coordinate
    /// must be finite.
    pub fn new(lattice: Lattice, species: Vec<Element>, positions: Vec<Vector3<f64>>) -> Result<Self> {
        if species.len() != positions.len() {
            return Err(Error::Structure(format!(
                "{} species but {} positions",
                species.len(),
                positions.len()
            )));
        }
        if let Some(i) = positions.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
            return Err(Error::Structure(format!(
                "site {i} has a non-finite coordinate {:?}",
                positions[i]
            )));
        }
        Ok(Structure {
            lattice,
            species,
            positions,
            site_properties: BTreeMap::new(),
            properties: BTreeMap::new(),
        })
    }

    /// A structure from species and fractional coordinates.
    pub fn from_fractional(lattice: Lattice, species: Vec<Element>, frac: &[Vector3<f64>]) -> Result<Self> {
        let positions = frac.iter().map(|f| lattice.to_cartesian(f)).collect();
        Self::new(lattice, species, positions)
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.species.len()
    }

    /// True when the structure has no sites.
    pub fn is_empty(&self) -> bool {
        self.species.is_empty()
    }

    /// The cell.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// Species of every site.
    pub fn species(&self) -> &[Element] {
        &self.species
    }

    /// Cartesian positions, Å.
    pub fn positions(&self) -> &[Vector3<f64>] {
        &self.positions
    }

    /// Mutable Cartesian positions, Å.
    pub fn positions_mut(&mut self) -> &mut [Vector3<f64>] {
        &mut self.positions
    }

    /// Fractional coordinates of every site (not wrapped).
    pub fn frac_coords(&self) -> Vec<Vector3<f64>> {
        self.positions
            .iter()
            .map(|p| self.lattice.to_fractional(p))
            .collect()
    }

    /// Replace the cell, keeping Cartesian positions unchanged.
    pub fn set_lattice(&mut self, lattice: Lattice) {
        self.lattice = lattice;
    }

    /// Replace the cell and move the atoms with it (fractional coordinates unchanged), as when a
    /// liquid is compressed or expanded.
    pub fn set_lattice_scaling_positions(&mut self, lattice: Lattice) {
        let frac = self.frac_coords();
        self.lattice = lattice;
        for (p, f) in self.positions.iter_mut().zip(&frac) {
            *p = self.lattice.to_cartesian(f);
        }
    }

    /// Scale the cell isotropically to `volume` Å³, moving atoms with it.
    pub fn scale_to_volume(&mut self, volume: f64) -> Result<()> {
        let lattice = self.lattice.scaled_to_volume(volume)?;
        self.set_lattice_scaling_positions(lattice);
        Ok(())
    }

    /// Move every site into the cell: fractional coordinates in [0, 1).
    pub fn wrap(&mut self) {
        for p in &mut self.positions {
            let f = crate::pbc::wrap_fractional(&self.lattice.to_fractional(p));
            *p = self.lattice.to_cartesian(&f);
        }
    }

    /// Minimum-image distance between sites `i` and `j`, Å.
    pub fn distance(&self, i: usize, j: usize) -> f64 {
        self.lattice.distance(&self.positions[i], &self.positions[j])
    }

    /// The composition (atom counts per element).
    pub fn composition(&self) -> Composition {
        Composition::from_elements(self.species.iter().copied())
    }

    /// Total mass, amu.
    pub fn mass(&self) -> f64 {
        self.species.iter().map(|e| e.atomic_mass()).sum()
    }

    /// Cell volume, Å³.
    pub fn volume(&self) -> f64 {
        self.lattice.volume()
    }

    /// Mass density, g/cm³ (as pymatgen `Structure.density`).
    pub fn density(&self) -> f64 {
        self.mass() / self.volume() * AMU_PER_A3_TO_G_PER_CM3
    }

    /// Distinct elements, in pymatgen's order (electronegativity, then symbol).
    pub fn elements(&self) -> Vec<Element> {
        let mut e = self.species.clone();
        e.sort();
        e.dedup();
        e
    }

    /// Indices of the sites of one element.
    pub fn indices_of(&self, element: Element) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.species[i] == element).collect()
    }

    /// Per-site property columns.
    pub fn site_properties(&self) -> &BTreeMap<String, SiteProperty> {
        &self.site_properties
    }

    /// One per-site property column.
    pub fn site_property(&self, name: &str) -> Option<&SiteProperty> {
        self.site_properties.get(name)
    }

    /// Add or replace a per-site property; its length must equal the number of sites.
    pub fn set_site_property(&mut self, name: impl Into<String>, values: SiteProperty) -> Result<()> {
        let name = name.into();
        if values.len() != self.len() {
            return Err(Error::Structure(format!(
                "site property '{name}' has {} values for {} sites",
                values.len(),
                self.len()
            )));
        }
        self.site_properties.insert(name, values);
        Ok(())
    }

    /// Remove a per-site property.
    pub fn remove_site_property(&mut self, name: &str) -> Option<SiteProperty> {
        self.site_properties.remove(name)
    }

    /// Structure-level properties (title, energy, ... as read from files).
    pub fn properties(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.properties
    }

    /// Mutable structure-level properties.
    pub fn properties_mut(&mut self) -> &mut BTreeMap<String, serde_json::Value> {
        &mut self.properties
    }

    /// A copy with sites reordered (or subset) by `indices`; site properties follow.
    pub fn select(&self, indices: &[usize]) -> Result<Structure> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::InvalidArgument(format!(
                "site index {bad} out of range for {} sites",
                self.len()
            )));
        }
        Ok(Structure {
            lattice: self.lattice.clone(),
            species: indices.iter().map(|&i| self.species[i]).collect(),
            positions: indices.iter().map(|&i| self.positions[i]).collect(),
            site_properties: self
                .site_properties
                .iter()
                .map(|(k, v)| (k.clone(), v.select(indices)))
                .collect(),
            properties: self.properties.clone(),
        })
    }

    /// A copy with sites sorted by element (pymatgen order), stable within an element: the order
    /// POSCAR and most codes expect.
    pub fn sorted_by_element(&self) -> Structure {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.sort_by_key(|&i| self.species[i]);
        self.select(&idx).expect("indices are in range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn nacl() -> Structure {
        let l = Lattice::cubic(5.64).unwrap();
        let na = Element::from_symbol("Na").unwrap();
        let cl = Element::from_symbol("Cl").unwrap();
        let mut sp = vec![];
        let mut fr = vec![];
        for (x, y, z) in [(0.0, 0.0, 0.0), (0.0, 0.5, 0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)] {
            sp.push(na);
            fr.push(Vector3::new(x, y, z));
            sp.push(cl);
            fr.push(Vector3::new(x + 0.5, y, z));
        }
        Structure::from_fractional(l, sp, &fr).unwrap()
    }

    #[test]
    fn density_of_rock_salt() {
        // pymatgen: Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na","Cl"], ...).density
        let s = nacl();
        let mass = 4.0 * (22.98976928 + 35.453);
        assert_relative_eq!(
            s.density(),
            mass / 5.64f64.powi(3) * 1.66053906892,
            epsilon = 1e-12
        );
        assert_relative_eq!(s.distance(0, 1), 2.82, epsilon = 1e-12);
    }

    #[test]
    fn rejects_nan_and_length_mismatch() {
        let l = Lattice::cubic(3.0).unwrap();
        let li = Element::from_symbol("Li").unwrap();
        assert!(Structure::new(l.clone(), vec![li], vec![]).is_err());
        assert!(Structure::new(l, vec![li], vec![Vector3::new(f64::NAN, 0.0, 0.0)]).is_err());
    }

    #[test]
    fn scaling_keeps_fractional_coordinates() {
        let mut s = nacl();
        let f0 = s.frac_coords();
        s.scale_to_volume(2.0 * s.volume()).unwrap();
        for (a, b) in f0.iter().zip(s.frac_coords()) {
            assert_relative_eq!(*a, b, epsilon = 1e-12);
        }
    }
}
