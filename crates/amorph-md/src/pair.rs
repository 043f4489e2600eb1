//! Short-range pair potentials and the calculator that sums them over neighbour pairs.
//!
//! A pair potential is a function of distance only: [`PairPotential::energy_force`] returns the
//! energy U(r) (eV) and the scalar force F(r) = −dU/dr (eV/Å). The built-in forms ([`PairTerm`]) are
//! those of the LAMMPS pair styles of the same name, with the same parameter order and units, so a
//! LAMMPS input translates line by line. [`PairInteractions`] applies them to every pair of atoms
//! within a cutoff, optionally shifted so that the energy (LAMMPS `pair_modify shift yes`) or the
//! energy and the force vanish at the cutoff.

use std::fmt;
use std::sync::Arc;

use amorph_structure::{Element, RebuildPolicy, VerletList};
use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calculator::{Calculator, Configuration, Evaluation};
use crate::error::{Error, Result};

/// A user-defined pair potential (implement this to add your own form).
pub trait PairPotential: Send + Sync + fmt::Debug {
    /// Energy U(r) (eV) and force F(r) = −dU/dr (eV/Å) at distance `r` (Å).
    fn energy_force(&self, r: f64) -> (f64, f64);
}

/// The built-in pair forms (LAMMPS style names and parameter order; eV, Å).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairTerm {
    /// `lj/cut`: U = 4ε[(σ/r)¹² − (σ/r)⁶].
    LennardJones { epsilon: f64, sigma: f64 },
    /// `buck`: U = A·exp(−r/ρ) − C/r⁶.
    Buckingham { a: f64, rho: f64, c: f64 },
    /// `born` (Born–Mayer–Huggins): U = A·exp((σ − r)/ρ) − C/r⁶ + D/r⁸.
    BornMayerHuggins {
        a: f64,
        rho: f64,
        sigma: f64,
        c: f64,
        d: f64,
    },
    /// `morse`: U = D₀[exp(−2α(r − r₀)) − 2·exp(−α(r − r₀))] (Pedone's D[(1 − e^{−α(r−r₀)})² − 1]).
    Morse { d0: f64, alpha: f64, r0: f64 },
    /// Repulsive wall U = C/r¹² (Pedone's short-range repulsion).
    InverseTwelve { c: f64 },
    /// Tabulated U and F at increasing distances (Å, eV, eV/Å), linearly interpolated; outside the
    /// table the end values hold (keep the table's range over the cutoff).
    Table {
        r: Vec<f64>,
        energy: Vec<f64>,
        force: Vec<f64>,
    },
    /// Any [`PairPotential`].
    #[serde(skip)]
    Custom(Arc<dyn PairPotential>),
}

