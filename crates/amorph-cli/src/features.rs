//! `amorph features`: the descriptors of Zheng et al. (2024) Table 1 for structure files or a formula.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use amorph::features::{Convention, Feature, FeatureSet, FeatureTable, Options, Value};
use amorph::structure::{Composition, io};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// At least this many files get a progress bar (when standard error is a terminal).
const PROGRESS_FILES: usize = 20;

#[derive(clap::Args, Debug)]
pub struct FeaturesArgs {
    /// Structure or trajectory files (one row each; a trajectory gives its mean over frames).
    files: Vec<PathBuf>,
    /// Compositional features of a formula instead (no structure needed), e.g. Li2Si2O5.
    #[arg(long, conflicts_with = "files")]
    formula: Option<String>,
    /// List every feature: name, unit, description.
    #[arg(long, conflicts_with_all = ["files", "formula"])]
    list: bool,
    /// Temperature of the run, K: adds the features T and 1/kBT.
    #[arg(long, allow_negative_numbers = true)]
    temperature: Option<f64>,
    /// Neighbour cutoff, Å.
    #[arg(long, default_value_t = 4.0, allow_negative_numbers = true)]
    cutoff: f64,
    /// Convention: sendek (reference definitions; the default) or zheng2024 (the paper's released
    /// table).
    #[arg(long)]
    convention: Option<String>,
    /// The mobile species (default Li).
    #[arg(long)]
    mobile: Option<String>,
    /// Line spacing of the union packing-fraction grid, Å.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pf_spacing: f64,
    /// Further options as a JSON file (the library's `Options`; flags given here override it).
    #[arg(long)]
    options: Option<PathBuf>,
    /// For trajectories, add the standard deviation over frames of every feature (`NAME_std`).
    #[arg(long)]
    std: bool,
    /// Write the table as CSV to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Print JSON: an object per file mapping feature name to value (null when undefined).
    #[arg(long)]
    json: bool,
}

/// Feature values in table order, serialised as a JSON object (null when undefined).
struct Row(Vec<(String, Option<f64>)>);

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Files in input order, each with its row.
struct Rows(Vec<(String, Row)>);

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

struct List;

impl Serialize for List {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry {
            name: &'static str,
            unit: &'static str,
            description: &'static str,
            structural: bool,
            released_column: &'static str,
        }
        let mut seq = s.serialize_seq(Some(Feature::ALL.len()))?;
        for f in Feature::ALL {
            seq.serialize_element(&Entry {
                name: f.name(),
                unit: f.unit(),
                description: f.description(),
                structural: f.is_structural(),
                released_column: f.released_column(),
            })?;
        }
        seq.end()
    }
}

fn finite(v: &Value) -> Option<f64> {
    v.as_ref().ok().copied().filter(|x| x.is_finite())
}

fn options(args: &FeaturesArgs) -> Result<Options> {
    let mut o = match &args.options {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{}: invalid options", p.display()))?
        }
        None => Options::default(),
    };
    if let Some(c) = &args.convention {
        o.convention = c.parse::<Convention>()?;
    }
    if args.options.is_none() || args.cutoff != 4.0 {
        o.cutoff = args.cutoff;
    }
    if args.options.is_none() || args.pf_spacing != 0.05 {
        o.pf_spacing = args.pf_spacing;
    }
    if let Some(m) = &args.mobile {
        o.mobile = amorph::structure::Element::from_symbol(m)
            .with_context(|| format!("--mobile '{m}' is not an element"))?;
    }
    if args.temperature.is_some() {
        o.temperature = args.temperature;
    }
    o.check()?;
    Ok(o)
}

fn emit(args: &FeaturesArgs, table: &FeatureTable, label: &str) -> Result<()> {
    if let Some(p) = &args.csv {
        table.write_csv(p, label)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows = Rows(
            table
                .labels()
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let row = table
                        .names()
                        .iter()
                        .zip(table.values().row(i))
                        .map(|(n, x)| (n.clone(), Some(*x).filter(|x| x.is_finite())))
                        .collect();
                    (l.clone(), Row(row))
                })
                .collect(),
        );
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
    } else if args.csv.is_none() {
        out.write_all(table.to_csv(label).as_bytes())?;
    }
    Ok(())
}

/// Runs the command; a closed standard output (`| head`) ends it quietly.
pub fn run(args: FeaturesArgs) -> Result<()> {
    match run_inner(args) {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn run_inner(args: FeaturesArgs) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if args.list {
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&List)?)?;
        } else {
            for f in Feature::ALL {
                writeln!(out, "{:<9} {:<15} {}", f.name(), f.unit(), f.description())?;
            }
        }
        return Ok(());
    }
    let o = options(&args)?;
    if let Some(formula) = &args.formula {
        let c: Composition = formula.parse()?;
        let set = FeatureSet::compositional(o)?;
        let values = set.compute_composition(&c)?;
        if args.json && args.csv.is_none() {
            let row: Vec<(String, Option<f64>)> =
                set.names().into_iter().zip(values.iter().map(finite)).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&Row(row))?)?;
            return Ok(());
        }
        let table = set.table(vec![values]).with_labels(vec![formula.clone()])?;
        drop(out);
        return emit(&args, &table, "formula");
    }
    if args.files.is_empty() {
        bail!("give structure files, --formula or --list (see amorph features --help)");
    }
    let set = FeatureSet::table1(o)?;
    let mut names = set.names();
    let mut units = set.units();
    if args.std {
        names.extend(set.names().iter().map(|n| format!("{n}_std")));
        units.extend(set.units());
    }
    // Single structures are computed in one parallel batch, trajectories frame-parallel one by one.
    let mut singles = Vec::new();
    let mut trajectories = Vec::new();
    for (k, f) in args.files.iter().enumerate() {
        let t = io::read_trajectory(f)?;
        if t.len() == 1 {
            singles.push((k, t.frame(0)?));
        } else {
            trajectories.push((k, t));
        }
    }
    let bar = (args.files.len() >= PROGRESS_FILES && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(args.files.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files, {elapsed} (ETA {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let mut rows: Vec<Vec<Value>> = vec![Vec::new(); args.files.len()];
    let structures: Vec<_> = singles.iter().map(|(_, s)| s.clone()).collect();
    let table = set.compute_batch_with_progress(&structures, |_| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    })?;
    for (r, (k, _)) in singles.iter().enumerate() {
        let mut row: Vec<Value> = (0..set.len())
            .map(|j| match table.reason(r, j) {
                Some(e) => Err(e.clone()),
                None => Ok(table.values()[[r, j]]),
            })
            .collect();
        if args.std {
            row.extend(
                (0..set.len())
                    .map(|_| Err(amorph::features::Undefined::TooFewValues { what: "frames", n: 1 })),
            );
        }
        rows[*k] = row;
    }
    for (k, t) in &trajectories {
        let tf = set
            .compute_trajectory(t)
            .with_context(|| format!("{}", args.files[*k].display()))?;
        let mut row = tf.mean;
        if args.std {
            row.extend(tf.std);
        }
        rows[*k] = row;
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let labels = args.files.iter().map(|p| p.display().to_string()).collect();
    let table = FeatureTable::new(names, units, labels, rows);
    drop(out);
    emit(&args, &table, "file")
}
