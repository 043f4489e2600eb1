//! Fitting E(V) and P(V) data.

use serde::{Deserialize, Serialize};

use crate::dual::{Dual, Real};
use crate::lm::{LmFit, LmSettings, levenberg_marquardt};
use crate::models::{EnergyModel, PressureModel, energy, pressure};
use crate::polynomial::{
    Poly, basis, delta_factor_fit, delta_factor_params, minimum_of_polynomial, numerical_eos,
};
use crate::{EV_PER_A3_IN_GPA, EosError};

/// How well a fit describes its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goodness {
    /// Number of data points.
    pub n_points: usize,
    /// Degrees of freedom: points − fitted parameters (0 for an exact fit).
    pub dof: usize,
    /// Data − fit at each point, in the data's unit (eV or GPa), input order.
    pub residuals: Vec<f64>,
    /// Sum of squared residuals.
    pub ssr: f64,
    /// Root-mean-square residual, sqrt(ssr / n).
    pub rmse: f64,
    /// Coefficient of determination, 1 − ssr / Σ(y − ȳ)².
    pub r_squared: f64,
}

impl Goodness {
    fn new(y: &[f64], residuals: Vec<f64>, parameters: usize) -> Self {
        let n = y.len();
        let mean = y.iter().sum::<f64>() / n as f64;
        let sst: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
        let ssr: f64 = residuals.iter().map(|r| r * r).sum();
        Self {
            n_points: n,
            dof: n.saturating_sub(parameters),
            residuals,
            ssr,
            rmse: (ssr / n as f64).sqrt(),
            r_squared: if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN },
        }
    }
}

/// Standard errors of E(V) fit parameters: sqrt of the diagonal of s²(JᵀJ)⁻¹, s² = ssr/dof (what
/// scipy's `curve_fit` reports with `absolute_sigma=False`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct EnergyStdErrors {
    /// Of V0, Å³.
    pub v0_A3: f64,
    /// Of E0, eV.
    pub e0_eV: f64,
    /// Of B0, GPa.
    pub b0_GPa: f64,
    /// Of B0′.
    pub b1: f64,
    /// Of B0″, 1/GPa (4th-order Birch–Murnaghan only).
    pub b2_per_GPa: Option<f64>,
}

/// The fitted curve, for evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Curve {
    /// Analytic model parameters in pymatgen's order and units: E0 eV, B0 eV/Å³, B0′, V0 Å³ (, B0″ Å³/eV).
    Analytic { parameters: Vec<f64> },
    /// A polynomial in V.
    Polynomial { poly: Poly },
    /// A polynomial in V^(-2/3).
    DeltaFactor { poly: Poly },
}

/// A fitted E(V) equation of state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct EnergyFit {
    /// The model.
    pub model: EnergyModel,
    /// Equilibrium (minimum-energy) volume V0, Å³.
    pub v0_A3: f64,
    /// Minimum energy E0, eV.
    pub e0_eV: f64,
    /// Bulk modulus at V0, GPa.
    pub b0_GPa: f64,
    /// Its pressure derivative B0′ (dimensionless).
    pub b1: f64,
    /// B0″, 1/GPa (4th-order Birch–Murnaghan only).
    pub b2_per_GPa: Option<f64>,
    /// Standard errors when there are more points than parameters: from s²(JᵀJ)⁻¹ for the analytic
    /// models, by the delta method for `deltafactor` and `polynomialN`; `None` for `numerical_eos` (a
    /// weighted average of fits has no covariance).
    pub stderr: Option<EnergyStdErrors>,
    /// Residuals (eV) and summary statistics.
    pub goodness: Goodness,
    /// Levenberg–Marquardt iterations (0 for the linear polynomial fits).
    pub iterations: usize,
    curve: Curve,
}

impl EnergyFit {
    /// The fitted energy at `volume_A3`, eV.
    #[allow(non_snake_case)]
    pub fn energy_eV(&self, volume_A3: f64) -> f64 {
        match &self.curve {
            Curve::Analytic { parameters } => energy(self.model, volume_A3, parameters),
            Curve::Polynomial { poly } => poly.eval(volume_A3)[0],
            Curve::DeltaFactor { poly } => poly.eval(volume_A3.powf(-2.0 / 3.0))[0],
        }
    }

