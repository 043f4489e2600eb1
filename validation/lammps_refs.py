"""Reference energies, forces and virials from LAMMPS for amorph-md's tests (tests/data/lammps/*.json).

One structure, one potential, `run 0`:

    python validation/lammps_refs.py --structure tests/data/glasses/Li2Si2O5.vasp \\
        --charges Li=0.6,Si=2.4,O=-1.2 --pair-style "coul/long 10.0" --pair-coeff "* *" \\
        --pair-modify "table 0" --kspace "ewald 1e-10" --per-atom --out tests/data/lammps/X.json

or every reference in the REFERENCES table below (add rows there; `--only SUBSTRING` filters):

    python validation/lammps_refs.py --all

Needs Debian's LAMMPS (`apt-get install -y lammps`, binary `lmp`; 29 Sep 2021 build here) and a Python with
numpy + pymatgen (`/work/.venv-peers/bin/python`). One core (OMP_NUM_THREADS=1).

Conventions of the JSON written (all numbers are Python floats written with repr, so they round-trip):
- `energy_eV`: LAMMPS `pe` (pair + kspace), eV; `energy_terms_eV`: evdwl, ecoul, elong.
- `forces_eV_A`: N x 3, in the input file's atom order (LAMMPS atom id = input index + 1) and Cartesian frame.
- `virial_eV`: 3 x 3, W = sum over pairs r_ij (x) f_ij (LAMMPS's sign): from `compute pressure NULL virial`
  (pxx pyy pzz pxy pxz pyz, bar) as P * V / nktv2p with nktv2p = 1.6021765e6 bar per eV/A^3 (metal).
- `per_atom_energy_eV` (with --per-atom): `compute pe/atom` (pair + kspace), eV.
- `settings`: the LAMMPS commands, the charges, LAMMPS's version and what its log says about k-space
  (g_ewald, grid or k-vectors, estimated accuracy).
LAMMPS's cells are restricted triclinic (a along x, b in the xy plane). A structure whose cell is not in
that orientation is rotated into it for LAMMPS and the forces and virial are rotated back (`rotation` in
the JSON is the matrix R with r_lammps = R r). The glasses in tests/data/glasses/ are already in LAMMPS
orientation, so nothing is rotated for them.

Pair coefficients may name elements in braces, `{Li} {O} morse 0.001114 3.429506 2.681360`: they are
replaced by the LAMMPS type numbers of the structure (types are the elements in order of first
appearance), swapped so that I <= J, and a line naming an element the structure lacks is dropped. So a
whole force field's table can be given for any structure.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from pymatgen.core import Element, Structure

REPO = Path(__file__).resolve().parents[1]
NKTV2P_METAL = 1.6021765e6  # LAMMPS force->nktv2p in metal units (bar per eV/A^3)

# Pedone et al. 2006 partial charges (validation/make_glasses.py).
PEDONE_CHARGES = {"Li": 0.6, "Na": 0.6, "Ca": 1.2, "Al": 1.8, "Si": 2.4, "P": 3.0, "O": -1.2}
GLASSES = ["Li2Si2O5", "Na2CaSi6O14", "LiAlP2O7"]


def _coulomb_refs():
    rows = []
    for g in GLASSES:
        common = dict(structure=f"tests/data/glasses/{g}.vasp", charges=PEDONE_CHARGES, pair_coeff=["* *"],
                      per_atom=True)
        rows += [
            dict(name=f"coul_ewald_1e-10_{g}", pair_style="coul/long 10.0", pair_modify="table 0",
                 kspace="ewald 1e-10", **common),
            dict(name=f"coul_pppm_1e-5_{g}", pair_style="coul/long 10.0", pair_modify="table 0",
                 kspace="pppm 1e-5", **common),
            dict(name=f"coul_pppm_1e-8_{g}", pair_style="coul/long 10.0", pair_modify="table 0",
                 kspace="pppm 1e-8", **common),
            dict(name=f"coul_dsf_{g}", pair_style="coul/dsf 0.25 10.0", **common),
            dict(name=f"coul_wolf_{g}", pair_style="coul/wolf 0.25 10.0", **common),
        ]
    return rows


# Every reference `--all` regenerates. Keys: name (file stem under tests/data/lammps/), structure (path
# relative to the repository), charges ({element: e}), pair_style, pair_coeff (list of strings), and
# optionally pair_modify, kspace, kspace_modify, per_atom (bool), extra (list of raw LAMMPS commands
# inserted after the pair and kspace settings).
# Pedone et al. 2006 short-range table (element: D eV, a 1/A, r0 A, C eV A^12, all with O), as embedded in
# crates/amorph-md/src/forcefield.rs. LAMMPS has no pedone style here: morse + lj/cut (C/4, sigma 1 gives
# C/r^12 - C/r^6) + buck (0, 1, -C cancels the r^-6), as ../shared/PEERS.md explains.
PEDONE_SHORT = {
    "Li": (0.001114, 3.429506, 2.681360, 1.0),
    "Na": (0.023363, 1.763867, 3.006315, 5.0),
    "Ca": (0.030211, 2.241334, 2.923245, 5.0),
    "Al": (0.361581, 1.900442, 2.164818, 0.9),
    "Si": (0.340554, 2.006700, 2.100000, 1.0),
    "P": (0.831326, 2.585833, 1.800790, 1.0),
    "O": (0.042395, 1.379316, 3.618701, 22.0),
}


def _pedone_coeffs(coulomb):
    lines = ["* * morse 0.0 1.0 1.0"] + ([f"* * {coulomb}"] if coulomb else [])
    for el, (d, a, r0, c) in PEDONE_SHORT.items():
        lines += [f"{{{el}}} {{O}} morse {d} {a} {r0}", f"{{{el}}} {{O}} lj/cut {c / 4} 1.0",
                  f"{{{el}}} {{O}} buck 0.0 1.0 {-c}"]
    return lines


def _pair_refs():
    """Short-range pair forms and the whole Pedone force field (crates/amorph-md/tests/lammps_pairs.rs)."""
    rows = []
    for g in GLASSES:
        common = dict(structure=f"tests/data/glasses/{g}.vasp", charges=PEDONE_CHARGES, per_atom=True)
        short = "hybrid/overlay morse 5.5 lj/cut 5.5 buck 5.5"
        rows += [
            dict(name=f"pedone_short_cut_{g}", pair_style=short, pair_coeff=_pedone_coeffs(None),
                 pair_modify="shift no", **common),
            dict(name=f"pedone_short_shift_{g}", pair_style=short, pair_coeff=_pedone_coeffs(None),
                 pair_modify="shift yes", **common),
            dict(name=f"pedone_dsf_{g}", pair_style=short + " coul/dsf 0.25 10.0",
                 pair_coeff=_pedone_coeffs("coul/dsf"), pair_modify="shift yes", **common),
            dict(name=f"pedone_ewald_{g}", pair_style=short + " coul/long 10.0",
                 pair_coeff=_pedone_coeffs("coul/long"), pair_modify="shift yes table 0", kspace="ewald 1e-10",
                 **common),
        ]
    li = dict(structure="tests/data/glasses/Li2Si2O5.vasp", charges=PEDONE_CHARGES, per_atom=True)
    rows += [
        # BKS (van Beest et al. 1990) Buckingham terms: A eV, rho = 1/b A, C eV A^6.
        dict(name="buck_bks_Li2Si2O5", pair_style="buck 5.5",
             pair_coeff=["* * 0.0 1.0 0.0", f"{{Si}} {{O}} 18003.7572 {1 / 4.87318!r} 133.5381",
                         f"{{O}} {{O}} 1388.7730 {1 / 2.76!r} 175.0"], pair_modify="shift yes", **li),
        dict(name="lj_Li2Si2O5", pair_style="lj/cut 6.0", pair_coeff=["* * 0.01 2.2"], **li),
        dict(name="born_Li2Si2O5", pair_style="born 6.0", pair_coeff=["* * 0.2 0.3 2.0 1.5 0.8"],
             pair_modify="shift yes", **li),
    ]
    return rows


REFERENCES = _coulomb_refs() + _pair_refs()


def lammps_cell(matrix):
    """LAMMPS's restricted triclinic form (lx, ly, lz, xy, xz, yz) of a cell with rows a, b, c."""
    a, b, c = (np.asarray(v, float) for v in matrix)
    lx = np.linalg.norm(a)
    xy = b @ a / lx
    ly = np.sqrt(b @ b - xy * xy)
    xz = c @ a / lx
    yz = (b @ c - xy * xz) / ly
    lz = np.sqrt(c @ c - xz * xz - yz * yz)
    return lx, ly, lz, xy, xz, yz


