//! `amorph pack` end to end: the file it writes, its summary, and nothing written on failure.

use std::process::{Command, Output};

fn amorph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amorph"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn packs_a_poscar_with_the_asked_composition_density_and_distances() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("Li2Si2O5.vasp");
    let o = amorph(&[
        "pack",
        "Li2Si2O5",
        "--atoms",
        "216",
        "--density",
        "2.3",
        "--tolerance",
        "2.2",
        "--seed",
        "5",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("packed 216 atoms of Li2Si2O5 (Li48 Si48 O120)"),
        "{summary}"
    );
    assert!(summary.contains("2.3000 g/cm³"), "{summary}");
    let s = amorph::structure::io::read_structure(&out).unwrap();
    assert_eq!(s.len(), 216);
    assert!((s.density() - 2.3).abs() < 1e-6);
    // POSCAR groups the species: Li, Si, O.
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[5].split_whitespace().collect::<Vec<_>>(), ["Li", "Si", "O"]);
    assert_eq!(
        lines[6].split_whitespace().collect::<Vec<_>>(),
        ["48", "48", "120"]
    );
    let nl = amorph::structure::NeighborList::new(&s, 2.2).unwrap();
    assert_eq!(
        nl.num_entries(),
        0,
        "a pair closer than 2.2 Å after the POSCAR round trip"
    );
    // Nothing else left in the directory (atomic write).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // The same seed gives the same file; formula units work too.
    let again = dir.path().join("again.vasp");
    let o = amorph(&[
        "pack",
        "Li2Si2O5",
        "--formula-units",
        "24",
        "--density",
        "2.3",
        "--tolerance",
        "2.2",
        "--seed",
        "5",
        "-o",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn failures_write_nothing_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.vasp");
    let path = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "pack",
                "Li2Si2O5",
                "--atoms",
                "999",
                "--density",
                "6",
                "--tolerance",
                "2.5",
                "-o",
                path,
            ],
            "packing fraction of 1.77",
        ),
        (
            &[
                "pack",
                "Li2Si2O5",
                "--atoms",
                "1000",
                "--density",
                "2.3",
                "-o",
                path,
            ],
            "not a whole number of Li2Si2O5 formula units",
        ),
        (
            &[
                "pack",
                "Li2Si2O5",
                "--atoms",
                "999",
                "--density",
                "-1",
                "-o",
                path,
            ],
            "density must be a positive number",
        ),
        (
            &[
                "pack",
                "Li2Si2O5",
                "--atoms",
                "999",
                "--density",
                "3.13",
                "--tolerance",
                "2.2",
                "--max-iterations",
                "20",
                "-o",
                path,
            ],
            "could not reach the minimum distances",
        ),
        (
            &["pack", "Li2Xx", "--atoms", "9", "--density", "2", "-o", path],
            "unknown element",
        ),
    ];
    for (args, why) in cases {
        let t = std::time::Instant::now();
        let o = amorph(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
        assert!(t.elapsed().as_secs_f64() < 5.0);
        assert!(!out.exists(), "{args:?} wrote a file");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // An unknown output format is refused before packing.
    let o = amorph(&[
        "pack",
        "SiO2",
        "--atoms",
        "30",
        "--density",
        "2.2",
        "-o",
        "out.unknown",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot tell the format"), "{}", stderr(&o));
}

#[test]
fn round_takes_the_nearest_whole_formula_units() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.xyz");
    let o = amorph(&[
        "pack",
        "Li2Si2O5",
        "--atoms",
        "1000",
        "--round",
        "--density",
        "2.3",
        "--pair",
        "Si-O=1.6",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = amorph::structure::io::read_structure(&out).unwrap();
    assert_eq!(s.len(), 999);
}
