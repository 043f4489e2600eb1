//! Damped shifted force Coulomb (Fennell & Gezelter 2006), exactly LAMMPS `pair_style coul/dsf α rc`.

use std::f64::consts::PI;

use super::erfc::{Erfc, TWO_OVER_SQRT_PI, erfc, exp_neg};
use super::pairs::{ErfcPairKernel, PairList, ordered_sum};
use super::{AtomCharges, Charges, DEFAULT_SKIN, check_output};
use crate::calculator::{Calculator, Configuration, Evaluation};
use crate::error::{Error, Result};
use crate::units::COULOMB_EV_A;

/// Damped shifted force Coulomb: C. J. Fennell and J. D. Gezelter, J. Chem. Phys. 124, 234104 (2006),
/// Eq. (19), as LAMMPS `pair_style coul/dsf α rc` computes it.
///
/// With k = 14.399645 eV·Å ([`COULOMB_EV_A`]), α the damping (Å⁻¹) and rc the cutoff (Å):
///
/// ```text
/// E = Σ_{i<j, r<rc} k q_i q_j [erfc(αr)/r − erfc(αrc)/rc + (erfc(αrc)/rc² + 2α/√π e^{−α²rc²}/rc)(r − rc)]
///   − Σ_i k q_i² (e_shift/2 + α/√π),     e_shift = erfc(αrc)/rc + (erfc(αrc)/rc² + 2α/√π e^{−α²rc²}/rc) rc
/// ```
///
/// Forces are −∇E (both the pair energy and the force go smoothly to zero at rc). Per-atom energies:
/// half of each pair energy to either atom plus the atom's self term (as LAMMPS `compute pe/atom`).
///
/// LAMMPS evaluates erfc(αr) in the pair term with the Abramowitz–Stegun polynomial and the shift
/// constants with the C library's erfc; [`Dsf::lammps_compatible`] does the same and then agrees with
/// LAMMPS to ~1e-14 relative. The default, [`Erfc::Exact`], differs from LAMMPS by ~1e-7 relative.
#[derive(Debug, Clone)]
pub struct Dsf {
    alpha: f64,
    cutoff: f64,
    erfc: Erfc,
    charges: AtomCharges,
    pairs: PairList,
}

struct DsfKernel {
    alpha: f64,
    alpha2: f64,
    two_alpha_over_sqrt_pi: f64,
    e_shift: f64,
    f_shift: f64,
    erfc: Erfc,
}

impl ErfcPairKernel for DsfKernel {
    fn erfc(&self) -> Erfc {
        self.erfc
    }

    fn alpha(&self) -> f64 {
        self.alpha
    }

    #[inline(always)]
    fn eval_with(&self, r2: f64, qq: f64, erfc: impl Fn(f64, f64) -> f64) -> (f64, f64) {
        let rinv = 1.0 / r2.sqrt();
        let r = r2 * rinv;
        let prefactor = COULOMB_EV_A * qq * rinv;
        let erfcd = exp_neg(-self.alpha2 * r2);
        let erfcc = erfc(self.alpha * r, erfcd);
        let fpair =
            prefactor * (erfcc * rinv + self.two_alpha_over_sqrt_pi * erfcd + r * self.f_shift) * rinv;
        let energy = prefactor * (erfcc - r * self.e_shift - r2 * self.f_shift);
        (energy, fpair)
    }
}

impl Dsf {
    /// DSF Coulomb with damping `alpha` (Å⁻¹, ≥ 0) and cutoff `cutoff` (Å), charges per element (e).
    /// LAMMPS: `pair_style coul/dsf alpha cutoff`. A common choice for oxide glasses is α = 0.25 Å⁻¹,
    /// rc = 8–10 Å.
    pub fn new(charges: Charges, alpha: f64, cutoff: f64) -> Result<Self> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "DSF damping α must be ≥ 0 and finite, got {alpha} Å⁻¹"
            )));
        }
        Ok(Dsf {
            alpha,
            cutoff,
            erfc: Erfc::Exact,
            charges: AtomCharges::new(charges),
            pairs: PairList::new(cutoff, DEFAULT_SKIN)?,
        })
    }

    /// Choose how erfc(αr) is evaluated in the pair term.
    pub fn with_erfc(mut self, erfc: Erfc) -> Self {
        self.erfc = erfc;
        self
    }

    /// Evaluate erfc as LAMMPS `coul/dsf` does (Abramowitz–Stegun polynomial in the pair term).
    pub fn lammps_compatible(self) -> Self {
        self.with_erfc(Erfc::AbramowitzStegun)
    }

    /// Verlet-list skin, Å (default 1 Å): pairs within cutoff + skin are listed and the list is
    /// rebuilt when an atom has moved more than skin/2. Results do not depend on it.
    pub fn with_skin(mut self, skin: f64) -> Result<Self> {
        self.pairs = PairList::new(self.cutoff, skin)?;
        Ok(self)
    }

    /// Damping α, Å⁻¹.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The erfc evaluation in use.
    pub fn erfc(&self) -> Erfc {
        self.erfc
    }

    /// The charges per element.
    pub fn charges(&self) -> &Charges {
        self.charges.table()
    }

    fn kernel(&self) -> DsfKernel {
        let (a, rc) = (self.alpha, self.cutoff);
        // As LAMMPS `PairCoulDSF::init_style`: the shifts use the accurate erfc.
        let erfcc = erfc(a * rc);
        let erfcd = (-a * a * rc * rc).exp();
        let f_shift = -(erfcc / (rc * rc) + TWO_OVER_SQRT_PI * a * erfcd / rc);
        let e_shift = erfcc / rc - f_shift * rc;
        DsfKernel {
            alpha: a,
            alpha2: a * a,
            two_alpha_over_sqrt_pi: TWO_OVER_SQRT_PI * a,
            e_shift,
            f_shift,
            erfc: self.erfc,
        }
    }
}

impl Calculator for Dsf {
    fn name(&self) -> String {
        format!("Coulomb DSF (α = {} Å⁻¹, rc = {} Å)", self.alpha, self.cutoff)
    }

    fn cutoff(&self) -> Option<f64> {
        Some(self.cutoff)
    }

    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()> {
        let kernel = self.kernel();
        let self_term = -(0.5 * kernel.e_shift + self.alpha / PI.sqrt()) * COULOMB_EV_A;
        shifted_sum(
            &mut self.charges,
            &mut self.pairs,
            &kernel,
            self_term,
            config,
            out,
        )
    }
}

/// The compute of a shifted real-space Coulomb sum (DSF, Wolf): the pair sum with `kernel` over the
/// Verlet list, then the self energy `self_term · q_i²` per atom (eV/e²).
pub(super) fn shifted_sum(
    charges: &mut AtomCharges,
    pairs: &mut PairList,
    kernel: &impl ErfcPairKernel,
    self_term: f64,
    config: &Configuration,
    out: &mut Evaluation,
) -> Result<()> {
    check_output(config, out)?;
    let q = charges.per_atom(config)?;
    pairs.update(config.lattice, config.positions)?;
    pairs.accumulate(config.positions, &q, kernel, out);
    add_self_energy(&q, self_term, out);
    Ok(())
}

/// Add the per-atom self energy `c q_i²` (eV) to the total and the per-atom energies.
pub(crate) fn add_self_energy(q: &[f64], c: f64, out: &mut Evaluation) {
    let e: Vec<f64> = q.iter().map(|qi| c * qi * qi).collect();
    out.energy += ordered_sum(&e);
    if let Some(pe) = out.per_atom_energies.as_mut() {
        for (a, b) in pe.iter_mut().zip(&e) {
            *a += b;
        }
    }
}
