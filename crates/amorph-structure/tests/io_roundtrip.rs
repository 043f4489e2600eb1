//! Write → read round trips through every writer: same species, cell and positions (1e-12 Å) and
//! the site properties each format can hold; atomic writes leave nothing behind on failure.

use amorph_structure::io::{self, Format};
use amorph_structure::structure::props;
use amorph_structure::{Element, Lattice, SiteProperty, Structure, Trajectory};
use nalgebra::{Matrix3, Vector3};
use proptest::prelude::*;

const TOL: f64 = 1e-12;

fn el(s: &str) -> Element {
    Element::from_symbol(s).unwrap()
}

/// A triclinic Li–Si–O structure with atoms in and out of the cell.
fn sample() -> Structure {
    let lattice = Lattice::new(Matrix3::new(7.1, 0.2, -0.3, 1.3, 6.4, 0.1, -0.8, 0.9, 8.2)).unwrap();
    let species = ["Li", "Li", "Si", "O", "O", "O", "Li"].map(el).to_vec();
    let frac = [
        [0.0, 0.0, 0.0],
        [0.5, 0.25, 0.125],
        [0.1, 0.9, 0.3],
        [1.0 / 3.0, 2.0 / 3.0, 0.999_999_999_9],
        [-0.1, 1.2, 0.5],
        [0.75, 0.5, 0.0625],
        [0.123_456_789_012_345_6, 0.2, 0.8],
    ]
    .map(Vector3::from);
    Structure::from_fractional(lattice, species, &frac).unwrap()
}

fn with_all_properties(mut s: Structure) -> Structure {
    let n = s.len();
    let f = |i: usize| i as f64;
    s.set_site_property(
        props::VELOCITIES,
        SiteProperty::Vector((0..n).map(|i| [0.01 * f(i), -1e-3, 1.0 / 7.0]).collect()),
    )
    .unwrap();
    s.set_site_property(
        props::FORCES,
        SiteProperty::Vector((0..n).map(|i| [f(i), 2.5e-9, -3.0]).collect()),
    )
    .unwrap();
    s.set_site_property(
        props::CHARGE,
        SiteProperty::Real((0..n).map(|i| 0.1 * f(i) - 0.3).collect()),
    )
    .unwrap();
    s.set_site_property(props::MAGMOM, SiteProperty::Real(vec![0.0; n]))
        .unwrap();
    s.set_site_property(
        props::SELECTIVE_DYNAMICS,
        SiteProperty::Flags((0..n).map(|i| [i % 2 == 0, true, i % 3 == 0]).collect()),
    )
    .unwrap();
    s.set_site_property(
        "tag",
        SiteProperty::Int((0..n).map(|i| i as i64 * 7 - 10).collect()),
    )
    .unwrap();
    s.set_site_property("fixed", SiteProperty::Bool((0..n).map(|i| i % 2 == 1).collect()))
        .unwrap();
    s.set_site_property(
        "label",
        SiteProperty::Text((0..n).map(|i| format!("site{i}")).collect()),
    )
    .unwrap();
    s.properties_mut()
        .insert("energy".into(), serde_json::json!(-123.456789));
    s.properties_mut()
        .insert("comment".into(), serde_json::json!("a test structure"));
    s.properties_mut().insert("step".into(), serde_json::json!(42));
    s
}

/// Which site properties each format keeps.
fn kept(fmt: Format) -> &'static [&'static str] {
    match fmt {
        Format::Poscar => &[props::VELOCITIES, props::SELECTIVE_DYNAMICS],
        Format::ExtXyz | Format::PymatgenJson => &[
            props::VELOCITIES,
            props::FORCES,
            props::CHARGE,
            props::MAGMOM,
            props::SELECTIVE_DYNAMICS,
            "tag",
            "fixed",
            "label",
        ],
        Format::LammpsData => &[props::CHARGE],
        _ => &[],
    }
}

fn assert_matrix(a: &Matrix3<f64>, b: &Matrix3<f64>, what: &str) {
    let d = (a - b).abs().max();
    assert!(d <= TOL, "{what}: lattices differ by {d:e}\n{a}\n{b}");
}

fn assert_same(a: &Structure, b: &Structure, fmt: Format) {
    assert_eq!(a.species(), b.species(), "{fmt}: species");
    assert_matrix(a.lattice().matrix(), b.lattice().matrix(), &fmt.to_string());
    for (i, (p, q)) in a.positions().iter().zip(b.positions()).enumerate() {
        let d = (p - q).abs().max();
        assert!(d <= TOL, "{fmt}: atom {i} moved by {d:e} Å: {p:?} vs {q:?}");
    }
    assert_properties(a, b, fmt);
}

fn assert_properties(a: &Structure, b: &Structure, fmt: Format) {
    for name in kept(fmt) {
        if let Some(want) = a.site_property(name) {
            assert_eq!(b.site_property(name), Some(want), "{fmt}: site property {name}");
        }
    }
}

