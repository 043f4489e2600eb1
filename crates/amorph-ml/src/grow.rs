//! Growing one tree by exact greedy split search over presorted columns. Shared by CART (random
//! forests, scikit-learn's MSE criterion) and boosting (XGBoost's second-order gain).

use rayon::prelude::*;

use crate::rng::Rng;
use crate::tree::{Decision, LEAF, Node, Tree};

/// Column-major copy of a feature matrix, checked finite.
pub(crate) struct Matrix {
    pub n: usize,
    pub cols: Vec<Vec<f64>>,
}

impl Matrix {
    pub(crate) fn d(&self) -> usize {
        self.cols.len()
    }

    /// Row `i` gathered into `buf`.
    pub(crate) fn row_into(&self, i: usize, buf: &mut [f64]) {
        for (b, c) in buf.iter_mut().zip(&self.cols) {
            *b = c[i];
        }
    }

    /// Row indices sorted by each feature (ties by row index), computed once per fit.
    pub(crate) fn argsort(&self) -> Vec<Vec<u32>> {
        self.cols
            .par_iter()
            .map(|c| {
                let mut idx: Vec<u32> = (0..self.n as u32).collect();
                idx.sort_by(|&a, &b| c[a as usize].total_cmp(&c[b as usize]).then(a.cmp(&b)));
                idx
            })
            .collect()
    }
}

/// Sufficient statistics of a set of rows: `a` = Σ w·y (CART) or Σ g (boosting), `b` = Σ w or Σ h,
/// `c` = Σ w·y² (CART only), `n` = number of distinct rows.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub n: u32,
}

impl Stats {
    #[inline]
    fn add(&mut self, o: &Stats) {
        self.a += o.a;
        self.b += o.b;
        self.c += o.c;
        self.n += o.n;
    }
    #[inline]
    fn minus(&self, o: &Stats) -> Stats {
        Stats {
            a: self.a - o.a,
            b: self.b - o.b,
            c: self.c - o.c,
            n: self.n - o.n,
        }
    }
}

/// A split criterion.
pub(crate) trait Rule: Sync {
    /// Positions where the next value is at most this much larger are not split points.
    const TIE_EPS: f64;
    const DECISION: Decision;
    /// Score of a split (larger is better) or `None` if a child is too small; `parent_gain` is
    /// [`node_gain`](Self::node_gain) of the parent, computed once per node.
    fn score(&self, left: &Stats, right: &Stats, parent_gain: f64) -> Option<f64>;
    /// The part of the score that depends on the parent only.
    fn node_gain(&self, _parent: &Stats) -> f64 {
        0.0
    }
    /// Whether a node can be split at all.
    fn splittable(&self, node: &Stats, depth: usize) -> bool;
    /// Whether the best split is good enough; returns the gain recorded for importances.
    fn accept(&self, best: f64, left: &Stats, right: &Stats, parent: &Stats) -> Option<f64>;
    fn value(&self, s: &Stats) -> f64;
    fn cover(&self, s: &Stats) -> f64;
    /// Split threshold between consecutive distinct values `lo < hi`.
    fn threshold(lo: f64, hi: f64) -> f64 {
        let mid = lo / 2.0 + hi / 2.0;
        match Self::DECISION {
            Decision::LessEqual => {
                if mid >= hi || !mid.is_finite() {
                    lo
                } else {
                    mid
                }
            }
            _ => {
                if mid <= lo || !mid.is_finite() {
                    hi
                } else {
                    mid
                }
            }
        }
    }
}

/// scikit-learn's squared-error CART criterion.
pub(crate) struct Mse {
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub min_impurity_decrease: f64,
    /// Weighted number of in-bag rows of the tree being grown.
    pub root_weight: f64,
}

fn impurity(s: &Stats) -> f64 {
    let m = s.a / s.b;
    s.c / s.b - m * m
}

impl Rule for Mse {
    const TIE_EPS: f64 = 1e-7;
    const DECISION: Decision = Decision::LessEqual;

    #[inline]
    fn score(&self, l: &Stats, r: &Stats, _parent_gain: f64) -> Option<f64> {
        if (l.n as usize) < self.min_samples_leaf || (r.n as usize) < self.min_samples_leaf {
            return None;
        }
        Some(l.a * l.a / l.b + r.a * r.a / r.b)
    }
    fn splittable(&self, s: &Stats, depth: usize) -> bool {
        let n = s.n as usize;
        depth < self.max_depth
            && n >= self.min_samples_split
            && n >= 2 * self.min_samples_leaf
            && impurity(s) > f64::EPSILON
    }
    fn accept(&self, _best: f64, l: &Stats, r: &Stats, p: &Stats) -> Option<f64> {
        let dec = p.b * impurity(p) - l.b * impurity(l) - r.b * impurity(r);
        // scikit-learn weighs the decrease by the node's share of the root's weight.
        (dec / self.root_weight + f64::EPSILON >= self.min_impurity_decrease).then_some(dec.max(0.0))
    }
    fn value(&self, s: &Stats) -> f64 {
        s.a / s.b
    }
    fn cover(&self, s: &Stats) -> f64 {
        s.b
    }
}

