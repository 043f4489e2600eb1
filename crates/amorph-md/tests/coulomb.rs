//! Physics checks of the Coulomb solvers: Madelung energy, Ewald ↔ PPPM agreement, forces and virial
//! against finite differences, invariances, determinism.

use amorph_md::coulomb::{Charges, Dsf, Erfc, Ewald, Pppm, Wolf, WolfForces};
use amorph_md::{Calculator, Configuration, Evaluation, evaluate};
use amorph_structure::{Element, Lattice, NeighborList, PairSet};
use nalgebra::{Matrix3, Vector3};

const K: f64 = 14.399645;

fn el(s: &str) -> Element {
    Element::from_symbol(s).unwrap()
}

/// SplitMix64 in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct System {
    lattice: Lattice,
    species: Vec<Element>,
    positions: Vec<Vector3<f64>>,
}

impl System {
    fn config(&self) -> Configuration<'_> {
        Configuration {
            lattice: &self.lattice,
            species: &self.species,
            positions: &self.positions,
        }
    }
}

fn charges() -> Charges {
    Charges::from_symbols([("Li", 0.6), ("Si", 2.4), ("O", -1.2), ("Na", 1.0), ("Cl", -1.0)]).unwrap()
}

/// 54 atoms of Li2Si2O5 (neutral with Pedone charges) at random in a skewed triclinic cell, no pair
/// closer than 1.5 Å; `extra` adds that many Na⁺ for a charged cell.
fn random_system(seed: u64, extra: usize) -> System {
    let lattice = Lattice::from_parameters(9.3, 8.9, 9.6, 80.0, 97.0, 105.0).unwrap();
    let mut rng = Rng(seed);
    let mut species = Vec::new();
    for (s, n) in [("Li", 12), ("Si", 12), ("O", 30), ("Na", extra)] {
        species.extend(std::iter::repeat_n(el(s), n));
    }
    let mut positions: Vec<Vector3<f64>> = Vec::new();
    while positions.len() < species.len() {
        let f = Vector3::new(rng.next(), rng.next(), rng.next());
        let p = lattice.to_cartesian(&f);
        if positions.iter().all(|q| lattice.distance(&p, q) >= 1.5) {
            positions.push(p);
        }
    }
    // Unwrap some atoms by lattice vectors: positions need not be wrapped.
    for (i, p) in positions.iter_mut().enumerate() {
        if i % 7 == 3 {
            *p += lattice.vector(0) - lattice.vector(2) * 2.0;
        }
    }
    System {
        lattice,
        species,
        positions,
    }
}

fn rock_salt(a: f64) -> System {
    let mut species = Vec::new();
    let mut positions = Vec::new();
    for f in [[0., 0., 0.], [0., 0.5, 0.5], [0.5, 0., 0.5], [0.5, 0.5, 0.]] {
        species.push(el("Na"));
        positions.push(Vector3::new(f[0], f[1], f[2]) * a);
        species.push(el("Cl"));
        positions.push(Vector3::new(f[0] + 0.5, f[1], f[2]) * a);
    }
    System {
        lattice: Lattice::cubic(a).unwrap(),
        species,
        positions,
    }
}

fn energy(calc: &mut dyn Calculator, s: &System) -> f64 {
    evaluate(calc, &s.config()).unwrap().energy
}

fn rms(v: &[Vector3<f64>]) -> f64 {
    (v.iter().map(|f| f.norm_squared()).sum::<f64>() / v.len() as f64).sqrt()
}

/// Central-difference forces on a few atoms vs the analytic ones; returns max |ΔF| / RMS(F).
fn check_forces(calc: &mut dyn Calculator, s: &System, tol: f64) {
    let ev = evaluate(calc, &s.config()).unwrap();
    let scale = rms(&ev.forces);
    let h = 1e-5;
    let mut worst: f64 = 0.0;
    for i in [0, 5, 13, 20, 31, 47, 53] {
        for d in 0..3 {
            let mut p = System {
                lattice: s.lattice.clone(),
                species: s.species.clone(),
                positions: s.positions.clone(),
            };
            p.positions[i][d] += h;
            let ep = energy(calc, &p);
            p.positions[i][d] -= 2.0 * h;
            let em = energy(calc, &p);
            let fd = -(ep - em) / (2.0 * h);
            worst = worst.max((fd - ev.forces[i][d]).abs() / scale);
        }
    }
    assert!(worst < tol, "{}: max |F − F_fd| / F_rms = {worst:e}", calc.name());
}

