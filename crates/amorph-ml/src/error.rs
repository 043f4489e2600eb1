//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `amorph-ml`.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// A hyperparameter is out of its range; `check()` refuses it.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name (scikit-learn/XGBoost spelling).
        name: String,
        /// The offending value, as given.
        value: String,
        /// What the valid range is.
        reason: String,
    },
    /// A parameter name that the model does not have.
    #[error("unknown parameter {name} for {model}")]
    UnknownParameter {
        /// The name given.
        name: String,
        /// The model kind.
        model: String,
    },
    /// Shapes of the inputs do not agree.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// No rows to fit or predict.
    #[error("empty data: {0}")]
    Empty(String),
    /// A NaN or infinite value in an input matrix or target.
    #[error("non-finite value {value} in {what} at row {row}, column {column}")]
    NonFinite {
        /// `features` or `target`.
        what: &'static str,
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based).
        column: usize,
        /// The value.
        value: f64,
    },
    /// A NaN, infinite or missing value in a CSV file (no missing-value policy chosen).
    #[error(
        "{path}:{line}: column {column}: value {value:?} is missing or not finite (choose a missing-value policy to drop such rows)"
    )]
    CsvNonFinite {
        /// File.
        path: PathBuf,
        /// Line number (1-based, the header is line 1).
        line: usize,
        /// Column name.
        column: String,
        /// The text found.
        value: String,
    },
    /// A malformed CSV file.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A column name that the table does not have.
    #[error("{path}: unknown column {name:?} (columns: {available})")]
    UnknownColumn {
        /// File (or `<table>`).
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The columns present, comma-separated.
        available: String,
    },
    /// The target is constant, so R² and a regression are meaningless.
    #[error("the target is constant ({0}); nothing to learn")]
    ConstantTarget(f64),
    /// More folds than rows (or fewer than two folds).
    #[error("cannot make {folds} folds from {rows} rows")]
    TooFewRows {
        /// Rows available.
        rows: usize,
        /// Folds asked for.
        folds: usize,
    },
    /// A log target transform on a target that is not positive.
    #[error("log transform needs a positive target; row {row} has {value}")]
    NonPositiveTarget {
        /// Row index.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A model file or foreign model that cannot be used.
    #[error("model: {0}")]
    Model(String),
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// `Result` with [`MlError`].
pub type Result<T, E = MlError> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &str, value: impl ToString, reason: &str) -> MlError {
    MlError::InvalidParameter {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// Write `bytes` to `path` atomically: a temporary file beside it, then a rename.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let io = |source| MlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
