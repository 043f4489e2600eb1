//! Per-structure state shared by every feature: the neighbour list (built once), per-atom data and
//! the expensive intermediate results (nearest-neighbour searches, path widths, packing fractions),
//! each computed at most once.

use std::cell::OnceCell;

use amorph_structure::{Composition, Element, NeighborList, Structure};
use nalgebra::Vector3;

use crate::error::{Result, Undefined, Value};
use crate::geometry;
use crate::options::{Convention, Options};

/// Per-Li results of the straight-line path analysis (one entry per mobile atom).
#[derive(Debug, Clone)]
pub(crate) struct PathWidths {
    /// `sendek`: min over atoms projecting onto the segment of (distance − radius), and χ of the
    /// atom setting it.
    pub beside: Vec<Option<(f64, f64)>>,
    /// `sendek`: min over all atoms of (distance to the segment − radius).
    pub point_to_point: Vec<f64>,
    /// `zheng2024`: (distance of the nearest atom centre to the segment, its radius, its χ).
    pub nearest_centre: Vec<(f64, f64, f64)>,
}

/// Everything a feature may read about one structure (or one bare composition), with shared
/// intermediate results cached. Built by [`FeatureSet`](crate::FeatureSet); build one yourself with
/// [`Context::new`] to evaluate a [`Featurizer`](crate::Featurizer) directly.
pub struct Context<'a> {
    options: &'a Options,
    structure: Option<&'a Structure>,
    composition: Option<Composition>,
    neighbors: Option<NeighborList>,
    mobile: Vec<bool>,
    chi: Vec<f64>,
    anion: OnceCell<std::result::Result<Element, Undefined>>,
    radii: OnceCell<std::result::Result<Vec<f64>, Undefined>>,
    shortest_lattice_vector: OnceCell<Vector3<f64>>,
    nearest_mobile: OnceCell<Vec<(usize, Vector3<f64>)>>,
    anion_shells: OnceCell<std::result::Result<Vec<(f64, usize)>, Undefined>>,
    mobile_anion: OnceCell<std::result::Result<Vec<f64>, Undefined>>,
    paths: OnceCell<std::result::Result<PathWidths, Undefined>>,
    packing: OnceCell<std::result::Result<(f64, Option<f64>), Undefined>>,
}

impl<'a> Context<'a> {
    /// Context of a structure; builds the neighbour list (cutoff `options.cutoff`) unless the
    /// structure is empty. `options` should have passed [`Options::check`].
    pub fn new(structure: &'a Structure, options: &'a Options) -> Result<Self> {
        Self::build(structure, options, true)
    }

    /// Context of a structure for compositional features only: no neighbour list (structural features
    /// then fail with [`Undefined::NeedsStructure`]).
    pub(crate) fn build(structure: &'a Structure, options: &'a Options, neighbors: bool) -> Result<Self> {
        options.check()?;
        let nl = if neighbors && !structure.is_empty() {
            Some(NeighborList::new(structure, options.cutoff)?)
        } else {
            None
        };
        let composition = (!structure.is_empty()).then(|| structure.composition());
        let mut ctx = Self::empty(options, composition);
        ctx.structure = Some(structure);
        ctx.neighbors = nl;
        ctx.mobile = structure.species().iter().map(|&e| e == options.mobile).collect();
        ctx.chi = structure
            .species()
            .iter()
            .map(|e| e.electronegativity().unwrap_or(f64::NAN))
            .collect();
        Ok(ctx)
    }

    /// Context of a bare composition (compositional features only).
    pub fn from_composition(composition: &Composition, options: &'a Options) -> Result<Self> {
        options.check()?;
        Ok(Self::empty(options, Some(composition.clone())))
    }

