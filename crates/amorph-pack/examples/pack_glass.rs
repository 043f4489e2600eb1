//! Pack a composition and report what it took.
//!
//!     cargo run --release -p amorph-pack --example pack_glass -- Li2Si2O5 9999 2.3 2.2 [seed] [out.vasp]
//!
//! Arguments: formula, atoms, density (g/cm³), tolerance (Å), seed (default 1), optional output file.

use std::time::Instant;

use amorph_pack::{PackRequest, Stage, pack_with_progress};
use amorph_structure::io;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let formula = arg(0, "Li2Si2O5");
    let atoms: usize = arg(1, "999").parse()?;
    let density: f64 = arg(2, "2.3").parse()?;
    let tolerance: f64 = arg(3, "2.2").parse()?;
    let seed: u64 = arg(4, "1").parse()?;

    let request = PackRequest::new(formula.parse()?)
        .atoms(atoms)
        .density(density)
        .tolerance(tolerance)
        .seed(seed);
    let plan = request.plan()?;
    println!(
        "{} atoms of {formula} at {density} g/cm³, tolerance {tolerance} Å: packing fraction {:.3}",
        plan.natoms(),
        plan.packing_fraction()
    );
    let t = Instant::now();
    let mut last = None;
    let mut relax_start = None;
    let s = pack_with_progress(&request, |p| {
        if p.stage == Stage::Relax && relax_start.is_none() {
            relax_start = Some(p.seconds);
        }
        if p.stage == Stage::Done {
            last = Some(*p);
        }
    })?;
    let elapsed = t.elapsed().as_secs_f64();
    if let Some(p) = last {
        println!(
            "packed in {:.1} ms: {} of {} atoms inserted without overlap, {} minimisation iterations, \
             closest pair {:.4} Å, density {:.4} g/cm³",
            elapsed * 1e3,
            p.inserted_clean,
            p.natoms,
            p.iteration,
            p.min_distance.unwrap_or(f64::NAN),
            s.density()
        );
    }
    if let Some(t) = relax_start {
        println!("minimisation started after {:.1} ms", t * 1e3);
    }
    if let Some(out) = args.get(5) {
        io::write_structure(out, &s)?;
        println!("wrote {out}");
    }
    Ok(())
}
