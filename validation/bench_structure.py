"""Neighbour list and RDF on 10 000 atoms: pymatgen and amorph side by side, in one run.

Builds the bench structure of crates/amorph-structure/benches/neighbors.rs (a jittered 22^3 grid at
0.0744 atoms/A^3, SplitMix64 seed 2024, reproduced bit for bit here), then times pymatgen and amorph in
alternating rounds, so that both see the same phases of a noisy host: each round times pymatgen a few
times, then runs the bench binary in its `--times N` mode. It prints each round's medians and ratio,
the median of the per-round ratios (median against median) and the ratio of the best times, as
recorded in docs/benchmarks.md.

    python validation/bench_structure.py [--rounds 7]     # needs pymatgen; builds the bench itself
"""

import argparse
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


def times_of(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


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


def bench_binary():
    """Builds the neighbors bench and returns its executable."""
    out = subprocess.run(
        ["cargo", "bench", "-p", "amorph-structure", "--bench", "neighbors", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "neighbors" \
                and msg.get("executable"):
            return msg["executable"]
    raise RuntimeError("cargo did not report the neighbors bench executable")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--builds", type=int, default=60, help="amorph builds of each task per round")
    args = parser.parse_args()
    s = glass_10k()
    centers, _, _, _ = s.get_neighbor_list(5.0)
    print(f"pymatgen {pymatgen.core.__version__}: {len(s)} atoms, {len(centers)} ordered pairs within 5 A")
    exe = bench_binary()
    rows = {"full": [], "rdf": []}
    best = {"pym_full": [], "pym_rdf": [], "full": [], "half": [], "rdf": []}
    for r in range(args.rounds):
        pym_full = times_of(lambda: s.get_neighbor_list(5.0), 5)
        pym_rdf = times_of(lambda: pymatgen_rdf(s), 3)
        ours = json.loads(subprocess.run([exe, "--times", str(args.builds)], cwd=ROOT, check=True,
                                         capture_output=True, text=True).stdout)
        med = {k: float(np.median(v)) for k, v in ours.items()}
        rows["full"].append(np.median(pym_full) / med["full"])
        rows["rdf"].append(np.median(pym_rdf) / med["rdf"])
        for k, v in (("pym_full", pym_full), ("pym_rdf", pym_rdf)):
            best[k].append(min(v))
        for k in ("full", "half", "rdf"):
            best[k].append(min(ours[k]))
        print(f"round {r + 1}: pymatgen {np.median(pym_full) * 1e3:.1f} ms / amorph full "
              f"{med['full'] * 1e3:.2f} ms = {rows['full'][-1]:.0f}x; half {med['half'] * 1e3:.2f} ms; "
              f"RDF {np.median(pym_rdf) * 1e3:.1f} / {med['rdf'] * 1e3:.2f} ms = {rows['rdf'][-1]:.0f}x")
    lo = {k: min(v) for k, v in best.items()}
    print(f"full list: median of round ratios {np.median(rows['full']):.0f}x "
          f"(range {min(rows['full']):.0f}-{max(rows['full']):.0f}); best against best "
          f"{lo['pym_full'] * 1e3:.1f} / {lo['full'] * 1e3:.2f} ms = {lo['pym_full'] / lo['full']:.0f}x")
    print(f"half list: best {lo['half'] * 1e3:.2f} ms")
    print(f"RDF:       median of round ratios {np.median(rows['rdf']):.0f}x "
          f"(range {min(rows['rdf']):.0f}-{max(rows['rdf']):.0f}); best against best "
          f"{lo['pym_rdf'] * 1e3:.1f} / {lo['rdf'] * 1e3:.2f} ms = {lo['pym_rdf'] / lo['rdf']:.0f}x")


if __name__ == "__main__":
    main()
