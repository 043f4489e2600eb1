//! Extended XYZ as ASE reads and writes it: per frame an atom count, a comment line of `key=value`
//! pairs (`Lattice="..."`, `Properties=species:S:1:pos:R:3:...`, anything else) and one line per atom.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use nalgebra::{Matrix3, Vector3};
use serde_json::Value;

use super::text::{Cursor, Src, element_strict, lattice_at, parse_f64, push_f64, shorten, usize_at};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::structure::{SiteProperty, Structure};
use crate::trajectory::Trajectory;

/// One `key=value` of the comment line, quotes and brackets removed from the value.
struct Pair {
    key: String,
    value: String,
}

/// Splits an extxyz comment line into key=value pairs: values may be bare, "quoted" (with
/// backslash escapes), {braced} or [bracketed]; a key without '=' is a true flag.
fn split_pairs(line: &str) -> std::result::Result<Vec<Pair>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let read_word = |i: &mut usize, stop_at_eq: bool| -> std::result::Result<String, String> {
        let mut s = String::new();
        match chars.get(*i) {
            Some('"') => {
                *i += 1;
                loop {
                    match chars.get(*i) {
                        None => return Err("unterminated quoted value".into()),
                        Some('"') => {
                            *i += 1;
                            break;
                        }
                        Some('\\') => {
                            match chars.get(*i + 1) {
                                Some('n') => s.push('\n'),
                                Some(c) => s.push(*c),
                                None => return Err("unterminated quoted value".into()),
                            }
                            *i += 2;
                        }
                        Some(c) => {
                            s.push(*c);
                            *i += 1;
                        }
                    }
                }
            }
            Some(open @ ('{' | '[')) => {
                let close = if *open == '{' { '}' } else { ']' };
                *i += 1;
                loop {
                    match chars.get(*i) {
                        None => return Err(format!("unterminated '{open}' value")),
                        Some(c) if *c == close => {
                            *i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            *i += 1;
                        }
                    }
                }
            }
            _ => {
                while let Some(&c) = chars.get(*i) {
                    if c.is_whitespace() || (stop_at_eq && c == '=') {
                        break;
                    }
                    s.push(c);
                    *i += 1;
                }
            }
        }
        Ok(s)
    };
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let key = read_word(&mut i, true)?;
        if key.is_empty() {
            return Err(format!("empty key at column {}", i + 1));
        }
        let mut j = i;
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        if chars.get(j) == Some(&'=') {
            i = j + 1;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            let value = read_word(&mut i, false)?;
            out.push(Pair { key, value });
        } else {
            out.push(Pair {
                key,
                value: "T".into(),
            });
        }
    }
    Ok(out)
}

fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "T" | "True" | "true" | "TRUE" => Some(true),
        "F" | "False" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A comment-line value as ASE types it: integers, reals, booleans, arrays of those, or text.
fn typed_value(v: &str) -> Value {
    let toks: Vec<&str> = v
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let scalar = |t: &str| -> Option<Value> {
        if let Ok(i) = t.parse::<i64>() {
            return Some(Value::from(i));
        }
        if let Ok(x) = parse_f64(t) {
            return serde_json::Number::from_f64(x).map(Value::Number);
        }
        parse_bool(t).map(Value::Bool)
    };
    match toks.as_slice() {
        [] => Value::String(v.to_string()),
        [t] => scalar(t).unwrap_or_else(|| Value::String(v.to_string())),
        many => {
            let vals: Option<Vec<Value>> = many.iter().map(|t| scalar(t)).collect();
            match vals {
                // Only homogeneous arrays: numbers, or booleans.
                Some(vals) if vals.iter().all(Value::is_number) || vals.iter().all(Value::is_boolean) => {
                    Value::Array(vals)
                }
                _ => Value::String(v.to_string()),
            }
        }
    }
}

/// Where one `Properties` entry goes.
enum Col {
    Species,
    Z,
    Pos,
    Real(String, Vec<f64>),
    Int(String, Vec<i64>),
    Bool(String, Vec<bool>),
    Text(String, Vec<String>),
    Vector(String, Vec<[f64; 3]>),
    Flags(String, Vec<[bool; 3]>),
    /// A column shape with no `SiteProperty` (R:9, I:2, ...): read past and dropped.
    Skip(usize),
}

impl Col {
    fn width(&self) -> usize {
        match self {
            Col::Species | Col::Z | Col::Real(..) | Col::Int(..) | Col::Bool(..) | Col::Text(..) => 1,
            Col::Pos | Col::Vector(..) | Col::Flags(..) => 3,
            Col::Skip(n) => *n,
        }
    }
}

