//! Crystals where every feature value follows from geometry: rock-salt LiF, antifluorite Li2O, α-Li3N.

mod common;

use amorph_features::{Convention, Options, PfMethod, RadiusTable, Undefined};
use approx::assert_relative_eq;
use common::*;

const SQRT2: f64 = std::f64::consts::SQRT_2;

/// Sample standard deviation of `n1` copies of x1 and `n2` copies of x2.
fn sample_std_two(n1: f64, x1: f64, n2: f64, x2: f64) -> f64 {
    let m = (n1 * x1 + n2 * x2) / (n1 + n2);
    ((n1 * (x1 - m).powi(2) + n2 * (x2 - m).powi(2)) / (n1 + n2 - 1.0)).sqrt()
}

#[test]
fn rocksalt_lif_sendek() {
    let a = 4.03;
    let f = features(&rocksalt_lif(a), Options::default());
    let (r_li, r_f) = (0.76, 1.33); // Shannon VI, Li+ and F-
    assert_relative_eq!(val(&f, "AAV"), a.powi(3) / 8.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "VPA"), a.powi(3) / 4.0, epsilon = 1e-12);
    // Around Li within 4 Å: 6 F at a/2, 12 Li at a/√2, 8 F at a√3/2 (6 Li at a = 4.03 Å are out).
    assert_eq!(val(&f, "LNC"), 26.0);
    assert_eq!(val(&f, "SDLC"), 0.0);
    assert_eq!(val(&f, "LLB"), 12.0);
    let dx = 3.98 - 0.98;
    assert_relative_eq!(val(&f, "LBI"), 14.0 * dx / 26.0, epsilon = 1e-12);
    // Over all 4 × 26 Li bonds of the cell (so not invariant under supercells: n − 1).
    assert_relative_eq!(
        val(&f, "SDLI"),
        sample_std_two(56.0, dx, 48.0, 0.0),
        epsilon = 1e-12
    );
    // F–F bonds only: 12 F at a/√2, all of ionicity 0.
    assert_eq!(val(&f, "SNC"), 12.0);
    assert_eq!(val(&f, "SBI"), 0.0);
    assert_eq!(get(&f, "RBI"), Err(Undefined::ZeroDenominator { what: "SBI" }));
    assert_relative_eq!(val(&f, "RNC"), 26.0 / 12.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "ENS"), 3.98, epsilon = 1e-12);
    // Anion F: fcc, r0 = a/√2, next shell at a > r0 + 1.
    assert_eq!(val(&f, "AFC"), 12.0);
    assert_relative_eq!(val(&f, "AASD"), a / SQRT2, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "LASD"), a / 2.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "LLSD"), a / SQRT2, epsilon = 1e-12);
    // Li–Li path along a face diagonal: two F beside its midpoint at a/(2√2).
    assert_relative_eq!(val(&f, "SLPW"), a / (2.0 * SQRT2) - r_f, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPW_pp"), a / (2.0 * SQRT2) - r_f, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPE"), 3.98, epsilon = 1e-12);
    // F spheres do not overlap: SPF is their volume. Li–F spheres overlap in 24 lenses (no triples).
    let v = a.powi(3);
    assert_relative_eq!(val(&f, "SPF"), 4.0 * sphere(r_f) / v, epsilon = 5e-4);
    let pf = (4.0 * sphere(r_li) + 4.0 * sphere(r_f) - 24.0 * lens(r_li, r_f, a / 2.0)) / v;
    assert_relative_eq!(val(&f, "PF"), pf, epsilon = 5e-4);
    assert_eq!(val(&f, "Li%"), 0.5);
    assert_relative_eq!(
        val(&f, "density"),
        4.0 * (6.941 + 18.9984032) / v / 0.602214076,
        epsilon = 1e-6
    );
}

