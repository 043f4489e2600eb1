//! `amorph train`: the paper's three models over a descriptor table — random forest, gradient
//! boosting (with its grid search) and SISSO — with metrics, importances, parity plots and formulas.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use amorph::db::FeatureTable;
use amorph::features::Feature;
use amorph::ml::ndarray::{Array1, Array2};
use amorph::ml::{KFold, ModelKind, ModelSpec, cross_val_predict, cross_validate, grid_search};
use amorph::sisso::{Op, SissoParams, Unit};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::ml::{bars_svg_text, parity_svg_text};

#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// A database (batch directory or .sqlite file) or a CSV descriptor table (`amorph db export`).
    data: PathBuf,
    /// Target: a column of the table, or `log10_D_<T>K` / `D_<T>K` (the rows at that temperature,
    /// with log10_D or D_cm2_s as target). `log10_D` over all rows is the paper's setting.
    #[arg(long, default_value = "log10_D")]
    target: String,
    /// Further columns to leave out (comma-separated); the label and diffusivity columns of an
    /// exported table are always left out.
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
    /// Output directory for metrics.json, importances.csv, parity_rf.svg, parity_gbt.svg,
    /// importances_rf.svg, importances_gbt.svg and sisso.json.
    #[arg(long, default_value = "train")]
    out: PathBuf,
    /// Seed of the folds (KFold(5, shuffle=True, random_state=SEED)) and of the models.
    #[arg(long, default_value_t = 62)]
    seed: u64,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Skip the gradient-boosting grid search (27 cross-validations).
    #[arg(long)]
    no_grid: bool,
    /// SISSO: largest descriptor dimension.
    #[arg(long, default_value_t = 3)]
    sisso_dim: usize,
    /// SISSO: largest number of operators per feature (the paper's 7 is out of reach; see the
    /// amorph-sisso docs).
    #[arg(long, default_value_t = 1)]
    sisso_complexity: u8,
    /// SISSO: operators (the paper's set by default; `none` for linear models of the columns).
    #[arg(
        long,
        default_value = "+,-,*,/,^2,^3,^6,^-1,exp,exp-,log",
        allow_hyphen_values = true
    )]
    sisso_ops: String,
    /// SISSO: features screened per dimension.
    #[arg(long, default_value_t = 20)]
    sisso_subs_sis: usize,
}

/// Label, target and uncertainty columns of an exported table (and a `formula` label column, as in
/// the paper's released table): never features.
fn not_a_feature(name: &str) -> bool {
    FeatureTable::NON_FEATURES.contains(&name) || name == "formula"
}

struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    source: String,
}

fn read_table(path: &Path) -> Result<Table> {
    let is_csv = path.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let (text, source) = if is_csv {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        (text, path.display().to_string())
    } else {
        let db = crate::db::open_existing(path)?;
        (db.feature_table()?.to_csv(), db.path().display().to_string())
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        bail!("{source}: empty table");
    };
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<String> = line.split(',').map(|c| c.trim().to_string()).collect();
        if cells.len() != columns.len() {
            bail!(
                "{source}: row {}: {} cells, the header has {}",
                i + 2,
                cells.len(),
                columns.len()
            );
        }
        rows.push(cells);
    }
    Ok(Table {
        columns,
        rows,
        source,
    })
}

/// The design matrix: numeric feature columns (all-missing ones left out), rows with a missing
/// value or target left out.
struct Design {
    names: Vec<String>,
    x: Array2<f64>,
    y: Array1<f64>,
    dropped_rows: usize,
    dropped_columns: Vec<String>,
}

