//! What to pack: [`PackRequest`], per-pair minimum distances ([`PairDistances`]) and the validated
//! [`PackPlan`] a request resolves to.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use amorph_structure::{Composition, Element, Lattice};
use nalgebra::Vector3;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{PackError, Result};
use crate::rng::cube_root;

/// amu/Å³ → g/cm³ (CODATA 2022 atomic mass constant in g × 1e24, as `Structure::density` uses).
pub(crate) const AMU_PER_A3_TO_G_PER_CM3: f64 = 1.660_539_068_92;

/// Random close packing of equal hard spheres, the packing fraction at which a random packing jams
/// (φ_J ≈ 0.64; O'Hern et al., Phys. Rev. E 68, 011306 (2003); Bernal's φ_rcp ≈ 0.637). Disordered
/// packings denser than this must crystallise, which a random packer does not do, so a request whose
/// (conservatively estimated) fraction exceeds it is refused at once.
pub const PACKING_FRACTION_LIMIT: f64 = 0.64;

/// Default minimum distance between any two atoms, Å (PACKMOL's usual `tolerance 2.0`).
pub const DEFAULT_TOLERANCE: f64 = 2.0;

/// Default budget of overlap-minimisation iterations.
pub const DEFAULT_MAX_ITERATIONS: usize = 20_000;

/// Most atoms one request may ask for (memory, and `u32` indices in the neighbour lists).
const MAX_ATOMS: usize = 100_000_000;

/// Amounts closer than this to an integer are integers (pymatgen's amount tolerance).
const AMOUNT_TOLERANCE: f64 = 1e-8;

/// Minimum distances for particular element pairs, Å; pairs not listed use the request's global
/// tolerance. Order within a pair does not matter.
///
/// ```
/// use amorph_pack::PairDistances;
/// use amorph_structure::Element;
/// let (li, o) = (Element::from_symbol("Li")?, Element::from_symbol("O")?);
/// let d = PairDistances::new().with(li, o, 1.8).with(o, o, 2.4);
/// assert_eq!(d.get(o, li), Some(1.8));
/// // Or from covalent radii scaled by 0.9: d(A, B) = 0.9 (r_A + r_B).
/// let c = PairDistances::covalent([li, o], 0.9)?;
/// assert!((c.get(li, o).unwrap() - 0.9 * (1.28 + 0.66)).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairDistances {
    map: BTreeMap<(Element, Element), f64>,
}

fn key(a: Element, b: Element) -> (Element, Element) {
    if a <= b { (a, b) } else { (b, a) }
}

impl PairDistances {
    /// No per-pair distances: the global tolerance everywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with(mut self, a: Element, b: Element, distance: f64) -> Self {
        self.insert(a, b, distance);
        self
    }

    /// Sets the minimum distance between `a` and `b` (Å), replacing any earlier value. Checked when
    /// the request is planned (finite and positive).
    pub fn insert(&mut self, a: Element, b: Element, distance: f64) {
        self.map.insert(key(a, b), distance);
    }

    /// The distance set for a pair, if any.
    pub fn get(&self, a: Element, b: Element) -> Option<f64> {
        self.map.get(&key(a, b)).copied()
    }

    /// Number of pairs set.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no pair is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The pairs set, as `(a, b, distance)` with `a ≤ b` in pymatgen order.
    pub fn iter(&self) -> impl Iterator<Item = (Element, Element, f64)> + '_ {
        self.map.iter().map(|(&(a, b), &d)| (a, b, d))
    }

    /// Distances `scale · (r_a + r_b)` for every pair of the given (element, radius Å) entries,
    /// e.g. ionic radii of the species with their oxidation states.
    pub fn from_radii(radii: impl IntoIterator<Item = (Element, f64)>, scale: f64) -> Self {
        let radii: Vec<(Element, f64)> = radii.into_iter().collect();
        let mut out = Self::new();
        for &(a, ra) in &radii {
            for &(b, rb) in &radii {
                out.insert(a, b, scale * (ra + rb));
            }
        }
        out
    }

    /// Distances `scale · (r_a + r_b)` from the covalent radii (Cordero et al. 2008, as pymatgen)
    /// of the given elements. An element without a tabulated radius is an error.
    pub fn covalent(elements: impl IntoIterator<Item = Element>, scale: f64) -> Result<Self> {
        let radii = elements
            .into_iter()
            .map(|e| {
                e.covalent_radius()
                    .map(|r| (e, r))
                    .ok_or_else(|| PackError::InvalidRequest(format!("no covalent radius for {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::from_radii(radii, scale))
    }
}

/// One serialised entry of [`PairDistances`].
#[derive(Serialize, Deserialize)]
struct PairEntry {
    a: Element,
    b: Element,
    distance: f64,
}

impl Serialize for PairDistances {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|(a, b, distance)| PairEntry { a, b, distance }))
    }
}

impl<'de> Deserialize<'de> for PairDistances {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let entries = Vec::<PairEntry>::deserialize(d)?;
        let mut out = Self::new();
        for e in entries {
            out.insert(e.a, e.b, e.distance);
        }
        Ok(out)
    }
}

