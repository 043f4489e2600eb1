//! Radial distribution functions and coordination numbers.
//!
//! Conventions (those of a periodic ideal gas, so that g → 1 at large r):
//! `g_AB(r) = V · n_AB(r) / (N_A · N_B · ΔV(r))`, where `n_AB` counts ordered pairs (an A atom and a
//! B atom, every periodic image, the atom itself excluded) whose distance falls in the bin, and
//! `ΔV = 4π/3 (r_hi³ − r_lo³)` is the exact volume of the spherical shell. The total g(r) uses all
//! atoms: `V · n(r) / (N² · ΔV)`. Bins are `[k·Δr, (k+1)·Δr)` with `Δr = rmax / bins`; `r` is reported at
//! bin centres.

use std::f64::consts::PI;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::element::Element;
use crate::error::{Error, Result};
use crate::neighbors::{CellGrid, Neighbourhood, PairScan};
use crate::structure::Structure;
use crate::trajectory::Trajectory;

/// Total and partial radial distribution functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rdf {
    /// Bin centres, Å.
    pub r: Vec<f64>,
    /// Bin edges (`bins + 1` values), Å.
    pub edges: Vec<f64>,
    /// Total g(r).
    pub total: Vec<f64>,
    /// Partial g_AB(r) for every element pair with A ≤ B in pymatgen order (electronegativity).
    pub partials: Vec<PartialRdf>,
    /// Number of frames averaged.
    pub frames: usize,
}

/// One partial RDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartialRdf {
    /// Centre species A.
    pub a: Element,
    /// Neighbour species B.
    pub b: Element,
    /// g_AB(r) per bin.
    pub g: Vec<f64>,
    /// Running coordination number: mean number of B atoms around an A atom up to each bin's upper
    /// edge.
    pub coordination: Vec<f64>,
}

impl Rdf {
    /// RDFs of one structure up to `rmax` Å in `bins` bins.
    pub fn new(structure: &Structure, rmax: f64, bins: usize) -> Result<Rdf> {
        let mut acc = Accumulator::new(&structure.elements(), structure.species(), rmax, bins)?;
        acc.add_frame(structure)?;
        Ok(acc.finish())
    }

    /// RDFs averaged over the frames of a trajectory (each frame normalised by its own volume).
    pub fn from_trajectory(trajectory: &Trajectory, rmax: f64, bins: usize) -> Result<Rdf> {
        let mut elements = trajectory.species().to_vec();
        elements.sort();
        elements.dedup();
        let mut acc = Accumulator::new(&elements, trajectory.species(), rmax, bins)?;
        for frame in trajectory.frames() {
            acc.add_frame(&frame)?;
        }
        if acc.frames == 0 {
            return Err(Error::InvalidArgument("RDF of an empty trajectory".into()));
        }
        Ok(acc.finish())
    }

    /// The partial g_AB in either order.
    pub fn partial(&self, a: Element, b: Element) -> Option<&PartialRdf> {
        self.partials
            .iter()
            .find(|p| (p.a == a && p.b == b) || (p.a == b && p.b == a))
    }
}

struct Accumulator {
    elements: Vec<Element>,
    rmax: f64,
    bins: usize,
    /// Per element pair (a, b), filled for a ≤ b, and bin: Σ over frames of V·n / (N_A N_B ΔV).
    g: Vec<Vec<f64>>,
    /// Per ordered pair (a, b): Σ over frames of the number of b atoms per a atom within each bin.
    per_center: Vec<Vec<f64>>,
    total: Vec<f64>,
    frames: usize,
}

impl Accumulator {
    fn new(elements: &[Element], species: &[Element], rmax: f64, bins: usize) -> Result<Self> {
        if !(rmax.is_finite() && rmax > 0.0) || bins == 0 {
            return Err(Error::InvalidArgument(format!(
                "RDF needs rmax > 0 and at least one bin, got rmax={rmax}, bins={bins}"
            )));
        }
        if species.is_empty() {
            return Err(Error::InvalidArgument("RDF of a structure with no atoms".into()));
        }
        let ne = elements.len();
        Ok(Accumulator {
            elements: elements.to_vec(),
            rmax,
            bins,
            g: vec![vec![0.0; bins]; ne * ne],
            per_center: vec![vec![0.0; bins]; ne * ne],
            total: vec![0.0; bins],
            frames: 0,
        })
    }

