//! A table of features and a target, read from and written to CSV.

use std::path::Path;

use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result, write_atomic};

/// What to do with rows that have a missing (empty, `NaN`, `NA`) or infinite value in a used
/// column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingPolicy {
    /// Refuse the file, naming the line and column (default).
    #[default]
    Error,
    /// Drop such rows.
    DropRows,
}

/// Feature matrix, target and names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Features, rows × columns.
    pub x: Array2<f64>,
    /// Target.
    pub y: Array1<f64>,
    /// Feature names, one per column of `x`.
    pub feature_names: Vec<String>,
    /// Target name.
    pub target_name: String,
}

struct Table {
    header: Vec<String>,
    /// (line number, fields)
    rows: Vec<(usize, Vec<String>)>,
}

fn read_table(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).map_err(|source| MlError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((_, head)) = lines.next() else {
        return Err(MlError::Parse {
            path: path.to_path_buf(),
            line: 1,
            message: "empty file: a header line is needed".into(),
        });
    };
    let header: Vec<String> = head.split(',').map(|s| s.trim().to_string()).collect();
    let mut seen = std::collections::HashSet::new();
    for h in &header {
        if h.is_empty() || !seen.insert(h) {
            return Err(MlError::Parse {
                path: path.to_path_buf(),
                line: 1,
                message: format!("empty or repeated column name {h:?} in the header"),
            });
        }
    }
    let mut rows = Vec::new();
    for (line, l) in lines {
        let fields: Vec<String> = l.split(',').map(|s| s.trim().to_string()).collect();
        if fields.len() != header.len() {
            return Err(MlError::Parse {
                path: path.to_path_buf(),
                line,
                message: format!("{} fields, the header has {}", fields.len(), header.len()),
            });
        }
        rows.push((line, fields));
    }
    Ok(Table { header, rows })
}

fn column(path: &Path, header: &[String], name: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| MlError::UnknownColumn {
            path: path.to_path_buf(),
            name: name.to_string(),
            available: header.join(","),
        })
}

/// Parses one field; `None` for missing/non-finite values.
fn value(path: &Path, line: usize, col: &str, s: &str) -> Result<Option<f64>> {
    if s.is_empty() || s.eq_ignore_ascii_case("na") || s.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Ok(None),
        Err(_) => Err(MlError::Parse {
            path: path.to_path_buf(),
            line,
            message: format!("column {col}: {s:?} is not a number"),
        }),
    }
}

/// Reads the columns `cols` (indices into the header) of every row, applying the policy.
fn numeric(path: &Path, t: &Table, cols: &[usize], policy: MissingPolicy) -> Result<(Vec<Vec<f64>>, usize)> {
    let mut out = Vec::with_capacity(t.rows.len());
    let mut dropped = 0;
    'rows: for (line, fields) in &t.rows {
        let mut row = Vec::with_capacity(cols.len());
        for &c in cols {
            match value(path, *line, &t.header[c], &fields[c])? {
                Some(v) => row.push(v),
                None => match policy {
                    MissingPolicy::Error => {
                        return Err(MlError::CsvNonFinite {
                            path: path.to_path_buf(),
                            line: *line,
                            column: t.header[c].clone(),
                            value: fields[c].clone(),
                        });
                    }
                    MissingPolicy::DropRows => {
                        dropped += 1;
                        continue 'rows;
                    }
                },
            }
        }
        out.push(row);
    }
    if out.is_empty() {
        return Err(MlError::Empty(format!("{}: no data rows", path.display())));
    }
    Ok((out, dropped))
}

fn to_array(rows: &[Vec<f64>], width: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), width), |(i, j)| rows[i][j])
}

impl Dataset {
    /// A dataset from arrays; checks shapes, names and finiteness.
    pub fn new(
        x: Array2<f64>,
        y: Array1<f64>,
        feature_names: Vec<String>,
        target_name: impl Into<String>,
    ) -> Result<Self> {
        if x.ncols() != feature_names.len() {
            return Err(MlError::Shape(format!(
                "{} feature names for {} columns",
                feature_names.len(),
                x.ncols()
            )));
        }
        crate::check_xy(x.view(), y.view())?;
        crate::to_matrix(x.view())?;
        Ok(Dataset {
            x,
            y,
            feature_names,
            target_name: target_name.into(),
        })
    }

