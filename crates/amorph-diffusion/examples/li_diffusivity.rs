//! Li diffusivity of the short amorph-md melt shipped in `tests/data/diffusion/`, by amorph's default
//! rule and by pymatgen's `smoothed="max"`, then its Nernst–Einstein conductivity.
//!
//! ```sh
//! cargo run --release -p amorph-diffusion --example li_diffusivity [XDATCAR TIMESTEP_FS STEP_SKIP T_K]
//! ```

use amorph_diffusion::{
    Displacements, Drift, FitOptions, Msd, MsdMethod, Selection, Smoothing, nernst_einstein_ms_per_cm,
};
use amorph_structure::io;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/diffusion/Li2Si2O5_melt_3000K.XDATCAR"
    );
    let path = args.first().map_or(default, String::as_str);
    let timestep: f64 = args.get(1).map_or(Ok(2.0), |s| s.parse())?;
    let step_skip: f64 = args.get(2).map_or(Ok(40.0), |s| s.parse())?;
    let temperature: f64 = args.get(3).map_or(Ok(3000.0), |s| s.parse())?;

    let traj = io::read_trajectory(path)?;
    let disp = Displacements::from_trajectory(
        &traj,
        &Selection::species("Li")?,
        Drift::Framework,
        timestep * step_skip,
    )?;
    let msd = Msd::compute(&disp, MsdMethod::Fft);
    println!(
        "{path}: {} Li, {} frames {} fs apart",
        disp.natoms(),
        disp.nframes(),
        disp.frame_interval_fs()
    );
    let d = msd.diffusivity(&FitOptions::default())?;
    println!(
        "amorph:   D = {:.4e} ± {:.1e} cm²/s, 95 % interval {:.4e}–{:.4e}, {:.0} effective samples, fit {}–{} fs",
        d.d_cm2_s,
        d.stderr_cm2_s,
        d.ci95_cm2_s[0],
        d.ci95_cm2_s[1],
        d.n_effective,
        d.fit_start_fs(),
        d.fit_end_fs()
    );
    let pm = disp.pymatgen_diffusivity(&msd, Smoothing::Max { min_obs: 30 })?;
    println!(
        "pymatgen: D = {:.4e} cm²/s (smoothed=\"max\", {} MSD points)",
        pm.d_cm2_s,
        pm.time_fs.len()
    );
    let sigma = nernst_einstein_ms_per_cm(d.d_cm2_s, disp.natoms(), 1.0, disp.volume_a3(), temperature)?;
    println!("σ = {sigma:.4e} mS/cm at {temperature} K (Nernst–Einstein, Haven ratio 1)");
    Ok(())
}
