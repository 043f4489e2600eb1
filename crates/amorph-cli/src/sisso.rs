//! `amorph sisso`: SISSO symbolic regression on a CSV table.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use amorph::sisso::ndarray::{Array1, Array2};
use amorph::sisso::{Dataset, Model, Op, SissoParams, Stage, Unit};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

#[derive(clap::Args, Debug)]
pub struct SissoArgs {
    /// CSV table with a header row; every column other than the target and the dropped ones is a
    /// primary feature and must be numeric.
    data: PathBuf,
    /// The target column.
    #[arg(long)]
    target: String,
    /// Columns to leave out (comma-separated), e.g. a formula column.
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
    /// Units of the columns: a JSON object {"col": "unit"} or lines `col,unit` (e.g. `Ecoh,eV`,
    /// `AAV,Å^3`, `LNC,1`); every feature needs one, the target's is optional. Default: all
    /// dimensionless.
    #[arg(long)]
    units: Option<PathBuf>,
    /// Largest descriptor dimension (models with 1..=dim descriptors).
    #[arg(long, default_value_t = 2)]
    dim: usize,
    /// Largest number of operators in a feature (SISSO's fcomplexity).
    #[arg(long, default_value_t = 1)]
    complexity: u8,
    /// Largest nesting depth of operators (SISSO's rung; default: the complexity).
    #[arg(long)]
    rung: Option<u8>,
    /// Operators, comma-separated from + - * / ^2 ^3 ^6 ^-1 exp exp- log sqrt cbrt abs, or `none`
    /// (no feature construction: linear models of the columns themselves).
    #[arg(long, default_value = "none", allow_hyphen_values = true)]
    ops: String,
    /// Features screened (SIS) per dimension.
    #[arg(long, default_value_t = 100)]
    subs_sis: usize,
    /// Drop constructed features whose largest absolute value is below this.
    #[arg(long, default_value_t = 1e-3)]
    fmax_min: f64,
    /// Drop constructed features whose largest absolute value is above this.
    #[arg(long, default_value_t = 1e5)]
    fmax_max: f64,
    /// Memory budget for the stored feature levels, MiB.
    #[arg(long, default_value_t = 8192)]
    memory_mib: u64,
    /// Write the best model of the largest dimension as JSON (reload with the library's
    /// `Model::load_json`).
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// Print JSON: {"models": [{"dim", "descriptors", "coefficients", "intercept", "rmse", "max_ae"}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonModel<'a> {
    dim: usize,
    descriptors: Vec<&'a str>,
    coefficients: &'a [f64],
    intercept: f64,
    rmse: f64,
    max_ae: f64,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    models: Vec<JsonModel<'a>>,
}

/// Splits a CSV line (no quoting, as the feature tables are written).
fn cells(line: &str) -> Vec<&str> {
    line.split(',').map(str::trim).collect()
}

struct Table {
    names: Vec<String>,
    x: Array2<f64>,
    y: Array1<f64>,
}

fn read_table(path: &Path, target: &str, drop: &[String]) -> Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((_, header)) = lines.next() else {
        bail!("{}: empty table", path.display());
    };
    let header = cells(header);
    for d in drop {
        if !header.contains(&d.as_str()) {
            bail!("{}:1: --drop {d}: no such column", path.display());
        }
    }
    let ti = header.iter().position(|h| *h == target).with_context(|| {
        format!(
            "{}:1: no target column {target} (columns: {})",
            path.display(),
            header.join(", ")
        )
    })?;
    let features: Vec<usize> = (0..header.len())
        .filter(|&j| j != ti && !drop.iter().any(|d| d == header[j]))
        .collect();
    if features.is_empty() {
        bail!("{}: no feature columns left", path.display());
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (n, line) in lines {
        let c = cells(line);
        if c.len() != header.len() {
            bail!(
                "{}:{}: {} cells, the header has {}",
                path.display(),
                n + 1,
                c.len(),
                header.len()
            );
        }
        let num = |j: usize| -> Result<f64> {
            c[j].parse::<f64>().with_context(|| {
                format!(
                    "{}:{}: column {}: {:?} is not a number (leave the column out with --drop {})",
                    path.display(),
                    n + 1,
                    header[j],
                    c[j],
                    header[j]
                )
            })
        };
        y.push(num(ti)?);
        for &j in &features {
            x.push(num(j)?);
        }
    }
    let rows = y.len();
    Ok(Table {
        names: features.iter().map(|&j| header[j].to_string()).collect(),
        x: Array2::from_shape_vec((rows, features.len()), x)?,
        y: Array1::from(y),
    })
}

