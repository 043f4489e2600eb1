"""Make the example Li2Si2O5 glass the project ships: 216 atoms, melt-quenched with LAMMPS.

Writes examples/data/Li2Si2O5_glass.vasp (VASP 5 POSCAR, Direct coordinates, species Li, Si, O) and
prints sanity checks (density, Si-O coordination, Si-O RDF first peak, shortest pair distance, Q^n).

Run:  /work/.venv-peers/bin/python validation/make_example_glass.py [--out PATH] [--coulomb ewald|dsf]
Needs: Debian's LAMMPS (`apt-get install -y lammps`, binary `lmp`, 29 Sep 2021 build here) and a Python
with numpy + pymatgen. One core; OMP_NUM_THREADS is forced to 1. Same seeds -> same file on one machine
and LAMMPS build (MD trajectories are chaotic, so another build or CPU may give a different, equally
valid glass).

Composition: 24 formula units of Li2Si2O5 = 48 Li, 48 Si, 120 O, at 2.35 g/cm^3 (cubic box, NVT
throughout, so the final density equals the initial one).

Potential: Pedone, Malavasi, Menziani, Cormack, Segre, J. Phys. Chem. B 110, 11780-11795 (2006),
doi:10.1021/jp0611018 ("PMMCS"). Partial charges Li +0.6, Si +2.4, O -1.2;
    U_ij(r) = q_i q_j / r + D_ij [(1 - exp(-a_ij (r - r0_ij)))^2 - 1] + C_ij / r^12
with short-range terms only for Li-O, Si-O and O-O (cutoff 5.5 A, as in the paper):
    pair     D_ij (eV)   a_ij (1/A)   r0_ij (A)   C_ij (eV A^12)
    Li-O     0.001114    3.429506     2.681360    1.0
    Si-O     0.340554    2.006700     2.100000    1.0
    O-O      0.042395    1.379316     3.618701    22.0
Where the numbers were checked (with the project's search tool): the PMMCS table of glasagent/amorphouspy
(amorphouspy/src/amorphouspy/potentials/pmmcs_potential.py, which cites doi:10.1021/jp0611018) gives all
three rows; the Si-O and O-O rows agree with Table 1 of a Sci. Rep. (2022) paper on CaO/MgO-SiO2 glasses
(doi:10.1038/s41598-022-16139-w), which also uses Pedone's potential.

LAMMPS has no `pedone` pair style in this build, so the potential is an overlay (see shared/PEERS.md):
    pair_style hybrid/overlay morse 5.5 lj/cut 5.5 buck 5.5 coul/long 10.0   (+ kspace_style ewald 1e-6)
    pair_coeff I J morse D a r0
    pair_coeff I J lj/cut C/4 1.0      # 4 (C/4) (1/r^12 - 1/r^6) = C/r^12 - C/r^6
    pair_coeff I J buck 0.0 1.0 -C     # -(-C)/r^6 = +C/r^6 cancels the r^-6 term
    pair_modify shift yes              # short-range energy shifted to 0 at 5.5 A (forces unchanged)
`--coulomb dsf` swaps coul/long + Ewald for coul/dsf 0.25 10.0 (damped shifted force, no k-space).
The default is Ewald (exact periodic Coulomb sum, as in Pedone's paper).

Protocol (timestep 1 fs, Nose-Hoover NVT with Tdamp = 100 fs, seeds fixed):
  1. random positions in the cubic box, numpy default_rng(2024), every pair >= 1.7 A apart (periodic);
  2. soft start: conjugate-gradient `minimize`, then 2 ps of `fix nve/limit 0.05` from 4000 K velocities;
  3. 20 ps NVT at 4000 K; 4. linear quench 4000 K -> 300 K over 40 ps (92.5 K/ps);
  5. 10 ps NVT at 300 K; then the final configuration is written.
Runtime: about 105 s on one core here (LAMMPS ~770 steps/s with Ewald); `--steps-scale 0.05 --out X`
is a 5-second smoke run.
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
DEFAULT_OUT = REPO / "examples" / "data" / "Li2Si2O5_glass.vasp"

SPECIES = ["Li", "Si", "O"]  # LAMMPS types 1, 2, 3
COUNTS = {"Li": 48, "Si": 48, "O": 120}  # 24 x Li2Si2O5
CHARGES = {"Li": 0.6, "Si": 2.4, "O": -1.2}
DENSITY = 2.35  # g/cm^3
SEED_POSITIONS = 2024
SEED_VELOCITIES = 4928459
DMIN = 1.7  # A, minimum distance in the random start
SR_CUTOFF = 5.5  # A, short-range (Morse + C/r^12) cutoff, as in Pedone 2006
COUL_CUTOFF = 10.0  # A, real-space Coulomb cutoff
DSF_ALPHA = 0.25  # 1/A, only for --coulomb dsf
EWALD_ACCURACY = 1e-6

# Pedone et al. 2006 (PMMCS): (D eV, a 1/A, r0 A, C eV A^12), pairs with O only.
PEDONE = {
    ("Li", "O"): (0.001114, 3.429506, 2.681360, 1.0),
    ("Si", "O"): (0.340554, 2.006700, 2.100000, 1.0),
    ("O", "O"): (0.042395, 1.379316, 3.618701, 22.0),
}

# Protocol, in steps of 1 fs.
T_MELT = 4000.0
T_FINAL = 300.0
STEPS_SOFT = 2000
STEPS_MELT = 20000
STEPS_QUENCH = 40000
STEPS_ANNEAL = 10000


def random_positions(lattice, n, rng, dmin):
    """Sequential random addition in fractional coordinates, rejecting any periodic pair closer than dmin."""
    m = lattice.matrix
    placed = np.empty((0, 3))
    tries = 0
    while len(placed) < n:
        tries += 1
        if tries > 1_000_000:
            raise RuntimeError("random placement did not converge; lower DMIN")
        f = rng.random(3)
        if len(placed):
            d = placed - f
            d -= np.round(d)
            if np.min(np.linalg.norm(d @ m, axis=1)) < dmin:
                continue
        placed = np.vstack([placed, f])
    return placed


def initial_structure():
    species = [s for s in SPECIES for _ in range(COUNTS[s])]
    mass_g = sum(float(Element(s).atomic_mass) for s in species) / 6.02214076e23
    volume = mass_g / DENSITY * 1e24  # A^3
    lattice = Lattice.cubic(volume ** (1.0 / 3.0))
    rng = np.random.default_rng(SEED_POSITIONS)
    frac = random_positions(lattice, len(species), rng, DMIN)
    return Structure(lattice, species, frac)


def write_lammps_data(structure, path):
    a = structure.lattice.a
    lines = [
        "Li2Si2O5 random start (validation/make_example_glass.py)",
        "",
        f"{len(structure)} atoms",
        f"{len(SPECIES)} atom types",
        "",
        f"0.0 {a:.12f} xlo xhi",
        f"0.0 {a:.12f} ylo yhi",
        f"0.0 {a:.12f} zlo zhi",
        "",
        "Masses",
        "",
    ]
    for t, s in enumerate(SPECIES, 1):
        lines.append(f"{t} {float(Element(s).atomic_mass):.6f}")
    lines += ["", "Atoms # charge", ""]
    for i, site in enumerate(structure, 1):
        s = site.specie.symbol
        x, y, z = site.coords
        lines.append(f"{i} {SPECIES.index(s) + 1} {CHARGES[s]:.1f} {x:.12f} {y:.12f} {z:.12f}")
    Path(path).write_text("\n".join(lines) + "\n")


def lammps_input(coulomb, scale=1.0):
    n = {k: max(1, int(round(v * scale))) for k, v in
         dict(soft=STEPS_SOFT, melt=STEPS_MELT, quench=STEPS_QUENCH, anneal=STEPS_ANNEAL).items()}
    t = {s: i for i, s in enumerate(SPECIES, 1)}
    if coulomb == "ewald":
        coul_style = f"coul/long {COUL_CUTOFF}"
        kspace = f"kspace_style ewald {EWALD_ACCURACY}"
    else:
        coul_style = f"coul/dsf {DSF_ALPHA} {COUL_CUTOFF}"
        kspace = ""
    pc = []
    for (a, b), (d, alpha, r0, c) in PEDONE.items():
        i, j = sorted((t[a], t[b]))
        pc += [
            f"pair_coeff {i} {j} morse {d} {alpha} {r0}",
            f"pair_coeff {i} {j} lj/cut {c / 4.0} 1.0",
            f"pair_coeff {i} {j} buck 0.0 1.0 {-c}",
        ]
    pair_coeffs = "\n".join(pc)
    return f"""# Li2Si2O5 melt-quench, Pedone et al. 2006, written by validation/make_example_glass.py
