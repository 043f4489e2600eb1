//! Ewald summation, the reference Coulomb solver (LAMMPS `coul/long` + `kspace_style ewald`).

use std::f64::consts::PI;

use amorph_structure::Lattice;
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::erfc::Erfc;
use super::kspace::{
    RealSpaceKernel, add_kspace_virial, add_self_and_background, alpha_from_accuracy, check_accuracy_cutoff,
    check_alpha, lammps_box_lengths, real_space_error, sym,
};
use super::pairs::PairList;
use super::{AtomCharges, Charges, DEFAULT_SKIN, check_output};
use crate::calculator::{Calculator, Configuration, Evaluation};
use crate::error::{Error, Result};
use crate::units::COULOMB_EV_A;

/// The parameters an [`Ewald`] sum runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EwaldParameters {
    /// Ewald splitting parameter α (LAMMPS `g_ewald`), Å⁻¹.
    pub alpha: f64,
    /// Largest |m_i| of the k-vectors k = 2π Σ m_i a*_i along each reciprocal lattice vector.
    pub kmax: [usize; 3],
    /// Radius of the k-sphere, Å⁻¹ (`None`: every k-vector of the index box is used).
    pub kcut: Option<f64>,
    /// Number of k-vectors in the half space that is summed.
    pub kcount: usize,
    /// LAMMPS's estimate of the RMS force error, eV/Å (`None` for explicit parameters).
    pub estimated_error: Option<f64>,
}

#[derive(Debug, Clone)]
enum Choice {
    Accuracy(f64),
    Explicit { alpha: f64, kmax: [usize; 3] },
}

/// Ewald summation: real space `k q_i q_j erfc(αr)/r` within a cutoff, reciprocal space
/// `(4πk/V) Σ_{k>0} e^{−k²/4α²}/k² |S(k)|²` with `S(k) = Σ_j q_j e^{ik·r_j}` over half of k-space, the
/// self term `−kα/√π Σ q²` and the neutralising background `−kπQ²/(2α²V)` for a cell of net charge
/// Q (k = 14.399645 eV·Å). Any triclinic cell. P. P. Ewald, Ann. Phys. 369, 253 (1921); the forms
/// here follow LAMMPS's `ewald.cpp` (Pollock & Crozier; triclinic by Moore).
///
/// **Parameters from an accuracy** ([`Ewald::new`]), as LAMMPS `kspace_style ewald acc` with `pair_style
/// coul/long rc`: with `acc = accuracy × 14.399645 eV/Å` and `q2 = k Σ q²`,
/// α = √(−ln(acc √(N rc V) / (2 q2))) / rc; for each LAMMPS box length L (lx, ly, lz of the cell's
/// restricted triclinic form) the smallest kmax with
/// `2 q2 α / L · √(1/(π kmax N)) · exp(−π² kmax² / (α² L²)) ≤ acc`; the k-vectors are every k ≠ 0
/// with `|k|² ≤ 1.00001 · max_L (2π kmax/L)²`. (LAMMPS also clips each integer index to its own kmax,
/// which for a cubic cell changes nothing; we keep the whole sphere, so our set contains LAMMPS's.)
/// Parameters are resolved on the first call and again whenever the cell, atom count or charges change.
///
/// **Explicit parameters** ([`Ewald::with_alpha_kmax`]): α and the index box |m_i| ≤ kmax_i, no sphere;
/// the energy is then a smooth function of the cell (use this for strain derivatives).
///
/// Per-atom energies as LAMMPS: half of each real-space pair energy to either atom, the self and
/// background terms of the atom, and `q_i Σ_k ug_k Re(e^{ik·r_i} S*(k))` of reciprocal space.
#[derive(Debug, Clone)]
pub struct Ewald {
    cutoff: f64,
    choice: Choice,
    erfc: Erfc,
    charges: AtomCharges,
    pairs: PairList,
    cache: Option<Resolved>,
}

#[derive(Debug, Clone)]
struct Resolved {
    key: (usize, Matrix3<f64>, u64),
    params: EwaldParameters,
    /// k-vector columns (m1, m2, m3 first, m3 last), in summation order.
    columns: Vec<(i32, i32, i32, i32)>,
}

