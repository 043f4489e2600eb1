"""Reference data for `amorph-ml` from scikit-learn and XGBoost.

    /work/.venv-peers/bin/pip install scikit-learn xgboost
    python validation/ml_refs.py            # writes tests/data/ml/

Writes

- `diabetes.csv`, `friedman1.csv`: sklearn's bundled diabetes data (442 x 10) and
  `make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=0)`, columns `x0..x9,y`
  (floats with `repr()`, so they round-trip exactly);
- `cv_refs.json`: for each data set and each KFold seed (0, 1, 2): the fold of every row of
  `KFold(5, shuffle=True, random_state=seed)` and the per-fold RMSE of
  RandomForestRegressor(n_estimators=100, max_depth=4, random_state=seed) and of
  XGBRegressor(n_estimators=100, max_depth=4, learning_rate=0.1, reg_alpha=0.8,
  tree_method=exact|hist) -- the paper's hyperparameters;
- `tree_refs.json`: DecisionTreeRegressor predictions and importances (several settings) on a
  tie-free subset of friedman1 (first 300 rows train, next 200 test); settings whose trees depend
  on sklearn's random feature order (tied gains) are refused;
- `xgb_model.json` + `xgb_shap.json`: a small XGBoost model saved as JSON, with its predictions
  and `pred_contribs` (TreeSHAP) on 40 rows, for the loader and TreeSHAP tests.
"""

import json
import os
import sys

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "ml")
SEEDS = [0, 1, 2]


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_csv(path, x, y):
    names = [f"x{i}" for i in range(x.shape[1])] + ["y"]
    lines = [",".join(names)]
    for row, t in zip(x, y):
        lines.append(",".join(repr(float(v)) for v in row) + "," + repr(float(t)))
    write_atomic(path, "\n".join(lines) + "\n")


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def cv_refs(x, y):
    out = []
    for seed in SEEDS:
        kf = KFold(5, shuffle=True, random_state=seed)
        fold_of = np.zeros(len(y), dtype=int)
        rf, xe, xh = [], [], []
        for k, (tr, te) in enumerate(kf.split(x)):
            fold_of[te] = k
            m = RandomForestRegressor(n_estimators=100, max_depth=4, random_state=seed, n_jobs=2)
            m.fit(x[tr], y[tr])
            rf.append(rmse(m.predict(x[te]), y[te]))
            for method, acc in (("exact", xe), ("hist", xh)):
                g = xgb.XGBRegressor(
                    n_estimators=100,
                    max_depth=4,
                    learning_rate=0.1,
                    reg_alpha=0.8,
                    tree_method=method,
                    n_jobs=2,
                    random_state=seed,
                )
                g.fit(x[tr], y[tr])
                acc.append(rmse(g.predict(x[te]), y[te]))
        out.append(
            {
                "seed": seed,
                "fold_of": fold_of.tolist(),
                "rf_rmse": rf,
                "xgb_exact_rmse": xe,
                "xgb_hist_rmse": xh,
            }
        )
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    d = load_diabetes()
    xd, yd = d.data, d.target
    xf, yf = make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    write_csv(os.path.join(OUT, "diabetes.csv"), xd, yd)
    write_csv(os.path.join(OUT, "friedman1.csv"), xf, yf)

    cv = {
        "sklearn": sklearn.__version__,
        "xgboost": xgb.__version__,
        "diabetes": cv_refs(xd, yd),
        "friedman1": cv_refs(xf, yf),
    }
    write_atomic(os.path.join(OUT, "cv_refs.json"), json.dumps(cv, indent=1) + "\n")

    # Single trees: sklearn stores X as float32; check the subset has no ties there.
    xtr, ytr = xf[:300], yf[:300]
    xte = xf[300:500]
    for j in range(xtr.shape[1]):
        col = xtr[:, j].astype(np.float32)
        if len(np.unique(col)) != len(col):
            sys.exit(f"ties in feature {j} of the tree subset")
    # Equal gains (two features that cut off the same rows, common in tiny nodes) are broken by
    # sklearn's random feature order; keep only settings whose predictions are the same for 20
    # random_states, i.e. whose splits have no ties (leaf means move by rounding only: sklearn sums
    # a leaf's targets in an order that depends on the random feature order).
    trees = []
    for params in (
        {"max_depth": 3},
        {"max_depth": 4, "min_samples_leaf": 5},
        {"max_depth": 8, "min_samples_leaf": 5},
        {"max_depth": 6, "min_samples_split": 20},
        {"max_depth": None, "min_samples_leaf": 8},
        {"max_depth": None, "min_samples_leaf": 12},
    ):
        t = DecisionTreeRegressor(random_state=0, **params).fit(xtr, ytr)
        tied = [
            rs
            for rs in range(1, 20)
            if not np.allclose(
                DecisionTreeRegressor(random_state=rs, **params).fit(xtr, ytr).predict(xte),
                t.predict(xte),
                rtol=1e-13,
                atol=0,
            )
        ]
        if tied:
            print(f"ml_refs: tree setting {params} skipped: tied splits (random_state {tied[0]})")
            continue
        trees.append(
            {
                "params": params,
                "n_leaves": int(t.get_n_leaves()),
                "depth": int(t.get_depth()),
                "pred_test": t.predict(xte).tolist(),
                "pred_train": t.predict(xtr).tolist(),
                "feature_importances": t.feature_importances_.tolist(),
            }
        )
    if len(trees) < 3:
        sys.exit("fewer than 3 tie-free tree settings")
    write_atomic(
        os.path.join(OUT, "tree_refs.json"),
        json.dumps({"n_train": 300, "n_test": 200, "trees": trees}, indent=1) + "\n",
    )

    # A small XGBoost model for the JSON loader and TreeSHAP (targets scaled to O(1) so that
    # XGBoost's float32 arithmetic stays well below the 1e-6 comparison).
    xs, ys = xf[:500], yf[:500] / 10.0
    g = xgb.XGBRegressor(
        n_estimators=20, max_depth=4, learning_rate=0.3, reg_alpha=0.8, tree_method="exact"
    )
    g.fit(xs, ys)
    path = os.path.join(OUT, "xgb_model.json")
    g.get_booster().save_model(path + ".tmp.json")
    os.replace(path + ".tmp.json", path)
    xq = xf[1000:1040]
    dm = xgb.DMatrix(xq)
    contribs = g.get_booster().predict(dm, pred_contribs=True)
    pred = g.get_booster().predict(dm)
    write_atomic(
        os.path.join(OUT, "xgb_shap.json"),
        json.dumps(
            {
                "x": xq.tolist(),
                "pred": [float(v) for v in pred],
                "contribs": [[float(v) for v in row] for row in contribs],
            },
            indent=1,
        )
        + "\n",
    )
    print("ml_refs: wrote", OUT)


if __name__ == "__main__":
    main()
