//! Smooth particle-mesh Ewald (Essmann et al. 1995) for large cells, at LAMMPS `kspace_style pppm`'s
//! accuracy.

use std::f64::consts::PI;
use std::sync::Arc;

use amorph_structure::Lattice;
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use super::erfc::Erfc;
use super::ewald::converged_reciprocal_forces;
use super::kspace::{
    RealSpaceKernel, add_kspace_virial, add_self_and_background, alpha_from_accuracy, check_accuracy_cutoff,
    check_alpha, real_space_error, sym,
};
use super::pairs::{PairList, Tabulated};
use super::{AtomCharges, Charges, DEFAULT_SKIN, check_output};
use crate::calculator::{Calculator, Configuration, Evaluation};
use crate::error::{Error, Result};
use crate::units::COULOMB_EV_A;

/// Default B-spline order (points per axis an atom's charge is spread over; LAMMPS's `pppm` uses 5,
/// but SPME reaches a given accuracy at less cost with 6).
pub const DEFAULT_ORDER: usize = 6;

/// Largest grid size per axis accepted.
const MAX_GRID: usize = 4096;

/// The parameters a [`Pppm`] sum runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PppmParameters {
    /// Ewald splitting parameter α (LAMMPS `g_ewald`), Å⁻¹.
    pub alpha: f64,
    /// Grid points along each lattice vector.
    pub grid: [usize; 3],
    /// B-spline order (points per axis).
    pub order: usize,
    /// Estimated RMS force error, eV/Å (`None` for explicit parameters).
    pub estimated_error: Option<f64>,
}

#[derive(Debug, Clone)]
enum Choice {
    Accuracy(f64),
    Explicit { alpha: f64, grid: [usize; 3] },
}

/// Smooth particle-mesh Ewald: U. Essmann, L. Perera, M. L. Berkowitz, T. Darden, H. Lee,
/// L. G. Pedersen, J. Chem. Phys. 103, 8577 (1995). Real space, self and background terms as
/// [`Ewald`](super::Ewald); reciprocal space by spreading the charges on a grid with cardinal
/// B-splines of order p, one real-to-complex 3-D FFT, the influence function
/// `(k/πV) e^{−π²m²/α²}/m² · |b₁(m₁) b₂(m₂) b₃(m₃)|²` and one inverse FFT; forces by differentiating
/// the B-splines (analytically, so the reciprocal forces are −∇ of the reciprocal energy exactly and
/// momentum is conserved to the grid's accuracy). Any triclinic cell: the grid runs along the lattice
/// vectors. FFTs by `rustfft`/`realfft` (pure Rust).
///
/// **Parameters from an accuracy** ([`Pppm::new`]), aiming at what LAMMPS `kspace_style pppm acc`
/// aims at, an RMS force error of `acc = accuracy × 14.399645 eV/Å` for random charges: α from the
/// real-space cutoff exactly as for [`Ewald`](super::Ewald) (the Kolafa–Perram real-space error
/// estimate equals acc); then the grid (sizes with prime factors 2, 3, 5, 7 only, at least the
/// order): start from the Deserno–Holm P3M estimate (J. Chem. Phys. 109, 7694 (1998), the formula
/// and coefficients LAMMPS uses) and refine it until the reciprocal-space error *measured* for SPME in
/// this cell — on two random sets of unit charges (32 and 256) against a converged Ewald sum, which
/// separates the field error made by the other charges from the spurious self-force — predicts, scaled
/// to the system's charges, an RMS error ≤ acc / 1.2. (Deserno–Holm's formula is for P3M with the
/// optimal influence function and ik differentiation; SPME with analytical differentiation has
/// errors up to several times larger at the same grid, with a stronger dependence on α, so the
/// estimate alone is not trusted.) The choice costs a few SPME and Ewald evaluations of ≤ 256 charges
/// once per cell. LAMMPS's PPPM picks its own grid (and rebalances α), so the two agree to the
/// accuracy, not digit for digit.
///
/// **Explicit parameters** ([`Pppm::with_alpha_grid`]): α and the grid.
///
/// Per-atom energies as LAMMPS: half of each real-space pair energy to either atom, the self and
/// background terms, and `½ q_i φ(r_i)` with φ the reciprocal-space potential interpolated at the atom.
#[derive(Debug, Clone)]
pub struct Pppm {
    cutoff: f64,
    choice: Choice,
    order: usize,
    erfc: Erfc,
    tabulate: bool,
    /// The tabulated real-space kernel and the α it was built for.
    table: Option<(f64, Tabulated<RealSpaceKernel>)>,
    charges: AtomCharges,
    pairs: PairList,
    plan: Option<Plan>,
}

