"""Neighbour list and RDF on 10 000 atoms: pymatgen and amorph side by side, in one run.

Builds the bench structure of crates/amorph-structure/benches/neighbors.rs (a jittered 22^3 grid at
0.0744 atoms/A^3, SplitMix64 seed 2024, reproduced bit for bit here), times pymatgen on it, then runs the
criterion bench and prints the ratios recorded in docs/benchmarks.md.

    python validation/bench_structure.py            # needs pymatgen; runs `cargo bench` itself
"""

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pymatgen.core
from pymatgen.core import Lattice, Structure

ROOT = Path(__file__).resolve().parent.parent
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed

    def next_f64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        return (z >> 11) / float(1 << 53)


def glass_10k():
    n, natoms = 22, 10_000
    edge = (natoms / 0.0744) ** (1.0 / 3.0)
    spacing = edge / n
    kinds = ["Li", "Li", "Si", "Si", "O", "O", "O", "O", "O"]
    rng = SplitMix64(2024)
    species, coords = [], []
    for i in range(n):
        for j in range(n):
            for k in range(n):
                if len(coords) == natoms:
                    break
                p = []
                for g in (i, j, k):
                    p.append((g + 0.5) * spacing + (rng.next_f64() - 0.5) * 0.6 * spacing)
                species.append(kinds[len(coords) % len(kinds)])
                coords.append(p)
    return Structure(Lattice.cubic(edge), species, coords, coords_are_cartesian=True)


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def pymatgen_rdf(s, rmax=6.0, bins=60):
    centers, points, _, dist = s.get_neighbor_list(rmax)
    dr = rmax / bins
    k = np.floor(dist / dr).astype(int)
    species = np.array([site.specie.Z for site in s])
    out = {}
    for a in np.unique(species):
        for b in np.unique(species):
            sel = (species[centers] == a) & (species[points] == b) & (k < bins)
            out[(a, b)] = np.bincount(k[sel], minlength=bins)
    return out


def criterion_ns(name):
    est = ROOT / "target/criterion/glass_10k" / name / "new/estimates.json"
    return json.loads(est.read_text())["median"]["point_estimate"]


def main():
    s = glass_10k()
    centers, _, _, _ = s.get_neighbor_list(5.0)
    print(f"pymatgen {pymatgen.core.__version__}: {len(s)} atoms, {len(centers)} ordered pairs within 5 A")
    t_nl = best_of(lambda: s.get_neighbor_list(5.0), 3)
    t_rdf = best_of(lambda: pymatgen_rdf(s), 3)
    print(f"pymatgen get_neighbor_list(5.0): {t_nl * 1e3:.1f} ms; RDF 6 A / 60 bins: {t_rdf * 1e3:.1f} ms")
    subprocess.run(["cargo", "bench", "-p", "amorph-structure", "--bench", "neighbors", "--", "--noplot"],
                   cwd=ROOT, check=True)
    nl = criterion_ns("neighbor_list_full_5A") * 1e-9
    rdf = criterion_ns("rdf_6A_60bins") * 1e-9
    print(f"amorph NeighborList full 5 A: {nl * 1e3:.2f} ms -> {t_nl / nl:.0f}x pymatgen")
    print(f"amorph Rdf 6 A / 60 bins:     {rdf * 1e3:.2f} ms -> {t_rdf / rdf:.0f}x pymatgen")


if __name__ == "__main__":
    main()
