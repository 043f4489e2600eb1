"""Speed of amorph-diffusion against pymatgen-analysis-diffusion's DiffusionAnalyzer, side by side.

    /work/.venv-peers/bin/python validation/diffusion_bench.py [--frames 10000] [--keep]

Writes a 200-atom × 10 000-frame XDATCAR (50 Li random-walking, Gaussian steps σ = 0.2 Å, among 150
O vibrating about fixed sites, cubic 14 Å cell, wrapped Direct coordinates, numpy seed 7) to a temporary
directory, then on that same file:

- pymatgen: ``Xdatcar(path).structures`` (parsing) and
  ``DiffusionAnalyzer.from_structures(structures, "Li", 1500, 2, 10, smoothed="max")`` (analysis),
  timed separately with ``time.perf_counter`` (best of 3 for the analysis, one parse);
- amorph: ``target/release/amorph diffusion FILE --species Li --timestep 2 --step-skip 10
  --smoothed max --json`` and the same without ``--smoothed`` (amorph's default fit), wall time of the
  whole process (parse + analysis), best of 3; the script builds the binary first.

- amorph, analysis only: ``cargo bench -p amorph-diffusion --bench msd -- all`` (same sizes, the
  trajectory generated in Rust; criterion's median), run right after pymatgen.

It checks that both report the same D (1e-6 relative) and prints the ratios recorded in
``docs/benchmarks.md``.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
from pymatgen.io.vasp.outputs import Xdatcar

ROOT = Path(__file__).resolve().parent.parent


def write_walk(path, frames):
    rng = np.random.default_rng(7)
    n_li, n_o, a = 50, 150, 14.0
    home = rng.random((n_li + n_o, 3)) * a
    li = home[:n_li] + np.cumsum(
        np.concatenate([np.zeros((1, n_li, 3)), rng.normal(0, 0.2, (frames - 1, n_li, 3))]), axis=0
    )
    o = home[n_li:][None] + rng.normal(0, 0.1, (frames, n_o, 3))
    frac = np.concatenate([li, o], axis=1) / a
    frac -= np.floor(frac)
    with open(path, "w") as f:
        f.write(f"bench walk\n1.0\n{a:.6f} 0 0\n0 {a:.6f} 0\n0 0 {a:.6f}\nLi O\n{n_li} {n_o}\n")
        for t in range(frames):
            f.write(f"Direct configuration= {t + 1:6d}\n")
            np.savetxt(f, frac[t], fmt="%.8f")


def best_of(n, fn):
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--keep", action="store_true", help="keep the XDATCAR (printed path)")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "amorph-cli"], cwd=ROOT, check=True)
    exe = ROOT / "target" / "release" / "amorph"
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "bench_XDATCAR"
    write_walk(path, args.frames)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, 200 atoms x {args.frames} frames")

    t_parse, structures = best_of(1, lambda: Xdatcar(str(path)).structures)
    t_an, da = best_of(
        3, lambda: DiffusionAnalyzer.from_structures(structures, "Li", 1500, 2, 10, smoothed="max")
    )
    print(f"pymatgen: parse {t_parse:.2f} s, DiffusionAnalyzer(max) {t_an:.2f} s, total {t_parse + t_an:.2f} s; "
          f"D = {da.diffusivity:.6e}")

    base = [str(exe), "diffusion", str(path), "--species", "Li", "--timestep", "2", "--step-skip", "10", "--json"]
    t_max, out = best_of(3, lambda: subprocess.run(base + ["--smoothed", "max"], capture_output=True, check=True))
    d_max = json.loads(out.stdout)["D_cm2_s"]
    t_def, out = best_of(3, lambda: subprocess.run(base, capture_output=True, check=True))
    d_def = json.loads(out.stdout)
    rel = abs(d_max - da.diffusivity) / da.diffusivity
    print(f"amorph --smoothed max: {t_max:.3f} s (whole process), D = {d_max:.6e} (relative difference {rel:.1e})")
    print(f"amorph default rule:   {t_def:.3f} s, D = {d_def['D_cm2_s']:.6e} ± {d_def['D_stderr_cm2_s']:.1e}")
    print(f"ratio, file to D (pymatgen parse + analysis) / (amorph --smoothed max): {(t_parse + t_an) / t_max:.0f}x")
    print(f"ratio, pymatgen analysis only / amorph whole process: {t_an / t_max:.1f}x")
    # Analysis only, same sizes: criterion's median of the bench `all` (displacements + FFT MSD + default
    # fit + pymatgen's max fit), run right after pymatgen on the same machine.
    subprocess.run(["cargo", "bench", "-q", "-p", "amorph-diffusion", "--bench", "msd", "--", "all"], cwd=ROOT,
                   check=True, capture_output=True)
    est = ROOT / "target" / "criterion" / "msd_200_atoms_10000_frames" / "all" / "new" / "estimates.json"
    t_all = json.loads(est.read_text())["median"]["point_estimate"] * 1e-9
    print(f"amorph analysis only (criterion median of `all`): {t_all * 1000:.0f} ms; "
          f"ratio to pymatgen's DiffusionAnalyzer: {t_an / t_all:.0f}x")
    assert rel < 1e-6, "amorph and pymatgen disagree"
    if args.keep:
        print(f"kept {path}")
    else:
        os.remove(path)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