/// How many atoms of a composition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Amount {
    Atoms(usize),
    FormulaUnits(usize),
}

/// The atoms to pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Contents {
    Composition(Composition),
    Counts(Vec<(Element, usize)>),
}

/// The cell: its volume from a density or given, or the whole lattice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CellSpec {
    Density(f64),
    Volume(f64),
    Lattice(Lattice),
}

fn default_tolerance() -> f64 {
    DEFAULT_TOLERANCE
}

fn default_max_iterations() -> usize {
    DEFAULT_MAX_ITERATIONS
}

/// A packing request: which atoms, in which cell, how far apart, with which seed.
///
/// Built with chained setters and checked once, when planned ([`plan`](Self::plan), which
/// [`pack`](crate::pack) calls first): a request is plain data (serde) and may hold anything; the plan
/// holds only what is valid.
///
/// - **Atoms**: a [`Composition`] with a number of atoms ([`atoms`](Self::atoms)) or of reduced formula
///   units ([`formula_units`](Self::formula_units)), or explicit counts ([`from_counts`](Self::from_counts)).
///   Counts always match the composition exactly. A number of atoms that is not a whole number of
///   formula units is an error unless [`round_to_formula_units`](Self::round_to_formula_units) is set,
///   which takes the nearest whole number. A composition with fractional amounts (`Li0.5La0.5TiO3`) is
///   apportioned over the atoms by largest remainder ([`Composition::apportion`]); it must come out
///   exact (100 atoms → Li 10, La 10, Ti 20, O 60), or, with rounding allowed, the closest counts are
///   accepted.
/// - **Cell**: a [`density`](Self::density) (g/cm³) or a [`volume`](Self::volume) (Å³) in a cubic
///   cell, or in a cell of the [`shape`](Self::shape) of any lattice scaled to that volume; or an
///   explicit [`lattice`](Self::lattice).
/// - **Distances**: every pair at least [`tolerance`](Self::tolerance) Å apart (default 2.0 Å), except
///   pairs given in [`pair_distances`](Self::pair_distances). Periodic images count (minimum image).
/// - **Seed**: the same request and seed give the same structure, bit for bit, on any thread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackRequest {
    contents: Contents,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<Amount>,
    #[serde(default)]
    cell: Option<CellSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shape: Option<Lattice>,
    #[serde(default = "default_tolerance")]
    tolerance: f64,
    #[serde(default, skip_serializing_if = "PairDistances::is_empty")]
    pair_distances: PairDistances,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    round_to_formula_units: bool,
    #[serde(default = "default_max_iterations")]
    max_iterations: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_limit: Option<f64>,
}

impl PackRequest {
    fn with_contents(contents: Contents) -> Self {
        PackRequest {
            contents,
            amount: None,
            cell: None,
            shape: None,
            tolerance: DEFAULT_TOLERANCE,
            pair_distances: PairDistances::new(),
            seed: 0,
            round_to_formula_units: false,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            time_limit: None,
        }
    }

    /// A request for a composition; say how many atoms with [`atoms`](Self::atoms) or
    /// [`formula_units`](Self::formula_units).
    pub fn new(composition: Composition) -> Self {
        Self::with_contents(Contents::Composition(composition))
    }

    /// A request for explicit atom counts per element (repeated elements add up).
    pub fn from_counts(counts: impl IntoIterator<Item = (Element, usize)>) -> Self {
        Self::with_contents(Contents::Counts(counts.into_iter().collect()))
    }

    /// Pack `n` atoms of the composition.
    pub fn atoms(mut self, n: usize) -> Self {
        self.set_amount(Amount::Atoms(n));
        self
    }

