//! Temperature control: Nosé–Hoover chains, Langevin, CSVR and Berendsen.
//!
//! Each acts on the velocities around the velocity-Verlet step: `before_kick` over the first half
//! step, `after_kick` over the second. All times are in fs, temperatures in K.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::system::{System, normal};
use crate::units::{AMU_A2_PER_FS2_IN_EV, BOLTZMANN_EV_PER_K};

/// A thermostat with its state (serde, so checkpoints capture it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Thermostat {
    /// No thermostat: NVE.
    None,
    /// Nosé–Hoover chain (Martyna, Tuckerman, Klein 1996), as LAMMPS `fix nvt` (chain length 3,
    /// one loop): deterministic, canonical, with a conserved quantity.
    NoseHooverChain(NoseHooverChain),
    /// Langevin dynamics (Bussi–Parrinello 2007 splitting: friction and noise over each half step
    /// around velocity Verlet), friction time `damping_fs` (LAMMPS `fix langevin` damp).
    Langevin { damping_fs: f64 },
    /// Canonical sampling through velocity rescaling (Bussi, Donadio, Parrinello 2007) with time
    /// constant `tau_fs`.
    Csvr { tau_fs: f64, bath_energy: f64 },
    /// Berendsen weak coupling with time constant `tau_fs` (not canonical; for equilibration).
    Berendsen { tau_fs: f64 },
}

/// State of a Nosé–Hoover chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoseHooverChain {
    /// Damping time τ, fs (LAMMPS `Tdamp`; ~100 time steps is a good choice).
    pub damping_fs: f64,
    /// Thermostat positions η_k (dimensionless).
    pub eta: Vec<f64>,
    /// Thermostat velocities η̇_k, 1/fs.
    pub eta_dot: Vec<f64>,
}

impl Thermostat {
    /// A Nosé–Hoover chain of `length` thermostats (3 as LAMMPS) with damping time τ (fs).
    pub fn nose_hoover(damping_fs: f64, length: usize) -> Result<Self> {
        check_time("Nosé–Hoover damping", damping_fs)?;
        if length == 0 {
            return Err(Error::InvalidParameter(
                "a Nosé–Hoover chain needs at least one thermostat".into(),
            ));
        }
        Ok(Thermostat::NoseHooverChain(NoseHooverChain {
            damping_fs,
            eta: vec![0.0; length],
            eta_dot: vec![0.0; length],
        }))
    }

    /// Langevin with friction time (fs).
    pub fn langevin(damping_fs: f64) -> Result<Self> {
        check_time("Langevin damping", damping_fs)?;
        Ok(Thermostat::Langevin { damping_fs })
    }

    /// CSVR with time constant (fs).
    pub fn csvr(tau_fs: f64) -> Result<Self> {
        check_time("CSVR time constant", tau_fs)?;
        Ok(Thermostat::Csvr {
            tau_fs,
            bath_energy: 0.0,
        })
    }

    /// Berendsen with time constant (fs).
    pub fn berendsen(tau_fs: f64) -> Result<Self> {
        check_time("Berendsen time constant", tau_fs)?;
        Ok(Thermostat::Berendsen { tau_fs })
    }

    /// Energy exchanged with or stored in the thermostat, eV: adding it to the total energy gives the
    /// conserved quantity (Nosé–Hoover, CSVR); 0 for the others.
    pub fn energy(&self, system: &System, temperature: f64) -> f64 {
        match self {
            Thermostat::NoseHooverChain(c) => {
                let kt = BOLTZMANN_EV_PER_K * temperature;
                let q = c.masses(system.degrees_of_freedom(), kt);
                let nf = system.degrees_of_freedom();
                let mut e = 0.0;
                for (k, ((qk, eta), eta_dot)) in q.iter().zip(&c.eta).zip(&c.eta_dot).enumerate() {
                    e += 0.5 * qk * eta_dot * eta_dot;
                    e += if k == 0 { nf * kt * eta } else { kt * eta };
                }
                e
            }
            Thermostat::Csvr { bath_energy, .. } => *bath_energy,
            _ => 0.0,
        }
    }

    /// Act over the first half step, before the first velocity kick.
    pub(crate) fn before_kick(
        &mut self,
        system: &mut System,
        dt: f64,
        temperature: f64,
        rng: &mut ChaCha8Rng,
    ) {
        match self {
            Thermostat::NoseHooverChain(c) => c.half_step(system, dt, temperature),
            Thermostat::Langevin { damping_fs } => langevin_half(system, dt, *damping_fs, temperature, rng),
            _ => {}
        }
    }

    /// Act over the second half step, after the second velocity kick.
    pub(crate) fn after_kick(
        &mut self,
        system: &mut System,
        dt: f64,
        temperature: f64,
        rng: &mut ChaCha8Rng,
    ) {
        match self {
            Thermostat::NoseHooverChain(c) => c.half_step(system, dt, temperature),
            Thermostat::Langevin { damping_fs } => langevin_half(system, dt, *damping_fs, temperature, rng),
            Thermostat::Csvr { tau_fs, bath_energy } => {
                let ke = system.kinetic_energy();
                let new = csvr_kinetic_energy(ke, system, dt, *tau_fs, temperature, rng);
                if ke > 0.0 {
                    scale(system, (new / ke).sqrt());
                }
                *bath_energy -= new - ke;
            }
            Thermostat::Berendsen { tau_fs } => {
                let t = system.temperature();
                if t > 0.0 {
                    let lambda2 = 1.0 + dt / *tau_fs * (temperature / t - 1.0);
                    scale(system, lambda2.max(0.0).sqrt());
                }
            }
            Thermostat::None => {}
        }
    }
}