impl Ewald {
    /// Ewald sum with real-space cutoff `real_cutoff` (Å) and relative RMS force accuracy `accuracy`
    /// (LAMMPS `kspace_style ewald accuracy`; 1e-5 is typical for MD, 1e-10 for references).
    pub fn new(charges: Charges, real_cutoff: f64, accuracy: f64) -> Result<Self> {
        check_accuracy_cutoff(accuracy, real_cutoff)?;
        Ok(Ewald {
            cutoff: real_cutoff,
            choice: Choice::Accuracy(accuracy),
            erfc: Erfc::Exact,
            charges: AtomCharges::new(charges),
            pairs: PairList::new(real_cutoff, DEFAULT_SKIN)?,
            cache: None,
        })
    }

    /// Ewald sum with explicit α (Å⁻¹) and k-vector index box |m_i| ≤ kmax_i.
    pub fn with_alpha_kmax(charges: Charges, real_cutoff: f64, alpha: f64, kmax: [usize; 3]) -> Result<Self> {
        check_accuracy_cutoff(0.5, real_cutoff)?;
        check_alpha(alpha)?;
        if kmax.iter().any(|&k| k > 10_000) {
            return Err(Error::InvalidParameter(format!(
                "kmax {kmax:?} is unreasonably large"
            )));
        }
        Ok(Ewald {
            cutoff: real_cutoff,
            choice: Choice::Explicit { alpha, kmax },
            erfc: Erfc::Exact,
            charges: AtomCharges::new(charges),
            pairs: PairList::new(real_cutoff, DEFAULT_SKIN)?,
            cache: None,
        })
    }

    /// Choose how erfc(αr) is evaluated in real space.
    pub fn with_erfc(mut self, erfc: Erfc) -> Self {
        self.erfc = erfc;
        self
    }