    /// The fitted pressure −dE/dV at `volume_A3`, GPa.
    #[allow(non_snake_case)]
    pub fn pressure_GPa(&self, volume_A3: f64) -> f64 {
        let de_dv = match &self.curve {
            Curve::Analytic { parameters } => {
                let p: Vec<Dual<1>> = parameters.iter().map(|x| Dual::cst(*x)).collect();
                energy(self.model, Dual::<1>::var(volume_A3, 0), &p).d[0]
            }
            Curve::Polynomial { poly } => poly.eval(volume_A3)[1],
            Curve::DeltaFactor { poly } => {
                poly.eval(volume_A3.powf(-2.0 / 3.0))[1] * (-2.0 / 3.0) * volume_A3.powf(-5.0 / 3.0)
            }
        };
        -de_dv * EV_PER_A3_IN_GPA
    }

    /// The bulk modulus B0 in eV/Å³ (pymatgen's `b0`).
    #[allow(non_snake_case)]
    pub fn b0_eV_per_A3(&self) -> f64 {
        self.b0_GPa / EV_PER_A3_IN_GPA
    }
}

/// Standard errors of P(V) fit parameters (see [`EnergyStdErrors`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct PressureStdErrors {
    /// Of V0, Å³.
    pub v0_A3: f64,
    /// Of B0, GPa.
    pub b0_GPa: f64,
    /// Of B0′.
    pub b1: f64,
}

/// A fitted P(V) equation of state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct PressureFit {
    /// The model.
    pub model: PressureModel,
    /// Zero-pressure volume V0, Å³.
    pub v0_A3: f64,
    /// Bulk modulus at V0, GPa.
    pub b0_GPa: f64,
    /// Its pressure derivative B0′.
    pub b1: f64,
    /// Standard errors (more points than the 3 parameters; `None` for an exact fit).
    pub stderr: Option<PressureStdErrors>,
    /// Residuals (GPa) and summary statistics.
    pub goodness: Goodness,
    /// Levenberg–Marquardt iterations.
    pub iterations: usize,
}

impl PressureFit {
    /// The fitted pressure at `volume_A3`, GPa.
    #[allow(non_snake_case)]
    pub fn pressure_GPa(&self, volume_A3: f64) -> f64 {
        pressure(self.model, volume_A3, &[self.v0_A3, self.b0_GPa, self.b1])
    }
}

fn check_data(
    model: &str,
    volumes: &[f64],
    values: &[f64],
    what: &str,
    needed: usize,
) -> Result<(), EosError> {
    if volumes.len() != values.len() {
        return Err(EosError::InvalidData(format!(
            "{} volumes but {} {what}",
            volumes.len(),
            values.len()
        )));
    }
    for (i, (v, y)) in volumes.iter().zip(values).enumerate() {
        if !(v.is_finite() && *v > 0.0) {
            return Err(EosError::InvalidData(format!(
                "point {}: volume {v} Å³ is not positive and finite",
                i + 1
            )));
        }
        if !y.is_finite() {
            return Err(EosError::InvalidData(format!(
                "point {}: {what} {y} is not finite",
                i + 1
            )));
        }
    }
    let mut sorted = volumes.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    if sorted.len() < needed {
        return Err(EosError::TooFewPoints {
            model: model.to_string(),
            needed,
            got: sorted.len(),
        });
    }
    Ok(())
}

/// pymatgen's initial guess: a parabola through E(V); E0, B0 (eV/Å³), B0′ = 4, V0 at its vertex.
///
/// pymatgen's test reads `if not vol_min < v0 and v0 < vol_max`, which Python evaluates as
/// `(not vol_min < v0) and (v0 < vol_max)`: it refuses a vertex at or below the smallest volume only and
/// accepts one beyond the largest. amorph-eos does the same, so that the same data give the same fits, and
/// also refuses a parabola that opens downwards (no minimum, negative B0).
fn parabola_guess(volumes: &[f64], energies: &[f64]) -> Result<[f64; 4], EosError> {
    let (c, s) = basis(volumes);
    let p = Poly::fit(volumes, energies, 2, c, s)?;
    let [gamma, beta, alpha] = [p.coefficients[0], p.coefficients[1], p.coefficients[2]];
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(EosError::InitialGuess(
            "the parabola through E(V) opens downwards: no minimum to start from".into(),
        ));
    }
    let v0 = c - beta * s / (2.0 * alpha);
    let e0 = gamma - beta * beta / (4.0 * alpha);
    let b0 = 2.0 * alpha / (s * s) * v0;
    let vmin = volumes.iter().copied().fold(f64::INFINITY, f64::min);
    if !(v0.is_finite() && vmin < v0) {
        return Err(EosError::InitialGuess(format!(
            "the minimum volume of the fitted parabola ({v0:.6} Å³) is not above the smallest input \
             volume ({vmin} Å³)"
        )));
    }
    Ok([e0, b0, 4.0, v0])
}

