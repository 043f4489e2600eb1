//! Levenberg–Marquardt nonlinear least squares for a handful of parameters: Marquardt's scaling by
//! column norms (as MINPACK), Nielsen's damping update, steps solved by QR on the augmented system.

use crate::EosError;
use crate::linalg::{Mat, inverse_normal, qr_solve};

/// Convergence settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LmSettings {
    /// Converged when every parameter's step is below `xtol` times the parameter.
    pub xtol: f64,
    /// Converged when the actual and predicted relative reductions of the sum of squares are below it.
    pub ftol: f64,
    /// Converged when every column of the Jacobian is this close to orthogonal to the residuals (0: off,
    /// as in scipy's `leastsq`; a small gradient does not mean converged parameters when they correlate).
    pub gtol: f64,
    /// Evaluations of the model allowed.
    pub max_evaluations: usize,
}

impl Default for LmSettings {
    fn default() -> Self {
        Self {
            xtol: 1e-13,
            ftol: 1e-15,
            gtol: 0.0,
            max_evaluations: 2000,
        }
    }
}

/// A converged fit.
#[derive(Clone, Debug)]
pub(crate) struct LmFit {
    pub params: Vec<f64>,
    pub residuals: Vec<f64>,
    pub ssr: f64,
    pub iterations: usize,
    /// (JᵀJ)⁻¹ at the optimum, `None` when J is rank deficient.
    pub unscaled_covariance: Option<Vec<f64>>,
}

