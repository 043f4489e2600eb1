"""Reference for multi-task SISSO in amorph-sisso: a NumPy brute force of SISSO's multi-task SIS and l0.

Multi-task SISSO (Ouyang et al., J. Phys.: Mater. 2, 024002 (2019); the Fortran SISSO's `ntask`,
`nsample`, `task_weighting`) shares the descriptor of a model between tasks and fits every task's
coefficients and intercept by least squares on that task's rows. As in SISSO 3.x (FC.f90
`sis_score`, DI.f90 `model`):

- SIS score of a feature: sqrt(sum_t (z_t . r_t)^2) / |r|, with z_t the feature centred and scaled
  to unit norm within task t and r_t the task's rows of the residual (centred within the task);
- model error: task_weighting=1 (SISSO's default), sqrt(sum_t RMSE_t^2 / T); task_weighting=2,
  sqrt(sum_t SSE_t / N); MaxAE the largest of the tasks'.

This script runs that loop independently: the feature space is enumerated explicitly (the primaries,
or the primaries and one unary operator applied to each), SIS picks `subs_sis` new features per
dimension against the residual of the best model of the previous dimension, and l0 is a brute force
over every combination of the features picked so far, numpy.linalg.lstsq per task. With `subs_sis`
at least the size of the space, l0 is a brute force over the whole space.

    python validation/sisso_multitask.py   # writes crates/amorph-sisso/tests/data/multitask.json

The JSON holds the tables (names, x, y, task labels) and per case (table, operators, weighting,
subs_sis) and dimension the SIS subspace with scores and the best models with their per-task fits.
"""

import itertools
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "amorph-sisso" / "tests" / "data" / "multitask.json"
TOP = 5


def task_rows(labels):
    order = []
    for lab in labels:
        if lab not in order:
            order.append(lab)
    return order, [np.array([i for i, lab in enumerate(labels) if lab == t]) for t in order]


def center(r, rows):
    r = r.copy()
    for ix in rows:
        r[ix] -= r[ix].mean()
    return r


def sis_score(f, r, rows):
    acc = 0.0
    for ix in rows:
        z = f[ix] - f[ix].mean()
        nz = np.linalg.norm(z)
        if nz > 0:
            acc += (z @ r[ix] / nz) ** 2
    return np.sqrt(acc) / np.linalg.norm(r)


def fit(cols, y, rows, weighting):
    """Per-task least squares on the columns `cols` (n x d): (score, combined rmse, maxae, tasks)."""
    tasks = []
    score = 0.0
    wn = 0.0
    for ix in rows:
        a = np.column_stack([np.ones(len(ix)), cols[ix]])
        beta = np.linalg.lstsq(a, y[ix], rcond=None)[0]
        e = y[ix] - a @ beta
        sse = float(e @ e)
        w = 1.0 / len(ix) if weighting == "per_task" else 1.0
        score += w * sse
        wn += w * len(ix)
        tasks.append(
            {
                "intercept": float(beta[0]),
                "coefficients": [float(b) for b in beta[1:]],
                "rmse": float(np.sqrt(sse / len(ix))),
                "max_ae": float(np.abs(e).max()),
            }
        )
    return score, float(np.sqrt(score / wn)), max(t["max_ae"] for t in tasks), tasks


def sisso(feats, names, y, labels, weighting, subs_sis, desc_dim):
    order, rows = task_rows(labels)
    resid = center(y, rows)
    selected = []
    dims = []
    for d in range(1, desc_dim + 1):
        rest = [j for j in range(len(names)) if j not in selected]
        scores = {j: sis_score(feats[:, j], resid, rows) for j in rest}
        picks = sorted(rest, key=lambda j: (-scores[j], j))[:subs_sis]
        selected += picks
        models = []
        for combo in itertools.combinations(selected, d):
            score, rmse, max_ae, tasks = fit(feats[:, list(combo)], y, rows, weighting)
            models.append((score, combo, rmse, max_ae, tasks))
        models.sort(key=lambda m: m[0])
        top = models[: TOP + 1]
        # The ranking compared must not hinge on rounding.
        for a, b in zip(top, top[1:]):
            assert b[0] - a[0] > 1e-9 * b[0], (a[1], b[1])
        best = top[0]
        pred = np.empty_like(y)
        for ix, t in zip(rows, best[4]):
            pred[ix] = t["intercept"] + feats[ix][:, list(best[1])] @ np.array(t["coefficients"])
        resid = center(y - pred, rows)
        dims.append(
            {
                "dim": d,
                "subspace": [{"feature": names[j], "score": float(scores[j])} for j in picks],
                "models": [
                    {
                        "descriptors": [names[j] for j in combo],
                        "rmse": rmse,
                        "max_ae": max_ae,
                        "tasks": [dict(task=lab, **t) for lab, t in zip(order, tasks)],
                    }
                    for _, combo, rmse, max_ae, tasks in top[:TOP]
                ],
            }
        )
    return dims