fn strained(s: &System, eps: &Matrix3<f64>) -> System {
    let t = Matrix3::identity() + eps;
    let m = s.lattice.matrix() * t.transpose();
    System {
        lattice: Lattice::new(m).unwrap(),
        species: s.species.clone(),
        positions: s.positions.iter().map(|p| t * p).collect(),
    }
}

/// Virial vs −dE/dε under symmetric strains; returns nothing, asserts max |ΔW| / max |W| < tol.
fn check_virial(calc: &mut dyn Calculator, s: &System, tol: f64) {
    let ev = evaluate(calc, &s.config()).unwrap();
    let h = 1e-6;
    let scale = ev.virial.abs().max().max(1e-3);
    let mut worst: f64 = 0.0;
    for (a, b) in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)] {
        let mut e = Matrix3::zeros();
        if a == b {
            e[(a, a)] = h;
        } else {
            e[(a, b)] = 0.5 * h;
            e[(b, a)] = 0.5 * h;
        }
        let ep = energy(calc, &strained(s, &e));
        let em = energy(calc, &strained(s, &(-e)));
        let fd = -(ep - em) / (2.0 * h);
        worst = worst.max((fd - ev.virial[(a, b)]).abs() / scale);
    }
    assert!(
        worst < tol,
        "{}: max |W − W_fd| / max|W| = {worst:e}\n{}",
        calc.name(),
        ev.virial
    );
}

fn ewald_fd() -> Ewald {
    // α rc = 4.6: the real-space cut is invisible at the finite-difference step.
    Ewald::with_alpha_kmax(charges(), 9.0, 0.51, [9, 9, 9]).unwrap()
}

fn pppm_fd() -> Pppm {
    Pppm::with_alpha_grid(charges(), 9.0, 0.51, [40, 40, 40]).unwrap()
}

#[test]
fn madelung_energy_of_rock_salt() {
    let a = 5.64;
    let s = rock_salt(a);
    let exact = -4.0 * 1.747_564_594_633 * K / (a / 2.0);
    let mut ewald = Ewald::new(charges(), 8.0, 1e-10).unwrap();
    let e = energy(&mut ewald, &s);
    assert!(((e - exact) / exact).abs() < 1e-9, "Ewald {e} vs {exact}");
    let mut pppm = Pppm::new(charges(), 8.0, 1e-8).unwrap();
    let e = energy(&mut pppm, &s);
    assert!(((e - exact) / exact).abs() < 1e-7, "PPPM {e} vs {exact}");
    // Every ion sits at a centre of symmetry: no force.
    let ev = evaluate(&mut ewald, &s.config()).unwrap();
    assert!(ev.forces.iter().all(|f| f.norm() < 1e-9));
    // Isotropic virial equals the energy (Coulomb energy is homogeneous of degree −1).
    for d in 0..3 {
        assert!((ev.virial[(d, d)] - exact / 3.0).abs() < 1e-6 * exact.abs());
    }
}

