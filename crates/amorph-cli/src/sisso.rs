//! `amorph sisso`: SISSO symbolic regression on a CSV table.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use amorph::sisso::ndarray::{Array1, Array2};
use amorph::sisso::{Dataset, Model, Op, SissoParams, Stage, TaskFit, TaskWeighting, Unit};
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
    /// Multi-task SISSO: the column giving each row's task (any text; tasks ordered by first
    /// appearance). The descriptors are shared, every task gets its own coefficients and intercept.
    #[arg(long)]
    task: Option<String>,
    /// How the tasks' errors combine into the error that ranks models: `per-task` (SISSO's default,
    /// RMSE = sqrt(mean of the tasks' RMSE²)) or `per-sample` (RMSE over all rows).
    #[arg(long, default_value = "per-task")]
    task_weighting: String,
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
    /// Print JSON: {"models": [{"dim", "descriptors", "coefficients", "intercept", "rmse", "max_ae"}]};
    /// with --task, "coefficients" and "intercept" are null and every model adds "tasks": [{"task",
    /// "coefficients", "intercept", "rmse", "max_ae"}] ("rmse", "max_ae": the combined errors).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonModel<'a> {
    dim: usize,
    descriptors: Vec<&'a str>,
    coefficients: Option<&'a [f64]>,
    intercept: Option<f64>,
    rmse: f64,
    max_ae: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<&'a [TaskFit]>,
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
    /// Each row's task label (with --task).
    tasks: Option<Vec<String>>,
}

fn read_table(path: &Path, target: &str, drop: &[String], task: Option<&str>) -> Result<Table> {
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
    let tcol = match task {
        Some(t) => {
            let k = header
                .iter()
                .position(|h| *h == t)
                .with_context(|| format!("{}:1: --task {t}: no such column", path.display()))?;
            if k == ti {
                bail!("{}:1: --task {t} is the target column", path.display());
            }
            Some(k)
        }
        None => None,
    };
    let features: Vec<usize> = (0..header.len())
        .filter(|&j| j != ti && Some(j) != tcol && !drop.iter().any(|d| d == header[j]))
        .collect();
    if features.is_empty() {
        bail!("{}: no feature columns left", path.display());
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut labels = Vec::new();
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
        if let Some(k) = tcol {
            labels.push(c[k].to_string());
        }
        for &j in &features {
            x.push(num(j)?);
        }
    }
    let rows = y.len();
    Ok(Table {
        names: features.iter().map(|&j| header[j].to_string()).collect(),
        x: Array2::from_shape_vec((rows, features.len()), x)?,
        y: Array1::from(y),
        tasks: tcol.map(|_| labels),
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
    let weighting = match args.task_weighting.as_str() {
        "per-task" => TaskWeighting::PerTask,
        "per-sample" => TaskWeighting::PerSample,
        w => bail!("--task-weighting {w}: expected per-task or per-sample"),
    };
    let table = read_table(&args.data, &args.target, &args.drop, args.task.as_deref())?;
    let mut data = Dataset::new(table.x, table.y, table.names).with_context(|| format!("{file}"))?;
    if let Some(labels) = &table.tasks {
        data = data
            .with_tasks(labels)
            .with_context(|| format!("{file}: --task {}", args.task.as_deref().unwrap_or("")))?;
    }
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
        .memory_budget(args.memory_mib.saturating_mul(1 << 20))
        .task_weighting(weighting);
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
                .map(|m| {
                    let multi = !m.tasks.is_empty();
                    JsonModel {
                        dim: m.dim,
                        descriptors: m.descriptors.iter().map(|d| d.formula.as_str()).collect(),
                        coefficients: (!multi).then_some(m.coefficients.as_slice()),
                        intercept: (!multi).then_some(m.intercept),
                        rmse: m.rmse,
                        max_ae: m.max_ae,
                        tasks: multi.then_some(m.tasks.as_slice()),
                    }
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let tasks = match data.tasks().len() {
            1 => String::new(),
            t => format!(" in {t} tasks"),
        };
        println!(
            "{file}: {} samples{tasks}, {} primary features, feature space {} (stored per complexity {:?})",
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