fn lm_fit<const N: usize>(
    name: &str,
    x: &[f64],
    y: &[f64],
    p0: [f64; N],
    f: impl Fn(f64, &[Dual<N>]) -> Dual<N>,
) -> Result<LmFit, EosError> {
    levenberg_marquardt(name, &p0, x.len(), LmSettings::default(), |p, r, jac| {
        let pd: Vec<Dual<N>> = p.iter().enumerate().map(|(i, v)| Dual::var(*v, i)).collect();
        for (i, (xi, yi)) in x.iter().zip(y).enumerate() {
            let fx = f(*xi, &pd);
            if !fx.v.is_finite() || !fx.d.iter().all(|d| d.is_finite()) {
                return false;
            }
            r[i] = yi - fx.v;
            for (j, d) in fx.d.iter().enumerate() {
                jac.set(i, j, *d);
            }
        }
        true
    })
}

fn stderrs(fit: &LmFit, m: usize) -> Option<Vec<f64>> {
    let n = fit.params.len();
    if m <= n {
        return None;
    }
    let cov = fit.unscaled_covariance.as_ref()?;
    let s2 = fit.ssr / (m - n) as f64;
    let out: Vec<f64> = (0..n).map(|i| (cov[i * n + i] * s2).sqrt()).collect();
    out.iter().all(|x| x.is_finite()).then_some(out)
}

fn analytic(
    model: EnergyModel,
    volumes: &[f64],
    energies: &[f64],
    start: &[f64],
) -> Result<EnergyFit, EosError> {
    let name = model.name();
    let fit = match start.len() {
        4 => lm_fit::<4>(
            &name,
            volumes,
            energies,
            [start[0], start[1], start[2], start[3]],
            |v, p| energy(model, Dual::cst(v), p),
        )?,
        _ => lm_fit::<5>(
            &name,
            volumes,
            energies,
            [start[0], start[1], start[2], start[3], start[4]],
            |v, p| energy(model, Dual::cst(v), p),
        )?,
    };
    let p = &fit.params;
    let se = stderrs(&fit, volumes.len());
    Ok(EnergyFit {
        model,
        v0_A3: p[3],
        e0_eV: p[0],
        b0_GPa: p[1] * EV_PER_A3_IN_GPA,
        b1: p[2],
        b2_per_GPa: p.get(4).map(|b2| b2 / EV_PER_A3_IN_GPA),
        stderr: se.map(|s| EnergyStdErrors {
            v0_A3: s[3],
            e0_eV: s[0],
            b0_GPa: s[1] * EV_PER_A3_IN_GPA,
            b1: s[2],
            b2_per_GPa: s.get(4).map(|x| x / EV_PER_A3_IN_GPA),
        }),
        goodness: Goodness::new(energies, fit.residuals.clone(), p.len()),
        iterations: fit.iterations,
        curve: Curve::Analytic {
            parameters: p.clone(),
        },
    })
}

fn from_polynomial(
    model: EnergyModel,
    energies: &[f64],
    volumes: &[f64],
    curve: Curve,
    params: [f64; 4],
    parameters: usize,
) -> EnergyFit {
    let [e0, b0, b1, v0] = params;
    let mut fit = EnergyFit {
        model,
        v0_A3: v0,
        e0_eV: e0,
        b0_GPa: b0 * EV_PER_A3_IN_GPA,
        b1,
        b2_per_GPa: None,
        stderr: None,
        goodness: Goodness::new(energies, Vec::new(), parameters),
        iterations: 0,
        curve,
    };
    let residuals = volumes
        .iter()
        .zip(energies)
        .map(|(v, e)| e - fit.energy_eV(*v))
        .collect();
    fit.goodness = Goodness::new(energies, residuals, parameters);
    fit
}

