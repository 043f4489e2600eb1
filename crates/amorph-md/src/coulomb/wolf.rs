//! Wolf summation, exactly LAMMPS `pair_style coul/wolf α rc`.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::dsf::shifted_sum;
use super::erfc::{Erfc, TWO_OVER_SQRT_PI, erfc, exp_neg};
use super::pairs::{ErfcPairKernel, PairList};
use super::{AtomCharges, Charges, DEFAULT_SKIN};
use crate::calculator::{Calculator, Configuration, Evaluation};
use crate::error::{Error, Result};
use crate::units::COULOMB_EV_A;

/// Which force the Wolf sum reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WolfForces {
    /// LAMMPS `coul/wolf`: the damped *shifted-force* pair force
    /// `k q_i q_j [erfc(αr)/r² + 2α/√π e^{−α²r²}/r − (erfc(αrc)/rc² + 2α/√π e^{−α²rc²}/rc)]`, which
    /// vanishes at rc but is **not** the gradient of the (shifted-potential) Wolf energy: it differs
    /// from −∇E by the constant `k q_i q_j (erfc(αrc)/rc² + 2α/√π e^{−α²rc²}/rc)` along each pair.
    /// The virial is built from these forces, as in LAMMPS.
    #[default]
    Lammps,
    /// Forces and virial = −∇E of the Wolf energy (Wolf et al. 1999's shifted potential): consistent,
    /// but with a small jump of the force at rc.
    Conservative,
}

/// Wolf summation: D. Wolf, P. Keblinski, S. R. Phillpot, J. Eggebrecht, J. Chem. Phys. 110, 8254
/// (1999), damped and shifted to zero at the cutoff, as LAMMPS `pair_style coul/wolf α rc`.
///
/// With k = 14.399645 eV·Å ([`COULOMB_EV_A`]), α (Å⁻¹), rc (Å) and e_shift = erfc(αrc)/rc:
///
/// ```text
/// E = Σ_{i<j, r<rc} k q_i q_j [erfc(αr)/r − e_shift]  −  Σ_i k q_i² (e_shift/2 + α/√π)
/// ```
///
/// The forces follow [`WolfForces`] (default: exactly LAMMPS's). LAMMPS evaluates erfc here with the C
/// library (not the polynomial of `coul/dsf`), so the default [`Erfc::Exact`] is what matches it.
/// Per-atom energies: half of each pair energy to either atom plus the self term.
#[derive(Debug, Clone)]
pub struct Wolf {
    alpha: f64,
    cutoff: f64,
    erfc: Erfc,
    forces: WolfForces,
    charges: AtomCharges,
    pairs: PairList,
}

struct WolfKernel {
    alpha: f64,
    alpha2: f64,
    e_shift: f64,
    /// Added to the radial force over r, (eV/Å² per e²/k): LAMMPS's f_shift, or 0 for conservative.
    f_shift: f64,
    erfc: Erfc,
}

impl ErfcPairKernel for WolfKernel {
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
        let energy = (erfcc - self.e_shift * r) * prefactor;
        let dvdrr = (erfcc * rinv * rinv + TWO_OVER_SQRT_PI * self.alpha * erfcd * rinv) + self.f_shift;
        (energy, dvdrr * prefactor)
    }
}

impl Wolf {
    /// Wolf Coulomb with damping `alpha` (Å⁻¹, ≥ 0) and cutoff `cutoff` (Å), charges per element (e).
    /// LAMMPS: `pair_style coul/wolf alpha cutoff`.
    pub fn new(charges: Charges, alpha: f64, cutoff: f64) -> Result<Self> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "Wolf damping α must be ≥ 0 and finite, got {alpha} Å⁻¹"
            )));
        }
        Ok(Wolf {
            alpha,
            cutoff,
            erfc: Erfc::Exact,
            forces: WolfForces::Lammps,
            charges: AtomCharges::new(charges),
            pairs: PairList::new(cutoff, DEFAULT_SKIN)?,
        })
    }

    /// Choose the force expression (default [`WolfForces::Lammps`]).
    pub fn with_forces(mut self, forces: WolfForces) -> Self {
        self.forces = forces;
        self
    }

    /// Choose how erfc(αr) is evaluated (default exact, which is what LAMMPS `coul/wolf` uses).
    pub fn with_erfc(mut self, erfc: Erfc) -> Self {
        self.erfc = erfc;
        self
    }

    /// Everything as LAMMPS `coul/wolf`: exact erfc and LAMMPS's forces (the defaults).
    pub fn lammps_compatible(self) -> Self {
        self.with_erfc(Erfc::Exact).with_forces(WolfForces::Lammps)
    }

    /// Verlet-list skin, Å (default 1 Å). Results do not depend on it.
    pub fn with_skin(mut self, skin: f64) -> Result<Self> {
        self.pairs = PairList::new(self.cutoff, skin)?;
        Ok(self)
    }

    /// Damping α, Å⁻¹.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The force expression in use.
    pub fn forces(&self) -> WolfForces {
        self.forces
    }

    /// The charges per element.
    pub fn charges(&self) -> &Charges {
        self.charges.table()
    }

    fn kernel(&self) -> WolfKernel {
        let (a, rc) = (self.alpha, self.cutoff);
        let e_shift = erfc(a * rc) / rc;
        let f_shift = match self.forces {
            WolfForces::Lammps => -(e_shift + TWO_OVER_SQRT_PI * a * (-a * a * rc * rc).exp()) / rc,
            WolfForces::Conservative => 0.0,
        };
        WolfKernel {
            alpha: a,
            alpha2: a * a,
            e_shift,
            f_shift,
            erfc: self.erfc,
        }
    }
}

impl Calculator for Wolf {
    fn name(&self) -> String {
        format!("Coulomb Wolf (α = {} Å⁻¹, rc = {} Å)", self.alpha, self.cutoff)
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
