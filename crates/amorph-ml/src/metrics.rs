//! Regression metrics.

/// Root-mean-square error.
pub fn rmse(y: &[f64], pred: &[f64]) -> f64 {
    mse(y, pred).sqrt()
}

/// Mean squared error.
pub fn mse(y: &[f64], pred: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / n
}

/// Coefficient of determination (scikit-learn's `r2_score`: 1 for a perfect fit of a constant
/// target, 0 for an imperfect one).
pub fn r2(y: &[f64], pred: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let ss_tot: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - ss_res / ss_tot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_a_known_case() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let p = [1.0, 2.0, 3.0, 6.0];
        assert!((rmse(&y, &p) - 1.0).abs() < 1e-15);
        assert!((mae(&y, &p) - 0.5).abs() < 1e-15);
        assert!((r2(&y, &p) - (1.0 - 4.0 / 5.0)).abs() < 1e-15);
    }
}