impl Pppm {
    /// SPME with real-space cutoff `real_cutoff` (Å) and relative RMS force accuracy `accuracy`
    /// (LAMMPS `kspace_style pppm accuracy`), B-spline order 6.
    pub fn new(charges: Charges, real_cutoff: f64, accuracy: f64) -> Result<Self> {
        check_accuracy_cutoff(accuracy, real_cutoff)?;
        Ok(Pppm {
            cutoff: real_cutoff,
            choice: Choice::Accuracy(accuracy),
            order: DEFAULT_ORDER,
            erfc: Erfc::Exact,
            tabulate: false,
            table: None,
            charges: AtomCharges::new(charges),
            pairs: PairList::new(real_cutoff, DEFAULT_SKIN)?,
            plan: None,
        })
    }

    /// SPME with explicit α (Å⁻¹) and grid (points along a, b, c).
    pub fn with_alpha_grid(charges: Charges, real_cutoff: f64, alpha: f64, grid: [usize; 3]) -> Result<Self> {
        check_accuracy_cutoff(0.5, real_cutoff)?;
        check_alpha(alpha)?;
        if grid.iter().any(|&k| !(DEFAULT_ORDER..=MAX_GRID).contains(&k)) {
            return Err(Error::InvalidParameter(format!(
                "PPPM grid {grid:?} must have {DEFAULT_ORDER}..={MAX_GRID} points per axis"
            )));
        }
        Ok(Pppm {
            cutoff: real_cutoff,
            choice: Choice::Explicit { alpha, grid },
            order: DEFAULT_ORDER,
            erfc: Erfc::Exact,
            tabulate: false,
            table: None,
            charges: AtomCharges::new(charges),
            pairs: PairList::new(real_cutoff, DEFAULT_SKIN)?,
            plan: None,
        })
    }

    /// B-spline order p (3–8, default 6): higher orders allow coarser grids.
    pub fn with_order(mut self, order: usize) -> Result<Self> {
        if !(3..=8).contains(&order) {
            return Err(Error::InvalidParameter(format!(
                "PPPM order must be 3..=8, got {order}"
            )));
        }
        if let Choice::Explicit { grid, .. } = self.choice
            && grid.iter().any(|&k| k < order)
        {
            return Err(Error::InvalidParameter(format!(
                "PPPM grid {grid:?} has fewer points than the order {order}"
            )));
        }
        self.order = order;
        self.plan = None;
        Ok(self)
    }

    /// Choose how erfc(αr) is evaluated in real space.
    pub fn with_erfc(mut self, erfc: Erfc) -> Self {
        self.erfc = erfc;
        self
    }

    /// Real space as LAMMPS `coul/long` with `pair_modify table 0` (its erfc polynomial).
    pub fn lammps_compatible(self) -> Self {
        self.with_erfc(Erfc::AbramowitzStegun)
    }

    /// Evaluate the real-space term from a table over r (spacing 5e-4 Å, linear interpolation,
    /// built from the chosen erfc), as LAMMPS does by default (`pair_modify table`): about 1e-7
    /// relative error per pair, well inside any PPPM accuracy, at a fraction of the cost.
    pub fn tabulated(mut self, on: bool) -> Self {
        self.tabulate = on;
        self.table = None;
        self
    }

    /// Verlet-list skin of the real-space sum, Å (default 1 Å). Results do not depend on it.
    pub fn with_skin(mut self, skin: f64) -> Result<Self> {
        self.pairs = PairList::new(self.cutoff, skin)?;
        Ok(self)
    }

    /// The real-space cutoff, Å.
    pub fn real_cutoff(&self) -> f64 {
        self.cutoff
    }

    /// The charges per element.
    pub fn charges(&self) -> &Charges {
        self.charges.table()
    }

    /// The parameters this sum uses for a configuration.
    pub fn parameters(&mut self, config: &Configuration) -> Result<PppmParameters> {
        let q = self.charges.per_atom(config)?;
        self.ensure_plan(config.lattice, &q)?;
        self.plan
            .as_ref()
            .map(|p| p.params.clone())
            .ok_or_else(|| Error::Configuration("PPPM plan unavailable".into()))
    }

