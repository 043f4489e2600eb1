//! The real-space pair machinery shared by every Coulomb solver: a Verlet list with a skin in a
//! canonical order, and a deterministic parallel pair sum.
//!
//! Canonical order: a pair {i, j} is stored once, under min(i, j), with the periodic image seen from
//! that atom; a periodic self image (i, i, n) is stored once, with the lexicographically positive n;
//! each atom's entries are sorted by (j, image). So the pairs inside the cutoff are visited in the same
//! order whatever the age of the list, and results equal a fresh calculator's bit for bit.
//!
//! Determinism: atoms are split into a number of chunks that depends only on the atom count; each chunk
//! sums its pairs in list order into a private buffer, and the buffers are added in chunk order. The
//! result is identical for every thread count.

use amorph_structure::{Lattice, NeighborList, PairSet};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

use super::erfc::{Erfc, erfc_as, erfc_cody, erfc_cody_middle, in_cody_middle};
use crate::calculator::Evaluation;
use crate::error::{Error, Result};

/// What a pair kernel returns for one pair inside the cutoff.
pub(crate) trait PairKernel: Sync {
    /// For a pair at squared distance `r2` (Å²) with charge product `qq` (e²): the pair energy (eV)
    /// and `fpair` (eV/Å²) such that the force on i is `(r_i − r_j)·fpair` (LAMMPS's convention).
    fn eval(&self, r2: f64, qq: f64) -> (f64, f64);

    /// [`eval`](Self::eval) over slices (`e` and `fpair` have the length of `r2`): kernels override
    /// it with a loop the compiler can vectorise.
    fn eval_batch(&self, r2: &[f64], qq: &[f64], e: &mut [f64], fpair: &mut [f64]) {
        for k in 0..r2.len() {
            (e[k], fpair[k]) = self.eval(r2[k], qq[k]);
        }
    }
}

/// A real-space Coulomb kernel built on erfc(αr): written once as `eval_with` (generic over the erfc
/// evaluation), it gets [`PairKernel`]'s `eval` and a batch loop that first evaluates every pair with
/// the branch-free middle range of Cody's erfc and then redoes the few outside it.
pub(crate) trait ErfcPairKernel: Sync {
    /// Which erfc to use.
    fn erfc(&self) -> Erfc;
    /// The damping α, Å⁻¹.
    fn alpha(&self) -> f64;
    /// (energy, fpair) as [`PairKernel::eval`], with `erfc(x, exp(−x²))` supplied.
    fn eval_with(&self, r2: f64, qq: f64, erfc: impl Fn(f64, f64) -> f64) -> (f64, f64);
}

impl<K: ErfcPairKernel> PairKernel for K {
    #[inline(always)]
    fn eval(&self, r2: f64, qq: f64) -> (f64, f64) {
        match self.erfc() {
            Erfc::Exact => self.eval_with(r2, qq, erfc_cody),
            Erfc::AbramowitzStegun => self.eval_with(r2, qq, erfc_as),
        }
    }

    fn eval_batch(&self, r2: &[f64], qq: &[f64], e: &mut [f64], fpair: &mut [f64]) {
        let n = r2.len();
        let (qq, e, fpair) = (&qq[..n], &mut e[..n], &mut fpair[..n]);
        match self.erfc() {
            Erfc::Exact => {
                for k in 0..n {
                    (e[k], fpair[k]) = self.eval_with(r2[k], qq[k], erfc_cody_middle);
                }
                let alpha = self.alpha();
                for k in 0..n {
                    if !in_cody_middle(alpha * r2[k].sqrt()) {
                        (e[k], fpair[k]) = self.eval_with(r2[k], qq[k], erfc_cody);
                    }
                }
            }
            Erfc::AbramowitzStegun => {
                for k in 0..n {
                    (e[k], fpair[k]) = self.eval_with(r2[k], qq[k], erfc_as);
                }
            }
        }
    }
}

