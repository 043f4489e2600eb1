"""Reference NPT volume from LAMMPS `fix npt` for amorph-md's MTK barostat test (tests/data/lammps/npt_lj.json).

An argon-like Lennard-Jones liquid (eps = 0.0104 eV, sigma = 3.4 A, cut 8.5 A, energy-shifted, no tail
correction) of 256 atoms, started from a jittered fcc lattice (a = 5.8 A), runs Nose-Hoover NPT at
T = 140 K and P = 0.05 GPa (a dense liquid), time step 2 fs, Tdamp 200 fs, Pdamp 2000 fs (isotropic), for several
velocity seeds: 10 ps of equilibration, then 60 ps sampled every 20 fs. The JSON holds the mean volume, its
standard error (block averages of 5 ps, pooled over the seeds), the mean pressure and every setting.

    python validation/lammps_npt.py

Needs Debian's LAMMPS (`lmp`) and numpy. The mean volume is an ensemble property, so amorph's MTK barostat
(different masses for the barostat variables, a different random start) must agree within the statistical
errors, not to the last digit.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests/data/lammps/npt_lj.json"

N_CELLS, A = 4, 5.8
T_K, P_GPA = 140.0, 0.05
DT_FS, TDAMP_FS, PDAMP_FS = 2.0, 200.0, 2000.0
EQUIL_STEPS, PROD_STEPS, EVERY = 5000, 30000, 10
BLOCK_STEPS = 2500
SEEDS = [4928459, 1234567, 7654321, 2468101]


def write_data(path):
    basis = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    pos = []
    k = 0
    for i in range(N_CELLS):
        for j in range(N_CELLS):
            for l in range(N_CELLS):
                for b in basis:
                    k += 1
                    jitter = ((k * 2654435761) % 1000) / 1000.0 * 0.2 - 0.1
                    pos.append([(i + b[0]) * A + jitter, (j + b[1]) * A + jitter, (l + b[2]) * A + jitter])
    L = N_CELLS * A
    lines = ["LJ argon", "", f"{len(pos)} atoms", "1 atom types", "",
             f"0.0 {L!r} xlo xhi", f"0.0 {L!r} ylo yhi", f"0.0 {L!r} zlo zhi", "", "Masses", "", "1 39.948", "",
             "Atoms # atomic", ""]
    lines += [f"{n + 1} 1 {x!r} {y!r} {z!r}" for n, (x, y, z) in enumerate(pos)]
    path.write_text("\n".join(lines) + "\n")
    return len(pos)


def run(seed, workdir):
    data = workdir / "lj.data"
    natoms = write_data(data)
    p_bar = P_GPA * 1e4
    script = f"""
units metal
atom_style atomic
boundary p p p
read_data {data}
pair_style lj/cut 8.5
pair_coeff 1 1 0.0104 3.4
pair_modify shift yes
neighbor 2.0 bin
neigh_modify every 1 delay 0 check yes
timestep {DT_FS / 1000.0}
velocity all create {T_K} {seed} dist gaussian mom yes
fix 1 all npt temp {T_K} {T_K} {TDAMP_FS / 1000.0} iso {p_bar} {p_bar} {PDAMP_FS / 1000.0}
thermo {EVERY}
thermo_style custom step temp press vol
thermo_modify format float %.10g
run {EQUIL_STEPS}
run {PROD_STEPS}
"""
    inp = workdir / "in.npt"
    inp.write_text(script)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(["lmp", "-in", str(inp), "-log", str(workdir / "log")], capture_output=True, text=True,
                         env=env, check=True, cwd=workdir).stdout
    # Second run block: the production thermo table.
    tables = []
    rows = None
    for line in out.splitlines():
        parts = line.split()
        if parts[:4] == ["Step", "Temp", "Press", "Volume"]:
            rows = []
            tables.append(rows)
            continue
        if rows is not None:
            try:
                rows.append([float(x) for x in parts])
                if len(parts) != 4:
                    rows.pop()
                    rows = None
            except ValueError:
                rows = None
    prod = np.array(tables[-1][1:])  # drop the first row (the last state of the equilibration)
    return natoms, prod


def main():
    blocks_v, blocks_p, per_seed = [], [], []
    with tempfile.TemporaryDirectory() as d:
        for seed in SEEDS:
            natoms, prod = run(seed, Path(d))
            per_block = BLOCK_STEPS // EVERY
            nblocks = len(prod) // per_block
            for b in range(nblocks):
                chunk = prod[b * per_block:(b + 1) * per_block]
                blocks_v.append(chunk[:, 3].mean())
                blocks_p.append(chunk[:, 2].mean())
            per_seed.append({"seed": seed, "mean_volume_A3": float(prod[:, 3].mean()),
                             "mean_temperature_K": float(prod[:, 1].mean())})
    blocks_v = np.array(blocks_v)
    blocks_p = np.array(blocks_p) / 1e4
    version = subprocess.run(["lmp", "-h"], capture_output=True, text=True).stdout.splitlines()[1].strip()
    ref = {
        "natoms": natoms,
        "temperature_K": T_K,
        "pressure_GPa": P_GPA,
        "mean_volume_A3": float(blocks_v.mean()),
        "mean_volume_stderr_A3": float(blocks_v.std(ddof=1) / np.sqrt(len(blocks_v))),
        "mean_pressure_GPa": float(blocks_p.mean()),
        "mean_pressure_stderr_GPa": float(blocks_p.std(ddof=1) / np.sqrt(len(blocks_p))),
        "blocks": len(blocks_v),
        "per_seed": per_seed,
        "settings": {
            "pair": "lj/cut 8.5, eps 0.0104 eV, sigma 3.4 A, pair_modify shift yes",
            "start": f"fcc {N_CELLS}x{N_CELLS}x{N_CELLS}, a = {A} A, jitter as in the script",
            "fix": f"npt temp {T_K} {T_K} {TDAMP_FS} fs iso {P_GPA} GPa {PDAMP_FS} fs",
            "timestep_fs": DT_FS,
            "equilibration_steps": EQUIL_STEPS,
            "production_steps": PROD_STEPS,
            "sample_every": EVERY,
            "block_steps": BLOCK_STEPS,
            "lammps": version,
        },
    }
    OUT.write_text(json.dumps(ref, indent=1) + "\n")
    print(json.dumps({k: v for k, v in ref.items() if k not in ("settings", "per_seed")}, indent=1))
    print(per_seed)


if __name__ == "__main__":
    main()
