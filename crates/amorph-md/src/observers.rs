//! Ready-made observers: a thermodynamic log and a trajectory recorder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use amorph_structure::{Trajectory, io};

use crate::error::{Error, Result};
use crate::simulation::{Observer, Snapshot};

/// Columns of the thermo log.
pub const THERMO_HEADER: &str =
    "step,time_fs,T_K,target_T_K,potential_eV,kinetic_eV,total_eV,conserved_eV,pressure_GPa,volume_A3";

/// A CSV log of step, time (fs), temperature (K), energies (eV), pressure (GPa) and volume (Å³).
///
/// Lines stream into `PATH.partial` as the run goes (so a long run can be watched); the file is
/// renamed to `PATH` when the run finishes, so `PATH` itself is never half-written.
pub struct ThermoLog {
    path: PathBuf,
    partial: PathBuf,
    out: BufWriter<File>,
}

impl ThermoLog {
    /// Start a log at `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let io_err = |e: std::io::Error| {
            Error::Structure(amorph_structure::Error::Io {
                path: partial.clone(),
                source: e,
            })
        };
        let mut out = BufWriter::new(File::create(&partial).map_err(io_err)?);
        writeln!(out, "{THERMO_HEADER}").map_err(io_err)?;
        Ok(ThermoLog { path, partial, out })
    }

    fn io_err(&self, e: std::io::Error) -> Error {
        Error::Structure(amorph_structure::Error::Io {
            path: self.partial.clone(),
            source: e,
        })
    }
}

/// One CSV row of the thermo log.
pub fn thermo_row(s: &Snapshot) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{}",
        s.step,
        s.time_fs,
        s.temperature(),
        s.target_temperature,
        s.potential_energy(),
        s.kinetic_energy(),
        s.potential_energy() + s.kinetic_energy(),
        s.conserved_energy(),
        s.pressure_gpa(),
        s.system.lattice.volume()
    )
}

impl Observer for ThermoLog {
    fn observe(&mut self, s: &Snapshot) -> Result<()> {
        let row = thermo_row(s);
        writeln!(self.out, "{row}").map_err(|e| self.io_err(e))
    }

    fn finish(&mut self, _last: &Snapshot) -> Result<()> {
        self.out.flush().map_err(|e| self.io_err(e))?;
        self.out.get_ref().sync_all().map_err(|e| self.io_err(e))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| self.io_err(e))
    }
}

/// Records frames (positions wrapped into the cell) and writes them as one trajectory file (format
/// from the extension: XDATCAR or extxyz) atomically when the run finishes.
pub struct TrajectoryRecorder {
    path: PathBuf,
    trajectory: Option<Trajectory>,
}

impl TrajectoryRecorder {
    /// Record into `path`.
    pub fn new(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        match io::Format::from_path(&path) {
            Some(f) if f.holds_trajectories() => Ok(TrajectoryRecorder {
                path,
                trajectory: None,
            }),
            _ => Err(Error::InvalidParameter(format!(
                "{}: trajectories are written as XDATCAR or .extxyz",
                path.display()
            ))),
        }
    }

    /// The frames recorded so far.
    pub fn trajectory(&self) -> Option<&Trajectory> {
        self.trajectory.as_ref()
    }
}

impl Observer for TrajectoryRecorder {
    fn observe(&mut self, s: &Snapshot) -> Result<()> {
        let frame = s.system.to_structure()?;
        match &mut self.trajectory {
            Some(t) => t.push(&frame)?,
            None => {
                let mut t = Trajectory::from_structure(&frame);
                t.time_step_fs = None;
                self.trajectory = Some(t);
            }
        }
        Ok(())
    }

    fn finish(&mut self, _last: &Snapshot) -> Result<()> {
        if let Some(t) = &self.trajectory {
            io::write_trajectory(&self.path, t)?;
        }
        Ok(())
    }
}
