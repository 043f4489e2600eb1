//! The seeded random number generator: ChaCha8, the same stream on every platform.

use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

/// ChaCha8 with the few draws the packer needs. Floats come from the top 53 bits of a `u64`, so the
/// sequence is fixed by the seed alone.
pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, 1)³.
    #[inline]
    pub(crate) fn frac3(&mut self) -> Vector3<f64> {
        Vector3::new(self.unit(), self.unit(), self.unit())
    }

    /// Uniform integer in 0..n (n ≥ 1), by the multiply-shift method (bias below 2⁻⁶⁴·n).
    #[inline]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in the unit ball.
    pub(crate) fn in_ball(&mut self) -> Vector3<f64> {
        loop {
            let v = self.frac3() * 2.0 - Vector3::repeat(1.0);
            if v.norm_squared() <= 1.0 {
                return v;
            }
        }
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// The smallest integer c with c³ ≥ n, in integer arithmetic (no platform cube root, so grid sizes
/// cannot differ between machines at exact cubes).
pub(crate) fn icbrt_ceil(n: usize) -> usize {
    let mut c = 0usize;
    while c.saturating_mul(c).saturating_mul(c) < n {
        c += 1;
    }
    c
}

/// Cube root of a positive finite `v` by bisection in plain IEEE arithmetic: the largest double x with
/// x·x·x ≤ v (within an ulp of the true root). Unlike `f64::cbrt`, which comes from the platform's
/// C library, the result is the same on every machine, and so is every structure packed from it.
pub(crate) fn cube_root(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return f64::NAN;
    }
    let cube = |x: f64| x * x * x;
    // Bracket: from 1 up or down by factors of 2 (exact in binary).
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    while cube(hi) <= v {
        hi *= 2.0;
        if hi.is_infinite() {
            return v.cbrt();
        }
    }
    while cube(lo) > v {
        lo *= 0.5;
    }
    // lo³ ≤ v < hi³; halve until lo and hi are adjacent doubles.
    for _ in 0..2200 {
        let mid = lo + (hi - lo) * 0.5;
        if mid <= lo || mid >= hi {
            break;
        }
        if cube(mid) <= v { lo = mid } else { hi = mid }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_and_float_cube_roots() {
        assert_eq!(icbrt_ceil(0), 0);
        assert_eq!(icbrt_ceil(1), 1);
        assert_eq!(icbrt_ceil(27), 3);
        assert_eq!(icbrt_ceil(28), 4);
        assert_eq!(icbrt_ceil(1_000_000), 100);
        for v in [1e-9, 0.3, 1.0, 8.0, 27.0, 12_025.7, 1.2e5, 3.3e12] {
            let c = cube_root(v);
            assert!(
                (c - v.cbrt()).abs() <= 2.0 * f64::EPSILON * c,
                "{v}: {c} vs {}",
                v.cbrt()
            );
            assert!(c * c * c <= v);
        }
        assert_eq!(cube_root(27.0), 3.0);
    }
}
