//! Malformed input: every file of the hand-made corpus in `tests/data/malformed/` is an `Err` that
//! names the file (and the line where there is one), and no input, however mangled, panics.

use std::path::{Path, PathBuf};

use amorph_structure::io::{self, Format};
use amorph_structure::{Element, Error, Lattice, Structure, Trajectory};
use nalgebra::{Matrix3, Vector3};
use proptest::prelude::*;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/malformed"))
}

/// File, expected 1-based line of the fault (`None`: not on one line or not a parse error), and a
/// fragment of the message.
const CASES: &[(&str, Option<usize>, &str)] = &[
    ("POSCAR_truncated_lattice", Some(5), "expected lattice vector c"),
    ("POSCAR_nonnumeric_coordinate", Some(10), "'abc' is not a number"),
    (
        "POSCAR_missing_atoms",
        Some(12),
        "expected coordinates of atom 4 of 4",
    ),
    (
        "POSCAR_count_mismatch",
        Some(7),
        "more atom counts than the 2 species",
    ),
    ("POSCAR_unknown_element", Some(6), "unknown element symbol 'Xx'"),
    ("POSCAR_nan_coordinate", Some(10), "non-finite number 'NaN'"),
    ("POSCAR_zero_volume", Some(3), "coplanar"),
    (
        "POSCAR_selective_missing_flags",
        Some(11),
        "selective-dynamics flags",
    ),
    ("POSCAR_binary_garbage", Some(1), "not UTF-8"),
    ("CONTCAR_zero_scale", Some(2), "scale factor is zero"),
    ("empty.vasp", Some(0), "empty"),
    (
        "XDATCAR_truncated_frame",
        Some(15),
        "atom 3 of 3 in configuration 2",
    ),
    ("bad_properties.extxyz", Some(2), "Properties"),
    ("missing_atoms.xyz", Some(6), "expected atom 4 of 5"),
    ("no_lattice.xyz", Some(2), "no Lattice"),
    ("atom_count_not_a_number.extxyz", Some(1), "number of atoms"),
    ("short_atom_line.extxyz", Some(4), "expected 7 columns"),
    ("missing_lattice.json", Some(0), "no 'lattice'"),
    ("partial_occupancy.json", Some(0), "not supported"),
    ("truncated.json", Some(4), "invalid JSON"),
    ("no_atoms.cif", Some(0), "no atom sites"),
    ("bad_symop.cif", Some(11), "symmetry operation '-x,y'"),
    (
        "partial_occupancy.cif",
        Some(16),
        "partial occupancies are not supported",
    ),
    (
        "space_group_without_operations.cif",
        Some(8),
        "no symmetry operations",
    ),
    ("ragged_loop.cif", Some(11), "not a whole number of rows"),
    (
        "wrong_atom_count.data",
        Some(19),
        "says 4 atoms but the Atoms section has 3",
    ),
    ("unknown_type.data", Some(18), "atom type 3"),
    ("no_masses.data", Some(0), "no Masses section"),
    ("no_box.lmp", Some(0), "xlo xhi"),
    ("notes_unknown_format", None, "cannot tell the file format"),
];

/// Files whose fault lies after the first frame: `read_structure` reads them, as it should.
const LATER_FRAMES_ONLY: &[&str] = &["XDATCAR_truncated_frame"];

#[test]
fn corpus_is_large_and_fully_described() {
    let mut files: Vec<String> = std::fs::read_dir(corpus())
        .expect("tests/data/malformed exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} malformed files", files.len());
    for f in &files {
        assert!(CASES.iter().any(|c| c.0 == f), "{f} has no entry in CASES");
    }
    assert_eq!(files.len(), CASES.len(), "CASES lists a file that does not exist");
}

#[test]
fn every_malformed_file_is_an_error_naming_file_and_line() {
    for &(file, line, fragment) in CASES {
        let path = corpus().join(file);
        let first = io::read_structure(&path).map(|_| ());
        if LATER_FRAMES_ONLY.contains(&file) {
            assert!(first.is_ok(), "{file}: the first frame is fine");
        }
        let mut results = vec![io::read_trajectory(&path).map(|_| ())];
        if !LATER_FRAMES_ONLY.contains(&file) {
            results.push(first);
        }
        for result in results {
            let err = result.expect_err(file);
            let msg = err.to_string();
            assert!(
                msg.contains(file),
                "{file}: message does not name the file: {msg}"
            );
            assert!(msg.contains(fragment), "{file}: expected '{fragment}' in: {msg}");
            match (line, &err) {
                (
                    Some(want),
                    Error::Parse {
                        line: got, path: p, ..
                    },
                ) => {
                    assert_eq!(*got, want, "{file}: {msg}");
                    assert_eq!(p, &path);
                    if want > 0 {
                        assert!(msg.contains(&format!("{file}:{want}: ")), "{file}: {msg}");
                    }
                }
                (None, Error::UnknownFormat { .. }) => {}
                _ => panic!("{file}: unexpected error kind: {err:?}"),
            }
        }
    }
}

#[test]
fn string_level_errors_name_the_given_path() {
    let text = std::fs::read_to_string(corpus().join("POSCAR_nonnumeric_coordinate")).unwrap();
    let err = io::parse_structure(&text, Format::Poscar, "somewhere/CONTCAR").unwrap_err();
    assert_eq!(
        err.to_string(),
        "somewhere/CONTCAR:10: atom 2: 'abc' is not a number"
    );
}

#[test]
fn wrong_explicit_format_is_an_error_not_a_panic() {
    let path = corpus().join("missing_atoms.xyz");
    for fmt in Format::ALL {
        assert!(io::read_structure_as(&path, fmt).is_err(), "{fmt}");
    }
}

