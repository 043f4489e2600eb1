//! Minimal, dependency-free SVG plots: a general [`LinePlot`] (lines, dashed lines, points with error
//! bars, a legend), and on top of it the MSD with its fitted line ([`msd_svg`], [`msd_curves_svg`])
//! and the Arrhenius plot ([`arrhenius_svg`]).
//!
//! Every series is drawn inside its own `<g class="series">` group, so a reader (or a test) can
//! count them.
//!
//! ```
//! use amorph_diffusion::plot::{LinePlot, Series};
//!
//! let mut plot = LinePlot::new("r (Å)", "g(r)");
//! plot.push(Series::line("Si–O", vec![(1.0, 0.0), (1.6, 8.0), (2.0, 0.5), (3.0, 1.0)]));
//! let svg = plot.to_svg();
//! assert!(svg.starts_with("<svg") && svg.matches(r#"class="series""#).count() == 1);
//! ```

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

/// Colours of the series, by [`Series::color`] index (cycled).
pub const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A solid line through the points.
    Line,
    /// A dashed line through the points (fits, guides).
    Dashed,
    /// A filled circle at each point, with its error bar when given.
    Points,
}

/// One series of a [`LinePlot`]. Non-finite points are skipped (a line is broken there).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text; empty keeps the series out of the legend.
    pub label: String,
    /// (x, y) in data units.
    pub points: Vec<(f64, f64)>,
    /// Vertical error bars as (low, high) y values, one per point, or empty for none.
    pub error_bars: Vec<(f64, f64)>,
    /// How it is drawn.
    pub style: Style,
    /// Index into [`PALETTE`].
    pub color: usize,
}

impl Series {
    /// A solid line in the first colour.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
            error_bars: Vec::new(),
            style: Style::Line,
            color: 0,
        }
    }

    /// A dashed line in the first colour.
    pub fn dashed(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            style: Style::Dashed,
            ..Series::line(label, points)
        }
    }

    /// Points (circles) in the first colour.
    pub fn points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            style: Style::Points,
            ..Series::line(label, points)
        }
    }

    /// The same series in colour `index` of [`PALETTE`].
    pub fn with_color(mut self, index: usize) -> Series {
        self.color = index;
        self
    }

    /// The same series with vertical error bars `(low, high)`, one per point.
    pub fn with_error_bars(mut self, bars: Vec<(f64, f64)>) -> Series {
        self.error_bars = bars;
        self
    }

    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }
}

/// How the y tick labels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YTicks {
    /// The values themselves.
    #[default]
    Plain,
    /// The y values are log₁₀ of the quantity; ticks read `1e-5`, `1e-4`, … (`3.2e-5` between
    /// decades).
    Log10,
}

/// A 640 × 440 px line plot with axes, ticks, labels, notes and a legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// How the y ticks read.
    pub y_ticks: YTicks,
    /// x range; by default that of the finite points.
    pub x_range: Option<(f64, f64)>,
    /// y range; by default that of the finite points and error bars, 5 % taller.
    pub y_range: Option<(f64, f64)>,
    /// Lines of text at the top left of the plot area.
    pub notes: Vec<String>,
    /// The series, drawn in order.
    pub series: Vec<Series>,
}

impl LinePlot {
    /// An empty plot with these axis labels.
    pub fn new(x_label: impl Into<String>, y_label: impl Into<String>) -> LinePlot {
        LinePlot {
            x_label: x_label.into(),
            y_label: y_label.into(),
            y_ticks: YTicks::Plain,
            x_range: None,
            y_range: None,
            notes: Vec::new(),
            series: Vec::new(),
        }
    }

    /// Add a series.
    pub fn push(&mut self, series: Series) {
        self.series.push(series);
    }