#[test]
fn rocksalt_lif_zheng2024() {
    let a = 4.03;
    let f = features(&rocksalt_lif(a), Options::new(Convention::Zheng2024));
    // The "anion" is the alphabetically last symbol: Li.
    assert_relative_eq!(val(&f, "VPA"), a.powi(3) / 4.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "AASD"), a / SQRT2, epsilon = 1e-12);
    assert_eq!(val(&f, "AFC"), 12.0);
    assert_relative_eq!(val(&f, "LASD"), a / SQRT2, epsilon = 1e-12);
    let dx = 3.98 - 0.98;
    // Σ over the 104 Li bonds of the cell / (104 − 1).
    assert_relative_eq!(val(&f, "LBI"), 4.0 * 14.0 * dx / 103.0, epsilon = 1e-12);
    // Every bond of F: 6 + 8 Li (ionicity 3) and 12 F (0).
    assert_relative_eq!(val(&f, "SBI"), 14.0 * dx / 26.0, epsilon = 1e-12);
    // Sphere sum with covalent radii Li 1.28, F 0.57.
    let pf = 4.0 * (sphere(1.28) + sphere(0.57)) / a.powi(3);
    assert_relative_eq!(val(&f, "PF"), pf, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SPF"), 4.0 * sphere(0.57) / a.powi(3), epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPW_pp"), a / (2.0 * SQRT2), epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPW"), a / (2.0 * SQRT2) - 0.57, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPE"), 3.98, epsilon = 1e-12);
    // ΔX = X̄(non-Li) − X̄ = 3.98 − (0.98 + 3.98)/2.
    assert_relative_eq!(val(&f, "ΔX"), 3.98 - 2.48, epsilon = 1e-12);
}

#[test]
fn antifluorite_li2o_sendek() {
    let a = 4.60;
    let f = features(&antifluorite_li2o(a), Options::default());
    let (r_li, r_o) = (0.76, 1.40);
    // Li on a simple cubic lattice of spacing a/2: 6 + 12 + 8 Li within 4 Å (a√3/2 = 3.98 Å);
    // O at a√3/4 (4) and a√11/4 (12).
    assert_eq!(val(&f, "LNC"), 42.0);
    assert_eq!(val(&f, "LLB"), 26.0);
    let dx = 3.44 - 0.98;
    assert_relative_eq!(val(&f, "LBI"), 16.0 * dx / 42.0, epsilon = 1e-12);
    assert_relative_eq!(
        val(&f, "SDLI"),
        sample_std_two(8.0 * 16.0, dx, 8.0 * 26.0, 0.0),
        epsilon = 1e-12
    );
    assert_eq!(val(&f, "SNC"), 12.0);
    assert_eq!(val(&f, "AFC"), 12.0);
    assert_relative_eq!(val(&f, "AASD"), a / SQRT2, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "LASD"), a * 3f64.sqrt() / 4.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "LLSD"), a / 2.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "AAV"), a.powi(3) / 12.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "VPA"), a.powi(3) / 4.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "ENS"), 3.44, epsilon = 1e-12);
    // Path along a cube edge of the Li lattice: four O beside its midpoint at a√2/4.
    assert_relative_eq!(val(&f, "SLPW"), a * SQRT2 / 4.0 - r_o, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPW_pp"), a * SQRT2 / 4.0 - r_o, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "SLPE"), 3.44, epsilon = 1e-12);
    let v = a.powi(3);
    assert_relative_eq!(val(&f, "SPF"), 4.0 * sphere(r_o) / v, epsilon = 5e-4);
    let pf = (8.0 * sphere(r_li) + 4.0 * sphere(r_o) - 32.0 * lens(r_li, r_o, a * 3f64.sqrt() / 4.0)) / v;
    assert_relative_eq!(val(&f, "PF"), pf, epsilon = 5e-4);
    assert_relative_eq!(val(&f, "Li%"), 2.0 / 3.0, epsilon = 1e-15);
}

