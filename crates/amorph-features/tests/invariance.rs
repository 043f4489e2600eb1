//! Invariances: intensive features do not change under translation, atom reordering or a 2×2×2
//! supercell (the sample standard deviations change exactly as n − 1 says; packing fractions within
//! the grid's discretisation error).

mod common;

use amorph_features::{Convention, Options, Value};
use amorph_structure::{Lattice, Structure};
use common::*;
use nalgebra::Vector3;
use proptest::prelude::*;

/// A random Li–Si–O structure in a cubic cell with no two atoms closer than 0.8 Å.
fn random_structure() -> impl Strategy<Value = Structure> {
    (5.0f64..7.0, 2usize..5, 1usize..4, 2usize..7, any::<u64>()).prop_filter_map(
        "atoms too close",
        |(a, nli, nsi, no, seed)| {
            let mut state = seed | 1;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let mut species = Vec::new();
            species.extend(std::iter::repeat_n(el("Li"), nli));
            species.extend(std::iter::repeat_n(el("Si"), nsi));
            species.extend(std::iter::repeat_n(el("O"), no));
            let frac: Vec<Vector3<f64>> = species
                .iter()
                .map(|_| Vector3::new(next(), next(), next()))
                .collect();
            let s = Structure::from_fractional(Lattice::cubic(a).ok()?, species, &frac).ok()?;
            let nl = amorph_structure::NeighborList::new(&s, 0.8).ok()?;
            (nl.num_entries() == 0).then_some(s)
        },
    )
}

fn close(name: &str, a: &Value, b: &Value, tol: f64) -> Result<(), TestCaseError> {
    match (a, b) {
        (Ok(x), Ok(y)) => prop_assert!((x - y).abs() <= tol * x.abs().max(1.0), "{name}: {x} vs {y}"),
        (Err(x), Err(y)) => prop_assert_eq!(x, y, "{}", name),
        _ => prop_assert!(false, "{name}: {a:?} vs {b:?}"),
    }
    Ok(())
}

fn tolerance(name: &str) -> f64 {
    if name == "PF" || name == "SPF" { 2e-3 } else { 1e-9 }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn translation_does_not_change_features(s in random_structure(), shift in prop::array::uniform3(-20.0f64..20.0)) {
        let mut t = s.clone();
        let d = Vector3::new(shift[0], shift[1], shift[2]);
        for p in t.positions_mut() {
            *p += d;
        }
        for convention in [Convention::Sendek, Convention::Zheng2024] {
            let (fa, fb) = (features(&s, Options::new(convention)), features(&t, Options::new(convention)));
            for ((name, a), (_, b)) in fa.iter().zip(&fb) {
                close(name, a, b, tolerance(name))?;
            }
        }
    }

    #[test]
    fn reordering_atoms_does_not_change_features(s in random_structure(), seed in any::<u64>()) {
        let n = s.len();
        let mut order: Vec<usize> = (0..n).collect();
        // Fisher–Yates with a small xorshift.
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let t = s.select(&order).unwrap();
        for convention in [Convention::Sendek, Convention::Zheng2024] {
            let (fa, fb) = (features(&s, Options::new(convention)), features(&t, Options::new(convention)));
            for ((name, a), (_, b)) in fa.iter().zip(&fb) {
                close(name, a, b, 1e-9)?;
            }
        }
    }

    #[test]
    fn a_supercell_has_the_same_intensive_features(s in random_structure()) {
        let big = supercell(&s, 2);
        let (fa, fb) = (features(&s, Options::default()), features(&big, Options::default()));
        for ((name, a), (_, b)) in fa.iter().zip(&fb) {
            match name.as_str() {
                // Sample standard deviations over n values and over the 8n copies:
                // s₈² = s² · 8(n − 1)/(8n − 1).
                "SDLC" | "SDLI" => {
                    let n = if name == "SDLC" {
                        s.species().iter().filter(|e| e.symbol() == "Li").count() as f64
                    } else {
                        let lnc = get(&fa, "LNC").unwrap();
                        lnc * s.species().iter().filter(|e| e.symbol() == "Li").count() as f64
                    };
                    let expected = a.clone().map(|x| x * (8.0 * (n - 1.0) / (8.0 * n - 1.0)).sqrt());
                    close(name, &expected, b, 1e-9)?;
                }
                _ => close(name, a, b, tolerance(name))?,
            }
        }
    }
}
