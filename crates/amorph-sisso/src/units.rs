//! Physical units as dimension vectors.
//!
//! A [`Unit`] is a product of named base symbols with rational exponents, parsed from strings such as
//! `"eV"`, `"eV/Å^2"`, `"eV Å^-2"`, `"K^-1"` or `"1"` (dimensionless; also the empty string). Symbols
//! are free-form: any run of characters other than whitespace, `*`, `·`, `/`, `^`, `(`, `)`. Exponents
//! are integers (`Å^3`, `s^-1`); the operators `sqrt` and `cbrt` make halves and thirds, and the
//! crate keeps exponents in twelfths, so a root whose exponent is not a multiple of 1/12 is not built.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Exponents are stored as integer multiples of 1/`DEN`.
pub(crate) const DEN: i32 = 12;

/// Most distinct base symbols in one problem.
pub(crate) const MAX_BASE: usize = 8;

/// A physical unit: base symbol → exponent (in twelfths).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Unit {
    exponents: BTreeMap<String, i32>,
}

impl Unit {
    /// The dimensionless unit.
    pub fn dimensionless() -> Self {
        Self::default()
    }

    /// Parses a unit string (see the module docs).
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidUnit {
            unit: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        let mut exponents: BTreeMap<String, i32> = BTreeMap::new();
        if t.is_empty() || t == "1" || t == "-" || t.eq_ignore_ascii_case("dimensionless") {
            return Ok(Self { exponents });
        }
        let mut chars = t.chars().peekable();
        let mut sign = 1;
        let mut expect_factor = true;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '*' || c == '·' {
                chars.next();
                continue;
            }
            if c == '/' {
                if expect_factor && sign == -1 {
                    return Err(bad("two '/' in a row"));
                }
                sign = -1;
                expect_factor = true;
                chars.next();
                continue;
            }
            if c == '^' || c == '(' || c == ')' {
                return Err(bad("'^' must follow a symbol; parentheses are not supported"));
            }
            let mut sym = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "*·/^()".contains(c) {
                    break;
                }
                sym.push(c);
                chars.next();
            }
            let mut exp = 1i32;
            if chars.peek() == Some(&'^') {
                chars.next();
                let mut num = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '-' || c == '+' || c.is_ascii_digit() {
                        num.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                exp = num.parse().map_err(|_| bad("exponent must be an integer"))?;
                if exp.abs() > 100 {
                    return Err(bad("exponent out of range"));
                }
            }
            if sym == "1" {
                // "1/K": a leading 1 is the empty product.
                sign = 1;
                expect_factor = false;
                continue;
            }
            if sym
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
            {
                return Err(bad("a symbol may not start with a digit or sign"));
            }
            *exponents.entry(sym).or_insert(0) += sign * exp * DEN;
            sign = 1;
            expect_factor = false;
        }
        if expect_factor && sign == -1 {
            return Err(bad("trailing '/'"));
        }
        exponents.retain(|_, e| *e != 0);
        Ok(Self { exponents })
    }

    /// True when every exponent is zero.
    pub fn is_dimensionless(&self) -> bool {
        self.exponents.is_empty()
    }

    /// The base symbols of this unit.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.exponents.keys().map(String::as_str)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_exponents(f, self.exponents.iter().map(|(s, e)| (s.as_str(), *e)))
    }
}

impl std::str::FromStr for Unit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

