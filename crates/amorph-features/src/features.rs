//! The registry: every descriptor of the paper's Table 1 under its paper name, and the
//! [`Featurizer`] trait that built-in and user features share.

use std::fmt;

use amorph_structure::Structure;
use serde::{Serialize, Serializer};

use crate::context::Context;
use crate::data::{Property, property};
use crate::error::{Result, Undefined, Value};
use crate::options::{Convention, Options};

/// Boltzmann constant, eV/K (CODATA 2018).
pub const KB_EV_PER_K: f64 = 8.617333262e-5;

/// One descriptor: a name, a unit, a description, and a value computed from a [`Context`] (one
/// structure or composition with its neighbour list and cached intermediates).
///
/// Implement it to add your own descriptor to a [`FeatureSet`](crate::FeatureSet):
///
/// ```
/// use amorph_features::{Context, Featurizer, Undefined, Value};
///
/// /// Number of atoms per formula unit.
/// struct AtomsPerFormulaUnit;
///
/// impl Featurizer for AtomsPerFormulaUnit {
///     fn name(&self) -> &str { "Nfu" }
///     fn unit(&self) -> &str { "1" }
///     fn description(&self) -> &str { "atoms per reduced formula unit" }
///     fn needs_structure(&self) -> bool { false }
///     fn compute(&self, ctx: &Context<'_>) -> Value {
///         let c = ctx.composition()?;
///         Ok(c.reduced_composition().num_atoms())
///     }
/// }
/// # let o = amorph_features::Options::default();
/// # let c: amorph_structure::Composition = "Li2Si2O5".parse().unwrap();
/// # let ctx = Context::from_composition(&c, &o).unwrap();
/// # assert_eq!(AtomsPerFormulaUnit.compute(&ctx), Ok(9.0));
/// ```
pub trait Featurizer: Send + Sync {
    /// Name (a column of the feature table).
    fn name(&self) -> &str;
    /// Unit, e.g. `"Å"`, `"1"` for dimensionless.
    fn unit(&self) -> &str;
    /// One-line description.
    fn description(&self) -> &str;
    /// Whether the feature needs atomic positions (false: a composition suffices).
    fn needs_structure(&self) -> bool {
        true
    }
    /// The value, or why it is undefined.
    fn compute(&self, ctx: &Context<'_>) -> Value;
    /// The value for one structure (builds a fresh [`Context`]; a
    /// [`FeatureSet`](crate::FeatureSet) shares one between features).
    fn compute_structure(&self, structure: &Structure, options: &Options) -> Result<Value> {
        let ctx = Context::build(structure, options, self.needs_structure())?;
        Ok(self.compute(&ctx))
    }
}

macro_rules! features {
    ($( $(#[$doc:meta])* $var:ident => ($name:literal, $unit:literal, $alias:literal, $structural:literal, $desc:literal), )*) => {
        /// The built-in descriptors, in the column order of the released table of Zheng et al. (2024)
        /// (`density`, which it lacks, after the structural block; `T`, `1/kBT` last).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Feature {
            $( $(#[$doc])* $var, )*
        }

        impl Feature {
            /// Every built-in feature, in table order.
            pub const ALL: &'static [Feature] = &[$(Feature::$var,)*];

            /// The paper's name: the canonical key of the library and the CLI.
            pub fn name(self) -> &'static str {
                match self { $(Feature::$var => $name,)* }
            }

            /// Unit.
            pub fn unit(self) -> &'static str {
                match self { $(Feature::$var => $unit,)* }
            }

            /// The column name in the released table of Zheng et al. (2024) (accepted by
            /// [`Feature::from_name`]); empty where that table has no such column.
            pub fn released_column(self) -> &'static str {
                match self { $(Feature::$var => $alias,)* }
            }

            /// Whether atomic positions are needed.
            pub fn is_structural(self) -> bool {
                match self { $(Feature::$var => $structural,)* }
            }

            /// Definition (under the default convention; [`Convention::Zheng2024`] departures are
            /// documented on [`Convention`]).
            pub fn description(self) -> &'static str {
                match self { $(Feature::$var => $desc,)* }
            }
        }
    };
}