impl PairTerm {
    /// Checks the parameters (finite, positive where they must be, tables sorted and consistent).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidParameter(format!("{what} in {self:?}")));
        let finite = |xs: &[f64]| xs.iter().all(|x| x.is_finite());
        match self {
            PairTerm::LennardJones { epsilon, sigma } if !finite(&[*epsilon, *sigma]) || *sigma <= 0.0 => {
                bad("σ must be positive and finite")
            }
            PairTerm::Buckingham { a, rho, c } if !finite(&[*a, *rho, *c]) || *rho <= 0.0 => {
                bad("ρ must be positive and finite")
            }
            PairTerm::BornMayerHuggins { a, rho, sigma, c, d }
                if !finite(&[*a, *rho, *sigma, *c, *d]) || *rho <= 0.0 =>
            {
                bad("ρ must be positive and finite")
            }
            PairTerm::Morse { d0, alpha, r0 } if !finite(&[*d0, *alpha, *r0]) => bad("non-finite parameter"),
            PairTerm::InverseTwelve { c } if !c.is_finite() => bad("non-finite C"),
            PairTerm::Table { r, energy, force } => {
                if r.len() < 2 || r.len() != energy.len() || r.len() != force.len() {
                    return bad("a table needs ≥ 2 points and equal lengths");
                }
                if !finite(r)
                    || !finite(energy)
                    || !finite(force)
                    || r.windows(2).any(|w| w[1] <= w[0])
                    || r[0] <= 0.0
                {
                    return bad("table distances must be positive and increasing, values finite");
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl PairPotential for PairTerm {
    #[inline(always)]
    fn energy_force(&self, r: f64) -> (f64, f64) {
        match self {
            PairTerm::LennardJones { epsilon, sigma } => {
                let s6 = (sigma / r).powi(6);
                let s12 = s6 * s6;
                (4.0 * epsilon * (s12 - s6), 24.0 * epsilon * (2.0 * s12 - s6) / r)
            }
            PairTerm::Buckingham { a, rho, c } => {
                let e = a * (-r / rho).exp();
                let r6 = c / r.powi(6);
                (e - r6, e / rho - 6.0 * r6 / r)
            }
            PairTerm::BornMayerHuggins { a, rho, sigma, c, d } => {
                let e = a * ((sigma - r) / rho).exp();
                let r6 = c / r.powi(6);
                let r8 = d / r.powi(8);
                (e - r6 + r8, e / rho - 6.0 * r6 / r + 8.0 * r8 / r)
            }
            PairTerm::Morse { d0, alpha, r0 } => {
                let x = (-alpha * (r - r0)).exp();
                (d0 * (x * x - 2.0 * x), 2.0 * alpha * d0 * (x * x - x))
            }
            PairTerm::InverseTwelve { c } => {
                let u = c / r.powi(12);
                (u, 12.0 * u / r)
            }
            PairTerm::Table { r: rs, energy, force } => {
                let n = rs.len();
                if r >= rs[n - 1] {
                    return (energy[n - 1], force[n - 1]);
                }
                if r <= rs[0] {
                    return (energy[0], force[0]);
                }
                let k = rs.partition_point(|&x| x <= r) - 1;
                let t = (r - rs[k]) / (rs[k + 1] - rs[k]);
                (
                    energy[k] + t * (energy[k + 1] - energy[k]),
                    force[k] + t * (force[k + 1] - force[k]),
                )
            }
            PairTerm::Custom(p) => p.energy_force(r),
        }
    }
}

/// A [`PairTerm`] compiled for the force loop: constants precomputed so that each pair costs one
/// division (1/r, shared by all terms).
#[derive(Debug, Clone)]
enum Kernel {
    Lj {
        e4: f64,
        e24: f64,
        sigma: f64,
    },
    Buck {
        a: f64,
        inv_rho: f64,
        c: f64,
    },
    Born {
        a: f64,
        inv_rho: f64,
        sigma: f64,
        c: f64,
        d: f64,
    },
    Morse {
        d0: f64,
        alpha: f64,
        r0: f64,
    },
    R12 {
        c: f64,
    },
    Other(PairTerm),
}

impl Kernel {
    fn new(t: &PairTerm) -> Self {
        match *t {
            PairTerm::LennardJones { epsilon, sigma } => Kernel::Lj {
                e4: 4.0 * epsilon,
                e24: 24.0 * epsilon,
                sigma,
            },
            PairTerm::Buckingham { a, rho, c } => Kernel::Buck {
                a,
                inv_rho: 1.0 / rho,
                c,
            },
            PairTerm::BornMayerHuggins { a, rho, sigma, c, d } => Kernel::Born {
                a,
                inv_rho: 1.0 / rho,
                sigma,
                c,
                d,
            },
            PairTerm::Morse { d0, alpha, r0 } => Kernel::Morse { d0, alpha, r0 },
            PairTerm::InverseTwelve { c } => Kernel::R12 { c },
            _ => Kernel::Other(t.clone()),
        }
    }

    /// (U, F) at distance r with inv_r = 1/r.
    /// Energy U (eV) and F/r (eV/Å², F = −dU/dr) at squared distance `r2` (Å²): the forms that are
    /// polynomials in 1/r² need no square root.
    #[inline(always)]
    fn eval(&self, r2: f64) -> (f64, f64) {
        match *self {
            Kernel::Lj { e4, e24, sigma } => {
                let inv_r2 = 1.0 / r2;
                let s2 = sigma * sigma * inv_r2;
                let s6 = s2 * s2 * s2;
                let s12 = s6 * s6;
                (e4 * (s12 - s6), e24 * (2.0 * s12 - s6) * inv_r2)
            }
            Kernel::Buck { a, inv_rho, c } => {
                let r = r2.sqrt();
                let inv_r = 1.0 / r;
                let e = a * (-r * inv_rho).exp();
                let i2 = inv_r * inv_r;
                let r6 = c * i2 * i2 * i2;
                (e - r6, e * inv_rho * inv_r - 6.0 * r6 * i2)
            }
            Kernel::Born {
                a,
                inv_rho,
                sigma,
                c,
                d,
            } => {
                let r = r2.sqrt();
                let inv_r = 1.0 / r;
                let e = a * ((sigma - r) * inv_rho).exp();
                let i2 = inv_r * inv_r;
                let i6 = i2 * i2 * i2;
                let (r6, r8) = (c * i6, d * i6 * i2);
                (e - r6 + r8, e * inv_rho * inv_r - 6.0 * r6 * i2 + 8.0 * r8 * i2)
            }
            Kernel::Morse { d0, alpha, r0 } => {
                let r = r2.sqrt();
                let x = (-alpha * (r - r0)).exp();
                (d0 * (x * x - 2.0 * x), 2.0 * alpha * d0 * (x * x - x) / r)
            }
            Kernel::R12 { c } => {
                let i2 = 1.0 / r2;
                let i6 = i2 * i2 * i2;
                let u = c * i6 * i6;
                (u, 12.0 * u * i2)
            }
            Kernel::Other(ref t) => {
                let r = r2.sqrt();
                let (e, f) = t.energy_force(r);
                (e, f / r)
            }
        }
    }
}

/// How a pair interaction is truncated at its cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    /// Plain cut: U and F jump to zero at the cutoff (LAMMPS default, `pair_modify shift no`).
    #[default]
    Cut,
    /// Energy shifted to zero at the cutoff (LAMMPS `pair_modify shift yes`); forces unchanged.
    ShiftEnergy,
    /// Energy and force both go to zero at the cutoff (shifted force): U(r) − U(rc) + (r − rc)·F(rc),
    /// F(r) − F(rc).
    ShiftForce,
}

/// The interaction of one pair of elements.
#[derive(Debug, Clone)]
struct PairEntry {
    first: Kernel,
    rest: Vec<Kernel>,
    cutoff2: f64,
    cutoff: f64,
    truncation: Truncation,
    energy_at_cutoff: f64,
    force_at_cutoff: f64,
}

impl PairEntry {
    fn new(terms: &[PairTerm], cutoff: f64, truncation: Truncation) -> Self {
        let mut kernels = terms.iter().map(Kernel::new);
        let first = kernels
            .next()
            .unwrap_or(Kernel::Other(PairTerm::InverseTwelve { c: 0.0 }));
        let mut entry = PairEntry {
            first,
            rest: kernels.collect(),
            cutoff2: cutoff * cutoff,
            cutoff,
            truncation,
            energy_at_cutoff: 0.0,
            force_at_cutoff: 0.0,
        };
        let (e, fr) = entry.raw(cutoff * cutoff);
        entry.energy_at_cutoff = e;
        entry.force_at_cutoff = fr * cutoff;
        entry
    }

    #[inline(always)]
    fn raw(&self, r2: f64) -> (f64, f64) {
        let (mut e, mut fr) = self.first.eval(r2);
        for k in &self.rest {
            let (de, dfr) = k.eval(r2);
            e += de;
            fr += dfr;
        }
        (e, fr)
    }

    /// Energy (eV) and F/r (eV/Å²) at squared distance `r2` inside the cutoff, truncation applied.
    #[inline(always)]
    fn energy_fr(&self, r2: f64) -> (f64, f64) {
        let (e, fr) = self.raw(r2);
        match self.truncation {
            Truncation::Cut => (e, fr),
            Truncation::ShiftEnergy => (e - self.energy_at_cutoff, fr),
            Truncation::ShiftForce => {
                let r = r2.sqrt();
                (
                    e - self.energy_at_cutoff + (r - self.cutoff) * self.force_at_cutoff,
                    fr - self.force_at_cutoff / r,
                )
            }
        }
    }

    /// Energy (eV) and force F (eV/Å) at distance `r` inside the cutoff.
    fn energy_force(&self, r: f64) -> (f64, f64) {
        let (e, fr) = self.energy_fr(r * r);
        (e, fr * r)
    }
}

/// Work units of the force loop in deterministic mode: fixed, so that the summation order (and so
/// the result, bit for bit) does not depend on the number of threads.
const DETERMINISTIC_WORK_UNITS: usize = 16;

/// Short-range pair interactions between elements, as a [`Calculator`].
///
/// Pairs of elements without terms do not interact (through this calculator). A Verlet list with a
/// skin (default 1 Å) is kept between calls.
///
/// The pair loop is split into one work unit per rayon thread, each with its own force buffer, and
/// the buffers are added in order: results are reproducible for a given thread count and differ
/// between thread counts only in the last bits (summation order; ~1e-15 relative). With
/// [`deterministic`](Self::deterministic) the split is fixed (16 units) and results are identical on
/// any number of threads, at the cost of more buffer traffic.
#[derive(Debug, Clone)]
pub struct PairInteractions {
    elements: Vec<Element>,
    /// `entries[a * (n + 1) + b]` for element indices a, b < n; index n stands for an element without
    /// interactions, so its row and column stay empty.
    entries: Vec<Option<PairEntry>>,
    cutoff: f64,
    skin: f64,
    rebuild: RebuildPolicy,
    verlet: Option<VerletList>,
    /// Per slot of the Verlet list: element index (n for elements without interactions).
    types: Vec<u16>,
    /// Slot coordinates of the current positions.
    slot_positions: Vec<Vector3<f64>>,
    /// Slot of every atom (inverse of the list's slot order).
    slot_of_atom: Vec<u32>,
    partials: Vec<Partial>,
    deterministic: bool,
}

impl PairInteractions {
    /// An empty set of interactions with a global cutoff (Å) and truncation.
    pub fn new(cutoff: f64) -> Result<Self> {
        if !(cutoff.is_finite() && cutoff > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "pair cutoff must be positive, got {cutoff}"
            )));
        }
        Ok(PairInteractions {
            elements: Vec::new(),
            entries: vec![None],
            cutoff,
            skin: 1.0,
            rebuild: RebuildPolicy::default(),
            verlet: None,
            types: Vec::new(),
            slot_positions: Vec::new(),
            slot_of_atom: Vec::new(),
            partials: Vec::new(),
            deterministic: false,
        })
    }

