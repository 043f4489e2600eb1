//! Fit every E(V) model to a table, then run the MPMorph volume search on an analytic liquid.
//!
//! ```sh
//! cargo run -p amorph-eos --example fit_and_search [-- tests/data/eos/noisy_liquid.csv]
//! ```

use amorph_eos::{
    EnergyModel, ProbeOutcome, ProbeRequest, SearchEvent, SearchSettings, VolumeProbe, VolumeSearch,
    fit_energy,
};

/// A melt whose mean pressure follows P = 25 GPa · ln(1520 Å³ / V) + a deterministic wiggle standing in
/// for MD noise.
struct Melt;

impl VolumeProbe for Melt {
    type Configuration = usize;
    type Error = std::convert::Infallible;
    fn probe(&mut self, _start: &usize, r: &ProbeRequest) -> Result<ProbeOutcome<usize>, Self::Error> {
        let wiggle = 0.1 * (r.index as f64 * 2.3).sin();
        Ok(ProbeOutcome {
            pressure_GPa: 25.0 * (1520.0 / r.volume_A3).ln() + wiggle,
            pressure_err_GPa: 0.1,
            energy_first_half_eV: -700.0,
            energy_second_half_eV: -700.05,
            configuration: r.index,
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/eos/noisy_liquid.csv"
        )
        .into()
    });
    let text = std::fs::read_to_string(&path)?;
    let mut volumes = Vec::new();
    let mut energies = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let mut cells = line.split(',');
        let mut next = |what: &str| -> Result<f64, String> {
            cells
                .next()
                .and_then(|c| c.trim().parse().ok())
                .ok_or_else(|| format!("{path}:{}: no {what}", n + 1))
        };
        volumes.push(next("volume_A3")?);
        energies.push(next("energy_eV")?);
    }
    println!("{path}: {} points", volumes.len());
    println!(
        "{:<18} {:>12} {:>14} {:>10} {:>8} {:>10}",
        "model", "V0 (Å³)", "E0 (eV)", "B0 (GPa)", "B0'", "RMSE (eV)"
    );
    for model in EnergyModel::ALL {
        match fit_energy(model, &volumes, &energies) {
            Ok(f) => println!(
                "{:<18} {:>12.4} {:>14.5} {:>10.3} {:>8.3} {:>10.2e}",
                model.name(),
                f.v0_A3,
                f.e0_eV,
                f.b0_GPa,
                f.b1,
                f.goodness.rmse
            ),
            Err(e) => println!("{:<18} {e}", model.name()),
        }
    }

    println!("\nMPMorph volume search from 1200 Å³:");
    let mut search = VolumeSearch::new(SearchSettings::default(), 0usize, 1200.0)?;
    let accepted = search.run_with_progress(&mut Melt, |event| {
        if let SearchEvent::Probed(r, _) = event {
            println!(
                "  probe {} {:<12} V = {:8.2} Å³  P = {:+7.3} ± {:.3} GPa",
                r.request.index,
                format!("{:?}", r.request.kind),
                r.request.volume_A3,
                r.outcome.pressure_GPa,
                r.outcome.pressure_err_GPa
            );
        }
    })?;
    println!(
        "accepted {:.2} Å³ at {:+.3} GPa; the history:",
        accepted.volume_A3, accepted.pressure_GPa
    );
    print!("{}", search.history().table());
    Ok(())
}
