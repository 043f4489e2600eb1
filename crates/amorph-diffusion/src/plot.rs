//! Minimal SVG plots: the MSD with its fitted line, and an Arrhenius plot.

use std::fmt::Write as _;

use crate::arrhenius::{ArrheniusFit, ArrheniusPoint};
use crate::fit::Diffusivity;
use crate::msd::Msd;

const W: f64 = 640.0;
const H: f64 = 440.0;
const L: f64 = 80.0; // left margin
const R: f64 = 20.0;
const T: f64 = 30.0;
const B: f64 = 60.0;

/// "Nice" tick values covering [lo, hi].
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = Vec::new();
    let mut x = (lo / step).ceil() * step;
    while x <= hi + 1e-9 * span {
        v.push(if x.abs() < 1e-12 * span { 0.0 } else { x });
        x += step;
    }
    v
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        L + (x - self.x0) / (self.x1 - self.x0) * (W - L - R)
    }
    fn py(&self, y: f64) -> f64 {
        H - B - (y - self.y0) / (self.y1 - self.y0) * (H - T - B)
    }
}

fn axes(out: &mut String, f: &Frame, xlabel: &str, ylabel: &str, ylabel_of: &dyn Fn(f64) -> String) {
    let _ = write!(
        out,
        r#"<rect x="{L}" y="{T}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        W - L - R,
        H - T - B
    );
    for x in ticks(f.x0, f.x1) {
        let p = f.px(x);
        let _ = write!(
            out,
            r#"<line x1="{p:.1}" y1="{}" x2="{p:.1}" y2="{}" stroke="black"/><text x="{p:.1}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            H - B,
            H - B + 5.0,
            H - B + 20.0,
            fmt_num(x)
        );
    }
    for y in ticks(f.y0, f.y1) {
        let p = f.py(y);
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{p:.1}" x2="{L}" y2="{p:.1}" stroke="black"/><text x="{}" y="{:.1}" text-anchor="end" font-size="12">{}</text>"#,
            L - 5.0,
            L - 8.0,
            p + 4.0,
            ylabel_of(y)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="14">{xlabel}</text><text x="18" y="{}" text-anchor="middle" font-size="14" transform="rotate(-90 18 {})">{ylabel}</text>"#,
        (L + W - R) / 2.0,
        H - 15.0,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0
    );
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn polyline(out: &mut String, pts: &[(f64, f64)], style: &str) {
    let _ = write!(out, r#"<polyline fill="none" {style} points=""#);
    for (x, y) in pts {
        let _ = write!(out, "{x:.2},{y:.2} ");
    }
    out.push_str("\"/>");
}

/// The total MSD against lag time (ps) with the fitted line over the fit window (dashed).
pub fn msd_svg(msd: &Msd, fit: Option<&Diffusivity>) -> String {
    let n = msd.len();
    let tmax = msd.time_fs(n.saturating_sub(1)) / 1000.0;
    let ymax = (0..n).map(|k| msd.total(k)).fold(0.0, f64::max).max(1e-12);
    let f = Frame {
        x0: 0.0,
        x1: tmax.max(1e-12),
        y0: 0.0,
        y1: ymax * 1.05,
    };
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">"#
    );
    axes(&mut out, &f, "lag time (ps)", "MSD (Å²)", &|y| fmt_num(y));
    let stride = (n / 2000).max(1);
    let pts: Vec<(f64, f64)> = (0..n)
        .step_by(stride)
        .map(|k| (f.px(msd.time_fs(k) / 1000.0), f.py(msd.total(k))))
        .collect();
    polyline(&mut out, &pts, r#"stroke="black" stroke-width="1.5""#);
    if let Some(d) = fit {
        let line = |t_fs: f64| d.intercept_a2 + d.slope_a2_per_fs * t_fs;
        let (a, b) = (d.fit_start_fs(), d.fit_end_fs());
        polyline(
            &mut out,
            &[
                (f.px(a / 1000.0), f.py(line(a))),
                (f.px(b / 1000.0), f.py(line(b))),
            ],
            r#"stroke="red" stroke-width="2" stroke-dasharray="6,4""#,
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="13" fill="red">D = {:.3e} ± {:.1e} cm²/s</text>"#,
            L + 10.0,
            T + 20.0,
            d.d_cm2_s,
            d.stderr_cm2_s
        );
    }
    out.push_str("</svg>\n");
    out
}

/// log₁₀ D against 1000/T with error bars (±1 standard error) and the fitted line.
pub fn arrhenius_svg(points: &[ArrheniusPoint], fit: &ArrheniusFit) -> String {
    let xs: Vec<f64> = points.iter().map(|p| 1000.0 / p.t_k).collect();
    let lo = |p: &ArrheniusPoint| {
        (p.d_cm2_s - p.d_stderr_cm2_s.unwrap_or(0.0))
            .max(p.d_cm2_s * 0.1)
            .log10()
    };
    let hi = |p: &ArrheniusPoint| (p.d_cm2_s + p.d_stderr_cm2_s.unwrap_or(0.0)).log10();
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in &xs {
        x0 = x0.min(x);
        x1 = x1.max(x);
    }
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in points {
        y0 = y0.min(lo(p));
        y1 = y1.max(hi(p));
    }
    let padx = ((x1 - x0) * 0.08).max(0.01);
    let pady = ((y1 - y0) * 0.08).max(0.05);
    let f = Frame {
        x0: x0 - padx,
        x1: x1 + padx,
        y0: y0 - pady,
        y1: y1 + pady,
    };
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">"#
    );
    axes(&mut out, &f, "1000/T (1/K)", "D (cm²/s)", &|y| {
        format!("1e{}", fmt_num(y))
    });
    let line = |x: f64| {
        fit.diffusivity_at(1000.0 / x)
            .map(|(d, _)| d.log10())
            .unwrap_or(f64::NAN)
    };
    polyline(
        &mut out,
        &[(f.px(f.x0), f.py(line(f.x0))), (f.px(f.x1), f.py(line(f.x1)))],
        r#"stroke="red" stroke-width="2" stroke-dasharray="6,4""#,
    );
    for (p, &x) in points.iter().zip(&xs) {
        let (px, py) = (f.px(x), f.py(p.d_cm2_s.log10()));
        if p.d_stderr_cm2_s.is_some() {
            let _ = write!(
                out,
                r#"<line x1="{px:.2}" y1="{:.2}" x2="{px:.2}" y2="{:.2}" stroke="black"/>"#,
                f.py(lo(p)),
                f.py(hi(p))
            );
        }
        let _ = write!(out, r#"<circle cx="{px:.2}" cy="{py:.2}" r="4" fill="black"/>"#);
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-size="13" fill="red">Ea = {:.3} eV, D0 = {:.2e} cm²/s</text>"#,
        L + 10.0,
        T + 20.0,
        fit.ea_ev,
        fit.d0_cm2_s
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(0.37, 1.02);
        assert!(t.iter().all(|x| (0.37..=1.02).contains(x)) && t.len() >= 3);
    }
}
