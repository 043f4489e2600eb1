//! # amorph-pack
//!
//! Random packing of a composition into a periodic cell at a density, with minimum distances between
//! atoms: the job PACKMOL does for the starting structures of melt–quench simulations, for single
//! atoms, faster and surer.
//!
//! ```
//! use amorph_pack::{PackRequest, pack};
//!
//! // 999 atoms of Li2Si2O5 glass (111 formula units) at 2.3 g/cm³, every pair at least 2.2 Å apart
//! // (periodic images included), reproducibly from seed 7.
//! let request = PackRequest::new("Li2Si2O5".parse()?)
//!     .atoms(999)
//!     .density(2.3)
//!     .tolerance(2.2)
//!     .seed(7);
//! let glass = pack(&request)?;
//! assert_eq!(glass.len(), 999);
//! assert!((glass.density() - 2.3).abs() < 1e-9);
//! assert_eq!(glass.composition().reduced_formula(), "Li2Si2O5");
//!
//! // Impossible requests fail at once, saying why.
//! let err = pack(&request.clone().density(6.0).tolerance(2.5)).unwrap_err();
//! assert!(err.to_string().contains("packing fraction of 1.77"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How
//!
//! 1. **Plan** ([`PackRequest::plan`]): exact atom counts from the composition, the cell from the
//!    density (cubic, or any lattice shape scaled to the volume), the table of minimum distances per
//!    species pair. Requests that cannot work are refused here, before any random number is drawn: a
//!    hard-sphere packing fraction φ = Σᵢ (π/6) dᵢ³ / V above [`PACKING_FRACTION_LIMIT`] (0.64, random
//!    close packing of equal spheres; dᵢ is the smallest minimum distance of atom i's species, so
//!    with per-pair distances φ is a lower bound and the refusal conservative), or a cell so small that
//!    an atom would touch its own periodic image.
//! 2. **Insert**: random sequential insertion on a periodic cell grid (bins at least one distance
//!    wide, 27 bins per test): each atom, in a seeded random order, gets up to 64 uniform trial
//!    positions and takes the first that keeps every distance. Insertion alone jams near φ ≈ 0.38; when
//!    an atom finds no room, it and every later atom go to the least-overlapping of 4 candidates.
//! 3. **Relax** (only if anything overlaps): FIRE minimisation of PACKMOL's penalty
//!    Σ max(0, σ² − r²)² with σ = 1.002 d, over a half Verlet list (skin 0.3 σ, atoms re-sorted by
//!    cell-grid bin at each rebuild), until every pair is at least 1.0001 d apart. When it stalls, the
//!    padding σ − d halves (down to 0.0002 d: slightly padded spheres can be jammed where the true ones
//!    are not), then overlapping atoms get random kicks. An iteration budget
//!    ([`PackRequest::max_iterations`]) bounds it; the error then says how close it got. Soft spheres
//!    unjam below φ ≈ 0.64, so this reaches densities random insertion never does: Li2Si2O5 up to
//!    φ = 0.639 (36 of 36 seeds and sizes tried), where PACKMOL gives up near 0.63.
//! 4. **Verify**: positions wrapped into the cell, sites sorted by element (pymatgen order, so POSCAR
//!    files group them), and every pair checked once more with an independent neighbour list at the
//!    largest distance; a violation is an error, never a silent result.
//!
//! Everything random comes from one ChaCha8 stream seeded by [`PackRequest::seed`]; forces are summed
//! per atom in a fixed order over fixed chunks, so the same request gives the same structure, bit for
//! bit, on any number of threads.

mod error;
mod insert;
mod relax;
mod request;
mod rng;

use std::time::{Duration, Instant};

use amorph_structure::{Element, NeighborList, PairSet, Structure};
use serde::Serialize;

pub use error::{PackError, Result};
pub use request::{
    DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, PACKING_FRACTION_LIMIT, PackPlan, PackRequest, PairDistances,
};

use insert::InsertionGrid;
use relax::{Outcome, RelaxSettings, RelaxStatus, Tables};
use rng::Rng;

/// Trial positions per atom during random sequential insertion.
const ATTEMPTS: usize = 64;
/// Candidates per atom once insertion has jammed (the least-overlapping is kept).
const FALLBACK_CANDIDATES: usize = 4;
/// The minimiser's penalty reaches to σ = d · PAD at first (shrinking towards d when it stalls) ...
const PAD: f64 = 1.002;
/// ... and stops when every pair is at least d · MARGIN apart, so that round-off in later
/// arithmetic (wrapping, fractional ↔ Cartesian, ~1e-15 relative) never leaves a pair below d, nor does
/// a file format that keeps 5 decimals of Å.
const MARGIN: f64 = 1.0001;

/// Where a packing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Random sequential insertion: [`Progress::placed`] of [`Progress::natoms`].
    Insert,
    /// Overlap minimisation: [`Progress::iteration`] of [`Progress::max_iterations`], with
    /// [`Progress::overlaps`] pairs still too close.
    Relax,
    /// The final check of every pair.
    Verify,
    /// Finished: [`Progress::min_distance`] holds the closest pair.
    Done,
}

/// A progress report from [`pack_with_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Progress {
    /// The current stage.
    pub stage: Stage,
    /// Atoms to pack.
    pub natoms: usize,
    /// Atoms placed so far.
    pub placed: usize,
    /// Atoms placed by insertion without any overlap (the rest needed the minimiser).
    pub inserted_clean: usize,
    /// Minimisation iterations so far.
    pub iteration: usize,
    /// Minimisation budget.
    pub max_iterations: usize,
    /// Pairs closer than their minimum distance (during [`Stage::Relax`]).
    pub overlaps: usize,
    /// Smallest distance / required distance over the overlapping pairs (1 when none overlap).
    pub closest_ratio: f64,
    /// At [`Stage::Done`]: the smallest pair distance in the structure, Å, if any pair lies within
    /// 1.05 times the largest minimum distance.
    pub min_distance: Option<f64>,
    /// Seconds since the start.
    pub seconds: f64,
}

