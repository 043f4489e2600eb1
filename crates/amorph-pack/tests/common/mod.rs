//! Helpers shared by the integration tests: independent checks of packed structures.

#![allow(dead_code)]

use amorph_pack::PairDistances;
use amorph_structure::{Composition, Element, NeighborList, PairSet, Structure};
use nalgebra::Vector3;

pub fn el(s: &str) -> Element {
    Element::from_symbol(s).unwrap()
}

pub fn comp(s: &str) -> Composition {
    s.parse().unwrap()
}

/// Smallest distance over every pair and every periodic image, by brute force: all j > i (and each
/// atom with its own images) with translations n·(a, b, c), |n_k| ≤ 2, on top of the fractional wrap.
pub fn brute_force_pairs(s: &Structure, mut visit: impl FnMut(usize, usize, f64)) {
    let l = s.lattice();
    let p = s.positions();
    let mut images = Vec::new();
    for a in -2..=2 {
        for b in -2..=2 {
            for c in -2..=2 {
                images.push(l.to_cartesian(&Vector3::new(a as f64, b as f64, c as f64)));
            }
        }
    }
    for i in 0..p.len() {
        for j in i..p.len() {
            let f = l.to_fractional(&(p[j] - p[i]));
            let base = l.to_cartesian(&f.map(|x| x - x.round()));
            let mut best = f64::INFINITY;
            for t in &images {
                let r = (base + t).norm();
                if i != j || r > 1e-9 {
                    best = best.min(r);
                }
            }
            // The fractional wrap plus |n| ≤ 2 is exact for these cells; cross-check the library.
            if i != j {
                let mi = l.distance(&p[i], &p[j]);
                assert!(
                    (mi - best).abs() < 1e-9,
                    "minimum image {mi} vs brute force {best}"
                );
            }
            visit(i, j, best);
        }
    }
}

pub fn required(req: &PairDistances, tol: f64, a: Element, b: Element) -> f64 {
    req.get(a, b).unwrap_or(tol)
}

/// Every pair at least its distance apart: by NeighborList (full list at the largest distance) and
/// by brute force.
pub fn assert_distances(s: &Structure, pairs: &PairDistances, tol: f64) {
    let dmax = pairs.iter().map(|x| x.2).fold(tol, f64::max);
    let list = NeighborList::build(s.lattice(), s.positions(), dmax, PairSet::Full).unwrap();
    let sp = s.species();
    for (i, n) in list.iter() {
        let d = required(pairs, tol, sp[i], sp[n.index as usize]);
        assert!(n.distance >= d, "atoms {i}, {} at {} < {d}", n.index, n.distance);
    }
    let mut closest = f64::INFINITY;
    brute_force_pairs(s, |i, j, r| {
        let d = required(pairs, tol, sp[i], sp[j]);
        assert!(r >= d, "brute force: atoms {i}, {j} at {r} < {d}");
        closest = closest.min(r / d);
    });
    assert!(closest >= 1.0);
}

pub fn assert_wrapped(s: &Structure) {
    for f in s.frac_coords() {
        assert!(f.iter().all(|&x| (0.0..1.0).contains(&x)), "{f:?} not wrapped");
    }
}
