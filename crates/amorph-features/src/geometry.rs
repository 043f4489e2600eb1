//! Geometry behind the structural features: nearest neighbours beyond the cutoff, shell counts,
//! straight-line Li–Li paths and periodic union volumes of spheres.

use amorph_structure::{Lattice, NeighborList, PairSet, Structure};
use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};
use rayon::prelude::*;

use crate::context::{Context, PathWidths};
use crate::options::{Options, PfMethod};

/// Two candidates closer than this (Å) are a tie, broken by the higher electronegativity.
const TIE: f64 = 1e-9;

/// The shortest non-zero lattice vector.
pub(crate) fn shortest_lattice_vector(lattice: &Lattice) -> Vector3<f64> {
    let m = lattice.matrix();
    let r = (0..3).map(|k| m.row(k).norm()).fold(f64::INFINITY, f64::min);
    let mut best = m.row(0).transpose();
    let mut best2 = f64::INFINITY;
    lattice.for_each_image_within(&Vector3::zeros(), r * (1.0 + 1e-12), |v| {
        let n2 = v.norm_squared();
        if n2 > 0.0 && n2 < best2 {
            best2 = n2;
            best = v;
        }
    });
    best
}

/// The nearest atom of a set (`mask`) to atom `i`, any periodic image, excluding `i` itself at zero
/// distance: its index and the vector from `i` to it. Looks in the neighbour list first, and over every
/// atom (minimum image) when the set has no member within the cutoff. `mask` must not be all false.
pub(crate) fn nearest(
    ctx: &Context<'_>,
    s: &Structure,
    nl: &NeighborList,
    i: usize,
    mask: &[bool],
) -> (usize, Vector3<f64>) {
    let mut best: Option<(usize, f64, &amorph_structure::Neighbor)> = None;
    for n in nl.neighbors(i) {
        let j = n.index as usize;
        if mask[j] && best.is_none_or(|b| n.distance < b.1) {
            best = Some((j, n.distance, n));
        }
    }
    if let Some((j, _, n)) = best {
        return (j, nl.vector(i, n));
    }
    let pos = s.positions();
    let mut out = (i, Vector3::from_element(f64::INFINITY));
    for j in (0..s.len()).filter(|&j| mask[j]) {
        let v = if j == i {
            ctx.shortest_lattice_vector(s)
        } else {
            s.lattice().minimum_image(&(pos[j] - pos[i]))
        };
        if v.norm_squared() < out.1.norm_squared() {
            out = (j, v);
        }
    }
    out
}

/// Number of atoms of a set (every periodic image, not `i` itself) within `r` of atom `i`.
pub(crate) fn count_within(s: &Structure, nl: &NeighborList, i: usize, mask: &[bool], r: f64) -> usize {
    if r <= nl.cutoff() {
        return nl
            .neighbors(i)
            .iter()
            .filter(|n| mask[n.index as usize] && n.distance <= r)
            .count();
    }
    let pos = s.positions();
    let mut count = 0;
    for j in (0..s.len()).filter(|&j| mask[j]) {
        let f = s.lattice().to_fractional(&(pos[j] - pos[i]));
        s.lattice().for_each_image_within(&f, r, |v| {
            if !(j == i && v.norm_squared() < 1e-20) {
                count += 1;
            }
        });
    }
    count
}

/// Running minima of one Li's path analysis.
struct PathAcc {
    d: Vector3<f64>,
    len2: f64,
    /// (width, χ) over atoms projecting onto the segment.
    beside: Option<(f64, f64)>,
    /// Minimum of (distance to the segment − radius).
    pp: f64,
    /// (centre distance, radius, χ) of the nearest atom centre.
    centre: Option<(f64, f64, f64)>,
}

impl PathAcc {
    fn new(d: Vector3<f64>) -> Self {
        PathAcc {
            d,
            len2: d.norm_squared(),
            beside: None,
            pp: f64::INFINITY,
            centre: None,
        }
    }

    /// A candidate blocker at `v` (relative to the path's start) with radius `r` and χ `chi`.
    fn visit(&mut self, v: Vector3<f64>, r: f64, chi: f64) {
        // A zero-length path (two Li on one spot) is the point itself.
        let t = if self.len2 > 0.0 {
            v.dot(&self.d) / self.len2
        } else {
            0.0
        };
        let dist = (v - self.d * t.clamp(0.0, 1.0)).norm();
        if (0.0..=1.0).contains(&t) {
            let w = dist - r;
            let better = match self.beside {
                None => true,
                Some((bw, bchi)) => w < bw - TIE || ((w - bw).abs() <= TIE && chi > bchi),
            };
            if better {
                self.beside = Some((w, chi));
            }
        }
        self.pp = self.pp.min(dist - r);
        let better = match self.centre {
            None => true,
            Some((bd, _, bchi)) => dist < bd - TIE || ((dist - bd).abs() <= TIE && chi > bchi),
        };
        if better {
            self.centre = Some((dist, r, chi));
        }
    }

    /// Whether no atom farther than `bound` Å from the segment can change any minimum.
    fn complete(&self, bound: f64, rmax: f64) -> bool {
        self.beside.is_some_and(|b| b.0 <= bound - rmax)
            && self.pp <= bound - rmax
            && self.centre.is_some_and(|c| c.0 <= bound)
    }
}

