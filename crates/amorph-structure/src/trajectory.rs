//! Trajectories: frames that share species, stored contiguously for fast analysis.

use nalgebra::Vector3;
use ndarray::{Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::element::Element;
use crate::error::{Error, Result};
use crate::lattice::Lattice;
use crate::structure::Structure;

/// Cells of a trajectory: one for all frames (NVT) or one per frame (NPT, variable cell).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cells {
    /// The cell does not change.
    Fixed(Lattice),
    /// One cell per frame.
    PerFrame(Vec<Lattice>),
}

/// A sequence of frames of the same atoms.
///
/// Positions are Cartesian (Å) in one contiguous `(frames, atoms, 3)` array, so that time series of one
/// atom and whole frames are both cheap to read. Positions are stored as given (wrapped or not); see
/// [`unwrapped`](Self::unwrapped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    species: Vec<Element>,
    positions: Array3<f64>,
    cells: Cells,
    /// Time between stored frames, fs, when known.
    pub time_step_fs: Option<f64>,
}

impl Trajectory {
    /// An empty trajectory of these atoms in a fixed cell.
    pub fn new(species: Vec<Element>, lattice: Lattice) -> Self {
        let n = species.len();
        Trajectory {
            species,
            positions: Array3::zeros((0, n, 3)),
            cells: Cells::Fixed(lattice),
            time_step_fs: None,
        }
    }

    /// A trajectory from a first structure; later frames are pushed with [`push`](Self::push).
    pub fn from_structure(s: &Structure) -> Self {
        let mut t = Trajectory::new(s.species().to_vec(), s.lattice().clone());
        t.push_positions(s.positions(), None)
            .expect("a structure's positions are consistent");
        t
    }

    /// Build from a list of structures with identical species; the cell is stored once if all frames
    /// share it.
    pub fn from_structures(frames: &[Structure]) -> Result<Self> {
        let first = frames
            .first()
            .ok_or_else(|| Error::Structure("a trajectory needs at least one frame".into()))?;
        let mut t = Trajectory::from_structure(first);
        for f in &frames[1..] {
            t.push(f)?;
        }
        Ok(t)
    }

    /// Append a frame. Its species must match; a frame with a different cell turns the trajectory into
    /// a variable-cell one.
    pub fn push(&mut self, frame: &Structure) -> Result<()> {
        if frame.species() != self.species.as_slice() {
            return Err(Error::Structure(format!(
                "frame {} has different species from the trajectory",
                self.len()
            )));
        }
        let lattice = frame.lattice();
        let cell = match &self.cells {
            Cells::Fixed(l) if l == lattice => None,
            _ => Some(lattice.clone()),
        };
        self.push_positions(frame.positions(), cell)
    }

