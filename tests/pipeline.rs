//! The whole pipeline end to end on a tiny case: the record's structure and its physical sanity, the
//! files of the run directory (structures, MSD tables, plots, report), progress reports, resuming.

use std::path::Path;

use amorph::melt::StageSettings;
use amorph::pipeline::{PipelineConfig, Progress, RecordFile, read_record, run, run_with_progress};

/// Records what the pipeline reports.
#[derive(Default)]
struct Recorder {
    lines: Vec<String>,
    /// (label, total, last `done` seen, ended).
    tasks: Vec<(String, u64, u64, bool)>,
}

impl Progress for Recorder {
    fn log(&mut self, line: &str) {
        self.lines.push(line.to_string());
    }
    fn begin(&mut self, label: &str, total: u64) {
        if let Some(last) = self.tasks.last() {
            assert!(last.3, "task {} began before {} ended", label, last.0);
        }
        self.tasks.push((label.to_string(), total, 0, false));
    }
    fn advance(&mut self, done: u64) {
        let task = self.tasks.last_mut().expect("advance inside a task");
        assert!(!task.3 && done >= task.2 && done <= task.1, "{task:?} → {done}");
        task.2 = done;
    }
    fn end(&mut self) {
        let task = self.tasks.last_mut().expect("end of a task");
        assert!(!task.3, "{task:?} ended twice");
        task.3 = true;
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn series(svg: &str) -> usize {
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    svg.matches(r#"class="series""#).count()
}

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
    let mut progress = Recorder::default();
    let record = run_with_progress(&composition, &config, dir.path(), &mut progress).unwrap();
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

    // Progress: a warm-up, probes and three production runs, each task complete.
    let tasks = &progress.tasks;
    assert!(tasks.iter().all(|t| t.3 && t.2 == t.1), "{tasks:?}");
    assert_eq!(tasks[0].0, "warm-up 3000 K");
    assert_eq!(tasks[0].1, 300);
    let productions: Vec<&str> = tasks
        .iter()
        .filter(|t| t.0.ends_with("production"))
        .map(|t| t.0.as_str())
        .collect();
    assert_eq!(
        productions,
        [
            "melt 3000 K: production",
            "quench 1500 K: production",
            "quench 2500 K: production"
        ]
    );
    assert!(tasks.iter().filter(|t| t.0.contains(": probe ")).count() >= 9);
    assert!(progress.lines.iter().any(|l| l.starts_with("T = 2500 K: D = ")));

    // Structures of every stage in both formats.
    let d = dir.path();
    for stage in ["packed", "melt/final", "T1500K/final", "T2500K/final"] {
        let poscar = amorph::structure::io::read_structure(d.join(format!("{stage}.vasp"))).unwrap();
        let xyz = amorph::structure::io::read_structure(d.join(format!("{stage}.extxyz"))).unwrap();
        assert_eq!(xyz.len(), 45, "{stage}");
        assert_eq!(xyz.species(), poscar.species(), "{stage}");
        assert!((xyz.lattice().volume() / poscar.lattice().volume() - 1.0).abs() < 1e-9);
    }
    // MSD tables: a header, one row per frame (1500 steps / 10 + 1), MSD from zero, x+y+z = total.
    for t in ["T1500K", "T2500K"] {
        let msd = read(d, &format!("{t}/msd.csv"));
        let mut lines = msd.lines();
        assert_eq!(lines.next(), Some("time_fs,msd_A2,msd_x_A2,msd_y_A2,msd_z_A2"));
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), 151, "{t}");
        assert_eq!(rows[0][1], 0.0);
        assert_eq!(rows[10][0], 200.0);
        for r in &rows {
            assert!((r[2] + r[3] + r[4] - r[1]).abs() < 1e-9 * r[1].max(1.0), "{r:?}");
        }
        assert!(rows[75][1] > 0.0);
    }
    // Plots: RDF with Li–O, Si–O, O–O and the total; MSD curve and fit per temperature; the
    // Arrhenius fit and its points with error bars.
    let plots = [
        ("rdf_T1500K.svg", 4),
        ("rdf_T2500K.svg", 4),
        ("msd.svg", 4),
        ("arrhenius.svg", 2),
    ];
    let html = read(d, "report.html");
    for (file, n) in plots {
        let svg = read(d, &format!("plots/{file}"));
        assert_eq!(series(&svg), n, "{file}");
        assert!(html.contains(&format!("plots/{file}")), "report lacks {file}");
        assert!(html.contains(svg.trim_end()), "report does not inline {file}");
    }
    assert!(read(d, "plots/rdf_T1500K.svg").contains(">Si–O</text>"));
    assert_eq!(read(d, "plots/arrhenius.svg").matches("<circle").count(), 2);
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("<script") && !html.contains("src=\""));
    assert_eq!(html.matches("<svg").count(), plots.len());
    for needle in [
        "Li2Si2O5",
        "pedone",
        "Eₐ (eV)",
        "D(300 K)",
        "<td>LNC</td>",
        "<td>1500</td>",
        "melt density",
    ] {
        assert!(html.contains(needle), "report lacks {needle}");
    }
    assert!(
        matches!(read_record(d).unwrap(), RecordFile::Finished(r) if r.temperatures == record.temperatures)
    );

    // Rerunning resumes every finished stage: the same record apart from the timings, and the same
    // plots.
    let svgs: Vec<String> = plots
        .iter()
        .map(|(f, _)| read(d, &format!("plots/{f}")))
        .collect();
    let again = run(&composition, &config, dir.path(), |_| {}).unwrap();
    assert_eq!(again.temperatures, record.temperatures);
    assert_eq!(again.arrhenius, record.arrhenius);
    assert_eq!(again.melt, record.melt);
    for ((f, _), svg) in plots.iter().zip(&svgs) {
        assert_eq!(&read(d, &format!("plots/{f}")), svg, "{f} changed on resume");
    }
    // A run killed before its last temperature (that stage's directory, the plots and the report
    // gone) gives the same record and plots when rerun.
    std::fs::remove_dir_all(d.join("T2500K")).unwrap();
    std::fs::remove_dir_all(d.join("plots")).unwrap();
    std::fs::remove_file(d.join("report.html")).unwrap();
    let redone = run(&composition, &config, dir.path(), |_| {}).unwrap();
    assert_eq!(redone.temperatures, record.temperatures);
    assert_eq!(redone.arrhenius, record.arrhenius);
    for ((f, _), svg) in plots.iter().zip(&svgs) {
        assert_eq!(&read(d, &format!("plots/{f}")), svg, "{f} differs after a rerun");
    }
    assert!(d.join("report.html").exists());
    // Other settings in the same directory are refused, and leave its record alone.
    let before = read(d, "record.json");
    let other = PipelineConfig { seed: 2, ..config };
    assert!(run(&composition, &other, dir.path(), |_| {}).is_err());
    assert_eq!(read(d, "record.json"), before);
}
