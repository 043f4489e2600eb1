//! Read a structure file and print its summary, neighbour count and the highest peak of each partial
//! RDF.
//!
//!     cargo run --release -p amorph-structure --example glass_summary -- examples/data/Li2Si2O5_glass.vasp

use amorph_structure::{NeighborList, Rdf, io};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/data/Li2Si2O5_glass.vasp"
        )
        .into()
    });
    let s = io::read_structure(&path)?;
    println!(
        "{path}: {} atoms of {}, {:.2} Å³, {:.4} g/cm³",
        s.len(),
        s.composition().reduced_formula(),
        s.volume(),
        s.density()
    );

    let neighbours = NeighborList::new(&s, 3.0)?;
    println!(
        "{:.2} neighbours per atom within 3 Å",
        neighbours.num_entries() as f64 / s.len() as f64
    );

    let rdf = Rdf::new(&s, 6.0, 120)?;
    for p in &rdf.partials {
        let (k, g) =
            p.g.iter()
                .enumerate()
                .fold((0, 0.0), |best, (k, &g)| if g > best.1 { (k, g) } else { best });
        if g > 0.0 {
            println!("g_{}-{}: highest peak {:.2} at {:.3} Å", p.a, p.b, g, rdf.r[k]);
        }
    }
    Ok(())
}
