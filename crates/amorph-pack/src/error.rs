//! The crate's error type.

/// Everything that can go wrong when packing. Every variant says why, with the numbers that decide it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// A request that is incomplete or holds a value outside its domain (negative density, NaN
    /// tolerance, no atoms, ...).
    #[error("invalid pack request: {0}")]
    InvalidRequest(String),

    /// The number of atoms asked for is not a whole number of formula units.
    #[error(
        "{atoms} atoms is not a whole number of {formula} formula units ({per_unit} atoms each); \
         the nearest whole numbers are {below} and {above} atoms: ask for one of those, give formula \
         units instead, or allow rounding to the nearest (round_to_formula_units, `--round`)"
    )]
    NotWholeFormulaUnits {
        /// Atoms asked for.
        atoms: usize,
        /// Reduced formula.
        formula: String,
        /// Atoms per reduced formula unit.
        per_unit: usize,
        /// Nearest whole number of formula units below, in atoms (0 when there is none).
        below: usize,
        /// Nearest whole number of formula units above, in atoms.
        above: usize,
    },

    /// A composition with fractional amounts that the number of atoms asked for cannot match exactly.
    #[error(
        "{atoms} atoms cannot have the composition {formula} exactly (the closest counts are \
         {closest}); {hint}, or allow rounding (round_to_formula_units, `--round`) to accept the \
         closest counts"
    )]
    InexactComposition {
        /// Atoms asked for.
        atoms: usize,
        /// The composition as written.
        formula: String,
        /// The largest-remainder apportionment, e.g. `"Li 10, La 10, Ti 20, O 61"`.
        closest: String,
        /// Which numbers of atoms would match exactly.
        hint: String,
    },

    /// The request implies a hard-sphere packing fraction no random packing reaches.
    #[error(
        "too dense to pack: {natoms} atoms in {volume:.1} Å³ ({density:.4} g/cm³) with minimum \
         distances {distances} fill a hard-sphere packing fraction of {fraction:.3}, above {limit:.2}, \
         the random close packing (jamming) limit of equal spheres; at these distances the density \
         must stay below about {max_density:.3} g/cm³"
    )]
    TooDense {
        /// Number of atoms.
        natoms: usize,
        /// Cell volume, Å³.
        volume: f64,
        /// Mass density, g/cm³.
        density: f64,
        /// The minimum distances, as text (`"2.5 Å"` or per pair).
        distances: String,
        /// Σ (π/6) dᵢ³ / V with dᵢ a lower bound on each atom's exclusion diameter.
        fraction: f64,
        /// The limit used.
        limit: f64,
        /// The density at which the fraction would equal the limit, g/cm³.
        max_density: f64,
    },

    /// The cell is so small that an atom would sit closer than its minimum distance to its own
    /// periodic image.
    #[error(
        "cell too small: a {element} atom is {translation:.4} Å from its own periodic image, closer \
         than the {element}–{element} minimum distance {required} Å; use more atoms or a larger cell"
    )]
    CellTooSmall {
        /// The element whose self distance is violated.
        element: String,
        /// Length of the shortest lattice translation, Å.
        translation: f64,
        /// The required distance, Å.
        required: f64,
    },

    /// The overlap minimisation ran out of its iteration or time budget.
    #[error(
        "could not reach the minimum distances within the budget ({iterations} iterations, \
         {seconds:.1} s) at packing fraction {fraction:.3}: {overlaps} pairs are still too close, the \
         closest {pair} at {closest:.4} Å where {required} Å is required (the best closest pair \
         reached {best_ratio:.4} of its distance); lower the density or the tolerance, or raise \
         max_iterations"
    )]
    NotConverged {
        /// Relaxation iterations run.
        iterations: usize,
        /// Wall time spent, s.
        seconds: f64,
        /// The packing fraction of the request.
        fraction: f64,
        /// Pairs closer than their minimum distance at the best state reached.
        overlaps: usize,
        /// The pair with the smallest distance/required ratio, e.g. `"Li–O"`.
        pair: String,
        /// Its distance, Å.
        closest: f64,
        /// Its required distance, Å.
        required: f64,
        /// The largest closest-pair ratio distance/required reached at any iteration.
        best_ratio: f64,
    },

    /// The final independent check found a pair closer than allowed (a bug: please report it).
    #[error(
        "internal error: the final check found atoms {i} ({a}) and {j} ({b}) {distance:.6} Å apart, \
         closer than the required {required} Å"
    )]
    Verification {
        /// First atom (index in the returned order).
        i: usize,
        /// Second atom.
        j: usize,
        /// Element of `i`.
        a: String,
        /// Element of `j`.
        b: String,
        /// Their distance, Å.
        distance: f64,
        /// Required distance, Å.
        required: f64,
    },

    /// An error from `amorph-structure` (building the cell or the structure).
    #[error(transparent)]
    Structure(#[from] amorph_structure::Error),
}

/// `Result` with this crate's [`PackError`].
pub type Result<T, E = PackError> = std::result::Result<T, E>;
