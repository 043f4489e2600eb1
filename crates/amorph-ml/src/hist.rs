//! Histogram split finding (XGBoost's `tree_method="hist"`).
//!
//! Every feature is binned once per fit into at most `max_bin` quantile bins, and the bin indices
//! are stored row-major (one byte per feature when `max_bin ≤ 256`), so that adding a row to the
//! histograms of a node reads one short contiguous record. A tree grows level by level: the rows
//! of a node are a contiguous range of one index array, partitioned stably at each split; the
//! gradient histograms of all nodes of a level are built together, in parallel over nodes and
//! blocks of features, and only the smaller child of each split is built: the larger one is its
//! parent's histogram minus the smaller's, computed in place. Nodes with few rows (under two
//! histogram widths) keep no histogram: their search builds one in a scratch buffer, marks the
//! occupied bins in a bitmap and visits only those. Split scores are compared by
//! cross-multiplying the two-child gain fractions (no division per candidate). Every bin sums its
//! rows in row order whatever the number of threads, so the trees do not depend on it. Histogram
//! buffers are pooled across nodes and trees.

use std::ops::Range;

use rayon::prelude::*;

use crate::grow::{Matrix, Rule, Stats, XgbGain};
use crate::tree::{LEAF, Node, Tree};

/// Row × feature entries of one histogram-building task.
const BLOCK_WORK: usize = 1 << 15;
/// Work (entries) below which a step of a level runs on the calling thread.
const PAR_MIN: usize = 1 << 14;
/// The same for split search, whose candidates cost several histogram additions each.
const PAR_MIN_SEARCH: usize = 1 << 12;

/// Sum of gradients `g` and hessians `h` of a set of rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct GradPair {
    pub g: f64,
    pub h: f64,
}

impl GradPair {
    #[inline]
    fn add(&mut self, o: GradPair) {
        self.g += o.g;
        self.h += o.h;
    }
    #[inline]
    fn minus(self, o: GradPair) -> GradPair {
        GradPair {
            g: self.g - o.g,
            h: self.h - o.h,
        }
    }
    fn stats(self, n: usize) -> Stats {
        Stats {
            a: self.g,
            b: self.h,
            c: 0.0,
            n: n as u32,
        }
    }
}

/// A stored bin index.
trait Bin: Copy + Send + Sync {
    fn idx(self) -> usize;

    /// Adds the rows `rows` to the histograms `hist` of the features `feats` (one block of
    /// `stride` slots per feature).
    fn build(
        bins: &[Self],
        d: usize,
        stride: usize,
        grad: &[GradPair],
        rows: &[u32],
        feats: &[usize],
        hist: &mut [GradPair],
    ) {
        for &r in rows {
            let r = r as usize;
            let gp = grad[r];
            let brow = &bins[r * d..(r + 1) * d];
            for (h, &f) in hist.chunks_exact_mut(stride).zip(feats) {
                h[brow[f].idx()].add(gp);
            }
        }
    }
}

impl Bin for u8 {
    #[inline]
    fn idx(self) -> usize {
        self as usize
    }

    /// With byte bins the stride is 256: a bin indexes its feature's block without a bounds
    /// check, and a block of consecutive features reads a contiguous part of each row.
    fn build(
        bins: &[u8],
        d: usize,
        stride: usize,
        grad: &[GradPair],
        rows: &[u32],
        feats: &[usize],
        hist: &mut [GradPair],
    ) {
        let (blocks, _) = hist.as_chunks_mut::<256>();
        let contiguous = feats
            .last()
            .zip(feats.first())
            .is_some_and(|(l, f)| l - f + 1 == feats.len());
        if stride != 256 || !contiguous {
            for &r in rows {
                let r = r as usize;
                let gp = grad[r];
                let brow = &bins[r * d..(r + 1) * d];
                for (h, &f) in blocks.iter_mut().zip(feats) {
                    h[brow[f] as usize].add(gp);
                }
            }
            return;
        }
        let f0 = feats[0];
        let f1 = f0 + feats.len();
        for &r in rows {
            let r = r as usize;
            let gp = grad[r];
            for (h, &b) in blocks.iter_mut().zip(&bins[r * d + f0..r * d + f1]) {
                h[b as usize].add(gp);
            }
        }
    }
}

impl Bin for u16 {
    #[inline]
    fn idx(self) -> usize {
        self as usize
    }
}

