//! Model selection: splits, k-fold cross-validation, grid search, permutation importances,
//! bootstrap ensembles, target transforms.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result, invalid};
use crate::model::ModelSpec;
use crate::rng::Rng;
use crate::{Fit, Regressor, check_xy, metrics};

/// Row indices of a training set and a test set.
pub type Split = (Vec<usize>, Vec<usize>);

/// Shuffled train/test split (scikit-learn's `train_test_split`: ⌈test_fraction·n⌉ test rows).
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> Result<Split> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(invalid("test_size", test_fraction, "in (0, 1)"));
    }
    let n_test = (test_fraction * n as f64).ceil() as usize;
    if n_test == 0 || n_test >= n {
        return Err(MlError::TooFewRows { rows: n, folds: 2 });
    }
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut idx);
    let test = idx[..n_test].to_vec();
    let train = idx[n_test..].to_vec();
    Ok((train, test))
}

/// K-fold cross-validation splits (scikit-learn's `KFold`: the first n mod k folds have one row
/// more; with a seed the rows are shuffled first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KFold {
    /// Number of folds.
    pub n_splits: usize,
    /// Shuffle rows before cutting folds.
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub seed: u64,
}

impl KFold {
    /// `k` consecutive folds, no shuffling.
    pub fn new(k: usize) -> Self {
        KFold {
            n_splits: k,
            shuffle: false,
            seed: 0,
        }
    }
    /// Shuffle with this seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.shuffle = true;
        self.seed = seed;
        self
    }
    /// Turn shuffling on or off.
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }

    /// The (train, test) rows of every fold for `n` rows.
    pub fn split(&self, n: usize) -> Result<Vec<Split>> {
        let k = self.n_splits;
        if k < 2 {
            return Err(invalid("n_splits", k, "at least 2"));
        }
        if n < k {
            return Err(MlError::TooFewRows { rows: n, folds: k });
        }
        let mut idx: Vec<usize> = (0..n).collect();
        if self.shuffle {
            Rng::new(self.seed).shuffle(&mut idx);
        }
        let mut fold_of = vec![0usize; n];
        let mut start = 0;
        for f in 0..k {
            let size = n / k + usize::from(f < n % k);
            for &i in &idx[start..start + size] {
                fold_of[i] = f;
            }
            start += size;
        }
        Ok(folds_from_assignment(&fold_of, k))
    }
}

/// Splits from a fold number per row (rows of fold f are its test set), rows in ascending order.
pub(crate) fn folds_from_assignment(fold_of: &[usize], k: usize) -> Vec<Split> {
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) = (0..fold_of.len()).partition(|&i| fold_of[i] == f);
            (train, test)
        })
        .collect()
}

/// A transform applied to the target before fitting and undone on predictions; metrics are on
/// the original scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetTransform {
    /// No transform.
    #[default]
    Identity,
    /// Natural logarithm (needs y > 0).
    Ln,
    /// Base-10 logarithm (needs y > 0), e.g. log₁₀ D.
    Log10,
}

impl TargetTransform {
    /// Parses `none`, `ln`/`log`, `log10`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" | "identity" => Ok(TargetTransform::Identity),
            "ln" | "log" => Ok(TargetTransform::Ln),
            "log10" => Ok(TargetTransform::Log10),
            _ => Err(invalid("transform", s, "none, log (ln) or log10")),
        }
    }
    /// Forward transform, checking the domain.
    pub fn forward(self, y: ArrayView1<f64>) -> Result<Array1<f64>> {
        if self != TargetTransform::Identity
            && let Some((row, &value)) = y.iter().enumerate().find(|(_, v)| **v <= 0.0)
        {
            return Err(MlError::NonPositiveTarget { row, value });
        }
        Ok(match self {
            TargetTransform::Identity => y.to_owned(),
            TargetTransform::Ln => y.mapv(f64::ln),
            TargetTransform::Log10 => y.mapv(f64::log10),
        })
    }
    /// Inverse transform of predictions.
    pub fn inverse(self, p: Array1<f64>) -> Array1<f64> {
        match self {
            TargetTransform::Identity => p,
            TargetTransform::Ln => p.mapv(f64::exp),
            TargetTransform::Log10 => p.mapv(|v| 10f64.powf(v)),
        }
    }
}

/// Scores of one fold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldScore {
    /// Root-mean-square error on the test rows.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// R².
    pub r2: f64,
    /// Test rows.
    pub n_test: usize,
}

/// Cross-validation summary (standard deviations over folds, population, as scikit-learn's
/// `np.std`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// Mean RMSE over folds.
    pub rmse_mean: f64,
    /// Standard deviation of the fold RMSEs.
    pub rmse_std: f64,
    /// Mean MAE.
    pub mae_mean: f64,
    /// Mean R².
    pub r2_mean: f64,
    /// Standard deviation of the fold R²s.
    pub r2_std: f64,
    /// Every fold.
    pub folds: Vec<FoldScore>,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (m, (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt())
}