def is_lammps_oriented(m):
    return m[0, 1] == 0 and m[0, 2] == 0 and m[1, 2] == 0 and m[0, 0] > 0 and m[1, 1] > 0 and m[2, 2] > 0


def types_of(structure):
    types = []
    for site in structure:
        s = site.specie.symbol
        if s not in types:
            types.append(s)
    return types


def expand_pair_coeff(line, types):
    """Replace {El} by type numbers (I <= J); None when the line names an element not present."""
    names = re.findall(r"\{([A-Z][a-z]?)\}", line)
    if any(n not in types for n in names):
        return None
    out = re.sub(r"\{([A-Z][a-z]?)\}", lambda m: str(types.index(m.group(1)) + 1), line)
    tok = out.split()
    if len(tok) >= 2 and tok[0].isdigit() and tok[1].isdigit() and int(tok[0]) > int(tok[1]):
        tok[0], tok[1] = tok[1], tok[0]
    return " ".join(tok)


def write_data(structure, types, charges, matrix_lmp, path):
    lx, ly, lz, xy, xz, yz = (float(v) for v in lammps_cell(matrix_lmp))
    frac = structure.frac_coords
    cart = frac @ matrix_lmp
    lines = [f"{structure.composition.reduced_formula} (validation/lammps_refs.py)", "",
             f"{len(structure)} atoms", f"{len(types)} atom types", "",
             f"0.0 {lx!r} xlo xhi", f"0.0 {ly!r} ylo yhi", f"0.0 {lz!r} zlo zhi"]
    if xy != 0 or xz != 0 or yz != 0:
        lines.append(f"{xy!r} {xz!r} {yz!r} xy xz yz")
    lines += ["", "Masses", ""]
    lines += [f"{t} {float(Element(s).atomic_mass)!r}" for t, s in enumerate(types, 1)]
    lines += ["", "Atoms # charge", ""]
    for i, site in enumerate(structure):
        s = site.specie.symbol
        x, y, z = (float(v) for v in cart[i])
        lines.append(f"{i + 1} {types.index(s) + 1} {charges[s]!r} {x!r} {y!r} {z!r}")
    Path(path).write_text("\n".join(lines) + "\n")
    return (lx, ly, lz, xy, xz, yz)


