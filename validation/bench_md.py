"""The LAMMPS `in.melt` benchmark (32 000 LJ atoms) in LAMMPS and in amorph-md, side by side.

LAMMPS runs the classic input (lj units: fcc 0.8442, T* 3.0, lj/cut 2.5, neighbor 0.3 bin, every 20
steps, nve, dt 0.005) on one core; amorph runs the same problem in argon units
(crates/amorph-md/benches/lj_melt.rs: sigma 3.405 A, epsilon 0.0103 eV, m 39.948 amu, dt = 0.005 tau,
skin 0.3 sigma) under both neighbour-list rules: rebuilt every 20 steps unchecked (in.melt as written)
and rebuilt when an atom has moved half the skin (LAMMPS's default `check yes`). Prints atom-steps per
second and the ratios recorded in docs/benchmarks.md, each against LAMMPS with the same rule.

    python validation/bench_md.py [--rounds N]      # needs Debian's lmp and cargo

The host's speed drifts by up to ~20 % within minutes (a virtual machine sharing its cores), and the
2-thread run suffers most. With --rounds N (default 5) LAMMPS and the criterion bench run N times in
turn; each round's ratios are printed, then their medians. Last, the bench's --paired mode times one
and two threads alternately, 20 steps at a time (--paired N rounds, default 40; 0 skips it), and prints
the median of the per-round speed-ups, which is the steadiest measure of the 2-thread speed-up here.
"""

import argparse
import json
import re
import statistics
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
    subprocess.run(["cargo", "bench", "-q", "-p", "amorph-md", "--bench", "lj_melt", "--", "--noplot"], cwd=ROOT,
                   check=True, capture_output=True)
    rates = {}
    for rule in ("every20", "checked"):
        for threads in (1, 2):
            est = ROOT / f"target/criterion/lj_melt_32000/20_steps_{threads}_threads_{rule}/new/estimates.json"
            seconds = json.loads(est.read_text())["median"]["point_estimate"] * 1e-9
            rates[rule, threads] = 32000 * 20 / seconds
    return rates


def one_round():
    # in.melt's own setting rebuilds every 20 steps unchecked; LAMMPS's default (and amorph's rule)
    # rebuilds as soon as an atom may have crossed half the skin.
    lammps = {"every20": lammps_rate("every 20 delay 0 check no"), "checked": lammps_rate("every 1 delay 0 check yes")}
    rates = amorph_rates()
    return {rule: {"lammps": lammps[rule], "amorph_1": rates[rule, 1], "amorph_2": rates[rule, 2]}
            for rule in ("every20", "checked")}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--paired", type=int, default=40)
    a = p.parse_args()
    rounds = []
    for k in range(a.rounds):
        r = one_round()
        rounds.append(r)
        print(f"round {k + 1}: " + "; ".join(
            f"{rule}: LAMMPS {x['lammps'] / 1e6:.2f}, amorph 1 thread {x['amorph_1'] / 1e6:.2f} "
            f"({x['amorph_1'] / x['lammps']:.2f}x), 2 threads {x['amorph_2'] / 1e6:.2f} "
            f"(speed-up {x['amorph_2'] / x['amorph_1']:.2f}x)" for rule, x in r.items()), flush=True)
    for rule, name in (("every20", "rebuild every 20 steps, unchecked (in.melt as written)"),
                       ("checked", "rebuild when needed (LAMMPS's default, amorph's)")):
        med = lambda f: statistics.median(f(r[rule]) for r in rounds)  # noqa: E731
        print(f"median of {a.rounds} rounds, {name}: LAMMPS {med(lambda x: x['lammps']) / 1e6:.2f}, "
              f"amorph 1 thread {med(lambda x: x['amorph_1']) / 1e6:.2f} M atom-steps/s = "
              f"{med(lambda x: x['amorph_1'] / x['lammps']):.2f}x LAMMPS, "
              f"2 threads {med(lambda x: x['amorph_2']) / 1e6:.2f} = {med(lambda x: x['amorph_2'] / x['lammps']):.2f}x; "
              f"2-thread speed-up {med(lambda x: x['amorph_2'] / x['amorph_1']):.2f}x "
              f"(range {min(r[rule]['amorph_2'] / r[rule]['amorph_1'] for r in rounds):.2f}-"
              f"{max(r[rule]['amorph_2'] / r[rule]['amorph_1'] for r in rounds):.2f})")
    if a.paired > 0:
        out = subprocess.run(["cargo", "bench", "-q", "-p", "amorph-md", "--bench", "lj_melt", "--", "--paired",
                              str(a.paired)], cwd=ROOT, check=True, capture_output=True, text=True).stdout
        print(out.strip())


if __name__ == "__main__":
    main()
