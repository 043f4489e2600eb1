//! CIF: reading (P1 or any space group whose operations are listed, expanded as pymatgen's
//! `CifParser` does) and writing P1.

use std::collections::HashMap;
use std::fmt::Write as _;

use nalgebra::{Matrix3, Vector3};

use super::text::{Src, element_from_label, lattice_at, parse_f64, push_f64, shorten};
use crate::element::Element;
use crate::error::Result;
use crate::lattice::Lattice;
use crate::structure::Structure;

#[derive(Debug, PartialEq)]
enum Tok {
    Data(String),
    Loop,
    Tag(String),
    Value(String),
}

/// Splits CIF text into tokens with their line numbers: comments dropped, quoted strings and
/// `;` text fields unwrapped.
fn tokenize(text: &str, src: Src) -> Result<Vec<(usize, Tok)>> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((ln, line)) = lines.next() {
        if let Some(rest) = line.strip_prefix(';') {
            // Text field: up to a line that starts with ';'.
            let mut s = rest.to_string();
            let mut closed = false;
            for (_, l) in lines.by_ref() {
                if l.starts_with(';') {
                    closed = true;
                    break;
                }
                s.push('\n');
                s.push_str(l);
            }
            if !closed {
                return Err(src.err(ln, "unterminated ';' text field"));
            }
            out.push((ln, Tok::Value(s.trim().to_string())));
            continue;
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if b[i] == b'#' {
                break;
            }
            if b[i] == b'\'' || b[i] == b'"' {
                // A quote closes only when followed by a blank or the end of the line.
                let q = b[i];
                let start = i + 1;
                let mut j = start;
                loop {
                    if j >= b.len() {
                        return Err(src.err(ln, "unterminated quoted string"));
                    }
                    if b[j] == q && (j + 1 == b.len() || b[j + 1].is_ascii_whitespace()) {
                        break;
                    }
                    j += 1;
                }
                out.push((ln, Tok::Value(line[start..j].to_string())));
                i = j + 1;
                continue;
            }
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            let w = &line[start..i];
            let lower = w.to_ascii_lowercase();
            let tok = if w.starts_with('_') {
                // Tags are case-insensitive; DDL2 spells '_a.b' for DDL1 '_a_b'.
                Tok::Tag(lower.replace('.', "_"))
            } else if lower == "loop_" {
                Tok::Loop
            } else if lower.starts_with("save_") || lower == "global_" || lower == "stop_" {
                // Save frames and STAR extensions carry no structure data.
                continue;
            } else if let Some(name) = lower.strip_prefix("data_") {
                Tok::Data(name.to_string())
            } else {
                Tok::Value(w.to_string())
            };
            out.push((ln, tok));
        }
    }
    Ok(out)
}

/// One value with the line it came from.
type Cell = (usize, String);

#[derive(Default)]
struct Block {
    name: String,
    line: usize,
    items: HashMap<String, Cell>,
    /// Loops: tag names and the values row by row.
    loops: Vec<(Vec<String>, Vec<Vec<Cell>>)>,
}

impl Block {
    fn item(&self, tag: &str) -> Option<&Cell> {
        self.items.get(tag)
    }

    /// Column `tag` of the loop that holds it, or the single item of that name.
    fn column(&self, tag: &str) -> Option<Vec<Cell>> {
        for (tags, rows) in &self.loops {
            if let Some(k) = tags.iter().position(|t| t == tag) {
                return Some(rows.iter().filter_map(|r| r.get(k).cloned()).collect());
            }
        }
        self.items.get(tag).map(|c| vec![c.clone()])
    }

    fn loop_with(&self, tag: &str) -> Option<(&Vec<String>, &Vec<Vec<Cell>>)> {
        self.loops
            .iter()
            .find(|(tags, _)| tags.iter().any(|t| t == tag))
            .map(|(t, r)| (t, r))
    }
}

