"""amorph's i-PI server with ASE's SocketClient as the client, against ASE computing directly.

1. EMT (ASE's effective-medium potential) for copper: a rattled 108-atom fcc cell, and a sheared triclinic
   one that is not in i-PI's orientation (amorph rotates it for the client and the results back).
   `amorph energy --calculator ipi:unix:NAME --ipi-units ase --json` versus `atoms.get_potential_energy()`,
   `get_forces()` and the virial -V*stress.
   Then NVE dynamics of the cubic cell (300 K, 2 fs, 200 steps) through the socket, where after the
   first evaluations amorph sends POSDATA and GETFORCE together without STATUS polls: the total energy
   must be conserved (forces belong to the positions sent) and the last logged potential energy must
   equal EMT on the final frame.
2. CHGNet (PyPI `chgnet`, pretrained weights; skipped unless importable): Li2S (antifluorite, 96 atoms) and
   LiCl (rock salt, 64 atoms), energies and forces through the socket versus CHGNet directly.
3. A short melt of the 64-atom LiCl cell with CHGNet: `amorph md --calculator ... --temperature 3000
   --steps N` driven by examples/ipi_chgnet.py; must complete with a finite energy.

    /work/.venv-peers/bin/python validation/ipi_ase.py [--amorph target/debug/amorph] [--melt-steps 100]
        [--require-chgnet]

Prints a JSON summary; exits non-zero when a difference exceeds its tolerance (EMT: 1e-12 relative;
CHGNet, which runs in float32: 1e-5 relative energy, 1e-4 eV/A forces) or, with --require-chgnet, when
CHGNet is not installed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.socketio import SocketClient
from ase.io import read, write

REPO = Path(__file__).resolve().parents[1]


def client_thread(atoms, name, use_stress=True):
    def go():
        t0 = time.time()
        while True:
            try:
                c = SocketClient(unixsocket=name)
                break
            except OSError:
                if time.time() - t0 > 60:
                    raise
                time.sleep(0.05)
        c.run(atoms, use_stress=use_stress)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def through_socket(amorph, path, atoms, name):
    """amorph energy through the socket, with a copy of `atoms` (and its calculator) as the client."""
    out = serve([amorph, "energy", str(path), "--calculator", f"ipi:unix:{name}", "--ipi-units", "ase",
                 "--ipi-wait", "120", "--json"], atoms, name, timeout=900)
    return json.loads(out)


def serve(cmd, atoms, name, timeout):
    """Runs the amorph command `cmd` (an i-PI server on UNIX socket `name`) with `atoms` as the ASE
    client; returns its standard output."""
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sock = Path(f"/tmp/ipi_{name}")
    t0 = time.time()
    while not sock.exists() and server.poll() is None and time.time() - t0 < 60:
        time.sleep(0.02)
    t = client_thread(atoms, name)
    out, err = server.communicate(timeout=timeout)
    t.join(timeout=60)
    if server.returncode != 0:
        raise SystemExit(f"amorph {cmd[1]} failed: {err}")
    return out


def emt_nve(amorph, path, atoms, name, tmp, steps=200):
    """NVE through the socket with EMT as the client: energy conservation and final-frame consistency."""
    client_atoms = atoms.copy()
    client_atoms.calc = EMT()
    serve([amorph, "md", str(path), "--calculator", f"ipi:unix:{name}", "--ipi-units", "ase", "--ipi-wait", "120",
           "--ensemble", "nve", "--temperature", "300", "--timestep", "2", "--steps", str(steps), "--every", "10",
           "--seed", "3", "--thermo", str(tmp / "nve.csv"), "-o", str(tmp / "nve_final.vasp")],
          client_atoms, name, timeout=1800)
    lines = (tmp / "nve.csv").read_text().splitlines()
    rows = [dict(zip(lines[0].split(","), line.split(","))) for line in lines[1:]]
    total = np.array([float(r["total_eV"]) for r in rows])
    final = read(tmp / "nve_final.vasp")
    final.calc = EMT()
    e_final = float(final.get_potential_energy())
    e_logged = float(rows[-1]["potential_eV"])
    return {
        "steps": int(rows[-1]["step"]), "natoms": len(atoms),
        "total_energy_max_drift_eV_per_atom": float(np.abs(total - total[0]).max() / len(atoms)),
        "final_potential_logged_eV": e_logged, "final_potential_emt_eV": e_final,
        "final_potential_rel_diff": abs(e_logged - e_final) / abs(e_final),
    }


def compare(got, atoms):
    e = float(atoms.get_potential_energy())
    f = atoms.get_forces()
    virial = -atoms.get_volume() * atoms.get_stress(voigt=False)
    gf = np.array(got["forces_eV_A"])
    gv = np.array(got["virial_eV"])
    return {
        "natoms": len(atoms),
        "energy_direct_eV": float(e), "energy_ipi_eV": got["energy_eV"],
        "energy_abs_diff_eV": float(abs(got["energy_eV"] - e)),
        "energy_rel_diff": float(abs(got["energy_eV"] - e) / max(abs(e), 1e-300)),
        "forces_max_abs_diff_eV_A": float(np.abs(gf - f).max()),
        "virial_max_abs_diff_eV": float(np.abs(gv - virial).max()),
        "virial_scale_eV": float(np.abs(virial).max()),
    }


def emt_cases():
    rng = np.random.default_rng(7)
    cubic = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((3, 3, 3))
    cubic.rattle(0.05, rng=rng)
    sheared = cubic.copy()
    cell = sheared.cell.array.copy()
    cell[0] += [0.0, 0.4, -0.3]  # a no longer along x: amorph must rotate
    cell[1] += [0.5, 0.0, 0.2]
    sheared.set_cell(cell, scale_atoms=True)
    sheared.rattle(0.05, rng=rng)
    return {"emt_cu108_cubic": cubic, "emt_cu108_triclinic_rotated": sheared}


def chgnet_cases():
    # Antifluorite Li2S: S on the fcc sites, Li in the tetrahedral holes.
    li2s = bulk("SLi2", "fluorite", a=5.71, cubic=True).repeat((2, 2, 2))
    licl = bulk("LiCl", "rocksalt", a=5.13, cubic=True).repeat((2, 2, 2))
    rng = np.random.default_rng(3)
    for a in (li2s, licl):
        a.rattle(0.03, rng=rng)
    return {"chgnet_li2s_96": li2s, "chgnet_licl_64": licl}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--amorph", default=str(REPO / "target/debug/amorph"))
    ap.add_argument("--melt-steps", type=int, default=100)
    ap.add_argument("--require-chgnet", action="store_true")
    args = ap.parse_args()
    # amorph's IpiUnits::ASE must be ASE's own constants.
    assert units.Bohr == 0.5291772105638411 and units.Ha == 27.211386024367243, (units.Bohr, units.Ha)
    summary, ok = {}, True
    name = f"amorph_ase_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, atoms in emt_cases().items():
            path = tmp / f"{label}.vasp"
            write(path, atoms, format="vasp", direct=True)
            client_atoms = atoms.copy()
            client_atoms.calc = EMT()
            got = through_socket(args.amorph, path, client_atoms, name)
            atoms.calc = EMT()
            row = compare(got, atoms)
            summary[label] = row
            ok &= row["energy_rel_diff"] < 1e-12 and row["forces_max_abs_diff_eV_A"] < 1e-10
            ok &= row["virial_max_abs_diff_eV"] < 1e-10 * max(row["virial_scale_eV"], 1.0)
        cubic = emt_cases()["emt_cu108_cubic"]
        path = tmp / "emt_nve.vasp"
        write(path, cubic, format="vasp", direct=True)
        row = emt_nve(args.amorph, path, cubic, name, tmp)
        summary["emt_cu108_nve"] = row
        ok &= row["total_energy_max_drift_eV_per_atom"] < 1e-4 and row["final_potential_rel_diff"] < 1e-9
        try:
            from chgnet.model import CHGNet
            from chgnet.model.dynamics import CHGNetCalculator
        except ImportError:
            summary["chgnet"] = "not installed (pip install chgnet): skipped"
            ok &= not args.require_chgnet
        else:
            model = CHGNet.load(model_name="0.3.0")
            for label, atoms in chgnet_cases().items():
                path = tmp / f"{label}.vasp"
                write(path, atoms, format="vasp", direct=True)
                client_atoms = atoms.copy()
                client_atoms.calc = CHGNetCalculator(model=model, use_device="cpu")
                got = through_socket(args.amorph, path, client_atoms, name)
                atoms.calc = CHGNetCalculator(model=model, use_device="cpu")
                row = compare(got, atoms)
                summary[label] = row
                ok &= row["energy_rel_diff"] < 1e-5 and row["forces_max_abs_diff_eV_A"] < 1e-4
            # A short melt of LiCl (64 atoms) driven by the example client.
            path = tmp / "chgnet_licl_64.vasp"
            t0 = time.time()
            server = subprocess.Popen(
                [args.amorph, "md", str(path), "--calculator", f"ipi:unix:{name}", "--ipi-units", "ase",
                 "--ipi-wait", "300", "--temperature", "3000", "--timestep", "2", "--steps", str(args.melt_steps),
                 "--every", "10", "--seed", "1", "--thermo", str(tmp / "melt.csv"), "-o", str(tmp / "melt.vasp")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            client = subprocess.Popen([sys.executable, str(REPO / "examples/ipi_chgnet.py"), str(path), "--unix",
                                       name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = server.communicate(timeout=7200)
            client.communicate(timeout=120)
            lines = (tmp / "melt.csv").read_text().splitlines() if (tmp / "melt.csv").exists() else []
            last = dict(zip(lines[0].split(","), lines[-1].split(","))) if len(lines) > 1 else {}
            summary["chgnet_licl_64_melt"] = {
                "steps": args.melt_steps, "returncode": server.returncode, "wall_s": round(time.time() - t0, 1),
                "final_T_K": float(last.get("T_K", "nan")), "final_potential_eV": float(last.get("potential_eV", "nan")),
                "stderr_tail": err.strip().splitlines()[-1:] if err else [],
            }
            ok &= server.returncode == 0 and np.isfinite(summary["chgnet_licl_64_melt"]["final_potential_eV"])
    print(json.dumps(summary, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
