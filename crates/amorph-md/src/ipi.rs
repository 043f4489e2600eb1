//! External force engines through the i-PI socket protocol.
//!
//! [`IpiCalculator`] is a [`Calculator`] that plays the *server* side of the i-PI protocol: it listens
//! on a UNIX socket (`/tmp/ipi_NAME`, where i-PI puts it) or a TCP port, and every `compute` sends the
//! configuration to the connected *client* — ASE's `SocketClient` (so any ASE calculator: CHGNet, MACE,
//! VASP, GPAW), LAMMPS `fix ipi`, CP2K, Quantum ESPRESSO, FHI-aims — and reads back its energy,
//! forces and virial.
//!
//! # The protocol, as spoken here
//!
//! Every message starts with a 12-byte ASCII header padded with spaces; numbers are native
//! (little-endian) `f64` and `i32`. Atomic units on the wire (Bohr, Hartree), amorph units (Å, eV)
//! on this side; the conversion constants are an [`IpiUnits`] (CODATA 2018 by default).
//!
//! | server sends | client answers |
//! |---|---|
//! | `STATUS` | `READY`, `NEEDINIT` or `HAVEDATA` |
//! | `INIT`, i32 bead index (0), i32 length, init string | — |
//! | `POSDATA`, 9 f64 cell `h`, 9 f64 `h⁻¹`, i32 N, 3N f64 positions | — |
//! | `GETFORCE` | `FORCEREADY`, f64 energy, i32 N, 3N f64 forces, 9 f64 virial, i32 length, extra string |
//! | `EXIT` (when the calculator is dropped) | — |
//!
//! The cell matrix `h` has the lattice vectors as its **columns** and is upper triangular (a along x,
//! b in the xy plane), sent row by row; `h⁻¹` likewise. A cell that is not in that orientation is
//! rotated into it before sending (forces and virial are rotated back), and positions are wrapped
//! into the cell (LAMMPS only folds atoms back by one period). The virial `W = Σ r ⊗ f` (Hartree,
//! positive under compression) arrives column by column, as ASE's client sends it; an upper-triangular
//! one (LAMMPS `fix ipi` sends only xx, yy, zz, xy, xz, yz) is completed by symmetry.
//!
//! # Round trips
//!
//! A new connection gets the full exchange: `STATUS` (→ `READY`, or `NEEDINIT` → `INIT`), `POSDATA`,
//! `STATUS` (→ `HAVEDATA`), `GETFORCE` (→ `FORCEREADY`). The `STATUS` of the second evaluation shows
//! the state the client returns to after answering `GETFORCE`; if it is `READY` (ASE's
//! `SocketClient`, LAMMPS `fix ipi`, i-PI's drivers: loops that answer whichever message arrives),
//! every later evaluation is `POSDATA` and `GETFORCE` in one write and `FORCEREADY` read back: one
//! round trip instead of three, which is what limits the step rate with a fast client. A client that
//! asks for `INIT` again is polled every time. A client that answers the pipelined pair with anything
//! but `FORCEREADY` is an [`IpiError::UnexpectedHeader`]; later clients of the same server then get
//! the full exchange.
//!
//! # Failures
//!
//! A client that closes the connection is waited for again (up to
//! [`IpiOptions::connect_timeout`], at most [`IpiOptions::max_reconnects`] times per evaluation) and the
//! configuration is resent, so a restarted engine picks up where the old one died. Everything else is
//! an [`IpiError`]: no client, a timeout, a header that is not the protocol's, a wrong atom count,
//! non-finite numbers. After an error the connection is dropped; the calculator stays usable and the
//! next `compute` waits for a (new) client. Through the [`Calculator`] trait the error arrives as
//! [`Error::Ipi`]; [`IpiCalculator::last_error`] keeps the last one.
//!
//! The last successful evaluation is remembered together with its exact input: asking again for the
//! very same configuration (as a [`Simulation`](crate::Simulation) does when it rolls back to its last
//! good step after a failure) answers from memory, without the client. Clients are assumed to be
//! deterministic.
//!
//! ```no_run
//! use amorph_md::ipi::{IpiAddress, IpiCalculator, IpiOptions};
//! use amorph_md::{Simulation, System, Thermostat};
//! use amorph_structure::io;
//!
//! let s = io::read_structure("Li2S.vasp")?;
//! // Start e.g. `python examples/ipi_chgnet.py Li2S.vasp --unix li2s` after this line.
//! let ipi = IpiCalculator::bind("ipi:unix:li2s".parse::<IpiAddress>()?, IpiOptions::default())?;
//! let mut system = System::from_structure(&s)?;
//! system.set_maxwell_boltzmann(1000.0, 7)?;
//! let mut md = Simulation::new(system, Box::new(ipi), 2.0, Thermostat::nose_hoover(200.0, 3)?, 7)?;
//! md.run(100)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nalgebra::{Matrix3, Vector3};