    /// Reads a CSV file with a header. The target is column `target`; every other column is a
    /// feature except those in `drop`. Unknown names are errors; so are missing or non-finite
    /// values, unless `policy` drops those rows. Returns the dataset and the number of rows
    /// dropped.
    pub fn from_csv(
        path: &Path,
        target: &str,
        drop: &[String],
        policy: MissingPolicy,
    ) -> Result<(Self, usize)> {
        let t = read_table(path)?;
        let ti = column(path, &t.header, target)?;
        let mut skip = vec![ti];
        for d in drop {
            skip.push(column(path, &t.header, d)?);
        }
        let feats: Vec<usize> = (0..t.header.len()).filter(|c| !skip.contains(c)).collect();
        if feats.is_empty() {
            return Err(MlError::Empty(format!("{}: no feature columns", path.display())));
        }
        let mut cols = feats.clone();
        cols.push(ti);
        let (rows, dropped) = numeric(path, &t, &cols, policy)?;
        let k = feats.len();
        let x = to_array(&rows, k);
        let y: Array1<f64> = rows.iter().map(|r| r[k]).collect();
        Ok((
            Dataset {
                x,
                y,
                feature_names: feats.iter().map(|&c| t.header[c].clone()).collect(),
                target_name: target.to_string(),
            },
            dropped,
        ))
    }

    /// Reads the named feature columns (in this order) of a CSV file, for prediction; other
    /// columns are ignored.
    pub fn features_from_csv(
        path: &Path,
        names: &[String],
        policy: MissingPolicy,
    ) -> Result<(Array2<f64>, usize)> {
        let t = read_table(path)?;
        let cols = names
            .iter()
            .map(|n| column(path, &t.header, n))
            .collect::<Result<Vec<_>>>()?;
        let (rows, dropped) = numeric(path, &t, &cols, policy)?;
        Ok((to_array(&rows, cols.len()), dropped))
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select(Axis(0), idx),
            y: self.y.select(Axis(0), idx),
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
        }
    }

    /// CSV text: features, then the target; floats in shortest round-trip form.
    pub fn to_csv_string(&self) -> String {
        let mut s = self.feature_names.join(",");
        s.push(',');
        s.push_str(&self.target_name);
        s.push('\n');
        for (r, y) in self.x.rows().into_iter().zip(&self.y) {
            for v in r {
                s.push_str(&format!("{v:?},"));
            }
            s.push_str(&format!("{y:?}\n"));
        }
        s
    }

    /// Writes the CSV atomically.
    pub fn to_csv(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_csv_string().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("amorph-ml-ds-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn csv_round_trip_with_drop() {
        let d = tmpdir("rt");
        let p = write(&d, "a.csv", "id,a,b,y\n1,0.5,2,3.25\n2,1e-3,-4,0.1\n");
        let (ds, dropped) = Dataset::from_csv(&p, "y", &["id".into()], MissingPolicy::Error).unwrap();
        assert_eq!(dropped, 0);
        assert_eq!(ds.feature_names, vec!["a", "b"]);
        assert_eq!(ds.x[[1, 0]], 1e-3);
        assert_eq!(ds.y[0], 3.25);
        let out = d.join("b.csv");
        ds.to_csv(&out).unwrap();
        let (back, _) = Dataset::from_csv(&out, "y", &[], MissingPolicy::Error).unwrap();
        assert_eq!(back, ds);
    }

    #[test]
    fn bad_values_and_columns_are_typed_errors() {
        let d = tmpdir("bad");
        let p = write(&d, "n.csv", "a,y\n1,2\nnan,3\n4,inf\n5,6\n");
        match Dataset::from_csv(&p, "y", &[], MissingPolicy::Error) {
            Err(MlError::CsvNonFinite { line, column, .. }) => {
                assert_eq!((line, column.as_str()), (3, "a"))
            }
            other => panic!("{other:?}"),
        }
        let (ds, dropped) = Dataset::from_csv(&p, "y", &[], MissingPolicy::DropRows).unwrap();
        assert_eq!((ds.n_rows(), dropped), (2, 2));
        assert!(matches!(
            Dataset::from_csv(&p, "z", &[], MissingPolicy::Error),
            Err(MlError::UnknownColumn { .. })
        ));
        assert!(matches!(
            Dataset::from_csv(&p, "y", &["q".into()], MissingPolicy::Error),
            Err(MlError::UnknownColumn { .. })
        ));
        let p = write(&d, "t.csv", "a,y\n1,2\nx,3\n");
        assert!(matches!(
            Dataset::from_csv(&p, "y", &[], MissingPolicy::Error),
            Err(MlError::Parse { line: 3, .. })
        ));
        let p = write(&d, "w.csv", "a,y\n1,2,3\n");
        assert!(matches!(
            Dataset::from_csv(&p, "y", &[], MissingPolicy::Error),
            Err(MlError::Parse { line: 2, .. })
        ));
    }
}
