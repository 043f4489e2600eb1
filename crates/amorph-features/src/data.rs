//! Elemental data of the compositional features and the effective radii.
//!
//! | property | `sendek` | `zheng2024` |
//! |---|---|---|
//! | Ecoh, eV/atom | Kittel, *Introduction to Solid State Physics* 8th ed., Table 3.1 (as `amorph-structure`, via matminer) | the released table's values (`data/zheng2024_elements.csv`) |
//! | B, G, GPa | `data/zheng2024_elements.csv` (integer elemental moduli, apparently Materials Project's; Ti G = 1287 as published) | the same |
//! | χ | Pauling, pymatgen `Element.X` | the same |
//! | m, amu | pymatgen `Element.atomic_mass` | the same |
//! | R, Å | Slater atomic radius, pymatgen `Element.atomic_radius` | the same |
//!
//! An element without a value makes the feature undefined ([`Undefined::MissingData`]), never zero.

use amorph_structure::Element;

use crate::error::{Undefined, Value};
use crate::options::{Convention, RadiusTable};

#[path = "zheng_table.rs"]
mod zheng_table;

/// An elemental property averaged by the compositional features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Property {
    /// Cohesive energy of the elemental ground state, eV/atom.
    CohesiveEnergy,
    /// Bulk modulus of the element, GPa.
    BulkModulus,
    /// Shear modulus of the element, GPa.
    ShearModulus,
    /// Pauling electronegativity.
    Electronegativity,
    /// Atomic mass, amu.
    Mass,
    /// Empirical atomic radius (Slater), Å.
    AtomicRadius,
}

impl Property {
    /// Human name, as in [`Undefined::MissingData`].
    pub fn name(self) -> &'static str {
        match self {
            Property::CohesiveEnergy => "cohesive energy",
            Property::BulkModulus => "bulk modulus",
            Property::ShearModulus => "shear modulus",
            Property::Electronegativity => "electronegativity",
            Property::Mass => "atomic mass",
            Property::AtomicRadius => "atomic radius",
        }
    }
}

fn zheng_row(e: Element) -> Option<&'static (&'static str, f64, f64, f64)> {
    zheng_table::ZHENG2024.iter().find(|r| r.0 == e.symbol())
}

/// The value of an elemental property under a convention.
pub fn property(e: Element, p: Property, convention: Convention) -> Value {
    let v = match p {
        Property::CohesiveEnergy => match convention {
            Convention::Sendek => e.cohesive_energy(),
            Convention::Zheng2024 => zheng_row(e).map(|r| r.3),
        },
        Property::BulkModulus => zheng_row(e).map(|r| r.1),
        Property::ShearModulus => zheng_row(e).map(|r| r.2),
        Property::Electronegativity => e.electronegativity(),
        Property::Mass => Some(e.atomic_mass()),
        Property::AtomicRadius => e.atomic_radius(),
    };
    v.ok_or(Undefined::MissingData {
        element: e,
        property: p.name(),
    })
}

/// Roman numeral prefix of a Shannon coordination (`"IVSQ"` → (4, true)): the number and whether a
/// suffix follows.
fn coordination_number(c: &str) -> Option<(u32, bool)> {
    let roman: String = c.chars().take_while(|ch| matches!(ch, 'I' | 'V' | 'X')).collect();
    if roman.is_empty() {
        return None;
    }
    let val = |ch: char| match ch {
        'I' => 1,
        'V' => 5,
        _ => 10,
    };
    let chars: Vec<u32> = roman.chars().map(val).collect();
    let mut n = 0i64;
    for (k, &v) in chars.iter().enumerate() {
        if chars.get(k + 1).is_some_and(|&next| next > v) {
            n -= i64::from(v);
        } else {
            n += i64::from(v);
        }
    }
    u32::try_from(n).ok().map(|n| (n, roman.len() < c.len()))
}

/// Shannon effective ionic radius of an element in an oxidation state, by the rule of
/// [`RadiusTable::Shannon`]; `None` if Shannon has no positive radius for it.
pub fn shannon_radius(e: Element, oxidation_state: i8) -> Option<f64> {
    let spin_rank = |s: &str| match s {
        "High Spin" => 0,
        "" => 1,
        _ => 2,
    };
    e.data()
        .shannon_radii
        .iter()
        .filter(|s| s.oxidation_state == oxidation_state)
        .filter_map(|s| coordination_number(s.coordination).map(|(n, suffix)| (s, n, suffix)))
        .min_by_key(|&(s, n, suffix)| ((i64::from(n) - 6).abs(), -i64::from(n), suffix, spin_rank(s.spin)))
        .map(|(s, _, _)| s.ionic_radius)
        .filter(|&r| r > 0.0)
}

/// The oxidation state the Shannon rule uses: the anion's most negative common state, any other
/// element's most positive common state with a Shannon radius.
pub fn shannon_oxidation_state(e: Element, is_anion: bool) -> Option<i8> {
    let states = e.common_oxidation_states();
    if is_anion {
        states.iter().copied().filter(|&q| q < 0).min()
    } else {
        states
            .iter()
            .copied()
            .filter(|&q| q > 0 && shannon_radius(e, q).is_some())
            .max()
    }
}