/// Straight-line path analysis of every mobile atom `idx[k]` towards its nearest mobile atom
/// `nearest[k]`.
pub(crate) fn path_widths(
    s: &Structure,
    nl: &NeighborList,
    chi: &[f64],
    radii: &[f64],
    idx: &[usize],
    nearest: &[(usize, Vector3<f64>)],
) -> PathWidths {
    let rmax = radii.iter().copied().fold(0.0, f64::max);
    let rc = nl.cutoff();
    let pos = s.positions();
    let lattice = s.lattice();
    let diameter = {
        let m = lattice.matrix();
        m.row(0).norm() + m.row(1).norm() + m.row(2).norm()
    };
    let results: Vec<PathAcc> = idx
        .par_iter()
        .zip(nearest.par_iter())
        .map(|(&i, &(j, d))| {
            let mut acc = PathAcc::new(d);
            let is_end = |k: usize, v: &Vector3<f64>| {
                (k == i && v.norm_squared() < 1e-18) || (k == j && (v - d).norm_squared() < 1e-18)
            };
            for n in nl.neighbors(i) {
                let k = n.index as usize;
                let v = nl.vector(i, n);
                if !is_end(k, &v) {
                    acc.visit(v, radii[k], chi[k]);
                }
            }
            for n in nl.neighbors(j) {
                let k = n.index as usize;
                let v = d + nl.vector(j, n);
                if !is_end(k, &v) {
                    acc.visit(v, radii[k], chi[k]);
                }
            }
            let half = 0.5 * acc.len2.sqrt();
            // Outside both cutoff spheres an atom is at least this far from the segment.
            let bound = if half < rc {
                (rc * rc - half * half).sqrt()
            } else {
                0.0
            };
            if !acc.complete(bound, rmax) {
                // Every atom image within `radius` of the midpoint, growing until the minima are final.
                let mid = 0.5 * d;
                let mut radius = half + rc;
                loop {
                    for k in 0..s.len() {
                        let f = lattice.to_fractional(&(pos[k] - pos[i] - mid));
                        lattice.for_each_image_within(&f, radius, |w| {
                            let v = w + mid;
                            if !is_end(k, &v) {
                                acc.visit(v, radii[k], chi[k]);
                            }
                        });
                    }
                    // Every point of the segment is within `half` of the midpoint.
                    if acc.complete(radius - half, rmax) || radius > half + 4.0 * diameter + rc {
                        break;
                    }
                    radius *= 2.0;
                }
            }
            acc
        })
        .collect();
    PathWidths {
        beside: results.iter().map(|a| a.beside).collect(),
        point_to_point: results.iter().map(|a| a.pp).collect(),
        nearest_centre: results
            .iter()
            .map(|a| a.centre.unwrap_or((f64::INFINITY, 0.0, f64::NAN)))
            .collect(),
    }
}

/// A sphere for the packing fractions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sphere {
    /// Fractional coordinates of the centre.
    pub frac: Vector3<f64>,
    /// Radius, Å.
    pub radius: f64,
    /// Whether it counts towards the sublattice packing fraction (SPF).
    pub sublattice: bool,
}

impl Sphere {
    /// The same sphere with its centre wrapped into [0, 1)³.
    fn wrapped(&self) -> Sphere {
        Sphere {
            frac: self.frac.map(|x| {
                let w = x - x.floor();
                if w >= 1.0 { 0.0 } else { w }
            }),
            ..*self
        }
    }
}

/// Packing fractions (all spheres, sublattice spheres) in a periodic cell by the method of the options.
/// `nl`, a full neighbour list of the sphere centres (the structure's positions), is reused by
/// [`PfMethod::Lens`] when its cutoff reaches twice the largest radius.
pub(crate) fn packing_fractions(
    lattice: &Lattice,
    spheres: &[Sphere],
    nl: Option<&NeighborList>,
    o: &Options,
) -> (f64, f64) {
    let spacing = || {
        let m = lattice.matrix();
        let section = m.row(0).norm() * m.row(1).norm();
        match o.pf_max_lines {
            Some(n) => o.pf_spacing.max((section / n as f64).sqrt()),
            None => o.pf_spacing,
        }
    };
    match o.pf() {
        PfMethod::SphereSum => {
            let vol = |x: &Sphere| 4.0 / 3.0 * std::f64::consts::PI * x.radius.powi(3);
            let all: f64 = spheres.iter().map(vol).sum();
            let sub: f64 = spheres.iter().filter(|x| x.sublattice).map(vol).sum();
            (all / lattice.volume(), sub / lattice.volume())
        }
        PfMethod::Grid => union_fractions_grid(lattice, spheres, spacing()),
        PfMethod::Lens => union_fractions_lens(lattice, spheres, nl, spacing())
            .unwrap_or_else(|| union_fractions_grid(lattice, spheres, spacing())),
        PfMethod::MonteCarlo => union_fractions_random(lattice, spheres, o.pf_samples, o.seed),
    }
}

/// Lines {(u, v, t): t ∈ ℝ} in fractional coordinates, parallel to the third lattice vector c, and
/// the chords that spheres cut from them.
struct Lines {
    a: Vector3<f64>,
    b: Vector3<f64>,
    c: Vector3<f64>,
    c2: f64,
    /// a and b with their components along c removed.
    ap: Vector3<f64>,
    bp: Vector3<f64>,
}

impl Lines {
    fn new(lattice: &Lattice) -> Self {
        let m = lattice.matrix();
        let (a, b, c) = (m.row(0).transpose(), m.row(1).transpose(), m.row(2).transpose());
        let c2 = c.norm_squared();
        let ap = a - c * (a.dot(&c) / c2);
        let bp = b - c * (b.dot(&c) / c2);
        Lines { a, b, c, c2, ap, bp }
    }

    /// The t-interval, relative to the centre's t, that a sphere of radius r cuts from the line at
    /// (du, dv) from its centre, if any.
    #[inline]
    fn chord(&self, du: f64, dv: f64, r: f64) -> Option<(f64, f64)> {
        let p = self.a * du + self.b * dv;
        let pc = p.dot(&self.c);
        let disc = pc * pc - self.c2 * (p.norm_squared() - r * r);
        if disc <= 0.0 {
            return None;
        }
        let sq = disc.sqrt();
        Some(((-pc - sq) / self.c2, (-pc + sq) / self.c2))
    }