    /// Bounds of the finite data (points and error bars), or `None` when there is none.
    fn data_bounds(&self) -> Option<((f64, f64), (f64, f64))> {
        let (mut x0, mut x1, mut y0, mut y1) =
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for s in &self.series {
            for (x, y) in s.finite_points() {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
            for &(lo, hi) in &s.error_bars {
                for v in [lo, hi].into_iter().filter(|v| v.is_finite()) {
                    y0 = y0.min(v);
                    y1 = y1.max(v);
                }
            }
        }
        (x0 <= x1 && y0 <= y1).then_some(((x0, x1), (y0, y1)))
    }

    /// The plot as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let bounds = self.data_bounds();
        let (x0, x1) = self.x_range.or(bounds.map(|b| b.0)).unwrap_or((0.0, 1.0));
        let (y0, y1) = self
            .y_range
            .or(bounds.map(|b| (b.1.0, b.1.1 + 0.05 * (b.1.1 - b.1.0))))
            .unwrap_or((0.0, 1.0));
        let widen = |a: f64, b: f64| {
            if b > a {
                (a, b)
            } else {
                let d = a.abs().max(1.0) * 0.05;
                (a - d, a + d)
            }
        };
        let (x0, x1) = widen(x0, x1);
        let (y0, y1) = widen(y0, y1);
        let f = Frame { x0, x1, y0, y1 };
        let mut out = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">"#
        );
        let y_tick = |y: f64| match self.y_ticks {
            YTicks::Plain => fmt_num(y),
            YTicks::Log10 if (y - y.round()).abs() < 1e-9 => format!("1e{}", y.round()),
            YTicks::Log10 => format!("{:.1e}", 10f64.powf(y)),
        };
        axes(
            &mut out,
            &f,
            &escape(&self.x_label),
            &escape(&self.y_label),
            &y_tick,
        );
        let _ = write!(
            out,
            r#"<clipPath id="plot-area"><rect x="{L}" y="{T}" width="{}" height="{}"/></clipPath>"#,
            W - L - R,
            H - T - B
        );
        for s in &self.series {
            draw_series(&mut out, &f, s);
        }
        for (i, note) in self.notes.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" font-size="13">{}</text>"#,
                L + 10.0,
                T + 20.0 + 17.0 * i as f64,
                escape(note)
            );
        }
        legend(&mut out, &self.series);
        out.push_str("</svg>\n");
        out
    }
}