/// Packs the request into a periodic structure; see the [crate docs](crate) for how.
pub fn pack(request: &PackRequest) -> Result<Structure> {
    pack_with_progress(request, |_| {})
}

/// [`pack`], calling `progress` now and then (every 4 096 atoms inserted, every 16 minimisation
/// iterations) so that a caller can show a progress bar. The last call is at [`Stage::Done`] and
/// carries the smallest pair distance.
pub fn pack_with_progress(request: &PackRequest, mut progress: impl FnMut(&Progress)) -> Result<Structure> {
    let start = Instant::now();
    let plan = request.plan()?;
    let natoms = plan.natoms();
    let ns = plan.counts().len();
    let mut report = Progress {
        stage: Stage::Insert,
        natoms,
        placed: 0,
        inserted_clean: 0,
        iteration: 0,
        max_iterations: request.get_max_iterations(),
        overlaps: 0,
        closest_ratio: 1.0,
        min_distance: None,
        seconds: 0.0,
    };

    let d: Vec<f64> = plan.distance_table().to_vec();
    let mut tables = Tables::new(&d, ns, PAD, MARGIN);

    // Species in a seeded random order; larger exclusion spheres first (a stable sort, so equal
    // sizes keep the random order): big-first insertion packs mixtures of sizes more densely.
    let mut rng = Rng::new(request.get_seed());
    let mut kinds: Vec<u16> = Vec::with_capacity(natoms);
    for (s, &(_, n)) in plan.counts().iter().enumerate() {
        kinds.extend(std::iter::repeat_n(s as u16, n));
    }
    rng.shuffle(&mut kinds);
    kinds.sort_by(|&a, &b| {
        let da = plan.min_distance(a as usize, a as usize);
        let db = plan.min_distance(b as usize, b as usize);
        db.total_cmp(&da)
    });

    let lattice = plan.lattice().clone();
    let mut grid = InsertionGrid::new(&lattice, natoms, tables.check2.clone(), tables.sigma2.clone(), ns);
    let clean = insert::insert(
        &mut grid,
        &kinds,
        &mut rng,
        ATTEMPTS,
        FALLBACK_CANDIDATES,
        |placed| {
            report.placed = placed;
            report.seconds = start.elapsed().as_secs_f64();
            progress(&report);
        },
    );
    report.inserted_clean = clean;
    let mut positions = grid.into_positions();

    if clean < natoms {
        let settings = RelaxSettings {
            max_iterations: report.max_iterations,
            time_limit: request.get_time_limit().map(Duration::from_secs_f64),
            pad: PAD,
            margin: MARGIN,
        };
        let mut on_status = |s: RelaxStatus| {
            report.stage = Stage::Relax;
            report.iteration = s.iteration;
            report.overlaps = s.overlaps;
            report.closest_ratio = s.closest_ratio;
            report.seconds = start.elapsed().as_secs_f64();
            progress(&report);
        };
        let outcome = relax::relax(
            &lattice,
            &mut positions,
            &kinds,
            &mut tables,
            &settings,
            &mut rng,
            &mut on_status,
        )?;
        match outcome {
            Outcome::Converged { iterations } => report.iteration = iterations,
            Outcome::Failed {
                iterations,
                seconds,
                overlaps,
                worst,
                best_ratio,
            } => {
                let (a, b) = (
                    plan.counts()[worst.a as usize].0,
                    plan.counts()[worst.b as usize].0,
                );
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                return Err(PackError::NotConverged {
                    iterations,
                    seconds,
                    fraction: plan.packing_fraction(),
                    overlaps,
                    pair: format!("{a}–{b}"),
                    closest: worst.r,
                    required: worst.d,
                    best_ratio,
                });
            }
        }
    }

    relax::wrap_into_cell(&lattice, &mut positions);
    let species: Vec<Element> = kinds.iter().map(|&k| plan.counts()[k as usize].0).collect();
    let structure = Structure::new(lattice, species, positions)?.sorted_by_element();

    report.stage = Stage::Verify;
    report.seconds = start.elapsed().as_secs_f64();
    progress(&report);
    report.min_distance = verify(&plan, &structure)?;

    report.stage = Stage::Done;
    report.placed = natoms;
    report.overlaps = 0;
    report.closest_ratio = 1.0;
    report.seconds = start.elapsed().as_secs_f64();
    progress(&report);
    Ok(structure)
}

/// Checks every pair (periodic images included) against its minimum distance with a neighbour list
/// independent of the packer's own; returns the smallest pair distance found within 1.05 d_max.
fn verify(plan: &PackPlan, s: &Structure) -> Result<Option<f64>> {
    let index = |e: Element| plan.counts().iter().position(|c| c.0 == e).unwrap_or(0);
    let kind: Vec<usize> = s.species().iter().map(|&e| index(e)).collect();
    let cutoff = 1.05 * plan.max_min_distance();
    let list = NeighborList::build(s.lattice(), s.positions(), cutoff, PairSet::Half)?;
    let mut min = f64::INFINITY;
    for (i, n) in list.iter() {
        let j = n.index as usize;
        let required = plan.min_distance(kind[i], kind[j]);
        if n.distance < required {
            return Err(PackError::Verification {
                i,
                j,
                a: s.species()[i].to_string(),
                b: s.species()[j].to_string(),
                distance: n.distance,
                required,
            });
        }
        min = min.min(n.distance);
    }
    Ok(min.is_finite().then_some(min))
}
