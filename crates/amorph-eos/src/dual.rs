//! Forward-mode automatic differentiation: each model is written once, generically, and evaluated on
//! `f64` for values or on [`Dual`] for exact Jacobians (no finite differences in the fits).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A number type the model formulas are written in.
pub(crate) trait Real:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    fn cst(x: f64) -> Self;
    fn powf(self, e: f64) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    /// `self` raised to a variable power.
    fn powd(self, e: Self) -> Self {
        (self.ln() * e).exp()
    }
}

impl Real for f64 {
    fn cst(x: f64) -> Self {
        x
    }
    fn powf(self, e: f64) -> Self {
        f64::powf(self, e)
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn powd(self, e: Self) -> Self {
        f64::powf(self, e)
    }
}

/// A value with its gradient with respect to `N` parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dual<const N: usize> {
    pub v: f64,
    pub d: [f64; N],
}

impl<const N: usize> Dual<N> {
    /// The `i`-th independent variable with value `v`.
    pub fn var(v: f64, i: usize) -> Self {
        let mut d = [0.0; N];
        d[i] = 1.0;
        Self { v, d }
    }
    fn chain(self, v: f64, dv: f64) -> Self {
        let mut d = self.d;
        for x in &mut d {
            *x *= dv;
        }
        Self { v, d }
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    fn add(mut self, o: Self) -> Self {
        self.v += o.v;
        for (a, b) in self.d.iter_mut().zip(o.d) {
            *a += b;
        }
        self
    }
}

impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    fn sub(mut self, o: Self) -> Self {
        self.v -= o.v;
        for (a, b) in self.d.iter_mut().zip(o.d) {
            *a -= b;
        }
        self
    }
}

impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        let mut d = [0.0; N];
        for (k, x) in d.iter_mut().enumerate() {
            *x = self.d[k] * o.v + self.v * o.d[k];
        }
        Self { v: self.v * o.v, d }
    }
}

impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let v = self.v * inv;
        let mut d = [0.0; N];
        for (k, x) in d.iter_mut().enumerate() {
            *x = (self.d[k] - v * o.d[k]) * inv;
        }
        Self { v, d }
    }
}

impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0)
    }
}

impl<const N: usize> Add<f64> for Dual<N> {
    type Output = Self;
    fn add(mut self, o: f64) -> Self {
        self.v += o;
        self
    }
}

impl<const N: usize> Sub<f64> for Dual<N> {
    type Output = Self;
    fn sub(mut self, o: f64) -> Self {
        self.v -= o;
        self
    }
}

impl<const N: usize> Mul<f64> for Dual<N> {
    type Output = Self;
    fn mul(self, o: f64) -> Self {
        self.chain(self.v * o, o)
    }
}

impl<const N: usize> Div<f64> for Dual<N> {
    type Output = Self;
    fn div(self, o: f64) -> Self {
        self.chain(self.v / o, 1.0 / o)
    }
}

impl<const N: usize> Real for Dual<N> {
    fn cst(x: f64) -> Self {
        Self { v: x, d: [0.0; N] }
    }
    fn powf(self, e: f64) -> Self {
        let v = self.v.powf(e);
        // d(x^e) = e x^(e−1) dx = e (x^e / x) dx: one powf instead of two (x > 0 in every model).
        self.chain(v, e * v / self.v)
    }
    fn exp(self) -> Self {
        let v = self.v.exp();
        self.chain(v, v)
    }
    fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        let f = |x: Dual<2>| -> Dual<2> {
            let y = Dual::<2>::var(1.3, 1);
            (x.powf(1.5) * y - x / y).exp() + x.powd(y) - x.ln() * 2.0 + (-x) / 3.0
        };
        let fv = |x: f64, y: f64| (x.powf(1.5) * y - x / y).exp() + x.powf(y) - 2.0 * x.ln() - x / 3.0;
        let r = f(Dual::var(0.7, 0));
        let h = 1e-6;
        let dx = (fv(0.7 + h, 1.3) - fv(0.7 - h, 1.3)) / (2.0 * h);
        let dy = (fv(0.7, 1.3 + h) - fv(0.7, 1.3 - h)) / (2.0 * h);
        assert!((r.v - fv(0.7, 1.3)).abs() < 1e-14);
        assert!((r.d[0] - dx).abs() < 1e-8, "{} {dx}", r.d[0]);
        assert!((r.d[1] - dy).abs() < 1e-8, "{} {dy}", r.d[1]);
    }
}
