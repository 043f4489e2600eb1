"""PACKMOL and `amorph pack` on the same requests: success/failure agreement and speed, side by side.

Two modes (both need the `packmol` binary, which `pip install packmol` puts next to the Python
interpreter, plus numpy and pymatgen):

    python validation/packmol_compare.py grid     # agreement grid -> tests/data/packmol_grid.csv
    python validation/packmol_compare.py bench    # speed: PACKMOL timed here, amorph by criterion

grid: Li2Si2O5 (504 atoms) and Li3YCl6 (500 atoms) in a cubic periodic box over densities x
tolerances. PACKMOL gets a periodic box (`pbc 0 0 0 L L L`, PACKMOL >= 20.15) and a timeout; amorph runs
through its CLI (`target/release/amorph pack`, built here with `cargo build --release -p amorph-cli`).
Every output is checked independently here: the minimum-image distance of every pair (numpy), and the
number of pairs closer than the tolerance. The CSV is what `crates/amorph-pack/tests/packmol_grid.rs`
replays without PACKMOL.

bench: Li2Si2O5 at 2.3 g/cm3, 999 and 9 999 atoms, tolerance 2.0 and 2.2 A. PACKMOL wall time (best of
--repeat runs, seed 1; one run when a run takes longer than 10 s), then `cargo bench -p amorph-pack --bench
pack`, whose criterion medians are read back; prints the ratios recorded in docs/benchmarks.md.
"""

import argparse
import csv
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Structure

ROOT = Path(__file__).resolve().parent.parent
AMU_A3_TO_G_CM3 = 1.66053906892  # CODATA 2022, as amorph and pymatgen
GRID = {
    # formula: (formula units, densities g/cm3, tolerances A)
    "Li2Si2O5": (56, [1.5, 2.0, 2.3, 2.6, 3.0], [1.6, 2.0, 2.2, 2.5]),
    "Li3YCl6": (50, [1.5, 2.0, 2.3, 2.6, 3.0], [2.0, 2.5, 3.0, 3.3]),
}
# Near random close packing (phi 0.61-0.64), where the packers part ways: Li2Si2O5 at 2.2 A and
# Li3YCl6 at 3.0 A, densities chosen for phi = 0.614, 0.624, 0.630, 0.634, 0.638 and 0.620, 0.634.
FRONTIER = {
    "Li2Si2O5": (56, [3.05, 3.1, 3.13, 3.15, 3.17], [2.2]),
    "Li3YCl6": (50, [2.35, 2.4], [3.0]),
}
GRID_CSV = ROOT / "tests/data/packmol_grid.csv"
BENCH = [(999, 2.0), (999, 2.2), (9_999, 2.0), (9_999, 2.2)]


def packmol_binary():
    found = Path(sys.executable).with_name("packmol")
    if found.exists():
        return str(found)
    which = shutil.which("packmol")
    if which is None:
        sys.exit("packmol not found: pip install packmol")
    return which


def counts_of(formula, units):
    """Atom counts per element in pymatgen order (electronegativity), for whole formula units."""
    comp = Composition(formula).reduced_composition
    els = sorted(comp.elements)
    return [(el.symbol, int(round(comp[el] * units))) for el in els], float(comp.weight) * units


def box_edge(mass_amu, density):
    return (mass_amu * AMU_A3_TO_G_CM3 / density) ** (1.0 / 3.0)


def packing_fraction(natoms, tol, edge):
    return natoms * math.pi / 6.0 * tol**3 / edge**3


def min_distance(cart, edge, tol):
    """Smallest minimum-image distance in a cubic box and the number of pairs closer than tol."""
    x = np.asarray(cart, dtype=float)
    n = len(x)
    best, below = math.inf, 0
    for start in range(0, n, 512):
        rows = np.arange(start, min(start + 512, n))
        d = x[rows, None, :] - x[None, :, :]
        d -= edge * np.round(d / edge)
        r = np.sqrt((d**2).sum(-1))
        rr = r[np.arange(n)[None, :] > rows[:, None]]  # each unordered pair once (j > i)
        if rr.size:
            best = min(best, float(rr.min()))
            below += int((rr < tol).sum())
    return best, below


