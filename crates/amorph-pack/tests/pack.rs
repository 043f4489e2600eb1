//! Packed structures have the composition, the density and the minimum distances asked for,
//! checked with the cell list of amorph-structure and independently by brute force.

mod common;

use amorph_pack::{PackError, PackRequest, PairDistances, Progress, Stage, pack, pack_with_progress};
use amorph_structure::{Element, Lattice};
use common::{assert_distances, assert_wrapped, comp, el};

#[test]
fn li2si2o5_at_the_paper_density() {
    let r = PackRequest::new(comp("Li2Si2O5"))
        .formula_units(24)
        .density(2.3)
        .tolerance(2.2)
        .seed(11);
    let s = pack(&r).unwrap();
    assert_eq!(s.len(), 216);
    assert_eq!(s.composition().reduced_formula(), "Li2Si2O5");
    assert_eq!(s.indices_of(el("O")).len(), 120);
    assert!((s.density() - 2.3).abs() < 1e-12);
    let [a, b, c] = s.lattice().abc();
    assert!((a - b).abs() < 1e-12 && (b - c).abs() < 1e-12, "cubic by default");
    assert_wrapped(&s);
    // Sorted by element in pymatgen order: Li, Si, O.
    let order: Vec<Element> = s.species().to_vec();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order[0], el("Li"));
    assert_eq!(order[215], el("O"));
    assert_distances(&s, &PairDistances::new(), 2.2);
}

#[test]
fn beyond_random_insertion_jamming() {
    // φ = 0.52, far above where random sequential insertion jams (≈ 0.38).
    let r = PackRequest::new(comp("Li3YCl6"))
        .atoms(200)
        .density(2.4)
        .tolerance(3.0)
        .seed(3);
    let plan = r.plan().unwrap();
    assert!(plan.packing_fraction() > 0.5, "{}", plan.packing_fraction());
    let s = pack(&r).unwrap();
    assert_eq!(s.len(), 200);
    assert_distances(&s, &PairDistances::new(), 3.0);
}

#[test]
fn per_pair_distances_and_a_triclinic_cell() {
    let (li, si, o) = (el("Li"), el("Si"), el("O"));
    let pairs = PairDistances::new()
        .with(si, o, 1.5)
        .with(li, o, 1.8)
        .with(o, o, 2.4)
        .with(si, si, 2.8);
    let shape = Lattice::from_parameters(1.0, 1.2, 0.9, 80.0, 100.0, 70.0).unwrap();
    let r = PackRequest::new(comp("Li2Si2O5"))
        .atoms(180)
        .density(2.4)
        .shape(shape.clone())
        .tolerance(2.0)
        .pair_distances(pairs.clone())
        .seed(5);
    let s = pack(&r).unwrap();
    let [al, be, ga] = s.lattice().angles();
    assert!((al - 80.0).abs() < 1e-9 && (be - 100.0).abs() < 1e-9 && (ga - 70.0).abs() < 1e-9);
    assert!((s.density() - 2.4).abs() < 1e-12);
    assert_wrapped(&s);
    assert_distances(&s, &pairs, 2.0);
}

#[test]
fn explicit_counts_volume_and_lattice() {
    let counts = [(el("Na"), 10), (el("Cl"), 10), (el("Na"), 2)];
    let s = pack(&PackRequest::from_counts(counts).volume(1500.0).tolerance(2.5)).unwrap();
    assert_eq!(s.indices_of(el("Na")).len(), 12);
    assert_eq!(s.indices_of(el("Cl")).len(), 10);
    assert!((s.volume() - 1500.0).abs() < 1e-9);
    let l = Lattice::orthorhombic(9.0, 10.0, 11.0).unwrap();
    let s = pack(
        &PackRequest::new(comp("SiO2"))
            .atoms(60)
            .lattice(l.clone())
            .tolerance(2.0),
    )
    .unwrap();
    assert_eq!(s.lattice(), &l);
    assert_distances(&s, &PairDistances::new(), 2.0);
}

