//! The batch API: tables with names and units, CSV, determinism across thread counts, trajectory
//! averages, compositional-only sets, user features and serde options.

mod common;

use amorph_features::{Context, Convention, Feature, FeatureSet, Featurizer, Options, Undefined, Value};
use amorph_structure::{Composition, Trajectory};
use common::*;

fn batch() -> Vec<amorph_structure::Structure> {
    vec![
        rocksalt_lif(4.03),
        antifluorite_li2o(4.6),
        li3n(3.648, 3.875),
        rocksalt_lif(4.2),
    ]
}

#[test]
fn a_batch_is_a_table_with_names_units_and_one_row_per_structure() {
    let o = Options {
        temperature: Some(1500.0),
        ..Options::default()
    };
    let set = FeatureSet::table1(o).unwrap();
    assert_eq!(set.len(), 45);
    let names = set.names();
    assert_eq!(&names[..3], ["AAV", "LBI", "SDLI"]);
    assert_eq!(&names[names.len() - 3..], ["density", "T", "1/kBT"]);
    let t = set.compute_batch(&batch()).unwrap();
    assert_eq!(t.values().dim(), (4, 45));
    assert_eq!(t.units()[0], "Å³");
    assert_eq!(t.column("T").unwrap()[2], 1500.0);
    assert!((t.column("1/kBT").unwrap()[0] - 1.0 / (8.617333262e-5 * 1500.0)).abs() < 1e-12);
    // Each row equals the single-structure computation.
    for (i, s) in batch().iter().enumerate() {
        let row = set.compute(s).unwrap();
        for (j, v) in row.iter().enumerate() {
            match v {
                Ok(x) => assert_eq!(t.values()[[i, j]], *x),
                Err(e) => {
                    assert!(t.values()[[i, j]].is_nan());
                    assert_eq!(t.reason(i, j), Some(e));
                }
            }
        }
    }
    // RBI of rock salt is undefined (SBI = 0): an empty CSV cell.
    let t = t
        .with_labels(vec!["a".into(), "b".into(), "c,d".into(), "e".into()])
        .unwrap();
    let csv = t.to_csv("file");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("file,AAV,LBI,SDLI,SBI,ENS,RBI,"));
    let rbi = names.iter().position(|n| n == "RBI").unwrap();
    assert_eq!(lines[1].split(',').nth(rbi + 1), Some(""));
    assert!(lines[3].starts_with("\"c,d\","));
    let dir = std::env::temp_dir().join(format!("amorph-features-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("t.csv");
    t.write_csv(&p, "file").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), csv);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batch_progress_counts_every_structure() {
    let set = FeatureSet::table1(Options::default()).unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let t = set
        .compute_batch_with_progress(&batch(), |done| seen.lock().unwrap().push(done))
        .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, vec![1, 2, 3, 4]);
    assert_eq!(t.values().nrows(), 4);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let set = FeatureSet::table1(Options::default()).unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let a = one.install(|| set.compute_batch(&batch()).unwrap());
    let b = three.install(|| set.compute_batch(&batch()).unwrap());
    assert_eq!(a.to_csv("i"), b.to_csv("i"));
}