    /// The range of dv over which the line at du from the centre cuts a sphere of radius r (the line's
    /// distance to the centre is |du·a⊥ + dv·b⊥|).
    #[inline]
    fn dv_range(&self, du: f64, r: f64) -> Option<(f64, f64)> {
        let qa = self.bp.norm_squared();
        let qb = du * self.ap.dot(&self.bp);
        let qc = du * du * self.ap.norm_squared() - r * r;
        let disc = qb * qb - qa * qc;
        if disc <= 0.0 {
            return None;
        }
        let sq = disc.sqrt();
        Some(((-qb - sq) / qa, (-qb + sq) / qa))
    }
}

/// Adds the interval [t0, t1] (t0 ≤ t1, absolute t) wrapped into [0, 1), tagged.
#[inline]
fn push_wrapped(out: &mut Vec<(f64, f64, bool)>, t0: f64, t1: f64, tag: bool) {
    if t1 - t0 >= 1.0 {
        out.push((0.0, 1.0, tag));
        return;
    }
    // x − ⌊x⌋ rather than rem_euclid (an fmod call): this runs once per chord.
    let s = t0 - t0.floor();
    let e = s + (t1 - t0);
    if e <= 1.0 {
        out.push((s, e, tag));
    } else {
        out.push((s, 1.0, tag));
        out.push((0.0, e - 1.0, tag));
    }
}

/// Total lengths of the union of intervals sorted by start: of all of them, and of the tagged ones.
fn union_lengths(iv: &[(f64, f64, bool)]) -> (f64, f64) {
    let mut totals = [0.0f64; 2];
    for (k, only_tagged) in [false, true].into_iter().enumerate() {
        let mut cur: Option<(f64, f64)> = None;
        for &(s, e, tag) in iv {
            if only_tagged && !tag {
                continue;
            }
            match cur {
                Some((cs, ce)) if s <= ce => cur = Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    totals[k] += ce - cs;
                    cur = Some((s, e));
                }
                None => cur = Some((s, e)),
            }
        }
        if let Some((cs, ce)) = cur {
            totals[k] += ce - cs;
        }
    }
    (totals[0].min(1.0), totals[1].min(1.0))
}

fn sort_by_start(iv: &mut [(f64, f64, bool)]) {
    iv.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
}

/// Offsets of the grid lines within their cells along a and b (fractions of the spacing): the
/// fractional parts of the golden ratio and of √2, so that the lines do not line up with the
/// high-symmetry positions of crystals (a grid through them makes the errors add up coherently).
const GRID_OFFSET: [f64; 2] = [0.618_033_988_749_894_8, 0.414_213_562_373_095_03];

/// Union volume fractions on a grid of lines parallel to c, spaced about `spacing` Å along a and b,
/// each line's covered length exact.
fn union_fractions_grid(lattice: &Lattice, spheres: &[Sphere], spacing: f64) -> (f64, f64) {
    let spheres: Vec<Sphere> = spheres.iter().map(Sphere::wrapped).collect();
    let lines = Lines::new(lattice);
    let w = lattice.perpendicular_widths();
    let nu = ((lines.a.norm() / spacing).ceil() as usize).max(1);
    let nv = ((lines.b.norm() / spacing).ceil() as usize).max(1);
    let (fnu, fnv) = (nu as f64, nv as f64);
    // Spheres (index, du) crossing each row of lines.
    let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); nu];
    for (k, sp) in spheres.iter().enumerate() {
        let fu = sp.frac[0];
        let ru = sp.radius / w[0];
        let lo = ((fu - ru) * fnu - GRID_OFFSET[0]).ceil() as i64;
        let hi = ((fu + ru) * fnu - GRID_OFFSET[0]).floor() as i64;
        for iu in lo..=hi {
            let du = (iu as f64 + GRID_OFFSET[0]) / fnu - fu;
            rows[iu.rem_euclid(nu as i64) as usize].push((k as u32, du));
        }
    }
    let (b, c) = (lines.b, lines.c);
    let (bb, bc, inv_c2) = (b.norm_squared(), b.dot(&c), 1.0 / lines.c2);
    struct Scratch {
        /// Chords of the row: (column, t0, t1, sublattice), wrapped into [0, 1).
        chords: Vec<(u32, f64, f64, bool)>,
        /// Column starts (CSR) of the sorted-by-column chords, and the chords themselves.
        start: Vec<usize>,
        by_column: Vec<(f64, f64, bool)>,
    }
    let per_row: Vec<(f64, f64)> = rows
        .par_iter()
        .map_init(
            || Scratch {
                chords: Vec::new(),
                start: vec![0; nv + 1],
                by_column: Vec::new(),
            },
            |sc, row| {
                sc.chords.clear();
                for &(k, du) in row {
                    let sp = &spheres[k as usize];
                    let Some((d0, d1)) = lines.dv_range(du, sp.radius) else {
                        continue;
                    };
                    let (fv, fw, r2) = (sp.frac[1], sp.frac[2], sp.radius * sp.radius);
                    let lo = ((fv + d0) * fnv - GRID_OFFSET[1]).ceil() as i64;
                    let hi = ((fv + d1) * fnv - GRID_OFFSET[1]).floor() as i64;
                    // p = du·a + dv·b: |p|² and p·c are quadratic and linear in dv.
                    let p0 = lines.a * du;
                    let (q0, q1, a0) = (p0.norm_squared() - r2, 2.0 * p0.dot(&b), p0.dot(&c));
                    for iv in lo..=hi {
                        let dv = (iv as f64 + GRID_OFFSET[1]) / fnv - fv;
                        let pc = a0 + dv * bc;
                        let disc = pc * pc - lines.c2 * (q0 + dv * (q1 + dv * bb));
                        if disc <= 0.0 {
                            continue;
                        }
                        let sq = disc.sqrt();
                        let (t0, t1) = (fw + (-pc - sq) * inv_c2, fw + (-pc + sq) * inv_c2);
                        let col = iv.rem_euclid(nv as i64) as u32;
                        if t1 - t0 >= 1.0 {
                            sc.chords.push((col, 0.0, 1.0, sp.sublattice));
                            continue;
                        }
                        // t0 − ⌊t0⌋ without a libm call (|t0| is small).
                        let fl = t0 as i64 as f64;
                        let fl = if fl > t0 { fl - 1.0 } else { fl };
                        let (s0, e0) = (t0 - fl, t1 - fl);
                        if e0 <= 1.0 {
                            sc.chords.push((col, s0, e0, sp.sublattice));
                        } else {
                            sc.chords.push((col, s0, 1.0, sp.sublattice));
                            sc.chords.push((col, 0.0, e0 - 1.0, sp.sublattice));
                        }
                    }
                }
                // Counting sort by column.
                sc.start.iter_mut().for_each(|x| *x = 0);
                for ch in &sc.chords {
                    sc.start[ch.0 as usize + 1] += 1;
                }
                for j in 0..nv {
                    sc.start[j + 1] += sc.start[j];
                }
                sc.by_column.clear();
                sc.by_column.resize(sc.chords.len(), (0.0, 0.0, false));
                let mut fill = sc.start[..nv].to_vec();
                for ch in &sc.chords {
                    let slot = &mut fill[ch.0 as usize];
                    sc.by_column[*slot] = (ch.1, ch.2, ch.3);
                    *slot += 1;
                }
                let mut sum = (0.0, 0.0);
                for col in 0..nv {
                    let iv = &mut sc.by_column[sc.start[col]..sc.start[col + 1]];
                    if iv.is_empty() {
                        continue;
                    }
                    sort_by_start(iv);
                    let (all, sub) = union_lengths(iv);
                    sum.0 += all;
                    sum.1 += sub;
                }
                sum
            },
        )
        .collect();
    let n = (nu * nv) as f64;
    let all: f64 = per_row.iter().map(|x| x.0).sum();
    let sub: f64 = per_row.iter().map(|x| x.1).sum();
    (all / n, sub / n)
}