units           metal
atom_style      charge
boundary        p p p
read_data       start.data

pair_style      hybrid/overlay morse {SR_CUTOFF} lj/cut {SR_CUTOFF} buck {SR_CUTOFF} {coul_style}
pair_coeff      * * {coul_style.split()[0]}
{pair_coeffs}
pair_modify     shift yes
{kspace}

neighbor        2.0 bin
neigh_modify    every 1 delay 0 check yes
timestep        0.001
thermo_style    custom step time temp pe etotal press
thermo          1000

# 1. soft start: remove the worst contacts of the random placement
min_style       cg
minimize        1.0e-6 1.0e-8 2000 20000
reset_timestep  0
velocity        all create {T_MELT} {SEED_VELOCITIES} mom yes rot yes dist gaussian
fix             soft all nve/limit 0.05
run             {n['soft']}
unfix           soft

# 2. melt at {T_MELT} K
velocity        all scale {T_MELT}
fix             md all nvt temp {T_MELT} {T_MELT} 0.1
run             {n['melt']}
unfix           md

# 3. linear quench {T_MELT} K -> {T_FINAL} K
fix             md all nvt temp {T_MELT} {T_FINAL} 0.1
run             {n['quench']}
unfix           md

# 4. anneal at {T_FINAL} K
fix             md all nvt temp {T_FINAL} {T_FINAL} 0.1
run             {n['anneal']}
unfix           md