use crate::calculator::{Calculator, Configuration, Evaluation};
use crate::error::{Error, Result};

/// Length of a protocol header, bytes.
pub const HEADER_LEN: usize = 12;

/// Longest "extra" string accepted from a client, bytes.
const MAX_EXTRA: i32 = 64 << 20;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpiAddress {
    /// A UNIX-domain socket at this path (`/tmp/ipi_NAME` for a name, as i-PI and ASE do).
    Unix(PathBuf),
    /// A TCP socket; clients connect to `host:port`.
    Tcp {
        /// Host name or address to bind (e.g. `localhost`, `127.0.0.1`).
        host: String,
        /// Port.
        port: u16,
    },
}

impl IpiAddress {
    /// The UNIX socket i-PI and its clients use for `name`: `/tmp/ipi_NAME`. A name that contains a
    /// `/` is taken as the socket's path.
    pub fn unix(name: &str) -> Self {
        if name.contains('/') {
            IpiAddress::Unix(PathBuf::from(name))
        } else {
            IpiAddress::Unix(PathBuf::from(format!("/tmp/ipi_{name}")))
        }
    }

    /// Parse `ipi:unix:NAME` or `ipi:tcp:HOST:PORT` (the `ipi:` prefix is optional).
    pub fn parse(spec: &str) -> Result<Self, IpiError> {
        let bad = |why: &str| {
            IpiError::Spec(format!(
                "'{spec}': {why} (expected ipi:unix:NAME or ipi:tcp:HOST:PORT)"
            ))
        };
        let rest = spec.strip_prefix("ipi:").unwrap_or(spec);
        if let Some(name) = rest.strip_prefix("unix:") {
            if name.is_empty() {
                return Err(bad("empty socket name"));
            }
            Ok(IpiAddress::unix(name))
        } else if let Some(hp) = rest.strip_prefix("tcp:") {
            let (host, port) = hp.rsplit_once(':').ok_or_else(|| bad("no port"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(bad("empty host"));
            }
            let port: u16 = port
                .parse()
                .map_err(|_| bad("the port is not a number in 0–65535"))?;
            Ok(IpiAddress::Tcp {
                host: host.to_string(),
                port,
            })
        } else {
            Err(bad("unknown transport"))
        }
    }

    /// True for strings that look like an i-PI address (`ipi:…`), so a command line can tell them
    /// from other calculator names.
    pub fn is_spec(s: &str) -> bool {
        s.starts_with("ipi:")
    }
}

impl FromStr for IpiAddress {
    type Err = IpiError;
    fn from_str(s: &str) -> Result<Self, IpiError> {
        IpiAddress::parse(s)
    }
}

impl fmt::Display for IpiAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpiAddress::Unix(p) => write!(f, "unix:{}", p.display()),
            IpiAddress::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

/// Conversion constants between amorph's units and the protocol's atomic units.
///
/// Clients convert with their own constants, which differ in the 8th–10th digit; pick the client's to
/// make a round trip exact to rounding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IpiUnits {
    /// One Bohr in Å.
    pub bohr_angstrom: f64,
    /// One Hartree in eV.
    pub hartree_ev: f64,
}

impl IpiUnits {
    /// CODATA 2018 (the default).
    pub const CODATA_2018: IpiUnits = IpiUnits {
        bohr_angstrom: 0.529_177_210_903,
        hartree_ev: 27.211_386_245_988,
    };
    /// ASE's `ase.units.Bohr` and `ase.units.Ha` (derived from CODATA 2014), with which
    /// `ase.calculators.socketio` converts.
    pub const ASE: IpiUnits = IpiUnits {
        bohr_angstrom: 0.529_177_210_563_841_1,
        hartree_ev: 27.211_386_024_367_243,
    };
    /// LAMMPS `fix ipi` with `units metal`: Bohr = 0.52917721 Å, Hartree = k_B/3.1668152e-6 with
    /// LAMMPS's k_B = 8.617343e-5 eV/K.
    pub const LAMMPS_METAL: IpiUnits = IpiUnits {
        bohr_angstrom: 0.529_177_21,
        hartree_ev: 8.617_343e-5 / 3.166_815_2e-6,
    };

    /// `codata2018`, `ase` or `lammps`.
    pub fn by_name(name: &str) -> Result<Self, IpiError> {
        match name.to_ascii_lowercase().as_str() {
            "codata2018" | "codata" => Ok(Self::CODATA_2018),
            "ase" => Ok(Self::ASE),
            "lammps" | "lammps-metal" => Ok(Self::LAMMPS_METAL),
            _ => Err(IpiError::Spec(format!(
                "unknown unit set '{name}' (known: codata2018, ase, lammps)"
            ))),
        }
    }
}

