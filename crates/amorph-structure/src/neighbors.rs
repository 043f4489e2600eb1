//! O(N) neighbour search with a cell list that works for any cell shape and size, and a Verlet list
//! with a skin for molecular dynamics.
//!
//! Atoms are binned in fractional coordinates with bins at least as wide (perpendicular to the faces)
//! as the cutoff, so the neighbours of an atom lie in a bounded block of bins around it. When the cutoff
//! exceeds the cell's perpendicular width the block spans several periodic images, so every image within
//! the cutoff is found — small and skewed cells are handled exactly.

use nalgebra::Vector3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lattice::Lattice;
use crate::structure::Structure;

/// Atoms per parallel work unit: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 512;

/// One neighbour `j` of an atom `i`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Neighbor {
    /// Index of the neighbour.
    pub index: usize,
    /// Distance, Å.
    pub distance: f64,
    /// Vector from atom i to this image of j, Å: `r_j + image·(a, b, c) − r_i` with the positions as
    /// given (wrapped or not).
    pub vector: Vector3<f64>,
    /// Lattice translation of j, in units of the lattice vectors.
    pub image: [i32; 3],
}

/// Which pairs a neighbour list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PairSet {
    /// Every ordered pair: j is listed under i and i under j (coordination, features).
    #[default]
    Full,
    /// Every unordered pair once, under the lower index; a periodic self-image once (forces, RDF).
    Half,
}

/// Atoms binned into a periodic grid of cells in fractional coordinates.
pub(crate) struct CellGrid<'a> {
    lattice: &'a Lattice,
    cutoff: f64,
    n: [usize; 3],
    reach: [i64; 3],
    /// Wrapped Cartesian positions.
    wrapped: Vec<Vector3<f64>>,
    /// Integer part removed by wrapping, per atom.
    offset: Vec<[i32; 3]>,
    bin_of: Vec<[i64; 3]>,
    bin_start: Vec<usize>,
    atoms: Vec<usize>,
}

