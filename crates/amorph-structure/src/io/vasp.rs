//! VASP POSCAR/CONTCAR and XDATCAR.
//!
//! Reading follows pymatgen's `Poscar.from_str` and `Xdatcar` (and VASP itself where they differ,
//! noted below); writing produces VASP 5 files with shortest round-trip numbers.

use std::fmt::Write as _;

use nalgebra::{Matrix3, Vector3};

use super::text::{Cursor, Src, element_strict, lattice_at, push_f64_padded, shorten, three_f64, usize_at};
use crate::element::Element;
use crate::error::Result;
use crate::lattice::Lattice;
use crate::structure::{SiteProperty, Structure, props};
use crate::trajectory::Trajectory;

/// The part of a POSCAR that XDATCAR repeats: title, scale, lattice, species and counts.
struct Header<'a> {
    title: &'a str,
    lattice: Lattice,
    /// Factors applied to Cartesian coordinates (the scale factor, per component).
    cart_scale: Vector3<f64>,
    /// Element of every group when a species line is present (VASP 5).
    symbols: Option<Vec<Element>>,
    counts: Vec<usize>,
    natoms: usize,
    /// Line of the counts, for errors about them.
    counts_line: usize,
}

fn first_token_is_count(line: &str) -> bool {
    line.split_ascii_whitespace()
        .next()
        .is_some_and(|t| t.parse::<u64>().is_ok())
}

fn parse_header<'a>(cur: &mut Cursor<'a>, src: Src) -> Result<Header<'a>> {
    let (_, title) = cur.expect(src, "the title line")?;

    // Scale: one factor (negative = target volume, Å³) or three per-axis factors (VASP).
    let (sl, scale_text) = cur.expect(src, "the scale factor")?;
    let scales = scale_text
        .split_ascii_whitespace()
        .take_while(|t| !t.starts_with(['!', '#']))
        .map(|t| super::text::f64_at(src, sl, t))
        .collect::<Result<Vec<f64>>>()?;

    let mut rows = [[0.0; 3]; 3];
    let mut first_lattice_line = 0;
    for (i, row) in rows.iter_mut().enumerate() {
        let (l, t) = cur.expect(src, format_args!("lattice vector {}", ["a", "b", "c"][i]))?;
        if i == 0 {
            first_lattice_line = l;
        }
        *row = three_f64(src, l, t, format_args!("lattice vector {}", ["a", "b", "c"][i]))?;
    }
    let mut m = Matrix3::from_fn(|i, j| rows[i][j]);
    let cart_scale = match scales.as_slice() {
        [s] if *s > 0.0 => {
            m *= *s;
            Vector3::repeat(*s)
        }
        [s] if *s < 0.0 => {
            let v = m.determinant().abs();
            if v.is_nan() || v <= 0.0 {
                return Err(src.err(first_lattice_line, "the lattice vectors span no volume"));
            }
            let f = (-s / v).cbrt();
            m *= f;
            Vector3::repeat(f)
        }
        [_] => return Err(src.err(sl, "the scale factor is zero")),
        [sx, sy, sz] if *sx > 0.0 && *sy > 0.0 && *sz > 0.0 => {
            let s = Vector3::new(*sx, *sy, *sz);
            for mut row in m.row_iter_mut() {
                row.component_mul_assign(&s.transpose());
            }
            s
        }
        _ => {
            return Err(src.err(
                sl,
                format!(
                    "expected one scale factor or three positive ones, found '{}'",
                    shorten(scale_text.trim())
                ),
            ));
        }
    };
    let lattice = lattice_at(src, first_lattice_line, m)?;

    // VASP 5 species line(s), wrapped over several lines when there are many groups, or VASP 4
    // (counts straight after the lattice).
    let mut symbols = None;
    if cur.peek().is_none() {
        return Err(src.err(
            cur.line() + 1,
            "unexpected end of file: expected species or atom counts",
        ));
    }
    if !cur.peek().is_some_and(first_token_is_count) {
        let mut sym = Vec::new();
        let mut first_species_line = true;
        while !cur.peek().is_some_and(first_token_is_count) {
            let (l, t) = cur.expect(src, "the atom counts")?;
            if t.trim().is_empty() {
                return Err(src.err(l, "expected species symbols or atom counts, found a blank line"));
            }
            for tok in t.split_ascii_whitespace() {
                // VASP 6 writes POTCAR names such as 'Fe_pv' or 'Si/1f2e3d'.
                let e = element_strict(tok).ok_or_else(|| {
                    let m = if first_species_line {
                        format!("unknown element symbol '{}'", shorten(tok))
                    } else {
                        format!(
                            "'{}' is neither an element symbol nor an atom count",
                            shorten(tok)
                        )
                    };
                    src.err(l, m)
                })?;
                sym.push(e);
            }
            first_species_line = false;
        }
        symbols = Some(sym);
    }

    let mut counts = Vec::new();
    let mut counts_line = cur.line() + 1;
    match &symbols {
        Some(sym) => {
            while counts.len() < sym.len() {
                let (l, t) = cur.expect(src, "the atom counts")?;
                if counts.is_empty() {
                    counts_line = l;
                }
                if t.trim().is_empty() {
                    return Err(src.err(l, "expected atom counts, found a blank line"));
                }
                for tok in t.split_ascii_whitespace() {
                    if counts.len() == sym.len() {
                        // Words after the last count are a comment; more numbers are a mismatch.
                        if tok.parse::<usize>().is_ok() {
                            return Err(
                                src.err(l, format!("more atom counts than the {} species", sym.len()))
                            );
                        }
                        break;
                    }
                    counts.push(usize_at(src, l, tok, "atom count")?);
                }
            }
        }
        None => {
            let (l, t) = cur.expect(src, "the atom counts")?;
            counts_line = l;
            for tok in t.split_ascii_whitespace() {
                match tok.parse::<usize>() {
                    Ok(n) => counts.push(n),
                    Err(_) => break,
                }
            }
        }
    }
    let natoms = counts
        .iter()
        .try_fold(0usize, |acc, &n| acc.checked_add(n))
        .ok_or_else(|| src.err(counts_line, "atom counts overflow"))?;
    if natoms == 0 {
        return Err(src.err(counts_line, "the atom counts add up to zero atoms"));
    }
    Ok(Header {
        title,
        lattice,
        cart_scale,
        symbols,
        counts,
        natoms,
        counts_line,
    })
}