/// `(column, unit)` pairs from a units file.
fn read_units(path: &Path) -> Result<Vec<(String, Unit)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.trim_start().starts_with('{') {
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON units", path.display()))?;
        return map
            .into_iter()
            .map(|(k, v)| {
                let u = Unit::parse(&v).with_context(|| format!("{}: column {k}", path.display()))?;
                Ok((k, u))
            })
            .collect();
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = l
            .split_once(',')
            .with_context(|| format!("{}:{}: expected `column,unit`", path.display(), n + 1))?;
        let u = Unit::parse(v).with_context(|| format!("{}:{}", path.display(), n + 1))?;
        out.push((k.trim().to_string(), u));
    }
    Ok(out)
}

pub fn run(args: &SissoArgs) -> Result<()> {
    let file = args.data.display();
    let ops = Op::parse_list(&args.ops)?;
    let table = read_table(&args.data, &args.target, &args.drop)?;
    let mut data = Dataset::new(table.x, table.y, table.names).with_context(|| format!("{file}"))?;
    if let Some(p) = &args.units {
        let mut pairs = read_units(p)?;
        pairs.retain(|(k, _)| !args.drop.contains(k));
        let target_unit = pairs
            .iter()
            .position(|(k, _)| *k == args.target)
            .map(|i| pairs.remove(i).1)
            .unwrap_or_default();
        data = data
            .with_named_units(pairs.iter().map(|(k, u)| (k.as_str(), u.clone())))
            .with_context(|| format!("{}", p.display()))?
            .with_target(&args.target, target_unit);
    } else {
        data = data.with_target(&args.target, Unit::dimensionless());
    }
    let mut params = SissoParams::new()
        .max_complexity(if ops.is_empty() { 0 } else { args.complexity })
        .operators(ops)
        .desc_dim(args.dim)
        .subs_sis(args.subs_sis)
        .n_models(1)
        .fmax_min(args.fmax_min)
        .fmax_max(args.fmax_max)
        .memory_budget(args.memory_mib.saturating_mul(1 << 20));
    if let Some(r) = args.rung {
        params = params.rung(r);
    }
    // A spinner naming the stage on a terminal; nothing when standard error is redirected.
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"));
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    });
    let fit = params
        .check()?
        .fit_with_progress(&data, &mut |stage| {
            if let Some(b) = &bar {
                b.set_message(match stage {
                    Stage::Construction { max_complexity } => {
                        format!("building the feature space (complexity ≤ {max_complexity})")
                    }
                    Stage::Screening { dim } => format!("dimension {dim}: screening"),
                    Stage::Search { dim, features } => {
                        format!("dimension {dim}: ℓ0 search over {features} features")
                    }
                    _ => String::new(),
                });
            }
        })
        .with_context(|| format!("{file}: SISSO"))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let best: Vec<&Model> = fit.models.iter().filter_map(|m| m.first()).collect();
    if let (Some(path), Some(m)) = (&args.save_model, best.last()) {
        m.save_json(path)?;
    }
    if args.json {
        let out = JsonOut {
            models: best
                .iter()
                .map(|m| JsonModel {
                    dim: m.dim,
                    descriptors: m.descriptors.iter().map(|d| d.formula.as_str()).collect(),
                    coefficients: &m.coefficients,
                    intercept: m.intercept,
                    rmse: m.rmse,
                    max_ae: m.max_ae,
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{file}: {} samples, {} primary features, feature space {} (stored per complexity {:?})",
            data.nsamples(),
            data.names().len(),
            fit.space.total(),
            fit.space.stored_per_complexity
        );
        for m in best {
            println!("\n{m}");
        }
    }
    Ok(())
}