features! {
    /// Average atomic volume.
    Aav => ("AAV", "Å³", "AAV", true, "cell volume / number of atoms"),
    /// Li bond ionicity.
    Lbi => ("LBI", "1", "LBI", true, "mean |χ_Li − χ_X| over all Li–X bonds within the cutoff (zheng2024: sum / (bonds − 1))"),
    /// Standard deviation of the Li bond ionicity.
    Sdli => ("SDLI", "1", "SDLI", true, "sample standard deviation of |χ_Li − χ_X| over the Li–X bonds"),
    /// Sublattice bond ionicity.
    Sbi => ("SBI", "1", "SBI", true, "mean |Δχ| over bonds between two non-Li atoms within the cutoff (zheng2024: every bond of a non-Li atom)"),
    /// Sublattice electronegativity.
    Ens => ("ENS", "1", "ENS", true, "mean Pauling χ over the non-Li atoms"),
    /// Ratio of bond ionicities.
    Rbi => ("RBI", "1", "RBI", true, "LBI / SBI"),
    /// Anion framework coordination.
    Afc => ("AFC", "1", "AFC", true, "mean over anions of the number of anions at r0 ≤ r ≤ r0 + 1 Å, r0 its nearest anion distance"),
    /// Anion–anion separation distance.
    Aasd => ("AASD", "Å", "AASD", true, "mean over anions of the nearest anion–anion distance"),
    /// Volume per anion.
    Vpa => ("VPA", "Å³", "VPA", true, "cell volume / number of anions"),
    /// Li–anion separation distance.
    Lasd => ("LASD", "Å", "LASD", true, "mean over Li of the nearest Li–anion distance"),
    /// Li–Li separation distance.
    Llsd => ("LLSD", "Å", "LLSD", true, "mean over Li of the nearest Li–Li distance"),
    /// Li neighbour count.
    Lnc => ("LNC", "1", "LNC", true, "mean over Li of the number of atoms within the cutoff"),
    /// Standard deviation of the Li neighbour count.
    Sdlc => ("SDLC", "1", "SDLC", true, "sample standard deviation over Li of that count"),
    /// Li–Li bonds per Li.
    Llb => ("LLB", "1", "LLB", true, "Li–Li bonds within the cutoff counted from every Li, / number of Li"),
    /// Sublattice neighbour count.
    Snc => ("SNC", "1", "SNC", true, "mean over non-Li atoms of the number of non-Li atoms within the cutoff"),
    /// Ratio of neighbour counts.
    Rnc => ("RNC", "1", "RNC", true, "LNC / SNC"),
    /// Packing fraction.
    Pf => ("PF", "1", "PF", true, "fraction of the cell inside the union of all atoms' effective spheres (zheng2024: Σ sphere volumes / V)"),
    /// Sublattice packing fraction.
    Spf => ("SPF", "1", "SPF", true, "the same over the non-Li atoms"),
    /// Straight-line path width.
    Slpw => ("SLPW", "Å", "SLPW", true, "mean over Li of the width of the segment to its nearest Li: min over atoms projecting onto it of (distance − radius), floored at 0 (zheng2024: nearest-centre distance − its radius)"),
    /// Straight-line path width, point to point.
    SlpwPp => ("SLPW_pp", "Å", "SLPW_pp", true, "the same over all atoms with the distance to the segment's closest point, not floored (zheng2024: nearest-centre distance)"),
    /// Straight-line path electronegativity.
    Slpe => ("SLPE", "1", "SLPE", true, "mean over Li of χ of the atom that sets the path width"),
    /// Li fraction.
    LiFraction => ("Li%", "1", "Li_percentage", false, "atomic fraction of Li (0–1)"),
    /// Mean bulk modulus.
    B => ("B", "GPa", "avg_B_with_Li", false, "atomic-fraction-weighted mean elemental bulk modulus"),
    /// Mean bulk modulus without Li.
    BNoLi => ("B-Li", "GPa", "avg_B_wiout_Li", false, "the same over non-Li atoms"),
    /// Mean shear modulus.
    G => ("G", "GPa", "avg_G_with_Li", false, "atomic-fraction-weighted mean elemental shear modulus"),
    /// Mean shear modulus without Li.
    GNoLi => ("G-Li", "GPa", "avg_G_wiout_Li", false, "the same over non-Li atoms"),
    /// Mean cohesive energy.
    Ecoh => ("Ecoh", "eV", "avg_Ecoh_with_Li", false, "atomic-fraction-weighted mean elemental cohesive energy, eV/atom"),
    /// Mean cohesive energy without Li.
    EcohNoLi => ("Ecoh-Li", "eV", "avg_Echo_wiout_Li", false, "the same over non-Li atoms"),
    /// √(B̄ R̄⁵ / m̄).
    Br5m => ("BR5m", "√(GPa·Å⁵/amu)", "BR5_M_with_Li", false, "√(B·R⁵/m) of the averages B, R, m"),
    /// √(B̄ R̄⁵ / m̄) without Li.
    Br5mNoLi => ("BR5m-Li", "√(GPa·Å⁵/amu)", "BR5_M_without_Li", false, "√(B·R⁵/m) of the non-Li averages"),
    /// √(Ḡ R̄⁵ / m̄).
    Gr5m => ("GR5m", "√(GPa·Å⁵/amu)", "GR5_M_with_Li", false, "√(G·R⁵/m) of the averages G, R, m"),
    /// √(Ḡ R̄⁵ / m̄) without Li.
    Gr5mNoLi => ("GR5m-Li", "√(GPa·Å⁵/amu)", "GR5_M_without_Li", false, "√(G·R⁵/m) of the non-Li averages"),
    /// √(Ē R̄² / m̄).
    Er2m => ("ER2m", "√(eV·Å²/amu)", "ER2_m_with_Li", false, "√(Ecoh·R²/m) of the averages Ecoh, R, m"),
    /// √(Ē R̄² / m̄) without Li.
    Er2mNoLi => ("ER2m-Li", "√(eV·Å²/amu)", "ER2_m_without_Li", false, "√(Ecoh·R²/m) of the non-Li averages"),
    /// Mean atomic radius.
    R => ("R", "Å", "atomic_radius_avg", false, "atomic-fraction-weighted mean atomic radius (Slater)"),
    /// Mean atomic radius without Li.
    RNoLi => ("R-Li", "Å", "atomic_radius_avg_exclude_Li", false, "the same over non-Li atoms"),
    /// Radius ratio.
    RRatio => ("R-ratio", "1", "ratio_r_without_Li_with", false, "R-Li / R"),
    /// Mean atomic mass.
    M => ("m", "amu", "avg_m_with_Li", false, "atomic-fraction-weighted mean atomic mass"),
    /// Mean atomic mass without Li.
    MNoLi => ("m-Li", "amu", "avg_m_wiout_Li", false, "the same over non-Li atoms"),
    /// Mean electronegativity.
    X => ("X", "1", "avg_X_with_Li", false, "atomic-fraction-weighted mean Pauling electronegativity"),
    /// Mean electronegativity without Li.
    XNoLi => ("X-Li", "1", "avg_X_wiout_Li", false, "the same over non-Li atoms"),
    /// Electronegativity difference.
    DeltaX => ("ΔX", "1", "avg_diff_of_X_Li_rest", false, "mean over non-Li atoms of (χ − χ_Li) (zheng2024: X-Li − X)"),
    /// Mass density.
    Density => ("density", "g/cm³", "", true, "mass / volume of the structure"),
    /// Temperature.
    T => ("T", "K", "temperature", false, "temperature of the run (given by the caller)"),
    /// Inverse thermal energy.
    InvKbT => ("1/kBT", "eV⁻¹", "", false, "1 / (k_B·T)"),
}