    /// Real space exactly as LAMMPS `coul/long` with `pair_modify table 0` (its erfc polynomial).
    pub fn lammps_compatible(self) -> Self {
        self.with_erfc(Erfc::AbramowitzStegun)
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
    pub fn parameters(&mut self, config: &Configuration) -> Result<EwaldParameters> {
        let q = self.charges.per_atom(config)?;
        Ok(self.resolve(config.lattice, &q)?.params.clone())
    }

    fn resolve(&mut self, lattice: &Lattice, q: &[f64]) -> Result<&Resolved> {
        let q2sum: f64 = q.iter().map(|x| x * x).sum();
        let key = (q.len(), *lattice.matrix(), q2sum.to_bits());
        if self.cache.as_ref().is_none_or(|c| c.key != key) {
            let r = resolve(&self.choice, self.cutoff, lattice, q.len(), q2sum)?;
            self.cache = Some(Resolved { key, ..r });
        }
        self.cache
            .as_ref()
            .ok_or_else(|| Error::Configuration("Ewald parameters unavailable".into()))
    }
}

fn resolve(choice: &Choice, cutoff: f64, lattice: &Lattice, n: usize, q2sum: f64) -> Result<Resolved> {
    let volume = lattice.volume();
    let q2 = q2sum * COULOMB_EV_A;
    let (alpha, kmax, kcut, estimated) = match *choice {
        Choice::Explicit { alpha, kmax } => (alpha, kmax, None, None),
        Choice::Accuracy(accuracy) => {
            let acc = accuracy * COULOMB_EV_A;
            if q2 == 0.0 || n == 0 {
                (1.0, [0; 3], Some(0.0), Some(0.0))
            } else {
                let alpha = alpha_from_accuracy(acc, n, cutoff, volume, q2);
                let prd = lammps_box_lengths(lattice);
                let rms = |k: usize, l: f64| {
                    2.0 * q2 * alpha / l
                        * (1.0 / (PI * k as f64 * n as f64)).sqrt()
                        * (-PI * PI * (k * k) as f64 / (alpha * alpha * l * l)).exp()
                };
                let mut kl = [1usize; 3];
                for d in 0..3 {
                    while rms(kl[d], prd[d]) > acc {
                        kl[d] += 1;
                        if kl[d] > 10_000 {
                            return Err(Error::InvalidParameter(format!(
                                "Ewald accuracy {accuracy} needs more than 10000 k-vectors per axis"
                            )));
                        }
                    }
                }
                let g2 = (0..3)
                    .map(|d| (2.0 * PI * kl[d] as f64 / prd[d]).powi(2))
                    .fold(0.0, f64::max)
                    * 1.00001;
                let kcut = g2.sqrt();
                // Index bound covering the whole sphere: |m_i| = |k·a_i| / 2π ≤ kcut |a_i| / 2π.
                let abc = lattice.abc();
                let kmax = [0, 1, 2].map(|d| (kcut * abc[d] / (2.0 * PI)).floor() as usize);
                let lpr = (0..3).map(|d| rms(kl[d], prd[d]).powi(2)).sum::<f64>().sqrt() / 3f64.sqrt();
                let spr = real_space_error(alpha, n, cutoff, volume, q2);
                (alpha, kmax, Some(kcut), Some((lpr * lpr + spr * spr).sqrt()))
            }
        }
    };
    let columns = k_columns(lattice, kmax, kcut);
    let kcount = columns.iter().map(|c| (c.3 - c.2 + 1) as usize).sum();
    Ok(Resolved {
        key: (0, Matrix3::zeros(), 0),
        params: EwaldParameters {
            alpha,
            kmax,
            kcut,
            kcount,
            estimated_error: estimated,
        },
        columns,
    })
}

/// The half-space k-vectors as columns (m1, m2, m3_lo, m3_hi): m1 > 0, or m1 = 0 and m2 > 0, or
/// m1 = m2 = 0 and m3 > 0; inside the sphere |k| ≤ kcut when given.
fn k_columns(lattice: &Lattice, kmax: [usize; 3], kcut: Option<f64>) -> Vec<(i32, i32, i32, i32)> {
    let recip = lattice.inverse() * (2.0 * PI); // columns: reciprocal vectors with 2π
    let [k1, k2, k3] = kmax.map(|k| k as i32);
    let inside = |m1: i32, m2: i32, m3: i32| match kcut {
        None => true,
        Some(kc) => (recip * Vector3::new(m1 as f64, m2 as f64, m3 as f64)).norm_squared() <= kc * kc,
    };
    let mut out = Vec::new();
    for m1 in 0..=k1 {
        for m2 in -k2..=k2 {
            if m1 == 0 && m2 < 0 {
                continue;
            }
            let first = if m1 == 0 && m2 == 0 { 1 } else { -k3 };
            let mut lo = None;
            let mut hi = None;
            for m3 in first..=k3 {
                if inside(m1, m2, m3) {
                    lo.get_or_insert(m3);
                    hi = Some(m3);
                }
            }
            if let (Some(lo), Some(hi)) = (lo, hi) {
                // A sphere's section along m3 is one interval.
                out.push((m1, m2, lo, hi));
            }
        }
    }
    out
}

impl Calculator for Ewald {
    fn name(&self) -> String {
        match self.choice {
            Choice::Accuracy(a) => format!("Coulomb Ewald (rc = {} Å, accuracy {a:e})", self.cutoff),
            Choice::Explicit { alpha, kmax } => {
                format!(
                    "Coulomb Ewald (rc = {} Å, α = {alpha} Å⁻¹, kmax {kmax:?})",
                    self.cutoff
                )
            }
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
        let erfc = self.erfc;
        let resolved = self.resolve(config.lattice, &q)?.clone();
        let alpha = resolved.params.alpha;
        self.pairs.update(config.lattice, config.positions)?;
        self.pairs
            .accumulate(config.positions, &q, &RealSpaceKernel::new(alpha, erfc), out);
        reciprocal(config.lattice, config.positions, &q, &resolved, out);
        add_self_and_background(&q, alpha, config.lattice.volume(), out);
        Ok(())
    }
}

/// e^{2πi m f} for m = 0..=kmax of every atom along one axis, stored `[m][atom]` (cos, sin).
struct Phases {
    n: usize,
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Phases {
    fn new(frac: &[f64], kmax: usize) -> Self {
        let n = frac.len();
        let mut cos = vec![0.0; n * (kmax + 1)];
        let mut sin = vec![0.0; n * (kmax + 1)];
        cos.par_chunks_mut(n.max(1))
            .zip(sin.par_chunks_mut(n.max(1)))
            .enumerate()
            .for_each(|(m, (c, s))| {
                for (i, f) in frac.iter().enumerate() {
                    let (si, co) = (2.0 * PI * m as f64 * f).sin_cos();
                    c[i] = co;
                    s[i] = si;
                }
            });
        Phases { n, cos, sin }
    }

    /// (cos, sin) of atom i for index m (negative m: complex conjugate).
    #[inline(always)]
    fn get(&self, m: i32, i: usize) -> (f64, f64) {
        let k = m.unsigned_abs() as usize * self.n + i;
        let s = self.sin[k];
        (self.cos[k], if m < 0 { -s } else { s })
    }
}

const ATOM_BLOCK: usize = 128;

fn reciprocal(lattice: &Lattice, positions: &[Vector3<f64>], q: &[f64], r: &Resolved, out: &mut Evaluation) {
    let n = positions.len();
    let volume = lattice.volume();
    let alpha = r.params.alpha;
    let recip = lattice.inverse() * (2.0 * PI);
    let frac: Vec<Vector3<f64>> = positions.iter().map(|p| lattice.to_fractional(p)).collect();
    let ph: Vec<Phases> = (0..3)
        .map(|d| Phases::new(&frac.iter().map(|f| f[d]).collect::<Vec<_>>(), r.params.kmax[d]))
        .collect();
    let kvec = |m1: i32, m2: i32, m3: i32| recip * Vector3::new(m1 as f64, m2 as f64, m3 as f64);
    let inv_4a2 = 0.25 / (alpha * alpha);
    let preu = 4.0 * PI * COULOMB_EV_A / volume;

    // Pass 1: structure factors, one column per task, atoms summed in order (4 fixed lanes).
    let sfac: Vec<Vec<(f64, f64, f64)>> = r
        .columns
        .par_iter()
        .map(|&(m1, m2, lo, hi)| {
            let mut zr = vec![0.0; n];
            let mut zi = vec![0.0; n];
            for i in 0..n {
                let (c1, s1) = ph[0].get(m1, i);
                let (c2, s2) = ph[1].get(m2, i);
                zr[i] = q[i] * (c1 * c2 - s1 * s2);
                zi[i] = q[i] * (s1 * c2 + c1 * s2);
            }
            (lo..=hi)
                .map(|m3| {
                    let mut re = [0.0f64; 4];
                    let mut im = [0.0f64; 4];
                    let base = m3.unsigned_abs() as usize * n;
                    let cs = &ph[2].cos[base..base + n];
                    let sn = &ph[2].sin[base..base + n];
                    let sign = if m3 < 0 { -1.0 } else { 1.0 };
                    for i in 0..n {
                        let (c3, s3) = (cs[i], sign * sn[i]);
                        re[i & 3] += zr[i] * c3 - zi[i] * s3;
                        im[i & 3] += zr[i] * s3 + zi[i] * c3;
                    }
                    let k = kvec(m1, m2, m3);
                    let k2 = k.norm_squared();
                    let ug = preu * (-k2 * inv_4a2).exp() / k2;
                    (
                        (re[0] + re[1]) + (re[2] + re[3]),
                        (im[0] + im[1]) + (im[2] + im[3]),
                        ug,
                    )
                })
                .collect()
        })
        .collect();

    let mut energy = 0.0;
    let mut w = [0.0f64; 6];
    for (col, s) in r.columns.iter().zip(&sfac) {
        for (m3, &(sr, si, ug)) in (col.2..=col.3).zip(s) {
            let e_k = ug * (sr * sr + si * si);
            energy += e_k;
            let k = kvec(col.0, col.1, m3);
            add_kspace_virial(&mut w, e_k, [k.x, k.y, k.z], k.norm_squared(), inv_4a2);
        }
    }
    out.energy += energy;
    out.virial += sym(w);

    // Pass 2: forces and per-atom energies, atoms in blocks, k-vectors in a fixed order.
    let per_atom = out.per_atom_energies.is_some();
    let blocks: Vec<(Vec<Vector3<f64>>, Vec<f64>)> = (0..n.div_ceil(ATOM_BLOCK))
        .into_par_iter()
        .map(|b| {
            let i0 = b * ATOM_BLOCK;
            let i1 = (i0 + ATOM_BLOCK).min(n);
            let m = i1 - i0;
            let (mut fx, mut fy, mut fz, mut pe) = (vec![0.0; m], vec![0.0; m], vec![0.0; m], vec![0.0; m]);
            let mut zr = vec![0.0; m];
            let mut zi = vec![0.0; m];
            for (&(m1, m2, lo, hi), s) in r.columns.iter().zip(&sfac) {
                for a in 0..m {
                    let (c1, s1) = ph[0].get(m1, i0 + a);
                    let (c2, s2) = ph[1].get(m2, i0 + a);
                    zr[a] = c1 * c2 - s1 * s2;
                    zi[a] = s1 * c2 + c1 * s2;
                }
                for (m3, &(sr, si, ug)) in (lo..=hi).zip(s) {
                    let k = kvec(m1, m2, m3);
                    let (kx, ky, kz) = (2.0 * ug * k.x, 2.0 * ug * k.y, 2.0 * ug * k.z);
                    let base = m3.unsigned_abs() as usize * n + i0;
                    let cs = &ph[2].cos[base..base + m];
                    let sn = &ph[2].sin[base..base + m];
                    let sign = if m3 < 0 { -1.0 } else { 1.0 };
                    for a in 0..m {
                        let (c3, s3) = (cs[a], sign * sn[a]);
                        let er = zr[a] * c3 - zi[a] * s3;
                        let ei = zr[a] * s3 + zi[a] * c3;
                        // Im(S* e) and Re(S* e).
                        let im = sr * ei - si * er;
                        fx[a] += kx * im;
                        fy[a] += ky * im;
                        fz[a] += kz * im;
                        if per_atom {
                            pe[a] += ug * (sr * er + si * ei);
                        }
                    }
                }
            }
            let f = (0..m)
                .map(|a| Vector3::new(fx[a], fy[a], fz[a]) * q[i0 + a])
                .collect();
            let e = (0..m).map(|a| pe[a] * q[i0 + a]).collect();
            (f, e)
        })
        .collect();
    for (b, (f, e)) in blocks.iter().enumerate() {
        let i0 = b * ATOM_BLOCK;
        for (a, fa) in f.iter().enumerate() {
            out.forces[i0 + a] += fa;
        }
        if let Some(pe) = out.per_atom_energies.as_mut() {
            for (a, ea) in e.iter().enumerate() {
                pe[i0 + a] += ea;
            }
        }
    }
}

/// Reciprocal-space forces (eV/Å) of an Ewald sum converged to double precision (every k with
/// e^{−k²/4α²} > e^{−36}): the yardstick of PPPM's grid choice.
pub(crate) fn converged_reciprocal_forces(
    lattice: &Lattice,
    positions: &[Vector3<f64>],
    q: &[f64],
    alpha: f64,
) -> Vec<Vector3<f64>> {
    let kcut = 12.0 * alpha;
    let abc = lattice.abc();
    let kmax = [0, 1, 2].map(|d| (kcut * abc[d] / (2.0 * PI)).floor() as usize);
    let columns = k_columns(lattice, kmax, Some(kcut));
    let kcount = columns.iter().map(|c| (c.3 - c.2 + 1) as usize).sum();
    let r = Resolved {
        key: (0, Matrix3::zeros(), 0),
        params: EwaldParameters {
            alpha,
            kmax,
            kcut: Some(kcut),
            kcount,
            estimated_error: None,
        },
        columns,
    };
    let mut out = Evaluation::zeros(positions.len());
    reciprocal(lattice, positions, q, &r, &mut out);
    out.forces
}
