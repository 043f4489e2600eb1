//! The complementary error function, two ways: accurate (Cody 1969) and LAMMPS's polynomial.
//!
//! Both take `exp(−x²)` as an argument because every Coulomb kernel needs it for the force anyway, so
//! erfc costs one rational function on top of it.

use serde::{Deserialize, Serialize};

/// How a real-space Coulomb kernel evaluates erfc(x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Erfc {
    /// W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 631 (1969); the SPECFUN
    /// `CALERF` coefficients): relative error below 1e-14 for every x ≥ 0 used here, i.e. exact to
    /// double precision apart from the rounding of x² inside exp(−x²).
    #[default]
    Exact,
    /// Abramowitz & Stegun 7.1.26, the five-term polynomial LAMMPS's `coul/long`, `coul/dsf` and
    /// `born/coul/dsf` use (absolute error ≤ 1.5e-7): choose it to reproduce those styles to 1e-9.
    AbramowitzStegun,
}

/// 2/√π to double precision.
pub(crate) const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// LAMMPS's `EWALD_F`, its 9-digit 2/√π used by `coul/long` (not by `coul/dsf`).
#[allow(clippy::approx_constant)] // deliberately LAMMPS's truncated value
pub(crate) const LAMMPS_EWALD_F: f64 = 1.128_379_17;

const AS_P: f64 = 0.327_591_1;
const AS_A: [f64; 5] = [
    0.254_829_592,
    -0.284_496_736,
    1.421_413_741,
    -1.453_152_027,
    1.061_405_429,
];

/// Abramowitz–Stegun 7.1.26 as LAMMPS writes it: `t (A1 + t (A2 + t (A3 + t (A4 + t A5)))) e^{−x²}`
/// with `t = 1 / (1 + p x)`.
#[inline(always)]
pub(crate) fn erfc_as(x: f64, exp_mx2: f64) -> f64 {
    let t = 1.0 / (1.0 + AS_P * x);
    t * (AS_A[0] + t * (AS_A[1] + t * (AS_A[2] + t * (AS_A[3] + t * AS_A[4])))) * exp_mx2
}

// Cody's coefficients (SPECFUN CALERF).
#[allow(clippy::excessive_precision)] // published 18-digit coefficients
const CA: [f64; 5] = [
    3.161_123_743_870_565_6,
    113.864_154_151_050_16,
    377.485_237_685_302_02,
    3_209.377_589_138_469_5,
    0.185_777_706_184_603_15,
];
#[allow(clippy::excessive_precision)] // published 18-digit coefficients
const CB: [f64; 4] = [
    23.601_290_952_344_122,
    244.024_637_934_444_17,
    1_282.616_526_077_372_3,
    2_844.236_833_439_170_6,
];
#[allow(clippy::excessive_precision)] // published 18-digit coefficients
const CC: [f64; 9] = [
    0.564_188_496_988_670_09,
    8.883_149_794_388_376,
    66.119_190_637_141_63,
    298.635_138_197_400_13,
    881.952_221_241_769_1,
    1_712.047_612_634_070_6,
    2_051.078_377_826_071_5,
    1_230.339_354_797_997_3,
    2.153_115_354_744_038_5e-8,
];
#[allow(clippy::excessive_precision)] // published 18-digit coefficients
const CD: [f64; 8] = [
    15.744_926_110_709_835,
    117.693_950_891_312_5,
    537.181_101_862_009_9,
    1_621.389_574_566_690_2,
    3_290.799_235_733_459_6,
    4_362.619_090_143_247,
    3_439.367_674_143_721_6,
    1_230.339_354_803_749_4,
];
#[allow(clippy::excessive_precision)] // published 18-digit coefficients
const CP: [f64; 6] = [
    0.305_326_634_961_232_34,
    0.360_344_899_949_804_44,
    0.125_781_726_111_229_25,
    0.016_083_785_148_742_277,
    6.587_491_615_298_378e-4,
    0.016_315_387_137_302_098,
];
#[allow(clippy::excessive_precision)] // published 18-digit coefficients
const CQ: [f64; 5] = [
    2.568_520_192_289_822_4,
    1.872_952_849_923_467_2,
    0.527_905_102_951_428_4,
    0.060_518_341_312_441_32,
    0.002_335_204_976_268_691_8,
];
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;