/// Row-major bin indices, `n × d`.
enum Bins {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// Features binned once for histogram split finding.
pub(crate) struct Binned {
    n: usize,
    d: usize,
    /// Per feature, the cut values: a row is in bin `b` = number of cuts ≤ x, and a split after
    /// bin `b` sends `x < cuts[b]` left.
    cuts: Vec<Vec<f64>>,
    /// Histogram slots per feature: the largest number of bins of any feature.
    stride: usize,
    bins: Bins,
}

/// Cut values of one column: midpoints between consecutive distinct values if there are at most
/// `max_bin` of them, else the values at the `q / max_bin` quantiles.
fn cuts_of(column: &[f64], max_bin: usize) -> Vec<f64> {
    let mut sorted = column.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    if distinct.len() <= max_bin {
        distinct
            .windows(2)
            .map(|w| XgbGain::threshold(w[0], w[1]))
            .collect()
    } else {
        let n = sorted.len();
        let mut cuts: Vec<f64> = (1..max_bin).map(|q| sorted[q * n / max_bin]).collect();
        cuts.dedup();
        cuts.retain(|&v| v > sorted[0]);
        cuts
    }
}

/// Rows per task when transposing the bins to row-major order.
const TRANSPOSE_ROWS: usize = 1024;

fn row_major<B: Bin + Default>(
    cols: &[Vec<u16>],
    n: usize,
    d: usize,
    cast: impl Fn(u16) -> B + Sync,
) -> Vec<B> {
    let mut out = vec![B::default(); n * d];
    out.par_chunks_mut(d * TRANSPOSE_ROWS)
        .enumerate()
        .for_each(|(ci, chunk)| {
            let r0 = ci * TRANSPOSE_ROWS;
            for (i, row) in chunk.chunks_exact_mut(d).enumerate() {
                for (v, c) in row.iter_mut().zip(cols) {
                    *v = cast(c[r0 + i]);
                }
            }
        });
    out
}

impl Binned {
    /// Bins every column of `m` (at most `max_bin ≤ 65 536` bins per feature).
    pub(crate) fn new(m: &Matrix, max_bin: usize) -> Binned {
        let (n, d) = (m.n, m.d());
        let (cuts, cols): (Vec<Vec<f64>>, Vec<Vec<u16>>) = m
            .cols
            .par_iter()
            .map(|c| {
                let cuts = cuts_of(c, max_bin);
                let bins = c
                    .iter()
                    .map(|&x| cuts.partition_point(|&t| t <= x) as u16)
                    .collect();
                (cuts, bins)
            })
            .unzip();
        let mut stride = cuts.iter().map(|c| c.len() + 1).max().unwrap_or(1);
        let bins = if stride <= 256 {
            stride = 256;
            Bins::U8(row_major(&cols, n, d, |b| b as u8))
        } else {
            Bins::U16(row_major(&cols, n, d, |b| b))
        };
        Binned {
            n,
            d,
            cuts,
            stride,
            bins,
        }
    }
}

/// A node whose split is searched in the current level. A node with fewer rows than
/// `SMALL_STRIDES ×` [`Binned::stride`] is *small*: it has no stored histogram, and its search builds one in a
/// scratch buffer and visits the occupied bins only.
struct Open {
    id: usize,
    rows: Range<usize>,
    depth: usize,
    sum: GradPair,
    /// Histograms (one block of `stride` slots per used feature), `None` for a small node.
    hist: Option<Vec<GradPair>>,
}

/// Best split of one feature of a node: after bin `bin` of used feature `k`.
#[derive(Clone, Copy)]
struct Cand {
    score: f64,
    k: usize,
    bin: usize,
    left: GradPair,
}

fn pick(a: Option<Cand>, b: Option<Cand>) -> Option<Cand> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.score > a.score { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Scratch of a task that searches small nodes: a histogram and per-feature occupancy bitmaps,
/// both all zero between nodes.
#[derive(Default)]
struct Scratch {
    hist: Vec<GradPair>,
    occupied: Vec<u64>,
}

/// Nodes with fewer rows than this many histogram strides are searched as small nodes.
const SMALL_STRIDES: usize = 2;

/// Most tasks over which the small nodes of a level are spread.
const SMALL_TASKS: usize = 16;

/// Grows trees on one [`Binned`] table, reusing its buffers from tree to tree.
pub(crate) struct HistGrower<'a> {
    b: &'a Binned,
    /// Row indices; every node of the last tree holds a contiguous range.
    rows: Vec<u32>,
    /// Per node of the last tree, its range of `rows`.
    ranges: Vec<Range<usize>>,
    scratch: Vec<u32>,
    /// Free histogram buffers.
    pool: Vec<Vec<GradPair>>,
    /// Scratch of the small-node tasks.
    small: Vec<Scratch>,
}

impl<'a> HistGrower<'a> {
    pub(crate) fn new(b: &'a Binned) -> Self {
        HistGrower {
            b,
            rows: Vec::with_capacity(b.n),
            ranges: Vec::new(),
            scratch: Vec::new(),
            pool: Vec::new(),
            small: Vec::new(),
        }
    }

