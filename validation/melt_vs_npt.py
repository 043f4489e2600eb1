"""The MPMorph volume search (`amorph melt` / `amorph quench`) against MTK NPT at P = 0 (`amorph md
--ensemble npt`), for a ~100-atom Pedone Li2Si2O5 melt cooled to a glass: the tables of docs/validation.md.

    python validation/melt_vs_npt.py run   WORKDIR [options]   # pack, melt, cool stage by stage, NPT
    python validation/melt_vs_npt.py table WORKDIR [WORKDIR…]  # the tables from finished WORKDIRs

`run` needs target/release/amorph (`cargo build --release -p amorph-cli`) and takes about 35 minutes on one
core with the defaults; its options (defaults in brackets): --tolerance GPa [0.25] and --probe-steps
[5000] of the search, --ramp-steps [10000], --production-steps [75000], --npt-steps [200000], --seed [7]
(of the melt, the probes and production; NPT uses seed + 4; the packing always uses 7). `table` with
several WORKDIRs (replicas with different --seed) also prints their mean.

Protocol (like for like: at every temperature the search and NPT start from the same configuration, with
the same thermal history behind it):

1. `amorph pack` 108 atoms (12 Li2Si2O5) at 2.2 g/cm3; Pedone, DSF Coulomb (0.25 1/A, 10 A), 2 fs.
2. `amorph melt` at 3000 K: 2 000-step Langevin warm-up, the MPMorph search (NVT probes of
   --probe-steps, pressure averaged over their second half, accepted at |P| < --tolerance), then
   --production-steps of NVT at the accepted volume.
3. Cooling in stages 3000 -> 2500 -> 2000 -> 1500 -> 1000 K: each stage is `amorph quench PREV
   --temperatures T --ramp-steps R` whose PREV is the previous stage's directory (quench needs only its
   summary.json and final.vasp), so it starts from the last production frame at the previous temperature
   (at that temperature's zero-pressure volume), cools linearly to T over R NVT steps (20 ps, 25 K/ps by
   default), then runs the search and production at T.
4. NPT at each temperature (MTK, P = 0, Pdamp 2 ps, --npt-steps) from the very configuration the
   search started from (the `initial_configuration` recorded in its search.json: after the warm-up at
   3000 K, after the ramp at the others). The first 20 % of the run is equilibration (the volume relaxes from the
   previous temperature's); the volume is averaged over the rest.

What `table` compares. Every error is a standard error of block means, the largest over 32, 16, 8 and 4
blocks (blocks of up to 80 ps of NPT and 37 ps of production with the defaults), so that some blocks are
longer than the correlation times, which reach 10-50 ps at 1500-2500 K in a cell this small.

- NPT <V>: the mean NPT volume over the window; "drift": the mean of the window's second half minus
  that of its first half (aging of the glass would show up here).
- The search's zero-pressure volume V(P=0): the accepted volume V_acc corrected to P = 0 by one Newton
  step, V_acc * exp(P_prod / B), where P_prod is the mean pressure of the NVT production at V_acc. The
  accepted volume alone is only known to within the acceptance window (|P| < tolerance is
  +-tolerance/B in relative volume), which is why it
  is corrected before it is compared. B is B_NPT = kT <V> / var(V) from the NPT volume fluctuations (the
  search's own Birch-Murnaghan B0, from 3-5 noisy probes spread over +-20 % in volume, scatters by a
  factor 2 between replicas and is printed for comparison). Error: V_acc * err(P_prod) / B, and
  V_acc * |P_prod| * err(B) / B^2 with err(B) from the scatter of the variances of 8 blocks.
- offset = (1 + B') var(V) / (2 <V>): the NPT mean volume exceeds the zero of the NVT P(V) (the mode of
  the NPT volume distribution, which is skewed because P(V) is convex) by this O(1/N) amount; B' is the
  fit's B1, var(V) the NPT variance, and its relative uncertainty is taken as 30 %. The last column
  compares V(P=0) with NPT <V> - offset.
"""

import argparse
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AMORPH = ROOT / "target" / "release" / "amorph"
TEMPS = [3000, 2500, 2000, 1500, 1000]
MASS_AMU = 24 * 6.94 + 24 * 28.085 + 60 * 15.999  # Li24 Si24 O60 with pymatgen's masses
KB_EV = 8.617333262e-5
EV_PER_A3_IN_GPA = 160.21766208
NPT_SKIP = 0.2  # fraction of each NPT run discarded as equilibration
OFFSET_REL_ERR = 0.3  # relative uncertainty of the NPT-NVT offset (var(V) from >= 20 samples, B' +- 1.5)


def sh(*args, log=None):
    with open(log, "w") if log else open("/dev/null", "w") as err:
        subprocess.run([str(AMORPH), *map(str, args)], check=True, stderr=err, stdout=err)