/// A pair kernel linear in the charge product, tabulated over r on a uniform grid with linear
/// interpolation (the idea of LAMMPS's `pair_modify table`): one square root and a few multiply-adds
/// per pair instead of exp, erfc and divisions. Pairs closer than the table's start fall back to the
/// kernel itself.
#[derive(Clone)]
pub(crate) struct Tabulated<K> {
    kernel: K,
    r_min: f64,
    inv_h: f64,
    /// Per grid point: energy, its slope per step, fpair, its slope per step (all for qq = 1).
    rows: Vec<[f64; 4]>,
}

/// Grid spacing of [`Tabulated`], Å: linear interpolation of erfc(αr)/r-like terms is then good to
/// ~1e-7 relative at 1 Å and better beyond.
pub(crate) const TABLE_SPACING: f64 = 5e-4;
/// Start of the table, Å (closer pairs, which no physical configuration has, are evaluated exactly).
pub(crate) const TABLE_START: f64 = 0.5;

impl<K> std::fmt::Debug for Tabulated<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tabulated {{ r_min: {}, points: {} }}",
            self.r_min,
            self.rows.len()
        )
    }
}

impl<K: PairKernel> Tabulated<K> {
    /// Tabulate `kernel` from [`TABLE_START`] to `cutoff` Å.
    pub(crate) fn new(kernel: K, cutoff: f64) -> Self {
        let r_min = TABLE_START.min(0.5 * cutoff);
        let n = ((cutoff - r_min) / TABLE_SPACING).ceil() as usize + 2;
        let h = TABLE_SPACING;
        let at = |k: usize| {
            let r = r_min + k as f64 * h;
            kernel.eval(r * r, 1.0)
        };
        let mut rows = Vec::with_capacity(n);
        let mut here = at(0);
        for k in 0..n {
            let next = at(k + 1);
            rows.push([here.0, next.0 - here.0, here.1, next.1 - here.1]);
            here = next;
        }
        Tabulated {
            kernel,
            r_min,
            inv_h: 1.0 / h,
            rows,
        }
    }
}

impl<K: PairKernel> PairKernel for Tabulated<K> {
    #[inline(always)]
    fn eval(&self, r2: f64, qq: f64) -> (f64, f64) {
        let x = (r2.sqrt() - self.r_min) * self.inv_h;
        if !(0.0..(self.rows.len() - 1) as f64).contains(&x) {
            return self.kernel.eval(r2, qq);
        }
        let i = x as usize;
        let t = x - i as f64;
        let [e, de, f, df] = self.rows[i];
        (qq * (e + t * de), qq * (f + t * df))
    }

    fn eval_batch(&self, r2: &[f64], qq: &[f64], e: &mut [f64], fpair: &mut [f64]) {
        let n = r2.len();
        let (qq, e, fpair) = (&qq[..n], &mut e[..n], &mut fpair[..n]);
        let last = (self.rows.len() - 2) as f64;
        let mut outside = false;
        for k in 0..n {
            let x = (r2[k].sqrt() - self.r_min) * self.inv_h;
            outside |= !(0.0..=last).contains(&x);
            let x = x.clamp(0.0, last);
            let i = x as usize;
            let t = x - i as f64;
            let [ei, dei, fi, dfi] = self.rows[i];
            e[k] = qq[k] * (ei + t * dei);
            fpair[k] = qq[k] * (fi + t * dfi);
        }
        if outside {
            for k in 0..n {
                let x = (r2[k].sqrt() - self.r_min) * self.inv_h;
                if !(0.0..=last).contains(&x) {
                    (e[k], fpair[k]) = self.kernel.eval(r2[k], qq[k]);
                }
            }
        }
    }
}

/// Bytes of force buffers the pair sum may use (the chunk count is capped by it).
const BUFFER_BUDGET: usize = 64 << 20;