fn design(t: &Table, target: &str, drop: &[String]) -> Result<Design> {
    let col = |name: &str| t.columns.iter().position(|c| c == name);
    for d in drop {
        if col(d).is_none() {
            bail!("{}: --drop {d}: no such column", t.source);
        }
    }
    // `log10_D_1000K`: the rows at 1000 K, target log10_D.
    let per_t = |prefix: &str, column: &str| -> Option<(f64, usize)> {
        let t_k: f64 = target.strip_prefix(prefix)?.strip_suffix('K')?.parse().ok()?;
        Some((t_k, col(column)?))
    };
    let (target_col, at_t) = match col(target) {
        Some(j) => (j, None),
        None => match per_t("log10_D_", "log10_D").or_else(|| per_t("D_", "D_cm2_s")) {
            Some((t_k, j)) => {
                let tc = col("T_K").context("the table has no T_K column")?;
                (j, Some((tc, t_k)))
            }
            None => bail!(
                "{}: no target column {target} (columns: {})",
                t.source,
                t.columns.join(", ")
            ),
        },
    };
    let parse = |s: &str| -> Option<f64> { s.parse::<f64>().ok().filter(|v| v.is_finite()) };
    let rows: Vec<&Vec<String>> = t
        .rows
        .iter()
        .filter(|r| at_t.is_none_or(|(tc, t_k)| parse(&r[tc]).is_some_and(|v| (v - t_k).abs() < 1e-6)))
        .collect();
    if rows.is_empty() {
        bail!("{}: no rows for target {target}", t.source);
    }
    let mut names = Vec::new();
    let mut cols = Vec::new();
    let mut dropped_columns = Vec::new();
    for (j, name) in t.columns.iter().enumerate() {
        if j == target_col || not_a_feature(name) || drop.contains(name) {
            continue;
        }
        // Undefined everywhere, or constant (e.g. T at one temperature): no information.
        let mut defined = rows.iter().filter_map(|r| parse(&r[j]));
        let first = defined.next();
        if first.is_none_or(|v| defined.all(|w| w == v)) {
            dropped_columns.push(name.clone());
            continue;
        }
        names.push(name.clone());
        cols.push(j);
    }
    if names.is_empty() {
        bail!("{}: no feature columns", t.source);
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut dropped_rows = 0;
    for r in &rows {
        let values: Option<Vec<f64>> = cols.iter().map(|&j| parse(&r[j])).collect();
        match (values, parse(&r[target_col])) {
            (Some(v), Some(target)) => {
                x.extend(v);
                y.push(target);
            }
            _ => dropped_rows += 1,
        }
    }
    let n = y.len();
    Ok(Design {
        x: Array2::from_shape_vec((n, names.len()), x)?,
        y: Array1::from(y),
        names,
        dropped_rows,
        dropped_columns,
    })
}

/// SISSO units of the columns: a descriptor's own unit where the unit parser reads it, otherwise
/// one opaque dimension per distinct unit string (features of equal units still combine).
fn sisso_units(names: &[String]) -> Vec<Unit> {
    let units: BTreeMap<&str, &str> = Feature::ALL.iter().map(|f| (f.name(), f.unit())).collect();
    let mut opaque: BTreeMap<String, usize> = BTreeMap::new();
    names
        .iter()
        .map(|n| {
            let Some(u) = units.get(n.as_str()) else {
                return Unit::dimensionless();
            };
            let plain = u.replace('³', "^3").replace('²', "^2");
            Unit::parse(&plain).unwrap_or_else(|_| {
                let k = opaque.len();
                let id = *opaque.entry(u.to_string()).or_insert(k);
                Unit::parse(&format!("unit{id}")).unwrap_or_default()
            })
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    amorph::structure::io::write_atomically(dir.join(name), text.as_bytes())?;
    Ok(())
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let table = read_table(&args.data)?;
    let d = design(&table, &args.target, &args.drop)?;
    if d.dropped_rows > 0 {
        eprintln!(
            "amorph train: left out {} rows with missing values",
            d.dropped_rows
        );
    }
    if !d.dropped_columns.is_empty() {
        eprintln!(
            "amorph train: left out columns without information (undefined or constant): {}",
            d.dropped_columns.join(", ")
        );
    }
    let n = d.y.len();
    eprintln!(
        "amorph train: {n} rows × {} features, target {}",
        d.names.len(),
        args.target
    );
    let folds = KFold::new(args.folds).seed(args.seed).split(n)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let (x, y) = (d.x.view(), d.y.view());

    // The paper's settings: n_estimators 100, max_depth 4; XGBoost with learning_rate 0.1 and
    // reg_alpha 0.8.
    let spec = |kind: &str, set: &[(&str, &str)]| -> Result<ModelSpec> {
        let mut s = ModelSpec::new(ModelKind::parse(kind)?);
        s.set("random_state", &args.seed.to_string())?;
        for (k, v) in set {
            s.set(k, v)?;
        }
        Ok(s)
    };
    let rf = spec("rf", &[("n_estimators", "100"), ("max_depth", "4")])?;
    let gbt = spec(
        "gbt",
        &[
            ("n_estimators", "100"),
            ("max_depth", "4"),
            ("learning_rate", "0.1"),
            ("reg_alpha", "0.8"),
        ],
    )?;
    let mut metrics = json!({
        "source": table.source,
        "target": args.target,
        "rows": n,
        "features": d.names,
        "folds": args.folds,
        "seed": args.seed,
    });
    let mut importances: Vec<(String, Vec<f64>)> = Vec::new();
    for (label, s) in [("rf", &rf), ("gbt", &gbt)] {
        let cfg = s.clone().check()?;
        let cv = cross_validate(&cfg, x, y, &folds, None)?;
        let pred = cross_val_predict(&cfg, x, y, &folds, None)?;
        write(
            &args.out,
            &format!("parity_{label}.svg"),
            &parity_svg_text(
                d.y.as_slice().unwrap_or(&[]),
                pred.as_slice().unwrap_or(&[]),
                &args.target,
            ),
        )?;
        let model = amorph::ml::Fit::fit(&cfg, x, y)?;
        let imp = model.feature_importances();
        let mut bars: Vec<(String, f64)> = d.names.iter().cloned().zip(imp.iter().copied()).collect();
        bars.sort_by(|a, b| b.1.total_cmp(&a.1));
        write(
            &args.out,
            &format!("importances_{label}.svg"),
            &bars_svg_text(&bars),
        )?;
        eprintln!(
            "amorph train: {label}: CV RMSE {:.4e} ± {:.2e}, R² {:.3}",
            cv.rmse_mean, cv.rmse_std, cv.r2_mean
        );
        metrics[label] = json!({ "cv": cv });
        importances.push((label.to_string(), imp));
    }
    if !args.no_grid {
        let grid: Vec<(String, Vec<String>)> = [
            ("learning_rate", ["0.01", "0.1", "0.5"]),
            ("max_depth", ["2", "4", "6"]),
            ("n_estimators", ["50", "100", "150"]),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect();
        let points = grid_search(&gbt, &grid, x, y, &folds, None)?;
        let best = &points[0];
        eprintln!(
            "amorph train: gbt grid: best CV RMSE {:.4e} at {}",
            best.cv.rmse_mean,
            best.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        metrics["gbt"]["grid"] = points
            .iter()
            .map(|p| {
                json!({
                    "params": p.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    "rmse_mean": p.cv.rmse_mean,
                    "rmse_std": p.cv.rmse_std,
                    "r2_mean": p.cv.r2_mean,
                })
            })
            .collect();
    }
    let mut csv = String::from("feature");
    for (label, _) in &importances {
        csv.push_str(&format!(",{label}"));
    }
    csv.push('\n');
    for (i, name) in d.names.iter().enumerate() {
        csv.push_str(name);
        for (_, imp) in &importances {
            csv.push_str(&format!(",{:?}", imp[i]));
        }
        csv.push('\n');
    }
    write(&args.out, "importances.csv", &csv)?;

    // SISSO over the same columns.
    let dim = args.sisso_dim.min(n.saturating_sub(2)).max(1);
    let data = amorph::sisso::Dataset::new(d.x.clone(), d.y.clone(), d.names.clone())?
        .with_units(sisso_units(&d.names))?
        .with_target(&args.target, Unit::dimensionless());
    let fit = SissoParams::new()
        .operators(Op::parse_list(&args.sisso_ops)?)
        .max_complexity(args.sisso_complexity)
        .desc_dim(dim)
        .subs_sis(args.sisso_subs_sis)
        .check()?
        .fit(&data)?;
    let models: Vec<Value> = (1..=dim)
        .filter_map(|k| fit.best(k))
        .map(|m| {
            eprintln!(
                "amorph train: sisso {}D: {} (RMSE {:.4e})",
                m.dim,
                m.formula(),
                m.rmse
            );
            json!({
                "dim": m.dim,
                "formula": m.formula(),
                "descriptors": m.descriptors.iter().map(|d| d.formula.clone()).collect::<Vec<_>>(),
                "coefficients": m.coefficients,
                "intercept": m.intercept,
                "rmse": m.rmse,
                "max_ae": m.max_ae,
            })
        })
        .collect();
    write(
        &args.out,
        "sisso.json",
        &serde_json::to_string_pretty(&json!({ "models": models }))?,
    )?;
    metrics["sisso"] = json!({
        "dim": dim,
        "complexity": args.sisso_complexity,
        "rmse": models.iter().map(|m| m["rmse"].clone()).collect::<Vec<_>>(),
    });
    write(
        &args.out,
        "metrics.json",
        &serde_json::to_string_pretty(&metrics)?,
    )?;
    eprintln!("amorph train: wrote {}", args.out.display());
    Ok(())
}
