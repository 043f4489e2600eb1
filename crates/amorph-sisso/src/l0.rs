//! Exhaustive ℓ0 search: every combination of `d` screened features, ranked by the residual sum of
//! squares of its least-squares fit with intercept.
//!
//! Features and target are centred (which accounts for the intercept) and features scaled to unit
//! norm; the Gram matrix `G = ZᵀZ` and `b = Zᵀy` are computed once. Combinations are enumerated in
//! lexicographic order with the Cholesky factor of `G` restricted to the current prefix kept from
//! level to level, so adding the `k`-th feature costs one new row of the factor (O(k²)) and the RSS
//! is `yᵀy − ‖L⁻¹b‖²`. Work is split over the first one or two indices with rayon; every worker
//! keeps its best models and the lists are merged under a total order (RSS, then indices), so the
//! result does not depend on the number of threads. The best models are then refitted by
//! Householder QR on the original values (see [`lstsq`]).
//!
//! Multi-task ([`search_tasks`]): one Gram matrix and one Cholesky factor per task (features and
//! target centred and scaled within the task), the same enumeration and split; a combination's error
//! is the weighted sum of the tasks' RSS, summed at the leaves with an early exit once it exceeds the
//! worst model kept.

// Index loops over the triangular factor read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use std::ops::Range;

use ndarray::{Array2, Axis};
use rayon::prelude::*;

/// A combination and its RSS (from the Gram solve).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Combo {
    pub(crate) rss: f64,
    pub(crate) idx: Vec<usize>,
}

fn better(a: &Combo, b: &Combo) -> bool {
    match a.rss.total_cmp(&b.rss) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => a.idx < b.idx,
    }
}

struct Best {
    cap: usize,
    items: Vec<Combo>,
    worst: f64,
}

