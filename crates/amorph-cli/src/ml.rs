//! `amorph ml`: random forests and gradient-boosted trees on a CSV table (cross-validation, grid
//! search, fit, predict, importances).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use amorph::ml::ndarray::ArrayView2;
use amorph::ml::{
    Dataset, Fit, KFold, MissingPolicy, Model, ModelFile, ModelKind, ModelSpec, Persist, RandomForest,
    Regressor, TargetTransform, cross_val_predict, cross_validate, grid_search, permutation_importance,
};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct MlArgs {
    #[command(subcommand)]
    command: MlCommand,
}

#[derive(clap::Subcommand)]
enum MlCommand {
    /// K-fold cross-validated RMSE, MAE and R² (JSON keys rmse_mean, rmse_std, mae_mean, r2_mean,
    /// r2_std, folds).
    Cv {
        #[command(flatten)]
        data: DataArgs,
        /// Number of folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Seed of the fold shuffle (KFold(shuffle=True, random_state=SEED)) and of the model.
        #[arg(long, default_value_t = 62)]
        seed: u64,
        /// Write a parity plot (out-of-fold prediction against truth) as SVG.
        #[arg(long, value_name = "FILE")]
        parity_svg: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Grid search: cross-validates every combination of `--grid key=v1,v2,...` in parallel; best
    /// first.
    Grid {
        #[command(flatten)]
        data: DataArgs,
        /// A parameter and its values, e.g. `learning_rate=0.01,0.1,0.5` (repeatable).
        #[arg(long = "grid", value_name = "KEY=V1,V2,...", required = true)]
        grid: Vec<String>,
        /// Number of folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Seed of the fold shuffle and of the model.
        #[arg(long, default_value_t = 62)]
        seed: u64,
        /// Print JSON (a list of {params, rmse_mean, rmse_std, mae_mean, r2_mean}).
        #[arg(long)]
        json: bool,
    },
    /// Fit on the whole table and save the model (bincode; feature names, target and transform
    /// included).
    Fit {
        #[command(flatten)]
        data: DataArgs,
        /// Seed of the model.
        #[arg(long, default_value_t = 62)]
        seed: u64,
        /// Output model file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Predict with a saved model: CSV `prediction` (and `std`, the spread across trees of a random
    /// forest, with --std); the table needs the model's feature columns, others are ignored.
    Predict {
        /// Model file from `amorph ml fit`.
        model: PathBuf,
        /// CSV table with a header.
        data: PathBuf,
        /// Also print the spread across trees (random forests only).
        #[arg(long)]
        std: bool,
        /// Drop rows with missing or non-finite values instead of failing.
        #[arg(long)]
        drop_missing: bool,
        /// Output CSV (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Feature importances of a model fitted on the whole table: impurity (rf) or gain (gbt), and
    /// with --permutation N the drop in R² over N shuffles of each column.
    Importance {
        #[command(flatten)]
        data: DataArgs,
        /// Seed of the model and of the permutations.
        #[arg(long, default_value_t = 62)]
        seed: u64,
        /// Permutation repeats (0: none).
        #[arg(long, default_value_t = 0)]
        permutation: usize,
        /// Write a bar chart of the importances as SVG.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct DataArgs {
    /// CSV table with a header.
    data: PathBuf,
    /// Target column.
    #[arg(long)]
    target: String,
    /// Columns that are neither features nor target (comma-separated, repeatable).
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
    /// Model: rf (random forest) or gbt (gradient boosting, XGBoost's formulation).
    #[arg(long, default_value = "rf")]
    model: String,
    /// A hyperparameter with its scikit-learn/XGBoost name, e.g. `max_depth=4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Target transform: none, log (natural) or log10; metrics stay on the original scale.
    #[arg(long, default_value = "none")]
    transform: String,
    /// Drop rows with missing or non-finite values instead of failing.
    #[arg(long)]
    drop_missing: bool,
}

struct Loaded {
    ds: Dataset,
    spec: ModelSpec,
    transform: TargetTransform,
}

fn policy(drop: bool) -> MissingPolicy {
    if drop {
        MissingPolicy::DropRows
    } else {
        MissingPolicy::Error
    }
}

fn key_value(s: &str) -> Result<(&str, &str)> {
    s.split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .with_context(|| format!("{s:?}: expected KEY=VALUE"))
}

fn load(a: &DataArgs, seed: u64) -> Result<Loaded> {
    let (ds, dropped) = Dataset::from_csv(&a.data, &a.target, &a.drop, policy(a.drop_missing))?;
    if dropped > 0 {
        eprintln!("amorph ml: dropped {dropped} rows with missing values");
    }
    let mut spec = ModelSpec::new(ModelKind::parse(&a.model)?);
    spec.set("random_state", &seed.to_string())?;
    for s in &a.set {
        let (k, v) = key_value(s)?;
        spec.set(k, v)?;
    }
    Ok(Loaded {
        ds,
        spec,
        transform: TargetTransform::parse(&a.transform)?,
    })
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(args: MlArgs) -> Result<()> {
    match &args.command {
        MlCommand::Cv {
            data,
            folds,
            seed,
            parity_svg,
            json: as_json,
        } => {
            let l = load(data, *seed)?;
            let split = KFold::new(*folds).seed(*seed).split(l.ds.n_rows())?;
            let cfg = l.spec.check()?;
            let t = Some(l.transform);
            let cv = cross_validate(&cfg, l.ds.x.view(), l.ds.y.view(), &split, t)?;
            if let Some(path) = parity_svg {
                let pred = cross_val_predict(&cfg, l.ds.x.view(), l.ds.y.view(), &split, t)?;
                let svg = parity_svg_text(
                    l.ds.y.as_slice().unwrap_or(&[]),
                    pred.as_slice().unwrap_or(&[]),
                    &l.ds.target_name,
                );
                write_atomic(path, &svg)?;
            }
            if *as_json {
                println!("{}", serde_json::to_string_pretty(&cv)?);
            } else {
                let mut s = String::new();
                for (i, f) in cv.folds.iter().enumerate() {
                    writeln!(
                        s,
                        "fold {i}: rmse {:.6e}  mae {:.6e}  r2 {:.4}  ({} rows)",
                        f.rmse, f.mae, f.r2, f.n_test
                    )?;
                }
                writeln!(
                    s,
                    "rmse {:.6e} ± {:.3e}\nmae  {:.6e}\nr2   {:.4} ± {:.4}",
                    cv.rmse_mean, cv.rmse_std, cv.mae_mean, cv.r2_mean, cv.r2_std
                )?;
                print!("{s}");
            }
        }
        MlCommand::Grid {
            data,
            grid,
            folds,
            seed,
            json: as_json,
        } => {
            let l = load(data, *seed)?;
            let grid = grid
                .iter()
                .map(|g| {
                    let (k, v) = key_value(g)?;
                    Ok((
                        k.to_string(),
                        v.split(',').map(|s| s.trim().to_string()).collect(),
                    ))
                })
                .collect::<Result<Vec<(String, Vec<String>)>>>()?;
            let split = KFold::new(*folds).seed(*seed).split(l.ds.n_rows())?;
            let points = grid_search(
                &l.spec,
                &grid,
                l.ds.x.view(),
                l.ds.y.view(),
                &split,
                Some(l.transform),
            )?;
            if *as_json {
                let v: Vec<Value> = points
                    .iter()
                    .map(|p| {
                        json!({
                            "params": p.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                            "rmse_mean": p.cv.rmse_mean,
                            "rmse_std": p.cv.rmse_std,
                            "mae_mean": p.cv.mae_mean,
                            "r2_mean": p.cv.r2_mean,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for p in &points {
                    let ps: Vec<String> = p.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!(
                        "rmse {:.6e} ± {:.3e}  r2 {:.4}  {}",
                        p.cv.rmse_mean,
                        p.cv.rmse_std,
                        p.cv.r2_mean,
                        ps.join(" ")
                    );
                }
            }
        }
        MlCommand::Fit { data, seed, output } => {
            let l = load(data, *seed)?;
            let y = l.transform.forward(l.ds.y.view())?;
            let model = l.spec.check()?.fit(l.ds.x.view(), y.view())?;
            let file = ModelFile {
                feature_names: l.ds.feature_names.clone(),
                target: l.ds.target_name.clone(),
                transform: l.transform,
                model,
            };
            file.save(output)?;
            eprintln!(
                "amorph ml: fitted on {} rows × {} features; wrote {}",
                l.ds.n_rows(),
                file.feature_names.len(),
                output.display()
            );
        }
        MlCommand::Predict {
            model,
            data,
            std,
            drop_missing,
            output,
        } => {
            let file = ModelFile::load(model)?;
            let (x, dropped) = Dataset::features_from_csv(data, &file.feature_names, policy(*drop_missing))?;
            if dropped > 0 {
                eprintln!("amorph ml: dropped {dropped} rows with missing values");
            }
            let mut text = String::new();
            if *std {
                let Model::RandomForest(rf) = &file.model else {
                    bail!("--std needs a random forest (the spread across its trees)");
                };
                let (m, s) = spread(rf, &file, x.view())?;
                text.push_str("prediction,std\n");
                for (a, b) in m.iter().zip(&s) {
                    writeln!(text, "{a:?},{b:?}")?;
                }
            } else {
                text.push_str("prediction\n");
                for p in file.predict(x.view())? {
                    writeln!(text, "{p:?}")?;
                }
            }
            match output {
                Some(path) => write_atomic(path, &text)?,
                None => print!("{text}"),
            }
        }
        MlCommand::Importance {
            data,
            seed,
            permutation,
            svg,
            json: as_json,
        } => {
            let l = load(data, *seed)?;
            let y = l.transform.forward(l.ds.y.view())?;
            let model = l.spec.check()?.fit(l.ds.x.view(), y.view())?;
            let imp = model.feature_importances();
            let perm = if *permutation > 0 {
                Some(permutation_importance(
                    &model,
                    l.ds.x.view(),
                    y.view(),
                    *permutation,
                    *seed,
                )?)
            } else {
                None
            };
            let names = &l.ds.feature_names;
            let mut order: Vec<usize> = (0..names.len()).collect();
            order.sort_by(|&a, &b| imp[b].total_cmp(&imp[a]).then(a.cmp(&b)));
            if let Some(path) = svg {
                let bars: Vec<(String, f64)> = order.iter().map(|&i| (names[i].clone(), imp[i])).collect();
                write_atomic(path, &bars_svg_text(&bars))?;
            }
            if *as_json {
                let rows: Vec<Value> = order
                    .iter()
                    .map(|&i| {
                        let mut v = json!({"feature": names[i], "importance": imp[i]});
                        if let Some(p) = &perm {
                            v["permutation_mean"] = json!(p.mean[i]);
                            v["permutation_std"] = json!(p.std[i]);
                        }
                        v
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({ "importances": rows }))?
                );
            } else {
                for &i in &order {
                    match &perm {
                        Some(p) => println!(
                            "{:<24} {:.6}  permutation {:.6} ± {:.6}",
                            names[i], imp[i], p.mean[i], p.std[i]
                        ),
                        None => println!("{:<24} {:.6}", names[i], imp[i]),
                    }
                }
            }
        }
    }
    Ok(())
}

/// Mean and spread across trees, back on the original scale (the spread of a transformed target
/// is mapped through the inverse transform of mean ± std, halved).
fn spread(rf: &RandomForest, file: &ModelFile, x: ArrayView2<'_, f64>) -> Result<(Vec<f64>, Vec<f64>)> {
    let (m, s) = rf.predict_with_std(x)?;
    if rf.n_features() != file.feature_names.len() {
        bail!("model file is inconsistent");
    }
    let t = file.transform;
    let mean = t.inverse(m.clone()).to_vec();
    let hi = t.inverse(&m + &s).to_vec();
    let lo = t.inverse(&m - &s).to_vec();
    let std = hi.iter().zip(&lo).map(|(h, l)| (h - l) / 2.0).collect();
    Ok((mean, std))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Scatter of predictions against truth with the diagonal.
pub(crate) fn parity_svg_text(truth: &[f64], pred: &[f64], target: &str) -> String {
    let (w, h, m) = (480.0, 480.0, 60.0);
    let all = truth.iter().chain(pred).filter(|v| v.is_finite());
    let lo = all.clone().fold(f64::INFINITY, |a, &b| a.min(b));
    let hi = all.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let sx = |v: f64| m + (v - lo) / span * (w - 2.0 * m);
    let sy = |v: f64| h - m - (v - lo) / span * (h - 2.0 * m);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"gray\" stroke-dasharray=\"4\"/>\n",
        sx(lo),
        sy(lo),
        sx(hi),
        sy(hi)
    );
    let _ = writeln!(
        s,
        "<rect x=\"{m}\" y=\"{m}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>",
        w - 2.0 * m,
        h - 2.0 * m
    );
    for (t, p) in truth
        .iter()
        .zip(pred)
        .filter(|(t, p)| t.is_finite() && p.is_finite())
    {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"steelblue\" fill-opacity=\"0.6\"/>",
            sx(*t),
            sy(*p)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">true {}</text>",
        w / 2.0,
        h - 20.0,
        esc(target)
    );
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"{}\" transform=\"rotate(-90 20 {})\" text-anchor=\"middle\">cross-validated prediction</text>",
        h / 2.0,
        h / 2.0
    );
    let _ = writeln!(
        s,
        "<text x=\"{m}\" y=\"{}\">{lo:.3e}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{hi:.3e}</text>",
        h - m + 15.0,
        w - m,
        h - m + 15.0
    );
    s.push_str("</svg>\n");
    s
}

/// Horizontal bar chart, largest first.
pub(crate) fn bars_svg_text(bars: &[(String, f64)]) -> String {
    let (w, row, left) = (560.0, 18.0, 180.0);
    let h = 40.0 + row * bars.len() as f64;
    let max = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for (i, (name, v)) in bars.iter().enumerate() {
        let y = 20.0 + row * i as f64;
        let len = (v.max(0.0) / max) * (w - left - 70.0);
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 12.0,
            esc(name)
        );
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{:.1}\" fill=\"steelblue\"/>",
            row - 4.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">{v:.4}</text>",
            left + len + 4.0,
            y + 12.0
        );
    }
    s.push_str("</svg>\n");
    s
}