    fn ensure_plan(&mut self, lattice: &Lattice, q: &[f64]) -> Result<()> {
        let q2sum: f64 = q.iter().map(|x| x * x).sum();
        let key = (q.len(), *lattice.matrix(), q2sum.to_bits());
        if self.plan.as_ref().is_some_and(|p| p.key == key) {
            return Ok(());
        }
        let q4sum: f64 = q.iter().map(|x| x.powi(4)).sum();
        let params = self.choose(lattice, q.len(), q2sum, q4sum)?;
        // Keep the FFT plans and buffers when only the cell changed.
        match self.plan.take() {
            Some(mut p) if p.params.grid == params.grid && p.params.order == params.order => {
                p.set_influence(lattice, &params);
                p.params = params;
                p.key = key;
                self.plan = Some(p);
            }
            _ => self.plan = Some(Plan::new(lattice, params, key)),
        }
        Ok(())
    }

    fn choose(&self, lattice: &Lattice, n: usize, q2sum: f64, q4sum: f64) -> Result<PppmParameters> {
        let p = self.order;
        match self.choice {
            Choice::Explicit { alpha, grid } => Ok(PppmParameters {
                alpha,
                grid,
                order: p,
                estimated_error: None,
            }),
            Choice::Accuracy(accuracy) => {
                let acc = accuracy * COULOMB_EV_A;
                let q2 = q2sum * COULOMB_EV_A;
                let volume = lattice.volume();
                if q2 == 0.0 || n == 0 {
                    return Ok(PppmParameters {
                        alpha: 1.0,
                        grid: [p; 3],
                        order: p,
                        estimated_error: Some(0.0),
                    });
                }
                let alpha = alpha_from_accuracy(acc, n, self.cutoff, volume, q2);
                let (grid, kspace) = choose_grid(lattice, alpha, p, acc, q2sum, q4sum, n)?;
                let real = real_space_error(alpha, n, self.cutoff, volume, q2);
                Ok(PppmParameters {
                    alpha,
                    grid,
                    order: p,
                    estimated_error: Some((kspace * kspace + real * real).sqrt()),
                })
            }
        }
    }
}

/// Deserno & Holm's P3M coefficients a_m^{(p)} (LAMMPS `acons`).
const ACONS: [[f64; 7]; 8] = [
    [0.0; 7],
    [2.0 / 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [1.0 / 50.0, 5.0 / 294.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [1.0 / 588.0, 7.0 / 1440.0, 21.0 / 3872.0, 0.0, 0.0, 0.0, 0.0],
    [
        1.0 / 4320.0,
        3.0 / 1936.0,
        7601.0 / 2271360.0,
        143.0 / 28800.0,
        0.0,
        0.0,
        0.0,
    ],
    [
        1.0 / 23232.0,
        7601.0 / 13628160.0,
        143.0 / 69120.0,
        517231.0 / 106536960.0,
        106640677.0 / 11737571328.0,
        0.0,
        0.0,
    ],
    [
        691.0 / 68140800.0,
        13.0 / 57600.0,
        47021.0 / 35512320.0,
        9694607.0 / 2095994880.0,
        733191589.0 / 59609088000.0,
        326190917.0 / 11700633600.0,
        0.0,
    ],
    [
        1.0 / 345600.0,
        3617.0 / 35512320.0,
        745739.0 / 838397952.0,
        56399353.0 / 12773376000.0,
        25091609.0 / 1560084480.0,
        1755948832039.0 / 36229939200000.0,
        4887769399.0 / 37838389248.0,
    ],
];

/// Estimated reciprocal-space RMS force error (eV/Å) along one axis of width `w` with spacing `h`.
fn spme_error(order: usize, h: f64, w: f64, n: usize, alpha: f64, q2: f64) -> f64 {
    let p = order.min(7);
    let ha = h * alpha;
    let sum: f64 = (0..p).map(|m| ACONS[p][m] * ha.powi(2 * m as i32)).sum();
    q2 * ha.powi(order as i32) * (alpha * w * (2.0 * PI).sqrt() * sum / n as f64).sqrt() / (w * w)
}

/// Probe charge sets used to measure a grid's error: this many ±1 e charges at random (fixed seeds).
const PROBE_SMALL: usize = 32;
const PROBE_LARGE: usize = 256;

/// Safety factor on the predicted error.
const PROBE_SAFETY: f64 = 1.2;

/// The grid for an accuracy. Start from the Deserno–Holm estimate (aiming at 1.5 acc); then measure
/// the reciprocal-space force error of SPME in this very cell, with this α and order, on two random
/// sets of unit charges against a converged Ewald sum. A charge's force error has two independent
/// parts: the field error caused by the other charges (variance `f² Σ_j q_j²`) and the spurious
/// self-force of its own spread charge (variance `s² q_i²`); the two probe sizes separate them, and
/// the prediction for the system is `√((Σq²)² f² / N + Σq⁴ s² / N)`. The grid is refined until
/// `PROBE_SAFETY ×` the prediction is ≤ acc. Returns the grid and the prediction (eV/Å).
fn choose_grid(
    lattice: &Lattice,
    alpha: f64,
    p: usize,
    acc: f64,
    q2sum: f64,
    q4sum: f64,
    n: usize,
) -> Result<([usize; 3], f64)> {
    let widths = lattice.perpendicular_widths();
    let q2 = q2sum * COULOMB_EV_A;
    let mut grid = [0; 3];
    for d in 0..3 {
        let mut k = next_fft_size(p);
        while spme_error(p, widths[d] / k as f64, widths[d], n, alpha, q2) > 1.5 * acc {
            k = next_fft_size(k + 1);
            if k > MAX_GRID {
                return Err(too_fine(acc));
            }
        }
        grid[d] = k;
    }
    for _ in 0..12 {
        let (f2, s2) = probe_error(lattice, alpha, p, grid)?;
        let nf = n as f64;
        let predicted = (q2sum * q2sum * f2 / nf + q4sum * s2 / nf).sqrt();
        if PROBE_SAFETY * predicted <= acc {
            return Ok((grid, predicted));
        }
        let s = (PROBE_SAFETY * predicted / acc).powf(1.0 / p as f64).max(1.05);
        for k in grid.iter_mut() {
            *k = next_fft_size((*k as f64 * s).ceil() as usize);
            if *k > MAX_GRID {
                return Err(too_fine(acc));
            }
        }
    }
    Err(too_fine(acc))
}

fn too_fine(acc: f64) -> Error {
    Error::InvalidParameter(format!(
        "PPPM accuracy {:e} needs more than {MAX_GRID} grid points per axis",
        acc / COULOMB_EV_A
    ))
}

/// Mean squared reciprocal-space force error of `count` random ±1 e charges (eV²/Å²).
fn probe_mse(
    lattice: &Lattice,
    alpha: f64,
    order: usize,
    grid: [usize; 3],
    count: usize,
    seed: u64,
) -> Result<f64> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let positions: Vec<Vector3<f64>> = (0..count)
        .map(|_| lattice.to_cartesian(&Vector3::new(next(), next(), next())))
        .collect();
    let q: Vec<f64> = (0..count).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    let params = PppmParameters {
        alpha,
        grid,
        order,
        estimated_error: None,
    };
    let mut plan = Plan::new(lattice, params, (0, Matrix3::zeros(), 0));
    let mut out = Evaluation::zeros(count);
    reciprocal(&mut plan, lattice, &positions, &q, &mut out)?;
    let reference = converged_reciprocal_forces(lattice, &positions, &q, alpha);
    let err2: f64 = out
        .forces
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).norm_squared())
        .sum();
    Ok(err2 / count as f64)
}