/// Standard errors of E0, B0, B0′, V0 derived from a linear polynomial fit by the delta method:
/// Var g = ∇g · s²(AᵀA)⁻¹ · ∇gᵀ, the gradient by central differences over the coefficients. For the
/// Δ-factor cubic (the 3rd-order Birch–Murnaghan function in other coordinates) this equals the
/// Levenberg–Marquardt standard errors of `birch_murnaghan`.
fn delta_method(
    poly: &Poly,
    cov: &[f64],
    goodness: &Goodness,
    derived: impl Fn(&Poly) -> Result<[f64; 4], EosError>,
) -> Option<EnergyStdErrors> {
    let n = poly.coefficients.len();
    if goodness.dof == 0 {
        return None;
    }
    let s2 = goodness.ssr / goodness.dof as f64;
    let mut grad = vec![[0.0; 4]; n];
    for (k, g) in grad.iter_mut().enumerate() {
        let h = 1e-4 * (cov[k * n + k] * s2).sqrt();
        if !(h.is_finite() && h > 0.0) {
            return None;
        }
        let mut plus = poly.clone();
        plus.coefficients[k] += h;
        let mut minus = poly.clone();
        minus.coefficients[k] -= h;
        let (a, b) = (derived(&plus).ok()?, derived(&minus).ok()?);
        for (q, gq) in g.iter_mut().enumerate() {
            *gq = (a[q] - b[q]) / (2.0 * h);
        }
    }
    let mut var = [0.0; 4];
    for (q, v) in var.iter_mut().enumerate() {
        for i in 0..n {
            for j in 0..n {
                *v += grad[i][q] * cov[i * n + j] * s2 * grad[j][q];
            }
        }
    }
    let [e0, b0, b1, v0] = var.map(f64::sqrt);
    [e0, b0, b1, v0]
        .iter()
        .all(|x| x.is_finite())
        .then_some(EnergyStdErrors {
            v0_A3: v0,
            e0_eV: e0,
            b0_GPa: b0 * EV_PER_A3_IN_GPA,
            b1,
            b2_per_GPa: None,
        })
}

/// Fit E(V) data (volumes in Å³, energies in eV) with `model`, as pymatgen's `EOS(name).fit(volumes,
/// energies)` does: the same initial guess (a parabola), the same least-squares problem, solved to
/// machine precision by Levenberg–Marquardt with exact Jacobians.
///
/// Like pymatgen (whose test `not vol_min < v0 and v0 < vol_max` Python reads as
/// `(not vol_min < v0) and v0 < vol_max`), the parabola's vertex may lie beyond the largest volume but
/// not at or below the smallest; a parabola without a minimum is refused too.
///
/// The polynomial models follow pymatgen's procedures; their minimum is located exactly (pymatgen's
/// `scipy.optimize.minimize` stops within 1e-5 eV/Å³ of zero slope, which on a 100-atom cell can leave V0
/// at the lowest data point).
///
/// # Errors
/// [`EosError::InvalidData`] / [`EosError::TooFewPoints`] for unusable data, [`EosError::InitialGuess`]
/// when pymatgen's parabola test fails, [`EosError::NotConverged`] / [`EosError::NonFinite`] when the
/// iteration does not converge, [`EosError::NoMinimum`] for a polynomial without a minimum.
pub fn fit_energy(model: EnergyModel, volumes: &[f64], energies: &[f64]) -> Result<EnergyFit, EosError> {
    let name = model.name();
    match model {
        EnergyModel::BirchMurnaghan4 => {
            check_data(&name, volumes, energies, "energies", 5)?;
            let bm3 = fit_energy(EnergyModel::BirchMurnaghan, volumes, energies)?;
            let b0 = bm3.b0_eV_per_A3();
            let b2 = -((bm3.b1 - 4.0) * (bm3.b1 - 3.0) + 35.0 / 9.0) / b0;
            analytic(model, volumes, energies, &[bm3.e0_eV, b0, bm3.b1, bm3.v0_A3, b2])
        }
        EnergyModel::DeltaFactor => {
            check_data(&name, volumes, energies, "energies", 4)?;
            let (poly, cov) = delta_factor_fit(volumes, energies)?;
            let params = delta_factor_params(&poly)?;
            let mut fit = from_polynomial(
                model,
                energies,
                volumes,
                Curve::DeltaFactor { poly: poly.clone() },
                params,
                4,
            );
            fit.stderr = delta_method(&poly, &cov, &fit.goodness, delta_factor_params);
            Ok(fit)
        }
        EnergyModel::NumericalEos => {
            check_data(&name, volumes, energies, "energies", 7)?;
            let (poly, params) = numerical_eos(volumes, energies)?;
            let order = poly.coefficients.iter().rposition(|c| *c != 0.0).unwrap_or(0);
            Ok(from_polynomial(
                model,
                energies,
                volumes,
                Curve::Polynomial { poly },
                params,
                order + 1,
            ))
        }
        EnergyModel::Polynomial { order } => {
            if order < 2 {
                return Err(EosError::UnknownModel(name));
            }
            check_data(&name, volumes, energies, "energies", order + 1)?;
            let (c, s) = basis(volumes);
            let (poly, cov) = Poly::fit_with_covariance(volumes, energies, order, c, s)?;
            let params = minimum_of_polynomial(&poly, volumes, energies)?;
            let mut fit = from_polynomial(
                model,
                energies,
                volumes,
                Curve::Polynomial { poly: poly.clone() },
                params,
                order + 1,
            );
            fit.stderr = delta_method(&poly, &cov, &fit.goodness, |p| {
                minimum_of_polynomial(p, volumes, energies)
            });
            Ok(fit)
        }
        _ => {
            let n = model.parameter_count().unwrap_or(4);
            check_data(&name, volumes, energies, "energies", n)?;
            let start = parabola_guess(volumes, energies)?;
            analytic(model, volumes, energies, &start)
        }
    }
}