    /// Set the Verlet-list skin, Å (default 1).
    pub fn with_skin(mut self, skin: f64) -> Result<Self> {
        if !(skin.is_finite() && skin >= 0.0) {
            return Err(Error::InvalidParameter(format!("skin must be ≥ 0, got {skin}")));
        }
        self.skin = skin;
        self.verlet = None;
        Ok(self)
    }

    /// When the Verlet list is rebuilt (default: whenever an atom has moved half the skin, checked at
    /// every step). LAMMPS's `neigh_modify every 20 delay 0 check no` is
    /// `RebuildPolicy { every: 20, check: false }`; unchecked rebuilds miss pairs if atoms move more
    /// than half the skin in between.
    pub fn with_rebuild_policy(mut self, policy: RebuildPolicy) -> Result<Self> {
        if policy.every == 0 {
            return Err(Error::InvalidParameter("rebuild every 0 steps".into()));
        }
        self.rebuild = policy;
        self.verlet = None;
        Ok(self)
    }

    /// Make results independent of the number of threads (bit for bit).
    pub fn deterministic(mut self, on: bool) -> Self {
        self.deterministic = on;
        self
    }

    fn index(&mut self, e: Element) -> usize {
        if let Some(i) = self.elements.iter().position(|&x| x == e) {
            return i;
        }
        let n = self.elements.len();
        let mut entries = vec![None; (n + 2) * (n + 2)];
        for a in 0..n {
            for b in 0..n {
                entries[a * (n + 2) + b] = self.entries[a * (n + 1) + b].take();
            }
        }
        self.entries = entries;
        self.elements.push(e);
        n
    }

