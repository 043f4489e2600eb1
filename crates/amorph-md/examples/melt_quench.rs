//! Melt the example Li2Si2O5 glass at 3000 K and quench it to 1000 K with the Pedone force field
//! (DSF Coulomb), Nosé–Hoover NVT, printing a few thermo lines.
//!
//!     cargo run --release -p amorph-md --example melt_quench

use amorph_md::forcefield::CalculatorOptions;
use amorph_md::{ForceField, Simulation, Snapshot, System, Thermostat};
use amorph_structure::io;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let glass = io::read_structure(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/Li2Si2O5_glass.vasp"
    ))?;
    let calculator = ForceField::pedone().calculator(&glass.elements(), &CalculatorOptions::default())?;
    let mut system = System::from_structure(&glass)?;
    system.set_maxwell_boltzmann(3000.0, 42)?;
    let mut sim = Simulation::new(
        system,
        Box::new(calculator),
        1.0,
        Thermostat::nose_hoover(100.0, 3)?,
        42,
    )?;
    sim.add_observer(
        500,
        Box::new(|s: &Snapshot| {
            println!(
                "{:>6} fs  T {:7.1} K (set {:6.1})  E_pot {:10.3} eV  P {:6.2} GPa",
                s.time_fs,
                s.temperature(),
                s.target_temperature,
                s.potential_energy(),
                s.pressure_gpa()
            );
            Ok(())
        }),
    )?;
    sim.set_temperature(3000.0)?;
    sim.run(2000)?;
    sim.ramp_temperature(3000.0, 1000.0, 3000)?;
    sim.run(3000)?;
    io::write_structure(
        std::env::temp_dir().join("Li2Si2O5_quenched.vasp"),
        &sim.system().to_structure()?,
    )?;
    Ok(())
}
