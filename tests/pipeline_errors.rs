//! A failing run says which stage failed and why: the typed error, and `record.json` with the parts
//! done and an `error` object. One cheap case per kind of failure.

use std::path::Path;

use amorph::melt::StageSettings;
use amorph::pipeline::{FailedRecord, PipelineConfig, PipelineError, RecordFile, read_record, run};

/// A run of a few hundred steps of 45 atoms: it gets through every stage in about a second.
fn tiny() -> PipelineConfig {
    PipelineConfig {
        natoms: 45,
        temperatures_K: vec![2500.0],
        warmup_steps: 300,
        stage: StageSettings {
            probe_steps: 100,
            production_steps: 100,
            chunk_steps: 100,
            pressure_tolerance_gpa: 100.0,
            ..StageSettings::default()
        },
        ..PipelineConfig::default()
    }
}

fn failed(dir: &Path) -> FailedRecord {
    match read_record(dir).unwrap() {
        RecordFile::Failed(f) => f,
        RecordFile::Finished(r) => panic!("a finished record: {r:?}"),
    }
}

fn fail(composition: &str, config: &PipelineConfig) -> (PipelineError, FailedRecord) {
    let dir = tempfile::tempdir().unwrap();
    let e = run(&composition.parse().unwrap(), config, dir.path(), |_| {}).unwrap_err();
    let record = failed(dir.path());
    assert_eq!(record.composition, composition);
    assert_eq!(&record.settings, config);
    // The JSON keys the schema promises.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("record.json")).unwrap()).unwrap();
    for k in [
        "composition",
        "natoms",
        "settings",
        "melt",
        "temperatures",
        "error",
    ] {
        assert!(json.get(k).is_some(), "record.json lacks {k}");
    }
    assert!(json["error"]["stage"].is_string() && json["error"]["message"].is_string());
    (e, record)
}

#[test]
fn an_element_the_force_field_lacks_fails_before_packing() {
    // BKS has Si and O only.
    let config = PipelineConfig {
        force_field: "bks".into(),
        ..tiny()
    };
    let (e, r) = fail("Li2Si2O5", &config);
    assert!(matches!(e, PipelineError::ForceField(_)), "{e:?}");
    assert_eq!(r.error.stage, "force field");
    assert!(r.error.message.contains("Li"), "{}", r.error.message);
    assert_eq!(r.natoms, None);
    assert_eq!(r.force_field["name"], "bks");
    assert!(r.melt.is_none() && r.temperatures.is_empty());
}

#[test]
fn an_impossible_packing_fails_in_the_pack_stage() {
    let config = PipelineConfig {
        density_g_cm3: Some(40.0),
        ..tiny()
    };
    let (e, r) = fail("Li2Si2O5", &config);
    assert!(matches!(e, PipelineError::Pack(_)), "{e:?}");
    assert_eq!(r.error.stage, "pack");
    assert_eq!(r.error.message, e.to_string());
    assert_eq!(r.natoms, None);
    assert_eq!(r.force_field["name"], "pedone");
    assert!(r.force_field.contains_key("reference"));
}

#[test]
fn exploding_md_fails_in_the_warm_up_and_names_the_instability() {
    // A 100 fs time step (25 fs in the warm-up): atoms jump more than 0.5 Å in a step at 3000 K.
    let mut config = tiny();
    config.stage.timestep_fs = 100.0;
    let (e, r) = fail("Li2Si2O5", &config);
    match &e {
        PipelineError::Stage { stage, source } => {
            assert_eq!(stage, "warm-up 3000 K");
            assert!(matches!(
                source,
                amorph::melt::StageError::Md(amorph::md::Error::Unstable { .. })
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.error.stage, "warm-up 3000 K");
    assert!(r.error.message.contains("unstable"), "{}", r.error.message);
    assert_eq!(r.natoms, Some(45));
    assert!(r.melt.is_none());
}

#[test]
fn a_failed_diffusion_fit_keeps_the_melt_in_the_record() {
    // Production of 20 steps at one frame per 10: three frames, too few for a fit window.
    let mut config = tiny();
    config.stage.production_steps = 20;
    config.stage.chunk_steps = 20;
    let (e, r) = fail("Li2Si2O5", &config);
    assert!(
        matches!(e, PipelineError::Diffusion { temperature_k, .. } if temperature_k == 2500.0),
        "{e:?}"
    );
    assert_eq!(r.error.stage, "diffusion 2500 K");
    assert_eq!(r.natoms, Some(45));
    let melt = r.melt.expect("the melt finished");
    assert!(melt.volume_A3 > 0.0 && melt.density_g_cm3 > 0.0);
    assert!(r.temperatures.is_empty());
    assert!(r.timings_s.contains_key("melt") && r.timings_s.contains_key("T2500K"));
}

#[test]
fn bad_settings_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let composition = "Li2Si2O5".parse().unwrap();
    for config in [
        PipelineConfig {
            temperatures_K: vec![1000.0, 1000.0],
            ..tiny()
        },
        PipelineConfig {
            mobile: "Xx".into(),
            ..tiny()
        },
        PipelineConfig {
            temperatures_K: vec![],
            ..tiny()
        },
    ] {
        let e = run(&composition, &config, &out, |_| {}).unwrap_err();
        assert!(matches!(e, PipelineError::Settings(_)), "{e:?}");
        assert!(!out.exists());
    }
}
