//! The one-page report of a pipeline run: the RDF plot of a structure, and `report.html`, a
//! self-contained page (inline SVG, no scripts, no external files) with the record's numbers, its
//! descriptors, its timings and the plots.
//!
//! The plots themselves are amorph-diffusion's [`LinePlot`]s.
//!
//! ```
//! use amorph::report::rdf_svg;
//! use amorph::structure::{Element, Lattice, Rdf, Structure};
//! use nalgebra::Vector3;
//!
//! let (si, o) = (Element::from_symbol("Si")?, Element::from_symbol("O")?);
//! let s = Structure::new(
//!     Lattice::cubic(5.0)?,
//!     vec![si, o, o],
//!     vec![Vector3::new(0.0, 0.0, 0.0), Vector3::new(1.6, 0.0, 0.0), Vector3::new(0.0, 2.5, 1.0)],
//! )?;
//! let svg = rdf_svg(&Rdf::new(&s, 4.0, 80)?);
//! // The total g(r) and the pairs with O, the most abundant element: Si–O and O–O.
//! assert_eq!(svg.matches(r#"class="series""#).count(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use amorph_diffusion::plot::{LinePlot, Series, escape};
use amorph_structure::{Element, Rdf};

use crate::pipeline::Record;

/// One plot of the report: its file name (under `plots/`), a caption and the SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File name, e.g. `msd.svg`.
    pub file: String,
    /// One-sentence caption.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// The pairs worth plotting: every element with the most abundant one (the anion of an oxide:
/// Li–O, Si–O, O–O), in the RDF's element order. Ties go to the element that comes last in that
/// order (the most electronegative).
pub fn main_pairs(rdf: &Rdf) -> Vec<(Element, Element)> {
    let mut elements: Vec<Element> = Vec::new();
    for p in &rdf.partials {
        for e in [p.a, p.b] {
            if !elements.contains(&e) {
                elements.push(e);
            }
        }
    }
    // Around an atom of the first element, the number of e atoms within rmax grows with N_e.
    let abundance = |e: Element| {
        rdf.partials
            .iter()
            .find(|p| p.a == elements[0] && p.b == e)
            .and_then(|p| p.coordination.last().copied())
            .unwrap_or(0.0)
    };
    let Some(&major) = elements
        .iter()
        .max_by(|a, b| abundance(**a).total_cmp(&abundance(**b)))
    else {
        return Vec::new();
    };
    elements.iter().map(|&e| (e, major)).collect()
}

/// g(r) of the [`main_pairs`] and the total g(r), against r (Å).
pub fn rdf_svg(rdf: &Rdf) -> String {
    let mut plot = LinePlot::new("r (Å)", "g(r)");
    for (i, (a, b)) in main_pairs(rdf).into_iter().enumerate() {
        if let Some(p) = rdf.partial(a, b) {
            let pts = rdf.r.iter().copied().zip(p.g.iter().copied()).collect();
            plot.push(Series::line(format!("{}–{}", a.symbol(), b.symbol()), pts).with_color(i));
        }
    }
    let total = rdf.r.iter().copied().zip(rdf.total.iter().copied()).collect();
    plot.push(Series::line("total", total).with_color(7));
    let rmax = rdf.edges.last().copied().unwrap_or(1.0);
    plot.x_range = Some((0.0, rmax));
    plot.to_svg()
}

/// A number in four significant figures (scientific notation outside 1e-3..1e4), `—` for none.
fn num(x: Option<f64>) -> String {
    match x {
        None => "—".into(),
        Some(v) if !v.is_finite() => "—".into(),
        Some(0.0) => "0".into(),
        Some(v) if (1e-3..1e4).contains(&v.abs()) => {
            let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
            format!("{v:.digits$}")
        }
        Some(v) => format!("{v:.3e}"),
    }
}

fn pm(value: f64, err: Option<f64>) -> String {
    match err {
        Some(e) if e.is_finite() => format!("{} ± {}", num(Some(value)), num(Some(e))),
        _ => num(Some(value)),
    }
}

