"""Physical validation of the amorph pipeline for Li2O.2SiO2 (Li2Si2O5) glass with the Pedone (2006)
potential, side by side with published values: the tables of docs/validation_li2si2o5.md.

    python validation/li2si2o5_physical.py run   WORKDIR [--atoms 198] [--seed 1] [--npt-steps 20000]
                                                         [--quench-steps 30000]
    python validation/li2si2o5_physical.py table WORKDIR

`run` (resumable; every step is skipped when its output exists) uses target/release/amorph:

1. `amorph run Li2Si2O5 --atoms N --seed S --out WORKDIR/run` (the default protocol: melt at 3000 K,
   quench to 2500/2000/1500/1000 K, MPMorph volume search at each, 20 ps NVT production, Li MSD).
2. From WORKDIR/run/T1000K/final.vasp, MTK NPT at P = 0: a linear ramp 1000 K -> 300 K over
   NPT_STEPS steps of 2 fs, then NPT_STEPS steps at 300 K (trajectory every 20 steps).
3. From WORKDIR/run/melt/final.vasp, MTK NPT at P = 0: a linear ramp 3000 K -> 300 K over QUENCH_STEPS
   steps, then NPT_STEPS steps at 300 K (skipped with --quench-steps 0).
   The density at 300 K is the mass over the mean volume of the second half of each 300 K run.
4. `amorph rdf TRAJ --rmax 6 --bins 120` on each production trajectory (T*K/XDATCAR, and the 300 K NPT
   trajectories), which averages g(r) over frames.

`table` analyses WORKDIR and prints the Markdown table (also written to WORKDIR/table.md, with every
number in WORKDIR/results.json):

- first-peak position of g_SiO, g_LiO, g_OO: the maximum bin refined by a parabola through it and its two
  neighbours;
- the cutoff for coordination numbers: the first minimum of g after the first peak (the same parabolic
  refinement of the lowest bin of a 3-bin running mean, searched between the peak and peak + 1.5 A);
- coordination numbers two ways, which must agree: (a) the running integral
  CN_ab(rc) = 4 pi rho_b * int_0^rc g_ab(r) r^2 dr with rho_b = N_b / <V> (summed over the histogram bins
  of the CSV, the last bin cut at rc), (b) direct counting of b neighbours within rc of every a atom in
  every 5th frame of the trajectory (minimum image), which also gives the fraction of 4-fold Si, the
  non-bridging oxygen fraction (O with exactly one Si within the Si-O cutoff) and Q^n of 4-fold Si;
  the Li-O coordination number is also given at fixed cutoffs 2.4/2.6/2.8/3.0 A.

Only the Python standard library and numpy. The published values (LIT, REFERENCES) are what the sources
state in the text that could be reached; "not found" where no number was reached.
"""

import argparse
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AMORPH = ROOT / "target" / "release" / "amorph"
MASS = {"Li": 6.94, "Si": 28.085, "O": 15.999}  # pymatgen's atomic masses, rounded (amu)
AVOGADRO = 6.02214076e23
PAIRS = [("Si", "O"), ("Li", "O"), ("O", "O")]
TEMPS = [1000, 1500, 2000, 2500]

