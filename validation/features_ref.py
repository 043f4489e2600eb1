"""Independent reference for amorph-features, written from ../shared/FEATURES.md and the choices
documented in the crate (not from its code), with pymatgen and numpy.

    python validation/features_ref.py make    # the test structures (needs target/release/amorph)
    python validation/features_ref.py ref     # tests/data/features/reference.json (the default;
                                              # run by `cargo xtask refs`)
    python validation/features_ref.py bench   # side-by-side timings for docs/benchmarks.md

`make` packs 23 small random structures with `amorph pack` (oxides, sulfides, halides, a nitride, two
intermetallics, one Li-free oxide) into tests/data/features/amorphous/, six of them then sheared into
triclinic cells of the same volume (fractional coordinates kept). `ref` computes every Table-1 feature
of each under both conventions and writes the values (null when undefined) with, for the union packing
fractions, the Monte Carlo standard error; crates/amorph-features/tests/reference.rs compares.

Definitions (sendek; see the crate docs for the wording):
- bonds: every other atom and periodic image within 4 Å (pymatgen get_neighbor_list);
- anion: most electronegative element (Pauling; ties: later symbol); zheng2024: alphabetically last;
- radii: Shannon effective ionic radius (anion: most negative common oxidation state; others: the most
  positive common one with a Shannon radius; coordination VI, else nearest to 6, higher on a tie, plain
  numerals before suffixed ones, high spin first), covalent radius where none; zheng2024: Cordero
  covalent radii with C 0.76 and low-spin Mn 1.39, Fe 1.32, Co 1.26;
- PF, SPF: union of spheres estimated here by Monte Carlo (400 000 points, numpy seed 0) with
  pymatgen's find_points_in_spheres; zheng2024: Σ(4/3)πr³/V;
- SLPW: per Li, segment to the nearest Li image; among atom images projecting onto it, min(perpendicular
  distance − r), floored at 0; SLPE: χ of that atom (ties within 1e-9 Å: higher χ); SLPW_pp: min over
  all atom images of (distance to the segment − r); zheng2024: nearest centre distance d to the
  segment (SLPW_pp), d − r (SLPW), its χ (SLPE);
- compositional: atomic-fraction averages; Ecoh Kittel (matminer's cohesive_energies.json) for
  sendek, the released table's values for zheng2024; B, G from data/zheng2024_elements.csv.
"""

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from pymatgen.analysis.molecule_structure_comparator import CovalentRadius
from pymatgen.core import Element, Lattice, Structure

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests/data/features"
STRUCTS = DATA / "amorphous"
CUTOFF = 4.0
KB = 8.617333262e-5

# name, atoms, density g/cm3, pack tolerance Å, shear into a triclinic cell
SYSTEMS = [
    ("Li2Si2O5", 54, 2.3, 1.5, False),
    ("Li2SiO3", 48, 2.4, 1.5, True),
    ("Li3BO3", 56, 2.1, 1.4, False),
    ("LiPO3", 60, 2.3, 1.5, False),
    ("Li4P2O7", 52, 2.3, 1.5, True),
    ("LiAlSiO4", 56, 2.4, 1.5, False),
    ("Li2GeO3", 48, 3.2, 1.5, False),
    ("LiNbO3", 50, 4.0, 1.5, True),
    ("Li2CO3", 48, 2.0, 1.3, False),
    ("LiFePO4", 56, 3.4, 1.5, False),
    ("Li3PS4", 48, 1.9, 1.8, False),
    ("Li4SiS4", 54, 1.8, 1.8, True),
    ("Li7P3S11", 42, 1.9, 1.8, False),
    ("Li2GeS3", 48, 2.5, 1.8, False),
    ("Li3YCl6", 60, 2.4, 1.8, False),
    ("Li3InCl6", 50, 2.6, 1.8, False),
    ("LiAlCl4", 60, 1.9, 1.8, True),
    ("Li2ZrF6", 54, 3.0, 1.5, False),
    ("Li3OCl", 50, 2.0, 1.6, False),
    ("Li3N", 48, 1.3, 1.6, False),
    ("Li15Si4", 38, 1.2, 2.0, True),
    ("LiAl", 40, 1.7, 2.0, False),
    ("SiO2", 48, 2.2, 1.5, False),
]