fn parse_blocks(text: &str, src: Src) -> Result<Vec<Block>> {
    let toks = tokenize(text, src)?;
    let mut blocks: Vec<Block> = Vec::new();
    let mut i = 0;
    let current = |blocks: &mut Vec<Block>, line: usize| -> Result<usize> {
        if blocks.is_empty() {
            return Err(src.err(line, "data before the first 'data_' block"));
        }
        Ok(blocks.len() - 1)
    };
    while i < toks.len() {
        let (ln, tok) = &toks[i];
        match tok {
            Tok::Data(name) => {
                blocks.push(Block {
                    name: name.clone(),
                    line: *ln,
                    ..Block::default()
                });
                i += 1;
            }
            Tok::Tag(tag) => {
                let b = current(&mut blocks, *ln)?;
                match toks.get(i + 1) {
                    Some((vl, Tok::Value(v))) => {
                        blocks[b].items.insert(tag.clone(), (*vl, v.clone()));
                        i += 2;
                    }
                    _ => return Err(src.err(*ln, format!("tag {tag} has no value"))),
                }
            }
            Tok::Loop => {
                let b = current(&mut blocks, *ln)?;
                let loop_line = *ln;
                i += 1;
                let mut tags = Vec::new();
                while let Some((_, Tok::Tag(t))) = toks.get(i) {
                    tags.push(t.clone());
                    i += 1;
                }
                if tags.is_empty() {
                    return Err(src.err(loop_line, "loop_ without tags"));
                }
                let mut vals = Vec::new();
                while let Some((vl, Tok::Value(v))) = toks.get(i) {
                    vals.push((*vl, v.clone()));
                    i += 1;
                }
                if vals.len() % tags.len() != 0 {
                    let last = vals.last().map_or(loop_line, |v| v.0);
                    return Err(src.err(
                        last,
                        format!(
                            "loop of {} tags ({} ...) has {} values, not a whole number of rows",
                            tags.len(),
                            tags[0],
                            vals.len()
                        ),
                    ));
                }
                let rows = vals.chunks(tags.len()).map(<[Cell]>::to_vec).collect();
                blocks[b].loops.push((tags, rows));
            }
            Tok::Value(v) => return Err(src.err(*ln, format!("value '{}' without a tag", shorten(v)))),
        }
    }
    Ok(blocks)
}

/// A CIF number: `0.1234(5)` (standard uncertainty dropped); `?` and `.` are missing.
fn number(src: Src, cell: &Cell, what: &str) -> Result<f64> {
    let v = cell.1.as_str();
    let v = v.split_once('(').map_or(v, |(head, _)| head);
    parse_f64(v).map_err(|m| src.err(cell.0, format!("{what}: {m}")))
}

/// One symmetry operation x' = R x + t on fractional coordinates.
#[derive(Debug, Clone, PartialEq)]
struct SymOp {
    r: Matrix3<f64>,
    t: Vector3<f64>,
}

/// Parses 'x, y, z', '1/2-y,1/2+x,1/4+z', '-x+y', 'x-1/2', '0.5+x'.
fn parse_symop(s: &str) -> std::result::Result<SymOp, String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return Err(format!(
            "symmetry operation '{}' does not have three parts",
            shorten(s)
        ));
    }
    let mut r = Matrix3::zeros();
    let mut t = Vector3::zeros();
    for (row, part) in parts.iter().enumerate() {
        let p: String = part
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if p.is_empty() {
            return Err(format!("symmetry operation '{}' has an empty part", shorten(s)));
        }
        let b = p.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let mut sign = 1.0;
            if b[i] == b'+' || b[i] == b'-' {
                if b[i] == b'-' {
                    sign = -1.0;
                }
                i += 1;
            }
            // Optional number (integer, decimal or fraction), then optional '*' and variable.
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'/') {
                i += 1;
            }
            let num = if i > start {
                let n = &p[start..i];
                Some(match n.split_once('/') {
                    Some((a, d)) => {
                        let (a, d) = (a.parse::<f64>(), d.parse::<f64>());
                        match (a, d) {
                            (Ok(a), Ok(d)) if d != 0.0 => a / d,
                            _ => {
                                return Err(format!(
                                    "bad number '{n}' in symmetry operation '{}'",
                                    shorten(s)
                                ));
                            }
                        }
                    }
                    None => n
                        .parse::<f64>()
                        .map_err(|_| format!("bad number '{n}' in symmetry operation '{}'", shorten(s)))?,
                })
            } else {
                None
            };
            if i < b.len() && b[i] == b'*' {
                i += 1;
            }
            let var = match b.get(i) {
                Some(b'x') => Some(0),
                Some(b'y') => Some(1),
                Some(b'z') => Some(2),
                _ => None,
            };
            match (num, var) {
                (n, Some(k)) => {
                    r[(row, k)] += sign * n.unwrap_or(1.0);
                    i += 1;
                }
                (Some(n), None) => t[row] += sign * n,
                (None, None) => {
                    return Err(format!("cannot read symmetry operation '{}'", shorten(s)));
                }
            }
        }
    }
    Ok(SymOp { r, t })
}

