//! Periodic-boundary helpers that work on fractional coordinates.

use nalgebra::Vector3;

/// Wrap one fractional coordinate into [0, 1).
#[inline]
pub fn wrap_unit(x: f64) -> f64 {
    let w = x - x.floor();
    // x = -1e-17 gives 1.0 after the subtraction; keep the half-open interval.
    if w >= 1.0 { 0.0 } else { w }
}

/// Wrap fractional coordinates into [0, 1)³.
#[inline]
pub fn wrap_fractional(f: &Vector3<f64>) -> Vector3<f64> {
    f.map(wrap_unit)
}