/// PPPM and Ewald at one accuracy use the same α and real-space sum, so their difference is the
/// reciprocal-space error, which each keeps below `accuracy × 14.4 eV/Å`; against a converged sum
/// the real-space truncation (also estimated at the accuracy) adds in quadrature.
#[test]
fn ewald_and_pppm_agree_to_the_requested_accuracy() {
    let s = random_system(7, 0);
    let mut reference = Ewald::new(charges(), 8.0, 1e-12).unwrap();
    let r = evaluate(&mut reference, &s.config()).unwrap();
    let diff = |a: &Evaluation, b: &Evaluation| {
        rms(&a
            .forces
            .iter()
            .zip(&b.forces)
            .map(|(x, y)| x - y)
            .collect::<Vec<_>>())
    };
    for accuracy in [1e-4, 1e-5, 1e-6] {
        let acc = accuracy * K;
        let mut ewald = Ewald::new(charges(), 8.0, accuracy).unwrap();
        let e = evaluate(&mut ewald, &s.config()).unwrap();
        assert!(
            diff(&e, &r) <= 2f64.sqrt() * acc,
            "Ewald at {accuracy}: {:e}",
            diff(&e, &r)
        );
        for order in [4, 5, 6, 7] {
            let mut pppm = Pppm::new(charges(), 8.0, accuracy)
                .unwrap()
                .with_order(order)
                .unwrap();
            let p = evaluate(&mut pppm, &s.config()).unwrap();
            let params = pppm.parameters(&s.config()).unwrap();
            let what = format!("order {order}, accuracy {accuracy:e}, {params:?}");
            assert!(
                diff(&p, &e) <= acc,
                "{what}: PPPM − Ewald {:e} eV/Å",
                diff(&p, &e)
            );
            assert!(
                diff(&p, &r) <= 2f64.sqrt() * acc,
                "{what}: vs converged {:e}",
                diff(&p, &r)
            );
            let de = (p.energy - e.energy).abs();
            assert!(
                de <= acc * (s.positions.len() as f64).sqrt(),
                "{what}: ΔE = {de:e} eV"
            );
        }
    }
}

#[test]
fn forces_are_minus_the_energy_gradient() {
    let s = random_system(11, 0);
    check_forces(&mut ewald_fd(), &s, 1e-7);
    check_forces(&mut pppm_fd(), &s, 1e-7);
    check_forces(&mut Dsf::new(charges(), 0.25, 8.0).unwrap(), &s, 1e-7);
    check_forces(
        &mut Wolf::new(charges(), 0.25, 8.0)
            .unwrap()
            .with_forces(WolfForces::Conservative),
        &s,
        1e-7,
    );
    // A charged cell: the background term has no force, the rest still must be a gradient.
    let c = random_system(12, 2);
    check_forces(&mut ewald_fd(), &c, 1e-7);
    check_forces(&mut pppm_fd(), &c, 1e-7);
}

#[test]
fn virial_is_minus_the_strain_derivative() {
    let s = random_system(13, 0);
    check_virial(&mut ewald_fd(), &s, 1e-7);
    check_virial(&mut pppm_fd(), &s, 1e-7);
    check_virial(&mut Dsf::new(charges(), 0.25, 8.0).unwrap(), &s, 1e-7);
    check_virial(
        &mut Wolf::new(charges(), 0.25, 8.0)
            .unwrap()
            .with_forces(WolfForces::Conservative),
        &s,
        1e-7,
    );
    let c = random_system(14, 2);
    check_virial(&mut ewald_fd(), &c, 1e-7);
    check_virial(&mut pppm_fd(), &c, 1e-7);
}

/// LAMMPS's Wolf force is the conservative one plus `k q_i q_j f_shift` along each pair.
#[test]
fn lammps_wolf_forces_differ_by_the_force_shift() {
    let s = random_system(15, 0);
    let (alpha, rc) = (0.25, 8.0);
    let mut lmp = Wolf::new(charges(), alpha, rc).unwrap();
    let mut cons = Wolf::new(charges(), alpha, rc)
        .unwrap()
        .with_forces(WolfForces::Conservative);
    let a = evaluate(&mut lmp, &s.config()).unwrap();
    let b = evaluate(&mut cons, &s.config()).unwrap();
    assert_eq!(a.energy, b.energy);
    let erfc2 = 0.004_677_734_981_047_266; // erfc(α rc) = erfc(2.0), Python math.erfc
    let f_shift =
        -(erfc2 / rc + 2.0 * alpha / std::f64::consts::PI.sqrt() * (-(alpha * rc).powi(2)).exp()) / rc;
    let q = charges().per_atom(&s.species).unwrap();
    let nl = NeighborList::build(&s.lattice, &s.positions, rc, PairSet::Full).unwrap();
    let mut df = vec![Vector3::zeros(); s.positions.len()];
    let mut dw = Matrix3::zeros();
    for (i, n) in nl.iter() {
        let d = nl.vector(i, n); // r_j − r_i
        let r = d.norm();
        let fpair = K * q[i] * q[n.index as usize] / r * f_shift;
        df[i] -= d * fpair;
        dw += d * d.transpose() * (0.5 * fpair);
    }
    for (i, ((fa, fb), d)) in a.forces.iter().zip(&b.forces).zip(&df).enumerate() {
        assert!((fa - fb - d).norm() < 1e-10, "atom {i}");
    }
    assert!((a.virial - b.virial - dw).abs().max() < 1e-9);
}