fn check_time(what: &str, t: f64) -> Result<()> {
    if t.is_finite() && t > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "{what} must be a positive time in fs, got {t}"
        )))
    }
}

fn scale(system: &mut System, factor: f64) {
    for v in &mut system.velocities {
        *v *= factor;
    }
}

impl NoseHooverChain {
    /// Thermostat masses Q₁ = N_f k_B T τ², Q_k = k_B T τ² (eV·fs²).
    fn masses(&self, dof: f64, kt: f64) -> Vec<f64> {
        let t2 = self.damping_fs * self.damping_fs;
        (0..self.eta.len())
            .map(|k| if k == 0 { dof * kt * t2 } else { kt * t2 })
            .collect()
    }

    /// Propagate the chain and scale the velocities over dt/2 (MTK 1996, one loop, no
    /// Suzuki–Yoshida weights, as LAMMPS `fix nvt` defaults).
    fn half_step(&mut self, system: &mut System, dt: f64, temperature: f64) {
        let kt = BOLTZMANN_EV_PER_K * temperature;
        if kt <= 0.0 {
            return;
        }
        let dof = system.degrees_of_freedom();
        let q = self.masses(dof, kt);
        let factor = chain_half_step(
            &mut self.eta,
            &mut self.eta_dot,
            &q,
            2.0 * system.kinetic_energy(),
            dof,
            kt,
            dt,
        );
        scale(system, factor);
    }
}

/// One half step (dt/2) of a Nosé–Hoover chain with masses `q` (eV·fs²) acting on `dof` degrees of
/// freedom whose kinetic energy is `ke2`/2; returns the factor by which their velocities scale.
/// Shared by the particle thermostat and the MTK barostat's own chain.
pub(crate) fn chain_half_step(
    eta: &mut [f64],
    eta_dot: &mut [f64],
    q: &[f64],
    mut ke2: f64,
    dof: f64,
    kt: f64,
    dt: f64,
) -> f64 {
    let m = eta.len();
    let (dt2, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt);
    let force = |k: usize, ke2: f64, v: &[f64]| {
        if k == 0 {
            (ke2 - dof * kt) / q[0]
        } else {
            (q[k - 1] * v[k - 1] * v[k - 1] - kt) / q[k]
        }
    };
    let v = eta_dot;
    v[m - 1] += force(m - 1, ke2, v) * dt4;
    for k in (0..m - 1).rev() {
        let damp = (-v[k + 1] * dt8).exp();
        v[k] = (v[k] * damp + force(k, ke2, v) * dt4) * damp;
    }
    let factor = (-v[0] * dt2).exp();
    ke2 *= factor * factor;
    for (e, vd) in eta.iter_mut().zip(v.iter()) {
        *e += vd * dt2;
    }
    for k in 0..m {
        if k + 1 < m {
            let damp = (-v[k + 1] * dt8).exp();
            v[k] = (v[k] * damp + force(k, ke2, v) * dt4) * damp;
        } else {
            v[k] += force(k, ke2, v) * dt4;
        }
    }
    factor
}

/// Friction and noise over dt/2: v ← c·v + √((1 − c²) k_B T / m)·ξ, c = exp(−dt / (2γ⁻¹)).
fn langevin_half(system: &mut System, dt: f64, damping_fs: f64, temperature: f64, rng: &mut ChaCha8Rng) {
    let c = (-0.5 * dt / damping_fs).exp();
    let kt = BOLTZMANN_EV_PER_K * temperature;
    for (v, m) in system.velocities.iter_mut().zip(&system.masses) {
        let sigma = ((1.0 - c * c) * kt / (m * AMU_A2_PER_FS2_IN_EV)).sqrt();
        for x in v.iter_mut() {
            *x = c * *x + sigma * normal(rng);
        }
    }
}

/// Bussi–Donadio–Parrinello (2007) eq. (A7): the new kinetic energy after a step of `dt`.
fn csvr_kinetic_energy(
    ke: f64,
    system: &System,
    dt: f64,
    tau: f64,
    temperature: f64,
    rng: &mut ChaCha8Rng,
) -> f64 {
    let nf = system.degrees_of_freedom();
    let target = 0.5 * nf * BOLTZMANN_EV_PER_K * temperature;
    if ke <= 0.0 || target <= 0.0 {
        return target.max(0.0);
    }
    let c = (-dt / tau).exp();
    let r1 = normal(rng);
    // Σ_{i=2}^{N_f} R_i², a χ² deviate with N_f − 1 degrees of freedom, summed directly: exact and
    // cheap next to a force evaluation.
    let extra: f64 = (1..nf as usize).map(|_| normal(rng).powi(2)).sum();
    ke + (1.0 - c) * (target * (r1 * r1 + extra) / nf - ke)
        + 2.0 * r1 * (c * (1.0 - c) * ke * target / nf).sqrt()
}
