#![allow(dead_code)]
use std::path::PathBuf;

use amorph_ml::{Dataset, MissingPolicy};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ml")
}

pub fn load(name: &str) -> Dataset {
    Dataset::from_csv(&data_dir().join(name), "y", &[], MissingPolicy::Error)
        .expect("reference CSV")
        .0
}

pub fn json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(data_dir().join(name)).expect("reference JSON");
    serde_json::from_str(&text).expect("valid JSON")
}

pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}