def lammps_input(ref, types, tilt_large):
    pc = []
    for line in ref["pair_coeff"]:
        e = expand_pair_coeff(line, types)
        if e is not None:
            pc.append(f"pair_coeff      {e}")
    per_atom = ref.get("per_atom", False)
    lines = ["# written by validation/lammps_refs.py", "units           metal", "atom_style      charge",
             "boundary        p p p"]
    if tilt_large:
        lines.append("box             tilt large")
    lines += ["read_data       data.lmp", f"pair_style      {ref['pair_style']}", *pc]
    if ref.get("pair_modify"):
        lines.append(f"pair_modify     {ref['pair_modify']}")
    if ref.get("kspace"):
        lines.append(f"kspace_style    {ref['kspace']}")
    if ref.get("kspace_modify"):
        lines.append(f"kspace_modify   {ref['kspace_modify']}")
    lines += list(ref.get("extra", []))
    lines += [
        "neighbor        1.0 bin",
        "compute         vir all pressure NULL virial",
        "thermo_style    custom step pe evdwl ecoul elong c_vir[1] c_vir[2] c_vir[3] c_vir[4] c_vir[5] c_vir[6] vol",
        "thermo_modify   format float %.17g",
    ]
    cols = "id fx fy fz"
    if per_atom:
        lines.append("compute         pea all pe/atom")
        cols += " c_pea"
    lines += [f"dump            d all custom 1 out.dump {cols}",
              "dump_modify     d sort id format float %.17g", "run             0"]
    return "\n".join(lines) + "\n"


