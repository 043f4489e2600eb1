//! Coverage of the stated 95 % interval: 200 seeded random walks of known D.
//!
//! The walks come from SplitMix64 + Box–Muller, simple enough to be generated identically in Python:
//! `validation/diffusion_coverage.py` rebuilds the same 200 walks and measures kinisi's coverage on
//! them (recorded in `docs/benchmarks.md`).

use amorph_diffusion::{Displacements, FitOptions, Msd, MsdMethod, t975};
use ndarray::Array3;

/// Walk parameters shared with `validation/diffusion_coverage.py`.
const ATOMS: usize = 16;
const FRAMES: usize = 1000;
const SIGMA: f64 = 1.0; // Å per direction per frame
const DT: f64 = 1.0; // fs
const TRIALS: u64 = 200;

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Box–Muller (cosine branch) from u₁ ∈ (0, 1], u₂ ∈ [0, 1).
    fn normal(&mut self) -> f64 {
        let u1 = ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let u2 = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Walk `seed`: every atom starts at the origin; frame by frame, atom by atom, x, y, z.
fn walk(seed: u64) -> Displacements {
    let mut rng = SplitMix64(seed);
    let mut data = Array3::zeros((ATOMS, 3, FRAMES));
    for t in 1..FRAMES {
        for a in 0..ATOMS {
            for d in 0..3 {
                data[[a, d, t]] = data[[a, d, t - 1]] + SIGMA * rng.normal();
            }
        }
    }
    Displacements::from_array(data, DT, 1000.0).unwrap()
}

#[test]
fn the_95_percent_interval_covers_the_true_d_in_90_to_99_percent_of_walks() {
    let true_d = SIGMA * SIGMA / (2.0 * DT) * 0.1; // cm²/s
    let mut covered = 0;
    let (mut covered_atoms, mut covered_model) = (0, 0);
    let mut z2 = 0.0;
    let mut width = 0.0;
    for seed in 0..TRIALS {
        let d = Msd::compute(&walk(seed), MsdMethod::Fft)
            .diffusivity(&FitOptions::default())
            .unwrap();
        if d.ci95_cm2_s[0] <= true_d && true_d <= d.ci95_cm2_s[1] {
            covered += 1;
        }
        // Each of the two standard errors alone (for the record; the interval uses the larger).
        let z = (d.d_cm2_s - true_d).abs();
        if z <= t975((ATOMS - 1) as f64) * d.stderr_atoms_cm2_s.unwrap() {
            covered_atoms += 1;
        }
        if z <= t975(f64::INFINITY) * d.stderr_model_cm2_s {
            covered_model += 1;
        }
        z2 += ((d.d_cm2_s - true_d) / d.stderr_cm2_s).powi(2);
        width += (d.ci95_cm2_s[1] - d.ci95_cm2_s[0]) / true_d;
    }
    let rate = covered as f64 / TRIALS as f64;
    println!(
        "coverage {covered}/{TRIALS} = {rate:.3}; mean squared z {:.3}; mean relative 95 % width {:.3}; \
         with the spread over atoms alone {covered_atoms}/{TRIALS}, with the model alone {covered_model}/{TRIALS}",
        z2 / TRIALS as f64,
        width / TRIALS as f64
    );
    assert!((0.90..=0.99).contains(&rate), "coverage {rate}");
}

/// The walks are the ones `validation/diffusion_coverage.py` gave kinisi: the sum of walk 0's last
/// frame, recorded by the script, is reproduced.
#[test]
fn the_walks_are_the_ones_kinisi_was_run_on() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/diffusion/kinisi_coverage.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let expected = v["walk0_last_frame_sum"].as_f64().unwrap();
    let w = walk(0);
    let sum: f64 = (0..ATOMS)
        .flat_map(|a| (0..3).map(move |d| (a, d)))
        .map(|(a, d)| w.series(a, d)[FRAMES - 1])
        .sum();
    assert!(
        (sum - expected).abs() < 1e-9 * expected.abs(),
        "{sum} vs {expected}"
    );
    assert_eq!(v["trials"].as_u64(), Some(TRIALS));
}
