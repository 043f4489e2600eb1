//! # amorph-sisso
//!
//! SISSO (sure independence screening and sparsifying operator; Ouyang et al., *Phys. Rev. Mater.*
//! **2**, 083802 (2018)) on a plain table of numbers: it builds symbolic features from primary
//! features with physical units, screens the ones most correlated with the target, and finds the
//! best linear models of 1, 2, ... descriptors by exhaustive ℓ0 search.
//!
//! - [`Dataset`]: the primaries (an `ndarray` matrix, rows = samples) with names and [`Unit`]s,
//!   and the target; NaN, infinities, constant columns and missing units are typed [`Error`]s.
//! - [`SissoParams`]: the operator set ([`Op`]: `+ − × ÷ ^2 ^3 ^6 ^-1 exp exp- log sqrt cbrt abs`),
//!   the feature complexity (operators per feature, SISSO's `fcomplexity`), the `rung` (nesting
//!   depth), SISSO's value bounds `fmax_min`/`fmax_max`, the duplicate tolerance, the memory budget,
//!   `desc_dim`, `subs_sis` and the number of models kept — checked once ([`SissoParams::check`]),
//!   linfa-style, into [`SissoValidParams`].
//! - [`Fit`]: the best [`Model`]s of every dimension, as readable formulas with units, their
//!   coefficients, RMSE and MaxAE; a model predicts on new data and is serde (JSON) data.
//! - [`SissoValidParams::fit_with_progress`] reports each [`Stage`] (construction, screening,
//!   ℓ0 search) for a progress display.
//!
//! ## How
//! **Units.** An operator is applied only where units allow it: `+`/`−` need equal units,
//! `exp`, `exp-` and `log` need dimensionless arguments, powers and roots scale the exponents (a root
//! that would leave an exponent outside twelfths is not built).
//! **Construction.** Features of complexity `c` combine features of lower complexity (unary on
//! `c − 1`, binary on complexities summing to `c − 1`; `a − b` and `b − a` count once, `a ÷ b` and
//! `b ÷ a` twice). Features that are not finite, outside the value bounds or constant are dropped,
//! and so are features equal or perfectly correlated (`1 − |r| < dedup_tol`) to a simpler one. Every
//! level below the top complexity is stored (it serves as operands) within the memory budget; the
//! top level is streamed: evaluated task by task in parallel (rayon) and screened on the fly.
//! **SIS.** At dimension `d`, the `subs_sis` new features most correlated (|Pearson r|) with the
//! residual of the best `(d − 1)`-dimensional model (the target at `d = 1`).
//! **ℓ0.** All `d`-combinations of the features screened so far, least squares with intercept,
//! through a Gram matrix and Cholesky factors updated along the enumeration; the best `n_models`
//! are refitted by Householder QR. Ties are broken by a fixed order, so results do not depend on
//! the number of threads.
//!
//! **Duplicates.** Primaries are kept as given. Within one SIS subspace, features equal up to
//! `dedup_tol` count once (the simplest is kept), as in SISSO; models equal up to rounding are ranked
//! by the screening order of their features.
//!
//! ## Multi-task SISSO
//! [`Dataset::with_tasks`] assigns every row to a task (Ouyang et al., *J. Phys.: Mater.* **2**,
//! 024002 (2019); SISSO's `ntask`/`nsample`): a model's descriptors are shared by all tasks, each
//! task has its own coefficients and intercept ([`Model::tasks`], a [`TaskFit`] per task), and new
//! rows are predicted with their task ([`Model::predict_tasks`]). As in SISSO 3.x:
//! - **SIS** scores a feature by `sqrt(Σ_t (ẑ_t·r_t)²) / ‖r‖`, with `ẑ_t` the feature centred and
//!   scaled to unit norm within task `t` and `r_t` the task's rows of the residual, centred within
//!   the task (SISSO's quadratic mean of the tasks' scores, normalised; `|r|` for one task).
//! - **ℓ0** fits every combination task by task (a Gram matrix and Cholesky factors per task) and
//!   ranks by the combined error of [`TaskWeighting`]: by default SISSO's `task_weighting=1`,
//!   `RMSE = sqrt(Σ_t RMSE_t² / T)` (each task counts equally), or `task_weighting=2`,
//!   `sqrt(Σ_t SSE_t / N)` (each sample counts equally); MaxAE is the largest of the tasks'. A
//!   combination that is collinear in some task (e.g. a feature constant within a task) is skipped.
//!   The residual for the next dimension is that of the per-task fits.
//!
//! Every task needs at least 3 rows; dimensions `d` with `d + 1 ≥` the smallest task's rows are not
//! fitted. A dataset with one task is exactly the single-task fit (same models, bit for bit).
//! `tests/multitask.rs` compares with a NumPy brute force (`validation/sisso_multitask.py`).
//!
//! With no operators (the mode of the published model of Zheng et al. 2024, whose SISSO input
//! applied none) and `subs_sis` at least the number of features, the search is exhaustive over all
//! subsets of the primaries.
//!
//! ## Checks
//! `tests/brute_force.rs`: with no operators, the ranked models and coefficients equal (to 1e-10) an
//! independent brute force over every subset (nalgebra SVD) on tables of 42 and 45 features up to
//! dimension 4, bit-identical on 1, 2 and 3 threads. `tests/planted.rs`: planted formulas with noise
//! (`y = 2 x1/x2² − 0.5 exp(−x3) + 1`, and one- and three-term ones) recovered with their units.
//! `tests/zheng2024.rs`: SISSO 3.3's own run behind the published model (792 samples, 43 features)
//! reproduced: the same SIS subspaces and the same 320 ranked models, coefficients to 1e-8.
//! `tests/torchsisso.rs`: the same best models as TorchSISSO with and without a round of operators.
//! A property test checks that no unit-inconsistent feature is generated; `tests/bad_inputs.rs` the
//! typed errors.
//!
//! Cost: the stored levels take `features × samples × 8` bytes (complexity 2 of 43 primaries with
//! the 11 operators: ~5 000 features stored; complexity 3: ~0.7 million, a few GB); the streamed level
//! costs time, not memory (complexity 3: ~2 × 10⁸ features per screening). `docs/benchmarks.md` has
//! timings.
//!
//! ```
//! use amorph_sisso::{Dataset, Op, SissoParams, Unit};
//! use ndarray::{Array1, Array2};
//!
//! // y = 2 x1 / x2² + 1, with x1 in eV and x2 in Å.
//! let n = 40;
//! let x = Array2::from_shape_fn((n, 3), |(i, j)| 1.0 + ((i * (j + 2) * 7919) % 97) as f64 / 50.0);
//! let y = Array1::from_shape_fn(n, |i| 2.0 * x[[i, 0]] / (x[[i, 1]] * x[[i, 1]]) + 1.0);
//! let data = Dataset::new(x, y, vec!["x1".into(), "x2".into(), "x3".into()])?
//!     .with_units(vec![Unit::parse("eV")?, Unit::parse("Å")?, Unit::parse("Å")?])?
//!     .with_target("E", Unit::parse("eV Å^-2")?);
//! let fit = SissoParams::new()
//!     .operators(Op::parse_list("*,/,^2,exp-")?)
//!     .max_complexity(2)
//!     .desc_dim(1)
//!     .subs_sis(20)
//!     .check()?
//!     .fit(&data)?;
//! let best = fit.best(1).unwrap();
//! // Equivalent forms are one feature; whichever is found first is reported.
//! assert!(["(x1/x2^2)", "((x1/x2)/x2)"].contains(&best.descriptors[0].formula.as_str()));
//! assert_eq!(best.descriptors[0].unit, "eV Å^-2");
//! assert!((best.coefficients[0] - 2.0).abs() < 1e-10 && (best.intercept - 1.0).abs() < 1e-10);
//! let again = best.predict(ndarray::array![[2.0, 2.0, 1.0]].view())?;
//! assert!((again[0] - 2.0).abs() < 1e-12);
//! # Ok::<(), amorph_sisso::Error>(())
//! ```

mod data;
mod error;
mod expr;
mod fit;
mod l0;
mod model;
mod space;
mod units;

pub use data::Dataset;
pub use error::{Error, Result};
pub use expr::{Expr, Op};
pub use fit::{Fit, SissoParams, SissoValidParams, SpaceSummary, Stage, TaskWeighting};
pub use model::{Descriptor, Model, TaskFit};
pub use units::Unit;

/// The `ndarray` this crate takes and returns, re-exported so that callers use the same version.
pub use ndarray;