def parse_log(text):
    lines = text.splitlines()
    k = next(i for i, l in enumerate(lines) if l.split()[:2] == ["Step", "PotEng"])
    head = lines[k].split()
    vals = [float(x) for x in lines[k + 1].split()]
    thermo = dict(zip(head, vals))
    info = {}
    pats = {
        "g_ewald": r"G vector \(1/distance\)\s*=\s*(\S+)",
        "grid": r"grid\s*=\s*(\d+ \d+ \d+)",
        "order": r"stencil order\s*=\s*(\d+)",
        "kspace_vectors_actual_max1d_max3d": r"KSpace vectors: actual max1d max3d\s*=\s*(\d+ \d+ \d+)",
        "kxmax_kymax_kzmax": r"kxmax kymax kzmax\s*=\s*(\d+ \d+ \d+)",
        "estimated_absolute_rms_force_accuracy": r"estimated absolute RMS force accuracy\s*=\s*(\S+)",
        "estimated_relative_force_accuracy": r"estimated relative force accuracy\s*=\s*(\S+)",
    }
    for key, p in pats.items():
        m = re.search(p, text)
        if m:
            v = m.group(1)
            info[key] = [int(x) for x in v.split()] if " " in v else (int(v) if v.isdigit() else float(v))
    version = re.search(r"^LAMMPS \((.*)\)", text, re.M)
    return thermo, info, version.group(1) if version else None


def parse_dump(path, n, per_atom):
    lines = Path(path).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = sorted((l.split() for l in lines[start:] if l.strip()), key=lambda r: int(r[0]))
    if len(rows) != n or [int(r[0]) for r in rows] != list(range(1, n + 1)):
        raise SystemExit("dump does not hold atoms 1..N")
    f = np.array([[float(x) for x in r[1:4]] for r in rows])
    e = [float(r[4]) for r in rows] if per_atom else None
    return f, e


def run(ref, lmp, out, workdir=None):
    path = REPO / ref["structure"] if not Path(ref["structure"]).is_absolute() else Path(ref["structure"])
    s = Structure.from_file(str(path))
    types = types_of(s)
    missing = [t for t in types if t not in ref["charges"]]
    if missing:
        raise SystemExit(f"no charge for {missing}")
    m = s.lattice.matrix
    if np.linalg.det(m) <= 0:
        raise SystemExit("left-handed cell: LAMMPS needs a right-handed one")
    if is_lammps_oriented(m):
        m_lmp, rot = m.copy(), None
    else:
        lx, ly, lz, xy, xz, yz = lammps_cell(m)
        m_lmp = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
        rot = m_lmp.T @ np.linalg.inv(m.T)  # r_lammps = R r
    lx, ly, lz, xy, xz, yz = lammps_cell(m_lmp)
    tilt_large = abs(xy) > 0.5 * lx or abs(xz) > 0.5 * lx or abs(yz) > 0.5 * ly
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="amorph-lmp-")
        work = Path(tmp.name)
    else:
        work = Path(workdir)
        work.mkdir(parents=True, exist_ok=True)
    try:
        write_data(s, types, ref["charges"], m_lmp, work / "data.lmp")
        inp = lammps_input(ref, types, tilt_large)
        (work / "in.ref").write_text(inp)
        res = subprocess.run([lmp, "-in", "in.ref", "-log", "log.lammps", "-screen", "none"], cwd=work,
                             env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True)
        log = (work / "log.lammps").read_text() if (work / "log.lammps").exists() else ""
        if res.returncode != 0:
            sys.stderr.write(res.stdout + res.stderr + "\n".join(log.splitlines()[-20:]) + "\n")
            raise SystemExit(f"lmp failed ({ref.get('name', out)})")
        thermo, info, version = parse_log(log)
        forces, pe_atom = parse_dump(work / "out.dump", len(s), ref.get("per_atom", False))
    finally:
        if tmp is not None:
            tmp.cleanup()
    volume = thermo["Volume"]
    p = [thermo[f"c_vir[{k}]"] for k in range(1, 7)]  # pxx pyy pzz pxy pxz pyz, bar
    w = np.array([[p[0], p[3], p[4]], [p[3], p[1], p[5]], [p[4], p[5], p[2]]]) * volume / NKTV2P_METAL
    if rot is not None:
        forces = forces @ rot  # f = R^T f_lmp, row-wise
        w = rot.T @ w @ rot
    doc = {
        "name": ref.get("name"),
        "structure": str(ref["structure"]),
        "natoms": len(s),
        "units": "metal (eV, A, e)",
        "energy_eV": thermo["PotEng"],
        "energy_terms_eV": {"evdwl": thermo["E_vdwl"], "ecoul": thermo["E_coul"], "elong": thermo["E_long"]},
        "forces_eV_A": forces.tolist(),
        "virial_eV": w.tolist(),
        "settings": {
            "lammps_version": version,
            "charges": {t: ref["charges"][t] for t in types},
            "types": types,
            "pair_style": ref["pair_style"],
            "pair_coeff": ref["pair_coeff"],
            "pair_modify": ref.get("pair_modify"),
            "kspace": ref.get("kspace"),
            "kspace_modify": ref.get("kspace_modify"),
            "extra": ref.get("extra", []),
            "log": info,
            "input": inp.splitlines(),
        },
    }
    if rot is not None:
        doc["rotation"] = rot.tolist()
    if pe_atom is not None:
        doc["per_atom_energy_eV"] = pe_atom
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".tmp")
    part.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(part, out)
    return doc


