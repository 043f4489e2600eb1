"""Reference structures, summaries and RDFs computed with pymatgen, for crates/amorph-structure tests.

Writes tests/data/refs_structure/{name}.json (the structure, pymatgen Structure.as_dict()) and
tests/data/refs_structure/{name}.ref.json (what pymatgen says about it). Run through `cargo xtask refs`
or directly: python validation/structure_refs.py [OUTDIR].

RDF convention (the crate's): g_AB(r) = V n_AB(r) / (N_A N_B 4/3 pi (r_hi^3 - r_lo^3)), n_AB counting
ordered pairs over every periodic image, self excluded; bins [k dr, (k+1) dr), dr = rmax / bins. The
pair distances come from pymatgen's Structure.get_neighbor_list, the histogram from numpy.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pymatgen
from pymatgen.core import Lattice, Structure

RMAX = 6.0
BINS = 60
CN_CUTOFF = 2.4


def random_structure(lattice, species, seed, dmin):
    rng = np.random.default_rng(seed)
    frac = []
    while len(frac) < len(species):
        f = rng.random(3)
        if frac:
            d = lattice.get_all_distances([f], frac)[0]
            if d.min() < dmin:
                continue
        frac.append(f)
    return Structure(lattice, species, frac)


def cases():
    li2si2o5 = ["Li"] * 2 + ["Si"] * 2 + ["O"] * 5
    yield "cubic_Li2Si2O5", random_structure(Lattice.cubic(11.03), li2si2o5 * 10, 1, 1.6)
    yield "monoclinic_Li3PS4", random_structure(
        Lattice.monoclinic(9.03, 10.07, 11.11, 115.3), (["Li"] * 3 + ["P"] + ["S"] * 4) * 8, 2, 1.7)
    # Perpendicular widths below 2 x RMAX: neighbours come from several images of the cell. Lengths avoid
    # bin edges and the cutoffs: a self image at exactly an edge would make the test depend on the last bit.
    yield "triclinic_small_LiAlO2", random_structure(
        Lattice.from_parameters(4.13, 4.61, 5.07, 70.3, 80.1, 65.2), ["Li", "Al", "O", "O"] * 2, 3, 1.5)


def rdf(structure, rmax, bins):
    centers, points, _, dist = structure.get_neighbor_list(rmax)
    dr = rmax / bins
    k = np.floor(dist / dr).astype(int)
    keep = k < bins
    centers, points, k = centers[keep], points[keep], k[keep]
    edges = np.arange(bins + 1) * dr
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    volume = structure.volume
    species = np.array([s.specie.symbol for s in structure])
    elements = [e.symbol for e in sorted(structure.composition.elements)]  # pymatgen order (X, symbol)
    n = len(structure)
    out = {"r": list((edges[:-1] + 0.5 * dr)), "g_total": list(volume * np.bincount(k, minlength=bins) / (n * n * shell))}
    for i, a in enumerate(elements):
        for b in elements[i:]:
            sel = (species[centers] == a) & (species[points] == b)
            na, nb = (species == a).sum(), (species == b).sum()
            out[f"g_{a}-{b}"] = list(volume * np.bincount(k[sel], minlength=bins) / (na * nb * shell))
    return out


def coordination(structure, a, b, cutoff):
    centers, points, _, _ = structure.get_neighbor_list(cutoff)
    species = np.array([s.specie.symbol for s in structure])
    sel = (species[centers] == a) & (species[points] == b)
    return float(sel.sum() / (species == a).sum())


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "tests/data/refs_structure"
    out.mkdir(parents=True, exist_ok=True)
    for name, s in cases():
        (out / f"{name}.json").write_text(json.dumps(s.as_dict()))
        lat = s.lattice
        elements = [e.symbol for e in sorted(s.composition.elements)]
        centers, points, images, dist = s.get_neighbor_list(5.0)
        ref = {
            "generated_by": f"validation/structure_refs.py with pymatgen {pymatgen.core.__version__}",
            "natoms": len(s),
            "reduced_formula": s.composition.reduced_formula,
            "volume_A3": lat.volume,
            "density_g_cm3": s.density,
            "lattice": dict(zip(["a", "b", "c", "alpha", "beta", "gamma"], [*lat.abc, *lat.angles])),
            "perpendicular_widths_A": [lat.volume / np.linalg.norm(np.cross(lat.matrix[(i + 1) % 3], lat.matrix[(i + 2) % 3])) for i in range(3)],
            "neighbors_5A": {"count": int(len(dist)), "sum_distance": float(dist.sum()),
                             "per_atom": np.bincount(centers, minlength=len(s)).tolist()},
            "rdf": {"rmax": RMAX, "bins": BINS, **rdf(s, RMAX, BINS)},
            "coordination": {f"{a}-{b}": coordination(s, a, b, CN_CUTOFF) for a in elements for b in elements},
            "coordination_cutoff_A": CN_CUTOFF,
        }
        (out / f"{name}.ref.json").write_text(json.dumps(ref, indent=1))
        print(f"wrote {name}: {len(s)} atoms, {len(dist)} neighbour pairs within 5 A")


if __name__ == "__main__":
    main()
