//! Polynomial E(V) models: pymatgen's `PolynomialEOS`, `DeltaFactor` and `NumericalEOS`.
//!
//! Polynomials are fitted and averaged in a scaled variable t = (x − c)/s with x ∈ [c − s, c + s], which
//! keeps high orders well conditioned; the averages of coefficients that `NumericalEOS` takes are the
//! same polynomial in any basis.

use serde::{Deserialize, Serialize};

use crate::EosError;
use crate::linalg::{Mat, inverse_normal, qr_solve};

/// A polynomial in t = (x − center)/scale, coefficients lowest power first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Poly {
    pub center: f64,
    pub scale: f64,
    pub coefficients: Vec<f64>,
}

impl Poly {
    /// The value and first three derivatives with respect to x.
    pub fn eval(&self, x: f64) -> [f64; 4] {
        let t = (x - self.center) / self.scale;
        let mut d = [0.0; 4];
        // Horner for p, p', p'', p''' in t.
        for c in self.coefficients.iter().rev() {
            d[3] = d[3] * t + d[2];
            d[2] = d[2] * t + d[1];
            d[1] = d[1] * t + d[0];
            d[0] = d[0] * t + c;
        }
        // d[k] holds p^(k)(t)/k!; convert to derivatives in x.
        [
            d[0],
            d[1] / self.scale,
            2.0 * d[2] / (self.scale * self.scale),
            6.0 * d[3] / (self.scale * self.scale * self.scale),
        ]
    }

    /// Least-squares fit of order `order` (numpy's `polyfit`).
    pub fn fit(x: &[f64], y: &[f64], order: usize, center: f64, scale: f64) -> Result<Self, EosError> {
        Self::fit_with_covariance(x, y, order, center, scale).map(|(p, _)| p)
    }

    /// [`Poly::fit`] and the unscaled covariance (AᵀA)⁻¹ of its coefficients (row-major).
    pub fn fit_with_covariance(
        x: &[f64],
        y: &[f64],
        order: usize,
        center: f64,
        scale: f64,
    ) -> Result<(Self, Vec<f64>), EosError> {
        let m = x.len();
        if m < order + 1 {
            return Err(EosError::TooFewPoints {
                model: format!("polynomial of order {order}"),
                needed: order + 1,
                got: m,
            });
        }
        let mut a = Mat::zeros(m, order + 1);
        for (i, xi) in x.iter().enumerate() {
            let t = (xi - center) / scale;
            let mut tk = 1.0;
            for k in 0..=order {
                a.set(i, k, tk);
                tk *= t;
            }
        }
        let mut b = y.to_vec();
        let (coefficients, r) = qr_solve(a, &mut b).ok_or_else(|| {
            EosError::InvalidData(format!(
                "a polynomial of order {order} is not determined by these {m} points (repeated volumes?)"
            ))
        })?;
        let poly = Self {
            center,
            scale,
            coefficients,
        };
        Ok((poly, inverse_normal(&r, order + 1)))
    }
}

/// Center and half-width of the data's range.
pub(crate) fn basis(x: &[f64]) -> (f64, f64) {
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let half = 0.5 * (hi - lo);
    (0.5 * (hi + lo), if half > 0.0 { half } else { 1.0 })
}

/// E0, B0 (eV/Å³), B0′, V0 of a polynomial E(V): the local minimum that pymatgen's `minimize` heads for
/// from the lowest data point (the first stationary point downhill), located to machine precision.
pub(crate) fn minimum_of_polynomial(
    p: &Poly,
    volumes: &[f64],
    energies: &[f64],
) -> Result<[f64; 4], EosError> {
    let lowest = energies
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| volumes[i])
        .ok_or_else(|| EosError::InvalidData("no data".into()))?;
    let v0 = downhill_root(|v| p.eval(v), lowest, p.scale)?;
    let [e0, _, d2, d3] = p.eval(v0);
    let b0 = v0 * d2;
    let b1 = -v0 * (d2 + v0 * d3) / b0;
    Ok([e0, b0, b1, v0])
}