#[test]
fn li3n_sendek() {
    let (a, c) = (3.648, 3.875);
    let s = li3n(a, c);
    let f = features(&s, Options::default());
    let v = a * a * c * 3f64.sqrt() / 2.0;
    assert_relative_eq!(val(&f, "AAV"), v / 4.0, epsilon = 1e-12);
    assert_relative_eq!(val(&f, "VPA"), v, epsilon = 1e-12);
    // Li(1): N at c/2 above and below; Li(2): three N in-plane at a/√3.
    let (d1, d2) = (c / 2.0, a / 3f64.sqrt());
    assert_relative_eq!(val(&f, "LASD"), (d1 + 2.0 * d2) / 3.0, epsilon = 1e-12);
    // Li(2)–Li(2) in-plane a/√3; Li(1)–Li(2) √(a²/3 + c²/4).
    let d12 = (a * a / 3.0 + c * c / 4.0).sqrt();
    assert_relative_eq!(val(&f, "LLSD"), (d12 + 2.0 * d2) / 3.0, epsilon = 1e-12);
    // N–N: 6 at a (in plane), 2 at c ≤ a + 1 Å, next at √(a² + c²) > a + 1.
    assert_relative_eq!(val(&f, "AASD"), a, epsilon = 1e-12);
    assert_eq!(val(&f, "AFC"), 8.0);
    // Counts within 4 Å. Li(1) at (0,0,c/2): N 2 at c/2, 6 at √(a² + c²/4) = 4.14 (out);
    // Li(1) 6 at a, 2 at c; Li(2) 12 at d12 (six in the layer below, six above) → 2 + 8 + 12 = 22.
    // Li(2) at (⅓,⅔,0): N 3 at a/√3, 6 at √(a²/3 + c²) = 4.40 (out), 3 at 2a/√3 = 4.21 (out);
    // Li(2) 3 at a/√3, 6 at a, 3 at 2a/√3 (out), 2 at c; Li(1) 6 at d12 → 3 + 3 + 6 + 2 + 6 = 20.
    assert_relative_eq!(val(&f, "LNC"), (22.0 + 2.0 * 20.0) / 3.0, epsilon = 1e-12);
    assert_relative_eq!(
        val(&f, "SDLC"),
        sample_std_two(1.0, 22.0, 2.0, 20.0),
        epsilon = 1e-12
    );
    assert_relative_eq!(val(&f, "LLB"), (20.0 + 2.0 * 17.0) / 3.0, epsilon = 1e-12);
    // The only sublattice atom is N: 6 N at a and 2 at c.
    assert_eq!(val(&f, "SNC"), 8.0);
    assert_eq!(val(&f, "SBI"), 0.0);
    assert_relative_eq!(val(&f, "Li%"), 0.75, epsilon = 1e-15);
}

#[test]
fn packing_fraction_converges_under_refinement_when_spheres_overlap() {
    let a = 4.03;
    let s = rocksalt_lif(a);
    let exact = (4.0 * sphere(0.76) + 4.0 * sphere(1.33) - 24.0 * lens(0.76, 1.33, a / 2.0)) / a.powi(3);
    let mut errors = Vec::new();
    for spacing in [0.2, 0.1, 0.05, 0.025] {
        let o = Options {
            pf_method: Some(PfMethod::Grid),
            pf_spacing: spacing,
            ..Options::default()
        };
        errors.push((val(&features(&s, o), "PF") - exact).abs());
    }
    // The grid alone: about 1e-4 at the default 0.05 Å, shrinking roughly as spacing^1.5.
    assert!(errors[2] < 2e-4 && errors[3] < 1e-4, "{errors:?}");
    assert!(errors[3] < errors[0] / 5.0, "{errors:?}");
    // Monte Carlo lines: within 4σ of the exact value and reproducible for a seed.
    let mc = |seed| {
        let o = Options {
            pf_method: Some(PfMethod::MonteCarlo),
            pf_samples: 40_000,
            seed,
            ..Options::default()
        };
        val(&features(&s, o), "PF")
    };
    assert_eq!(mc(7), mc(7));
    assert_ne!(mc(7), mc(8));
    assert!((mc(7) - exact).abs() < 4e-3, "{} vs {exact}", mc(7));
}