/// Volume of the intersection of two spheres of radii `r1`, `r2` whose centres are `d` apart, Å³.
fn lens_volume(r1: f64, r2: f64, d: f64) -> f64 {
    use std::f64::consts::PI;
    if d >= r1 + r2 {
        0.0
    } else if d <= (r1 - r2).abs() {
        4.0 / 3.0 * PI * r1.min(r2).powi(3)
    } else {
        let h = r1 + r2 - d;
        PI * h * h * (d * d + 2.0 * d * (r1 + r2) - 3.0 * (r1 - r2) * (r1 - r2)) / (12.0 * d)
    }
}

/// Balls that contain the lens of the spheres `p` and `q` (each: centre in any linear coordinates,
/// radius in Å) whose centres are `d` Å apart: the smaller sphere, and the ball on the intersection
/// circle when the circle's plane lies between the centres (each cap is then at most a hemisphere,
/// inside that ball).
fn lens_balls(p: (Vector3<f64>, f64), q: (Vector3<f64>, f64), d: f64, out: &mut Vec<(Vector3<f64>, f64)>) {
    let ((cp, rp), (cq, rq)) = (p, q);
    out.push(if rp <= rq { p } else { q });
    if d > (rp - rq).abs() && d < rp + rq {
        let x0 = (d * d + rp * rp - rq * rq) / (2.0 * d);
        if (0.0..=d).contains(&x0) {
            out.push((cp + (cq - cp) * (x0 / d), (rp * rp - x0 * x0).max(0.0).sqrt()));
        }
    }
}

/// Most triples of mutually overlapping spheres registered one by one for a sphere; beyond, every
/// line through the sphere is registered (cheaper than many overlapping boxes).
const MAX_TRIPLES: usize = 24;

/// The grid of lines parallel to c: `nu × nv` lines at fractional
/// ((iu + GRID_OFFSET[0]) / nu, (iv + GRID_OFFSET[1]) / nv), about `spacing` Å apart.
fn grid_size(lines: &Lines, spacing: f64) -> (usize, usize) {
    (
        ((lines.a.norm() / spacing).ceil() as usize).max(1),
        ((lines.b.norm() / spacing).ceil() as usize).max(1),
    )
}

/// Adds the chord [t0, t1] (absolute t, t0 ≤ t1) of column `col` wrapped into [0, 1), once per
/// covering: a chord longer than the period covers part of the line more than once.
#[inline]
fn push_counted(out: &mut Vec<(u32, f64, f64, bool)>, col: u32, t0: f64, t1: f64, tag: bool) {
    // t0 − ⌊t0⌋ without a libm call (|t0| is small).
    let fl = t0 as i64 as f64;
    let fl = if fl > t0 { fl - 1.0 } else { fl };
    let mut s = t0 - fl;
    let mut e = t1 - fl;
    while e > 1.0 {
        out.push((col, s, 1.0, tag));
        s = 0.0;
        e -= 1.0;
    }
    if e > s {
        out.push((col, s, e, tag));
    }
}

