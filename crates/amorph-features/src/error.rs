//! The crate's error type and the typed "undefined" result of a feature.

use std::fmt;
use std::path::PathBuf;

use amorph_structure::Element;
use serde::Serialize;

/// Everything that can go wrong in `amorph-features` (as opposed to a feature that is merely undefined
/// for a structure, see [`Undefined`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from `amorph-structure` (neighbour search, composition, file reading).
    #[error(transparent)]
    Structure(#[from] amorph_structure::Error),
    /// An option outside its domain (negative cutoff, zero resolution, unknown convention, ...).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A feature name that is not in the registry.
    #[error("unknown feature '{0}' (see `amorph features --list`)")]
    UnknownFeature(String),
    /// Frames of a trajectory or rows of a table that do not fit together.
    #[error("invalid input: {0}")]
    InvalidInput(String),
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

/// Why a feature has no value for a structure: a typed reason, never a silent zero or NaN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Undefined {
    /// The structure has no atoms.
    EmptyStructure,
    /// The feature needs the mobile species (e.g. Li) and the structure has none.
    NoMobile {
        /// The mobile species asked for.
        mobile: Element,
    },
    /// The feature needs atoms other than the mobile species and there are none.
    NoSublattice,
    /// No element present has an electronegativity, so there is no anion.
    NoAnion,
    /// An elemental property is not tabulated for an element present.
    MissingData {
        /// The element.
        element: Element,
        /// The property, e.g. `"shear modulus"`.
        property: &'static str,
    },
    /// An average over bonds (or atoms) that has nothing to average.
    NoBonds {
        /// What was to be averaged, e.g. `"Li–X bonds within the cutoff"`.
        what: &'static str,
    },
    /// A sample standard deviation of fewer than two values.
    TooFewValues {
        /// What the values are.
        what: &'static str,
        /// How many there are.
        n: usize,
    },
    /// A ratio whose denominator is zero.
    ZeroDenominator {
        /// The denominator, e.g. `"SBI"`.
        what: &'static str,
    },
    /// `T` and `1/kBT` need a temperature and none was given.
    NoTemperature,
    /// A structural feature asked of a bare composition.
    NeedsStructure,
    /// A feature this one is built from is undefined.
    Depends {
        /// The feature it depends on.
        feature: &'static str,
        /// Why that one is undefined.
        reason: Box<Undefined>,
    },
    /// A feature of a user's own [`Featurizer`](crate::Featurizer) is undefined for its own reason.
    Other(String),
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undefined::EmptyStructure => write!(f, "the structure has no atoms"),
            Undefined::NoMobile { mobile } => write!(f, "no {mobile} in the structure"),
            Undefined::NoSublattice => write!(f, "no atoms other than the mobile species"),
            Undefined::NoAnion => write!(f, "no element with an electronegativity, so no anion"),
            Undefined::MissingData { element, property } => {
                write!(f, "no {property} tabulated for {element}")
            }
            Undefined::NoBonds { what } => write!(f, "no {what}"),
            Undefined::TooFewValues { what, n } => {
                write!(f, "a standard deviation needs two {what}, there are {n}")
            }
            Undefined::ZeroDenominator { what } => write!(f, "{what} is zero"),
            Undefined::NoTemperature => write!(f, "no temperature given"),
            Undefined::NeedsStructure => write!(f, "a structural feature needs a structure, not a formula"),
            Undefined::Depends { feature, reason } => write!(f, "{feature} is undefined: {reason}"),
            Undefined::Other(s) => f.write_str(s),
        }
    }
}

/// The value of one feature for one structure: a number in the feature's unit, or why there is none.
pub type Value = std::result::Result<f64, Undefined>;
