//! Small dense least squares by Householder QR (column-major storage), for the Levenberg–Marquardt steps,
//! the covariance of fitted parameters, and polynomial fits.

/// `m × n` matrix, column-major: entry (i, j) at `data[j * m + i]`.
#[derive(Clone, Debug)]
pub(crate) struct Mat {
    pub m: usize,
    pub n: usize,
    pub data: Vec<f64>,
}

impl Mat {
    pub fn zeros(m: usize, n: usize) -> Self {
        Self {
            m,
            n,
            data: vec![0.0; m * n],
        }
    }
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[j * self.m + i]
    }
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[j * self.m + i] = v;
    }
}

/// Householder QR of `a` (m ≥ n), in place: returns R (n × n upper triangle, row-major `r[i * n + j]`)
/// and applies Qᵀ to `b`. `None` when a column is (numerically) dependent on the others.
pub(crate) fn qr_solve(mut a: Mat, b: &mut [f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let (m, n) = (a.m, a.n);
    if m < n || b.len() != m {
        return None;
    }
    let col_norm0: Vec<f64> = (0..n)
        .map(|j| {
            a.data[j * m..(j + 1) * m]
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    for k in 0..n {
        let col = &mut a.data[k * m..(k + 1) * m];
        let norm = col[k..].iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 1e-13 * col_norm0[k].max(f64::MIN_POSITIVE)) {
            return None;
        }
        let alpha = if col[k] > 0.0 { -norm } else { norm };
        // v = x - alpha e_k, stored in col[k..]; H = I - 2 v vᵀ / vᵀv.
        col[k] -= alpha;
        let vtv: f64 = col[k..].iter().map(|x| x * x).sum();
        let v: Vec<f64> = col[k..].to_vec();
        col[k] = alpha;
        for x in col[k + 1..].iter_mut() {
            *x = 0.0;
        }
        for j in k + 1..n {
            let cj = &mut a.data[j * m + k..(j + 1) * m];
            let s = 2.0 * v.iter().zip(cj.iter()).map(|(p, q)| p * q).sum::<f64>() / vtv;
            for (x, p) in cj.iter_mut().zip(&v) {
                *x -= s * p;
            }
        }
        let s = 2.0 * v.iter().zip(&b[k..]).map(|(p, q)| p * q).sum::<f64>() / vtv;
        for (x, p) in b[k..].iter_mut().zip(&v) {
            *x -= s * p;
        }
    }
    let mut r = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            r[i * n + j] = a.at(i, j);
        }
    }
    // Back substitution R x = (Qᵀ b)[..n].
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = b[i];
        for j in i + 1..n {
            s -= r[i * n + j] * x[j];
        }
        x[i] = s / r[i * n + i];
    }
    Some((x, r))
}

/// (RᵀR)⁻¹ from an upper-triangular `r` (row-major n × n): the unscaled covariance of a least-squares fit.
pub(crate) fn inverse_normal(r: &[f64], n: usize) -> Vec<f64> {
    // Rinv upper triangular.
    let mut rinv = vec![0.0; n * n];
    for j in 0..n {
        rinv[j * n + j] = 1.0 / r[j * n + j];
        for i in (0..j).rev() {
            let mut s = 0.0;
            for k in i + 1..=j {
                s += r[i * n + k] * rinv[k * n + j];
            }
            rinv[i * n + j] = -s / r[i * n + i];
        }
    }
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            c[i * n + j] = (i.max(j)..n).map(|k| rinv[i * n + k] * rinv[j * n + k]).sum();
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_an_overdetermined_system_and_its_covariance() {
        // Fit y = 1 + 2x + 3x² exactly on 5 points.
        let xs = [-1.0, 0.0, 0.5, 2.0, 3.0];
        let mut a = Mat::zeros(5, 3);
        let mut b: Vec<f64> = xs.iter().map(|x| 1.0 + 2.0 * x + 3.0 * x * x).collect();
        for (i, x) in xs.iter().enumerate() {
            a.set(i, 0, 1.0);
            a.set(i, 1, *x);
            a.set(i, 2, x * x);
        }
        let ata: Vec<f64> = (0..9)
            .map(|k| (0..5).map(|i| a.at(i, k / 3) * a.at(i, k % 3)).sum())
            .collect();
        let (x, r) = qr_solve(a, &mut b).unwrap();
        for (got, want) in x.iter().zip([1.0, 2.0, 3.0]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
        let c = inverse_normal(&r, 3);
        // C · AᵀA = I.
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| c[i * 3 + k] * ata[k * 3 + j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10, "{i}{j} {s}");
            }
        }
    }

    #[test]
    fn dependent_columns_are_refused() {
        let mut a = Mat::zeros(3, 2);
        for i in 0..3 {
            a.set(i, 0, i as f64);
            a.set(i, 1, 2.0 * i as f64);
        }
        assert!(qr_solve(a, &mut [1.0, 2.0, 3.0]).is_none());
    }
}
