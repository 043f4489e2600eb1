"""Drive amorph with CHGNet (a universal machine-learned potential) through the i-PI socket protocol.

amorph is the server (it integrates the dynamics); this script is the client: ASE's SocketClient with
CHGNet's ASE calculator, which returns energy, forces and stress for every configuration amorph sends.

    pip install chgnet                      # ships its pretrained weights; pulls in PyTorch and ASE
    amorph md Li2S.vasp --calculator ipi:unix:chgnet --ipi-units ase \\
        --temperature 3000 --steps 500 --timestep 2 --traj melt.extxyz &
    python examples/ipi_chgnet.py Li2S.vasp --unix chgnet

or over TCP (`--calculator ipi:tcp:localhost:31415` and `--host localhost --port 31415`). Start amorph first
(it creates the socket and waits up to --ipi-wait seconds); the script exits when amorph finishes.

The structure file must be the one amorph runs (the protocol carries positions, not species: the atom
order and species come from this file). `--ipi-units ase` makes amorph use ASE's Bohr and Hartree, so
the unit conversions on both sides cancel exactly.
"""

import argparse
import sys
import time

from ase.calculators.socketio import SocketClient
from ase.io import read


def chgnet_calculator(model, device):
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(model=CHGNet.load(model_name=model), use_device=device)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("structure", help="the structure file amorph runs (same atoms, same order)")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", metavar="NAME", help="UNIX socket /tmp/ipi_NAME (amorph: ipi:unix:NAME)")
    where.add_argument("--port", type=int, help="TCP port (amorph: ipi:tcp:HOST:PORT)")
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--model", default="0.3.0", help="CHGNet pretrained model version")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-stress", action="store_true", help="do not compute the stress (virial sent as zero)")
    ap.add_argument("--wait", type=float, default=60.0, help="seconds to retry connecting")
    args = ap.parse_args()

    atoms = read(args.structure)
    atoms.calc = chgnet_calculator(args.model, args.device)
    start = time.time()
    while True:
        try:
            if args.unix:
                client = SocketClient(unixsocket=args.unix)
            else:
                client = SocketClient(host=args.host, port=args.port)
            break
        except OSError as e:
            if time.time() - start > args.wait:
                sys.exit(f"cannot connect to amorph: {e}")
            time.sleep(0.2)
    client.run(atoms, use_stress=not args.no_stress)


if __name__ == "__main__":
    main()
