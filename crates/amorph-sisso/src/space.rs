//! Feature-space construction: an arena of expressions, stored operand levels, a streamed last level.
//!
//! Features of complexity `c` (operators in the expression) are built from features of lower
//! complexity: `op(a)` with `a` of complexity `c − 1`, `a op b` with complexities summing to `c − 1`.
//! Every level below the largest complexity is stored (values, mean, centred norm) because it serves
//! as operands; the last level is never stored: its features are evaluated in parallel, task by
//! task, and scored against the target (or residual) on the fly, so memory is bounded by the
//! stored levels, which the budget caps.

use std::collections::HashSet;
use std::ops::Range;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::expr::{Expr, Op};
use crate::units::Dim;

/// How a feature is made from stored features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Primary(u32),
    Unary(Op, u32),
    Binary(Op, u32, u32),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) complexity: u8,
    pub(crate) rung: u8,
    pub(crate) dim: Dim,
}

/// Options of the construction (validated by the params builder).
#[derive(Debug, Clone)]
pub(crate) struct SpaceOptions {
    pub(crate) ops: Vec<Op>,
    pub(crate) max_complexity: u8,
    pub(crate) rung: u8,
    pub(crate) fmax_min: f64,
    pub(crate) fmax_max: f64,
    pub(crate) dedup_tol: f64,
    pub(crate) memory_budget: u64,
}

/// A unit of parallel work: one operator and one left operand, looping over the right operands.
#[derive(Debug, Clone, Copy)]
enum Task {
    Unary(Op, u32),
    /// `op`, left operand, complexity class of the right operands.
    Binary(Op, u32, u8),
}

/// Order key of a feature in the space: stored features by id, then streamed ones by task and
/// position in the task; all ties are broken by it, so results do not depend on thread count.
pub(crate) type Key = (u64, u64);

/// A feature picked by screening.
#[derive(Debug, Clone)]
pub(crate) struct Picked {
    pub(crate) kind: Kind,
    pub(crate) score: f64,
}

pub(crate) struct Space {
    n: usize,
    opts: SpaceOptions,
    pub(crate) nodes: Vec<Node>,
    values: Vec<f64>,
    mean: Vec<f64>,
    norm: Vec<f64>,
    by_c: Vec<Vec<u32>>,
    /// (|signature|, id) of stored features, sorted.
    sigs: Vec<(f64, u32)>,
    weights: Vec<f64>,
    /// Tasks of the streamed last level (empty when everything is stored).
    stream: Vec<Task>,
    /// Number of valid streamed features (counted at the first screening).
    pub(crate) streamed_count: Option<u64>,
    /// Multi-task screening: the rows of every task (contiguous); empty for a single task.
    segments: Vec<Range<usize>>,
}

/// SISSO's multi-task score of a feature `v`: `sqrt(Σ_t (ẑ_t · r_t)²) / ‖r‖`, with `ẑ_t` the feature
/// centred and scaled to unit norm within task `t` (no contribution if it is constant there) and
/// `r_t` the task's part of the residual (centred within each task, norm `rn`).
fn task_score(v: &[f64], r: &[f64], segments: &[Range<usize>], rn: f64) -> f64 {
    let mut acc = 0.0;
    for seg in segments {
        let (x, y) = (&v[seg.clone()], &r[seg.clone()]);
        let nt = x.len() as f64;
        let mean = x.iter().sum::<f64>() / nt;
        let mut ss = 0.0;
        let mut sr = 0.0;
        let mut maxabs = 0.0f64;
        for (a, b) in x.iter().zip(y) {
            let c = a - mean;
            ss += c * c;
            sr += c * b;
            maxabs = maxabs.max(a.abs());
        }
        let nrm = ss.sqrt();
        if nrm > 1e-12 * maxabs * nt.sqrt() {
            let s = sr / nrm;
            acc += s * s;
        }
    }
    acc.sqrt() / rn
}