fn write_exponents<'a>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = (&'a str, i32)>,
) -> fmt::Result {
    let mut any = false;
    for (s, e) in items {
        if e == 0 {
            continue;
        }
        if any {
            f.write_str(" ")?;
        }
        any = true;
        f.write_str(s)?;
        if e != DEN {
            if e % DEN == 0 {
                write!(f, "^{}", e / DEN)?;
            } else {
                let g = gcd(e.unsigned_abs(), DEN as u32) as i32;
                write!(f, "^({}/{})", e / g, DEN / g)?;
            }
        }
    }
    if !any {
        f.write_str("1")?;
    }
    Ok(())
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A dimension vector over a problem's base symbols (exponents in twelfths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Dim(pub(crate) [i32; MAX_BASE]);

/// The base symbols of a problem, in sorted order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Bases(pub(crate) Vec<String>);

/// Exponents beyond this (in twelfths) are refused, which keeps every arithmetic step exact.
const MAX_EXP: i32 = 1 << 20;

impl Dim {
    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|&e| e == 0)
    }

    fn map(self, f: impl Fn(i32) -> Option<i32>) -> Option<Dim> {
        let mut out = [0; MAX_BASE];
        for (o, e) in out.iter_mut().zip(self.0) {
            let v = f(e)?;
            if v.abs() > MAX_EXP {
                return None;
            }
            *o = v;
        }
        Some(Dim(out))
    }

    pub(crate) fn scale(self, num: i32, den: i32) -> Option<Dim> {
        self.map(|e| {
            let p = e.checked_mul(num)?;
            (p % den == 0).then_some(p / den)
        })
    }

    pub(crate) fn add(self, o: Dim) -> Option<Dim> {
        let mut out = [0; MAX_BASE];
        for ((r, a), b) in out.iter_mut().zip(self.0).zip(o.0) {
            *r = a + b;
            if r.abs() > MAX_EXP {
                return None;
            }
        }
        Some(Dim(out))
    }

    pub(crate) fn sub(self, o: Dim) -> Option<Dim> {
        o.scale(-1, 1).and_then(|n| self.add(n))
    }
}

impl Bases {
    pub(crate) fn from_units<'a>(units: impl Iterator<Item = &'a Unit>) -> Result<Self> {
        let mut all: Vec<String> = units.flat_map(|u| u.symbols().map(str::to_string)).collect();
        all.sort();
        all.dedup();
        if all.len() > MAX_BASE {
            return Err(Error::InvalidUnit {
                unit: all.join(" "),
                reason: format!("more than {MAX_BASE} distinct base symbols"),
            });
        }
        Ok(Self(all))
    }

    pub(crate) fn dim(&self, u: &Unit) -> Dim {
        let mut d = [0; MAX_BASE];
        for (s, e) in &u.exponents {
            if let Some(i) = self.0.iter().position(|b| b == s) {
                d[i] = *e;
            }
        }
        Dim(d)
    }

    pub(crate) fn unit(&self, d: Dim) -> Unit {
        let exponents = self
            .0
            .iter()
            .zip(d.0)
            .filter(|(_, e)| *e != 0)
            .map(|(s, e)| (s.clone(), e))
            .collect();
        Unit { exponents }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_products_quotients_and_powers() {
        let u = Unit::parse("eV/Å^2").unwrap();
        assert_eq!(u.to_string(), "eV Å^-2");
        assert_eq!(Unit::parse("eV Å^-2").unwrap(), u);
        assert_eq!(Unit::parse("eV*Å^-2").unwrap(), u);
        assert_eq!(Unit::parse("1/K").unwrap().to_string(), "K^-1");
        assert_eq!(Unit::parse("Å^3/Å^3").unwrap(), Unit::dimensionless());
        assert!(Unit::parse("").unwrap().is_dimensionless());
        assert!(Unit::parse("1").unwrap().is_dimensionless());
    }

    #[test]
    fn rejects_malformed_units() {
        for s in ["eV^x", "^2", "eV/", "3eV", "eV^1000", "(eV)"] {
            assert!(matches!(Unit::parse(s), Err(Error::InvalidUnit { .. })), "{s}");
        }
    }

    #[test]
    fn roots_need_divisible_exponents() {
        let b = Bases(vec!["m".into()]);
        let d = b.dim(&Unit::parse("m^3").unwrap());
        assert_eq!(b.unit(d.scale(1, 3).unwrap()).to_string(), "m");
        let half = d.scale(1, 2).unwrap();
        assert_eq!(b.unit(half).to_string(), "m^(3/2)");
        assert!(b.dim(&Unit::parse("m").unwrap()).scale(1, 24).is_none());
    }
}