/// (f², s²) of [`choose_grid`], eV²/Å² per e⁴: from `mse(N) = N f² + s²` at two probe sizes.
fn probe_error(lattice: &Lattice, alpha: f64, order: usize, grid: [usize; 3]) -> Result<(f64, f64)> {
    let small = probe_mse(lattice, alpha, order, grid, PROBE_SMALL, 0x5EED_0001)?;
    let large = probe_mse(lattice, alpha, order, grid, PROBE_LARGE, 0x5EED_0002)?;
    let (n1, n2) = (PROBE_SMALL as f64, PROBE_LARGE as f64);
    let f2 = ((large - small) / (n2 - n1)).max(0.0);
    let s2 = (small - n1 * f2).max(0.0);
    // If noise hides the field part, bound it by the large probe alone.
    let f2 = f2.max(0.25 * large / n2);
    Ok((f2, s2))
}

/// Smallest k' ≥ k whose only prime factors are 2, 3, 5 and 7.
fn next_fft_size(k: usize) -> usize {
    let mut k = k.max(1);
    loop {
        let mut r = k;
        for p in [2, 3, 5, 7] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 {
            return k;
        }
        k += 1;
    }
}

/// Cardinal B-spline weights M_p(w + j) and their derivatives for j = 0..p−1, w ∈ [0, 1).
#[inline]
fn bspline(order: usize, w: f64, theta: &mut [f64], dtheta: &mut [f64]) {
    // Order 2: M2(w) = w, M2(w + 1) = 1 − w.
    theta[0] = w;
    theta[1] = 1.0 - w;
    for p in 3..=order {
        if p == order {
            // dM_p(x)/dx = M_{p−1}(x) − M_{p−1}(x − 1).
            dtheta[0] = theta[0];
            for j in 1..p - 1 {
                dtheta[j] = theta[j] - theta[j - 1];
            }
            dtheta[p - 1] = -theta[p - 2];
        }
        let div = 1.0 / (p - 1) as f64;
        // M_p(x) = [x M_{p−1}(x) + (p − x) M_{p−1}(x − 1)] / (p − 1), x = w + j.
        theta[p - 1] = div * (1.0 - w) * theta[p - 2];
        for j in (1..p - 1).rev() {
            let x = w + j as f64;
            theta[j] = div * (x * theta[j] + (p as f64 - x) * theta[j - 1]);
        }
        theta[0] *= div * w;
    }
    if order == 2 {
        dtheta[0] = 1.0;
        dtheta[1] = -1.0;
    }
}