impl<'a> CellGrid<'a> {
    pub(crate) fn new(lattice: &'a Lattice, positions: &[Vector3<f64>], cutoff: f64) -> Result<Self> {
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "neighbour cutoff must be positive and finite, got {cutoff}"
            )));
        }
        let widths = lattice.perpendicular_widths();
        let n = widths.map(|w| ((w / cutoff).floor() as usize).clamp(1, 1 << 10));
        let reach = [0, 1, 2].map(|k| (cutoff * n[k] as f64 / widths[k]).ceil() as i64);
        let total_bins = n[0] * n[1] * n[2];
        let mut wrapped = Vec::with_capacity(positions.len());
        let mut offset = Vec::with_capacity(positions.len());
        let mut bin_of = Vec::with_capacity(positions.len());
        let mut counts = vec![0usize; total_bins + 1];
        for (i, p) in positions.iter().enumerate() {
            let f = lattice.to_fractional(p);
            if f.iter().any(|x| !x.is_finite() || x.abs() > 1e9) {
                return Err(Error::Structure(format!(
                    "atom {i} has an unusable position {p:?}"
                )));
            }
            let fl = f.map(f64::floor);
            let mut fw = f - fl;
            fw.apply(|x| {
                if *x >= 1.0 {
                    *x = 0.0
                }
            });
            let b = [0, 1, 2].map(|k| ((fw[k] * n[k] as f64) as i64).min(n[k] as i64 - 1));
            wrapped.push(lattice.to_cartesian(&fw));
            offset.push([fl.x as i32, fl.y as i32, fl.z as i32]);
            bin_of.push(b);
            counts[Self::flat(n, b) + 1] += 1;
        }
        for k in 1..counts.len() {
            counts[k] += counts[k - 1];
        }
        let bin_start = counts.clone();
        let mut fill = counts;
        let mut atoms = vec![0usize; positions.len()];
        for (i, b) in bin_of.iter().enumerate() {
            let slot = &mut fill[Self::flat(n, *b)];
            atoms[*slot] = i;
            *slot += 1;
        }
        Ok(CellGrid {
            lattice,
            cutoff,
            n,
            reach,
            wrapped,
            offset,
            bin_of,
            bin_start,
            atoms,
        })
    }

    #[inline]
    fn flat(n: [usize; 3], b: [i64; 3]) -> usize {
        (b[0] as usize * n[1] + b[1] as usize) * n[2] + b[2] as usize
    }

    pub(crate) fn natoms(&self) -> usize {
        self.wrapped.len()
    }

    /// Calls `visit(j, distance², vector, image)` for every atom j (any image) within the cutoff of
    /// atom i, excluding i itself at zero translation. With `half`, only j > i, or j == i with a
    /// positive image, are visited.
    #[inline]
    pub(crate) fn for_each_neighbor(
        &self,
        i: usize,
        half: bool,
        mut visit: impl FnMut(usize, f64, Vector3<f64>, [i32; 3]),
    ) {
        let rc2 = self.cutoff * self.cutoff;
        let bi = self.bin_of[i];
        let ri = self.wrapped[i];
        let oi = self.offset[i];
        let n = self.n.map(|x| x as i64);
        for d0 in -self.reach[0]..=self.reach[0] {
            let t0 = bi[0] + d0;
            let (b0, s0) = (t0.rem_euclid(n[0]), t0.div_euclid(n[0]));
            for d1 in -self.reach[1]..=self.reach[1] {
                let t1 = bi[1] + d1;
                let (b1, s1) = (t1.rem_euclid(n[1]), t1.div_euclid(n[1]));
                for d2 in -self.reach[2]..=self.reach[2] {
                    let t2 = bi[2] + d2;
                    let (b2, s2) = (t2.rem_euclid(n[2]), t2.div_euclid(n[2]));
                    let shift = [s0, s1, s2];
                    let zero_shift = shift == [0, 0, 0];
                    let sv = self
                        .lattice
                        .to_cartesian(&Vector3::new(s0 as f64, s1 as f64, s2 as f64));
                    let bin = Self::flat(self.n, [b0, b1, b2]);
                    for &j in &self.atoms[self.bin_start[bin]..self.bin_start[bin + 1]] {
                        if half {
                            if j < i || (j == i && !lexicographically_positive(shift)) {
                                continue;
                            }
                        } else if j == i && zero_shift {
                            continue;
                        }
                        // (r_j − r_i) first: a self image then comes out as the exact lattice vector.
                        let v = (self.wrapped[j] - ri) + sv;
                        let d2 = v.norm_squared();
                        if d2 <= rc2 {
                            let oj = self.offset[j];
                            let image = [
                                shift[0] as i32 - oj[0] + oi[0],
                                shift[1] as i32 - oj[1] + oi[1],
                                shift[2] as i32 - oj[2] + oi[2],
                            ];
                            visit(j, d2, v, image);
                        }
                    }
                }
            }
        }
    }
}

#[inline]
fn lexicographically_positive(s: [i64; 3]) -> bool {
    s[0] > 0 || (s[0] == 0 && (s[1] > 0 || (s[1] == 0 && s[2] > 0)))
}

/// Neighbours of every atom within a cutoff, stored compactly (one contiguous array, one offset per
/// atom). Built in O(N) with a cell list, in parallel; the result does not depend on the thread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighborList {
    cutoff: f64,
    pair_set: PairSetRepr,
    start: Vec<usize>,
    neighbors: Vec<Neighbor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum PairSetRepr {
    Full,
    Half,
}

impl NeighborList {
    /// Full neighbour list (every ordered pair) of a structure within `cutoff` Å.
    pub fn new(structure: &Structure, cutoff: f64) -> Result<Self> {
        Self::build(structure.lattice(), structure.positions(), cutoff, PairSet::Full)
    }