def make():
    exe = ROOT / "target/release/amorph"
    subprocess.run(["cargo", "build", "--release", "-p", "amorph-cli"], cwd=ROOT, check=True)
    STRUCTS.mkdir(parents=True, exist_ok=True)
    for k, (name, n, rho, tol, shear) in enumerate(SYSTEMS):
        out = STRUCTS / f"{name}.vasp"
        cmd = [str(exe), "pack", name, "--atoms", str(n), "--density", str(rho), "--tolerance", str(tol),
               "--seed", str(100 + k), "--round", "-o", str(out)]
        subprocess.run(cmd, check=True)
        if shear:
            s = Structure.from_file(out)
            a, b, c = s.lattice.abc
            tri = Lattice.from_parameters(a * 0.95, b * 1.02, c * 1.03, 78.0, 97.0, 111.0)
            tri = tri.scale(s.volume)
            s = Structure(tri, s.species, s.frac_coords)
            s.to(filename=str(out), fmt="poscar")
        print(out.relative_to(ROOT))


# ---------------------------------------------------------------- element data

def load_zheng():
    rows = {}
    for line in (ROOT / "crates/amorph-features/data/zheng2024_elements.csv").read_text().splitlines():
        if line.startswith("#") or line.startswith("element") or not line.strip():
            continue
        el, b, g, e = line.split(",")
        rows[el] = (float(b), float(g), float(e))
    return rows


ZHENG = load_zheng()
import matminer  # noqa: E402  (only its data file is read)

KITTEL = json.loads((Path(matminer.__file__).parent / "utils/data_files/cohesive_energies.json").read_text())


def prop(sym, p, conv):
    el = Element(sym)
    if p == "Ecoh":
        v = KITTEL.get(sym) if conv == "sendek" else ZHENG.get(sym, (None, None, None))[2]
    elif p == "B":
        v = ZHENG.get(sym, (None,))[0]
    elif p == "G":
        v = ZHENG.get(sym, (None, None))[1]
    elif p == "X":
        v = el.X if not math.isnan(el.X) else None
    elif p == "m":
        v = float(el.atomic_mass)
    elif p == "R":
        v = el.atomic_radius
        v = float(v) if v is not None else None
    if v is None:
        raise KeyError(f"{p} of {sym}")
    return float(v)


ROMAN = {"I": 1, "V": 5, "X": 10}


def roman(c):
    head = ""
    for ch in c:
        if ch in ROMAN:
            head += ch
        else:
            break
    n = 0
    for i, ch in enumerate(head):
        v = ROMAN[ch]
        n += -v if i + 1 < len(head) and ROMAN[head[i + 1]] > v else v
    return n, len(head) < len(c)


def shannon(sym, q):
    table = Element(sym).data.get("Shannon radii", {}).get(str(q), {})
    best = None
    for coord, spins in table.items():
        n, suffix = roman(coord)
        for spin, radii in spins.items():
            rank = {"High Spin": 0, "": 1}.get(spin, 2)
            key = (abs(n - 6), -n, suffix, rank)
            if best is None or key < best[0]:
                best = (key, radii["ionic_radius"])
    if best is None or best[1] <= 0:
        return None
    return best[1]


def radius(sym, table, is_anion):
    if table == "covalent_zheng2024":
        return {"C": 0.76, "Mn": 1.39, "Fe": 1.32, "Co": 1.26}.get(sym, CovalentRadius.radius[sym])
    states = Element(sym).common_oxidation_states
    if is_anion:
        neg = [q for q in states if q < 0]
        q = min(neg) if neg else None
    else:
        pos = [q for q in states if q > 0 and shannon(sym, q) is not None]
        q = max(pos) if pos else None
    r = shannon(sym, q) if q is not None else None
    return r if r is not None else CovalentRadius.radius[sym]


