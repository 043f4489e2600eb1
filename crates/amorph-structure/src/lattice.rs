//! Periodic cells of any shape.

use std::f64::consts::PI;

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A periodic cell: three lattice vectors `a`, `b`, `c` (Å), stored as the rows of a 3×3 matrix as in
/// pymatgen (`Lattice.matrix`). Any triclinic cell is allowed; the vectors must span a non-zero volume.
///
/// A point with fractional coordinates `f` sits at Cartesian `fᵀ M` (`M` with rows a, b, c).
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    matrix: Matrix3<f64>,
    inverse: Matrix3<f64>,
    widths: [f64; 3],
}

impl Lattice {
    /// A lattice whose rows are the vectors a, b, c in Å.
    pub fn new(matrix: Matrix3<f64>) -> Result<Self> {
        if matrix.iter().any(|x| !x.is_finite()) {
            return Err(Error::Lattice(format!(
                "non-finite lattice vector component in {matrix:?}"
            )));
        }
        let volume = matrix.determinant().abs();
        let scale = matrix.row(0).norm() * matrix.row(1).norm() * matrix.row(2).norm();
        if volume <= 1e-10 * scale || volume < 1e-12 {
            return Err(Error::Lattice(format!(
                "lattice vectors are (nearly) coplanar: volume {volume:.3e} Å³"
            )));
        }
        let inverse = matrix
            .try_inverse()
            .ok_or_else(|| Error::Lattice("singular lattice matrix".into()))?;
        let a = matrix.row(0).transpose();
        let b = matrix.row(1).transpose();
        let c = matrix.row(2).transpose();
        let widths = [
            volume / b.cross(&c).norm(),
            volume / c.cross(&a).norm(),
            volume / a.cross(&b).norm(),
        ];
        Ok(Lattice {
            matrix,
            inverse,
            widths,
        })
    }

    /// A lattice from its three vectors, Å.
    pub fn from_vectors(a: Vector3<f64>, b: Vector3<f64>, c: Vector3<f64>) -> Result<Self> {
        Self::new(Matrix3::from_rows(&[a.transpose(), b.transpose(), c.transpose()]))
    }

    /// A cubic cell of edge `a` Å.
    pub fn cubic(a: f64) -> Result<Self> {
        Self::orthorhombic(a, a, a)
    }

    /// An orthorhombic cell with edges `a`, `b`, `c` Å along x, y, z.
    pub fn orthorhombic(a: f64, b: f64, c: f64) -> Result<Self> {
        Self::new(Matrix3::from_diagonal(&Vector3::new(a, b, c)))
    }

    /// A lattice from lengths (Å) and angles α, β, γ (degrees), oriented as pymatgen's
    /// `Lattice.from_parameters` (c along z, a in the xz plane).
    pub fn from_parameters(a: f64, b: f64, c: f64, alpha: f64, beta: f64, gamma: f64) -> Result<Self> {
        let lengths_ok = [a, b, c].iter().all(|x| x.is_finite() && *x > 0.0);
        let angles_ok = [alpha, beta, gamma]
            .iter()
            .all(|x| x.is_finite() && *x > 0.0 && *x < 180.0);
        if !lengths_ok || !angles_ok {
            return Err(Error::Lattice(format!(
                "invalid lattice parameters a={a} b={b} c={c} α={alpha} β={beta} γ={gamma}"
            )));
        }
        let (alpha, beta, gamma) = (alpha.to_radians(), beta.to_radians(), gamma.to_radians());
        let val = ((alpha.cos() * beta.cos() - gamma.cos()) / (alpha.sin() * beta.sin())).clamp(-1.0, 1.0);
        let gamma_star = val.acos();
        let va = Vector3::new(a * beta.sin(), 0.0, a * beta.cos());
        let vb = Vector3::new(
            -b * alpha.sin() * gamma_star.cos(),
            b * alpha.sin() * gamma_star.sin(),
            b * alpha.cos(),
        );
        let vc = Vector3::new(0.0, 0.0, c);
        Self::from_vectors(va, vb, vc)
    }