#[test]
fn trajectory_features_are_frame_means_with_sample_standard_deviations() {
    let frames = [rocksalt_lif(4.0), rocksalt_lif(4.1), rocksalt_lif(4.3)];
    let traj = Trajectory::from_structures(&frames).unwrap();
    let set = FeatureSet::from_names(Options::default(), &["LLSD", "RBI", "AAV"]).unwrap();
    let tf = set.compute_trajectory(&traj).unwrap();
    assert_eq!(tf.frames, 3);
    let d: Vec<f64> = [4.0f64, 4.1, 4.3].iter().map(|a| a / 2f64.sqrt()).collect();
    let m = d.iter().sum::<f64>() / 3.0;
    let sd = (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!((tf.mean[0].clone().unwrap() - m).abs() < 1e-12);
    assert!((tf.std[0].clone().unwrap() - sd).abs() < 1e-12);
    assert!(tf.mean[1].is_err() && tf.std[1].is_err());
    let one = Trajectory::from_structures(&frames[..1]).unwrap();
    let tf = set.compute_trajectory(&one).unwrap();
    assert!(tf.mean[2].is_ok());
    assert_eq!(tf.std[2], Err(Undefined::TooFewValues { what: "frames", n: 1 }));
}

#[test]
fn compositional_features_from_a_formula() {
    let set = FeatureSet::compositional(Options::default()).unwrap();
    assert_eq!(set.len(), 21);
    assert!(
        set.names()
            .iter()
            .all(|n| !Feature::from_name(n).unwrap().is_structural())
    );
    let c: Composition = "Li2Si2O5".parse().unwrap();
    let v = set.compute_composition(&c).unwrap();
    let get = |n: &str| {
        v[set.names().iter().position(|x| x == n).unwrap()]
            .clone()
            .unwrap()
    };
    assert!((get("Li%") - 2.0 / 9.0).abs() < 1e-15);
    // Ecoh (Kittel): (2·1.63 + 2·4.63 + 5·2.60)/9.
    assert!((get("Ecoh") - (2.0 * 1.63 + 2.0 * 4.63 + 5.0 * 2.60) / 9.0).abs() < 1e-12);
    // ΔX = mean over Si, O of χ − χ_Li.
    assert!((get("ΔX") - ((2.0 * 1.90 + 5.0 * 3.44) / 7.0 - 0.98)).abs() < 1e-12);
    let z = FeatureSet::compositional(Options::new(Convention::Zheng2024)).unwrap();
    let v = z.compute_composition(&c).unwrap();
    assert!(
        (v[z.names().iter().position(|x| x == "ΔX").unwrap()]
            .clone()
            .unwrap()
            - ((2.0 * 1.90 + 5.0 * 3.44) / 7.0 - (2.0 * 0.98 + 2.0 * 1.90 + 5.0 * 3.44) / 9.0))
            .abs()
            < 1e-12
    );
    // Structural features of a formula are typed as needing a structure.
    let all = FeatureSet::table1(Options::default()).unwrap();
    let v = all.compute_composition(&c).unwrap();
    assert_eq!(v[0], Err(Undefined::NeedsStructure));
}

#[test]
fn names_aliases_and_user_features() {
    assert_eq!(Feature::from_name("avg_Echo_wiout_Li"), Some(Feature::EcohNoLi));
    assert_eq!(Feature::from_name("dX"), Some(Feature::DeltaX));
    assert_eq!(Feature::from_name("SLPW_pp"), Some(Feature::SlpwPp));
    // The 42 columns of the released table and the density.
    assert_eq!(Feature::table1().count(), 43);
    for f in Feature::ALL {
        assert!(!f.unit().is_empty() && !f.description().is_empty());
        assert_eq!(Feature::from_name(f.name()), Some(*f));
    }

    struct Natoms;
    impl Featurizer for Natoms {
        fn name(&self) -> &str {
            "N"
        }
        fn unit(&self) -> &str {
            "1"
        }
        fn description(&self) -> &str {
            "number of atoms"
        }
        fn compute(&self, ctx: &Context<'_>) -> Value {
            Ok(ctx.require_structure()?.len() as f64)
        }
    }
    let mut set = FeatureSet::from_names(Options::default(), &["LNC"]).unwrap();
    set.push(Natoms);
    let v = set.compute(&rocksalt_lif(4.03)).unwrap();
    assert_eq!(v, vec![Ok(26.0), Ok(8.0)]);
    assert_eq!(
        Natoms
            .compute_structure(&li3n(3.6, 3.9), &Options::default())
            .unwrap(),
        Ok(4.0)
    );
}

#[test]
fn options_round_trip_through_serde() {
    let o = Options {
        convention: Convention::Zheng2024,
        cutoff: 4.5,
        temperature: Some(1000.0),
        radii: Some(amorph_features::RadiusTable::Custom(
            [(el("Li"), 0.9)].into_iter().collect(),
        )),
        ..Options::default()
    };
    let json = serde_json::to_string(&o).unwrap();
    assert!(json.contains("\"convention\":\"zheng2024\""));
    let back: Options = serde_json::from_str(&json).unwrap();
    assert_eq!(back, o);
    let d: Options = serde_json::from_str("{}").unwrap();
    assert_eq!(d, Options::default());
}