#[test]
fn small_cells_keep_atoms_apart_from_their_own_images() {
    // A cell about twice the tolerance wide: several images of one atom are within reach.
    let r = PackRequest::new(comp("LiF"))
        .atoms(4)
        .lattice(Lattice::from_parameters(4.3, 4.6, 4.4, 75.0, 95.0, 105.0).unwrap())
        .tolerance(2.0)
        .seed(9);
    let s = pack(&r).unwrap();
    assert_distances(&s, &PairDistances::new(), 2.0);
}

#[test]
fn the_impossible_request_is_refused_at_once() {
    let t = std::time::Instant::now();
    let e = pack(
        &PackRequest::new(comp("Li2Si2O5"))
            .atoms(999)
            .density(6.0)
            .tolerance(2.5),
    )
    .unwrap_err();
    assert!(t.elapsed().as_secs_f64() < 1.0);
    let msg = e.to_string();
    assert!(matches!(e, PackError::TooDense { .. }), "{msg}");
    assert!(msg.contains("packing fraction of 1.77"), "{msg}");
    assert!(msg.contains("above 0.64"), "{msg}");
}

#[test]
fn an_exhausted_budget_says_how_close_it_got() {
    // φ = 0.63: possible in principle, not within 50 iterations.
    let e = pack(
        &PackRequest::new(comp("Li2Si2O5"))
            .atoms(999)
            .density(3.13)
            .tolerance(2.2)
            .max_iterations(50),
    )
    .unwrap_err();
    let msg = e.to_string();
    match e {
        PackError::NotConverged {
            overlaps,
            closest,
            required,
            ..
        } => {
            assert!(overlaps > 0);
            assert!(closest < required && required == 2.2, "{msg}");
        }
        other => panic!("{other}"),
    }
    assert!(msg.contains("50 iterations"), "{msg}");
}

#[test]
fn same_seed_same_structure_other_seed_other_structure() {
    let r = PackRequest::new(comp("Li2Si2O5"))
        .atoms(270)
        .density(2.5)
        .tolerance(2.2);
    let a = pack(&r.clone().seed(42)).unwrap();
    let b = pack(&r.clone().seed(42)).unwrap();
    let c = pack(&r.seed(43)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.species(), c.species());
    assert_ne!(a.positions(), c.positions());
}

#[test]
fn progress_reports_every_stage_and_ends_done() {
    let r = PackRequest::new(comp("Li2Si2O5"))
        .atoms(999)
        .density(2.3)
        .tolerance(2.2)
        .seed(1);
    let mut seen: Vec<Progress> = Vec::new();
    let s = pack_with_progress(&r, |p| seen.push(*p)).unwrap();
    let stages: Vec<Stage> = seen.iter().map(|p| p.stage).collect();
    for st in [Stage::Insert, Stage::Relax, Stage::Verify, Stage::Done] {
        assert!(stages.contains(&st), "{st:?} missing in {stages:?}");
    }
    let last = seen.last().unwrap();
    assert_eq!(last.stage, Stage::Done);
    assert_eq!(last.natoms, s.len());
    let min = last.min_distance.unwrap();
    assert!((2.2..2.3).contains(&min), "{min}");
    assert!(seen.len() < 1000, "{} reports", seen.len());
}

#[test]
fn fractional_compositions_pack_exactly() {
    let s = pack(
        &PackRequest::new(comp("Li0.5La0.5TiO3"))
            .atoms(100)
            .density(4.5)
            .tolerance(1.8)
            .seed(2),
    )
    .unwrap();
    let counts: Vec<usize> = ["Li", "La", "Ti", "O"]
        .iter()
        .map(|e| s.indices_of(el(e)).len())
        .collect();
    assert_eq!(counts, vec![10, 10, 20, 60]);
}

#[test]
fn thin_slab_cells_need_several_images_per_pair() {
    // 4.6 Å across: every atom's neighbours reach through both faces of the thin axis.
    let r = PackRequest::new(comp("Li2Si2O5"))
        .atoms(270)
        .lattice(Lattice::orthorhombic(4.6, 30.0, 30.0).unwrap())
        .tolerance(2.3)
        .seed(8);
    assert!(r.plan().unwrap().packing_fraction() > 0.38);
    let s = pack(&r).unwrap();
    assert_distances(&s, &PairDistances::new(), 2.3);
}