/// Cross-validated RMSE, MAE and R² of `cfg` over `folds` (from [`KFold::split`] or any list of
/// train/test rows); folds run in parallel. With a transform, models are fitted to the
/// transformed target and scored on the original scale.
pub fn cross_validate<F>(
    cfg: &F,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Split],
    transform: Option<TargetTransform>,
) -> Result<CvReport>
where
    F: Fit + Sync,
{
    check_xy(x, y)?;
    if folds.is_empty() {
        return Err(invalid("folds", 0, "at least one fold"));
    }
    if let Some(&first) = y.iter().next()
        && y.iter().all(|&v| v == first)
    {
        return Err(MlError::ConstantTarget(first));
    }
    let t = transform.unwrap_or_default();
    let yt = t.forward(y)?;
    let n = x.nrows();
    for (train, test) in folds {
        if train.is_empty() || test.is_empty() || train.iter().chain(test).any(|&i| i >= n) {
            return Err(invalid(
                "folds",
                "…",
                "non-empty train and test rows within the data",
            ));
        }
    }
    let folds: Vec<FoldScore> = folds
        .par_iter()
        .map(|(train, test)| {
            let model = cfg.fit(x.select(Axis(0), train).view(), yt.select(Axis(0), train).view())?;
            let pred = t.inverse(model.predict(x.select(Axis(0), test).view())?);
            let truth: Vec<f64> = test.iter().map(|&i| y[i]).collect();
            let pred = pred.to_vec();
            Ok(FoldScore {
                rmse: metrics::rmse(&truth, &pred),
                mae: metrics::mae(&truth, &pred),
                r2: metrics::r2(&truth, &pred),
                n_test: test.len(),
            })
        })
        .collect::<Result<_>>()?;
    let (rmse_mean, rmse_std) = mean_std(&folds.iter().map(|f| f.rmse).collect::<Vec<_>>());
    let (r2_mean, r2_std) = mean_std(&folds.iter().map(|f| f.r2).collect::<Vec<_>>());
    let (mae_mean, _) = mean_std(&folds.iter().map(|f| f.mae).collect::<Vec<_>>());
    Ok(CvReport {
        rmse_mean,
        rmse_std,
        mae_mean,
        r2_mean,
        r2_std,
        folds,
    })
}

/// Out-of-fold predictions: every row predicted by the model of the fold that held it out
/// (scikit-learn's `cross_val_predict`), on the original scale; rows in no test set are NaN.
pub fn cross_val_predict<F>(
    cfg: &F,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Split],
    transform: Option<TargetTransform>,
) -> Result<Array1<f64>>
where
    F: Fit + Sync,
{
    check_xy(x, y)?;
    let t = transform.unwrap_or_default();
    let yt = t.forward(y)?;
    let n = x.nrows();
    if folds.iter().flat_map(|(a, b)| a.iter().chain(b)).any(|&i| i >= n) {
        return Err(invalid("folds", "…", "rows within the data"));
    }
    let parts = folds
        .par_iter()
        .map(|(train, test)| {
            let model = cfg.fit(x.select(Axis(0), train).view(), yt.select(Axis(0), train).view())?;
            Ok(t.inverse(model.predict(x.select(Axis(0), test).view())?))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = Array1::from_elem(n, f64::NAN);
    for ((_, test), p) in folds.iter().zip(parts) {
        for (&i, v) in test.iter().zip(p) {
            out[i] = v;
        }
    }
    Ok(out)
}

/// One point of a grid search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridPoint {
    /// The parameter values of this point (name, value as given).
    pub params: Vec<(String, String)>,
    /// Its cross-validation scores.
    pub cv: CvReport,
}

/// Cross-validates every combination of a parameter grid (names as in [`ModelSpec::set`]) in
/// parallel; returns the points sorted by mean RMSE, best first (ties in grid order).
pub fn grid_search(
    base: &ModelSpec,
    grid: &[(String, Vec<String>)],
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Split],
    transform: Option<TargetTransform>,
) -> Result<Vec<GridPoint>> {
    if grid.iter().any(|(_, v)| v.is_empty()) {
        return Err(invalid("grid", "…", "every parameter needs at least one value"));
    }
    let mut combos: Vec<Vec<(String, String)>> = vec![vec![]];
    for (k, vals) in grid {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                vals.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    // Validate every point before fitting anything.
    let configs = combos
        .iter()
        .map(|c| {
            let mut s = base.clone();
            for (k, v) in c {
                s.set(k, v)?;
            }
            s.check()
        })
        .collect::<Result<Vec<_>>>()?;
    let mut points: Vec<GridPoint> = configs
        .par_iter()
        .zip(combos)
        .map(|(cfg, params)| {
            Ok(GridPoint {
                params,
                cv: cross_validate(cfg, x, y, folds, transform)?,
            })
        })
        .collect::<Result<_>>()?;
    points.sort_by(|a, b| a.cv.rmse_mean.total_cmp(&b.cv.rmse_mean));
    Ok(points)
}

/// Permutation importances: the drop in R² when one feature's column is shuffled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermutationImportance {
    /// R² of the unshuffled data.
    pub baseline: f64,
    /// Mean drop per feature.
    pub mean: Vec<f64>,
    /// Standard deviation of the drop over repeats.
    pub std: Vec<f64>,
}