    /// Pack `n` reduced formula units of the composition (`Li2Si2O5` × n: 9n atoms).
    pub fn formula_units(mut self, n: usize) -> Self {
        self.set_amount(Amount::FormulaUnits(n));
        self
    }

    fn set_amount(&mut self, a: Amount) {
        self.amount = Some(a);
    }

    /// Mass density of the packed cell, g/cm³.
    pub fn density(mut self, g_per_cm3: f64) -> Self {
        self.cell = Some(CellSpec::Density(g_per_cm3));
        self
    }

    /// Volume of the packed cell, Å³.
    pub fn volume(mut self, a3: f64) -> Self {
        self.cell = Some(CellSpec::Volume(a3));
        self
    }

    /// An explicit cell (its volume fixes the density).
    pub fn lattice(mut self, lattice: Lattice) -> Self {
        self.cell = Some(CellSpec::Lattice(lattice));
        self
    }

    /// The shape of the cell for [`density`](Self::density) or [`volume`](Self::volume): this lattice
    /// scaled isotropically to the volume (default: cubic).
    pub fn shape(mut self, lattice: Lattice) -> Self {
        self.shape = Some(lattice);
        self
    }

    /// Minimum distance between any two atoms, Å (default 2.0), for pairs not in
    /// [`pair_distances`](Self::pair_distances).
    pub fn tolerance(mut self, angstrom: f64) -> Self {
        self.tolerance = angstrom;
        self
    }

    /// Minimum distances for particular element pairs, Å.
    pub fn pair_distances(mut self, distances: PairDistances) -> Self {
        self.pair_distances = distances;
        self
    }

    /// Seed of the random number generator (ChaCha8); default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Allow rounding the number of atoms to the nearest whole number of formula units (or, for a
    /// fractional composition, accepting the closest counts).
    pub fn round_to_formula_units(mut self, yes: bool) -> Self {
        self.round_to_formula_units = yes;
        self
    }

