"""Fit time of scikit-learn's RandomForestRegressor and XGBoost (exact, hist) at 2 threads on the
tables of `crates/amorph-ml/benches/ml.rs`, then the Rust bench at 2 threads, side by side.

    /work/.venv-peers/bin/pip install scikit-learn xgboost
    python validation/ml_bench.py                      # ~10 min; prints a markdown table
    python validation/ml_bench.py --filter gbt_hist    # only the cases whose name contains this

The table is the bench's deterministic xorshift64 stream (same numbers in Python and Rust):
n x 45 uniform features, y = 10 sin(pi x0 x1) + 20 (x2 - 1/2)^2 + 10 x3 + 5 x4. Every model: 100
trees, depth 4 or 8; RF with scikit-learn's defaults otherwise (bootstrap, all features); XGBoost
with learning_rate 0.1, reg_alpha 0.8 (the paper's settings). Times are medians of repeats.
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import time

import numpy as np
import xgboost as xgb
from sklearn.ensemble import RandomForestRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MASK = (1 << 64) - 1


def table(n, d):
    s = 0x2545F4914F6CDD1D
    vals = np.empty(n * d)
    for k in range(n * d):
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        vals[k] = (s >> 11) / float(1 << 53)
    x = vals.reshape(n, d)
    y = (
        10 * np.sin(math.pi * x[:, 0] * x[:, 1])
        + 20 * (x[:, 2] - 0.5) ** 2
        + 10 * x[:, 3]
        + 5 * x[:, 4]
    )
    return x, y


def timed(fit, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fit()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def python_side(only):
    res = {}
    for n in (1000, 10000):
        x, y = table(n, 45)
        reps = 5 if n == 1000 else 3
        for depth in (4, 8):
            rf = lambda: RandomForestRegressor(100, max_depth=depth, n_jobs=2, random_state=1).fit(x, y)
            if only in f"rf/{n}x45/depth{depth}":
                res[f"rf/{n}x45/depth{depth}"] = timed(rf, reps)
            for method in ("exact", "hist"):
                if only not in f"gbt_{method}/{n}x45/depth{depth}":
                    continue
                g = lambda: xgb.XGBRegressor(
                    n_estimators=100,
                    max_depth=depth,
                    learning_rate=0.1,
                    reg_alpha=0.8,
                    tree_method=method,
                    n_jobs=2,
                ).fit(x, y)
                res[f"gbt_{method}/{n}x45/depth{depth}"] = timed(g, reps)
    return res


def rust_side(only):
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    out = subprocess.run(
        ["cargo", "bench", "-p", "amorph-ml", "--bench", "ml", "--", "--noplot"] + ([only] if only else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    res = {}
    unit = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    name = None
    for line in out.splitlines():
        m = re.match(r"^fit_100_trees/(\S+)", line)
        if m:
            name = m.group(1)
        m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
        if m and name:
            res[name] = float(m.group(1)) * unit[m.group(2)]
            name = None
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filter", default="", help="only the cases whose name contains this")
    only = ap.parse_args().filter
    py = python_side(only)
    rs = rust_side(only)
    print(json.dumps({"python": py, "rust": rs}, indent=1))
    print("| case | scikit-learn / XGBoost | amorph-ml | ratio |")
    print("|---|---|---|---|")
    for k in py:
        if k in rs:
            print(f"| {k} | {py[k]*1e3:.0f} ms | {rs[k]*1e3:.0f} ms | {py[k]/rs[k]:.1f}x |")


if __name__ == "__main__":
    main()
