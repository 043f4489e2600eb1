//! The model formulas, written once over [`Real`] so that the fits get exact Jacobians.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::EosError;
use crate::dual::Real;

/// An energy–volume equation of state, E(V).
///
/// The names are pymatgen's (`EOS(eos_name)`), plus `birch_murnaghan4` and `polynomial`;
/// `poirier_tarantola` is also accepted for pymatgen's `pourier_tarantola`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyModel {
    /// Birch–Murnaghan, 3rd order (PRB 70, 224107): E0, B0, B0′, V0.
    BirchMurnaghan,
    /// Birch–Murnaghan, 4th order: adds B0″ (the Eulerian-strain expansion to f⁴).
    BirchMurnaghan4,
    /// Murnaghan (PRB 28, 5480 (1983)).
    Murnaghan,
    /// Vinet (Rose–Vinet; PRB 70, 224107).
    Vinet,
    /// Poirier–Tarantola (logarithmic strain; pymatgen's `PourierTarantola`).
    PoirierTarantola,
    /// Birch (Mehl, Klein, Papaconstantopoulos; pymatgen's `Birch`): the same function as the 3rd-order
    /// Birch–Murnaghan written in another form.
    Birch,
    /// A cubic polynomial in V^(-2/3) (the Δ-factor protocol; pymatgen's `DeltaFactor`).
    DeltaFactor,
    /// pymatgen's `NumericalEOS` (PRB 90, 174107): weighted average of polynomial fits over orders and
    /// trimmed data windows.
    NumericalEos,
    /// A polynomial in V of the given order (pymatgen's `PolynomialEOS.fit(order)`).
    Polynomial {
        /// Polynomial order, ≥ 2.
        order: usize,
    },
}

impl EnergyModel {
    /// Every model with its default settings (the polynomial of order 3).
    pub const ALL: [EnergyModel; 9] = [
        EnergyModel::BirchMurnaghan,
        EnergyModel::BirchMurnaghan4,
        EnergyModel::Murnaghan,
        EnergyModel::Vinet,
        EnergyModel::PoirierTarantola,
        EnergyModel::Birch,
        EnergyModel::DeltaFactor,
        EnergyModel::NumericalEos,
        EnergyModel::Polynomial { order: 3 },
    ];

    /// The model's name (pymatgen's where it has one; `polynomial3` for the polynomial of order 3).
    pub fn name(&self) -> String {
        match self {
            Self::BirchMurnaghan => "birch_murnaghan".into(),
            Self::BirchMurnaghan4 => "birch_murnaghan4".into(),
            Self::Murnaghan => "murnaghan".into(),
            Self::Vinet => "vinet".into(),
            Self::PoirierTarantola => "pourier_tarantola".into(),
            Self::Birch => "birch".into(),
            Self::DeltaFactor => "deltafactor".into(),
            Self::NumericalEos => "numerical_eos".into(),
            Self::Polynomial { order } => format!("polynomial{order}"),
        }
    }

    /// Number of fitted parameters of the analytic models (`None` for the polynomial families).
    pub(crate) fn parameter_count(&self) -> Option<usize> {
        match self {
            Self::BirchMurnaghan4 => Some(5),
            Self::DeltaFactor | Self::NumericalEos | Self::Polynomial { .. } => None,
            _ => Some(4),
        }
    }
}

impl fmt::Display for EnergyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for EnergyModel {
    type Err = EosError;
    /// pymatgen's names, `birch_murnaghan4`, `poirier_tarantola`, `polynomial` (order 3) and
    /// `polynomialN`; case and `-` for `_` do not matter.
    fn from_str(s: &str) -> Result<Self, EosError> {
        let k = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match k.as_str() {
            "birch_murnaghan" | "bm" | "bm3" | "birch_murnaghan3" => Self::BirchMurnaghan,
            "birch_murnaghan4" | "bm4" => Self::BirchMurnaghan4,
            "murnaghan" => Self::Murnaghan,
            "vinet" => Self::Vinet,
            "poirier_tarantola" | "pourier_tarantola" => Self::PoirierTarantola,
            "birch" => Self::Birch,
            "deltafactor" | "delta_factor" => Self::DeltaFactor,
            "numerical_eos" | "numerical" => Self::NumericalEos,
            "polynomial" => Self::Polynomial { order: 3 },
            _ => match k.strip_prefix("polynomial").map(str::parse::<usize>) {
                Some(Ok(order)) if order >= 2 => Self::Polynomial { order },
                _ => return Err(EosError::UnknownModel(s.to_string())),
            },
        })
    }
}

