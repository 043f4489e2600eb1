//! `amorph energy --calculator ipi:…` and `amorph md --calculator ipi:…` against a minimal i-PI client
//! written here (a harmonic tether to the origin, in atomic units on the wire).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BOHR: f64 = 0.529_177_210_903;
const HARTREE: f64 = 27.211_386_245_988;

fn glass() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Li2Si2O5_glass.vasp")
}

fn socket(tag: &str) -> (String, PathBuf) {
    let name = format!("amorph_cli_{}_{tag}", std::process::id());
    let path = PathBuf::from(format!("/tmp/ipi_{name}"));
    (format!("ipi:unix:{name}"), path)
}

/// Energy ½k|x|² and forces −k·x per atom (x in Bohr, k in Hartree/Bohr²); NaN forces at the
/// `nan_at`-th evaluation. Returns the number of evaluations served.
fn client(path: PathBuf, k: f64, nan_at: Option<usize>) -> JoinHandle<usize> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut s = loop {
            match UnixStream::connect(&path) {
                Ok(s) => break s,
                Err(_) if start.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("cannot connect to {}: {e}", path.display()),
            }
        };
        let mut n_eval = 0;
        let mut data: Option<Vec<f64>> = None;
        let read = |s: &mut UnixStream, n: usize| -> Option<Vec<u8>> {
            let mut b = vec![0; n];
            s.read_exact(&mut b).ok().map(|_| b)
        };
        loop {
            let Some(h) = read(&mut s, 12) else {
                return n_eval;
            };
            match String::from_utf8_lossy(&h).trim_end() {
                "STATUS" => {
                    let r = if data.is_some() { "HAVEDATA" } else { "READY" };
                    if s.write_all(format!("{r:<12}").as_bytes()).is_err() {
                        return n_eval;
                    }
                }
                "POSDATA" => {
                    read(&mut s, 144).unwrap();
                    let n = i32::from_le_bytes(read(&mut s, 4).unwrap().try_into().unwrap());
                    let b = read(&mut s, 24 * n as usize).unwrap();
                    data = Some(
                        b.chunks_exact(8)
                            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                            .collect(),
                    );
                    n_eval += 1;
                }
                "GETFORCE" => {
                    let x = data.take().unwrap();
                    let mut out = format!("{:<12}", "FORCEREADY").into_bytes();
                    let e: f64 = x.iter().map(|v| 0.5 * k * v * v).sum();
                    out.extend_from_slice(&e.to_le_bytes());
                    out.extend_from_slice(&((x.len() / 3) as i32).to_le_bytes());
                    let mut w = [0.0; 9];
                    for (i, v) in x.iter().enumerate() {
                        let f = if nan_at == Some(n_eval) { f64::NAN } else { -k * v };
                        out.extend_from_slice(&f.to_le_bytes());
                        // W = Σ x ⊗ f is diagonal here: x_d f_d.
                        w[4 * (i % 3)] += v * f;
                    }
                    for v in w {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                    out.extend_from_slice(&0i32.to_le_bytes());
                    if s.write_all(&out).is_err() {
                        return n_eval;
                    }
                }
                "EXIT" => return n_eval,
                other => panic!("unexpected header {other:?}"),
            }
        }
    })
}

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn energy_through_a_unix_socket_converts_units() {
    let (spec, path) = socket("energy");
    let k = 0.01;
    let c = client(path, k, None);
    let g = glass();
    let out = amorph(&["energy", g.to_str().unwrap(), "--calculator", &spec, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(c.join().unwrap(), 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The same energy from the file's own (wrapped) positions, in eV.
    let text = std::fs::read_to_string(&g).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let scale: f64 = lines[1].trim().parse().unwrap();
    let cell: Vec<Vec<f64>> = (2..5)
        .map(|i| {
            lines[i]
                .split_whitespace()
                .map(|x| x.parse::<f64>().unwrap() * scale)
                .collect()
        })
        .collect();
    let natoms: usize = lines[6]
        .split_whitespace()
        .map(|x| x.parse::<usize>().unwrap())
        .sum();
    assert!(lines[7].trim().to_lowercase().starts_with('d'));
    let mut e = 0.0;
    let mut f0 = [0.0; 3];
    for (i, l) in lines[8..8 + natoms].iter().enumerate() {
        let fr: Vec<f64> = l.split_whitespace().take(3).map(|x| x.parse().unwrap()).collect();
        let fr: Vec<f64> = fr.iter().map(|x| x - x.floor()).collect();
        for d in 0..3 {
            let x = (0..3).map(|j| fr[j] * cell[j][d]).sum::<f64>() / BOHR;
            e += 0.5 * k * x * x;
            if i == 0 {
                f0[d] = -k * x * HARTREE / BOHR;
            }
        }
    }
    let got = v["energy_eV"].as_f64().unwrap();
    assert!(
        (got - e * HARTREE).abs() < 1e-9 * got.abs(),
        "{got} vs {}",
        e * HARTREE
    );
    for d in 0..3 {
        let f = v["forces_eV_A"][0][d].as_f64().unwrap();
        assert!(
            (f - f0[d]).abs() < 1e-9 * f0[d].abs().max(1.0),
            "{f} vs {}",
            f0[d]
        );
    }
    // A restoring force: W = Σ x ⊗ f has a negative trace, hence a negative virial pressure.
    assert!(v["pressure_GPa"].as_f64().unwrap() < 0.0);
}

#[test]
fn md_failure_keeps_the_last_good_frame_names_the_step_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let g = glass();
    let (spec, path) = socket("md");
    // A free flight (k = 0) whose 16th evaluation (step 15) is NaN.
    let c = client(path.clone(), 0.0, Some(16));
    let md = |steps: &str, extra: &[&str]| {
        let mut a = vec![
            "md",
            g.to_str().unwrap(),
            "--calculator",
            &spec,
            "--ipi-wait",
            "30",
            "--temperature",
            "300",
            "--timestep",
            "1",
            "--steps",
            steps,
            "--every",
            "5",
        ];
        a.extend_from_slice(extra);
        amorph(&a)
    };
    let (ckpt, traj, last) = (p("run.ckpt"), p("XDATCAR"), p("last.vasp"));
    let out = md("40", &["--checkpoint", &ckpt, "--traj", &traj, "-o", &last]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("step 15:") && err.contains("non-finite force"),
        "{err}"
    );
    assert!(err.contains("(step 14)") && err.contains("--restart"), "{err}");
    assert_eq!(c.join().unwrap(), 16);
    assert!(Path::new(&last).exists() && Path::new(&ckpt).exists());
    // Frames 0, 5, 10 and the last good state at 14 are in the trajectory.
    let frames = std::fs::read_to_string(&traj).unwrap();
    assert!(frames.matches("Direct configuration").count() >= 3, "{frames}");

    // Resume with a healthy client: 26 more steps end at step 40.
    let c = client(path, 0.0, None);
    let thermo = p("thermo.csv");
    let out = md("26", &["--restart", &ckpt, "--thermo", &thermo]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&thermo).unwrap();
    assert!(text.lines().last().unwrap().starts_with("40,"), "{text}");
    assert_eq!(c.join().unwrap(), 27);
}

#[test]
fn bad_calculator_specs_are_rejected() {
    let g = glass();
    for spec in ["ipi:tcp:localhost", "lammps", "ipi:unix:"] {
        let out = amorph(&["energy", g.to_str().unwrap(), "--calculator", spec]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("ipi:unix:NAME"), "{err}");
    }
}

/// An i-PI client computing Pedone (DSF) forces natively for a cubic cell, the species read from the
/// run's `packed.vasp` at the first configuration (the protocol sends positions only). Returns the
/// number of evaluations served.
fn pedone_client(path: PathBuf, run_dir: PathBuf) -> JoinHandle<usize> {
    use amorph::md::forcefield::CalculatorOptions;
    use amorph::md::{Configuration, ForceField, evaluate};
    use nalgebra::Vector3;
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut s = loop {
            match UnixStream::connect(&path) {
                Ok(s) => break s,
                Err(_) if start.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("cannot connect to {}: {e}", path.display()),
            }
        };
        let read = |s: &mut UnixStream, n: usize| -> Option<Vec<u8>> {
            let mut b = vec![0; n];
            s.read_exact(&mut b).ok().map(|_| b)
        };
        let doubles = |b: Vec<u8>| -> Vec<f64> {
            b.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
        let mut engine = None;
        let mut pending: Option<Vec<u8>> = None;
        let mut n_eval = 0;
        loop {
            let Some(h) = read(&mut s, 12) else {
                return n_eval;
            };
            match String::from_utf8_lossy(&h).trim_end() {
                "STATUS" => {
                    let r = if pending.is_some() { "HAVEDATA" } else { "READY" };
                    s.write_all(format!("{r:<12}").as_bytes()).unwrap();
                }
                "POSDATA" => {
                    let cell = doubles(read(&mut s, 72).unwrap());
                    read(&mut s, 72).unwrap();
                    let n = i32::from_le_bytes(read(&mut s, 4).unwrap().try_into().unwrap()) as usize;
                    let x: Vec<Vector3<f64>> = doubles(read(&mut s, 24 * n).unwrap())
                        .chunks_exact(3)
                        .map(|c| Vector3::new(c[0], c[1], c[2]) * BOHR)
                        .collect();
                    let (species, calc) = engine.get_or_insert_with(|| {
                        let packed =
                            amorph::structure::io::read_structure(run_dir.join("packed.vasp")).unwrap();
                        let ff = ForceField::by_name_or_file("pedone").unwrap();
                        let calc = ff
                            .calculator(&packed.elements(), &CalculatorOptions::default())
                            .unwrap();
                        (packed.species().to_vec(), calc)
                    });
                    let lattice = amorph::structure::Lattice::cubic(cell[0] * BOHR).unwrap();
                    let config = Configuration {
                        lattice: &lattice,
                        species,
                        positions: &x,
                    };
                    let e = evaluate(calc, &config).unwrap();
                    let mut out = format!("{:<12}", "FORCEREADY").into_bytes();
                    out.extend_from_slice(&(e.energy / HARTREE).to_le_bytes());
                    out.extend_from_slice(&(n as i32).to_le_bytes());
                    for f in &e.forces {
                        for d in 0..3 {
                            out.extend_from_slice(&(f[d] * BOHR / HARTREE).to_le_bytes());
                        }
                    }
                    for i in 0..3 {
                        for j in 0..3 {
                            out.extend_from_slice(&(e.virial[(i, j)] / HARTREE).to_le_bytes());
                        }
                    }
                    out.extend_from_slice(&0i32.to_le_bytes());
                    pending = Some(out);
                    n_eval += 1;
                }
                "GETFORCE" => s.write_all(&pending.take().unwrap()).unwrap(),
                "EXIT" => return n_eval,
                other => panic!("unexpected header {other:?}"),
            }
        }
    })
}

#[test]
fn a_whole_pipeline_run_uses_one_client_for_every_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = tmp.path().join("tiny.toml");
    std::fs::write(
        &tiny,
        "natoms = 45\ntemperatures_K = [1500.0, 2500.0]\nwarmup_steps = 300\n[stage]\nprobe_steps = 300\n\
         production_steps = 1500\nchunk_steps = 500\npressure_tolerance_GPa = 2.0\n",
    )
    .unwrap();
    let run = tmp.path().join("run");
    let (spec, path) = socket("run");
    let client = pedone_client(path, run.clone());
    let args = [
        "run",
        "Li2Si2O5",
        "--config",
        tiny.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--calculator",
        &spec,
        "--ipi-wait",
        "60",
    ];
    let out = amorph(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let served = client.join().unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("record.json")).unwrap()).unwrap();
    assert_eq!(record["force_field"]["name"], spec.as_str());
    assert_eq!(record["settings"]["calculator"], spec.as_str());
    // Warm-up, every probe and both productions ran on the client: thousands of evaluations.
    assert!(served > 3 * 1500, "only {served} evaluations");
    for t in record["temperatures"].as_array().unwrap() {
        assert!(t["D_cm2_s"].as_f64().unwrap() > 0.0, "{t}");
    }
}