/// Effective radius of an element, Å, from a radius table; `is_anion` says whether the element is the
/// structure's anion (the Shannon rule depends on it).
pub fn effective_radius(e: Element, table: &RadiusTable, is_anion: bool) -> Value {
    let covalent = || {
        e.covalent_radius().ok_or(Undefined::MissingData {
            element: e,
            property: "covalent radius",
        })
    };
    match table {
        RadiusTable::Shannon => match shannon_oxidation_state(e, is_anion).and_then(|q| shannon_radius(e, q))
        {
            Some(r) => Ok(r),
            None => covalent(),
        },
        RadiusTable::Covalent => covalent(),
        RadiusTable::CovalentZheng2024 => match e.symbol() {
            "Mn" => Ok(1.39),
            "Fe" => Ok(1.32),
            "Co" => Ok(1.26),
            "C" => Ok(0.76),
            _ => covalent(),
        },
        RadiusTable::Atomic => e.atomic_radius().ok_or(Undefined::MissingData {
            element: e,
            property: "atomic radius",
        }),
        RadiusTable::Custom(map) => map.get(&e).copied().ok_or(Undefined::MissingData {
            element: e,
            property: "custom radius",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        Element::from_symbol(s).unwrap()
    }

    #[test]
    fn zheng_table_matches_csv() {
        let csv = include_str!("../data/zheng2024_elements.csv");
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("element") && !l.trim().is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), zheng_table::ZHENG2024.len());
        for (row, t) in rows.iter().zip(zheng_table::ZHENG2024.iter()) {
            assert_eq!(row[0], t.0);
            assert_eq!(row[1].parse::<f64>().unwrap(), t.1);
            assert_eq!(row[2].parse::<f64>().unwrap(), t.2);
            assert_eq!(row[3].parse::<f64>().unwrap(), t.3);
            assert!(Element::from_symbol(t.0).is_ok());
        }
    }

    #[test]
    fn roman_numerals() {
        assert_eq!(coordination_number("VI"), Some((6, false)));
        assert_eq!(coordination_number("IVSQ"), Some((4, true)));
        assert_eq!(coordination_number("IX"), Some((9, false)));
        assert_eq!(coordination_number("XIV"), Some((14, false)));
        assert_eq!(coordination_number("IIIPY"), Some((3, true)));
        assert_eq!(coordination_number(""), None);
    }

    #[test]
    fn shannon_rule_picks_the_documented_rows() {
        let t = RadiusTable::Shannon;
        assert_eq!(effective_radius(el("Li"), &t, false), Ok(0.76));
        assert_eq!(effective_radius(el("O"), &t, true), Ok(1.4));
        assert_eq!(effective_radius(el("F"), &t, true), Ok(1.33));
        assert_eq!(effective_radius(el("Si"), &t, false), Ok(0.4));
        assert_eq!(effective_radius(el("P"), &t, false), Ok(0.38));
        // N3- has only a four-fold radius.
        assert_eq!(effective_radius(el("N"), &t, true), Ok(1.46));
        // Si as the anion of a Li–Si alloy: no Si4- radius, so the covalent radius.
        assert_eq!(effective_radius(el("Si"), &t, true), Ok(1.11));
        assert_eq!(
            effective_radius(el("Li"), &RadiusTable::Covalent, false),
            Ok(1.28)
        );
        assert_eq!(
            effective_radius(el("Co"), &RadiusTable::Covalent, false),
            Ok(1.38)
        );
        assert_eq!(
            effective_radius(el("Co"), &RadiusTable::CovalentZheng2024, false),
            Ok(1.26)
        );
        assert_eq!(
            effective_radius(el("Si"), &RadiusTable::CovalentZheng2024, false),
            Ok(1.11)
        );
        assert_eq!(effective_radius(el("O"), &RadiusTable::Atomic, true), Ok(0.6));
        assert!(matches!(
            effective_radius(el("O"), &RadiusTable::Custom(Default::default()), true),
            Err(Undefined::MissingData { .. })
        ));
    }

    #[test]
    fn properties_by_convention() {
        let li = el("Li");
        assert_eq!(
            property(li, Property::CohesiveEnergy, Convention::Sendek),
            Ok(1.63)
        );
        assert_eq!(
            property(li, Property::CohesiveEnergy, Convention::Zheng2024),
            Ok(1.606591010)
        );
        assert_eq!(property(li, Property::BulkModulus, Convention::Sendek), Ok(14.0));
        assert_eq!(
            property(el("Ti"), Property::ShearModulus, Convention::Zheng2024),
            Ok(1287.0)
        );
        assert!(matches!(
            property(el("U"), Property::BulkModulus, Convention::Sendek),
            Err(Undefined::MissingData {
                property: "bulk modulus",
                ..
            })
        ));
    }
}