/// Σx, Σx², Σxr and max|x| (NaN if any x is NaN) in one pass, on four independent lanes so that
/// the loop is not bound by the latency of one chain of additions; the order is fixed, so the result
/// is the same on every run.
#[inline]
fn moments(v: &[f64], r: &[f64]) -> (f64, f64, f64, f64) {
    let mut s1 = [0.0; 4];
    let mut s2 = [0.0; 4];
    let mut sr = [0.0; 4];
    let mut mx = [0.0f64; 4];
    let (vc, rc) = (v.chunks_exact(4), r.chunks_exact(4));
    let (vt, rt) = (vc.remainder(), rc.remainder());
    for (x, y) in vc.zip(rc) {
        for l in 0..4 {
            s1[l] += x[l];
            s2[l] += x[l] * x[l];
            sr[l] += x[l] * y[l];
            let a = x[l].abs();
            // Not f64::max: a NaN must win.
            mx[l] = if a > mx[l] || a.is_nan() { a } else { mx[l] };
        }
    }
    for (l, (x, y)) in vt.iter().zip(rt).enumerate() {
        s1[l] += x;
        s2[l] += x * x;
        sr[l] += x * y;
        let a = x.abs();
        mx[l] = if a > mx[l] || a.is_nan() { a } else { mx[l] };
    }
    let m = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let max = mx
        .iter()
        .fold(0.0f64, |acc, &a| if a > acc || a.is_nan() { a } else { acc });
    (m(s1), m(s2), m(sr), max)
}

/// Centred statistics of a vector, or `None` if it is constant or non-finite.
fn stats(v: &[f64]) -> Option<(f64, f64, f64)> {
    let n = v.len() as f64;
    let mut sum = 0.0;
    let mut maxabs = 0.0f64;
    for &x in v {
        if !x.is_finite() {
            return None;
        }
        sum += x;
        maxabs = maxabs.max(x.abs());
    }
    let mean = sum / n;
    let ss: f64 = v.iter().map(|&x| (x - mean) * (x - mean)).sum();
    let norm = ss.sqrt();
    if norm.is_nan() || norm <= 1e-12 * maxabs * n.sqrt() {
        return None;
    }
    Some((mean, norm, maxabs))
}

