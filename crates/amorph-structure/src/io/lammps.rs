//! LAMMPS data files: read (atom styles atomic, charge, full, molecular/bond/angle) and write
//! (atomic or charge, restricted-triclinic box).

use std::collections::HashMap;
use std::fmt::Write as _;

use nalgebra::{Matrix3, Vector3};

use super::text::{Cursor, Src, element_strict, f64_at, lattice_at, parse_f64, push_f64, shorten, usize_at};
use crate::element::Element;
use crate::error::Result;
use crate::structure::{SiteProperty, Structure, props};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Atomic,
    Charge,
    Full,
    /// molecular, bond, angle: `id mol type x y z`.
    Molecular,
}

impl Style {
    /// Columns of the type, the charge and x, and the count without image flags.
    fn layout(self) -> (usize, Option<usize>, usize, usize) {
        match self {
            Style::Atomic => (1, None, 2, 5),
            Style::Charge => (1, Some(2), 3, 6),
            Style::Full => (2, Some(3), 4, 7),
            Style::Molecular => (2, None, 3, 6),
        }
    }
}

/// Text before a '#' comment, and the comment.
fn split_comment(line: &str) -> (&str, &str) {
    match line.split_once('#') {
        Some((a, b)) => (a, b.trim()),
        None => (line, ""),
    }
}

fn first_is_number(line: &str) -> bool {
    split_comment(line)
        .0
        .split_ascii_whitespace()
        .next()
        .is_some_and(|t| parse_f64(t).is_ok())
}

struct AtomLine<'a> {
    line: usize,
    toks: Vec<&'a str>,
}