    /// Grows one tree on the rows `r` with `sample[r]` (all rows if `None`); `grad[r]` is the
    /// gradient and hessian of row `r`; `feats` are the features that may split (ascending).
    pub(crate) fn grow(
        &mut self,
        rule: &XgbGain,
        grad: &[GradPair],
        sample: Option<&[bool]>,
        feats: &[usize],
    ) -> Tree {
        let b = self.b;
        match &b.bins {
            Bins::U8(bins) => self.grow_with(bins, rule, grad, sample, feats),
            Bins::U16(bins) => self.grow_with(bins, rule, grad, sample, feats),
        }
    }

    /// The training rows that end in node `id` of the last tree grown.
    pub(crate) fn rows_of(&self, id: usize) -> &[u32] {
        &self.rows[self.ranges[id].clone()]
    }

    /// A zeroed histogram buffer of `len` slots.
    fn buffer(&mut self, len: usize) -> Vec<GradPair> {
        let mut v = self.pool.pop().unwrap_or_default();
        v.clear();
        v.resize(len, GradPair::default());
        v
    }

    fn release(&mut self, hist: Option<Vec<GradPair>>) {
        if let Some(h) = hist {
            self.pool.push(h);
        }
    }

    fn grow_with<B: Bin>(
        &mut self,
        bins: &[B],
        rule: &XgbGain,
        grad: &[GradPair],
        sample: Option<&[bool]>,
        feats: &[usize],
    ) -> Tree {
        let b = self.b;
        let (d, stride) = (b.d, b.stride);
        let hl = feats.len() * stride;
        let is_small = |rows: usize| rows < SMALL_STRIDES * stride;
        self.rows.clear();
        match sample {
            Some(s) => self.rows.extend((0..b.n as u32).filter(|&r| s[r as usize])),
            None => self.rows.extend(0..b.n as u32),
        }
        let mut root = GradPair::default();
        for &r in &self.rows {
            root.add(grad[r as usize]);
        }
        let count = self.rows.len();
        let mut nodes = vec![leaf(rule, root)];
        self.ranges.clear();
        self.ranges.push(0..count);
        let mut level = Vec::new();
        if !feats.is_empty() && rule.splittable(&root.stats(count), 0) {
            let hist = (!is_small(count)).then(|| {
                let mut hist = self.buffer(hl);
                let jobs = vec![(0..count, &mut hist[..])];
                build_level(bins, d, stride, grad, feats, &self.rows, jobs);
                hist
            });
            level.push(Open {
                id: 0,
                rows: 0..count,
                depth: 0,
                sum: root,
                hist,
            });
        }
        while !level.is_empty() {
            let best = self.search(bins, rule, grad, feats, &level);
            // (smaller child, larger child, whether each is searched in the next level)
            let mut pairs: Vec<(Open, Open, bool, bool)> = Vec::new();
            for (o, c) in level.into_iter().zip(best) {
                let accepted = c.and_then(|c| {
                    let right = o.sum.minus(c.left);
                    rule.accept(c.score, &c.left.stats(0), &right.stats(0), &o.sum.stats(0))
                        .map(|gain| (c, gain))
                });
                let Some((c, gain)) = accepted else {
                    self.release(o.hist);
                    continue;
                };
                let f = feats[c.k];
                let (s, e) = (o.rows.start, o.rows.end);
                let w = s + partition(&mut self.rows[s..e], &mut self.scratch, |r| {
                    bins[r as usize * d + f].idx() <= c.bin
                });
                let right = o.sum.minus(c.left);
                let l = nodes.len();
                nodes.push(leaf(rule, c.left));
                nodes.push(leaf(rule, right));
                self.ranges.push(s..w);
                self.ranges.push(w..e);
                let node = &mut nodes[o.id];
                node.feature = f as u32;
                node.threshold = b.cuts[f][c.bin];
                node.left = l as u32;
                node.right = (l + 1) as u32;
                node.gain = gain;
                let depth = o.depth + 1;
                let left_open = rule.splittable(&c.left.stats(w - s), depth);
                let right_open = rule.splittable(&right.stats(e - w), depth);
                let child = |id, rows, sum| Open {
                    id,
                    rows,
                    depth,
                    sum,
                    hist: None,
                };
                let (lc, rc) = (child(l, s..w, c.left), child(l + 1, w..e, right));
                let (mut small, mut large, small_open, large_open) = if w - s <= e - w {
                    (lc, rc, left_open, right_open)
                } else {
                    (rc, lc, right_open, left_open)
                };
                let large_hist = large_open && !is_small(large.rows.len());
                let small_hist = small_open && !is_small(small.rows.len());
                if large_hist {
                    // The larger child's histograms are the parent's minus the smaller's.
                    if let Some(h) = o.hist {
                        small.hist = Some(self.buffer(hl));
                        large.hist = Some(h);
                    } else {
                        large.hist = Some(self.buffer(hl));
                    }
                } else {
                    self.release(o.hist);
                    if small_hist {
                        small.hist = Some(self.buffer(hl));
                    }
                }
                if small_open || large_open {
                    pairs.push((small, large, small_open, large_open));
                } else {
                    self.release(small.hist);
                    self.release(large.hist);
                }
            }
            // Build every smaller child's histograms, and the larger child's where the parent had
            // none; then subtract.
            let mut jobs = Vec::new();
            for (small, large, _, _) in pairs.iter_mut() {
                match (&mut small.hist, &mut large.hist) {
                    (Some(h), _) => jobs.push((small.rows.clone(), &mut h[..])),
                    (None, Some(h)) => jobs.push((large.rows.clone(), &mut h[..])),
                    (None, None) => {}
                }
            }
            build_level(bins, d, stride, grad, feats, &self.rows, jobs);
            let subtract = |p: &mut (Open, Open, bool, bool)| {
                if let (Some(s), Some(l)) = (&p.0.hist, &mut p.1.hist) {
                    for (a, s) in l.iter_mut().zip(s) {
                        *a = a.minus(*s);
                    }
                }
            };
            if pairs.len() * hl >= PAR_MIN {
                pairs.par_iter_mut().for_each(subtract);
            } else {
                pairs.iter_mut().for_each(subtract);
            }
            level = Vec::with_capacity(2 * pairs.len());
            for (small, large, small_open, large_open) in pairs {
                let (mut x, mut y) = ((small, small_open), (large, large_open));
                if x.0.id > y.0.id {
                    std::mem::swap(&mut x, &mut y);
                }
                for (mut o, open) in [x, y] {
                    if open {
                        if is_small(o.rows.len()) {
                            // Built only to be subtracted.
                            self.release(o.hist.take());
                        }
                        level.push(o);
                    } else {
                        self.release(o.hist);
                    }
                }
            }
        }
        Tree {
            nodes,
            decision: XgbGain::DECISION,
        }
    }

