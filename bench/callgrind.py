#!/usr/bin/env python3
"""User-space instructions per message of an echo server, counted by callgrind.

    python3 bench/callgrind.py [-C build-release] [--server echo-afxsock] [--scenario pingpong]
    python3 bench/callgrind.py -C build-release --server echo-tls-afxsock --scenario tls-echo-64

Runs the server under `valgrind --tool=callgrind` twice, driven by bench/loadgen for a short
and a long time, and divides the difference in instructions by the difference in messages:
what the start, the connection set-up and the exit cost cancels out. Instructions, unlike
seconds, repeat from run to run, so this is the figure a change on the hot path quotes
(docs/performance.md). Loopback only, port 0. The tls-* scenarios drive a TLS echo server
(echo-tls-*) with bench/loadgen-tls, with certificates from tools/make-test-certs.sh in a
temporary directory; tls-handshakes counts per full handshake.
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
    "tls-echo-64": ["--connections", "100", "--depth", "4", "--size", "64"],
    "tls-echo-1024": ["--connections", "100", "--depth", "4", "--size", "1024"],
    "tls-handshakes": ["--connections", "16", "--handshakes"],
}


def run_once(args, seconds, workdir):
    out_file = os.path.join(workdir, f"callgrind.{seconds}")
    tls = args.scenario.startswith("tls-")
    certs = ["--cert", os.path.join(workdir, "server.pem"),
             "--key", os.path.join(workdir, "server.key")] if tls else []
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
         os.path.join(args.build_dir, "bench", args.server), "--port", "0", *certs,
         *args.server_arg],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        line = server.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "port":
            raise RuntimeError(f"{args.server} did not announce its port")
        loadgen = subprocess.run(
            [os.path.join(args.build_dir, "bench", "loadgen-tls" if tls else "loadgen"),
             "--port", line[1], "--setup-timeout", "60",
             "--warmup", "0", "--duration", str(seconds)] + SCENARIOS[args.scenario]
            + (["--framed"] if args.framed else []),
            capture_output=True, check=True, timeout=seconds + 120)
        messages = json.loads(loadgen.stdout)["connects" if args.scenario == "tls-handshakes"
                                               else "messages"]
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
    parser.add_argument("--server-arg", action="append", default=[],
                        help="one more argument for the server (e.g. --lent); repeatable")
    parser.add_argument("--short", type=float, default=1.0, help="seconds of the short run")
    parser.add_argument("--long", type=float, default=3.0, help="seconds of the long run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        if args.scenario.startswith("tls-"):
            subprocess.run(["sh", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                               "tools", "make-test-certs.sh"), workdir],
                           check=True, capture_output=True, timeout=60)
        ir_short, msgs_short = run_once(args, args.short, workdir)
        ir_long, msgs_long = run_once(args, args.long, workdir)
    if msgs_long <= msgs_short:
        sys.exit("callgrind.py: the long run echoed no more messages than the short one")
    per_message = (ir_long - ir_short) / (msgs_long - msgs_short)
    unit = "handshake" if args.scenario == "tls-handshakes" else "message"
    print(f"{args.server} {args.scenario}: {per_message:.0f} instructions per {unit} "
          f"({msgs_short} and {msgs_long} messages)")


if __name__ == "__main__":
    main()
