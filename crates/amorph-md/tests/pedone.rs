//! The Pedone force field with Coulomb on the example Li2Si2O5 glass: finite-difference forces and
//! NVE energy conservation (the check: drift < 1e-4 eV/atom over 10 ps with a 1 fs step at
//! 1500 K).

use amorph_md::forcefield::{CalculatorOptions, CoulombMethod};
use amorph_md::{Configuration, ForceField, Simulation, System, Thermostat, Truncation, evaluate};
use amorph_structure::{Structure, io};

fn glass() -> Structure {
    io::read_structure(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/Li2Si2O5_glass.vasp"
    ))
    .unwrap()
}

fn pedone(s: &Structure, coulomb: CoulombMethod) -> amorph_md::Sum {
    pedone_with(s, coulomb, None)
}

fn pedone_with(s: &Structure, coulomb: CoulombMethod, truncation: Option<Truncation>) -> amorph_md::Sum {
    let options = CalculatorOptions {
        coulomb,
        truncation,
        ..Default::default()
    };
    ForceField::pedone().calculator(&s.elements(), &options).unwrap()
}

#[test]
fn full_pedone_forces_are_minus_the_gradient() {
    let s = glass();
    // (Wolf is left out: LAMMPS's coul/wolf, which it reproduces, shifts the force and the energy
    // inconsistently, so its forces are not the gradient of its energy by construction.)
    for coulomb in [CoulombMethod::Dsf {
        alpha: 0.25,
        cutoff: 9.0,
    }] {
        let mut calc = pedone(&s, coulomb);
        let config = Configuration {
            lattice: s.lattice(),
            species: s.species(),
            positions: s.positions(),
        };
        let f = evaluate(&mut calc, &config).unwrap().forces;
        let h = 1e-5;
        for i in [3, 77, 150] {
            for d in 0..3 {
                let mut p = s.positions().to_vec();
                let mut at = |dx: f64| {
                    p[i][d] = s.positions()[i][d] + dx;
                    let c = Configuration {
                        lattice: s.lattice(),
                        species: s.species(),
                        positions: &p,
                    };
                    evaluate(&mut pedone(&s, coulomb), &c).unwrap().energy
                };
                let fd = -(at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (fd - f[i][d]).abs() < 1e-5 * f[i].norm().max(1.0),
                    "{coulomb:?} atom {i}: {fd} vs {}",
                    f[i][d]
                );
            }
        }
    }
}

#[test]
fn nve_drift_of_the_pedone_glass_at_1500_k() {
    let s = glass();
    // Shifted-force truncation: with the energy-only shift, the force jumps at 5.5 Å and every O–O
    // pair crossing the cutoff leaks a little energy.
    let calc = || {
        pedone_with(
            &s,
            CoulombMethod::Dsf {
                alpha: 0.25,
                cutoff: 9.0,
            },
            Some(Truncation::ShiftForce),
        )
    };
    let mut system = System::from_structure(&s).unwrap();
    system.set_maxwell_boltzmann(1500.0, 2024).unwrap();
    // Equilibrate at 1500 K first: the 300 K glass heated suddenly converts kinetic energy into
    // potential energy, and velocity Verlet's O(dt²) energy offset follows that change.
    let mut nvt = Simulation::new(system, Box::new(calc()), 1.0, Thermostat::csvr(50.0).unwrap(), 3).unwrap();
    nvt.set_temperature(1500.0).unwrap();
    nvt.run(3_000).unwrap();
    let mut sim = Simulation::new(nvt.system().clone(), Box::new(calc()), 1.0, Thermostat::None, 1).unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    sim.add_observer(
        10,
        Box::new(move |snap: &amorph_md::Snapshot| {
            sink.lock()
                .unwrap()
                .push((snap.conserved_energy(), snap.temperature()));
            Ok(())
        }),
    )
    .unwrap();
    sim.run(10_000).unwrap();
    let log = log.lock().unwrap();
    let n = s.len() as f64;
    // Drift: the mean of the last picosecond minus the mean of the first, per atom (the mean removes
    // the bounded O(dt²) fluctuation of the shadow energy).
    let mean = |xs: &[(f64, f64)]| xs.iter().map(|x| x.0).sum::<f64>() / xs.len() as f64;
    let k = log.len() / 10;
    let drift = (mean(&log[log.len() - k..]) - mean(&log[..k])).abs() / n;
    let t = log.iter().map(|x| x.1).sum::<f64>() / log.len() as f64;
    assert!((t - 1500.0).abs() < 250.0, "mean temperature {t} K");
    assert!(drift < 1e-4, "drift {drift:e} eV/atom over 10 ps");
}
