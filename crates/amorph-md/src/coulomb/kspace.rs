//! What Ewald and PPPM share: the real-space `erfc(αr)/r` kernel (LAMMPS `coul/long`), the self and
//! neutralising-background terms, and LAMMPS's rules for choosing α from an accuracy.

use std::f64::consts::PI;

use amorph_structure::Lattice;
use nalgebra::Matrix3;

use super::erfc::{Erfc, LAMMPS_EWALD_F, TWO_OVER_SQRT_PI, exp_neg};
use super::pairs::{ErfcPairKernel, ordered_sum};
use crate::calculator::Evaluation;
use crate::error::{Error, Result};
use crate::units::COULOMB_EV_A;

/// Real-space Ewald pair term `k q_i q_j erfc(αr)/r`, as LAMMPS `coul/long` (with `pair_modify table
/// 0`): with [`Erfc::AbramowitzStegun`] also its 9-digit 2/√π (`EWALD_F`).
#[derive(Debug, Clone)]
pub(crate) struct RealSpaceKernel {
    alpha: f64,
    erfc: Erfc,
    two_over_sqrt_pi: f64,
}

impl RealSpaceKernel {
    pub(crate) fn new(alpha: f64, erfc: Erfc) -> Self {
        let two_over_sqrt_pi = match erfc {
            Erfc::Exact => TWO_OVER_SQRT_PI,
            Erfc::AbramowitzStegun => LAMMPS_EWALD_F,
        };
        RealSpaceKernel {
            alpha,
            erfc,
            two_over_sqrt_pi,
        }
    }
}

impl ErfcPairKernel for RealSpaceKernel {
    fn erfc(&self) -> Erfc {
        self.erfc
    }

    fn alpha(&self) -> f64 {
        self.alpha
    }

    #[inline(always)]
    fn eval_with(&self, r2: f64, qq: f64, erfc: impl Fn(f64, f64) -> f64) -> (f64, f64) {
        let rinv = 1.0 / r2.sqrt();
        let prefactor = COULOMB_EV_A * qq * rinv;
        let grij = self.alpha * r2 * rinv;
        let expm2 = exp_neg(-grij * grij);
        let erfc = erfc(grij, expm2);
        let forcecoul = prefactor * (erfc + self.two_over_sqrt_pi * grij * expm2);
        (prefactor * erfc, forcecoul * rinv * rinv)
    }
}

/// Add the Ewald self energy `−k α q_i²/√π` and the neutralising-background energy
/// `−k π q_i Q / (2 α² V)` of every atom (Q = Σ q), and the background's virial `E_bg·I`.
///
/// LAMMPS adds the same energies (and per-atom energies) but leaves the background out of the virial;
/// for a neutral cell (every glass here) the term is zero.
pub(crate) fn add_self_and_background(q: &[f64], alpha: f64, volume: f64, out: &mut Evaluation) {
    let qsum = ordered_sum(q);
    let c_self = -COULOMB_EV_A * alpha / PI.sqrt();
    let c_bg = -COULOMB_EV_A * PI * qsum / (2.0 * alpha * alpha * volume);
    let e: Vec<f64> = q.iter().map(|qi| c_self * qi * qi + c_bg * qi).collect();
    out.energy += ordered_sum(&e);
    out.virial += Matrix3::identity() * (c_bg * qsum);
    if let Some(pe) = out.per_atom_energies.as_mut() {
        for (a, b) in pe.iter_mut().zip(&e) {
            *a += b;
        }
    }
}

/// The box lengths LAMMPS would use for this cell (`xprd, yprd, zprd` = lx, ly, lz of its restricted
/// triclinic form: a along x, b in the xy plane), Å. Rotation invariant.
pub(crate) fn lammps_box_lengths(lattice: &Lattice) -> [f64; 3] {
    let (a, b, c) = (lattice.vector(0), lattice.vector(1), lattice.vector(2));
    let lx = a.norm();
    let xy = b.dot(&a) / lx;
    let ly = (b.norm_squared() - xy * xy).max(0.0).sqrt();
    let xz = c.dot(&a) / lx;
    let yz = (b.dot(&c) - xy * xz) / ly;
    let lz = (c.norm_squared() - xz * xz - yz * yz).max(0.0).sqrt();
    [lx, ly, lz]
}

