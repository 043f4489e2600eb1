//! Atom selections, drift removal and drift-corrected displacements from the first frame.

use amorph_structure::{Element, Trajectory};
use nalgebra::Vector3;
use ndarray::Array3;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stream::MsdAccumulator;

/// Which atoms to analyse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Every atom of one element (pymatgen's `specie`).
    Species(Element),
    /// Atoms by their 0-based index in the trajectory.
    Indices(Vec<usize>),
}

impl Selection {
    /// Every atom of the element with this symbol (`"Li"`).
    pub fn species(symbol: &str) -> Result<Self> {
        Ok(Selection::Species(Element::from_symbol(symbol)?))
    }

    /// The selected indices of a trajectory with these species, ascending.
    pub fn indices(&self, species: &[Element]) -> Result<Vec<usize>> {
        match self {
            Selection::Species(e) => {
                let idx: Vec<usize> = (0..species.len()).filter(|&i| species[i] == *e).collect();
                if idx.is_empty() {
                    let mut present: Vec<&str> = species.iter().map(|s| s.symbol()).collect();
                    present.sort_unstable();
                    present.dedup();
                    return Err(Error::SpeciesAbsent {
                        species: e.symbol().to_string(),
                        present: present.join(", "),
                    });
                }
                Ok(idx)
            }
            Selection::Indices(v) => {
                if v.is_empty() {
                    return Err(Error::InvalidArgument("the atom selection is empty".into()));
                }
                let mut idx = v.clone();
                idx.sort_unstable();
                idx.dedup();
                if idx.len() != v.len() {
                    return Err(Error::InvalidArgument(
                        "the atom selection repeats an index".into(),
                    ));
                }
                if let Some(&bad) = idx.iter().find(|&&i| i >= species.len()) {
                    return Err(Error::InvalidArgument(format!(
                        "atom index {bad} out of range for {} atoms",
                        species.len()
                    )));
                }
                Ok(idx)
            }
        }
    }
}

/// How the collective drift of the cell contents is removed from every displacement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Drift {
    /// pymatgen's `DiffusionAnalyzer` rule (the default): subtract, frame by frame, the plain
    /// (unweighted) mean displacement of the *framework*, the atoms that are not selected. Fails
    /// with [`Error::NoFramework`] when every atom is selected.
    #[default]
    Framework,
    /// Subtract the mass-weighted mean displacement of all atoms (the centre of mass).
    CentreOfMass,
    /// Keep the raw displacements.
    None,
}

/// Drift-corrected Cartesian displacements (Å) of the selected atoms from the first frame, one
/// series per atom and direction, sampled every `frame_interval_fs`.
///
/// Positions are unwrapped first exactly as [`Trajectory::unwrapped`] does (each frame-to-frame move
/// taken as its minimum image in fractional coordinates, accumulated, mapped with each frame's cell;
/// tested equal bit for bit), so wrapped trajectories are fine as long as no atom moves more than
/// half a cell between stored frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Displacements {
    pub(crate) frame_interval_fs: f64,
    pub(crate) indices: Vec<usize>,
    /// `(selected atoms, 3, frames)`: time series are contiguous.
    pub(crate) data: Array3<f64>,
    pub(crate) volume_a3: f64,
}

impl Displacements {
    /// Displacements of the selected atoms of a trajectory whose stored frames are
    /// `frame_interval_fs` apart (MD time step × frames skipped between stored frames).
    pub fn from_trajectory(
        trajectory: &Trajectory,
        selection: &Selection,
        drift: Drift,
        frame_interval_fs: f64,
    ) -> Result<Self> {
        check_interval(frame_interval_fs)?;
        if trajectory.is_empty() {
            return Err(Error::TooShort("the trajectory has no frames".into()));
        }
        // Frame by frame through the streaming accumulator: one code path for offline and streaming
        // analysis (identical numbers), cache-friendly (each frame is read once, contiguously) and
        // without an intermediate copy of the trajectory.
        let mut acc = MsdAccumulator::new(trajectory.species(), selection, drift, frame_interval_fs)?;
        let natoms = trajectory.natoms();
        let positions = trajectory.positions().as_standard_layout(); // a copy only if not already
        let flat = positions.as_slice().expect("standard layout is contiguous");
        for t in 0..trajectory.len() {
            let row = &flat[t * natoms * 3..(t + 1) * natoms * 3];
            acc.push_unchecked(
                |i| Vector3::new(row[3 * i], row[3 * i + 1], row[3 * i + 2]),
                trajectory.lattice(t),
            );
        }
        acc.displacements()
    }