impl Best {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            items: Vec::new(),
            worst: f64::INFINITY,
        }
    }

    #[inline]
    fn push(&mut self, rss: f64, idx: &[usize]) {
        if rss > self.worst {
            return;
        }
        self.items.push(Combo {
            rss,
            idx: idx.to_vec(),
        });
        if self.items.len() >= 2 * self.cap.max(8) {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        self.items.sort_by(|a, b| {
            if better(a, b) {
                std::cmp::Ordering::Less
            } else if better(b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        self.items.truncate(self.cap);
        if self.items.len() == self.cap {
            self.worst = self.items.last().map_or(f64::INFINITY, |c| c.rss);
        }
    }

    fn merge(mut self, o: Best) -> Best {
        for c in o.items {
            if c.rss <= self.worst {
                self.items.push(c);
            }
        }
        self.shrink();
        self
    }
}

/// Relative pivot below which a combination is treated as collinear and skipped.
const PIVOT_TOL: f64 = 1e-10;

struct Search<'a> {
    m: usize,
    d: usize,
    g: &'a [f64],
    b: &'a [f64],
    diag: &'a [f64],
    yy: f64,
}

impl Search<'_> {
    /// Extends the prefix `idx[..k]` (with factor rows `l[..k]` and `z[..k]`, `zz = Σ z²`).
    fn descend(
        &self,
        k: usize,
        idx: &mut [usize],
        l: &mut [[f64; MAX_D]; MAX_D],
        z: &mut [f64; MAX_D],
        zz: f64,
        best: &mut Best,
    ) {
        if k + 1 == self.d {
            self.leaves(k, idx, l, z, zz, best);
            return;
        }
        let start = if k == 0 { 0 } else { idx[k - 1] + 1 };
        let end = self.m - (self.d - k - 1);
        for j in start..end {
            // New row of the Cholesky factor (G is symmetric: read the prefix rows, contiguous in j).
            let mut sq = 0.0;
            let mut bz = self.b[j];
            for t in 0..k {
                let mut v = self.g[idx[t] * self.m + j];
                for u in 0..t {
                    v -= l[k][u] * l[t][u];
                }
                v /= l[t][t];
                l[k][t] = v;
                sq += v * v;
                bz -= v * z[t];
            }
            let gjj = self.g[j * self.m + j];
            let piv = gjj - sq;
            if piv.is_nan() || piv <= PIVOT_TOL * gjj {
                continue;
            }
            let lkk = piv.sqrt();
            l[k][k] = lkk;
            z[k] = bz / lkk;
            idx[k] = j;
            self.descend(k + 1, idx, l, z, zz + z[k] * z[k], best);
        }
    }

    /// The last index: RSS = yᵀy − Σz² − (b_j − Σ l z)² / pivot, without forming the factor row.
    fn leaves(
        &self,
        k: usize,
        idx: &mut [usize],
        l: &[[f64; MAX_D]; MAX_D],
        z: &[f64; MAX_D],
        zz: f64,
        best: &mut Best,
    ) {
        let start = if k == 0 { 0 } else { idx[k - 1] + 1 };
        let rest = self.yy - zz;
        let inv: [f64; MAX_D] = std::array::from_fn(|t| if t < k { 1.0 / l[t][t] } else { 0.0 });
        let rows: [&[f64]; MAX_D] = std::array::from_fn(|t| {
            let r = if t < k { idx[t] } else { 0 };
            &self.g[r * self.m..(r + 1) * self.m]
        });
        for j in start..self.m {
            let mut lk = [0.0; MAX_D];
            let mut sq = 0.0;
            let mut bz = self.b[j];
            for t in 0..k {
                let mut v = rows[t][j];
                for u in 0..t {
                    v -= lk[u] * l[t][u];
                }
                v *= inv[t];
                lk[t] = v;
                sq += v * v;
                bz -= v * z[t];
            }
            let gjj = self.diag[j];
            let piv = gjj - sq;
            if piv.is_nan() || piv <= PIVOT_TOL * gjj {
                continue;
            }
            let rss = (rest - bz * bz / piv).max(0.0);
            if rss <= best.worst {
                idx[k] = j;
                best.push(rss, &idx[..=k]);
            }
        }
    }
}

/// Largest descriptor dimension of the search.
pub(crate) const MAX_D: usize = 16;

/// The `top` best `d`-combinations of the columns of `x` (each a feature's values) for the target
/// `y`, best first.
pub(crate) fn search(x: &[Vec<f64>], y: &[f64], d: usize, top: usize) -> Vec<Combo> {
    let m = x.len();
    if d == 0 || d > m || d > MAX_D {
        return Vec::new();
    }
    let n = y.len();
    let ym = y.iter().sum::<f64>() / n as f64;
    let yc: Vec<f64> = y.iter().map(|v| v - ym).collect();
    // Centred, unit-norm features as the rows of an m × n matrix; G = Z Zᵀ by a blocked product.
    let mut z = Array2::<f64>::zeros((m, n));
    for (mut row, col) in z.axis_iter_mut(Axis(0)).zip(x) {
        let mu = col.iter().sum::<f64>() / n as f64;
        let nrm = col.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>().sqrt();
        row.iter_mut().zip(col).for_each(|(r, v)| *r = (v - mu) / nrm);
    }
    let g = z.dot(&z.t());
    let g: Vec<f64> = g.iter().copied().collect();
    let b: Vec<f64> = z
        .rows()
        .into_iter()
        .map(|zi| zi.iter().zip(&yc).map(|(a, b)| a * b).sum())
        .collect();
    let yy: f64 = yc.iter().map(|v| v * v).sum();
    let diag: Vec<f64> = (0..m).map(|j| g[j * m + j]).collect();
    let s = Search {
        m,
        d,
        g: &g,
        b: &b,
        diag: &diag,
        yy,
    };
    // Split over the first index (d ≤ 2) or the first two (d ≥ 3) for balance.
    let pairs = d >= 3;
    let prefixes = (0..=m - d).into_par_iter().flat_map(move |i| {
        let hi = if pairs { m - d + 1 } else { i + 1 };
        (i + 1..=hi)
            .into_par_iter()
            .map(move |j| if pairs { ([i, j], 2) } else { ([i, 0], 1) })
    });
    let best = prefixes
        .fold(
            || Best::new(top),
            |mut best, (pre, len): ([usize; 2], usize)| {
                let p = &pre[..len];
                let mut idx = [0usize; MAX_D];
                let mut l = [[0.0; MAX_D]; MAX_D];
                let mut zv = [0.0; MAX_D];
                let mut zz = 0.0;
                for (k, &j) in p.iter().enumerate() {
                    let gj = &g[j * m..(j + 1) * m];
                    let mut sq = 0.0;
                    let mut bz = b[j];
                    for t in 0..k {
                        let mut v = gj[idx[t]];
                        for u in 0..t {
                            v -= l[k][u] * l[t][u];
                        }
                        v /= l[t][t];
                        l[k][t] = v;
                        sq += v * v;
                        bz -= v * zv[t];
                    }
                    let piv = gj[j] - sq;
                    if piv.is_nan() || piv <= PIVOT_TOL * gj[j] {
                        return best;
                    }
                    l[k][k] = piv.sqrt();
                    zv[k] = bz / l[k][k];
                    zz += zv[k] * zv[k];
                    idx[k] = j;
                }
                if p.len() == d {
                    best.push((yy - zz).max(0.0), &idx[..d]);
                } else {
                    s.descend(p.len(), &mut idx, &mut l, &mut zv, zz, &mut best);
                }
                best
            },
        )
        .reduce(|| Best::new(top), Best::merge);
    let mut items = best.items;
    items.sort_by(|a, b| {
        if better(a, b) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    items.truncate(top);
    items
}

/// One task of a multi-task search: Gram matrix, `b` and `yᵀy` of the task's rows (features and
/// target centred within the task, features scaled to unit norm within it), and the task's weight in
/// the combined error.
struct TaskGram {
    g: Vec<f64>,
    b: Vec<f64>,
    yy: f64,
    w: f64,
}

impl TaskGram {
    fn new(x: &[Vec<f64>], y: &[f64], rows: Range<usize>, w: f64) -> Self {
        let m = x.len();
        let n = rows.len();
        let yt = &y[rows.clone()];
        let ym = yt.iter().sum::<f64>() / n as f64;
        let yc: Vec<f64> = yt.iter().map(|v| v - ym).collect();
        let mut z = Array2::<f64>::zeros((m, n));
        for (mut row, col) in z.axis_iter_mut(Axis(0)).zip(x) {
            let col = &col[rows.clone()];
            let mu = col.iter().sum::<f64>() / n as f64;
            let nrm = col.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>().sqrt();
            let maxabs = col.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            // A feature constant within the task spans nothing there: a zero row, whose zero pivot
            // makes every combination containing it collinear in this task.
            if nrm.is_finite() && nrm > 1e-12 * maxabs * (n as f64).sqrt() {
                row.iter_mut().zip(col).for_each(|(r, v)| *r = (v - mu) / nrm);
            }
        }
        let g = z.dot(&z.t());
        let b = z
            .rows()
            .into_iter()
            .map(|zi| zi.iter().zip(&yc).map(|(a, b)| a * b).sum())
            .collect();
        Self {
            g: g.iter().copied().collect(),
            b,
            yy: yc.iter().map(|v| v * v).sum(),
            w,
        }
    }
}

/// The Cholesky factor and the projected target of one task along the current prefix.
#[derive(Clone)]
struct TaskState {
    l: [[f64; MAX_D]; MAX_D],
    z: [f64; MAX_D],
}

struct TaskSearch<'a> {
    m: usize,
    d: usize,
    tasks: &'a [TaskGram],
}

impl TaskSearch<'_> {
    /// Appends feature `j` at position `k` of the prefix `idx[..k]` in every task; false if it is
    /// collinear with the prefix in some task.
    fn extend(&self, k: usize, j: usize, idx: &[usize], st: &mut [TaskState]) -> bool {
        for (tg, s) in self.tasks.iter().zip(st.iter_mut()) {
            let mut sq = 0.0;
            let mut bz = tg.b[j];
            for t in 0..k {
                let mut v = tg.g[idx[t] * self.m + j];
                for u in 0..t {
                    v -= s.l[k][u] * s.l[t][u];
                }
                v /= s.l[t][t];
                s.l[k][t] = v;
                sq += v * v;
                bz -= v * s.z[t];
            }
            let gjj = tg.g[j * self.m + j];
            let piv = gjj - sq;
            if piv.is_nan() || piv <= PIVOT_TOL * gjj {
                return false;
            }
            s.l[k][k] = piv.sqrt();
            s.z[k] = bz / s.l[k][k];
        }
        true
    }

    /// The combined error Σ w_t RSS_t of the complete combination in `st`.
    fn score(&self, st: &[TaskState]) -> f64 {
        self.tasks
            .iter()
            .zip(st)
            .map(|(tg, s)| tg.w * (tg.yy - s.z[..self.d].iter().map(|v| v * v).sum::<f64>()).max(0.0))
            .sum()
    }

    fn descend(&self, k: usize, idx: &mut [usize; MAX_D], st: &mut [TaskState], best: &mut Best) {
        if k + 1 == self.d {
            self.leaves(k, idx, st, best);
            return;
        }
        let start = if k == 0 { 0 } else { idx[k - 1] + 1 };
        let end = self.m - (self.d - k - 1);
        for j in start..end {
            if !self.extend(k, j, &idx[..], st) {
                continue;
            }
            idx[k] = j;
            self.descend(k + 1, idx, st, best);
        }
    }

    /// The last index: every task's RSS `yᵀy − Σz² − (b_j − Σ l z)² / pivot` without storing the
    /// factor row; the weighted sum stops as soon as it exceeds the worst model kept.
    fn leaves(&self, k: usize, idx: &mut [usize; MAX_D], st: &[TaskState], best: &mut Best) {
        let start = if k == 0 { 0 } else { idx[k - 1] + 1 };
        let rest: Vec<f64> = self
            .tasks
            .iter()
            .zip(st)
            .map(|(tg, s)| tg.yy - s.z[..k].iter().map(|v| v * v).sum::<f64>())
            .collect();
        'next: for j in start..self.m {
            let mut total = 0.0;
            for ((tg, s), r) in self.tasks.iter().zip(st).zip(&rest) {
                let mut lk = [0.0; MAX_D];
                let mut sq = 0.0;
                let mut bz = tg.b[j];
                for t in 0..k {
                    let mut v = tg.g[idx[t] * self.m + j];
                    for u in 0..t {
                        v -= lk[u] * s.l[t][u];
                    }
                    v /= s.l[t][t];
                    lk[t] = v;
                    sq += v * v;
                    bz -= v * s.z[t];
                }
                let gjj = tg.g[j * self.m + j];
                let piv = gjj - sq;
                if piv.is_nan() || piv <= PIVOT_TOL * gjj {
                    continue 'next;
                }
                total += tg.w * (r - bz * bz / piv).max(0.0);
                if total > best.worst {
                    continue 'next;
                }
            }
            idx[k] = j;
            best.push(total, &idx[..=k]);
        }
    }
}