def stage_dir(work: Path, t: int) -> Path:
    return work / "melt" if t == 3000 else work / f"cool{t}" / f"T{t}K"


def write_start(stage: Path, out: Path):
    """The configuration the search started from (search.json's initial_configuration) as a POSCAR."""
    c = json.loads((stage / "search.json").read_text())["initial_configuration"]
    counts = []
    for s in c["species"]:
        if counts and counts[-1][0] == s:
            counts[-1][1] += 1
        else:
            counts.append([s, 1])
    lines = [" ".join(f"{s}{n}" for s, n in counts), "1.0"]
    lines += ["  ".join(f"{x:.12f}" for x in row) for row in c["lattice"]["matrix"]]
    lines += ["  ".join(s for s, _ in counts), "  ".join(str(n) for _, n in counts), "Cartesian"]
    lines += ["  ".join(f"{x:.12f}" for x in p) for p in c["positions"]]
    out.write_text("\n".join(lines) + "\n")


def run(work: Path, a):
    work.mkdir(parents=True, exist_ok=True)
    common = ["--timestep", 2, "--seed", a.seed, "--pressure-tolerance", a.tolerance, "--probe-steps",
              a.probe_steps, "--production-steps", a.production_steps, "--every", 50, "--chunk", 5000]
    if not (work / "start.vasp").exists():
        sh("pack", "Li2Si2O5", "--formula-units", 12, "--density", 2.2, "--seed", 7, "-o", work / "start.vasp")
    sh("melt", work / "start.vasp", "--temperature", 3000, *common, "-o", work / "melt", log=work / "melt.err")
    prev = work / "melt"
    for t in TEMPS[1:]:
        sh("quench", prev, "--temperatures", t, "--ramp-steps", a.ramp_steps, *common,
           "-o", work / f"cool{t}", log=work / f"cool{t}.err")
        prev = stage_dir(work, t)
    for t in TEMPS:
        out = work / f"npt_{t}.csv"
        if out.exists():
            continue
        write_start(stage_dir(work, t), work / f"npt_start_{t}.vasp")
        sh("md", work / f"npt_start_{t}.vasp", "--ensemble", "npt", "--pressure", 0, "--pressure-damping", 2000,
           "--temperature", t, "--timestep", 2, "--steps", a.npt_steps, "--every", 25, "--seed", a.seed + 4,
           "--thermo", work / "npt.tmp.csv")
        (work / "npt.tmp.csv").rename(out)


def block_mean(xs, blocks):
    per = len(xs) // blocks
    means = [sum(xs[i * per:(i + 1) * per]) / per for i in range(blocks)]
    m = sum(means) / blocks
    return m, math.sqrt(sum((b - m) ** 2 for b in means) / (blocks - 1) / blocks)


def mean_err(xs, blocks=(32, 16, 8, 4)):
    """Mean and standard error: the largest block-mean error over the block counts (block lengths
    doubling up to a quarter of the run), so that some blocks are longer than the correlation time."""
    return sum(xs) / len(xs), max(block_mean(xs, b)[1] for b in blocks)


def column(path: Path, name: str):
    return [float(r[name]) for r in csv.DictReader(open(path))]


def analyse(work: Path, t: int) -> dict:
    stage = stage_dir(work, t)
    summary = json.loads((stage / "summary.json").read_text())
    history = json.loads((stage / "search.json").read_text())
    fit = [r["fit"] for r in history["records"] if r.get("fit")][-1]
    p_prod, p_err = mean_err(column(stage / "thermo.csv", "pressure_GPa")[1:])
    v_acc, b0 = summary["volume_A3"], fit["b0_GPa"]
    vols = column(work / f"npt_{t}.csv", "volume_A3")
    window = vols[int(NPT_SKIP * len(vols)):]
    v_npt, v_npt_err = mean_err(window)
    half = len(window) // 2
    m1, e1 = mean_err(window[:half])
    m2, e2 = mean_err(window[half:])
    var = sum((v - v_npt) ** 2 for v in window) / (len(window) - 1)
    b_fluct = KB_EV * t * v_npt / var * EV_PER_A3_IN_GPA
    per = len(window) // 8
    block_vars = [sum((v - v_npt) ** 2 for v in window[i * per:(i + 1) * per]) / per for i in range(8)]
    b_fluct_err = b_fluct * math.sqrt(sum((x - var) ** 2 for x in block_vars) / 7 / 8) / var
    # The NPT mean volume exceeds the zero of the NVT P(V) (the mode of the NPT volume distribution) by
    # the skewness of that distribution: (1 + B') var(V) / (2 V), an O(1/N) ensemble difference.
    b1 = fit["b1"]
    offset = (1 + b1) * var / (2 * v_npt)
    # The slope of P(V) that turns P_prod into a volume: B from the NPT volume fluctuations (the
    # search's 3-5-probe fits over +-20 % in volume give B0 that scatter by 2x between replicas), with
    # its error from the scatter of the variances of 8 blocks.
    v0 = v_acc * math.exp(p_prod / b_fluct)
    v0_err = math.hypot(v_acc * p_err / b_fluct, v_acc * abs(p_prod) * b_fluct_err / b_fluct ** 2)
    return dict(
        t=t, v_acc=v_acc, p_acc=summary["pressure_GPa"], p_acc_err=summary["pressure_err_GPa"],
        probes=summary["probes"], fit=fit, b0=b0, p_prod=p_prod, p_prod_err=p_err, v0=v0, v0_err=v0_err,
        v_npt=v_npt, v_npt_err=v_npt_err, drift=m2 - m1, drift_err=math.hypot(e1, e2), b_fluct=b_fluct,
        b_fluct_err=b_fluct_err,
        b1=b1, offset=offset, offset_err=OFFSET_REL_ERR * offset,
        npt_mode=v_npt - offset, npt_mode_err=math.hypot(v_npt_err, OFFSET_REL_ERR * offset),
    )


