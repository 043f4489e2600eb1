//! Mean-squared displacement over all time origins: FFT (O(T log T) per series) and direct (O(T²)).

use std::sync::Arc;

use ndarray::{Array2, Array3};
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex, num_complex::Complex};
use serde::{Deserialize, Serialize};

use crate::displacement::Displacements;

/// How the all-origins average is computed. Both give the same numbers (to ~1e-12 relative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MsdMethod {
    /// Wiener–Khinchin: MSD(k) = [S₁(k) − 2 S₂(k)]/(T − k), S₂ the autocorrelation from a real FFT of
    /// length ≥ 2T, S₁ from prefix sums of squares. O(T log T) per atom and direction.
    #[default]
    Fft,
    /// The definition, summed lag by lag. O(T²) per atom and direction; for tests and tiny runs.
    Direct,
}

/// Mean-squared displacement at every lag 0..T−1, averaged over all time origins, per selected atom
/// and Cartesian direction (Å²).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Msd {
    pub(crate) frame_interval_fs: f64,
    /// `(atoms, 3, lags)`.
    pub(crate) per_atom: Array3<f64>,
    /// `(lags, 3)`: mean over atoms.
    pub(crate) mean: Array2<f64>,
}

impl Msd {
    /// The MSD of drift-corrected displacements.
    pub fn compute(displacements: &Displacements, method: MsdMethod) -> Msd {
        let data = &displacements.data;
        let (natoms, _, nframes) = data.dim();
        let mut buf = vec![0.0; natoms * 3 * nframes];
        let chunk = (3 * nframes).max(1);
        match method {
            MsdMethod::Direct => {
                buf.par_chunks_mut(chunk).enumerate().for_each(|(a, out)| {
                    for (d, o) in out.chunks_mut(nframes).enumerate() {
                        direct_into(displacements.series(a, d), o);
                    }
                });
            }
            MsdMethod::Fft => {
                let fft = FftMsd::new(nframes);
                buf.par_chunks_mut(chunk).enumerate().for_each_init(
                    || fft.scratch(),
                    |scratch, (a, out)| {
                        for (d, o) in out.chunks_mut(nframes).enumerate() {
                            fft.msd_into(displacements.series(a, d), o, scratch);
                        }
                    },
                );
            }
        }
        let per_atom = Array3::from_shape_vec((natoms, 3, nframes), buf).expect("shape matches");
        Msd::from_per_atom(per_atom, displacements.frame_interval_fs)
    }

    pub(crate) fn from_per_atom(per_atom: Array3<f64>, frame_interval_fs: f64) -> Msd {
        let (natoms, _, nlags) = per_atom.dim();
        let mut mean = Array2::zeros((nlags, 3));
        // Fixed summation order (atom by atom): identical results for any thread count.
        for a in 0..natoms {
            for d in 0..3 {
                for k in 0..nlags {
                    mean[[k, d]] += per_atom[[a, d, k]];
                }
            }
        }
        mean /= natoms as f64;
        Msd {
            frame_interval_fs,
            per_atom,
            mean,
        }
    }

    /// Number of lags (= number of frames).
    pub fn len(&self) -> usize {
        self.mean.nrows()
    }

    /// True when there are no lags.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of atoms averaged.
    pub fn natoms(&self) -> usize {
        self.per_atom.shape()[0]
    }

    /// Time between frames, fs.
    pub fn frame_interval_fs(&self) -> f64 {
        self.frame_interval_fs
    }

    /// Lag time of lag `k`, fs.
    pub fn time_fs(&self, k: usize) -> f64 {
        k as f64 * self.frame_interval_fs
    }

    /// Total MSD (x + y + z) at lag `k`, Å².
    pub fn total(&self, k: usize) -> f64 {
        self.mean[[k, 0]] + self.mean[[k, 1]] + self.mean[[k, 2]]
    }

    /// MSD along Cartesian direction `dir` (0 = x, 1 = y, 2 = z) at lag `k`, Å².
    pub fn component(&self, k: usize, dir: usize) -> f64 {
        self.mean[[k, dir]]
    }

    /// `(lags, 3)` array of the per-direction MSD, Å².
    pub fn components(&self) -> &Array2<f64> {
        &self.mean
    }

    /// MSD of one selected atom along one direction at lag `k`, Å².
    pub fn atom(&self, atom: usize, dir: usize, k: usize) -> f64 {
        self.per_atom[[atom, dir, k]]
    }

    /// The whole table as CSV: `time_fs,msd_A2,msd_x_A2,msd_y_A2,msd_z_A2`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("time_fs,msd_A2,msd_x_A2,msd_y_A2,msd_z_A2\n");
        for k in 0..self.len() {
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                self.time_fs(k),
                self.total(k),
                self.mean[[k, 0]],
                self.mean[[k, 1]],
                self.mean[[k, 2]]
            ));
        }
        out
    }
}