/// ∫ (n − 1)(n − 2)/2 dt over [0, 1) where n(t) ≥ 3 spheres cover t, for all spheres and for the tagged
/// ones, from one line's chords: what the union length misses after the single chords and the pairwise
/// overlaps are counted (inclusion–exclusion beyond pairs). `events` is scratch.
fn beyond_pairs(chords: &[(u32, f64, f64, bool)], events: &mut Vec<(f64, i32, bool)>) -> (f64, f64) {
    if chords.len() < 3 {
        return (0.0, 0.0);
    }
    events.clear();
    for &(_, s, e, tag) in chords {
        events.push((s, 1, tag));
        events.push((e, -1, tag));
    }
    // Few events per line: insertion sort.
    for k in 1..events.len() {
        let x = events[k];
        let mut m = k;
        while m > 0 && events[m - 1].0 > x.0 {
            events[m] = events[m - 1];
            m -= 1;
        }
        events[m] = x;
    }
    let f = |n: i32| {
        if n >= 3 {
            ((n - 1) * (n - 2) / 2) as f64
        } else {
            0.0
        }
    };
    let (mut n, mut ns, mut prev) = (0i32, 0i32, 0.0);
    let mut acc = (0.0, 0.0);
    for &(t, d, tag) in events.iter() {
        if n >= 3 {
            let dt = t - prev;
            acc.0 += f(n) * dt;
            acc.1 += f(ns) * dt;
        }
        n += d;
        if tag {
            ns += d;
        }
        prev = t;
    }
    acc
}

/// ⌊x⌋ as an integer, without a libm call (|x| well below 2⁶³).
#[inline]
fn ifloor(x: f64) -> i64 {
    let t = x as i64;
    if t as f64 > x { t - 1 } else { t }
}

/// ⌈x⌉ as an integer, without a libm call (|x| well below 2⁶³).
#[inline]
fn iceil(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) < x { t + 1 } else { t }
}

/// Union volume fractions by inclusion–exclusion: the sphere volumes minus the exact volumes of the
/// pairwise lenses (every periodic image), plus what that misses where three or more spheres overlap,
/// measured on the grid of lines (`spacing`) but only on the lines that cross such a triple region,
/// with only the spheres that may cover it there. `None` if no neighbour list could be built.
fn union_fractions_lens(
    lattice: &Lattice,
    spheres: &[Sphere],
    nl: Option<&NeighborList>,
    spacing: f64,
) -> Option<(f64, f64)> {
    union_fractions_lens_with(lattice, spheres, nl, spacing, MAX_TRIPLES)
}