/// `eval(p, residuals, jacobian)` writes y − f(p) into `residuals` and ∂f/∂p into `jacobian` (m × n) and
/// returns false when f is not finite at `p`.
#[allow(clippy::needless_range_loop)] // matrix indices read better
pub(crate) fn levenberg_marquardt(
    model: &str,
    p0: &[f64],
    m: usize,
    settings: LmSettings,
    mut eval: impl FnMut(&[f64], &mut [f64], &mut Mat) -> bool,
) -> Result<LmFit, EosError> {
    let n = p0.len();
    let nonfinite = |p: &[f64]| EosError::NonFinite {
        model: model.to_string(),
        params: p.to_vec(),
    };
    let mut p = p0.to_vec();
    let mut r = vec![0.0; m];
    let mut jac = Mat::zeros(m, n);
    let mut evaluations = 1;
    if !eval(&p, &mut r, &mut jac) {
        return Err(nonfinite(&p));
    }
    let mut ssr: f64 = r.iter().map(|x| x * x).sum();
    let mut diag = vec![0.0f64; n];
    let mut lambda: f64 = 1e-3;
    let mut nu = 2.0;
    let mut r_new = vec![0.0; m];
    let mut jac_new = Mat::zeros(m, n);
    let mut iterations = 0;
    'outer: loop {
        iterations += 1;
        // Column scaling: the largest column norm seen so far (MINPACK's mode 1).
        for (j, d) in diag.iter_mut().enumerate() {
            let norm = jac.data[j * m..(j + 1) * m]
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt();
            *d = d.max(norm);
            if *d == 0.0 {
                *d = 1.0;
            }
        }
        if ssr == 0.0 {
            break;
        }
        // Gradient test: cosine between residuals and each Jacobian column.
        let rnorm = ssr.sqrt();
        let mut gmax: f64 = 0.0;
        for j in 0..n {
            let col = &jac.data[j * m..(j + 1) * m];
            let cn = col.iter().map(|x| x * x).sum::<f64>().sqrt();
            if cn > 0.0 {
                let g = col.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>();
                gmax = gmax.max((g / (cn * rnorm)).abs());
            }
        }
        if gmax <= settings.gtol {
            break;
        }
        loop {
            // Solve [J D⁻¹; √λ I] δ' = [r; 0], δ = D⁻¹ δ'.
            let mut aug = Mat::zeros(m + n, n);
            for j in 0..n {
                for i in 0..m {
                    aug.set(i, j, jac.at(i, j) / diag[j]);
                }
                aug.set(m + j, j, lambda.sqrt());
            }
            let mut rhs = r.clone();
            rhs.resize(m + n, 0.0);
            // With √λ I below, the system has full rank: only non-finite entries make it fail.
            let Some((step_s, _)) = qr_solve(aug, &mut rhs) else {
                return Err(nonfinite(&p));
            };
            // Predicted reduction ‖r‖² − ‖r − J δ‖².
            let mut lin = r.clone();
            for j in 0..n {
                for (i, x) in lin.iter_mut().enumerate() {
                    *x -= jac.at(i, j) / diag[j] * step_s[j];
                }
            }
            let predicted = ssr - lin.iter().map(|x| x * x).sum::<f64>();
            let step: Vec<f64> = step_s.iter().zip(&diag).map(|(s, d)| s / d).collect();
            let step_norm = step_s.iter().map(|x| x * x).sum::<f64>().sqrt();
            let p_norm = p
                .iter()
                .zip(&diag)
                .map(|(x, d)| (x * d) * (x * d))
                .sum::<f64>()
                .sqrt();
            let trial: Vec<f64> = p.iter().zip(&step).map(|(a, b)| a + b).collect();
            evaluations += 1;
            let ok = eval(&trial, &mut r_new, &mut jac_new);
            let ssr_new: f64 = r_new.iter().map(|x| x * x).sum();
            let actual = ssr - ssr_new;
            // Every parameter's step small relative to the parameter itself (a norm over all of them
            // would let a large E0 hide an unconverged B0′).
            let small_step = step
                .iter()
                .zip(&p)
                .zip(&diag)
                .all(|((s, x), d)| s.abs() <= settings.xtol * x.abs().max(1e-6 * p_norm / d))
                || step_norm <= f64::EPSILON * p_norm;
            if ok && ssr_new.is_finite() && predicted > 0.0 && actual / predicted > 1e-4 {
                let rho = actual / predicted;
                lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
                nu = 2.0;
                p = trial;
                std::mem::swap(&mut r, &mut r_new);
                std::mem::swap(&mut jac, &mut jac_new);
                let converged_f = actual <= settings.ftol * ssr && predicted <= settings.ftol * ssr;
                ssr = ssr_new;
                if converged_f || small_step {
                    break 'outer;
                }
                break;
            }
            // Rejected. At the floating-point floor steps stop mattering: that is convergence.
            if small_step || (predicted.abs() <= settings.ftol * ssr && ok) {
                break 'outer;
            }
            lambda *= nu;
            nu *= 2.0;
            if evaluations >= settings.max_evaluations || lambda > 1e20 {
                return Err(EosError::NotConverged {
                    model: model.to_string(),
                    iterations,
                    ssr,
                });
            }
        }
        if evaluations >= settings.max_evaluations {
            return Err(EosError::NotConverged {
                model: model.to_string(),
                iterations,
                ssr,
            });
        }
    }
    // Polish with pure Gauss–Newton steps. Near the optimum the sum of squares stops resolving steps
    // (its rounding, ~ε·Σ|y||r|, exceeds the reduction a step predicts, so the trust test rejects
    // them) while the gradient Jᵀr still points the way: follow it as long as the steps shrink.
    let mut last = f64::INFINITY;
    for _ in 0..20 {
        let mut a = Mat::zeros(m, n);
        for j in 0..n {
            for i in 0..m {
                a.set(i, j, jac.at(i, j) / diag[j]);
            }
        }
        let mut rhs = r.clone();
        let Some((step_s, _)) = (if m >= n { qr_solve(a, &mut rhs) } else { None }) else {
            break;
        };
        let step: Vec<f64> = step_s.iter().zip(&diag).map(|(s, d)| s / d).collect();
        let size = step
            .iter()
            .zip(&p)
            .map(|(s, x)| s.abs() / x.abs().max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max);
        if !(size.is_finite() && size < 0.5 * last && size < 1e-6) {
            break;
        }
        let trial: Vec<f64> = p.iter().zip(&step).map(|(a, b)| a + b).collect();
        if !eval(&trial, &mut r_new, &mut jac_new) {
            break;
        }
        p = trial;
        std::mem::swap(&mut r, &mut r_new);
        std::mem::swap(&mut jac, &mut jac_new);
        ssr = r.iter().map(|x| x * x).sum();
        last = size;
        if size <= f64::EPSILON {
            break;
        }
    }
    if !p.iter().all(|x| x.is_finite()) {
        return Err(nonfinite(&p));
    }
    // Covariance (JᵀJ)⁻¹ = D⁻¹ (J'ᵀJ')⁻¹ D⁻¹ with J' = J D⁻¹ (better conditioned).
    let mut js = Mat::zeros(m, n);
    for j in 0..n {
        for i in 0..m {
            js.set(i, j, jac.at(i, j) / diag[j]);
        }
    }
    let unscaled_covariance = if m >= n {
        qr_solve(js, &mut vec![0.0; m]).map(|(_, rmat)| {
            let mut c = inverse_normal(&rmat, n);
            for i in 0..n {
                for j in 0..n {
                    c[i * n + j] /= diag[i] * diag[j];
                }
            }
            c
        })
    } else {
        None
    };
    Ok(LmFit {
        params: p,
        residuals: r,
        ssr,
        iterations,
        unscaled_covariance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock as least squares: r = (10 (y − x²), 1 − x), minimum at (1, 1).
    #[test]
    fn rosenbrock_converges() {
        let fit = levenberg_marquardt("rosenbrock", &[-1.2, 1.0], 2, LmSettings::default(), |p, r, j| {
            // residual = y - f with y = 0: f = -(10(y-x²)), -(1-x).
            r[0] = 10.0 * (p[1] - p[0] * p[0]);
            r[1] = 1.0 - p[0];
            j.set(0, 0, 20.0 * p[0]);
            j.set(0, 1, -10.0);
            j.set(1, 0, 1.0);
            j.set(1, 1, 0.0);
            true
        })
        .unwrap();
        assert!((fit.params[0] - 1.0).abs() < 1e-10 && (fit.params[1] - 1.0).abs() < 1e-10);
    }

    #[test]
    fn running_out_of_evaluations_is_a_typed_error() {
        let settings = LmSettings {
            max_evaluations: 4,
            ..LmSettings::default()
        };
        let err = levenberg_marquardt("rosenbrock", &[-1.2, 1.0], 2, settings, |p, r, j| {
            r[0] = 10.0 * (p[1] - p[0] * p[0]);
            r[1] = 1.0 - p[0];
            j.set(0, 0, 20.0 * p[0]);
            j.set(0, 1, -10.0);
            j.set(1, 0, 1.0);
            j.set(1, 1, 0.0);
            true
        });
        assert!(matches!(err, Err(EosError::NotConverged { .. })), "{err:?}");
    }

    #[test]
    fn a_model_that_leaves_its_domain_is_a_typed_error() {
        let err = levenberg_marquardt("ln", &[-1.0], 1, LmSettings::default(), |p, r, j| {
            r[0] = 1.0 - p[0].ln();
            j.set(0, 0, 1.0 / p[0]);
            r[0].is_finite()
        });
        assert!(matches!(err, Err(EosError::NonFinite { .. })), "{err:?}");
    }
}
