"""Element data table for crates/amorph-structure, extracted from pymatgen (and matminer for cohesive energies).

Writes
  crates/amorph-structure/src/element_data.rs   `PROVENANCE` and `ELEMENTS: [ElementData; 94]` (H..Pu),
                                                 included by crates/amorph-structure/src/element.rs
  tests/data/elements_pymatgen.csv              z,symbol,atomic_mass,X,atomic_radius,covalent_radius,
                                                 the reference that crates/amorph-structure/tests/elements.rs
                                                 compares every element against

Run from anywhere:  python validation/elements.py
Needs pymatgen, and matminer's data file for the cohesive energies. matminer is only read as a file (it is
never imported), so `pip install --no-deps matminer` is enough.

Sources (pymatgen's periodic_table.json names none of its sources; what is said below is what pymatgen's code
and developer scripts say, plus what the numbers themselves show):
  atomic mass          pymatgen Element.atomic_mass (standard atomic weights, older IUPAC values, e.g. Li
                       6.941; mass number of the longest-lived isotope for elements without stable isotopes)
  electronegativity    pymatgen Element.X, Pauling scale; None where pymatgen has no value (it returns NaN)
  atomic radius        pymatgen Element.atomic_radius, the empirical radii of J. C. Slater, J. Chem. Phys. 41,
                       3199 (1964), as tabulated in pymatgen's dev_scripts radii.csv
  covalent radius      pymatgen CovalentRadius.radius (pymatgen.core.molecule_structure_comparator), which
                       cites B. Cordero et al., Dalton Trans. 2008, 2832
  ionic radii          pymatgen Element.ionic_radii
  Shannon radii        pymatgen Element.data["Shannon radii"], R. D. Shannon, Acta Cryst. A32, 751 (1976)
  cohesive energy      matminer utils/data_files/cohesive_energies.json (matminer's CohesiveEnergyData: from
                       the KnowledgeDoor elements handbook, which took it from C. Kittel, Introduction to Solid
                       State Physics, 8th ed. (2005), Table 3.1), eV/atom; None for elements not in it
Floats are written with repr() so that they round-trip exactly.
"""

import csv
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import re
import sys
import warnings
from pathlib import Path

from pymatgen.core import Element
from pymatgen.core.molecule_structure_comparator import CovalentRadius

ROOT = Path(__file__).resolve().parent.parent
RS_OUT = ROOT / "crates" / "amorph-structure" / "src" / "element_data.rs"
CSV_OUT = ROOT / "tests" / "data" / "elements_pymatgen.csv"
MAX_Z = 94

ROMAN = {"I": 1, "V": 5, "X": 10}
SPIN_ORDER = {"": 0, "High Spin": 1, "Low Spin": 2}


def roman_value(s):
    total = 0
    for i, ch in enumerate(s):
        v = ROMAN[ch]
        if i + 1 < len(s) and ROMAN[s[i + 1]] > v:
            total -= v
        else:
            total += v
    return total


def coordination_key(c):
    """'IVSQ' -> (4, 'SQ'): numeric coordination first, then the geometry suffix."""
    m = re.fullmatch(r"([IVX]+)(.*)", c)
    if not m:
        raise ValueError(f"unexpected Shannon coordination {c!r}")
    return (roman_value(m[1]), m[2])


def fmt_float(x):
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x}")
    r = repr(x)
    assert float(r) == x
    return r