/// |b(m)|² of the B-spline interpolation along an axis of `k` points (Essmann et al. Eq. 4.4), with
/// the zero at m = K/2 of odd orders replaced by the mean of its neighbours.
fn bspline_moduli(order: usize, k: usize) -> Vec<f64> {
    let mut theta = vec![0.0; order];
    let mut dtheta = vec![0.0; order];
    bspline(order, 0.0, &mut theta, &mut dtheta); // theta[j] = M_p(j)
    let mut den: Vec<f64> = (0..k)
        .map(|m| {
            let (mut re, mut im) = (0.0, 0.0);
            for j in 0..order - 1 {
                let arg = 2.0 * PI * (m * j) as f64 / k as f64;
                re += theta[j + 1] * arg.cos();
                im += theta[j + 1] * arg.sin();
            }
            re * re + im * im
        })
        .collect();
    for m in 0..k {
        if den[m] < 1e-10 {
            let a = den[(m + k - 1) % k];
            let b = den[(m + 1) % k];
            den[m] = 0.5 * (a + b);
        }
    }
    den.iter().map(|d| 1.0 / d).collect()
}

#[derive(Clone)]
struct Plan {
    key: (usize, Matrix3<f64>, u64),
    params: PppmParameters,
    /// Grid sizes and the half length of the last axis (K3/2 + 1).
    k: [usize; 3],
    hn: usize,
    /// Influence function `(k_e/πV) e^{−π²m²/α²}/m² B(m)`, layout [h][k2][k1].
    influence: Vec<f64>,
    /// Cartesian reciprocal vectors without 2π (columns of the inverse cell matrix).
    inverse: Matrix3<f64>,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    fft2: (Arc<dyn Fft<f64>>, Arc<dyn Fft<f64>>),
    fft1: (Arc<dyn Fft<f64>>, Arc<dyn Fft<f64>>),
    real: Vec<f64>,
    planes: Vec<Complex<f64>>,
    lines: Vec<Complex<f64>>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Plan {
    fn new(lattice: &Lattice, params: PppmParameters, key: (usize, Matrix3<f64>, u64)) -> Self {
        let k = params.grid;
        let hn = k[2] / 2 + 1;
        let mut rp = RealFftPlanner::<f64>::new();
        let mut cp = FftPlanner::<f64>::new();
        let mut plan = Plan {
            key,
            k,
            hn,
            influence: Vec::new(),
            inverse: Matrix3::zeros(),
            r2c: rp.plan_fft_forward(k[2]),
            c2r: rp.plan_fft_inverse(k[2]),
            fft2: (cp.plan_fft_forward(k[1]), cp.plan_fft_inverse(k[1])),
            fft1: (cp.plan_fft_forward(k[0]), cp.plan_fft_inverse(k[0])),
            real: vec![0.0; k[0] * k[1] * k[2]],
            planes: vec![Complex::default(); k[0] * hn * k[1]],
            lines: vec![Complex::default(); hn * k[1] * k[0]],
            params: params.clone(),
        };
        plan.set_influence(lattice, &params);
        plan
    }

    fn set_influence(&mut self, lattice: &Lattice, params: &PppmParameters) {
        let [k1, k2, k3] = self.k;
        let hn = self.hn;
        let b = [0, 1, 2].map(|d| bspline_moduli(params.order, self.k[d]));
        let inv = *lattice.inverse();
        let pref = COULOMB_EV_A / (PI * lattice.volume());
        let a2 = params.alpha * params.alpha;
        let mut g = vec![0.0; hn * k2 * k1];
        g.par_chunks_mut(k2 * k1).enumerate().for_each(|(h, block)| {
            for i2 in 0..k2 {
                for i1 in 0..k1 {
                    let m = inv * Vector3::new(signed(i1, k1), signed(i2, k2), h as f64);
                    let m2 = m.norm_squared();
                    block[i2 * k1 + i1] = if m2 == 0.0 {
                        0.0
                    } else {
                        pref * (-PI * PI * m2 / a2).exp() / m2 * b[0][i1] * b[1][i2] * b[2][h % k3]
                    };
                }
            }
        });
        self.influence = g;
        self.inverse = inv;
    }
}

#[inline]
fn signed(i: usize, k: usize) -> f64 {
    if 2 * i > k { i as f64 - k as f64 } else { i as f64 }
}

impl Calculator for Pppm {
    fn name(&self) -> String {
        match self.choice {
            Choice::Accuracy(a) => format!(
                "Coulomb PPPM/SPME (rc = {} Å, accuracy {a:e}, order {})",
                self.cutoff, self.order
            ),
            Choice::Explicit { alpha, grid } => format!(
                "Coulomb PPPM/SPME (rc = {} Å, α = {alpha} Å⁻¹, grid {grid:?}, order {})",
                self.cutoff, self.order
            ),
        }
    }

