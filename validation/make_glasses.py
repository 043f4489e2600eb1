"""Make the three small oxide glasses that amorph-md is validated on (tests/data/glasses/).

    Li2Si2O5.vasp       216 atoms, Li2O-SiO2       (a copy of examples/data/Li2Si2O5_glass.vasp, made by
                                                    validation/make_example_glass.py)
    Na2CaSi6O14.vasp    207 atoms, Na2O-CaO-SiO2   (9 x Na2O.CaO.6SiO2, soda-lime silicate), cubic cell
    LiAlP2O7.vasp       198 atoms, Li2O-Al2O3-P2O5 (18 x LiAlP2O7 = Li2O.Al2O3.2P2O5), TRICLINIC cell

Each new glass is a classical melt-quench in LAMMPS with the Pedone potential, generalising
validation/make_example_glass.py (read its docstring for the potential and the overlay that expresses it
in LAMMPS). The aluminophosphate is made in a triclinic cell already in LAMMPS orientation (a along x, b in
the xy plane), so that the Coulomb solvers are checked against LAMMPS on a skewed cell without rotating
anything.

Run:  /work/.venv-peers/bin/python validation/make_glasses.py [--only NAME] [--steps-scale S]
Needs: Debian's LAMMPS (`apt-get install -y lammps`, binary `lmp`, 29 Sep 2021 build here) and a Python
with numpy + pymatgen. One core (OMP_NUM_THREADS=1). About 1 minute per glass here. Same seeds -> same
files on one machine and LAMMPS build.

Potential: Pedone, Malavasi, Menziani, Cormack, Segre, J. Phys. Chem. B 110, 11780-11795 (2006),
doi:10.1021/jp0611018, Table 1 ("PMMCS"): partial charges Li +0.6, Na +0.6, Ca +1.2, Al +1.8, Si +2.4,
P +3.0, O -1.2;  U_ij(r) = q_i q_j / r + D_ij [(1 - exp(-a_ij (r - r0_ij)))^2 - 1] + C_ij / r^12, with
short-range terms only for X-O pairs (cutoff 5.5 A):
    pair     D_ij (eV)   a_ij (1/A)   r0_ij (A)   C_ij (eV A^12)
    Li-O     0.001114    3.429506     2.681360    1.0
    Na-O     0.023363    1.763867     3.006315    5.0
    Ca-O     0.030211    2.241334     2.923245    5.0
    Al-O     0.361581    1.900442     2.164818    0.9
    Si-O     0.340554    2.006700     2.100000    1.0
    P-O      0.831326    2.585833     1.800790    1.0
    O-O      0.042395    1.379316     3.618701    22.0
Where the numbers were checked (with the project's search tool): every row equals the PMMCS table of
glasagent/amorphouspy (amorphouspy/src/amorphouspy/potentials/pmmcs_potential.py, which cites
doi:10.1021/jp0611018); the Na-O, Si-O and P-O Morse rows also equal an independent pyiron LAMMPS input
(Na-Zr-Si-P-O glass), and the Al-O, Ca-O, Si-O and O-O rows (with C = 0.9, 5.0, 1.0, 22.0) an independent
CaO-Al2O3-SiO2 LAMMPS input. One older copy of the amorphouspy table has r0(P-O) = 1.790790; the other
sources agree on 1.800790, used here.

Protocol (timestep 1 fs, Nose-Hoover NVT with Tdamp = 100 fs, volume fixed; Coulomb by coul/dsf 0.25 10.0,
which is plenty for making a glass): random start (every periodic pair >= 1.7 A, numpy default_rng), CG
minimize, 1 ps of `fix nve/limit 0.05` from 4000 K velocities, 10 ps at 4000 K, linear quench to 300 K over
20 ps (185 K/ps), 5 ps at 300 K. Densities: 2.50 g/cm3 for the soda-lime silicate (window glass of similar
composition is 2.48-2.52), 2.60 g/cm3 for the aluminophosphate (Li2O-Al2O3-P2O5 glasses near the
metaphosphate line are 2.5-2.7).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Element, Lattice, Structure
from pymatgen.io.vasp import Poscar

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "tests" / "data" / "glasses"

CHARGES = {"Li": 0.6, "Na": 0.6, "Ca": 1.2, "Al": 1.8, "Si": 2.4, "P": 3.0, "O": -1.2}
# Pedone et al. 2006, Table 1: (D eV, a 1/A, r0 A, C eV A^12), X-O pairs only.
PEDONE = {
    "Li": (0.001114, 3.429506, 2.681360, 1.0),
    "Na": (0.023363, 1.763867, 3.006315, 5.0),
    "Ca": (0.030211, 2.241334, 2.923245, 5.0),
    "Al": (0.361581, 1.900442, 2.164818, 0.9),
    "Si": (0.340554, 2.006700, 2.100000, 1.0),
    "P": (0.831326, 2.585833, 1.800790, 1.0),
    "O": (0.042395, 1.379316, 3.618701, 22.0),
}
SR_CUTOFF = 5.5
DSF_ALPHA, DSF_CUTOFF = 0.25, 10.0
DMIN = 1.7
T_MELT, T_FINAL = 4000.0, 300.0
STEPS = dict(soft=1000, melt=10000, quench=20000, anneal=5000)

# name -> recipe. `tilt` gives the LAMMPS tilt factors (xy, xz, yz) as fractions of the edge length
# (cells are lx = ly = lz); `former` is the network former whose coordination is checked, with the bond
# cutoff (A) and the accepted range of the mean coordination.
GLASSES = {
    "Li2Si2O5": dict(copy_of=REPO / "examples" / "data" / "Li2Si2O5_glass.vasp"),
    "Na2CaSi6O14": dict(
        counts={"Na": 18, "Ca": 9, "Si": 54, "O": 126}, density=2.50, tilt=(0.0, 0.0, 0.0),
        seeds=(2025, 90211), former=("Si", 2.0, (3.9, 4.1)),
        title="Na2O-CaO-6SiO2 (soda-lime silicate) glass, 207 atoms"),
    "LiAlP2O7": dict(
        counts={"Li": 18, "Al": 18, "P": 36, "O": 126}, density=2.60, tilt=(0.20, -0.10, 0.15),
        seeds=(2026, 77123), former=("P", 1.9, (3.9, 4.1)),
        title="Li2O-Al2O3-2P2O5 (LiAlP2O7) glass, 198 atoms, triclinic cell in LAMMPS orientation"),
}


def lammps_cell(edge, tilt):
    """Rows a, b, c of a LAMMPS-oriented cell with lx = ly = lz = edge and tilts given as fractions."""
    xy, xz, yz = (t * edge for t in tilt)
    return np.array([[edge, 0.0, 0.0], [xy, edge, 0.0], [xz, yz, edge]])


def random_fractional(matrix, n, rng, dmin):
    """Sequential random addition; rejects a point closer than dmin to any periodic image of another."""
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], float)
    placed = np.empty((0, 3))
    tries = 0
    while len(placed) < n:
        tries += 1
        if tries > 2_000_000:
            raise RuntimeError("random placement did not converge; lower DMIN")
        f = rng.random(3)
        if len(placed):
            d = placed - f
            d -= np.round(d)
            d = (d[:, None, :] + shifts[None, :, :]) @ matrix
            if np.min(np.linalg.norm(d, axis=2)) < dmin:
                continue
        placed = np.vstack([placed, f])
    return placed


def initial_structure(recipe):
    species = [s for s, n in recipe["counts"].items() for _ in range(n)]
    q = sum(CHARGES[s] for s in species)
    if abs(q) > 1e-9:
        raise SystemExit(f"composition is not neutral with Pedone's charges: total {q}")
    mass_g = sum(float(Element(s).atomic_mass) for s in species) / 6.02214076e23
    volume = mass_g / recipe["density"] * 1e24
    matrix = lammps_cell(volume ** (1.0 / 3.0), recipe["tilt"])
    rng = np.random.default_rng(recipe["seeds"][0])
    frac = random_fractional(matrix, len(species), rng, DMIN)
    return Structure(Lattice(matrix), species, frac)


def write_lammps_data(structure, types, path):
    m = structure.lattice.matrix
    lines = ["random start (validation/make_glasses.py)", "", f"{len(structure)} atoms",
             f"{len(types)} atom types", "",
             f"0.0 {m[0, 0]:.12f} xlo xhi", f"0.0 {m[1, 1]:.12f} ylo yhi", f"0.0 {m[2, 2]:.12f} zlo zhi"]
    if any(abs(x) > 0 for x in (m[1, 0], m[2, 0], m[2, 1])):
        lines.append(f"{m[1, 0]:.12f} {m[2, 0]:.12f} {m[2, 1]:.12f} xy xz yz")
    lines += ["", "Masses", ""]
    lines += [f"{t} {float(Element(s).atomic_mass):.6f}" for t, s in enumerate(types, 1)]
    lines += ["", "Atoms # charge", ""]
    for i, site in enumerate(structure, 1):
        s = site.specie.symbol
        x, y, z = site.coords
        lines.append(f"{i} {types.index(s) + 1} {CHARGES[s]} {x:.12f} {y:.12f} {z:.12f}")
    Path(path).write_text("\n".join(lines) + "\n")


def lammps_input(types, seed, scale):
    n = {k: max(1, int(round(v * scale))) for k, v in STEPS.items()}
    o = types.index("O") + 1
    pc = []
    for t, s in enumerate(types, 1):
        d, a, r0, c = PEDONE[s]
        i, j = sorted((t, o))
        pc += [f"pair_coeff {i} {j} morse {d} {a} {r0}", f"pair_coeff {i} {j} lj/cut {c / 4.0} 1.0",
               f"pair_coeff {i} {j} buck 0.0 1.0 {-c}"]
    coul = f"coul/dsf {DSF_ALPHA} {DSF_CUTOFF}"
    return f"""# melt-quench with the Pedone 2006 potential, written by validation/make_glasses.py