pub(crate) fn parse_lammps(text: &str, src: Src) -> Result<Structure> {
    let mut cur = Cursor::new(text);
    // The first line is always a comment.
    cur.expect(src, "the title line")?;

    let mut natoms: Option<(usize, usize)> = None;
    let mut ntypes: Option<usize> = None;
    let mut bounds: [Option<(f64, f64)>; 3] = [None; 3];
    let mut tilt = [0.0; 3];

    // Header: 'N keyword' lines up to the first section name.
    while let Some(line) = cur.peek() {
        let body = split_comment(line).0;
        if body.trim().is_empty() {
            cur.next_line();
            continue;
        }
        if !first_is_number(line) {
            break;
        }
        let (l, _) = cur.expect(src, "a header line")?;
        let toks: Vec<&str> = body.split_ascii_whitespace().collect();
        match toks.as_slice() {
            [n, "atoms"] => natoms = Some((l, usize_at(src, l, n, "number of atoms")?)),
            [n, "atom", "types"] => ntypes = Some(usize_at(src, l, n, "number of atom types")?),
            [lo, hi, lo_name, hi_name] if lo_name.ends_with("lo") && hi_name.ends_with("hi") => {
                let k = match *lo_name {
                    "xlo" => 0,
                    "ylo" => 1,
                    "zlo" => 2,
                    _ => return Err(src.err(l, format!("unknown box line '{}'", shorten(body.trim())))),
                };
                bounds[k] = Some((f64_at(src, l, lo)?, f64_at(src, l, hi)?));
            }
            [xy, xz, yz, "xy", "xz", "yz"] => {
                tilt = [f64_at(src, l, xy)?, f64_at(src, l, xz)?, f64_at(src, l, yz)?]
            }
            // bonds, angles, bond types, extra ... per atom, ellipsoids, ...: not needed here.
            _ => {}
        }
    }

    let mut masses: HashMap<usize, (usize, f64, Option<Element>)> = HashMap::new();
    let mut atoms: Vec<AtomLine> = Vec::new();
    let mut style_hint: Option<(usize, &str)> = None;
    let mut atoms_line = 0;
    let mut seen_atoms = false;
    while let Some((l, line)) = cur.next_line() {
        let (name, comment) = split_comment(line);
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if first_is_number(line) {
            return Err(src.err(
                l,
                format!("numbers outside a section: '{}'", shorten(line.trim())),
            ));
        }
        // The entries of a section: lines that start with a number, blank lines between.
        let mut entries = Vec::new();
        loop {
            match cur.peek() {
                Some(p) if split_comment(p).0.trim().is_empty() => {
                    cur.next_line();
                }
                Some(p) if first_is_number(p) => {
                    let (el, et) = cur.expect(src, "an entry")?;
                    entries.push((el, et));
                }
                _ => break,
            }
        }
        match name {
            "Masses" => {
                for (el, et) in entries {
                    let (body, comment) = split_comment(et);
                    let toks: Vec<&str> = body.split_ascii_whitespace().collect();
                    let [t, m, ..] = toks.as_slice() else {
                        return Err(src.err(el, "a Masses line needs a type and a mass"));
                    };
                    let t = usize_at(src, el, t, "atom type")?;
                    let m = f64_at(src, el, m)?;
                    let named = comment.split_ascii_whitespace().next().and_then(element_strict);
                    masses.insert(t, (el, m, named));
                }
            }
            "Atoms" => {
                seen_atoms = true;
                atoms_line = l;
                if let Some(h) = comment.split_ascii_whitespace().next() {
                    style_hint = Some((l, h));
                }
                atoms = entries
                    .into_iter()
                    .map(|(el, et)| AtomLine {
                        line: el,
                        toks: split_comment(et).0.split_ascii_whitespace().collect(),
                    })
                    .collect();
            }
            // Velocities (units depend on the LAMMPS 'units' style, which the file does not
            // record), Bonds, Angles, coefficients, ...: skipped.
            _ => {}
        }
    }

    let (nl, natoms) = natoms.ok_or_else(|| src.err(0, "no 'N atoms' line in the header"))?;
    if natoms == 0 {
        return Err(src.err(nl, "zero atoms"));
    }
    if !seen_atoms {
        return Err(src.err(0, "no Atoms section"));
    }
    if atoms.len() != natoms {
        let at = atoms.last().map_or(atoms_line, |a| a.line);
        return Err(src.err(
            at,
            format!(
                "the header (line {nl}) says {natoms} atoms but the Atoms section has {}",
                atoms.len()
            ),
        ));
    }

    let mut m = Matrix3::zeros();
    let mut origin = Vector3::zeros();
    for (k, b) in bounds.iter().enumerate() {
        let (lo, hi) = b.ok_or_else(|| {
            src.err(
                0,
                format!("no '{0}lo {0}hi' line in the header", ["x", "y", "z"][k]),
            )
        })?;
        m[(k, k)] = hi - lo;
        origin[k] = lo;
    }
    m[(1, 0)] = tilt[0];
    m[(2, 0)] = tilt[1];
    m[(2, 1)] = tilt[2];
    let lattice = lattice_at(src, nl, m)?;

    let style = match style_hint {
        Some((l, h)) => match h {
            "atomic" => Style::Atomic,
            "charge" => Style::Charge,
            "full" => Style::Full,
            "molecular" | "bond" | "angle" => Style::Molecular,
            other => {
                return Err(src.err(
                    l,
                    format!(
                        "atom style '{}' is not supported (atomic, charge, full, molecular, bond, angle)",
                        shorten(other)
                    ),
                ));
            }
        },
        None => guess_style(&atoms, ntypes).map_err(|m| src.err(atoms_line, m))?,
    };
    let (type_col, q_col, x_col, ncols) = style.layout();

    let mut rows: Vec<(i64, usize, Vector3<f64>, f64, usize)> = Vec::with_capacity(atoms.len());
    for a in &atoms {
        let n = a.toks.len();
        if n != ncols && n != ncols + 3 {
            return Err(src.err(
                a.line,
                format!(
                    "{n} columns, but atom style {style:?} has {ncols} (or {} with image flags)",
                    ncols + 3
                ),
            ));
        }
        let id: i64 = a.toks[0].parse().map_err(|_| {
            src.err(
                a.line,
                format!("atom id '{}' is not an integer", shorten(a.toks[0])),
            )
        })?;
        let t = usize_at(src, a.line, a.toks[type_col], "atom type")?;
        let q = match q_col {
            Some(k) => f64_at(src, a.line, a.toks[k])?,
            None => 0.0,
        };
        let p = Vector3::new(
            f64_at(src, a.line, a.toks[x_col])?,
            f64_at(src, a.line, a.toks[x_col + 1])?,
            f64_at(src, a.line, a.toks[x_col + 2])?,
        );
        rows.push((id, t, p - origin, q, a.line));
    }
    // Atom ids, not file order, are the atoms' identities (write_data does not sort them).
    rows.sort_by_key(|r| r.0);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(src.err(w[1].4, format!("atom id {} appears twice", w[1].0)));
    }

    if masses.is_empty() {
        return Err(src.err(0, "no Masses section: the elements of the atom types are unknown"));
    }
    let mut element_of: HashMap<usize, Element> = HashMap::new();
    for (&t, &(l, m, named)) in &masses {
        let e = match named {
            Some(e) => e,
            None => nearest_element(m).ok_or_else(|| src.err(l, format!("mass {m} is not an element's")))?,
        };
        element_of.insert(t, e);
    }
    let mut species = Vec::with_capacity(rows.len());
    for &(_, t, _, _, l) in &rows {
        if ntypes.is_some_and(|n| t == 0 || t > n) {
            return Err(src.err(
                l,
                format!(
                    "atom type {t} outside 1..={} (the header's atom types)",
                    ntypes.unwrap_or(0)
                ),
            ));
        }
        species.push(
            *element_of
                .get(&t)
                .ok_or_else(|| src.err(l, format!("atom type {t} has no mass in the Masses section")))?,
        );
    }
    let positions = rows.iter().map(|r| r.2).collect();
    let mut s = Structure::new(lattice, species, positions).map_err(|e| src.wrap(atoms_line, e))?;
    if q_col.is_some() {
        s.set_site_property(
            props::CHARGE,
            SiteProperty::Real(rows.iter().map(|r| r.3).collect()),
        )
        .map_err(|e| src.wrap(atoms_line, e))?;
    }
    Ok(s)
}