/// A pressure–volume equation of state, P(V) (what MPMorph fits to NVT probes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PressureModel {
    /// Birch–Murnaghan, 3rd order: P = 3B0/2 (η⁷ − η⁵)(1 + 3/4 (B0′ − 4)(η² − 1)), η = (V0/V)^(1/3).
    BirchMurnaghan,
    /// Vinet: P = 3B0 (1 − x)/x² exp(3/2 (B0′ − 1)(1 − x)), x = (V/V0)^(1/3).
    Vinet,
    /// Murnaghan: P = B0/B0′ ((V0/V)^B0′ − 1).
    Murnaghan,
}

impl PressureModel {
    /// Every P(V) model.
    pub const ALL: [PressureModel; 3] = [Self::BirchMurnaghan, Self::Vinet, Self::Murnaghan];

    /// The model's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BirchMurnaghan => "birch_murnaghan",
            Self::Vinet => "vinet",
            Self::Murnaghan => "murnaghan",
        }
    }
}

impl fmt::Display for PressureModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PressureModel {
    type Err = EosError;
    fn from_str(s: &str) -> Result<Self, EosError> {
        let k = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match k.as_str() {
            "birch_murnaghan" | "bm" | "bm3" | "birch_murnaghan3" => Self::BirchMurnaghan,
            "vinet" => Self::Vinet,
            "murnaghan" => Self::Murnaghan,
            _ => {
                return Err(EosError::UnknownModel(format!(
                    "{s} (P(V) models: birch_murnaghan, vinet, murnaghan)"
                )));
            }
        })
    }
}

/// E(V) of an analytic model; `p` = [E0 (eV), B0 (eV/Å³), B0′, V0 (Å³)(, B0″ (Å³/eV))], pymatgen's order.
pub(crate) fn energy<T: Real>(model: EnergyModel, v: T, p: &[T]) -> T {
    if p.len() < model.parameter_count().unwrap_or(usize::MAX) {
        return T::cst(f64::NAN);
    }
    let (e0, b0, b1, v0) = (p[0], p[1], p[2], p[3]);
    match model {
        EnergyModel::Murnaghan => {
            e0 + b0 * v / b1 * ((v0 / v).powd(b1) / (b1 - 1.0) + 1.0) - v0 * b0 / (b1 - 1.0)
        }
        EnergyModel::Birch => {
            let x = (v0 / v).powf(2.0 / 3.0) - 1.0;
            e0 + b0 * v0 * x * x * 1.125 + b0 * v0 * (b1 - 4.0) * x * x * x * 0.5625
        }
        EnergyModel::BirchMurnaghan => {
            let eta = (v0 / v).powf(1.0 / 3.0);
            let e2 = eta * eta;
            let x = e2 - 1.0;
            e0 + b0 * v0 * 0.5625 * x * x * (b1 * x - e2 * 4.0 + 6.0)
        }
        EnergyModel::PoirierTarantola => {
            let s = -(v / v0).ln();
            e0 + b0 * v0 * s * s / 6.0 * (s * (b1 - 2.0) + 3.0)
        }
        EnergyModel::Vinet => {
            let eta = (v / v0).powf(1.0 / 3.0);
            let k = b1 - 1.0;
            let inner = T::cst(5.0) + b1 * (eta - 1.0) * 3.0 - eta * 3.0;
            e0 + b0 * v0 * 2.0 / (k * k) * (T::cst(2.0) - inner * (-(k * (eta - 1.0)) * 1.5).exp())
        }
        EnergyModel::BirchMurnaghan4 => {
            let b2 = p[4];
            let f = ((v0 / v).powf(2.0 / 3.0) - 1.0) * 0.5;
            let c = b0 * b2 + (b1 - 4.0) * (b1 - 3.0) + 35.0 / 9.0;
            e0 + b0 * v0 * 4.5 * f * f * (T::cst(1.0) + (b1 - 4.0) * f + c * f * f * 0.75)
        }
        // Not analytic: their curves are polynomials (never called with them; NaN rather than a panic
        // should a deserialised fit pair a model with the wrong curve).
        EnergyModel::DeltaFactor | EnergyModel::NumericalEos | EnergyModel::Polynomial { .. } => {
            T::cst(f64::NAN)
        }
    }
}

