//! O(N) neighbour search with a cell list that works for any cell shape and size, and a Verlet list
//! with a skin for molecular dynamics.
//!
//! Atoms are binned in fractional coordinates with bins at least as wide (perpendicular to the faces)
//! as the cutoff, so the neighbours of an atom lie in a bounded block of bins around it. When the cutoff
//! exceeds the cell's perpendicular width the block spans several periodic images, so every image within
//! the cutoff is found — small and skewed cells are handled exactly.

use std::mem::MaybeUninit;

use nalgebra::Vector3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lattice::Lattice;
use crate::structure::Structure;

/// Lists at least this long fill slot coordinates in parallel.
const PARALLEL_SLOTS: usize = 4096;

/// Atoms per parallel work unit (whole bins are grouped until they hold about this many atoms).
const CHUNK_ATOMS: usize = 1024;

/// One neighbour `j` of an atom `i`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Neighbor {
    /// Index of the neighbour j.
    pub index: u32,
    /// Lattice translation of j, in units of the lattice vectors: this neighbour sits at
    /// `r_j + image·(a, b, c)` for the positions as given (wrapped or not).
    pub image: [i32; 3],
    /// Distance, Å.
    pub distance: f64,
}

/// Which pairs a neighbour list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PairSet {
    /// Every ordered pair: j is listed under i and i under j (coordination, features).
    #[default]
    Full,
    /// Every unordered pair once (under one of its two atoms), a periodic self image once (forces,
    /// RDF).
    Half,
}

/// A run of consecutive bins along the last axis reachable from a home bin, all under one lattice
/// translation: their atoms are contiguous in memory.
#[derive(Clone, Copy)]
struct Run {
    /// First and one-past-last flat bin index of the run.
    first: usize,
    end: usize,
    shift: [i32; 3],
    shift_cart: Vector3<f64>,
    /// Lexicographic sign of `shift` (for half lists).
    positive: bool,
    zero: bool,
}

/// Per axis and home coordinate h: the segments `(first, last, shift)` covering h − reach ..= h +
/// reach, split where the range wraps around the cell (each segment has one translation).
fn axis_segments(n: usize, reach: i64) -> Vec<Vec<(usize, usize, i32)>> {
    let n = n as i64;
    (0..n)
        .map(|h| {
            let mut segs: Vec<(usize, usize, i32)> = Vec::new();
            for t in h - reach..=h + reach {
                let (b, s) = (t.rem_euclid(n) as usize, t.div_euclid(n) as i32);
                match segs.last_mut() {
                    Some(last) if last.2 == s => last.1 = b,
                    _ => segs.push((b, b, s)),
                }
            }
            segs
        })
        .collect()
}

/// Atoms binned into a periodic grid in fractional coordinates and stored in bin order, so that the
/// inner loop streams through contiguous memory.
#[derive(Debug, Clone)]
pub(crate) struct CellGrid {
    cutoff: f64,
    n: [usize; 3],
    lattice: Lattice,
    /// Wrapped Cartesian positions in bin order, by axis (x, y, z), for [`PairScan`].
    axes: [Vec<f64>; 3],
    /// Original index of each binned atom.
    pub(crate) original: Vec<u32>,
    /// Integer part removed by wrapping, in bin order.
    pub(crate) offset: Vec<[i32; 3]>,
    /// Original index and negated offset (as two's-complement bits), in bin order: the start of
    /// each [`Neighbourhood`] candidate's entry.
    index_and_image: Vec<[u32; 4]>,
    /// `bin_start[b]..bin_start[b + 1]` are the atoms of bin b.
    bin_start: Vec<usize>,
    /// [`axis_segments`] of each axis.
    segments: [Vec<Vec<(usize, usize, i32)>>; 3],
    /// Scratch of [`fill`](Self::fill): each atom's bin, wrapped Cartesian position and offset,
    /// and per block of atoms its count of atoms in each bin, then its next slot in each bin.
    bin_of: Vec<Binned>,
    block_slots: Vec<Vec<u32>>,
}

/// An atom's bin, wrapped Cartesian position (Å) and the lattice translation removed by wrapping.
type Binned = (u32, Vector3<f64>, [i32; 3]);

/// Bins atoms for [`CellGrid::fill`]: fractional coordinates as `Lattice::to_fractional` takes them
/// (the same bits), written out because the generic matrix product is not inlined here.
struct Binner {
    /// Columns of the inverse matrix and of the matrix.
    inverse: [[f64; 3]; 3],
    matrix: [[f64; 3]; 3],
    n: [u32; 3],
}

impl Binner {
    fn new(lattice: &Lattice, n: [usize; 3]) -> Self {
        let columns = |m: &nalgebra::Matrix3<f64>| [0, 1, 2].map(|i| [m[(0, i)], m[(1, i)], m[(2, i)]]);
        Binner {
            inverse: columns(lattice.inverse()),
            matrix: columns(lattice.matrix()),
            n: n.map(|v| v as u32),
        }
    }

    /// Bins `atoms` into `out` and counts them per bin; returns the first atom with an unusable
    /// position (then `out` is only partly written).
    fn block(
        &self,
        atoms: &[Vector3<f64>],
        out: &mut [MaybeUninit<Binned>],
        counts: &mut [u32],
    ) -> Option<usize> {
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            while done + 8 <= atoms.len() {
                // SAFETY: the CPU has AVX-512F (checked above).
                let Some(eight) = (unsafe { self.eight(&atoms[done..done + 8]) }) else {
                    break;
                };
                for (slot, binned) in out[done..done + 8].iter_mut().zip(eight) {
                    counts[binned.0 as usize] += 1;
                    slot.write(binned);
                }
                done += 8;
            }
        }
        for (i, p) in atoms.iter().enumerate().skip(done) {
            let Some(binned) = self.one(p) else {
                return Some(i);
            };
            counts[binned.0 as usize] += 1;
            out[i].write(binned);
        }
        None
    }

    /// One atom, or `None` if its position is unusable (not finite, or more than 10⁹ cells away).
    fn one(&self, p: &Vector3<f64>) -> Option<Binned> {
        let dot = |c: &[f64; 3], v: [f64; 3]| c[0] * v[0] + c[1] * v[1] + c[2] * v[2];
        let v = [p.x, p.y, p.z];
        let inv = &self.inverse;
        let f = [dot(&inv[0], v), dot(&inv[1], v), dot(&inv[2], v)];
        if !f.iter().all(|x| x.abs() <= 1e9) {
            return None;
        }
        let (mut fw, mut fl, mut flat) = ([0.0; 3], [0i32; 3], 0u32);
        for k in 0..3 {
            // SAFETY (the three conversions): |f| ≤ 1e9, and 0 ≤ w < 1 below, so every value
            // converted is in range; the saturating `as` costs half the binning time.
            let t = unsafe { f[k].to_int_unchecked::<i64>() } as f64;
            // floor(f), and +0 for −0 (as the vector path gives it).
            let mut lower = if t > f[k] { t - 1.0 } else { t };
            let mut w = f[k] - lower;
            // A coordinate a hair below an integer wraps to exactly 1.0: count it in the next
            // cell, so that position = wrapped + offset·lattice still holds.
            if w >= 1.0 {
                w = 0.0;
                lower += 1.0;
            }
            fw[k] = w;
            fl[k] = unsafe { lower.to_int_unchecked::<i32>() };
            let b = unsafe { (w * self.n[k] as f64).to_int_unchecked::<u32>() }.min(self.n[k] - 1);
            flat = flat * self.n[k] + b;
        }
        let m = &self.matrix;
        Some((
            flat,
            Vector3::new(dot(&m[0], fw), dot(&m[1], fw), dot(&m[2], fw)),
            fl,
        ))
    }

    /// Eight atoms with AVX-512, the same operations as [`one`](Self::one) (the same bits), or
    /// `None` if one of them has an unusable position.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn eight(&self, atoms: &[Vector3<f64>]) -> Option<[Binned; 8]> {
        use std::arch::x86_64::*;
        assert_eq!(atoms.len(), 8);
        // SAFETY: eight `Vector3<f64>` are 24 contiguous f64 (nalgebra's matrices are repr(C)
        // over their [f64; 3] storage).
        let (a, b, c) = unsafe {
            let p = atoms.as_ptr().cast::<f64>();
            (
                _mm512_loadu_pd(p),
                _mm512_loadu_pd(p.add(8)),
                _mm512_loadu_pd(p.add(16)),
            )
        };
        // Coordinate k of atom j is element 3j + k of a‖b‖c: the first six or five from a and b,
        // then the rest from c.
        let pick = |first: __m512i, then: __m512i| {
            _mm512_permutex2var_pd(_mm512_permutex2var_pd(a, first, b), then, c)
        };
        let v = [
            pick(
                _mm512_setr_epi64(0, 3, 6, 9, 12, 15, 0, 0),
                _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 10, 13),
            ),
            pick(
                _mm512_setr_epi64(1, 4, 7, 10, 13, 0, 0, 0),
                _mm512_setr_epi64(0, 1, 2, 3, 4, 8, 11, 14),
            ),
            pick(
                _mm512_setr_epi64(2, 5, 8, 11, 14, 0, 0, 0),
                _mm512_setr_epi64(0, 1, 2, 3, 4, 9, 12, 15),
            ),
        ];
        let dot = |c: &[f64; 3], v: &[__m512d; 3]| {
            let term = |k: usize| _mm512_mul_pd(_mm512_set1_pd(c[k]), v[k]);
            _mm512_add_pd(_mm512_add_pd(term(0), term(1)), term(2))
        };
        let f = [0, 1, 2].map(|k| dot(&self.inverse[k], &v));
        let limit = _mm512_set1_pd(1e9);
        let usable = f.iter().fold(0xffu8, |m, &x| {
            m & _mm512_cmp_pd_mask::<_CMP_LE_OQ>(_mm512_abs_pd(x), limit)
        });
        if usable != 0xff {
            return None;
        }
        let (zero, one) = (_mm512_setzero_pd(), _mm512_set1_pd(1.0));
        let mut fw = [zero; 3];
        let mut fl = [_mm256_setzero_si256(); 3];
        let mut flat = _mm256_setzero_si256();
        for k in 0..3 {
            // floor, then +0 for −0.
            let lower = _mm512_add_pd(
                _mm512_roundscale_pd::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(f[k]),
                zero,
            );
            let w = _mm512_sub_pd(f[k], lower);
            let wraps = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(w, one);
            fw[k] = _mm512_mask_mov_pd(w, wraps, zero);
            fl[k] = _mm512_cvttpd_epi32(_mm512_mask_add_pd(lower, wraps, lower, one));
            let nk = _mm512_set1_pd(self.n[k] as f64);
            let b = _mm256_min_epu32(
                _mm512_cvttpd_epu32(_mm512_mul_pd(fw[k], nk)),
                _mm256_set1_epi32(self.n[k] as i32 - 1),
            );
            flat = _mm256_add_epi32(_mm256_mullo_epi32(flat, _mm256_set1_epi32(self.n[k] as i32)), b);
        }
        let cart = [0, 1, 2].map(|k| dot(&self.matrix[k], &fw));
        let mut bins = [0u32; 8];
        let (mut x, mut off) = ([[0.0; 8]; 3], [[0i32; 8]; 3]);
        // SAFETY: stores to local arrays of the vectors' sizes.
        unsafe {
            _mm256_storeu_si256(bins.as_mut_ptr().cast(), flat);
            for k in 0..3 {
                _mm512_storeu_pd(x[k].as_mut_ptr(), cart[k]);
                _mm256_storeu_si256(off[k].as_mut_ptr().cast(), fl[k]);
            }
        }
        Some(std::array::from_fn(|j| {
            (
                bins[j],
                Vector3::new(x[0][j], x[1][j], x[2][j]),
                [off[0][j], off[1][j], off[2][j]],
            )
        }))
    }
}

