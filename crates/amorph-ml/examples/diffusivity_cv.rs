//! Cross-validate a random forest and XGBoost-style boosting on a CSV table, the way Zheng et al.
//! (2024) did for Li diffusivity, then explain the boosted model with TreeSHAP.
//!
//! ```sh
//! cargo run --release -p amorph-ml --example diffusivity_cv -- tests/data/ml/diabetes.csv y
//! ```
//! Arguments: a CSV table with a header and the target column (default: the bundled diabetes
//! table and `y`).

use std::path::PathBuf;

use amorph_ml::{
    Dataset, Fit, GbtParams, KFold, MissingPolicy, RandomForestParams, cross_validate, permutation_importance,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ml/diabetes.csv")
    });
    let target = args.next().unwrap_or_else(|| "y".into());
    let (ds, _) = Dataset::from_csv(&path, &target, &[], MissingPolicy::Error)?;
    println!(
        "{}: {} rows × {} features",
        path.display(),
        ds.n_rows(),
        ds.feature_names.len()
    );

    // The paper's settings: KFold(5, shuffle=True, random_state=62), 100 trees of depth 4.
    let folds = KFold::new(5).seed(62).split(ds.n_rows())?;
    let rf = RandomForestParams::new()
        .n_estimators(100)
        .max_depth(Some(4))
        .seed(62)
        .check()?;
    let gbt = GbtParams::new()
        .n_estimators(100)
        .max_depth(4)
        .learning_rate(0.1)
        .reg_alpha(0.8)
        .check()?;
    for (name, cv) in [
        (
            "random forest",
            cross_validate(&rf, ds.x.view(), ds.y.view(), &folds, None)?,
        ),
        (
            "boosting",
            cross_validate(&gbt, ds.x.view(), ds.y.view(), &folds, None)?,
        ),
    ] {
        println!(
            "{name:>14}: CV RMSE {:.4} ± {:.4}, R² {:.3}",
            cv.rmse_mean, cv.rmse_std, cv.r2_mean
        );
    }

    let model = gbt.fit(ds.x.view(), ds.y.view())?;
    let shap = model.shap_values(ds.x.view())?;
    let perm = permutation_importance(&model, ds.x.view(), ds.y.view(), 5, 62)?;
    println!("feature        mean |SHAP|   permutation ΔR²");
    for (j, name) in ds.feature_names.iter().enumerate() {
        let mean_abs = shap.column(j).mapv(f64::abs).mean().unwrap_or(0.0);
        println!("{name:<12} {mean_abs:>12.4} {:>16.4}", perm.mean[j]);
    }
    Ok(())
}
