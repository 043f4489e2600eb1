//! Named classical force fields for oxide glasses, and a TOML format for your own.
//!
//! A [`ForceField`] is data: per-element charges (e), short-range pair terms per element pair, a
//! default cutoff and truncation, and the reference it came from. [`ForceField::calculator`] turns it
//! into a [`Calculator`] (short-range pairs + a Coulomb solver) for the elements of a structure, after
//! checking that it covers them.
//!
//! | name | elements | form | source |
//! |---|---|---|---|
//! | `pedone` | O with Li Na K Be Mg Ca Sr Ba Sc Ti Zr Cr Mn Fe Co Ni Cu Ag Zn Al Si Ge Sn P Nd Gd Er | partial charges + Morse + C/r¹² | Pedone et al., J. Phys. Chem. B 110, 11780 (2006), Table 1 |
//! | `bks` | Si O | formal-ish charges + Buckingham | van Beest, Kramer, van Santen, Phys. Rev. Lett. 64, 1955 (1990) |
//! | `teter` | Na Si O | partial charges + Buckingham | Teter (unpublished), as in Du & Cormack, J. Non-Cryst. Solids 349, 66 (2004) |
//!
//! The TOML format is the serde form of [`ForceField`]:
//!
//! ```toml
//! name = "my-field"
//! reference = "where the numbers come from"
//! cutoff = 5.5                 # Å, short-range
//! truncation = "shift_energy"  # cut | shift_energy | shift_force
//!
//! [charges]                    # e
//! Li = 0.6
//! O = -1.2
//!
//! [[pairs]]
//! a = "Li"
//! b = "O"
//! terms = [{ morse = { d0 = 0.001114, alpha = 3.429506, r0 = 2.68136 } }, { inverse_twelve = { c = 1.0 } }]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use amorph_structure::Element;
use serde::{Deserialize, Serialize};

use crate::calculator::{Calculator, Sum};
use crate::coulomb::{Charges, Dsf, Ewald, Pppm, Wolf};
use crate::error::{Error, Result};
use crate::pair::{PairInteractions, PairTerm, Truncation};

/// How the Coulomb part of a force field is computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoulombMethod {
    /// Ewald summation: real-space cutoff (Å) and relative force accuracy (LAMMPS `kspace_style ewald`).
    Ewald { cutoff: f64, accuracy: f64 },
    /// Smooth particle-mesh Ewald (LAMMPS `kspace_style pppm` at the same accuracy), real space
    /// tabulated as LAMMPS's default `pair_modify table` (~1e-7 relative per pair).
    Pppm { cutoff: f64, accuracy: f64 },
    /// Damped shifted force (LAMMPS `coul/dsf α rc`): damping α (Å⁻¹) and cutoff (Å).
    Dsf { alpha: f64, cutoff: f64 },
    /// Wolf summation (LAMMPS `coul/wolf α rc`).
    Wolf { alpha: f64, cutoff: f64 },
    /// No Coulomb interaction.
    None,
}

impl Default for CoulombMethod {
    /// DSF with α = 0.25 Å⁻¹ and a 10 Å cutoff: the usual cheap setting for oxide glasses.
    fn default() -> Self {
        CoulombMethod::Dsf {
            alpha: 0.25,
            cutoff: 10.0,
        }
    }
}

/// Choices made when a force field becomes a calculator.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CalculatorOptions {
    /// Short-range cutoff, Å (default: the force field's).
    pub cutoff: Option<f64>,
    /// Short-range truncation (default: the force field's).
    pub truncation: Option<Truncation>,
    /// Coulomb solver.
    pub coulomb: CoulombMethod,
}

/// Short-range terms of one element pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairSpec {
    /// First element.
    pub a: Element,
    /// Second element.
    pub b: Element,
    /// Terms summed for this pair.
    pub terms: Vec<PairTerm>,
}

/// A classical force field: charges, pair terms, default cutoff and truncation, provenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForceField {
    /// Short name (`pedone`, `bks`, or yours).
    pub name: String,
    /// Where the parameters come from (paper, table, units, transcription checks).
    pub reference: String,
    /// Default short-range cutoff, Å.
    pub cutoff: f64,
    /// Default truncation of the short-range terms.
    #[serde(default)]
    pub truncation: Truncation,
    /// Charge of each element, e.
    #[serde(default)]
    pub charges: BTreeMap<Element, f64>,
    /// Short-range pair terms.
    #[serde(default)]
    pub pairs: Vec<PairSpec>,
}