    /// The best split of every node of a level (ties go to the first feature).
    fn search<B: Bin>(
        &mut self,
        bins: &[B],
        rule: &XgbGain,
        grad: &[GradPair],
        feats: &[usize],
        level: &[Open],
    ) -> Vec<Option<Cand>> {
        let b = self.b;
        let nf = feats.len();
        let stride = b.stride;
        let gains: Vec<f64> = level.iter().map(|o| rule.node_gain(&o.sum.stats(0))).collect();
        let mut out: Vec<Option<Cand>> = vec![None; level.len()];
        // Nodes with histograms: in parallel over (node, feature).
        let with: Vec<usize> = (0..level.len()).filter(|&i| level[i].hist.is_some()).collect();
        let one = |t: usize| {
            let (i, k) = (with[t / nf], t % nf);
            let nb = b.cuts[feats[k]].len() + 1;
            let o = &level[i];
            let h = o.hist.as_deref().unwrap_or(&[]);
            scan(rule, &h[k * stride..k * stride + nb], o.sum, gains[i], k)
        };
        let tasks = with.len() * nf;
        let cands: Vec<Option<Cand>> = if tasks * stride >= PAR_MIN_SEARCH {
            (0..tasks).into_par_iter().with_min_len(4).map(one).collect()
        } else {
            (0..tasks).map(one).collect()
        };
        for (&i, c) in with.iter().zip(cands.chunks(nf.max(1))) {
            out[i] = c.iter().fold(None, |a, &b| pick(a, b));
        }
        // Small nodes: in parallel over chunks of nodes, each with its scratch.
        let small: Vec<usize> = (0..level.len()).filter(|&i| level[i].hist.is_none()).collect();
        if small.is_empty() {
            return out;
        }
        let work: usize = small.iter().map(|&i| level[i].rows.len() * nf).sum();
        let n_tasks = if work >= PAR_MIN_SEARCH {
            SMALL_TASKS.min(small.len())
        } else {
            1
        };
        let words = stride.div_ceil(64);
        while self.small.len() < n_tasks {
            self.small.push(Scratch {
                hist: vec![GradPair::default(); nf.max(b.d) * stride],
                occupied: vec![0; nf.max(b.d) * words],
            });
        }
        let per = small.len().div_ceil(n_tasks);
        let rows = &self.rows;
        let found: Vec<Vec<Option<Cand>>> = small
            .par_chunks(per)
            .zip(self.small.par_iter_mut())
            .map(|(chunk, sc)| {
                chunk
                    .iter()
                    .map(|&i| {
                        let o = &level[i];
                        search_small(
                            b,
                            bins,
                            rule,
                            grad,
                            feats,
                            &rows[o.rows.clone()],
                            o.sum,
                            gains[i],
                            sc,
                        )
                    })
                    .collect()
            })
            .collect();
        for (&i, c) in small.iter().zip(found.into_iter().flatten()) {
            out[i] = c;
        }
        out
    }
}

fn leaf(rule: &XgbGain, s: GradPair) -> Node {
    let st = s.stats(0);
    Node {
        feature: LEAF,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value: rule.value(&st),
        cover: rule.cover(&st),
        gain: 0.0,
    }
}

/// Best split of a small node: builds its histograms in the scratch, marks the occupied bins,
/// and visits those in order, leaving the scratch zero again.
#[allow(clippy::too_many_arguments)]
fn search_small<B: Bin>(
    b: &Binned,
    bins: &[B],
    rule: &XgbGain,
    grad: &[GradPair],
    feats: &[usize],
    rows: &[u32],
    sum: GradPair,
    parent_gain: f64,
    sc: &mut Scratch,
) -> Option<Cand> {
    let (d, stride) = (b.d, b.stride);
    let words = stride.div_ceil(64);
    let nf = feats.len();
    let hist = &mut sc.hist[..nf * stride];
    B::build(bins, d, stride, grad, rows, feats, hist);
    let occupied = &mut sc.occupied[..nf * words];
    for &r in rows {
        let brow = &bins[r as usize * d..(r as usize + 1) * d];
        for (occ, &f) in occupied.chunks_exact_mut(words).zip(feats) {
            let bin = brow[f].idx();
            occ[bin / 64] |= 1 << (bin % 64);
        }
    }
    let mut best = None;
    for (k, (h, occ)) in hist
        .chunks_exact_mut(stride)
        .zip(occupied.chunks_exact_mut(words))
        .enumerate()
    {
        let last = b.cuts[feats[k]].len();
        let found = scan_occupied(rule, h, occ, last, sum, parent_gain, k);
        best = pick(best, found);
    }
    best
}

/// Stable partition of `rows`: those with `left(row)` first; returns their number.
fn partition(rows: &mut [u32], scratch: &mut Vec<u32>, left: impl Fn(u32) -> bool) -> usize {
    scratch.clear();
    let mut w = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        if left(r) {
            rows[w] = r;
            w += 1;
        } else {
            scratch.push(r);
        }
    }
    rows[w..].copy_from_slice(scratch);
    w
}