const SYMOP_TAGS: &[&str] = &["_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz"];
const SG_NAME_TAGS: &[&str] = &[
    "_symmetry_space_group_name_h-m",
    "_space_group_name_h-m_alt",
    "_space_group_name_h-m",
];
const SG_NUMBER_TAGS: &[&str] = &["_symmetry_int_tables_number", "_space_group_it_number"];

fn symops(b: &Block, src: Src) -> Result<Vec<SymOp>> {
    for tag in SYMOP_TAGS {
        if let Some(col) = b.column(tag) {
            let ops = col
                .iter()
                .map(|(l, s)| parse_symop(s).map_err(|m| src.err(*l, m)))
                .collect::<Result<Vec<_>>>()?;
            if ops.is_empty() {
                break;
            }
            return Ok(ops);
        }
    }
    // No operations listed: fine for P1, and not guessable for anything else (no space-group
    // tables here).
    let p1_name = SG_NAME_TAGS
        .iter()
        .filter_map(|t| b.item(t))
        .map(|(l, v)| (*l, v.chars().filter(|c| !c.is_whitespace()).collect::<String>()))
        .find(|(_, v)| v != "?" && v != ".");
    let number = SG_NUMBER_TAGS.iter().filter_map(|t| b.item(t)).next();
    let is_p1 = match (&p1_name, number) {
        (Some((_, n)), _) => n.eq_ignore_ascii_case("p1"),
        (None, Some((_, n))) => n.trim() == "1" || n == "?",
        (None, None) => true,
    };
    if !is_p1 {
        let (l, what) = p1_name
            .clone()
            .or_else(|| number.map(|(l, n)| (*l, format!("number {n}"))))
            .unwrap_or((b.line, String::new()));
        return Err(src.err(
            l,
            format!(
                "space group {what} but no symmetry operations (_symmetry_equiv_pos_as_xyz or \
                 _space_group_symop_operation_xyz) are listed to expand the atoms with"
            ),
        ));
    }
    Ok(vec![SymOp {
        r: Matrix3::identity(),
        t: Vector3::zeros(),
    }])
}

/// A fractional coordinate. Like pymatgen's `CifParser`, values within a relative 1e-4 of 1/3 or
/// 2/3 become the fraction, so that symmetry copies of special positions written with 4 or 5
/// decimals coincide; unlike it, only values written with at most 6 decimals, so that a
/// full-precision coordinate is kept as written.
fn frac_coord(src: Src, cell: &Cell, what: &str) -> Result<f64> {
    let x = number(src, cell, what)?;
    let v = cell.1.split_once('(').map_or(cell.1.as_str(), |(h, _)| h);
    let decimals = v
        .split_once('.')
        .map_or(0, |(_, d)| d.bytes().take_while(u8::is_ascii_digit).count());
    if decimals <= 6 {
        for f in [1.0 / 3.0, 2.0 / 3.0] {
            if (1.0 - x / f).abs() < 1e-4 {
                return Ok(f);
            }
        }
    }
    Ok(x)
}

/// Same site under periodic boundaries (pymatgen's site tolerance: 1e-4 in each fractional
/// coordinate).
fn same_site(a: &Vector3<f64>, b: &Vector3<f64>) -> bool {
    (a - b).iter().all(|d| (d - d.round()).abs() < 1e-4)
}