    fn add_frame(&mut self, s: &Structure) -> Result<()> {
        let ne = self.elements.len();
        let kind: Vec<usize> = s
            .species()
            .iter()
            .map(|e| self.elements.iter().position(|x| x == e).unwrap_or(0))
            .collect();
        let dr = self.rmax / self.bins as f64;
        let bins = self.bins;
        let grid = CellGrid::new(s.lattice(), s.positions(), self.rmax)?;
        // Ordered pair counts per (centre kind, neighbour kind, bin): integers, so the parallel sum is
        // exact and independent of the thread count.
        // Pairs at exactly rmax are outside the last bin: keep d² < rmax², i.e. ≤ the double below it.
        let rc2 = grid.cutoff2().next_down();
        let stride = bins;
        let inv_dr = 1.0 / dr;
        let kind_of_slot: Vec<usize> = grid.original.iter().map(|&i| kind[i as usize]).collect();
        let once: Vec<u64> = grid
            .par_chunks()
            .map(|bins_range| {
                let mut h = vec![0u64; ne * ne * stride];
                let mut near = Neighbourhood::for_grid(&grid);
                // Each unordered pair is counted once here, under (its centre's kind, its
                // neighbour's kind), and in both orders when the histograms are summed below.
                for home in bins_range {
                    near.gather(&grid, home, true);
                    for p in grid.bin_slots(home) {
                        let row = kind_of_slot[p] * ne * stride;
                        near.within::<true>(&grid, p, rc2, |e, d2| {
                            let k = ((d2.sqrt() * inv_dr) as usize).min(bins - 1);
                            h[row + kind[e[0] as usize] * stride + k] += 1;
                        });
                    }
                }
                h
            })
            .reduce(
                || vec![0u64; ne * ne * stride],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        // Ordered pairs: (a, b) seen from a and from b.
        let counts: Vec<u64> = (0..once.len())
            .map(|i| {
                let (ab, k) = (i / stride, i % stride);
                once[i] + once[((ab % ne) * ne + ab / ne) * stride + k]
            })
            .collect();
        let natoms = s.len();
        let volume = s.volume();
        let n_of: Vec<f64> = (0..ne)
            .map(|k| kind.iter().filter(|&&x| x == k).count() as f64)
            .collect();
        let n_total = natoms as f64;
        let shell = |k: usize| 4.0 / 3.0 * PI * (((k + 1) as f64 * dr).powi(3) - (k as f64 * dr).powi(3));
        for a in 0..ne {
            for b in 0..ne {
                let per = &mut self.per_center[a * ne + b];
                for (k, p) in per.iter_mut().enumerate() {
                    if n_of[a] > 0.0 {
                        *p += counts[(a * ne + b) * stride + k] as f64 / n_of[a];
                    }
                }
            }
        }
        for a in 0..ne {
            for b in a..ne {
                let idx = a * ne + b;
                for k in 0..bins {
                    let n = counts[(a * ne + b) * stride + k] as f64;
                    if n_of[a] > 0.0 && n_of[b] > 0.0 {
                        self.g[idx][k] += volume * n / (n_of[a] * n_of[b] * shell(k));
                    }
                }
            }
        }
        for k in 0..bins {
            let n: u64 = (0..ne * ne).map(|p| counts[p * stride + k]).sum();
            self.total[k] += volume * n as f64 / (n_total * n_total * shell(k));
        }
        self.frames += 1;
        Ok(())
    }

    fn finish(self) -> Rdf {
        let f = self.frames as f64;
        let dr = self.rmax / self.bins as f64;
        let ne = self.elements.len();
        let mut partials = Vec::with_capacity(self.g.len());
        for a in 0..ne {
            for b in a..ne {
                let g = self.g[a * ne + b].iter().map(|x| x / f).collect();
                let mut running = 0.0;
                let coordination = self.per_center[a * ne + b]
                    .iter()
                    .map(|x| {
                        running += x / f;
                        running
                    })
                    .collect();
                partials.push(PartialRdf {
                    a: self.elements[a],
                    b: self.elements[b],
                    g,
                    coordination,
                });
            }
        }
        Rdf {
            r: (0..self.bins).map(|k| (k as f64 + 0.5) * dr).collect(),
            edges: (0..=self.bins).map(|k| k as f64 * dr).collect(),
            total: self.total.iter().map(|x| x / f).collect(),
            partials,
            frames: self.frames,
        }
    }
}

/// Mean number of `neighbor` atoms within `cutoff` Å of each `center` atom (every periodic image).
pub fn coordination_number(
    structure: &Structure,
    center: Element,
    neighbor: Element,
    cutoff: f64,
) -> Result<f64> {
    let grid = CellGrid::new(structure.lattice(), structure.positions(), cutoff)?;
    let species = structure.species();
    let centers = species.iter().filter(|&&e| e == center).count();
    if centers == 0 {
        return Err(Error::InvalidArgument(format!(
            "the structure has no {center} atom"
        )));
    }
    let rc2 = grid.cutoff2();
    let total: usize = grid
        .par_chunks()
        .map(|bins| {
            let mut n = 0;
            let mut scan = PairScan::default();
            grid.visit_runs(bins, false, |p, runs| {
                if species[grid.original[p] as usize] != center {
                    return;
                }
                for c in runs {
                    scan.within(&grid, p, c, rc2, |q, _| {
                        n += usize::from(species[grid.original[q] as usize] == neighbor);
                    });
                }
            });
            n
        })
        .sum();
    Ok(total as f64 / centers as f64)
}
