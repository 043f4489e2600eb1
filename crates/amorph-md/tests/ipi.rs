//! The i-PI server against a tiny i-PI client written here: it speaks the protocol byte for byte,
//! computes Lennard-Jones argon with the crate's own pair code, and can misbehave on request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use amorph_md::ipi::{IpiAddress, IpiCalculator, IpiError, IpiOptions, IpiUnits, SharedIpiCalculator};
use amorph_md::{
    Calculator, Configuration, PairInteractions, PairTerm, Simulation, System, Thermostat, Truncation,
    evaluate,
};
use amorph_structure::{Element, Lattice, Structure};
use nalgebra::{Matrix3, Vector3};

const SIGMA: f64 = 3.405;
const EPSILON: f64 = 0.0103;

fn argon() -> Element {
    Element::from_symbol("Ar").unwrap()
}

fn lj() -> PairInteractions {
    let mut lj = PairInteractions::new(7.0).unwrap().deterministic(true);
    lj.set_pair(
        argon(),
        argon(),
        vec![PairTerm::LennardJones {
            epsilon: EPSILON,
            sigma: SIGMA,
        }],
        Truncation::Cut,
        None,
    )
    .unwrap();
    lj
}

/// 108 argon atoms on a slightly disordered fcc lattice in `lattice` (given in fractional terms).
fn crystal(lattice: Lattice) -> Structure {
    let mut frac = Vec::new();
    let mut seed: u64 = 12345;
    let mut noise = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02
    };
    for i in 0..3 {
        for j in 0..3 {
            for k in 0..3 {
                for b in [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    let f = Vector3::new(
                        (i as f64 + b[0]) / 3.0 + noise(),
                        (j as f64 + b[1]) / 3.0 + noise(),
                        (k as f64 + b[2]) / 3.0 + noise(),
                    );
                    frac.push(f);
                }
            }
        }
    }
    let positions = frac.iter().map(|f| lattice.to_cartesian(f)).collect();
    Structure::new(lattice, vec![argon(); 108], positions).unwrap()
}

fn cubic() -> Structure {
    crystal(Lattice::cubic(3.0 * 5.4).unwrap())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    None,
    /// Answer NEEDINIT first and expect INIT.
    NeedInit,
    /// NaN forces at this (1-based) evaluation.
    NanAt(usize),
    /// One atom too many in the reply.
    WrongCount,
    /// Close the connection after receiving the positions of this evaluation.
    DropAt(usize),
    /// Answer STATUS with garbage.
    Garbage,
    /// Send this virial (Hartree, row by row on the wire) instead of the computed one.
    Virial([f64; 9]),
    /// Take this long before answering HAVEDATA.
    Slow(Duration),
    /// Take this long before answering GETFORCE at this (1-based) evaluation.
    SlowForcesAt(usize, Duration),
    /// Answer GETFORCE at this evaluation with a header that is not FORCEREADY.
    WrongReplyAt(usize),
    /// Ask for INIT again after every GETFORCE (as some older clients do).
    InitEveryStep,
}

#[derive(Debug, Default)]
struct ClientLog {
    evaluations: usize,
    init: Option<String>,
    /// Largest |h·h⁻¹ − 1| seen.
    inverse_error: f64,
    /// Largest |lower triangle of h| seen (must be 0: a along x, b in xy).
    lower_h: f64,
    /// Whether all positions arrived inside the cell.
    wrapped: bool,
    /// STATUS messages received.
    statuses: usize,
    /// INIT messages received.
    inits: usize,
}

fn read_exact(s: &mut impl Read, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0; n];
    s.read_exact(&mut b).ok()?;
    Some(b)
}

