//! Physics of the pair calculator and the integrators: finite-difference forces and virial, energy
//! conservation, thermostat behaviour, checkpoint/restart.

use amorph_md::{
    Calculator, Configuration, Evaluation, ForceField, PairInteractions, PairTerm, Simulation, System,
    Thermostat, Truncation, evaluate,
};
use amorph_structure::{Element, Lattice, Structure, io};
use nalgebra::{Matrix3, Vector3};

fn glass() -> Structure {
    io::read_structure(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/Li2Si2O5_glass.vasp"
    ))
    .unwrap()
}

fn pedone_short_range(s: &Structure, truncation: Truncation) -> PairInteractions {
    ForceField::pedone()
        .pair_interactions(&s.elements(), None, Some(truncation))
        .unwrap()
}

/// Argon-like LJ liquid: 108 atoms on a jittered fcc lattice at 1.4 g/cm³.
fn lj_liquid() -> (System, PairInteractions) {
    lj_argon(3, Truncation::ShiftForce)
}

/// Argon-like LJ (ε = 0.0104 eV, σ = 3.4 Å, cut 8.5 Å): 4·n³ atoms on a jittered fcc lattice
/// (a = 5.8 Å), the start of validation/lammps_npt.py.
fn lj_argon(n: usize, truncation: Truncation) -> (System, PairInteractions) {
    let ar = Element::from_symbol("Ar").unwrap();
    let a = 5.8;
    let lattice = Lattice::cubic(n as f64 * a).unwrap();
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let mut pos = vec![];
    let mut k = 0u64;
    for i in 0..n {
        for j in 0..n {
            for l in 0..n {
                for b in basis {
                    k += 1;
                    let jitter = ((k * 2654435761) % 1000) as f64 / 1000.0 * 0.2 - 0.1;
                    pos.push(
                        Vector3::new(i as f64 + b[0], j as f64 + b[1], l as f64 + b[2]) * a
                            + Vector3::repeat(jitter),
                    );
                }
            }
        }
    }
    let s = Structure::new(lattice, vec![ar; pos.len()], pos).unwrap();
    let mut lj = PairInteractions::new(8.5).unwrap();
    lj.set_pair(
        ar,
        ar,
        vec![PairTerm::LennardJones {
            epsilon: 0.0104,
            sigma: 3.4,
        }],
        truncation,
        None,
    )
    .unwrap();
    (System::from_structure(&s).unwrap(), lj)
}

fn energy_at(calc: &mut dyn Calculator, lattice: &Lattice, species: &[Element], pos: &[Vector3<f64>]) -> f64 {
    calc.invalidate();
    let config = Configuration {
        lattice,
        species,
        positions: pos,
    };
    evaluate(calc, &config).unwrap().energy
}

#[test]
fn forces_are_minus_the_energy_gradient() {
    let s = glass();
    for truncation in [Truncation::ShiftEnergy, Truncation::ShiftForce] {
        let mut calc = pedone_short_range(&s, truncation);
        let config = Configuration {
            lattice: s.lattice(),
            species: s.species(),
            positions: s.positions(),
        };
        let f = evaluate(&mut calc, &config).unwrap().forces;
        let h = 1e-5;
        for i in [0, 50, 100, 215] {
            for d in 0..3 {
                let mut p = s.positions().to_vec();
                p[i][d] += h;
                let ep = energy_at(&mut calc, s.lattice(), s.species(), &p);
                p[i][d] -= 2.0 * h;
                let em = energy_at(&mut calc, s.lattice(), s.species(), &p);
                let fd = -(ep - em) / (2.0 * h);
                assert!(
                    (fd - f[i][d]).abs() < 1e-6 * f[i].norm().max(1.0),
                    "atom {i} dir {d}: {fd} vs {}",
                    f[i][d]
                );
            }
        }
    }
}

#[test]
fn virial_is_minus_the_strain_derivative() {
    let s = glass();
    let mut calc = pedone_short_range(&s, Truncation::ShiftEnergy);
    let config = Configuration {
        lattice: s.lattice(),
        species: s.species(),
        positions: s.positions(),
    };
    let w = evaluate(&mut calc, &config).unwrap().virial;
    let h = 1e-6;
    for (a, b) in [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)] {
        let strained = |eps: f64| {
            let mut e = Matrix3::identity();
            e[(a, b)] += eps / 2.0;
            e[(b, a)] += eps / 2.0;
            let lattice = Lattice::new(s.lattice().matrix() * e.transpose()).unwrap();
            let pos: Vec<_> = s.positions().iter().map(|p| e * p).collect();
            (lattice, pos)
        };
        let (lp, pp) = strained(h);
        let (lm, pm) = strained(-h);
        let dedeps = (energy_at(&mut calc, &lp, s.species(), &pp)
            - energy_at(&mut calc, &lm, s.species(), &pm))
            / (2.0 * h);
        assert!(
            (-dedeps - w[(a, b)]).abs() < 1e-5 * w.norm(),
            "W{a}{b}: {} vs {}",
            -dedeps,
            w[(a, b)]
        );
    }
}

