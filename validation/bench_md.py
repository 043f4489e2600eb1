"""The LAMMPS `in.melt` benchmark (32 000 LJ atoms) in LAMMPS and in amorph-md, side by side.

LAMMPS runs the classic input (lj units: fcc 0.8442, T* 3.0, lj/cut 2.5, neighbor 0.3 bin, every 20
steps, nve, dt 0.005) on one core; amorph runs the same problem in argon units
(crates/amorph-md/benches/lj_melt.rs: sigma 3.405 A, epsilon 0.0103 eV, m 39.948 amu, dt = 0.005 tau,
skin 0.3 sigma) under both neighbour-list rules: rebuilt every 20 steps unchecked (in.melt as written)
and rebuilt when an atom has moved half the skin (LAMMPS's default `check yes`). Prints atom-steps per
second and the ratios recorded in docs/benchmarks.md, each against LAMMPS with the same rule.

    python validation/bench_md.py        # needs Debian's lmp and cargo
"""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = 200
MELT = """units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 20 0 20 0 20
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 3.0 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify {neigh}
fix 1 all nve
thermo 100
run {steps}
"""


def lammps_rate(neigh):
    lmp = shutil.which("lmp")
    if lmp is None:
        raise SystemExit("lmp not found: apt-get install -y lammps")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "in.melt").write_text(MELT.format(neigh=neigh, steps=STEPS))
        out = subprocess.run([lmp, "-in", "in.melt", "-log", "none"], cwd=d, capture_output=True, text=True,
                             check=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}).stdout
    loop = float(re.search(r"Loop time of ([0-9.eE+-]+) on 1 procs", out).group(1))
    return 32000 * STEPS / loop


def amorph_rates():
    subprocess.run(["cargo", "bench", "-p", "amorph-md", "--bench", "lj_melt", "--", "--noplot"], cwd=ROOT,
                   check=True)
    rates = {}
    for rule in ("every20", "checked"):
        for threads in (1, 2):
            est = ROOT / f"target/criterion/lj_melt_32000/20_steps_{threads}_threads_{rule}/new/estimates.json"
            seconds = json.loads(est.read_text())["median"]["point_estimate"] * 1e-9
            rates[rule, threads] = 32000 * 20 / seconds
    return rates


def main():
    # in.melt's own setting rebuilds every 20 steps unchecked; LAMMPS's default (and amorph's rule)
    # rebuilds as soon as an atom may have crossed half the skin.
    lammps = lammps_rate("every 20 delay 0 check no")
    checked = lammps_rate("every 1 delay 0 check yes")
    print(f"LAMMPS in.melt, 1 core: {lammps / 1e6:.2f} M atom-steps/s (rebuild every 20 steps, unchecked)")
    print(f"LAMMPS in.melt, 1 core: {checked / 1e6:.2f} M atom-steps/s (rebuild when needed, as amorph)")
    rates = amorph_rates()
    for (rule, threads), rate in rates.items():
        peer = lammps if rule == "every20" else checked
        print(f"amorph-md, {rule}, {threads} thread(s): {rate / 1e6:.2f} M atom-steps/s = "
              f"{rate / peer:.2f}x LAMMPS with the same rule")
    for rule in ("every20", "checked"):
        print(f"2-thread speed-up, {rule}: {rates[rule, 2] / rates[rule, 1]:.2f}x")


if __name__ == "__main__":
    main()