/// Species written as "Fe2 O3" or "Fe2O3" on the title line (ASE's VASP 4 convention): one run per
/// group, counts (when written) matching the file's.
fn species_from_title(title: &str, counts: &[usize]) -> Option<Vec<Element>> {
    let s: String = title.chars().filter(|c| !c.is_whitespace()).collect();
    let b = s.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_uppercase() {
            return None;
        }
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_lowercase() {
            j += 1;
        }
        let e = Element::from_symbol(&s[i..j]).ok()?;
        let k = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let n = if j > k {
            Some(s[k..j].parse::<usize>().ok()?)
        } else {
            None
        };
        runs.push((e, n));
        i = j;
    }
    if runs.len() != counts.len()
        || runs
            .iter()
            .zip(counts)
            .any(|((_, n), c)| n.is_some_and(|n| n != *c))
    {
        return None;
    }
    Some(runs.into_iter().map(|(e, _)| e).collect())
}

/// Element of every group of a header without species line: the title if it names them, else
/// pymatgen's placeholders (H, He, Li, ... by group). Returns whether placeholders were used.
fn groups_without_species_line(src: Src, h: &Header) -> Result<(Vec<Element>, bool)> {
    if let Some(e) = species_from_title(h.title, &h.counts) {
        return Ok((e, false));
    }
    let e = (0..h.counts.len())
        .map(|i| {
            u8::try_from(i + 1)
                .ok()
                .and_then(|z| Element::from_z(z).ok())
                .ok_or_else(|| src.err(h.counts_line, "too many species groups to name"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((e, true))
}

fn expand(groups: &[Element], counts: &[usize]) -> Vec<Element> {
    groups
        .iter()
        .zip(counts)
        .flat_map(|(&e, &n)| std::iter::repeat_n(e, n))
        .collect()
}

/// `Direct`, `Cartesian` (first letter, case-insensitive; K as in VASP for Cartesian).
fn is_cartesian(mode: &str) -> bool {
    matches!(
        mode.trim_start().as_bytes().first(),
        Some(b'c' | b'C' | b'k' | b'K')
    )
}

fn flag(tok: &str) -> Option<bool> {
    match tok.as_bytes().first() {
        Some(b'T' | b't') => Some(true),
        Some(b'F' | b'f') => Some(false),
        _ => None,
    }
}

pub(crate) fn parse_poscar(text: &str, src: Src) -> Result<Structure> {
    let mut cur = Cursor::new(text);
    let h = parse_header(&mut cur, src)?;

    let (mut ml, mut mode) = cur.expect(src, "'Direct' or 'Cartesian'")?;
    let selective = matches!(mode.trim_start().as_bytes().first(), Some(b's' | b'S'));
    if selective {
        (ml, mode) = cur.expect(src, "'Direct' or 'Cartesian'")?;
    }
    if mode.trim().is_empty() {
        return Err(src.err(ml, "expected 'Direct' or 'Cartesian', found a blank line"));
    }
    let cart = is_cartesian(mode);

    let n = h.natoms;
    let mut positions = Vec::with_capacity(n.min(1 << 20));
    let mut flags = Vec::new();
    // Symbols after the coordinates, for VASP 4 files (pymatgen reads species from them).
    let mut labels: Vec<Option<Element>> = Vec::new();
    for i in 0..n {
        let (l, t) = cur.expect(src, format_args!("coordinates of atom {} of {n}", i + 1))?;
        let p = three_f64(src, l, t, format_args!("atom {}", i + 1))?;
        let mut toks = t.split_ascii_whitespace().skip(3);
        if selective {
            let mut f = [false; 3];
            for v in &mut f {
                *v = toks.next().and_then(flag).ok_or_else(|| {
                    src.err(
                        l,
                        format!("atom {}: expected three T/F selective-dynamics flags", i + 1),
                    )
                })?;
            }
            flags.push(f);
        }
        if h.symbols.is_none() {
            labels.push(toks.next().and_then(element_strict));
        }
        let p = Vector3::from(p);
        positions.push(if cart {
            p.component_mul(&h.cart_scale)
        } else {
            h.lattice.to_cartesian(&p)
        });
    }

    let mut placeholders = false;
    let species = match &h.symbols {
        Some(sym) => expand(sym, &h.counts),
        None if labels.iter().all(Option::is_some) => labels.into_iter().flatten().collect(),
        None => {
            let (g, ph) = groups_without_species_line(src, &h)?;
            placeholders = ph;
            expand(&g, &h.counts)
        }
    };

    let velocities = parse_velocity_block(&mut cur, src, n, &h.lattice)?;

    let mut s = Structure::new(h.lattice.clone(), species, positions).map_err(|e| src.wrap(0, e))?;
    if selective {
        s.set_site_property(props::SELECTIVE_DYNAMICS, SiteProperty::Flags(flags))
            .map_err(|e| src.wrap(0, e))?;
    }
    if let Some(v) = velocities {
        s.set_site_property(props::VELOCITIES, SiteProperty::Vector(v))
            .map_err(|e| src.wrap(0, e))?;
    }
    let title = h.title.trim();
    if !title.is_empty() {
        s.properties_mut().insert("comment".into(), title.into());
    }
    if placeholders {
        // pymatgen warns and names the groups H, He, ...; say so in the data instead.
        s.properties_mut()
            .insert("species_are_placeholders".into(), serde_json::Value::Bool(true));
    }
    Ok(s)
}

/// The optional velocity block after a blank line (Å/fs, Cartesian unless a 'Direct' line says
/// otherwise). Text that does not start like velocities is ignored, as pymatgen ignores what it
/// does not need (predictor-corrector data, notes); a block that starts like one must be complete.
fn parse_velocity_block(
    cur: &mut Cursor,
    src: Src,
    n: usize,
    lattice: &Lattice,
) -> Result<Option<Vec<[f64; 3]>>> {
    if !cur.peek().is_some_and(|l| l.trim().is_empty()) {
        return Ok(None);
    }
    while cur.peek().is_some_and(|l| l.trim().is_empty()) {
        cur.next_line();
    }
    let mut direct = false;
    if let Some(l) = cur.peek() {
        let t = l.trim_start();
        if t.starts_with(|c: char| c.is_ascii_alphabetic()) {
            if !(t.starts_with(['c', 'C', 'k', 'K', 'd', 'D'])) {
                return Ok(None);
            }
            direct = !is_cartesian(t);
            cur.next_line();
        }
    }
    match cur.peek() {
        Some(l) if super::text::parse_f64(l.split_ascii_whitespace().next().unwrap_or("")).is_ok() => {}
        _ => return Ok(None),
    }
    let mut v = Vec::with_capacity(n.min(1 << 20));
    for i in 0..n {
        let (l, t) = cur.expect(src, format_args!("velocity of atom {} of {n}", i + 1))?;
        let x = Vector3::from(three_f64(src, l, t, format_args!("velocity of atom {}", i + 1))?);
        let x = if direct { lattice.to_cartesian(&x) } else { x };
        v.push([x.x, x.y, x.z]);
    }
    Ok(Some(v))
}

/// A line that separates XDATCAR configurations: 'Direct configuration=  N', 'Cartesian
/// configuration= N', VASP 4's 'Konfig=N' or a blank line.
fn separator(line: &str) -> Option<bool> {
    let t = line.trim_start();
    let b = t.as_bytes();
    let starts = |p: &str| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if t.is_empty() || starts("direct") || starts("konfig") {
        Some(false)
    } else if starts("cartesian") {
        Some(true)
    } else {
        None
    }
}

/// Reads an XDATCAR: fixed cell (one header), variable cell (a header before every configuration)
/// or frames separated by blank lines. Stops after `max_frames` configurations when given.
pub(crate) fn parse_xdatcar(text: &str, src: Src, max_frames: Option<usize>) -> Result<Trajectory> {
    let mut cur = Cursor::new(text);
    let mut h = parse_header(&mut cur, src)?;
    // Every atom takes a line of at least "0 0 0": refuse absurd counts before allocating for them.
    if h.natoms > text.len() / 6 {
        return Err(src.err(
            h.counts_line,
            format!(
                "the counts add up to {} atoms, more than the file can hold",
                h.natoms
            ),
        ));
    }
    let species = match &h.symbols {
        Some(sym) => expand(sym, &h.counts),
        None => expand(&groups_without_species_line(src, &h)?.0, &h.counts),
    };
    let n = h.natoms;
    let mut traj = Trajectory::new(species, h.lattice.clone());
    let mut variable_cell = false;
    let mut buf: Vec<Vector3<f64>> = Vec::with_capacity(n.min(1 << 20));
    let max_frames = max_frames.unwrap_or(usize::MAX);

    while traj.len() < max_frames {
        let Some(line) = cur.peek() else { break };
        match separator(line) {
            Some(cart) => {
                let (sep_line, _) = cur.expect(src, "a configuration")?;
                if line.trim().is_empty() {
                    // A blank line separates frames only when coordinates follow it; otherwise
                    // (end of file, more blank lines, a 'Direct configuration' line, a repeated
                    // header) it is skipped.
                    let coords_follow = cur.peek().is_some_and(|next| {
                        let mut it = next.split_ascii_whitespace();
                        it.next().is_some_and(|t| super::text::parse_f64(t).is_ok()) && it.count() >= 2
                    });
                    if !coords_follow {
                        continue;
                    }
                }
                buf.clear();
                let frame = traj.len() + 1;
                for i in 0..n {
                    let (l, t) = cur.expect(
                        src,
                        format_args!("atom {} of {n} in configuration {frame}", i + 1),
                    )?;
                    let p = Vector3::from(three_f64(
                        src,
                        l,
                        t,
                        format_args!("atom {} in configuration {frame}", i + 1),
                    )?);
                    buf.push(if cart {
                        p.component_mul(&h.cart_scale)
                    } else {
                        h.lattice.to_cartesian(&p)
                    });
                }
                let cell = variable_cell.then(|| h.lattice.clone());
                traj.push_positions(&buf, cell)
                    .map_err(|e| src.wrap(sep_line, e))?;
            }
            None => {
                // A repeated header: variable-cell run (ISIF=3). Species must not change.
                let start = cur.line() + 1;
                let h2 = parse_header(&mut cur, src)?;
                let same = h2.counts == h.counts && (h2.symbols.is_none() || h2.symbols == h.symbols);
                if !same {
                    return Err(src.err(start, "the species or counts change between configurations"));
                }
                h = h2;
                variable_cell = true;
            }
        }
    }
    if traj.is_empty() {
        return Err(src.err(cur.line(), "no configuration found after the header"));
    }
    Ok(traj)
}

/// Consecutive runs of one element: the species and count lines of a VASP 5 file.
fn runs(species: &[Element]) -> Vec<(Element, usize)> {
    let mut out: Vec<(Element, usize)> = Vec::new();
    for &e in species {
        match out.last_mut() {
            Some((last, n)) if *last == e => *n += 1,
            _ => out.push((e, 1)),
        }
    }
    out
}

/// "Fe2 O3": counts per element in order of first appearance.
fn formula_title(species: &[Element]) -> String {
    let mut totals: Vec<(Element, usize)> = Vec::new();
    for &e in species {
        match totals.iter_mut().find(|(x, _)| *x == e) {
            Some((_, n)) => *n += 1,
            None => totals.push((e, 1)),
        }
    }
    totals
        .iter()
        .map(|(e, n)| format!("{}{n}", e.symbol()))
        .collect::<Vec<_>>()
        .join(" ")
}

const W: usize = 24;

fn push_header(out: &mut String, title: &str, lattice: &Lattice, species: &[Element]) {
    // One line only: VASP reads the title as one line.
    let title: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    out.push_str(&title);
    out.push_str("\n1.0\n");
    for i in 0..3 {
        for j in 0..3 {
            push_f64_padded(out, lattice.matrix()[(i, j)], W);
        }
        out.push('\n');
    }
    let r = runs(species);
    for (e, _) in &r {
        let _ = write!(out, " {:>3}", e.symbol());
    }
    out.push('\n');
    for (_, n) in &r {
        let _ = write!(out, " {n:>3}");
    }
    out.push('\n');
}

fn push_vec(out: &mut String, v: &Vector3<f64>) {
    for x in v.iter() {
        push_f64_padded(out, *x, W);
    }
}

pub(crate) fn write_poscar(s: &Structure) -> Result<String> {
    let mut out = String::with_capacity(80 * (s.len() + 10));
    let title = match s.properties().get("comment") {
        Some(serde_json::Value::String(c)) if !c.trim().is_empty() => {
            c.lines().next().unwrap_or("").to_string()
        }
        _ => formula_title(s.species()),
    };
    push_header(&mut out, &title, s.lattice(), s.species());
    let flags = match s.site_property(props::SELECTIVE_DYNAMICS) {
        Some(SiteProperty::Flags(f)) => Some(f),
        _ => None,
    };
    if flags.is_some() {
        out.push_str("Selective dynamics\n");
    }
    out.push_str("Direct\n");
    for (i, f) in s.frac_coords().iter().enumerate() {
        push_vec(&mut out, f);
        if let Some(fl) = flags.and_then(|fl| fl.get(i)) {
            for b in fl {
                out.push_str(if *b { " T" } else { " F" });
            }
        }
        out.push('\n');
    }
    if let Some(SiteProperty::Vector(v)) = s.site_property(props::VELOCITIES) {
        out.push('\n');
        for x in v {
            push_vec(&mut out, &Vector3::from(*x));
            out.push('\n');
        }
    }
    Ok(out)
}

pub(crate) fn write_xdatcar(t: &Trajectory) -> Result<String> {
    let n = t.natoms();
    let mut out = String::with_capacity(75 * (n + 1) * t.len() + 400);
    let title = formula_title(t.species());
    let fixed = t.has_fixed_cell();
    for frame in 0..t.len() {
        let lattice = t.lattice(frame);
        if frame == 0 || !fixed {
            push_header(&mut out, &title, lattice, t.species());
        }
        let _ = writeln!(out, "Direct configuration={:>6}", frame + 1);
        for r in t.frame_positions(frame).outer_iter() {
            let f = lattice.to_fractional(&Vector3::new(r[0], r[1], r[2]));
            push_vec(&mut out, &f);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn src() -> Src<'static> {
        Src {
            path: Path::new("test"),
        }
    }

    #[test]
    fn title_species() {
        let fe = Element::from_symbol("Fe").unwrap();
        let o = Element::from_symbol("O").unwrap();
        assert_eq!(species_from_title("Fe2 O3", &[2, 3]), Some(vec![fe, o]));
        assert_eq!(species_from_title("Fe2O3", &[2, 3]), Some(vec![fe, o]));
        assert_eq!(species_from_title(" Fe O ", &[2, 3]), Some(vec![fe, o]));
        assert_eq!(species_from_title("Fe2 O3", &[2, 4]), None);
        assert_eq!(species_from_title("from OUTCAR", &[18]), None);
        assert_eq!(species_from_title("", &[1]), None);
    }

    #[test]
    fn multiline_species_and_counts() {
        let text = "t\n1\n3 0 0\n0 3 0\n0 0 3\nLi Na\nK\n1 1\n1\nDirect\n0 0 0\n0.5 0 0\n0 0.5 0\n";
        let s = parse_poscar(text, src()).unwrap();
        let sym: Vec<_> = s.species().iter().map(|e| e.symbol()).collect();
        assert_eq!(sym, ["Li", "Na", "K"]);
    }

    #[test]
    fn absurd_counts_are_errors_not_allocations() {
        let text = "t\n1\n3 0 0\n0 3 0\n0 0 3\nLi\n999999999999999\nDirect\n0 0 0\n";
        assert!(parse_xdatcar(text, src(), None).is_err());
        assert!(parse_poscar(text, src()).is_err());
    }

    #[test]
    fn xdatcar_blank_lines_at_end() {
        let text = "t\n1\n3 0 0\n0 3 0\n0 0 3\nLi\n1\nDirect configuration= 1\n0 0 0\n\n\n";
        let t = parse_xdatcar(text, src(), None).unwrap();
        assert_eq!(t.len(), 1);
    }
}
