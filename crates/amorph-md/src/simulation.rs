//! The molecular-dynamics loop: velocity Verlet with a thermostat, observers, checkpoints and
//! blow-up detection.

use std::path::Path;

use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::barostat::Barostat;
use crate::calculator::{Calculator, Evaluation};
use crate::error::{Error, Result};
use crate::system::System;
use crate::thermostat::Thermostat;
use crate::units::{AMU_A2_PER_FS2_IN_EV, EV_PER_A3_IN_GPA};

/// What observers see after each step.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Steps done since the simulation was created (continues across restarts).
    pub step: u64,
    /// Simulated time, fs.
    pub time_fs: f64,
    /// Positions, velocities, cell.
    pub system: &'a System,
    /// Energy, forces and virial at these positions.
    pub evaluation: &'a Evaluation,
    /// The thermostat's set temperature at this step, K.
    pub target_temperature: f64,
    /// Thermostat energy, eV.
    pub thermostat_energy: f64,
    /// Barostat energy, eV (MTK: its kinetic energy, P₀V and its chain's energy; else 0).
    pub barostat_energy: f64,
}

impl Snapshot<'_> {
    /// Instantaneous temperature, K.
    pub fn temperature(&self) -> f64 {
        self.system.temperature()
    }

    /// Potential energy, eV.
    pub fn potential_energy(&self) -> f64 {
        self.evaluation.energy
    }

    /// Kinetic energy, eV.
    pub fn kinetic_energy(&self) -> f64 {
        self.system.kinetic_energy()
    }

    /// Total energy plus the thermostat's and the barostat's: constant for NVE, Nosé–Hoover and
    /// CSVR, with or without an MTK barostat, eV.
    pub fn conserved_energy(&self) -> f64 {
        self.potential_energy() + self.kinetic_energy() + self.thermostat_energy + self.barostat_energy
    }

    /// Pressure (kinetic + virial), GPa.
    pub fn pressure_gpa(&self) -> f64 {
        let v = self.system.lattice.volume();
        (2.0 * self.kinetic_energy() + self.evaluation.virial.trace()) / (3.0 * v) * EV_PER_A3_IN_GPA
    }
}

/// Something that happens every few steps: a log, a trajectory, a user callback.
pub trait Observer: Send {
    /// Called every `interval` steps (and at step 0 for a fresh run).
    fn observe(&mut self, snapshot: &Snapshot) -> Result<()>;
    /// Called once when the run ends, normally or after an instability (then with the last good
    /// state), so the observer can flush its output.
    fn finish(&mut self, _last: &Snapshot) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&Snapshot) -> Result<()> + Send> Observer for F {
    fn observe(&mut self, snapshot: &Snapshot) -> Result<()> {
        self(snapshot)
    }
}

/// Limits beyond which a run is declared unstable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Safety {
    /// Largest displacement of any atom in one step, Å.
    pub max_step_displacement: f64,
    /// Largest drift of the conserved energy from its start, eV per atom.
    pub max_energy_drift_per_atom: f64,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_step_displacement: 0.5,
            max_energy_drift_per_atom: 1.0,
        }
    }
}

/// The serialisable state of a run (everything but the calculator and observers).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    system: System,
    thermostat: Thermostat,
    rng: ChaCha8Rng,
    step: u64,
    timestep_fs: f64,
    temperature: (f64, f64),
    ramp: (u64, u64),
    safety: Safety,
    reference_energy: Option<f64>,
    #[serde(default = "no_barostat")]
    barostat: Barostat,
}

fn no_barostat() -> Barostat {
    Barostat::None
}

/// A molecular-dynamics run: velocity Verlet (time step in fs) with a [`Thermostat`], driven by a
/// [`Calculator`], reporting to [`Observer`]s.
pub struct Simulation {
    state: State,
    calculator: Box<dyn Calculator>,
    evaluation: Evaluation,
    observers: Vec<(u64, Box<dyn Observer>)>,
}

