//! MSD by FFT against the definition, streaming against offline, drift removal, bad inputs.

use std::path::PathBuf;

use amorph_diffusion::{
    Displacements, Drift, Error, FitOptions, FitWindow, FrameSink, Msd, MsdAccumulator, MsdMethod, Selection,
    Smoothing,
};
use amorph_structure::{Element, Lattice, Trajectory, io};
use nalgebra::Vector3;
use ndarray::{Array3, ShapeBuilder};
use proptest::prelude::*;

fn melt() -> Trajectory {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/diffusion/Li2Si2O5_melt_3000K.XDATCAR");
    io::read_trajectory(p).unwrap()
}

fn max_abs_diff(a: &Msd, b: &Msd) -> (f64, f64) {
    let mut diff: f64 = 0.0;
    let mut scale: f64 = 0.0;
    for atom in 0..a.natoms() {
        for d in 0..3 {
            for k in 0..a.len() {
                diff = diff.max((a.atom(atom, d, k) - b.atom(atom, d, k)).abs());
                scale = scale.max(a.atom(atom, d, k).abs());
            }
        }
    }
    (diff, scale)
}

#[test]
fn fft_msd_equals_direct_msd_on_a_real_melt() {
    for sel in ["Li", "Si", "O"] {
        let disp = Displacements::from_trajectory(
            &melt(),
            &Selection::species(sel).unwrap(),
            Drift::Framework,
            80.0,
        )
        .unwrap();
        let f = Msd::compute(&disp, MsdMethod::Fft);
        let d = Msd::compute(&disp, MsdMethod::Direct);
        let (diff, scale) = max_abs_diff(&f, &d);
        assert!(diff <= 1e-10 * scale, "{sel}: {diff} vs scale {scale}");
        for k in 0..f.len() {
            assert!((f.total(k) - d.total(k)).abs() <= 1e-10 * d.total(f.len() - 1).max(1.0));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn fft_msd_equals_direct_msd_on_any_series(
        steps in prop::collection::vec(-2.0f64..2.0, 3..400),
        offset in -1e3f64..1e3,
    ) {
        let n = steps.len();
        let mut data = Array3::zeros((1, 3, n));
        let mut x = [offset, -offset, 0.5 * offset];
        for (t, s) in steps.iter().enumerate() {
            for (d, xd) in x.iter_mut().enumerate() {
                *xd += s * (d as f64 + 1.0);
                data[[0, d, t]] = *xd;
            }
        }
        let disp = Displacements::from_array(data, 1.0, 1000.0).unwrap();
        let (diff, scale) = max_abs_diff(&Msd::compute(&disp, MsdMethod::Fft), &Msd::compute(&disp, MsdMethod::Direct));
        prop_assert!(diff <= 1e-10 * scale.max(1e-300) + 1e-12, "{} vs {}", diff, scale);
    }
}

#[test]
fn streaming_accumulator_equals_the_offline_analysis_bit_for_bit() {
    let t = melt();
    let sel = Selection::species("Li").unwrap();
    for drift in [Drift::Framework, Drift::CentreOfMass, Drift::None] {
        let offline = Displacements::from_trajectory(&t, &sel, drift, 80.0).unwrap();
        let mut acc = MsdAccumulator::new(t.species(), &sel, drift, 80.0).unwrap();
        for f in t.frames() {
            acc.push_frame(f.positions(), f.lattice()).unwrap();
        }
        assert_eq!(acc.nframes(), t.len());
        assert_eq!(acc.displacements().unwrap(), offline, "{drift:?}");
    }
}

/// Two Li walking in a box of O, with every atom carried by the same drift: framework drift
/// removal gives the same displacements as the drift-free run.
#[test]
fn a_uniform_drift_is_removed() {
    let (li, o) = (
        Element::from_symbol("Li").unwrap(),
        Element::from_symbol("O").unwrap(),
    );
    let lat = Lattice::cubic(10.0).unwrap();
    let species = vec![li, li, o, o, o];
    let mut still = Trajectory::new(species.clone(), lat.clone());
    let mut moving = Trajectory::new(species, lat);
    for t in 0..50 {
        let tf = t as f64;
        let base = [
            Vector3::new(1.0 + 0.3 * (0.7 * tf).sin(), 2.0 + 0.05 * tf, 3.0),
            Vector3::new(5.0, 5.0 + 0.2 * (1.3 * tf).cos(), 5.0 - 0.04 * tf),
            Vector3::new(1.0, 1.0, 1.0),
            Vector3::new(4.0, 7.0, 2.0),
            Vector3::new(8.0, 3.0, 6.0),
        ];
        let wrap = |p: Vector3<f64>| p.map(|c| c.rem_euclid(10.0));
        still.push_positions(&base.map(wrap), None).unwrap();
        let shift = Vector3::new(0.13, -0.07, 0.02) * tf;
        moving
            .push_positions(&base.map(|p| wrap(p + shift)), None)
            .unwrap();
    }
    let sel = Selection::species("Li").unwrap();
    let a = Displacements::from_trajectory(&still, &sel, Drift::Framework, 2.0).unwrap();
    let b = Displacements::from_trajectory(&moving, &sel, Drift::Framework, 2.0).unwrap();
    let raw = Displacements::from_trajectory(&moving, &sel, Drift::None, 2.0).unwrap();
    let diff = (a.as_array() - b.as_array())
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(diff < 1e-12, "{diff}");
    let raw_diff = (a.as_array() - raw.as_array())
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(
        raw_diff > 1.0,
        "without drift removal the drift stays: {raw_diff}"
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let t = melt();
    // A species that is not there.
    let e = Displacements::from_trajectory(&t, &Selection::species("Na").unwrap(), Drift::Framework, 80.0)
        .unwrap_err();
    assert!(matches!(e, Error::SpeciesAbsent { .. }));
    assert_eq!(
        e.to_string(),
        "species Na is absent from the trajectory (present: Li, O, Si)"
    );
    // Every atom selected: no framework to define the drift.
    let all = Selection::Indices((0..t.natoms()).collect());
    assert!(matches!(
        Displacements::from_trajectory(&t, &all, Drift::Framework, 80.0),
        Err(Error::NoFramework)
    ));
    assert!(
        Displacements::from_trajectory(&t, &Selection::Indices(vec![0, 999]), Drift::None, 80.0).is_err()
    );
    assert!(Displacements::from_trajectory(&t, &Selection::Indices(vec![]), Drift::None, 80.0).is_err());
    assert!(
        Displacements::from_trajectory(&t, &Selection::species("Li").unwrap(), Drift::Framework, 0.0)
            .is_err()
    );
    // A trajectory too short to fit: 6 frames leave 2 lags (1 and 2) in the default 10–50 % window.
    let mut short = Trajectory::new(t.species().to_vec(), t.lattice(0).clone());
    for f in t.frames().take(6) {
        short.push(&f).unwrap();
    }
    let disp =
        Displacements::from_trajectory(&short, &Selection::species("Li").unwrap(), Drift::Framework, 80.0)
            .unwrap();
    let msd = Msd::compute(&disp, MsdMethod::Fft);
    let e = msd.diffusivity(&FitOptions::default()).unwrap_err();
    assert!(matches!(e, Error::TooShort(_)), "{e}");
    assert!(e.to_string().contains("6-frame trajectory"), "{e}");
    // pymatgen's modes refuse too: max needs lags beyond 1 ps, constant more than avg_nsteps frames.
    assert!(matches!(
        disp.pymatgen_diffusivity(&msd, Smoothing::Max { min_obs: 30 }),
        Err(Error::TooShort(_))
    ));
    assert!(matches!(
        disp.pymatgen_diffusivity(&msd, Smoothing::Constant { avg_nsteps: 1000 }),
        Err(Error::TooShort(_))
    ));
    // A window beyond the run.
    let full = Displacements::from_trajectory(&t, &Selection::species("Li").unwrap(), Drift::Framework, 80.0)
        .unwrap();
    let msd = Msd::compute(&full, MsdMethod::Fft);
    let w = FitOptions {
        window: FitWindow::Time {
            start_fs: 100.0,
            end_fs: 1e6,
        },
        ..FitOptions::default()
    };
    assert!(matches!(msd.diffusivity(&w), Err(Error::InvalidArgument(_))));
}

#[test]
fn default_fit_on_the_melt_is_consistent_with_pymatgen() {
    let disp = Displacements::from_trajectory(
        &melt(),
        &Selection::species("Li").unwrap(),
        Drift::Framework,
        80.0,
    )
    .unwrap();
    let msd = Msd::compute(&disp, MsdMethod::Fft);
    let d = msd.diffusivity(&FitOptions::default()).unwrap();
    let pm = disp
        .pymatgen_diffusivity(&msd, Smoothing::Max { min_obs: 30 })
        .unwrap();
    // Different windows and weights, same data: within a few standard errors of each other.
    assert!(
        (d.d_cm2_s - pm.d_cm2_s).abs() < 4.0 * d.stderr_cm2_s,
        "{} vs {}",
        d.d_cm2_s,
        pm.d_cm2_s
    );
    assert!(d.n_effective > 1.0 && d.stderr_cm2_s > 0.0);
    assert_eq!(d.natoms, 48);
    assert!((d.fit_start_fs() - 480.0).abs() < 1e-9 && (d.fit_end_fs() - 2400.0).abs() < 1e-9);
    let sum: f64 = d.components_cm2_s.iter().sum::<f64>() / 3.0;
    assert!((sum - d.d_cm2_s).abs() < 1e-12 * d.d_cm2_s);
}

/// The parallel per-atom unwrapping equals amorph-structure's `Trajectory::unwrapped` bit for bit,
/// on the real melt and on the triclinic walk (wrapped Direct coordinates).
#[test]
fn unwrapping_equals_amorph_structure_unwrapped() {
    let tri = io::read_trajectory(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/diffusion/walk_triclinic.XDATCAR"),
    )
    .unwrap();
    for t in [melt(), tri] {
        let u = t.unwrapped();
        let p = u.positions();
        let sel = Selection::species("Li").unwrap();
        let ours = Displacements::from_trajectory(&t, &sel, Drift::None, 1.0).unwrap();
        for (a, &i) in ours.indices().iter().enumerate() {
            for d in 0..3 {
                for f in 0..t.len() {
                    assert_eq!(ours.series(a, d)[f], p[[f, i, d]] - p[[0, i, d]]);
                }
            }
        }
        // Some atom crossed the cell boundary: unwrapping mattered.
        let w = t.positions();
        let crossed = ours.indices().iter().any(|&i| {
            (0..t.len()).any(|f| {
                (0..3).any(|d| ((w[[f, i, d]] - w[[0, i, d]]) - (p[[f, i, d]] - p[[0, i, d]])).abs() > 1.0)
            })
        });
        assert!(crossed);
    }
}

/// Same numbers on one thread and on all of them.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let t = melt();
    let run = || {
        let disp =
            Displacements::from_trajectory(&t, &Selection::species("Li").unwrap(), Drift::Framework, 80.0)
                .unwrap();
        let msd = Msd::compute(&disp, MsdMethod::Fft);
        (disp, msd.diffusivity(&FitOptions::default()).unwrap())
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(run);
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(run);
    assert_eq!(one.0, many.0);
    assert_eq!(one.1, many.1);
}

/// Arrays in Fortran order are accepted and give the same MSD as the same numbers in C order.
#[test]
fn displacements_in_any_memory_order() {
    let c = Array3::from_shape_fn((2, 3, 50), |(a, d, t)| {
        ((a + 1) * (d + 2)) as f64 * (t as f64 * 0.37).sin()
    });
    let mut f = Array3::zeros(c.raw_dim().f());
    f.assign(&c);
    assert!(!f.is_standard_layout());
    let a = Msd::compute(&Displacements::from_array(c, 1.0, 100.0).unwrap(), MsdMethod::Fft);
    let b = Msd::compute(&Displacements::from_array(f, 1.0, 100.0).unwrap(), MsdMethod::Fft);
    assert_eq!(a, b);
}
