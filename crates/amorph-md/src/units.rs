//! Units at the boundary of this crate: LAMMPS `metal` units with time in femtoseconds.
//!
//! length Å · energy eV · mass amu · time fs · temperature K · velocity Å/fs · force eV/Å ·
//! virial eV · pressure and stress GPa (eV/Å³ inside) · charge e.

/// Boltzmann constant, eV/K (CODATA 2018, as LAMMPS `metal`).
pub const BOLTZMANN_EV_PER_K: f64 = 8.617_333_262e-5;

/// Kinetic energy of 1 amu moving at 1 Å/fs, in eV: ½ m v² (eV) = 0.5 · m (amu) · v² (Å²/fs²) · this.
/// (LAMMPS `metal` uses Å/ps with `mvv2e` = 1.0364269e-4 eV/(amu·Å²/ps²); ×10⁶ for fs.)
pub const AMU_A2_PER_FS2_IN_EV: f64 = 1.036_426_9e-4 * 1.0e6;

/// Coulomb constant e²/(4πε₀), eV·Å (LAMMPS `metal` `qqr2e`).
pub const COULOMB_EV_A: f64 = 14.399_645;

/// 1 eV/Å³ in GPa.
pub const EV_PER_A3_IN_GPA: f64 = 160.217_663_4;
