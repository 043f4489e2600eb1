//! Reading and writing structures and trajectories in the formats of VASP, ASE, pymatgen, CIF and
//! LAMMPS.
//!
//! | [`Format`] | read | write | frames |
//! |---|---|---|---|
//! | `Poscar`: VASP POSCAR/CONTCAR (VASP 4 and 5) | yes | VASP 5, Direct | 1 |
//! | `Xdatcar`: VASP XDATCAR (fixed or variable cell) | yes | yes | many |
//! | `ExtXyz`: extended XYZ as ASE writes it | yes | yes | many |
//! | `PymatgenJson`: pymatgen `Structure.as_dict()` | yes | yes | 1 |
//! | `Cif`: CIF, symmetry operations applied | yes | P1 | 1 |
//! | `LammpsData`: LAMMPS data (atomic, charge, full, molecular) | yes | atomic or charge | 1 |
//!
//! The format comes from the file name ([`Format::from_path`]: `POSCAR*`, `CONTCAR*`, `*.vasp`,
//! `XDATCAR*`, `*.xyz`, `*.extxyz`, `*.json`, `*.cif`, `*.data`, `*.lmp`, `data.*`) and, when the
//! name says nothing, from the content ([`Format::detect`]). The `*_as` functions take it explicitly;
//! [`parse_structure`] and [`structure_to_string`] work on text without files.
//!
//! Numbers follow pymatgen's readers (`Structure.from_file`, `Xdatcar`, `LammpsData`, ASE's extxyz
//! through `AseAtomsAdaptor`): same atoms, cells, volumes and densities on the same files. Where a
//! file leaves something open the choices are:
//!
//! - **POSCAR without species line** (VASP 4): species from the symbols after the coordinates
//!   (as pymatgen), else from the title line when it names one element per group (`Fe2 O3`, as
//!   ASE), else pymatgen's placeholders H, He, Li, ... per group, flagged by the structure property
//!   `species_are_placeholders = true`. A negative scale factor is the cell volume and also scales
//!   Cartesian coordinates (as VASP; pymatgen multiplies them by the negative number). Velocities
//!   after a blank line are kept as `velocities` (Å/fs); anything else after the coordinates is
//!   ignored. The title is kept as the structure property `comment` and written back.
//! - **Extended XYZ** frames must have a `Lattice`: amorph structures are periodic, and pymatgen
//!   cannot make a periodic structure from a molecule either, so a frame without one is an error.
//!   Columns R:1, I:1, L:1, S:1, R:3 and L:3 become [`SiteProperty`] Real, Int, Bool, Text, Vector
//!   and Flags under their own names; other widths are skipped. Other comment-line keys become
//!   structure properties (numbers, booleans, text, arrays); `pbc` is dropped and always written
//!   as `"T T T"`.
//! - **pymatgen JSON**: disordered or partially occupied sites are an error. Site properties that
//!   only some sites have (pymatgen pads them with `None`) are read with NaN (reals, vectors) or ""
//!   (text) in the gaps; `magmom` and `charge` are always real. The structure charge is kept as the
//!   property `charge` when it is not zero.
//! - **CIF**: the first data block with `_atom_site_fract_*` is read. Its atoms are expanded with
//!   the listed symmetry operations (`_symmetry_equiv_pos_as_xyz` or
//!   `_space_group_symop_operation_xyz`), coordinates within 1e-4 of 1/3 and 2/3 snapped and copies
//!   within 1e-4 (fractional) merged, as pymatgen's `CifParser`. A space group other than P1
//!   without listed operations, partial occupancies (beyond 2 %) and disordered sites are errors.
//!   The cell is built from its parameters in pymatgen's orientation.
//! - **LAMMPS data**: the atom style comes from the `Atoms # style` hint or from the column count
//!   (6 columns are `charge` unless the third column is an integer type on every line). Elements
//!   come from a `# Symbol` comment on the `Masses` line, else from the nearest standard mass (as
//!   pymatgen). Atoms are sorted by id, positions shifted so that the box starts at the origin,
//!   image flags and velocities (in the file's unknown `units`) ignored; charges are kept as
//!   `charge`. The writer rotates the cell into LAMMPS's restricted-triclinic orientation (a along
//!   x, b in the xy plane) and the atoms with it.
//! - **Degenerate cells** (volume below 1e-5 · a·b·c) and non-finite numbers are errors in every
//!   format.
//!
//! Writers use the shortest digits that read back to the same `f64`, so a round trip through any
//! format keeps positions exactly (to the last bit for Cartesian formats, to ~1e-15 Å through
//! fractional ones). Files are written atomically: to a temporary file in the same directory,
//! then renamed, so a failed write leaves nothing behind and never a half-written file.
//!
//! Every parse error names the file and the 1-based line.
//!
//! ```
//! use amorph_structure::io::{self, Format};
//!
//! let poscar = "Li2 O\n1.0\n4.6 0 0\n0 4.6 0\n0 0 4.6\nLi O\n2 1\nDirect\n\
//!               0 0 0\n0.5 0.5 0\n0.25 0.25 0.5\n";
//! let s = io::parse_structure(poscar, Format::Poscar, "inline/POSCAR")?;
//! assert_eq!(s.len(), 3);
//! assert!((s.volume() - 4.6f64.powi(3)).abs() < 1e-9);
//!
//! // Any format to any other, without files.
//! let json = io::structure_to_string(&s, Format::PymatgenJson)?;
//! let back = io::parse_structure(&json, Format::PymatgenJson, "inline.json")?;
//! assert_eq!(back.species(), s.species());
//!
//! // Errors say where.
//! let bad = "title\n1.0\n4.6 0 0\n0 x 0\n";
//! let err = io::parse_structure(bad, Format::Poscar, "bad/POSCAR").unwrap_err();
//! assert_eq!(err.to_string(), "bad/POSCAR:4: lattice vector b: 'x' is not a number");
//! # Ok::<(), amorph_structure::Error>(())
//! ```