/// MPMorph's initial guess for P(V) fits: a quadratic P(V), V0 = mean volume, B0 = −V dP/dV there
/// (GPa), B0′ = 4.
fn pressure_guess(volumes: &[f64], pressures: &[f64]) -> Result<[f64; 3], EosError> {
    let (c, s) = basis(volumes);
    let p = Poly::fit(volumes, pressures, 2, c, s)?;
    let v0 = volumes.iter().sum::<f64>() / volumes.len() as f64;
    let b0 = -v0 * p.eval(v0)[1];
    if !(b0.is_finite() && b0 > 0.0) {
        return Err(EosError::InitialGuess(format!(
            "pressure increases with volume at the mean volume {v0:.4} Å³ (dP/dV = {:.4e} GPa/Å³): no bulk \
             modulus to start from",
            p.eval(v0)[1]
        )));
    }
    Ok([v0, b0, 4.0])
}

/// Fit P(V) data (volumes in Å³, pressures in GPa) with `model`, from MPMorph's initial guess (what
/// `fit_BirchMurnaghanPV_EOS` does with scipy's `leastsq`). Three points give an exact fit without
/// standard errors.
///
/// # Errors
/// As [`fit_energy`]; [`EosError::InitialGuess`] when pressure does not fall with volume.
pub fn fit_pressure(
    model: PressureModel,
    volumes: &[f64],
    pressures: &[f64],
) -> Result<PressureFit, EosError> {
    check_data(model.name(), volumes, pressures, "pressures", 3)?;
    let start = pressure_guess(volumes, pressures)?;
    fit_pressure_from(model, volumes, pressures, start)
}

