"""Overhead of the i-PI socket server: amorph versus i-PI itself (PyPI `ipi`), same trivial client.

The client (this script with --client) speaks the protocol over a UNIX socket and returns zero energy,
forces and virial at once, so the step rate measures the server: its protocol handling, its integrator and
its polling. Both servers run NVE molecular dynamics of the same 108 argon atoms (fcc, 1 fs):

- amorph: `amorph md ar108.vasp --calculator ipi:unix:NAME --ensemble nve --steps N` (rate from the
  "N steps ... in T s" line amorph prints, which covers the run only);
- i-PI: an `ffsocket` (mode unix, latency 1e-4 s, i-PI's default) driving `dynamics mode='nve'` through
  `ipi.scripting.InteractiveSimulation`, timed over `run(N)` after a first step that waits for the client.

    /work/.venv-peers/bin/python validation/ipi_bench.py [--steps 2000] [--amorph target/release/amorph]

Prints steps/s, CPU seconds (server process, client process) and the ratio. Run on a quiet machine for
numbers worth recording; under load, compare the two within one run only.
"""

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
HDR = 12


def hdr(name):
    return name.ljust(HDR).encode()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def client(name, wait=120.0):
    """The trivial client: zero energy, forces and virial."""
    path = f"/tmp/ipi_{name}"
    t0 = time.time()
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.time() - t0 > wait:
                sys.exit(f"no server at {path}")
            time.sleep(0.01)
    have = False
    natoms = 0
    try:
        while True:
            msg = recv_exact(s, HDR).decode().strip()
            if msg == "STATUS":
                s.sendall(hdr("HAVEDATA" if have else "READY"))
            elif msg == "INIT":
                _, n = np.frombuffer(recv_exact(s, 8), np.int32)
                recv_exact(s, int(n))
            elif msg == "POSDATA":
                recv_exact(s, 144)
                natoms = int(np.frombuffer(recv_exact(s, 4), np.int32)[0])
                recv_exact(s, 24 * natoms)
                have = True
            elif msg == "GETFORCE":
                out = hdr("FORCEREADY") + np.float64(0.0).tobytes() + np.int32(natoms).tobytes()
                out += np.zeros(3 * natoms + 9).tobytes() + np.int32(0).tobytes()
                s.sendall(out)
                have = False
            elif msg == "EXIT":
                break
            else:
                sys.exit(f"client: unexpected message {msg!r}")
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pass


def argon(path):
    from ase.build import bulk
    from ase.io import write

    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((3, 3, 3))
    write(path, atoms, format="vasp", direct=True)
    return atoms


def start_client(name):
    return subprocess.Popen([sys.executable, __file__, "--client", name])


def bench_amorph(amorph, structure, steps, name):
    client_proc = start_client(name)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([amorph, "md", str(structure), "--calculator", f"ipi:unix:{name}", "--ensemble", "nve",
                          "--temperature", "50", "--timestep", "1", "--steps", str(steps), "--every", str(steps)],
                         capture_output=True, text=True)
    client_proc.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(out.stderr)
    m = re.search(r"(\d+) steps of (\d+) atoms in ([0-9.]+) s", out.stderr)
    secs = float(m.group(3))
    return {"steps": steps, "run_s": secs, "steps_per_s": steps / secs,
            "cpu_user_s_server_plus_client": round(after.ru_utime - before.ru_utime, 3)}


def bench_ipi(atoms, steps, name, workdir):
    from ipi.scripting import InteractiveSimulation, forcefield_xml, simulation_xml

    ff = forcefield_xml("bench", mode="unix", address=name, latency=1e-4)
    motion = """<motion mode='dynamics'><dynamics mode='nve'>
<timestep units='femtosecond'> 1.0 </timestep></dynamics></motion>"""
    output = "<output prefix='bench'><properties stride='1000000'> [ step ] </properties></output>"
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        xml = simulation_xml(atoms, ff, motion, temperature=None, output=output, safe_stride=1000000)
        sim = InteractiveSimulation(xml)
        client_proc = start_client(name)
        sim.run(1, write_outputs=False)  # waits for the client
        c0, t0 = time.process_time(), time.perf_counter()
        sim.run(steps, write_outputs=False)
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
        sim.stop() if hasattr(sim, "stop") else None
    finally:
        os.chdir(cwd)
    client_proc.kill()
    client_proc.wait()
    return {"steps": steps, "run_s": secs, "steps_per_s": steps / secs, "cpu_s_server": round(cpu, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--ipi-steps", type=int, default=None, help="steps for i-PI (default: --steps)")
    ap.add_argument("--amorph", default=str(REPO / "target/debug/amorph"))
    args = ap.parse_args()
    if args.client:
        client(args.client)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        atoms = argon(tmp / "ar108.vasp")
        ours = bench_amorph(args.amorph, tmp / "ar108.vasp", args.steps, f"bench_amorph_{os.getpid()}")
        theirs = bench_ipi(atoms, args.ipi_steps or args.steps, f"bench_ipi_{os.getpid()}", tmp)
    print(json.dumps({"amorph": ours, "i-PI": theirs,
                      "ratio_steps_per_s": ours["steps_per_s"] / theirs["steps_per_s"]}, indent=2))
    os._exit(0)  # i-PI leaves non-daemon threads behind


if __name__ == "__main__":
    main()
