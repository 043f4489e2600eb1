"""Reference for amorph-sisso: the SISSO 3.3 run behind the published model of Zheng et al. (2024).

Source: github.com/Tinaatucsd/DFT_amorphous_structure, machine_learning_models/SISSO_model/ (SISSO.in,
SISSO.out, train.dat, models/top*_D00k and *_coeff, SIS_subspaces/Uspace.expressions). Its SISSO.in
asks for 11 operators and fcomplexity 7, but SISSO 3.3 read neither (SISSO.out: "Operators for feature
construction:" empty, 43 features in every phi0k, subs_sis 20): the published models are ℓ0 selections
of linear fits over the 43 raw features, SIS-screened 20 at a time.

Writes tests/data/sisso/zheng2024/:
  train.csv   the 792 samples: formula, lnD, 43 features (train.dat, whitespace → commas, unchanged)
  models.csv  SISSO's ranked models: dim, rank, rmse, max_ae, features (';'-separated names, in
              SISSO's descriptor order), intercept, coefficients (';'-separated, SISSO's 10 digits);
              20 models at dimension 1 and 100 at dimensions 2–4, as SISSO wrote them
  sis.csv     SISSO's SIS subspaces: dim, name, |corr| (Uspace.expressions, in screening order)
  units.csv   `column,unit` for `amorph sisso --units`: SISSO.in's dimclass groups, which give the
              features of one group the same (unnamed) unit, as units u1, u2, ... (lnD dimensionless)

    python validation/sisso_zheng2024.py /path/to/DFT_amorphous_structure
"""

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "sisso" / "zheng2024"


def write_atomic(path, rows):
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    tmp.replace(path)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = Path(sys.argv[1]) / "machine_learning_models" / "SISSO_model"
    OUT.mkdir(parents=True, exist_ok=True)

    rows = [line.split() for line in (src / "train.dat").read_text().splitlines() if line.strip()]
    assert len(rows) == 793 and all(len(r) == 45 for r in rows), "unexpected train.dat shape"
    write_atomic(OUT / "train.csv", rows)

    # Uspace feature IDs (1-based) → names, in SIS order; the subspace sizes come from SISSO.out.
    expressions = []
    for line in (src / "SIS_subspaces" / "Uspace.expressions").read_text().splitlines():
        m = re.match(r"\s*\((.+?)\)\s+corr=\s*([-\d.Ee+]+)", line)
        if m:
            expressions.append((m.group(1), float(m.group(2))))
    out = (src / "SISSO.out").read_text()
    sizes = [int(s) for s in re.findall(r"Size of the SIS-selected subspace from phi\d+:\s+(\d+)", out)]
    assert sum(sizes) == len(expressions) == 43, (sizes, len(expressions))
    sis = [["dim", "name", "abs_corr"]]
    k = 0
    for d, size in enumerate(sizes, start=1):
        for name, corr in expressions[k : k + size]:
            sis.append([d, name, f"{corr:.4f}"])
        k += size
    write_atomic(OUT / "sis.csv", sis)

    dimclass = re.search(r"^dimclass=(\S+)", (src / "SISSO.in").read_text(), re.M).group(1)
    header = rows[0]
    units = [["column", "unit"], ["lnD", "1"]]
    for g, (a, b) in enumerate(re.findall(r"\((\d+):(\d+)\)", dimclass), start=1):
        for j in range(int(a), int(b) + 1):
            units.append([header[j + 1], f"u{g}"])
    assert len(units) == 45, len(units)
    write_atomic(OUT / "units.csv", units[1:])

    models = [["dim", "rank", "rmse", "max_ae", "features", "intercept", "coefficients"]]
    for d in range(1, 5):
        (top,) = sorted((src / "models").glob(f"top*_D{d:03d}"))
        coeff = top.with_name(top.name + "_coeff")
        ranked = [line.split() for line in top.read_text().splitlines()[1:] if line.strip()]
        coefs = [line.split() for line in coeff.read_text().splitlines()[1:] if line.strip()]
        assert len(ranked) == len(coefs)
        for r, c in zip(ranked, coefs):
            rank, rmse, maxae = r[0], r[1], r[2]
            ids = [int(t) for t in re.findall(r"\d+", " ".join(r[3:]))]
            assert len(ids) == d and c[0] == rank
            names = [expressions[i - 1][0] for i in ids]
            models.append([d, rank, rmse, maxae, ";".join(names), c[1], ";".join(c[2:])])
    write_atomic(OUT / "models.csv", models)
    print(f"wrote {OUT}: {len(rows) - 1} samples, {len(models) - 1} models")


if __name__ == "__main__":
    main()