units           metal
atom_style      charge
boundary        p p p
read_data       start.data
pair_style      hybrid/overlay morse {SR_CUTOFF} lj/cut {SR_CUTOFF} buck {SR_CUTOFF} {coul}
pair_coeff      * * coul/dsf
{chr(10).join(pc)}
pair_modify     shift yes
neighbor        2.0 bin
neigh_modify    every 1 delay 0 check yes
timestep        0.001
thermo_style    custom step time temp pe etotal press
thermo          1000
min_style       cg
minimize        1.0e-6 1.0e-8 2000 20000
reset_timestep  0
velocity        all create {T_MELT} {seed} mom yes rot yes dist gaussian
fix             soft all nve/limit 0.05
run             {n['soft']}
unfix           soft
velocity        all scale {T_MELT}
fix             md all nvt temp {T_MELT} {T_MELT} 0.1
run             {n['melt']}
unfix           md
fix             md all nvt temp {T_MELT} {T_FINAL} 0.1
run             {n['quench']}
unfix           md
fix             md all nvt temp {T_FINAL} {T_FINAL} 0.1
run             {n['anneal']}
unfix           md
write_dump      all custom final.dump id type xs ys zs modify sort id format float %.15g
"""


def read_final_dump(path, lattice, types):
    lines = Path(path).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = np.array([[float(x) for x in l.split()] for l in lines[start:] if l.strip()])
    rows = rows[np.argsort(rows[:, 0])]
    frac = rows[:, 2:5] % 1.0
    frac[frac >= 1.0] = 0.0
    return Structure(lattice, [types[int(k) - 1] for k in rows[:, 1]], frac)


def checks(s, former):
    """Density, the former's coordination by O, and the shortest pair of every species pair."""
    el, cut, (lo, hi) = former
    centers, points, _, dists = s.get_neighbor_list(3.5)
    sym = np.array([site.specie.symbol for site in s])
    fo = (sym[centers] == el) & (sym[points] == "O") & (dists < cut)
    cn = np.bincount(centers[fo], minlength=len(s))[sym == el]
    mins = {}
    for c, p, d in zip(centers, points, dists):
        key = "-".join(sorted((sym[c], sym[p])))
        mins[key] = min(mins.get(key, np.inf), float(d))
    out = dict(density=float(s.density), cn_mean=float(cn.mean()),
               cn_hist={int(k): int(v) for k, v in zip(*np.unique(cn, return_counts=True))},
               min_pair=float(dists.min()), min_by_pair=dict(sorted(mins.items())))
    out["ok"] = lo <= out["cn_mean"] <= hi and out["min_pair"] > 1.2
    return out