fn structure_from_block(b: &Block, src: Src) -> Result<Structure> {
    let cell = |tag: &str, default: Option<f64>| -> Result<(usize, f64)> {
        match b.item(tag) {
            Some(c) => Ok((c.0, number(src, c, tag)?)),
            None => default
                .map(|d| (b.line, d))
                .ok_or_else(|| src.err(b.line, format!("data_{}: no {tag}", b.name))),
        }
    };
    let (la, a) = cell("_cell_length_a", None)?;
    let (_, bb) = cell("_cell_length_b", None)?;
    let (_, c) = cell("_cell_length_c", None)?;
    // The CIF default for a missing angle is 90°.
    let (_, alpha) = cell("_cell_angle_alpha", Some(90.0))?;
    let (_, beta) = cell("_cell_angle_beta", Some(90.0))?;
    let (_, gamma) = cell("_cell_angle_gamma", Some(90.0))?;
    let lat = Lattice::from_parameters(a, bb, c, alpha, beta, gamma).map_err(|e| src.wrap(la, e))?;
    let lattice = lattice_at(src, la, *lat.matrix())?;

    let (tags, rows) = b
        .loop_with("_atom_site_fract_x")
        .ok_or_else(|| src.err(b.line, "no atom sites (_atom_site_fract_x loop)"))?;
    let col = |t: &str| tags.iter().position(|x| x == t);
    let (Some(ix), Some(iy), Some(iz)) = (
        col("_atom_site_fract_x"),
        col("_atom_site_fract_y"),
        col("_atom_site_fract_z"),
    ) else {
        return Err(src.err(b.line, "the atom-site loop lacks _atom_site_fract_y or _z"));
    };
    let isym = col("_atom_site_type_symbol");
    let ilabel = col("_atom_site_label");
    let iocc = col("_atom_site_occupancy");
    if isym.is_none() && ilabel.is_none() {
        return Err(src.err(
            b.line,
            "atom sites have neither _atom_site_type_symbol nor _atom_site_label",
        ));
    }
    let ops = symops(b, src)?;

    let mut species: Vec<Element> = Vec::new();
    let mut frac: Vec<Vector3<f64>> = Vec::new();
    for row in rows {
        let line = row[ix].0;
        let name = isym
            .map(|k| &row[k].1)
            .filter(|s| s.as_str() != "?" && s.as_str() != ".")
            .or(ilabel.map(|k| &row[k].1))
            .map_or("", |s| s.as_str());
        let e = element_from_label(name).ok_or_else(|| {
            src.err(
                line,
                format!("cannot tell the element of atom site '{}'", shorten(name)),
            )
        })?;
        if let Some(k) = iocc {
            let occ = &row[k];
            if occ.1 != "?" && occ.1 != "." {
                let o = number(src, occ, "_atom_site_occupancy")?;
                if (o - 1.0).abs() > 0.02 {
                    return Err(src.err(
                        occ.0,
                        format!(
                            "atom site '{name}' has occupancy {o}: partial occupancies are not supported"
                        ),
                    ));
                }
            }
        }
        let f = Vector3::new(
            frac_coord(src, &row[ix], "_atom_site_fract_x")?,
            frac_coord(src, &row[iy], "_atom_site_fract_y")?,
            frac_coord(src, &row[iz], "_atom_site_fract_z")?,
        );
        // The orbit of the site, duplicates merged; a copy landing on another row's site is
        // the same atom when the element agrees and a disordered site otherwise.
        let mut orbit: Vec<Vector3<f64>> = Vec::new();
        for op in &ops {
            let g = (op.r * f + op.t).map(crate::pbc::wrap_unit);
            if !orbit.iter().any(|o| same_site(o, &g)) {
                orbit.push(g);
            }
        }
        for g in orbit {
            match frac.iter().position(|o| same_site(o, &g)) {
                Some(k) if species[k] == e => {}
                Some(k) => {
                    return Err(src.err(
                        line,
                        format!(
                            "atom site '{name}' ({}) coincides with a {} site: disordered sites are not supported",
                            e.symbol(),
                            species[k].symbol()
                        ),
                    ));
                }
                None => {
                    species.push(e);
                    frac.push(g);
                }
            }
        }
    }
    if species.is_empty() {
        return Err(src.err(b.line, "the atom-site loop is empty"));
    }
    Structure::from_fractional(lattice, species, &frac).map_err(|e| src.wrap(b.line, e))
}