/// Valid texts of every format: the parsers' happy paths, to be mangled below.
fn valid_texts() -> Vec<(Format, String)> {
    let lattice = Lattice::new(Matrix3::new(5.1, 0.3, 0.0, -0.4, 4.9, 0.2, 0.1, 0.0, 6.0)).unwrap();
    let sp = ["Li", "O", "Li", "Si"]
        .map(|s| Element::from_symbol(s).unwrap())
        .to_vec();
    let frac = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.25, 0.75, 0.1],
        [0.9, 0.1, 0.6],
    ]
    .map(Vector3::from);
    let mut s = Structure::from_fractional(lattice, sp, &frac).unwrap();
    s.set_site_property(
        "velocities",
        amorph_structure::SiteProperty::Vector(vec![[0.1, 0.2, 0.3]; 4]),
    )
    .unwrap();
    s.set_site_property(
        "selective_dynamics",
        amorph_structure::SiteProperty::Flags(vec![[true, false, true]; 4]),
    )
    .unwrap();
    s.set_site_property(
        "charge",
        amorph_structure::SiteProperty::Real(vec![1.0, -2.0, 1.0, 0.0]),
    )
    .unwrap();
    let mut t = Trajectory::from_structure(&s);
    let mut s2 = s.clone();
    s2.scale_to_volume(s.volume() * 1.1).unwrap();
    t.push(&s2).unwrap();
    let mut out: Vec<(Format, String)> = Format::ALL
        .iter()
        .map(|&f| (f, io::structure_to_string(&s, f).unwrap()))
        .collect();
    out.push((
        Format::Xdatcar,
        io::trajectory_to_string(&t, Format::Xdatcar).unwrap(),
    ));
    out.push((
        Format::ExtXyz,
        io::trajectory_to_string(&t, Format::ExtXyz).unwrap(),
    ));
    // A symmetry-expanded CIF and a LAMMPS full-style file exercise more branches.
    out.push((
        Format::Cif,
        "data_x\n_cell_length_a 4.97(1)\n_cell_length_b 4.97\n_cell_length_c 6.92\n\
         _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n\
         _space_group_symop_operation_xyz\nx,y,z\ny,x,-z\n1/2-y,1/2+x,1/4+z\n1/2-x,1/2+y,1/4-z\n\
         loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n\
         _atom_site_fract_z\nSi1 Si4+ 0.3007 0.3007 0\nO1 O2- 0.239 0.1041 0.1787\n"
            .into(),
    ));
    out.push((
        Format::LammpsData,
        "# full\n\n2 atoms\n1 atom types\n1 bonds\n\n0 5 xlo xhi\n0 5 ylo yhi\n0 5 zlo zhi\n\
         1 0 0 xy xz yz\n\nMasses\n\n1 15.999\n\nAtoms # full\n\n2 1 1 -0.5 1 1 1 0 0 0\n\
         1 1 1 0.5 0 0 0 0 0 1\n\nVelocities\n\n1 0 0 0\n2 0 0 0\n\nBonds\n\n1 1 1 2\n"
            .into(),
    ));
    out
}

/// Parses `text` with every format and both entry points; only panics matter.
fn parse_everything(text: &str) {
    for fmt in Format::ALL {
        let _ = io::parse_structure(text, fmt, "mangled");
        let _ = io::parse_trajectory(text, fmt, "mangled");
    }
    let _ = Format::detect(Path::new("mangled"), text);
}

#[test]
fn truncated_and_mangled_texts_never_panic() {
    let garbage = [
        "",
        " ",
        "x y z",
        "1 2",
        "-1",
        "nan nan nan",
        "0 0 0 T",
        "1e999 0 0",
        "loop_",
        ";",
        "\"",
        "{",
        "999999999999999999999",
    ];
    for (fmt, text) in valid_texts() {
        assert!(
            io::parse_structure(&text, fmt, "valid").is_ok(),
            "{fmt} sample must be valid"
        );
        let lines: Vec<&str> = text.lines().collect();
        for i in 0..=lines.len() {
            // Truncated after line i, and mid-line.
            parse_everything(&lines[..i].join("\n"));
            if let Some(l) = lines.get(i) {
                let cut = l.char_indices().nth(l.chars().count() / 2).map_or(0, |(k, _)| k);
                parse_everything(&(lines[..i].join("\n") + "\n" + &l[..cut]));
            }
            // Line i deleted, duplicated or replaced.
            if i < lines.len() {
                let mut v = lines.clone();
                v.remove(i);
                parse_everything(&v.join("\n"));
                let mut v = lines.clone();
                v.insert(i, lines[i]);
                parse_everything(&v.join("\n"));
                for g in garbage {
                    let mut v = lines.clone();
                    v[i] = g;
                    parse_everything(&v.join("\n"));
                }
            }
        }
    }
}

#[test]
fn truncated_real_files_never_panic() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/realfiles"
    ));
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("note: {} not found; skipped", dir.display());
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let cuts: Vec<usize> = text.char_indices().map(|(k, _)| k).collect();
        // About 60 cuts per file, at arbitrary characters.
        let step = (cuts.len() / 60).max(1);
        for &k in cuts.iter().step_by(step) {
            parse_everything(&text[..k]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        parse_everything(&text);
    }

    /// Text from the formats' own alphabet reaches deeper than random Unicode.
    #[test]
    fn format_like_text_never_panics(
        text in "([0-9 .eE+-]{0,12}|Li|O|Direct|Cartesian|Selective|configuration=|Lattice=\"[0-9 ]{0,20}\"|Properties=species:S:1:pos:R:3|data_x|loop_|_atom_site_fract_x|_cell_length_a|atoms|atom types|xlo xhi|Masses|Atoms|#|\\{|\\}|\"|\n){0,60}"
    ) {
        parse_everything(&text);
    }
}
