"""kinisi's coverage on the 200 seeded random walks of amorph-diffusion's coverage test.

    /work/.venv-peers/bin/python validation/diffusion_coverage.py [--trials 200]

Rebuilds, bit for bit, the walks of ``crates/amorph-diffusion/tests/coverage.rs`` (SplitMix64 +
Box–Muller; 16 atoms starting at the origin, 1000 frames 1 fs apart, Gaussian steps σ = 1 Å per
direction, so D = σ²/2 per fs = 0.05 cm²/s), runs kinisi's ``DiffusionAnalyzer`` on each (MSD at the
lags 10, 20, …, 990 fs, Bayesian regression from ``start_dt`` = 100 fs (the start of amorph's default
window, 10 % of the run) with kinisi's default MCMC settings, seeded), and counts how often kinisi's
95 % credible interval (2.5th–97.5th percentile of the D samples) contains the true D. Writes
``tests/data/diffusion/kinisi_coverage.json`` and prints the rate recorded in ``docs/benchmarks.md``.
"""

import argparse
import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import scipp as sc
import kinisi
from kinisi.diffusion_analyzer import DiffusionAnalyzer
from kinisi.displacement import calculate_msd
from kinisi.parser import Parser

ATOMS, FRAMES, SIGMA, DT = 16, 1000, 1.0, 1.0
TRUE_D = SIGMA**2 / (2 * DT) * 0.1  # cm²/s
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def normal(self):
        u1 = ((self.next() >> 11) + 1) / float(1 << 53)
        u2 = (self.next() >> 11) / float(1 << 53)
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def walk(seed):
    rng = SplitMix64(seed)
    x = np.zeros((FRAMES, ATOMS, 3))
    for t in range(1, FRAMES):
        for a in range(ATOMS):
            for d in range(3):
                x[t, a, d] = x[t - 1, a, d] + SIGMA * rng.normal()
    return x


def kinisi_interval(x, seed):
    box = 1.0e4  # Å: the walks never approach a boundary
    frac = x / box + 0.5
    frac = np.concatenate([frac[:1], frac], axis=0)  # kinisi's parsers repeat the first frame
    coords = sc.array(dims=["time", "particle", "dimension"], values=frac, unit=sc.units.dimensionless)
    latt = sc.array(
        dims=["time", "dimension1", "dimension2"],
        values=np.repeat(np.eye(3)[None] * box, frac.shape[0], axis=0),
        unit=sc.units.angstrom,
    )
    p = Parser(
        coords,
        latt,
        time_step=sc.scalar(DT, unit="fs"),
        step_skip=sc.scalar(1, unit=sc.units.dimensionless),
        dt=sc.arange("time interval", 10.0, 1000.0, 10.0, unit="fs"),
        specie_indices=sc.array(dims=["particle"], values=np.arange(ATOMS)),
        drift_indices=sc.array(dims=["particle"], values=np.array([], dtype=np.int64)),
    )
    a = DiffusionAnalyzer(p)
    a._dg = calculate_msd(p, progress=False)
    a.diffusion(sc.scalar(100.0, unit="fs"), progress=False, random_state=np.random.RandomState(seed))
    d = sc.to_unit(sc.array(dims=["s"], values=a.D.values, unit=a.D.unit), "cm2/s").values
    lo, hi = np.percentile(d, [2.5, 97.5])
    return float(np.mean(d)), float(lo), float(hi)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    rows = []
    t0 = time.time()
    for seed in range(args.trials):
        mean, lo, hi = kinisi_interval(walk(seed), seed)
        rows.append({"seed": seed, "D_mean": mean, "ci95": [lo, hi], "covers": lo <= TRUE_D <= hi})
        if seed % 20 == 19:
            k = sum(r["covers"] for r in rows)
            print(f"{seed + 1} walks: kinisi covers {k}/{len(rows)} ({time.time() - t0:.0f} s)", flush=True)
    k = sum(r["covers"] for r in rows)
    width = np.mean([(r["ci95"][1] - r["ci95"][0]) / TRUE_D for r in rows])
    out = {
        "kinisi_version": kinisi.__version__,
        "true_D_cm2_s": TRUE_D,
        "trials": len(rows),
        "covered": k,
        "coverage": k / len(rows),
        "mean_relative_ci95_width": float(width),
        # Sum of the last frame's coordinates of walk 0: the Rust test checks it builds the same walks.
        "walk0_last_frame_sum": float(walk(0)[-1].sum()),
        "walks": rows,
    }
    dest = Path(__file__).resolve().parent.parent / "tests" / "data" / "diffusion" / "kinisi_coverage.json"
    tmp = dest.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    os.replace(tmp, dest)
    print(f"kinisi {kinisi.__version__}: 95 % interval covers the true D in {k}/{len(rows)} walks "
          f"= {k / len(rows):.3f}; mean relative width {width:.3f}")


if __name__ == "__main__":
    main()