pub(crate) fn parse_cif(text: &str, src: Src) -> Result<Structure> {
    let blocks = parse_blocks(text, src)?;
    if blocks.is_empty() {
        return Err(src.err(0, "no 'data_' block: not a CIF file"));
    }
    // The first block with atoms, as pymatgen's Structure.from_file.
    let with_atoms: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.loop_with("_atom_site_fract_x").is_some())
        .collect();
    match with_atoms.first() {
        Some(b) => structure_from_block(b, src),
        None if blocks.iter().any(|b| b.loop_with("_atom_site_cartn_x").is_some()) => Err(src.err(
            0,
            "only Cartesian atom sites (_atom_site_Cartn_x): fractional coordinates are needed",
        )),
        None => Err(src.err(0, "no atom sites (_atom_site_fract_x) in any data block")),
    }
}

pub(crate) fn write_cif(s: &Structure) -> Result<String> {
    let l = s.lattice();
    let [a, b, c] = l.abc();
    let [alpha, beta, gamma] = l.angles();
    // The CIF cell is rebuilt from its parameters, so fractional coordinates are what is kept.
    let mut out = String::with_capacity(64 * (s.len() + 30));
    let formula: String = {
        let mut counts: Vec<(Element, usize)> = Vec::new();
        for &e in s.species() {
            match counts.iter_mut().find(|(x, _)| *x == e) {
                Some((_, n)) => *n += 1,
                None => counts.push((e, 1)),
            }
        }
        counts.sort_by_key(|(e, _)| *e);
        counts
            .iter()
            .map(|(e, n)| format!("{}{n}", e.symbol()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let block: String = formula.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let _ = writeln!(out, "# generated by amorph-structure\ndata_{block}");
    out.push_str("_symmetry_space_group_name_H-M   'P 1'\n");
    for (tag, v) in [
        ("_cell_length_a", a),
        ("_cell_length_b", b),
        ("_cell_length_c", c),
        ("_cell_angle_alpha", alpha),
        ("_cell_angle_beta", beta),
        ("_cell_angle_gamma", gamma),
    ] {
        let _ = write!(out, "{tag}   ");
        push_f64(&mut out, v);
        out.push('\n');
    }
    out.push_str("_symmetry_Int_Tables_number   1\n");
    let _ = writeln!(out, "_chemical_formula_sum   '{formula}'");
    out.push_str("_cell_volume   ");
    push_f64(&mut out, l.volume());
    out.push('\n');
    out.push_str(
        "loop_\n _symmetry_equiv_pos_site_id\n _symmetry_equiv_pos_as_xyz\n  1  'x, y, z'\n\
         loop_\n _atom_site_type_symbol\n _atom_site_label\n _atom_site_symmetry_multiplicity\n \
         _atom_site_fract_x\n _atom_site_fract_y\n _atom_site_fract_z\n _atom_site_occupancy\n",
    );
    let mut seen: HashMap<Element, usize> = HashMap::new();
    for (e, f) in s.species().iter().zip(s.frac_coords()) {
        let k = seen.entry(*e).or_insert(0);
        *k += 1;
        let _ = write!(out, "  {}  {}{}  1", e.symbol(), e.symbol(), k);
        for x in f.iter() {
            out.push_str("  ");
            push_f64(&mut out, *x);
        }
        out.push_str("  1\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symops_parse() {
        let op = parse_symop("1/2-y,1/2+x,1/4+z").unwrap();
        assert_eq!(op.r, Matrix3::new(0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0));
        assert_eq!(op.t, Vector3::new(0.5, 0.5, 0.25));
        let op = parse_symop("-x+y, x - 1/2, 0.5+Z").unwrap();
        assert_eq!(op.r, Matrix3::new(-1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0));
        assert_eq!(op.t, Vector3::new(0.0, -0.5, 0.5));
        assert!(parse_symop("x,y").is_err());
        assert!(parse_symop("x,y,w").is_err());
        assert!(parse_symop("x,y,1/0").is_err());
    }

    #[test]
    fn tokens() {
        let src = Src {
            path: std::path::Path::new("t.cif"),
        };
        let t = tokenize("data_x\n_a 'it''s here' # c\n;\nline1\nline2\n;\n", src).unwrap();
        let kinds: Vec<&Tok> = t.iter().map(|(_, k)| k).collect();
        assert_eq!(
            kinds,
            [
                &Tok::Data("x".into()),
                &Tok::Tag("_a".into()),
                &Tok::Value("it''s here".into()),
                &Tok::Value("line1\nline2".into())
            ]
        );
    }
}
