//! Random sequential insertion on a periodic cell grid.

use amorph_structure::Lattice;
use nalgebra::Vector3;

use crate::rng::Rng;

/// A periodic grid of bins in fractional coordinates, each at least the largest minimum distance
/// wide (perpendicular to its faces), holding the atoms inserted so far as linked lists.
///
/// An image of an atom within distance d of a point differs from it by at most d / wₖ ≤ 1/nₖ in
/// fractional coordinate k, so it lies in one of the 27 bins around the point's bin in the
/// unwrapped bin lattice. Walking those 27 with their lattice translations finds every image once,
/// even when a cell has only one or two bins along an axis.
pub(crate) struct InsertionGrid {
    n: [usize; 3],
    rows: [Vector3<f64>; 3],
    head: Vec<u32>,
    next: Vec<u32>,
    pos: Vec<Vector3<f64>>,
    kind: Vec<u16>,
    /// Squared distance an inserted atom must keep, per species pair.
    fit2: Vec<f64>,
    /// Squared penalty range per species pair.
    pen2: Vec<f64>,
    ns: usize,
}

const EMPTY: u32 = u32::MAX;

impl InsertionGrid {
    /// A grid for `natoms` atoms; `fit2` and `pen2` (row-major per species pair, Å²) are the squared
    /// distance an atom must keep and the squared range of the overlap penalty.
    pub(crate) fn new(lattice: &Lattice, natoms: usize, fit2: Vec<f64>, pen2: Vec<f64>, ns: usize) -> Self {
        let dmax = fit2.iter().chain(&pen2).copied().fold(0.0, f64::max).sqrt();
        let widths = lattice.perpendicular_widths();
        // Bounded so that a small distance in a huge cell cannot allocate an absurd grid.
        let cap = (crate::rng::icbrt_ceil(natoms) * 2).max(1);
        let n = widths.map(|w| ((w / dmax).floor() as usize).clamp(1, cap));
        InsertionGrid {
            n,
            rows: [lattice.vector(0), lattice.vector(1), lattice.vector(2)],
            head: vec![EMPTY; n[0] * n[1] * n[2]],
            next: Vec::with_capacity(natoms),
            pos: Vec::with_capacity(natoms),
            kind: Vec::with_capacity(natoms),
            fit2,
            pen2,
            ns,
        }
    }

    fn bin(&self, frac: &Vector3<f64>) -> [usize; 3] {
        [0, 1, 2].map(|k| ((frac[k] * self.n[k] as f64) as usize).min(self.n[k] - 1))
    }

    fn cart(&self, frac: &Vector3<f64>) -> Vector3<f64> {
        self.rows[0] * frac.x + self.rows[1] * frac.y + self.rows[2] * frac.z
    }

    /// Inserts an atom of species `kind` at fractional coordinates `frac` ∈ [0, 1)³.
    pub(crate) fn insert(&mut self, frac: &Vector3<f64>, kind: u16) {
        let b = self.bin(frac);
        let flat = (b[0] * self.n[1] + b[1]) * self.n[2] + b[2];
        let id = self.pos.len() as u32;
        self.pos.push(self.cart(frac));
        self.kind.push(kind);
        self.next.push(self.head[flat]);
        self.head[flat] = id;
    }

    /// Calls `f(d², required d²)` for every inserted atom image near the point; stops early when `f`
    /// returns false.
    #[inline]
    fn visit(&self, frac: &Vector3<f64>, kind: u16, table: &[f64], mut f: impl FnMut(f64, f64) -> bool) {
        let p = self.cart(frac);
        let b = self.bin(frac);
        let n = self.n;
        let row = &table[kind as usize * self.ns..(kind as usize + 1) * self.ns];
        let wrap = |x: usize, o: i64, nk: usize| -> (usize, f64) {
            let t = x as i64 + o;
            if t < 0 {
                (nk - 1, -1.0)
            } else if t as usize >= nk {
                (0, 1.0)
            } else {
                (t as usize, 0.0)
            }
        };
        for o0 in -1..=1 {
            let (b0, s0) = wrap(b[0], o0, n[0]);
            for o1 in -1..=1 {
                let (b1, s1) = wrap(b[1], o1, n[1]);
                let shift01 = self.rows[0] * s0 + self.rows[1] * s1 - p;
                for o2 in -1..=1 {
                    let (b2, s2) = wrap(b[2], o2, n[2]);
                    let shift = shift01 + self.rows[2] * s2;
                    let mut j = self.head[(b0 * n[1] + b1) * n[2] + b2];
                    while j != EMPTY {
                        let r2 = (self.pos[j as usize] + shift).norm_squared();
                        if !f(r2, row[self.kind[j as usize] as usize]) {
                            return;
                        }
                        j = self.next[j as usize];
                    }
                }
            }
        }
    }

    /// True when a `kind` atom at `frac` keeps every minimum distance to the atoms inserted so far.
    pub(crate) fn fits(&self, frac: &Vector3<f64>, kind: u16) -> bool {
        let mut ok = true;
        self.visit(frac, kind, &self.fit2, |r2, d2| {
            ok = r2 >= d2;
            ok
        });
        ok
    }

    /// Overlap penalty Σ max(0, d² − r²)² / d² of a `kind` atom at `frac` (0 when it fits).
    pub(crate) fn penalty(&self, frac: &Vector3<f64>, kind: u16) -> f64 {
        let mut e = 0.0;
        self.visit(frac, kind, &self.pen2, |r2, d2| {
            if r2 < d2 {
                e += (d2 - r2) * (d2 - r2) / d2;
            }
            true
        });
        e
    }

    /// Cartesian positions of the inserted atoms, in insertion order.
    pub(crate) fn into_positions(self) -> Vec<Vector3<f64>> {
        self.pos
    }
}

/// Random sequential insertion of atoms of species `kinds` (in that order): each atom gets up to
/// `attempts` uniform trial positions and takes the first that keeps every minimum distance. Once
/// one atom finds none (the insertion is jamming, at φ ≈ 0.38 for equal spheres), every remaining
/// atom is placed at the least-overlapping of `fallback` candidates, for the minimiser to resolve.
pub(crate) fn insert(
    grid: &mut InsertionGrid,
    kinds: &[u16],
    rng: &mut Rng,
    attempts: usize,
    fallback: usize,
    mut progress: impl FnMut(usize),
) -> usize {
    let mut clean = 0;
    let mut jammed = false;
    for (i, &k) in kinds.iter().enumerate() {
        if i % 4096 == 0 {
            progress(i);
        }
        if !jammed {
            let mut placed = false;
            for _ in 0..attempts {
                let f = rng.frac3();
                if grid.fits(&f, k) {
                    grid.insert(&f, k);
                    placed = true;
                    break;
                }
            }
            if placed {
                clean += 1;
                continue;
            }
            jammed = true;
        }
        let mut best = rng.frac3();
        let mut best_e = grid.penalty(&best, k);
        for _ in 1..fallback {
            if best_e == 0.0 {
                break;
            }
            let f = rng.frac3();
            let e = grid.penalty(&f, k);
            if e < best_e {
                best = f;
                best_e = e;
            }
        }
        if best_e == 0.0 {
            clean += 1;
        }
        grid.insert(&best, k);
    }
    progress(kinds.len());
    clean
}