/// Pedone et al. (2006) Table 1: (element, charge e, D eV, a Å⁻¹, r0 Å, C eV·Å¹²) for the element–O
/// pair. Fe is Fe²⁺; Fe³⁺ (q 1.8, D 0.418981, a 1.620376, r0 2.382183, C 2.0) needs a user file.
const PEDONE: &[(&str, f64, f64, f64, f64, f64)] = &[
    ("Li", 0.6, 0.001114, 3.429506, 2.681360, 1.0),
    ("Na", 0.6, 0.023363, 1.763867, 3.006315, 5.0),
    ("K", 0.6, 0.011612, 2.062605, 3.305308, 5.0),
    ("Be", 1.2, 0.239919, 2.527420, 1.815405, 1.0),
    ("Mg", 1.2, 0.038908, 2.281000, 2.586153, 5.0),
    ("Ca", 1.2, 0.030211, 2.241334, 2.923245, 5.0),
    ("Sr", 1.2, 0.019623, 1.886000, 3.328330, 3.0),
    ("Ba", 1.2, 0.065011, 1.547596, 3.393410, 5.0),
    ("Sc", 1.8, 0.000333, 3.144445, 3.200000, 2.6),
    ("Ti", 2.4, 0.024235, 2.254703, 2.708943, 1.0),
    ("Zr", 2.4, 0.206237, 2.479675, 2.436997, 1.0),
    ("Cr", 1.8, 0.399561, 1.785079, 2.340810, 1.0),
    ("Mn", 1.2, 0.029658, 1.997543, 2.852075, 3.0),
    ("Fe", 1.2, 0.078171, 1.822638, 2.658163, 2.0),
    ("Co", 1.2, 0.012958, 2.361272, 2.756282, 3.0),
    ("Ni", 1.2, 0.029356, 2.679137, 2.500754, 3.0),
    ("Cu", 0.6, 0.090720, 3.802168, 2.055405, 1.0),
    ("Ag", 0.6, 0.088423, 3.439162, 2.265956, 1.0),
    ("Zn", 1.2, 0.001221, 3.150679, 2.851850, 1.0),
    ("Al", 1.8, 0.361581, 1.900442, 2.164818, 0.9),
    ("Si", 2.4, 0.340554, 2.006700, 2.100000, 1.0),
    ("Ge", 2.4, 0.158118, 2.294230, 2.261313, 5.0),
    ("Sn", 2.4, 0.079400, 2.156770, 2.633076, 3.0),
    ("P", 3.0, 0.831326, 2.585833, 1.800790, 1.0),
    ("Nd", 1.8, 0.014580, 1.825100, 3.398717, 3.0),
    ("Gd", 1.8, 0.000132, 2.013000, 4.351589, 3.0),
    ("Er", 1.8, 0.040448, 2.294078, 2.837722, 3.0),
    ("O", -1.2, 0.042395, 1.379316, 3.618701, 22.0),
];

const PEDONE_REFERENCE: &str = "A. Pedone, G. Malavasi, M. C. Menziani, A. N. Cormack, U. Segre, \
'A New Self-Consistent Empirical Interatomic Potential Model for Oxides, Silicates, and Silica-Based \
Glasses', J. Phys. Chem. B 110, 11780-11795 (2006), doi:10.1021/jp0611018, Table 1: partial charges \
(O -1.2) and, for each X-O and O-O pair, U = D[(1 - exp(-a(r - r0)))^2 - 1] + C/r^12 with D in eV, a in \
1/A, r0 in A, C in eV A^12; no short-range term between cations. Transcription cross-checked against \
glasagent/amorphouspy potentials/pmmcs_potential.py (commit 060ed86, all rows), the LAMMPS pair_style \
pedone documentation (Ca-O, O-O) and gvermillion/research potential files (Be-O, Al-O, Si-O, O-O). \
Fe is Fe2+. Default short-range cutoff 5.5 A with the energy shifted to zero there, as in the paper's \
own runs and the common LAMMPS setup (pair_modify shift yes).";