def opt_float(x):
    """None, NaN -> None; otherwise a finite float."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def rs_opt(x):
    return "None" if x is None else f"Some({fmt_float(x)})"


def rs_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def i8(n):
    n = int(n)
    if not -128 <= n <= 127:
        raise ValueError(f"{n} does not fit in i8")
    return n


def cohesive_energy_table():
    """matminer's cohesive_energies.json, located without importing matminer (its dependencies are heavy)."""
    spec = importlib.util.find_spec("matminer")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("matminer is needed for its cohesive_energies.json: pip install --no-deps matminer")
    path = Path(list(spec.submodule_search_locations)[0]) / "utils" / "data_files" / "cohesive_energies.json"
    raw = path.read_bytes()
    table = {k: float(v) for k, v in json.loads(raw).items()}
    info = {
        "version": importlib.metadata.version("matminer"),
        "relpath": "matminer/utils/data_files/cohesive_energies.json",
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    return table, info


# pymatgen's Shannon table files one row under an empty oxidation state: Eu, "" -> VII, crystal 1.15, ionic
# 1.01. Shannon (1976) lists exactly these radii for Eu3+ in seven-fold coordination (between VI 0.947 and
# VIII 1.066), and pymatgen has no other Eu3+ VII row, so the row is filed under +3 here.
SHANNON_OXIDATION_FIXES = {("Eu", ""): "3"}


def shannon_rows(el):
    rows = []
    for ox, by_cn in el.data.get("Shannon radii", {}).items():
        if (el.symbol, ox) in SHANNON_OXIDATION_FIXES:
            ox = SHANNON_OXIDATION_FIXES[(el.symbol, ox)]
            assert ox not in el.data["Shannon radii"] or not set(by_cn) & set(el.data["Shannon radii"][ox])
        for cn, by_spin in by_cn.items():
            for spin, radii in by_spin.items():
                if spin not in SPIN_ORDER:
                    raise ValueError(f"{el}: unexpected spin {spin!r}")
                rows.append(
                    (i8(ox), cn, spin, float(radii["crystal_radius"]), float(radii["ionic_radius"]))
                )
    rows.sort(key=lambda r: (r[0], coordination_key(r[1]), SPIN_ORDER[r[2]]))
    return rows


def collect():
    coh, coh_info = cohesive_energy_table()
    elements = []
    for z in range(1, MAX_Z + 1):
        el = Element.from_Z(z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns when X is NaN
            x = opt_float(el.X)
        elements.append(
            {
                "z": z,
                "symbol": el.symbol,
                "name": el.long_name,
                "atomic_mass": float(el.atomic_mass),
                "X": x,
                "atomic_radius": opt_float(el.atomic_radius),
                "covalent_radius": opt_float(CovalentRadius.radius.get(el.symbol)),
                "common_oxidation_states": [i8(q) for q in el.common_oxidation_states],
                "ionic_radii": sorted((i8(q), float(r)) for q, r in el.ionic_radii.items()),
                "shannon": shannon_rows(el),
                "cohesive_energy": coh.get(el.symbol),
            }
        )
    unused = set(coh) - {e["symbol"] for e in elements}
    if unused:
        print(f"note: cohesive energies not used (Z > {MAX_Z}): {sorted(unused)}", file=sys.stderr)
    return elements, coh_info


def missing(elements, key):
    return ", ".join(e["symbol"] for e in elements if e[key] is None) or "none"


def check_claims(elements):
    """Facts that PROVENANCE states in words; fail loudly if a new pymatgen changes them."""
    by = {e["symbol"]: e for e in elements}
    assert by["Li"]["atomic_mass"] == 6.941 and by["Ge"]["atomic_mass"] == 72.64
    assert by["Tc"]["atomic_mass"] == 98.0 and by["Pu"]["atomic_mass"] == 244.0
    assert by["C"]["covalent_radius"] == 0.73
    # Cordero's low/high-spin covalent radii: Mn 1.39/1.61, Fe 1.32/1.52, Co 1.26/1.50
    for sym, ls, hs in (("Mn", 1.39, 1.61), ("Fe", 1.32, 1.52), ("Co", 1.26, 1.50)):
        assert abs(by[sym]["covalent_radius"] - (ls + hs) / 2) < 1e-9, sym
    assert dict(by["Li"]["ionic_radii"])[1] == 0.9 and dict(by["O"]["ionic_radii"])[-2] == 1.26


def provenance(elements, pmg, pmg_core, coh_info):
    check_claims(elements)
    return (
        f"Element data extracted by validation/elements.py from pymatgen {pmg} (pymatgen-core {pmg_core}), "
        "whose periodic_table.json itself names no sources; the sources given here are those named in "
        "pymatgen's code and developer scripts, or evident from the numbers. "
        "Atomic mass, amu: pymatgen Element.atomic_mass, standard atomic weights in older IUPAC values "
        "(e.g. Li 6.941, Ge 72.64), and the mass number of the longest-lived isotope for elements without "
        "stable isotopes (e.g. Tc 98, Pu 244). "
        "Electronegativity: Pauling scale, pymatgen Element.X; missing where pymatgen has none "
        f"({missing(elements, 'X')}). "
        "Atomic radius, angstrom: pymatgen Element.atomic_radius, the empirical atomic radii of "
        "J. C. Slater, J. Chem. Phys. 41, 3199 (1964), as in pymatgen's dev_scripts radii.csv "
        f"(missing for {missing(elements, 'atomic_radius')}). "
        "Covalent radius, angstrom: pymatgen CovalentRadius.radius (pymatgen.core.molecule_structure_comparator), "
        "which cites B. Cordero et al., Covalent radii revisited, Dalton Trans. 2008, 2832-2838 "
        "(doi:10.1039/b801115j); pymatgen gives C its sp2 value (0.73) and Mn, Fe, Co the mean of Cordero's "
        "low- and high-spin values. "
        "Ionic radii by oxidation state, angstrom: pymatgen Element.ionic_radii (pymatgen's dev_scripts "
        "ionic_radii.csv, high spin where the spin state matters); numerically these are Shannon crystal "
        "radii, mostly for six-fold coordination (e.g. Li+ 0.90, O2- 1.26). "
        "Shannon radii (crystal and effective ionic radius per oxidation state, coordination and spin): "
        "pymatgen Element.data[\"Shannon radii\"], from R. D. Shannon, Revised effective ionic radii and "
        "systematic studies of interatomic distances in halides and chalcogenides, Acta Cryst. A32, 751-767 "
        "(1976); one row that pymatgen files under an empty oxidation state (Eu, VII, crystal 1.15, ionic "
        "1.01) is filed under Eu3+, where Shannon lists it. "
        f"Cohesive energy, eV/atom: matminer {coh_info['version']} file {coh_info['relpath']} "
        f"(sha256 {coh_info['sha256']}), read by matminer's CohesiveEnergyData, whose documentation says the "
        "numbers were taken from the KnowledgeDoor elements handbook, which took them from C. Kittel, "
        "Introduction to Solid State Physics, 8th ed. (Wiley, 2005), Table 3.1 (cohesive energies of the "
        "elements at 0 K and 1 atm, relative to free neutral atoms); missing for elements not in that file "
        f"({missing(elements, 'cohesive_energy')})."
    )


def write_rust(elements, prov, pmg, pmg_core, coh_info):
    out = [
        f"// generated by validation/elements.py from pymatgen {pmg} (pymatgen-core {pmg_core}) and",
        f"// matminer {coh_info['version']} ({coh_info['relpath']}); do not edit.",
        "",
        "/// Where every column of the element table comes from: data sources, versions, references.",
        f"pub static PROVENANCE: &str = {rs_str(prov)};",
        "",
        f"/// Elements H (Z = 1) to Pu (Z = {MAX_Z}), indexed by Z - 1.",
        f"pub static ELEMENTS: [ElementData; {len(elements)}] = [",
    ]
    for e in elements:
        ox = ", ".join(str(q) for q in e["common_oxidation_states"])
        ionic = ", ".join(f"({q}, {fmt_float(r)})" for q, r in e["ionic_radii"])
        out += [
            "    ElementData {",
            f"        z: {e['z']},",
            f"        symbol: {rs_str(e['symbol'])},",
            f"        name: {rs_str(e['name'])},",
            f"        atomic_mass: {fmt_float(e['atomic_mass'])},",
            f"        electronegativity: {rs_opt(e['X'])},",
            f"        atomic_radius: {rs_opt(e['atomic_radius'])},",
            f"        covalent_radius: {rs_opt(e['covalent_radius'])},",
            f"        common_oxidation_states: &[{ox}],",
            f"        ionic_radii: &[{ionic}],",
        ]
        if e["shannon"]:
            out.append("        shannon_radii: &[")
            for q, cn, spin, cr, ir in e["shannon"]:
                out.append(
                    f"            ShannonRadius {{ oxidation_state: {q}, coordination: {rs_str(cn)}, "
                    f"spin: {rs_str(spin)}, crystal_radius: {fmt_float(cr)}, ionic_radius: {fmt_float(ir)} }},"
                )
            out.append("        ],")
        else:
            out.append("        shannon_radii: &[],")
        out += [
            f"        cohesive_energy: {rs_opt(e['cohesive_energy'])},",
            "    },",
        ]
    out.append("];")
    RS_OUT.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_csv(elements):
    CSV_OUT.parent.mkdir(parents=True, exist_ok=True)
    with CSV_OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["z", "symbol", "atomic_mass", "X", "atomic_radius", "covalent_radius"])
        for e in elements:
            w.writerow(
                [
                    e["z"],
                    e["symbol"],
                    fmt_float(e["atomic_mass"]),
                    *("" if e[k] is None else fmt_float(e[k]) for k in ("X", "atomic_radius", "covalent_radius")),
                ]
            )


def main():
    pmg = importlib.metadata.version("pymatgen")
    try:  # pymatgen >= 2026 ships its core as the separate distribution pymatgen-core
        pmg_core = importlib.metadata.version("pymatgen-core")
    except importlib.metadata.PackageNotFoundError:
        pmg_core = pmg
    elements, coh_info = collect()
    prov = provenance(elements, pmg, pmg_core, coh_info)
    write_rust(elements, prov, pmg, pmg_core, coh_info)
    write_csv(elements)
    n_sh = sum(len(e["shannon"]) for e in elements)
    n_coh = sum(e["cohesive_energy"] is not None for e in elements)
    print(f"wrote {RS_OUT.relative_to(ROOT)} ({RS_OUT.stat().st_size} bytes, {len(elements)} elements, "
          f"{n_sh} Shannon rows, {n_coh} cohesive energies) and {CSV_OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