mod cif;
mod extxyz;
mod json;
mod lammps;
mod text;
mod vasp;

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::structure::Structure;
use crate::trajectory::Trajectory;
use text::Src;

#[cfg(doc)]
use crate::structure::SiteProperty;

/// A structure file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// VASP POSCAR / CONTCAR.
    Poscar,
    /// VASP XDATCAR trajectory.
    Xdatcar,
    /// Extended XYZ (ASE).
    ExtXyz,
    /// pymatgen `Structure.as_dict()` JSON.
    PymatgenJson,
    /// Crystallographic Information File.
    Cif,
    /// LAMMPS data file (`read_data` / `write_data`).
    LammpsData,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 6] = [
        Format::Poscar,
        Format::Xdatcar,
        Format::ExtXyz,
        Format::PymatgenJson,
        Format::Cif,
        Format::LammpsData,
    ];

    /// The format a file name implies: `XDATCAR*`; `*.vasp`, `*.poscar`; `*.xyz`, `*.extxyz`;
    /// `*.json`; `*.cif`; `*.data`, `*.lmp`, `*.lammps`; then `*POSCAR*`, `*CONTCAR*`, `data.*`.
    /// Case-insensitive. `None` when the name says nothing.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy();
        let upper = name.to_ascii_uppercase();
        if upper.contains("XDATCAR") {
            return Some(Format::Xdatcar);
        }
        let ext = Path::new(name.as_ref())
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let by_ext = match ext.as_deref() {
            Some("vasp" | "poscar") => Some(Format::Poscar),
            Some("xyz" | "extxyz") => Some(Format::ExtXyz),
            Some("json") => Some(Format::PymatgenJson),
            Some("cif") => Some(Format::Cif),
            Some("data" | "lmp" | "lammps") => Some(Format::LammpsData),
            _ => None,
        };
        by_ext.or_else(|| {
            if upper.contains("POSCAR") || upper.contains("CONTCAR") {
                Some(Format::Poscar)
            } else if upper.starts_with("DATA.") {
                Some(Format::LammpsData)
            } else {
                None
            }
        })
    }

    /// The format of a file from its name, else from its content. `None` when neither tells.
    pub fn detect(path: &Path, text: &str) -> Option<Format> {
        Format::from_path(path).or_else(|| sniff(text))
    }

    /// True for formats that hold many frames (XDATCAR, extended XYZ).
    pub fn holds_trajectories(self) -> bool {
        matches!(self, Format::Xdatcar | Format::ExtXyz)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Poscar => "poscar",
            Format::Xdatcar => "xdatcar",
            Format::ExtXyz => "extxyz",
            Format::PymatgenJson => "json",
            Format::Cif => "cif",
            Format::LammpsData => "lammps-data",
        })
    }
}