    /// Add (or replace) the interaction of elements `a` and `b` (symmetric), with the global cutoff or
    /// a shorter one of its own.
    pub fn set_pair(
        &mut self,
        a: Element,
        b: Element,
        terms: Vec<PairTerm>,
        truncation: Truncation,
        cutoff: Option<f64>,
    ) -> Result<()> {
        for t in &terms {
            t.validate()?;
        }
        let rc = cutoff.unwrap_or(self.cutoff);
        if !(rc.is_finite() && rc > 0.0 && rc <= self.cutoff) {
            return Err(Error::InvalidParameter(format!(
                "cutoff {rc} Å for {a}–{b} must be positive and at most the global {} Å",
                self.cutoff
            )));
        }
        let (ia, ib) = (self.index(a), self.index(b));
        let stride = self.elements.len() + 1;
        let entry = PairEntry::new(&terms, rc, truncation);
        self.entries[ia * stride + ib] = Some(entry.clone());
        self.entries[ib * stride + ia] = Some(entry);
        self.verlet = None;
        Ok(())
    }

    /// Energy (eV) and force (eV/Å) of the `a`–`b` interaction at distance `r`, as the calculator
    /// applies it (truncation included); `None` when the pair does not interact.
    pub fn pair_energy_force(&self, a: Element, b: Element, r: f64) -> Option<(f64, f64)> {
        let stride = self.elements.len() + 1;
        let ia = self.elements.iter().position(|&x| x == a)?;
        let ib = self.elements.iter().position(|&x| x == b)?;
        let e = self.entries[ia * stride + ib].as_ref()?;
        Some(if r < e.cutoff {
            e.energy_force(r)
        } else {
            (0.0, 0.0)
        })
    }
}

