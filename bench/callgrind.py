#!/usr/bin/env python3
"""User-space instructions per message of an echo server, counted by callgrind.

    python3 bench/callgrind.py [-C build-release] [--server echo-afxsock] [--scenario pingpong]

Runs the server under `valgrind --tool=callgrind` twice, driven by bench/loadgen for a short
and a long time, and divides the difference in instructions by the difference in messages:
what the start, the connection set-up and the exit cost cancels out. Instructions, unlike
seconds, repeat from run to run, so this is the figure a change on the hot path quotes
(docs/performance.md). Loopback only, port 0.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

SCENARIOS = {
    "pingpong": ["--connections", "1", "--depth", "1", "--size", "64"],
    "pipelined": ["--connections", "100", "--depth", "4", "--size", "64"],
}


def run_once(args, seconds, workdir):
    out_file = os.path.join(workdir, f"callgrind.{seconds}")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
         os.path.join(args.build_dir, "bench", args.server), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        line = server.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "port":
            raise RuntimeError(f"{args.server} did not announce its port")
        loadgen = subprocess.run(
            [os.path.join(args.build_dir, "bench", "loadgen"), "--port", line[1],
             "--warmup", "0", "--duration", str(seconds)] + SCENARIOS[args.scenario]
            + (["--framed"] if args.framed else []),
            capture_output=True, check=True, timeout=seconds + 120)
        messages = json.loads(loadgen.stdout)["messages"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    with open(out_file) as f:
        totals = [int(m.group(1)) for m in re.finditer(r"^(?:summary|totals): (\d+)", f.read(),
                                                      re.M)]
    return totals[-1], messages


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-C", "--build-dir", default="build")
    parser.add_argument("--server", default="echo-afxsock")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="pingpong")
    parser.add_argument("--framed", action="store_true", help="records (4-byte length frames)")
    parser.add_argument("--short", type=float, default=1.0, help="seconds of the short run")
    parser.add_argument("--long", type=float, default=3.0, help="seconds of the long run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        ir_short, msgs_short = run_once(args, args.short, workdir)
        ir_long, msgs_long = run_once(args, args.long, workdir)
    if msgs_long <= msgs_short:
        sys.exit("callgrind.py: the long run echoed no more messages than the short one")
    per_message = (ir_long - ir_short) / (msgs_long - msgs_short)
    print(f"{args.server} {args.scenario}: {per_message:.0f} instructions per message "
          f"({msgs_short} and {msgs_long} messages)")


if __name__ == "__main__":
    main()