/// [`union_fractions_lens`] with a sphere's lines registered triple by triple up to `max_triples`
/// triples, all of them beyond.
fn union_fractions_lens_with(
    lattice: &Lattice,
    spheres: &[Sphere],
    nl: Option<&NeighborList>,
    spacing: f64,
    max_triples: usize,
) -> Option<(f64, f64)> {
    use std::f64::consts::PI;
    let rmax = spheres.iter().map(|s| s.radius).fold(0.0, f64::max);
    if spheres.is_empty() || rmax <= 0.0 {
        return Some((0.0, 0.0));
    }
    let built;
    let nl = match nl {
        Some(nl) if nl.cutoff() >= 2.0 * rmax && nl.natoms() == spheres.len() => nl,
        _ => {
            let pos: Vec<Vector3<f64>> = spheres.iter().map(|s| lattice.to_cartesian(&s.frac)).collect();
            built = NeighborList::build(lattice, &pos, 2.0 * rmax, PairSet::Full).ok()?;
            &built
        }
    };
    let spheres: Vec<Sphere> = spheres.iter().map(Sphere::wrapped).collect();
    let lines = Lines::new(lattice);
    let w = lattice.perpendicular_widths();
    let (nu, nv) = grid_size(&lines, spacing);
    let (fnu, fnv) = (nu as f64, nv as f64);
    // Lines within `eps` (in units of the line spacing) of a bounding box are registered too.
    let eps = 1e-7;
    let (mut vol_all, mut vol_sub, mut lens_all, mut lens_sub) = (0.0, 0.0, 0.0, 0.0);
    // Per row of lines: (sphere, du, first column, last column) in unwrapped column indices.
    let mut rows: Vec<Vec<(u32, f64, i64, i64)>> = vec![Vec::new(); nu];
    // Spheres overlapping sphere i: (Cartesian vector from i, fractional centre, radius, distance).
    let mut over: Vec<(Vector3<f64>, Vector3<f64>, f64, f64)> = Vec::new();
    let mut balls: Vec<(Vector3<f64>, f64)> = Vec::new();
    let mut boxes: Vec<[f64; 4]> = Vec::new();
    // Per box, the smallest ball found to hold its region: (fractional centre, radius).
    let mut tight: Vec<(Vector3<f64>, f64)> = Vec::new();
    let mut reg: Vec<(i64, i64, i64)> = Vec::new();
    for (i, si) in spheres.iter().enumerate() {
        let ri = si.radius;
        if ri <= 0.0 {
            continue;
        }
        let v = 4.0 / 3.0 * PI * ri.powi(3);
        vol_all += v;
        if si.sublattice {
            vol_sub += v;
        }
        over.clear();
        for n in nl.neighbors(i) {
            let sj = &spheres[n.index as usize];
            if sj.radius > 0.0 && n.distance < ri + sj.radius {
                let l = lens_volume(ri, sj.radius, n.distance);
                lens_all += l;
                if si.sublattice && sj.sublattice {
                    lens_sub += l;
                }
                let v = nl.vector(i, n);
                over.push((v, si.frac + lattice.to_fractional(&v), sj.radius, n.distance));
            }
        }
        // Bounding boxes, in fractional (u, v) with i at its wrapped position, of the regions
        // that i shares with two other spheres; with the smallest ball holding each region.
        boxes.clear();
        tight.clear();
        let mut every_line = false;
        'pairs: for a in 0..over.len() {
            for b in a + 1..over.len() {
                let ((va, fa, ra, da), (vb, fb, rb, db)) = (over[a], over[b]);
                let dab2 = (vb - va).norm_squared();
                if dab2 >= (ra + rb) * (ra + rb) {
                    continue;
                }
                if boxes.len() == max_triples {
                    every_line = true;
                    break 'pairs;
                }
                balls.clear();
                lens_balls((si.frac, ri), (fa, ra), da, &mut balls);
                lens_balls((si.frac, ri), (fb, rb), db, &mut balls);
                lens_balls((fa, ra), (fb, rb), dab2.sqrt(), &mut balls);
                let mut bx = [f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY];
                let mut best = balls[0];
                for &(f, r) in &balls {
                    let (hu, hv) = (r / w[0], r / w[1]);
                    bx = [
                        bx[0].max(f[0] - hu),
                        bx[1].min(f[0] + hu),
                        bx[2].max(f[1] - hv),
                        bx[3].min(f[1] + hv),
                    ];
                    if r < best.1 {
                        best = (f, r);
                    }
                }
                if bx[0] <= bx[1] && bx[2] <= bx[3] {
                    boxes.push(bx);
                    tight.push(best);
                }
            }
        }
        if every_line {
            let (hu, hv) = (ri / w[0], ri / w[1]);
            boxes.clear();
            tight.clear();
            boxes.push([si.frac[0] - hu, si.frac[0] + hu, si.frac[1] - hv, si.frac[1] + hv]);
            tight.push((si.frac, ri));
        }
        // Lines of each box that cross its ball, merged per row.
        reg.clear();
        for (bx, &(f, r)) in boxes.iter().zip(&tight) {
            let lo = iceil(bx[0] * fnu - GRID_OFFSET[0] - eps);
            let hi = ifloor(bx[1] * fnu - GRID_OFFSET[0] + eps);
            for iu in lo..=hi {
                let du = (iu as f64 + GRID_OFFSET[0]) / fnu - f[0];
                let Some((d0, d1)) = lines.dv_range(du, r) else {
                    continue;
                };
                let v0 = bx[2].max(f[1] + d0);
                let v1 = bx[3].min(f[1] + d1);
                let jlo = iceil(v0 * fnv - GRID_OFFSET[1] - eps);
                let jhi = ifloor(v1 * fnv - GRID_OFFSET[1] + eps);
                if jlo <= jhi {
                    reg.push((iu, jlo, jhi));
                }
            }
        }
        reg.sort_unstable();
        let mut cur: Option<(i64, i64, i64)> = None;
        for &(iu, lo, hi) in reg.iter().chain(std::iter::once(&(i64::MAX, 0, -1))) {
            match cur {
                Some((cu, clo, chi)) if cu == iu && lo <= chi + 1 => cur = Some((cu, clo, chi.max(hi))),
                _ => {
                    if let Some((cu, clo, chi)) = cur {
                        let du = (cu as f64 + GRID_OFFSET[0]) / fnu - si.frac[0];
                        rows[cu.rem_euclid(nu as i64) as usize].push((i as u32, du, clo, chi));
                    }
                    cur = Some((iu, lo, hi));
                }
            }
        }
    }
    let (b, c) = (lines.b, lines.c);
    let (bb, bc, inv_c2) = (b.norm_squared(), b.dot(&c), 1.0 / lines.c2);
    let inv_nv = 1.0 / fnv;
    struct Scratch {
        /// Chords of the row: (column, t0, t1, sublattice), wrapped into [0, 1).
        chords: Vec<(u32, f64, f64, bool)>,
        /// The same sorted by column (counting sort), with the column starts.
        by_column: Vec<(u32, f64, f64, bool)>,
        start: Vec<usize>,
        events: Vec<(f64, i32, bool)>,
    }
    let per_row: Vec<(f64, f64)> = rows
        .par_iter()
        .map_init(
            || Scratch {
                chords: Vec::new(),
                by_column: Vec::new(),
                start: vec![0; nv + 1],
                events: Vec::new(),
            },
            |sc, row| {
                if row.is_empty() {
                    return (0.0, 0.0);
                }
                sc.chords.clear();
                for &(k, du, lo, hi) in row {
                    let sp = &spheres[k as usize];
                    let (fv, fw, r2) = (sp.frac[1], sp.frac[2], sp.radius * sp.radius);
                    let p0 = lines.a * du;
                    let (q0, q1, a0) = (p0.norm_squared() - r2, 2.0 * p0.dot(&b), p0.dot(&c));
                    let mut col = lo.rem_euclid(nv as i64) as u32;
                    for iv in lo..=hi {
                        let dv = (iv as f64 + GRID_OFFSET[1]) * inv_nv - fv;
                        let pc = a0 + dv * bc;
                        let disc = pc * pc - lines.c2 * (q0 + dv * (q1 + dv * bb));
                        if disc > 0.0 {
                            let sq = disc.sqrt();
                            let (t0, t1) = (fw + (-pc - sq) * inv_c2, fw + (-pc + sq) * inv_c2);
                            push_counted(&mut sc.chords, col, t0, t1, sp.sublattice);
                        }
                        col += 1;
                        if col == nv as u32 {
                            col = 0;
                        }
                    }
                }
                // Counting sort by column.
                sc.start.iter_mut().for_each(|x| *x = 0);
                for ch in &sc.chords {
                    sc.start[ch.0 as usize + 1] += 1;
                }
                for j in 0..nv {
                    sc.start[j + 1] += sc.start[j];
                }
                sc.by_column.clear();
                sc.by_column.resize(sc.chords.len(), (0, 0.0, 0.0, false));
                for ch in &sc.chords {
                    let slot = &mut sc.start[ch.0 as usize];
                    sc.by_column[*slot] = *ch;
                    *slot += 1;
                }
                // `start[j]` is now the end of column j.
                let mut sum = (0.0, 0.0);
                let mut begin = 0;
                for j in 0..nv {
                    let end = sc.start[j];
                    if end - begin >= 3 {
                        let (all, sub) = beyond_pairs(&sc.by_column[begin..end], &mut sc.events);
                        sum.0 += all;
                        sum.1 += sub;
                    }
                    begin = end;
                }
                sum
            },
        )
        .collect();
    let n = (nu * nv) as f64;
    let beyond_all: f64 = per_row.iter().map(|x| x.0).sum::<f64>() / n;
    let beyond_sub: f64 = per_row.iter().map(|x| x.1).sum::<f64>() / n;
    let vol = lattice.volume();
    // The full neighbour list holds every overlapping pair twice.
    let all = (vol_all - 0.5 * lens_all) / vol + beyond_all;
    let sub = (vol_sub - 0.5 * lens_sub) / vol + beyond_sub;
    Some((all.clamp(0.0, 1.0), sub.clamp(0.0, 1.0)))
}