# ---------------------------------------------------------------------------------------------------
# Published values, as read in the sources of REFERENCES (numbers only where the text reached states
# them; "not found" otherwise). kind: exp = experiment, aimd = ab initio (DFT) MD, md = classical MD.
# ---------------------------------------------------------------------------------------------------
REFERENCES = {
    "DC06": "J. Du, L. R. Corrales, Structure, dynamics, and electronic properties of lithium disilicate melt "
            "and glass, J. Chem. Phys. 125, 114702 (2006), doi:10.1063/1.2345060 [AIMD]",
    "U96": "H. Uhlig, M. J. Hoffmann, H.-P. Lamparter, F. Aldinger, R. Bellissent, S. Steeb, Short-range and "
           "medium-range order in lithium silicate glasses, Part II: simulation of the structure by the reverse "
           "Monte Carlo method, J. Am. Ceram. Soc. 79 (11), 2839-2846 (1996) [X-ray + neutron diffraction, RMC]",
    "GB84": "Lithium-Selbstdiffusion in Lithiumsilicatglaesern (lithium self-diffusion in lithium silicate "
            "glasses), Glastechnische Berichte 57 (4) (1984); open access https://oa.tib.eu/renate/handle/"
            "123456789/15388 [exp, 6Li/7Li exchange]",
    "P06": "A. Pedone, G. Malavasi, M. C. Menziani, A. N. Cormack, U. Segre, J. Phys. Chem. B 110, 11780 "
           "(2006), doi:10.1021/jp0611018 [the potential]",
    "P07": "A. Pedone, G. Malavasi, A. N. Cormack, U. Segre, M. C. Menziani, Chem. Mater. 19, 3144-3154 (2007) "
           "[classical MD, Pedone potential, Li/Na/K silicate glasses 0-30 mol% M2O]",
    "SH05": "L. G. Soltay, G. S. Henderson, The structure of lithium-containing silicate and germanate glasses, "
            "Can. Mineral. 43 (5), 1643 (2005) [exp spectroscopy + structural model]",
    "GR14": "L. G. V. Goncalves, J. P. Rino, Diffusion mechanisms in lithium disilicate melt by molecular "
            "dynamics simulation, J. Non-Cryst. Solids (2014), doi:10.1016/j.jnoncrysol.2014.05.018, "
            "arXiv:1107.0760 [classical MD]",
}
LIT = {
    "density": [{"value": "not found", "src": "no citable value reached (see text)"}],
    "r_SiO": [{"value": "not found", "src": "DC06 gives bond-length distributions; value not in the text reached"}],
    "r_LiO": [{"value": "not found", "src": "DC06, U96: value not in the text reached"}],
    "r_OO": [{"value": "not found", "src": "—"}],
    "cn_SiO": [{"value": "4 (100 % four-fold Si) in the glass; ≈4 with 10–15 % defects in the melt",
                "src": "DC06 (AIMD)"}],
    "cn_LiO": [{"value": "3.7 (glass), 4.4 (melt)", "src": "DC06 (AIMD)"},
               {"value": "4 O around each Li (qualitative)", "src": "U96 (X-ray + neutron diffraction, RMC model, "
                                                                   "33.3 mol% Li2O); SH05 (spectroscopy, proposed model)"}],
    "nbo": [{"value": "NBO:BO close to 2:3 (NBO fraction 0.4); Q2/Q3/Q4 = 20.8/58.4/20.8", "src": "DC06 (AIMD glass)"}],
    "D_Li_exp": [{"value": "≈1e-8 at 350 °C (623 K)", "src": "GB84 (exp, 6Li/7Li tracer, 18–33 mol% Li2O glasses, below Tg)"}],
    "Ea": [{"value": "0.66–0.84 (64–81 kJ/mol, 270–450 °C, below Tg)",
            "src": "GB84 (exp, 6Li/7Li tracer, 18–33 mol% Li2O glasses)"}],
    "D_Li_melt": [{"value": "\"agrees with experiment\" (abstract; numbers not reached)", "src": "GR14 (classical MD, melt)"}],
}


def sh(*args, log=None):
    with open(log, "w") if log else open("/dev/null", "w") as err:
        subprocess.run([str(AMORPH), *map(str, args)], check=True, stderr=err, stdout=err)