impl FromStr for Format {
    type Err = Error;

    /// `poscar` (`contcar`, `vasp`), `xdatcar`, `extxyz` (`xyz`), `json` (`pymatgen`), `cif`,
    /// `lammps-data` (`lammps`, `data`, `lmp`); case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "poscar" | "contcar" | "vasp" => Format::Poscar,
            "xdatcar" => Format::Xdatcar,
            "extxyz" | "xyz" => Format::ExtXyz,
            "json" | "pymatgen" | "pymatgen-json" => Format::PymatgenJson,
            "cif" => Format::Cif,
            "lammps-data" | "lammps" | "data" | "lmp" => Format::LammpsData,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown format '{s}' (poscar, xdatcar, extxyz, json, cif, lammps-data)"
                )));
            }
        })
    }
}

/// Tells the format from the text when the file name does not.
fn sniff(text: &str) -> Option<Format> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        return Some(Format::PymatgenJson);
    }
    let head: Vec<&str> = text.lines().take(64).collect();
    let trimmed = |i: usize| head.get(i).map_or("", |l| l.trim());
    if head
        .iter()
        .any(|l| l.trim_start().to_ascii_lowercase().starts_with("data_"))
        && (text.contains("_cell_length_a") || text.contains("_atom_site"))
    {
        return Some(Format::Cif);
    }
    if trimmed(0).parse::<usize>().is_ok()
        && (trimmed(1).contains("Lattice=") || trimmed(1).contains("Properties="))
    {
        return Some(Format::ExtXyz);
    }
    if head.iter().any(|l| l.contains("xlo") && l.contains("xhi"))
        && head.iter().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() == 2 && w[1] == "atoms" && w[0].parse::<usize>().is_ok()
        })
    {
        return Some(Format::LammpsData);
    }
    // POSCAR-like: a scale line, then three lattice vectors.
    let numbers = |i: usize| {
        trimmed(i)
            .split_whitespace()
            .take(3)
            .filter(|w| text::parse_f64(w).is_ok())
            .count()
    };
    if numbers(1) >= 1 && (2..5).all(|i| numbers(i) == 3) {
        let lower = text.to_ascii_lowercase();
        if lower.contains("direct configuration") || lower.contains("cartesian configuration") {
            return Some(Format::Xdatcar);
        }
        // The counts line; a blank line after it means frames separated by blank lines.
        let counts = (5..head.len()).find(|&i| {
            trimmed(i)
                .split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<usize>().is_ok())
        });
        if let Some(i) = counts
            && head.get(i + 1).is_some_and(|l| l.trim().is_empty())
        {
            return Some(Format::Xdatcar);
        }
        return Some(Format::Poscar);
    }
    None
}

/// Refuses what no format can be: empty text and binary data.
fn check_text(text: &str, src: Src) -> Result<()> {
    if text.trim().is_empty() {
        return Err(src.err(0, "the file is empty"));
    }
    if let Some(pos) = text.find('\0') {
        let line = text[..pos].bytes().filter(|&b| b == b'\n').count() + 1;
        return Err(src.err(line, "binary data (NUL byte): not a text structure file"));
    }
    Ok(())
}