/// Where [`CellGrid::fill`]'s blocks of atoms write their slots, concurrently (each slot by one
/// block only).
struct SlotWriter {
    axes: [*mut f64; 3],
    original: *mut u32,
    offset: *mut [i32; 3],
    index_and_image: *mut [u32; 4],
}

// SAFETY: the blocks write disjoint slots (see `CellGrid::fill`).
unsafe impl Sync for SlotWriter {}

impl SlotWriter {
    /// # Safety
    /// `slot` is within the arrays, and no other thread writes it.
    unsafe fn write(&self, slot: usize, atom: u32, x: Vector3<f64>, offset: [i32; 3]) {
        // SAFETY: the caller's contract.
        unsafe {
            for k in 0..3 {
                *self.axes[k].add(slot) = x[k];
            }
            *self.original.add(slot) = atom;
            *self.offset.add(slot) = offset;
            *self.index_and_image.add(slot) = [
                atom,
                offset[0].wrapping_neg() as u32,
                offset[1].wrapping_neg() as u32,
                offset[2].wrapping_neg() as u32,
            ];
        }
    }
}

impl CellGrid {
    pub(crate) fn new(lattice: &Lattice, positions: &[Vector3<f64>], cutoff: f64) -> Result<Self> {
        let mut grid = CellGrid {
            cutoff,
            n: [1; 3],
            lattice: lattice.clone(),
            axes: Default::default(),
            original: Vec::new(),
            offset: Vec::new(),
            index_and_image: Vec::new(),
            bin_start: Vec::new(),
            segments: Default::default(),
            bin_of: Vec::new(),
            block_slots: Vec::new(),
        };
        grid.fill(lattice, positions, cutoff)?;
        Ok(grid)
    }

    /// Bin `positions` afresh, reusing this grid's buffers: an MD neighbour list rebuilds every few
    /// steps, and fresh megabyte-sized buffers each time cost page faults and, with several threads,
    /// the unmapping's cross-core TLB flushes.
    pub(crate) fn fill(&mut self, lattice: &Lattice, positions: &[Vector3<f64>], cutoff: f64) -> Result<()> {
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "neighbour cutoff must be positive and finite, got {cutoff}"
            )));
        }
        if positions.len() > u32::MAX as usize {
            return Err(Error::InvalidArgument("more than 2³² atoms".into()));
        }
        let widths = lattice.perpendicular_widths();
        // Bounded so that a tiny cutoff in a huge cell cannot allocate an absurd grid.
        let max_per_axis = ((positions.len() as f64).cbrt().ceil() as usize * 2).max(1);
        // Cutoff-wide bins: half-cutoff ones test 40 % fewer candidates, but in runs a third as long,
        // and the vectorised distance pass ([`PairScan`]) and the Verlet build lose more per run.
        let n = widths.map(|w| ((w / cutoff).floor() as usize).clamp(1, max_per_axis));
        // Two points within the cutoff differ by at most cutoff / width in each fractional coordinate.
        let reach = [0, 1, 2].map(|k| (cutoff * n[k] as f64 / widths[k]).ceil() as i64);
        let nbins = n[0] * n[1] * n[2];
        let natoms = positions.len();
        // A counting sort in two parallel passes over blocks of atoms: each atom's bin, wrapped
        // position and offset, with each block's count per bin; then, from each block's first slot
        // in each bin, the atoms go to their slots (in index order within a bin, whatever the
        // blocks, so the result does not depend on the thread count).
        //
        let binner = Binner::new(lattice, n);
        // Each block counts into its own array of bins: a tiny cutoff (many more bins than atoms)
        // keeps to one block.
        let blocks = if natoms >= PARALLEL_SLOTS {
            rayon::current_num_threads()
                .min(natoms / 1024)
                .min(4 * natoms / nbins)
                .max(1)
        } else {
            1
        };
        let block_len = natoms.div_ceil(blocks).max(1);
        // The arrays below are filled without zeroing them first (every element is written), which
        // saves a fifth of the binning for a fresh grid.
        self.bin_of.clear();
        self.bin_of.reserve(natoms);
        self.block_slots.resize_with(blocks, Vec::new);
        // Pass 1; returns the first atom of the block with an unusable position.
        let count = |(k, (atoms, counts)): (usize, (&mut [MaybeUninit<Binned>], &mut Vec<u32>))| {
            counts.clear();
            counts.resize(nbins, 0);
            let first = k * block_len;
            let block = &positions[first..first + atoms.len()];
            binner.block(block, atoms, counts).map(|i| first + i)
        };
        let bad = if blocks > 1 {
            self.bin_of.spare_capacity_mut()[..natoms]
                .par_chunks_mut(block_len)
                .zip(self.block_slots.par_iter_mut())
                .enumerate()
                .map(count)
                .reduce(|| None, |a, b| a.or(b))
        } else {
            self.bin_of.spare_capacity_mut()[..natoms]
                .chunks_mut(block_len)
                .zip(self.block_slots.iter_mut())
                .enumerate()
                .map(count)
                .fold(None, |a, b| a.or(b))
        };
        if let Some(i) = bad {
            return Err(Error::Structure(format!(
                "atom {i} has an unusable position {:?}",
                positions[i]
            )));
        }
        // SAFETY: with no unusable position, every block wrote each of its atoms.
        unsafe { self.bin_of.set_len(natoms) };
        // Bin starts, and each block's first slot in each bin.
        self.bin_start.clear();
        self.bin_start.reserve(nbins + 1);
        let mut next = 0u32;
        for b in 0..nbins {
            self.bin_start.push(next as usize);
            for slots in &mut self.block_slots {
                let c = slots[b];
                slots[b] = next;
                next += c;
            }
        }
        self.bin_start.push(next as usize);
        fn room<T>(v: &mut Vec<T>, n: usize) -> *mut T {
            v.clear();
            v.reserve(n);
            v.as_mut_ptr()
        }
        // Pass 2: every block writes its atoms to its own slots.
        let out = SlotWriter {
            axes: [0, 1, 2].map(|k| room(&mut self.axes[k], natoms)),
            original: room(&mut self.original, natoms),
            offset: room(&mut self.offset, natoms),
            index_and_image: room(&mut self.index_and_image, natoms),
        };
        let place = |(k, (atoms, slots)): (usize, (&[Binned], &mut Vec<u32>))| {
            let first = k * block_len;
            for (i, &(b, x, fl)) in atoms.iter().enumerate() {
                let slot = slots[b as usize] as usize;
                slots[b as usize] += 1;
                // SAFETY: the blocks' slot ranges in each bin are disjoint and within the
                // arrays' reserved room for natoms, so each slot is written once, by one block.
                unsafe { out.write(slot, (first + i) as u32, x, fl) };
            }
        };
        if blocks > 1 {
            self.bin_of
                .par_chunks(block_len)
                .zip(self.block_slots.par_iter_mut())
                .enumerate()
                .for_each(place);
        } else {
            self.bin_of
                .chunks(block_len)
                .zip(self.block_slots.iter_mut())
                .enumerate()
                .for_each(place);
        }
        // SAFETY: the slots of the bins cover 0..natoms, and each was written once above.
        unsafe {
            for axis in &mut self.axes {
                axis.set_len(natoms);
            }
            self.original.set_len(natoms);
            self.offset.set_len(natoms);
            self.index_and_image.set_len(natoms);
        }
        self.segments = [0, 1, 2].map(|k| axis_segments(n[k], reach[k]));
        self.cutoff = cutoff;
        self.n = n;
        self.lattice.clone_from(lattice);
        Ok(())
    }

    fn nbins(&self) -> usize {
        self.n[0] * self.n[1] * self.n[2]
    }

    /// [`chunks`](Self::chunks) as a parallel iterator that hands them to threads one at a time (by
    /// default rayon splits in large halves, and one thread finishes early).
    pub(crate) fn par_chunks(&self) -> impl IndexedParallelIterator<Item = std::ops::Range<usize>> {
        self.chunks().into_par_iter().with_max_len(1)
    }

    /// Consecutive ranges of home bins holding about `CHUNK_ATOMS` atoms each: the parallel work
    /// units, fixed by the structure alone so results do not depend on the thread count.
    fn chunks(&self) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let mut first = 0;
        for b in 0..self.nbins() {
            if self.bin_start[b + 1] - self.bin_start[first] >= CHUNK_ATOMS {
                out.push(first..b + 1);
                first = b + 1;
            }
        }
        if first < self.nbins() {
            out.push(first..self.nbins());
        }
        out
    }

    /// The slots of the atoms of bin `b`.
    pub(crate) fn bin_slots(&self, b: usize) -> std::ops::Range<usize> {
        self.bin_start[b]..self.bin_start[b + 1]
    }

    /// The runs of bins within reach of `home`, each with its translation.
    fn reachable(&self, home: usize, out: &mut Vec<Run>) {
        out.clear();
        let n = self.n;
        let h = [home / (n[1] * n[2]), (home / n[2]) % n[1], home % n[2]];
        let (a, b, c) = (
            self.lattice.vector(0),
            self.lattice.vector(1),
            self.lattice.vector(2),
        );
        for &(f0, l0, s0) in &self.segments[0][h[0]] {
            for b0 in f0..=l0 {
                for &(f1, l1, s1) in &self.segments[1][h[1]] {
                    for b1 in f1..=l1 {
                        let row = (b0 * n[1] + b1) * n[2];
                        for &(f2, l2, s2) in &self.segments[2][h[2]] {
                            let shift = [s0, s1, s2];
                            out.push(Run {
                                first: row + f2,
                                end: row + l2 + 1,
                                shift,
                                shift_cart: a * s0 as f64 + b * s1 as f64 + c * s2 as f64,
                                positive: s0 > 0 || (s0 == 0 && (s1 > 0 || (s1 == 0 && s2 > 0))),
                                zero: shift == [0, 0, 0],
                            });
                        }
                    }
                }
            }
        }
    }

    /// For every atom of the home bins in `bins` (in bin order), calls `f(p, runs)` with its slot and
    /// the runs of candidate neighbours within reach. With `half`, the runs are cut so that each
    /// unordered pair (and each ± pair of self images) comes once.
    pub(crate) fn visit_runs(
        &self,
        bins: std::ops::Range<usize>,
        half: bool,
        mut f: impl FnMut(usize, &[Candidates]),
    ) {
        let mut reach = Vec::new();
        let mut runs = Vec::new();
        for home in bins {
            self.reachable(home, &mut reach);
            for p in self.bin_start[home]..self.bin_start[home + 1] {
                runs.clear();
                for r in &reach {
                    let (lo, hi) = (self.bin_start[r.first], self.bin_start[r.end]);
                    // A half list keeps an unordered pair from its lower slot in bin order, and a
                    // self image from its positive translation.
                    let lo = if half { lo.max(p) } else { lo };
                    if lo < hi {
                        let skip_self = r.zero || (half && !r.positive);
                        runs.push(Candidates {
                            slots: lo..hi,
                            skip: if skip_self { p } else { usize::MAX },
                            shift: r.shift,
                            shift_cart: r.shift_cart,
                        });
                    }
                }
                f(p, &runs);
            }
        }
    }

    /// Largest lattice translation (per axis, in cells) of any run.
    pub(crate) fn max_translation(&self) -> [i32; 3] {
        [0, 1, 2].map(|k| {
            self.segments[k]
                .iter()
                .flatten()
                .map(|s| s.2.abs())
                .max()
                .unwrap_or(0)
        })
    }

    /// Squared cutoff, Å².
    pub(crate) fn cutoff2(&self) -> f64 {
        self.cutoff * self.cutoff
    }
}

