"""Reference for amorph-sisso from TorchSISSO (PyPI `TorchSisso`, 0.1.8), and the side-by-side timing.

TorchSISSO builds its space with `n_expansion` rounds (1: the primaries only; 2: one round of every
binary operator on all pairs and every unary one on all primaries, i.e. complexity ≤ 1), has no units,
value bounds or duplicate removal, screens `k` features per dimension by |corr| with the residual and
takes the least-squares combination of lowest MSE over all screened features — the same SIS and ℓ0 as
SISSO, which are the options amorph-sisso is compared on.

    python validation/sisso_torchsisso.py          # writes tests/data/sisso/torchsisso/*.json
    python validation/sisso_torchsisso.py bench [CASE]   # TorchSISSO timings on tests/data/sisso/bench_43x300.csv

Each JSON holds the table (names, x, y), the options and, per dimension, TorchSISSO's best model: its
feature names, the features' values (so that equivalent forms can be matched), the coefficients and
intercept at full precision (captured from its `higher_dimension`; at dimension 1, where TorchSISSO
only prints 6 digits, recomputed with its own formula from its standardised least squares), RMSE.
"""

import contextlib
import io
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from TorchSisso import SissoModel
from TorchSisso import FeatureSpaceConstruction as fc
from TorchSisso.Regressor import Regressor

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "sisso"


class Capture(Regressor):
    """TorchSISSO's regressor, keeping the full-precision models it otherwise only prints."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.captured = {}

    def higher_dimension(self, iteration):
        rmse, terms, intercept, coefs, r2 = super().higher_dimension(iteration)
        self.captured[iteration] = (terms, float(intercept), [float(c) for c in coefs.flatten()], rmse)
        return rmse, terms, intercept, coefs, r2


def run(df, ops, n_expansion, n_term, k):
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        x, y, names = fc.feature_space_construction(ops, df, n_expansion, "cpu").feature_space()
        reg = Capture(x, y, names, n_term, k, "cpu")
        reg.regressor_fit()
    models = []
    for d in range(1, n_term + 1):
        if d == 1:
            j = int(reg.indices[0, 1])
            xs = reg.x_standardized[:, j]
            coef, *_ = torch.linalg.lstsq(torch.stack([torch.ones_like(xs), xs], 1), reg.y_centered.unsqueeze(1))
            c = float(coef[1] / reg.x_std[j])
            c0 = float(reg.y.mean() - reg.x_mean[j] / reg.x_std[j] * coef[1])
            cols, coefs = [j], [c]
        else:
            terms, c0, coefs, _ = reg.captured[d]
            cols = [names.index(t.split("*", 1)[1]) for t in terms]
        pred = c0 + sum(c * x[:, j].numpy() for c, j in zip(coefs, cols))
        rmse = float(np.sqrt(np.mean((y.numpy() - pred) ** 2)))
        models.append(
            {
                "dim": d,
                "names": [names[j] for j in cols],
                "values": [[float(x[i, j]) for j in cols] for i in range(x.shape[0])],
                "coefficients": coefs,
                "intercept": c0,
                "rmse": rmse,
            }
        )
    return models, x.shape[1]


def table(seed, n, p, lo=0.5, hi=3.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, size=(n, p))


def write_json(path, obj):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    tmp.replace(path)


def references():
    out = OUT / "torchsisso"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    cases = []
    # A: primaries only (n_expansion 1), 14 features, SIS 4 per dimension, dimensions 1–3.
    x = table(1, 60, 14)
    y = 1.2 * x[:, 2] - 0.7 * x[:, 9] + 0.4 * x[:, 5] + 0.3 + 0.05 * rng.standard_normal(60)
    cases.append(("raw", x, y, [], 1, 3, 4))
    # B: one expansion round (complexity 1), 5 features, SIS 10 per dimension, dimensions 1–2.
    x = table(2, 50, 5)
    y = 2.0 * x[:, 0] / x[:, 1] - 0.5 * np.exp(x[:, 2]) + 1.0 + 0.01 * rng.standard_normal(50)
    cases.append(("rung1", x, y, ["+", "-", "*", "/", "exp", "ln", "pow(2)"], 2, 2, 10))
    for name, x, y, ops, n_exp, n_term, k in cases:
        cols = [f"x{j + 1}" for j in range(x.shape[1])]
        df = pd.DataFrame(np.column_stack([y, x]), columns=["y"] + cols)
        models, size = run(df, ops, n_exp, n_term, k)
        write_json(
            out / f"{name}.json",
            {
                "source": "TorchSisso 0.1.8 (PyPI), validation/sisso_torchsisso.py",
                "names": cols,
                "x": x.tolist(),
                "y": y.tolist(),
                "operators": ops,
                "n_expansion": n_exp,
                "n_term": n_term,
                "k": k,
                "space_size": size,
                "models": models,
            },
        )
        print(f"{name}: space {size}, best {n_term}D {models[-1]['names']}")


def bench_table():
    """43 features, 300 samples: the bench table shared with `cargo bench -p amorph-sisso`."""
    path = OUT / "bench_43x300.csv"
    rng = np.random.default_rng(43)
    x = rng.uniform(0.5, 3.0, size=(300, 43))
    y = -0.33 * x[:, 0] - 0.11 * x[:, 1] + 0.11 * x[:, 23] / x[:, 5] - 1.95 * np.exp(-x[:, 42]) - 3.55
    y = y + 0.05 * rng.standard_normal(300)
    cols = ["y"] + [f"f{j + 1}" for j in range(43)]
    tmp = path.with_suffix(".tmp")
    pd.DataFrame(np.column_stack([y, x]), columns=cols).to_csv(tmp, index=False, float_format="%.17g")
    tmp.replace(path)
    return path


BENCH_OPS = ["+", "-", "*", "/", "pow(2)", "pow(3)", "pow(6)", "^-1", "exp", "exp(-1)", "ln"]

# (label, n_expansion, n_term, k). TorchSISSO materialises every combination of the screened features
# as one tensor (combinations × dim × samples doubles), so k is kept where that fits in memory:
# dim 4 with k = 20 would need 15 GB, dim 3 with k = 100 32 GB.
BENCH_CASES = [
    ("no operators, dim 1-4, k 10", 1, 4, 10),
    ("complexity 1, dim 1-2, k 300", 2, 2, 300),
    ("complexity 1, dim 1-3, k 20", 2, 3, 20),
    ("complexity 1, dim 1-4, k 10", 2, 4, 10),
]


def bench(case):
    """One case per process (run it under /usr/bin/time for the peak memory)."""
    df = pd.read_csv(OUT / "bench_43x300.csv")
    torch.set_num_threads(2)
    label, n_exp, n_term, k = BENCH_CASES[case]
    t = time.perf_counter()
    models, size = run(df, BENCH_OPS if n_exp > 1 else ["+"], n_exp, n_term, k)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: space {size}, {dt:.2f} s, peak RSS {peak:.0f} MB")
    for m in models:
        print(f"  {m['dim']}D rmse {m['rmse']:.6f} {m['names']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["bench"]:
        for case in [int(sys.argv[2])] if len(sys.argv) > 2 else range(len(BENCH_CASES)):
            bench(case)
    else:
        bench_table()
        references()
