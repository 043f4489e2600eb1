//! pymatgen `Structure.as_dict()` JSON, read and written so that `Structure.from_dict` (and
//! `Structure.from_file`) reads it back.

use std::collections::BTreeMap;

use nalgebra::{Matrix3, Vector3};
use serde_json::{Map, Value, json};

use super::text::{Src, element_strict, lattice_at};
use crate::error::Result;
use crate::structure::{SiteProperty, Structure, props};

/// Site properties that are real numbers even when every value is written as an integer
/// (pymatgen writes `"magmom": 0`).
const REAL_NAMES: &[&str] = &[props::CHARGE, props::MAGMOM];

fn as_f64(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn vec3(v: &Value) -> Option<[f64; 3]> {
    match v.as_array()?.as_slice() {
        [x, y, z] => Some([as_f64(x)?, as_f64(y)?, as_f64(z)?]),
        _ => None,
    }
}

fn flags3(v: &Value) -> Option<[bool; 3]> {
    match v.as_array()?.as_slice() {
        [x, y, z] => Some([x.as_bool()?, y.as_bool()?, z.as_bool()?]),
        _ => None,
    }
}

/// Turns one per-site property (None where a site lacks it, as pymatgen pads) into a column.
/// Reals and vectors hold NaN where a value is missing; a column that fits no [`SiteProperty`]
/// (mixed kinds, nested data, flags with gaps) is left out.
fn column(name: &str, vals: &[Option<&Value>]) -> Option<SiteProperty> {
    let present: Vec<&Value> = vals.iter().flatten().copied().filter(|v| !v.is_null()).collect();
    let complete = present.len() == vals.len();
    let first = present.first()?;
    if present.iter().all(|v| v.is_number()) {
        if complete && !REAL_NAMES.contains(&name) && present.iter().all(|v| v.is_i64()) {
            return Some(SiteProperty::Int(
                present.iter().filter_map(|v| v.as_i64()).collect(),
            ));
        }
        return Some(SiteProperty::Real(
            vals.iter()
                .map(|v| v.and_then(as_f64).unwrap_or(f64::NAN))
                .collect(),
        ));
    }
    if first.is_boolean() && complete && present.iter().all(|v| v.is_boolean()) {
        return Some(SiteProperty::Bool(
            present.iter().filter_map(|v| v.as_bool()).collect(),
        ));
    }
    if present.iter().all(|v| v.is_string()) {
        return Some(SiteProperty::Text(
            vals.iter()
                .map(|v| v.and_then(Value::as_str).unwrap_or("").to_string())
                .collect(),
        ));
    }
    if present.iter().all(|v| vec3(v).is_some()) {
        return Some(SiteProperty::Vector(
            vals.iter()
                .map(|v| v.and_then(vec3).unwrap_or([f64::NAN; 3]))
                .collect(),
        ));
    }
    if complete && present.iter().all(|v| flags3(v).is_some()) {
        return Some(SiteProperty::Flags(
            present.iter().filter_map(|v| flags3(v)).collect(),
        ));
    }
    None
}

pub(crate) fn parse_json(text: &str, src: Src) -> Result<Structure> {
    let d: Value = serde_json::from_str(text).map_err(|e| src.err(e.line(), format!("invalid JSON: {e}")))?;
    let d = d
        .as_object()
        .ok_or_else(|| src.err(1, "expected a JSON object (pymatgen Structure.as_dict())"))?;
    if let Some(class) = d.get("@class").and_then(Value::as_str)
        && class != "Structure"
    {
        return Err(src.err(
            0,
            format!("'@class' is '{class}': only pymatgen Structure dictionaries are read"),
        ));
    }
    let m = d
        .get("lattice")
        .ok_or_else(|| src.err(0, "no 'lattice' key: not a pymatgen Structure dictionary"))?
        .get("matrix")
        .and_then(Value::as_array)
        .filter(|rows| rows.len() == 3)
        .and_then(|rows| rows.iter().map(vec3).collect::<Option<Vec<_>>>())
        .ok_or_else(|| src.err(0, "'lattice.matrix' must be three rows of three finite numbers"))?;
    let lattice = lattice_at(src, 0, Matrix3::from_fn(|i, j| m[i][j]))?;

    let sites = d
        .get("sites")
        .and_then(Value::as_array)
        .ok_or_else(|| src.err(0, "no 'sites' list"))?;
    if sites.is_empty() {
        return Err(src.err(0, "'sites' is empty: a structure with no atoms"));
    }
    let mut species = Vec::with_capacity(sites.len());
    let mut positions = Vec::with_capacity(sites.len());
    let mut names: Vec<&str> = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        let sp = site
            .get("species")
            .and_then(Value::as_array)
            .ok_or_else(|| src.err(0, format!("sites[{i}]: no 'species' list")))?;
        let [one] = sp.as_slice() else {
            return Err(src.err(
                0,
                format!(
                    "sites[{i}] has {} species: disordered (partially occupied) sites are not supported",
                    sp.len()
                ),
            ));
        };
        let occu = one.get("occu").map_or(Some(1.0), as_f64);
        if !occu.is_some_and(|o| (o - 1.0).abs() < 1e-6) {
            return Err(src.err(
                0,
                format!(
                    "sites[{i}] has occupancy {}: partial occupancies are not supported",
                    one.get("occu").map_or("?".into(), Value::to_string)
                ),
            ));
        }
        let sym = one
            .get("element")
            .and_then(Value::as_str)
            .ok_or_else(|| src.err(0, format!("sites[{i}]: species without 'element'")))?;
        species.push(
            element_strict(sym).ok_or_else(|| src.err(0, format!("sites[{i}]: unknown element '{sym}'")))?,
        );
        // pymatgen's from_dict takes the fractional 'abc'; 'xyz' is the fallback.
        let p = if let Some(abc) = site.get("abc") {
            let f = vec3(abc)
                .ok_or_else(|| src.err(0, format!("sites[{i}]: 'abc' must be three finite numbers")))?;
            lattice.to_cartesian(&Vector3::from(f))
        } else if let Some(xyz) = site.get("xyz") {
            Vector3::from(
                vec3(xyz)
                    .ok_or_else(|| src.err(0, format!("sites[{i}]: 'xyz' must be three finite numbers")))?,
            )
        } else {
            return Err(src.err(0, format!("sites[{i}]: neither 'abc' nor 'xyz'")));
        };
        positions.push(p);
        if let Some(p) = site.get("properties").and_then(Value::as_object) {
            for k in p.keys() {
                if !names.contains(&k.as_str()) {
                    names.push(k);
                }
            }
        }
    }

    let mut s = Structure::new(lattice, species, positions).map_err(|e| src.wrap(0, e))?;
    for name in names {
        let vals: Vec<Option<&Value>> = sites
            .iter()
            .map(|site| site.get("properties").and_then(|p| p.get(name)))
            .collect();
        if let Some(col) = column(name, &vals) {
            s.set_site_property(name, col).map_err(|e| src.wrap(0, e))?;
        }
    }
    let mut properties: BTreeMap<String, Value> = d
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if let Some(c) = d.get("charge").filter(|c| c.as_f64().is_some_and(|c| c != 0.0)) {
        properties.insert("charge".into(), c.clone());
    }
    *s.properties_mut() = properties;
    Ok(s)
}