/// The first (or only) structure in `text`, read as `format`; `path` only names the source in
/// error messages.
pub fn parse_structure(text: &str, format: Format, path: impl AsRef<Path>) -> Result<Structure> {
    let src = Src { path: path.as_ref() };
    check_text(text, src)?;
    let text = text.trim_start_matches('\u{feff}');
    match format {
        Format::Poscar => vasp::parse_poscar(text, src),
        Format::Xdatcar => vasp::parse_xdatcar(text, src, Some(1))?.frame(0),
        Format::ExtXyz => extxyz::parse_extxyz_structure(text, src),
        Format::PymatgenJson => json::parse_json(text, src),
        Format::Cif => cif::parse_cif(text, src),
        Format::LammpsData => lammps::parse_lammps(text, src),
    }
}

/// All frames in `text`, read as `format` (single-structure formats give one frame); `path` only
/// names the source in error messages.
pub fn parse_trajectory(text: &str, format: Format, path: impl AsRef<Path>) -> Result<Trajectory> {
    let src = Src { path: path.as_ref() };
    check_text(text, src)?;
    let text = text.trim_start_matches('\u{feff}');
    match format {
        Format::Xdatcar => vasp::parse_xdatcar(text, src, None),
        Format::ExtXyz => extxyz::parse_extxyz(text, src, None),
        _ => Ok(Trajectory::from_structure(&parse_structure(
            text, format, src.path,
        )?)),
    }
}

/// A structure as the text of a `format` file.
pub fn structure_to_string(s: &Structure, format: Format) -> Result<String> {
    if s.is_empty() {
        return Err(Error::InvalidArgument(
            "cannot write a structure with no atoms".into(),
        ));
    }
    match format {
        Format::Poscar => vasp::write_poscar(s),
        Format::Xdatcar => vasp::write_xdatcar(&Trajectory::from_structure(s)),
        Format::ExtXyz => extxyz::write_extxyz(s),
        Format::PymatgenJson => json::write_json(s),
        Format::Cif => cif::write_cif(s),
        Format::LammpsData => lammps::write_lammps(s),
    }
}

/// A trajectory as the text of a `format` file. Single-structure formats take one-frame
/// trajectories only.
pub fn trajectory_to_string(t: &Trajectory, format: Format) -> Result<String> {
    if t.is_empty() || t.natoms() == 0 {
        return Err(Error::InvalidArgument("cannot write an empty trajectory".into()));
    }
    match format {
        Format::Xdatcar => vasp::write_xdatcar(t),
        Format::ExtXyz => extxyz::write_extxyz_trajectory(t),
        _ if t.len() == 1 => structure_to_string(&t.frame(0)?, format),
        _ => Err(Error::InvalidArgument(format!(
            "the {format} format holds one structure but the trajectory has {} frames: \
             write XDATCAR or extended XYZ",
            t.len()
        ))),
    }
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::Parse {
            path: path.to_path_buf(),
            line,
            message: "not UTF-8 text (binary data?)".into(),
        }
    })
}

fn format_of(path: &Path, text: Option<&str>) -> Result<Format> {
    let f = match text {
        Some(t) => Format::detect(path, t),
        None => Format::from_path(path),
    };
    f.ok_or_else(|| Error::UnknownFormat {
        path: path.to_path_buf(),
        hint: "expected POSCAR*/CONTCAR*/*.vasp, XDATCAR*, *.xyz/*.extxyz, *.json, *.cif or \
               *.data/*.lmp, or content in one of those formats"
            .into(),
    })
}

/// Reads the first (or only) structure of a file; the format comes from the name or content.
pub fn read_structure(path: impl AsRef<Path>) -> Result<Structure> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_structure(&text, format_of(path, Some(&text))?, path)
}

/// Reads the first (or only) structure of a file in a given format.
pub fn read_structure_as(path: impl AsRef<Path>, format: Format) -> Result<Structure> {
    let path = path.as_ref();
    parse_structure(&read_text(path)?, format, path)
}

/// Reads every frame of a file (one for single-structure formats); the format comes from the name
/// or content.
pub fn read_trajectory(path: impl AsRef<Path>) -> Result<Trajectory> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_trajectory(&text, format_of(path, Some(&text))?, path)
}