def make(name, recipe, lmp, scale, workdir):
    types = list(recipe["counts"])
    start = initial_structure(recipe)
    print(f"{name}: random start, {len(start)} atoms, density {start.density:.4f} g/cm3, "
          f"cell {np.round(start.lattice.abc, 4)} angles {np.round(start.lattice.angles, 3)}")
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="amorph-glass-")
        work = Path(tmp.name)
    else:
        work = workdir / name
        work.mkdir(parents=True, exist_ok=True)
    try:
        write_lammps_data(start, types, work / "start.data")
        (work / "in.glass").write_text(lammps_input(types, recipe["seeds"][1], scale))
        t0 = time.perf_counter()
        res = subprocess.run([lmp, "-in", "in.glass", "-log", "log.lammps", "-screen", "none"], cwd=work,
                             env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if res.returncode != 0:
            sys.stderr.write(res.stdout + res.stderr)
            log = work / "log.lammps"
            if log.exists():
                sys.stderr.write("\n".join(log.read_text().splitlines()[-30:]) + "\n")
            raise SystemExit(f"lmp failed with exit code {res.returncode}")
        glass = read_final_dump(work / "final.dump", start.lattice, types)
    finally:
        if tmp is not None:
            tmp.cleanup()
    c = checks(glass, recipe["former"])
    print(f"  LAMMPS {dt:.1f} s; density {c['density']:.4f}; {recipe['former'][0]}-O coordination "
          f"{c['cn_mean']:.3f} {c['cn_hist']}; shortest pair {c['min_pair']:.3f} A; "
          + ", ".join(f"{k} {v:.2f}" for k, v in c["min_by_pair"].items()))
    if not c["ok"]:
        raise SystemExit(f"{name}: sanity checks FAILED; not writing it")
    glass = glass.get_sorted_structure(key=lambda site: types.index(site.specie.symbol))
    return glass, f"{recipe['title']}, Pedone 2006 melt-quench with LAMMPS (validation/make_glasses.py)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(GLASSES), action="append")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    ap.add_argument("--lmp", default=shutil.which("lmp") or "lmp")
    ap.add_argument("--workdir", type=Path, default=None, help="keep LAMMPS files here")
    ap.add_argument("--steps-scale", type=float, default=1.0, help="quick tests only")
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.only or GLASSES:
        recipe = GLASSES[name]
        out = args.out_dir / f"{name}.vasp"
        if "copy_of" in recipe:
            shutil.copyfile(recipe["copy_of"], out)
            print(f"{name}: copied {recipe['copy_of'].relative_to(REPO)}")
            continue
        glass, title = make(name, recipe, args.lmp, args.steps_scale, args.workdir)
        part = out.with_name(out.name + ".tmp")
        Poscar(glass, comment=title).write_file(str(part), direct=True, significant_figures=12)
        os.replace(part, out)
        print(f"  wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
