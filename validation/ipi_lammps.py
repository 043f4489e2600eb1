"""amorph's i-PI server driven by LAMMPS `fix ipi` with the Pedone potential.

On the 216-atom Li2Si2O5 glass (examples/data/Li2Si2O5_glass.vasp), Pedone (2006) short-range terms (cutoff
5.5 A, shifted), with DSF Coulomb (alpha 0.25 1/A, 10 A) and without Coulomb, as validation/lammps_refs.py
expresses them for LAMMPS:

1. `amorph energy --calculator ipi:unix:NAME --ipi-units lammps --json` with LAMMPS as the client, versus
   LAMMPS's own `run 0` on the same input (what went through the socket must equal what LAMMPS computed:
   the protocol's precision) and versus `amorph energy --json` (amorph's native Pedone).
2. `amorph md` NVT (Nose-Hoover, 1500 K, 1 fs, 100 steps, seed 5) through the socket versus the native run:
   largest difference of the final positions, final potential energy and temperature.

    /work/.venv-peers/bin/python validation/ipi_lammps.py [--amorph target/debug/amorph] [--steps 100]

Needs Debian's LAMMPS (`lmp`, with the MISC package's fix ipi) and pymatgen (for lammps_refs' helpers).
`--ipi-units lammps` makes amorph convert with LAMMPS's own Bohr (0.52917721 A) and Hartree
(k_B/3.1668152e-6 eV), so the round trip is exact to rounding. amorph's native DSF uses the exact erfc and
LAMMPS the Abramowitz-Stegun polynomial (../shared/PEERS.md): with DSF, amorph-native and LAMMPS differ by
~4e-8 relative in energy whatever the transport; without Coulomb they agree to rounding. Prints a JSON
summary; exits non-zero when a difference exceeds its tolerance.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lammps_refs import PEDONE_CHARGES, _pedone_coeffs, expand_pair_coeff, run, types_of, write_data  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


SHORT = "hybrid/overlay morse 5.5 lj/cut 5.5 buck 5.5"
VARIANTS = {  # name: (amorph --coulomb flags, LAMMPS extra pair style, its pair_coeff style)
    "pedone_dsf": (["--coulomb", "dsf", "--alpha", "0.25", "--coulomb-cutoff", "10"], " coul/dsf 0.25 10.0",
                   "coul/dsf"),
    "pedone_short": (["--coulomb", "none"], "", None),
}


def lammps_client_input(types, name, variant):
    _, style, coul = VARIANTS[variant]
    pcs = [expand_pair_coeff(line, types) for line in _pedone_coeffs(coul)]
    lines = ["units metal", "atom_style charge", "boundary p p p", "read_data data.lmp",
             f"pair_style {SHORT}{style}",
             *[f"pair_coeff {p}" for p in pcs if p is not None], "pair_modify shift yes",
             "neighbor 1.0 bin", "thermo_style custom step pe",
             f"fix ipi all ipi {name} 31415 unix", "run 100000000"]
    return "\n".join(lines) + "\n"


def start_lammps(structure, workdir, name, lmp, variant):
    types = types_of(structure)
    write_data(structure, types, PEDONE_CHARGES, structure.lattice.matrix, workdir / "data.lmp")
    (workdir / "in.ipi").write_text(lammps_client_input(types, name, variant))
    sock = Path(f"/tmp/ipi_{name}")
    t0 = time.time()
    while not sock.exists():
        if time.time() - t0 > 60:
            raise SystemExit(f"amorph did not create {sock}")
        time.sleep(0.05)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([lmp, "-in", "in.ipi", "-log", "log.lammps", "-screen", "none"], cwd=workdir,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def amorph_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--amorph", default=str(REPO / "target/debug/amorph"))
    ap.add_argument("--lmp", default="lmp")
    ap.add_argument("--structure", default=str(REPO / "examples/data/Li2Si2O5_glass.vasp"))
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    structure = Structure.from_file(args.structure)
    name = f"amorph_lammps_{os.getpid()}"
    ipi = ["--calculator", f"ipi:unix:{name}", "--ipi-units", "lammps", "--ipi-wait", "60"]
    summary = {}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for variant, (coulomb, style, coul) in VARIANTS.items():
            pedone = ["--potential", "pedone", "--shift", *coulomb]
            # 1. One evaluation: through the socket, LAMMPS directly, amorph natively.
            direct = run(dict(structure=args.structure, charges=PEDONE_CHARGES, pair_style=SHORT + style,
                              pair_coeff=_pedone_coeffs(coul), pair_modify="shift yes"),
                         args.lmp, tmp / f"{variant}_direct.json")
            native = amorph_json([args.amorph, "energy", args.structure, *pedone, "--json"])
            server = subprocess.Popen([args.amorph, "energy", args.structure, *ipi, "--json"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            work = tmp / f"{variant}_e"
            work.mkdir()
            lmp = start_lammps(structure, work, name, args.lmp, variant)
            out, err = server.communicate(timeout=600)
            lmp.wait(timeout=60)
            if server.returncode != 0:
                raise SystemExit(f"amorph energy failed: {err}")
            got = json.loads(out)
            row = {"energy_ipi_eV": got["energy_eV"]}
            for ref_name, ref in (("lammps_direct", direct), ("amorph_native", native)):
                row[ref_name] = {
                    "energy_eV": ref["energy_eV"],
                    "energy_rel_diff": abs(got["energy_eV"] - ref["energy_eV"]) / abs(ref["energy_eV"]),
                    "forces_max_abs_diff_eV_A": float(np.abs(np.array(got["forces_eV_A"]) -
                                                             np.array(ref["forces_eV_A"])).max()),
                    "forces_rel_diff": rel(got["forces_eV_A"], ref["forces_eV_A"]),
                    "virial_rel_diff": rel(got["virial_eV"], ref["virial_eV"]),
                }
            d = row["lammps_direct"]
            ok &= d["energy_rel_diff"] < 1e-13 and d["forces_rel_diff"] < 1e-12 and d["virial_rel_diff"] < 1e-12
            n = row["amorph_native"]
            tol = 1e-6 if coul else 1e-11
            ok &= n["energy_rel_diff"] < tol and n["forces_rel_diff"] < 10 * tol and n["virial_rel_diff"] < 10 * tol

            # 2. NVT through the socket versus the native run.
            md = ["md", args.structure, *pedone, "--ensemble", "nvt", "--temperature", "1500", "--timestep", "1",
                  "--steps", str(args.steps), "--every", str(args.steps), "--seed", "5"]
            t0 = time.time()
            subprocess.run([args.amorph, *md, "-o", str(tmp / "native.vasp"), "--thermo", str(tmp / "native.csv")],
                           check=True, capture_output=True)
            t_native = time.time() - t0
            work = tmp / f"{variant}_md"
            work.mkdir()
            t0 = time.time()
            server = subprocess.Popen([args.amorph, *md, *ipi, "-o", str(tmp / "ipi.vasp"), "--thermo",
                                       str(tmp / "ipi.csv")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
            lmp = start_lammps(structure, work, name, args.lmp, variant)
            out, err = server.communicate(timeout=3600)
            lmp.wait(timeout=60)
            t_ipi = time.time() - t0
            if server.returncode != 0:
                raise SystemExit(f"amorph md through LAMMPS failed: {err}")
            a = Structure.from_file(tmp / "native.vasp")
            b = Structure.from_file(tmp / "ipi.vasp")
            dfrac = b.frac_coords - a.frac_coords
            dfrac -= np.round(dfrac)
            dmax = float(np.linalg.norm(dfrac @ a.lattice.matrix, axis=1).max())

            def last(p):
                lines = Path(p).read_text().splitlines()
                return dict(zip(lines[0].split(","), lines[-1].split(",")))

            ta, tb = last(tmp / "native.csv"), last(tmp / "ipi.csv")
            row["nvt"] = {
                "steps": args.steps, "final_max_position_diff_A": dmax,
                "final_potential_energy_native_eV": float(ta["potential_eV"]),
                "final_potential_energy_ipi_eV": float(tb["potential_eV"]),
                "final_T_native_K": float(ta["T_K"]), "final_T_ipi_K": float(tb["T_K"]),
                "wall_s_native": round(t_native, 2), "wall_s_ipi_lammps": round(t_ipi, 2),
            }
            ok &= dmax < (1e-4 if coul else 1e-8)
            summary[variant] = row
    print(json.dumps(summary, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