    /// The matrix whose rows are a, b, c (Å).
    pub fn matrix(&self) -> &Matrix3<f64> {
        &self.matrix
    }

    /// Inverse of [`matrix`](Self::matrix): Cartesian row vector × inverse = fractional.
    pub fn inverse(&self) -> &Matrix3<f64> {
        &self.inverse
    }

    /// Lattice vector `i` (0 = a, 1 = b, 2 = c), Å.
    pub fn vector(&self, i: usize) -> Vector3<f64> {
        self.matrix.row(i).transpose()
    }

    /// Cell volume, Å³ (always positive).
    pub fn volume(&self) -> f64 {
        self.matrix.determinant().abs()
    }

    /// Lengths a, b, c, Å.
    pub fn abc(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| self.matrix.row(i).norm())
    }

    /// Angles α (b∧c), β (a∧c), γ (a∧b), degrees.
    pub fn angles(&self) -> [f64; 3] {
        let angle = |i: usize, j: usize| {
            let (u, v) = (self.vector(i), self.vector(j));
            (u.dot(&v) / (u.norm() * v.norm()))
                .clamp(-1.0, 1.0)
                .acos()
                .to_degrees()
        };
        [angle(1, 2), angle(0, 2), angle(0, 1)]
    }

    /// Perpendicular widths: the distance between opposite faces along each lattice direction, Å.
    /// A sphere of radius r fits in the cell without touching its own images iff 2r < every width.
    pub fn perpendicular_widths(&self) -> [f64; 3] {
        self.widths
    }

    /// The reciprocal lattice with the 2π factor (pymatgen `reciprocal_lattice`), Å⁻¹.
    pub fn reciprocal(&self) -> Lattice {
        let m = self.inverse.transpose() * (2.0 * PI);
        Lattice::new(m).expect("the reciprocal of a valid lattice is valid")
    }

    /// Fractional → Cartesian, Å.
    #[inline]
    pub fn to_cartesian(&self, frac: &Vector3<f64>) -> Vector3<f64> {
        self.matrix.tr_mul(frac)
    }

    /// Cartesian (Å) → fractional.
    #[inline]
    pub fn to_fractional(&self, cart: &Vector3<f64>) -> Vector3<f64> {
        self.inverse.tr_mul(cart)
    }

    /// The same cell shape scaled isotropically to `volume` Å³.
    pub fn scaled_to_volume(&self, volume: f64) -> Result<Lattice> {
        if !(volume.is_finite() && volume > 0.0) {
            return Err(Error::Lattice(format!(
                "cannot scale a cell to volume {volume} Å³"
            )));
        }
        Lattice::new(self.matrix * (volume / self.volume()).cbrt())
    }

    /// Minimum-image version of a Cartesian displacement: the shortest vector among `d + n·(a, b, c)`.
    ///
    /// Exact for any cell shape, however skewed: the candidate images are bounded by the perpendicular
    /// widths, so no fixed ±1 search is assumed.
    pub fn minimum_image(&self, d: &Vector3<f64>) -> Vector3<f64> {
        let mut f = self.to_fractional(d);
        f.apply(|x| *x -= x.round());
        let wrapped = self.to_cartesian(&f);
        let r = wrapped.norm();
        let wmin = self.widths.iter().copied().fold(f64::INFINITY, f64::min);
        // Every other image has |f_k + n_k| ≥ 1/2 along some axis, so is at least w_k/2 long.
        if r <= 0.5 * wmin {
            return wrapped;
        }
        let mut best = wrapped;
        let mut best2 = r * r;
        self.for_each_image_within(&f, r, |v| {
            let n2 = v.norm_squared();
            if n2 < best2 {
                best2 = n2;
                best = v;
            }
        });
        best
    }

    /// Minimum-image distance between two Cartesian points, Å.
    pub fn distance(&self, p: &Vector3<f64>, q: &Vector3<f64>) -> f64 {
        self.minimum_image(&(q - p)).norm()
    }

    /// Calls `visit` with every periodic image `d + n·(a, b, c)` of the displacement with fractional
    /// coordinates `frac` whose length is at most `rmax` (Å). Visits each image once.
    pub fn for_each_image_within(&self, frac: &Vector3<f64>, rmax: f64, mut visit: impl FnMut(Vector3<f64>)) {
        // |f_k| · w_k ≤ |d| for any vector, so an image within rmax has |f_k + n_k| ≤ rmax / w_k.
        let range = |k: usize| {
            let lim = rmax / self.widths[k];
            ((-lim - frac[k]).ceil() as i64, (lim - frac[k]).floor() as i64)
        };
        let (r0, r1, r2) = (range(0), range(1), range(2));
        let rmax2 = rmax * rmax;
        for n0 in r0.0..=r0.1 {
            for n1 in r1.0..=r1.1 {
                for n2 in r2.0..=r2.1 {
                    let g = frac + Vector3::new(n0 as f64, n1 as f64, n2 as f64);
                    let v = self.to_cartesian(&g);
                    if v.norm_squared() <= rmax2 {
                        visit(v);
                    }
                }
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LatticeRepr {
    matrix: [[f64; 3]; 3],
}

impl Serialize for Lattice {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let m = &self.matrix;
        LatticeRepr {
            matrix: [0, 1, 2].map(|i| [m[(i, 0)], m[(i, 1)], m[(i, 2)]]),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Lattice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = LatticeRepr::deserialize(d)?;
        Lattice::new(Matrix3::from_fn(|i, j| r.matrix[i][j])).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn parameters_round_trip() {
        let l = Lattice::from_parameters(5.0, 6.0, 7.0, 80.0, 95.0, 110.0).unwrap();
        let [a, b, c] = l.abc();
        let [al, be, ga] = l.angles();
        assert_relative_eq!(a, 5.0, epsilon = 1e-12);
        assert_relative_eq!(b, 6.0, epsilon = 1e-12);
        assert_relative_eq!(c, 7.0, epsilon = 1e-12);
        assert_relative_eq!(al, 80.0, epsilon = 1e-10);
        assert_relative_eq!(be, 95.0, epsilon = 1e-10);
        assert_relative_eq!(ga, 110.0, epsilon = 1e-10);
    }

    #[test]
    fn reciprocal_is_dual() {
        let l = Lattice::from_parameters(4.0, 5.0, 6.0, 70.0, 80.0, 100.0).unwrap();
        let r = l.reciprocal();
        let p = l.matrix() * r.matrix().transpose();
        assert_relative_eq!(p, Matrix3::identity() * 2.0 * PI, epsilon = 1e-12);
    }

    #[test]
    fn degenerate_cells_are_errors() {
        assert!(Lattice::cubic(0.0).is_err());
        assert!(Lattice::cubic(f64::NAN).is_err());
        let flat = Matrix3::new(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0);
        assert!(Lattice::new(flat).is_err());
        assert!(Lattice::from_parameters(1.0, 1.0, 1.0, 0.0, 90.0, 90.0).is_err());
    }

    #[test]
    fn minimum_image_in_a_skewed_cell() {
        // Strongly sheared cell where the naive ±1/2 wrap is not the shortest image.
        let l = Lattice::from_vectors(
            Vector3::new(4.0, 0.0, 0.0),
            Vector3::new(3.9, 1.0, 0.0),
            Vector3::new(0.0, 0.0, 4.0),
        )
        .unwrap();
        let d = Vector3::new(0.2, 0.9, 0.0);
        let mi = l.minimum_image(&d);
        let mut brute = f64::INFINITY;
        for i in -6..=6 {
            for j in -6..=6 {
                for k in -6..=6 {
                    let v = d + l.vector(0) * i as f64 + l.vector(1) * j as f64 + l.vector(2) * k as f64;
                    brute = brute.min(v.norm());
                }
            }
        }
        assert_relative_eq!(mi.norm(), brute, epsilon = 1e-12);
    }
}
