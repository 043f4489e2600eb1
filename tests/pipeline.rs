//! The whole pipeline end to end on a tiny case: the record's structure and its physical sanity.

use amorph::melt::StageSettings;
use amorph::pipeline::{PipelineConfig, run};

#[test]
fn a_tiny_li2si2o5_run_gives_a_sane_record_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = PipelineConfig {
        natoms: 45,
        temperatures_K: vec![1500.0, 2500.0],
        warmup_steps: 300,
        stage: StageSettings {
            probe_steps: 300,
            production_steps: 1500,
            chunk_steps: 500,
            pressure_tolerance_gpa: 1.5,
            ..StageSettings::default()
        },
        ..PipelineConfig::default()
    };
    let composition = "Li2Si2O5".parse().unwrap();
    let record = run(&composition, &config, dir.path(), |_| {}).unwrap();
    assert_eq!(record.composition, "Li2Si2O5");
    assert_eq!(record.natoms, 45);
    assert_eq!(record.force_field["name"], "pedone");
    assert_eq!(record.temperatures.len(), 2);
    let packed = amorph::structure::io::read_structure(dir.path().join("packed.vasp")).unwrap();
    for t in &record.temperatures {
        assert!(t.D_cm2_s > 0.0 && t.D_stderr_cm2_s > 0.0, "{t:?}");
        assert!((t.density_g_cm3 / packed.density() - 1.0).abs() < 0.5, "{t:?}");
        assert_eq!(t.features.len(), 45, "every Table-1 feature plus T and 1/kBT");
        assert_eq!(t.features["T"], Some(t.T_K));
        assert!(t.features["LNC"].is_some_and(|x| x > 0.0));
    }
    let ea = record.arrhenius.as_ref().unwrap().Ea_eV;
    assert!((0.01..3.0).contains(&ea), "Ea {ea} eV");

    // The files a user looks for, and the JSON keys the schema promises.
    for f in [
        "record.json",
        "settings.json",
        "melt/XDATCAR",
        "T1500K/final.vasp",
        "T2500K/thermo.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("record.json")).unwrap()).unwrap();
    for k in [
        "composition",
        "natoms",
        "seed",
        "force_field",
        "settings",
        "melt",
        "temperatures",
        "arrhenius",
        "versions",
        "timings_s",
    ] {
        assert!(json.get(k).is_some(), "record.json lacks {k}");
    }
    for k in [
        "T_K",
        "volume_A3",
        "density_g_cm3",
        "D_cm2_s",
        "D_stderr_cm2_s",
        "features",
    ] {
        assert!(
            json["temperatures"][0].get(k).is_some(),
            "temperature entry lacks {k}"
        );
    }

    // Rerunning resumes every finished stage: the same record apart from the timings.
    let again = run(&composition, &config, dir.path(), |_| {}).unwrap();
    assert_eq!(again.temperatures, record.temperatures);
    assert_eq!(again.arrhenius, record.arrhenius);
    // Other settings in the same directory are refused.
    let other = PipelineConfig { seed: 2, ..config };
    assert!(run(&composition, &other, dir.path(), |_| {}).is_err());
}
