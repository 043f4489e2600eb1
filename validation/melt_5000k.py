"""Why the Pedone Li2Si2O5 liquid cannot be melted at 5000 K by a zero-pressure volume search, checked three
ways on the 108-atom cell of validation/melt_vs_npt.py (docs/validation.md):

1. Isotherms P(rho) at 5000, 4000 and 3000 K: NVT (Nose-Hoover, 2 fs) at densities from 2.2 down to
   0.4 g/cm3, each from the same 5000 K liquid scaled to that density, pressure averaged over the second
   half of the run (standard error: the largest block-mean error over 16, 8 and 4 blocks). A liquid with
   a zero-pressure state shows P <= 0 somewhere along its isotherm (below it the cell cavitates); above
   the model's liquid-vapour critical temperature P stays positive at every density.
2. NPT at P = 0 (MTK, Pdamp 2 ps) at 5000 K from the 2.2 g/cm3 liquid: the volume every 10 ps.
3. `amorph melt --temperature 5000` itself (the MPMorph search with the pipeline's settings): its exit
   status and its last lines.

    cargo build --release -p amorph-cli
    RAYON_NUM_THREADS=1 python validation/melt_5000k.py WORKDIR [--steps 10000] [--npt-steps 50000]

Takes about 10 minutes on one core. Prints Markdown tables.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from melt_vs_npt import AMORPH, column, mean_err, rho  # noqa: E402

DENSITIES = [2.2, 1.8, 1.5, 1.2, 1.0, 0.8, 0.6, 0.4]
TEMPERATURES = [5000, 4000, 3000]


def sh(*args, check=True):
    return subprocess.run([str(AMORPH), *map(str, args)], check=check, capture_output=True, text=True)


def scaled_poscar(src: Path, dst: Path, factor: float):
    """A VASP 5 POSCAR with its lattice (and Cartesian positions) multiplied by `factor`."""
    lines = src.read_text().splitlines()
    lattice = [[float(x) * factor for x in lines[i].split()] for i in (2, 3, 4)]
    out = lines[:2] + ["  ".join(f"{x:.12f}" for x in row) for row in lattice] + lines[5:8]
    cartesian = lines[7].strip()[0] in "cCkK"
    for line in lines[8:]:
        parts = line.split()
        if len(parts) < 3:
            continue
        xyz = [float(x) * (factor if cartesian else 1.0) for x in parts[:3]]
        out.append("  ".join(f"{x:.12f}" for x in xyz) + ("  " + " ".join(parts[3:]) if parts[3:] else ""))
    dst.write_text("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("work", type=Path)
    p.add_argument("--steps", type=int, default=10000, help="NVT steps per isotherm point")
    p.add_argument("--npt-steps", type=int, default=50000)
    a = p.parse_args()
    w = a.work
    w.mkdir(parents=True, exist_ok=True)
    ff = ["--timestep", 2, "--every", 10]
    sh("pack", "Li2Si2O5", "--formula-units", 12, "--density", 2.2, "--seed", 7, "-o", w / "start.vasp")
    sh("md", w / "start.vasp", "--ensemble", "langevin", "--temperature", 5000, "--timestep", 0.5,
       "--steps", 2000, "--seed", 1, "-o", w / "liquid.vasp")

    print("Isotherms: NVT pressure (GPa) against density")
    print()
    print("| density (g/cm³) | volume (Å³) | " + " | ".join(f"P at {t} K (GPa)" for t in TEMPERATURES) + " |")
    print("|---|---|" + "---|" * len(TEMPERATURES))
    for density in DENSITIES:
        factor = (2.2 / density) ** (1 / 3)
        start = w / f"rho{density}.vasp"
        scaled_poscar(w / "liquid.vasp", start, factor)
        cells = []
        for t in TEMPERATURES:
            thermo = w / f"nvt_{t}_{density}.csv"
            if not thermo.exists():
                sh("md", start, "--ensemble", "nvt", "--temperature", t, "--steps", a.steps, *ff, "--seed", 3,
                   "--thermo", w / "tmp.csv")
                (w / "tmp.csv").rename(thermo)
            pressures = column(thermo, "pressure_GPa")
            m, e = mean_err(pressures[len(pressures) // 2:], blocks=(16, 8, 4))
            cells.append(f"{m:+.3f} ± {e:.3f}")
        # The cell's mass over a density is its volume, as its mass over a volume is its density.
        print(f"| {density} | {rho(density):.0f} | " + " | ".join(cells) + " |")

    print()
    print("NPT at P = 0, 5000 K, from the 2.2 g/cm³ liquid")
    print()
    thermo = w / "npt_5000.csv"
    if not thermo.exists():
        sh("md", w / "liquid.vasp", "--ensemble", "npt", "--pressure", 0, "--pressure-damping", 2000,
           "--temperature", 5000, "--steps", a.npt_steps, *ff, "--seed", 4, "--thermo", w / "tmp.csv")
        (w / "tmp.csv").rename(thermo)
    times = column(thermo, "time_fs")
    vols = column(thermo, "volume_A3")
    print("| time (ps) | volume (Å³) | density (g/cm³) |")
    print("|---|---|---|")
    for t_ps in range(0, int(times[-1] / 1000) + 1, 10):
        i = min(range(len(times)), key=lambda k: abs(times[k] - 1000 * t_ps))
        print(f"| {t_ps} | {vols[i]:.0f} | {rho(vols[i]):.3f} |")

    print()
    print("amorph melt --temperature 5000 (pipeline settings)")
    r = sh("melt", w / "start.vasp", "--temperature", 5000, "--seed", 7, "-o", w / "melt", check=False)
    print(f"exit status {r.returncode}")
    for line in r.stderr.strip().splitlines()[-12:]:
        print("    " + line)


if __name__ == "__main__":
    main()
