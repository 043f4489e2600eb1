//! `amorph pack`: random periodic packing of a composition at a density.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use amorph::pack::{DEFAULT_MAX_ITERATIONS, PackRequest, PairDistances, Progress, Stage, pack_with_progress};
use amorph::structure::{Composition, Element, io};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

/// Requests at least this large get a progress bar (when standard error is a terminal).
const PROGRESS_BAR_ATOMS: usize = 5_000;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("amount").required(true).args(["atoms", "formula_units"])))]
#[command(group(clap::ArgGroup::new("cell").required(true).args(["density", "volume"])))]
pub struct PackArgs {
    /// Composition, e.g. Li2Si2O5, Li3YCl6 or Li0.5La0.5TiO3.
    composition: String,
    /// Number of atoms (must be a whole number of formula units unless --round).
    #[arg(long)]
    atoms: Option<usize>,
    /// Number of reduced formula units instead of atoms.
    #[arg(long)]
    formula_units: Option<usize>,
    /// Mass density, g/cm³ (cubic cell).
    #[arg(long, allow_negative_numbers = true)]
    density: Option<f64>,
    /// Cell volume, Å³ (cubic cell), instead of a density.
    #[arg(long, allow_negative_numbers = true)]
    volume: Option<f64>,
    /// Minimum distance between any two atoms, Å (periodic images included).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    tolerance: f64,
    /// Minimum distance for one element pair, e.g. `--pair Si-O=1.5` (repeatable); others use
    /// --tolerance.
    #[arg(long = "pair", value_name = "A-B=DIST")]
    pairs: Vec<String>,
    /// Seed of the random number generator: the same seed gives the same structure.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Round --atoms to the nearest whole number of formula units instead of refusing.
    #[arg(long)]
    round: bool,
    /// Budget of overlap-minimisation iterations.
    #[arg(long, default_value_t = DEFAULT_MAX_ITERATIONS)]
    max_iterations: usize,
    /// Output structure file; the format follows the name (POSCAR/*.vasp, *.xyz, *.json, *.cif, *.data).
    #[arg(short, long)]
    output: PathBuf,
}

/// `A-B=DIST` → (A, B, DIST).
fn parse_pair(text: &str) -> Result<(Element, Element, f64)> {
    let bad = || format!("--pair '{text}': expected A-B=DIST, e.g. Si-O=1.5");
    let (pair, dist) = text.split_once('=').with_context(bad)?;
    let (a, b) = pair.split_once('-').with_context(bad)?;
    let a = Element::from_symbol(a.trim()).with_context(bad)?;
    let b = Element::from_symbol(b.trim()).with_context(bad)?;
    let d: f64 = dist.trim().parse().ok().with_context(bad)?;
    Ok((a, b, d))
}

fn request(args: &PackArgs) -> Result<PackRequest> {
    let composition: Composition = args.composition.parse()?;
    let mut r = PackRequest::new(composition)
        .tolerance(args.tolerance)
        .seed(args.seed)
        .round_to_formula_units(args.round)
        .max_iterations(args.max_iterations);
    r = match (args.atoms, args.formula_units) {
        (Some(n), _) => r.atoms(n),
        (_, Some(f)) => r.formula_units(f),
        _ => bail!("give --atoms or --formula-units"),
    };
    r = match (args.density, args.volume) {
        (Some(d), _) => r.density(d),
        (_, Some(v)) => r.volume(v),
        _ => bail!("give --density or --volume"),
    };
    if !args.pairs.is_empty() {
        let mut pairs = PairDistances::new();
        for p in &args.pairs {
            let (a, b, d) = parse_pair(p)?;
            pairs.insert(a, b, d);
        }
        r = r.pair_distances(pairs);
    }
    Ok(r)
}

pub fn run(args: PackArgs) -> Result<()> {
    // Refuse an unknown output format before spending any time packing.
    if io::Format::from_path(&args.output).is_none() {
        bail!(
            "{}: cannot tell the format from the name (POSCAR/CONTCAR/*.vasp, *.xyz/*.extxyz, *.json, \
             *.cif, *.data)",
            args.output.display()
        );
    }
    let request = request(&args)?;
    let plan = request.plan()?;
    let natoms = plan.natoms();
    let bar = if natoms >= PROGRESS_BAR_ATOMS && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(natoms as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let mut done: Option<Progress> = None;
    let result = pack_with_progress(&request, |p| {
        match p.stage {
            Stage::Insert => {
                bar.set_position(p.placed as u64);
                bar.set_message("inserting");
            }
            Stage::Relax => {
                bar.set_position(p.natoms as u64);
                bar.set_message(format!(
                    "relaxing: {} close pairs (closest {:.3} d), step {}",
                    p.overlaps, p.closest_ratio, p.iteration
                ));
            }
            Stage::Verify => bar.set_message("checking every pair"),
            Stage::Done => done = Some(*p),
        }
        bar.tick();
    });
    bar.finish_and_clear();
    // Nothing is written unless the packing succeeded.
    let structure = result?;
    io::write_structure(&args.output, &structure)?;
    let seconds = start.elapsed().as_secs_f64();
    let counts: Vec<String> = plan.counts().iter().map(|(e, n)| format!("{e}{n}")).collect();
    let min = done.and_then(|p| p.min_distance).map_or_else(
        || format!("> {:.4} Å", 1.05 * plan.max_min_distance()),
        |d| format!("{d:.4} Å"),
    );
    println!(
        "packed {natoms} atoms of {} ({}) at {:.4} g/cm³ in {:.2} Å³, packing fraction {:.3}, \
         min distance {min}, seed {}, {seconds:.3} s -> {}",
        structure.composition().reduced_formula(),
        counts.join(" "),
        structure.density(),
        structure.volume(),
        plan.packing_fraction(),
        args.seed,
        args.output.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse() {
        let (a, b, d) = parse_pair("Si-O=1.5").unwrap();
        assert_eq!((a.symbol(), b.symbol(), d), ("Si", "O", 1.5));
        for bad in ["Si-O", "SiO=1", "Si-Xx=1", "Si-O=x"] {
            assert!(parse_pair(bad).is_err(), "{bad}");
        }
    }
}
