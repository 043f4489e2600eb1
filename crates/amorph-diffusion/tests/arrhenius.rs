//! Properties of the Arrhenius fit.

use amorph_diffusion::{ArrheniusPoint, BOLTZMANN_EV_PER_K, fit_arrhenius};
use proptest::prelude::*;

proptest! {
    /// Exact Arrhenius data, in either temperature order, weighted or not, give back Eₐ and D₀.
    #[test]
    fn exact_data_are_recovered(
        ea in 0.05f64..2.5,
        log_d0 in -6.0f64..0.0,
        t0 in 300.0f64..1500.0,
        steps in prop::collection::vec(50.0f64..600.0, 1..8),
        reverse in any::<bool>(),
        weighted in any::<bool>(),
    ) {
        let d0 = 10f64.powf(log_d0);
        let mut t = vec![t0];
        for s in &steps {
            t.push(t.last().unwrap() + s);
        }
        if reverse {
            t.reverse();
        }
        let points: Vec<ArrheniusPoint> = t
            .iter()
            .map(|&t_k| {
                let d = d0 * (-ea / (BOLTZMANN_EV_PER_K * t_k)).exp();
                ArrheniusPoint { t_k, d_cm2_s: d, d_stderr_cm2_s: weighted.then_some(0.1 * d) }
            })
            .collect();
        let f = fit_arrhenius(&points).unwrap();
        prop_assert!((f.ea_ev - ea).abs() < 1e-9 * ea.max(1.0), "{} vs {}", f.ea_ev, ea);
        prop_assert!((f.d0_cm2_s / d0 - 1.0).abs() < 1e-8);
        let (d, _) = f.diffusivity_at(700.0).unwrap();
        prop_assert!((d / (d0 * (-ea / (BOLTZMANN_EV_PER_K * 700.0)).exp()) - 1.0).abs() < 1e-8);
    }

    /// The fit is linear in ln D: doubling a scatter pattern added to exact data doubles the residuals
    /// and hence the standard error of Eₐ.
    #[test]
    fn standard_error_grows_with_the_scatter(scale in 0.01f64..0.3) {
        let t = [1000.0, 1500.0, 2000.0, 2500.0];
        let wiggle = [1.0, -1.0, -1.0, 1.0];
        let pts = |s: f64| -> Vec<ArrheniusPoint> {
            t.iter()
                .zip(wiggle)
                .map(|(&t_k, w)| ArrheniusPoint {
                    t_k,
                    d_cm2_s: 1e-3 * (-0.6 / (BOLTZMANN_EV_PER_K * t_k)).exp() * (w * s).exp(),
                    d_stderr_cm2_s: None,
                })
                .collect()
        };
        let small = fit_arrhenius(&pts(scale)).unwrap().ea_stderr_ev.unwrap();
        let large = fit_arrhenius(&pts(2.0 * scale)).unwrap().ea_stderr_ev.unwrap();
        prop_assert!((large / small - 2.0).abs() < 1e-9, "{} {}", small, large);
    }
}