def table(seed, n, p, sizes, planted, noise):
    """Primaries in [0.5, 3), tasks interleaved at random, y = task's linear model of `planted` + noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 3.0, size=(n, p))
    labels = [lab for lab, k in sizes for _ in range(k)]
    rng.shuffle(labels)
    y = np.empty(n)
    for i, lab in enumerate(labels):
        c0, coefs, sd = planted[lab]
        y[i] = c0 + sum(c * f(x[i]) for c, f in coefs) + sd * rng.standard_normal()
    return x, y, labels


def main():
    cases = []
    # No operators: the primaries. Unequal task sizes and noise levels, so that the two weightings
    # rank differently.
    p = 10
    planted = {
        "glass": (1.0, [(2.0, lambda r: r[1]), (-1.0, lambda r: r[4]), (0.5, lambda r: r[6])], 0.30),
        "melt": (-2.0, [(0.5, lambda r: r[1]), (1.5, lambda r: r[4]), (-2.0, lambda r: r[6])], 0.05),
        "crystal": (0.3, [(-1.0, lambda r: r[1]), (0.7, lambda r: r[4]), (1.0, lambda r: r[8])], 0.15),
    }
    x, y, labels = table(7, 58, p, [("glass", 27), ("melt", 12), ("crystal", 19)], planted, 1.0)
    names = [f"x{j + 1}" for j in range(p)]
    tables = {"none": {"names": names, "x": x.tolist(), "y": y.tolist(), "tasks": labels}}
    for weighting in ["per_task", "per_sample"]:
        for subs_sis in [p, 3]:
            cases.append(
                {
                    "name": f"none_{weighting}_sis{subs_sis}",
                    "ops": "none",
                    "complexity": 0,
                    "weighting": weighting,
                    "subs_sis": subs_sis,
                    "desc_dim": 3,
                    "table": "none",
                    "dims": sisso(x, names, y, labels, weighting, subs_sis, 3),
                }
            )
    # One unary operator per feature (complexity 1, ops ^2, ^-1, sqrt): the space is the primaries,
    # then x^2, x^-1, sqrt(x) of each, in amorph-sisso's spelling.
    p = 5
    planted = {
        "a": (0.5, [(1.0, lambda r: r[0] ** 2), (-2.0, lambda r: 1.0 / r[2])], 0.05),
        "b": (1.5, [(-0.5, lambda r: r[0] ** 2), (1.0, lambda r: 1.0 / r[2])], 0.02),
    }
    x, y, labels = table(11, 40, p, [("a", 22), ("b", 18)], planted, 1.0)
    names = [f"x{j + 1}" for j in range(p)]
    feats = [x] + [x**2, 1.0 / x, np.sqrt(x)]
    fnames = names + [f"{nm}^2" for nm in names] + [f"{nm}^-1" for nm in names] + [f"sqrt({nm})" for nm in names]
    feats = np.column_stack(feats)
    tables["unary"] = {"names": names, "x": x.tolist(), "y": y.tolist(), "tasks": labels}
    for weighting in ["per_task", "per_sample"]:
        cases.append(
            {
                "name": f"unary_{weighting}",
                "ops": "^2,^-1,sqrt",
                "complexity": 1,
                "weighting": weighting,
                "subs_sis": len(fnames),
                "desc_dim": 3,
                "table": "unary",
                "dims": sisso(feats, fnames, y, labels, weighting, len(fnames), 3),
            }
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"source": "validation/sisso_multitask.py", "tables": tables, "cases": cases}, indent=None) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
