//! amorph-diffusion against pymatgen-analysis-diffusion on the same XDATCARs
//! (`validation/diffusion_refs.py` wrote the references into `tests/data/diffusion/`).

use std::path::PathBuf;

use amorph_diffusion::arrhenius::read_table;
use amorph_diffusion::{
    Displacements, Drift, Msd, MsdMethod, Selection, Smoothing, fit_arrhenius, nernst_einstein_ms_per_cm,
};
use amorph_structure::io;
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/diffusion")
        .join(name)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn check_file(name: &str) {
    let refs: Value =
        serde_json::from_str(&std::fs::read_to_string(data(&format!("{name}.pymatgen.json"))).unwrap())
            .unwrap();
    let traj = io::read_trajectory(data(&format!("{name}.XDATCAR"))).unwrap();
    assert_eq!(traj.len() as u64, refs["frames"].as_u64().unwrap());
    let dt = refs["time_step_fs"].as_f64().unwrap() * refs["step_skip"].as_f64().unwrap();
    let temperature = refs["temperature_K"].as_f64().unwrap();
    let disp =
        Displacements::from_trajectory(&traj, &Selection::species("Li").unwrap(), Drift::Framework, dt)
            .unwrap();
    let msd = Msd::compute(&disp, MsdMethod::Fft);
    for (label, mode) in refs["modes"].as_object().unwrap() {
        let smoothing = match label.as_str() {
            "max" => Smoothing::Max {
                min_obs: mode["kwargs"]["min_obs"].as_u64().unwrap() as usize,
            },
            "constant" => Smoothing::Constant {
                avg_nsteps: mode["kwargs"]["avg_nsteps"].as_u64().unwrap() as usize,
            },
            _ => Smoothing::None,
        };
        let ours = disp.pymatgen_diffusivity(&msd, smoothing).unwrap();
        let times: Vec<f64> = mode["dt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(ours.time_fs, times, "{name} {label}: fit times");
        let pm_msd: Vec<f64> = mode["msd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let scale = pm_msd.iter().cloned().fold(0.0, f64::max);
        for (a, b) in ours.msd_a2.iter().zip(&pm_msd) {
            assert!((a - b).abs() < 1e-9 * scale, "{name} {label}: MSD {a} vs {b}");
        }
        let d = mode["diffusivity"].as_f64().unwrap();
        assert!(
            rel(ours.d_cm2_s, d) < 1e-6,
            "{name} {label}: D {} vs {d}",
            ours.d_cm2_s
        );
        let s = mode["diffusivity_std_dev"].as_f64().unwrap();
        assert!(
            rel(ours.d_std_cm2_s, s) < 1e-6,
            "{name} {label}: std {} vs {s}",
            ours.d_std_cm2_s
        );
        for j in 0..3 {
            let c = mode["diffusivity_components"][j].as_f64().unwrap();
            assert!(rel(ours.components_cm2_s[j], c) < 1e-6, "{name} {label}: D_{j}");
            let cs = mode["diffusivity_components_std_dev"][j].as_f64().unwrap();
            assert!(
                rel(ours.components_std_cm2_s[j], cs) < 1e-6,
                "{name} {label}: std_{j}"
            );
        }
        let sigma =
            nernst_einstein_ms_per_cm(ours.d_cm2_s, disp.natoms(), 1.0, disp.volume_a3(), temperature)
                .unwrap();
        let pm_sigma = mode["conductivity"].as_f64().unwrap();
        assert!(
            rel(sigma, pm_sigma) < 1e-6,
            "{name} {label}: σ {sigma} vs {pm_sigma}"
        );
    }
}

#[test]
fn random_walk_in_a_cubic_cell_with_drift_equals_pymatgen() {
    check_file("walk_cubic");
}

#[test]
fn random_walk_in_a_triclinic_cell_equals_pymatgen() {
    check_file("walk_triclinic");
}

#[test]
fn amorph_md_melt_equals_pymatgen() {
    check_file("Li2Si2O5_melt_3000K");
}

#[test]
fn arrhenius_fits_equal_pymatgen() {
    let refs: Value =
        serde_json::from_str(&std::fs::read_to_string(data("arrhenius.pymatgen.json")).unwrap()).unwrap();
    for (name, r) in refs.as_object().unwrap() {
        let mut points = read_table(data(name)).unwrap();
        // pymatgen's linear fit ignores error bars: compare the unweighted fit.
        points.iter_mut().for_each(|p| p.d_stderr_cm2_s = None);
        let f = fit_arrhenius(&points).unwrap();
        assert!(
            rel(f.ea_ev, r["Ea_eV"].as_f64().unwrap()) < 1e-9,
            "{name}: Ea {}",
            f.ea_ev
        );
        assert!(
            rel(f.d0_cm2_s, r["c_cm2_s"].as_f64().unwrap()) < 1e-9,
            "{name}: D0 {}",
            f.d0_cm2_s
        );
        match r["Ea_stderr_eV"].as_f64() {
            Some(se) => assert!(rel(f.ea_stderr_ev.unwrap(), se) < 1e-9, "{name}: stderr"),
            None => assert!(f.ea_stderr_ev.is_none()),
        }
        let (d300, _) = f.diffusivity_at(300.0).unwrap();
        assert!(
            rel(d300, r["D_at_300K_cm2_s"].as_f64().unwrap()) < 1e-9,
            "{name}: D(300 K)"
        );
    }
}

#[test]
fn weighted_arrhenius_uses_the_error_bars() {
    let points = read_table(data("arrhenius_decreasing.csv")).unwrap();
    assert!(points.iter().all(|p| p.d_stderr_cm2_s.is_some()));
    let w = fit_arrhenius(&points).unwrap();
    assert!(w.weighted);
    let mut unweighted = points.clone();
    unweighted.iter_mut().for_each(|p| p.d_stderr_cm2_s = None);
    let u = fit_arrhenius(&unweighted).unwrap();
    // Equal relative errors: equal weights in ln D, so the same line; the covariance differs.
    assert!(rel(w.ea_ev, u.ea_ev) < 1e-9);
    assert!(w.ea_stderr_ev.unwrap() > 0.0);
    let (d, se) = w.diffusivity_at(300.0).unwrap();
    assert!(d > 0.0 && se.unwrap() > 0.0);
}