/// Reads every frame of a file in a given format.
pub fn read_trajectory_as(path: impl AsRef<Path>, format: Format) -> Result<Trajectory> {
    let path = path.as_ref();
    parse_trajectory(&read_text(path)?, format, path)
}

/// Writes a structure atomically, in the format the file name implies.
pub fn write_structure(path: impl AsRef<Path>, s: &Structure) -> Result<()> {
    let path = path.as_ref();
    write_structure_as(path, s, format_of(path, None)?)
}

/// Writes a structure atomically in a given format.
pub fn write_structure_as(path: impl AsRef<Path>, s: &Structure, format: Format) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, structure_to_string(s, format)?.as_bytes())
}

/// Writes a trajectory atomically, in the format the file name implies (XDATCAR or extended XYZ
/// for more than one frame).
pub fn write_trajectory(path: impl AsRef<Path>, t: &Trajectory) -> Result<()> {
    let path = path.as_ref();
    write_trajectory_as(path, t, format_of(path, None)?)
}

/// Writes a trajectory atomically in a given format.
pub fn write_trajectory_as(path: impl AsRef<Path>, t: &Trajectory, format: Format) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, trajectory_to_string(t, format)?.as_bytes())
}

/// Writes `bytes` to a fresh temporary file next to `path`, flushes it to disk and renames it over
/// `path`: readers see the old file or the new one, never a partial one. On failure the temporary
/// file is removed. Every writer of this module goes through it; it is public for other outputs
/// (CSV tables, JSON records) that need the same guarantee.
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file path",
        ))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        let f = |p: &str| Format::from_path(Path::new(p));
        assert_eq!(f("POSCAR"), Some(Format::Poscar));
        assert_eq!(f("run/CONTCAR_relaxed"), Some(Format::Poscar));
        assert_eq!(f("Li2O.vasp"), Some(Format::Poscar));
        assert_eq!(f("XDATCAR_Li6PS5Cl_kinisi_first10"), Some(Format::Xdatcar));
        assert_eq!(f("a.extxyz"), Some(Format::ExtXyz));
        assert_eq!(f("a.XYZ"), Some(Format::ExtXyz));
        assert_eq!(f("mp-1.json"), Some(Format::PymatgenJson));
        assert_eq!(f("x.cif"), Some(Format::Cif));
        assert_eq!(f("quartz.data"), Some(Format::LammpsData));
        assert_eq!(f("data.glass"), Some(Format::LammpsData));
        assert_eq!(f("in.lmp"), Some(Format::LammpsData));
        assert_eq!(f("notes.txt"), None);
        assert_eq!(f("structure"), None);
        for fmt in Format::ALL {
            assert_eq!(fmt.to_string().parse::<Format>().unwrap(), fmt);
        }
    }

    #[test]
    fn formats_from_content() {
        let s = |t: &str| sniff(t);
        assert_eq!(s("{\"lattice\": {}}"), Some(Format::PymatgenJson));
        assert_eq!(s("data_x\n_cell_length_a 1\n"), Some(Format::Cif));
        assert_eq!(
            s("1\nLattice=\"1 0 0 0 1 0 0 0 1\"\nH 0 0 0\n"),
            Some(Format::ExtXyz)
        );
        assert_eq!(
            s("# c\n\n2 atoms\n1 atom types\n0 1 xlo xhi\n"),
            Some(Format::LammpsData)
        );
        let poscar = "t\n1\n1 0 0\n0 1 0\n0 0 1\nH\n1\nDirect\n0 0 0\n";
        assert_eq!(s(poscar), Some(Format::Poscar));
        let xdat = "t\n1\n1 0 0\n0 1 0\n0 0 1\nH\n1\nDirect configuration= 1\n0 0 0\n";
        assert_eq!(s(xdat), Some(Format::Xdatcar));
        let xdat4 = "t\n1\n1 0 0\n0 1 0\n0 0 1\nH\n1\n \n0 0 0\n";
        assert_eq!(s(xdat4), Some(Format::Xdatcar));
        assert_eq!(s("hello world\n"), None);
    }
}