def rho(vol):
    return MASS_AMU * 1.66053906660 / vol


def diff_txt(a, ea, b, eb):
    return f"{100 * (a - b) / b:+.1f} % ({(a - b) / math.hypot(ea, eb):+.1f} σ)"


def table(works):
    results = {w: {t: analyse(w, t) for t in TEMPS} for w in works}
    for w in works:
        print(f"\n{w}\n")
        print("| T (K) | accepted V (Å³) | its P (GPa) | probes | production P (GPa) | B0 fit / NPT (GPa) | "
              "search V(P=0) (Å³) | NPT ⟨V⟩ (Å³) | NPT drift (Å³) | offset (Å³) | difference | "
              "difference − offset |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for t in TEMPS:
            r = results[w][t]
            print(f"| {t} | {r['v_acc']:.0f} | {r['p_acc']:+.2f} ± {r['p_acc_err']:.2f} | {r['probes']} | "
                  f"{r['p_prod']:+.3f} ± {r['p_prod_err']:.3f} | "
                  f"{r['b0']:.1f} / {r['b_fluct']:.1f} ± {r['b_fluct_err']:.1f} | "
                  f"{r['v0']:.0f} ± {r['v0_err']:.0f} | {r['v_npt']:.0f} ± {r['v_npt_err']:.0f} | "
                  f"{r['drift']:+.0f} ± {r['drift_err']:.0f} | {r['offset']:.0f} | "
                  f"{diff_txt(r['v0'], r['v0_err'], r['v_npt'], r['v_npt_err'])} | "
                  f"{diff_txt(r['v0'], r['v0_err'], r['npt_mode'], r['npt_mode_err'])} |")
    if len(works) < 2:
        return
    # Replicas: means with the standard error from the per-replica errors, and the replica-to-replica
    # spread of each method to set against those errors.
    print(f"\nmean of {len(works)} replicas\n")
    print("| T (K) | search V(P=0) (Å³) | NPT ⟨V⟩ (Å³) | NPT ⟨V⟩ − offset (Å³) | search ρ (g/cm³) | "
          "NPT ρ (g/cm³) | difference | difference − offset | replica spread search / NPT (Å³) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in TEMPS:
        rs = [results[w][t] for w in works]
        n = len(rs)
        out = {}
        for key in ("v0", "v_npt", "npt_mode"):
            m = sum(r[key] for r in rs) / n
            e = math.sqrt(sum(r[key + "_err"] ** 2 for r in rs)) / n
            out[key] = (m, e, max(r[key] for r in rs) - min(r[key] for r in rs))
        (a, ea, sa), (b, eb, sb), (c, ec, _) = out["v0"], out["v_npt"], out["npt_mode"]
        print(f"| {t} | {a:.0f} ± {ea:.0f} | {b:.0f} ± {eb:.0f} | {c:.0f} ± {ec:.0f} | {rho(a):.3f} | "
              f"{rho(b):.3f} | {diff_txt(a, ea, b, eb)} | {diff_txt(a, ea, c, ec)} | {sa:.0f} / {sb:.0f} |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["run", "table"])
    p.add_argument("work", type=Path, nargs="+", help="run: one directory; table: one per replica")
    p.add_argument("--tolerance", type=float, default=0.25)
    p.add_argument("--probe-steps", type=int, default=5000)
    p.add_argument("--ramp-steps", type=int, default=10000)
    p.add_argument("--production-steps", type=int, default=75000)
    p.add_argument("--npt-steps", type=int, default=200000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if args.mode == "run":
        if len(args.work) != 1:
            sys.exit("run takes one WORKDIR")
        run(args.work[0], args)
    table(args.work)
    sys.exit(0)