/// For formats that store a cell by its parameters (CIF) or rotated (LAMMPS): same parameters and
/// fractional coordinates (modulo 1 when the reader wraps them).
fn assert_same_up_to_rotation(a: &Structure, b: &Structure, fmt: Format, wrapped: bool) {
    assert_eq!(a.species(), b.species(), "{fmt}: species");
    let (la, lb) = (a.lattice(), b.lattice());
    for k in 0..3 {
        assert!(
            (la.abc()[k] - lb.abc()[k]).abs() < 1e-10,
            "{fmt}: lengths {:?} vs {:?}",
            la.abc(),
            lb.abc()
        );
        assert!((la.angles()[k] - lb.angles()[k]).abs() < 1e-9, "{fmt}: angles");
    }
    for (i, (f, g)) in a.frac_coords().iter().zip(b.frac_coords()).enumerate() {
        let mut d = f - g;
        if wrapped {
            d.apply(|x| *x -= x.round());
        }
        assert!(d.abs().max() < TOL, "{fmt}: atom {i}: fractional {f:?} vs {g:?}");
    }
    assert_properties(a, b, fmt);
}

fn round_trip(s: &Structure, fmt: Format) -> Structure {
    let text = io::structure_to_string(s, fmt).unwrap_or_else(|e| panic!("writing {fmt}: {e}"));
    io::parse_structure(&text, fmt, format!("roundtrip.{fmt}"))
        .unwrap_or_else(|e| panic!("reading {fmt}: {e}\n{text}"))
}

fn check(s: &Structure, fmt: Format) {
    let back = round_trip(s, fmt);
    match fmt {
        Format::Cif => assert_same_up_to_rotation(s, &back, fmt, true),
        Format::LammpsData => assert_same_up_to_rotation(s, &back, fmt, false),
        _ => assert_same(s, &back, fmt),
    }
}

#[test]
fn every_writer_round_trips() {
    let s = with_all_properties(sample());
    for fmt in Format::ALL {
        check(&s, fmt);
        check(&sample(), fmt);
    }
}

#[test]
fn structure_properties_survive_extxyz_and_json() {
    let s = with_all_properties(sample());
    for fmt in [Format::ExtXyz, Format::PymatgenJson] {
        let back = round_trip(&s, fmt);
        assert_eq!(back.properties(), s.properties(), "{fmt}");
    }
    let back = round_trip(&s, Format::Poscar);
    assert_eq!(back.properties()["comment"], "a test structure");
}

#[test]
fn poscar_keeps_non_contiguous_groups_in_order() {
    let s = sample(); // Li Li Si O O O Li
    let text = io::structure_to_string(&s, Format::Poscar).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[5].split_whitespace().collect::<Vec<_>>(),
        ["Li", "Si", "O", "Li"]
    );
    assert_eq!(
        lines[6].split_whitespace().collect::<Vec<_>>(),
        ["2", "1", "3", "1"]
    );
}

#[test]
fn lammps_writes_restricted_triclinic_boxes_and_charge_style() {
    let s = with_all_properties(sample());
    let text = io::structure_to_string(&s, Format::LammpsData).unwrap();
    assert!(text.contains("xy xz yz"));
    assert!(text.contains("Atoms # charge"));
    assert!(text.contains("# Li") && text.contains("# Si") && text.contains("# O"));
    let back = round_trip(&s, Format::LammpsData);
    let m = back.lattice().matrix();
    assert_eq!(
        (m[(0, 1)], m[(0, 2)], m[(1, 2)]),
        (0.0, 0.0, 0.0),
        "upper triangle must be zero"
    );
    // Distances are unchanged by the rotation.
    for j in 1..s.len() {
        assert!((s.distance(0, j) - back.distance(0, j)).abs() < 1e-12);
    }
    let cubic = Structure::new(
        Lattice::cubic(5.0).unwrap(),
        vec![el("Na")],
        vec![Vector3::new(1.0, 2.0, 3.0)],
    )
    .unwrap();
    let text = io::structure_to_string(&cubic, Format::LammpsData).unwrap();
    assert!(!text.contains("xy xz yz") && text.contains("Atoms # atomic"));
    assert_same(
        &cubic,
        &round_trip(&cubic, Format::LammpsData),
        Format::LammpsData,
    );
}

fn trajectory(variable: bool) -> Trajectory {
    let s = sample();
    let mut t = Trajectory::from_structure(&s);
    for k in 1..5 {
        let mut f = s.clone();
        for p in f.positions_mut() {
            *p += Vector3::new(0.01 * k as f64, -0.02, 0.003);
        }
        if variable {
            f.scale_to_volume(s.volume() * (1.0 + 0.01 * k as f64)).unwrap();
        }
        t.push(&f).unwrap();
    }
    t
}