fn draw_series(out: &mut String, f: &Frame, s: &Series) {
    let color = PALETTE[s.color % PALETTE.len()];
    out.push_str(r#"<g class="series" clip-path="url(#plot-area)">"#);
    match s.style {
        Style::Line | Style::Dashed => {
            let dash = if s.style == Style::Dashed {
                r#" stroke-dasharray="6,4""#
            } else {
                ""
            };
            // One polyline per run of finite points.
            let mut run: Vec<(f64, f64)> = Vec::new();
            let flush = |run: &mut Vec<(f64, f64)>, out: &mut String| {
                if run.len() >= 2 {
                    polyline(out, run, &format!(r#"stroke="{color}" stroke-width="1.5"{dash}"#));
                }
                run.clear();
            };
            for &(x, y) in &s.points {
                if x.is_finite() && y.is_finite() {
                    run.push((f.px(x), f.py(y)));
                } else {
                    flush(&mut run, out);
                }
            }
            flush(&mut run, out);
        }
        Style::Points => {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                if !(x.is_finite() && y.is_finite()) {
                    continue;
                }
                let (px, py) = (f.px(x), f.py(y));
                if let Some(&(lo, hi)) = s.error_bars.get(i)
                    && lo.is_finite()
                    && hi.is_finite()
                {
                    let _ = write!(
                        out,
                        r#"<line x1="{px:.2}" y1="{:.2}" x2="{px:.2}" y2="{:.2}" stroke="{color}"/>"#,
                        f.py(lo),
                        f.py(hi)
                    );
                }
                let _ = write!(out, r#"<circle cx="{px:.2}" cy="{py:.2}" r="4" fill="{color}"/>"#);
            }
        }
    }
    out.push_str("</g>");
}

fn legend(out: &mut String, series: &[Series]) {
    let labelled: Vec<&Series> = series.iter().filter(|s| !s.label.is_empty()).collect();
    if labelled.is_empty() {
        return;
    }
    let x = W - R - 150.0;
    for (i, s) in labelled.iter().enumerate() {
        let y = T + 16.0 + 17.0 * i as f64;
        let color = PALETTE[s.color % PALETTE.len()];
        match s.style {
            Style::Points => {
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{color}"/>"#,
                    x + 8.0,
                    y - 8.0
                );
            }
            Style::Line | Style::Dashed => {
                let dash = if s.style == Style::Dashed {
                    r#" stroke-dasharray="6,4""#
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"{dash}/>"#,
                    y - 4.0,
                    x + 24.0,
                    y - 4.0
                );
            }
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{y:.1}" font-size="12">{}</text>"#,
            x + 30.0,
            escape(&s.label)
        );
    }
}

/// Text with `&`, `<`, `>` and `"` escaped for SVG/HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

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

/// One curve of [`msd_curves_svg`].
#[derive(Debug, Clone, Copy)]
pub struct MsdCurve<'a> {
    /// Legend text (e.g. `1500 K`).
    pub label: &'a str,
    /// The MSD.
    pub msd: &'a Msd,
    /// Its fit, drawn dashed over the fit window.
    pub fit: Option<&'a Diffusivity>,
}

/// Total MSD against lag time (ps) of several runs on one plot, each with its fitted line over its
/// fit window (dashed, same colour). Series: one per curve plus one per fit.
pub fn msd_curves_svg(curves: &[MsdCurve<'_>]) -> String {
    let mut plot = LinePlot::new("lag time (ps)", "MSD (Å²)");
    let mut tmax: f64 = 0.0;
    let mut ymax: f64 = 0.0;
    for (i, c) in curves.iter().enumerate() {
        let n = c.msd.len();
        let stride = (n / 1000).max(1);
        let pts: Vec<(f64, f64)> = (0..n)
            .step_by(stride)
            .map(|k| (c.msd.time_fs(k) / 1000.0, c.msd.total(k)))
            .collect();
        tmax = tmax.max(c.msd.time_fs(n.saturating_sub(1)) / 1000.0);
        ymax = ymax.max(pts.iter().map(|p| p.1).fold(0.0, f64::max));
        plot.push(Series::line(c.label, pts).with_color(i));
        if let Some(d) = c.fit {
            let line = |t_fs: f64| d.intercept_a2 + d.slope_a2_per_fs * t_fs;
            let (a, b) = (d.fit_start_fs(), d.fit_end_fs());
            plot.push(Series::dashed("", vec![(a / 1000.0, line(a)), (b / 1000.0, line(b))]).with_color(i));
        }
    }
    plot.x_range = Some((0.0, tmax.max(1e-12)));
    plot.y_range = Some((0.0, ymax.max(1e-12) * 1.05));
    plot.to_svg()
}

/// The total MSD against lag time (ps) with the fitted line over the fit window (dashed) and D in a
/// note.
pub fn msd_svg(msd: &Msd, fit: Option<&Diffusivity>) -> String {
    let svg = msd_curves_svg(&[MsdCurve { label: "", msd, fit }]);
    match fit {
        None => svg,
        Some(d) => {
            let note = format!(
                r#"<text x="{}" y="{}" font-size="13" fill="{}">D = {:.3e} ± {:.1e} cm²/s</text></svg>"#,
                L + 10.0,
                T + 20.0,
                PALETTE[0],
                d.d_cm2_s,
                d.stderr_cm2_s
            );
            svg.replacen("</svg>", &note, 1)
        }
    }
}

/// log₁₀ D against 1000/T with error bars (±1 standard error, the lower end clipped at D/10) and
/// the fitted line (dashed), Eₐ and D₀ in a note. Series: the fit, then the points.
pub fn arrhenius_svg(points: &[ArrheniusPoint], fit: &ArrheniusFit) -> String {
    let lo = |p: &ArrheniusPoint| {
        (p.d_cm2_s - p.d_stderr_cm2_s.unwrap_or(0.0))
            .max(p.d_cm2_s * 0.1)
            .log10()
    };
    let hi = |p: &ArrheniusPoint| (p.d_cm2_s + p.d_stderr_cm2_s.unwrap_or(0.0)).log10();
    let xs: Vec<f64> = points.iter().map(|p| 1000.0 / p.t_k).collect();
    let (x0, x1) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
        (a.min(x), b.max(x))
    });
    let (y0, y1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(lo(p)), b.max(hi(p)))
        });
    let padx = ((x1 - x0) * 0.08).max(0.01);
    let pady = ((y1 - y0) * 0.08).max(0.05);
    let (x0, x1) = (x0 - padx, x1 + padx);
    let mut plot = LinePlot::new("1000/T (1/K)", "D (cm²/s)");
    plot.y_ticks = YTicks::Log10;
    plot.x_range = Some((x0, x1));
    plot.y_range = Some((y0 - pady, y1 + pady));
    let line = |x: f64| {
        fit.diffusivity_at(1000.0 / x)
            .map(|(d, _)| d.log10())
            .unwrap_or(f64::NAN)
    };
    plot.push(Series::dashed("", vec![(x0, line(x0)), (x1, line(x1))]).with_color(1));
    let bars = points
        .iter()
        .map(|p| match p.d_stderr_cm2_s {
            Some(_) => (lo(p), hi(p)),
            None => (f64::NAN, f64::NAN),
        })
        .collect();
    let pts = points
        .iter()
        .zip(&xs)
        .map(|(p, &x)| (x, p.d_cm2_s.log10()))
        .collect();
    plot.push(Series::points("", pts).with_color(0).with_error_bars(bars));
    plot.notes.push(format!(
        "Ea = {:.3}{} eV, D0 = {:.2e} cm²/s",
        fit.ea_ev,
        fit.ea_stderr_ev.map_or(String::new(), |e| format!(" ± {e:.3}")),
        fit.d0_cm2_s
    ));
    plot.to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arrhenius::fit_arrhenius;
    use crate::displacement::{Displacements, Drift, Selection};
    use crate::fit::FitOptions;
    use crate::msd::MsdMethod;
    use amorph_structure::{Element, Lattice, Trajectory};
    use nalgebra::Vector3;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(0.37, 1.02);
        assert!(t.iter().all(|x| (0.37..=1.02).contains(x)) && t.len() >= 3);
    }

    fn series_count(svg: &str) -> usize {
        svg.matches(r#"class="series""#).count()
    }

    #[test]
    fn a_line_plot_maps_data_into_the_frame_and_breaks_at_non_finite_points() {
        let mut plot = LinePlot::new("x <unit>", "y");
        plot.push(Series::line(
            "a & b",
            vec![(0.0, 0.0), (1.0, 1.0), (2.0, f64::NAN), (3.0, 2.0), (4.0, 4.0)],
        ));
        plot.push(
            Series::points("pts", vec![(2.0, 2.0)])
                .with_error_bars(vec![(1.0, 3.0)])
                .with_color(2),
        );
        let svg = plot.to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(series_count(&svg), 2);
        // Two runs of finite points → two polylines; labels escaped.
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("x &lt;unit&gt;") && svg.contains("a &amp; b"));
        assert!(!svg.contains("NaN"));
        // The first point sits at the bottom-left corner of the plot area (x range 0..4, y from 0).
        assert!(svg.contains(&format!("{L:.2},{:.2} ", H - B)), "{svg}");
        // The point's error bar and circle in the third colour.
        assert!(svg.contains(&format!(r#"<circle cx="{:.2}""#, L + 0.5 * (W - L - R))));
        assert!(svg.contains(PALETTE[2]));
        // The legend names both series.
        assert!(svg.contains(">pts</text>"));
    }

    #[test]
    fn an_empty_plot_is_still_a_valid_document() {
        let svg = LinePlot::new("x", "y").to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(series_count(&svg), 0);
    }

    fn walk_msd(step: f64) -> Msd {
        let li = Element::from_symbol("Li").unwrap();
        let o = Element::from_symbol("O").unwrap();
        let species: Vec<Element> = [li; 4].into_iter().chain([o; 4]).collect();
        let mut traj = Trajectory::new(species, Lattice::cubic(20.0).unwrap());
        let mut x: Vec<Vector3<f64>> = (0..8).map(|i| Vector3::new(i as f64, 1.0, 2.0)).collect();
        let mut state = 7u64;
        for _ in 0..200 {
            traj.push_positions(&x, None).unwrap();
            for p in x.iter_mut().take(4) {
                for d in 0..3 {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    p[d] += if state >> 63 == 1 { step } else { -step };
                }
            }
        }
        let disp =
            Displacements::from_trajectory(&traj, &Selection::Species(li), Drift::default(), 10.0).unwrap();
        Msd::compute(&disp, MsdMethod::Fft)
    }

    #[test]
    fn msd_curves_have_one_series_per_curve_and_per_fit() {
        let (a, b) = (walk_msd(0.3), walk_msd(0.6));
        let fa = a.diffusivity(&FitOptions::default()).unwrap();
        let svg = msd_curves_svg(&[
            MsdCurve {
                label: "1000 K",
                msd: &a,
                fit: Some(&fa),
            },
            MsdCurve {
                label: "2000 K",
                msd: &b,
                fit: None,
            },
        ]);
        assert_eq!(series_count(&svg), 3);
        assert_eq!(svg.matches("stroke-dasharray").count(), 1);
        assert!(svg.contains(">1000 K</text>") && svg.contains(">2000 K</text>"));
        let single = msd_svg(&a, Some(&fa));
        assert!(
            single.contains("D = ") && single.contains("polyline") && single.trim_end().ends_with("</svg>")
        );
    }

    #[test]
    fn arrhenius_plot_has_a_point_and_a_bar_per_temperature() {
        let points: Vec<ArrheniusPoint> = [(1000.0, 1e-6), (1500.0, 1e-5), (2000.0, 4e-5)]
            .into_iter()
            .map(|(t, d)| ArrheniusPoint {
                t_k: t,
                d_cm2_s: d,
                d_stderr_cm2_s: Some(0.2 * d),
            })
            .collect();
        let fit = fit_arrhenius(&points).unwrap();
        let svg = arrhenius_svg(&points, &fit);
        assert_eq!(series_count(&svg), 2);
        assert_eq!(svg.matches("<circle").count(), 3);
        // Three error bars plus the ticks are <line>s; the bars are coloured.
        assert_eq!(svg.matches(&format!(r#"stroke="{}"/>"#, PALETTE[0])).count(), 3);
        assert!(svg.contains("Ea = ") && svg.contains(">1e-5<") && svg.contains(">3.2e-6<"));
    }
}
