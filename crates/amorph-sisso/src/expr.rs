//! Operators and symbolic expressions.

use std::fmt;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::units::Dim;

/// An operator of the feature construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Op {
    /// `a + b` (same units).
    Add,
    /// `a − b` (same units; `b − a` is the same feature up to sign).
    Sub,
    /// `a × b`.
    Mul,
    /// `a ÷ b` (both orders are built).
    Div,
    /// `a²`.
    Square,
    /// `a³`.
    Cube,
    /// `a⁶`.
    Sixth,
    /// `1/a`.
    Inv,
    /// `exp(a)` (dimensionless `a`).
    Exp,
    /// `exp(−a)` (dimensionless `a`).
    ExpNeg,
    /// `ln(a)` (dimensionless, positive `a`).
    Log,
    /// `√a` (non-negative `a`; exponents halve).
    Sqrt,
    /// `∛a` (exponents divide by three).
    Cbrt,
    /// `|a|`.
    Abs,
}

impl Op {
    /// Every operator, in the canonical order.
    pub const ALL: [Op; 14] = [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Square,
        Op::Cube,
        Op::Sixth,
        Op::Inv,
        Op::Exp,
        Op::ExpNeg,
        Op::Log,
        Op::Sqrt,
        Op::Cbrt,
        Op::Abs,
    ];

    /// The paper's operator set: `+ − × ÷ ^2 ^3 ^6 ^-1 exp exp- log`.
    pub const PAPER: [Op; 11] = [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Square,
        Op::Cube,
        Op::Sixth,
        Op::Inv,
        Op::Exp,
        Op::ExpNeg,
        Op::Log,
    ];