#[test]
fn lens_packing_fractions_are_exact_when_no_three_spheres_overlap() {
    // Rock-salt LiF and antifluorite Li2O: Li–anion lenses only, so the default method (sphere
    // volumes minus lens volumes) leaves nothing to the grid, at any spacing.
    let a: f64 = 4.03;
    let (r_li, r_f) = (0.76, 1.33);
    let v = a.powi(3);
    let pf = (4.0 * sphere(r_li) + 4.0 * sphere(r_f) - 24.0 * lens(r_li, r_f, a / 2.0)) / v;
    for spacing in [0.3, 0.05] {
        let o = Options {
            pf_spacing: spacing,
            ..Options::default()
        };
        assert_eq!(o.pf(), PfMethod::Lens);
        let f = features(&rocksalt_lif(a), o);
        assert_relative_eq!(val(&f, "PF"), pf, epsilon = 1e-13);
        assert_relative_eq!(val(&f, "SPF"), 4.0 * sphere(r_f) / v, epsilon = 1e-13);
    }
    let a: f64 = 4.60;
    let (r_li, r_o) = (0.76, 1.40);
    let v = a.powi(3);
    let f = features(&antifluorite_li2o(a), Options::default());
    let pf = (8.0 * sphere(r_li) + 4.0 * sphere(r_o) - 32.0 * lens(r_li, r_o, a * 3f64.sqrt() / 4.0)) / v;
    assert_relative_eq!(val(&f, "PF"), pf, epsilon = 1e-13);
    assert_relative_eq!(val(&f, "SPF"), 4.0 * sphere(r_o) / v, epsilon = 1e-13);
}

#[test]
fn packing_fraction_of_isolated_spheres_in_a_skewed_cell_is_their_volume() {
    // Two spheres of custom radii in a triclinic cell, far from each other and their images.
    use amorph_structure::{Lattice, Structure};
    use nalgebra::Vector3;
    let l = Lattice::from_parameters(9.0, 10.0, 11.0, 70.0, 100.0, 115.0).unwrap();
    let s = Structure::from_fractional(
        l.clone(),
        vec![el("Li"), el("O")],
        &[Vector3::new(0.1, 0.2, 0.95), Vector3::new(0.6, 0.7, 0.45)],
    )
    .unwrap();
    let radii = [(el("Li"), 1.1), (el("O"), 2.0)].into_iter().collect();
    let o = Options {
        radii: Some(RadiusTable::Custom(radii)),
        pf_spacing: 0.02,
        pf_max_lines: None,
        ..Options::default()
    };
    let f = features(&s, o.clone());
    let exact = (sphere(1.1) + sphere(2.0)) / l.volume();
    assert_relative_eq!(val(&f, "PF"), exact, max_relative = 1e-4);
    assert_relative_eq!(val(&f, "SPF"), sphere(2.0) / l.volume(), max_relative = 1e-4);
    let sum = Options {
        pf_method: Some(PfMethod::SphereSum),
        ..o
    };
    assert_relative_eq!(val(&features(&s, sum), "PF"), exact, max_relative = 1e-14);
}

#[test]
fn the_line_cap_keeps_a_large_glass_accurate() {
    // 1 000 atoms in a 21.9 Å cube: 40 000 lines (0.11 Å) against 0.04 Å without a cap.
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/features/bench_LiAlO2_1000.vasp");
    let s = amorph_structure::io::read_structure(&p).unwrap();
    let capped = features(&s, Options::default());
    let fine = features(
        &s,
        Options {
            pf_spacing: 0.04,
            pf_max_lines: None,
            ..Options::default()
        },
    );
    for name in ["PF", "SPF"] {
        assert_relative_eq!(val(&capped, name), val(&fine, name), epsilon = 3e-5);
    }
}
