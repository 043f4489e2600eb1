//! Shared pieces of the text parsers: a line cursor that counts lines, number parsing with
//! file-and-line errors, element symbols as the formats spell them, and float formatting.

use std::fmt::Write as _;
use std::path::Path;

use nalgebra::Matrix3;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::lattice::Lattice;

/// Where the text came from, for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub path: &'a Path,
}

impl Src<'_> {
    /// A parse error at 1-based `line` (0 when the fault is not on one line).
    pub fn err(&self, line: usize, message: impl Into<String>) -> Error {
        Error::Parse {
            path: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// Re-labels an error from the data model (NaN position, bad lattice, ...) as a parse error.
    pub fn wrap(&self, line: usize, e: Error) -> Error {
        match e {
            Error::Parse { .. } | Error::Io { .. } => e,
            other => self.err(line, other.to_string()),
        }
    }
}

/// A forward cursor over the lines of a text that knows the 1-based number of every line.
/// Streaming (no line table) so that multi-gigabyte trajectories cost no extra memory.
pub(crate) struct Cursor<'a> {
    lines: std::str::Lines<'a>,
    peeked: Option<Option<&'a str>>,
    /// Number of the last line returned by `next` (0 before the first).
    line: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Cursor {
            lines: text.lines(),
            peeked: None,
            line: 0,
        }
    }

    /// The next line and its number.
    pub fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let l = match self.peeked.take() {
            Some(p) => p,
            None => self.lines.next(),
        }?;
        self.line += 1;
        Some((self.line, l))
    }

    /// The next line without consuming it.
    pub fn peek(&mut self) -> Option<&'a str> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lines.next());
        }
        self.peeked.flatten()
    }

    /// Number of the last line returned (0 before the first line).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next line, or an "unexpected end of file" error naming what was expected. `what` is
    /// only formatted on error (pass `format_args!` in loops: no allocation per line).
    pub fn expect(&mut self, src: Src, what: impl std::fmt::Display) -> Result<(usize, &'a str)> {
        let after = self.line;
        self.next_line()
            .ok_or_else(|| src.err(after + 1, format!("unexpected end of file: expected {what}")))
    }
}

/// Parses a real number as Fortran and C programs write them (`1.5`, `-2e-3`, `1.0D+00`).
/// NaN and infinities are refused: every number in a structure file must be finite.
pub(crate) fn parse_f64(tok: &str) -> std::result::Result<f64, String> {
    let x = match tok.parse::<f64>() {
        Ok(x) => x,
        Err(_) => {
            // Fortran double-precision exponents: 1.0D+00, 1.0d-3.
            if tok.bytes().any(|b| b == b'D' || b == b'd') {
                tok.replace(['D', 'd'], "E")
                    .parse::<f64>()
                    .map_err(|_| format!("'{}' is not a number", shorten(tok)))?
            } else {
                return Err(format!("'{}' is not a number", shorten(tok)));
            }
        }
    };
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("non-finite number '{}'", shorten(tok)))
    }
}

/// [`parse_f64`] with the error placed at a line.
pub(crate) fn f64_at(src: Src, line: usize, tok: &str) -> Result<f64> {
    parse_f64(tok).map_err(|m| src.err(line, m))
}

/// Reads three real numbers from the first three whitespace-separated tokens of a line; `what`
/// names them in errors and is only formatted then.
pub(crate) fn three_f64(src: Src, line: usize, text: &str, what: impl std::fmt::Display) -> Result<[f64; 3]> {
    let mut it = text.split_ascii_whitespace();
    let mut out = [0.0; 3];
    for (k, v) in out.iter_mut().enumerate() {
        let tok = it.next().ok_or_else(|| {
            src.err(
                line,
                format!(
                    "expected 3 numbers for {what}, found {k} in '{}'",
                    shorten(text.trim())
                ),
            )
        })?;
        *v = parse_f64(tok).map_err(|m| src.err(line, format!("{what}: {m}")))?;
    }
    Ok(out)
}

/// Parses a non-negative integer count.
pub(crate) fn usize_at(src: Src, line: usize, tok: &str, what: &str) -> Result<usize> {
    tok.parse::<usize>().map_err(|_| {
        src.err(
            line,
            format!("{what}: '{}' is not a non-negative integer", shorten(tok)),
        )
    })
}