    /// Budget of overlap-minimisation iterations (default [`DEFAULT_MAX_ITERATIONS`]); the outcome
    /// for a given seed does not depend on the machine.
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }

    /// Optional wall-clock budget for the overlap minimisation, s. Unlike the iteration budget, it
    /// can make the outcome depend on the machine's speed.
    pub fn time_limit(mut self, seconds: f64) -> Self {
        self.time_limit = Some(seconds);
        self
    }

    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The global minimum distance, Å.
    pub fn get_tolerance(&self) -> f64 {
        self.tolerance
    }

    /// The minimisation budget, iterations.
    pub fn get_max_iterations(&self) -> usize {
        self.max_iterations
    }

    /// The optional wall-clock budget of the minimisation, s.
    pub fn get_time_limit(&self) -> Option<f64> {
        self.time_limit
    }

    /// Checks the request and resolves it: atom counts, cell, distance table, packing fraction.
    /// Fails on invalid values, on counts that cannot match the composition, on a cell smaller than
    /// an atom's distance to its own image, and on a packing fraction above
    /// [`PACKING_FRACTION_LIMIT`].
    pub fn plan(&self) -> Result<PackPlan> {
        let invalid = |m: String| Err(PackError::InvalidRequest(m));
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return invalid(format!(
                "tolerance must be a positive number of Å, got {}",
                self.tolerance
            ));
        }
        for (a, b, d) in self.pair_distances.iter() {
            if !(d.is_finite() && d > 0.0) {
                return invalid(format!(
                    "minimum distance {a}–{b} must be a positive number of Å, got {d}"
                ));
            }
        }
        if let Some(t) = self.time_limit
            && !(t.is_finite() && t > 0.0)
        {
            return invalid(format!("time limit must be a positive number of s, got {t}"));
        }
        let counts = self.counts()?;
        let natoms: usize = counts.iter().map(|c| c.1).sum();
        if natoms == 0 {
            return invalid("no atoms to pack".into());
        }
        if natoms > MAX_ATOMS {
            return invalid(format!("{natoms} atoms is more than the {MAX_ATOMS} supported"));
        }
        let mass: f64 = counts.iter().map(|&(e, n)| e.atomic_mass() * n as f64).sum();
        let volume = match &self.cell {
            None => return invalid("no cell: give a density, a volume or a lattice".into()),
            Some(CellSpec::Lattice(_)) if self.shape.is_some() => {
                return invalid("give either a lattice or a shape with a density/volume, not both".into());
            }
            Some(CellSpec::Lattice(_)) => None,
            Some(CellSpec::Density(rho)) => {
                let rho = *rho;
                if !(rho.is_finite() && rho > 0.0) {
                    return invalid(format!("density must be a positive number of g/cm³, got {rho}"));
                }
                Some(mass * AMU_PER_A3_TO_G_PER_CM3 / rho)
            }
            Some(CellSpec::Volume(v)) => Some(*v),
        };
        let lattice = match (volume, &self.cell) {
            (None, Some(CellSpec::Lattice(l))) => l.clone(),
            (Some(v), _) if !(v.is_finite() && v > 0.0) => {
                return invalid(format!(
                    "the cell volume must be a positive number of Å³, got {v}"
                ));
            }
            // Our own cube root (not the C library's): the cell, and so the structure, must be the
            // same on every machine.
            (Some(v), _) => match &self.shape {
                None => Lattice::cubic(cube_root(v))?,
                Some(shape) => Lattice::new(shape.matrix() * cube_root(v / shape.volume()))?,
            },
            (None, _) => return invalid("no cell".into()),
        };
        let elements: Vec<Element> = counts.iter().map(|c| c.0).collect();
        let ns = elements.len();
        let mut distance = vec![0.0; ns * ns];
        for (s, &a) in elements.iter().enumerate() {
            for (t, &b) in elements.iter().enumerate() {
                distance[s * ns + t] = self.pair_distances.get(a, b).unwrap_or(self.tolerance);
            }
        }
        let plan = PackPlan {
            counts,
            lattice,
            distance,
            mass,
        };
        plan.check_self_images()?;
        plan.check_packing_fraction(self)?;
        Ok(plan)
    }

    /// Atom counts per element, in pymatgen order, exactly matching the composition.
    fn counts(&self) -> Result<Vec<(Element, usize)>> {
        let composition = match &self.contents {
            Contents::Counts(_) if self.amount.is_some() => {
                return Err(PackError::InvalidRequest(
                    "explicit counts fix the number of atoms: give no atoms or formula units too".into(),
                ));
            }
            Contents::Counts(c) => {
                let mut m: BTreeMap<Element, usize> = BTreeMap::new();
                for &(e, n) in c {
                    *m.entry(e).or_insert(0) += n;
                }
                return Ok(m.into_iter().filter(|c| c.1 > 0).collect());
            }
            Contents::Composition(composition) => composition,
        };
        let amount = self.amount.ok_or_else(|| {
            PackError::InvalidRequest("say how many: a number of atoms or of formula units".into())
        })?;
        let reduced = composition.reduced_composition();
        let integral = reduced
            .iter()
            .all(|(_, a)| (a - a.round()).abs() < AMOUNT_TOLERANCE);
        if integral {
            let per_unit = reduced.num_atoms().round() as usize;
            let units = match amount {
                Amount::FormulaUnits(f) => f,
                Amount::Atoms(n) if n % per_unit == 0 => n / per_unit,
                Amount::Atoms(n) if self.round_to_formula_units => ((n + per_unit / 2) / per_unit).max(1),
                Amount::Atoms(n) => {
                    return Err(PackError::NotWholeFormulaUnits {
                        atoms: n,
                        formula: reduced.reduced_formula(),
                        per_unit,
                        below: n / per_unit * per_unit,
                        above: (n / per_unit + 1) * per_unit,
                    });
                }
            };
            if units == 0 {
                return Err(PackError::InvalidRequest("no atoms to pack".into()));
            }
            return Ok(reduced
                .iter()
                .map(|(e, a)| (e, a.round() as usize * units))
                .collect());
        }
        // Fractional amounts: apportion whole atoms to the atomic fractions.
        let total_per_unit = composition.num_atoms();
        let natoms = match amount {
            Amount::Atoms(n) => n,
            Amount::FormulaUnits(f) => (total_per_unit * f as f64).round() as usize,
        };
        if natoms == 0 {
            return Err(PackError::InvalidRequest("no atoms to pack".into()));
        }
        let counts = composition.apportion(natoms);
        let exact = composition.iter().all(|(e, a)| {
            let want = a / total_per_unit * natoms as f64;
            let got = counts.iter().find(|c| c.0 == e).map_or(0, |c| c.1);
            (want - got as f64).abs() < 1e-6
        });
        if exact || self.round_to_formula_units {
            return Ok(counts.into_iter().filter(|c| c.1 > 0).collect());
        }
        let fractions: Vec<f64> = composition.iter().map(|(_, a)| a / total_per_unit).collect();
        let smallest = (1..=1_000_000usize).find(|&n| {
            fractions
                .iter()
                .all(|x| (x * n as f64 - (x * n as f64).round()).abs() < 1e-6)
        });
        let hint = match smallest {
            Some(m) => format!("any multiple of {m} atoms matches it exactly"),
            None => "no number of atoms up to a million matches it exactly".to_string(),
        };
        Err(PackError::InexactComposition {
            atoms: natoms,
            formula: composition.formula().replace(' ', ""),
            closest: counts
                .iter()
                .map(|(e, n)| format!("{e} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            hint,
        })
    }
}

/// A checked request: what will be packed, where, and how far apart.
#[derive(Debug, Clone, PartialEq)]
pub struct PackPlan {
    counts: Vec<(Element, usize)>,
    lattice: Lattice,
    /// Minimum distance per species pair, row-major over `counts`' elements, Å.
    distance: Vec<f64>,
    mass: f64,
}

impl PackPlan {
    /// Atom counts per element, in pymatgen order.
    pub fn counts(&self) -> &[(Element, usize)] {
        &self.counts
    }

    /// Total number of atoms.
    pub fn natoms(&self) -> usize {
        self.counts.iter().map(|c| c.1).sum()
    }

    /// The cell the atoms go in.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// Mass density, g/cm³.
    pub fn density(&self) -> f64 {
        self.mass / self.lattice.volume() * AMU_PER_A3_TO_G_PER_CM3
    }

    /// Minimum distance between species `s` and `t` (indices into [`counts`](Self::counts)), Å.
    pub fn min_distance(&self, s: usize, t: usize) -> f64 {
        self.distance[s * self.counts.len() + t]
    }

    /// The largest minimum distance of any pair present, Å.
    pub fn max_min_distance(&self) -> f64 {
        self.distance.iter().copied().fold(0.0, f64::max)
    }

    pub(crate) fn distance_table(&self) -> &[f64] {
        &self.distance
    }

    /// Hard-sphere packing fraction Σᵢ (π/6) dᵢ³ / V, with dᵢ = the smallest minimum distance of
    /// atom i's species to any species present: a lower bound on the fraction the atoms' exclusion
    /// spheres fill (exact for one global tolerance).
    pub fn packing_fraction(&self) -> f64 {
        let ns = self.counts.len();
        let sum: f64 = (0..ns)
            .map(|s| {
                let d = (0..ns)
                    .map(|t| self.min_distance(s, t))
                    .fold(f64::INFINITY, f64::min);
                self.counts[s].1 as f64 * PI / 6.0 * d.powi(3)
            })
            .sum();
        sum / self.lattice.volume()
    }

    fn check_self_images(&self) -> Result<()> {
        // The shortest lattice translation, exactly (for any cell shape).
        let dmax = self.max_min_distance();
        let mut shortest = f64::INFINITY;
        self.lattice.for_each_image_within(&Vector3::zeros(), dmax, |v| {
            let r = v.norm();
            if r > 0.0 {
                shortest = shortest.min(r);
            }
        });
        for (s, &(e, _)) in self.counts.iter().enumerate() {
            let d = self.min_distance(s, s);
            if shortest < d {
                return Err(PackError::CellTooSmall {
                    element: e.to_string(),
                    translation: shortest,
                    required: d,
                });
            }
        }
        Ok(())
    }

    fn check_packing_fraction(&self, req: &PackRequest) -> Result<()> {
        let fraction = self.packing_fraction();
        if fraction <= PACKING_FRACTION_LIMIT {
            return Ok(());
        }
        let distances = if req.pair_distances.is_empty() {
            format!("{} Å", req.tolerance)
        } else {
            let ns = self.counts.len();
            let mut parts = Vec::new();
            for s in 0..ns {
                for t in s..ns {
                    parts.push(format!(
                        "{}–{} {} Å",
                        self.counts[s].0,
                        self.counts[t].0,
                        self.min_distance(s, t)
                    ));
                }
            }
            parts.join(", ")
        };
        Err(PackError::TooDense {
            natoms: self.natoms(),
            volume: self.lattice.volume(),
            density: self.density(),
            distances,
            fraction,
            limit: PACKING_FRACTION_LIMIT,
            max_density: self.density() * PACKING_FRACTION_LIMIT / fraction,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(s: &str) -> Composition {
        s.parse().unwrap()
    }

    #[test]
    fn whole_formula_units_or_a_clear_error() {
        let r = PackRequest::new(comp("Li2Si2O5")).density(2.3);
        let plan = r.clone().atoms(999).plan().unwrap();
        assert_eq!(plan.natoms(), 999);
        let plan = r.clone().formula_units(12).plan().unwrap();
        assert_eq!(
            plan.counts().iter().map(|c| c.1).collect::<Vec<_>>(),
            vec![24, 24, 60]
        );
        let e = r.clone().atoms(1000).plan().unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("999 and 1008"), "{msg}");
        assert!(matches!(e, PackError::NotWholeFormulaUnits { per_unit: 9, .. }));
        let plan = r.clone().atoms(1000).round_to_formula_units(true).plan().unwrap();
        assert_eq!(plan.natoms(), 999);
        let plan = r.atoms(1004).round_to_formula_units(true).plan().unwrap();
        assert_eq!(plan.natoms(), 1008);
    }

    #[test]
    fn fractional_compositions_are_apportioned_exactly() {
        let r = PackRequest::new(comp("Li0.5La0.5TiO3")).density(5.0);
        let plan = r.clone().atoms(100).plan().unwrap();
        let counts: Vec<usize> = plan.counts().iter().map(|c| c.1).collect();
        assert_eq!(counts, vec![10, 10, 20, 60]);
        let e = r.clone().atoms(101).plan().unwrap_err().to_string();
        assert!(e.contains("multiple of 10 atoms"), "{e}");
        assert_eq!(
            r.clone()
                .atoms(101)
                .round_to_formula_units(true)
                .plan()
                .unwrap()
                .natoms(),
            101
        );
        assert_eq!(r.formula_units(2).plan().unwrap().natoms(), 10);
    }

    #[test]
    fn impossible_density_names_the_packing_fraction() {
        let e = PackRequest::new(comp("Li2Si2O5"))
            .atoms(999)
            .density(6.0)
            .tolerance(2.5)
            .plan()
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, PackError::TooDense { .. }), "{msg}");
        assert!(msg.contains("packing fraction of 1.77"), "{msg}");
        assert!(msg.contains("0.64"), "{msg}");
    }

    #[test]
    fn invalid_values_are_refused() {
        let ok = PackRequest::new(comp("SiO2")).atoms(30).density(2.2);
        assert!(ok.clone().plan().is_ok());
        for bad in [
            ok.clone().density(-1.0),
            ok.clone().density(f64::NAN),
            ok.clone().density(1e-320),
            ok.clone().volume(0.0),
            ok.clone().tolerance(f64::INFINITY),
            ok.clone().tolerance(-2.0),
            ok.clone().atoms(0),
            ok.clone().time_limit(-1.0),
            PackRequest::new(comp("SiO2")).density(2.2),
            PackRequest::new(comp("SiO2")).atoms(30),
            PackRequest::from_counts([]).volume(100.0),
            PackRequest::from_counts([(Element::from_symbol("O").unwrap(), 2)])
                .atoms(2)
                .volume(100.0),
        ] {
            assert!(matches!(bad.plan(), Err(PackError::InvalidRequest(_))), "{bad:?}");
        }
        let o = Element::from_symbol("O").unwrap();
        let neg = ok.pair_distances(PairDistances::new().with(o, o, -1.0));
        assert!(neg.plan().is_err());
    }

    #[test]
    fn tiny_cells_are_refused() {
        // One atom in a 1.5 Å cubic cell sits 1.5 Å from its own image.
        let li = Element::from_symbol("Li").unwrap();
        let e = PackRequest::from_counts([(li, 1)])
            .lattice(Lattice::cubic(1.5).unwrap())
            .plan()
            .unwrap_err();
        assert!(matches!(e, PackError::CellTooSmall { .. }), "{e}");
    }

    #[test]
    fn requests_round_trip_through_json() {
        let o = Element::from_symbol("O").unwrap();
        let r = PackRequest::new(comp("Li2Si2O5"))
            .atoms(99)
            .density(2.3)
            .tolerance(1.9)
            .seed(7)
            .pair_distances(PairDistances::new().with(o, o, 2.4));
        let text = serde_json::to_string(&r).unwrap();
        let back: PackRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
    }
}