/// One work unit of the pair sum: a range of slots and what it reads.
struct Unit<'a> {
    slots: std::ops::Range<usize>,
    x: &'a [Vector3<f64>],
    types: &'a [u16],
    entries: &'a [Option<PairEntry>],
    stride: usize,
    verlet: &'a VerletList,
}

impl Unit<'_> {
    /// Sum the pairs of the unit's slots into `part` (forces by slot), with the virial or without.
    #[inline(always)]
    fn sum<const VIRIAL: bool>(&self, part: &mut Partial) {
        let (x, types, shifts) = (self.x, self.types, self.verlet.shifts());
        let (mut energy, mut w) = (0.0, [0.0f64; 6]);
        for p in self.slots.clone() {
            let xi = x[p];
            let ti = types[p] as usize;
            let row = &self.entries[ti * self.stride..(ti + 1) * self.stride];
            let (qs, ids) = self.verlet.row(p);
            // The force on p stays in a register while its pairs stream by.
            let mut fi = Vector3::zeros();
            for (&q, &s) in qs.iter().zip(ids) {
                let q = q as usize;
                let Some(entry) = &row[types[q] as usize] else {
                    continue;
                };
                let d = x[q] - xi + shifts[usize::from(s)];
                let r2 = d.norm_squared();
                // Pairs in the skin are evaluated and masked rather than branched over: about a
                // third of the list, and a branch there mispredicts.
                let inside = if r2 < entry.cutoff2 { 1.0 } else { 0.0 };
                let (e, fr) = entry.energy_fr(r2);
                let (e, fr) = (e * inside, fr * inside);
                // Force on q is (F/r)·d, on p its opposite; the virial adds d ⊗ f (six
                // components, mirrored at the end).
                let fd = d * fr;
                fi -= fd;
                part.forces[q] += fd;
                energy += e;
                if VIRIAL {
                    w[0] += fd.x * d.x;
                    w[1] += fd.y * d.y;
                    w[2] += fd.z * d.z;
                    w[3] += fd.x * d.y;
                    w[4] += fd.x * d.z;
                    w[5] += fd.y * d.z;
                }
                if let Some(pa) = &mut part.per_atom {
                    pa[p] += 0.5 * e;
                    pa[q] += 0.5 * e;
                }
            }
            part.forces[p] += fi;
        }
        part.energy = energy;
        part.virial6 = w;
    }
}