/// Distance tests of one atom against runs of candidates, vectorised over each run (the coordinates
/// by axis of a [`CellGrid`]); holds the scratch so that it is allocated once per work unit.
#[derive(Debug, Clone, Default)]
pub(crate) struct PairScan {
    d2: Vec<f64>,
    hits: Vec<u32>,
}

impl PairScan {
    /// Calls `f(q, d2)` for every candidate slot q of `c` within `rc2` (squared distance ≤ rc2) of
    /// slot p, in slot order, leaving out `c.skip`.
    #[inline]
    pub(crate) fn within(
        &mut self,
        grid: &CellGrid,
        p: usize,
        c: &Candidates,
        rc2: f64,
        mut f: impl FnMut(usize, f64),
    ) {
        let r = c.slots.clone();
        let m = r.len();
        if self.d2.len() < m {
            self.d2.resize(m, 0.0);
            self.hits.resize(m, 0);
        }
        let h = squared_distances_within(
            // From the run on to the end of the grid: the vector path reads up to three slots
            // past the run rather than finishing it one by one.
            [
                &grid.axes[0][r.start..],
                &grid.axes[1][r.start..],
                &grid.axes[2][r.start..],
            ],
            [grid.axes[0][p], grid.axes[1][p], grid.axes[2][p]],
            [c.shift_cart.x, c.shift_cart.y, c.shift_cart.z],
            rc2,
            &mut self.d2[..m],
            &mut self.hits[..m],
        );
        for &k in &self.hits[..h] {
            let q = r.start + k as usize;
            if q != c.skip {
                f(q, self.d2[k as usize]);
            }
        }
    }
}

/// The translation added to each point of a distance scan: one for the whole scan (a run of bins),
/// or none (a gathered [`Neighbourhood`], whose points are stored translated).
trait Translation: Copy {
    /// Point coordinate `v` along `axis`, translated.
    fn apply(self, axis: usize, v: f64) -> f64;
    /// Four coordinates along `axis`, translated (the same operation as [`apply`](Self::apply)).
    ///
    /// # Safety
    /// The CPU has AVX.
    #[cfg(target_arch = "x86_64")]
    unsafe fn apply4(self, axis: usize, v: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d;
    /// Eight coordinates along `axis`, translated (the same operation again).
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    unsafe fn apply8(self, axis: usize, v: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d;
}

impl Translation for [f64; 3] {
    #[inline]
    fn apply(self, axis: usize, v: f64) -> f64 {
        v + self[axis]
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx")]
    unsafe fn apply4(self, axis: usize, v: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
        use std::arch::x86_64::*;
        _mm256_add_pd(v, _mm256_set1_pd(self[axis]))
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn apply8(self, axis: usize, v: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
        use std::arch::x86_64::*;
        _mm512_add_pd(v, _mm512_set1_pd(self[axis]))
    }
}

/// The points of the scan are stored with their translation already added.
#[derive(Clone, Copy)]
struct Translated;

impl Translation for Translated {
    #[inline]
    fn apply(self, _: usize, v: f64) -> f64 {
        v
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx")]
    unsafe fn apply4(self, _: usize, v: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
        v
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn apply8(self, _: usize, v: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
        v
    }
}

/// Squared distances from `origin` to the first `d2.len()` points of `x` (given by axis; the slices
/// may run on, and are then read up to three points further) translated by `shift`, into `d2`; the
/// indices within `rc2` go, in order, to the front of `hits`, and their number is returned.
/// The translation is added first, (x + t) − origin, so that points gathered already translated
/// give the same bits; d² is then dz·dz + (dy·dy + dx·dx) with fused multiply-adds where the CPU has
/// them (every kernel of one machine gives the same bits).
fn squared_distances_within(
    x: [&[f64]; 3],
    origin: [f64; 3],
    shift: impl Translation,
    rc2: f64,
    d2: &mut [f64],
    hits: &mut [u32],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512vl") && has!("popcnt") && has!("fma") {
            // SAFETY: the CPU has AVX-512F, AVX-512VL, POPCNT and FMA (checked just above).
            return unsafe { squared_distances_within_avx512(x, origin, shift, rc2, d2, hits) };
        }
        if has!("avx2") && has!("popcnt") && has!("fma") {
            // SAFETY: the CPU has AVX2, POPCNT and FMA (checked just above).
            return unsafe { squared_distances_within_avx2(x, origin, shift, rc2, d2, hits) };
        }
    }
    squared_distances_within_scalar::<FUSED_SCALAR>(x, origin, shift, rc2, d2, hits, 0, 0)
}

/// Whether the scalar pass fuses its multiply-adds when it is the only one: where `f64::mul_add` is
/// one instruction (elsewhere it is a library call, many times slower).
const FUSED_SCALAR: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));

/// [`squared_distances_within`] eight candidates at a time with AVX-512: the same operations in the
/// same order as the fused scalar pass (so the same bits); the comparison's mask register selects the
/// indices to keep, which one compress packs to the front. Masked loads and stores take the last one
/// to seven candidates, so nothing past `d2.len()` is read.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,popcnt,fma")]
unsafe fn squared_distances_within_avx512(
    x: [&[f64]; 3],
    origin: [f64; 3],
    shift: impl Translation,
    rc2: f64,
    d2: &mut [f64],
    hits: &mut [u32],
) -> usize {
    use std::arch::x86_64::*;
    let n = d2.len();
    let [xs, ys, zs] = x;
    assert!(xs.len() >= n && ys.len() >= n && zs.len() >= n && hits.len() >= n);
    let o = origin.map(|v| _mm512_set1_pd(v));
    let limit = _mm512_set1_pd(rc2);
    // SAFETY: the CPU has AVX-512F (this function's contract); the callers' lanes end at n, within
    // the slices, and masked-off lanes are not read.
    let r2_at = |k: usize, lanes: __mmask8| unsafe {
        let load = |s: &[f64]| _mm512_maskz_loadu_pd(lanes, s.as_ptr().add(k));
        let dx = _mm512_sub_pd(shift.apply8(0, load(xs)), o[0]);
        let dy = _mm512_sub_pd(shift.apply8(1, load(ys)), o[1]);
        let dz = _mm512_sub_pd(shift.apply8(2, load(zs)), o[2]);
        _mm512_fmadd_pd(dz, dz, _mm512_fmadd_pd(dy, dy, _mm512_mul_pd(dx, dx)))
    };
    let mut index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let eight = _mm256_set1_epi32(8);
    let (mut k, mut h) = (0, 0);
    while k + 8 <= n {
        let r2 = r2_at(k, 0xff);
        let keep = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(r2, limit);
        // SAFETY: k + 8 <= n = d2.len(); h <= k, so h + 8 <= n <= hits.len().
        unsafe {
            _mm512_storeu_pd(d2.as_mut_ptr().add(k), r2);
            _mm256_storeu_si256(
                hits.as_mut_ptr().add(h).cast(),
                _mm256_maskz_compress_epi32(keep, index),
            );
        }
        h += keep.count_ones() as usize;
        index = _mm256_add_epi32(index, eight);
        k += 8;
    }
    if k < n {
        let lanes = ((1u32 << (n - k)) - 1) as __mmask8;
        let r2 = r2_at(k, lanes);
        let keep = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(lanes, r2, limit);
        let kept = keep.count_ones() as usize;
        // SAFETY: only the lanes below n − k are stored to d2, and the first `kept` (h + kept <= n)
        // to hits.
        unsafe {
            _mm512_mask_storeu_pd(d2.as_mut_ptr().add(k), lanes, r2);
            let first = ((1u32 << kept) - 1) as __mmask8;
            _mm256_mask_storeu_epi32(
                hits.as_mut_ptr().add(h).cast(),
                first,
                _mm256_maskz_compress_epi32(keep, index),
            );
        }
        h += kept;
    }
    h
}

/// [`squared_distances_within`] from index `k` on, `h` indices already kept, with fused
/// multiply-adds if `FUSED`. The distances are taken in one pass (which vectorises) and compacted in
/// a second, branch-free: every index is written and kept by advancing the count.
#[allow(clippy::too_many_arguments)]
fn squared_distances_within_scalar<const FUSED: bool>(
    x: [&[f64]; 3],
    origin: [f64; 3],
    shift: impl Translation,
    rc2: f64,
    d2: &mut [f64],
    hits: &mut [u32],
    k: usize,
    mut h: usize,
) -> usize {
    let n = d2.len();
    let (xs, ys, zs) = (&x[0][..n], &x[1][..n], &x[2][..n]);
    for j in k..n {
        let dx = shift.apply(0, xs[j]) - origin[0];
        let dy = shift.apply(1, ys[j]) - origin[1];
        let dz = shift.apply(2, zs[j]) - origin[2];
        d2[j] = if FUSED {
            dz.mul_add(dz, dy.mul_add(dy, dx * dx))
        } else {
            dx * dx + dy * dy + dz * dz
        };
    }
    let hits = &mut hits[..n];
    for (j, &d) in d2.iter().enumerate().skip(k) {
        hits[h] = j as u32;
        h += usize::from(d <= rc2);
    }
    h
}

/// For each 8-bit mask, the positions of its set bits, packed to the front (the first 16 rows serve
/// 4-bit masks too).
#[cfg(target_arch = "x86_64")]
const PACKED_BYTES: [[u8; 8]; 256] = {
    let mut t = [[0u8; 8]; 256];
    let mut m = 0;
    while m < 256 {
        let (mut j, mut b) = (0, 0);
        while b < 8 {
            if m & (1 << b) != 0 {
                t[m][j] = b as u8;
                j += 1;
            }
            b += 1;
        }
        m += 1;
    }
    t
};

/// For r = 0..4, a mask of four 64-bit lanes whose first r are set.
#[cfg(target_arch = "x86_64")]
const FIRST_LANES: [[i64; 4]; 4] = [[0, 0, 0, 0], [-1, 0, 0, 0], [-1, -1, 0, 0], [-1, -1, -1, 0]];

/// For r = 0..=4, a mask of four 32-bit lanes whose first r are set.
#[cfg(target_arch = "x86_64")]
const FIRST_LANES_32: [[i32; 4]; 5] = [
    [0, 0, 0, 0],
    [-1, 0, 0, 0],
    [-1, -1, 0, 0],
    [-1, -1, -1, 0],
    [-1, -1, -1, -1],
];

/// [`squared_distances_within`] four candidates at a time: the same operations in the same order as
/// the fused scalar pass (so the same bits), then one comparison gives a 4-bit mask; two such masks make a
/// byte, whose set positions are stored at once from a table and counted by its population. The
/// scalar compaction's one-element-per-cycle dependency on the count goes, and the distances are
/// compared while still in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt,fma")]
unsafe fn squared_distances_within_avx2(
    x: [&[f64]; 3],
    origin: [f64; 3],
    shift: impl Translation,
    rc2: f64,
    d2: &mut [f64],
    hits: &mut [u32],
) -> usize {
    use std::arch::x86_64::*;
    let n = d2.len();
    let [xs, ys, zs] = x;
    let readable = xs.len().min(ys.len()).min(zs.len());
    assert!(readable >= n && hits.len() >= n);
    let o = origin.map(|v| _mm256_set1_pd(v));
    // SAFETY (of the loads): callers pass k + 4 <= `readable`.
    let r2_at = |k: usize| unsafe {
        let dx = _mm256_sub_pd(shift.apply4(0, _mm256_loadu_pd(xs.as_ptr().add(k))), o[0]);
        let dy = _mm256_sub_pd(shift.apply4(1, _mm256_loadu_pd(ys.as_ptr().add(k))), o[1]);
        let dz = _mm256_sub_pd(shift.apply4(2, _mm256_loadu_pd(zs.as_ptr().add(k))), o[2]);
        _mm256_fmadd_pd(dz, dz, _mm256_fmadd_pd(dy, dy, _mm256_mul_pd(dx, dx)))
    };
    let limit = _mm256_set1_pd(rc2);
    let (mut k, mut h) = (0, 0);
    // Eight at a time: one table lookup, store and count for the pair of groups.
    while k + 8 <= n {
        let (lo, hi) = (r2_at(k), r2_at(k + 4));
        // SAFETY: k + 8 <= n <= d2.len(), and h <= k, so h + 8 <= hits.len(); unaligned stores.
        unsafe {
            _mm256_storeu_pd(d2.as_mut_ptr().add(k), lo);
            _mm256_storeu_pd(d2.as_mut_ptr().add(k + 4), hi);
            let mask = (_mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(lo, limit))
                | (_mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(hi, limit)) << 4))
                as usize;
            let packed = _mm256_cvtepu8_epi32(_mm_loadl_epi64(PACKED_BYTES[mask].as_ptr().cast()));
            let idx = _mm256_add_epi32(packed, _mm256_set1_epi32(k as i32));
            _mm256_storeu_si256(hits.as_mut_ptr().add(h).cast(), idx);
            h += mask.count_ones() as usize;
        }
        k += 8;
    }
    while k + 4 <= n {
        let r2 = r2_at(k);
        // SAFETY: k + 4 <= n <= d2.len(), and h <= k, so h + 4 <= hits.len(); unaligned stores.
        unsafe {
            _mm256_storeu_pd(d2.as_mut_ptr().add(k), r2);
            let mask = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(r2, limit)) as usize;
            let packed = _mm_cvtepu8_epi32(_mm_loadu_si32(PACKED_BYTES[mask].as_ptr().cast()));
            let idx = _mm_add_epi32(packed, _mm_set1_epi32(k as i32));
            _mm_storeu_si128(hits.as_mut_ptr().add(h).cast(), idx);
            h += mask.count_ones() as usize;
        }
        k += 4;
    }
    if k < n && k + 4 <= readable {
        // The last one to three points as a group of four, the lanes past the end masked off.
        // (Masked stores: a copy of one to three elements would be a call to memmove.)
        let r2 = r2_at(k);
        let within = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(r2, limit)) as usize;
        let mask = within & ((1 << (n - k)) - 1);
        let kept = mask.count_ones() as usize;
        // SAFETY: only the first n − k lanes (ending at d2.len()) and the first `kept` lanes (h +
        // kept <= n <= hits.len()) are stored.
        unsafe {
            let lanes = _mm256_loadu_si256(FIRST_LANES[n - k].as_ptr().cast());
            _mm256_maskstore_pd(d2.as_mut_ptr().add(k), lanes, r2);
            let packed = _mm_cvtepu8_epi32(_mm_loadu_si32(PACKED_BYTES[mask].as_ptr().cast()));
            let idx = _mm_add_epi32(packed, _mm_set1_epi32(k as i32));
            let keep = _mm_loadu_si128(FIRST_LANES_32[kept].as_ptr().cast());
            _mm_maskstore_epi32(hits.as_mut_ptr().add(h).cast(), keep, idx);
        }
        return h + kept;
    }
    squared_distances_within_scalar::<true>(x, origin, shift, rc2, d2, hits, k, h)
}