/// `report.html`: one self-contained page with the record's summary, the D(T) table, the
/// Arrhenius parameters, the plots (inline SVG, each captioned with its file under `plots/`), the
/// descriptors of each temperature and the timings.
pub fn html(record: &Record, plots: &[Plot]) -> String {
    let title = format!("{} — amorph run", escape(&record.composition));
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>\nbody {{ font-family: sans-serif; max-width: 1340px; margin: 1em auto; padding: 0 1em; }}\n\
         table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}\n\
         th, td {{ border: 1px solid #bbb; padding: 2px 8px; text-align: right; }}\n\
         th:first-child, td:first-child {{ text-align: left; }}\n\
         figure {{ display: inline-block; margin: 0.5em; vertical-align: top; }}\n\
         figcaption {{ font-size: 90%; max-width: 640px; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    // Summary.
    let ff = |k: &str| escape(record.force_field.get(k).map_or("", |s| s.as_str()));
    let rows: Vec<(&str, String)> = vec![
        ("composition", escape(&record.composition)),
        ("atoms", record.natoms.to_string()),
        ("seed", record.seed.to_string()),
        ("force field", format!("{} ({})", ff("name"), ff("reference"))),
        ("melt temperature (K)", num(Some(record.melt.T_K))),
        ("melt volume (Å³)", num(Some(record.melt.volume_A3))),
        ("melt density (g/cm³)", num(Some(record.melt.density_g_cm3))),
        ("mobile species", escape(&record.settings.mobile)),
    ];
    h.push_str("<h2>Summary</h2>\n<table>\n");
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    h.push_str("</table>\n");
    // D(T).
    h.push_str(
        "<h2>Diffusivity</h2>\n<table>\n<tr><th>T (K)</th><th>V (Å³)</th><th>ρ (g/cm³)</th>\
         <th>P (GPa)</th><th>D (cm²/s)</th></tr>\n",
    );
    for t in &record.temperatures {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            num(Some(t.T_K)),
            num(Some(t.volume_A3)),
            num(Some(t.density_g_cm3)),
            num(Some(t.pressure_GPa)),
            pm(t.D_cm2_s, Some(t.D_stderr_cm2_s))
        );
    }
    h.push_str("</table>\n");
    match &record.arrhenius {
        Some(a) => {
            let _ = writeln!(
                h,
                "<table>\n<tr><th>Eₐ (eV)</th><td>{}</td></tr>\n<tr><th>D₀ (cm²/s)</th><td>{}</td></tr>\n\
                 <tr><th>D(300 K) (cm²/s)</th><td>{}</td></tr>\n</table>",
                pm(a.Ea_eV, a.Ea_stderr_eV),
                num(Some(a.D0_cm2_s)),
                pm(a.D_300K_cm2_s, a.D_300K_stderr_cm2_s)
            );
        }
        None => h.push_str("<p>No Arrhenius fit: fewer than two positive diffusivities.</p>\n"),
    }
    // Plots.
    h.push_str("<h2>Plots</h2>\n");
    for p in plots {
        let _ = writeln!(
            h,
            "<figure id=\"{}\">\n{}<figcaption>{} (<a href=\"plots/{}\">plots/{}</a>)</figcaption>\n</figure>",
            escape(&p.file),
            p.svg.trim_end(),
            escape(&p.caption),
            escape(&p.file),
            escape(&p.file)
        );
    }
    // Descriptors.
    h.push_str("<h2>Descriptors</h2>\n<table>\n<tr><th>feature</th>");
    for t in &record.temperatures {
        let _ = write!(h, "<th>{} K</th>", num(Some(t.T_K)));
    }
    h.push_str("</tr>\n");
    let names: Vec<&String> = record
        .temperatures
        .first()
        .map(|t| t.features.keys().collect())
        .unwrap_or_default();
    for name in names {
        let _ = write!(h, "<tr><td>{}</td>", escape(name));
        for t in &record.temperatures {
            let _ = write!(h, "<td>{}</td>", num(t.features.get(name).copied().flatten()));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    // Timings and versions.
    h.push_str("<h2>Timings</h2>\n<table>\n<tr><th>stage</th><th>wall time (s)</th></tr>\n");
    for (k, v) in &record.timings_s {
        let _ = writeln!(h, "<tr><td>{}</td><td>{:.1}</td></tr>", escape(k), v);
    }
    h.push_str("</table>\n<p>");
    for (k, v) in &record.versions {
        let _ = write!(h, "{} {} ", escape(k), escape(v));
    }
    h.push_str("· full record in <a href=\"record.json\">record.json</a></p>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_four_significant_figures() {
        assert_eq!(num(Some(1234.4)), "1234");
        assert_eq!(num(Some(2.3456)), "2.346");
        assert_eq!(num(Some(0.012345)), "0.01235");
        assert_eq!(num(Some(1.5e-6)), "1.500e-6");
        assert_eq!(num(Some(0.0)), "0");
        assert_eq!(num(None), "—");
        assert_eq!(num(Some(f64::NAN)), "—");
        assert_eq!(pm(2.0, Some(0.25)), "2.000 ± 0.2500");
    }
}