impl Simulation {
    /// A simulation of `system` with `calculator`, time step (fs), thermostat and seed (for the
    /// stochastic thermostats). The set temperature starts at the system's current temperature; set
    /// it with [`set_temperature`](Self::set_temperature) or [`ramp_temperature`](Self::ramp_temperature).
    pub fn new(
        system: System,
        calculator: Box<dyn Calculator>,
        timestep_fs: f64,
        thermostat: Thermostat,
        seed: u64,
    ) -> Result<Self> {
        if !(timestep_fs.is_finite() && timestep_fs > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "time step must be positive, got {timestep_fs} fs"
            )));
        }
        let t = system.temperature();
        let state = State {
            system,
            thermostat,
            rng: <ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(seed),
            step: 0,
            timestep_fs,
            temperature: (t, t),
            ramp: (0, 0),
            safety: Safety::default(),
            reference_energy: None,
            barostat: Barostat::None,
        };
        Self::from_state(state, calculator)
    }

    fn from_state(state: State, mut calculator: Box<dyn Calculator>) -> Result<Self> {
        let mut evaluation = Evaluation::zeros(state.system.len());
        calculator.compute(&state.system.configuration(), &mut evaluation)?;
        if !evaluation.is_finite() {
            return Err(Error::Unstable {
                step: state.step,
                reason: "non-finite energy or forces in the starting configuration".into(),
            });
        }
        Ok(Simulation {
            state,
            calculator,
            evaluation,
            observers: Vec::new(),
        })
    }

    /// Hold the set temperature at `t` K.
    pub fn set_temperature(&mut self, t: f64) -> Result<()> {
        self.ramp_temperature(t, t, 0)
    }

    /// Ramp the set temperature linearly from `from` to `to` K over the next `steps` steps, then hold
    /// it at `to` (a quench or a heating).
    pub fn ramp_temperature(&mut self, from: f64, to: f64, steps: u64) -> Result<()> {
        if !(from.is_finite() && to.is_finite() && from >= 0.0 && to >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "temperatures must be ≥ 0 K, got {from} and {to}"
            )));
        }
        self.state.temperature = (from, to);
        self.state.ramp = (self.state.step, steps);
        // The thermostat's energy depends on the set temperature: measure drift afresh.
        self.state.reference_energy = None;
        Ok(())
    }

    /// Control the pressure (the cell changes every step). With [`Barostat::Berendsen`] the
    /// energy-drift check is off; with [`Barostat::Mtk`] it watches the extended conserved quantity.
    pub fn set_barostat(&mut self, barostat: Barostat) -> Result<()> {
        barostat.check()?;
        if !self.calculator.supports_stress() && barostat != Barostat::None {
            return Err(Error::InvalidParameter(format!(
                "{} does not compute the virial, so the pressure cannot be controlled",
                self.calculator.name()
            )));
        }
        self.state.barostat = barostat;
        self.state.reference_energy = None;
        Ok(())
    }

    /// The barostat with its current state.
    pub fn barostat(&self) -> &Barostat {
        &self.state.barostat
    }

    /// Replace the safety limits.
    pub fn set_safety(&mut self, safety: Safety) {
        self.state.safety = safety;
    }

    /// Call `observer` every `interval` steps.
    pub fn add_observer(&mut self, interval: u64, observer: Box<dyn Observer>) -> Result<()> {
        if interval == 0 {
            return Err(Error::InvalidParameter(
                "observer interval must be at least 1 step".into(),
            ));
        }
        self.observers.push((interval, observer));
        Ok(())
    }

    /// The current state.
    pub fn system(&self) -> &System {
        &self.state.system
    }

    /// Energy, forces and virial at the current positions.
    pub fn evaluation(&self) -> &Evaluation {
        &self.evaluation
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.state.step
    }

    /// The set temperature at the current step, K.
    pub fn target_temperature(&self) -> f64 {
        let (from, to) = self.state.temperature;
        let (start, len) = self.state.ramp;
        if len == 0 {
            return to;
        }
        let x = ((self.state.step.saturating_sub(start)) as f64 / len as f64).min(1.0);
        from + (to - from) * x
    }

    fn snapshot(&self) -> Snapshot<'_> {
        let t = self.target_temperature();
        Snapshot {
            step: self.state.step,
            time_fs: self.state.step as f64 * self.state.timestep_fs,
            system: &self.state.system,
            evaluation: &self.evaluation,
            target_temperature: t,
            thermostat_energy: self.state.thermostat.energy(&self.state.system, t),
            barostat_energy: self.state.barostat.energy(
                &self.state.system,
                t,
                self.state.thermostat != Thermostat::None,
            ),
        }
    }

    /// Run `steps` steps. On an instability the state is rolled back to the last good step, the
    /// observers are finished with it, and the error names the step.
    pub fn run(&mut self, steps: u64) -> Result<()> {
        if self.state.step == 0 {
            let mut observers = std::mem::take(&mut self.observers);
            let snap = self.snapshot();
            let result = observers.iter_mut().try_for_each(|(_, o)| o.observe(&snap));
            self.observers = observers;
            result?;
        }
        if self.state.reference_energy.is_none() {
            self.state.reference_energy = Some(self.snapshot().conserved_energy());
        }
        let mut good = self.state.clone();
        for k in 0..steps {
            // The virial costs ~10 % of a pair sum: skip it unless the pressure is looked at.
            let next = self.state.step + 1;
            let need_virial = k + 1 == steps
                || self.state.barostat != Barostat::None
                || self
                    .observers
                    .iter()
                    .any(|(every, _)| next.is_multiple_of(*every));
            if let Err(e) = self.one_step(need_virial) {
                // Back to the last good step; its evaluation is recomputed rather than kept from
                // every step.
                self.state = good;
                self.calculator.invalidate();
                self.evaluation.reset(self.state.system.len());
                self.calculator
                    .compute(&self.state.system.configuration(), &mut self.evaluation)?;
                self.finish_observers()?;
                return Err(e);
            }
            let due = self
                .observers
                .iter()
                .any(|(every, _)| self.state.step.is_multiple_of(*every));
            if due {
                // Borrow the observers apart from the snapshot's data.
                let mut observers = std::mem::take(&mut self.observers);
                let snap = self.snapshot();
                let result = observers
                    .iter_mut()
                    .filter(|(every, _)| snap.step.is_multiple_of(*every))
                    .try_for_each(|(_, o)| o.observe(&snap));
                self.observers = observers;
                result?;
            }
            save_state(&mut good, &self.state);
        }
        self.finish_observers()
    }

    fn finish_observers(&mut self) -> Result<()> {
        let mut observers = std::mem::take(&mut self.observers);
        let snap = self.snapshot();
        let result = observers.iter_mut().try_for_each(|(_, o)| o.finish(&snap));
        self.observers = observers;
        result
    }

    /// One velocity-Verlet step with the thermostat's (and an MTK barostat's) half steps around it.
    fn one_step(&mut self, need_virial: bool) -> Result<()> {
        let dt = self.state.timestep_fs;
        let target = self.target_temperature();
        let st = &mut self.state;
        let thermostatted = st.thermostat != Thermostat::None;
        if let Barostat::Mtk(m) = &mut st.barostat {
            if thermostatted {
                m.chain_half_step(&st.system, dt, target);
            }
            st.thermostat.before_kick(&mut st.system, dt, target, &mut st.rng);
            m.strain_rate_half_step(&st.system, &self.evaluation.virial, dt, target);
            let f = m.velocity_factor(&st.system, dt);
            scale_velocities(&mut st.system, f);
            kick(&mut st.system, &self.evaluation.forces, 0.5 * dt);
            scale_velocities(&mut st.system, f);
            m.dilate_half(&mut st.system, dt)?;
            drift(&mut st.system, dt);
            m.dilate_half(&mut st.system, dt)?;
        } else {
            st.thermostat.before_kick(&mut st.system, dt, target, &mut st.rng);
            kick(&mut st.system, &self.evaluation.forces, 0.5 * dt);
            drift(&mut st.system, dt);
        }
        st.step += 1;
        let step = st.step;
        // The drift moved every atom by v·dt (an MTK dilation adds a negligible affine part).
        let limit2 = (st.safety.max_step_displacement / dt).powi(2);
        if let Some(i) = st.system.velocities.iter().position(|v| {
            // NaN counts as too far.
            let v2 = v.norm_squared();
            v2.is_nan() || v2 > limit2
        }) {
            return Err(Error::Unstable {
                step,
                reason: format!(
                    "atom {i} moved {:.3} Å in one step (limit {} Å)",
                    st.system.velocities[i].norm() * dt,
                    st.safety.max_step_displacement
                ),
            });
        }
        self.evaluation.reset(st.system.len());
        self.evaluation.skip_virial = !need_virial;
        let computed = self
            .calculator
            .compute(&st.system.configuration(), &mut self.evaluation);
        self.evaluation.skip_virial = false;
        computed?;
        if !self.evaluation.is_finite() {
            return Err(Error::Unstable {
                step,
                reason: "non-finite energy, forces or virial".into(),
            });
        }
        let target = self.target_temperature();
        let st = &mut self.state;
        if let Barostat::Mtk(m) = &mut st.barostat {
            let f = m.velocity_factor(&st.system, dt);
            scale_velocities(&mut st.system, f);
            kick(&mut st.system, &self.evaluation.forces, 0.5 * dt);
            scale_velocities(&mut st.system, f);
            m.strain_rate_half_step(&st.system, &self.evaluation.virial, dt, target);
            st.thermostat.after_kick(&mut st.system, dt, target, &mut st.rng);
            if thermostatted {
                m.chain_half_step(&st.system, dt, target);
            }
            if !m.strain_rate.is_finite() {
                return Err(Error::Unstable {
                    step,
                    reason: "non-finite barostat strain rate".into(),
                });
            }
        } else {
            kick(&mut st.system, &self.evaluation.forces, 0.5 * dt);
            st.thermostat.after_kick(&mut st.system, dt, target, &mut st.rng);
        }
        if let Barostat::Berendsen {
            pressure_gpa,
            tau_fs,
            compressibility_per_gpa,
        } = st.barostat
        {
            let volume = st.system.lattice.volume();
            let pressure = (2.0 * st.system.kinetic_energy() + self.evaluation.virial.trace())
                / (3.0 * volume)
                * EV_PER_A3_IN_GPA;
            // Limit a single step's change to 1 % in length: a wild pressure must not crush the cell.
            let mu = (1.0 - compressibility_per_gpa * dt / tau_fs * (pressure_gpa - pressure))
                .cbrt()
                .clamp(0.99, 1.01);
            let lattice = amorph_structure::Lattice::new(st.system.lattice.matrix() * mu)?;
            for x in &mut st.system.positions {
                *x *= mu;
            }
            st.system.lattice = lattice;
            self.evaluation.reset(st.system.len());
            self.calculator
                .compute(&st.system.configuration(), &mut self.evaluation)?;
            if !self.evaluation.is_finite() {
                return Err(Error::Unstable {
                    step,
                    reason: "non-finite energy after rescaling the cell".into(),
                });
            }
        }
        if let Some(e0) = st.reference_energy
            && matches!(
                st.thermostat,
                Thermostat::None | Thermostat::NoseHooverChain(_) | Thermostat::Csvr { .. }
            )
            && st.temperature.0 == st.temperature.1
            && matches!(st.barostat, Barostat::None | Barostat::Mtk(_))
        {
            let e = self.evaluation.energy
                + st.system.kinetic_energy()
                + st.thermostat.energy(&st.system, target)
                + st.barostat.energy(&st.system, target, thermostatted);
            let drift = (e - e0).abs() / st.system.len() as f64;
            if drift.is_nan() || drift > st.safety.max_energy_drift_per_atom {
                return Err(Error::Unstable {
                    step,
                    reason: format!(
                        "conserved energy drifted {drift:.3e} eV/atom (limit {})",
                        st.safety.max_energy_drift_per_atom
                    ),
                });
            }
        }
        Ok(())
    }

    /// Write a checkpoint (JSON with exact floats) atomically. The calculator's caches are dropped
    /// so that this run and a run restarted from the file sum forces in the same order: the restart
    /// continues bit for bit, provided both runs checkpoint at the same steps and use the same number
    /// of threads (or calculators in deterministic mode).
    pub fn checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let text = serde_json::to_string(&self.state).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        amorph_structure::io::write_atomically(path, text.as_bytes())?;
        self.calculator.invalidate();
        self.evaluation.reset(self.state.system.len());
        self.calculator
            .compute(&self.state.system.configuration(), &mut self.evaluation)?;
        Ok(())
    }

    /// Continue a run from a checkpoint with the same calculator settings.
    pub fn restart(path: impl AsRef<Path>, calculator: Box<dyn Calculator>) -> Result<Self> {
        let path = path.as_ref();
        let err = |message: String| Error::Checkpoint {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let state: State = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        if state.system.masses.len() != state.system.len()
            || state.system.velocities.len() != state.system.len()
        {
            return Err(err("inconsistent atom counts".into()));
        }
        Self::from_state(state, calculator)
    }
}