/// Builds the histograms of several nodes (their row ranges and zeroed buffers): in parallel
/// over nodes and blocks of features when the work is large. The blocks depend on the data only,
/// and each bin adds its rows in order.
fn build_level<B: Bin>(
    bins: &[B],
    d: usize,
    stride: usize,
    grad: &[GradPair],
    feats: &[usize],
    rows: &[u32],
    jobs: Vec<(Range<usize>, &mut [GradPair])>,
) {
    let nf = feats.len();
    let total: usize = jobs.iter().map(|(r, _)| r.len() * nf).sum();
    if total < PAR_MIN {
        for (r, h) in jobs {
            B::build(bins, d, stride, grad, &rows[r], feats, h);
        }
        return;
    }
    let mut tasks = Vec::new();
    for (r, h) in jobs {
        let blocks = (r.len() * nf).div_ceil(BLOCK_WORK).clamp(1, nf);
        let per = nf.div_ceil(blocks);
        for (fs, hb) in feats.chunks(per).zip(h.chunks_mut(per * stride)) {
            tasks.push((&rows[r.clone()], fs, hb));
        }
    }
    tasks
        .into_par_iter()
        .for_each(|(rr, fs, hb)| B::build(bins, d, stride, grad, rr, fs, hb));
}

/// Best split of one feature from its histogram (`hist` holds its bins only).
///
/// A split's score is [`XgbGain::score`]: `gain(left) + gain(right) − parent_gain` with
/// `gain = T(G)² / (H + λ)` (`T` the L1 soft threshold, 0 if `H ≤ 0`), for children that pass
/// `min_child_weight`. The scan compares `T(G_l)²(H_r + λ) + T(G_r)²(H_l + λ)` over
/// `(H_l + λ)(H_r + λ)` by cross-multiplying, without a division; the score
/// of the best split is then computed as `XgbGain::score` does.
#[inline]
fn scan(rule: &XgbGain, hist: &[GradPair], sum: GradPair, parent_gain: f64, k: usize) -> Option<Cand> {
    let (alpha, lambda, mcw) = (rule.alpha, rule.lambda, rule.min_child_weight);
    // (numerator, denominator > 0) of the gain of a child.
    let part = |g: f64, h: f64| {
        let t = (g - alpha).max(0.0) + (g + alpha).min(0.0);
        if h > 0.0 { (t * t, h + lambda) } else { (0.0, 1.0) }
    };
    let (mut gl, mut hl) = (0.0, 0.0);
    let (mut best_num, mut best_den) = (-1.0, 1.0);
    let mut best: Option<(usize, GradPair)> = None;
    for (bin, e) in hist[..hist.len().saturating_sub(1)].iter().enumerate() {
        // An empty bin adds zeros and repeats the previous split: it is no candidate.
        if e.g == 0.0 && e.h == 0.0 {
            continue;
        }
        gl += e.g;
        hl += e.h;
        let (gr, hr) = (sum.g - gl, sum.h - hl);
        let ((nl, dl), (nr, dr)) = (part(gl, hl), part(gr, hr));
        let num = nl * dr + nr * dl;
        let den = dl * dr;
        if (hl >= mcw) & (hr >= mcw) & (num * best_den > best_num * den) {
            best_num = num;
            best_den = den;
            best = Some((bin, GradPair { g: gl, h: hl }));
        }
    }
    best.and_then(|(bin, left)| {
        let right = sum.minus(left);
        rule.score(&left.stats(0), &right.stats(0), parent_gain)
            .map(|score| Cand { score, k, bin, left })
    })
}