/// Candidate neighbours of an atom: the atoms in `slots`, translated by `shift`.
pub(crate) struct Candidates {
    /// Slots of the candidates.
    pub slots: std::ops::Range<usize>,
    /// A slot to leave out (the centre itself), or `usize::MAX`.
    pub skip: usize,
    /// Lattice translation of the candidates.
    pub shift: [i32; 3],
    /// The same translation, Å.
    pub shift_cart: Vector3<f64>,
}

/// The candidates of every atom of one home bin, for full lists (half lists cut the runs per atom
/// instead), gathered contiguously and already translated, so that each atom tests them all in one
/// pass rather than one short pass per run of bins.
#[derive(Default)]
pub(crate) struct Neighbourhood {
    reach: Vec<Run>,
    /// Translated coordinates (Å) of the candidates, by axis, then three readable points that are
    /// never kept (so the vector pass need not finish one point at a time).
    x: [Vec<f64>; 3],
    /// Per candidate: its original index, then its lattice translation minus its wrapping offset
    /// (as two's-complement bits): its entry's index and image, less the centre's offset.
    head: Vec<[u32; 4]>,
    /// Candidate number of the home bin's first atom under no translation, and that atom's slot.
    home: usize,
    home_slot: usize,
    d2: Vec<f64>,
    hits: Vec<u32>,
    /// Where the candidates start in `x` and `head` (a full list slides along a column of bins,
    /// dropping the oldest layer at the front).
    start: usize,
    /// For a full list sliding along the last axis: the home bin the candidates are for, the
    /// columns of bins around it (first bin of the column, translation along the first two axes,
    /// Å), and per layer of the window its length and where its home column starts.
    window: Option<usize>,
    columns: Vec<(usize, [i32; 2], Vector3<f64>)>,
    home_row: usize,
    layers: [(usize, usize); 3],
}

impl Neighbourhood {
    /// Scratch with room for the candidates of a typical home bin of `grid` (a full list's sliding
    /// window holds up to five times as many before it drops the layers it has passed), so that a
    /// work unit does not grow it step by step.
    pub(crate) fn for_grid(grid: &CellGrid) -> Self {
        let per_bin = grid.original.len().div_ceil(grid.nbins());
        let candidates = 27 * per_bin + 64;
        let mut near = Neighbourhood::default();
        for v in &mut near.x {
            v.reserve(6 * candidates);
        }
        near.head.reserve(6 * candidates);
        near.d2.reserve(candidates);
        near.hits.reserve(candidates);
        near.reach.reserve(27);
        near.columns.reserve(9);
        near
    }

    /// Gathers the candidates of the atoms of bin `home`. For a half list, only the runs under no
    /// translation (in slot order) and then those under a positive one: an atom's half of the pairs
    /// is then every candidate after itself (each unordered pair is kept by its lower slot when
    /// untranslated, else by the atom that sees the other under the positive translation, and a
    /// self image under its positive translation).
    pub(crate) fn gather(&mut self, grid: &CellGrid, home: usize, half: bool) {
        grid.reachable(home, &mut self.reach);
        if half {
            self.reach.retain(|r| r.zero || r.positive);
            // Untranslated runs first, by slot (stable: ties keep their order).
            self.reach
                .sort_by_key(|r| (!r.zero, if r.zero { r.first } else { 0 }));
        }
        for v in &mut self.x {
            v.clear();
        }
        self.head.clear();
        self.start = 0;
        self.window = None;
        self.home_slot = grid.bin_start[home];
        for k in 0..self.reach.len() {
            let r = self.reach[k];
            let (lo, hi) = (grid.bin_start[r.first], grid.bin_start[r.end]);
            if r.zero && (r.first..r.end).contains(&home) {
                self.home = self.head.len() + (self.home_slot - lo);
            }
            self.append(grid, lo..hi, r.shift, r.shift_cart);
        }
        self.pad();
    }

    /// Gathers the candidates of bin `home` for a full list. Along a column of bins (the last
    /// axis, cutoff-wide bins, at least three of them) the candidates of the next home bin are
    /// those of the previous one less its lowest layer of bins plus one new layer above, so only
    /// that layer is gathered; elsewhere [`gather`](Self::gather).
    fn slide(&mut self, grid: &CellGrid, home: usize) {
        let n2 = grid.n[2];
        let along = home % n2;
        let layer_reach: usize = grid.segments[2][along].iter().map(|s| s.1 + 1 - s.0).sum();
        if n2 < 3 || layer_reach != 3 {
            return self.gather(grid, home, false);
        }
        if along > 0 && self.window == Some(home - 1) {
            self.unpad();
            self.start += self.layers[0].0;
            self.layers.rotate_left(1);
            self.layers[2] = self.append_layer(grid, along as i64 + 1);
            if self.start > 4 * self.len() {
                for v in &mut self.x {
                    v.drain(..self.start);
                }
                self.head.drain(..self.start);
                for layer in &mut self.layers {
                    layer.1 -= self.start;
                }
                self.start = 0;
            }
        } else {
            for v in &mut self.x {
                v.clear();
            }
            self.head.clear();
            self.start = 0;
            self.columns.clear();
            let n = grid.n;
            let (i, j) = (home / (n[1] * n2), (home / n2) % n[1]);
            self.home_row = home - along;
            let (a, b) = (grid.lattice.vector(0), grid.lattice.vector(1));
            for &(f0, l0, s0) in &grid.segments[0][i] {
                for b0 in f0..=l0 {
                    for &(f1, l1, s1) in &grid.segments[1][j] {
                        for b1 in f1..=l1 {
                            let cart = a * s0 as f64 + b * s1 as f64;
                            self.columns.push(((b0 * n[1] + b1) * n2, [s0, s1], cart));
                        }
                    }
                }
            }
            for (k, l) in (-1..=1).enumerate() {
                self.layers[k] = self.append_layer(grid, along as i64 + l);
            }
        }
        self.pad();
        self.window = Some(home);
        self.home_slot = grid.bin_start[home];
        self.home = self.layers[1].1 - self.start;
    }

    /// Appends the bins of layer `layer` along the last axis (unwrapped: its translation is
    /// `layer` div the number of bins) of every column; returns its length and where the home
    /// bin's own column (untranslated along the first two axes) starts in it.
    fn append_layer(&mut self, grid: &CellGrid, layer: i64) -> (usize, usize) {
        let n2 = grid.n[2] as i64;
        let (bin, s2) = (layer.rem_euclid(n2) as usize, layer.div_euclid(n2) as i32);
        let c = grid.lattice.vector(2) * s2 as f64;
        let first = self.head.len();
        let mut home = first;
        let mut total = 0;
        for &(row, [s0, s1], _) in &self.columns {
            if [s0, s1] == [0, 0] && row == self.home_row {
                home = first + total;
            }
            total += grid.bin_slots(row + bin).len();
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            for v in &mut self.x {
                v.reserve(total + 8);
            }
            self.head.reserve(total + 4);
            // SAFETY: the CPU has AVX-512F, and room for `total` more candidates (and the
            // vectors' overrun) was reserved.
            unsafe { self.append_layer_avx512(grid, bin, s2 as u32, c) };
            return (total, home);
        }
        for k in 0..self.columns.len() {
            let (row, [s0, s1], cart) = self.columns[k];
            self.append(grid, grid.bin_slots(row + bin), [s0, s1, s2], cart + c);
        }
        (total, home)
    }

