//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `amorph-structure`.
///
/// Parse errors carry the file and the 1-based line so that a user can open the file at the fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A symbol that is not an element H–Pu (case-sensitive, as pymatgen).
    #[error("unknown element symbol '{0}'")]
    UnknownElement(String),
    /// A formula that cannot be parsed or describes no atoms.
    #[error("invalid composition '{formula}': {reason}")]
    Composition { formula: String, reason: String },
    /// A singular, non-finite or left-handed-degenerate cell.
    #[error("invalid lattice: {0}")]
    Lattice(String),
    /// Inconsistent structure or trajectory data (length mismatch, NaN coordinates, ...).
    #[error("invalid structure: {0}")]
    Structure(String),
    /// A function argument outside its domain (negative cutoff, zero bins, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A malformed file: the path, the 1-based line (0 when the fault is not on one line) and why.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The file's format could not be told from its name or content.
    #[error("{}: cannot tell the file format from the name or the content ({hint})", path.display())]
    UnknownFormat { path: PathBuf, hint: String },
    /// An operating-system error while reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
