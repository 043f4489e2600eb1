//! The crate's error type.

/// Everything that can go wrong in `amorph-md`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter outside its domain (negative cutoff, zero timestep, ...).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The force field has no parameters for some element pairs or elements of the structure.
    #[error("force field '{force_field}' does not cover {}", missing.join(", "))]
    NotCovered {
        force_field: String,
        missing: Vec<String>,
    },
    /// An unknown force field, potential or method name.
    #[error("unknown {kind} '{name}' (known: {})", known.join(", "))]
    UnknownName {
        kind: &'static str,
        name: String,
        known: Vec<String>,
    },
    /// A parameter file that cannot be read.
    #[error("{path}: {message}")]
    ParameterFile { path: String, message: String },
    /// The configuration cannot be handled (too small a cell for the cutoff, overlapping atoms...).
    #[error("configuration: {0}")]
    Configuration(String),
    /// The simulation blew up: non-finite energy or forces, an atom moving too far in one step, or an
    /// energy drift beyond the limit.
    #[error("simulation unstable at step {step}: {reason}")]
    Unstable { step: u64, reason: String },
    /// A checkpoint that cannot be written, read or does not match the system.
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: String, message: String },
    /// An external engine behind the i-PI socket failed (no client, disconnect, timeout, garbage,
    /// wrong atom count, non-finite results).
    #[error(transparent)]
    Ipi(#[from] crate::ipi::IpiError),
    /// Errors from amorph-structure (neighbour search, file output).
    #[error(transparent)]
    Structure(#[from] amorph_structure::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
