//! Collect the mean-squared displacement during an MD run: amorph-diffusion's [`MsdAccumulator`]
//! as an amorph-md [`Observer`].
//!
//! Neither crate depends on the other; this adapter is the only place they meet.
//!
//! ```
//! use amorph::diffusion::{Drift, FitOptions, MsdAccumulator, Selection};
//! use amorph::md::forcefield::CalculatorOptions;
//! use amorph::md::{ForceField, Simulation, System, Thermostat};
//! use amorph::msd_observer::MsdObserver;
//! use amorph::structure::io;
//!
//! let glass = io::read_structure(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/Li2Si2O5_glass.vasp"))?;
//! let calc = ForceField::by_name("pedone")?.calculator(&glass.elements(), &CalculatorOptions::default())?;
//! let mut system = System::from_structure(&glass)?;
//! system.set_maxwell_boltzmann(3000.0, 1)?;
//! let mut md = Simulation::new(system, Box::new(calc), 2.0, Thermostat::nose_hoover(200.0, 3)?, 1)?;
//! md.set_temperature(3000.0)?;
//! // A frame every 5 steps of 2 fs: 10 fs apart.
//! let acc = MsdAccumulator::new(glass.species(), &Selection::species("Li")?, Drift::Framework, 10.0)?;
//! let (observer, handle) = MsdObserver::new(acc);
//! md.add_observer(5, Box::new(observer))?;
//! md.run(100)?;
//! let msd = handle.msd()?; // 21 frames: step 0 and every 5th step
//! assert_eq!(msd.len(), 21);
//! let d = msd.diffusivity(&FitOptions::default())?;
//! assert!(d.d_cm2_s.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex, MutexGuard};

use amorph_diffusion::{Displacements, FrameSink, Msd, MsdAccumulator};
use amorph_md::{Observer, Snapshot};

/// An [`Observer`] feeding every sampled frame (unwrapped positions and the cell) to an
/// [`MsdAccumulator`]. The simulation owns the observer; read the results through the
/// [`MsdHandle`] returned with it.
pub struct MsdObserver {
    inner: Arc<Mutex<MsdAccumulator>>,
}

/// Shared access to the accumulator of an [`MsdObserver`], during or after the run.
#[derive(Clone)]
pub struct MsdHandle {
    inner: Arc<Mutex<MsdAccumulator>>,
}

fn lock(m: &Mutex<MsdAccumulator>) -> MutexGuard<'_, MsdAccumulator> {
    // A panic elsewhere while holding the lock leaves the accumulator consistent (each frame is
    // appended whole at the end of push_frame), so a poisoned lock is still readable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MsdObserver {
    /// Wrap an accumulator built for the simulated system's species, with a frame interval equal to
    /// the observer interval × the MD time step.
    pub fn new(accumulator: MsdAccumulator) -> (MsdObserver, MsdHandle) {
        let inner = Arc::new(Mutex::new(accumulator));
        (MsdObserver { inner: inner.clone() }, MsdHandle { inner })
    }
}

impl MsdHandle {
    /// Frames collected so far.
    pub fn nframes(&self) -> usize {
        lock(&self.inner).nframes()
    }

    /// The drift-corrected displacements collected so far.
    pub fn displacements(&self) -> amorph_diffusion::Result<Displacements> {
        lock(&self.inner).displacements()
    }

    /// The all-origins MSD of the frames so far.
    pub fn msd(&self) -> amorph_diffusion::Result<Msd> {
        lock(&self.inner).msd()
    }
}

impl Observer for MsdObserver {
    fn observe(&mut self, s: &Snapshot) -> amorph_md::Result<()> {
        lock(&self.inner)
            .push_frame(&s.system.positions, &s.system.lattice)
            .map_err(|e| amorph_md::Error::Configuration(format!("MSD observer: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use amorph_diffusion::{Displacements, Drift, MsdAccumulator, Selection};
    use amorph_md::forcefield::CalculatorOptions;
    use amorph_md::{ForceField, Simulation, Snapshot, System, Thermostat};
    use amorph_structure::{Structure, Trajectory, io};

    use super::MsdObserver;

    /// The MSD collected during a run equals the offline analysis of the same frames recorded as
    /// wrapped structures (the observer sees unwrapped positions: equal up to rounding).
    #[test]
    fn observer_equals_offline_analysis_of_the_recorded_frames() {
        let glass = io::read_structure(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/data/Li2Si2O5_glass.vasp"
        ))
        .unwrap();
        let calc = ForceField::by_name("pedone")
            .unwrap()
            .calculator(&glass.elements(), &CalculatorOptions::default())
            .unwrap();
        let mut system = System::from_structure(&glass).unwrap();
        system.set_maxwell_boltzmann(4000.0, 3).unwrap();
        let mut md = Simulation::new(
            system,
            Box::new(calc),
            2.0,
            Thermostat::nose_hoover(100.0, 3).unwrap(),
            3,
        )
        .unwrap();
        md.set_temperature(4000.0).unwrap();
        let sel = Selection::species("Li").unwrap();
        let acc = MsdAccumulator::new(glass.species(), &sel, Drift::Framework, 8.0).unwrap();
        let (observer, handle) = MsdObserver::new(acc);
        md.add_observer(4, Box::new(observer)).unwrap();
        let frames: Arc<Mutex<Vec<Structure>>> = Arc::default();
        let sink = frames.clone();
        md.add_observer(
            4,
            Box::new(move |s: &Snapshot| {
                sink.lock().unwrap().push(s.system.to_structure()?);
                Ok(())
            }),
        )
        .unwrap();
        md.run(200).unwrap();
        let frames = frames.lock().unwrap();
        assert_eq!(handle.nframes(), frames.len());
        assert_eq!(frames.len(), 51);
        let offline = Displacements::from_trajectory(
            &Trajectory::from_structures(&frames).unwrap(),
            &sel,
            Drift::Framework,
            8.0,
        )
        .unwrap();
        let online = handle.displacements().unwrap();
        let diff = (online.as_array() - offline.as_array())
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(diff < 1e-9, "{diff}");
        // The atoms moved: a test of equality between two zero arrays would prove nothing.
        let moved = online.as_array().iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(moved > 0.5, "{moved}");
        let (a, b) = (
            handle.msd().unwrap(),
            amorph_diffusion::Msd::compute(&offline, Default::default()),
        );
        for k in 0..a.len() {
            assert!((a.total(k) - b.total(k)).abs() < 1e-8 * b.total(a.len() - 1));
        }
    }
}