impl Default for IpiUnits {
    fn default() -> Self {
        Self::CODATA_2018
    }
}

/// Settings of an [`IpiCalculator`].
#[derive(Debug, Clone)]
pub struct IpiOptions {
    /// How long to wait for a client to connect, first and after a disconnection.
    pub connect_timeout: Duration,
    /// How long one evaluation (and any single read or write) may take before the client is declared
    /// dead; `None` waits for ever.
    pub step_timeout: Option<Duration>,
    /// How many times one evaluation waits for a new client after the connected one drops.
    pub max_reconnects: u32,
    /// Unit conversion constants.
    pub units: IpiUnits,
    /// The string sent with `INIT` to clients that ask for initialisation.
    pub init_string: String,
}

impl Default for IpiOptions {
    fn default() -> Self {
        IpiOptions {
            connect_timeout: Duration::from_secs(600),
            step_timeout: Some(Duration::from_secs(3600)),
            max_reconnects: 3,
            units: IpiUnits::default(),
            init_string: String::new(),
        }
    }
}

/// What can go wrong between the server and its client.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IpiError {
    /// A malformed address or option.
    #[error("i-PI address {0}")]
    Spec(String),
    /// The socket cannot be created.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        source: Arc<io::Error>,
    },
    /// No client connected in time.
    #[error("no i-PI client connected to {address} within {:.1} s", waited.as_secs_f64())]
    NoClient {
        /// The address.
        address: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The client closed the connection and no new client came.
    #[error(
        "the i-PI client disconnected while {phase}, and no new client connected within {:.1} s",
        waited.as_secs_f64()
    )]
    Disconnected {
        /// What the server was doing.
        phase: &'static str,
        /// How long we waited for a new client.
        waited: Duration,
    },
    /// The client did not answer in time.
    #[error("the i-PI client did not answer within {:.1} s while {phase}", after.as_secs_f64())]
    Timeout {
        /// What the server was doing.
        phase: &'static str,
        /// The time limit.
        after: Duration,
    },
    /// The client sent something that is not the protocol's.
    #[error("the i-PI client sent {got} while {phase} (expected {expected})")]
    UnexpectedHeader {
        /// What the server was doing.
        phase: &'static str,
        /// The acceptable answers.
        expected: &'static str,
        /// What came, quoted and escaped.
        got: String,
    },
    /// Forces for a different number of atoms.
    #[error("the i-PI client returned {got} atoms' forces for a configuration of {expected} atoms")]
    AtomCount {
        /// Atoms sent.
        expected: usize,
        /// Atoms received.
        got: i64,
    },
    /// NaN or infinite energy, forces or virial.
    #[error("the i-PI client returned a non-finite {0}")]
    NonFinite(&'static str),
    /// An "extra" string longer than the limit, or negative.
    #[error("the i-PI client announced an extra string of {0} bytes")]
    BadLength(i64),
    /// A configuration the protocol cannot carry (a left-handed cell, too many atoms).
    #[error("{0}")]
    Unsupported(String),
    /// Another I/O failure.
    #[error("i-PI socket error while {phase}: {source}")]
    Io {
        /// What the server was doing.
        phase: &'static str,
        /// The cause.
        source: Arc<io::Error>,
    },
}

/// What the client answered for one configuration, in amorph units.
#[derive(Debug, Clone, PartialEq)]
pub struct IpiReply {
    /// Potential energy, eV.
    pub energy: f64,
    /// Forces, eV/Å.
    pub forces: Vec<Vector3<f64>>,
    /// Virial `Σ r ⊗ f`, eV.
    pub virial: Matrix3<f64>,
    /// The client's extra string (often JSON, or empty).
    pub extra: String,
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Tcp(s) => {
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

/// The last evaluation and the exact input it was for.
struct Memo {
    key: Vec<u64>,
    energy: f64,
    forces: Vec<Vector3<f64>>,
    virial: Matrix3<f64>,
}

/// How much polling the connected client still needs; see "Round trips" in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// A new connection: the full exchange, with STATUS polls and INIT on request.
    Fresh,
    /// One evaluation answered; the next STATUS shows which state the client returns to after
    /// GETFORCE.
    Answered,
    /// The client returns to READY after GETFORCE: POSDATA and GETFORCE go out together.
    Pipelined,
    /// The client asks for INIT again after GETFORCE (or pipelining is off): full exchange every time.
    Polled,
}

/// A [`Calculator`] whose forces come from an external engine through the i-PI socket protocol (the
/// server side); see the [module documentation](self).
pub struct IpiCalculator {
    address: IpiAddress,
    listener: Listener,
    /// The connection, read through a buffer (a reply arrives in few reads, not one per field).
    stream: Option<BufReader<Stream>>,
    options: IpiOptions,
    /// What the connected client has shown of its protocol states.
    flow: Flow,
    /// False once a client answered POSDATA+GETFORCE with anything but FORCEREADY: later connections
    /// get the full exchange.
    pipelining: bool,
    /// Message being built or read; reused so a step allocates nothing for the wire.
    buf: Vec<u8>,
    memo: Option<Memo>,
    evaluations: u64,
    reconnections: u64,
    last_error: Option<IpiError>,
}

impl fmt::Debug for IpiCalculator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpiCalculator")
            .field("address", &self.address)
            .field("connected", &self.stream.is_some())
            .field("evaluations", &self.evaluations)
            .finish()
    }
}