/// Verlet list of pairs within `cutoff + skin`, rebuilt when an atom moved more than `skin / 2`, the
/// cell changed or the atom count changed.
#[derive(Debug, Clone)]
pub(crate) struct PairList {
    cutoff: f64,
    skin: f64,
    /// Entries of atom i: `start[i]..start[i + 1]`.
    start: Vec<usize>,
    /// (j, index into `shifts`) per entry.
    entries: Vec<(u32, u32)>,
    /// Cartesian lattice translations, Å.
    shifts: Vec<Vector3<f64>>,
    reference: Vec<Vector3<f64>>,
    lattice: Option<Lattice>,
    builds: usize,
}

impl PairList {
    pub(crate) fn new(cutoff: f64, skin: f64) -> Result<Self> {
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "Coulomb cutoff must be positive and finite, got {cutoff} Å"
            )));
        }
        if !(skin.is_finite() && skin >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "neighbour-list skin must be ≥ 0 and finite, got {skin} Å"
            )));
        }
        Ok(PairList {
            cutoff,
            skin,
            start: Vec::new(),
            entries: Vec::new(),
            shifts: Vec::new(),
            reference: Vec::new(),
            lattice: None,
            builds: 0,
        })
    }

    /// Number of list builds so far.
    #[allow(dead_code)]
    pub(crate) fn builds(&self) -> usize {
        self.builds
    }

    /// Rebuild if needed; returns whether it rebuilt.
    pub(crate) fn update(&mut self, lattice: &Lattice, positions: &[Vector3<f64>]) -> Result<bool> {
        if !self.needs_rebuild(lattice, positions) {
            return Ok(false);
        }
        self.build(lattice, positions)?;
        Ok(true)
    }

    fn needs_rebuild(&self, lattice: &Lattice, positions: &[Vector3<f64>]) -> bool {
        match &self.lattice {
            Some(l) if l == lattice && positions.len() == self.reference.len() => {
                let limit2 = 0.25 * self.skin * self.skin;
                positions.iter().zip(&self.reference).any(|(p, r)| {
                    let d2 = (p - r).norm_squared();
                    d2 > limit2 || d2.is_nan()
                })
            }
            _ => true,
        }
    }

    fn build(&mut self, lattice: &Lattice, positions: &[Vector3<f64>]) -> Result<()> {
        let n = positions.len();
        if positions.iter().any(|p| !p.iter().all(|x| x.is_finite())) {
            return Err(Error::Configuration("non-finite atomic position".into()));
        }
        let list = NeighborList::build(lattice, positions, self.cutoff + self.skin, PairSet::Half)?;
        // Image range, for a dense image → shift-index table.
        let (mut lo, mut hi) = ([i32::MAX; 3], [i32::MIN; 3]);
        let mut count = vec![0usize; n + 1];
        for (i, nb) in list.iter() {
            let j = nb.index as usize;
            let (owner, img) = canonical(i, j, nb.image);
            for k in 0..3 {
                lo[k] = lo[k].min(img[k]);
                hi[k] = hi[k].max(img[k]);
            }
            count[owner + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let span = |k: usize| {
            if hi[k] >= lo[k] {
                (hi[k] - lo[k] + 1) as usize
            } else {
                0
            }
        };
        let (s0, s1, s2) = (span(0), span(1), span(2));
        let mut table = vec![u32::MAX; s0 * s1 * s2];
        self.shifts.clear();
        let mut fill = count.clone();
        self.entries.clear();
        self.entries.resize(count[n], (0, 0));
        for (i, nb) in list.iter() {
            let j = nb.index as usize;
            let (owner, img) = canonical(i, j, nb.image);
            let other = if owner == i { j } else { i };
            let key =
                ((img[0] - lo[0]) as usize * s1 + (img[1] - lo[1]) as usize) * s2 + (img[2] - lo[2]) as usize;
            if table[key] == u32::MAX {
                table[key] = self.shifts.len() as u32;
                let f = Vector3::new(img[0] as f64, img[1] as f64, img[2] as f64);
                self.shifts.push(lattice.to_cartesian(&f));
            }
            self.entries[fill[owner]] = (other as u32, table[key]);
            fill[owner] += 1;
        }
        // Sort each atom's entries by (j, image): canonical order, independent of the build.
        let images: Vec<[i32; 3]> = {
            let mut v = vec![[0; 3]; self.shifts.len()];
            for (key, &t) in table.iter().enumerate() {
                if t != u32::MAX {
                    let (a, rest) = (key / (s1 * s2), key % (s1 * s2));
                    v[t as usize] = [
                        a as i32 + lo[0],
                        (rest / s2) as i32 + lo[1],
                        (rest % s2) as i32 + lo[2],
                    ];
                }
            }
            v
        };
        let mut slices: Vec<&mut [(u32, u32)]> = Vec::with_capacity(n);
        let mut rest: &mut [(u32, u32)] = &mut self.entries;
        for i in 0..n {
            let (a, b) = rest.split_at_mut(count[i + 1] - count[i]);
            slices.push(a);
            rest = b;
        }
        slices
            .par_iter_mut()
            .for_each(|s| s.sort_unstable_by_key(|&(j, t)| (j, images[t as usize])));
        self.start = count;
        self.reference.clear();
        self.reference.extend_from_slice(positions);
        self.lattice = Some(lattice.clone());
        self.builds += 1;
        Ok(())
    }

    /// Sum a pair kernel over every pair within the cutoff and add energy, forces, virial and (when
    /// requested) per-atom energies into `out`. `q` are the per-atom charges (e).
    pub(crate) fn accumulate<K: PairKernel>(
        &self,
        positions: &[Vector3<f64>],
        q: &[f64],
        kernel: &K,
        out: &mut Evaluation,
    ) {
        let n = positions.len();
        if n == 0 {
            return;
        }
        let per_atom = out.per_atom_energies.is_some();
        let rc2 = self.cutoff * self.cutoff;
        let chunks = chunk_ranges(n);
        let results: Vec<ChunkResult> = chunks
            .par_iter()
            .map(|&(i0, i1)| {
                // Entries are stored under min(i, j), so a chunk only touches atoms i0..n.
                let width = n - i0;
                let mut f = vec![Vector3::zeros(); width];
                let mut e = if per_atom { vec![0.0; width] } else { Vec::new() };
                let mut energy = 0.0;
                let mut w = [0.0f64; 6];
                // Per atom: gather the pairs inside the cutoff, evaluate them in one batch, scatter.
                let cap = (i0..i1)
                    .map(|i| self.start[i + 1] - self.start[i])
                    .max()
                    .unwrap_or(0);
                let (mut br2, mut bqq, mut be, mut bf) =
                    (vec![0.0; cap], vec![0.0; cap], vec![0.0; cap], vec![0.0; cap]);
                let mut bd = vec![Vector3::zeros(); cap];
                let mut bj = vec![0usize; cap];
                for i in i0..i1 {
                    let pi = positions[i];
                    let qi = q[i];
                    let mut m = 0;
                    for &(j, t) in &self.entries[self.start[i]..self.start[i + 1]] {
                        let j = j as usize;
                        let d = (positions[j] - pi) + self.shifts[t as usize];
                        let r2 = d.norm_squared();
                        // Branch-free: every pair is written, kept only inside the cutoff (a
                        // quarter of the list is skin, and a branch there mispredicts).
                        br2[m] = r2;
                        bqq[m] = qi * q[j];
                        bd[m] = d;
                        bj[m] = j;
                        m += usize::from(r2 < rc2);
                    }
                    kernel.eval_batch(&br2[..m], &bqq[..m], &mut be[..m], &mut bf[..m]);
                    let mut fi = Vector3::zeros();
                    let mut ei = 0.0;
                    for k in 0..m {
                        let (d, j, eij, fpair) = (bd[k], bj[k], be[k], bf[k]);
                        energy += eij;
                        w[0] += d.x * d.x * fpair;
                        w[1] += d.y * d.y * fpair;
                        w[2] += d.z * d.z * fpair;
                        w[3] += d.x * d.y * fpair;
                        w[4] += d.x * d.z * fpair;
                        w[5] += d.y * d.z * fpair;
                        if j != i {
                            let fij = d * fpair;
                            fi -= fij;
                            f[j - i0] += fij;
                            if per_atom {
                                ei += 0.5 * eij;
                                e[j - i0] += 0.5 * eij;
                            }
                        } else if per_atom {
                            ei += eij;
                        }
                    }
                    f[i - i0] += fi;
                    if per_atom {
                        e[i - i0] += ei;
                    }
                }
                ChunkResult {
                    offset: i0,
                    forces: f,
                    energies: e,
                    energy,
                    virial: w,
                }
            })
            .collect();
        // Ordered reductions.
        let mut w = [0.0f64; 6];
        for r in &results {
            out.energy += r.energy;
            for (a, b) in w.iter_mut().zip(&r.virial) {
                *a += b;
            }
        }
        out.virial += Matrix3::new(w[0], w[3], w[4], w[3], w[1], w[5], w[4], w[5], w[2]);
        out.forces.par_iter_mut().enumerate().for_each(|(a, fa)| {
            for r in &results {
                if a >= r.offset {
                    *fa += r.forces[a - r.offset];
                }
            }
        });
        if let Some(pe) = out.per_atom_energies.as_mut() {
            pe.par_iter_mut().enumerate().for_each(|(a, ea)| {
                for r in &results {
                    if a >= r.offset {
                        *ea += r.energies[a - r.offset];
                    }
                }
            });
        }
    }
}

struct ChunkResult {
    offset: usize,
    forces: Vec<Vector3<f64>>,
    energies: Vec<f64>,
    energy: f64,
    virial: [f64; 6],
}

/// Owner atom and image of a pair in canonical form (see the module docs).
#[inline]
fn canonical(i: usize, j: usize, image: [i32; 3]) -> (usize, [i32; 3]) {
    if i < j {
        (i, image)
    } else if j < i {
        (j, [-image[0], -image[1], -image[2]])
    } else if image > [0, 0, 0] {
        (i, image)
    } else {
        (i, [-image[0], -image[1], -image[2]])
    }
}

/// Fixed atom ranges for the parallel pair sum: their number depends only on the atom count.
/// Chunks are smaller at the start, where atoms own more pairs (entries live under min(i, j)).
pub(crate) fn chunk_ranges(n: usize) -> Vec<(usize, usize)> {
    let by_atoms = n.div_ceil(512);
    let by_memory = (BUFFER_BUDGET / (n.max(1) * 32)).max(2);
    let m = by_atoms.clamp(1, 64).min(by_memory);
    // Atom i owns ≈ (n − i) / n of its pairs: equal work ⇔ equal area under (n − i), so chunk k ends at
    // n (1 − sqrt(1 − (k+1)/m)).
    let mut out = Vec::with_capacity(m);
    let mut prev = 0;
    for k in 0..m {
        let end = if k + 1 == m {
            n
        } else {
            let x = 1.0 - (1.0 - (k + 1) as f64 / m as f64).sqrt();
            ((x * n as f64).round() as usize).clamp(prev, n)
        };
        if end > prev {
            out.push((prev, end));
        }
        prev = end;
    }
    out
}

/// Deterministic parallel sum of per-atom values (fixed blocks, blocks added in order).
pub(crate) fn ordered_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 4096;
    let partial: Vec<f64> = values.par_chunks(BLOCK).map(|c| c.iter().sum::<f64>()).collect();
    partial.iter().sum()
}