/// Numerator and (positive) denominator of [`XgbGain::gain`] of a child with gradient sum `g` and
/// hessian sum `h` that passed the `min_child_weight` test: `T(g)²` over `h + λ`, or 0 if `h ≤ 0`.
#[inline(always)]
fn gain_parts(g: f64, h: f64, alpha: f64, lambda: f64) -> (f64, f64) {
    // The L1 soft threshold, written so that it compiles to max/min instructions.
    let (up, down) = (g - alpha, g + alpha);
    let t = (if up > 0.0 { up } else { 0.0 }) + (if down < 0.0 { down } else { 0.0 });
    if h > 0.0 { (t * t, h + lambda) } else { (0.0, 1.0) }
}

/// [`scan`] over the occupied bins of one feature of a small node (`occupied` has a bit per
/// bin; `last` is the feature's last bin, never a split point); zeroes the bins and bits read.
fn scan_occupied(
    rule: &XgbGain,
    hist: &mut [GradPair],
    occupied: &mut [u64],
    last: usize,
    sum: GradPair,
    parent_gain: f64,
    k: usize,
) -> Option<Cand> {
    let (alpha, lambda, mcw) = (rule.alpha, rule.lambda, rule.min_child_weight);
    let part = |g, h| gain_parts(g, h, alpha, lambda);
    let (mut gl, mut hl) = (0.0, 0.0);
    let (mut best_num, mut best_den) = (-1.0, 1.0);
    let mut best: Option<(usize, GradPair)> = None;
    for (wi, word) in occupied.iter_mut().enumerate() {
        let mut bits = *word;
        *word = 0;
        while bits != 0 {
            let bin = wi * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let e = std::mem::take(&mut hist[bin]);
            if bin >= last || (e.g == 0.0 && e.h == 0.0) {
                continue;
            }
            gl += e.g;
            hl += e.h;
            let (gr, hr) = (sum.g - gl, sum.h - hl);
            let ((nl, dl), (nr, dr)) = (part(gl, hl), part(gr, hr));
            let num = nl * dr + nr * dl;
            let den = dl * dr;
            if (hl >= mcw) & (hr >= mcw) & (num * best_den > best_num * den) {
                best_num = num;
                best_den = den;
                best = Some((bin, GradPair { g: gl, h: hl }));
            }
        }
    }
    best.and_then(|(bin, left)| {
        let right = sum.minus(left);
        rule.score(&left.stats(0), &right.stats(0), parent_gain)
            .map(|score| Cand { score, k, bin, left })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    impl Binned {
        fn bin(&self, r: usize, f: usize) -> usize {
            match &self.bins {
                Bins::U8(v) => v[r * self.d + f] as usize,
                Bins::U16(v) => v[r * self.d + f] as usize,
            }
        }
    }

    /// A table with a few repeated values, and gradients that are multiples of 1/4 (hessians of
    /// 1/4 to 2) so that every sum is exact in any order: the grower must then make exactly the
    /// splits of a direct search.
    fn data(n: usize, d: usize, seed: u64) -> (Matrix, Vec<GradPair>) {
        let mut rng = Rng::new(seed);
        let cols = (0..d)
            .map(|j| {
                (0..n)
                    .map(|_| {
                        let u = rng.uniform();
                        if j % 3 == 2 { (u * 7.0).floor() } else { u }
                    })
                    .collect()
            })
            .collect();
        let grad = (0..n)
            .map(|_| GradPair {
                g: (rng.below(65) as f64 - 32.0) / 4.0,
                h: (rng.below(8) + 1) as f64 / 4.0,
            })
            .collect();
        (Matrix { n, cols }, grad)
    }

    /// Depth-first search of every node from histograms built from its own rows.
    fn reference(b: &Binned, rule: &XgbGain, grad: &[GradPair], rows: &[u32], feats: &[usize]) -> Tree {
        #[allow(clippy::too_many_arguments)]
        fn node(
            b: &Binned,
            rule: &XgbGain,
            grad: &[GradPair],
            feats: &[usize],
            rows: Vec<u32>,
            depth: usize,
            sum: GradPair,
            nodes: &mut Vec<Node>,
        ) -> usize {
            let id = nodes.len();
            nodes.push(leaf(rule, sum));
            if !rule.splittable(&sum.stats(rows.len()), depth) {
                return id;
            }
            let pg = rule.node_gain(&sum.stats(0));
            let mut best: Option<(f64, usize, usize, GradPair)> = None;
            for &f in feats {
                let mut hist = vec![GradPair::default(); b.cuts[f].len() + 1];
                for &r in &rows {
                    hist[b.bin(r as usize, f)].add(grad[r as usize]);
                }
                let mut left = GradPair::default();
                let mut fb: Option<(f64, usize, usize, GradPair)> = None;
                for (bin, e) in hist[..hist.len() - 1].iter().enumerate() {
                    if e.g == 0.0 && e.h == 0.0 {
                        continue;
                    }
                    left.add(*e);
                    let right = sum.minus(left);
                    if let Some(sc) = rule.score(&left.stats(0), &right.stats(0), pg)
                        && fb.is_none_or(|x| sc > x.0)
                    {
                        fb = Some((sc, f, bin, left));
                    }
                }
                if let Some(x) = fb
                    && best.is_none_or(|y| x.0 > y.0)
                {
                    best = Some(x);
                }
            }
            let Some((score, f, bin, left)) = best else {
                return id;
            };
            let right = sum.minus(left);
            let Some(gain) = rule.accept(score, &left.stats(0), &right.stats(0), &sum.stats(0)) else {
                return id;
            };
            let (lr, rr): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| b.bin(r as usize, f) <= bin);
            let l = node(b, rule, grad, feats, lr, depth + 1, left, nodes);
            let r = node(b, rule, grad, feats, rr, depth + 1, right, nodes);
            let n = &mut nodes[id];
            n.feature = f as u32;
            n.threshold = b.cuts[f][bin];
            n.left = l as u32;
            n.right = r as u32;
            n.gain = gain;
            id
        }
        let mut sum = GradPair::default();
        for &r in rows {
            sum.add(grad[r as usize]);
        }
        let mut nodes = Vec::new();
        node(b, rule, grad, feats, rows.to_vec(), 0, sum, &mut nodes);
        Tree {
            nodes,
            decision: XgbGain::DECISION,
        }
    }

    fn rule(max_depth: usize, min_child_weight: f64) -> XgbGain {
        XgbGain {
            max_depth,
            lambda: 1.0,
            alpha: 0.5,
            min_child_weight,
            eta: 0.5,
        }
    }

    /// Same leaves for every row, same splits (as a sorted list), same number of nodes.
    fn assert_same_tree(a: &Tree, b: &Tree, m: &Matrix) {
        assert_eq!(a.n_nodes(), b.n_nodes());
        for i in 0..m.n {
            assert_eq!(
                a.predict_column_major(&m.cols, i),
                b.predict_column_major(&m.cols, i),
                "row {i}"
            );
        }
        let splits = |t: &Tree| {
            let mut v: Vec<(u32, u64, u64)> = t
                .nodes
                .iter()
                .filter(|n| n.feature != LEAF)
                .map(|n| (n.feature, n.threshold.to_bits(), n.gain.to_bits()))
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(splits(a), splits(b));
    }

    #[test]
    fn level_wise_growth_with_subtraction_equals_a_direct_search() {
        let (m, grad) = data(3000, 8, 5);
        // Byte bins (64 per feature) and 16-bit bins (up to 1000 per feature).
        for max_bin in [64, 1000] {
            let b = Binned::new(&m, max_bin);
            assert_eq!(matches!(b.bins, Bins::U8(_)), max_bin <= 256);
            let mut g = HistGrower::new(&b);
            let sample: Vec<bool> = (0..m.n).map(|r| r % 7 != 3).collect();
            let all: Vec<usize> = (0..8).collect();
            for (feats, sample, r) in [
                (&all[..], None, rule(6, 1.0)),
                (&[0, 2, 3, 6][..], Some(&sample[..]), rule(7, 0.0)),
                (&all[..], Some(&sample[..]), rule(3, 4.0)),
            ] {
                let tree = g.grow(&r, &grad, sample, feats);
                let rows: Vec<u32> = (0..m.n as u32)
                    .filter(|&i| sample.is_none_or(|s| s[i as usize]))
                    .collect();
                assert_same_tree(&tree, &reference(&b, &r, &grad, &rows, feats), &m);
                assert!(tree.n_nodes() > 2 * r.max_depth + 1, "{}", tree.n_nodes());
                // Every leaf holds exactly the rows that reach it.
                for (id, n) in tree.nodes.iter().enumerate() {
                    if n.feature == LEAF {
                        for &row in g.rows_of(id) {
                            let mut x = vec![0.0; 8];
                            m.row_into(row as usize, &mut x);
                            assert_eq!(tree.predict_row(&x), n.value);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn trees_do_not_depend_on_the_thread_count() {
        // Gradients that are not exact, so that a change of summation order would show.
        let (m, mut grad) = data(4000, 10, 9);
        for (i, gp) in grad.iter_mut().enumerate() {
            gp.g += (i as f64 * 0.37).sin() / 3.0;
        }
        let b = Binned::new(&m, 256);
        let feats: Vec<usize> = (0..10).collect();
        let grow = || {
            let mut g = HistGrower::new(&b);
            (0..3)
                .map(|t| g.grow(&rule(8, 1.0 + t as f64), &grad, None, &feats))
                .collect::<Vec<_>>()
        };
        let pool = |k| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .expect("pool")
        };
        let one = pool(1).install(grow);
        let three = pool(3).install(grow);
        assert_eq!(one, three);
        assert!(one[0].n_nodes() > 100);
    }

    #[test]
    fn cuts_are_midpoints_or_quantiles() {
        assert_eq!(cuts_of(&[3.0, 1.0, 2.0, 1.0], 4), vec![1.5, 2.5]);
        let c: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let cuts = cuts_of(&c, 4);
        assert_eq!(cuts, vec![25.0, 50.0, 75.0]);
        let m = Matrix {
            n: 100,
            cols: vec![c],
        };
        let b = Binned::new(&m, 4);
        assert_eq!((0..100).map(|r| b.bin(r, 0)).filter(|&x| x == 1).count(), 25);
    }
}