/// The first zero of f′ downhill from `start` (f′′ > 0 there): expanding steps to bracket, then bisection
/// with Newton steps.
fn downhill_root(f: impl Fn(f64) -> [f64; 4], start: f64, width: f64) -> Result<f64, EosError> {
    let g0 = f(start)[1];
    if g0 == 0.0 {
        return Ok(start);
    }
    let dir = -g0.signum();
    let mut step = 1e-3 * width;
    let mut a = start;
    let mut b = start;
    let mut found = false;
    // pymatgen's BFGS may wander anywhere; a minimum farther than five data widths away is no minimum.
    let reach = 10.0 * width;
    for _ in 0..200 {
        b = a + dir * step;
        if !(b.is_finite() && b > 0.0) || (b - start).abs() > reach {
            break;
        }
        if f(b)[1] * dir >= 0.0 {
            found = true;
            break;
        }
        a = b;
        step *= 1.3;
    }
    if !found {
        return Err(EosError::NoMinimum(format!(
            "the polynomial E(V) decreases without a minimum from V = {start} Å³"
        )));
    }
    // f'(a)·dir < 0 ≤ f'(b)·dir; keep lo < hi with f'(lo) < 0 < f'(hi).
    let (mut lo, mut hi) = if dir > 0.0 { (a, b) } else { (b, a) };
    let mut x = 0.5 * (lo + hi);
    for _ in 0..200 {
        let [_, g, h, _] = f(x);
        if g == 0.0 {
            break;
        }
        if g < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - g / h;
        let next = if h > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 4.0 * f64::EPSILON * x.abs() || hi - lo <= 4.0 * f64::EPSILON * x.abs() {
            x = next;
            break;
        }
        x = next;
    }
    if !(x.is_finite() && f(x)[2] > 0.0) {
        return Err(EosError::NoMinimum(format!(
            "the stationary point at V = {x} Å³ is not a minimum"
        )));
    }
    Ok(x)
}

/// pymatgen's `DeltaFactor`: a cubic in x = V^(-2/3); the fit and the unscaled covariance of its
/// coefficients.
pub(crate) fn delta_factor_fit(volumes: &[f64], energies: &[f64]) -> Result<(Poly, Vec<f64>), EosError> {
    let x: Vec<f64> = volumes.iter().map(|v| v.powf(-2.0 / 3.0)).collect();
    let (c, s) = basis(&x);
    Poly::fit_with_covariance(&x, energies, 3, c, s)
}

/// E0, B0 (eV/Å³), B0′, V0 of a Δ-factor cubic (pymatgen's `DeltaFactor._set_params`).
pub(crate) fn delta_factor_params(p: &Poly) -> Result<[f64; 4], EosError> {
    let (c, s) = (p.center, p.scale);
    // Roots of p'(t) = c1 + 2 c2 t + 3 c3 t² (in t); the minimum is the root with p'' > 0.
    let k = &p.coefficients;
    let (qa, qb, qc) = (3.0 * k[3], 2.0 * k[2], k[1]);
    let mut roots = Vec::new();
    if qa == 0.0 {
        if qb != 0.0 {
            roots.push(-qc / qb);
        }
    } else {
        let disc = qb * qb - 4.0 * qa * qc;
        if disc >= 0.0 {
            let q = -0.5 * (qb + qb.signum() * disc.sqrt());
            if q != 0.0 {
                roots.push(q / qa);
                roots.push(qc / q);
            } else {
                roots.push(0.0);
            }
        }
    }
    let xmin = roots
        .into_iter()
        .map(|t| c + s * t)
        .find(|&xr| xr > 0.0 && p.eval(xr)[2] > 0.0)
        .ok_or_else(|| EosError::NoMinimum("the Δ-factor cubic in V^(-2/3) has no minimum".into()))?;
    let [e0, _, d2, d3] = p.eval(xmin);
    let v0 = xmin.powf(-1.5);
    let dv2 = 4.0 / 9.0 * xmin.powi(5) * d2;
    let dv3 = -20.0 / 9.0 * xmin.powf(6.5) * d2 - 8.0 / 27.0 * xmin.powf(7.5) * d3;
    let b0 = dv2 / xmin.powf(1.5);
    let b1 = -1.0 - xmin.powf(-1.5) * dv3 / dv2;
    Ok([e0, b0, b1, v0])
}

