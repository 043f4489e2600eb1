//! Invariants on random small tables.

use amorph_ml::{Fit, GbtParams, KFold, MaxFeatures, RandomForestParams, Regressor};
use ndarray::{Array1, Array2};
use proptest::prelude::*;

fn table() -> impl Strategy<Value = (Array2<f64>, Array1<f64>)> {
    (5usize..40, 1usize..5).prop_flat_map(|(n, d)| {
        (
            proptest::collection::vec(-10.0f64..10.0, n * d),
            proptest::collection::vec(-5.0f64..5.0, n),
        )
            .prop_map(move |(x, y)| (Array2::from_shape_vec((n, d), x).expect("shape"), Array1::from(y)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// TreeSHAP values plus the expected value add up to the prediction, for both model kinds.
    #[test]
    fn shap_rows_sum_to_predictions((x, y) in table(), seed in 0u64..1000) {
        let rf = RandomForestParams::new()
            .n_estimators(7)
            .max_depth(Some(5))
            .max_features(MaxFeatures::Sqrt)
            .seed(seed)
            .check()
            .expect("valid")
            .fit(x.view(), y.view())
            .expect("fit");
        let gbt = GbtParams::new()
            .n_estimators(8)
            .max_depth(3)
            .reg_alpha(0.3)
            .subsample(0.8)
            .seed(seed)
            .check()
            .expect("valid")
            .fit(x.view(), y.view())
            .expect("fit");
        for (shap, pred) in [
            (rf.shap_values(x.view()).expect("shap"), rf.predict(x.view()).expect("p")),
            (gbt.shap_values(x.view()).expect("shap"), gbt.predict(x.view()).expect("p")),
        ] {
            for (row, p) in shap.rows().into_iter().zip(&pred) {
                prop_assert!((row.sum() - p).abs() < 1e-9 * p.abs().max(1.0));
            }
        }
    }

    /// An unlimited tree without bootstrap reproduces a training target with distinct rows.
    #[test]
    fn full_tree_interpolates_distinct_rows((x, y) in table()) {
        let m = RandomForestParams::new()
            .n_estimators(1)
            .bootstrap(false)
            .check()
            .expect("valid")
            .fit(x.view(), y.view())
            .expect("fit");
        let p = m.predict(x.view()).expect("p");
        for (a, b) in p.iter().zip(&y) {
            prop_assert!((a - b).abs() < 1e-9);
        }
    }

    /// K-fold test sets partition the rows, sizes differing by at most one.
    #[test]
    fn kfold_partitions_rows(n in 2usize..200, k in 2usize..10, seed in 0u64..100) {
        prop_assume!(n >= k);
        let folds = KFold::new(k).seed(seed).split(n).expect("folds");
        let mut seen = vec![0; n];
        for (train, test) in &folds {
            prop_assert_eq!(train.len() + test.len(), n);
            for &i in test {
                seen[i] += 1;
            }
        }
        prop_assert!(seen.iter().all(|&c| c == 1));
        let sizes: Vec<usize> = folds.iter().map(|f| f.1.len()).collect();
        prop_assert!(sizes.iter().max().expect("k") - sizes.iter().min().expect("k") <= 1);
    }
}