# ---------------------------------------------------------------- features

def sample_std(v):
    v = np.asarray(v, float)
    if len(v) < 2:
        return None
    return float(np.std(v, ddof=1))


def mean_or_none(v):
    return float(np.mean(v)) if len(v) else None


def union_fraction_mc(s, radii, mask, n=400_000, seed=0):
    rng = np.random.default_rng(seed)
    frac = rng.random((n, 3))
    pts = s.lattice.get_cartesian_coords(frac)
    centres = s.cart_coords[mask]
    r = np.asarray(radii)[mask]
    if len(centres) == 0:
        return None, None
    from pymatgen.optimization.neighbors import find_points_in_spheres

    pbc = np.array([1, 1, 1], dtype=np.int64)
    ci, pi, _, d = find_points_in_spheres(np.ascontiguousarray(centres, float), np.ascontiguousarray(pts, float),
                                          float(r.max()), pbc, np.ascontiguousarray(s.lattice.matrix, float), 1e-8)
    inside = d <= r[pi]
    covered = np.zeros(n, bool)
    covered[ci[inside]] = True
    p = covered.mean()
    return float(p), float(math.sqrt(p * (1 - p) / n))


def features(s, conv):
    species = [sp.symbol for sp in s.species]
    n = len(species)
    V = s.volume
    is_li = np.array([x == "Li" for x in species])
    chi = np.array([Element(x).X for x in species])
    present = sorted(set(species))
    if conv == "sendek":
        anion = max(present, key=lambda e: (Element(e).X, e))
    else:
        anion = max(present)
    is_an = np.array([x == anion for x in species])
    table = "shannon" if conv == "sendek" else "covalent_zheng2024"
    rad = {e: radius(e, table, e == anion) for e in present}
    r = np.array([rad[x] for x in species])
    out = {}

    ci, nj, images, dist = s.get_neighbor_list(CUTOFF)
    # Larger list for nearest distances, AFC shells and path ends.
    big = 9.0
    bci, bnj, bimg, bdist = s.get_neighbor_list(big)

    def nearest(i, mask):
        sel = (bci == i) & mask[bnj]
        if not sel.any():
            raise RuntimeError("no neighbour within 9 Å")
        k = np.flatnonzero(sel)[np.argmin(bdist[sel])]
        return k

    out["AAV"] = V / n
    li = np.flatnonzero(is_li)
    sub = np.flatnonzero(~is_li)

    # Li bonds
    li_b = np.isin(ci, li)
    ion = np.abs(chi[ci] - chi[nj])
    lb = ion[li_b]
    if len(li) == 0:
        out.update({k: None for k in ["LBI", "SDLI", "LNC", "SDLC", "LLB", "LASD", "LLSD", "SLPW", "SLPW_pp", "SLPE"]})
    else:
        if conv == "sendek":
            out["LBI"] = mean_or_none(lb)
        else:
            out["LBI"] = float(lb.sum() / (len(lb) - 1)) if len(lb) >= 2 else None
        out["SDLI"] = sample_std(lb)
        counts = np.array([(ci == i).sum() for i in li])
        out["LNC"] = float(counts.mean())
        out["SDLC"] = sample_std(counts)
        out["LLB"] = float(sum(((ci == i) & is_li[nj]).sum() for i in li) / len(li))
        out["LASD"] = float(np.mean([bdist[nearest(i, is_an)] for i in li]))
        out["LLSD"] = float(np.mean([bdist[nearest(i, is_li)] for i in li]))
    if len(sub):
        if conv == "sendek":
            sb = ion[~is_li[ci] & ~is_li[nj]]
        else:
            sb = ion[~is_li[ci]]
        out["SBI"] = mean_or_none(sb)
        out["SNC"] = float(np.mean([((ci == i) & ~is_li[nj]).sum() for i in sub]))
        out["ENS"] = float(chi[sub].mean())
    else:
        out["SBI"] = out["SNC"] = out["ENS"] = None
    out["RBI"] = out["LBI"] / out["SBI"] if out.get("LBI") is not None and out["SBI"] else None
    out["RNC"] = out["LNC"] / out["SNC"] if out.get("LNC") is not None and out["SNC"] else None
    an = np.flatnonzero(is_an)
    r0 = [bdist[nearest(i, is_an)] for i in an]
    out["AASD"] = float(np.mean(r0))
    out["AFC"] = float(np.mean([((bci == i) & is_an[bnj] & (bdist <= d + 1.0)).sum() for i, d in zip(an, r0)]))
    out["VPA"] = V / len(an)

    # packing fractions
    if conv == "sendek":
        pf, pf_err = union_fraction_mc(s, r, np.ones(n, bool))
        spf, spf_err = union_fraction_mc(s, r, ~is_li)
        out["PF"], out["SPF"] = pf, spf
        out["_PF_stderr"], out["_SPF_stderr"] = pf_err, spf_err
    else:
        vol = 4.0 / 3.0 * np.pi * r ** 3
        out["PF"] = float(vol.sum() / V)
        out["SPF"] = float(vol[~is_li].sum() / V) if len(sub) else None

    # straight-line paths
    if len(li):
        rmax = r.max()
        slpw, slpe, pp = [], [], []
        for i in li:
            k = nearest(i, is_li)
            j = bnj[k]
            d = s[j].coords + s.lattice.get_cartesian_coords(bimg[k]) - s[i].coords
            L = np.linalg.norm(d)
            mid = s[i].coords + d / 2
            R = L / 2 + 6.0
            while True:
                found = s.lattice.get_points_in_sphere(s.frac_coords, mid, R, zip_results=False)
                fcoords, dists, idx, imgs = found
                cart = s.lattice.get_cartesian_coords(fcoords) - s[i].coords
                t = cart @ d / (L * L)
                tc = np.clip(t, 0, 1)
                dseg = np.linalg.norm(cart - np.outer(tc, d), axis=1)
                end = ((idx == i) & (np.linalg.norm(cart, axis=1) < 1e-9)) | (
                    (idx == j) & (np.linalg.norm(cart - d, axis=1) < 1e-9))
                keep = ~end
                idx, t, dseg = idx[keep], t[keep], dseg[keep]
                rr, cc = r[idx], chi[idx]
                beside = (t >= 0) & (t <= 1)
                w = dseg - rr
                if conv == "sendek":
                    ok = beside.any() and w[beside].min() <= R - L / 2 - rmax and w.min() <= R - L / 2 - rmax
                else:
                    ok = len(dseg) and dseg.min() <= R - L / 2
                if ok:
                    break
                R *= 2
            if conv == "sendek":
                wb, cb = w[beside], cc[beside]
                m = wb.min()
                tie = np.abs(wb - m) <= 1e-9
                slpw.append(max(m, 0.0))
                slpe.append(cb[tie].max())
                pp.append(w.min())
            else:
                m = dseg.min()
                tie = np.flatnonzero(np.abs(dseg - m) <= 1e-9)
                best = tie[np.argmax(cc[tie])]
                pp.append(dseg[best])
                slpw.append(dseg[best] - rr[best])
                slpe.append(cc[best])
        out["SLPW"], out["SLPW_pp"], out["SLPE"] = float(np.mean(slpw)), float(np.mean(pp)), float(np.mean(slpe))

    # compositional
    comp = s.composition
    frac = {e.symbol: comp.get_atomic_fraction(e) for e in comp}
    out["Li%"] = frac.get("Li", 0.0)

    def avg(p, without_li):
        items = [(e, f) for e, f in frac.items() if not (without_li and e == "Li")]
        tot = sum(f for _, f in items)
        if tot == 0:
            return None
        try:
            return sum(f * prop(e, p, conv) for e, f in items) / tot
        except KeyError:
            return None

    for p in ["B", "G", "Ecoh", "R", "m", "X"]:
        out[p] = avg(p, False)
        out[p + "-Li"] = avg(p, True)
    for suffix, wl in (("", False), ("-Li", True)):
        Rv, mv = avg("R", wl), avg("m", wl)
        for name, p, k in (("BR5m", "B", 5), ("GR5m", "G", 5), ("ER2m", "Ecoh", 2)):
            pv = avg(p, wl)
            out[name + suffix] = math.sqrt(pv * Rv ** k / mv) if None not in (pv, Rv, mv) else None
    out["R-ratio"] = out["R-Li"] / out["R"] if out["R-Li"] is not None else None
    if conv == "sendek":
        out["ΔX"] = out["X-Li"] - Element("Li").X if "Li" in frac and out["X-Li"] is not None else None
    else:
        out["ΔX"] = out["X-Li"] - out["X"] if out["X-Li"] is not None else None
    out["density"] = float(s.density)
    return out


