//! Crystals whose feature values follow from geometry.
#![allow(dead_code)]

use amorph_features::{FeatureSet, Options, Value};
use amorph_structure::{Element, Lattice, Structure};
use nalgebra::Vector3;

pub fn el(s: &str) -> Element {
    Element::from_symbol(s).unwrap()
}

const FCC: [[f64; 3]; 4] = [[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]];

/// Rock-salt LiF, conventional cell (4 Li on fcc sites, 4 F shifted by a/2 along x).
pub fn rocksalt_lif(a: f64) -> Structure {
    let mut species = Vec::new();
    let mut frac = Vec::new();
    for p in FCC {
        species.push(el("Li"));
        frac.push(Vector3::new(p[0], p[1], p[2]));
        species.push(el("F"));
        frac.push(Vector3::new(p[0] + 0.5, p[1], p[2]));
    }
    Structure::from_fractional(Lattice::cubic(a).unwrap(), species, &frac).unwrap()
}

/// Antifluorite Li2O, conventional cell (4 O on fcc sites, 8 Li at the tetrahedral sites).
pub fn antifluorite_li2o(a: f64) -> Structure {
    let mut species = Vec::new();
    let mut frac = Vec::new();
    for p in FCC {
        species.push(el("O"));
        frac.push(Vector3::new(p[0], p[1], p[2]));
        for s in [0.25, 0.75] {
            species.push(el("Li"));
            frac.push(Vector3::new(p[0] + s, p[1] + s, p[2] + s));
        }
    }
    Structure::from_fractional(Lattice::cubic(a).unwrap(), species, &frac).unwrap()
}

/// α-Li3N (P6/mmm): N at the origin, Li(1) at (0, 0, ½), Li(2) at (⅓, ⅔, 0) and (⅔, ⅓, 0).
pub fn li3n(a: f64, c: f64) -> Structure {
    let lattice = Lattice::from_parameters(a, a, c, 90.0, 90.0, 120.0).unwrap();
    let species = vec![el("N"), el("Li"), el("Li"), el("Li")];
    let frac = [
        Vector3::new(0.0, 0.0, 0.0),
        Vector3::new(0.0, 0.0, 0.5),
        Vector3::new(1.0 / 3.0, 2.0 / 3.0, 0.0),
        Vector3::new(2.0 / 3.0, 1.0 / 3.0, 0.0),
    ];
    Structure::from_fractional(lattice, species, &frac).unwrap()
}

/// n×n×n supercell.
pub fn supercell(s: &Structure, n: usize) -> Structure {
    let m = s.lattice().matrix() * n as f64;
    let lattice = Lattice::new(m).unwrap();
    let mut species = Vec::new();
    let mut pos = Vec::new();
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                let shift = s
                    .lattice()
                    .to_cartesian(&Vector3::new(i as f64, j as f64, k as f64));
                for (e, p) in s.species().iter().zip(s.positions()) {
                    species.push(*e);
                    pos.push(p + shift);
                }
            }
        }
    }
    Structure::new(lattice, species, pos).unwrap()
}

/// Every Table-1 feature by name.
pub fn features(s: &Structure, o: Options) -> Vec<(String, Value)> {
    let set = FeatureSet::table1(o).unwrap();
    set.names().into_iter().zip(set.compute(s).unwrap()).collect()
}

pub fn get(f: &[(String, Value)], name: &str) -> Value {
    f.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
        .1
        .clone()
}

pub fn val(f: &[(String, Value)], name: &str) -> f64 {
    get(f, name).unwrap_or_else(|e| panic!("{name} undefined: {e}"))
}

/// Volume of a sphere.
pub fn sphere(r: f64) -> f64 {
    4.0 / 3.0 * std::f64::consts::PI * r.powi(3)
}

/// Volume of the lens where spheres of radii r1, r2 at distance d overlap.
pub fn lens(r1: f64, r2: f64, d: f64) -> f64 {
    std::f64::consts::PI
        * (r1 + r2 - d).powi(2)
        * (d * d + 2.0 * d * r1 - 3.0 * r1 * r1 + 2.0 * d * r2 + 6.0 * r1 * r2 - 3.0 * r2 * r2)
        / (12.0 * d)
}
