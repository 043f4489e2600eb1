//! Every file of the real-file corpus (`../shared/data/realfiles`, written by VASP, ASE, pymatgen,
//! LAMMPS, OVITO, LOBSTER and COD) read and compared with pymatgen's numbers from its manifest.
//!
//! The corpus lives outside the repository; when it is missing (a fresh clone) the tests say so
//! and pass.

use std::path::{Path, PathBuf};

use amorph_structure::io::{self, Format};
use amorph_structure::{Structure, Trajectory};
use serde_json::Value;

/// The corpus: `$AMORPH_REALFILES`, else `../shared/data/realfiles` beside the workspace.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("AMORPH_REALFILES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/data/realfiles"
            ))
            .to_path_buf()
        });
    if dir.join("manifest.json").is_file() {
        Some(dir)
    } else {
        eprintln!("note: {} not found; real-file tests skipped", dir.display());
        None
    }
}

fn manifest(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest readable");
    let m: Value = serde_json::from_str(&text).expect("manifest is JSON");
    m["files"].as_array().expect("files list").clone()
}

/// The manifest prints volumes, densities and lengths to 6 decimals and angles to 4: a value
/// matches when it rounds to the printed one (half a unit in the last place, plus float slack).
fn close(what: &str, file: &str, got: f64, want: f64, decimals: i32) -> Result<(), String> {
    let tol = 0.5 * 10f64.powi(-decimals) + 1e-9 * want.abs().max(1.0);
    if (got - want).abs() <= tol {
        Ok(())
    } else {
        Err(format!(
            "{file}: {what} = {got:.9}, pymatgen {want} (tolerance {tol:.1e})"
        ))
    }
}

/// Reads a file the way its manifest loader does: Xdatcar(...).structures and ase.io.read(':')
/// give every frame, the others one structure.
fn load(path: &Path, loader: &str) -> amorph_structure::Result<(Structure, Trajectory)> {
    if loader.contains("Xdatcar") || loader.contains("index=':'") {
        let t = io::read_trajectory(path)?;
        Ok((t.frame(0)?, t))
    } else {
        let s = io::read_structure(path)?;
        let t = Trajectory::from_structure(&s);
        Ok((s, t))
    }
}

fn check_entry(dir: &Path, e: &Value) -> Result<(), String> {
    let file = e["file"].as_str().ok_or("entry without file")?;
    let path = dir.join(file);
    let loader = e["loader"].as_str().unwrap_or("");
    let (s, t) = load(&path, loader).map_err(|err| format!("{file}: failed to read: {err}"))?;

    let natoms = e["natoms"].as_u64().ok_or("no natoms")? as usize;
    if s.len() != natoms {
        return Err(format!("{file}: {} atoms, pymatgen {natoms}", s.len()));
    }
    let formula = s.composition().reduced_formula();
    let want_formula = e["reduced_formula"].as_str().ok_or("no reduced_formula")?;
    if formula != want_formula {
        return Err(format!(
            "{file}: reduced formula {formula}, pymatgen {want_formula}"
        ));
    }
    close(
        "volume",
        file,
        s.volume(),
        e["volume_A3"].as_f64().ok_or("no volume")?,
        6,
    )?;
    close(
        "density",
        file,
        s.density(),
        e["density_g_cm3"].as_f64().ok_or("no density")?,
        6,
    )?;
    let abc = s.lattice().abc();
    let angles = s.lattice().angles();
    for k in 0..3 {
        close(
            "lattice length",
            file,
            abc[k],
            e["lattice_abc_A"][k].as_f64().ok_or("no abc")?,
            6,
        )?;
        close(
            "lattice angle",
            file,
            angles[k],
            e["lattice_angles_deg"][k].as_f64().ok_or("no angles")?,
            4,
        )?;
    }
    if let Some(n) = e["nframes"].as_u64()
        && t.len() != n as usize
    {
        return Err(format!("{file}: {} frames, pymatgen {n}", t.len()));
    }
    if let Some(v) = e["last_frame_volume_A3"].as_f64() {
        close("last-frame volume", file, t.lattice(t.len() - 1).volume(), v, 6)?;
    }
    if e["species_are_placeholders"].as_bool() == Some(true) && file.starts_with("POSCAR") {
        // pymatgen names the groups H, He, ...; the reader says so.
        if s.properties().get("species_are_placeholders") != Some(&Value::Bool(true)) {
            return Err(format!("{file}: placeholder species not flagged"));
        }
    }
    Ok(())
}