/// pymatgen's `NumericalEOS.fit()` with its defaults (min_ndata_factor 3, max_poly_order_factor 5,
/// min_poly_order 2): polynomials of every admissible order on data windows trimmed symmetrically,
/// kept when their slope changes sign across the lowest point, averaged with weights
/// exp(−(rms·order/(rms_min·n))²).
pub(crate) fn numerical_eos(volumes: &[f64], energies: &[f64]) -> Result<(Poly, [f64; 4]), EosError> {
    const MIN_NDATA_FACTOR: usize = 3;
    const MAX_POLY_ORDER_FACTOR: usize = 5;
    const MIN_POLY_ORDER: usize = 2;
    let n = volumes.len();
    let mut ev: Vec<(f64, f64)> = energies.iter().copied().zip(volumes.iter().copied()).collect();
    ev.sort_by(|a, b| a.1.total_cmp(&b.1));
    let imin = ev
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
        .map(|(i, _)| i)
        .ok_or_else(|| EosError::InvalidData("no data".into()))?;
    if imin == 0 || imin + 1 == n {
        return Err(EosError::NoMinimum(format!(
            "numerical_eos needs the lowest energy inside the data, not at its edge (V = {} Å³)",
            ev[imin].1
        )));
    }
    let (v_before, v_after) = (ev[imin - 1].1, ev[imin + 1].1);
    let n_min = (n.saturating_sub(2 * MIN_NDATA_FACTOR)).max(MIN_POLY_ORDER + 1);
    let (c, s) = basis(volumes);
    let mut candidates: Vec<(usize, usize, Poly, f64)> = Vec::new();
    let (mut lo, mut hi) = (0usize, n);
    while hi - lo >= n_min && lo <= imin && imin < hi {
        let window = &ev[lo..hi];
        let nfit = window.len();
        let vs: Vec<f64> = window.iter().map(|p| p.1).collect();
        let es: Vec<f64> = window.iter().map(|p| p.0).collect();
        for order in MIN_POLY_ORDER..=nfit.saturating_sub(MAX_POLY_ORDER_FACTOR) {
            let p = Poly::fit(&vs, &es, order, c, s)?;
            if p.eval(v_before)[1] * p.eval(v_after)[1] < 0.0 {
                let ss: f64 = vs.iter().zip(&es).map(|(v, e)| (e - p.eval(*v)[0]).powi(2)).sum();
                candidates.push((order, nfit, p, (ss / nfit as f64).sqrt()));
            }
        }
        lo += 1;
        hi -= 1;
    }
    if candidates.is_empty() {
        return Err(EosError::NoMinimum(
            "numerical_eos: no polynomial has its minimum between the neighbours of the lowest point".into(),
        ));
    }
    let rms_min = candidates
        .iter()
        .map(|(o, nf, _, rms)| rms * *o as f64 / *nf as f64)
        .fold(f64::INFINITY, f64::min);
    let mut avg = vec![0.0; n.max(1)];
    let mut norm = 0.0;
    for (order, nfit, p, rms) in &candidates {
        let weighted = rms * *order as f64 / *nfit as f64;
        // pymatgen divides by rms_min (0/0 for exact polynomial data); an exact fit gets weight 1.
        let w = if rms_min > 0.0 {
            (-(weighted / rms_min).powi(2)).exp()
        } else if weighted == 0.0 {
            1.0
        } else {
            0.0
        };
        norm += w;
        for (a, c) in avg.iter_mut().zip(&p.coefficients) {
            *a += w * c;
        }
    }
    for a in &mut avg {
        *a /= norm;
    }
    let poly = Poly {
        center: c,
        scale: s,
        coefficients: avg,
    };
    let params = minimum_of_polynomial(&poly, volumes, energies)?;
    Ok((poly, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poly_derivatives_are_exact() {
        let p = Poly {
            center: 2.0,
            scale: 0.5,
            coefficients: vec![1.0, -2.0, 3.0, 0.5],
        };
        // p(x) = 1 − 2t + 3t² + 0.5t³, t = 2(x − 2).
        let x = 2.3;
        let t = 2.0 * (x - 2.0);
        let [v, d1, d2, d3] = p.eval(x);
        assert!((v - (1.0 - 2.0 * t + 3.0 * t * t + 0.5 * t * t * t)).abs() < 1e-14);
        assert!((d1 - 2.0 * (-2.0 + 6.0 * t + 1.5 * t * t)).abs() < 1e-13);
        assert!((d2 - 4.0 * (6.0 + 3.0 * t)).abs() < 1e-12);
        assert!((d3 - 8.0 * 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_minimum_of_a_parabola_is_found_exactly() {
        // E = 2 (V − 40)² − 5 sampled away from the minimum: V0 = 40, E0 = −5, B0 = V0 E'' = 160.
        let v: Vec<f64> = (0..7).map(|i| 36.0 + i as f64).collect();
        let e: Vec<f64> = v.iter().map(|x| 2.0 * (x - 40.0) * (x - 40.0) - 5.0).collect();
        let (c, s) = basis(&v);
        let p = Poly::fit(&v, &e, 2, c, s).unwrap();
        let [e0, b0, b1, v0] = minimum_of_polynomial(&p, &v, &e).unwrap();
        assert!((v0 - 40.0).abs() < 1e-12 && (e0 + 5.0).abs() < 1e-12 && (b0 - 160.0).abs() < 1e-9);
        assert!((b1 + 1.0).abs() < 1e-9, "a parabola has B' = −1: {b1}");
    }

    #[test]
    fn a_monotonic_polynomial_has_no_minimum() {
        let v: Vec<f64> = (0..5).map(|i| 36.0 + i as f64).collect();
        let e: Vec<f64> = v.iter().map(|x| -0.5 * x).collect();
        let (c, s) = basis(&v);
        let p = Poly::fit(&v, &e, 2, c, s).unwrap();
        assert!(matches!(
            minimum_of_polynomial(&p, &v, &e),
            Err(EosError::NoMinimum(_))
        ));
    }
}