fn parse_properties(spec: &str) -> std::result::Result<Vec<Col>, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    if !parts.len().is_multiple_of(3) || parts.is_empty() {
        return Err(format!(
            "Properties='{}' is not a list of name:type:count triples",
            shorten(spec)
        ));
    }
    let mut cols = Vec::new();
    for t in parts.chunks(3) {
        let (name, ty, n) = (t[0], t[1], t[2]);
        let n: usize = n
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("Properties: bad column count '{}' for '{name}'", shorten(n)))?;
        let col = match (name, ty, n) {
            ("species", "S", 1) => Col::Species,
            ("Z", "I", 1) => Col::Z,
            ("pos", "R", 3) => Col::Pos,
            ("species" | "pos", ..) => {
                return Err(format!("Properties: '{name}' has the wrong type {ty}:{n}"));
            }
            (_, "R", 1) => Col::Real(name.into(), Vec::new()),
            (_, "I", 1) => Col::Int(name.into(), Vec::new()),
            (_, "L", 1) => Col::Bool(name.into(), Vec::new()),
            (_, "S", 1) => Col::Text(name.into(), Vec::new()),
            (_, "R", 3) => Col::Vector(name.into(), Vec::new()),
            (_, "L", 3) => Col::Flags(name.into(), Vec::new()),
            (_, "R" | "I" | "L" | "S", n) => Col::Skip(n),
            _ => {
                return Err(format!(
                    "Properties: unknown column type '{}' for '{name}'",
                    shorten(ty)
                ));
            }
        };
        cols.push(col);
    }
    if !cols.iter().any(|c| matches!(c, Col::Pos)) {
        return Err("Properties has no pos:R:3 column".into());
    }
    if !cols.iter().any(|c| matches!(c, Col::Species | Col::Z)) {
        return Err("Properties has no species:S:1 column".into());
    }
    Ok(cols)
}

fn parse_frame(cur: &mut Cursor, src: Src, count_line: usize, count_text: &str) -> Result<Structure> {
    let first = count_text.split_ascii_whitespace().next().unwrap_or("");
    let n = usize_at(src, count_line, first, "number of atoms")?;
    let (cl, comment) = cur.expect(src, "the comment line of the frame")?;
    let pairs = split_pairs(comment).map_err(|m| src.err(cl, m))?;

    let mut lattice = None;
    let mut cols = None;
    let mut properties = BTreeMap::new();
    for Pair { key, value } in pairs {
        match key.as_str() {
            "Lattice" => {
                let v = value
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|t| !t.is_empty())
                    .map(|t| parse_f64(t).map_err(|m| src.err(cl, format!("Lattice: {m}"))))
                    .collect::<Result<Vec<f64>>>()?;
                if v.len() != 9 {
                    return Err(src.err(cl, format!("Lattice needs 9 numbers, found {}", v.len())));
                }
                lattice = Some(lattice_at(src, cl, Matrix3::from_row_slice(&v))?);
            }
            "Properties" => cols = Some(parse_properties(&value).map_err(|m| src.err(cl, m))?),
            // Periodic by construction here; the flag is written back on output.
            "pbc" => {}
            _ => {
                properties.insert(key, typed_value(&value));
            }
        }
    }
    let lattice = lattice.ok_or_else(|| {
        src.err(
            cl,
            "no Lattice=\"...\" on the comment line: a non-periodic (molecular) xyz frame; \
             amorph structures are periodic, so give the frame a cell",
        )
    })?;
    // Plain xyz with a cell: species and positions only.
    let mut cols = cols.unwrap_or_else(|| vec![Col::Species, Col::Pos]);
    let width = cols
        .iter()
        .try_fold(0usize, |acc, c| acc.checked_add(c.width()))
        .ok_or_else(|| src.err(cl, "Properties: column counts overflow"))?;
    if n == 0 {
        return Err(src.err(count_line, "a frame with no atoms"));
    }

    let mut species = Vec::with_capacity(n.min(1 << 20));
    let mut positions = Vec::with_capacity(n.min(1 << 20));
    for i in 0..n {
        let (l, t) = cur.expect(src, format_args!("atom {} of {n}", i + 1))?;
        let found = t.split_ascii_whitespace().count();
        if found != width {
            return Err(src.err(
                l,
                format!(
                    "atom {}: expected {width} columns (from Properties), found {found}",
                    i + 1
                ),
            ));
        }
        let mut toks = t.split_ascii_whitespace();
        let mut next = || toks.next().unwrap_or("");
        let real = |tok: &str| parse_f64(tok).map_err(|m| src.err(l, format!("atom {}: {m}", i + 1)));
        // Property columns may hold NaN for "missing" (as ASE writes it); positions may not.
        let real_or_nan = |tok: &str| {
            if tok.eq_ignore_ascii_case("nan") {
                Ok(f64::NAN)
            } else {
                real(tok)
            }
        };
        let int = |tok: &str| {
            tok.parse::<i64>()
                .map_err(|_| src.err(l, format!("atom {}: '{}' is not an integer", i + 1, shorten(tok))))
        };
        let boolean = |tok: &str| {
            parse_bool(tok)
                .ok_or_else(|| src.err(l, format!("atom {}: '{}' is not T or F", i + 1, shorten(tok))))
        };
        for c in cols.iter_mut() {
            match c {
                Col::Species => {
                    let tok = next();
                    species.push(element_strict(tok).ok_or_else(|| {
                        src.err(l, format!("atom {}: unknown element '{}'", i + 1, shorten(tok)))
                    })?);
                }
                Col::Z => {
                    let z = int(next())?;
                    species.push(
                        u8::try_from(z)
                            .ok()
                            .and_then(|z| Element::from_z(z).ok())
                            .ok_or_else(|| src.err(l, format!("atom {}: no element with Z={z}", i + 1)))?,
                    );
                }
                Col::Pos => {
                    let (x, y, z) = (real(next())?, real(next())?, real(next())?);
                    positions.push(Vector3::new(x, y, z));
                }
                Col::Real(_, v) => v.push(real_or_nan(next())?),
                Col::Int(_, v) => v.push(int(next())?),
                Col::Bool(_, v) => v.push(boolean(next())?),
                Col::Text(_, v) => v.push(next().to_string()),
                Col::Vector(_, v) => {
                    v.push([real_or_nan(next())?, real_or_nan(next())?, real_or_nan(next())?])
                }
                Col::Flags(_, v) => v.push([boolean(next())?, boolean(next())?, boolean(next())?]),
                Col::Skip(k) => {
                    for _ in 0..*k {
                        next();
                    }
                }
            }
        }
    }

    let mut s = Structure::new(lattice, species, positions).map_err(|e| src.wrap(cl, e))?;
    for c in cols {
        let (name, p) = match c {
            Col::Real(k, v) => (k, SiteProperty::Real(v)),
            Col::Int(k, v) => (k, SiteProperty::Int(v)),
            Col::Bool(k, v) => (k, SiteProperty::Bool(v)),
            Col::Text(k, v) => (k, SiteProperty::Text(v)),
            Col::Vector(k, v) => (k, SiteProperty::Vector(v)),
            Col::Flags(k, v) => (k, SiteProperty::Flags(v)),
            _ => continue,
        };
        s.set_site_property(name, p).map_err(|e| src.wrap(cl, e))?;
    }
    *s.properties_mut() = properties;
    Ok(s)
}