/// Per-work-unit partial results.
#[derive(Debug, Clone, Default)]
struct Partial {
    energy: f64,
    /// xx, yy, zz, xy, xz, yz.
    virial6: [f64; 6],
    forces: Vec<Vector3<f64>>,
    per_atom: Option<Vec<f64>>,
}

impl Partial {
    fn reset(&mut self, natoms: usize, per_atom: bool) {
        self.energy = 0.0;
        self.virial6 = [0.0; 6];
        self.forces.clear();
        self.forces.resize(natoms, Vector3::zeros());
        match (&mut self.per_atom, per_atom) {
            (Some(v), true) => {
                v.clear();
                v.resize(natoms, 0.0);
            }
            (slot, true) => *slot = Some(vec![0.0; natoms]),
            (slot, false) => *slot = None,
        }
    }
}

impl Calculator for PairInteractions {
    fn name(&self) -> String {
        format!("pair interactions (cutoff {} Å)", self.cutoff)
    }

    fn cutoff(&self) -> Option<f64> {
        Some(self.cutoff)
    }

    fn invalidate(&mut self) {
        self.verlet = None;
    }

    fn compute(&mut self, config: &Configuration, out: &mut Evaluation) -> Result<()> {
        let natoms = config.len();
        if out.forces.len() != natoms {
            return Err(Error::Configuration(format!(
                "evaluation holds {} forces for {natoms} atoms",
                out.forces.len()
            )));
        }
        let n = self.elements.len();
        let stride = n + 1;
        let verlet = match &mut self.verlet {
            Some(v) => v,
            None => self
                .verlet
                .insert(VerletList::new(self.cutoff, self.skin)?.with_policy(self.rebuild)?),
        };
        let rebuilt = verlet.update(config.lattice, config.positions)?;
        let order = verlet.atom_of_slot();
        // Species are looked up afresh every call (cheap next to the pairs), never cached stale.
        self.types.clear();
        self.types.extend(order.iter().map(|&i| {
            let e = config.species[i as usize];
            self.elements.iter().position(|&x| x == e).unwrap_or(n) as u16
        }));
        // The slot order changes only when the list is rebuilt.
        if rebuilt || self.slot_of_atom.len() != natoms {
            self.slot_of_atom.resize(natoms, 0);
            for (p, &i) in order.iter().enumerate() {
                self.slot_of_atom[i as usize] = p as u32;
            }
        }
        verlet.slot_positions(config.positions, &mut self.slot_positions);
        let (x, types, entries) = (&self.slot_positions, &self.types, &self.entries);
        let want_per_atom = out.per_atom_energies.is_some();
        let units = if self.deterministic {
            DETERMINISTIC_WORK_UNITS
        } else {
            rayon::current_num_threads()
        };
        // Contiguous ranges of slots with about equal numbers of pairs; fixed by the list alone.
        let rows = verlet.row_starts();
        let total = u64::from(rows[natoms]);
        let mut bounds = vec![0usize];
        for u in 1..units.max(1) {
            let target = total * u as u64 / units as u64;
            let b = rows.partition_point(|&r| u64::from(r) < target).min(natoms);
            if b > *bounds.last().unwrap_or(&0) {
                bounds.push(b);
            }
        }
        if *bounds.last().unwrap_or(&0) < natoms || bounds.len() == 1 {
            bounds.push(natoms);
        }
        let nunits = bounds.len() - 1;
        // Buffers kept between calls: no allocation in the step loop once warmed up.
        self.partials.resize_with(nunits, Partial::default);
        let verlet = &*verlet;
        let want_virial = !out.skip_virial;
        self.partials[..nunits]
            .par_iter_mut()
            .enumerate()
            .for_each(|(u, part)| {
                part.reset(natoms, want_per_atom);
                let unit = Unit {
                    slots: bounds[u]..bounds[u + 1],
                    x,
                    types,
                    entries,
                    stride,
                    verlet,
                };
                if want_virial {
                    unit.sum::<true>(part);
                } else {
                    unit.sum::<false>(part);
                }
            });
        let partials = &self.partials[..nunits];
        for part in partials {
            out.energy += part.energy;
            let [xx, yy, zz, xy, xz, yz] = part.virial6;
            out.virial += Matrix3::new(xx, xy, xz, xy, yy, yz, xz, yz, zz);
        }
        // Back to atom order, summing the units in a fixed order (deterministic per unit split).
        let slot_of_atom = &self.slot_of_atom;
        out.forces.par_iter_mut().enumerate().for_each(|(i, f)| {
            let p = slot_of_atom[i] as usize;
            for part in partials {
                *f += part.forces[p];
            }
        });
        if let Some(o) = &mut out.per_atom_energies {
            for (i, x) in o.iter_mut().enumerate() {
                let p = slot_of_atom[i] as usize;
                for part in partials {
                    if let Some(pa) = &part.per_atom {
                        *x += pa[p];
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms() -> Vec<PairTerm> {
        vec![
            PairTerm::LennardJones {
                epsilon: 0.0103,
                sigma: 3.405,
            },
            PairTerm::Buckingham {
                a: 18003.7572,
                rho: 1.0 / 4.87318,
                c: 133.5381,
            },
            PairTerm::BornMayerHuggins {
                a: 0.26,
                rho: 0.29,
                sigma: 2.34,
                c: 1.05,
                d: 0.5,
            },
            PairTerm::Morse {
                d0: 0.340554,
                alpha: 2.0067,
                r0: 2.1,
            },
            PairTerm::InverseTwelve { c: 22.0 },
            PairTerm::Table {
                r: vec![1.0, 2.0, 3.0],
                energy: vec![3.0, 1.0, 0.0],
                force: vec![2.0, 1.0, 0.0],
            },
        ]
    }

    #[test]
    fn forces_are_minus_the_derivative_and_kernels_match_the_terms() {
        for t in forms() {
            let k = Kernel::new(&t);
            for r in [1.3, 1.7, 2.2, 3.5, 5.0] {
                let (e, f) = t.energy_force(r);
                let (ke, kfr) = k.eval(r * r);
                let kf = kfr * r;
                assert!((e - ke).abs() <= 1e-12 * e.abs().max(1e-12), "{t:?} at {r}");
                assert!((f - kf).abs() <= 1e-12 * f.abs().max(1e-12), "{t:?} at {r}");
                if !matches!(t, PairTerm::Table { .. }) {
                    let h = 1e-6;
                    let fd = -(t.energy_force(r + h).0 - t.energy_force(r - h).0) / (2.0 * h);
                    assert!(
                        (fd - f).abs() < 1e-6 * f.abs().max(1.0),
                        "{t:?} at {r}: {fd} vs {f}"
                    );
                }
            }
        }
    }

    #[test]
    fn truncations_behave_at_the_cutoff() {
        let lj = vec![PairTerm::LennardJones {
            epsilon: 1.0,
            sigma: 1.0,
        }];
        let rc = 2.5;
        let cut = PairEntry::new(&lj, rc, Truncation::Cut);
        let se = PairEntry::new(&lj, rc, Truncation::ShiftEnergy);
        let sf = PairEntry::new(&lj, rc, Truncation::ShiftForce);
        let near = rc - 1e-9;
        assert!(cut.energy_force(near).0.abs() > 1e-3);
        assert!(se.energy_force(near).0.abs() < 1e-9);
        let (e, f) = sf.energy_force(near);
        assert!(e.abs() < 1e-9 && f.abs() < 1e-7);
        assert!(
            PairTerm::LennardJones {
                epsilon: 1.0,
                sigma: -1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            PairTerm::Table {
                r: vec![2.0, 1.0],
                energy: vec![0.0; 2],
                force: vec![0.0; 2]
            }
            .validate()
            .is_err()
        );
    }
}