#[test]
fn every_manifest_file_matches_pymatgen() {
    let Some(dir) = corpus() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for e in manifest(&dir) {
        if e["expect_error"].as_bool() == Some(true) {
            continue;
        }
        checked += 1;
        if let Err(m) = check_entry(&dir, &e) {
            failures.push(m);
        }
    }
    assert!(checked >= 25, "only {checked} files in the manifest");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_files_are_clean_errors() {
    let Some(dir) = corpus() else { return };
    let mut n = 0;
    for e in manifest(&dir) {
        if e["expect_error"].as_bool() != Some(true) {
            continue;
        }
        n += 1;
        let file = e["file"].as_str().unwrap();
        let path = dir.join(file);
        let err = io::read_structure(&path).expect_err(file);
        let msg = err.to_string();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(msg.contains(&name), "{file}: error does not name the file: {msg}");
        eprintln!("{file}: {msg}");
    }
    assert!(n >= 2);
}

#[test]
fn manifest_lists_every_file() {
    // A file added to the corpus without a manifest entry would go untested.
    let Some(dir) = corpus() else { return };
    let listed: Vec<String> = manifest(&dir)
        .iter()
        .filter_map(|e| e["file"].as_str().map(str::to_string))
        .collect();
    for sub in ["", "bad"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir()
                || p.file_name()
                    .is_some_and(|n| n == "manifest.json" || n.to_string_lossy().ends_with(".md"))
            {
                continue;
            }
            let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/");
            assert!(listed.contains(&rel), "{rel} is not in the manifest");
        }
    }
}

#[test]
fn formats_are_recognised_by_name_and_by_content() {
    let Some(dir) = corpus() else { return };
    for e in manifest(&dir) {
        if e["expect_error"].as_bool() == Some(true) {
            continue;
        }
        let file = e["file"].as_str().unwrap();
        let path = dir.join(file);
        let by_name = Format::from_path(&path).unwrap_or_else(|| panic!("{file}: no format from the name"));
        let text = std::fs::read_to_string(&path).unwrap();
        let by_content = Format::detect(Path::new("unnamed"), &text);
        assert_eq!(
            by_content,
            Some(by_name),
            "{file}: content sniffed as {by_content:?}"
        );
    }
}

