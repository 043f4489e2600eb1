//! Invariants of the fits: exact data give back their parameters; the order of the data and a shift of
//! the energy zero change nothing but E0.

use amorph_eos::{EV_PER_A3_IN_GPA, EnergyModel, PressureModel, fit_energy, fit_pressure};
use proptest::prelude::*;

/// Vinet E(V) and P(V), written here from the formulas (independently of the crate).
fn vinet_e(v: f64, e0: f64, b0: f64, b1: f64, v0: f64) -> f64 {
    let x = (v / v0).cbrt();
    e0 + 2.0 * b0 * v0 / ((b1 - 1.0) * (b1 - 1.0))
        * (2.0 - (5.0 + 3.0 * b1 * (x - 1.0) - 3.0 * x) * (-1.5 * (b1 - 1.0) * (x - 1.0)).exp())
}

fn vinet_p(v: f64, b0_gpa: f64, b1: f64, v0: f64) -> f64 {
    let x = (v / v0).cbrt();
    3.0 * b0_gpa * (1.0 - x) / (x * x) * (1.5 * (b1 - 1.0) * (1.0 - x)).exp()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn exact_vinet_data_give_back_their_parameters(
        v0 in 10.0f64..3000.0,
        b0_gpa in 5.0f64..400.0,
        b1 in 3.0f64..8.0,
        e0 in -1000.0f64..10.0,
        span in 0.05f64..0.2,
        n in 6usize..20,
    ) {
        let b0 = b0_gpa / EV_PER_A3_IN_GPA;
        let v: Vec<f64> = (0..n).map(|i| v0 * (1.0 - span + 2.0 * span * i as f64 / (n - 1) as f64)).collect();
        let e: Vec<f64> = v.iter().map(|x| vinet_e(*x, e0, b0, b1, v0)).collect();
        let fit = fit_energy(EnergyModel::Vinet, &v, &e).unwrap();
        prop_assert!(rel(fit.v0_A3, v0) < 1e-8, "V0 {} {}", fit.v0_A3, v0);
        prop_assert!(rel(fit.b0_GPa, b0_gpa) < 1e-6, "B0 {} {}", fit.b0_GPa, b0_gpa);
        prop_assert!((fit.b1 - b1).abs() < 1e-4, "B1 {} {}", fit.b1, b1);
        prop_assert!((fit.e0_eV - e0).abs() < 1e-9 * e0.abs().max(1.0));
        let p: Vec<f64> = v.iter().map(|x| vinet_p(*x, b0_gpa, b1, v0)).collect();
        let pf = fit_pressure(PressureModel::Vinet, &v, &p).unwrap();
        prop_assert!(rel(pf.v0_A3, v0) < 1e-8 && rel(pf.b0_GPa, b0_gpa) < 1e-6 && (pf.b1 - b1).abs() < 1e-4);
    }

    #[test]
    fn order_and_energy_zero_do_not_matter(seed in 0u64..1000, shift in -500.0f64..500.0) {
        let v: Vec<f64> = (0..9).map(|i| 36.0 + i as f64).collect();
        let mut e: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(i, x)| vinet_e(*x, -10.0, 0.6, 4.5, 40.0) + 1e-3 * ((i as f64 + seed as f64) * 1.7).sin())
            .collect();
        let a = fit_energy(EnergyModel::BirchMurnaghan, &v, &e).unwrap();
        // Reverse the order and shift the energies.
        let vr: Vec<f64> = v.iter().rev().copied().collect();
        e.reverse();
        let er: Vec<f64> = e.iter().map(|x| x + shift).collect();
        let b = fit_energy(EnergyModel::BirchMurnaghan, &vr, &er).unwrap();
        prop_assert!(
            rel(a.v0_A3, b.v0_A3) < 1e-9 && rel(a.b0_GPa, b.b0_GPa) < 1e-7 && rel(a.b1, b.b1) < 1e-6,
            "{} {} {} / {} {} {} / {} {}", a.v0_A3, a.b0_GPa, a.b1, b.v0_A3, b.b0_GPa, b.b1, a.iterations, b.iterations
        );
        prop_assert!((b.e0_eV - a.e0_eV - shift).abs() < 1e-8);
    }
}
