//! The crate's error type.

/// Everything that can go wrong in `amorph-diffusion`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter outside its domain (non-positive time step, empty selection, fit window outside
    /// the run, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The requested species has no atom in the trajectory.
    #[error("species {species} is absent from the trajectory (present: {present})")]
    SpeciesAbsent { species: String, present: String },
    /// Too few frames, lags or atoms for the requested analysis.
    #[error("too little data: {0}")]
    TooShort(String),
    /// Drift removal relative to the framework was asked for but every atom is selected.
    #[error(
        "no framework atoms to define the drift: every atom belongs to the analysed selection \
         (choose Drift::CentreOfMass or Drift::None)"
    )]
    NoFramework,
    /// An Arrhenius table that cannot be fitted: non-positive or non-finite values, temperatures
    /// not strictly monotonic, too few rows.
    #[error("Arrhenius data: {0}")]
    Arrhenius(String),
    /// A table file (CSV) that cannot be parsed: the path, the 1-based line and why.
    #[error("{path}:{line}: {message}")]
    Table {
        path: String,
        line: usize,
        message: String,
    },
    /// A fit that produced a non-finite or undefined result.
    #[error("fit failed: {0}")]
    Fit(String),
    /// Errors from amorph-structure (reading trajectories, writing files).
    #[error(transparent)]
    Structure(#[from] amorph_structure::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