impl Space {
    /// Builds the stored levels. `x` is column-major: `x[j]` the values of primary `j`.
    pub(crate) fn build(x: &[Vec<f64>], dims: &[Dim], opts: SpaceOptions) -> Result<Space> {
        let n = x.first().map_or(0, Vec::len);
        let mut weights: Vec<f64> = (0..n)
            .map(|i| {
                // A fixed pseudo-random direction (SplitMix64), the same on every machine.
                let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        let wn = weights.iter().map(|w| w * w).sum::<f64>().sqrt();
        weights.iter_mut().for_each(|w| *w /= wn);
        let mut space = Space {
            n,
            opts,
            nodes: Vec::new(),
            values: Vec::new(),
            mean: Vec::new(),
            norm: Vec::new(),
            by_c: vec![Vec::new()],
            sigs: Vec::new(),
            weights,
            stream: Vec::new(),
            streamed_count: None,
            segments: Vec::new(),
        };
        let mut level = Vec::new();
        for (j, col) in x.iter().enumerate() {
            let (m, nm, _) = stats(col).ok_or_else(|| Error::ConstantColumn(format!("#{j}")))?;
            level.push((
                Node {
                    kind: Kind::Primary(j as u32),
                    complexity: 0,
                    rung: 0,
                    dim: dims[j],
                },
                col.clone(),
                m,
                nm,
            ));
        }
        space.add_level(level);
        let maxc = space.opts.max_complexity;
        for c in 1..=maxc {
            let tasks = space.tasks(c);
            if c == maxc {
                space.stream = tasks;
                break;
            }
            let count: u64 = tasks.par_iter().map(|t| space.count_task(*t)).sum();
            let features = space.nodes.len() as u64 + count;
            // The new level is collected before it is stored: count it twice.
            let needed = (features + count) * (n as u64 * 8 + 64);
            if needed > space.opts.memory_budget {
                return Err(Error::MemoryBudget {
                    what: format!("storing {features} features of complexity < {maxc}"),
                    needed_bytes: needed,
                    budget_bytes: space.opts.memory_budget,
                });
            }
            let new: Vec<_> = tasks
                .par_iter()
                .flat_map_iter(|t| {
                    let mut out = Vec::new();
                    space.run_task(*t, &mut |node, v, _| {
                        if let Some((m, nm, _)) = stats(v) {
                            out.push((node, v.to_vec(), m, nm));
                        }
                    });
                    out
                })
                .collect();
            space.add_level(new);
            space.by_c.push(Vec::new());
            let ids: Vec<u32> = (0..space.nodes.len() as u32)
                .filter(|&i| space.nodes[i as usize].complexity == c)
                .collect();
            space.by_c[c as usize] = ids;
        }
        Ok(space)
    }

    /// Screens by SISSO's multi-task score over these row ranges (one per task, contiguous).
    pub(crate) fn set_tasks(&mut self, segments: Vec<Range<usize>>) {
        self.segments = if segments.len() > 1 { segments } else { Vec::new() };
    }

    pub(crate) fn value(&self, id: u32) -> &[f64] {
        &self.values[id as usize * self.n..(id as usize + 1) * self.n]
    }

    fn signature(&self, v: &[f64], mean: f64, norm: f64) -> f64 {
        (v.iter()
            .zip(&self.weights)
            .map(|(x, w)| (x - mean) * w)
            .sum::<f64>()
            / norm)
            .abs()
    }

    fn sig_eps(&self) -> f64 {
        (2.0 * self.opts.dedup_tol).sqrt() * 1.01 + 1e-12
    }

    fn correlated(&self, a: (&[f64], f64, f64), b: (&[f64], f64, f64)) -> bool {
        let dot: f64 = a.0.iter().zip(b.0).map(|(x, y)| (x - a.1) * (y - b.1)).sum();
        1.0 - (dot / (a.2 * b.2)).abs() < self.opts.dedup_tol
    }

    /// A stored feature (other than `except`) that `v` duplicates, if any.
    fn duplicate_of_stored(&self, v: &[f64], mean: f64, norm: f64, except: Option<u32>) -> Option<u32> {
        let s = self.signature(v, mean, norm);
        let eps = self.sig_eps();
        let lo = self.sigs.partition_point(|(t, _)| *t < s - eps);
        self.sigs[lo..]
            .iter()
            .take_while(|(t, _)| *t <= s + eps)
            .map(|&(_, id)| id)
            .find(|&id| {
                Some(id) != except
                    && self.correlated(
                        (v, mean, norm),
                        (self.value(id), self.mean[id as usize], self.norm[id as usize]),
                    )
            })
    }

    /// Appends a level, dropping features equal or perfectly correlated (up to `dedup_tol`) to a
    /// stored feature or to an earlier one of the level (primaries are kept as given).
    fn add_level(&mut self, level: Vec<(Node, Vec<f64>, f64, f64)>) {
        let sigs: Vec<f64> = level
            .par_iter()
            .map(|(_, v, m, nm)| self.signature(v, *m, *nm))
            .collect();
        let mut order: Vec<usize> = (0..level.len()).collect();
        order.sort_by(|&a, &b| sigs[a].total_cmp(&sigs[b]).then(a.cmp(&b)));
        let eps = self.sig_eps();
        let dup: Vec<bool> = (0..level.len())
            .into_par_iter()
            .map(|k| {
                let (node, v, m, nm) = &level[k];
                // Primaries are kept as given (as SISSO does); constructed features are checked.
                if node.complexity == 0 {
                    return false;
                }
                if self.duplicate_of_stored(v, *m, *nm, None).is_some() {
                    return true;
                }
                let pos = order.partition_point(|&o| sigs[o] < sigs[k] - eps);
                order[pos..]
                    .iter()
                    .take_while(|&&o| sigs[o] <= sigs[k] + eps)
                    .any(|&o| {
                        o < k && {
                            let (_, w, mw, nw) = &level[o];
                            self.correlated((v, *m, *nm), (w, *mw, *nw))
                        }
                    })
            })
            .collect();
        let kept = dup.iter().filter(|d| !**d).count();
        self.values.reserve_exact(kept * self.n);
        self.nodes.reserve_exact(kept);
        for (((node, v, m, nm), s), d) in level.into_iter().zip(sigs).zip(dup) {
            if d {
                continue;
            }
            let id = self.nodes.len() as u32;
            self.nodes.push(node);
            self.values.extend_from_slice(&v);
            self.mean.push(m);
            self.norm.push(nm);
            self.sigs.push((s, id));
            if node.complexity == 0 {
                self.by_c[0].push(id);
            }
        }
        self.sigs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }

    fn tasks(&self, c: u8) -> Vec<Task> {
        let mut tasks = Vec::new();
        let rung = self.opts.rung;
        for &op in &self.opts.ops {
            if op.is_binary() {
                for ca in 0..c {
                    let cb = c - 1 - ca;
                    if ca < cb {
                        continue;
                    }
                    for &a in self.by_c.get(ca as usize).into_iter().flatten() {
                        if self.nodes[a as usize].rung < rung {
                            tasks.push(Task::Binary(op, a, cb));
                        }
                    }
                }
            } else {
                for &a in self.by_c.get(c as usize - 1).into_iter().flatten() {
                    if self.nodes[a as usize].rung < rung {
                        tasks.push(Task::Unary(op, a));
                    }
                }
            }
        }
        tasks
    }

    /// Calls `f(node, values, position)` for every unit-consistent candidate of a task.
    fn run_task(&self, task: Task, f: &mut dyn FnMut(Node, &[f64], u64)) {
        self.eval_task(task, &mut |node, v, pos| {
            if self.in_bounds(v) {
                f(node, v, pos);
            }
        });
    }

    /// Calls `f(node, values, position)` for every unit-consistent candidate of a task, unchecked.
    fn eval_task(&self, task: Task, f: &mut dyn FnMut(Node, &[f64], u64)) {
        let mut buf = vec![0.0; self.n];
        self.for_candidates(task, &mut |node, pos| {
            match node.kind {
                Kind::Unary(op, a) => op.apply_unary(self.value(a), &mut buf),
                Kind::Binary(op, a, b) => op.apply_binary(self.value(a), self.value(b), &mut buf),
                Kind::Primary(_) => return,
            }
            f(node, &buf, pos);
        });
    }

    fn in_bounds(&self, v: &[f64]) -> bool {
        let mut m = 0.0f64;
        for &x in v {
            if !x.is_finite() {
                return false;
            }
            m = m.max(x.abs());
        }
        m >= self.opts.fmax_min && m <= self.opts.fmax_max
    }

    fn count_task(&self, task: Task) -> u64 {
        let mut c = 0;
        self.for_candidates(task, &mut |_, _| c += 1);
        c
    }

    /// Enumerates the unit-consistent, rung-respecting candidates of a task, in a fixed order.
    fn for_candidates(&self, task: Task, f: &mut dyn FnMut(Node, u64)) {
        let rung = self.opts.rung;
        match task {
            Task::Unary(op, a) => {
                let na = self.nodes[a as usize];
                if let Some(dim) = op.dim(na.dim, None) {
                    f(
                        Node {
                            kind: Kind::Unary(op, a),
                            complexity: na.complexity + 1,
                            rung: na.rung + 1,
                            dim,
                        },
                        0,
                    );
                }
            }
            Task::Binary(op, a, cb) => {
                let na = self.nodes[a as usize];
                let same = na.complexity == cb;
                for (pos, &b) in self.by_c[cb as usize].iter().enumerate() {
                    let nb = self.nodes[b as usize];
                    if nb.rung >= rung {
                        continue;
                    }
                    let orders: &[bool] = match op {
                        Op::Div if same && b == a => &[],
                        Op::Div if same => &[false],
                        Op::Div => &[false, true],
                        _ if same && b <= a => &[],
                        _ => &[false],
                    };
                    for &flip in orders {
                        let (l, r) = if flip { (b, a) } else { (a, b) };
                        let (nl, nr) = (self.nodes[l as usize], self.nodes[r as usize]);
                        if let Some(dim) = op.dim(nl.dim, Some(nr.dim)) {
                            f(
                                Node {
                                    kind: Kind::Binary(op, l, r),
                                    complexity: nl.complexity + nr.complexity + 1,
                                    rung: nl.rung.max(nr.rung) + 1,
                                    dim,
                                },
                                2 * pos as u64 + flip as u64,
                            );
                        }
                    }
                }
            }
        }
    }

    /// Values, mean and centred norm of a feature (stored or streamed).
    pub(crate) fn eval_kind(&self, kind: Kind) -> Option<(Vec<f64>, f64, f64)> {
        let mut v = vec![0.0; self.n];
        match kind {
            Kind::Primary(_) => {
                let id = self.nodes.iter().position(|nd| nd.kind == kind)? as u32;
                v.copy_from_slice(self.value(id));
            }
            Kind::Unary(op, a) => op.apply_unary(self.value(a), &mut v),
            Kind::Binary(op, a, b) => op.apply_binary(self.value(a), self.value(b), &mut v),
        }
        let (m, nm, _) = stats(&v)?;
        Some((v, m, nm))
    }

    /// The stored id of a feature, if it is stored.
    fn stored_id(&self, key: Key) -> Option<u32> {
        (key.0 == 0).then_some(key.1 as u32)
    }

    /// Sure independence screening: the `k` features most correlated (in absolute value) with the
    /// centred residual `r` (with tasks, by [`task_score`]), excluding `taken` and features that duplicate a stored feature or one
    /// already picked (`picked_values`: values, mean, norm of the features picked so far).
    pub(crate) fn screen(
        &mut self,
        r: &[f64],
        k: usize,
        taken: &HashSet<Kind>,
        picked_values: &mut Vec<(Vec<f64>, f64, f64)>,
    ) -> Vec<Picked> {
        let rn = r.iter().map(|x| x * x).sum::<f64>().sqrt();
        if k == 0 || rn.is_nan() || rn <= 0.0 {
            return Vec::new();
        }
        let start = picked_values.len();
        // Equivalent forms crowd the top of the ranking; widen the candidate list until `k`
        // distinct features are found or the space is exhausted.
        let mut cap = 2 * k + 16;
        loop {
            let all = self.ranked(r, rn, cap, taken);
            let exhausted = all.len() < cap;
            picked_values.truncate(start);
            let out = self.distinct(all, k, picked_values);
            if out.len() == k || exhausted {
                return out;
            }
            cap = cap.saturating_mul(4);
        }
    }

    /// The best `cap` features by |correlation| with the centred residual `r` (norm `rn`), best
    /// first, excluding `taken`.
    fn ranked(&mut self, r: &[f64], rn: f64, cap: usize, taken: &HashSet<Kind>) -> Vec<(f64, Key, Kind)> {
        let segs = &self.segments;
        let score = |v: &[f64], m: f64, nm: f64| -> f64 {
            if !segs.is_empty() {
                return task_score(v, r, segs, rn);
            }
            let d: f64 = v.iter().zip(r).map(|(x, y)| (x - m) * y).sum();
            (d / (nm * rn)).abs()
        };
        let stored: TopK = (0..self.nodes.len() as u32)
            .into_par_iter()
            .fold(
                || TopK::new(cap),
                |mut t, id| {
                    let kind = self.nodes[id as usize].kind;
                    if !taken.contains(&kind) {
                        let s = score(self.value(id), self.mean[id as usize], self.norm[id as usize]);
                        t.push(s, (0, id as u64), kind);
                    }
                    t
                },
            )
            .reduce(|| TopK::new(cap), TopK::merge);
        let rsum: f64 = r.iter().sum();
        let nf = self.n as f64;
        let (lo, hi) = (self.opts.fmax_min, self.opts.fmax_max);
        let (streamed, count): (TopK, u64) = self
            .stream
            .par_iter()
            .enumerate()
            .fold(
                || (TopK::new(cap), 0u64),
                |(mut t, mut c), (ti, task)| {
                    self.eval_task(*task, &mut |node, v, pos| {
                        // One pass: finiteness (NaN and ∞ propagate into the sum or the maximum),
                        // bounds, mean, variance and the covariance with the residual.
                        let (s1, s2, sr, mx) = moments(v, r);
                        if !(s1.is_finite() && s2.is_finite() && mx.is_finite()) || mx < lo || mx > hi {
                            return;
                        }
                        let m = s1 / nf;
                        let var = s2 - s1 * m;
                        let (m, nm) = if var > 1e-6 * s2 {
                            (m, var.sqrt())
                        } else {
                            // Cancellation: redo in two passes.
                            match stats(v) {
                                Some((m, nm, _)) => (m, nm),
                                None => return,
                            }
                        };
                        if nm.is_nan() || nm <= 1e-12 * mx * nf.sqrt() {
                            return;
                        }
                        c += 1;
                        if !taken.contains(&node.kind) {
                            let sc = if segs.is_empty() {
                                ((sr - m * rsum) / (nm * rn)).abs()
                            } else {
                                task_score(v, r, segs, rn)
                            };
                            t.push(sc, (1 + ti as u64, pos), node.kind);
                        }
                    });
                    (t, c)
                },
            )
            .reduce(|| (TopK::new(cap), 0), |a, b| (a.0.merge(b.0), a.1 + b.1));
        if self.streamed_count.is_none() {
            self.streamed_count = Some(count);
        }
        stored.merge(streamed).into_sorted()
    }

    /// The first `k` features of `all` that are distinct up to `dedup_tol` (and not duplicates of a
    /// stored feature), appending their values to `picked_values`.
    fn distinct(
        &self,
        all: Vec<(f64, Key, Kind)>,
        k: usize,
        picked_values: &mut Vec<(Vec<f64>, f64, f64)>,
    ) -> Vec<Picked> {
        let eps = self.sig_eps();
        let start = picked_values.len();
        let mut out: Vec<Picked> = Vec::new();
        let mut keys: Vec<Key> = Vec::new();
        let mut sigs: Vec<f64> = Vec::new();
        for (s, key, kind) in all {
            if out.len() == k {
                break;
            }
            let Some((v, m, nm)) = self.eval_kind(kind) else {
                continue;
            };
            if self.stored_id(key).is_none() && self.duplicate_of_stored(&v, m, nm, None).is_some() {
                continue;
            }
            // Within this subspace, of features equal up to `dedup_tol` the simplest (first in the
            // space's order) is kept, whatever rounding did to their scores; as in SISSO, features
            // picked at earlier dimensions are not compared.
            let sig = self.signature(&v, m, nm);
            let dup = (0..out.len()).find(|&i| {
                (sigs[i] - sig).abs() <= eps && {
                    let (w, mw, nw) = &picked_values[start + i];
                    self.correlated((&v, m, nm), (w, *mw, *nw))
                }
            });
            match dup {
                Some(i) if key < keys[i] => {
                    out[i] = Picked { kind, score: s };
                    keys[i] = key;
                    sigs[i] = sig;
                    picked_values[start + i] = (v, m, nm);
                }
                Some(_) => {}
                None => {
                    out.push(Picked { kind, score: s });
                    keys.push(key);
                    sigs.push(sig);
                    picked_values.push((v, m, nm));
                }
            }
        }
        out
    }

    /// The expression tree of a feature.
    pub(crate) fn expr(&self, kind: Kind) -> Expr {
        match kind {
            Kind::Primary(j) => Expr::Primary(j as usize),
            Kind::Unary(op, a) => Expr::Unary(op, Box::new(self.expr(self.nodes[a as usize].kind))),
            Kind::Binary(op, a, b) => Expr::Binary(
                op,
                Box::new(self.expr(self.nodes[a as usize].kind)),
                Box::new(self.expr(self.nodes[b as usize].kind)),
            ),
        }
    }

    /// The dimension of a feature.
    pub(crate) fn dim(&self, kind: Kind) -> Dim {
        match kind {
            Kind::Primary(_) => self
                .nodes
                .iter()
                .find(|nd| nd.kind == kind)
                .map_or(Dim::default(), |nd| nd.dim),
            Kind::Unary(op, a) => op.dim(self.nodes[a as usize].dim, None).unwrap_or_default(),
            Kind::Binary(op, a, b) => op
                .dim(self.nodes[a as usize].dim, Some(self.nodes[b as usize].dim))
                .unwrap_or_default(),
        }
    }

    /// Number of stored features per complexity.
    pub(crate) fn stored_per_complexity(&self) -> Vec<u64> {
        self.by_c.iter().map(|v| v.len() as u64).collect()
    }
}

/// The best `cap` entries by (score descending, key ascending): a total order, so the kept set is
/// the same whatever the order of pushes and merges.
struct TopK {
    cap: usize,
    items: Vec<(f64, Key, Kind)>,
    worst: Option<(f64, Key)>,
}

fn better(a: (f64, Key), b: (f64, Key)) -> bool {
    match a.0.total_cmp(&b.0) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => a.1 < b.1,
    }
}

impl TopK {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            items: Vec::new(),
            worst: None,
        }
    }

    fn push(&mut self, s: f64, key: Key, kind: Kind) {
        let s = if s.is_finite() { s } else { 0.0 };
        if let Some(w) = self.worst
            && !better((s, key), w)
        {
            return;
        }
        self.items.push((s, key, kind));
        if self.items.len() >= 2 * self.cap {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        self.items.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        self.items.truncate(self.cap);
        if self.items.len() == self.cap {
            self.worst = self.items.last().map(|x| (x.0, x.1));
        }
    }

    fn merge(mut self, other: TopK) -> TopK {
        for (s, k, kind) in other.items {
            self.push(s, k, kind);
        }
        self
    }

    fn into_sorted(mut self) -> Vec<(f64, Key, Kind)> {
        self.shrink();
        self.items
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::units::{Bases, Unit};

    /// Rational exponents (numerator, denominator), kept reduced; an independent unit algebra.
    type Units = BTreeMap<String, (i64, i64)>;

    fn reduce((n, d): (i64, i64)) -> (i64, i64) {
        fn g(a: i64, b: i64) -> i64 {
            if b == 0 { a.abs() } else { g(b, a % b) }
        }
        let k = g(n, d).max(1) * d.signum();
        (n / k, d / k)
    }

    fn combine(a: &Units, b: &Units, sign: i64) -> Units {
        let mut out = a.clone();
        for (s, &(n, d)) in b {
            let e = out.entry(s.clone()).or_insert((0, 1));
            *e = reduce((e.0 * d + sign * n * e.1, e.1 * d));
        }
        out.retain(|_, e| e.0 != 0);
        out
    }

    fn scale(a: &Units, num: i64, den: i64) -> Units {
        a.iter()
            .map(|(s, &(n, d))| (s.clone(), reduce((n * num, d * den))))
            .collect()
    }

    /// The unit of an expression, or `None` if it is inconsistent.
    fn unit_of(e: &Expr, prim: &[Units]) -> Option<Units> {
        Some(match e {
            Expr::Primary(j) => prim[*j].clone(),
            Expr::Unary(op, a) => {
                let u = unit_of(a, prim)?;
                match op {
                    Op::Exp | Op::ExpNeg | Op::Log => {
                        if !u.is_empty() {
                            return None;
                        }
                        u
                    }
                    Op::Square => scale(&u, 2, 1),
                    Op::Cube => scale(&u, 3, 1),
                    Op::Sixth => scale(&u, 6, 1),
                    Op::Inv => scale(&u, -1, 1),
                    Op::Sqrt => scale(&u, 1, 2),
                    Op::Cbrt => scale(&u, 1, 3),
                    _ => u,
                }
            }
            Expr::Binary(op, a, b) => {
                let (ua, ub) = (unit_of(a, prim)?, unit_of(b, prim)?);
                match op {
                    Op::Add | Op::Sub => {
                        if ua != ub {
                            return None;
                        }
                        ua
                    }
                    Op::Mul => combine(&ua, &ub, 1),
                    _ => combine(&ua, &ub, -1),
                }
            }
        })
    }

    fn to_units(u: &Unit) -> Units {
        // Unit's Display: "a b^-2 c^(1/2)".
        let mut out = Units::new();
        for part in u.to_string().split(' ').filter(|p| *p != "1") {
            let (s, e) = match part.split_once('^') {
                Some((s, e)) => {
                    let e = e.trim_matches(|c| c == '(' || c == ')');
                    match e.split_once('/') {
                        Some((n, d)) => (s, (n.parse().unwrap(), d.parse().unwrap())),
                        None => (s, (e.parse().unwrap(), 1)),
                    }
                }
                None => (part, (1, 1)),
            };
            out.insert(s.to_string(), reduce(e));
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn no_unit_inconsistent_feature_is_generated(
            exps in prop::collection::vec((-2i32..=2, -2i32..=2), 3..6),
            opmask in 1u16..(1 << 14),
            complexity in 1u8..=3,
            seed in 0u64..1000,
        ) {
            let p = exps.len();
            let ops: Vec<Op> = Op::ALL.iter().enumerate().filter(|(i, _)| opmask >> i & 1 == 1).map(|(_, o)| *o).collect();
            let units: Vec<Unit> = exps
                .iter()
                .map(|&(a, b)| Unit::parse(&format!("m^{a} s^{b}")).unwrap())
                .collect();
            let bases = Bases::from_units(units.iter()).unwrap();
            let dims: Vec<Dim> = units.iter().map(|u| bases.dim(u)).collect();
            let n = 7;
            let cols: Vec<Vec<f64>> = (0..p)
                .map(|j| (0..n).map(|i| 0.5 + (((i + 1) * (j + 2) * 7 + seed as usize) % 13) as f64 / 6.0).collect())
                .collect();
            let opts = SpaceOptions {
                ops,
                max_complexity: complexity,
                rung: complexity,
                fmax_min: 0.0,
                fmax_max: 1e300,
                dedup_tol: 1e-10,
                memory_budget: 1 << 28,
            };
            let space = Space::build(&cols, &dims, opts).unwrap();
            let prim: Vec<Units> = units.iter().map(to_units).collect();
            let mut nodes: Vec<Node> = space.nodes.clone();
            for t in &space.stream {
                space.for_candidates(*t, &mut |nd, _| nodes.push(nd));
            }
            prop_assert!(nodes.len() >= p);
            for nd in nodes {
                let e = space.expr(nd.kind);
                let u = unit_of(&e, &prim);
                prop_assert!(u.is_some(), "inconsistent: {:?}", e);
                prop_assert_eq!(u.unwrap(), to_units(&bases.unit(nd.dim)), "{:?}", e);
                prop_assert_eq!(e.complexity(), nd.complexity as usize);
                prop_assert!(e.complexity() <= complexity as usize);
            }
        }
    }
}