    /// Neighbour list of Cartesian positions (Å) in a cell, holding the chosen pair set.
    pub fn build(lattice: &Lattice, positions: &[Vector3<f64>], cutoff: f64, pairs: PairSet) -> Result<Self> {
        let grid = CellGrid::new(lattice, positions, cutoff)?;
        let half = pairs == PairSet::Half;
        let natoms = grid.natoms();
        let chunks: Vec<(Vec<usize>, Vec<Neighbor>)> = (0..natoms.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let range = c * CHUNK..((c + 1) * CHUNK).min(natoms);
                let mut counts = Vec::with_capacity(range.len());
                let mut list = Vec::new();
                for i in range {
                    let before = list.len();
                    grid.for_each_neighbor(i, half, |j, d2, vector, image| {
                        list.push(Neighbor {
                            index: j,
                            distance: d2.sqrt(),
                            vector,
                            image,
                        })
                    });
                    counts.push(list.len() - before);
                }
                (counts, list)
            })
            .collect();
        let total: usize = chunks.iter().map(|c| c.1.len()).sum();
        let mut start = Vec::with_capacity(natoms + 1);
        let mut neighbors = Vec::with_capacity(total);
        start.push(0);
        for (counts, list) in chunks {
            for c in counts {
                start.push(start.last().copied().unwrap_or(0) + c);
            }
            neighbors.extend(list);
        }
        Ok(NeighborList {
            cutoff,
            pair_set: if half {
                PairSetRepr::Half
            } else {
                PairSetRepr::Full
            },
            start,
            neighbors,
        })
    }

    /// The cutoff, Å.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// Which pairs the list holds.
    pub fn pair_set(&self) -> PairSet {
        match self.pair_set {
            PairSetRepr::Full => PairSet::Full,
            PairSetRepr::Half => PairSet::Half,
        }
    }

    /// Number of atoms.
    pub fn natoms(&self) -> usize {
        self.start.len() - 1
    }

    /// Total number of stored neighbour entries.
    pub fn num_entries(&self) -> usize {
        self.neighbors.len()
    }

    /// Neighbours of atom `i` (in a half list: only those with a higher index or a positive self
    /// image).
    pub fn neighbors(&self, i: usize) -> &[Neighbor] {
        &self.neighbors[self.start[i]..self.start[i + 1]]
    }

    /// Every stored entry as `(i, neighbour)`.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Neighbor)> + '_ {
        (0..self.natoms()).flat_map(move |i| self.neighbors(i).iter().map(move |n| (i, n)))
    }
}

/// A half neighbour list with a skin, for molecular dynamics: pairs within `cutoff + skin` are stored
/// and reused until some atom has moved more than `skin / 2` since the last build, or the cell changed.
///
/// The caller must not wrap positions between builds (or must call [`invalidate`](Self::invalidate)
/// after doing so): pair vectors are `r_j − r_i + shift` with the stored Cartesian shift.
#[derive(Debug, Clone)]
pub struct VerletList {
    cutoff: f64,
    skin: f64,
    pairs: Vec<(u32, u32)>,
    shifts: Vec<Vector3<f64>>,
    reference: Vec<Vector3<f64>>,
    lattice: Option<Lattice>,
    builds: usize,
}