    fn empty(options: &'a Options, composition: Option<Composition>) -> Self {
        Context {
            options,
            structure: None,
            composition,
            neighbors: None,
            mobile: Vec::new(),
            chi: Vec::new(),
            anion: OnceCell::new(),
            radii: OnceCell::new(),
            shortest_lattice_vector: OnceCell::new(),
            nearest_mobile: OnceCell::new(),
            anion_shells: OnceCell::new(),
            mobile_anion: OnceCell::new(),
            paths: OnceCell::new(),
            packing: OnceCell::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        self.options
    }

    /// The convention.
    pub fn convention(&self) -> Convention {
        self.options.convention
    }

    /// The structure, if this context has one.
    pub fn structure(&self) -> Option<&Structure> {
        self.structure
    }

    /// The composition, or [`Undefined::EmptyStructure`].
    pub fn composition(&self) -> std::result::Result<&Composition, Undefined> {
        self.composition.as_ref().ok_or(Undefined::EmptyStructure)
    }

    /// The structure, or why a structural feature cannot be computed.
    pub fn require_structure(&self) -> std::result::Result<&Structure, Undefined> {
        match self.structure {
            None => Err(Undefined::NeedsStructure),
            Some(s) if s.is_empty() => Err(Undefined::EmptyStructure),
            Some(s) => Ok(s),
        }
    }

    /// The full neighbour list within the cutoff (every periodic image), or why there is none.
    pub fn neighbors(&self) -> std::result::Result<&NeighborList, Undefined> {
        self.require_structure()?;
        self.neighbors.as_ref().ok_or(Undefined::NeedsStructure)
    }

    /// Whether atom `i` is of the mobile species.
    pub(crate) fn is_mobile(&self, i: usize) -> bool {
        self.mobile[i]
    }

    /// Indices of the mobile atoms, or [`Undefined::NoMobile`].
    pub(crate) fn mobile_indices(&self) -> std::result::Result<Vec<usize>, Undefined> {
        self.require_structure()?;
        let v: Vec<usize> = (0..self.mobile.len()).filter(|&i| self.mobile[i]).collect();
        if v.is_empty() {
            Err(Undefined::NoMobile {
                mobile: self.options.mobile,
            })
        } else {
            Ok(v)
        }
    }

    /// Pauling χ of every atom, or the first element lacking one.
    pub(crate) fn chi(&self) -> std::result::Result<&[f64], Undefined> {
        let s = self.require_structure()?;
        if let Some(i) = self.chi.iter().position(|x| x.is_nan()) {
            return Err(Undefined::MissingData {
                element: s.species()[i],
                property: "electronegativity",
            });
        }
        Ok(&self.chi)
    }

    /// The anion element under the convention: the most electronegative element present (`sendek`;
    /// ties by symbol, the later one) or the alphabetically last symbol (`zheng2024`).
    pub fn anion(&self) -> std::result::Result<Element, Undefined> {
        self.anion
            .get_or_init(|| {
                let c = self.composition()?;
                match self.convention() {
                    Convention::Sendek => c
                        .elements()
                        .filter(|e| e.electronegativity().is_some())
                        .max()
                        .ok_or(Undefined::NoAnion),
                    Convention::Zheng2024 => {
                        c.elements().max_by_key(|e| e.symbol()).ok_or(Undefined::NoAnion)
                    }
                }
            })
            .clone()
    }

    /// Effective radius of every atom, Å, from the radius table in effect.
    pub(crate) fn radii(&self) -> std::result::Result<&[f64], Undefined> {
        self.radii
            .get_or_init(|| {
                let s = self.require_structure()?;
                let anion = self.anion().ok();
                let table = self.options.radius_table();
                let mut per_element: Vec<(Element, f64)> = Vec::new();
                for e in s.composition().elements() {
                    per_element.push((e, crate::data::effective_radius(e, table, Some(e) == anion)?));
                }
                Ok(s.species()
                    .iter()
                    .map(|e| per_element.iter().find(|(x, _)| x == e).map_or(f64::NAN, |p| p.1))
                    .collect())
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// The shortest non-zero lattice vector (an atom's nearest periodic image of itself).
    pub(crate) fn shortest_lattice_vector(&self, s: &Structure) -> Vector3<f64> {
        *self
            .shortest_lattice_vector
            .get_or_init(|| geometry::shortest_lattice_vector(s.lattice()))
    }

    /// For every mobile atom (in index order): its nearest mobile atom (any image, not itself at zero
    /// distance) and the vector to it.
    pub(crate) fn nearest_mobile(&self) -> std::result::Result<&[(usize, Vector3<f64>)], Undefined> {
        let s = self.require_structure()?;
        let idx = self.mobile_indices()?;
        let nl = self.neighbors()?;
        Ok(self.nearest_mobile.get_or_init(|| {
            idx.iter()
                .map(|&i| geometry::nearest(self, s, nl, i, &self.mobile))
                .collect()
        }))
    }

    /// Mask of the anion atoms.
    fn anion_mask(&self) -> std::result::Result<Vec<bool>, Undefined> {
        let s = self.require_structure()?;
        let a = self.anion()?;
        Ok(s.species().iter().map(|&e| e == a).collect())
    }

    /// For every anion atom: (distance to its nearest anion, number of anions within that + 1 Å).
    pub(crate) fn anion_shells(&self) -> std::result::Result<&[(f64, usize)], Undefined> {
        self.anion_shells
            .get_or_init(|| {
                let s = self.require_structure()?;
                let nl = self.neighbors()?;
                let mask = self.anion_mask()?;
                Ok((0..s.len())
                    .filter(|&i| mask[i])
                    .map(|i| {
                        let r0 = geometry::nearest(self, s, nl, i, &mask).1.norm();
                        (r0, geometry::count_within(s, nl, i, &mask, r0 + 1.0))
                    })
                    .collect())
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// For every mobile atom: the distance to its nearest anion.
    pub(crate) fn mobile_anion(&self) -> std::result::Result<&[f64], Undefined> {
        self.mobile_anion
            .get_or_init(|| {
                let s = self.require_structure()?;
                let nl = self.neighbors()?;
                let mask = self.anion_mask()?;
                Ok(self
                    .mobile_indices()?
                    .into_iter()
                    .map(|i| geometry::nearest(self, s, nl, i, &mask).1.norm())
                    .collect())
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// Straight-line path widths of every mobile atom.
    pub(crate) fn paths(&self) -> std::result::Result<&PathWidths, Undefined> {
        self.paths
            .get_or_init(|| {
                let s = self.require_structure()?;
                let nl = self.neighbors()?;
                let chi = self.chi()?;
                let radii = self.radii()?;
                let nearest = self.nearest_mobile()?;
                let idx = self.mobile_indices()?;
                Ok(geometry::path_widths(s, nl, chi, radii, &idx, nearest))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Packing fraction of all atoms (`sublattice = false`) or of the non-mobile atoms only; both are
    /// computed in one pass.
    pub(crate) fn packing_fraction(&self, sublattice: bool) -> Value {
        let both = self
            .packing
            .get_or_init(|| {
                let s = self.require_structure()?;
                let radii = self.radii()?;
                let spheres: Vec<geometry::Sphere> = (0..s.len())
                    .map(|i| geometry::Sphere {
                        frac: s.lattice().to_fractional(&s.positions()[i]),
                        radius: radii[i],
                        sublattice: !self.mobile[i],
                    })
                    .collect();
                let (all, sub) =
                    geometry::packing_fractions(s.lattice(), &spheres, self.neighbors.as_ref(), self.options);
                Ok((all, spheres.iter().any(|x| x.sublattice).then_some(sub)))
            })
            .clone()?;
        if sublattice {
            both.1.ok_or(Undefined::NoSublattice)
        } else {
            Ok(both.0)
        }
    }
}