def ref():
    result = {}
    for p in sorted(STRUCTS.glob("*.vasp")):
        s = Structure.from_file(p)
        result[p.name] = {conv: features(s, conv) for conv in ("sendek", "zheng2024")}
        print(p.name, "ok")
    (DATA / "reference.json").write_text(json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def perturbed(s, k):
    """The k-th structure of the criterion batch: every atom of the 100-atom file displaced a little
    (the same formula as benches/features.rs)."""
    s = s.copy()
    cart = s.cart_coords.copy()
    for i in range(len(s)):
        phase = float(k * 131 + i * 17)
        cart[i] += 0.05 * np.array([math.sin(phase), math.cos(1.3 * phase), math.sin(0.7 * phase)])
    return Structure(s.lattice, s.species, cart, coords_are_cartesian=True)


def criterion_median_ms(name):
    est = ROOT / "target/criterion/features" / name / "new/estimates.json"
    return json.loads(est.read_text())["median"]["point_estimate"] / 1e6


def bench():
    """Side by side: the Python reference (default sendek convention, one core) on the bench files,
    then `cargo bench -p amorph-features --bench features` with 1 and 2 rayon threads; prints the
    ratios recorded in docs/benchmarks.md. The Python batch time is measured on 20 structures of the
    criterion batch and scaled to 1 000."""
    small = Structure.from_file(DATA / "bench_LiAlO2_100.vasp")
    large = Structure.from_file(DATA / "bench_LiAlO2_1000.vasp")
    py = {}
    for key, s, reps in (("table1_100_atoms", small, 5), ("table1_1000_atoms", large, 2)):
        t0 = time.perf_counter()
        for _ in range(reps):
            features(s, "sendek")
        py[key] = (time.perf_counter() - t0) / reps * 1e3
    batch = [perturbed(small, k) for k in range(20)]
    t0 = time.perf_counter()
    for s in batch:
        features(s, "sendek")
    py["table1_batch_1000x100_atoms"] = (time.perf_counter() - t0) / len(batch) * 1000 * 1e3
    results = {}
    for threads in (1, 2):
        env = dict(__import__("os").environ, RAYON_NUM_THREADS=str(threads))
        subprocess.run(["cargo", "bench", "-p", "amorph-features", "--bench", "features"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        results[threads] = {k: criterion_median_ms(k) for k in py}
    print("| case | Python reference | amorph 1 thread | amorph 2 threads | ratio (1 thread) | ratio (2 threads) |")
    print("|---|---|---|---|---|---|")
    for k, t in py.items():
        r1, r2 = results[1][k], results[2][k]
        print(f"| {k} | {t:.1f} ms | {r1:.2f} ms | {r2:.2f} ms | {t / r1:.0f}× | {t / r2:.0f}× |")


if __name__ == "__main__":
    # `cargo xtask refs` runs the script without arguments: regenerate the reference.
    {"make": make, "ref": ref, "bench": bench}[sys.argv[1] if len(sys.argv) > 1 else "ref"]()