/// erfc(x) for x ≥ 0 by Cody's three intervals, with `exp_mx2 = exp(−x²)` supplied.
#[inline(always)]
pub(crate) fn erfc_cody(x: f64, exp_mx2: f64) -> f64 {
    if x <= 0.468_75 {
        let z = x * x;
        let mut num = CA[4] * z;
        let mut den = z;
        for k in 0..3 {
            num = (num + CA[k]) * z;
            den = (den + CB[k]) * z;
        }
        1.0 - x * (num + CA[3]) / (den + CB[3])
    } else if x <= 4.0 {
        let mut num = CC[8] * x;
        let mut den = x;
        for k in 0..7 {
            num = (num + CC[k]) * x;
            den = (den + CD[k]) * x;
        }
        (num + CC[7]) / (den + CD[7]) * exp_mx2
    } else {
        let z = 1.0 / (x * x);
        let mut num = CP[5] * z;
        let mut den = z;
        for k in 0..4 {
            num = (num + CP[k]) * z;
            den = (den + CQ[k]) * z;
        }
        let r = z * (num + CP[4]) / (den + CQ[4]);
        (FRAC_1_SQRT_PI - r) / x * exp_mx2
    }
}

/// Cody's middle interval alone (valid for 0.46875 < x ≤ 4): branch-free, so batched kernels
/// vectorise it and then redo the few arguments outside the interval with [`erfc_cody`].
#[inline(always)]
pub(crate) fn erfc_cody_middle(x: f64, exp_mx2: f64) -> f64 {
    let mut num = CC[8] * x;
    let mut den = x;
    for k in 0..7 {
        num = (num + CC[k]) * x;
        den = (den + CD[k]) * x;
    }
    (num + CC[7]) / (den + CD[7]) * exp_mx2
}

/// Whether [`erfc_cody_middle`] is valid at x.
#[inline(always)]
pub(crate) fn in_cody_middle(x: f64) -> bool {
    x > 0.468_75 && x <= 4.0
}

/// erfc(x) for any real x, accurate (for shift constants and tests).
pub(crate) fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        2.0 - erfc(-x)
    } else if x > 27.0 {
        0.0
    } else {
        erfc_cody(x, (-x * x).exp())
    }
}

/// e^x for x ≤ 0, to within 2 ulp (arguments below −700 count as −700), written without calls or
/// branches so that batched kernels vectorise: Cody–Waite reduction x = k ln 2 + r, |r| ≤ ln2/2, then
/// the Taylor polynomial of degree 13 (truncation < 1e-17) and an exponent-field 2^k.
#[inline(always)]
pub(crate) fn exp_neg(x: f64) -> f64 {
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52: adding it rounds to an integer
    let x = x.max(-700.0);
    let t = x * INV_LN2 + SHIFT;
    let k = t - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // The low bits of t hold k (two's complement); 2^k has exponent field k + 1023.
    let two_k = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * two_k
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erfc from Python's `math.erfc` (glibc, correctly rounded to within 1 ulp here).
    const REFERENCE: [(f64, f64); 14] = [
        (0.0, 1.0),
        (0.1, 0.8875370839817152),
        (0.3, 0.6713732405408726),
        (0.46875, 0.507386526782062),
        (0.5, 0.4795001221869535),
        (0.9, 0.20309178757716786),
        (1.5, 0.033894853524689274),
        (2.5, 0.0004069520174449589),
        (3.2, 6.025761151762088e-06),
        (3.9, 3.479224859723177e-08),
        (4.0, 1.541725790028002e-08),
        (4.5, 1.9661604415428873e-10),
        (5.5, 7.357847917974398e-15),
        (6.5, 3.8421483271206475e-20),
    ];

    #[test]
    fn cody_matches_reference_values() {
        for &(x, want) in &REFERENCE {
            let got = erfc(x);
            assert!(
                ((got - want) / want).abs() < 1e-14,
                "erfc({x}) = {got}, want {want}"
            );
        }
        assert!((erfc(-1.0) - 1.842700792949715).abs() < 1e-15);
    }

    #[test]
    fn exp_neg_is_within_two_ulp() {
        let mut worst: f64 = 0.0;
        for k in 0..=699_000 {
            let x = -(k as f64) * 1e-3 - 1.234_567e-5;
            let (a, b) = (exp_neg(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 4.5e-16, "max relative error {worst:e}");
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(exp_neg(-1e6), (-700f64).exp());
    }

    #[test]
    fn abramowitz_stegun_is_within_its_bound() {
        for k in 0..=600 {
            let x = k as f64 * 0.01;
            let e = (-x * x).exp();
            assert!((erfc_as(x, e) - erfc(x)).abs() < 1.5e-7, "x = {x}");
        }
    }
}