#[test]
fn nve_conserves_energy() {
    let (mut system, lj) = lj_liquid();
    system.set_maxwell_boltzmann(120.0, 7).unwrap();
    let mut sim = Simulation::new(system, Box::new(lj), 2.0, Thermostat::None, 1).unwrap();
    let energies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = energies.clone();
    sim.add_observer(
        10,
        Box::new(move |s: &amorph_md::Snapshot| {
            sink.lock().unwrap().push(s.conserved_energy());
            Ok(())
        }),
    )
    .unwrap();
    sim.run(2000).unwrap();
    let e = energies.lock().unwrap();
    let drift = e.iter().map(|x| (x - e[0]).abs()).fold(0.0, f64::max) / 108.0;
    assert!(drift < 2e-5, "max |ΔE| = {drift:e} eV/atom over 4 ps");
}

#[test]
fn nose_hoover_holds_temperature_and_conserves_its_quantity() {
    let (mut system, lj) = lj_liquid();
    system.set_maxwell_boltzmann(60.0, 3).unwrap();
    let mut sim = Simulation::new(
        system,
        Box::new(lj),
        2.0,
        Thermostat::nose_hoover(200.0, 3).unwrap(),
        1,
    )
    .unwrap();
    sim.set_temperature(100.0).unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    sim.add_observer(
        5,
        Box::new(move |s: &amorph_md::Snapshot| {
            sink.lock().unwrap().push((s.temperature(), s.conserved_energy()));
            Ok(())
        }),
    )
    .unwrap();
    sim.run(6000).unwrap();
    let log = log.lock().unwrap();
    let late: Vec<f64> = log[log.len() / 2..].iter().map(|x| x.0).collect();
    let mean = late.iter().sum::<f64>() / late.len() as f64;
    assert!((mean - 100.0).abs() < 8.0, "mean temperature {mean}");
    let e0 = log[0].1;
    let drift = log.iter().map(|x| (x.1 - e0).abs()).fold(0.0, f64::max) / 108.0;
    assert!(drift < 5e-5, "conserved quantity drifted {drift:e} eV/atom");
}

#[test]
fn maxwell_boltzmann_is_exact_and_reproducible() {
    let (mut a, _) = lj_liquid();
    let mut b = a.clone();
    a.set_maxwell_boltzmann(300.0, 42).unwrap();
    b.set_maxwell_boltzmann(300.0, 42).unwrap();
    assert_eq!(a.velocities, b.velocities);
    assert!((a.temperature() - 300.0).abs() < 1e-9);
    let p: Vector3<f64> = a.masses.iter().zip(&a.velocities).map(|(m, v)| v * *m).sum();
    assert!(p.norm() < 1e-12);
    b.set_maxwell_boltzmann(300.0, 43).unwrap();
    assert_ne!(a.velocities, b.velocities);
}

#[test]
fn restart_continues_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let make = || {
        let (mut system, lj) = lj_liquid();
        system.set_maxwell_boltzmann(150.0, 9).unwrap();
        let mut sim =
            Simulation::new(system, Box::new(lj), 2.0, Thermostat::langevin(100.0).unwrap(), 5).unwrap();
        sim.set_temperature(150.0).unwrap();
        sim
    };
    let mut straight = make();
    straight.run(50).unwrap();
    straight.checkpoint(&ckpt).unwrap();
    straight.run(150).unwrap();

    let (_, lj) = lj_liquid();
    let mut resumed = Simulation::restart(&ckpt, Box::new(lj)).unwrap();
    resumed.run(150).unwrap();
    assert_eq!(resumed.step(), 200);
    assert_eq!(resumed.system().positions, straight.system().positions);
    assert_eq!(resumed.system().velocities, straight.system().velocities);
}

#[test]
fn a_blow_up_is_an_error_naming_the_step() {
    let (mut system, lj) = lj_liquid();
    // Two atoms nearly on top of each other explode on the first step.
    system.positions[1] = system.positions[0] + Vector3::new(0.3, 0.0, 0.0);
    let mut sim = Simulation::new(system, Box::new(lj), 2.0, Thermostat::None, 1).unwrap();
    let err = sim.run(100).unwrap_err().to_string();
    assert!(err.contains("step 1"), "{err}");
    assert_eq!(sim.step(), 0, "rolled back to the last good state");
}

#[test]
fn evaluation_reports_pressure_in_gpa() {
    let mut e = Evaluation::zeros(1);
    e.virial = Matrix3::identity();
    assert!((e.virial_pressure_gpa(160.2176634) - 1.0).abs() < 1e-12);
}