/// Keeps error messages short when a "token" is a whole line of binary garbage.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// A lattice from rows read in a file, with the file's line on failure. Besides what
/// [`Lattice::new`] refuses, cells whose volume is a vanishing fraction of `a·b·c` (a flattened
/// cell with a volume of 1e-6 Å³, say) are refused here: no real structure has one, and pymatgen
/// refuses them too.
pub(crate) fn lattice_at(src: Src, line: usize, m: Matrix3<f64>) -> Result<Lattice> {
    let lattice = Lattice::new(m).map_err(|e| src.wrap(line, e))?;
    let [a, b, c] = lattice.abc();
    let v = lattice.volume();
    if v < 1e-5 * a * b * c {
        return Err(src.err(
            line,
            format!("degenerate cell: volume {v:.3e} Å³ for edges {a:.4} {b:.4} {c:.4} Å"),
        ));
    }
    Ok(lattice)
}

/// An element from a label as files write them: `Fe`, `Fe4+`, `O2-`, `Si1`, `Fe_pv`, `Si/abc123`:
/// the leading letters must spell a symbol exactly; `None` otherwise.
pub(crate) fn element_strict(label: &str) -> Option<Element> {
    let end = label
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(label.len());
    Element::from_symbol(&label[..end]).ok()
}

/// Like [`element_strict`], and more forgiving as CIF atom labels need: `SI` → Si, `OW1` → O.
pub(crate) fn element_from_label(label: &str) -> Option<Element> {
    let end = label
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(label.len());
    let letters = &label[..end];
    if letters.is_empty() {
        return None;
    }
    if let Ok(e) = Element::from_symbol(letters) {
        return Some(e);
    }
    // 'SI' or 'si' as some programs write; then the first two, then the first letter ('Ow' → O).
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase())
            .unwrap_or_default()
    };
    for n in [letters.len(), 2, 1] {
        if n <= letters.len()
            && let Ok(e) = Element::from_symbol(&cap(&letters[..n]))
        {
            return Some(e);
        }
    }
    None
}

/// A float written so that it parses back to exactly the same value (shortest round-trip form).
pub(crate) fn push_f64(out: &mut String, x: f64) {
    // `{:?}` switches to exponent form for very large and small magnitudes, which every format
    // here accepts; `{}` would spell 1e-300 with 300 zeros.
    let _ = write!(out, "{x:?}");
}

/// Pads a float to a column of `width` characters (right-aligned), exact digits.
pub(crate) fn push_f64_padded(out: &mut String, x: f64, width: usize) {
    let _ = write!(out, "{x:>width$?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_f64("1.5").unwrap(), 1.5);
        assert_eq!(parse_f64("1.0D+02").unwrap(), 100.0);
        assert_eq!(parse_f64("-2.5d-1").unwrap(), -0.25);
        assert_eq!(parse_f64("0.00000000E+00").unwrap(), 0.0);
        assert!(parse_f64("nan").is_err());
        assert!(parse_f64("inf").is_err());
        assert!(parse_f64("abc").is_err());
        assert!(parse_f64("").is_err());
    }

    #[test]
    fn labels() {
        let sym = |s: &str| element_from_label(s).map(|e| e.symbol());
        assert_eq!(sym("Fe4+"), Some("Fe"));
        assert_eq!(sym("O2-"), Some("O"));
        assert_eq!(sym("Si1"), Some("Si"));
        assert_eq!(sym("Fe_pv"), Some("Fe"));
        assert_eq!(sym("SI"), Some("Si"));
        assert_eq!(sym("Cs+"), Some("Cs"));
        assert_eq!(sym("123"), None);
        assert_eq!(sym("Xx"), None);
        assert_eq!(sym("OW1"), Some("O"));
        assert_eq!(element_strict("OW1"), None);
        assert_eq!(element_strict("Fe4+").map(|e| e.symbol()), Some("Fe"));
    }

    #[test]
    fn float_formatting_round_trips() {
        for x in [0.1, -1.0 / 3.0, 1e-300, 6.02e23, 0.0, -0.0, 12.345678901234567] {
            let mut s = String::new();
            push_f64(&mut s, x);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{s}");
            let mut p = String::new();
            push_f64_padded(&mut p, x, 26);
            assert!(p.len() >= 26);
            assert_eq!(p.trim().parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
    }
}