/// MSD of one series by the definition.
pub(crate) fn direct_into(x: &[f64], out: &mut [f64]) {
    let n = x.len();
    for (k, o) in out.iter_mut().enumerate().take(n) {
        let s: f64 = (0..n - k).map(|t| (x[t + k] - x[t]).powi(2)).sum();
        *o = s / (n - k) as f64;
    }
}

/// A reusable FFT plan for series of one length.
pub(crate) struct FftMsd {
    n: usize,
    nfft: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

/// Per-thread buffers of [`FftMsd`].
pub(crate) struct FftScratch {
    real: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    fwd: Vec<Complex<f64>>,
    inv: Vec<Complex<f64>>,
    centred: Vec<f64>,
}

/// Smallest 2^a·3^b·5^c ≥ n (fast FFT sizes).
fn fast_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut p5 = 1usize;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            let mut m = p35;
            while m < n {
                m *= 2;
            }
            best = best.min(m);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best
}

impl FftMsd {
    pub(crate) fn new(n: usize) -> Self {
        let nfft = fast_len((2 * n).max(2));
        let mut planner = RealFftPlanner::<f64>::new();
        FftMsd {
            n,
            nfft,
            forward: planner.plan_fft_forward(nfft),
            inverse: planner.plan_fft_inverse(nfft),
        }
    }

    pub(crate) fn scratch(&self) -> FftScratch {
        FftScratch {
            real: vec![0.0; self.nfft],
            spectrum: self.forward.make_output_vec(),
            fwd: self.forward.make_scratch_vec(),
            inv: self.inverse.make_scratch_vec(),
            centred: vec![0.0; self.n],
        }
    }

    /// MSD of `x` (length n) at lags 0..n−1 into `out`.
    pub(crate) fn msd_into(&self, x: &[f64], out: &mut [f64], s: &mut FftScratch) {
        let n = self.n;
        debug_assert_eq!(x.len(), n);
        // MSD is translation invariant: centring the series keeps S₁ and 2S₂ small, so their
        // difference loses fewer digits.
        let mean = x.iter().sum::<f64>() / n as f64;
        for (c, &v) in s.centred.iter_mut().zip(x) {
            *c = v - mean;
        }
        s.real[..n].copy_from_slice(&s.centred);
        s.real[n..].fill(0.0);
        self.forward
            .process_with_scratch(&mut s.real, &mut s.spectrum, &mut s.fwd)
            .expect("buffer sizes come from the plan");
        for c in s.spectrum.iter_mut() {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        self.inverse
            .process_with_scratch(&mut s.spectrum, &mut s.real, &mut s.inv)
            .expect("buffer sizes come from the plan");
        let scale = 1.0 / self.nfft as f64;
        // Prefix sums of squares: Σ_{t<T−k} y_t² + Σ_{t≥k} y_t².
        let total: f64 = s.centred.iter().map(|v| v * v).sum();
        let mut head = total; // Σ_{t < n−k} y_t²
        let mut tail = total; // Σ_{t ≥ k} y_t²
        for (k, o) in out.iter_mut().enumerate().take(n) {
            if k > 0 {
                head -= s.centred[n - k] * s.centred[n - k];
                tail -= s.centred[k - 1] * s.centred[k - 1];
            }
            let s2 = s.real[k] * scale;
            *o = (head + tail - 2.0 * s2) / (n - k) as f64;
        }
        out[0] = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_lengths_are_smooth_and_large_enough() {
        for n in [1, 2, 7, 97, 1000, 20_001] {
            let m = fast_len(n);
            assert!(m >= n);
            let mut r = m;
            for p in [2, 3, 5] {
                while r.is_multiple_of(p) {
                    r /= p;
                }
            }
            assert_eq!(r, 1, "{m}");
        }
        assert_eq!(fast_len(20_001), 20_250);
    }

    #[test]
    fn fft_equals_direct_on_a_ramp_and_noise() {
        let n = 257;
        let x: Vec<f64> = (0..n)
            .map(|t| 0.3 * t as f64 + ((t * 7919) % 13) as f64 * 0.1)
            .collect();
        let mut a = vec![0.0; n];
        let mut b = vec![0.0; n];
        direct_into(&x, &mut a);
        let f = FftMsd::new(n);
        f.msd_into(&x, &mut b, &mut f.scratch());
        for k in 0..n {
            assert!(
                (a[k] - b[k]).abs() <= 1e-11 * a[n / 2],
                "lag {k}: {} vs {}",
                a[k],
                b[k]
            );
        }
    }
}
