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