/// Reads frames until the end of the text or `max_frames`.
pub(crate) fn parse_extxyz(text: &str, src: Src, max_frames: Option<usize>) -> Result<Trajectory> {
    parse_frames(text, src, max_frames, |_| {}).map(|(t, _)| t)
}

/// The first frame as a structure, with its properties.
pub(crate) fn parse_extxyz_structure(text: &str, src: Src) -> Result<Structure> {
    let mut first = None;
    parse_frames(text, src, Some(1), |s| first = Some(s))?;
    first.ok_or_else(|| src.err(0, "no frame"))
}

fn parse_frames(
    text: &str,
    src: Src,
    max_frames: Option<usize>,
    mut first: impl FnMut(Structure),
) -> Result<(Trajectory, usize)> {
    let mut cur = Cursor::new(text);
    let mut traj: Option<Trajectory> = None;
    let max = max_frames.unwrap_or(usize::MAX);
    let mut count = 0;
    while count < max {
        while cur.peek().is_some_and(|l| l.trim().is_empty()) {
            cur.next_line();
        }
        let Some((l, t)) = cur.next_line() else { break };
        let s = parse_frame(&mut cur, src, l, t)?;
        match &mut traj {
            None => {
                traj = Some(Trajectory::from_structure(&s));
                first(s);
            }
            Some(tr) => tr.push(&s).map_err(|e: Error| src.wrap(l, e))?,
        }
        count += 1;
    }
    let traj = traj.ok_or_else(|| src.err(0, "no frame: the file is empty"))?;
    Ok((traj, count))
}

/// A name usable as a Properties column or key: no blanks, ':', '=' or quotes.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ':' | '=' | '"' | '\\'))
    {
        return Err(Error::InvalidArgument(format!(
            "'{name}' cannot be written as an extended-XYZ column or key name"
        )));
    }
    Ok(())
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::String(s) => {
            let bare = !s.is_empty()
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '=' | ',' | '{' | '['))
                && matches!(typed_value(s), Value::String(_));
            if bare {
                out.push_str(s);
            } else {
                push_quoted(out, s);
            }
        }
        Value::Array(a) if a.iter().all(|x| x.is_number() || x.is_boolean()) => {
            let mut inner = String::new();
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    inner.push(' ');
                }
                push_value(&mut inner, x);
            }
            push_quoted(out, &inner);
        }
        // Nested data has no extxyz spelling: keep it as JSON text.
        other => push_quoted(out, &other.to_string()),
    }
}