    /// The copies of [`append_layer`](Self::append_layer). The caller reserves room for the whole
    /// layer plus eight coordinates and four heads.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn append_layer_avx512(&mut self, grid: &CellGrid, bin: usize, s2: u32, c: Vector3<f64>) {
        let mut len = self.head.len();
        let x = [0, 1, 2].map(|k| self.x[k].as_mut_ptr());
        let head = self.head.as_mut_ptr();
        for &(row, [s0, s1], cart) in &self.columns {
            let slots = grid.bin_slots(row + bin);
            let m = slots.len();
            // SAFETY: the caller's reservation covers this bin and the overrun.
            unsafe {
                copy_translated_avx512(
                    x.map(|p| p.add(len)),
                    head.add(len),
                    grid,
                    slots,
                    [s0, s1, s2 as i32],
                    cart + c,
                )
            };
            len += m;
        }
        // SAFETY: every candidate up to `len` was written above.
        unsafe {
            for v in &mut self.x {
                v.set_len(len);
            }
            self.head.set_len(len);
        }
    }

    /// [`copy_translated_avx512`] past the candidates; the caller reserves room and sets the lengths.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn append_avx512(
        &mut self,
        grid: &CellGrid,
        slots: std::ops::Range<usize>,
        shift: [i32; 3],
        shift_cart: Vector3<f64>,
    ) {
        let len = self.head.len();
        // SAFETY: the caller's contract.
        unsafe {
            let x = [0, 1, 2].map(|k| self.x[k].as_mut_ptr().add(len));
            copy_translated_avx512(x, self.head.as_mut_ptr().add(len), grid, slots, shift, shift_cart);
        }
    }

    /// Appends the atoms of `slots` under translation `shift` (`shift_cart` in Å).
    fn append(
        &mut self,
        grid: &CellGrid,
        slots: std::ops::Range<usize>,
        shift: [i32; 3],
        shift_cart: Vector3<f64>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            let (m, len) = (slots.len(), self.head.len());
            for v in &mut self.x {
                v.reserve(m + 8);
            }
            self.head.reserve(m + 4);
            // SAFETY: the CPU has AVX-512F, and room for the run and the overrun was reserved;
            // the run is then written.
            unsafe {
                self.append_avx512(grid, slots, shift, shift_cart);
                for v in &mut self.x {
                    v.set_len(len + m);
                }
                self.head.set_len(len + m);
            }
            return;
        }
        for k in 0..3 {
            let t = shift_cart[k];
            self.x[k].extend(grid.axes[k][slots.clone()].iter().map(|&v| v + t));
        }
        let t = shift.map(|v| v as u32);
        self.head.extend(grid.index_and_image[slots].iter().map(|h| {
            [
                h[0],
                h[1].wrapping_add(t[0]),
                h[2].wrapping_add(t[1]),
                h[3].wrapping_add(t[2]),
            ]
        }));
    }

    /// Three readable points after the candidates (never kept), and scratch for all of them.
    fn pad(&mut self) {
        for v in &mut self.x {
            v.extend_from_slice(&[0.0; 3]);
        }
        let n = self.len();
        self.d2.resize(n, 0.0);
        self.hits.resize(n, 0);
    }

    fn unpad(&mut self) {
        for v in &mut self.x {
            v.truncate(v.len() - 3);
        }
    }

    /// Number of candidates.
    fn len(&self) -> usize {
        self.head.len() - self.start
    }

    /// Writes the neighbours of slot p (an atom of the gathered home bin) to the front of `out`
    /// (which must hold [`len`](Self::len) entries) and returns how many there are.
    /// Writes the entries of the atoms of home bins `bins`.
    fn write_all<const HALF: bool>(
        &mut self,
        grid: &CellGrid,
        bins: std::ops::Range<usize>,
        rc2: f64,
        out: &mut Placement,
    ) {
        for home in bins {
            if HALF {
                self.gather(grid, home, true);
            } else {
                self.slide(grid, home);
            }
            for p in grid.bin_start[home]..grid.bin_start[home + 1] {
                let room = self.len();
                out.place(grid.original[p], room, |o| {
                    self.write_neighbors::<HALF>(grid, p, rc2, o)
                });
            }
        }
    }

    fn write_neighbors<const HALF: bool>(
        &mut self,
        grid: &CellGrid,
        p: usize,
        rc2: f64,
        out: &mut [MaybeUninit<Neighbor>],
    ) -> usize {
        let oi = grid.offset[p].map(|o| o as u32);
        let mut m = 0;
        assert!(out.len() >= self.len());
        self.within::<HALF>(grid, p, rc2, |e, d2| {
            // SAFETY: there are at most as many neighbours as candidates (asserted above).
            unsafe { out.get_unchecked_mut(m) }.write(Neighbor {
                index: e[0],
                image: [
                    e[1].wrapping_add(oi[0]) as i32,
                    e[2].wrapping_add(oi[1]) as i32,
                    e[3].wrapping_add(oi[2]) as i32,
                ],
                distance: d2.sqrt(),
            });
            m += 1;
        });
        m
    }

    /// Calls `f(head, d2)` for every candidate of slot p (an atom of the gathered home bin) within
    /// `rc2`, itself left out: `head` holds the candidate's original index and its image less p's
    /// wrapping offset. With `HALF`, only the candidates after p (see [`gather`](Self::gather)).
    #[inline(always)]
    pub(crate) fn within<const HALF: bool>(
        &mut self,
        grid: &CellGrid,
        p: usize,
        rc2: f64,
        mut f: impl FnMut([u32; 4], f64),
    ) {
        let itself = self.home + (p - self.home_slot);
        let first = if HALF { itself + 1 } else { 0 };
        let n = self.len() - first;
        let from = self.start + first;
        // A full list's candidates include p itself: an infinite coordinate keeps it out, which
        // spares the loop below a test per neighbour.
        let own = from + itself;
        let kept = if HALF {
            0.0
        } else {
            std::mem::replace(&mut self.x[0][own], f64::INFINITY)
        };
        let x = [&self.x[0][from..], &self.x[1][from..], &self.x[2][from..]];
        let origin = [grid.axes[0][p], grid.axes[1][p], grid.axes[2][p]];
        let h = squared_distances_within(x, origin, Translated, rc2, &mut self.d2[..n], &mut self.hits[..n]);
        if !HALF {
            self.x[0][own] = kept;
        }
        let (head, d2) = (&self.head[from..from + n], &self.d2[..n]);
        for &k in &self.hits[..h] {
            let k = k as usize;
            debug_assert!(k < n);
            // SAFETY: the distance pass keeps indices below n only.
            unsafe { f(*head.get_unchecked(k), *d2.get_unchecked(k)) };
        }
    }
}

/// Writes the atoms of `slots`, translated by `shift` (`shift_cart` in Å), as candidates to `x` (by
/// axis) and `head`, eight coordinates (four heads) at a time; the last vector of the run is stored
/// whole, running past its end.
///
/// Inlined only into functions compiled for AVX-512F (its intrinsics are inlined with it there).
///
/// # Safety
/// The CPU has AVX-512F, and `x` and `head` point to room for the run plus eight coordinates and
/// four heads.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_translated_avx512(
    x: [*mut f64; 3],
    head: *mut [u32; 4],
    grid: &CellGrid,
    slots: std::ops::Range<usize>,
    shift: [i32; 3],
    shift_cart: Vector3<f64>,
) {
    use std::arch::x86_64::*;
    let mask = |left: usize, lanes: usize| {
        if left >= lanes {
            u32::MAX
        } else {
            (1u32 << left) - 1
        }
    };
    let m = slots.len();
    let readable = grid.axes[0].len() - slots.start;
    for k in 0..3 {
        // From the whole array: full vectors read on into the next bins.
        let src = grid.axes[k][slots.start..].as_ptr();
        let out = x[k];
        // SAFETY (here and below): the caller runs with AVX-512F.
        let t = unsafe { _mm512_set1_pd(shift_cart[k]) };
        for i in (0..m).step_by(8) {
            // SAFETY: full vectors are read only within the array (masked ones read lanes below
            // m only), and the caller's capacity covers the lanes written past the run.
            unsafe {
                let v = if i + 8 <= readable {
                    _mm512_loadu_pd(src.add(i))
                } else {
                    _mm512_maskz_loadu_pd(mask(m - i, 8) as __mmask8, src.add(i))
                };
                _mm512_storeu_pd(out.add(i), _mm512_add_pd(v, t));
            }
        }
    }
    let src = grid.index_and_image[slots.start..].as_ptr().cast::<i32>();
    let out = head.cast::<i32>();
    let t = unsafe { _mm512_broadcast_i32x4(_mm_setr_epi32(0, shift[0], shift[1], shift[2])) };
    for i in (0..4 * m).step_by(16) {
        // SAFETY: as above, four u32 per head.
        unsafe {
            let v = if i + 16 <= 4 * readable {
                _mm512_loadu_si512(src.add(i).cast())
            } else {
                _mm512_maskz_loadu_epi32(mask(4 * m - i, 16) as __mmask16, src.add(i))
            };
            _mm512_storeu_si512(out.add(i).cast(), _mm512_add_epi32(v, t));
        }
    }
}

