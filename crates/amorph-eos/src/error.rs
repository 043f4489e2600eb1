//! The crate's error type.

// Field names carry their units (`volume_A3`), also inside the code thiserror generates.
#![allow(non_snake_case)]

/// Everything that can go wrong in amorph-eos: bad data, fits that do not converge, volume searches that
/// fail. A fit never returns a number it does not stand behind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(non_snake_case)]
pub enum EosError {
    /// Not enough data points for the model.
    #[error("{model} needs at least {needed} data points, got {got}")]
    TooFewPoints {
        /// The model's name.
        model: String,
        /// Points needed.
        needed: usize,
        /// Points given.
        got: usize,
    },
    /// A data point is unusable (non-finite, non-positive volume, lengths differ, repeated volumes).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// The initial guess cannot be made (pymatgen's parabola test, MPMorph's quadratic P(V)).
    #[error("no initial guess: {0}")]
    InitialGuess(String),
    /// Levenberg–Marquardt stopped without meeting its convergence tests.
    #[error(
        "the {model} fit did not converge in {iterations} iterations (sum of squared residuals {ssr:.6e})"
    )]
    NotConverged {
        /// The model's name.
        model: String,
        /// Iterations made.
        iterations: usize,
        /// Sum of squared residuals at the last accepted point.
        ssr: f64,
    },
    /// The model evaluated to a non-finite number (parameters left the physical domain).
    #[error("the {model} fit left the model's domain (non-finite values at parameters {params:?})")]
    NonFinite {
        /// The model's name.
        model: String,
        /// The offending parameters.
        params: Vec<f64>,
    },
    /// A polynomial E(V) has no minimum where one is looked for.
    #[error("no energy minimum: {0}")]
    NoMinimum(String),
    /// A model name that is not known.
    #[error(
        "unknown model {0:?}: expected one of birch_murnaghan, birch_murnaghan4, murnaghan, vinet, \
         poirier_tarantola (pourier_tarantola), birch, deltafactor, numerical_eos, polynomial"
    )]
    UnknownModel(String),
    /// Volume search: pressure does not decrease with volume.
    #[error(
        "pressure does not decrease with volume (P(V) slope {slope_GPa_per_A3:.4e} GPa/Å³ over volumes \
         {volumes_A3:?} Å³ with pressures {pressures_GPa:?} GPa): lengthen the probes or widen the range"
    )]
    NonMonotonicPressure {
        /// Probed volumes, Å³ (sorted).
        volumes_A3: Vec<f64>,
        /// Mean pressures there, GPa.
        pressures_GPa: Vec<f64>,
        /// Least-squares slope dP/dV, GPa/Å³.
        slope_GPa_per_A3: f64,
    },
    /// Volume search: the zero-pressure volume stays outside the probed range after every edge probe.
    #[error(
        "no zero-pressure volume in the probed range {min_A3:.4}–{max_A3:.4} Å³ after {edge_probes} edge \
         probes (the fit puts it at {estimate_A3:.4} Å³)"
    )]
    NoRootInRange {
        /// Smallest probed volume, Å³.
        min_A3: f64,
        /// Largest probed volume, Å³.
        max_A3: f64,
        /// Edge probes made.
        edge_probes: usize,
        /// The last estimate of the zero-pressure volume, Å³.
        estimate_A3: f64,
    },
    /// Volume search: no accepted volume within the allowed number of rescales.
    #[error(
        "volume search did not converge in {rescales} rescales: last volume {last_volume_A3:.4} Å³ at \
         {last_pressure_GPa:.4} GPa (target |P| < {tolerance_GPa} GPa); the search history has every probe"
    )]
    SearchNotConverged {
        /// Rescales made.
        rescales: usize,
        /// Volume of the last probe, Å³.
        last_volume_A3: f64,
        /// Its mean pressure, GPa.
        last_pressure_GPa: f64,
        /// The pressure tolerance, GPa.
        tolerance_GPa: f64,
    },
    /// Volume search: invalid settings, or a history that does not belong to these settings.
    #[error("volume search: {0}")]
    Search(String),
    /// Volume search: the probe (an MD run, typically) failed.
    #[error("probe {index} at {volume_A3:.4} Å³ failed")]
    Probe {
        /// Index of the probe in the history.
        index: usize,
        /// Its volume, Å³.
        volume_A3: f64,
        /// What the probe reported.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Reading or writing a history file.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        message: String,
    },
}