#[test]
fn translation_invariance() {
    let s = random_system(17, 0);
    let shift = Vector3::new(3.7, -11.2, 0.9);
    let moved = System {
        lattice: s.lattice.clone(),
        species: s.species.clone(),
        positions: s.positions.iter().map(|p| p + shift).collect(),
    };
    let calcs: Vec<(Box<dyn Calculator>, f64)> = vec![
        (Box::new(Ewald::new(charges(), 8.0, 1e-8).unwrap()), 1e-11),
        (Box::new(Pppm::new(charges(), 8.0, 1e-5).unwrap()), 2e-5),
        (Box::new(Dsf::new(charges(), 0.25, 8.0).unwrap()), 1e-11),
        (Box::new(Wolf::new(charges(), 0.25, 8.0).unwrap()), 1e-11),
    ];
    for (mut c, tol) in calcs {
        let a = evaluate(c.as_mut(), &s.config()).unwrap();
        let b = evaluate(c.as_mut(), &moved.config()).unwrap();
        let fscale = rms(&a.forces);
        assert!(((a.energy - b.energy) / a.energy).abs() < tol, "{}", c.name());
        for (fa, fb) in a.forces.iter().zip(&b.forces) {
            assert!((fa - fb).norm() / fscale < 10.0 * tol.max(1e-10), "{}", c.name());
        }
    }
}

fn all_calculators() -> Vec<Box<dyn Calculator>> {
    vec![
        Box::new(Ewald::new(charges(), 8.0, 1e-6).unwrap()),
        Box::new(Pppm::new(charges(), 8.0, 1e-5).unwrap()),
        Box::new(Dsf::new(charges(), 0.25, 8.0).unwrap().lammps_compatible()),
        Box::new(Wolf::new(charges(), 0.25, 8.0).unwrap()),
    ]
}

fn eval_with_per_atom(c: &mut dyn Calculator, s: &System) -> Evaluation {
    let mut out = Evaluation::zeros(s.positions.len());
    out.request_per_atom_energies();
    c.compute(&s.config(), &mut out).unwrap();
    out
}

#[test]
fn per_atom_energies_sum_to_the_energy() {
    let s = random_system(19, 1);
    for mut c in all_calculators() {
        let ev = eval_with_per_atom(c.as_mut(), &s);
        let sum: f64 = ev.per_atom_energies.as_ref().unwrap().iter().sum();
        assert!(
            ((sum - ev.energy) / ev.energy).abs() < 1e-12,
            "{}: {sum} vs {}",
            c.name(),
            ev.energy
        );
    }
}

/// A calculator reused along a trajectory gives what a fresh one gives, bit for bit; and so does any
/// thread count.
#[test]
fn reuse_and_threads_do_not_change_results() {
    let s0 = random_system(23, 0);
    let mut rng = Rng(99);
    let fresh = all_calculators;
    let mut reused = all_calculators();
    let mut s = System {
        lattice: s0.lattice.clone(),
        species: s0.species.clone(),
        positions: s0.positions.clone(),
    };
    for step in 0..6 {
        for p in s.positions.iter_mut() {
            *p += Vector3::new(rng.next() - 0.5, rng.next() - 0.5, rng.next() - 0.5) * 0.15;
        }
        for (k, c) in reused.iter_mut().enumerate() {
            let a = eval_with_per_atom(c.as_mut(), &s);
            let b = eval_with_per_atom(fresh()[k].as_mut(), &s);
            assert_eq!(a, b, "step {step}: {}", c.name());
        }
    }
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got: Vec<Evaluation> = pool.install(|| {
            fresh()
                .iter_mut()
                .map(|c| eval_with_per_atom(c.as_mut(), &s))
                .collect()
        });
        let want: Vec<Evaluation> = fresh()
            .iter_mut()
            .map(|c| eval_with_per_atom(c.as_mut(), &s))
            .collect();
        assert_eq!(got, want, "{threads} threads");
    }
}