/// Neighbours of every atom within a cutoff. Built in O(N) with a cell list, in parallel; the result
/// does not depend on the thread count. Entries are 24 bytes (index, image, distance); the Cartesian
/// vector is available from [`vector`](Self::vector).
#[derive(Clone)]
pub struct NeighborList {
    cutoff: f64,
    pair_set: PairSet,
    lattice: Lattice,
    positions: Vec<Vector3<f64>>,
    /// Entries of every work unit in one allocation, each unit in its own region sized from an
    /// estimate. Invariant: every range named by `location` below `entries.len()` is initialised;
    /// the rest of a region (its unused tail) is not.
    entries: Vec<MaybeUninit<Neighbor>>,
    /// Entries of atoms whose unit outgrew its region, addressed from `entries.len()` on.
    overflow: Vec<Neighbor>,
    /// Per atom: (start, count).
    location: Vec<(usize, u32)>,
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
        let rc2 = grid.cutoff2();
        let sphere = 4.0 / 3.0 * std::f64::consts::PI * cutoff.powi(3);
        let per_atom = positions.len() as f64 / lattice.volume() * sphere * if half { 0.5 } else { 1.0 };
        let expected = (1.15 * per_atom).ceil().min(1e6) as usize;
        // One allocation for the whole list rather than one per work unit: besides saving the
        // copy, a single block is what glibc keeps and hands back on the next build of the same
        // size (below 32 MB), where megabyte-sized blocks go back to the kernel on every free, and
        // faulting fresh pages in took a third of a build.
        let chunks = grid.chunks();
        let capacity: Vec<usize> = chunks
            .iter()
            .map(|b| (grid.bin_start[b.end] - grid.bin_start[b.start]).saturating_mul(expected) + 256)
            .collect();
        let total = capacity.iter().try_fold(0usize, |acc, &c| acc.checked_add(c));
        let mut entries: Vec<MaybeUninit<Neighbor>> = Vec::new();
        if total.is_none_or(|t| entries.try_reserve_exact(t).is_err()) {
            return Err(Error::InvalidArgument(format!(
                "a {cutoff} Å neighbour list of {} atoms would need about {:.0} GB",
                positions.len(),
                positions.len() as f64 * per_atom * size_of::<Neighbor>() as f64 / 1e9
            )));
        }
        let total = total.unwrap_or(0);
        // SAFETY: the capacity was reserved just above, and `MaybeUninit` needs no initialisation.
        unsafe { entries.set_len(total) };
        let mut regions = Vec::with_capacity(chunks.len());
        let mut rest = entries.as_mut_slice();
        let mut base = 0;
        for &c in &capacity {
            let (region, tail) = rest.split_at_mut(c);
            regions.push((base, region));
            rest = tail;
            base += c;
        }
        // Each unit writes where its atoms' entries start and how many there are; those that went
        // to its overflow are placed after the list's end below.
        let mut location: Vec<(usize, u32)> = Vec::with_capacity(positions.len());
        let located = Located(location.as_mut_ptr());
        type Unit = (Vec<Neighbor>, Vec<(u32, usize, u32)>);
        let units: Vec<Unit> = chunks
            .into_par_iter()
            .with_max_len(1)
            .zip(regions)
            .map(|(bins, (base, region))| {
                let mut out = Placement {
                    base,
                    region,
                    used: 0,
                    overflow: Vec::new(),
                    scratch: Vec::new(),
                    spilled: Vec::new(),
                    located: &located,
                };
                let mut near = Neighbourhood::for_grid(&grid);
                if half {
                    near.write_all::<true>(&grid, bins, rc2, &mut out);
                } else {
                    near.write_all::<false>(&grid, bins, rc2, &mut out);
                }
                (out.overflow, out.spilled)
            })
            .collect();
        // SAFETY: every atom is in one work unit, which set its location (the start of those it
        // spilled is set just below).
        unsafe { location.set_len(positions.len()) };
        let mut overflow = Vec::new();
        for (entries, spilled) in units {
            for (atom, start, n) in spilled {
                location[atom as usize] = (total + overflow.len() + start, n);
            }
            overflow.extend_from_slice(&entries);
        }
        Ok(NeighborList {
            cutoff,
            pair_set: pairs,
            lattice: lattice.clone(),
            positions: positions.to_vec(),
            entries,
            overflow,
            location,
        })
    }

    /// The cutoff, Å.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// Which pairs the list holds.
    pub fn pair_set(&self) -> PairSet {
        self.pair_set
    }

    /// Number of atoms.
    pub fn natoms(&self) -> usize {
        self.location.len()
    }

    /// Total number of stored neighbour entries.
    pub fn num_entries(&self) -> usize {
        self.location.iter().map(|&(_, n)| n as usize).sum()
    }

    /// Neighbours of atom `i` (in a half list, only the pairs stored under i).
    pub fn neighbors(&self, i: usize) -> &[Neighbor] {
        let (start, count) = self.location[i];
        let end = start + count as usize;
        match start.checked_sub(self.entries.len()) {
            Some(s) => &self.overflow[s..s + count as usize],
            None => {
                let init = &self.entries[start..end];
                // SAFETY: `build` initialised every entry of a range that `location` names below
                // `entries.len()`, and `MaybeUninit<T>` has the layout of T.
                unsafe { &*(std::ptr::from_ref(init) as *const [Neighbor]) }
            }
        }
    }

    /// Cartesian vector from atom `i` to its neighbour `n`, Å: `r_j + image·(a, b, c) − r_i`.
    pub fn vector(&self, i: usize, n: &Neighbor) -> Vector3<f64> {
        let img = Vector3::new(n.image[0] as f64, n.image[1] as f64, n.image[2] as f64);
        (self.positions[n.index as usize] - self.positions[i]) + self.lattice.to_cartesian(&img)
    }

    /// Every stored entry as `(i, neighbour)`, by atom index.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Neighbor)> + '_ {
        (0..self.natoms()).flat_map(move |i| self.neighbors(i).iter().map(move |n| (i, n)))
    }
}

/// Lists compare by their settings, cell, positions and each atom's neighbours in order (not by how
/// the entries are laid out in memory).
impl PartialEq for NeighborList {
    fn eq(&self, other: &Self) -> bool {
        self.cutoff == other.cutoff
            && self.pair_set == other.pair_set
            && self.lattice == other.lattice
            && self.positions == other.positions
            && self.natoms() == other.natoms()
            && (0..self.natoms()).all(|i| self.neighbors(i) == other.neighbors(i))
    }
}

impl std::fmt::Debug for NeighborList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeighborList")
            .field("cutoff", &self.cutoff)
            .field("pair_set", &self.pair_set)
            .field("natoms", &self.natoms())
            .field("num_entries", &self.num_entries())
            .finish_non_exhaustive()
    }
}

/// Where one work unit puts its entries: its region of the list, while there is room, then its
/// overflow.
struct Placement<'a> {
    /// Index of the region's first entry in the list.
    base: usize,
    region: &'a mut [MaybeUninit<Neighbor>],
    used: usize,
    overflow: Vec<Neighbor>,
    scratch: Vec<Neighbor>,
    /// Atoms whose entries went to the overflow: (atom, start in the overflow, count).
    spilled: Vec<(u32, usize, u32)>,
    located: &'a Located,
}

/// Each atom's (start, count) in the list, written by the work units concurrently (each atom by
/// the one unit that holds it).
struct Located(*mut (usize, u32));

// SAFETY: every atom belongs to exactly one work unit, so no two threads write the same element.
unsafe impl Sync for Located {}

impl Located {
    /// # Safety
    /// `atom` is below the list's number of atoms, and only its unit writes it.
    unsafe fn set(&self, atom: u32, start: usize, count: usize) {
        // SAFETY: the caller's contract.
        unsafe { *self.0.add(atom as usize) = (start, count as u32) };
    }
}

impl Placement<'_> {
    /// Places the entries of `atom`, which `write` writes (at most `room` of them) to the front of the
    /// slice it is given and counts.
    fn place(&mut self, atom: u32, room: usize, write: impl FnOnce(&mut [MaybeUninit<Neighbor>]) -> usize) {
        let free = self.region.len() - self.used;
        if room <= free {
            let n = write(&mut self.region[self.used..self.used + room]);
            // SAFETY: `atom` is an atom of this unit.
            unsafe { self.located.set(atom, self.base + self.used, n) };
            self.used += n;
            return;
        }
        // Near the end of the region: collect first, then place.
        self.scratch.clear();
        self.scratch.reserve(room);
        let n = write(&mut self.scratch.spare_capacity_mut()[..room]);
        // SAFETY: `write` initialised the first n entries of the spare capacity.
        unsafe { self.scratch.set_len(n) };
        if n <= free {
            for (slot, e) in self.region[self.used..self.used + n]
                .iter_mut()
                .zip(&self.scratch)
            {
                slot.write(*e);
            }
            // SAFETY: as above.
            unsafe { self.located.set(atom, self.base + self.used, n) };
            self.used += n;
        } else {
            // SAFETY: as above; the start is set once the overflows are joined.
            unsafe { self.located.set(atom, 0, n) };
            self.spilled.push((atom, self.overflow.len(), n as u32));
            self.overflow.extend_from_slice(&self.scratch);
        }
    }
}

/// A half neighbour list with a skin, for molecular dynamics: pairs within `cutoff + skin` are stored
/// and reused until some atom has moved more than `skin / 2` since the last build, or the cell changed.
///
/// Storage is built for force loops. Atoms are kept in *slots*, sorted by cell-list bin so that
/// neighbours sit close in memory; slot `p` holds atom [`atom_of_slot`](Self::atom_of_slot)`[p]`.
/// The pairs of slot `p` are [`row`](Self::row)`(p)`: neighbour slots `q ≥ p` (4 bytes each) and an
/// index into [`shifts`](Self::shifts) (2 bytes). With slot coordinates from
/// [`slot_positions`](Self::slot_positions), the vector from p to q is `x[q] − x[p] + shifts[s]`.
///
/// The caller must not wrap positions between builds (or must call [`invalidate`](Self::invalidate)
/// after doing so).
#[derive(Debug, Clone)]
pub struct VerletList {
    cutoff: f64,
    skin: f64,
    policy: RebuildPolicy,
    /// Updates since the last build.
    updates: u32,
    /// Atom index of each slot.
    atom_of_slot: Vec<u32>,
    /// Cartesian translation that maps an atom's position onto its slot coordinate (wrapping at the
    /// last build).
    wrap: Vec<Vector3<f64>>,
    /// Pairs of slot p: `row_start[p]..row_start[p + 1]`.
    row_start: Vec<u32>,
    neighbor_slot: Vec<u32>,
    shift_index: Vec<u16>,
    shifts: Vec<Vector3<f64>>,
    reference: Vec<Vector3<f64>>,
    lattice: Option<Lattice>,
    builds: usize,
    /// Buffers reused from build to build (fresh allocations of this size cost page faults).
    scratch: Scratch,
}

/// When a [`VerletList`] is rebuilt, as LAMMPS's `neigh_modify every N delay 0 check yes|no`.
///
/// The default (every update, checked) is always exact: the list is rebuilt as soon as an atom has
/// moved more than half the skin since the last build. `check: false` rebuilds every `every`
/// updates whatever happened — what LAMMPS's `in.melt` benchmark does — which is faster but misses
/// pairs if an atom moves more than half the skin in between; use it only where that is known not
/// to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildPolicy {
    /// Consider rebuilding only at every `every`-th update (≥ 1).
    pub every: u32,
    /// Rebuild only when an atom has moved more than half the skin (otherwise: always).
    pub check: bool,
}

impl Default for RebuildPolicy {
    fn default() -> Self {
        RebuildPolicy {
            every: 1,
            check: true,
        }
    }
}

/// Reusable buffers of a [`VerletList`] build.
#[derive(Debug, Clone, Default)]
struct Scratch {
    /// Per parallel chunk of bins.
    chunks: Vec<ChunkPairs>,
    /// The cell list, refilled at each build.
    grid: Option<CellGrid>,
}

