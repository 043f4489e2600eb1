//! 200 atoms × 10 000 frames (50 Li random-walking among 150 vibrating O), the size that
//! `validation/diffusion_bench.py` also gives pymatgen's `DiffusionAnalyzer`, side by side.
//!
//! - `displacements`: unwrapping + drift removal from a `Trajectory`;
//! - `accumulator`: the same through `MsdAccumulator`, frame by frame (the streaming cost);
//! - `msd_fft`: all-origins MSD of the 50 Li by FFT;
//! - `diffusivity`: the default GLS fit with its uncertainty;
//! - `pymatgen_max`: pymatgen's `smoothed="max"` fit from the same MSD;
//! - `all`: the three steps together (what `amorph diffusion` does after reading the file).

use amorph_diffusion::{
    Displacements, Drift, FitOptions, FrameSink, Msd, MsdAccumulator, MsdMethod, Selection, Smoothing,
};
use amorph_structure::{Element, Lattice, Trajectory};
use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller from two uniforms in (0, 1].
    let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn trajectory(frames: usize) -> Trajectory {
    let (li, o) = (
        Element::from_symbol("Li").unwrap(),
        Element::from_symbol("O").unwrap(),
    );
    let species: Vec<Element> = (0..200).map(|i| if i < 50 { li } else { o }).collect();
    let a = 14.0;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let home: Vec<Vector3<f64>> = (0..200)
        .map(|_| {
            Vector3::new(
                rng.next_u64() as f64,
                rng.next_u64() as f64,
                rng.next_u64() as f64,
            ) / u64::MAX as f64
                * a
        })
        .collect();
    let mut x = home.clone();
    let mut t = Trajectory::new(species, Lattice::cubic(a).unwrap());
    for _ in 0..frames {
        let wrapped: Vec<Vector3<f64>> = x.iter().map(|p| p.map(|c| c.rem_euclid(a))).collect();
        t.push_positions(&wrapped, None).unwrap();
        for (i, p) in x.iter_mut().enumerate() {
            for d in 0..3 {
                if i < 50 {
                    p[d] += 0.2 * normal(&mut rng);
                } else {
                    p[d] = home[i][d] + 0.1 * normal(&mut rng);
                }
            }
        }
    }
    t
}

fn bench(c: &mut Criterion) {
    let traj = trajectory(10_000);
    let sel = Selection::species("Li").unwrap();
    let mut g = c.benchmark_group("msd_200_atoms_10000_frames");
    g.sample_size(10);
    g.bench_function("displacements", |b| {
        b.iter(|| Displacements::from_trajectory(&traj, &sel, Drift::Framework, 20.0).unwrap())
    });
    g.bench_function("accumulator", |b| {
        b.iter(|| {
            let mut acc = MsdAccumulator::new(traj.species(), &sel, Drift::Framework, 20.0).unwrap();
            let mut buf = vec![Vector3::zeros(); traj.natoms()];
            for f in 0..traj.len() {
                let p = traj.frame_positions(f);
                for (i, v) in buf.iter_mut().enumerate() {
                    *v = Vector3::new(p[[i, 0]], p[[i, 1]], p[[i, 2]]);
                }
                acc.push_frame(&buf, traj.lattice(f)).unwrap();
            }
            acc.displacements().unwrap()
        })
    });
    let disp = Displacements::from_trajectory(&traj, &sel, Drift::Framework, 20.0).unwrap();
    g.bench_function("msd_fft", |b| b.iter(|| Msd::compute(&disp, MsdMethod::Fft)));
    let msd = Msd::compute(&disp, MsdMethod::Fft);
    g.bench_function("diffusivity", |b| {
        b.iter(|| msd.diffusivity(&FitOptions::default()).unwrap())
    });
    g.bench_function("pymatgen_max", |b| {
        b.iter(|| {
            disp.pymatgen_diffusivity(&msd, Smoothing::Max { min_obs: 30 })
                .unwrap()
        })
    });
    g.bench_function("all", |b| {
        b.iter(|| {
            let disp = Displacements::from_trajectory(&traj, &sel, Drift::Framework, 20.0).unwrap();
            let msd = Msd::compute(&disp, MsdMethod::Fft);
            (
                msd.diffusivity(&FitOptions::default()).unwrap(),
                disp.pymatgen_diffusivity(&msd, Smoothing::Max { min_obs: 30 })
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