# ----------------------------------------------------------------------------------------------- run
def run(work: Path, atoms: int, seed: int, npt_steps: int, quench_steps: int):
    work.mkdir(parents=True, exist_ok=True)
    rundir = work / "run"
    if not (rundir / "record.json").exists():
        sh("run", "Li2Si2O5", "--atoms", atoms, "--seed", seed, "--out", rundir, log=work / "run.err")
    start = rundir / "T1000K" / "final.vasp"
    if not (work / "ramp.vasp").exists():
        sh("md", start, "--ensemble", "npt", "--pressure", 0, "--temperature", 1000,
           "--final-temperature", 300, "--timestep", 2, "--steps", npt_steps, "--every", 100,
           "--seed", seed, "--thermo", work / "ramp.csv", "-o", work / "ramp.vasp", log=work / "ramp.err")
    if not (work / "npt300.vasp").exists():
        sh("md", work / "ramp.vasp", "--ensemble", "npt", "--pressure", 0, "--temperature", 300,
           "--timestep", 2, "--steps", npt_steps, "--every", 20, "--seed", seed + 1,
           "--thermo", work / "npt300.csv", "--traj", work / "npt300.XDATCAR",
           "-o", work / "npt300.vasp", log=work / "npt300.err")
    # the same, but a continuous NPT quench from the 3000 K melt (not from the pipeline's 1000 K glass)
    if quench_steps and not (work / "quench.vasp").exists():
        sh("md", rundir / "melt" / "final.vasp", "--ensemble", "npt", "--pressure", 0, "--temperature", 3000,
           "--final-temperature", 300, "--timestep", 2, "--steps", quench_steps, "--every", 100,
           "--seed", seed, "--thermo", work / "quench.csv", "-o", work / "quench.vasp", log=work / "quench.err")
    if quench_steps and not (work / "quench300.vasp").exists():
        sh("md", work / "quench.vasp", "--ensemble", "npt", "--pressure", 0, "--temperature", 300,
           "--timestep", 2, "--steps", npt_steps, "--every", 20, "--seed", seed + 1,
           "--thermo", work / "quench300.csv", "--traj", work / "quench300.XDATCAR",
           "-o", work / "quench300.vasp", log=work / "quench300.err")
    for name, traj in trajectories(work):
        out = work / f"rdf_{name}.csv"
        if not out.exists():
            sh("rdf", traj, "--rmax", 6, "--bins", 120, "-o", out)


def trajectories(work: Path):
    out = [(f"{t}K", work / "run" / f"T{t}K" / "XDATCAR") for t in TEMPS]
    out.append(("300K_npt", work / "npt300.XDATCAR"))
    out.append(("300K_npt_from_melt", work / "quench300.XDATCAR"))
    return [(n, p) for n, p in out if p.exists()]


# ------------------------------------------------------------------------------------------ analysis
def read_xdatcar(path: Path, stride: int = 1):
    """Frames of a VASP XDATCAR (fixed or variable cell): (species list, list of (lattice, frac))."""
    lines = path.read_text().splitlines()
    i, frames, species, lattice, n = 0, [], None, None, 0
    k = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if line.startswith("Direct configuration"):
            frac = np.array([[float(x) for x in lines[i + 1 + j].split()[:3]] for j in range(n)])
            if k % stride == 0:
                frames.append((lattice.copy(), frac))
            k += 1
            i += 1 + n
            continue
        # a header: title, scale, 3 lattice rows, symbols, counts
        scale = float(lines[i + 1].split()[0])
        lattice = scale * np.array([[float(x) for x in lines[i + 2 + r].split()] for r in range(3)])
        symbols = lines[i + 5].split()
        counts = [int(x) for x in lines[i + 6].split()]
        species = [s for s, c in zip(symbols, counts) for _ in range(c)]
        n = len(species)
        i += 7
    return species, frames


def parabola_vertex(r, g, i):
    """x of the vertex of the parabola through bins i-1, i, i+1 (uniform spacing)."""
    y0, y1, y2 = g[i - 1], g[i], g[i + 1]
    den = y0 - 2 * y1 + y2
    dr = r[1] - r[0]
    return r[i] if den == 0 else r[i] + 0.5 * dr * (y0 - y2) / den


def first_peak_and_min(r, g):
    ip = int(np.argmax(g))
    rp = parabola_vertex(r, g, ip)
    smooth = np.convolve(g, np.ones(3) / 3, mode="same")
    dr = r[1] - r[0]
    lo, hi = ip + 1, min(len(r) - 2, ip + int(round(1.5 / dr)))
    im = lo + int(np.argmin(smooth[lo:hi + 1]))
    rm = parabola_vertex(r, smooth, im) if 0 < im < len(r) - 1 else r[im]
    return rp, float(g[ip]), rm