/// The pairs found by one chunk of bins: `slots`/`ids` hold `len` kept entries, `counts` one count
/// per slot of the chunk; `scan` holds the distance tests' scratch.
#[derive(Debug, Clone, Default)]
struct ChunkPairs {
    slots: Vec<u32>,
    ids: Vec<u16>,
    counts: Vec<u32>,
    scan: PairScan,
    len: usize,
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
            policy: RebuildPolicy::default(),
            updates: 0,
            atom_of_slot: Vec::new(),
            wrap: Vec::new(),
            row_start: vec![0],
            neighbor_slot: Vec::new(),
            shift_index: Vec::new(),
            shifts: Vec::new(),
            reference: Vec::new(),
            lattice: None,
            builds: 0,
            scratch: Scratch::default(),
        })
    }

    /// The list with another rebuild policy (`every` ≥ 1).
    pub fn with_policy(mut self, policy: RebuildPolicy) -> Result<Self> {
        if policy.every == 0 {
            return Err(Error::InvalidArgument("rebuild every 0 updates".into()));
        }
        self.policy = policy;
        Ok(self)
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
        self.updates = self.updates.saturating_add(1);
        if !self.needs_rebuild(lattice, positions) {
            return Ok(false);
        }
        self.updates = 0;
        if positions.len() >= u32::MAX as usize {
            return Err(Error::InvalidArgument("more than 2³² − 1 atoms".into()));
        }
        let reach = self.cutoff + self.skin;
        let Scratch { chunks, grid } = &mut self.scratch;
        let grid = match grid {
            Some(g) => {
                g.fill(lattice, positions, reach)?;
                g
            }
            None => grid.insert(CellGrid::new(lattice, positions, reach)?),
        };
        let rc2 = grid.cutoff2();
        // Lattice translations reachable from any bin, numbered densely.
        let m = grid.max_translation();
        let side = m.map(|x| 2 * x as usize + 1);
        if side[0] * side[1] * side[2] > usize::from(u16::MAX) {
            return Err(Error::InvalidArgument(format!(
                "cutoff {} Å spans too many periodic images of this cell",
                self.cutoff + self.skin
            )));
        }
        let shift_id = |t: [i32; 3]| {
            (((t[0] + m[0]) as usize * side[1] + (t[1] + m[1]) as usize) * side[2] + (t[2] + m[2]) as usize)
                as u16
        };
        self.shifts.clear();
        for t0 in -m[0]..=m[0] {
            for t1 in -m[1]..=m[1] {
                for t2 in -m[2]..=m[2] {
                    let t = Vector3::new(t0 as f64, t1 as f64, t2 as f64);
                    self.shifts.push(lattice.to_cartesian(&t));
                }
            }
        }
        let bins = grid.par_chunks();
        chunks.resize_with(bins.len(), ChunkPairs::default);
        chunks.par_iter_mut().zip(bins).for_each(|(buf, bins)| {
            // `len` marks the kept prefix of `slots`/`ids`.
            let ChunkPairs {
                slots,
                ids,
                counts,
                scan,
                len,
            } = buf;
            counts.clear();
            *len = 0;
            grid.visit_runs(bins, true, |p, runs| {
                let room: usize = runs.iter().map(|c| c.slots.len()).sum();
                if slots.len() < *len + room {
                    let size = (*len + room).max(2 * slots.len());
                    slots.resize(size, 0);
                    ids.resize(size, 0);
                }
                let first = *len;
                for c in runs {
                    let id = shift_id(c.shift);
                    scan.within(grid, p, c, rc2, |q, _| {
                        slots[*len] = q as u32;
                        ids[*len] = id;
                        *len += 1;
                    });
                }
                counts.push((*len - first) as u32);
            });
        });
        // Concatenate the chunks' pairs in parallel, each into its own part of the list.
        let total: usize = chunks.iter().map(|c| c.len).sum();
        if total > u32::MAX as usize {
            return Err(Error::InvalidArgument("more than 2³² neighbour pairs".into()));
        }
        self.neighbor_slot.resize(total, 0);
        self.shift_index.resize(total, 0);
        let mut parts = Vec::with_capacity(chunks.len());
        let (mut rest_slots, mut rest_ids) = (&mut self.neighbor_slot[..], &mut self.shift_index[..]);
        for c in chunks.iter() {
            let (a, b) = std::mem::take(&mut rest_slots).split_at_mut(c.len);
            let (x, y) = std::mem::take(&mut rest_ids).split_at_mut(c.len);
            parts.push((c, a, x));
            rest_slots = b;
            rest_ids = y;
        }
        parts.into_par_iter().for_each(|(c, a, x)| {
            a.copy_from_slice(&c.slots[..c.len]);
            x.copy_from_slice(&c.ids[..c.len]);
        });
        self.row_start.clear();
        self.row_start.push(0);
        let mut at = 0u32;
        for c in chunks.iter() {
            for &n in &c.counts {
                at += n;
                self.row_start.push(at);
            }
        }
        self.atom_of_slot.clone_from(&grid.original);
        self.wrap.clear();
        self.wrap.extend(
            grid.offset
                .iter()
                .map(|o| -lattice.to_cartesian(&Vector3::new(o[0] as f64, o[1] as f64, o[2] as f64))),
        );
        self.reference.clear();
        self.reference.extend_from_slice(positions);
        self.lattice = Some(lattice.clone());
        self.builds += 1;
        Ok(true)
    }

    fn needs_rebuild(&self, lattice: &Lattice, positions: &[Vector3<f64>]) -> bool {
        match &self.lattice {
            Some(l) if l == lattice && positions.len() == self.reference.len() => {
                if !self.updates.is_multiple_of(self.policy.every) {
                    return false;
                }
                if !self.policy.check {
                    return true;
                }
                let limit2 = 0.25 * self.skin * self.skin;
                positions
                    .iter()
                    .zip(&self.reference)
                    .any(|(p, r)| (p - r).norm_squared() > limit2)
            }
            _ => true,
        }
    }

    /// Atom index of every slot (a permutation of the atoms).
    pub fn atom_of_slot(&self) -> &[u32] {
        &self.atom_of_slot
    }

    /// Slot coordinates of `positions` (the positions the list was last updated with, or later
    /// ones of the same atoms): `out[p]` is the position of atom `atom_of_slot[p]`, translated into the
    /// cell as at the last build.
    pub fn slot_positions(&self, positions: &[Vector3<f64>], out: &mut Vec<Vector3<f64>>) {
        let slot = |(o, (&i, w)): (&mut Vector3<f64>, (&u32, &Vector3<f64>))| *o = positions[i as usize] + w;
        out.resize(self.atom_of_slot.len(), Vector3::zeros());
        // In parallel for large lists: the threads of the force loop then read slot coordinates
        // that their own cores wrote, rather than pulling them all from one core's cache.
        if out.len() >= PARALLEL_SLOTS {
            out.par_chunks_mut(PARALLEL_SLOTS / 4)
                .zip(
                    self.atom_of_slot
                        .par_chunks(PARALLEL_SLOTS / 4)
                        .zip(self.wrap.par_chunks(PARALLEL_SLOTS / 4)),
                )
                .for_each(|(o, (a, w))| o.iter_mut().zip(a.iter().zip(w)).for_each(slot));
        } else {
            out.iter_mut()
                .zip(self.atom_of_slot.iter().zip(&self.wrap))
                .for_each(slot);
        }
    }

    /// The pairs of slot `p`: neighbour slots (all ≥ p) and their indices into
    /// [`shifts`](Self::shifts).
    pub fn row(&self, p: usize) -> (&[u32], &[u16]) {
        let r = self.row_start[p] as usize..self.row_start[p + 1] as usize;
        (&self.neighbor_slot[r.clone()], &self.shift_index[r])
    }

    /// Start of every slot's row in the pair arrays (length slots + 1): for splitting work.
    pub fn row_starts(&self) -> &[u32] {
        &self.row_start
    }

    /// Cartesian lattice translations, Å, indexed by the shift indices of [`row`](Self::row).
    pub fn shifts(&self) -> &[Vector3<f64>] {
        &self.shifts
    }

    /// Stored pairs as `(i, j, shift)` in atom indices: the vector from i to j is
    /// `r_j − r_i + shift` for the positions as given. Includes pairs up to `cutoff + skin`; the
    /// caller checks the actual distance against the cutoff.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize, Vector3<f64>)> + '_ {
        (0..self.atom_of_slot.len()).flat_map(move |p| {
            let (qs, ids) = self.row(p);
            qs.iter().zip(ids).map(move |(&q, &s)| {
                let q = q as usize;
                (
                    self.atom_of_slot[p] as usize,
                    self.atom_of_slot[q] as usize,
                    self.wrap[q] - self.wrap[p] + self.shifts[usize::from(s)],
                )
            })
        })
    }

    /// Number of stored pairs.
    pub fn len(&self) -> usize {
        self.neighbor_slot.len()
    }

    /// True when no pair is stored.
    pub fn is_empty(&self) -> bool {
        self.neighbor_slot.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_scans_agree_bit_for_bit_on_every_path() {
        // Points at, just inside and just outside the limit (d² = x² = 6.25 at x = 2.5), NaN and
        // infinities, then arbitrary points under a shift, in every run length up to 19 (the vector
        // path's tail included), alone and followed by points within the limit that must not be
        // taken (the vector path reads them for its last group).
        let rc2 = 6.25;
        let pool = [
            0.0,
            2.5,
            -2.5,
            2.5f64.next_up(),
            2.5f64.next_down(),
            f64::NAN,
            f64::INFINITY,
            1.0,
        ];
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 11
        };
        for (arbitrary, padding) in [(false, 0), (true, 0), (false, 3), (true, 3)] {
            for n in 0..20 {
                let mut axes = [
                    vec![0.0; n + padding],
                    vec![0.0; n + padding],
                    vec![0.0; n + padding],
                ];
                let (mut origin, mut shift) = ([0.0; 3], [0.0; 3]);
                for j in 0..n {
                    if arbitrary {
                        for axis in &mut axes {
                            axis[j] = (next() % 10_000) as f64 * 1e-3;
                        }
                    } else {
                        axes[0][j] = pool[(next() % 8) as usize];
                    }
                }
                if arbitrary {
                    origin = [4.1, 3.9, 5.2];
                    shift = [-1.3, 0.7, 2.9];
                }
                for (k, axis) in axes.iter_mut().enumerate() {
                    axis[n..].fill(origin[k] - shift[k]);
                }
                let x = [&axes[0][..], &axes[1][..], &axes[2][..]];
                // The scalar pass, fused and not, is the reference of the paths that are.
                let scalar = |fused: bool| {
                    let (mut d2, mut hits) = (vec![f64::NAN; n], vec![u32::MAX; n]);
                    let h = if fused {
                        squared_distances_within_scalar::<true>(
                            x, origin, shift, rc2, &mut d2, &mut hits, 0, 0,
                        )
                    } else {
                        squared_distances_within_scalar::<false>(
                            x, origin, shift, rc2, &mut d2, &mut hits, 0, 0,
                        )
                    };
                    let expected: Vec<u32> = (0..n as u32).filter(|&k| d2[k as usize] <= rc2).collect();
                    assert_eq!(hits[..h], expected[..]);
                    (d2, expected)
                };
                let reference = [scalar(false), scalar(true)];
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                for (path, fused, d2_any, hits_any) in every_path(x, origin, shift, rc2, n) {
                    let (d2, expected) = &reference[usize::from(fused)];
                    assert_eq!(&hits_any, expected, "{path}");
                    assert_eq!(bits(&d2_any), bits(d2), "{path}");
                }
                // The points stored translated (as a gathered neighbourhood does).
                let moved = [0, 1, 2].map(|k| axes[k].iter().map(|&v| v + shift[k]).collect::<Vec<_>>());
                let moved = [&moved[0][..], &moved[1][..], &moved[2][..]];
                for (path, fused, d2_any, hits_any) in every_path(moved, origin, Translated, rc2, n) {
                    let (d2, expected) = &reference[usize::from(fused)];
                    assert_eq!(&hits_any, expected, "{path}, translated");
                    assert_eq!(bits(&d2_any), bits(d2), "{path}, translated");
                }
            }
        }
    }

    #[test]
    fn binning_eight_at_a_time_gives_the_bits_of_one_at_a_time() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            let l = Lattice::from_parameters(7.3, 8.1, 9.7, 81.0, 97.0, 104.0).unwrap();
            let binner = Binner::new(&l, [3, 4, 5]);
            let at = |f: [f64; 3]| l.to_cartesian(&Vector3::from(f));
            // Zeros of both signs, lattice points, a hair below one (wraps to the next cell),
            // negative and far images, then arbitrary points.
            let mut pos = vec![
                Vector3::zeros(),
                Vector3::new(-0.0, -0.0, -0.0),
                at([1.0, 2.0, -3.0]),
                at([-1e-17, 0.3, 0.5]),
                at([0.999_999_999_999_999_9, -0.25, 0.75]),
                at([-7.5, 12.25, -0.001]),
                at([1e8, -1e8, 3.0]),
                at([0.5, 0.5, 0.5]),
            ];
            let mut state = 11u64;
            for _ in 0..56 {
                let mut next = || {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 11) as f64 / (1u64 << 53) as f64 * 60.0 - 30.0
                };
                pos.push(Vector3::new(next(), next(), next()));
            }
            let bits = |b: &Binned| (b.0, b.1.map(f64::to_bits), b.2);
            for chunk in pos.chunks(8) {
                // SAFETY: the CPU has AVX-512F.
                let eight = unsafe { binner.eight(chunk) }.unwrap();
                for (p, got) in chunk.iter().zip(&eight) {
                    assert_eq!(bits(got), bits(&binner.one(p).unwrap()), "{p:?}");
                }
            }
            let mut bad = pos[..8].to_vec();
            bad[5].y = f64::NAN;
            // SAFETY: as above.
            assert!(unsafe { binner.eight(&bad) }.is_none());
        }
    }

    /// The squared distances and kept indices of the first n points from the dispatching pass and
    /// from each vector kernel this CPU can run, and whether each fuses its multiply-adds.
    fn every_path(
        x: [&[f64]; 3],
        origin: [f64; 3],
        shift: impl Translation,
        rc2: f64,
        n: usize,
    ) -> Vec<(&'static str, bool, Vec<f64>, Vec<u32>)> {
        let mut out = Vec::new();
        let mut run = |path, fused, f: &dyn Fn(&mut [f64], &mut [u32]) -> usize| {
            let (mut d2, mut hits) = (vec![f64::NAN; n], vec![u32::MAX; n]);
            let h = f(&mut d2, &mut hits);
            hits.truncate(h);
            out.push((path, fused, d2, hits));
        };
        #[cfg(target_arch = "x86_64")]
        let vector = {
            use std::arch::is_x86_feature_detected as has;
            has!("avx2") && has!("popcnt") && has!("fma")
        };
        #[cfg(not(target_arch = "x86_64"))]
        let vector = false;
        run("dispatch", vector || FUSED_SCALAR, &|d2, hits| {
            squared_distances_within(x, origin, shift, rc2, d2, hits)
        });
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("popcnt") && has!("fma") {
                // SAFETY: the CPU has AVX2, POPCNT and FMA.
                run("avx2", true, &|d2, hits| unsafe {
                    squared_distances_within_avx2(x, origin, shift, rc2, d2, hits)
                });
            }
            if has!("avx512f") && has!("avx512vl") && has!("popcnt") && has!("fma") {
                // SAFETY: the CPU has AVX-512F, AVX-512VL, POPCNT and FMA.
                run("avx512", true, &|d2, hits| unsafe {
                    squared_distances_within_avx512(x, origin, shift, rc2, d2, hits)
                });
            }
        }
        out
    }

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

    /// Builds the full and the half list and checks them against [`brute_force`].
    fn full_list_matching_brute_force(l: &Lattice, pos: &[Vector3<f64>], rc: f64) -> NeighborList {
        let nl = NeighborList::build(l, pos, rc, PairSet::Full).unwrap();
        for (i, want) in brute_force(l, pos, rc).iter().enumerate() {
            let mut got: Vec<_> = nl
                .neighbors(i)
                .iter()
                .map(|n| (n.index as usize, n.image, n.distance))
                .collect();
            got.sort_by_key(|a| (a.0, a.1));
            assert_eq!(got.len(), want.len(), "atom {i}");
            for (g, w) in got.iter().zip(want) {
                assert_eq!((g.0, g.1), (w.0, w.1));
                assert!((g.2 - w.2).abs() < 1e-12);
            }
        }
        // The half list holds each unordered pair once (never also its reverse, never twice),
        // with the full list's entry, to the bit.
        let half = NeighborList::build(l, pos, rc, PairSet::Half).unwrap();
        assert_eq!(2 * half.num_entries(), nl.num_entries());
        let full: std::collections::HashMap<_, _> = nl
            .iter()
            .map(|(i, n)| ((i, n.index, n.image), n.distance.to_bits()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for (i, n) in half.iter() {
            assert_eq!(full.get(&(i, n.index, n.image)), Some(&n.distance.to_bits()));
            assert!(seen.insert((i, n.index as usize, n.image)), "pair listed twice");
        }
        for &(i, j, image) in &seen {
            assert!(
                !seen.contains(&(j, i, image.map(|v| -v))),
                "pair listed in both orders"
            );
        }
        nl
    }

    /// `n` points spread over a cube of side `edge` at the origin.
    fn scattered(n: usize, edge: f64) -> Vec<Vector3<f64>> {
        (0..n)
            .map(|k| Vector3::new(k as f64 * 0.37, k as f64 * 0.61, k as f64 * 0.83).map(|x| x % edge))
            .collect()
    }

    #[test]
    fn unusable_position_is_named_on_the_serial_and_the_parallel_path() {
        let l = Lattice::cubic(40.0).unwrap();
        for natoms in [100, 2 * PARALLEL_SLOTS] {
            let mut pos = scattered(natoms, 40.0);
            pos[natoms - 7].y = f64::NAN;
            pos[natoms - 3].x = f64::INFINITY;
            let err = NeighborList::build(&l, &pos, 3.0, PairSet::Full)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("atom {} ", natoms - 7)), "{err}");
        }
    }

    #[test]
    fn tiny_cell_with_long_cutoff_finds_all_images() {
        let l = Lattice::from_parameters(2.5, 3.0, 2.8, 75.0, 100.0, 62.0).unwrap();
        let pos = vec![Vector3::new(0.1, 0.2, 0.3), Vector3::new(1.4, -0.7, 2.2)];
        full_list_matching_brute_force(&l, &pos, 6.0);
    }

    #[test]
    fn a_dense_cluster_outgrows_the_estimate_and_every_pair_is_still_listed() {
        // 300 atoms in a 6 Å corner of a 30 Å cell: the estimate from the mean density is ~2
        // neighbours per atom, the truth is ~100, so entries go to the overflow.
        let l = Lattice::cubic(30.0).unwrap();
        let pos = scattered(300, 6.0);
        let nl = full_list_matching_brute_force(&l, &pos, 4.0);
        assert!(!nl.overflow.is_empty());
        assert_eq!(nl.clone(), nl);
    }

    #[test]
    fn verlet_pairs_are_the_half_of_brute_force_for_unwrapped_positions() {
        let l = Lattice::from_parameters(7.0, 8.0, 7.5, 80.0, 95.0, 110.0).unwrap();
        let frac = |k: usize, m: u64| ((k as u64 * m) % 1000) as f64 / 1000.0;
        // Some atoms outside the cell, as in a running simulation.
        let pos: Vec<_> = (0..40)
            .map(|k| {
                l.to_cartesian(&Vector3::new(
                    3.0 * frac(k, 7919) - 1.0,
                    2.0 * frac(k, 104729) - 0.5,
                    1.5 * frac(k, 1299709),
                ))
            })
            .collect();
        let (rc, skin) = (5.0, 1.0);
        let mut v = VerletList::new(rc, skin).unwrap();
        assert!(v.update(&l, &pos).unwrap());
        let mut got = Vec::new();
        for (i, j, shift) in v.pairs() {
            let f = l.to_fractional(&shift);
            let img = [f.x.round() as i32, f.y.round() as i32, f.z.round() as i32];
            assert!(
                (l.to_cartesian(&Vector3::new(img[0] as f64, img[1] as f64, img[2] as f64)) - shift).norm()
                    < 1e-9
            );
            got.push((i, j, img));
            got.push((j, i, img.map(|x| -x)));
        }
        got.sort();
        let mut want: Vec<_> = brute_force(&l, &pos, rc + skin)
            .into_iter()
            .enumerate()
            .flat_map(|(i, row)| row.into_iter().map(move |(j, img, _)| (i, j, img)))
            .collect();
        want.sort();
        assert_eq!(got, want);
        // Slot coordinates reproduce the pair vectors.
        let mut x = Vec::new();
        v.slot_positions(&pos, &mut x);
        for p in 0..x.len() {
            let (qs, ids) = v.row(p);
            for (&q, &s) in qs.iter().zip(ids) {
                let d = x[q as usize] - x[p] + v.shifts()[s as usize];
                assert!(d.norm() <= rc + skin + 1e-12);
                assert!(q as usize >= p);
            }
        }
    }

    #[test]
    fn a_reused_verlet_list_equals_a_fresh_one_after_the_system_changes() {
        // The list refills its cell grid in place: a bigger system, then a smaller one in another
        // cell, must give exactly what a new list gives.
        let frac = |k: usize, m: u64| ((k as u64 * m) % 997) as f64 / 997.0;
        let cloud = |l: &Lattice, n: usize| -> Vec<Vector3<f64>> {
            (0..n)
                .map(|k| l.to_cartesian(&Vector3::new(frac(k, 7919), frac(k, 104729), frac(k, 1299709))))
                .collect()
        };
        let a = Lattice::cubic(12.0).unwrap();
        let b = Lattice::from_parameters(7.0, 8.0, 7.5, 80.0, 95.0, 110.0).unwrap();
        let mut reused = VerletList::new(3.0, 0.5).unwrap();
        for (l, n) in [(&a, 150), (&b, 40), (&a, 90)] {
            let pos = cloud(l, n);
            assert!(reused.update(l, &pos).unwrap());
            let mut fresh = VerletList::new(3.0, 0.5).unwrap();
            fresh.update(l, &pos).unwrap();
            assert_eq!(reused.atom_of_slot(), fresh.atom_of_slot());
            assert_eq!(reused.row_starts(), fresh.row_starts());
            assert_eq!(
                reused.pairs().collect::<Vec<_>>(),
                fresh.pairs().collect::<Vec<_>>()
            );
        }
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

    #[test]
    fn rebuild_policies_follow_lammps_every_and_check() {
        let l = Lattice::cubic(10.0).unwrap();
        let pos = vec![Vector3::new(1.0, 1.0, 1.0), Vector3::new(3.0, 1.0, 1.0)];
        let far = vec![Vector3::new(1.6, 1.0, 1.0), pos[1]];
        // every 3, unchecked: rebuilt at the 3rd, 6th, … update after a build, moved or not.
        let mut v = VerletList::new(2.5, 1.0)
            .unwrap()
            .with_policy(RebuildPolicy {
                every: 3,
                check: false,
            })
            .unwrap();
        let rebuilt: Vec<bool> = (0..7).map(|_| v.update(&l, &pos).unwrap()).collect();
        assert_eq!(rebuilt, [true, false, false, true, false, false, true]);
        // every 2, checked: a large move is noticed only at the next multiple of 2.
        let mut v = VerletList::new(2.5, 1.0)
            .unwrap()
            .with_policy(RebuildPolicy {
                every: 2,
                check: true,
            })
            .unwrap();
        assert!(v.update(&l, &pos).unwrap());
        assert!(!v.update(&l, &far).unwrap());
        assert!(v.update(&l, &far).unwrap());
        assert!(!v.update(&l, &far).unwrap());
        assert!(!v.update(&l, &far).unwrap(), "nothing moved since the build");
        assert!(
            VerletList::new(2.5, 1.0)
                .unwrap()
                .with_policy(RebuildPolicy {
                    every: 0,
                    check: true
                })
                .is_err()
        );
    }
}
