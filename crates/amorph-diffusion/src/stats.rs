//! Small statistics helpers: Student-t quantiles and weighted straight-line fits.

/// Two-sided 95 % quantile of Student's t distribution, t₀.₉₇₅(ν), for ν ≥ 1 degrees of freedom.
///
/// ν ≤ 30 from the standard table (9 significant digits); beyond, the Cornish–Fisher expansion of
/// Abramowitz & Stegun 26.7.5 (error < 1e-7 for ν > 30). `ν = ∞` (`f64::INFINITY`) gives 1.959964.
pub fn t975(nu: f64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706204736,
        4.30265273,
        3.182446305,
        2.776445105,
        2.570581836,
        2.446911851,
        2.364624252,
        2.306004135,
        2.262157163,
        2.228138852,
        2.20098516,
        2.17881283,
        2.160368656,
        2.144786688,
        2.131449546,
        2.119905299,
        2.109815578,
        2.10092204,
        2.093024054,
        2.085963447,
        2.079613845,
        2.073873068,
        2.06865761,
        2.063898562,
        2.059538553,
        2.055529439,
        2.051830516,
        2.048407142,
        2.045229642,
        2.042272456,
    ];
    const Z: f64 = 1.959_963_984_540_054;
    if nu.fract() == 0.0 && (1.0..=30.0).contains(&nu) {
        return TABLE[nu as usize - 1];
    }
    if !nu.is_finite() {
        return Z;
    }
    let x = Z;
    let (x3, x5, x7, x9) = (x.powi(3), x.powi(5), x.powi(7), x.powi(9));
    let g1 = (x3 + x) / 4.0;
    let g2 = (5.0 * x5 + 16.0 * x3 + 3.0 * x) / 96.0;
    let g3 = (3.0 * x7 + 19.0 * x5 + 17.0 * x3 - 15.0 * x) / 384.0;
    let g4 = (79.0 * x9 + 776.0 * x7 + 1482.0 * x5 - 1920.0 * x3 - 945.0 * x) / 92160.0;
    x + g1 / nu + g2 / nu.powi(2) + g3 / nu.powi(3) + g4 / nu.powi(4)
}

/// A weighted straight line y = slope·x + intercept by least squares (centred sums).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub slope: f64,
    pub intercept: f64,
    /// Σ wᵢ (yᵢ − slope·xᵢ − intercept)².
    pub weighted_rss: f64,
    /// Σ wᵢ (xᵢ − x̄)² with the weighted mean x̄.
    pub sxx: f64,
    /// Σ wᵢ and the weighted mean of x.
    pub sum_w: f64,
    pub mean_x: f64,
}

/// Weighted least squares; `w = None` means unit weights. Needs two distinct x values.
pub fn fit_line(x: &[f64], y: &[f64], w: Option<&[f64]>) -> Option<Line> {
    let n = x.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let wt = |i: usize| w.map_or(1.0, |w| w[i]);
    let sum_w: f64 = (0..n).map(wt).sum();
    let mean_x = (0..n).map(|i| wt(i) * x[i]).sum::<f64>() / sum_w;
    let mean_y = (0..n).map(|i| wt(i) * y[i]).sum::<f64>() / sum_w;
    let sxx: f64 = (0..n).map(|i| wt(i) * (x[i] - mean_x).powi(2)).sum();
    let sxy: f64 = (0..n).map(|i| wt(i) * (x[i] - mean_x) * (y[i] - mean_y)).sum();
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let weighted_rss = (0..n)
        .map(|i| wt(i) * (y[i] - slope * x[i] - intercept).powi(2))
        .sum();
    Some(Line {
        slope,
        intercept,
        weighted_rss,
        sxx,
        sum_w,
        mean_x,
    })
}

/// Sample mean and standard deviation (n − 1 in the denominator).
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_join_smoothly_and_tend_to_the_normal() {
        // The expansion at ν = 30 reproduces the table value it replaces beyond 30.
        let cf30 = {
            let nu: f64 = 30.000_000_001;
            t975(nu)
        };
        assert!((cf30 - 2.042272456).abs() < 1e-6, "{cf30}");
        // scipy.stats.t.ppf(0.975, 100) = 1.983971519
        assert!((t975(100.0) - 1.983971519).abs() < 1e-8);
        assert!((t975(f64::INFINITY) - 1.959963985).abs() < 1e-9);
        assert!(t975(2.0) > t975(3.0));
    }

    #[test]
    fn weighted_line_through_exact_points() {
        let x = [1.0, 2.0, 4.0, 8.0];
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v - 1.0).collect();
        let l = fit_line(&x, &y, Some(&[1.0, 0.5, 0.25, 0.125])).unwrap();
        assert!((l.slope - 3.0).abs() < 1e-14 && (l.intercept + 1.0).abs() < 1e-13);
        assert!(l.weighted_rss < 1e-25);
        assert!(fit_line(&[1.0, 1.0], &[0.0, 1.0], None).is_none());
    }
}