#[test]
fn berendsen_barostat_brings_the_pressure_to_its_target() {
    let (mut system, lj) = lj_liquid();
    system.set_maxwell_boltzmann(100.0, 11).unwrap();
    let v0 = system.lattice.volume();
    let mut sim = Simulation::new(
        system,
        Box::new(lj),
        2.0,
        Thermostat::berendsen(100.0).unwrap(),
        1,
    )
    .unwrap();
    sim.set_temperature(100.0).unwrap();
    sim.set_barostat(amorph_md::Barostat::Berendsen {
        pressure_gpa: 0.0,
        tau_fs: 500.0,
        compressibility_per_gpa: 0.5,
    })
    .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    sim.add_observer(
        10,
        Box::new(move |s: &amorph_md::Snapshot| {
            sink.lock().unwrap().push(s.pressure_gpa());
            Ok(())
        }),
    )
    .unwrap();
    sim.run(5000).unwrap();
    let log = log.lock().unwrap();
    let late = &log[log.len() * 3 / 4..];
    let mean = late.iter().sum::<f64>() / late.len() as f64;
    assert!(
        mean.abs() < 0.05,
        "mean pressure {mean} GPa (started at {} GPa)",
        log[0]
    );
    assert!(
        (sim.system().lattice.volume() - v0).abs() > 1e-3 * v0,
        "the volume changed"
    );
}

/// Canonical ensemble: the kinetic temperature fluctuates with relative variance 2/N_f.
#[test]
fn thermostats_give_the_canonical_temperature_variance() {
    for (name, thermostat) in [
        ("nose-hoover", Thermostat::nose_hoover(100.0, 3).unwrap()),
        ("csvr", Thermostat::csvr(100.0).unwrap()),
        ("langevin", Thermostat::langevin(200.0).unwrap()),
    ] {
        let (mut system, lj) = lj_liquid();
        system.set_maxwell_boltzmann(90.0, 21).unwrap();
        let nf = system.degrees_of_freedom();
        let mut sim = Simulation::new(system, Box::new(lj), 4.0, thermostat, 17).unwrap();
        sim.set_temperature(90.0).unwrap();
        sim.run(2000).unwrap();
        let samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = samples.clone();
        sim.add_observer(
            5,
            Box::new(move |s: &amorph_md::Snapshot| {
                sink.lock().unwrap().push(s.temperature());
                Ok(())
            }),
        )
        .unwrap();
        sim.run(40_000).unwrap();
        let t = samples.lock().unwrap();
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        let var = t.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (t.len() - 1) as f64;
        let ratio = var / mean.powi(2) / (2.0 / nf);
        assert!((mean - 90.0).abs() < 3.0, "{name}: mean T {mean}");
        assert!((ratio - 1.0).abs() < 0.25, "{name}: variance ratio {ratio}");
    }
}

#[test]
fn forces_do_not_depend_on_the_thread_count() {
    let s = glass();
    let run = |threads: usize, deterministic: bool| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut calc = pedone_short_range(&s, Truncation::ShiftEnergy).deterministic(deterministic);
            let config = Configuration {
                lattice: s.lattice(),
                species: s.species(),
                positions: s.positions(),
            };
            evaluate(&mut calc, &config).unwrap()
        })
    };
    let one = run(1, true);
    for threads in [2, 3] {
        assert_eq!(run(threads, true), one, "deterministic mode, {threads} threads");
        let fast = run(threads, false);
        let worst = fast
            .forces
            .iter()
            .zip(&one.forces)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(worst < 1e-12 && (fast.energy - one.energy).abs() < 1e-10 * one.energy.abs());
    }
}