def parse_charges(text):
    out = {}
    for item in text.split(","):
        k, v = item.split("=")
        out[k.strip()] = float(v)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="regenerate every row of REFERENCES")
    ap.add_argument("--only", help="with --all: rows whose name contains this")
    ap.add_argument("--structure")
    ap.add_argument("--charges", help="e.g. Li=0.6,Si=2.4,O=-1.2")
    ap.add_argument("--pair-style")
    ap.add_argument("--pair-coeff", action="append", help="repeatable; {El} names allowed")
    ap.add_argument("--pair-modify")
    ap.add_argument("--kspace", help='e.g. "ewald 1e-10"')
    ap.add_argument("--kspace-modify")
    ap.add_argument("--extra", action="append", default=[], help="raw LAMMPS command, repeatable")
    ap.add_argument("--per-atom", action="store_true")
    ap.add_argument("--out", help="JSON file to write")
    ap.add_argument("--out-dir", default=str(REPO / "tests" / "data" / "lammps"))
    ap.add_argument("--lmp", default=shutil.which("lmp") or "lmp")
    ap.add_argument("--workdir", help="keep LAMMPS's files here")
    args = ap.parse_args(argv)
    if args.all:
        for ref in REFERENCES:
            if args.only and args.only not in ref["name"]:
                continue
            doc = run(ref, args.lmp, Path(args.out_dir) / f"{ref['name']}.json", args.workdir)
            print(f"{ref['name']}: E = {doc['energy_eV']:.10f} eV {doc['settings']['log']}")
        return
    if not (args.structure and args.charges and args.pair_style and args.pair_coeff and args.out):
        ap.error("give --all, or --structure, --charges, --pair-style, --pair-coeff and --out")
    ref = dict(structure=args.structure, charges=parse_charges(args.charges), pair_style=args.pair_style,
               pair_coeff=args.pair_coeff, pair_modify=args.pair_modify, kspace=args.kspace,
               kspace_modify=args.kspace_modify, extra=args.extra, per_atom=args.per_atom,
               name=Path(args.out).stem)
    doc = run(ref, args.lmp, args.out, args.workdir)
    print(f"{args.out}: E = {doc['energy_eV']:.10f} eV")


if __name__ == "__main__":
    main()