/// XGBoost's second-order split gain with L1 (`alpha`) and L2 (`lambda`) penalties.
pub(crate) struct XgbGain {
    pub max_depth: usize,
    pub lambda: f64,
    pub alpha: f64,
    pub min_child_weight: f64,
    pub eta: f64,
}

impl XgbGain {
    #[inline]
    fn t_l1(&self, g: f64) -> f64 {
        if g > self.alpha {
            g - self.alpha
        } else if g < -self.alpha {
            g + self.alpha
        } else {
            0.0
        }
    }
    #[inline]
    pub(crate) fn gain(&self, s: &Stats) -> f64 {
        if s.b < self.min_child_weight || s.b <= 0.0 {
            return 0.0;
        }
        let t = self.t_l1(s.a);
        t * t / (s.b + self.lambda)
    }
    pub(crate) fn weight(&self, s: &Stats) -> f64 {
        if s.b < self.min_child_weight || s.b <= 0.0 {
            return 0.0;
        }
        -self.t_l1(s.a) / (s.b + self.lambda)
    }
}

/// XGBoost's minimum loss change for a split to be made (`kRtEps`).
pub(crate) const XGB_RT_EPS: f64 = 1e-6;

impl Rule for XgbGain {
    const TIE_EPS: f64 = 0.0;
    const DECISION: Decision = Decision::Less;

    #[inline]
    fn score(&self, l: &Stats, r: &Stats, parent_gain: f64) -> Option<f64> {
        if l.b < self.min_child_weight || r.b < self.min_child_weight {
            return None;
        }
        Some(self.gain(l) + self.gain(r) - parent_gain)
    }
    fn node_gain(&self, p: &Stats) -> f64 {
        self.gain(p)
    }
    fn splittable(&self, s: &Stats, depth: usize) -> bool {
        depth < self.max_depth && s.n >= 2
    }
    fn accept(&self, best: f64, _l: &Stats, _r: &Stats, _p: &Stats) -> Option<f64> {
        (best > XGB_RT_EPS).then_some(best)
    }
    fn value(&self, s: &Stats) -> f64 {
        self.eta * self.weight(s)
    }
    fn cover(&self, s: &Stats) -> f64 {
        s.b
    }
}

#[derive(Clone, Copy)]
struct Entry {
    row: u32,
    x: f64,
}

#[derive(Clone, Copy)]
struct Best {
    score: f64,
    feature: usize,
    pos: usize,
    threshold: f64,
    left: Stats,
}

/// Feature sampling per node (random forests' `max_features`); `None` = all features, in order.
pub(crate) struct NodeFeatures<'a> {
    pub max_features: usize,
    pub rng: &'a mut Rng,
}

/// Work above which a node's split search runs in parallel over features.
const PAR_WORK: usize = 1 << 13;

