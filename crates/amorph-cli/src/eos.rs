//! `amorph eos`: fit an equation of state to a table of E(V) or P(V).

use std::path::{Path, PathBuf};

use amorph::eos::{EnergyModel, PressureModel, fit_energy, fit_pressure};
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

#[derive(clap::Args)]
pub struct EosArgs {
    /// CSV table with a header: `volume_A3,energy_eV` (E(V)) or `volume_A3,pressure_GPa` (P(V), with --pv).
    /// Other columns are ignored; blank lines and lines starting with `#` are skipped.
    table: PathBuf,
    /// Model: birch_murnaghan, birch_murnaghan4, murnaghan, vinet, poirier_tarantola, birch, deltafactor,
    /// numerical_eos, polynomial[N] (E(V)); birch_murnaghan, vinet, murnaghan (P(V)).
    #[arg(long, default_value = "birch_murnaghan")]
    model: String,
    /// Fit P(V) (column pressure_GPa) instead of E(V).
    #[arg(long)]
    pv: bool,
    /// Print JSON (keys V0_A3, E0_eV, B0_GPa, B1 and their `_stderr` variants).
    #[arg(long)]
    json: bool,
}

/// Columns `volume_A3` and `column` of a CSV table; errors name the file and line.
fn read_table(path: &Path, column: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((_, header)) = lines.next() else {
        bail!("{}: empty table", path.display());
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |name: &str| {
        names.iter().position(|n| *n == name).with_context(|| {
            format!(
                "{}:1: no column {name} in the header {header:?} (expected volume_A3,{column}{})",
                path.display(),
                match column {
                    "energy_eV" if names.contains(&"pressure_GPa") => "; for P(V) data add --pv",
                    "pressure_GPa" if names.contains(&"energy_eV") => "; for E(V) data drop --pv",
                    _ => "",
                }
            )
        })
    };
    let (iv, iy) = (find("volume_A3")?, find(column)?);
    let mut v = Vec::new();
    let mut y = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |i: usize, name: &str| -> Result<f64> {
            let cell = cells
                .get(i)
                .with_context(|| format!("{}:{}: no {name} value", path.display(), n + 1))?;
            let x: f64 = cell
                .parse()
                .with_context(|| format!("{}:{}: {name} {cell:?} is not a number", path.display(), n + 1))?;
            if !x.is_finite() {
                bail!("{}:{}: {name} {cell:?} is not finite", path.display(), n + 1);
            }
            Ok(x)
        };
        v.push(get(iv, "volume_A3")?);
        y.push(get(iy, column)?);
    }
    Ok((v, y))
}

pub fn run(args: &EosArgs) -> Result<()> {
    let file = args.table.display();
    let mut out = Map::new();
    let mut text = String::new();
    if args.pv {
        let model: PressureModel = args.model.parse()?;
        let (v, p) = read_table(&args.table, "pressure_GPa")?;
        let fit = fit_pressure(model, &v, &p).with_context(|| format!("{file}: P(V) fit"))?;
        let se = fit.stderr;
        out.insert("model".into(), json!(model.name()));
        out.insert("kind".into(), json!("P(V)"));
        out.insert("V0_A3".into(), json!(fit.v0_A3));
        out.insert("B0_GPa".into(), json!(fit.b0_GPa));
        out.insert("B1".into(), json!(fit.b1));
        out.insert("V0_A3_stderr".into(), json!(se.map(|s| s.v0_A3)));
        out.insert("B0_GPa_stderr".into(), json!(se.map(|s| s.b0_GPa)));
        out.insert("B1_stderr".into(), json!(se.map(|s| s.b1)));
        out.insert("n_points".into(), json!(fit.goodness.n_points));
        out.insert("rmse_GPa".into(), json!(fit.goodness.rmse));
        out.insert("r_squared".into(), json!(fit.goodness.r_squared));
        out.insert("residuals_GPa".into(), json!(fit.goodness.residuals));
        out.insert("iterations".into(), json!(fit.iterations));
        text += &format!("{model} P(V) fit of {file} ({} points)\n", v.len());
        text += &row("V0", fit.v0_A3, se.map(|s| s.v0_A3), "Å³");
        text += &row("B0", fit.b0_GPa, se.map(|s| s.b0_GPa), "GPa");
        text += &row("B0'", fit.b1, se.map(|s| s.b1), "");
        text += &format!(
            "RMSE {:.4e} GPa, R² {:.8}\n",
            fit.goodness.rmse, fit.goodness.r_squared
        );
    } else {
        let model: EnergyModel = args.model.parse()?;
        let (v, e) = read_table(&args.table, "energy_eV")?;
        let fit = fit_energy(model, &v, &e).with_context(|| format!("{file}: E(V) fit"))?;
        let se = fit.stderr;
        out.insert("model".into(), json!(model.name()));
        out.insert("kind".into(), json!("E(V)"));
        out.insert("V0_A3".into(), json!(fit.v0_A3));
        out.insert("E0_eV".into(), json!(fit.e0_eV));
        out.insert("B0_GPa".into(), json!(fit.b0_GPa));
        out.insert("B1".into(), json!(fit.b1));
        out.insert("V0_A3_stderr".into(), json!(se.map(|s| s.v0_A3)));
        out.insert("E0_eV_stderr".into(), json!(se.map(|s| s.e0_eV)));
        out.insert("B0_GPa_stderr".into(), json!(se.map(|s| s.b0_GPa)));
        out.insert("B1_stderr".into(), json!(se.map(|s| s.b1)));
        if let Some(b2) = fit.b2_per_GPa {
            out.insert("B2_per_GPa".into(), json!(b2));
            out.insert("B2_per_GPa_stderr".into(), json!(se.and_then(|s| s.b2_per_GPa)));
        }
        out.insert("n_points".into(), json!(fit.goodness.n_points));
        out.insert("rmse_eV".into(), json!(fit.goodness.rmse));
        out.insert("r_squared".into(), json!(fit.goodness.r_squared));
        out.insert("residuals_eV".into(), json!(fit.goodness.residuals));
        out.insert("iterations".into(), json!(fit.iterations));
        text += &format!("{model} E(V) fit of {file} ({} points)\n", v.len());
        text += &row("V0", fit.v0_A3, se.map(|s| s.v0_A3), "Å³");
        text += &row("E0", fit.e0_eV, se.map(|s| s.e0_eV), "eV");
        text += &row("B0", fit.b0_GPa, se.map(|s| s.b0_GPa), "GPa");
        text += &row("B0'", fit.b1, se.map(|s| s.b1), "");
        if let Some(b2) = fit.b2_per_GPa {
            text += &row("B0''", b2, se.and_then(|s| s.b2_per_GPa), "1/GPa");
        }
        text += &format!(
            "RMSE {:.4e} eV, R² {:.8}\n",
            fit.goodness.rmse, fit.goodness.r_squared
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
    } else {
        print!("{text}");
    }
    Ok(())
}

fn row(name: &str, value: f64, err: Option<f64>, unit: &str) -> String {
    match err {
        Some(e) => format!("{name:<5} {value:>16.8} ± {e:<12.4e} {unit}\n"),
        None => format!("{name:<5} {value:>16.8}   {:<12} {unit}\n", ""),
    }
}