def running_cn(r, g, rho_b, rc):
    """4 pi rho_b int_0^rc g r^2 dr over the histogram: each bin (centre r_i, width dr) contributes
    rho_b g_i (4/3) pi (r_hi^3 - r_lo^3); the bin holding rc contributes its part below rc."""
    dr = r[1] - r[0]
    lo, hi = r - dr / 2, r + dr / 2
    top = np.clip(hi, None, rc)
    shell = 4.0 / 3.0 * math.pi * np.clip(top ** 3 - lo ** 3, 0, None)
    return float(rho_b * np.sum(g * shell))


def direct_cn(species, frames, a, b, rc):
    species = np.array(species)
    ia, ib = np.where(species == a)[0], np.where(species == b)[0]
    counts = []
    for lat, frac in frames:
        d = frac[ia][:, None, :] - frac[ib][None, :, :]
        d -= np.round(d)
        dist = np.linalg.norm(d @ lat, axis=-1)
        if a == b:
            np.fill_diagonal(dist, np.inf)
        counts.append((dist < rc).sum(axis=1))
    return np.concatenate(counts)


def oxygen_species(species, frames, rc):
    """Fractions of O with 1 Si (non-bridging) and 2 Si (bridging) within rc, and the Q^n distribution
    (n = bridging O around a 4-fold Si), over all frames."""
    species = np.array(species)
    io, isi = np.where(species == "O")[0], np.where(species == "Si")[0]
    nsi, qn = [], []
    for lat, frac in frames:
        d = frac[io][:, None, :] - frac[isi][None, :, :]
        d -= np.round(d)
        bonded = np.linalg.norm(d @ lat, axis=-1) < rc  # (O, Si)
        per_o = bonded.sum(axis=1)
        nsi.append(per_o)
        bridging = per_o == 2
        for j in range(len(isi)):
            if bonded[:, j].sum() == 4:
                qn.append(int(np.sum(bonded[:, j] & bridging)))
    nsi, qn = np.concatenate(nsi), np.array(qn)
    return (float(np.mean(nsi == 1)), float(np.mean(nsi == 2)),
            {n: float(np.mean(qn == n)) for n in range(5)})