    /// Displacements given directly: `data` is `(atoms, 3, frames)` in Å, drift already removed,
    /// `volume_a3` the cell volume used for conductivities.
    pub fn from_array(data: Array3<f64>, frame_interval_fs: f64, volume_a3: f64) -> Result<Self> {
        check_interval(frame_interval_fs)?;
        if data.shape()[1] != 3 {
            return Err(Error::InvalidArgument(format!(
                "displacements must be (atoms, 3, frames), got {:?}",
                data.shape()
            )));
        }
        if data.shape()[0] == 0 || data.shape()[2] == 0 {
            return Err(Error::TooShort("no atoms or no frames".into()));
        }
        if data.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidArgument("a displacement is not finite".into()));
        }
        if !(volume_a3.is_finite() && volume_a3 > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "volume {volume_a3} Å³ must be positive"
            )));
        }
        let n = data.shape()[0];
        // Time series must be contiguous (`series`): reorder arrays in another memory order.
        let data = if data.is_standard_layout() {
            data
        } else {
            data.as_standard_layout().into_owned()
        };
        Ok(Displacements {
            frame_interval_fs,
            indices: (0..n).collect(),
            data,
            volume_a3,
        })
    }

    /// Time between stored frames, fs.
    pub fn frame_interval_fs(&self) -> f64 {
        self.frame_interval_fs
    }

    /// Number of frames.
    pub fn nframes(&self) -> usize {
        self.data.shape()[2]
    }

    /// Number of selected atoms.
    pub fn natoms(&self) -> usize {
        self.data.shape()[0]
    }

    /// Indices of the selected atoms in the trajectory.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// Mean cell volume over the frames, Å³.
    pub fn volume_a3(&self) -> f64 {
        self.volume_a3
    }

    /// The `(atoms, 3, frames)` array of displacements, Å.
    pub fn as_array(&self) -> &Array3<f64> {
        &self.data
    }

    /// One time series: displacement of selected atom `atom` along Cartesian direction `dir`, Å.
    pub fn series(&self, atom: usize, dir: usize) -> &[f64] {
        let s = self.data.slice(ndarray::s![atom, dir, ..]);
        s.to_slice().expect("time series are contiguous")
    }
}

/// `x − round(x)`, the minimum image of a fractional step, with the usual case (|x| < ½, where
/// round(x) = ±0) kept off the slow `round` call; bit-identical to the plain formula.
#[inline]
pub(crate) fn min_image(x: &mut f64) {
    if x.abs() >= 0.5 {
        *x -= x.round();
    }
}

pub(crate) fn check_interval(frame_interval_fs: f64) -> Result<()> {
    if frame_interval_fs.is_finite() && frame_interval_fs > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "the time between frames must be positive, got {frame_interval_fs} fs"
        )))
    }
}

/// Weights of each atom in the drift (summing to one), or `None` for no drift removal.
pub(crate) fn drift_weights(
    species: &[Element],
    selected: &[usize],
    drift: Drift,
) -> Result<Option<Vec<f64>>> {
    match drift {
        Drift::None => Ok(None),
        Drift::Framework => {
            let mut w = vec![1.0; species.len()];
            for &i in selected {
                w[i] = 0.0;
            }
            let n = w.iter().filter(|&&x| x != 0.0).count();
            if n == 0 {
                return Err(Error::NoFramework);
            }
            w.iter_mut().for_each(|x| *x /= n as f64);
            Ok(Some(w))
        }
        Drift::CentreOfMass => {
            let total: f64 = species.iter().map(|e| e.atomic_mass()).sum();
            Ok(Some(species.iter().map(|e| e.atomic_mass() / total).collect()))
        }
    }
}