fn site_value(p: &SiteProperty, i: usize) -> Value {
    match p {
        // serde_json turns NaN (a missing value) into null, as pymatgen writes None.
        SiteProperty::Real(v) => json!(v[i]),
        SiteProperty::Int(v) => json!(v[i]),
        SiteProperty::Bool(v) => json!(v[i]),
        SiteProperty::Text(v) => json!(v[i]),
        SiteProperty::Vector(v) => json!(v[i]),
        SiteProperty::Flags(v) => json!(v[i]),
    }
}

pub(crate) fn write_json(s: &Structure) -> Result<String> {
    let l = s.lattice();
    let m = l.matrix();
    let [a, b, c] = l.abc();
    let [alpha, beta, gamma] = l.angles();
    let matrix: Vec<[f64; 3]> = (0..3).map(|i| [m[(i, 0)], m[(i, 1)], m[(i, 2)]]).collect();
    let sites: Vec<Value> = s
        .frac_coords()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let e = s.species()[i].symbol();
            let p = s.positions()[i];
            let props: Map<String, Value> = s
                .site_properties()
                .iter()
                .map(|(k, col)| (k.clone(), site_value(col, i)))
                .collect();
            json!({
                "species": [{"element": e, "occu": 1}],
                "abc": [f.x, f.y, f.z],
                "properties": props,
                "label": e,
                "xyz": [p.x, p.y, p.z],
            })
        })
        .collect();
    let mut properties = s.properties().clone();
    let charge = properties
        .remove("charge")
        .filter(Value::is_number)
        .unwrap_or(json!(0));
    let d = json!({
        "@module": "pymatgen.core.structure",
        "@class": "Structure",
        "charge": charge,
        "lattice": {
            "matrix": matrix,
            "pbc": [true, true, true],
            "a": a, "b": b, "c": c,
            "alpha": alpha, "beta": beta, "gamma": gamma,
            "volume": l.volume(),
        },
        "properties": properties,
        "sites": sites,
    });
    let mut out = d.to_string();
    out.push('\n');
    Ok(out)
}
