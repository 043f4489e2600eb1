//! Pressure control: Berendsen weak coupling and the Martyna–Tobias–Klein (MTK) isotropic barostat.

use amorph_structure::Lattice;
use nalgebra::Matrix3;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::system::System;
use crate::thermostat::chain_half_step;
use crate::units::{BOLTZMANN_EV_PER_K, EV_PER_A3_IN_GPA};

/// Pressure control of a [`Simulation`](crate::Simulation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Barostat {
    /// Fixed cell (NVE/NVT).
    None,
    /// Berendsen weak coupling (isotropic): after each step the cell and the positions are scaled by
    /// μ = [1 − β·dt/τ·(P₀ − P)]^{1/3}, with β the compressibility (1/GPa). Relaxes the volume
    /// towards P₀ quickly; not an exact NPT ensemble, so use it to find a volume, then run NVT.
    Berendsen {
        pressure_gpa: f64,
        tau_fs: f64,
        compressibility_per_gpa: f64,
    },
    /// Martyna–Tobias–Klein isotropic barostat (J. Chem. Phys. 101, 4177 (1994)) integrated as
    /// Tuckerman et al. (J. Phys. A 39, 5629 (2006)), the equations of LAMMPS `fix npt … iso`:
    /// with a Nosé–Hoover chain thermostat it samples the isothermal–isobaric ensemble, with no
    /// thermostat the isoenthalpic one (NPH); either way it has a conserved quantity.
    Mtk(Mtk),
}

/// State of an MTK barostat: the cell's logarithmic strain rate and the Nosé–Hoover chain that
/// thermostats it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mtk {
    /// Target pressure, GPa.
    pub pressure_gpa: f64,
    /// Damping time τ_P of the volume, fs (LAMMPS `Pdamp`; ~1000 time steps is a good choice).
    pub damping_fs: f64,
    /// Strain rate v_ε = d ln(V)/(3 dt), 1/fs.
    pub strain_rate: f64,
    /// Positions of the chain thermostatting v_ε (used when the particles are thermostatted).
    pub eta: Vec<f64>,
    /// Velocities of that chain, 1/fs.
    pub eta_dot: Vec<f64>,
}

impl Barostat {
    /// An MTK barostat at `pressure_gpa` with damping time `damping_fs`, its volume at rest, its own
    /// thermostat a chain of three (as LAMMPS `mpchain`).
    pub fn mtk(pressure_gpa: f64, damping_fs: f64) -> Result<Self> {
        let b = Barostat::Mtk(Mtk {
            pressure_gpa,
            damping_fs,
            strain_rate: 0.0,
            eta: vec![0.0; 3],
            eta_dot: vec![0.0; 3],
        });
        b.check()?;
        Ok(b)
    }

    /// Berendsen coupling to `pressure_gpa` with time constant `tau_fs` and compressibility (1/GPa).
    pub fn berendsen(pressure_gpa: f64, tau_fs: f64, compressibility_per_gpa: f64) -> Result<Self> {
        let b = Barostat::Berendsen {
            pressure_gpa,
            tau_fs,
            compressibility_per_gpa,
        };
        b.check()?;
        Ok(b)
    }

    pub(crate) fn check(&self) -> Result<()> {
        let ok = match self {
            Barostat::None => true,
            Barostat::Berendsen {
                pressure_gpa,
                tau_fs,
                compressibility_per_gpa,
            } => {
                pressure_gpa.is_finite()
                    && tau_fs.is_finite()
                    && *tau_fs > 0.0
                    && compressibility_per_gpa.is_finite()
                    && *compressibility_per_gpa > 0.0
            }
            Barostat::Mtk(m) => {
                m.pressure_gpa.is_finite()
                    && m.damping_fs.is_finite()
                    && m.damping_fs > 0.0
                    && m.strain_rate.is_finite()
                    && !m.eta.is_empty()
                    && m.eta.len() == m.eta_dot.len()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter(format!("invalid barostat {self:?}")))
        }
    }

    /// Energy stored in the barostat, eV: for MTK ½W·v_ε² + P₀V plus its chain's energy, which with
    /// the kinetic, potential and thermostat energies makes the conserved quantity; 0 otherwise.
    pub fn energy(&self, system: &System, temperature: f64, thermostatted: bool) -> f64 {
        match self {
            Barostat::Mtk(m) => {
                let kt = BOLTZMANN_EV_PER_K * temperature;
                let w = m.mass(system, kt);
                let mut e = 0.5 * w * m.strain_rate * m.strain_rate
                    + m.pressure_gpa / EV_PER_A3_IN_GPA * system.lattice.volume();
                if thermostatted {
                    let q = kt * m.damping_fs * m.damping_fs;
                    e += m
                        .eta
                        .iter()
                        .zip(&m.eta_dot)
                        .map(|(eta, v)| 0.5 * q * v * v + kt * eta)
                        .sum::<f64>();
                }
                e
            }
            _ => 0.0,
        }
    }
}

impl Mtk {
    /// Mass of the volume degree of freedom W = (N_f + 3)·k_B·T·τ_P², eV·fs².
    fn mass(&self, system: &System, kt: f64) -> f64 {
        (system.degrees_of_freedom() + 3.0) * kt * self.damping_fs * self.damping_fs
    }

    /// α = 1 + 3/N_f: the kinetic coupling that makes the MTK equations sample the right volume
    /// distribution.
    fn alpha(system: &System) -> f64 {
        1.0 + 3.0 / system.degrees_of_freedom()
    }

    /// Half step of the barostat's own chain, scaling v_ε (only for thermostatted runs).
    pub(crate) fn chain_half_step(&mut self, system: &System, dt: f64, temperature: f64) {
        let kt = BOLTZMANN_EV_PER_K * temperature;
        if kt <= 0.0 {
            return;
        }
        let w = self.mass(system, kt);
        let q = vec![kt * self.damping_fs * self.damping_fs; self.eta.len()];
        let ke2 = w * self.strain_rate * self.strain_rate;
        let factor = chain_half_step(&mut self.eta, &mut self.eta_dot, &q, ke2, 1.0, kt, dt);
        self.strain_rate *= factor;
    }

    /// v_ε += dt/2 · G/W with G = α·2K + tr(virial) − 3·P₀·V (eV).
    pub(crate) fn strain_rate_half_step(
        &mut self,
        system: &System,
        virial: &Matrix3<f64>,
        dt: f64,
        temperature: f64,
    ) {
        let kt = BOLTZMANN_EV_PER_K * temperature;
        if kt <= 0.0 {
            return;
        }
        let g = Self::alpha(system) * 2.0 * system.kinetic_energy() + virial.trace()
            - 3.0 * self.pressure_gpa / EV_PER_A3_IN_GPA * system.lattice.volume();
        self.strain_rate += 0.5 * dt * g / self.mass(system, kt);
    }

    /// The velocity factor exp(−α·v_ε·dt/4) applied on each side of a half kick.
    pub(crate) fn velocity_factor(&self, system: &System, dt: f64) -> f64 {
        (-Self::alpha(system) * self.strain_rate * 0.25 * dt).exp()
    }

    /// Dilate the cell and the positions by exp(v_ε·dt/2) (half of the affine drift).
    pub(crate) fn dilate_half(&self, system: &mut System, dt: f64) -> Result<()> {
        let f = (self.strain_rate * 0.5 * dt).exp();
        system.lattice = Lattice::new(system.lattice.matrix() * f)?;
        for x in &mut system.positions {
            *x *= f;
        }
        Ok(())
    }
}