#[test]
fn details_pymatgen_does_not_summarise() {
    let Some(dir) = corpus() else { return };
    use amorph_structure::SiteProperty;
    use amorph_structure::structure::props;

    // Selective dynamics flags and their pattern.
    let s = io::read_structure(dir.join("POSCAR_selective_dynamics_FeS2")).unwrap();
    let Some(SiteProperty::Flags(f)) = s.site_property(props::SELECTIVE_DYNAMICS) else {
        panic!("no selective dynamics")
    };
    assert_eq!(f[0], [true; 3]);
    assert_eq!(f[4], [false; 3]);

    // CONTCAR velocity block (all zero in this file).
    let s = io::read_structure(dir.join("CONTCAR_vasp_velocities_FeO")).unwrap();
    let Some(SiteProperty::Vector(v)) = s.site_property(props::VELOCITIES) else {
        panic!("no velocities")
    };
    assert_eq!(v.len(), 4);

    // Wrapped species lines: the group order is kept, atoms are not reordered.
    let s = io::read_structure(dir.join("POSCAR_multiline_species_CrFeNi")).unwrap();
    let sym: Vec<&str> = s.species().iter().take(4).map(|e| e.symbol()).collect();
    assert_eq!(sym, ["Fe", "Cr", "Fe", "Fe"]);

    // Negative scale = volume.
    let s = io::read_structure(dir.join("POSCAR_vasp4_negscale_LiFePO4")).unwrap();
    assert!((s.volume() - 300.65685512).abs() < 1e-6);

    // extxyz columns become site properties; other keys structure properties.
    let s = io::read_structure(dir.join("SiO2_glass_300_ase.extxyz")).unwrap();
    assert!(matches!(
        s.site_property("momenta"),
        Some(SiteProperty::Vector(_))
    ));
    assert!(matches!(s.site_property("id"), Some(SiteProperty::Int(_))));
    assert!(matches!(s.site_property("masses"), Some(SiteProperty::Real(_))));
    assert!(
        s.properties()["comment"]
            .as_str()
            .unwrap()
            .contains("LAMMPS data file")
    );
    let t = io::read_trajectory(dir.join("Cu_cubic_15frames_ase.extxyz")).unwrap();
    assert_eq!(t.len(), 15);
    let s = io::read_structure(dir.join("Cu_cubic_15frames_ase.extxyz")).unwrap();
    assert!(matches!(
        s.site_property(props::FORCES),
        Some(SiteProperty::Vector(_))
    ));
    assert!(s.properties()["energy"].is_number());
    let s = io::read_structure(dir.join("opls_comma_lattice_ase.extxyz")).unwrap();
    assert!(matches!(s.site_property("type"), Some(SiteProperty::Text(_))));

    // JSON: per-site properties present on some sites only are padded with NaN.
    let s = io::read_structure(dir.join("LixMn6O5F7_structure_indented.json")).unwrap();
    let Some(SiteProperty::Real(e)) = s.site_property("inserted_energy") else {
        panic!("no inserted_energy")
    };
    assert!(e[0].is_finite() && e.iter().any(|x| x.is_nan()));
    assert!(matches!(
        s.site_property(props::MAGMOM),
        Some(SiteProperty::Real(_))
    ));

    // LAMMPS charges, element names from the Masses comments, box origin at zero.
    let s = io::read_structure(dir.join("aC_SiO2_charge_qeq.data")).unwrap();
    let Some(SiteProperty::Real(q)) = s.site_property(props::CHARGE) else {
        panic!("no charges")
    };
    assert!((q[0] - 2.96653).abs() < 1e-12);
    let s = io::read_structure(dir.join("Na2O_atomic_ovito.data")).unwrap();
    let p = s.positions()[8]; // atom 9: the box corner (-10.97, -10.97, -10.97)
    assert!(p.norm() < 1e-9, "{p:?}");

    // The variable-cell XDATCAR keeps one cell per frame.
    let t = io::read_trajectory(dir.join("XDATCAR_npt_variable_cell_FeOTi")).unwrap();
    assert!(!t.has_fixed_cell());
    let t = io::read_trajectory(dir.join("XDATCAR_vasp5_nvt_liquidNa_first50")).unwrap();
    assert!(t.has_fixed_cell());
}

#[test]
fn every_real_file_survives_a_round_trip_through_every_writer() {
    let Some(dir) = corpus() else { return };
    for e in manifest(&dir) {
        if e["expect_error"].as_bool() == Some(true) {
            continue;
        }
        let file = e["file"].as_str().unwrap();
        let s = io::read_structure(dir.join(file)).unwrap();
        for fmt in Format::ALL {
            let text =
                io::structure_to_string(&s, fmt).unwrap_or_else(|err| panic!("{file} as {fmt}: {err}"));
            let back = io::parse_structure(&text, fmt, format!("{file}.{fmt}"))
                .unwrap_or_else(|err| panic!("{file} as {fmt}: {err}"));
            assert_eq!(back.len(), s.len(), "{file} as {fmt}");
            assert_eq!(
                back.composition().reduced_formula(),
                s.composition().reduced_formula()
            );
            assert!(
                (back.volume() - s.volume()).abs() < 1e-9 * s.volume(),
                "{file} as {fmt}"
            );
        }
    }
}
