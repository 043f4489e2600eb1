"""Reference data for amorph-diffusion from pymatgen-analysis-diffusion.

    /work/.venv-peers/bin/python validation/diffusion_refs.py      # writes tests/data/diffusion/

1. Two synthetic random-walk XDATCARs of known D, made here from a seeded numpy generator:
   - ``walk_cubic.XDATCAR``: cubic 12 Å cell, 8 Li random-walking (Gaussian steps, σ = 0.3 Å per
     direction per frame) among 8 O vibrating about fixed sites (σ = 0.05 Å), every atom also carried
     by a common drift of 0.01 Å per frame along x (which drift removal must cancel); 1500 frames
     10 fs apart (time_step 2 fs × step_skip 5): D = σ²/(2·10 fs) = 4.5e-4 cm²/s.
   - ``walk_triclinic.XDATCAR``: triclinic cell (11, 12, 13 Å; 80°, 95°, 105°), 10 Li (σ = 0.25 Å)
     among 6 O, 1200 frames 10 fs apart (1 fs × 10), no drift: D = 3.125e-4 cm²/s.
   Positions are written wrapped into the cell (Direct coordinates, 8 decimals), so readers must unwrap.
2. ``Li2Si2O5_melt_3000K.XDATCAR``, a short real melt made by amorph's own MD: the example glass
   (216 atoms), Pedone + DSF, 3000 K Nosé–Hoover, 2 fs × 2400 steps, every 40th step kept (61 frames
   80 fs apart, 0.96 MB), by ``--remake-melt`` or by hand:

       cargo run --release -p amorph-cli -- md examples/data/Li2Si2O5_glass.vasp --potential pedone \
           --temperature 3000 --timestep 2 --steps 2400 --every 40 --seed 7 \
           --traj tests/data/diffusion/Li2Si2O5_melt_3000K.XDATCAR

   Otherwise the committed file is only read here.
3. For each XDATCAR, ``DiffusionAnalyzer.from_structures(..., "Li", T, time_step, step_skip, smoothed=…)``
   in its three modes (``"max"`` with min_obs 30, ``"constant"`` with avg_nsteps, ``False``): D, its
   std dev, components, conductivity, the MSD points and their times → ``<name>.pymatgen.json``.
4. Arrhenius tables (``arrhenius_*.csv``) and pymatgen's ``fit_arrhenius`` /
   ``get_extrapolated_diffusivity(…, 300)`` on them → ``arrhenius.pymatgen.json``.

``crates/amorph-diffusion/tests/pymatgen_refs.rs`` compares (D to 1e-6 relative, Arrhenius to 1e-9).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pymatgen.analysis.diffusion
from pymatgen.analysis.diffusion.analyzer import (
    DiffusionAnalyzer,
    fit_arrhenius,
    get_extrapolated_diffusivity,
)
from pymatgen.core import Lattice
from pymatgen.io.vasp.outputs import Xdatcar

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "diffusion"


def write_atomically(path, text):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_xdatcar(path, lattice, symbols, counts, frac_frames, comment):
    lines = [comment, "1.0"]
    for row in lattice.matrix:
        lines.append(" ".join(f"{x:16.10f}" for x in row))
    lines.append(" ".join(symbols))
    lines.append(" ".join(str(c) for c in counts))
    for i, frac in enumerate(frac_frames):
        lines.append(f"Direct configuration= {i + 1:5d}")
        for f in frac:
            lines.append(" ".join(f"{x:11.8f}" for x in f))
    write_atomically(path, "\n".join(lines) + "\n")


def make_walk(path, lattice, n_li, n_o, frames, sigma_li, drift, seed, comment):
    rng = np.random.default_rng(seed)
    n = n_li + n_o
    start = rng.random((n, 3)) @ lattice.matrix
    cart = np.empty((frames, n, 3))
    cart[0] = start
    for t in range(1, frames):
        step = np.zeros((n, 3))
        step[:n_li] = rng.normal(0.0, sigma_li, (n_li, 3))
        cart[t] = cart[t - 1] + step
        cart[t] += drift
    # Framework atoms vibrate about their (drifting) sites.
    cart[:, n_li:, :] += rng.normal(0.0, 0.05, (frames, n_o, 3))
    frac = cart @ np.linalg.inv(lattice.matrix)
    frac -= np.floor(frac)
    frac[frac >= 1.0] -= 1.0
    write_xdatcar(path, lattice, ["Li", "O"], [n_li, n_o], frac, comment)


WALKS = [
    dict(
        name="walk_cubic",
        lattice=Lattice.cubic(12.0),
        n_li=8,
        n_o=8,
        frames=1500,
        sigma_li=0.3,
        drift=np.array([0.01, 0.0, 0.0]),
        seed=20261125,
        time_step=2,
        step_skip=5,
        temperature=1500.0,
        avg_nsteps=1000,
    ),
    dict(
        name="walk_triclinic",
        lattice=Lattice.from_parameters(11.0, 12.0, 13.0, 80.0, 95.0, 105.0),
        n_li=10,
        n_o=6,
        frames=1200,
        sigma_li=0.25,
        drift=np.zeros(3),
        seed=7,
        time_step=1,
        step_skip=10,
        temperature=1000.0,
        avg_nsteps=1000,
    ),
]

MELT = dict(name="Li2Si2O5_melt_3000K", time_step=2, step_skip=40, temperature=3000.0, avg_nsteps=30)


def analyse(path, case):
    structures = Xdatcar(str(path)).structures
    out = {
        "file": path.name,
        "frames": len(structures),
        "time_step_fs": case["time_step"],
        "step_skip": case["step_skip"],
        "temperature_K": case["temperature"],
        "species": "Li",
        "modes": {},
    }
    for label, kwargs in [
        ("max", dict(smoothed="max", min_obs=30)),
        ("constant", dict(smoothed="constant", avg_nsteps=case["avg_nsteps"])),
        ("false", dict(smoothed=False)),
    ]:
        da = DiffusionAnalyzer.from_structures(
            structures, "Li", case["temperature"], case["time_step"], case["step_skip"], **kwargs
        )
        out["modes"][label] = {
            "kwargs": {k: v for k, v in kwargs.items()},
            "diffusivity": float(da.diffusivity),
            "diffusivity_std_dev": float(da.diffusivity_std_dev),
            "diffusivity_components": [float(x) for x in da.diffusivity_components],
            "diffusivity_components_std_dev": [float(x) for x in da.diffusivity_components_std_dev],
            "conductivity": float(da.conductivity),
            "dt": [float(x) for x in da.dt],
            "msd": [float(x) for x in da.msd],
        }
        print(f"{path.name:32s} {label:8s} D = {da.diffusivity:.6e} ± {da.diffusivity_std_dev:.2e} cm2/s "
              f"({len(da.dt)} points)")
    write_atomically(OUT / f"{case['name']}.pymatgen.json", json.dumps(out, indent=1) + "\n")


ARRHENIUS = {
    # The paper's four temperatures, Ea 0.62 eV, D0 2e-3 cm²/s, 10 % lognormal noise (seed 3).
    "arrhenius_noisy.csv": ([1000.0, 1500.0, 2000.0, 2500.0], 0.62, 2e-3, 0.1, 3),
    # Decreasing temperatures, six points, 25 % noise, with standard errors in a third column.
    "arrhenius_decreasing.csv": ([3000.0, 2600.0, 2200.0, 1800.0, 1400.0, 1000.0], 0.35, 5e-4, 0.25, 11),
    # Two points: no standard error of Ea (pymatgen returns None).
    "arrhenius_two.csv": ([1200.0, 2400.0], 0.8, 1e-2, 0.0, 5),
}
KB = 1.380649e-23 / 1.602176634e-19


def arrhenius_refs():
    refs = {}
    for name, (temps, ea, d0, noise, seed) in ARRHENIUS.items():
        rng = np.random.default_rng(seed)
        t = np.array(temps)
        d = d0 * np.exp(-ea / (KB * t)) * np.exp(noise * rng.standard_normal(len(t)))
        with_err = name == "arrhenius_decreasing.csv"
        rows = ["T_K,D_cm2_s" + (",D_stderr_cm2_s" if with_err else "")]
        for ti, di in zip(t, d):
            ti, di = float(ti), float(di)
            rows.append(f"{ti!r},{di!r}" + (f",{di * noise!r}" if with_err else ""))
        write_atomically(OUT / name, "\n".join(rows) + "\n")
        # pymatgen's linear mode ignores diffusivity_errors: this is the unweighted fit.
        e, c, se = fit_arrhenius(list(t), list(d))
        refs[name] = {
            "Ea_eV": float(e),
            "c_cm2_s": float(c),
            "Ea_stderr_eV": None if se is None else float(se),
            "D_at_300K_cm2_s": float(get_extrapolated_diffusivity(list(t), list(d), 300.0)),
            "weighted_in_file": with_err,
        }
        print(f"{name:28s} Ea = {e:.6f} eV, c = {c:.4e} cm2/s, stderr {se}")
    write_atomically(OUT / "arrhenius.pymatgen.json", json.dumps(refs, indent=1) + "\n")


MELT_COMMAND = [
    "cargo", "run", "--release", "-q", "-p", "amorph-cli", "--", "md", "examples/data/Li2Si2O5_glass.vasp",
    "--potential", "pedone", "--temperature", "3000", "--timestep", "2", "--steps", "2400", "--every", "40",
    "--seed", "7", "--traj", "tests/data/diffusion/Li2Si2O5_melt_3000K.XDATCAR",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--remake-melt", action="store_true", help="rerun amorph md for the melt XDATCAR")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.remake_melt:
        subprocess.run(MELT_COMMAND, cwd=ROOT, check=True)
    for w in WALKS:
        path = OUT / f"{w['name']}.XDATCAR"
        make_walk(path, w["lattice"], w["n_li"], w["n_o"], w["frames"], w["sigma_li"], w["drift"], w["seed"],
                  f"{w['name']}: seeded random walk, see validation/diffusion_refs.py")
        analyse(path, w)
    melt = OUT / f"{MELT['name']}.XDATCAR"
    if melt.exists():
        analyse(melt, MELT)
    else:
        print(f"{melt} missing: make it first (validation/README.md)", file=sys.stderr)
        sys.exit(1)
    arrhenius_refs()
    version = getattr(pymatgen.analysis.diffusion, "__version__", "?")
    print(f"pymatgen-analysis-diffusion {version}")


if __name__ == "__main__":
    main()
