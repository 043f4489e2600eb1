//! Recover a planted formula, y = 2 x1/x2² − 0.5 exp(−x3) + 1 with noise, from six primaries with
//! units, and predict on new data.
//!
//!     cargo run --release -p amorph-sisso --example planted

use amorph_sisso::{Dataset, Op, SissoParams, Unit};
use ndarray::{Array1, Array2};

fn main() -> Result<(), amorph_sisso::Error> {
    // A deterministic pseudo-random table (a linear congruential generator keeps the example
    // dependency-free).
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = 200;
    let ranges = [
        (0.5, 3.0),
        (0.8, 2.0),
        (-1.0, 2.0),
        (1.0, 4.0),
        (0.2, 1.5),
        (0.0, 1.0),
    ];
    let x = Array2::from_shape_fn((n, 6), |(_, j)| {
        ranges[j].0 + (ranges[j].1 - ranges[j].0) * next()
    });
    let y = Array1::from_shape_fn(n, |i| {
        2.0 * x[[i, 0]] / (x[[i, 1]] * x[[i, 1]]) - 0.5 * (-x[[i, 2]]).exp() + 1.0 + 0.01 * (next() - 0.5)
    });
    let units = ["eV", "Å", "1", "Å", "eV", "1"]
        .map(Unit::parse)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let names = (1..=6).map(|j| format!("x{j}")).collect();
    let data = Dataset::new(x, y, names)?
        .with_units(units)?
        .with_target("E", Unit::parse("eV/Å^2")?);

    let fit = SissoParams::new()
        .operators(Op::PAPER)
        .max_complexity(2)
        .desc_dim(3)
        .subs_sis(100)
        .check()?
        .fit(&data)?;
    println!("feature space: {} features", fit.space.total());
    for d in 1..=3 {
        if let Some(m) = fit.best(d) {
            println!("\n{m}");
        }
    }
    let m = fit.best(2).expect("a 2D model");
    let new = ndarray::array![[1.0, 1.0, 0.0, 2.0, 1.0, 0.5]];
    println!(
        "\nprediction at x1 = x2 = 1, x3 = 0: {:.4} (exact 2.5)",
        m.predict(new.view())?[0]
    );
    Ok(())
}