const BKS_REFERENCE: &str = "B. W. H. van Beest, G. J. Kramer, R. A. van Santen, 'Force fields for \
silicas and aluminophosphates based on ab initio calculations', Phys. Rev. Lett. 64, 1955 (1990), \
Table I: charges Si +2.4, O -1.2; Buckingham U = A exp(-b r) - C/r^6 with (A eV, b 1/A, C eV A^6) = \
Si-O (18003.7572, 4.87318, 133.5381), O-O (1388.7730, 2.76000, 175.0000); no Si-Si term. Here rho = 1/b. \
Cross-checked against the Si-O and O-O C6 values of the DAMPDISP parameter listing citing \
PhysRevLett-v64-p1955. Default cutoff 5.5 A, energy shifted (the usual modern setting); the original \
form is unbounded below at short range, so keep timesteps and temperatures moderate or add a wall.";

const TETER_REFERENCE: &str = "D. M. Teter (unpublished), as published and used by A. N. Cormack, J. Du, \
T. R. Zeitler, Phys. Chem. Chem. Phys. 4, 3193 (2002) and J. Du, A. N. Cormack, J. Non-Cryst. Solids 349, \
66 (2004): charges Na +0.6, Si +2.4, O -1.2; Buckingham U = A exp(-r/rho) - C/r^6 with (A eV, rho A, \
C eV A^6) = Na-O (4383.7555, 0.243838, 30.70), Si-O (13702.905, 0.193817, 54.681), O-O (1844.7458, \
0.343645, 192.58). Cross-checked against a published parameter listing that gives the same rows in \
kcal/mol (Na-O 101093.347 kcal/mol = 4383.76 eV, C 707.96963 kcal/mol A^6 = 30.70 eV A^6). Other \
cations of the Teter set (Li, K, Ca, ...) are left out until their values are checked against a \
second source; add them in a TOML file. Like BKS the form is unbounded below at very short range: \
Du and Cormack add a repulsive r^-n wall for high temperatures (add an inverse_twelve term if needed).";

fn el(symbol: &str) -> Element {
    Element::from_symbol(symbol).expect("built-in tables use valid symbols")
}

