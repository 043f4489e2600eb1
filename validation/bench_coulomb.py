"""Coulomb speed, amorph-md vs LAMMPS, side by side on the same structures (docs/benchmarks.md).

    /work/.venv-peers/bin/python validation/bench_coulomb.py             # LAMMPS, then cargo bench (1 and 2 threads)
    /work/.venv-peers/bin/python validation/bench_coulomb.py --no-cargo  # LAMMPS only

Structures: tests/data/glasses/Li2Si2O5.vasp (216 atoms, Pedone charges Li 0.6, Si 2.4, O -1.2) and its
4x4x3 replica (10 368 atoms), written in the same atom order as crates/amorph-md/benches/coulomb.rs
(images in a, b, c loop order, file order inside each image).

LAMMPS (Debian 29 Sep 2021, one core, OMP_NUM_THREADS=1): `run N` with no integrator, so that every step is
one force evaluation of the same configuration (pure Coulomb without the short-range repulsion collapses in
NVE). Reported: (Pair + Kspace time) / N from LAMMPS's timing breakdown, i.e. the force evaluation without
neighbour-list builds, which is what the criterion bench times (list already built).
  dsf:  pair_style coul/dsf 0.25 10.0
  pppm: pair_style coul/long 10.0 (LAMMPS default: tabulated real space) + kspace_style pppm 1e-5
amorph-md: Dsf::new(.., 0.25, 10.0).lammps_compatible() and Pppm::new(.., 10.0, 1e-5).lammps_compatible()
(real space with LAMMPS's erfc polynomial; SPME order 6), one `compute` with the neighbour list built.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lammps_refs  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHARGES = {"Li": 0.6, "Si": 2.4, "O": -1.2}
SYSTEMS = {"216": (1, 1, 1), "1728": (2, 2, 2), "10368": (4, 4, 3)}
STEPS = {"216": 1000, "1728": 200, "10368": 20}
STYLES = {
    "dsf_0.25_10": ("coul/dsf 0.25 10.0", None),
    "pppm_1e-5_rc10": ("coul/long 10.0", "pppm 1e-5"),
}


def replicate(s, n):
    m = s.lattice.matrix
    species, cart = [], []
    for i in range(n[0]):
        for j in range(n[1]):
            for k in range(n[2]):
                t = np.array([i, j, k], float) @ m
                for site in s:
                    species.append(site.specie.symbol)
                    cart.append(site.coords + t)
    big = m * np.array(n, float)[:, None]
    return Structure(big, species, cart, coords_are_cartesian=True)


def lammps_time(structure, style, steps, lmp):
    pair, kspace = style
    with tempfile.TemporaryDirectory(prefix="amorph-bench-") as d:
        d = Path(d)
        types = lammps_refs.types_of(structure)
        lammps_refs.write_data(structure, types, CHARGES, structure.lattice.matrix, d / "data.lmp")
        inp = ["units metal", "atom_style charge", "boundary p p p", "read_data data.lmp",
               f"pair_style {pair}", "pair_coeff * *"]
        if kspace:
            inp.append(f"kspace_style {kspace}")
        inp += ["neighbor 2.0 bin", "thermo 1000", f"run {steps}"]
        (d / "in.bench").write_text("\n".join(inp) + "\n")
        res = subprocess.run([lmp, "-in", "in.bench", "-log", "log.lammps", "-screen", "none"], cwd=d,
                             env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True)
        log = (d / "log.lammps").read_text()
        if res.returncode != 0:
            raise SystemExit(res.stdout + res.stderr + log[-2000:])
    t = {}
    for name in ("Pair", "Kspace", "Neigh"):
        m = re.search(rf"^{name}\s*\|\s*(\S+)", log, re.M)
        t[name] = float(m.group(1)) if m else 0.0
    grid = re.search(r"grid = (\d+ \d+ \d+)", log)
    return (t["Pair"] + t["Kspace"]) / steps, grid.group(1) if grid else None


def criterion_ns(group, name):
    p = REPO / "target" / "criterion" / group / name / "new" / "estimates.json"
    return json.loads(p.read_text())["median"]["point_estimate"] if p.exists() else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-cargo", action="store_true")
    ap.add_argument("--lmp", default=shutil.which("lmp") or "lmp")
    args = ap.parse_args(argv)
    glass = Structure.from_file(str(REPO / "tests" / "data" / "glasses" / "Li2Si2O5.vasp"))
    lmp = {}
    for label, n in SYSTEMS.items():
        s = replicate(glass, n)
        for name, style in STYLES.items():
            t, grid = lammps_time(s, style, STEPS[label], args.lmp)
            lmp[(label, name)] = t
            print(f"LAMMPS {label:>6} atoms {name:16s}: {t * 1e3:9.3f} ms per force evaluation"
                  + (f" (grid {grid})" if grid else ""))
    if args.no_cargo:
        return
    ours = {}
    for threads in (1, 2):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        subprocess.run(["cargo", "bench", "-p", "amorph-md", "--bench", "coulomb", "--", "dsf|pppm"],
                       cwd=REPO, env=env, check=True, capture_output=True)
        for label in SYSTEMS:
            for name in STYLES:
                for variant in (name, name + "_table"):
                    ns = criterion_ns(f"coulomb_{label}", variant)
                    ours[(label, variant, threads)] = ns * 1e-9 if ns else None
    print("\n| system | method | LAMMPS (1 core) | amorph 1 thread | ratio | amorph 2 threads | ratio |")
    print("|---|---|---|---|---|---|---|")
    # amorph's `_table` variants (tabulated real space, as LAMMPS's coul/long) are compared with the
    # same LAMMPS run.
    for label in SYSTEMS:
        for name in STYLES:
            t = lmp[(label, name)]
            for variant in (name, name + "_table"):
                a1, a2 = ours[(label, variant, 1)], ours[(label, variant, 2)]
                if a1 is None or a2 is None:
                    continue
                print(f"| {label} | {variant} | {t * 1e3:.3f} ms | {a1 * 1e3:.3f} ms | {t / a1:.2f}x | "
                      f"{a2 * 1e3:.3f} ms | {t / a2:.2f}x |")


if __name__ == "__main__":
    main()