def run_packmol(counts, edge, tol, seed, timeout, work):
    """PACKMOL on single atoms in a periodic cubic box: (status, seconds, positions)."""
    for el, _ in counts:
        (work / f"{el}.xyz").write_text(f"1\n{el}\n{el} 0.0 0.0 0.0\n")
    out = work / "packmol_out.xyz"
    out.unlink(missing_ok=True)
    lines = [f"tolerance {tol}", "filetype xyz", f"output {out.name}", f"seed {seed}",
             f"pbc 0. 0. 0. {edge:.10f} {edge:.10f} {edge:.10f}"]
    for el, n in counts:
        lines += [f"structure {el}.xyz", f"  number {n}", "end structure"]
    (work / "packmol.inp").write_text("\n".join(lines) + "\n")
    t = time.perf_counter()
    try:
        with open(work / "packmol.inp") as stdin:
            p = subprocess.run([packmol_binary()], stdin=stdin, cwd=work, capture_output=True, text=True,
                               timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t, None
    seconds = time.perf_counter() - t
    ok = p.returncode == 0 and "Success!" in p.stdout and out.exists()
    if not ok:
        return "fail", seconds, None
    xyz = np.loadtxt(out, skiprows=2, usecols=(1, 2, 3))
    return "success", seconds, xyz


def amorph_binary():
    exe = ROOT / "target/release/amorph"
    if not exe.exists():
        sys.exit(f"{exe} missing: cargo build --release -p amorph-cli")
    return str(exe)


def run_amorph(formula, units, density, tol, seed, work):
    """`amorph pack` through the CLI: (status, seconds, cartesian positions, edge, message)."""
    out = work / "amorph_out.vasp"
    out.unlink(missing_ok=True)
    cmd = [amorph_binary(), "pack", formula, "--formula-units", str(units), "--density", str(density),
           "--tolerance", str(tol), "--seed", str(seed), "-o", str(out)]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if p.returncode != 0:
        assert not out.exists(), "amorph wrote a file on failure"
        msg = p.stderr.strip()
        status = "refused" if "too dense" in msg or "cell too small" in msg else "fail"
        return status, seconds, None, None, msg
    s = Structure.from_file(out)
    return "success", seconds, s.cart_coords, s.lattice.a, p.stdout.strip()


def packmol_rows(path):
    """PACKMOL's results from an earlier grid CSV, by (system, density, tolerance, seed)."""
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            key = (r["system"], float(r["density"]), float(r["tolerance"]), int(r["seed"]))
            out[key] = {k: v for k, v in r.items() if k.startswith("packmol_") and v != ""}
    return out


def grid(args):
    subprocess.run(["cargo", "build", "--release", "-p", "amorph-cli"], cwd=ROOT, check=True)
    earlier = packmol_rows(args.packmol_from) if args.packmol_from else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [(f, spec, "grid") for f, spec in GRID.items()]
        cases += [(f, spec, "frontier") for f, spec in FRONTIER.items()]
        for formula, (units, densities, tolerances), kind in cases:
            counts, mass = counts_of(formula, units)
            natoms = sum(n for _, n in counts)
            for tol in tolerances:
                for density in densities:
                    edge = box_edge(mass, density)
                    phi = packing_fraction(natoms, tol, edge)
                    row = dict(set=kind, system=formula, natoms=natoms, density=density, tolerance=tol,
                               seed=args.seed, packing_fraction=round(phi, 4))
                    a_status, a_sec, a_xyz, a_edge, _ = run_amorph(formula, units, density, tol, args.seed, work)
                    row.update(amorph_status=a_status, amorph_seconds=round(a_sec, 3))
                    if a_xyz is not None:
                        assert abs(a_edge - edge) < 1e-6 * edge, (a_edge, edge)
                        d, below = min_distance(a_xyz, edge, tol)
                        row.update(amorph_min_distance=round(d, 5), amorph_pairs_below=below)
                    # PACKMOL is not run where amorph refuses at once (phi above random close
                    # packing) unless asked: it would only spend the timeout failing.
                    if earlier is not None:
                        old = earlier[(formula, density, tol, args.seed)]
                        for k in ("packmol_seconds", "packmol_min_distance"):
                            if k in old:
                                old[k] = float(old[k])
                        if "packmol_pairs_below" in old:
                            old["packmol_pairs_below"] = int(old["packmol_pairs_below"])
                        row.update(old)
                    elif a_status == "refused" and not args.packmol_everywhere:
                        row.update(packmol_status="not run")
                    else:
                        p_status, p_sec, p_xyz = run_packmol(counts, edge, tol, args.seed, args.timeout, work)
                        row.update(packmol_status=p_status, packmol_seconds=round(p_sec, 3))
                        if p_xyz is not None:
                            d, below = min_distance(p_xyz, edge, tol)
                            row.update(packmol_min_distance=round(d, 5), packmol_pairs_below=below)
                    rows.append(row)
                    print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    fields = ["set", "system", "natoms", "density", "tolerance", "seed", "packing_fraction", "packmol_status",
              "packmol_seconds", "packmol_min_distance", "packmol_pairs_below", "amorph_status",
              "amorph_seconds", "amorph_min_distance", "amorph_pairs_below"]
    GRID_CSV.parent.mkdir(parents=True, exist_ok=True)
    with open(GRID_CSV, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    print(f"wrote {GRID_CSV.relative_to(ROOT)}")
    print_grid_table(rows)


def print_grid_table(rows):
    """Markdown table: one line per system and tolerance, one column per density."""
    def cell(r):
        p, a = r["packmol_status"], r["amorph_status"]
        pm = {"success": "ok", "fail": "FAIL", "timeout": "TIMEOUT", "not run": "-"}[p]
        if p == "success" and r.get("packmol_pairs_below", 0):
            pm += f"*{r['packmol_pairs_below']}"
        am = {"success": "ok", "fail": "FAIL", "refused": "refused"}[a]
        return f"{r['packing_fraction']:.2f}: {pm} / {am}"
    for formula in GRID:
        sub = [r for r in rows if r["system"] == formula and r["set"] == "grid"]
        densities = sorted({r["density"] for r in sub})
        print(f"\n{formula} ({sub[0]['natoms']} atoms): phi: PACKMOL / amorph")
        print("| tolerance | " + " | ".join(f"{d} g/cm3" for d in densities) + " |")
        print("|---" * (len(densities) + 1) + "|")
        for tol in sorted({r["tolerance"] for r in sub}):
            line = [cell(r) for d in densities for r in sub if r["tolerance"] == tol and r["density"] == d]
            print(f"| {tol} A | " + " | ".join(line) + " |")
    print("\nNear random close packing: | system | tolerance | density | phi | PACKMOL | amorph |")
    for r in rows:
        if r["set"] == "frontier":
            pm = r["packmol_status"] + (f" ({r['packmol_seconds']} s)" if "packmol_seconds" in r else "")
            am = r["amorph_status"] + f" ({r['amorph_seconds']} s)"
            print(f"| {r['system']} | {r['tolerance']} | {r['density']} | {r['packing_fraction']:.3f} | {pm} | {am} |")
    disagree = [r for r in rows if r["packmol_status"] == "success" and r["amorph_status"] != "success"]
    print(f"\nrequests PACKMOL packs and amorph does not: {len(disagree)}")
    beyond = [r for r in rows if r["packmol_status"] in ("fail", "timeout") and r["amorph_status"] == "success"]
    print(f"requests amorph packs and PACKMOL does not: {len(beyond)}")


def criterion_ns(name):
    est = ROOT / "target/criterion/pack_Li2Si2O5_2.3" / name / "new/estimates.json"
    return json.loads(est.read_text())["median"]["point_estimate"]


def bench(args):
    counts1, mass1 = counts_of("Li2Si2O5", 1)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for natoms, tol in BENCH:
            units = natoms // 9
            counts = [(el, n * units) for el, n in counts1]
            edge = box_edge(mass1 * units, 2.3)
            times, d, below = [], None, None
            for _ in range(args.repeat):
                status, sec, xyz = run_packmol(counts, edge, tol, 1, args.timeout, work)
                if status != "success":
                    print(f"PACKMOL {natoms} atoms {tol} A: {status} after {sec:.1f} s")
                    break
                times.append(sec)
                if d is None:
                    d, below = min_distance(xyz, edge, tol)
                if sec > 10.0:
                    break
            best = min(times) if times else math.nan
            print(f"PACKMOL {natoms} atoms, {tol} A: best {best:.3f} s of {len(times)}; min distance {d} "
                  f"({below} pairs below {tol} A)", flush=True)
            results.append((natoms, tol, best, d, below))
    subprocess.run(["cargo", "bench", "-p", "amorph-pack", "--bench", "pack", "--", "--noplot"], cwd=ROOT,
                   check=True)
    print("\n| request | PACKMOL | amorph | ratio |\n|---|---|---|---|")
    for natoms, tol, best, d, below in results:
        ours = criterion_ns(f"{natoms}_atoms_{tol:.1f}A") * 1e-9
        print(f"| {natoms} atoms, {tol} A | {best:.3f} s | {ours * 1e3:.2f} ms | {best / ours:.0f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["grid", "bench"])
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per PACKMOL run (default 120)")
    ap.add_argument("--seed", type=int, default=1, help="seed for both packers in grid mode (default 1)")
    ap.add_argument("--repeat", type=int, default=3, help="PACKMOL runs per bench request (default 3)")
    ap.add_argument("--packmol-everywhere", action="store_true",
                    help="also run PACKMOL where amorph refuses the request at once")
    ap.add_argument("--packmol-from", metavar="CSV",
                    help="grid: take PACKMOL's results from an earlier grid CSV instead of running it "
                         "again (PACKMOL is deterministic for a seed; only amorph is rerun)")
    args = ap.parse_args()
    grid(args) if args.mode == "grid" else bench(args)


if __name__ == "__main__":
    main()