/// P(V) in GPa; `p` = [V0 (Å³), B0 (GPa), B0′] (MPMorph's order).
pub(crate) fn pressure<T: Real>(model: PressureModel, v: T, p: &[T]) -> T {
    let (v0, b0, b1) = (p[0], p[1], p[2]);
    match model {
        PressureModel::BirchMurnaghan => {
            let n = (v0 / v).powf(1.0 / 3.0);
            let n2 = n * n;
            let n5 = n2 * n2 * n;
            let n7 = n5 * n2;
            b0 * 1.5 * (n7 - n5) * ((b1 - 4.0) * (n2 - 1.0) * 0.75 + 1.0)
        }
        PressureModel::Vinet => {
            let x = (v / v0).powf(1.0 / 3.0);
            let one_minus = T::cst(1.0) - x;
            b0 * 3.0 * one_minus / (x * x) * ((b1 - 1.0) * one_minus * 1.5).exp()
        }
        PressureModel::Murnaghan => b0 / b1 * ((v0 / v).powd(b1) - 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EV_PER_A3_IN_GPA;
    use crate::dual::Dual;

    const P: [f64; 4] = [-10.0, 0.6, 4.5, 40.0];

    #[test]
    fn every_model_has_its_minimum_energy_e0_at_v0_and_curvature_b0_over_v0() {
        for m in [
            EnergyModel::BirchMurnaghan,
            EnergyModel::Murnaghan,
            EnergyModel::Vinet,
            EnergyModel::PoirierTarantola,
            EnergyModel::Birch,
        ] {
            let v = Dual::<1>::var(40.0, 0);
            let pc: Vec<Dual<1>> = P.iter().map(|x| Dual::cst(*x)).collect();
            let e = energy(m, v, &pc);
            assert!((e.v + 10.0).abs() < 1e-12 && e.d[0].abs() < 1e-12, "{m}: {e:?}");
            let h = 1e-3;
            let e2 =
                (energy(m, 40.0 + h, &P) - 2.0 * energy(m, 40.0, &P) + energy(m, 40.0 - h, &P)) / (h * h);
            assert!((e2 * 40.0 - 0.6).abs() < 1e-5, "{m}: V E'' = {}", e2 * 40.0);
        }
    }

    #[test]
    fn pressure_forms_are_minus_de_dv_of_their_energy_forms() {
        // BM and Vinet: P(V) = −dE/dV of the same model, in GPa.
        for (em, pm) in [
            (EnergyModel::BirchMurnaghan, PressureModel::BirchMurnaghan),
            (EnergyModel::Vinet, PressureModel::Vinet),
            (EnergyModel::Murnaghan, PressureModel::Murnaghan),
        ] {
            for v in [32.0, 38.0, 45.0] {
                let pc: Vec<Dual<1>> = P.iter().map(|x| Dual::cst(*x)).collect();
                let de = energy(em, Dual::<1>::var(v, 0), &pc).d[0];
                let p = pressure(pm, v, &[40.0, 0.6 * EV_PER_A3_IN_GPA, 4.5]);
                assert!(
                    (p + de * EV_PER_A3_IN_GPA).abs() < 1e-9 * p.abs().max(1.0),
                    "{pm} {v}: {p}"
                );
            }
        }
    }

    #[test]
    fn bm4_reduces_to_bm3_when_its_fourth_order_term_vanishes() {
        let b2 = -((4.5 - 4.0) * (4.5 - 3.0) + 35.0 / 9.0) / 0.6;
        for v in [30.0, 40.0, 52.0] {
            let a = energy(EnergyModel::BirchMurnaghan4, v, &[P[0], P[1], P[2], P[3], b2]);
            let b = energy(EnergyModel::BirchMurnaghan, v, &P);
            assert!((a - b).abs() < 1e-12, "{a} {b}");
        }
    }

    #[test]
    fn names_round_trip() {
        for m in EnergyModel::ALL {
            assert_eq!(m.name().parse::<EnergyModel>().unwrap(), m);
        }
        for m in PressureModel::ALL {
            assert_eq!(m.name().parse::<PressureModel>().unwrap(), m);
        }
        assert!("polynomial1".parse::<EnergyModel>().is_err());
        assert!(matches!(
            "bogus".parse::<EnergyModel>(),
            Err(EosError::UnknownModel(_))
        ));
    }
}
