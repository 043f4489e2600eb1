//! Nernst–Einstein ionic conductivity.

use amorph_structure::Element;

use crate::error::{Error, Result};

/// Elementary charge, C (exact).
const ELEMENTARY_CHARGE_C: f64 = 1.602176634e-19;
/// Boltzmann's constant, J/K (exact).
const BOLTZMANN_J_PER_K: f64 = 1.380649e-23;

/// σ = n z² e² D / (V k_B T) in mS/cm, with the Haven ratio taken as 1 (ion motions uncorrelated:
/// the tracer diffusivity stands in for the charge diffusivity).
///
/// `d_cm2_s` the diffusivity (cm²/s), `n_ions` the number of mobile ions in the cell, `charge` their
/// charge in units of e, `volume_a3` the cell volume (Å³), `temperature_k` (K). This is pymatgen's
/// `get_conversion_factor(structure, species, T) × D`.
pub fn nernst_einstein_ms_per_cm(
    d_cm2_s: f64,
    n_ions: usize,
    charge: f64,
    volume_a3: f64,
    temperature_k: f64,
) -> Result<f64> {
    for (name, v) in [("volume", volume_a3), ("temperature", temperature_k)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::InvalidArgument(format!("{name} {v} must be positive")));
        }
    }
    if !charge.is_finite() || !d_cm2_s.is_finite() {
        return Err(Error::InvalidArgument("charge and D must be finite".into()));
    }
    let volume_cm3 = volume_a3 * 1e-24;
    let s_per_cm = n_ions as f64 * charge * charge * ELEMENTARY_CHARGE_C * ELEMENTARY_CHARGE_C * d_cm2_s
        / (volume_cm3 * BOLTZMANN_J_PER_K * temperature_k);
    Ok(1000.0 * s_per_cm)
}

/// The ionic charge assumed for an element when none is given: its common oxidation state when
/// it has exactly one (Li → +1, Na → +1, Mg → +2, F → −1), else `None`.
pub fn default_charge(element: Element) -> Option<f64> {
    match element.common_oxidation_states() {
        [z] => Some(*z as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lithium_conductivity_has_the_textbook_size() {
        // 48 Li⁺ in 2544.5 Å³ at 1000 K with D = 1e-5 cm²/s: n = 1.886e22 cm⁻³,
        // σ = n e² D/(kT) = 1.886e22 × 2.567e-38 × 1e-5 / 1.381e-20 = 0.3507 S/cm.
        let s = nernst_einstein_ms_per_cm(1e-5, 48, 1.0, 2544.5, 1000.0).unwrap();
        assert!((s / 350.7 - 1.0).abs() < 1e-3, "{s}");
        assert!(nernst_einstein_ms_per_cm(1e-5, 48, 1.0, 0.0, 1000.0).is_err());
        assert_eq!(default_charge(Element::from_symbol("Li").unwrap()), Some(1.0));
    }
}