impl Feature {
    /// The features of Table 1 (everything but `T` and `1/kBT`), in table order.
    pub fn table1() -> impl Iterator<Item = Feature> {
        Feature::ALL
            .iter()
            .copied()
            .filter(|f| !matches!(f, Feature::T | Feature::InvKbT))
    }

    /// The compositional features (no structure needed; `T` and `1/kBT` excluded), in table order.
    pub fn compositional() -> impl Iterator<Item = Feature> {
        Feature::table1().filter(|f| !f.is_structural())
    }

    /// A feature by its paper name or its released-table column name (also `dX` for `ΔX`, `invkBT`
    /// for `1/kBT`).
    pub fn from_name(name: &str) -> Option<Feature> {
        match name {
            "dX" | "DeltaX" => return Some(Feature::DeltaX),
            "invkBT" | "1/(kB·T)" => return Some(Feature::InvKbT),
            "Li_fraction" => return Some(Feature::LiFraction),
            _ => {}
        }
        Feature::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name || (!f.released_column().is_empty() && f.released_column() == name))
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Feature {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Featurizer for Feature {
    fn name(&self) -> &str {
        Feature::name(*self)
    }
    fn unit(&self) -> &str {
        Feature::unit(*self)
    }
    fn description(&self) -> &str {
        Feature::description(*self)
    }
    fn needs_structure(&self) -> bool {
        self.is_structural()
    }
    fn compute(&self, ctx: &Context<'_>) -> Value {
        compute(*self, ctx)
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard deviation (n − 1).
fn sample_std(v: &[f64], what: &'static str) -> Value {
    if v.len() < 2 {
        return Err(Undefined::TooFewValues { what, n: v.len() });
    }
    let m = mean(v);
    Ok((v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

/// A part's reason wrapped in [`Undefined::Depends`] (an empty structure or a bare formula stays as it
/// is: it concerns the input, not the part).
fn depends(feature: Feature, v: Value) -> Value {
    v.map_err(|reason| match reason {
        Undefined::EmptyStructure | Undefined::NeedsStructure => reason,
        _ => Undefined::Depends {
            feature: feature.name(),
            reason: Box::new(reason),
        },
    })
}

fn ratio(num: Value, den: Value, nf: Feature, df: Feature) -> Value {
    let n = depends(nf, num)?;
    let d = depends(df, den)?;
    if d == 0.0 {
        return Err(Undefined::ZeroDenominator { what: df.name() });
    }
    Ok(n / d)
}

/// Atomic-fraction-weighted average of a property over all atoms or the non-mobile ones.
fn average(ctx: &Context<'_>, p: Property, without_mobile: bool) -> Value {
    let c = ctx.composition()?;
    let mobile = ctx.options().mobile;
    let mut total = 0.0;
    let mut sum = 0.0;
    for (e, amount) in c.iter() {
        if without_mobile && e == mobile {
            continue;
        }
        sum += amount * property(e, p, ctx.convention())?;
        total += amount;
    }
    if total == 0.0 {
        return Err(Undefined::NoSublattice);
    }
    Ok(sum / total)
}

/// √(P̄·R̄^k / m̄).
fn synthetic(ctx: &Context<'_>, p: Property, k: i32, without_mobile: bool) -> Value {
    let pv = average(ctx, p, without_mobile)?;
    let r = average(ctx, Property::AtomicRadius, without_mobile)?;
    let m = average(ctx, Property::Mass, without_mobile)?;
    Ok((pv * r.powi(k) / m).sqrt())
}

/// Per Li: number of neighbours within the cutoff.
fn mobile_counts(ctx: &Context<'_>) -> std::result::Result<Vec<f64>, Undefined> {
    let nl = ctx.neighbors()?;
    Ok(ctx
        .mobile_indices()?
        .into_iter()
        .map(|i| nl.neighbors(i).len() as f64)
        .collect())
}

/// |Δχ| of every bond (i, j) within the cutoff with i accepted by `from` and j by `to`.
fn bond_ionicities(
    ctx: &Context<'_>,
    from: impl Fn(usize) -> bool,
    to: impl Fn(usize) -> bool,
) -> std::result::Result<Vec<f64>, Undefined> {
    let nl = ctx.neighbors()?;
    let chi = ctx.chi()?;
    let mut out = Vec::new();
    for i in (0..nl.natoms()).filter(|&i| from(i)) {
        for n in nl.neighbors(i) {
            let j = n.index as usize;
            if to(j) {
                out.push((chi[i] - chi[j]).abs());
            }
        }
    }
    Ok(out)
}

fn li_bonds(ctx: &Context<'_>) -> std::result::Result<Vec<f64>, Undefined> {
    ctx.mobile_indices()?;
    bond_ionicities(ctx, |i| ctx.is_mobile(i), |_| true)
}

fn sublattice_indices(ctx: &Context<'_>) -> std::result::Result<Vec<usize>, Undefined> {
    let s = ctx.require_structure()?;
    let v: Vec<usize> = (0..s.len()).filter(|&i| !ctx.is_mobile(i)).collect();
    if v.is_empty() {
        Err(Undefined::NoSublattice)
    } else {
        Ok(v)
    }
}

fn lbi(ctx: &Context<'_>) -> Value {
    let b = li_bonds(ctx)?;
    if b.is_empty() {
        return Err(Undefined::NoBonds {
            what: "Li–X bonds within the cutoff",
        });
    }
    match ctx.convention() {
        Convention::Sendek => Ok(mean(&b)),
        Convention::Zheng2024 => {
            if b.len() < 2 {
                return Err(Undefined::TooFewValues {
                    what: "Li–X bonds",
                    n: b.len(),
                });
            }
            Ok(b.iter().sum::<f64>() / (b.len() - 1) as f64)
        }
    }
}

fn sbi(ctx: &Context<'_>) -> Value {
    sublattice_indices(ctx)?;
    let b = match ctx.convention() {
        Convention::Sendek => bond_ionicities(ctx, |i| !ctx.is_mobile(i), |j| !ctx.is_mobile(j))?,
        Convention::Zheng2024 => bond_ionicities(ctx, |i| !ctx.is_mobile(i), |_| true)?,
    };
    if b.is_empty() {
        return Err(Undefined::NoBonds {
            what: "sublattice bonds within the cutoff",
        });
    }
    Ok(mean(&b))
}

fn lnc(ctx: &Context<'_>) -> Value {
    Ok(mean(&mobile_counts(ctx)?))
}

fn snc(ctx: &Context<'_>) -> Value {
    let nl = ctx.neighbors()?;
    let idx = sublattice_indices(ctx)?;
    let counts: Vec<f64> = idx
        .iter()
        .map(|&i| {
            nl.neighbors(i)
                .iter()
                .filter(|n| !ctx.is_mobile(n.index as usize))
                .count() as f64
        })
        .collect();
    Ok(mean(&counts))
}

fn paths(ctx: &Context<'_>, f: Feature) -> Value {
    let p = ctx.paths()?;
    let n = p.point_to_point.len() as f64;
    let sum = |it: &mut dyn Iterator<Item = std::result::Result<f64, Undefined>>| -> Value {
        let mut s = 0.0;
        for v in it {
            s += v?;
        }
        Ok(s / n)
    };
    let no_blocker = || Undefined::NoBonds {
        what: "atom beside a Li–Li path",
    };
    match (ctx.convention(), f) {
        (Convention::Sendek, Feature::Slpw) => sum(&mut p
            .beside
            .iter()
            .map(|b| b.map(|b| b.0.max(0.0)).ok_or_else(no_blocker))),
        (Convention::Sendek, Feature::Slpe) => {
            sum(&mut p.beside.iter().map(|b| b.map(|b| b.1).ok_or_else(no_blocker)))
        }
        (Convention::Sendek, _) => sum(&mut p.point_to_point.iter().map(|&x| Ok(x))),
        (Convention::Zheng2024, Feature::Slpw) => sum(&mut p.nearest_centre.iter().map(|c| Ok(c.0 - c.1))),
        (Convention::Zheng2024, Feature::Slpe) => sum(&mut p.nearest_centre.iter().map(|c| Ok(c.2))),
        (Convention::Zheng2024, _) => sum(&mut p.nearest_centre.iter().map(|c| Ok(c.0))),
    }
    .and_then(|v| if v.is_finite() { Ok(v) } else { Err(no_blocker()) })
}

/// Computes one built-in feature.
fn compute(f: Feature, ctx: &Context<'_>) -> Value {
    use Feature::*;
    let mobile = ctx.options().mobile;
    match f {
        Aav => {
            let s = ctx.require_structure()?;
            Ok(s.volume() / s.len() as f64)
        }
        Density => Ok(ctx.require_structure()?.density()),
        Lbi => lbi(ctx),
        Sdli => sample_std(&li_bonds(ctx)?, "Li–X bonds"),
        Sbi => sbi(ctx),
        Ens => {
            let chi = ctx.chi()?;
            let idx = sublattice_indices(ctx)?;
            Ok(idx.iter().map(|&i| chi[i]).sum::<f64>() / idx.len() as f64)
        }
        Rbi => ratio(lbi(ctx), sbi(ctx), Lbi, Sbi),
        Afc => {
            let shells = ctx.anion_shells()?;
            Ok(shells.iter().map(|s| s.1 as f64).sum::<f64>() / shells.len() as f64)
        }
        Aasd => {
            let shells = ctx.anion_shells()?;
            Ok(shells.iter().map(|s| s.0).sum::<f64>() / shells.len() as f64)
        }
        Vpa => {
            let s = ctx.require_structure()?;
            let a = ctx.anion()?;
            Ok(s.volume() / s.species().iter().filter(|&&e| e == a).count() as f64)
        }
        Lasd => Ok(mean(ctx.mobile_anion()?)),
        Llsd => {
            let d: Vec<f64> = ctx.nearest_mobile()?.iter().map(|(_, v)| v.norm()).collect();
            Ok(mean(&d))
        }
        Lnc => lnc(ctx),
        Sdlc => sample_std(&mobile_counts(ctx)?, "Li atoms"),
        Llb => {
            let nl = ctx.neighbors()?;
            let idx = ctx.mobile_indices()?;
            let bonds: usize = idx
                .iter()
                .map(|&i| {
                    nl.neighbors(i)
                        .iter()
                        .filter(|n| ctx.is_mobile(n.index as usize))
                        .count()
                })
                .sum();
            Ok(bonds as f64 / idx.len() as f64)
        }
        Snc => snc(ctx),
        Rnc => ratio(lnc(ctx), snc(ctx), Lnc, Snc),
        Pf => ctx.packing_fraction(false),
        Spf => ctx.packing_fraction(true),
        Slpw | SlpwPp | Slpe => paths(ctx, f),
        LiFraction => Ok(ctx.composition()?.atomic_fraction(mobile)),
        B => average(ctx, Property::BulkModulus, false),
        BNoLi => average(ctx, Property::BulkModulus, true),
        G => average(ctx, Property::ShearModulus, false),
        GNoLi => average(ctx, Property::ShearModulus, true),
        Ecoh => average(ctx, Property::CohesiveEnergy, false),
        EcohNoLi => average(ctx, Property::CohesiveEnergy, true),
        Br5m => synthetic(ctx, Property::BulkModulus, 5, false),
        Br5mNoLi => synthetic(ctx, Property::BulkModulus, 5, true),
        Gr5m => synthetic(ctx, Property::ShearModulus, 5, false),
        Gr5mNoLi => synthetic(ctx, Property::ShearModulus, 5, true),
        Er2m => synthetic(ctx, Property::CohesiveEnergy, 2, false),
        Er2mNoLi => synthetic(ctx, Property::CohesiveEnergy, 2, true),
        R => average(ctx, Property::AtomicRadius, false),
        RNoLi => average(ctx, Property::AtomicRadius, true),
        RRatio => ratio(
            average(ctx, Property::AtomicRadius, true),
            average(ctx, Property::AtomicRadius, false),
            RNoLi,
            R,
        ),
        M => average(ctx, Property::Mass, false),
        MNoLi => average(ctx, Property::Mass, true),
        X => average(ctx, Property::Electronegativity, false),
        XNoLi => average(ctx, Property::Electronegativity, true),
        DeltaX => {
            let x_rest = average(ctx, Property::Electronegativity, true)?;
            match ctx.convention() {
                Convention::Sendek => {
                    if ctx.composition()?.amount(mobile) == 0.0 {
                        return Err(Undefined::NoMobile { mobile });
                    }
                    Ok(x_rest - property(mobile, Property::Electronegativity, ctx.convention())?)
                }
                Convention::Zheng2024 => Ok(x_rest - average(ctx, Property::Electronegativity, false)?),
            }
        }
        T => ctx.options().temperature.ok_or(Undefined::NoTemperature),
        InvKbT => ctx
            .options()
            .temperature
            .map(|t| 1.0 / (KB_EV_PER_K * t))
            .ok_or(Undefined::NoTemperature),
    }
}