    /// Append Cartesian positions (Å), with the frame's cell if it differs from the fixed one.
    pub fn push_positions(&mut self, positions: &[Vector3<f64>], cell: Option<Lattice>) -> Result<()> {
        if positions.len() != self.species.len() {
            return Err(Error::Structure(format!(
                "frame {} has {} positions for {} atoms",
                self.len(),
                positions.len(),
                self.species.len()
            )));
        }
        if let Some(i) = positions.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
            return Err(Error::Structure(format!(
                "frame {}: atom {i} has a non-finite coordinate",
                self.len()
            )));
        }
        let nframes = self.len();
        match (cell, &mut self.cells) {
            (None, Cells::Fixed(_)) => {}
            (None, Cells::PerFrame(v)) => {
                let last = v.last().cloned().expect("per-frame cells are never empty");
                v.push(last)
            }
            (Some(c), Cells::PerFrame(v)) => v.push(c),
            (Some(c), Cells::Fixed(l)) => {
                let mut v = vec![l.clone(); nframes];
                v.push(c);
                self.cells = Cells::PerFrame(v);
            }
        }
        let flat: Vec<f64> = positions.iter().flat_map(|p| [p.x, p.y, p.z]).collect();
        let frame = ArrayView2::from_shape((self.species.len(), 3), &flat).expect("shape matches");
        self.positions
            .push(Axis(0), frame)
            .map_err(|e| Error::Structure(format!("cannot append frame: {e}")))?;
        Ok(())
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.positions.len_of(Axis(0))
    }

    /// True when there are no frames.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of atoms.
    pub fn natoms(&self) -> usize {
        self.species.len()
    }

    /// Species of every atom.
    pub fn species(&self) -> &[Element] {
        &self.species
    }

    /// All positions, `(frames, atoms, 3)`, Å.
    pub fn positions(&self) -> &Array3<f64> {
        &self.positions
    }

    /// Positions of one frame, `(atoms, 3)`, Å.
    pub fn frame_positions(&self, frame: usize) -> ArrayView2<'_, f64> {
        self.positions.index_axis(Axis(0), frame)
    }

    /// The cells.
    pub fn cells(&self) -> &Cells {
        &self.cells
    }

    /// Cell of one frame.
    pub fn lattice(&self, frame: usize) -> &Lattice {
        match &self.cells {
            Cells::Fixed(l) => l,
            Cells::PerFrame(v) => &v[frame],
        }
    }

    /// True when every frame shares one cell.
    pub fn has_fixed_cell(&self) -> bool {
        matches!(self.cells, Cells::Fixed(_))
    }

    /// One frame as a [`Structure`].
    pub fn frame(&self, frame: usize) -> Result<Structure> {
        if frame >= self.len() {
            return Err(Error::InvalidArgument(format!(
                "frame {frame} out of range for {} frames",
                self.len()
            )));
        }
        let p = self.frame_positions(frame);
        let positions = p.outer_iter().map(|r| Vector3::new(r[0], r[1], r[2])).collect();
        Structure::new(self.lattice(frame).clone(), self.species.clone(), positions)
    }

    /// Iterate over frames as structures.
    pub fn frames(&self) -> impl Iterator<Item = Structure> + '_ {
        (0..self.len()).map(|i| self.frame(i).expect("index in range"))
    }

    /// A copy whose positions are continuous in time: each step's displacement is taken as its
    /// minimum image in fractional coordinates (frame-to-frame moves must be shorter than half a cell),
    /// accumulated from the first frame and mapped to Cartesian with each frame's own cell.
    pub fn unwrapped(&self) -> Trajectory {
        let mut out = self.clone();
        if self.len() < 2 {
            return out;
        }
        let n = self.natoms();
        let frac = |t: usize, i: usize| {
            let p = self.positions.slice(ndarray::s![t, i, ..]);
            self.lattice(t).to_fractional(&Vector3::new(p[0], p[1], p[2]))
        };
        let mut acc: Vec<Vector3<f64>> = (0..n).map(|i| frac(0, i)).collect();
        let mut prev = acc.clone();
        for t in 1..self.len() {
            let lat = self.lattice(t);
            for i in 0..n {
                let f = frac(t, i);
                let mut d = f - prev[i];
                d.apply(|x| *x -= x.round());
                acc[i] += d;
                prev[i] = f;
                let c = lat.to_cartesian(&acc[i]);
                let mut row = out.positions.slice_mut(ndarray::s![t, i, ..]);
                row[0] = c.x;
                row[1] = c.y;
                row[2] = c.z;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn unwrapping_follows_an_atom_across_the_boundary() {
        let l = Lattice::cubic(10.0).unwrap();
        let li = Element::from_symbol("Li").unwrap();
        let mut t = Trajectory::new(vec![li], l);
        // Moves +0.4 Å per frame along x; wrapped positions jump from 9.8 back to 0.2.
        let mut x: f64 = 9.0;
        for _ in 0..6 {
            t.push_positions(&[Vector3::new(x.rem_euclid(10.0), 1.0, 1.0)], None)
                .unwrap();
            x += 0.4;
        }
        let u = t.unwrapped();
        for f in 0..6 {
            assert_relative_eq!(u.positions()[[f, 0, 0]], 9.0 + 0.4 * f as f64, epsilon = 1e-12);
        }
    }

    #[test]
    fn variable_cells_are_kept_per_frame() {
        let li = Element::from_symbol("Li").unwrap();
        let s1 = Structure::new(Lattice::cubic(5.0).unwrap(), vec![li], vec![Vector3::zeros()]).unwrap();
        let s2 = Structure::new(Lattice::cubic(5.5).unwrap(), vec![li], vec![Vector3::zeros()]).unwrap();
        let t = Trajectory::from_structures(&[s1.clone(), s1.clone(), s2]).unwrap();
        assert!(!t.has_fixed_cell());
        assert_relative_eq!(t.lattice(1).volume(), 125.0, epsilon = 1e-9);
        assert_relative_eq!(t.lattice(2).volume(), 5.5f64.powi(3), epsilon = 1e-9);
    }
}