    /// The operator's name as accepted by [`Op::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Square => "^2",
            Op::Cube => "^3",
            Op::Sixth => "^6",
            Op::Inv => "^-1",
            Op::Exp => "exp",
            Op::ExpNeg => "exp-",
            Op::Log => "log",
            Op::Sqrt => "sqrt",
            Op::Cbrt => "cbrt",
            Op::Abs => "abs",
        }
    }

    /// Parses one operator name (`+`, `-`, `*`, `/`, `^2`, `^3`, `^6`, `^-1`, `exp`, `exp-`, `log`,
    /// `sqrt`, `cbrt`, `abs`; SISSO's parenthesised spellings such as `(exp-)` too).
    pub fn parse(s: &str) -> Result<Op> {
        let t = s.trim();
        let t = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')).unwrap_or(t);
        Ok(match t {
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" | "×" => Op::Mul,
            "/" | "÷" => Op::Div,
            "^2" => Op::Square,
            "^3" => Op::Cube,
            "^6" => Op::Sixth,
            "^-1" => Op::Inv,
            "exp" => Op::Exp,
            "exp-" | "exp(-)" => Op::ExpNeg,
            "log" | "ln" => Op::Log,
            "sqrt" => Op::Sqrt,
            "cbrt" => Op::Cbrt,
            "abs" => Op::Abs,
            _ => return Err(Error::UnknownOperator(s.trim().to_string())),
        })
    }

    /// Parses an operator list: comma- or space-separated names, or SISSO's `(+)(-)(exp)`; `none`
    /// or an empty string is the empty set. The result is sorted and without repeats.
    pub fn parse_list(s: &str) -> Result<Vec<Op>> {
        let t = s.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        let spaced = t.replace(")(", "),(");
        let mut ops = spaced
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(Op::parse)
            .collect::<Result<Vec<_>>>()?;
        ops.sort();
        ops.dedup();
        Ok(ops)
    }

    /// True for the two-operand operators.
    pub fn is_binary(self) -> bool {
        matches!(self, Op::Add | Op::Sub | Op::Mul | Op::Div)
    }

    /// The unit of the result, or `None` where the units do not allow the operator.
    pub(crate) fn dim(self, a: Dim, b: Option<Dim>) -> Option<Dim> {
        match (self, b) {
            (Op::Add | Op::Sub, Some(b)) => (a == b).then_some(a),
            (Op::Mul, Some(b)) => a.add(b),
            (Op::Div, Some(b)) => a.sub(b),
            (Op::Square, None) => a.scale(2, 1),
            (Op::Cube, None) => a.scale(3, 1),
            (Op::Sixth, None) => a.scale(6, 1),
            (Op::Inv, None) => a.scale(-1, 1),
            (Op::Exp | Op::ExpNeg | Op::Log, None) => a.is_zero().then_some(a),
            (Op::Sqrt, None) => a.scale(1, 2),
            (Op::Cbrt, None) => a.scale(1, 3),
            (Op::Abs, None) => Some(a),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn unary(self, x: f64) -> f64 {
        match self {
            Op::Square => x * x,
            Op::Cube => x * x * x,
            Op::Sixth => {
                let c = x * x * x;
                c * c
            }
            Op::Inv => 1.0 / x,
            Op::Exp => x.exp(),
            Op::ExpNeg => (-x).exp(),
            Op::Log => {
                if x > 0.0 {
                    x.ln()
                } else {
                    f64::NAN
                }
            }
            Op::Sqrt => {
                if x >= 0.0 {
                    x.sqrt()
                } else {
                    f64::NAN
                }
            }
            Op::Cbrt => x.cbrt(),
            Op::Abs => x.abs(),
            Op::Add | Op::Sub | Op::Mul | Op::Div => f64::NAN,
        }
    }

    #[inline]
    pub(crate) fn binary(self, a: f64, b: f64) -> f64 {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
            _ => f64::NAN,
        }
    }

    /// Applies a unary operator to a slice.
    pub(crate) fn apply_unary(self, a: &[f64], out: &mut [f64]) {
        for (o, &x) in out.iter_mut().zip(a) {
            *o = self.unary(x);
        }
    }

    /// Applies a binary operator to two slices.
    pub(crate) fn apply_binary(self, a: &[f64], b: &[f64], out: &mut [f64]) {
        match self {
            Op::Add => out
                .iter_mut()
                .zip(a.iter().zip(b))
                .for_each(|(o, (x, y))| *o = x + y),
            Op::Sub => out
                .iter_mut()
                .zip(a.iter().zip(b))
                .for_each(|(o, (x, y))| *o = x - y),
            Op::Mul => out
                .iter_mut()
                .zip(a.iter().zip(b))
                .for_each(|(o, (x, y))| *o = x * y),
            Op::Div => out
                .iter_mut()
                .zip(a.iter().zip(b))
                .for_each(|(o, (x, y))| *o = x / y),
            _ => out.iter_mut().for_each(|o| *o = f64::NAN),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A symbolic feature: a tree of operators over primary features (by column index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// The primary feature in this column.
    Primary(usize),
    /// A unary operator applied to an expression.
    Unary(Op, Box<Expr>),
    /// A binary operator applied to two expressions.
    Binary(Op, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Number of operators in the expression (SISSO's feature complexity).
    pub fn complexity(&self) -> usize {
        match self {
            Expr::Primary(_) => 0,
            Expr::Unary(_, a) => 1 + a.complexity(),
            Expr::Binary(_, a, b) => 1 + a.complexity() + b.complexity(),
        }
    }

    /// Nesting depth of the operators (SISSO's rung).
    pub fn rung(&self) -> usize {
        match self {
            Expr::Primary(_) => 0,
            Expr::Unary(_, a) => 1 + a.rung(),
            Expr::Binary(_, a, b) => 1 + a.rung().max(b.rung()),
        }
    }

    /// The value for one row of primary features.
    pub fn eval_row(&self, row: &[f64]) -> f64 {
        match self {
            Expr::Primary(i) => row.get(*i).copied().unwrap_or(f64::NAN),
            Expr::Unary(op, a) => op.unary(a.eval_row(row)),
            Expr::Binary(op, a, b) => op.binary(a.eval_row(row), b.eval_row(row)),
        }
    }

    /// The values for every row of a table of primary features (rows = samples).
    pub fn eval(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => self.eval_row(s),
                None => self.eval_row(&r.to_vec()),
            })
            .collect()
    }

    /// The expression as text, primaries named by `names`.
    pub fn format(&self, names: &[String]) -> String {
        let mut s = String::new();
        self.write(names, &mut s);
        s
    }

    fn write(&self, names: &[String], s: &mut String) {
        match self {
            Expr::Primary(i) => s.push_str(names.get(*i).map_or("?", String::as_str)),
            Expr::Unary(op, a) => match op {
                Op::Exp | Op::Log | Op::Sqrt | Op::Cbrt | Op::Abs => {
                    s.push_str(match op {
                        Op::Exp => "exp(",
                        Op::Log => "log(",
                        Op::Sqrt => "sqrt(",
                        Op::Cbrt => "cbrt(",
                        _ => "abs(",
                    });
                    a.write(names, s);
                    s.push(')');
                }
                Op::ExpNeg => {
                    s.push_str("exp(-");
                    a.write_operand(names, s);
                    s.push(')');
                }
                _ => {
                    a.write_operand(names, s);
                    s.push_str(op.name());
                }
            },
            Expr::Binary(op, a, b) => {
                s.push('(');
                a.write(names, s);
                s.push_str(match op {
                    Op::Add => "+",
                    Op::Sub => "-",
                    Op::Mul => "*",
                    _ => "/",
                });
                b.write(names, s);
                s.push(')');
            }
        }
    }

    /// Writes `self` where it will be followed by `^k` or preceded by `-`: parenthesised unless it
    /// is a primary or already bracketed.
    fn write_operand(&self, names: &[String], s: &mut String) {
        match self {
            Expr::Primary(_) | Expr::Binary(..) => self.write(names, s),
            Expr::Unary(Op::Exp | Op::ExpNeg | Op::Log | Op::Sqrt | Op::Cbrt | Op::Abs, _) => {
                self.write(names, s)
            }
            _ => {
                s.push('(');
                self.write(names, s);
                s.push(')');
            }
        }
    }

    /// Highest primary index used, if any.
    pub(crate) fn max_primary(&self) -> usize {
        match self {
            Expr::Primary(i) => *i,
            Expr::Unary(_, a) => a.max_primary(),
            Expr::Binary(_, a, b) => a.max_primary().max(b.max_primary()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operator_lists() {
        let ops = Op::parse_list("+,-,*,/,^2,^3,^6,^-1,exp,exp-,log").unwrap();
        assert_eq!(ops, Op::PAPER.to_vec());
        assert_eq!(
            Op::parse_list("(+)(-)(*)(/)(exp)(exp-)(^-1)(^2)(^3)(log)(^6)").unwrap(),
            ops
        );
        assert!(Op::parse_list("none").unwrap().is_empty());
        assert!(matches!(Op::parse_list("+,sin"), Err(Error::UnknownOperator(s)) if s == "sin"));
    }

    #[test]
    fn formats_and_evaluates() {
        let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
        let e = Expr::Binary(
            Op::Div,
            Box::new(Expr::Primary(0)),
            Box::new(Expr::Unary(Op::Square, Box::new(Expr::Primary(1)))),
        );
        assert_eq!(e.format(&names), "(x1/x2^2)");
        assert_eq!(e.complexity(), 2);
        assert_eq!(e.rung(), 2);
        assert_eq!(e.eval_row(&[3.0, 2.0, 0.0]), 0.75);
        let f = Expr::Unary(Op::ExpNeg, Box::new(Expr::Primary(2)));
        assert_eq!(f.format(&names), "exp(-x3)");
        assert!((f.eval_row(&[0.0, 0.0, 1.0]) - (-1f64).exp()).abs() < 1e-15);
    }
}