#[test]
fn charged_cell_energy_does_not_depend_on_alpha() {
    let s = random_system(29, 3);
    let e1 = energy(
        &mut Ewald::with_alpha_kmax(charges(), 9.0, 0.60, [20, 20, 20]).unwrap(),
        &s,
    );
    let e2 = energy(
        &mut Ewald::with_alpha_kmax(charges(), 9.0, 0.75, [24, 24, 24]).unwrap(),
        &s,
    );
    assert!(((e1 - e2) / e1).abs() < 1e-9, "{e1} vs {e2}");
}

fn glass(name: &str) -> System {
    let path = format!(
        "{}/../../tests/data/glasses/{name}.vasp",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = amorph_structure::io::read_structure(&path).unwrap();
    System {
        lattice: s.lattice().clone(),
        species: s.species().to_vec(),
        positions: s.positions().to_vec(),
    }
}

#[test]
fn dsf_and_wolf_approach_ewald_for_a_glass() {
    let s = glass("Li2Si2O5");
    let e = energy(&mut Ewald::new(charges(), 10.0, 1e-10).unwrap(), &s);
    let d = energy(&mut Dsf::new(charges(), 0.2, 10.0).unwrap(), &s);
    let w = energy(&mut Wolf::new(charges(), 0.2, 10.0).unwrap(), &s);
    assert!(((d - e) / e).abs() < 2e-3, "DSF {d} vs Ewald {e}");
    assert!(((w - e) / e).abs() < 2e-3, "Wolf {w} vs Ewald {e}");
    let poly = energy(
        &mut Dsf::new(charges(), 0.2, 10.0)
            .unwrap()
            .with_erfc(Erfc::AbramowitzStegun),
        &s,
    );
    assert!(((poly - d) / d).abs() < 1e-6 && poly != d);
}

#[test]
fn errors_name_what_is_wrong() {
    let s = random_system(37, 0);
    let only_o = Charges::from_symbols([("O", -1.2)]).unwrap();
    let err = evaluate(&mut Dsf::new(only_o, 0.2, 8.0).unwrap(), &s.config()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("Li") && msg.contains("Si"), "{msg}");
    assert!(Charges::from_symbols([("O", f64::NAN)]).is_err());
    assert!(Charges::from_symbols([("O", 1.0), ("O", 2.0)]).is_err());
    assert!(Ewald::new(charges(), 8.0, 0.0).is_err());
    assert!(Ewald::new(charges(), -1.0, 1e-5).is_err());
    assert!(Pppm::new(charges(), 8.0, 1e-5).unwrap().with_order(12).is_err());
    assert!(Dsf::new(charges(), -0.1, 8.0).is_err());
    assert!(Wolf::new(charges(), 0.2, f64::INFINITY).is_err());
    let json = serde_json::to_string(&charges()).unwrap();
    assert!(json.contains("\"Li\":0.6"), "{json}");
    let back: Charges = serde_json::from_str(&json).unwrap();
    assert_eq!(back, charges());
}

/// The tabulated real space changes PPPM's energy, forces and virial by far less than its accuracy.
#[test]
fn tabulated_pppm_real_space_matches_the_direct_one() {
    for name in ["Li2Si2O5"] {
        let s = glass(name);
        let config = Configuration {
            lattice: &s.lattice,
            species: &s.species,
            positions: &s.positions,
        };
        for erfc in [Erfc::Exact, Erfc::AbramowitzStegun] {
            let base = Pppm::new(charges(), 10.0, 1e-5).unwrap().with_erfc(erfc);
            let direct = evaluate(&mut base.clone(), &config).unwrap();
            let table = evaluate(&mut base.tabulated(true), &config).unwrap();
            assert_ne!(direct.energy, table.energy);
            assert!(((table.energy - direct.energy) / direct.energy).abs() < 1e-7);
            let scale = rms(&direct.forces);
            let worst = direct
                .forces
                .iter()
                .zip(&table.forces)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(worst < 1e-6 * scale, "{name}: force error {worst} of rms {scale}");
            assert!((table.virial - direct.virial).norm() < 1e-6 * direct.virial.norm());
        }
    }
}