impl VerletList {
    /// A list for interactions up to `cutoff` Å with a `skin` Å margin.
    pub fn new(cutoff: f64, skin: f64) -> Result<Self> {
        if !(cutoff.is_finite() && cutoff > 0.0 && skin.is_finite() && skin >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "Verlet list needs cutoff > 0 and skin ≥ 0, got {cutoff} and {skin}"
            )));
        }
        Ok(VerletList {
            cutoff,
            skin,
            pairs: Vec::new(),
            shifts: Vec::new(),
            reference: Vec::new(),
            lattice: None,
            builds: 0,
        })
    }

    /// Interaction cutoff, Å.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// Skin, Å.
    pub fn skin(&self) -> f64 {
        self.skin
    }

    /// Number of builds so far.
    pub fn builds(&self) -> usize {
        self.builds
    }

    /// Force a rebuild at the next [`update`](Self::update).
    pub fn invalidate(&mut self) {
        self.lattice = None;
    }

    /// Rebuild if needed for these positions; returns whether it rebuilt.
    pub fn update(&mut self, lattice: &Lattice, positions: &[Vector3<f64>]) -> Result<bool> {
        if !self.needs_rebuild(lattice, positions) {
            return Ok(false);
        }
        let list = NeighborList::build(lattice, positions, self.cutoff + self.skin, PairSet::Half)?;
        self.pairs.clear();
        self.shifts.clear();
        for (i, n) in list.iter() {
            self.pairs.push((i as u32, n.index as u32));
            self.shifts.push(n.vector - (positions[n.index] - positions[i]));
        }
        self.reference.clear();
        self.reference.extend_from_slice(positions);
        self.lattice = Some(lattice.clone());
        self.builds += 1;
        Ok(true)
    }

    fn needs_rebuild(&self, lattice: &Lattice, positions: &[Vector3<f64>]) -> bool {
        match &self.lattice {
            Some(l) if l == lattice && positions.len() == self.reference.len() => {
                let limit2 = 0.25 * self.skin * self.skin;
                positions
                    .iter()
                    .zip(&self.reference)
                    .any(|(p, r)| (p - r).norm_squared() > limit2)
            }
            _ => true,
        }
    }

    /// Stored pairs as `(i, j, shift)`: the vector from i to j is `r_j − r_i + shift`. Includes pairs up
    /// to `cutoff + skin`; the caller checks the actual distance against the cutoff.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (usize, usize, Vector3<f64>)> + '_ {
        self.pairs
            .iter()
            .zip(&self.shifts)
            .map(|(&(i, j), &s)| (i as usize, j as usize, s))
    }

    /// Number of stored pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when no pair is stored.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force(l: &Lattice, pos: &[Vector3<f64>], rc: f64) -> Vec<Vec<(usize, [i32; 3], f64)>> {
        let mut out = vec![Vec::new(); pos.len()];
        for i in 0..pos.len() {
            for j in 0..pos.len() {
                let f = l.to_fractional(&(pos[j] - pos[i]));
                l.for_each_image_within(&f, rc, |v| {
                    let fi = l.to_fractional(&v) - f;
                    let img = [fi.x.round() as i32, fi.y.round() as i32, fi.z.round() as i32];
                    if !(i == j && img == [0, 0, 0]) {
                        out[i].push((j, img, v.norm()));
                    }
                });
            }
            out[i].sort_by_key(|a| (a.0, a.1));
        }
        out
    }

    #[test]
    fn tiny_cell_with_long_cutoff_finds_all_images() {
        let l = Lattice::from_parameters(2.5, 3.0, 2.8, 75.0, 100.0, 62.0).unwrap();
        let pos = vec![Vector3::new(0.1, 0.2, 0.3), Vector3::new(1.4, -0.7, 2.2)];
        let rc = 6.0;
        let nl = NeighborList::build(&l, &pos, rc, PairSet::Full).unwrap();
        let bf = brute_force(&l, &pos, rc);
        for (i, want) in bf.iter().enumerate() {
            let mut got: Vec<_> = nl
                .neighbors(i)
                .iter()
                .map(|n| (n.index, n.image, n.distance))
                .collect();
            got.sort_by_key(|a| (a.0, a.1));
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert_eq!((g.0, g.1), (w.0, w.1));
                assert!((g.2 - w.2).abs() < 1e-12);
            }
        }
        let half = NeighborList::build(&l, &pos, rc, PairSet::Half).unwrap();
        assert_eq!(2 * half.num_entries(), nl.num_entries());
    }

    #[test]
    fn verlet_list_rebuilds_only_when_needed() {
        let l = Lattice::cubic(10.0).unwrap();
        let pos = vec![Vector3::new(1.0, 1.0, 1.0), Vector3::new(3.0, 1.0, 1.0)];
        let mut v = VerletList::new(2.5, 1.0).unwrap();
        assert!(v.update(&l, &pos).unwrap());
        assert_eq!(v.len(), 1);
        let moved = vec![Vector3::new(1.4, 1.0, 1.0), pos[1]];
        assert!(!v.update(&l, &moved).unwrap());
        let far = vec![Vector3::new(1.6, 1.0, 1.0), pos[1]];
        assert!(v.update(&l, &far).unwrap());
    }
}
