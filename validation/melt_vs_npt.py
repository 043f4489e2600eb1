"""The MPMorph volume search (`amorph melt` / `amorph quench`) against MTK NPT at P = 0 (`amorph md
--ensemble npt`), for a ~100-atom Pedone Li2Si2O5 liquid: the table of docs/validation.md.

    python validation/melt_vs_npt.py run  WORKDIR [TOL_GPA PROBE_STEPS]  # pack, melt, quench, NPT (~10-20 min)
    python validation/melt_vs_npt.py table WORKDIR                       # the table from a finished WORKDIR

TOL_GPA and PROBE_STEPS (default 0.5 and 2000, the pipeline's defaults) set the search's acceptance
window (--pressure-tolerance) and probe length (--probe-steps) for the melt and every quench.

`run` uses target/release/amorph (build it first): 108 atoms (12 Li2Si2O5) packed at 2.2 g/cm3 with seed 7;
melt at 3000 K (2 fs, probes of 2 000 steps, 2 000-step Langevin warm-up, 10 000 production steps);
quench to 2500, 2000, 1500, 1000 K from the melt's last frame; then, from the last frame of each stage,
50 000 steps (100 ps) of Nose-Hoover NPT at P = 0 (MTK barostat, Pdamp 2 ps), whose volume is averaged
over the second half with the standard error of 10 block means.

For each temperature the table gives the accepted volume and its probe's pressure, the zero-pressure
volume of the search's last P(V) fit with its standard error, the mean pressure of the 20 ps NVT
production at the accepted volume, and the NPT volume.
"""

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AMORPH = ROOT / "target" / "release" / "amorph"
TEMPS = [3000, 2500, 2000, 1500, 1000]
MASS_AMU = 24 * 6.94 + 24 * 28.085 + 60 * 15.999  # Li24 Si24 O60 with pymatgen's masses, rounded


def sh(*args, log=None):
    with open(log, "w") if log else open("/dev/null", "w") as err:
        subprocess.run([str(AMORPH), *map(str, args)], check=True, stderr=err, stdout=err)


def run(work: Path, tol: float = 0.5, probe: int = 2000):
    work.mkdir(parents=True, exist_ok=True)
    search = ["--pressure-tolerance", tol, "--probe-steps", probe]
    sh("pack", "Li2Si2O5", "--formula-units", 12, "--density", 2.2, "--seed", 7, "-o", work / "start.vasp")
    sh("melt", work / "start.vasp", "--temperature", 3000, "--timestep", 2, "--seed", 7, *search,
       "-o", work / "melt", log=work / "melt.err")
    sh("quench", work / "melt", "--temperatures", "1000,1500,2000,2500", "--timestep", 2, "--seed", 7,
       *search, "-o", work / "quench", log=work / "quench.err")
    for t in TEMPS:
        start = work / "melt" / "final.vasp" if t == 3000 else work / "quench" / f"T{t}K" / "final.vasp"
        sh("md", start, "--ensemble", "npt", "--pressure", 0, "--pressure-damping", 2000, "--temperature", t,
           "--timestep", 2, "--steps", 50000, "--every", 25, "--seed", 11, "--thermo", work / f"npt_{t}.csv")


def block_mean(xs, blocks=10):
    per = len(xs) // blocks
    means = [sum(xs[i * per:(i + 1) * per]) / per for i in range(blocks)]
    m = sum(means) / blocks
    return m, math.sqrt(sum((b - m) ** 2 for b in means) / (blocks - 1) / blocks)


def table(work: Path):
    print("| T (K) | accepted V (Å³) | its P (GPa) | P(V) fit V0 (Å³) | production P (GPa) | NPT V (Å³) | "
          "NPT ρ (g/cm³) | search ρ (g/cm³) |")
    print("|---|---|---|---|---|---|---|---|")
    for t in TEMPS:
        stage = work / "melt" if t == 3000 else work / "quench" / f"T{t}K"
        summary = json.loads((stage / "summary.json").read_text())
        history = json.loads((stage / "search.json").read_text())
        fits = [r["fit"] for r in history["records"] if r.get("fit")]
        fit = fits[-1] if fits else None
        rows = list(csv.DictReader(open(work / f"npt_{t}.csv")))
        vols = [float(r["volume_A3"]) for r in rows[len(rows) // 2:]]
        v, err = block_mean(vols)
        fit_txt = "—"
        if fit:
            fit_txt = f"{fit['v0_A3']:.0f}" + (f" ± {fit['v0_err_A3']:.0f}" if fit.get("v0_err_A3") else "")
        rho = lambda vol: MASS_AMU * 1.66053906660 / vol  # noqa: E731
        print(f"| {t} | {summary['volume_A3']:.0f} | {summary['pressure_GPa']:+.2f} ± "
              f"{summary['pressure_err_GPa']:.2f} | {fit_txt} | {summary['production_mean_pressure_GPa']:+.2f} | "
              f"{v:.0f} ± {err:.0f} | {rho(v):.3f} | {summary['density_g_cm3']:.3f} |")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5) or sys.argv[1] not in ("run", "table"):
        sys.exit(__doc__)
    work = Path(sys.argv[2])
    if sys.argv[1] == "run":
        run(work, *((float(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) == 5 else ()))
    table(work)