/// Union volume fractions averaged over `samples` lines parallel to c at random (u, v) (ChaCha8).
fn union_fractions_random(lattice: &Lattice, spheres: &[Sphere], samples: usize, seed: u64) -> (f64, f64) {
    let spheres: Vec<Sphere> = spheres.iter().map(Sphere::wrapped).collect();
    let lines = Lines::new(lattice);
    let w = lattice.perpendicular_widths();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut unit = || (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    let points: Vec<(f64, f64)> = (0..samples).map(|_| (unit(), unit())).collect();
    let fractions: Vec<(f64, f64)> = points
        .par_iter()
        .map_init(Vec::new, |iv, &(u, v)| {
            iv.clear();
            for sp in &spheres {
                let (du0, dv0, fw) = (u - sp.frac[0], v - sp.frac[1], sp.frac[2]);
                let (ru, rv) = (sp.radius / w[0], sp.radius / w[1]);
                for mu in (du0 - ru).ceil() as i64..=(du0 + ru).floor() as i64 {
                    for mv in (dv0 - rv).ceil() as i64..=(dv0 + rv).floor() as i64 {
                        if let Some((s0, s1)) = lines.chord(du0 - mu as f64, dv0 - mv as f64, sp.radius) {
                            push_wrapped(iv, fw + s0, fw + s1, sp.sublattice);
                        }
                    }
                }
            }
            sort_by_start(iv);
            union_lengths(iv)
        })
        .collect();
    let n = samples as f64;
    (
        fractions.iter().map(|x| x.0).sum::<f64>() / n,
        fractions.iter().map(|x| x.1).sum::<f64>() / n,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn union_of_intervals() {
        let mut v = vec![
            (0.5, 0.7, true),
            (0.1, 0.2, false),
            (0.15, 0.3, true),
            (0.6, 0.65, false),
        ];
        sort_by_start(&mut v);
        let (all, tagged) = union_lengths(&v);
        assert_relative_eq!(all, 0.4, epsilon = 1e-15);
        assert_relative_eq!(tagged, 0.35, epsilon = 1e-15);
        let mut w = Vec::new();
        push_wrapped(&mut w, 0.9, 1.2, true);
        assert_eq!(w.len(), 2);
        sort_by_start(&mut w);
        assert_relative_eq!(union_lengths(&w).0, 0.3, epsilon = 1e-12);
        let mut full = Vec::new();
        push_wrapped(&mut full, -3.0, 2.0, false);
        assert_eq!(union_lengths(&full), (1.0, 0.0));
    }

    #[test]
    fn the_line_range_of_a_sphere_is_exact() {
        // Every line inside the computed dv range cuts the sphere, lines just outside do not.
        let l = Lattice::from_parameters(9.0, 10.0, 11.0, 70.0, 100.0, 115.0).unwrap();
        let lines = Lines::new(&l);
        for du in [-0.1, -0.03, 0.0, 0.05] {
            let (d0, d1) = lines.dv_range(du, 1.2).unwrap();
            assert!(lines.chord(du, d0 + 1e-9, 1.2).is_some());
            assert!(lines.chord(du, d1 - 1e-9, 1.2).is_some());
            assert!(lines.chord(du, d0 - 1e-9, 1.2).is_none());
            assert!(lines.chord(du, d1 + 1e-9, 1.2).is_none());
        }
    }

    #[test]
    fn lens_volumes() {
        use std::f64::consts::PI;
        // Two unit spheres one radius apart: 5π/12.
        assert_relative_eq!(lens_volume(1.0, 1.0, 1.0), 5.0 * PI / 12.0, epsilon = 1e-14);
        assert_eq!(lens_volume(1.0, 0.5, 1.5), 0.0);
        assert_relative_eq!(
            lens_volume(1.0, 0.5, 0.3),
            4.0 / 3.0 * PI * 0.125,
            epsilon = 1e-14
        );
        // Continuous where one sphere starts to hold the other and where they stop touching.
        assert_relative_eq!(
            lens_volume(1.0, 0.5, 0.5 + 1e-9),
            4.0 / 3.0 * PI * 0.125,
            epsilon = 1e-8
        );
        assert!(lens_volume(1.0, 0.5, 1.5 - 1e-6) < 1e-10);
    }

    #[test]
    fn what_pairs_miss_on_a_line() {
        // n(t): 1, 2, 3, 4, 3, 2, 1 on [0, .1, .2, .25, .3, .4, .5, .6]; (n − 1)(n − 2)/2 = 1 for
        // n = 3, 3 for n = 4. The tagged chords overlap threefold on [.2, .3].
        let chords = [
            (0, 0.0, 0.5, true),
            (0, 0.1, 0.4, true),
            (0, 0.2, 0.3, true),
            (0, 0.25, 0.6, false),
        ];
        let (all, tagged) = beyond_pairs(&chords, &mut Vec::new());
        assert_relative_eq!(all, 0.05 + 0.05 * 3.0 + 0.1, epsilon = 1e-15);
        assert_relative_eq!(tagged, 0.1, epsilon = 1e-15);
        // A chord longer than the period covers part of the line twice.
        let mut long = Vec::new();
        push_counted(&mut long, 3, -0.2, 1.1, false);
        let covered: f64 = long.iter().map(|c| c.2 - c.1).sum();
        assert_relative_eq!(covered, 1.3, epsilon = 1e-15);
        assert!(
            long.iter()
                .all(|c| c.0 == 3 && 0.0 <= c.1 && c.1 < c.2 && c.2 <= 1.0)
        );
    }

    #[test]
    fn integer_floor_and_ceiling() {
        for x in [-2.5, -2.0, -0.3, 0.0, 0.7, 3.0, 1e6 + 0.5] {
            assert_eq!(ifloor(x), x.floor() as i64, "{x}");
            assert_eq!(iceil(x), x.ceil() as i64, "{x}");
        }
    }

    /// The spheres of a structure with radii by element symbol, and its neighbour list (4 Å).
    fn spheres_of(s: &Structure, radius: impl Fn(&str) -> f64) -> (Vec<Sphere>, NeighborList) {
        let spheres = s
            .positions()
            .iter()
            .zip(s.species())
            .map(|(p, e)| Sphere {
                frac: s.lattice().to_fractional(p),
                radius: radius(e.symbol()),
                sublattice: e.symbol() != "Li",
            })
            .collect();
        (spheres, NeighborList::new(s, 4.0).unwrap())
    }

    #[test]
    fn lens_union_registers_every_multiple_overlap_and_agrees_with_the_grid() {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/features/bench_LiAlO2_100.vasp");
        let s = amorph_structure::io::read_structure(&p).unwrap();
        let shannon = |e: &str| match e {
            "Li" => 0.76,
            "Al" => 0.535,
            _ => 1.40,
        };
        // Radii of 1.7 Å: every sphere is in more than MAX_TRIPLES triples.
        for radius in [&shannon as &dyn Fn(&str) -> f64, &|_: &str| 1.7] {
            let (spheres, nl) = spheres_of(&s, radius);
            let lens = union_fractions_lens(s.lattice(), &spheres, Some(&nl), 0.05).unwrap();
            // Every line of every sphere in a triple: the same lines where three spheres overlap.
            let every = union_fractions_lens_with(s.lattice(), &spheres, Some(&nl), 0.05, 0).unwrap();
            assert_relative_eq!(lens.0, every.0, epsilon = 1e-12);
            assert_relative_eq!(lens.1, every.1, epsilon = 1e-12);
            // Without the neighbour list (one is built) the result is the same, up to the order in
            // which the lens volumes are summed (the two lists order neighbours differently).
            let built = union_fractions_lens(s.lattice(), &spheres, None, 0.05).unwrap();
            assert_relative_eq!(built.0, lens.0, max_relative = 1e-14);
            assert_relative_eq!(built.1, lens.1, max_relative = 1e-14);
            let grid = union_fractions_grid(s.lattice(), &spheres, 0.02);
            assert_relative_eq!(lens.0, grid.0, epsilon = 5e-5);
            assert_relative_eq!(lens.1, grid.1, epsilon = 5e-5);
            assert!(lens.0 > lens.1 && lens.0 < 0.99);
        }
    }

    #[test]
    fn lens_union_with_spheres_larger_than_the_cell() {
        // Two spheres overlapping their own images (chords longer than c, triples of images) in a
        // small triclinic cell: the neighbour list of 4 Å is too short and one is built.
        let l = Lattice::from_parameters(3.2, 3.4, 3.0, 80.0, 95.0, 105.0).unwrap();
        let spheres = [
            Sphere {
                frac: Vector3::new(0.1, 0.2, 0.9),
                radius: 2.1,
                sublattice: false,
            },
            Sphere {
                frac: Vector3::new(0.55, 0.6, 0.5),
                radius: 0.7,
                sublattice: true,
            },
        ];
        let lens = union_fractions_lens(&l, &spheres, None, 0.05).unwrap();
        let grid = union_fractions_grid(&l, &spheres, 0.005);
        assert!(lens.0 > 0.5 && lens.0 < 0.99, "{lens:?}");
        assert_relative_eq!(lens.0, grid.0, epsilon = 1e-4);
        let single = 4.0 / 3.0 * std::f64::consts::PI * 0.7f64.powi(3) / l.volume();
        assert_relative_eq!(lens.1, single, epsilon = 1e-14);
        assert_relative_eq!(grid.1, single, epsilon = 1e-4);
    }

    #[test]
    fn shortest_lattice_vector_of_a_skewed_cell() {
        // a = (4, 0, 0), b = (3.9, 1, 0): b − a = (−0.1, 1, 0) is the shortest.
        let l = Lattice::from_vectors(
            Vector3::new(4.0, 0.0, 0.0),
            Vector3::new(3.9, 1.0, 0.0),
            Vector3::new(0.0, 0.0, 5.0),
        )
        .unwrap();
        let v = shortest_lattice_vector(&l);
        assert_relative_eq!(v.norm(), (0.01f64 + 1.0).sqrt(), epsilon = 1e-12);
    }
}
