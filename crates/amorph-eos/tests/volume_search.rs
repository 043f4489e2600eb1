//! The MPMorph volume search on analytic probes: a known P(V) plus seeded Gaussian noise.

use amorph_eos::{
    EV_PER_A3_IN_GPA, EosError, PressureModel, ProbeKind, ProbeOutcome, ProbeRequest, SearchEvent,
    SearchHistory, SearchSettings, VolumeProbe, VolumeSearch,
};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

/// A liquid with a Birch–Murnaghan P(V) (V0 = 1500 Å³, B0 = 25 GPa, B0′ = 5): each probe reports the
/// exact pressure plus Gaussian noise of standard deviation `noise_GPa`, its energy from the matching
/// E(V) with a small noise in each half. The configuration is the number of probes run before it.
struct Liquid {
    v0: f64,
    b0: f64,
    b1: f64,
    noise_gpa: f64,
    rng: ChaCha8Rng,
    calls: usize,
    fail_at: Option<usize>,
}

impl Liquid {
    fn new(seed: u64, noise_gpa: f64) -> Self {
        Self {
            v0: 1500.0,
            b0: 25.0,
            b1: 5.0,
            noise_gpa,
            rng: ChaCha8Rng::seed_from_u64(seed),
            calls: 0,
            fail_at: None,
        }
    }
    fn gauss(&mut self) -> f64 {
        // Box–Muller on two uniforms from the top 53 bits.
        let u = |r: &mut ChaCha8Rng| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let (a, b) = (u(&mut self.rng), u(&mut self.rng));
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
    fn pressure(&self, v: f64) -> f64 {
        let n2 = (self.v0 / v).powf(2.0 / 3.0);
        1.5 * self.b0 * (n2.powf(3.5) - n2.powf(2.5)) * (1.0 + 0.75 * (self.b1 - 4.0) * (n2 - 1.0))
    }
    fn energy(&self, v: f64) -> f64 {
        let f = ((self.v0 / v).powf(2.0 / 3.0) - 1.0) / 2.0;
        -700.0 + 4.5 * self.b0 / EV_PER_A3_IN_GPA * self.v0 * f * f * (1.0 + (self.b1 - 4.0) * f)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the MD engine crashed")]
struct Crash;

impl VolumeProbe for Liquid {
    type Configuration = usize;
    type Error = Crash;
    fn probe(&mut self, start: &usize, r: &ProbeRequest) -> Result<ProbeOutcome<usize>, Crash> {
        if self.fail_at == Some(self.calls) {
            return Err(Crash);
        }
        assert!(*start <= self.calls, "starts from a configuration that exists");
        assert_eq!(r.steps, 2000);
        self.calls += 1;
        let p = self.pressure(r.volume_A3) + self.noise_gpa * self.gauss();
        let e = self.energy(r.volume_A3);
        let e1 = e + 0.01 * self.gauss();
        let e2 = e + 0.01 * self.gauss();
        Ok(ProbeOutcome {
            pressure_GPa: p,
            pressure_err_GPa: self.noise_gpa,
            energy_first_half_eV: e1,
            energy_second_half_eV: e2,
            configuration: r.index + 1,
        })
    }
}

#[test]
fn converges_to_the_known_volume_within_its_error_for_many_seeds() {
    let mut worst: f64 = 0.0;
    let mut worst_fit: f64 = 0.0;
    let mut probes = Vec::new();
    for seed in 0..300 {
        let noise = 0.2;
        let mut liquid = Liquid::new(seed, noise);
        // Start 10 % too dense.
        let mut search = VolumeSearch::new(SearchSettings::default(), 0usize, 1350.0).unwrap();
        let accepted = search
            .run(&mut liquid)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let v = accepted.volume_A3;
        // Accepted means |P| < 0.5 GPa measured with noise σ: the true pressure is within 0.5 + 4σ,
        // so the volume is within V (0.5 + 4σ)/B of V0.
        let true_p = liquid.pressure(v);
        assert!(accepted.pressure_GPa.abs() < 0.5, "seed {seed}");
        let b = 25.0 + 5.0 * true_p.abs(); // B(P) ≥ B0 for compression; a bound that holds here
        let allowed = v * (0.5 + 4.0 * noise) / b.min(25.0);
        assert!(
            (v - 1500.0).abs() < allowed,
            "seed {seed}: accepted {v} Å³, V0 1500 ± {allowed:.1}"
        );
        worst = worst.max((v - 1500.0).abs() / allowed);
        assert!(accepted.energy_converged);
        assert_eq!(accepted.configuration, accepted.index + 1);
        let eos = accepted.eos.expect("a P(V) fit over every probe");
        // The fit over every probe (few degrees of freedom, so no error bar to trust): within 2 %.
        assert!(
            (eos.v0_A3 - 1500.0).abs() < 30.0,
            "seed {seed}: P(V) fit V0 = {}",
            eos.v0_A3
        );
        worst_fit = worst_fit.max((eos.v0_A3 - 1500.0).abs());
        probes.push(search.history().records.len());
    }
    let mean = probes.iter().sum::<usize>() as f64 / probes.len() as f64;
    eprintln!(
        "300 seeds: worst |V − V0| / allowed = {worst:.2}, worst |fit V0 − V0| = {worst_fit:.2} Å³; probes per search: mean {mean:.2}, max {}",
        probes.iter().max().unwrap()
    );
}

#[test]
fn probes_follow_mpmorph_initial_then_eos_then_rescales() {
    let mut liquid = Liquid::new(7, 0.0);
    let mut search = VolumeSearch::new(SearchSettings::default(), 0usize, 1000.0).unwrap();
    let mut seen = Vec::new();
    let accepted = search
        .run_with_progress(&mut liquid, |event| {
            if let SearchEvent::Probing(r) = event {
                seen.push((r.kind, r.volume_A3));
            }
        })
        .unwrap();
    // 800, 1000, 1200 Å³ are all compressed (V0 = 1500): edge probes at 1300, 1400, then 1500 is inside.
    let kinds: Vec<ProbeKind> = seen.iter().map(|s| s.0).collect();
    assert_eq!(&kinds[..3], &[ProbeKind::Initial; 3]);
    assert!((seen[0].1 - 800.0).abs() < 1e-9 && (seen[2].1 - 1200.0).abs() < 1e-9);
    assert_eq!(kinds[3], ProbeKind::Edge);
    assert!((seen[3].1 - 1300.0).abs() < 1e-9, "{seen:?}");
    let first_eos = kinds.iter().position(|k| *k == ProbeKind::Eos).unwrap();
    assert!(kinds[3..first_eos].iter().all(|k| *k == ProbeKind::Edge));
    // Noise-free BM data fitted with BM: the EOS probe lands on V0 and is accepted at once.
    assert_eq!(accepted.index, first_eos);
    assert!(
        (accepted.volume_A3 - 1500.0).abs() < 1e-6,
        "{}",
        accepted.volume_A3
    );
    // The printable history: a header and one line per probe, the EOS probe naming its fit.
    let table = search.history().table();
    assert_eq!(table.lines().count(), 1 + seen.len());
    let eos_line = table.lines().nth(1 + first_eos).unwrap();
    assert!(
        eos_line.contains("Eos") && eos_line.contains("birch_murnaghan V0 = 1500.000"),
        "{table}"
    );
}

#[test]
fn rescale_uses_v2_equals_v1_exp_beta_p() {
    // A Vinet-like liquid fitted with Murnaghan lands off V0; the next probe is the β rescale, with
    // MPMorph's constant β when asked, by default with β = 1/B0 of the last fit.
    for beta in [Some(amorph_eos::MPMORPH_BETA_PER_BAR), None] {
        let mut liquid = Liquid::new(3, 0.0);
        let settings = SearchSettings {
            model: PressureModel::Murnaghan,
            pressure_tolerance_GPa: 0.001,
            beta_per_bar: beta,
            ..SearchSettings::default()
        };
        let mut search = VolumeSearch::new(settings, 0usize, 1400.0).unwrap();
        let _ = search.run(&mut liquid);
        let r = &search.history().records;
        let i = r
            .iter()
            .position(|x| x.request.kind == ProbeKind::Rescale)
            .expect("a rescale");
        let prev = &r[i - 1];
        let beta_per_gpa = match beta {
            Some(b) => b * 1e4,
            None => 1.0 / r[..i].iter().rev().find_map(|x| x.fit.as_ref()).unwrap().b0_GPa,
        };
        let mut step = beta_per_gpa * prev.outcome.pressure_GPa;
        if beta.is_none() {
            step = step.clamp(-0.05, 0.05); // the default's damping
        }
        let want = prev.request.volume_A3 * step.exp();
        assert!((r[i].request.volume_A3 - want).abs() < 1e-9 * want, "{beta:?}");
    }
}

#[test]
fn steep_all_positive_pressures_are_followed_outward_not_into_the_range() {
    // Convex P(V) whose root lies well beyond the initial probes (a packed cell far too dense): the
    // search must probe outward until it brackets the root and then converge in a few rescales.
    let mut liquid = Liquid::new(5, 0.05);
    let settings = SearchSettings {
        max_edge_probes: 8,
        ..SearchSettings::default()
    };
    let start = 0.62 * liquid.v0;
    let mut search = VolumeSearch::new(settings, 0usize, start).unwrap();
    let accepted = search.run(&mut liquid).unwrap();
    assert!(
        (accepted.volume_A3 / liquid.v0 - 1.0).abs() < 0.05,
        "{}",
        search.history().table()
    );
    let rescales = search
        .history()
        .records
        .iter()
        .filter(|r| r.request.kind == ProbeKind::Rescale)
        .count();
    assert!(rescales <= 4, "{}", search.history().table());
}

#[test]
fn resumes_after_a_crash_without_repeating_a_probe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search.json");
    // Uninterrupted run.
    let mut reference = VolumeSearch::new(SearchSettings::default(), 0usize, 1350.0).unwrap();
    let want = reference.run(&mut Liquid::new(11, 0.3)).unwrap();
    // The same run, crashing at its fourth probe; the history was written after each probe.
    let mut liquid = Liquid::new(11, 0.3);
    liquid.fail_at = Some(3);
    let mut search = VolumeSearch::new(SearchSettings::default(), 0usize, 1350.0).unwrap();
    let err = search
        .run_with_progress(&mut liquid, |e| {
            if let SearchEvent::Probed(_, h) = e {
                h.write_json(&path).unwrap();
            }
        })
        .unwrap_err();
    assert!(matches!(err, EosError::Probe { index: 3, .. }), "{err}");
    // Restart: a fresh process reads the history; the probe continues its random stream where the
    // crashed one stopped (as an MD engine restarts from its checkpoint).
    let history: SearchHistory<usize> = SearchHistory::read_json(&path).unwrap();
    assert_eq!(history.records.len(), 3);
    let mut resumed = VolumeSearch::resume(history).unwrap();
    liquid.fail_at = None;
    let got = resumed.run(&mut liquid).unwrap();
    assert_eq!(got, want);
    assert_eq!(
        liquid.calls,
        reference.history().records.len(),
        "no probe repeated"
    );
    assert_eq!(resumed.history(), reference.history());
}

#[test]
fn a_history_from_other_settings_does_not_resume() {
    let mut search = VolumeSearch::new(SearchSettings::default(), 0usize, 1350.0).unwrap();
    search.run(&mut Liquid::new(1, 0.1)).unwrap();
    let mut history = search.into_history();
    history.settings.initial_scales = vec![0.7, 1.0, 1.3];
    assert!(matches!(VolumeSearch::resume(history), Err(EosError::Search(_))));
}

/// Pressure that rises with volume: no equation of state describes it.
struct Unphysical;
impl VolumeProbe for Unphysical {
    type Configuration = ();
    type Error = std::convert::Infallible;
    fn probe(&mut self, _: &(), r: &ProbeRequest) -> Result<ProbeOutcome<()>, Self::Error> {
        Ok(ProbeOutcome {
            pressure_GPa: 0.01 * (r.volume_A3 - 1000.0),
            pressure_err_GPa: 0.1,
            energy_first_half_eV: -1.0,
            energy_second_half_eV: -1.0,
            configuration: (),
        })
    }
}

#[test]
fn non_monotonic_pressure_is_a_typed_error() {
    let mut search = VolumeSearch::new(SearchSettings::default(), (), 1000.0).unwrap();
    let err = search.run(&mut Unphysical).unwrap_err();
    assert!(matches!(err, EosError::NonMonotonicPressure { .. }), "{err}");
    assert_eq!(search.history().records.len(), 3, "the history keeps the probes");
}

/// An ideal gas, P = 1000 GPa·Å³ / V: positive everywhere, no zero-pressure volume.
struct Gas;
impl VolumeProbe for Gas {
    type Configuration = ();
    type Error = std::convert::Infallible;
    fn probe(&mut self, _: &(), r: &ProbeRequest) -> Result<ProbeOutcome<()>, Self::Error> {
        Ok(ProbeOutcome {
            pressure_GPa: 1000.0 / r.volume_A3,
            pressure_err_GPa: 0.01,
            energy_first_half_eV: -1.0,
            energy_second_half_eV: -1.0,
            configuration: (),
        })
    }
}

#[test]
fn no_root_in_range_is_a_typed_error_after_the_edge_probes() {
    let mut search = VolumeSearch::new(SearchSettings::default(), (), 100.0).unwrap();
    let err = search.run(&mut Gas).unwrap_err();
    match err {
        EosError::NoRootInRange {
            edge_probes, max_A3, ..
        } => {
            assert_eq!(edge_probes, 4);
            assert!((max_A3 - 160.0).abs() < 1e-9, "{max_A3}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(search.history().records.len(), 7);
}

#[test]
fn too_many_rescales_is_a_typed_error() {
    let mut liquid = Liquid::new(5, 0.0);
    let settings = SearchSettings {
        pressure_tolerance_GPa: 1e-9,
        max_rescales: 2,
        model: PressureModel::Vinet,
        ..SearchSettings::default()
    };
    let mut search = VolumeSearch::new(settings, 0usize, 1400.0).unwrap();
    let err = search.run(&mut liquid).unwrap_err();
    assert!(
        matches!(err, EosError::SearchNotConverged { rescales: 2, .. }),
        "{err}"
    );
}

#[test]
fn drifting_energy_reruns_then_accepts_flagged() {
    struct Drifting;
    impl VolumeProbe for Drifting {
        type Configuration = ();
        type Error = std::convert::Infallible;
        fn probe(&mut self, _: &(), r: &ProbeRequest) -> Result<ProbeOutcome<()>, Self::Error> {
            Ok(ProbeOutcome {
                pressure_GPa: 10.0 * (1000.0 / r.volume_A3).ln(),
                pressure_err_GPa: 0.01,
                energy_first_half_eV: -100.0,
                energy_second_half_eV: -101.0,
                configuration: (),
            })
        }
    }
    let mut search = VolumeSearch::new(SearchSettings::default(), (), 1000.0).unwrap();
    let accepted = search.run(&mut Drifting).unwrap();
    assert!(!accepted.energy_converged);
    let kinds: Vec<ProbeKind> = search.history().records.iter().map(|r| r.request.kind).collect();
    assert_eq!(&kinds[kinds.len() - 3..], &[ProbeKind::EnergyRerun; 3]);
}

#[test]
fn invalid_settings_are_refused() {
    let s = SearchSettings {
        initial_scales: vec![1.0, 1.2],
        ..SearchSettings::default()
    };
    assert!(matches!(
        VolumeSearch::new(s, (), 100.0),
        Err(EosError::Search(_))
    ));
    assert!(matches!(
        VolumeSearch::new(SearchSettings::default(), (), -1.0),
        Err(EosError::Search(_))
    ));
}

/// A liquid that cavitates: above 1.25 V0 the pressure is flat at −0.6 GPa (plus noise), so the
/// initial probes there show no slope.
struct Cavitating(Liquid);

impl VolumeProbe for Cavitating {
    type Configuration = usize;
    type Error = Crash;
    fn probe(&mut self, start: &usize, r: &ProbeRequest) -> Result<ProbeOutcome<usize>, Crash> {
        let mut o = self.0.probe(start, r)?;
        let v0 = self.0.v0;
        if r.volume_A3 > 1.25 * v0 {
            o.pressure_GPa = -0.6 + 0.05 * self.0.gauss();
        }
        Ok(o)
    }
}

#[test]
fn flat_negative_pressures_lead_the_search_to_smaller_volumes() {
    let mut liquid = Cavitating(Liquid::new(11, 0.05));
    let v0 = liquid.0.v0;
    let mut search = VolumeSearch::new(SearchSettings::default(), 0usize, 1.8 * v0).unwrap();
    let accepted = search.run(&mut liquid).unwrap();
    let table = search.history().table();
    assert!((accepted.volume_A3 / v0 - 1.0).abs() < 0.05, "{table}");
    assert!(
        search.history().records[3].request.volume_A3 < 1.44 * v0,
        "the first edge probe goes below the explored range:\n{table}"
    );
}