/// Mean and standard error of block means.
fn block_mean(samples: &[f64], blocks: usize) -> (f64, f64) {
    let per = samples.len() / blocks;
    let means: Vec<f64> = samples
        .chunks_exact(per)
        .map(|c| c.iter().sum::<f64>() / per as f64)
        .collect();
    let n = means.len() as f64;
    let mean = means.iter().sum::<f64>() / n;
    let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// MTK NPT samples the same volume as LAMMPS `fix npt` (validation/lammps_npt.py): an ensemble
/// average, so equal within the statistical errors of both runs.
#[test]
fn mtk_npt_volume_equals_lammps_fix_npt() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/lammps/npt_lj.json"
    ))
    .unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let t = reference["temperature_K"].as_f64().unwrap();
    let p = reference["pressure_GPa"].as_f64().unwrap();
    let v_ref = reference["mean_volume_A3"].as_f64().unwrap();
    let v_ref_err = reference["mean_volume_stderr_A3"].as_f64().unwrap();

    let (mut system, lj) = lj_argon(4, Truncation::ShiftEnergy);
    assert_eq!(system.len() as u64, reference["natoms"].as_u64().unwrap());
    system.set_maxwell_boltzmann(t, 5).unwrap();
    let mut sim = Simulation::new(
        system,
        Box::new(lj),
        2.0,
        Thermostat::nose_hoover(200.0, 3).unwrap(),
        5,
    )
    .unwrap();
    sim.set_temperature(t).unwrap();
    sim.set_barostat(amorph_md::Barostat::mtk(p, 2000.0).unwrap())
        .unwrap();
    sim.run(5000).unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    sim.add_observer(
        10,
        Box::new(move |s: &amorph_md::Snapshot| {
            sink.lock()
                .unwrap()
                .push((s.system.lattice.volume(), s.conserved_energy()));
            Ok(())
        }),
    )
    .unwrap();
    sim.run(60_000).unwrap();
    let log = log.lock().unwrap();
    let volumes: Vec<f64> = log.iter().map(|x| x.0).collect();
    let (v, v_err) = block_mean(&volumes, 24);
    let sigma = (v_err.powi(2) + v_ref_err.powi(2)).sqrt();
    assert!(
        (v - v_ref).abs() < 4.0 * sigma,
        "amorph {v:.1} ± {v_err:.1} Å³, LAMMPS {v_ref:.1} ± {v_ref_err:.1} Å³"
    );
    // The extended energy is conserved (2 fs steps, 120 ps).
    let e: Vec<f64> = log.iter().map(|x| x.1).collect();
    let spread = e.iter().cloned().fold(f64::MIN, f64::max) - e.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread / 256.0 < 2e-4, "conserved energy spread {spread} eV");
}

/// MTK with a thermostat or without (NPH): the extended energy is conserved to the integrator's
/// accuracy and shrinks with the time step as dt².
#[test]
fn mtk_conserved_quantity_is_second_order() {
    for thermostat in [Thermostat::None, Thermostat::nose_hoover(100.0, 3).unwrap()] {
        let spread = |dt: f64| {
            let (mut system, lj) = lj_argon(3, Truncation::ShiftForce);
            system.set_maxwell_boltzmann(140.0, 9).unwrap();
            let mut sim = Simulation::new(system, Box::new(lj), dt, thermostat.clone(), 9).unwrap();
            sim.set_temperature(140.0).unwrap();
            // A short τ_P and a pressure far from equilibrium make the cell move a lot.
            sim.set_barostat(amorph_md::Barostat::mtk(0.3, 200.0).unwrap())
                .unwrap();
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = log.clone();
            sim.add_observer(
                1,
                Box::new(move |s: &amorph_md::Snapshot| {
                    sink.lock()
                        .unwrap()
                        .push((s.conserved_energy(), s.system.lattice.volume()));
                    Ok(())
                }),
            )
            .unwrap();
            sim.run((2000.0 / dt) as u64).unwrap();
            let log = log.lock().unwrap();
            let e: Vec<f64> = log.iter().map(|x| x.0).collect();
            let v: Vec<f64> = log.iter().map(|x| x.1).collect();
            let vmax = v.iter().cloned().fold(f64::MIN, f64::max);
            let vmin = v.iter().cloned().fold(f64::MAX, f64::min);
            assert!(vmax / vmin > 1.05, "the cell moved: {vmin}..{vmax}");
            e.iter().cloned().fold(f64::MIN, f64::max) - e.iter().cloned().fold(f64::MAX, f64::min)
        };
        let (coarse, fine) = (spread(2.0), spread(1.0));
        let ratio = coarse / fine;
        assert!(
            (3.0..5.5).contains(&ratio),
            "{thermostat:?}: spreads {coarse:e} and {fine:e} eV, ratio {ratio}"
        );
    }
}

/// Steps nobody looks at may skip the virial; every step an observer sees, and the state after a run,
/// carry the full virial.
#[test]
fn the_virial_is_computed_whenever_it_is_seen() {
    let (mut system, lj) = lj_liquid();
    system.set_maxwell_boltzmann(100.0, 3).unwrap();
    let mut fresh = lj.clone();
    let mut sim = Simulation::new(system, Box::new(lj), 2.0, Thermostat::None, 1).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    sim.add_observer(
        7,
        Box::new(move |s: &amorph_md::Snapshot| {
            sink.lock().unwrap().push((s.evaluation.virial, s.system.clone()));
            Ok(())
        }),
    )
    .unwrap();
    sim.run(30).unwrap();
    let check = |virial: &Matrix3<f64>, system: &System, fresh: &mut PairInteractions| {
        let want = evaluate(fresh, &system.configuration()).unwrap().virial;
        assert!(want.norm() > 1e-3);
        assert!((virial - want).norm() < 1e-9 * want.norm(), "{virial} vs {want}");
    };
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    for (virial, system) in seen.iter() {
        check(virial, system, &mut fresh);
    }
    check(&sim.evaluation().virial, sim.system(), &mut fresh);
}
