//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `amorph-sisso`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value in the feature table or the target is NaN or infinite.
    #[error("non-finite value in {column} at row {row}")]
    NonFinite {
        /// The column (feature name, or `target`).
        column: String,
        /// Row index, from 0.
        row: usize,
    },
    /// A primary feature (or the target) has the same value in every row.
    #[error("column {0} is constant: it carries no information (drop it)")]
    ConstantColumn(String),
    /// A primary feature has no unit, or units were given for a column that is not a feature.
    #[error("missing units: {0}")]
    MissingUnits(String),
    /// A unit string that cannot be parsed.
    #[error("invalid unit '{unit}': {reason}")]
    InvalidUnit {
        /// The string.
        unit: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operator name that is not known.
    #[error("unknown operator '{0}' (known: + - * / ^2 ^3 ^6 ^-1 exp exp- log sqrt cbrt abs, or none)")]
    UnknownOperator(String),
    /// A hyperparameter outside its domain.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Shapes that do not fit together (rows of features and target, columns and names).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Storing the operand levels of the feature space, or the Gram matrix of the ℓ0 search, would
    /// exceed the memory budget.
    #[error(
        "too large: {what} needs {needed_bytes} bytes, more than the budget of {budget_bytes} bytes \
         (lower the complexity, the rung or subs_sis, or raise the budget)"
    )]
    MemoryBudget {
        /// What would not fit.
        what: String,
        /// Bytes needed.
        needed_bytes: u64,
        /// The budget.
        budget_bytes: u64,
    },
    /// Too few usable features or samples for the descriptor dimension asked for.
    #[error("not enough features or samples: {0}")]
    TooFew(String),
    /// An operating-system error while writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