fn f64s(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn hdr(name: &str) -> Vec<u8> {
    format!("{name:<12}").into_bytes()
}

/// The client loop: runs until EXIT, a closed connection, or a deliberate drop.
fn client(mut s: impl Read + Write, fault: Fault, units: IpiUnits) -> ClientLog {
    let mut log = ClientLog {
        wrapped: true,
        ..Default::default()
    };
    let mut calc = lj();
    let mut result: Option<amorph_md::Evaluation> = None;
    let mut initialised = !matches!(fault, Fault::NeedInit | Fault::InitEveryStep);
    let (b, ha) = (units.bohr_angstrom, units.hartree_ev);
    loop {
        let Some(h) = read_exact(&mut s, 12) else {
            return log;
        };
        match String::from_utf8_lossy(&h).trim_end() {
            "STATUS" => {
                log.statuses += 1;
                let reply = if fault == Fault::Garbage {
                    b"\x00\x01garbage!!\xff\xfe".to_vec()
                } else if !initialised {
                    hdr("NEEDINIT")
                } else if result.is_some() {
                    if let Fault::Slow(d) = fault {
                        std::thread::sleep(d);
                    }
                    hdr("HAVEDATA")
                } else {
                    hdr("READY")
                };
                if s.write_all(&reply).is_err() {
                    return log;
                }
            }
            "INIT" => {
                let head = read_exact(&mut s, 8).unwrap();
                let bead = i32::from_le_bytes(head[..4].try_into().unwrap());
                assert_eq!(bead, 0);
                let n = i32::from_le_bytes(head[4..].try_into().unwrap());
                let text = read_exact(&mut s, n as usize).unwrap();
                log.init = Some(String::from_utf8(text).unwrap());
                log.inits += 1;
                initialised = true;
            }
            "POSDATA" => {
                let cell = f64s(&read_exact(&mut s, 72).unwrap());
                let inv = f64s(&read_exact(&mut s, 72).unwrap());
                let n = i32::from_le_bytes(read_exact(&mut s, 4).unwrap().try_into().unwrap());
                let pos = f64s(&read_exact(&mut s, 24 * n as usize).unwrap());
                // As LAMMPS reads it: h row by row, lattice vectors as columns.
                let h = Matrix3::from_row_slice(&cell);
                let ih = Matrix3::from_row_slice(&inv);
                log.inverse_error = log.inverse_error.max((h * ih - Matrix3::identity()).abs().max());
                log.lower_h = log
                    .lower_h
                    .max(h[(1, 0)].abs().max(h[(2, 0)].abs()).max(h[(2, 1)].abs()));
                let lattice = Lattice::new(h.transpose() * b).unwrap();
                let positions: Vec<Vector3<f64>> = pos
                    .chunks_exact(3)
                    .map(|c| Vector3::new(c[0], c[1], c[2]) * b)
                    .collect();
                for p in &positions {
                    let f = lattice.to_fractional(p);
                    if f.iter().any(|&x| !(-1e-12..1.0 + 1e-12).contains(&x)) {
                        log.wrapped = false;
                    }
                }
                log.evaluations += 1;
                if fault == Fault::DropAt(log.evaluations) {
                    return log;
                }
                let species = vec![argon(); positions.len()];
                let config = Configuration {
                    lattice: &lattice,
                    species: &species,
                    positions: &positions,
                };
                result = Some(evaluate(&mut calc, &config).unwrap());
            }
            "GETFORCE" => {
                let e = result.take().unwrap();
                if let Fault::SlowForcesAt(at, d) = fault
                    && at == log.evaluations
                {
                    std::thread::sleep(d);
                }
                if fault == Fault::WrongReplyAt(log.evaluations) {
                    let _ = s.write_all(&hdr("HAVEDATA"));
                    return log;
                }
                if fault == Fault::InitEveryStep {
                    initialised = false;
                }
                let n = e.forces.len();
                let mut out = hdr("FORCEREADY");
                out.extend_from_slice(&(e.energy / ha).to_le_bytes());
                let count = if fault == Fault::WrongCount { n + 1 } else { n };
                out.extend_from_slice(&(count as i32).to_le_bytes());
                for (i, f) in e.forces.iter().enumerate() {
                    for x in f.iter() {
                        let v = if fault == Fault::NanAt(log.evaluations) && i == 7 {
                            f64::NAN
                        } else {
                            x * b / ha
                        };
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
                // ASE's way: the virial transposed, row by row (W column by column).
                let wire: Vec<f64> = match fault {
                    Fault::Virial(v) => v.to_vec(),
                    _ => {
                        let w = e.virial / ha;
                        (0..3).flat_map(|i| (0..3).map(move |j| w[(j, i)])).collect()
                    }
                };
                for x in wire {
                    out.extend_from_slice(&x.to_le_bytes());
                }
                let extra = br#"{"client":"test"}"#;
                out.extend_from_slice(&(extra.len() as i32).to_le_bytes());
                out.extend_from_slice(extra);
                if s.write_all(&out).is_err() {
                    return log;
                }
            }
            "EXIT" => return log,
            other => panic!("client got unexpected header {other:?}"),
        }
    }
}

fn socket_name(tag: &str) -> String {
    format!("amorph_test_{}_{tag}", std::process::id())
}

/// Connect now (the listener's backlog accepts it before the server calls accept), serve in a thread.
fn spawn_unix(path: PathBuf, fault: Fault, units: IpiUnits) -> JoinHandle<ClientLog> {
    let stream = UnixStream::connect(&path).unwrap();
    std::thread::spawn(move || client(stream, fault, units))
}

fn unix_server(tag: &str, options: IpiOptions) -> (IpiCalculator, PathBuf) {
    let address = IpiAddress::parse(&format!("ipi:unix:{}", socket_name(tag))).unwrap();
    let IpiAddress::Unix(path) = address.clone() else {
        unreachable!()
    };
    (IpiCalculator::bind(address, options).unwrap(), path)
}

fn quick() -> IpiOptions {
    IpiOptions {
        connect_timeout: Duration::from_secs(10),
        step_timeout: Some(Duration::from_secs(20)),
        ..IpiOptions::default()
    }
}

fn assert_close(a: &amorph_md::Evaluation, b: &amorph_md::Evaluation, tol: f64) {
    assert!(
        (a.energy - b.energy).abs() <= tol * b.energy.abs(),
        "{} vs {}",
        a.energy,
        b.energy
    );
    let fscale = b.forces.iter().map(|f| f.norm()).fold(0.0, f64::max);
    for (x, y) in a.forces.iter().zip(&b.forces) {
        assert!((x - y).norm() <= tol * fscale, "{x} vs {y}");
    }
    let vscale = b.virial.abs().max();
    assert!(
        (a.virial - b.virial).abs().max() <= tol * vscale,
        "{} vs {}",
        a.virial,
        b.virial
    );
}

fn evaluate_structure(calc: &mut dyn Calculator, s: &Structure) -> amorph_md::Result<amorph_md::Evaluation> {
    let system = System::from_structure(s)?;
    evaluate(calc, &system.configuration())
}

#[test]
fn unix_round_trip_equals_the_native_calculation() {
    let s = cubic();
    let native = evaluate_structure(&mut lj(), &s).unwrap();
    let (mut ipi, path) = unix_server("roundtrip", quick());
    assert!(path.starts_with("/tmp") && path.to_string_lossy().contains("/ipi_amorph_test_"));
    let client = spawn_unix(path.clone(), Fault::None, IpiUnits::CODATA_2018);
    let got = evaluate_structure(&mut ipi, &s).unwrap();
    assert_close(&got, &native, 1e-12);
    // Virial sign: Lennard-Jones argon squeezed to this density pushes outwards.
    assert!(got.virial.trace() != 0.0);
    assert_eq!(got.virial.trace().signum(), native.virial.trace().signum());
    // A second identical request is answered from memory; a moved atom goes to the client.
    let _ = evaluate_structure(&mut ipi, &s).unwrap();
    assert_eq!(ipi.evaluations(), 1);
    let mut moved = s.clone();
    moved.positions_mut()[0] += Vector3::new(0.05, 0.0, 0.0);
    let got = evaluate_structure(&mut ipi, &moved).unwrap();
    assert_close(&got, &evaluate_structure(&mut lj(), &moved).unwrap(), 1e-12);
    assert_eq!(ipi.evaluations(), 2);
    drop(ipi);
    let log = client.join().unwrap();
    assert_eq!(log.evaluations, 2);
    assert!(log.inverse_error < 1e-14, "{}", log.inverse_error);
    assert_eq!(log.lower_h, 0.0);
    assert!(log.wrapped);
    assert!(!path.exists(), "the socket file is removed when the server goes");
}

#[test]
fn tcp_with_init_and_a_rotated_triclinic_cell() {
    // A triclinic cell not in i-PI's orientation: it is rotated for the client and back.
    let m = Matrix3::new(16.0, 0.9, -0.6, 1.2, 15.5, 0.8, -0.5, 1.1, 16.3);
    let s = crystal(Lattice::new(m).unwrap());
    // Unwrapped positions: shift some atoms by whole cell vectors.
    let mut s2 = s.clone();
    for i in (0..s.len()).step_by(5) {
        s2.positions_mut()[i] += Vector3::new(16.0, 0.9, -0.6) * 2.0 - Vector3::new(-0.5, 1.1, 16.3);
    }
    let native = evaluate_structure(&mut lj(), &s).unwrap();
    let options = IpiOptions {
        init_string: "amorph test".into(),
        units: IpiUnits::ASE,
        ..quick()
    };
    let address = IpiAddress::parse("ipi:tcp:127.0.0.1:0").unwrap();
    let mut ipi = IpiCalculator::bind(address, options).unwrap();
    let port = ipi.local_port().unwrap();
    let client = std::thread::spawn(move || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client(s, Fault::NeedInit, IpiUnits::ASE)
    });
    let got = evaluate_structure(&mut ipi, &s2).unwrap();
    assert_close(&got, &native, 1e-11);
    assert!((got.virial - got.virial.transpose()).abs().max() < 1e-11 * got.virial.abs().max());
    drop(ipi);
    let log = client.join().unwrap();
    assert_eq!(log.init.as_deref(), Some("amorph test"));
    assert_eq!(log.lower_h, 0.0);
    assert!(log.wrapped);
}

#[test]
fn the_virial_arrives_transposed_and_upper_triangles_are_completed() {
    let s = cubic();
    let ha = IpiUnits::CODATA_2018.hartree_ev;
    // A full (asymmetric) matrix on the wire, row by row, is Wᵀ.
    let (mut ipi, path) = unix_server("virial_full", quick());
    let wire = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let client = spawn_unix(path, Fault::Virial(wire), IpiUnits::CODATA_2018);
    let got = evaluate_structure(&mut ipi, &s).unwrap();
    let expected = Matrix3::from_row_slice(&wire).transpose() * ha;
    assert!(
        (got.virial - expected).abs().max() < 1e-12 * ha * 9.0,
        "{}",
        got.virial
    );
    drop(ipi);
    client.join().unwrap();
    // LAMMPS sends xx, xy, xz / yy, yz / zz in the upper triangle only.
    let (mut ipi, path) = unix_server("virial_upper", quick());
    let wire = [1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0, 0.0, 9.0];
    let client = spawn_unix(path, Fault::Virial(wire), IpiUnits::CODATA_2018);
    let got = evaluate_structure(&mut ipi, &s).unwrap();
    let expected = Matrix3::new(1.0, 2.0, 3.0, 2.0, 5.0, 6.0, 3.0, 6.0, 9.0) * ha;
    assert!(
        (got.virial - expected).abs().max() < 1e-12 * ha * 9.0,
        "{}",
        got.virial
    );
    drop(ipi);
    client.join().unwrap();
}

/// Run one evaluation against a misbehaving client; returns the server, whose `last_error` is set.
fn failing(tag: &str, fault: Fault, options: IpiOptions) -> IpiCalculator {
    let s = cubic();
    let (mut ipi, path) = unix_server(tag, options);
    let client = spawn_unix(path, fault, IpiUnits::CODATA_2018);
    let err = evaluate_structure(&mut ipi, &s).unwrap_err();
    assert!(matches!(err, amorph_md::Error::Ipi(_)), "{err}");
    assert!(!ipi.is_connected(), "a failed client is dropped");
    client.join().unwrap();
    let typed = ipi.last_error().map(|e| e.to_string()).unwrap();
    assert_eq!(err.to_string(), typed);
    ipi
}

#[test]
fn nan_forces_are_a_typed_error() {
    let ipi = failing("nan", Fault::NanAt(1), quick());
    assert!(matches!(ipi.last_error(), Some(IpiError::NonFinite("force"))));
}

#[test]
fn a_wrong_atom_count_is_a_typed_error() {
    let ipi = failing("count", Fault::WrongCount, quick());
    assert!(matches!(
        ipi.last_error(),
        Some(IpiError::AtomCount {
            expected: 108,
            got: 109
        })
    ));
}

#[test]
fn garbage_headers_are_a_typed_error() {
    let ipi = failing("garbage", Fault::Garbage, quick());
    let Some(IpiError::UnexpectedHeader { got, .. }) = ipi.last_error() else {
        panic!("{:?}", ipi.last_error())
    };
    assert!(got.contains("\\x00\\x01garbage"), "{got}");
}

#[test]
fn a_client_dying_mid_step_without_a_successor_is_a_typed_error() {
    let options = IpiOptions {
        connect_timeout: Duration::from_millis(300),
        ..quick()
    };
    // The first connection is accepted within the 300 ms; the successor never comes.
    let ipi = failing("drop", Fault::DropAt(1), options);
    let Some(IpiError::Disconnected { phase, waited }) = ipi.last_error() else {
        panic!("{:?}", ipi.last_error())
    };
    assert!(phase.contains("forces"), "{phase}");
    assert!(*waited >= Duration::from_millis(300));
}

#[test]
fn a_silent_client_times_out() {
    let options = IpiOptions {
        step_timeout: Some(Duration::from_millis(200)),
        ..quick()
    };
    let ipi = failing("slow", Fault::Slow(Duration::from_millis(1500)), options);
    assert!(matches!(ipi.last_error(), Some(IpiError::Timeout { .. })));
}

#[test]
fn no_client_at_all_is_a_typed_error() {
    let options = IpiOptions {
        connect_timeout: Duration::from_millis(100),
        ..quick()
    };
    let (mut ipi, _path) = unix_server("nobody", options);
    let s = cubic();
    assert!(evaluate_structure(&mut ipi, &s).is_err());
    assert!(matches!(ipi.last_error(), Some(IpiError::NoClient { .. })));
}

#[test]
fn a_live_socket_is_not_stolen_and_a_stale_one_is_replaced() {
    let (ipi, path) = unix_server("busy", quick());
    let again = IpiCalculator::bind(IpiAddress::Unix(path.clone()), quick());
    assert!(matches!(again, Err(IpiError::Bind { .. })));
    drop(ipi);
    // A leftover file nobody listens on.
    let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(stale);
    assert!(path.exists());
    let ipi = IpiCalculator::bind(IpiAddress::Unix(path.clone()), quick()).unwrap();
    drop(ipi);
}

#[test]
fn a_dropped_client_is_replaced_and_the_configuration_resent() {
    let s = cubic();
    let native = evaluate_structure(&mut lj(), &s).unwrap();
    let (mut ipi, path) = unix_server("reconnect", quick());
    let first = spawn_unix(path.clone(), Fault::DropAt(1), IpiUnits::CODATA_2018);
    let p2 = path.clone();
    let second = std::thread::spawn(move || {
        // Connect once the first client has gone.
        first.join().unwrap();
        client(
            UnixStream::connect(&p2).unwrap(),
            Fault::None,
            IpiUnits::CODATA_2018,
        )
    });
    let got = evaluate_structure(&mut ipi, &s).unwrap();
    assert_close(&got, &native, 1e-12);
    assert_eq!(ipi.reconnections(), 1);
    drop(ipi);
    assert_eq!(second.join().unwrap().evaluations, 1);
}

fn nvt(calc: Box<dyn Calculator>) -> Simulation {
    let mut system = System::from_structure(&cubic()).unwrap();
    system.set_maxwell_boltzmann(60.0, 11).unwrap();
    let mut md = Simulation::new(system, calc, 5.0, Thermostat::nose_hoover(200.0, 3).unwrap(), 11).unwrap();
    md.set_temperature(60.0).unwrap();
    md
}

#[test]
fn nvt_through_the_socket_follows_the_native_run() {
    let mut native = nvt(Box::new(lj()));
    native.run(100).unwrap();
    let (ipi, path) = unix_server("nvt", quick());
    let client = spawn_unix(path, Fault::None, IpiUnits::CODATA_2018);
    let mut md = nvt(Box::new(ipi));
    md.run(100).unwrap();
    let dmax = native
        .system()
        .positions
        .iter()
        .zip(&md.system().positions)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    assert!(dmax < 1e-9, "positions differ by {dmax} Å after 100 steps");
    assert!((md.evaluation().energy - native.evaluation().energy).abs() < 1e-10);
    drop(md);
    assert_eq!(client.join().unwrap().evaluations, 101);
}

#[test]
fn a_failing_client_keeps_the_last_good_frame_and_the_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let mut reference = nvt(Box::new(lj()));
    reference.run(30).unwrap();

    let (ipi, path) = unix_server(
        "resume",
        IpiOptions {
            connect_timeout: Duration::from_millis(500),
            ..quick()
        },
    );
    // Evaluation 1 is the starting configuration, so NaN at 21 is step 20.
    let client = spawn_unix(path.clone(), Fault::NanAt(21), IpiUnits::CODATA_2018);
    let mut md = nvt(Box::new(ipi));
    md.run(10).unwrap();
    md.checkpoint(&ckpt).unwrap();
    let err = md.run(20).unwrap_err();
    assert!(err.to_string().contains("non-finite force"), "{err}");
    // Rolled back to the last good step; its forces came from memory, not the dead client.
    assert_eq!(md.step(), 19);
    assert!(md.evaluation().is_finite());
    md.checkpoint(&ckpt).unwrap();
    drop(md);
    client.join().unwrap();

    // Resume with a healthy client: same trajectory as the uninterrupted native run.
    let (ipi, path) = unix_server("resume", quick());
    let client = spawn_unix(path, Fault::None, IpiUnits::CODATA_2018);
    let mut md = Simulation::restart(&ckpt, Box::new(ipi)).unwrap();
    md.run(11).unwrap();
    assert_eq!(md.step(), 30);
    let dmax = reference
        .system()
        .positions
        .iter()
        .zip(&md.system().positions)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    assert!(dmax < 1e-9, "{dmax}");
    drop(md);
    client.join().unwrap();
}

#[test]
fn a_shared_server_serves_consecutive_simulations_with_one_client() {
    let (ipi, path) = unix_server("shared", quick());
    let client = spawn_unix(path, Fault::None, IpiUnits::CODATA_2018);
    let shared = SharedIpiCalculator::new(ipi);
    let mut first = nvt(Box::new(shared.clone()));
    first.run(5).unwrap();
    drop(first);
    // The client is still there for the next stage.
    let mut second = nvt(Box::new(shared.clone()));
    second.run(5).unwrap();
    drop(second);
    assert_eq!(shared.with(|c| c.reconnections()).unwrap(), 0);
    // Each stage: its starting configuration and 5 steps.
    assert_eq!(shared.with(|c| c.evaluations()).unwrap(), 12);
    drop(shared);
    assert_eq!(client.join().unwrap().evaluations, 12);
}

/// The cubic crystal with atom 0 moved by `k` × 0.01 Å, so that each `k` is a new configuration.
fn nudged(k: usize) -> Structure {
    let mut s = cubic();
    s.positions_mut()[0] += Vector3::new(0.01 * k as f64, 0.0, 0.0);
    s
}

fn max_distance(a: &Simulation, b: &Simulation) -> f64 {
    a.system()
        .positions
        .iter()
        .zip(&b.system().positions)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

/// Ten NVT steps through a server named `name` whose client behaves as `fault`: the trajectory must
/// equal the native one; returns what the client saw.
fn ten_steps_through(name: &str, fault: Fault) -> ClientLog {
    let mut native = nvt(Box::new(lj()));
    native.run(10).unwrap();
    let (ipi, path) = unix_server(name, quick());
    let client = spawn_unix(path, fault, IpiUnits::CODATA_2018);
    let mut md = nvt(Box::new(ipi));
    md.run(10).unwrap();
    assert!(max_distance(&md, &native) < 1e-9);
    drop(md);
    client.join().unwrap()
}

#[test]
fn after_the_first_evaluations_positions_and_getforce_go_out_together() {
    let log = ten_steps_through("pipelined", Fault::None);
    assert_eq!(log.evaluations, 11);
    // The first evaluation polls twice (READY, HAVEDATA), the second once (READY again after
    // GETFORCE, so the client may be pipelined), the other nine not at all.
    assert_eq!(log.statuses, 3);
}

#[test]
fn a_client_that_asks_for_init_after_every_evaluation_is_polled_every_time() {
    let log = ten_steps_through("init_every", Fault::InitEveryStep);
    assert_eq!(log.evaluations, 11);
    assert_eq!(log.inits, 11);
    // NEEDINIT, READY after INIT, HAVEDATA: three polls per evaluation.
    assert_eq!(log.statuses, 33);
}

#[test]
fn a_client_refusing_the_pipelined_exchange_is_a_typed_error_and_later_clients_are_polled() {
    let options = IpiOptions {
        connect_timeout: Duration::from_millis(500),
        ..quick()
    };
    let (mut ipi, path) = unix_server("refuse", options);
    let first = spawn_unix(path.clone(), Fault::WrongReplyAt(3), IpiUnits::CODATA_2018);
    for k in 0..2 {
        evaluate_structure(&mut ipi, &nudged(k)).unwrap();
    }
    let err = evaluate_structure(&mut ipi, &nudged(2)).unwrap_err();
    assert!(err.to_string().contains("without STATUS polls"), "{err}");
    let Some(IpiError::UnexpectedHeader { got, expected, .. }) = ipi.last_error() else {
        panic!("{:?}", ipi.last_error())
    };
    assert_eq!((got.as_str(), *expected), ("'HAVEDATA'", "FORCEREADY"));
    assert!(!ipi.is_connected());
    first.join().unwrap();

    let second = spawn_unix(path, Fault::None, IpiUnits::CODATA_2018);
    for k in 2..5 {
        let got = evaluate_structure(&mut ipi, &nudged(k)).unwrap();
        assert_close(&got, &evaluate_structure(&mut lj(), &nudged(k)).unwrap(), 1e-12);
    }
    drop(ipi);
    let log = second.join().unwrap();
    assert_eq!(log.evaluations, 3);
    assert_eq!(log.statuses, 6, "READY and HAVEDATA polled for every evaluation");
}

#[test]
fn a_silent_client_times_out_in_the_pipelined_exchange() {
    let options = IpiOptions {
        step_timeout: Some(Duration::from_millis(200)),
        ..quick()
    };
    let (mut ipi, path) = unix_server("slow_pipelined", options);
    let client = spawn_unix(
        path,
        Fault::SlowForcesAt(3, Duration::from_millis(1500)),
        IpiUnits::CODATA_2018,
    );
    for k in 0..2 {
        evaluate_structure(&mut ipi, &nudged(k)).unwrap();
    }
    assert!(evaluate_structure(&mut ipi, &nudged(2)).is_err());
    let Some(IpiError::Timeout { phase, .. }) = ipi.last_error() else {
        panic!("{:?}", ipi.last_error())
    };
    assert!(phase.contains("forces"), "{phase}");
    assert!(!ipi.is_connected());
    drop(ipi);
    client.join().unwrap();
}

#[test]
fn a_client_dropped_mid_run_is_replaced_with_a_full_handshake() {
    let mut native = nvt(Box::new(lj()));
    native.run(6).unwrap();
    let (ipi, path) = unix_server("redo", quick());
    // The first client dies after receiving the positions of evaluation 4 (pipelined by then).
    let first = spawn_unix(path.clone(), Fault::DropAt(4), IpiUnits::CODATA_2018);
    let p2 = path.clone();
    let second = std::thread::spawn(move || {
        first.join().unwrap();
        client(
            UnixStream::connect(&p2).unwrap(),
            Fault::NeedInit,
            IpiUnits::CODATA_2018,
        )
    });
    let shared = SharedIpiCalculator::new(ipi);
    let mut md = nvt(Box::new(shared.clone()));
    md.run(6).unwrap();
    assert!(max_distance(&md, &native) < 1e-9);
    assert_eq!(shared.with(|c| c.reconnections()).unwrap(), 1);
    drop(md);
    drop(shared);
    let log = second.join().unwrap();
    // Evaluations 4 to 7 (the start and 6 steps), after STATUS → NEEDINIT → INIT on the new connection.
    assert_eq!(log.evaluations, 4);
    assert_eq!(log.inits, 1);
}