fn header(name: &str) -> [u8; HEADER_LEN] {
    let mut h = [b' '; HEADER_LEN];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h
}

/// A header as text for error messages: trailing padding removed, anything unprintable escaped.
fn show_header(h: &[u8]) -> String {
    let s: String = h
        .iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    format!("'{}'", s.trim_end())
}

fn io_error(phase: &'static str, e: io::Error, timeout: Option<Duration>) -> IpiError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => IpiError::Timeout {
            phase,
            after: timeout.unwrap_or_default(),
        },
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => IpiError::Disconnected {
            phase,
            waited: Duration::ZERO,
        },
        _ => IpiError::Io {
            phase,
            source: Arc::new(e),
        },
    }
}

/// The rotation taking the cell (rows a, b, c) to i-PI's orientation (a along x, b in the xy plane),
/// or `None` when it is already there.
fn canonical_rotation(m: &Matrix3<f64>) -> std::result::Result<Option<Matrix3<f64>>, IpiError> {
    if m.determinant() <= 0.0 {
        return Err(IpiError::Unsupported(
            "the i-PI protocol needs a right-handed cell (positive a·(b×c))".into(),
        ));
    }
    if m[(0, 1)] == 0.0 && m[(0, 2)] == 0.0 && m[(1, 2)] == 0.0 && m[(0, 0)] > 0.0 && m[(1, 1)] > 0.0 {
        return Ok(None);
    }
    let a: Vector3<f64> = m.row(0).transpose();
    let b: Vector3<f64> = m.row(1).transpose();
    let x = a.normalize();
    let z = a.cross(&b).normalize();
    let y = z.cross(&x);
    Ok(Some(Matrix3::from_rows(&[
        x.transpose(),
        y.transpose(),
        z.transpose(),
    ])))
}

impl IpiCalculator {
    /// Listen on `address`. A stale UNIX socket file (nobody listening) is replaced; a live one is an
    /// error. Clients may connect from now on; the first `compute` waits for one.
    pub fn bind(address: IpiAddress, options: IpiOptions) -> Result<Self, IpiError> {
        let bind_err = |source: io::Error| IpiError::Bind {
            address: address.to_string(),
            source: Arc::new(source),
        };
        let listener = match &address {
            IpiAddress::Unix(path) => {
                if path.exists() {
                    if UnixStream::connect(path).is_ok() {
                        return Err(bind_err(io::Error::new(
                            io::ErrorKind::AddrInUse,
                            "another server is listening there",
                        )));
                    }
                    std::fs::remove_file(path).map_err(bind_err)?;
                }
                Listener::Unix(UnixListener::bind(path).map_err(bind_err)?)
            }
            IpiAddress::Tcp { host, port } => {
                let addrs: Vec<_> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(bind_err)?
                    .collect();
                Listener::Tcp(TcpListener::bind(&addrs[..]).map_err(bind_err)?)
            }
        };
        match &listener {
            Listener::Unix(l) => l.set_nonblocking(true),
            Listener::Tcp(l) => l.set_nonblocking(true),
        }
        .map_err(bind_err)?;
        Ok(IpiCalculator {
            address,
            listener,
            stream: None,
            options,
            flow: Flow::Fresh,
            pipelining: true,
            buf: Vec::new(),
            memo: None,
            evaluations: 0,
            reconnections: 0,
            last_error: None,
        })
    }

    /// The address listened on (for TCP with port 0, see [`local_port`](Self::local_port)).
    pub fn address(&self) -> &IpiAddress {
        &self.address
    }

    /// The TCP port actually bound (useful after binding port 0), or `None` for a UNIX socket.
    pub fn local_port(&self) -> Option<u16> {
        match &self.listener {
            Listener::Tcp(l) => l.local_addr().ok().map(|a| a.port()),
            Listener::Unix(_) => None,
        }
    }

    /// The settings.
    pub fn options(&self) -> &IpiOptions {
        &self.options
    }