def read_rdf(path: Path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    r = np.array([float(x["r"]) for x in rows])
    return r, {k: np.array([float(x[k]) for x in rows]) for k in rows[0] if k != "r"}


def analyse_traj(name, traj, rdf_csv):
    species, frames = read_xdatcar(traj, stride=5)
    vol = float(np.mean([abs(np.linalg.det(lat)) for lat, _ in frames]))
    count = {s: species.count(s) for s in set(species)}
    mass = sum(MASS[s] * c for s, c in count.items())
    r, g = read_rdf(rdf_csv)
    out = {"frames_used": len(frames), "volume_A3": vol, "density_g_cm3": mass / AVOGADRO / (vol * 1e-24)}
    for a, b in PAIRS:
        rp, gmax, rm = first_peak_and_min(r, g[f"g_{a}-{b}"] if f"g_{a}-{b}" in g else g[f"g_{b}-{a}"])
        key = f"{a}{b}"
        out[f"r_{key}"] = rp
        out[f"gmax_{key}"] = gmax
        out[f"rmin_{key}"] = rm
        if a != b or a == "O":
            gg = g[f"g_{a}-{b}"]
            out[f"cn_int_{key}"] = running_cn(r, gg, count[b] / vol, rm)
            cn = direct_cn(species, frames, a, b, rm)
            out[f"cn_{key}"] = float(cn.mean())
            out[f"cn_dist_{key}"] = {int(k): float(np.mean(cn == k)) for k in np.unique(cn)}
    out["nbo_fraction"], out["bo_fraction"], out["Qn"] = oxygen_species(species, frames, out["rmin_SiO"])
    # how much the Li-O coordination number depends on the cutoff
    out["cn_LiO_vs_rc"] = {f"{rc:.1f}": float(direct_cn(species, frames, "Li", "O", rc).mean())
                           for rc in (2.4, 2.6, 2.8, 3.0)}
    return out


def npt_density(csv_path: Path, mass_amu: float):
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    vols = np.array([float(x["volume_A3"]) for x in rows[len(rows) // 2:]])
    temps = np.array([float(x["T_K"]) for x in rows[len(rows) // 2:]])
    pres = np.array([float(x["pressure_GPa"]) for x in rows[len(rows) // 2:]])
    blocks = np.array_split(vols, 10)
    means = np.array([b.mean() for b in blocks])
    v, dv = means.mean(), means.std(ddof=1) / math.sqrt(len(means))
    rho = mass_amu / AVOGADRO / (v * 1e-24)
    return {"volume_A3": v, "volume_err_A3": dv, "density_g_cm3": rho, "density_err_g_cm3": rho * dv / v,
            "T_mean_K": float(temps.mean()), "P_mean_GPa": float(pres.mean()), "samples": len(vols)}


def analyse(work: Path):
    rec = json.loads((work / "run" / "record.json").read_text())
    res = {"natoms": rec["natoms"], "record": {"temperatures": [], "arrhenius": rec.get("arrhenius"),
                                               "melt": rec.get("melt")}}
    for t in rec["temperatures"]:
        res["record"]["temperatures"].append({k: t.get(k) for k in (
            "T_K", "volume_A3", "density_g_cm3", "pressure_GPa", "D_cm2_s", "D_stderr_cm2_s")})
    res["traj"] = {}
    for name, traj in trajectories(work):
        res["traj"][name] = analyse_traj(name, traj, work / f"rdf_{name}.csv")
    if (work / "npt300.csv").exists():
        species, _ = read_xdatcar(work / "npt300.XDATCAR", stride=10 ** 9)
        mass = sum(MASS[s] for s in species)
        res["npt300"] = npt_density(work / "npt300.csv", mass)
    if (work / "quench300.csv").exists():
        res["quench300"] = npt_density(work / "quench300.csv", mass)
    (work / "results.json").write_text(json.dumps(res, indent=1))
    return res


# ----------------------------------------------------------------------------------------------- table
def fmt(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


def lit_cell(key):
    vals = LIT.get(key, [])
    if not vals:
        return "not found", ""
    return "; ".join(v["value"] for v in vals), "; ".join(v["src"] for v in vals)


def table(work: Path):
    res = analyse(work)
    tr = res["traj"]
    g1000 = tr.get("1000K", {})
    g300 = tr.get("300K_npt")
    recT = {int(round(t["T_K"])): t for t in res["record"]["temperatures"]}
    rows = []

    def row(q, ours, key):
        v, s = lit_cell(key) if key else ("", "")
        rows.append(f"| {q} | {ours} | {v} | {s} |")

    dens = []
    if "npt300" in res:
        n = res["npt300"]
        dens.append(f"{n['density_g_cm3']:.3f} ± {n['density_err_g_cm3']:.3f} (300 K, NPT)")
    if "quench300" in res:
        n = res["quench300"]
        dens.append(f"{n['density_g_cm3']:.3f} ± {n['density_err_g_cm3']:.3f} (300 K, NPT, quenched from the melt)")
    if 1000 in recT:
        dens.append(f"{recT[1000]['density_g_cm3']:.3f} (1000 K, MPMorph volume)")
    row("glass density (g/cm³)", "; ".join(dens), "density")
    for key, lab in (("SiO", "Si–O"), ("LiO", "Li–O"), ("OO", "O–O")):
        parts = [f"{g300[f'r_{key}']:.3f} (300 K)"] if g300 else []
        parts.append(f"{g1000[f'r_{key}']:.3f} (1000 K)")
        row(f"{lab} first peak of g(r) (Å)", "; ".join(parts), f"r_{key}")
    for key, lab in (("SiO", "Si–O"), ("LiO", "Li–O")):
        parts = []
        for name, g in (("300 K", g300), ("1000 K", g1000)):
            if g:
                parts.append(f"{g[f'cn_{key}']:.2f} (rc {g[f'rmin_{key}']:.2f} Å, {name})")
        row(f"{lab} coordination number", "; ".join(parts), f"cn_{key}")
    g = g300 or g1000
    qn = "/".join(f"{100 * g['Qn'][n]:.0f}" for n in (2, 3, 4))
    row(f"NBO fraction; Q2/Q3/Q4 (%) ({'300' if g300 else '1000'} K)", f"{g['nbo_fraction']:.3f}; {qn}", "nbo")
    for t in sorted(recT):
        d = recT[t]
        row(f"D_Li at {t} K (cm²/s)", f"{d['D_cm2_s']:.2e} ± {d['D_stderr_cm2_s']:.1e}", "D_Li_melt" if t == 2500 else None)
    a = res["record"]["arrhenius"]
    if a:
        d623 = a["D0_cm2_s"] * math.exp(-a["Ea_eV"] / (8.617333262e-5 * 623.15))
        row("D_Li at 623 K, extrapolated from the 1000–2500 K fit (cm²/s)", f"{d623:.1e}", "D_Li_exp")
        row("Ea of D_Li (eV), fit over 1000–2500 K", f"{a['Ea_eV']:.3f} ± {a['Ea_stderr_eV']:.3f}", "Ea")
    head = ["| quantity | amorph (Pedone, this work) | published | source |", "|---|---|---|---|"]
    text = "\n".join(head + rows)
    (work / "table.md").write_text(text + "\n")
    print(text)
    print()
    print("sources:")
    for k, v in REFERENCES.items():
        print(f"  {k}: {v}")
    print()
    print("structure details:")
    for name, g in tr.items():
        print(f"  {name}: rho {g['density_g_cm3']:.3f} g/cm3 (mean over frames); peaks Si-O {g['r_SiO']:.3f} "
              f"Li-O {g['r_LiO']:.3f} O-O {g['r_OO']:.3f} A; minima Si-O {g['rmin_SiO']:.2f} Li-O "
              f"{g['rmin_LiO']:.2f} O-O {g['rmin_OO']:.2f} A; CN Si-O {g['cn_SiO']:.3f} "
              f"(integral {g['cn_int_SiO']:.3f}), Li-O {g['cn_LiO']:.3f} (integral {g['cn_int_LiO']:.3f}), "
              f"O-O {g['cn_OO']:.2f}; Si(4) fraction {g['cn_dist_SiO'].get(4, 0):.3f}; NBO {g['nbo_fraction']:.3f}"
              f"; Q2/Q3/Q4 {g['Qn'][2]:.3f}/{g['Qn'][3]:.3f}/{g['Qn'][4]:.3f}"
              f"; Li-O CN vs rc {json.dumps({k: round(v, 2) for k, v in g['cn_LiO_vs_rc'].items()})}"
              f"; Li-O CN distribution {json.dumps({k: round(v, 3) for k, v in g['cn_dist_LiO'].items()})}")
    if "quench300" in res:
        n = res["quench300"]
        print(f"  NPT 300 K after NPT quench from the melt: V {n['volume_A3']:.1f} ± {n['volume_err_A3']:.1f} A3, "
              f"rho {n['density_g_cm3']:.3f}, <T> {n['T_mean_K']:.0f} K, <P> {n['P_mean_GPa']:+.3f} GPa")
    if "npt300" in res:
        n = res["npt300"]
        print(f"  NPT 300 K: V {n['volume_A3']:.1f} ± {n['volume_err_A3']:.1f} A3 over {n['samples']} samples, "
              f"<T> {n['T_mean_K']:.0f} K, <P> {n['P_mean_GPa']:+.3f} GPa")
    for t in res["record"]["temperatures"]:
        print(f"  record T {t['T_K']:.0f} K: V {t['volume_A3']:.1f} A3, rho {t['density_g_cm3']:.3f}, "
              f"<P> {t['pressure_GPa']:+.2f} GPa, D {t['D_cm2_s']:.3e} +- {t['D_stderr_cm2_s']:.1e}")
    if a:
        print(f"  Arrhenius: Ea {a['Ea_eV']:.4f} +- {a['Ea_stderr_eV']:.4f} eV, D0 {a['D0_cm2_s']:.3e}, "
              f"D(300 K) {a['D_300K_cm2_s']:.2e} cm2/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run", "table"])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--atoms", type=int, default=198)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--npt-steps", type=int, default=20000)
    ap.add_argument("--quench-steps", type=int, default=30000, help="3000 K -> 300 K NPT quench; 0 skips it")
    args = ap.parse_args()
    if args.mode == "run":
        run(args.workdir, args.atoms, args.seed, args.npt_steps, args.quench_steps)
    table(args.workdir)


if __name__ == "__main__":
    sys.exit(main())