/// Systems at least this large update positions and velocities in parallel (element-wise, so the
/// result does not depend on the thread count).
const PARALLEL_ATOMS: usize = 4096;

/// x += v · dt.
fn drift(system: &mut System, dt: f64) {
    let step = |(x, v): (&mut Vector3<f64>, &Vector3<f64>)| *x += v * dt;
    if system.len() >= PARALLEL_ATOMS {
        system
            .positions
            .par_iter_mut()
            .zip(&system.velocities)
            .for_each(step);
    } else {
        system.positions.iter_mut().zip(&system.velocities).for_each(step);
    }
}

/// Copy `src` into `dst`, which holds an earlier step of the same run: the per-atom arrays in
/// parallel, and neither species nor masses (constant during a run).
fn save_state(dst: &mut State, src: &State) {
    let copy = |d: &mut Vec<Vector3<f64>>, s: &Vec<Vector3<f64>>| {
        if d.len() != s.len() || s.len() < PARALLEL_ATOMS {
            d.clone_from(s);
        } else {
            d.par_chunks_mut(1024)
                .zip(s.par_chunks(1024))
                .for_each(|(d, s)| d.copy_from_slice(s));
        }
    };
    let State {
        system,
        thermostat,
        rng,
        step,
        timestep_fs,
        temperature,
        ramp,
        safety,
        reference_energy,
        barostat,
    } = src;
    copy(&mut dst.system.positions, &system.positions);
    copy(&mut dst.system.velocities, &system.velocities);
    dst.system.lattice.clone_from(&system.lattice);
    if dst.system.species != system.species || dst.system.masses != system.masses {
        dst.system.species.clone_from(&system.species);
        dst.system.masses.clone_from(&system.masses);
    }
    dst.thermostat.clone_from(thermostat);
    dst.rng.clone_from(rng);
    dst.step = *step;
    dst.timestep_fs = *timestep_fs;
    dst.temperature = *temperature;
    dst.ramp = *ramp;
    dst.safety = *safety;
    dst.reference_energy = *reference_energy;
    dst.barostat.clone_from(barostat);
    debug_assert!(dst.system == src.system && dst.step == src.step);
}

fn scale_velocities(system: &mut System, factor: f64) {
    for v in &mut system.velocities {
        *v *= factor;
    }
}

/// v += F/m · dt (F in eV/Å, m in amu, v in Å/fs).
fn kick(system: &mut System, forces: &[Vector3<f64>], dt: f64) {
    let step = |((v, f), m): ((&mut Vector3<f64>, &Vector3<f64>), &f64)| {
        *v += f * (dt / (m * AMU_A2_PER_FS2_IN_EV));
    };
    if system.len() >= PARALLEL_ATOMS {
        system
            .velocities
            .par_iter_mut()
            .zip(forces)
            .zip(&system.masses)
            .for_each(step);
    } else {
        system
            .velocities
            .iter_mut()
            .zip(forces)
            .zip(&system.masses)
            .for_each(step);
    }
}