write_dump      all custom final.dump id type xs ys zs modify sort id format float %.15g
"""


def _is_thermo_row(line):
    parts = line.split()
    try:
        return len(parts) == 6 and all(float(x) == float(x) for x in parts)
    except ValueError:
        return False


def read_final_dump(path, lattice):
    lines = Path(path).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = np.array([[float(x) for x in l.split()] for l in lines[start:] if l.strip()])
    rows = rows[np.argsort(rows[:, 0])]
    species = [SPECIES[int(k) - 1] for k in rows[:, 1]]
    frac = rows[:, 2:5] % 1.0
    frac[frac >= 1.0] = 0.0
    return Structure(lattice, species, frac)


def sanity(structure):
    """Print and return the checks asked of the example glass."""
    out = {}
    out["density"] = float(structure.density)
    si = [i for i, s in enumerate(structure) if s.specie.symbol == "Si"]
    o = set(i for i, s in enumerate(structure) if s.specie.symbol == "O")
    centers, points, _, dists = structure.get_neighbor_list(6.0)
    is_si_o = np.array([c in si and p in o for c, p in zip(centers, points)]) if len(centers) else np.array([])
    si_o_d = dists[is_si_o]
    # coordination of Si by O within 2.0 A
    cn = np.array([np.sum((centers[is_si_o] == i) & (dists[is_si_o] < 2.0)) for i in si])
    out["si_o_cn_mean"] = float(cn.mean())
    out["si_o_cn_hist"] = {int(k): int(v) for k, v in zip(*np.unique(cn, return_counts=True))}
    # Si-O partial RDF first peak (0.01 A bins, pymatgen/crate convention)
    dr = 0.01
    edges = np.arange(0.0, 6.0 + dr / 2, dr)
    hist, _ = np.histogram(si_o_d, bins=edges)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = structure.volume * hist / (len(si) * len(o) * shell)
    k = int(np.argmax(g[: int(2.5 / dr)]))
    out["si_o_rdf_peak"] = float(0.5 * (edges[k] + edges[k + 1]))
    out["si_o_rdf_peak_height"] = float(g[k])
    out["si_o_mean_bond"] = float(si_o_d[si_o_d < 2.0].mean())
    out["min_pair"] = float(dists.min())
    mp = {}
    for c, p, d in zip(centers, points, dists):
        key = "-".join(sorted((structure[c].specie.symbol, structure[p].specie.symbol)))
        mp[key] = min(mp.get(key, np.inf), float(d))
    out["min_pair_by_species"] = dict(sorted(mp.items()))
    # Q^n: bridging O (bonded to 2 Si within 2.0 A) around each Si
    bonds = [(c, p) for c, p, d in zip(centers, points, dists) if c in si and p in o and d < 2.0]
    o_si = {}
    for c, p in bonds:
        o_si[p] = o_si.get(p, 0) + 1
    qn = {}
    for i in si:
        n = sum(1 for c, p in bonds if c == i and o_si[p] >= 2)
        qn[n] = qn.get(n, 0) + 1
    out["qn"] = {f"Q{k}": v for k, v in sorted(qn.items())}
    out["nbo_fraction"] = float(sum(1 for p in o if o_si.get(p, 0) == 1) / len(o))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--coulomb", choices=["ewald", "dsf"], default="ewald")
    ap.add_argument("--lmp", default=shutil.which("lmp") or "lmp")
    ap.add_argument("--workdir", type=Path, default=None, help="keep LAMMPS files here (default: a temp dir)")
    ap.add_argument("--steps-scale", type=float, default=1.0,
                    help="multiply every MD stage length (quick tests only; the shipped file uses 1.0)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    start = initial_structure()
    print(f"random start: {len(start)} atoms, a = {start.lattice.a:.6f} A, density {start.density:.4f} g/cm3")

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="amorph-glass-")
        work = Path(tmp.name)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    try:
        write_lammps_data(start, work / "start.data")
        (work / "in.glass").write_text(lammps_input(args.coulomb, args.steps_scale))
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t1 = time.perf_counter()
        res = subprocess.run(
            [args.lmp, "-in", "in.glass", "-log", "log.lammps", "-screen", "none"],
            cwd=work, env=env, capture_output=True, text=True,
        )
        t_lmp = time.perf_counter() - t1
        if res.returncode != 0:
            sys.stderr.write(res.stdout + res.stderr)
            log = work / "log.lammps"
            if log.exists():
                sys.stderr.write("\n".join(log.read_text().splitlines()[-30:]) + "\n")
            raise SystemExit(f"lmp failed with exit code {res.returncode}")
        glass = read_final_dump(work / "final.dump", start.lattice)
        thermo = [l for l in (work / "log.lammps").read_text().splitlines() if _is_thermo_row(l)]
        if thermo:
            print("last thermo line (step time temp pe etotal press):", thermo[-1].strip())
    finally:
        if tmp is not None:
            tmp.cleanup()

    s = sanity(glass)
    print(f"LAMMPS wall time: {t_lmp:.1f} s ({args.coulomb} Coulomb); total {time.perf_counter() - t0:.1f} s")
    print(f"final density: {s['density']:.4f} g/cm3")
    print(f"Si-O coordination within 2.0 A: mean {s['si_o_cn_mean']:.3f}, histogram {s['si_o_cn_hist']}")
    print(f"Si-O RDF first peak: {s['si_o_rdf_peak']:.3f} A (g = {s['si_o_rdf_peak_height']:.1f}); "
          f"mean Si-O bond {s['si_o_mean_bond']:.4f} A")
    print(f"shortest pair: {s['min_pair']:.4f} A; by species: "
          + ", ".join(f"{k} {v:.3f}" for k, v in s["min_pair_by_species"].items()))
    print(f"Q^n: {s['qn']}; non-bridging O fraction {s['nbo_fraction']:.3f} (ideal Li2Si2O5: all Q3, 0.400)")

    ok = (
        abs(s["density"] - DENSITY) < 1e-3
        and abs(s["si_o_cn_mean"] - 4.0) < 0.1
        and 1.55 <= s["si_o_rdf_peak"] <= 1.70
        and s["min_pair"] > 1.2
    )
    if not ok:
        raise SystemExit("sanity checks FAILED; not writing the example")

    glass = glass.get_sorted_structure(key=lambda site: SPECIES.index(site.specie.symbol))
    title = "Li2Si2O5 glass, 216 atoms, Pedone 2006 melt-quench with LAMMPS (validation/make_example_glass.py)"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    part = args.out.with_name(args.out.name + ".tmp")
    Poscar(glass, comment=title).write_file(str(part), direct=True, significant_figures=12)
    os.replace(part, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