/// LAMMPS's initial Ewald parameter (`Ewald::init`, `PPPM::set_grid_global`): from the absolute force
/// accuracy `acc` (eV/Å), the atom count, the real-space cutoff (Å), the volume (Å³) and
/// `q2 = k Σ q²` (eV·Å):
///
/// ```text
/// g = acc √(N rc V) / (2 q2);   α = √(−ln g) / rc   (or (1.35 − 0.15 ln acc) / rc when g ≥ 1)
/// ```
///
/// This balances the Kolafa–Perram real-space error estimate `2 q2 e^{−α² rc²} / √(N rc V)` against acc.
pub(crate) fn alpha_from_accuracy(acc: f64, natoms: usize, cutoff: f64, volume: f64, q2: f64) -> f64 {
    let g = acc * (natoms as f64 * cutoff * volume).sqrt() / (2.0 * q2);
    if g >= 1.0 {
        (1.35 - 0.15 * acc.ln()) / cutoff
    } else {
        (-g.ln()).sqrt() / cutoff
    }
}

/// Kolafa–Perram estimate of the real-space RMS force error, eV/Å (LAMMPS's `spr`).
pub(crate) fn real_space_error(alpha: f64, natoms: usize, cutoff: f64, volume: f64, q2: f64) -> f64 {
    2.0 * q2 * (-alpha * alpha * cutoff * cutoff).exp() / (natoms as f64 * cutoff * volume).sqrt()
}

/// Checks a relative accuracy and a real-space cutoff.
pub(crate) fn check_accuracy_cutoff(accuracy: f64, cutoff: f64) -> Result<()> {
    if !(accuracy.is_finite() && accuracy > 0.0 && accuracy < 1.0) {
        return Err(Error::InvalidParameter(format!(
            "relative force accuracy must be in (0, 1), got {accuracy}"
        )));
    }
    if !(cutoff.is_finite() && cutoff > 0.0) {
        return Err(Error::InvalidParameter(format!(
            "real-space cutoff must be positive and finite, got {cutoff} Å"
        )));
    }
    Ok(())
}

/// Checks an explicit Ewald parameter α (Å⁻¹).
pub(crate) fn check_alpha(alpha: f64) -> Result<()> {
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(Error::InvalidParameter(format!(
            "Ewald parameter α must be positive and finite, got {alpha} Å⁻¹"
        )));
    }
    Ok(())
}

/// The reciprocal-space virial factor of one k-vector (LAMMPS `vg`):
/// `δ_ab − 2 (1/k² + 1/(4α²)) k_a k_b`, times `e_k`, added into `w` (xx, yy, zz, xy, xz, yz).
#[inline(always)]
pub(crate) fn add_kspace_virial(w: &mut [f64; 6], e_k: f64, k: [f64; 3], k2: f64, inv_4a2: f64) {
    let v = -2.0 * (1.0 / k2 + inv_4a2);
    w[0] += e_k * (1.0 + v * k[0] * k[0]);
    w[1] += e_k * (1.0 + v * k[1] * k[1]);
    w[2] += e_k * (1.0 + v * k[2] * k[2]);
    w[3] += e_k * v * k[0] * k[1];
    w[4] += e_k * v * k[0] * k[2];
    w[5] += e_k * v * k[1] * k[2];
}

/// Symmetric 3×3 from (xx, yy, zz, xy, xz, yz).
pub(crate) fn sym(w: [f64; 6]) -> Matrix3<f64> {
    Matrix3::new(w[0], w[3], w[4], w[3], w[1], w[5], w[4], w[5], w[2])
}