    fn cutoff(&self) -> Option<f64> {
        None
    }

    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()> {
        check_output(config, out)?;
        let q = self.charges.per_atom(config)?;
        if q.iter().all(|&x| x == 0.0) {
            return Ok(());
        }
        self.ensure_plan(config.lattice, &q)?;
        let plan = self
            .plan
            .as_mut()
            .ok_or_else(|| Error::Configuration("PPPM plan unavailable".into()))?;
        let alpha = plan.params.alpha;
        self.pairs.update(config.lattice, config.positions)?;
        if self.tabulate {
            if self.table.as_ref().is_none_or(|(a, _)| *a != alpha) {
                let kernel = RealSpaceKernel::new(alpha, self.erfc);
                self.table = Some((alpha, Tabulated::new(kernel, self.cutoff)));
            }
            if let Some((_, table)) = &self.table {
                self.pairs.accumulate(config.positions, &q, table, out);
            }
        } else {
            self.pairs
                .accumulate(config.positions, &q, &RealSpaceKernel::new(alpha, self.erfc), out);
        }
        reciprocal(plan, config.lattice, config.positions, &q, out)?;
        add_self_and_background(&q, alpha, config.lattice.volume(), out);
        Ok(())
    }
}

/// B-spline data of every atom: base grid index and weights per axis.
struct Splines {
    order: usize,
    base: Vec<[usize; 3]>,
    /// [atom][axis][j] weights and derivatives (w.r.t. the scaled coordinate u).
    theta: Vec<f64>,
    dtheta: Vec<f64>,
    /// [atom][axis][j] grid index (base − j) mod K of each weight.
    index: Vec<usize>,
}

impl Splines {
    fn new(lattice: &Lattice, positions: &[Vector3<f64>], k: [usize; 3], order: usize) -> Self {
        let n = positions.len();
        let mut base = vec![[0usize; 3]; n];
        let mut theta = vec![0.0; n * 3 * order];
        let mut dtheta = vec![0.0; n * 3 * order];
        let mut index = vec![0usize; n * 3 * order];
        base.par_iter_mut()
            .zip(theta.par_chunks_mut(3 * order))
            .zip(dtheta.par_chunks_mut(3 * order))
            .zip(index.par_chunks_mut(3 * order))
            .zip(positions.par_iter())
            .for_each(|((((b, t), dt), ix), p)| {
                let f = lattice.to_fractional(p);
                for d in 0..3 {
                    let kd = k[d] as f64;
                    let u = (f[d] - f[d].floor()) * kd;
                    let mut fl = u.floor();
                    if fl >= kd {
                        fl = kd - 1.0;
                    }
                    let w = (u - fl).clamp(0.0, 1.0);
                    b[d] = fl as usize;
                    bspline(
                        order,
                        w,
                        &mut t[d * order..(d + 1) * order],
                        &mut dt[d * order..(d + 1) * order],
                    );
                    for j in 0..order {
                        ix[d * order + j] = (b[d] + k[d] * order - j) % k[d];
                    }
                }
            });
        Splines {
            order,
            base,
            theta,
            dtheta,
            index,
        }
    }

    #[inline(always)]
    fn th(&self, i: usize, d: usize) -> &[f64] {
        let o = (i * 3 + d) * self.order;
        &self.theta[o..o + self.order]
    }

    #[inline(always)]
    fn idx(&self, i: usize, d: usize) -> &[usize] {
        let o = (i * 3 + d) * self.order;
        &self.index[o..o + self.order]
    }