impl ForceField {
    /// The names of the built-in force fields.
    pub fn names() -> &'static [&'static str] {
        &["pedone", "bks", "teter"]
    }

    /// A built-in force field by name (case-insensitive).
    pub fn by_name(name: &str) -> Result<ForceField> {
        match name.to_ascii_lowercase().as_str() {
            "pedone" => Ok(Self::pedone()),
            "bks" => Ok(Self::bks()),
            "teter" => Ok(Self::teter()),
            _ => Err(Error::UnknownName {
                kind: "force field",
                name: name.to_string(),
                known: Self::names().iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    /// A built-in name, or else a TOML parameter file.
    pub fn by_name_or_file(name_or_path: &str) -> Result<ForceField> {
        match Self::by_name(name_or_path) {
            Ok(ff) => Ok(ff),
            Err(e) if !Path::new(name_or_path).exists() => Err(e),
            Err(_) => Self::from_file(name_or_path),
        }
    }

    /// Pedone et al. (2006).
    pub fn pedone() -> ForceField {
        let o = el("O");
        let mut charges = BTreeMap::new();
        let mut pairs = Vec::new();
        for &(sym, q, d0, alpha, r0, c) in PEDONE {
            charges.insert(el(sym), q);
            pairs.push(PairSpec {
                a: el(sym),
                b: o,
                terms: vec![PairTerm::Morse { d0, alpha, r0 }, PairTerm::InverseTwelve { c }],
            });
        }
        ForceField {
            name: "pedone".into(),
            reference: PEDONE_REFERENCE.into(),
            cutoff: 5.5,
            truncation: Truncation::ShiftEnergy,
            charges,
            pairs,
        }
    }

    /// van Beest, Kramer and van Santen (1990) for silica.
    pub fn bks() -> ForceField {
        let (si, o) = (el("Si"), el("O"));
        let buck = |a: f64, b: f64, c: f64| PairTerm::Buckingham { a, rho: 1.0 / b, c };
        ForceField {
            name: "bks".into(),
            reference: BKS_REFERENCE.into(),
            cutoff: 5.5,
            truncation: Truncation::ShiftEnergy,
            charges: BTreeMap::from([(si, 2.4), (o, -1.2)]),
            pairs: vec![
                PairSpec {
                    a: si,
                    b: o,
                    terms: vec![buck(18003.7572, 4.87318, 133.5381)],
                },
                PairSpec {
                    a: o,
                    b: o,
                    terms: vec![buck(1388.7730, 2.76000, 175.0000)],
                },
            ],
        }
    }

    /// Teter's Buckingham potential for sodium silicates (Du & Cormack 2004).
    pub fn teter() -> ForceField {
        let (na, si, o) = (el("Na"), el("Si"), el("O"));
        let buck = |a: f64, rho: f64, c: f64| vec![PairTerm::Buckingham { a, rho, c }];
        ForceField {
            name: "teter".into(),
            reference: TETER_REFERENCE.into(),
            cutoff: 8.0,
            truncation: Truncation::ShiftEnergy,
            charges: BTreeMap::from([(na, 0.6), (si, 2.4), (o, -1.2)]),
            pairs: vec![
                PairSpec {
                    a: na,
                    b: o,
                    terms: buck(4383.7555, 0.243838, 30.70),
                },
                PairSpec {
                    a: si,
                    b: o,
                    terms: buck(13702.905, 0.193817, 54.681),
                },
                PairSpec {
                    a: o,
                    b: o,
                    terms: buck(1844.7458, 0.343645, 192.58),
                },
            ],
        }
    }

    /// Parse the TOML form.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<ForceField> {
        let ff: ForceField = toml::from_str(text).map_err(|e| Error::ParameterFile {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        ff.validate().map_err(|e| Error::ParameterFile {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        Ok(ff)
    }

    /// Read a TOML parameter file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ForceField> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::ParameterFile {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// The TOML form.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::InvalidParameter(e.to_string()))
    }

    fn validate(&self) -> Result<()> {
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "cutoff must be positive, got {}",
                self.cutoff
            )));
        }
        if let Some((e, q)) = self.charges.iter().find(|(_, q)| !q.is_finite()) {
            return Err(Error::InvalidParameter(format!("charge of {e} is {q}")));
        }
        for p in &self.pairs {
            for t in &p.terms {
                t.validate()?;
            }
        }
        Ok(())
    }

    /// Check that the force field can describe these elements: each needs a charge (when the field
    /// has charges) and every cation–anion pair needs a short-range term, or opposite charges would
    /// collapse onto each other.
    pub fn check_covers(&self, elements: &[Element]) -> Result<()> {
        let mut missing = Vec::new();
        if !self.charges.is_empty() {
            for e in elements {
                if !self.charges.contains_key(e) {
                    missing.push(format!("{e} (no charge)"));
                }
            }
        }
        for (k, a) in elements.iter().enumerate() {
            for b in &elements[k..] {
                let (Some(qa), Some(qb)) = (self.charges.get(a), self.charges.get(b)) else {
                    continue;
                };
                let has_pair = self
                    .pairs
                    .iter()
                    .any(|p| (p.a == *a && p.b == *b) || (p.a == *b && p.b == *a));
                if qa * qb < 0.0 && !has_pair {
                    missing.push(format!("{a}–{b} (no short-range term)"));
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::NotCovered {
                force_field: self.name.clone(),
                missing,
            })
        }
    }

    /// The short-range part as a calculator for these elements, with an optional cutoff (Å) and
    /// truncation overriding the defaults.
    pub fn pair_interactions(
        &self,
        elements: &[Element],
        cutoff: Option<f64>,
        truncation: Option<Truncation>,
    ) -> Result<PairInteractions> {
        self.validate()?;
        self.check_covers(elements)?;
        let rc = cutoff.unwrap_or(self.cutoff);
        // Force-field runs (the pipeline, `amorph md`) must not depend on the thread count: MD is
        // chaotic, so a last-bit difference in the pair sum becomes a different trajectory.
        let mut pi = PairInteractions::new(rc)?.deterministic(true);
        for p in &self.pairs {
            if elements.contains(&p.a) && elements.contains(&p.b) {
                pi.set_pair(
                    p.a,
                    p.b,
                    p.terms.clone(),
                    truncation.unwrap_or(self.truncation),
                    None,
                )?;
            }
        }
        Ok(pi)
    }
}

impl ForceField {
    /// The whole force field (short-range pairs + Coulomb) as a calculator for these elements.
    pub fn calculator(&self, elements: &[Element], options: &CalculatorOptions) -> Result<Sum> {
        let pairs = self.pair_interactions(elements, options.cutoff, options.truncation)?;
        let mut terms: Vec<Box<dyn Calculator>> = vec![Box::new(pairs)];
        let charged = elements
            .iter()
            .any(|e| self.charges.get(e).is_some_and(|q| *q != 0.0));
        if charged {
            let charges = Charges::new(
                elements
                    .iter()
                    .map(|e| (*e, self.charges.get(e).copied().unwrap_or(0.0))),
            )?;
            let coulomb: Option<Box<dyn Calculator>> = match options.coulomb {
                CoulombMethod::Ewald { cutoff, accuracy } => {
                    Some(Box::new(Ewald::new(charges, cutoff, accuracy)?))
                }
                CoulombMethod::Pppm { cutoff, accuracy } => {
                    Some(Box::new(Pppm::new(charges, cutoff, accuracy)?.tabulated(true)))
                }
                CoulombMethod::Dsf { alpha, cutoff } => Some(Box::new(Dsf::new(charges, alpha, cutoff)?)),
                CoulombMethod::Wolf { alpha, cutoff } => Some(Box::new(Wolf::new(charges, alpha, cutoff)?)),
                CoulombMethod::None => None,
            };
            terms.extend(coulomb);
        }
        Ok(Sum::new(terms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pedone_covers_silicates_and_names_what_is_missing() {
        let ff = ForceField::by_name("Pedone").unwrap();
        ff.check_covers(&[el("Li"), el("Si"), el("O")]).unwrap();
        let err = ff
            .check_covers(&[el("Li"), el("Cl"), el("O")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Cl (no charge)"), "{err}");
        assert!(ForceField::by_name("nope").is_err());
    }

    #[test]
    fn every_built_in_force_field_loads_and_describes_its_elements() {
        for name in ForceField::names() {
            let ff = ForceField::by_name(name).unwrap();
            let elements: Vec<Element> = ff.charges.keys().copied().collect();
            ff.check_covers(&elements).unwrap();
            assert!(!ff.reference.is_empty());
            let back = ForceField::from_toml_str(&ff.to_toml().unwrap(), name).unwrap();
            assert_eq!(back.pairs.len(), ff.pairs.len());
        }
        let err = ForceField::teter()
            .check_covers(&[el("Li"), el("Si"), el("O")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Li (no charge)"), "{err}");
    }

    #[test]
    fn toml_round_trip() {
        let ff = ForceField::pedone();
        let text = ff.to_toml().unwrap();
        let back = ForceField::from_toml_str(&text, "inline").unwrap();
        assert_eq!(back.charges, ff.charges);
        assert_eq!(back.pairs.len(), ff.pairs.len());
        let bad = text.replace("cutoff = 5.5", "cutoff = -1.0");
        assert!(ForceField::from_toml_str(&bad, "inline").is_err());
    }

    #[test]
    fn pedone_si_o_minimum_is_near_the_bond_length() {
        // Morse minimum at r0 = 2.1 Å is shifted inwards by C/r¹²; with Coulomb the bond is ~1.6 Å.
        let ff = ForceField::pedone();
        let pi = ff
            .pair_interactions(&[el("Si"), el("O")], None, Some(Truncation::Cut))
            .unwrap();
        let (e, f) = pi.pair_energy_force(el("Si"), el("O"), 2.1).unwrap();
        let want = -0.340554 + 1.0 / 2.1f64.powi(12);
        assert!((e - want).abs() < 1e-12);
        assert!((f - 12.0 / 2.1f64.powi(13)).abs() < 1e-12);
    }
}
