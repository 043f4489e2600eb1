//! A fitted regression tree: flat node array, prediction and path-dependent TreeSHAP.

use serde::{Deserialize, Serialize};

pub(crate) const LEAF: u32 = u32::MAX;

/// How a split sends a row left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// `x <= threshold` (scikit-learn's CART).
    LessEqual,
    /// `x < threshold` (XGBoost's trees grown here).
    Less,
    /// `(x as f32) < (threshold as f32)` (trees loaded from an XGBoost model, which compares in
    /// single precision).
    LessF32,
}

/// One node. Leaves have `feature == u32::MAX`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    pub feature: u32,
    pub threshold: f64,
    pub left: u32,
    pub right: u32,
    /// Prediction of the node (leaf value; for internal nodes the value it would have as a leaf).
    pub value: f64,
    /// Weighted number of training rows (CART) or sum of hessians (boosting).
    pub cover: f64,
    /// Impurity decrease (CART, weighted by rows) or loss change (boosting) of the split.
    pub gain: f64,
}

/// A fitted regression tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub(crate) nodes: Vec<Node>,
    pub(crate) decision: Decision,
}

impl Tree {
    /// Number of nodes (internal and leaves).
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.feature == LEAF).count()
    }

    /// Depth (a single leaf has depth 0).
    pub fn depth(&self) -> usize {
        let mut best = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((i, d)) = stack.pop() {
            let n = &self.nodes[i];
            if n.feature == LEAF {
                best = best.max(d);
            } else {
                stack.push((n.left as usize, d + 1));
                stack.push((n.right as usize, d + 1));
            }
        }
        best
    }

    #[inline]
    fn goes_left(&self, x: f64, t: f64) -> bool {
        match self.decision {
            Decision::LessEqual => x <= t,
            Decision::Less => x < t,
            Decision::LessF32 => (x as f32) < (t as f32),
        }
    }

    /// Index of the leaf that `row` falls into.
    #[inline]
    pub(crate) fn leaf_of(&self, row: &[f64]) -> usize {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.feature == LEAF {
                return i;
            }
            i = if self.goes_left(row[n.feature as usize], n.threshold) {
                n.left as usize
            } else {
                n.right as usize
            };
        }
    }

    /// Prediction for row `i` of a column-major table.
    #[inline]
    pub(crate) fn predict_column_major(&self, cols: &[Vec<f64>], i: usize) -> f64 {
        let mut k = 0usize;
        loop {
            let n = &self.nodes[k];
            if n.feature == LEAF {
                return n.value;
            }
            k = if self.goes_left(cols[n.feature as usize][i], n.threshold) {
                n.left as usize
            } else {
                n.right as usize
            };
        }
    }

    /// Prediction for one row (its features in training order).
    #[inline]
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        self.nodes[self.leaf_of(row)].value
    }

    /// Adds the split gains of this tree to `out` per feature; `counts` gets the number of splits.
    pub(crate) fn add_gains(&self, out: &mut [f64], counts: &mut [usize]) {
        for n in &self.nodes {
            if n.feature != LEAF {
                out[n.feature as usize] += n.gain;
                counts[n.feature as usize] += 1;
            }
        }
    }

    /// Expected value of the tree over the training distribution (cover-weighted leaf mean).
    pub(crate) fn expected_value(&self) -> f64 {
        let root = self.nodes[0].cover;
        if root <= 0.0 {
            return self.nodes[0].value;
        }
        self.nodes
            .iter()
            .filter(|n| n.feature == LEAF)
            .map(|n| n.value * n.cover)
            .sum::<f64>()
            / root
    }

    /// Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2): adds the SHAP value of
    /// every feature for `row` to `phi` (length = number of features). The values sum to
    /// `predict_row(row) - expected_value()`.
    pub(crate) fn shap_row(&self, row: &[f64], phi: &mut [f64]) {
        if self.nodes[0].feature == LEAF {
            return;
        }
        self.shap_recurse(row, phi, 0, &[], 1.0, 1.0, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn shap_recurse(
        &self,
        row: &[f64],
        phi: &mut [f64],
        node: usize,
        parent: &[PathElem],
        zero_fraction: f64,
        one_fraction: f64,
        feature: Option<u32>,
    ) {
        let mut path = Vec::with_capacity(parent.len() + 1);
        path.extend_from_slice(parent);
        path.push(PathElem::default());
        let mut len = parent.len();
        extend(&mut path, len, zero_fraction, one_fraction, feature);
        len += 1;
        let n = &self.nodes[node];
        if n.feature == LEAF {
            for i in 1..len {
                let w = unwound_sum(&path, len, i);
                let e = path[i];
                if let Some(f) = e.feature {
                    phi[f as usize] += w * (e.one - e.zero) * n.value;
                }
            }
            return;
        }
        let (hot, cold) = if self.goes_left(row[n.feature as usize], n.threshold) {
            (n.left as usize, n.right as usize)
        } else {
            (n.right as usize, n.left as usize)
        };
        let frac = |child: usize| {
            if n.cover > 0.0 {
                self.nodes[child].cover / n.cover
            } else {
                0.0
            }
        };
        let mut incoming_zero = 1.0;
        let mut incoming_one = 1.0;
        if let Some(k) = (1..len).find(|&k| path[k].feature == Some(n.feature)) {
            incoming_zero = path[k].zero;
            incoming_one = path[k].one;
            unwind(&mut path, len, k);
            len -= 1;
        }
        let path = &path[..len];
        let f = Some(n.feature);
        self.shap_recurse(row, phi, hot, path, frac(hot) * incoming_zero, incoming_one, f);
        self.shap_recurse(row, phi, cold, path, frac(cold) * incoming_zero, 0.0, f);
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct PathElem {
    feature: Option<u32>,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Appends an element to a path of `len` elements and updates the permutation weights.
fn extend(path: &mut [PathElem], len: usize, zero: f64, one: f64, feature: Option<u32>) {
    path[len] = PathElem {
        feature,
        zero,
        one,
        weight: if len == 0 { 1.0 } else { 0.0 },
    };
    let l1 = (len + 1) as f64;
    for i in (0..len).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / l1;
        path[i].weight = zero * path[i].weight * (len - i) as f64 / l1;
    }
}

/// Removes element `k` from a path of `len` elements, undoing its extension.
fn unwind(path: &mut [PathElem], len: usize, k: usize) {
    let last = len - 1;
    let one = path[k].one;
    let zero = path[k].zero;
    let mut next = path[last].weight;
    let l1 = len as f64;
    for i in (0..last).rev() {
        if one != 0.0 {
            let t = path[i].weight;
            path[i].weight = next * l1 / ((i + 1) as f64 * one);
            next = t - path[i].weight * zero * (last - i) as f64 / l1;
        } else {
            path[i].weight = path[i].weight * l1 / (zero * (last - i) as f64);
        }
    }
    for i in k..last {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

/// Total permutation weight of the path with element `k` unwound, leaving the path unchanged.
fn unwound_sum(path: &[PathElem], len: usize, k: usize) -> f64 {
    let last = len - 1;
    let one = path[k].one;
    let zero = path[k].zero;
    let mut next = path[last].weight;
    let l1 = len as f64;
    let mut total = 0.0;
    for i in (0..last).rev() {
        if one != 0.0 {
            let t = next * l1 / ((i + 1) as f64 * one);
            total += t;
            next = path[i].weight - t * zero * (last - i) as f64 / l1;
        } else if zero != 0.0 {
            total += path[i].weight / zero / ((last - i) as f64 / l1);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force Shapley values with the path-dependent conditional expectation.
    fn cond_exp(t: &Tree, row: &[f64], set: &[bool], node: usize) -> f64 {
        let n = &t.nodes[node];
        if n.feature == LEAF {
            return n.value;
        }
        if set[n.feature as usize] {
            let next = if t.goes_left(row[n.feature as usize], n.threshold) {
                n.left
            } else {
                n.right
            };
            cond_exp(t, row, set, next as usize)
        } else {
            let (l, r) = (&t.nodes[n.left as usize], &t.nodes[n.right as usize]);
            (l.cover * cond_exp(t, row, set, n.left as usize)
                + r.cover * cond_exp(t, row, set, n.right as usize))
                / n.cover
        }
    }

    fn brute_shap(t: &Tree, row: &[f64], d: usize) -> Vec<f64> {
        let fact = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
        let mut phi = vec![0.0; d];
        for j in 0..d {
            for mask in 0u32..(1 << d) {
                if mask & (1 << j) != 0 {
                    continue;
                }
                let s = mask.count_ones() as usize;
                let w = fact(s) * fact(d - s - 1) / fact(d);
                let mut set: Vec<bool> = (0..d).map(|i| mask & (1 << i) != 0).collect();
                let without = cond_exp(t, row, &set, 0);
                set[j] = true;
                phi[j] += w * (cond_exp(t, row, &set, 0) - without);
            }
        }
        phi
    }

    fn node(feature: u32, threshold: f64, left: u32, right: u32, value: f64, cover: f64) -> Node {
        Node {
            feature,
            threshold,
            left,
            right,
            value,
            cover,
            gain: 0.0,
        }
    }

    /// A depth-3 tree that splits twice on feature 0.
    fn sample_tree() -> Tree {
        Tree {
            nodes: vec![
                node(0, 0.5, 1, 2, 0.0, 10.0),
                node(1, 0.3, 3, 4, 0.0, 6.0),
                node(2, 0.7, 5, 6, 0.0, 4.0),
                node(0, 0.2, 7, 8, 0.0, 2.0),
                leaf(2.5, 4.0),
                leaf(-1.0, 3.0),
                leaf(7.0, 1.0),
                leaf(1.0, 1.5),
                leaf(-3.0, 0.5),
            ],
            decision: Decision::LessEqual,
        }
    }

    fn leaf(value: f64, cover: f64) -> Node {
        node(LEAF, 0.0, LEAF, LEAF, value, cover)
    }

    #[test]
    fn treeshap_equals_brute_force_shapley_values() {
        let t = sample_tree();
        for row in [[0.1, 0.1, 0.9], [0.3, 0.9, 0.1], [0.9, 0.2, 0.8], [0.6, 0.5, 0.2]] {
            let mut phi = vec![0.0; 3];
            t.shap_row(&row, &mut phi);
            let brute = brute_shap(&t, &row, 3);
            for (a, b) in phi.iter().zip(&brute) {
                assert!((a - b).abs() < 1e-12, "{phi:?} vs {brute:?}");
            }
            let total: f64 = phi.iter().sum::<f64>() + t.expected_value();
            assert!((total - t.predict_row(&row)).abs() < 1e-12);
        }
    }
}