#[test]
fn trajectories_round_trip() {
    for variable in [false, true] {
        let t = trajectory(variable);
        for fmt in [Format::Xdatcar, Format::ExtXyz] {
            let text = io::trajectory_to_string(&t, fmt).unwrap();
            let back = io::parse_trajectory(&text, fmt, "traj").unwrap();
            assert_eq!(back.len(), t.len(), "{fmt}");
            assert_eq!(back.species(), t.species());
            assert_eq!(
                back.has_fixed_cell(),
                t.has_fixed_cell(),
                "{fmt} variable={variable}"
            );
            for f in 0..t.len() {
                assert_matrix(t.lattice(f).matrix(), back.lattice(f).matrix(), &fmt.to_string());
                let d = (&t.frame_positions(f) - &back.frame_positions(f)).mapv(f64::abs);
                assert!(d.iter().all(|&x| x <= TOL), "{fmt} frame {f}");
            }
            // The first frame alone.
            let first = io::parse_structure(&text, fmt, "traj").unwrap();
            assert_same(&t.frame(0).unwrap(), &first, fmt);
        }
        // One-structure formats refuse several frames.
        let err = io::trajectory_to_string(&t, Format::Poscar).unwrap_err();
        assert!(err.to_string().contains("5 frames"), "{err}");
    }
}

#[test]
fn files_are_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_all_properties(sample());
    for name in [
        "POSCAR", "s.vasp", "s.extxyz", "s.json", "s.cif", "s.data", "XDATCAR",
    ] {
        let p = dir.path().join(name);
        io::write_structure(&p, &s).unwrap();
        let back = io::read_structure(&p).unwrap();
        assert_eq!(back.len(), s.len(), "{name}");
        // Overwriting replaces the file.
        io::write_structure(&p, &sample()).unwrap();
    }
    let t = trajectory(true);
    io::write_trajectory(dir.path().join("XDATCAR_run"), &t).unwrap();
    io::write_trajectory(dir.path().join("run.xyz"), &t).unwrap();
    assert_eq!(
        io::read_trajectory(dir.path().join("XDATCAR_run")).unwrap().len(),
        5
    );
    assert_eq!(io::read_trajectory(dir.path().join("run.xyz")).unwrap().len(), 5);

    // Failures leave nothing behind: a name with no format, a trajectory a format cannot hold, a
    // value extxyz cannot spell, a missing directory.
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(matches!(
        io::write_structure(dir.path().join("notes.txt"), &s),
        Err(amorph_structure::Error::UnknownFormat { .. })
    ));
    assert!(io::write_trajectory(dir.path().join("t.json"), &t).is_err());
    let mut bad = sample();
    bad.set_site_property("label", SiteProperty::Text(vec!["has space".into(); bad.len()]))
        .unwrap();
    assert!(io::write_structure(dir.path().join("bad.xyz"), &bad).is_err());
    let missing = dir.path().join("no/such/dir/POSCAR");
    let err = io::write_structure(&missing, &s).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/POSCAR"), "{err}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), before, "{names:?}");
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn json_output_has_pymatgen_layout() {
    let s = with_all_properties(sample());
    let text = io::structure_to_string(&s, Format::PymatgenJson).unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["@module"], "pymatgen.core.structure");
    assert_eq!(d["@class"], "Structure");
    assert_eq!(d["charge"], 0);
    for k in ["matrix", "pbc", "a", "b", "c", "alpha", "beta", "gamma", "volume"] {
        assert!(!d["lattice"][k].is_null(), "lattice.{k}");
    }
    let site = &d["sites"][0];
    assert_eq!(site["species"][0]["element"], "Li");
    assert_eq!(site["species"][0]["occu"], 1);
    for k in ["abc", "xyz", "label", "properties"] {
        assert!(!site[k].is_null(), "site.{k}");
    }
    assert_eq!(
        site["properties"]["selective_dynamics"],
        serde_json::json!([true, true, true])
    );
}

fn arb_structure() -> impl Strategy<Value = Structure> {
    let lengths = prop::array::uniform3(2.0f64..25.0);
    let shear = prop::array::uniform6(-0.45f64..0.45);
    (lengths, shear, 1usize..24).prop_flat_map(|(l, sh, n)| {
        let species = prop::collection::vec(prop::sample::select(vec!["H", "Li", "O", "Si", "Fe", "Pu"]), n);
        let frac = prop::collection::vec(prop::array::uniform3(-0.3f64..1.3), n);
        (Just(l), Just(sh), species, frac).prop_filter_map("degenerate cell", |(l, sh, sp, fr)| {
            let m = Matrix3::new(
                l[0],
                sh[0] * l[0],
                sh[1] * l[0],
                sh[2] * l[1],
                l[1],
                sh[3] * l[1],
                sh[4] * l[2],
                sh[5] * l[2],
                l[2],
            );
            let lattice = Lattice::new(m).ok()?;
            let [a, b, c] = lattice.abc();
            if lattice.volume() < 0.05 * a * b * c {
                return None;
            }
            let species = sp.iter().map(|s| el(s)).collect();
            let frac: Vec<Vector3<f64>> = fr.into_iter().map(Vector3::from).collect();
            Structure::from_fractional(lattice, species, &frac).ok()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_triclinic_structures_round_trip(s in arb_structure(), v in prop::array::uniform3(-1.0f64..1.0)) {
        let mut s = s;
        let n = s.len();
        s.set_site_property(props::VELOCITIES, SiteProperty::Vector(vec![v; n])).unwrap();
        s.set_site_property(props::CHARGE, SiteProperty::Real((0..n).map(|i| v[0] * i as f64).collect())).unwrap();
        for fmt in Format::ALL {
            check(&s, fmt);
        }
    }
}