/// scikit-learn's `permutation_importance` with the R² score; features in parallel, each with its
/// own seeded stream.
pub fn permutation_importance<M: Regressor + Sync>(
    model: &M,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    n_repeats: usize,
    seed: u64,
) -> Result<PermutationImportance> {
    check_xy(x, y)?;
    if n_repeats == 0 {
        return Err(invalid("n_repeats", 0, "at least 1"));
    }
    let truth = y.to_vec();
    let baseline = metrics::r2(&truth, &model.predict(x)?.to_vec());
    let drops: Vec<Vec<f64>> = (0..x.ncols())
        .into_par_iter()
        .map(|j| {
            let mut rng = Rng::derived(seed, 3, j as u64);
            let mut xp: Array2<f64> = x.to_owned();
            (0..n_repeats)
                .map(|_| {
                    let mut col: Vec<f64> = x.column(j).to_vec();
                    rng.shuffle(&mut col);
                    xp.column_mut(j).assign(&Array1::from(col));
                    let p = model.predict(xp.view())?.to_vec();
                    Ok(baseline - metrics::r2(&truth, &p))
                })
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<_>>()?;
    let (mean, std) = drops.iter().map(|d| mean_std(d)).unzip();
    Ok(PermutationImportance { baseline, mean, std })
}

/// Models refitted on bootstrap resamples of the rows; their spread is an error bar.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BootstrapEnsemble<M> {
    /// The refitted models.
    pub models: Vec<M>,
}

impl<M: Regressor + Sync> BootstrapEnsemble<M> {
    /// Mean and (population) standard deviation of the models' predictions.
    pub fn predict_mean_std(&self, x: ArrayView2<f64>) -> Result<(Array1<f64>, Array1<f64>)> {
        let preds = self
            .models
            .par_iter()
            .map(|m| m.predict(x))
            .collect::<Result<Vec<_>>>()?;
        let k = preds.len().max(1) as f64;
        let n = x.nrows();
        let mut mean = Array1::zeros(n);
        for p in &preds {
            mean += p;
        }
        mean /= k;
        let mut var = Array1::<f64>::zeros(n);
        for p in &preds {
            var += &(p - &mean).mapv(|v| v * v);
        }
        Ok((mean, (var / k).mapv(f64::sqrt)))
    }
}

/// Fits `n_models` models to bootstrap resamples (rows drawn with replacement) in parallel, each
/// from its own seeded stream (the notebooks' 100 XGBoost refits for error bars).
pub fn bootstrap_ensemble<F>(
    cfg: &F,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    n_models: usize,
    seed: u64,
) -> Result<BootstrapEnsemble<F::Model>>
where
    F: Fit + Sync,
    F::Model: Send,
{
    check_xy(x, y)?;
    if n_models == 0 {
        return Err(invalid("n_models", 0, "at least 1"));
    }
    let n = x.nrows();
    let models = (0..n_models)
        .into_par_iter()
        .map(|b| {
            let mut rng = Rng::derived(seed, 4, b as u64);
            let rows: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            cfg.fit(x.select(Axis(0), &rows).view(), y.select(Axis(0), &rows).view())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(BootstrapEnsemble { models })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfold_sizes_and_coverage_follow_sklearn() {
        let f = KFold::new(5).seed(62).split(23).unwrap();
        let sizes: Vec<usize> = f.iter().map(|(_, t)| t.len()).collect();
        assert_eq!(sizes, vec![5, 5, 5, 4, 4]);
        let mut all: Vec<usize> = f.iter().flat_map(|(_, t)| t.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..23).collect::<Vec<_>>());
        for (train, test) in &f {
            assert_eq!(train.len() + test.len(), 23);
            assert!(test.iter().all(|i| !train.contains(i)));
        }
        // Unshuffled: consecutive blocks.
        assert_eq!(KFold::new(2).split(4).unwrap()[0].1, vec![0, 1]);
        assert!(matches!(
            KFold::new(5).split(4),
            Err(MlError::TooFewRows { rows: 4, folds: 5 })
        ));
    }

    #[test]
    fn train_test_split_sizes() {
        let (tr, te) = train_test_split(100, 0.15, 62).unwrap();
        assert_eq!((tr.len(), te.len()), (85, 15));
        assert_ne!(train_test_split(100, 0.15, 1).unwrap().1, te);
    }

    #[test]
    fn log_transform_round_trips_and_rejects_non_positive() {
        let y = Array1::from(vec![1e-4, 2e-3, 0.5]);
        for t in [TargetTransform::Ln, TargetTransform::Log10] {
            let back = t.inverse(t.forward(y.view()).unwrap());
            for (a, b) in back.iter().zip(&y) {
                assert!((a / b - 1.0).abs() < 1e-12);
            }
        }
        let bad = Array1::from(vec![1.0, 0.0]);
        assert!(matches!(
            TargetTransform::Log10.forward(bad.view()),
            Err(MlError::NonPositiveTarget { row: 1, .. })
        ));
    }
}