    #[inline(always)]
    fn dth(&self, i: usize, d: usize) -> &[f64] {
        let o = (i * 3 + d) * self.order;
        &self.dtheta[o..o + self.order]
    }
}

fn fft_error(e: impl std::fmt::Display) -> Error {
    Error::Configuration(format!("FFT failed: {e}"))
}

fn reciprocal(
    plan: &mut Plan,
    lattice: &Lattice,
    positions: &[Vector3<f64>],
    q: &[f64],
    out: &mut Evaluation,
) -> Result<()> {
    let n = positions.len();
    let [k1, k2, k3] = plan.k;
    let hn = plan.hn;
    let order = plan.params.order;
    let sp = Splines::new(lattice, positions, plan.k, order);

    // 1. Spread the charges, one x-plane per task; contributions to a point arrive in a fixed order.
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); k1];
    for (i, b) in sp.base.iter().enumerate() {
        buckets[b[0]].push(i as u32);
    }
    plan.real
        .par_chunks_mut(k2 * k3)
        .enumerate()
        .for_each(|(p1, plane)| {
            plane.fill(0.0);
            for j1 in 0..order {
                for &i in &buckets[(p1 + j1) % k1] {
                    let i = i as usize;
                    let t1 = q[i] * sp.th(i, 0)[j1];
                    let (t2, t3) = (sp.th(i, 1), sp.th(i, 2));
                    let (x2, x3) = (sp.idx(i, 1), sp.idx(i, 2));
                    for (&w2, &r2) in t2.iter().zip(x2) {
                        let row = &mut plane[r2 * k3..(r2 + 1) * k3];
                        let t12 = t1 * w2;
                        for (&w3, &c3) in t3.iter().zip(x3) {
                            row[c3] += t12 * w3;
                        }
                    }
                }
            }
        });

    // 2. Forward FFT: r2c along c and FFT along b within each plane (→ planes[p1][h][k2]).
    let (r2c, fft2f) = (&plan.r2c, &plan.fft2.0);
    plan.real
        .par_chunks_mut(k2 * k3)
        .zip(plan.planes.par_chunks_mut(hn * k2))
        .try_for_each(|(rplane, cplane)| -> Result<()> {
            let mut row_out = vec![Complex::default(); hn];
            let mut scratch = r2c.make_scratch_vec();
            for i2 in 0..k2 {
                r2c.process_with_scratch(&mut rplane[i2 * k3..(i2 + 1) * k3], &mut row_out, &mut scratch)
                    .map_err(fft_error)?;
                for h in 0..hn {
                    cplane[h * k2 + i2] = row_out[h];
                }
            }
            let mut s2 = vec![Complex::default(); fft2f.get_inplace_scratch_len()];
            fft2f.process_with_scratch(cplane, &mut s2);
            Ok(())
        })?;

    // 3. Per h: gather lines along a, FFT, multiply by the influence function (energy and virial on
    //    the way), inverse FFT.
    let planes = &plan.planes;
    let influence = &plan.influence;
    let inv = plan.inverse;
    let (fft1f, fft1i) = (&plan.fft1.0, &plan.fft1.1);
    let inv_4a2 = 0.25 / (plan.params.alpha * plan.params.alpha);
    let partial: Vec<(f64, [f64; 6])> = plan
        .lines
        .par_chunks_mut(k2 * k1)
        .enumerate()
        .map(|(h, block)| {
            for i2 in 0..k2 {
                for i1 in 0..k1 {
                    block[i2 * k1 + i1] = planes[(i1 * hn + h) * k2 + i2];
                }
            }
            let mut s1 = vec![
                Complex::default();
                fft1f
                    .get_inplace_scratch_len()
                    .max(fft1i.get_inplace_scratch_len())
            ];
            fft1f.process_with_scratch(block, &mut s1);
            let weight = if h == 0 || (k3 % 2 == 0 && h == k3 / 2) {
                0.5
            } else {
                1.0
            };
            let g = &influence[h * k2 * k1..(h + 1) * k2 * k1];
            let mut e = 0.0;
            let mut w = [0.0f64; 6];
            for i2 in 0..k2 {
                for i1 in 0..k1 {
                    let idx = i2 * k1 + i1;
                    let gi = g[idx];
                    let v = block[idx];
                    let e_m = weight * gi * v.norm_sqr();
                    if e_m != 0.0 {
                        e += e_m;
                        let m = inv * Vector3::new(signed(i1, k1), signed(i2, k2), h as f64) * (2.0 * PI);
                        add_kspace_virial(&mut w, e_m, [m.x, m.y, m.z], m.norm_squared(), inv_4a2);
                    }
                    block[idx] = v * gi;
                }
            }
            fft1i.process_with_scratch(block, &mut s1);
            (e, w)
        })
        .collect();
    let mut energy = 0.0;
    let mut w = [0.0f64; 6];
    for (e, wh) in &partial {
        energy += e;
        for c in 0..6 {
            w[c] += wh[c];
        }
    }
    out.energy += energy;
    out.virial += sym(w);

    // 4. Back to planes, inverse FFT along b, c2r along c: the potential on the grid.
    let lines = &plan.lines;
    let (c2r, fft2i) = (&plan.c2r, &plan.fft2.1);
    plan.planes
        .par_chunks_mut(hn * k2)
        .zip(plan.real.par_chunks_mut(k2 * k3))
        .enumerate()
        .try_for_each(|(p1, (cplane, rplane))| -> Result<()> {
            for h in 0..hn {
                for i2 in 0..k2 {
                    cplane[h * k2 + i2] = lines[(h * k2 + i2) * k1 + p1];
                }
            }
            let mut s2 = vec![Complex::default(); fft2i.get_inplace_scratch_len()];
            fft2i.process_with_scratch(cplane, &mut s2);
            let mut row_in = vec![Complex::default(); hn];
            let mut scratch = c2r.make_scratch_vec();
            for i2 in 0..k2 {
                for h in 0..hn {
                    row_in[h] = cplane[h * k2 + i2];
                }
                row_in[0].im = 0.0;
                if k3 % 2 == 0 {
                    row_in[hn - 1].im = 0.0;
                }
                c2r.process_with_scratch(&mut row_in, &mut rplane[i2 * k3..(i2 + 1) * k3], &mut scratch)
                    .map_err(fft_error)?;
            }
            Ok(())
        })?;

    // 5. Interpolate potential and field at every atom.
    let phi = &plan.real;
    let kinv = [0, 1, 2].map(|d| inv.column(d) * plan.k[d] as f64);
    let per_atom = out.per_atom_energies.is_some();
    let res: Vec<(Vector3<f64>, f64)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (t1, t2, t3) = (sp.th(i, 0), sp.th(i, 1), sp.th(i, 2));
            let (d1, d2, d3) = (sp.dth(i, 0), sp.dth(i, 1), sp.dth(i, 2));
            let (x1, x2, x3) = (sp.idx(i, 0), sp.idx(i, 1), sp.idx(i, 2));
            let (mut p, mut g1, mut g2, mut g3) = (0.0, 0.0, 0.0, 0.0);
            for j1 in 0..order {
                let plane = &phi[x1[j1] * k2 * k3..(x1[j1] + 1) * k2 * k3];
                let (mut s, mut s2, mut s3) = (0.0, 0.0, 0.0);
                for j2 in 0..order {
                    let row = &plane[x2[j2] * k3..(x2[j2] + 1) * k3];
                    let (mut a, mut a3) = (0.0, 0.0);
                    for j3 in 0..order {
                        let v = row[x3[j3]];
                        a += t3[j3] * v;
                        a3 += d3[j3] * v;
                    }
                    s += t2[j2] * a;
                    s2 += d2[j2] * a;
                    s3 += t2[j2] * a3;
                }
                p += t1[j1] * s;
                g1 += d1[j1] * s;
                g2 += t1[j1] * s2;
                g3 += t1[j1] * s3;
            }
            let f = -(kinv[0] * g1 + kinv[1] * g2 + kinv[2] * g3) * q[i];
            (f, if per_atom { 0.5 * q[i] * p } else { 0.0 })
        })
        .collect();
    for (i, (f, e)) in res.iter().enumerate() {
        out.forces[i] += f;
        if let Some(pe) = out.per_atom_energies.as_mut() {
            pe[i] += e;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsplines_partition_unity_and_derivative() {
        for order in 2..=8 {
            let mut t = vec![0.0; order];
            let mut d = vec![0.0; order];
            for &w in &[0.0, 0.13, 0.5, 0.77, 0.999] {
                bspline(order, w, &mut t, &mut d);
                assert!((t.iter().sum::<f64>() - 1.0).abs() < 1e-14, "order {order}");
                assert!(d.iter().sum::<f64>().abs() < 1e-14);
                let h = 1e-6;
                let (mut tp, mut tm) = (vec![0.0; order], vec![0.0; order]);
                let mut dd = vec![0.0; order];
                if w == 0.0 {
                    continue; // a knot: M_p is only C^(p−2) there
                }
                bspline(order, w + h, &mut tp, &mut dd);
                bspline(order, w - h, &mut tm, &mut dd);
                let step = 2.0 * h;
                for j in 0..order {
                    assert!(
                        ((tp[j] - tm[j]) / step - d[j]).abs() < 1e-6,
                        "order {order} j {j} w {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn fft_sizes() {
        assert_eq!(next_fft_size(11), 12);
        assert_eq!(next_fft_size(13), 14);
        assert_eq!(next_fft_size(17), 18);
        assert_eq!(next_fft_size(97), 98);
    }
}
