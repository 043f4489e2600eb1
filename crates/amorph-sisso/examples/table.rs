//! Fit a CSV table (header row; all columns numeric) and print the best model of each dimension
//! with the wall time: a small driver for timing runs.
//!
//!     cargo run --release -p amorph-sisso --example table -- DATA.csv TARGET OPS COMPLEXITY DIM SUBS_SIS [UNITS.csv]
//!
//! Non-numeric columns (e.g. a formula) are skipped; UNITS.csv has `column,unit` lines.
//!     cargo run --release -p amorph-sisso --example table -- tests/data/sisso/bench_43x300.csv y \
//!         '+,-,*,/,^2,^3,^6,^-1,exp,exp-,log' 2 3 100

use std::time::Instant;

use amorph_sisso::{Dataset, Op, SissoParams, Unit};
use ndarray::{Array1, Array2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(6..=7).contains(&args.len()) {
        return Err("usage: table DATA.csv TARGET OPS COMPLEXITY DIM SUBS_SIS [UNITS.csv]".into());
    }
    let text = std::fs::read_to_string(&args[0])?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or("empty table")?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let t = header
        .iter()
        .position(|h| *h == args[1])
        .ok_or("no such target column")?;
    let cells: Vec<Vec<&str>> = lines.map(|l| l.split(',').map(str::trim).collect()).collect();
    let numeric = |j: usize| {
        cells
            .iter()
            .all(|r| r.get(j).is_some_and(|c| c.parse::<f64>().is_ok()))
    };
    let rows: Vec<Vec<f64>> = cells
        .iter()
        .map(|r| r.iter().map(|c| c.parse::<f64>().unwrap_or(f64::NAN)).collect())
        .collect();
    let cols: Vec<usize> = (0..header.len()).filter(|&j| j != t && numeric(j)).collect();
    let names: Vec<String> = cols.iter().map(|&j| header[j].clone()).collect();
    let x = Array2::from_shape_fn((rows.len(), cols.len()), |(i, k)| rows[i][cols[k]]);
    let y = Array1::from_shape_fn(rows.len(), |i| rows[i][t]);
    let mut data = Dataset::new(x, y, names.clone())?;
    if let Some(path) = args.get(6) {
        let text = std::fs::read_to_string(path)?;
        let mut units = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (k, u) = line.split_once(',').ok_or("units: expected `column,unit`")?;
            if names.iter().any(|n| n == k.trim()) {
                units.push((k.trim().to_string(), Unit::parse(u)?));
            }
        }
        data = data.with_named_units(units.iter().map(|(k, u)| (k.as_str(), u.clone())))?;
    }
    let ops = Op::parse_list(&args[2])?;
    let params = SissoParams::new()
        .max_complexity(if ops.is_empty() { 0 } else { args[3].parse()? })
        .operators(ops)
        .desc_dim(args[4].parse()?)
        .subs_sis(args[5].parse()?)
        .check()?;
    let start = Instant::now();
    let fit = params.fit(&data)?;
    let dt = start.elapsed().as_secs_f64();
    println!(
        "space: {} features (stored per complexity {:?}, streamed {}); {dt:.3} s",
        fit.space.total(),
        fit.space.stored_per_complexity,
        fit.space.streamed
    );
    for m in fit.models.iter().filter_map(|m| m.first()) {
        println!("{}D  RMSE {:.6}  {}", m.dim, m.rmse, m.formula());
    }
    Ok(())
}