/// Grows one tree on the rows with `stats[row].n > 0` (the caller zeroes the others).
pub(crate) fn grow<R: Rule>(
    rule: &R,
    m: &Matrix,
    order: &[Vec<u32>],
    stats: &[Stats],
    features: Option<&[usize]>,
    mut sampling: Option<NodeFeatures<'_>>,
    parallel: bool,
) -> Tree {
    let all: Vec<usize> = (0..m.d()).collect();
    let feats = features.unwrap_or(&all);
    // Per used feature, the in-bag rows in sorted order with their values.
    let mut cols: Vec<Vec<Entry>> = feats
        .iter()
        .map(|&f| {
            let c = &m.cols[f];
            order[f]
                .iter()
                .filter(|&&r| stats[r as usize].n > 0)
                .map(|&r| Entry {
                    row: r,
                    x: c[r as usize],
                })
                .collect()
        })
        .collect();
    let n_in = cols.first().map_or(0, |c| c.len());
    let mut root = Stats::default();
    for s in stats.iter().filter(|s| s.n > 0) {
        root.add(s);
    }
    let mut nodes = vec![Node {
        feature: LEAF,
        threshold: 0.0,
        left: LEAF,
        right: LEAF,
        value: rule.value(&root),
        cover: rule.cover(&root),
        gain: 0.0,
    }];
    if cols.is_empty() || n_in == 0 {
        return Tree {
            nodes,
            decision: R::DECISION,
        };
    }
    let mut goes_left = vec![false; m.n];
    let mut candidates: Vec<usize> = (0..feats.len()).collect();
    // (node id, start, end, depth, stats)
    let mut stack = vec![(0usize, 0usize, n_in, 0usize, root)];
    while let Some((id, s, e, depth, ps)) = stack.pop() {
        if !rule.splittable(&ps, depth) {
            continue;
        }
        let best = match sampling.as_mut() {
            Some(smp) if smp.max_features < feats.len() => {
                sampled_search(rule, &cols, stats, s, e, &ps, smp, &mut candidates)
            }
            _ => {
                if parallel && (e - s) * feats.len() >= PAR_WORK {
                    cols.par_iter()
                        .enumerate()
                        .map(|(k, c)| scan(rule, &c[s..e], stats, &ps, k))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .fold(None, pick)
                } else {
                    cols.iter()
                        .enumerate()
                        .map(|(k, c)| scan(rule, &c[s..e], stats, &ps, k))
                        .fold(None, pick)
                }
            }
        };
        let Some(b) = best else { continue };
        let right = ps.minus(&b.left);
        let Some(gain) = rule.accept(b.score, &b.left, &right, &ps) else {
            continue;
        };
        let mid = s + b.pos;
        for en in &cols[b.feature][s..mid] {
            goes_left[en.row as usize] = true;
        }
        let part = |c: &mut Vec<Entry>| partition(&mut c[s..e], &goes_left);
        if parallel && (e - s) * feats.len() >= PAR_WORK {
            cols.par_iter_mut().for_each(part);
        } else {
            cols.iter_mut().for_each(part);
        }
        for en in &cols[b.feature][s..mid] {
            goes_left[en.row as usize] = false;
        }
        let l = nodes.len();
        for st in [&b.left, &right] {
            nodes.push(Node {
                feature: LEAF,
                threshold: 0.0,
                left: LEAF,
                right: LEAF,
                value: rule.value(st),
                cover: rule.cover(st),
                gain: 0.0,
            });
        }
        let node = &mut nodes[id];
        node.feature = feats[b.feature] as u32;
        node.threshold = b.threshold;
        node.left = l as u32;
        node.right = (l + 1) as u32;
        node.gain = gain;
        stack.push((l + 1, mid, e, depth + 1, right));
        stack.push((l, s, mid, depth + 1, b.left));
    }
    Tree {
        nodes,
        decision: R::DECISION,
    }
}

fn pick(acc: Option<Best>, b: Option<Best>) -> Option<Best> {
    match (acc, b) {
        (Some(a), Some(b)) => Some(if b.score > a.score { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// scikit-learn's feature sampling: draw features without replacement, skip the constant ones,
/// stop once `max_features` have been drawn and at least one was not constant.
#[allow(clippy::too_many_arguments)]
fn sampled_search<R: Rule>(
    rule: &R,
    cols: &[Vec<Entry>],
    stats: &[Stats],
    s: usize,
    e: usize,
    ps: &Stats,
    smp: &mut NodeFeatures<'_>,
    cand: &mut [usize],
) -> Option<Best> {
    let mut best = None;
    let mut constant = 0;
    // `i` features have been visited so far.
    for i in 0..cand.len() {
        if i >= smp.max_features && i > constant {
            break;
        }
        let j = i + smp.rng.below(cand.len() - i);
        cand.swap(i, j);
        let k = cand[i];
        let c = &cols[k][s..e];
        if c[c.len() - 1].x <= c[0].x + R::TIE_EPS {
            constant += 1;
            continue;
        }
        best = pick(best, scan(rule, c, stats, ps, k));
    }
    best
}

/// Best split of one feature over a node's sorted entries.
#[inline]
fn scan<R: Rule>(rule: &R, c: &[Entry], stats: &[Stats], ps: &Stats, k: usize) -> Option<Best> {
    let n = c.len();
    if n < 2 || c[n - 1].x <= c[0].x + R::TIE_EPS {
        return None;
    }
    let pg = rule.node_gain(ps);
    let mut left = Stats::default();
    let mut best: Option<Best> = None;
    for p in 1..n {
        left.add(&stats[c[p - 1].row as usize]);
        let (lo, hi) = (c[p - 1].x, c[p].x);
        if hi <= lo + R::TIE_EPS {
            continue;
        }
        let right = ps.minus(&left);
        if let Some(score) = rule.score(&left, &right, pg)
            && best.is_none_or(|b| score > b.score)
        {
            best = Some(Best {
                score,
                feature: k,
                pos: p,
                threshold: R::threshold(lo, hi),
                left,
            });
        }
    }
    best
}

/// Stable partition of a node's entries: rows marked left first.
fn partition(c: &mut [Entry], goes_left: &[bool]) {
    let mut right = Vec::with_capacity(c.len());
    let mut w = 0;
    for i in 0..c.len() {
        let en = c[i];
        if goes_left[en.row as usize] {
            c[w] = en;
            w += 1;
        } else {
            right.push(en);
        }
    }
    c[w..].copy_from_slice(&right);
}