    /// Evaluations answered by a client (not from memory).
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// Times a new client was accepted after the previous one dropped.
    pub fn reconnections(&self) -> u64 {
        self.reconnections
    }

    /// Whether a client is connected now.
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// The error of the last failed evaluation, typed.
    pub fn last_error(&self) -> Option<&IpiError> {
        self.last_error.as_ref()
    }

    /// Wait (up to [`IpiOptions::connect_timeout`]) until a client is connected.
    pub fn wait_for_client(&mut self) -> Result<(), IpiError> {
        if self.stream.is_none() {
            self.accept()?;
        }
        Ok(())
    }

    fn accept(&mut self) -> Result<(), IpiError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            let accepted = match &self.listener {
                Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            };
            match accepted {
                Ok(s) => {
                    s.set_timeouts(self.options.step_timeout)
                        .map_err(|e| io_error("accepting a client", e, None))?;
                    self.stream = Some(BufReader::with_capacity(1 << 16, s));
                    self.flow = Flow::Fresh;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let waited = start.elapsed();
                    if waited >= self.options.connect_timeout {
                        return Err(IpiError::NoClient {
                            address: self.address.to_string(),
                            waited,
                        });
                    }
                    std::thread::sleep(pause.min(self.options.connect_timeout - waited));
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error("accepting a client", e, None)),
            }
        }
    }

    /// Send `config` to the client and return its answer, waiting for a client (and for a new one
    /// after a disconnection) as the options allow. Does not use or update the memo of
    /// [`Calculator::compute`].
    pub fn query(&mut self, config: &Configuration) -> Result<IpiReply, IpiError> {
        let natoms = config.len();
        if natoms > i32::MAX as usize / 3 {
            return Err(IpiError::Unsupported(format!(
                "{natoms} atoms do not fit the protocol's 32-bit count"
            )));
        }
        let rotation = canonical_rotation(config.lattice.matrix())?;
        let mut reconnects = 0;
        loop {
            if self.stream.is_none() {
                self.accept()?;
            }
            match self.exchange(config, rotation.as_ref()) {
                Ok(reply) => {
                    self.evaluations += 1;
                    return Ok(reply);
                }
                Err(IpiError::Disconnected { phase, .. }) if reconnects < self.options.max_reconnects => {
                    self.stream = None;
                    reconnects += 1;
                    match self.accept() {
                        Ok(()) => self.reconnections += 1,
                        Err(IpiError::NoClient { waited, .. }) => {
                            return Err(IpiError::Disconnected { phase, waited });
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => {
                    // Whatever state the client is in, it is not one we can continue from.
                    self.stream = None;
                    return Err(e);
                }
            }
        }
    }

    fn send(&mut self, phase: &'static str) -> Result<(), IpiError> {
        let timeout = self.options.step_timeout;
        let stream = self.stream.as_mut().ok_or(IpiError::Disconnected {
            phase,
            waited: Duration::ZERO,
        })?;
        stream
            .get_mut()
            .write_all(&self.buf)
            .map_err(|e| io_error(phase, e, timeout))
    }

    fn recv(&mut self, n: usize, phase: &'static str) -> Result<(), IpiError> {
        let timeout = self.options.step_timeout;
        self.buf.clear();
        self.buf.resize(n, 0);
        let stream = self.stream.as_mut().ok_or(IpiError::Disconnected {
            phase,
            waited: Duration::ZERO,
        })?;
        stream
            .read_exact(&mut self.buf)
            .map_err(|e| io_error(phase, e, timeout))
    }

    fn send_header(&mut self, name: &str, phase: &'static str) -> Result<(), IpiError> {
        self.buf.clear();
        self.buf.extend_from_slice(&header(name));
        self.send(phase)
    }

    /// Read a header and return which of `expected` it is.
    fn recv_header(
        &mut self,
        expected: &[&'static str],
        expected_text: &'static str,
        phase: &'static str,
    ) -> Result<&'static str, IpiError> {
        self.recv(HEADER_LEN, phase)?;
        for &name in expected {
            if self.buf[..] == header(name) {
                return Ok(name);
            }
        }
        Err(IpiError::UnexpectedHeader {
            phase,
            expected: expected_text,
            got: show_header(&self.buf),
        })
    }

    /// Little-endian `f64` at byte `at` of the buffer.
    fn f64_at(&self, at: usize) -> f64 {
        let mut b = [0; 8];
        b.copy_from_slice(&self.buf[at..at + 8]);
        f64::from_le_bytes(b)
    }

    /// Little-endian `i32` at byte `at` of the buffer.
    fn i32_at(&self, at: usize) -> i32 {
        let mut b = [0; 4];
        b.copy_from_slice(&self.buf[at..at + 4]);
        i32::from_le_bytes(b)
    }

    /// STATUS, and INIT if the client asks for it; returns the first answer (READY or NEEDINIT).
    fn handshake(&mut self) -> Result<&'static str, IpiError> {
        self.send_header("STATUS", "asking for the client's status")?;
        let status = self.recv_header(
            &["READY", "NEEDINIT", "HAVEDATA"],
            "READY or NEEDINIT",
            "waiting for the client's status",
        )?;
        match status {
            "NEEDINIT" => {
                let init = self.options.init_string.clone();
                self.buf.clear();
                self.buf.extend_from_slice(&header("INIT"));
                self.buf.extend_from_slice(&0i32.to_le_bytes());
                self.buf.extend_from_slice(&(init.len() as i32).to_le_bytes());
                self.buf.extend_from_slice(init.as_bytes());
                // The STATUS that checks the INIT goes in the same write.
                self.buf.extend_from_slice(&header("STATUS"));
                self.send("initialising the client")?;
                self.recv_header(
                    &["READY"],
                    "READY",
                    "waiting for the client to be ready after INIT",
                )?;
            }
            "HAVEDATA" => {
                return Err(IpiError::UnexpectedHeader {
                    phase: "waiting for the client's status before sending positions",
                    expected: "READY or NEEDINIT",
                    got: "'HAVEDATA'".into(),
                });
            }
            _ => {}
        }
        Ok(status)
    }

    /// One evaluation: positions out, forces back, with as many polls as the client needs.
    fn exchange(
        &mut self,
        config: &Configuration,
        rotation: Option<&Matrix3<f64>>,
    ) -> Result<IpiReply, IpiError> {
        let natoms = config.len();
        let units = self.options.units;
        if self.flow != Flow::Pipelined {
            let status = self.handshake()?;
            if self.flow == Flow::Answered {
                // The answer to the first STATUS after a GETFORCE is the state the client returns to
                // after every evaluation (the clients are loops over the same states).
                self.flow = if status == "READY" && self.pipelining {
                    Flow::Pipelined
                } else {
                    Flow::Polled
                };
            }
        }
        let direct = self.flow == Flow::Pipelined;
        // Positions: cell h (columns a, b, c) and h⁻¹ sent row by row, Bohr.
        let mut m = *config.lattice.matrix();
        if let Some(r) = rotation {
            m *= r.transpose();
            // Exactly upper-triangular h (these are rounding residues of the rotation).
            m[(0, 1)] = 0.0;
            m[(0, 2)] = 0.0;
            m[(1, 2)] = 0.0;
        }
        let inv_m = m
            .try_inverse()
            .ok_or_else(|| IpiError::Unsupported("singular cell".into()))?;
        let h = m.transpose() / units.bohr_angstrom;
        let ih = inv_m.transpose() * units.bohr_angstrom;
        self.buf.clear();
        self.buf.reserve(2 * HEADER_LEN + 148 + 24 * natoms);
        self.buf.extend_from_slice(&header("POSDATA"));
        for mat in [&h, &ih] {
            for i in 0..3 {
                for j in 0..3 {
                    self.buf.extend_from_slice(&mat[(i, j)].to_le_bytes());
                }
            }
        }
        self.buf.extend_from_slice(&(natoms as i32).to_le_bytes());
        for p in config.positions {
            let p = match rotation {
                Some(r) => r * p,
                None => *p,
            };
            // Wrap into the cell: fractional f with p = mᵀ f.
            let f = inv_m.transpose() * p;
            let f = f.map(|x| x - x.floor());
            let w = m.transpose() * f;
            for x in w.iter() {
                self.buf
                    .extend_from_slice(&(x / units.bohr_angstrom).to_le_bytes());
            }
        }
        if direct {
            // The client reads GETFORCE once it has computed the forces, and answers it at once:
            // one write and one read per evaluation.
            self.buf.extend_from_slice(&header("GETFORCE"));
            self.send("sending positions")?;
            match self.recv_header(&["FORCEREADY"], "FORCEREADY", "waiting for the forces") {
                Ok(_) => {}
                Err(IpiError::UnexpectedHeader { got, .. }) => {
                    // This client does not take the pipelined exchange: later clients get polled.
                    self.pipelining = false;
                    return Err(IpiError::UnexpectedHeader {
                        phase: "waiting for the forces after POSDATA and GETFORCE sent without \
                                STATUS polls",
                        expected: "FORCEREADY",
                        got,
                    });
                }
                Err(e) => return Err(e),
            }
        } else {
            // The STATUS that asks for the forces goes in the same write: the client reads it once
            // it has computed them.
            self.buf.extend_from_slice(&header("STATUS"));
            self.send("sending positions")?;
            self.recv_header(
                &["HAVEDATA"],
                "HAVEDATA",
                "waiting for the client to compute the forces",
            )?;
            self.send_header("GETFORCE", "asking for the forces")?;
            self.recv_header(&["FORCEREADY"], "FORCEREADY", "waiting for the forces")?;
        }
        // Energy and atom count, then forces, virial and the extra string's length: two reads out of
        // the buffered stream, decoded in place.
        self.recv(12, "reading the energy and atom count")?;
        let energy = self.f64_at(0) * units.hartree_ev;
        let n = self.i32_at(8);
        if i64::from(n) != natoms as i64 {
            return Err(IpiError::AtomCount {
                expected: natoms,
                got: i64::from(n),
            });
        }
        let nf = 24 * natoms;
        self.recv(nf + 72 + 4, "reading the forces and the virial")?;
        let fconv = units.hartree_ev / units.bohr_angstrom;
        let mut forces: Vec<Vector3<f64>> = (0..natoms)
            .map(|i| {
                Vector3::new(
                    self.f64_at(24 * i),
                    self.f64_at(24 * i + 8),
                    self.f64_at(24 * i + 16),
                ) * fconv
            })
            .collect();
        let mut v = [0.0; 9];
        for (k, x) in v.iter_mut().enumerate() {
            *x = self.f64_at(nf + 8 * k);
        }
        let extra_len = self.i32_at(nf + 72);
        if !(0..=MAX_EXTRA).contains(&extra_len) {
            return Err(IpiError::BadLength(i64::from(extra_len)));
        }
        self.recv(extra_len as usize, "reading the extra string")?;
        let extra = String::from_utf8_lossy(&self.buf).into_owned();
        // The wire holds W column by column (ASE's client sends virial.T row by row).
        let wire = Matrix3::from_row_slice(&v);
        let lower_zero = wire[(1, 0)] == 0.0 && wire[(2, 0)] == 0.0 && wire[(2, 1)] == 0.0;
        let upper_zero = wire[(0, 1)] == 0.0 && wire[(0, 2)] == 0.0 && wire[(1, 2)] == 0.0;
        let mut virial = if lower_zero && !upper_zero {
            // LAMMPS: xx yy zz xy xz yz only.
            let mut w = wire;
            w[(1, 0)] = w[(0, 1)];
            w[(2, 0)] = w[(0, 2)];
            w[(2, 1)] = w[(1, 2)];
            w
        } else {
            wire.transpose()
        } * units.hartree_ev;
        if let Some(r) = rotation {
            for f in forces.iter_mut() {
                *f = r.transpose() * *f;
            }
            virial = r.transpose() * virial * r;
        }
        if !energy.is_finite() {
            return Err(IpiError::NonFinite("energy"));
        }
        if forces.iter().any(|f| !f.iter().all(|x| x.is_finite())) {
            return Err(IpiError::NonFinite("force"));
        }
        if !virial.iter().all(|x| x.is_finite()) {
            return Err(IpiError::NonFinite("virial"));
        }
        if self.flow == Flow::Fresh {
            self.flow = if self.pipelining {
                Flow::Answered
            } else {
                Flow::Polled
            };
        }
        Ok(IpiReply {
            energy,
            forces,
            virial,
            extra,
        })
    }
    fn memo_key(config: &Configuration) -> Vec<u64> {
        let mut key = Vec::with_capacity(9 + 3 * config.len());
        key.extend(config.lattice.matrix().iter().map(|x| x.to_bits()));
        for p in config.positions {
            key.extend(p.iter().map(|x| x.to_bits()));
        }
        key
    }

    /// Send `EXIT` to the client (if one is connected) and close the connection.
    pub fn disconnect(&mut self) {
        if self.stream.is_some() {
            if let Some(s) = &self.stream {
                let _ = s.get_ref().set_timeouts(Some(Duration::from_secs(1)));
            }
            let _ = self.send_header("EXIT", "saying goodbye");
            self.stream = None;
        }
    }
}

impl Drop for IpiCalculator {
    fn drop(&mut self) {
        self.disconnect();
        if let IpiAddress::Unix(path) = &self.address {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Calculator for IpiCalculator {
    fn name(&self) -> String {
        format!("i-PI client on {}", self.address)
    }

    fn cutoff(&self) -> Option<f64> {
        None
    }

    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()> {
        let key = Self::memo_key(config);
        let hit = self.memo.as_ref().is_some_and(|m| m.key == key);
        if !hit {
            match self.query(config) {
                Ok(reply) => {
                    self.last_error = None;
                    self.memo = Some(Memo {
                        key,
                        energy: reply.energy,
                        forces: reply.forces,
                        virial: reply.virial,
                    });
                }
                Err(e) => {
                    self.last_error = Some(e.clone());
                    return Err(Error::Ipi(e));
                }
            }
        }
        let memo = self
            .memo
            .as_ref()
            .ok_or_else(|| Error::Configuration("i-PI: no evaluation stored".into()))?;
        if out.forces.len() != memo.forces.len() {
            return Err(Error::Configuration(format!(
                "evaluation holds {} atoms, configuration {}",
                out.forces.len(),
                memo.forces.len()
            )));
        }
        out.energy += memo.energy;
        for (o, f) in out.forces.iter_mut().zip(&memo.forces) {
            *o += f;
        }
        out.virial += memo.virial;
        Ok(())
    }
}

/// A clonable handle on one [`IpiCalculator`], for work that runs several simulations one after
/// another with the same client (a volume search, a melt–quench pipeline): every clone talks to the
/// same connection, and `EXIT` goes to the client only when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SharedIpiCalculator(Arc<Mutex<IpiCalculator>>);

impl SharedIpiCalculator {
    /// Share `calculator`.
    pub fn new(calculator: IpiCalculator) -> Self {
        SharedIpiCalculator(Arc::new(Mutex::new(calculator)))
    }

    /// Run `f` on the shared calculator (e.g. to read its counters or its last error).
    pub fn with<T>(&self, f: impl FnOnce(&mut IpiCalculator) -> T) -> Result<T> {
        let mut guard = self
            .0
            .lock()
            .map_err(|_| Error::Configuration("i-PI: the shared server's lock is poisoned".into()))?;
        Ok(f(&mut guard))
    }
}

impl Calculator for SharedIpiCalculator {
    fn name(&self) -> String {
        self.with(|c| c.name())
            .unwrap_or_else(|_| "i-PI client (poisoned)".into())
    }

    fn cutoff(&self) -> Option<f64> {
        None
    }

    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()> {
        self.with(|c| c.compute(config, out))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(
            IpiAddress::parse("ipi:unix:melt").unwrap(),
            IpiAddress::Unix(PathBuf::from("/tmp/ipi_melt"))
        );
        assert_eq!(
            IpiAddress::parse("ipi:unix:/run/x.sock").unwrap(),
            IpiAddress::Unix(PathBuf::from("/run/x.sock"))
        );
        assert_eq!(
            IpiAddress::parse("ipi:tcp:localhost:31415").unwrap(),
            IpiAddress::Tcp {
                host: "localhost".into(),
                port: 31415
            }
        );
        assert_eq!(
            IpiAddress::parse("ipi:tcp:[::1]:8000").unwrap(),
            IpiAddress::Tcp {
                host: "::1".into(),
                port: 8000
            }
        );
        for bad in [
            "ipi:tcp:localhost",
            "ipi:tcp::80",
            "ipi:tcp:h:99999",
            "ipi:udp:x",
            "ipi:unix:",
        ] {
            assert!(matches!(IpiAddress::parse(bad), Err(IpiError::Spec(_))), "{bad}");
        }
        assert_eq!(
            IpiAddress::parse("ipi:tcp:127.0.0.1:5").unwrap().to_string(),
            "tcp:127.0.0.1:5"
        );
    }

    #[test]
    fn headers_are_padded_and_shown_escaped() {
        assert_eq!(&header("STATUS"), b"STATUS      ");
        assert_eq!(show_header(b"HAVE\x00DATA   "), "'HAVE\\x00DATA'");
    }

    #[test]
    fn rotation_brings_any_right_handed_cell_to_upper_triangular_h() {
        let m = Matrix3::new(3.0, 1.0, 0.5, -0.4, 4.0, 0.3, 0.2, 0.7, 5.0);
        let r = canonical_rotation(&m).unwrap().unwrap();
        let rotated = m * r.transpose();
        assert!(rotated[(0, 1)].abs() < 1e-12 && rotated[(0, 2)].abs() < 1e-12);
        assert!(rotated[(1, 2)].abs() < 1e-12);
        assert!((0..3).all(|i| rotated[(i, i)] > 0.0));
        assert!((r * r.transpose() - Matrix3::identity()).norm() < 1e-12);
        assert!(
            canonical_rotation(&Matrix3::from_diagonal_element(2.0))
                .unwrap()
                .is_none()
        );
        let left = Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, -1.0));
        assert!(matches!(canonical_rotation(&left), Err(IpiError::Unsupported(_))));
    }

    #[test]
    fn lammps_units_match_its_constants() {
        let u = IpiUnits::LAMMPS_METAL;
        assert!((u.hartree_ev - 27.2113).abs() < 1e-3);
        assert!((IpiUnits::CODATA_2018.hartree_ev / u.hartree_ev - 1.0).abs() < 1e-6);
        assert!(IpiUnits::by_name("nope").is_err());
    }
}
