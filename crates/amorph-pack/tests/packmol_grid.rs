//! Replays the PACKMOL agreement grid (`tests/data/packmol_grid.csv`, written by
//! `validation/packmol_compare.py grid`) without PACKMOL: every request PACKMOL packed, amorph must
//! pack too, and every recorded amorph success or refusal must still hold (a recorded failure of the
//! minimiser near random close packing is not asserted: a better minimiser may pack it).

use amorph_pack::{PackError, PackRequest, pack};
use amorph_structure::{NeighborList, PairSet};

#[test]
fn never_fails_where_packmol_succeeds() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/packmol_grid.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (system, natoms, density, tolerance, seed) = (
        col("system"),
        col("natoms"),
        col("density"),
        col("tolerance"),
        col("seed"),
    );
    let (packmol, amorph) = (col("packmol_status"), col("amorph_status"));
    let mut packmol_successes = 0;
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        rows += 1;
        let tol: f64 = f[tolerance].parse().unwrap();
        let r = PackRequest::new(f[system].parse().unwrap())
            .atoms(f[natoms].parse().unwrap())
            .density(f[density].parse().unwrap())
            .tolerance(tol)
            .seed(f[seed].parse().unwrap());
        let result = pack(&r);
        if f[packmol] == "success" {
            packmol_successes += 1;
            assert!(
                result.is_ok(),
                "PACKMOL packs {line} but amorph: {}",
                result.unwrap_err()
            );
        }
        match (f[amorph], &result) {
            ("success", Ok(s)) => {
                let nl = NeighborList::build(s.lattice(), s.positions(), tol, PairSet::Half).unwrap();
                assert_eq!(nl.num_entries(), 0, "{line}: a pair closer than {tol} Å");
            }
            ("refused", Err(PackError::TooDense { .. } | PackError::CellTooSmall { .. })) => {}
            ("fail", _) => {}
            (recorded, now) => panic!("{line}: recorded {recorded}, now {now:?}"),
        }
    }
    assert!(rows >= 40, "{rows} rows");
    assert!(packmol_successes >= 20, "{packmol_successes}");
}