fn push_frame(out: &mut String, s: &Structure) -> Result<()> {
    let n = s.len();
    let _ = writeln!(out, "{n}");
    out.push_str("Lattice=\"");
    for (k, x) in s.lattice().matrix().transpose().iter().enumerate() {
        // Row-major: a then b then c.
        if k > 0 {
            out.push(' ');
        }
        push_f64(out, *x);
    }
    out.push_str("\" Properties=species:S:1:pos:R:3");
    let site = s.site_properties();
    for (name, p) in site {
        check_name(name)?;
        if matches!(name.as_str(), "species" | "pos" | "Z") {
            return Err(Error::InvalidArgument(format!(
                "site property '{name}' would clash with the extended-XYZ column of that name"
            )));
        }
        let ty = match p {
            SiteProperty::Real(_) => "R:1",
            SiteProperty::Int(_) => "I:1",
            SiteProperty::Bool(_) => "L:1",
            SiteProperty::Text(v) => {
                if let Some(bad) = v
                    .iter()
                    .find(|t| t.is_empty() || t.chars().any(char::is_whitespace))
                {
                    return Err(Error::InvalidArgument(format!(
                        "site property '{name}': the text '{bad}' cannot be an extended-XYZ column value"
                    )));
                }
                "S:1"
            }
            SiteProperty::Vector(_) => "R:3",
            SiteProperty::Flags(_) => "L:3",
        };
        let _ = write!(out, ":{name}:{ty}");
    }
    for (k, v) in s.properties() {
        if matches!(k.as_str(), "Lattice" | "Properties" | "pbc") || v.is_null() {
            continue;
        }
        check_name(k)?;
        let _ = write!(out, " {k}=");
        push_value(out, v);
    }
    out.push_str(" pbc=\"T T T\"\n");
    for (i, p) in s.positions().iter().enumerate() {
        let _ = write!(out, "{:<2}", s.species()[i].symbol());
        for x in p.iter() {
            out.push(' ');
            push_f64(out, *x);
        }
        for prop in site.values() {
            out.push(' ');
            match prop {
                SiteProperty::Real(v) => push_f64(out, v[i]),
                SiteProperty::Int(v) => {
                    let _ = write!(out, "{}", v[i]);
                }
                SiteProperty::Bool(v) => out.push(if v[i] { 'T' } else { 'F' }),
                SiteProperty::Text(v) => out.push_str(&v[i]),
                SiteProperty::Vector(v) => {
                    for (k, x) in v[i].iter().enumerate() {
                        if k > 0 {
                            out.push(' ');
                        }
                        push_f64(out, *x);
                    }
                }
                SiteProperty::Flags(v) => {
                    let f = v[i];
                    let _ = write!(
                        out,
                        "{} {} {}",
                        if f[0] { 'T' } else { 'F' },
                        if f[1] { 'T' } else { 'F' },
                        if f[2] { 'T' } else { 'F' }
                    );
                }
            }
        }
        out.push('\n');
    }
    Ok(())
}

pub(crate) fn write_extxyz(s: &Structure) -> Result<String> {
    let mut out = String::with_capacity(80 * (s.len() + 2));
    push_frame(&mut out, s)?;
    Ok(out)
}

pub(crate) fn write_extxyz_trajectory(t: &Trajectory) -> Result<String> {
    let mut out = String::with_capacity(70 * (t.natoms() + 2) * t.len());
    for s in t.frames() {
        push_frame(&mut out, &s)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_line_pairs() {
        let p = split_pairs(r#"Lattice="1 0 0 0 1 0 0 0 1" a=1 b = 2.5 "c d"=x flag s="q \"x\"" t={1 2}"#)
            .unwrap();
        let kv: Vec<(&str, &str)> = p.iter().map(|p| (p.key.as_str(), p.value.as_str())).collect();
        assert_eq!(
            kv,
            [
                ("Lattice", "1 0 0 0 1 0 0 0 1"),
                ("a", "1"),
                ("b", "2.5"),
                ("c d", "x"),
                ("flag", "T"),
                ("s", "q \"x\""),
                ("t", "1 2")
            ]
        );
        assert!(split_pairs("a=\"open").is_err());
    }

    #[test]
    fn typed_values() {
        assert_eq!(typed_value("3"), Value::from(3));
        assert_eq!(typed_value("-0.5"), Value::from(-0.5));
        assert_eq!(typed_value("T"), Value::Bool(true));
        assert_eq!(typed_value("hello world"), Value::from("hello world"));
        assert_eq!(typed_value("1 2 3"), serde_json::json!([1, 2, 3]));
        assert_eq!(typed_value("T T F"), serde_json::json!([true, true, false]));
    }
}