/// Multi-task search: the rows of task `t` are `tasks[t].0` (contiguous), its weight `tasks[t].1`.
/// Every task has its own least-squares fit with intercept on the shared combination; combinations
/// are ranked by `Σ_t w_t RSS_t` and those collinear in any task are skipped. The `top` best,
/// best first.
pub(crate) fn search_tasks(
    x: &[Vec<f64>],
    y: &[f64],
    tasks: &[(Range<usize>, f64)],
    d: usize,
    top: usize,
) -> Vec<Combo> {
    let m = x.len();
    if d == 0 || d > m || d > MAX_D || tasks.is_empty() {
        return Vec::new();
    }
    let grams: Vec<TaskGram> = tasks
        .iter()
        .map(|(rows, w)| TaskGram::new(x, y, rows.clone(), *w))
        .collect();
    let s = TaskSearch { m, d, tasks: &grams };
    let fresh = TaskState {
        l: [[0.0; MAX_D]; MAX_D],
        z: [0.0; MAX_D],
    };
    // The same split over the first one or two indices as the single-task search.
    let pairs = d >= 3;
    let prefixes = (0..=m - d).into_par_iter().flat_map(move |i| {
        let hi = if pairs { m - d + 1 } else { i + 1 };
        (i + 1..=hi)
            .into_par_iter()
            .map(move |j| if pairs { ([i, j], 2) } else { ([i, 0], 1) })
    });
    let best = prefixes
        .fold(
            || Best::new(top),
            |mut best, (pre, len): ([usize; 2], usize)| {
                let mut idx = [0usize; MAX_D];
                let mut st = vec![fresh.clone(); grams.len()];
                for (k, &j) in pre[..len].iter().enumerate() {
                    if !s.extend(k, j, &idx, &mut st) {
                        return best;
                    }
                    idx[k] = j;
                }
                if len == d {
                    let sc = s.score(&st);
                    best.push(sc, &idx[..d]);
                } else {
                    s.descend(len, &mut idx, &mut st, &mut best);
                }
                best
            },
        )
        .reduce(|| Best::new(top), Best::merge);
    let mut items = best.items;
    items.sort_by(|a, b| {
        if better(a, b) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    items.truncate(top);
    items
}

/// Least squares with intercept by Householder QR: returns (intercept, coefficients), or `None` if
/// the columns are (numerically) dependent.
pub(crate) fn lstsq(cols: &[&[f64]], y: &[f64]) -> Option<(f64, Vec<f64>)> {
    let n = y.len();
    let p = cols.len() + 1;
    if n < p {
        return None;
    }
    // Column-major n × p matrix [1, x1, ..., xd] and right-hand side.
    let mut a: Vec<f64> = Vec::with_capacity(n * p);
    a.extend(std::iter::repeat_n(1.0, n));
    for c in cols {
        a.extend_from_slice(c);
    }
    let mut r = y.to_vec();
    let mut diag = vec![0.0; p];
    let scale: Vec<f64> = (0..p)
        .map(|j| a[j * n..(j + 1) * n].iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    for k in 0..p {
        let col = &mut a[k * n..(k + 1) * n];
        let norm = col[k..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm.is_nan() || norm <= 1e-13 * scale[k] {
            return None;
        }
        let alpha = if col[k] > 0.0 { -norm } else { norm };
        col[k] -= alpha;
        let vnorm2: f64 = col[k..].iter().map(|v| v * v).sum();
        diag[k] = alpha;
        let v: Vec<f64> = col[k..].to_vec();
        for j in k + 1..p {
            let cj = &mut a[j * n..(j + 1) * n];
            let dot: f64 = v.iter().zip(&cj[k..]).map(|(a, b)| a * b).sum();
            let f = 2.0 * dot / vnorm2;
            cj[k..].iter_mut().zip(&v).for_each(|(c, vi)| *c -= f * vi);
        }
        let dot: f64 = v.iter().zip(&r[k..]).map(|(a, b)| a * b).sum();
        let f = 2.0 * dot / vnorm2;
        r[k..].iter_mut().zip(&v).for_each(|(c, vi)| *c -= f * vi);
    }
    // Back substitution R β = Qᵀy (R's diagonal in `diag`, above it in `a`).
    let mut beta = vec![0.0; p];
    for k in (0..p).rev() {
        let mut s = r[k];
        for j in k + 1..p {
            s -= a[j * n + k] * beta[j];
        }
        beta[k] = s / diag[k];
    }
    let c0 = beta[0];
    beta.remove(0);
    Some((c0, beta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstsq_recovers_an_exact_linear_model() {
        let x1: Vec<f64> = (0..20).map(|i| i as f64 * 0.3).collect();
        let x2: Vec<f64> = (0..20).map(|i| ((i * 7) % 11) as f64).collect();
        let y: Vec<f64> = x1
            .iter()
            .zip(&x2)
            .map(|(a, b)| 1.5 - 2.0 * a + 0.25 * b)
            .collect();
        let (c0, c) = lstsq(&[&x1, &x2], &y).unwrap();
        assert!((c0 - 1.5).abs() < 1e-12 && (c[0] + 2.0).abs() < 1e-12 && (c[1] - 0.25).abs() < 1e-12);
        assert!(lstsq(&[&x1, &x1], &y).is_none());
    }

    #[test]
    fn search_finds_the_planted_pair_and_skips_collinear_ones() {
        let n = 30;
        let cols: Vec<Vec<f64>> = (0..6)
            .map(|k| {
                (0..n)
                    .map(|i| (((i * (k + 3) * 37) % 101) as f64).sin() + k as f64)
                    .collect()
            })
            .collect();
        let mut x = cols.clone();
        x.push(cols[0].iter().map(|v| 2.0 * v + 1.0).collect());
        let y: Vec<f64> = (0..n).map(|i| 3.0 * cols[1][i] - cols[4][i] + 0.5).collect();
        let top = search(&x, &y, 2, 5);
        assert_eq!(top[0].idx, vec![1, 4]);
        let yy: f64 = y.iter().map(|v| v * v).sum();
        assert!(top[0].rss < 1e-12 * yy, "{}", top[0].rss);
        assert!(top.iter().all(|c| c.idx != vec![0, 6]));
    }

    fn columns(n: usize, p: usize) -> Vec<Vec<f64>> {
        (0..p)
            .map(|k| {
                (0..n)
                    .map(|i| (((i * (k + 3) * 37) % 101) as f64).sin() + 0.1 * ((i * i + k) % 7) as f64)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn one_task_search_equals_the_single_task_search() {
        let n = 40;
        let x = columns(n, 9);
        let y: Vec<f64> = (0..n)
            .map(|i| x[2][i] - 0.7 * x[5][i] + 0.3 * (i as f64 * 0.37).cos())
            .collect();
        for d in 1..=4 {
            let a = search(&x, &y, d, 12);
            let b = search_tasks(&x, &y, &[(0..n, 1.0)], d, 12);
            assert_eq!(a.len(), b.len());
            for (u, v) in a.iter().zip(&b) {
                assert_eq!(u.idx, v.idx);
                assert!(
                    (u.rss - v.rss).abs() <= 1e-12 * u.rss.max(1e-300),
                    "{} {}",
                    u.rss,
                    v.rss
                );
            }
        }
    }

    #[test]
    fn task_search_finds_a_shared_pair_with_task_coefficients() {
        let n = 45;
        let x = columns(n, 7);
        // Three tasks of 15 rows: the same pair (1, 4), different coefficients and intercepts.
        let coef = [(3.0, -1.0, 0.5), (-2.0, 0.5, 4.0), (0.1, 2.0, -1.0)];
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let (a, b, c) = coef[i / 15];
                a * x[1][i] + b * x[4][i] + c
            })
            .collect();
        let tasks = [(0..15, 1.0), (15..30, 1.0), (30..45, 1.0)];
        let top = search_tasks(&x, &y, &tasks, 2, 5);
        assert_eq!(top[0].idx, vec![1, 4]);
        assert!(top[0].rss < 1e-20, "{}", top[0].rss);
        assert!(top[1].rss > 1e-6);
        // One pooled fit cannot: the single-task best pair leaves an error.
        let pooled = search(&x, &y, 2, 1);
        assert!(pooled[0].rss > 1e-3);
        // A feature constant within one task is collinear there and never chosen.
        let mut xc = x.clone();
        xc[3][15..30].iter_mut().for_each(|v| *v = 2.0);
        let top = search_tasks(&xc, &y, &tasks, 2, 50);
        assert!(top.iter().all(|c| !c.idx.contains(&3)));
    }
}