/// The style of an Atoms section without a '# style' hint, from its column count as pymatgen's
/// readers would need to be told. Six (or nine) columns are `charge` unless the third column is
/// an integer atom type on every line (`molecular`).
fn guess_style(atoms: &[AtomLine], ntypes: Option<usize>) -> std::result::Result<Style, String> {
    let Some(first) = atoms.first() else {
        return Ok(Style::Atomic);
    };
    match first.toks.len() {
        5 | 8 => Ok(Style::Atomic),
        7 | 10 => Ok(Style::Full),
        6 | 9 => {
            let molecular = atoms.iter().all(|a| {
                a.toks
                    .get(2)
                    .and_then(|t| t.parse::<usize>().ok())
                    .is_some_and(|t| t >= 1 && ntypes.is_none_or(|n| t <= n))
            });
            Ok(if molecular {
                Style::Molecular
            } else {
                Style::Charge
            })
        }
        n => Err(format!(
            "cannot tell the atom style of {n}-column Atoms lines; add '# atomic', '# charge' or '# full' after 'Atoms'"
        )),
    }
}

/// The element whose standard mass is closest (pymatgen's guess for unnamed LAMMPS types).
fn nearest_element(mass: f64) -> Option<Element> {
    if mass <= 0.0 {
        return None;
    }
    Element::all().min_by(|a, b| {
        (a.atomic_mass() - mass)
            .abs()
            .total_cmp(&(b.atomic_mass() - mass).abs())
    })
}

pub(crate) fn write_lammps(s: &Structure) -> Result<String> {
    // LAMMPS's restricted triclinic box: a along x, b in the xy plane. The cell is rotated into
    // that orientation and the atoms move with it (same fractional coordinates). A left-handed
    // cell comes out as its mirror image, the only way LAMMPS can hold it.
    let l = s.lattice();
    let (a, b, c) = (l.vector(0), l.vector(1), l.vector(2));
    let lx = a.norm();
    let xy = b.dot(&a) / lx;
    let ly = (b.norm_squared() - xy * xy).max(0.0).sqrt();
    let xz = c.dot(&a) / lx;
    let yz = (b.dot(&c) - xy * xz) / ly;
    let lz = (c.norm_squared() - xz * xz - yz * yz).max(0.0).sqrt();
    let m = Matrix3::new(lx, 0.0, 0.0, xy, ly, 0.0, xz, yz, lz);
    let rotated = crate::lattice::Lattice::new(m)?;

    let elements = s.elements();
    let charges = match s.site_property(props::CHARGE) {
        Some(SiteProperty::Real(q)) => Some(q),
        _ => None,
    };
    let mut out = String::with_capacity(80 * (s.len() + 20));
    let types: Vec<String> = elements
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{} {}", i + 1, e.symbol()))
        .collect();
    let _ = writeln!(
        out,
        "LAMMPS data file written by amorph-structure (atom types: {})\n",
        types.join(", ")
    );
    let _ = writeln!(out, "{} atoms\n{} atom types\n", s.len(), elements.len());
    for (len, name) in [(lx, "x"), (ly, "y"), (lz, "z")] {
        out.push_str("0.0 ");
        push_f64(&mut out, len);
        let _ = writeln!(out, " {name}lo {name}hi");
    }
    if xy != 0.0 || xz != 0.0 || yz != 0.0 {
        for t in [xy, xz, yz] {
            push_f64(&mut out, t);
            out.push(' ');
        }
        out.push_str("xy xz yz\n");
    }
    out.push_str("\nMasses\n\n");
    for (i, e) in elements.iter().enumerate() {
        let _ = write!(out, "{} ", i + 1);
        push_f64(&mut out, e.atomic_mass());
        let _ = writeln!(out, " # {}", e.symbol());
    }
    let _ = writeln!(
        out,
        "\nAtoms # {}\n",
        if charges.is_some() { "charge" } else { "atomic" }
    );
    for (i, (e, f)) in s.species().iter().zip(s.frac_coords()).enumerate() {
        let t = elements.iter().position(|x| x == e).unwrap_or(0) + 1;
        let _ = write!(out, "{} {t}", i + 1);
        if let Some(q) = charges {
            out.push(' ');
            push_f64(&mut out, q[i]);
        }
        let p = rotated.to_cartesian(&f);
        for x in p.iter() {
            out.push(' ');
            push_f64(&mut out, *x);
        }
        out.push('\n');
    }
    Ok(out)
}
