"""How honest is a volume-search probe's pressure error? (docs/validation.md, src/melt.rs `block_mean`)

Runs N independent NVT probes (Nose-Hoover, 2 fs, 2 000 steps, seeds 1..N) of the 108-atom Pedone
Li2Si2O5 liquid from one configuration at one volume, as the MPMorph search does, and compares the
scatter of their second-half mean pressures with the standard errors each probe would report by itself:
10 blocks (amorph before 2026-12-05), the largest over 16, 8 and 4 blocks (amorph's `MdProbe` now), and
Sokal's windowed autocorrelation time. A ratio above 1 means the errors are too small.

    cargo build --release -p amorph-cli
    python validation/probe_errors.py WORKDIR [--seeds 24]     # about 1 minute on two cores
"""

import argparse
import csv
import math
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from melt_vs_npt import AMORPH, block_mean, mean_err  # noqa: E402

ENV = {"RAYON_NUM_THREADS": "1"}


def sh(*args):
    subprocess.run([str(AMORPH), *map(str, args)], check=True, capture_output=True, env=ENV)


def sokal_error(x, c=5.0):
    n = len(x)
    mu = sum(x) / n
    d = [v - mu for v in x]
    var = sum(v * v for v in d) / n
    tau = 0.5
    for t in range(1, n // 2):
        tau += sum(d[i] * d[i + t] for i in range(n - t)) / (n - t) / var
        if t >= c * tau:
            break
    return math.sqrt(2 * tau * var / n)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("work", type=Path)
    p.add_argument("--seeds", type=int, default=24)
    a = p.parse_args()
    w = a.work
    w.mkdir(parents=True, exist_ok=True)
    sh("pack", "Li2Si2O5", "--formula-units", 12, "--density", 2.0, "--seed", 7, "-o", w / "packed.vasp")
    sh("md", w / "packed.vasp", "--ensemble", "langevin", "--temperature", 3000, "--timestep", 0.5,
       "--steps", 4000, "--seed", 1, "-o", w / "start3000.vasp")
    sh("md", w / "start3000.vasp", "--ensemble", "nvt", "--temperature", 1500, "--timestep", 2,
       "--steps", 5000, "--seed", 2, "-o", w / "start1500.vasp")
    rms = lambda xs: math.sqrt(sum(v * v for v in xs) / len(xs))  # noqa: E731
    print("| T (K) | mean P (GPa) | scatter of the means (GPa) | 10 blocks | max over 16, 8, 4 blocks | Sokal |")
    print("|---|---|---|---|---|---|")
    for t in (3000, 1500):
        def probe(seed):
            out = w / f"probe_{t}_{seed}.csv"
            sh("md", w / f"start{t}.vasp", "--ensemble", "nvt", "--temperature", t, "--timestep", 2,
               "--steps", 2000, "--every", 1, "--seed", seed, "--thermo", out)
            pressures = [float(r["pressure_GPa"]) for r in csv.DictReader(open(out))][1:]
            return pressures[len(pressures) // 2:]

        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(probe, range(1, a.seeds + 1)))
        means = [sum(r) / len(r) for r in runs]
        scatter = statistics.stdev(means)
        cells = []
        for estimate in (lambda r: block_mean(r, 10)[1],
                         lambda r: mean_err(r, blocks=(16, 8, 4))[1],
                         sokal_error):
            err = rms([estimate(r) for r in runs])
            cells.append(f"{err:.3f} (ratio {scatter / err:.2f})")
        print(f"| {t} | {statistics.mean(means):+.3f} | {scatter:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