/// [`fit_pressure`] from a given start [V0 Å³, B0 GPa, B0′].
///
/// # Errors
/// As [`fit_pressure`].
pub fn fit_pressure_from(
    model: PressureModel,
    volumes: &[f64],
    pressures: &[f64],
    start: [f64; 3],
) -> Result<PressureFit, EosError> {
    check_data(model.name(), volumes, pressures, "pressures", 3)?;
    let fit = lm_fit::<3>(model.name(), volumes, pressures, start, |v, p| {
        pressure(model, Dual::cst(v), p)
    })?;
    let p = &fit.params;
    let se = stderrs(&fit, volumes.len());
    Ok(PressureFit {
        model,
        v0_A3: p[0],
        b0_GPa: p[1],
        b1: p[2],
        stderr: se.map(|s| PressureStdErrors {
            v0_A3: s[0],
            b0_GPa: s[1],
            b1: s[2],
        }),
        goodness: Goodness::new(pressures, fit.residuals.clone(), 3),
        iterations: fit.iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bm3_data(n: usize, lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
        let v: Vec<f64> = (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect();
        let e = v
            .iter()
            .map(|x| energy(EnergyModel::BirchMurnaghan, *x, &[-10.0, 0.6, 4.5, 40.0]))
            .collect();
        (v, e)
    }

    #[test]
    fn exact_data_give_back_the_generating_parameters() {
        let (v, e) = bm3_data(9, 36.0, 44.0);
        for model in [
            EnergyModel::BirchMurnaghan,
            EnergyModel::Birch,
            EnergyModel::DeltaFactor,
        ] {
            let f = fit_energy(model, &v, &e).unwrap();
            assert!((f.v0_A3 - 40.0).abs() < 1e-9, "{model}: {f:?}");
            assert!((f.e0_eV + 10.0).abs() < 1e-11);
            assert!((f.b0_GPa - 0.6 * EV_PER_A3_IN_GPA).abs() < 1e-7);
            assert!((f.b1 - 4.5).abs() < 1e-7);
            assert!(
                f.goodness.rmse < 1e-11 && f.goodness.r_squared > 1.0 - 1e-12,
                "{:?}",
                f.goodness
            );
            assert!(
                (f.energy_eV(41.0) - energy(EnergyModel::BirchMurnaghan, 41.0, &[-10.0, 0.6, 4.5, 40.0]))
                    .abs()
                    < 1e-11
            );
        }
        let f = fit_energy(EnergyModel::BirchMurnaghan, &v, &e).unwrap();
        assert!(f.pressure_GPa(40.0).abs() < 1e-8);
        assert!(f.pressure_GPa(38.0) > 0.0 && f.pressure_GPa(42.0) < 0.0);
    }

    #[test]
    fn deltafactor_and_birch_murnaghan_are_one_function_with_one_covariance() {
        // BM3 is a cubic in V^(-2/3): the two fits are the same least-squares problem in different
        // coordinates, so the delta-method errors of one equal the Gauss–Newton errors of the other.
        let (v, mut e) = bm3_data(11, 34.0, 47.0);
        for (i, x) in e.iter_mut().enumerate() {
            *x += 2e-3 * ((i * i) as f64 * 0.7).sin();
        }
        let bm = fit_energy(EnergyModel::BirchMurnaghan, &v, &e).unwrap();
        let df = fit_energy(EnergyModel::DeltaFactor, &v, &e).unwrap();
        let (a, b) = (bm.stderr.unwrap(), df.stderr.unwrap());
        for (x, y, what) in [
            (bm.v0_A3, df.v0_A3, "V0"),
            (bm.b0_GPa, df.b0_GPa, "B0"),
            (bm.b1, df.b1, "B1"),
            (a.v0_A3, b.v0_A3, "σV0"),
            (a.e0_eV, b.e0_eV, "σE0"),
            (a.b0_GPa, b.b0_GPa, "σB0"),
            (a.b1, b.b1, "σB1"),
        ] {
            assert!((x - y).abs() < 1e-6 * y.abs(), "{what}: {x} {y}");
        }
        assert!(
            fit_energy(EnergyModel::NumericalEos, &v, &e)
                .unwrap()
                .stderr
                .is_none()
        );
        assert!(
            fit_energy(EnergyModel::Polynomial { order: 3 }, &v, &e)
                .unwrap()
                .stderr
                .is_some()
        );
    }

    #[test]
    fn bad_data_are_typed_errors() {
        let (v, e) = bm3_data(9, 36.0, 44.0);
        assert!(matches!(
            fit_energy(EnergyModel::Vinet, &v[..3], &e[..3]),
            Err(EosError::TooFewPoints {
                needed: 4,
                got: 3,
                ..
            })
        ));
        assert!(matches!(
            fit_energy(EnergyModel::Vinet, &v, &e[1..]),
            Err(EosError::InvalidData(_))
        ));
        let mut bad = v.clone();
        bad[2] = -1.0;
        assert!(matches!(
            fit_energy(EnergyModel::Vinet, &bad, &e),
            Err(EosError::InvalidData(_))
        ));
        let mut nan = e.clone();
        nan[4] = f64::NAN;
        assert!(matches!(
            fit_energy(EnergyModel::Murnaghan, &v, &nan),
            Err(EosError::InvalidData(_))
        ));
        let repeated = vec![40.0; 9];
        assert!(matches!(
            fit_energy(EnergyModel::Murnaghan, &repeated, &e),
            Err(EosError::TooFewPoints { got: 1, .. })
        ));
        // Concave data: no minimum, no guess.
        let concave: Vec<f64> = e.iter().map(|x| -x).collect();
        assert!(matches!(
            fit_energy(EnergyModel::Vinet, &v, &concave),
            Err(EosError::InitialGuess(_))
        ));
        // Pressure rising with volume.
        assert!(matches!(
            fit_pressure(
                PressureModel::BirchMurnaghan,
                &[30.0, 40.0, 50.0],
                &[1.0, 2.0, 3.5]
            ),
            Err(EosError::InitialGuess(_))
        ));
    }
}
