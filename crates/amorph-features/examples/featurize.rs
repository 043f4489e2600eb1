//! Every Table-1 feature of a structure file, under both conventions, with units.
//!
//! ```sh
//! cargo run --release -p amorph-features --example featurize -- examples/data/Li2Si2O5_glass.vasp
//! ```

use std::time::Instant;

use amorph_features::{Convention, FeatureSet, Options};
use amorph_structure::io;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/data/Li2Si2O5_glass.vasp"
        )
        .to_string()
    });
    let s = io::read_structure(&path)?;
    println!("{path}: {} atoms, {}", s.len(), s.composition().reduced_formula());
    let sets = [
        FeatureSet::table1(Options::new(Convention::Sendek))?,
        FeatureSet::table1(Options::new(Convention::Zheng2024))?,
    ];
    let start = Instant::now();
    let values: Vec<_> = sets.iter().map(|set| set.compute(&s)).collect::<Result<_, _>>()?;
    let elapsed = start.elapsed();
    println!("{:<10} {:>14} {:>14}  unit", "feature", "sendek", "zheng2024");
    let show = |v: &amorph_features::Value| match v {
        Ok(x) => format!("{x:>14.6}"),
        Err(_) => format!("{:>14}", "undefined"),
    };
    for (k, name) in sets[0].names().iter().enumerate() {
        println!(
            "{name:<10} {} {}  {}",
            show(&values[0][k]),
            show(&values[1][k]),
            sets[0].units()[k]
        );
    }
    for (k, name) in sets[0].names().iter().enumerate() {
        if let Err(e) = &values[0][k] {
            println!("sendek {name}: {e}");
        }
    }
    println!("both conventions in {:.2} ms", elapsed.as_secs_f64() * 1e3);
    Ok(())
}
