#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the afxsock benchmark suite and prints one table per scenario.

    python3 bench/run.py -C BUILDDIR [--short] [--only SCENARIO,...] [--servers NAME,...]

Every echo server is started on 127.0.0.1 (port 0), driven by bench/loadgen, and stopped;
each figure is also given as a ratio to the plain epoll loop measured in the same run (for
the archive: to memcpy). The TLS scenarios (tls-*) drive the TLS echo servers with
bench/loadgen-tls, with certificates made by tools/make-test-certs.sh in a temporary
directory, and give each figure as a ratio to the OpenSSL + epoll loop of the same run. Benchmarks are not tests: nothing here fails on a slow figure. The
exit status is non-zero only when a program of the suite is missing or breaks; the io_uring
loop (echo-uring) is optional and left out with a note where it is not built or io_uring is
not allowed.

Every child process is bounded: the load generator stops by itself, each server is killed
when its scenario ends (and ends itself after 15 minutes whatever happens), and all of them
are killed if this driver is interrupted.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# name, executable, whether the load generator frames messages (records server)[, arguments]
SERVERS = [
    ("epoll", "echo-epoll", False),
    ("uring", "echo-uring", False),
    ("afxsock", "echo-afxsock", False),
    # echo-afxsock's connection class served by a CSocketService on 1 and 2 threads
    ("afxsock-service-1", "echo-afxsock", False, ("--service", "1")),
    ("afxsock-service-2", "echo-afxsock", False, ("--service", "2")),
    ("afxsock-records", "echo-afxsock-records", True),
    # the same, its records lent to on_record_data (no GBytes, no copy)
    ("afxsock-records-lent", "echo-afxsock-records", True, ("--lent",)),
    ("libuv", "echo-libuv", False),
    ("libevent", "echo-libevent", False),
    ("gio", "echo-gio", False),
]

# Servers that may be missing: echo-uring is built only where liburing is found, and exits
# with status 77 where io_uring is not allowed (seccomp, kernel.io_uring_disabled). They are
# left out with a note, not counted as broken.
OPTIONAL_SERVERS = {"uring"}
UNAVAILABLE = 77

# The TLS servers: name, executable. The OpenSSL + epoll loop is the base of every ratio.
TLS_BASE = "openssl-epoll"
TLS_SERVERS = [
    (TLS_BASE, "echo-tls-epoll", False),
    ("afxsock", "echo-tls-afxsock", False),
    ("gio", "echo-tls-gio", False),
    ("libevent", "echo-tls-libevent", False),
]

TLS_SCENARIOS = ["tls-echo", "tls-bulk", "tls-handshakes", "tls-memory"]
SCENARIOS = ["pingpong", "pipelined", "idle", "bulk", "accept", "memory", "archive"] + TLS_SCENARIOS

FULL = {
    "warmup": 0.3,
    "duration": 1.2,
    "idle": 10000,
    "idle_setup": 5.0,
    "bulk_bytes": 1 << 30,
    "bulk_seconds": 30.0,
    "archive_seconds": 1.0,
    "rounds": 5,  # ping-pong and pipelined; the longer scenarios run 3
    "long_rounds": 3,
    "bulk_rounds": 5,  # bimodal: the best of five
    "tls_setup": 20.0,  # handshakes of the echo connections (GIO's take seconds)
    "tls_bulk_bytes": 512 << 20,
    "tls_idle": 1000,
    "tls_idle_setup": 40.0,
}
SHORT = {
    "warmup": 0.1,
    "duration": 0.3,
    "idle": 1000,
    "idle_setup": 3.0,
    "bulk_bytes": 64 << 20,
    "bulk_seconds": 5.0,
    "archive_seconds": 0.05,
    "rounds": 1,
    "long_rounds": 1,
    "bulk_rounds": 1,
    "tls_setup": 10.0,
    "tls_bulk_bytes": 32 << 20,
    "tls_idle": 100,
    "tls_idle_setup": 10.0,
}

children = []


def kill_children(*_):
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()
    children.clear()


def cpus():
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:
        return []


def fifo_allowed():
    """Whether this process may give its children the SCHED_FIFO policy."""
    try:
        child = os.fork()
    except OSError:
        return False
    if child == 0:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            os._exit(0)
        except (OSError, AttributeError):
            os._exit(1)
    _, status = os.waitpid(child, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def pinned(cpu, fifo):
    """A preexec function that pins the child to one CPU and, with @fifo, runs it under
    SCHED_FIFO (None: leave it alone)."""
    if cpu is None and not fifo:
        return None

    def setup():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        if fifo:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))

    return setup


class Server:
    """An echo server process, from start to kill."""

    def __init__(self, path, cpu, fifo, verbose, extra=()):
        # A server's own messages (afxsock logs each connection it closes itself, and the
        # load generator leaves with messages in flight) are noise unless asked for.
        self.process = subprocess.Popen(
            [path, "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            stderr=None if verbose else subprocess.DEVNULL,
            preexec_fn=pinned(cpu, fifo),
        )
        children.append(self.process)
        line = self.process.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "port":
            self.stop()
            raise RuntimeError(f"{path} did not announce its port")
        self.port = int(line[1])
        self.pid = self.process.pid

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process in children:
            children.remove(self.process)


def unavailable(args, executable):
    """Why an optional server cannot run here, or None when it announces its port."""
    path = os.path.join(args.bench_dir, executable)
    if not os.path.exists(path):
        return f"{executable} not built"
    process = subprocess.Popen([path, "--port", "0"], stdout=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children.append(process)
    try:
        if process.stdout.readline().decode().startswith("port "):
            return None
        process.wait(timeout=5)
        if process.returncode == UNAVAILABLE:
            return process.stderr.read().decode().strip() or f"{executable}: not available here"
        return None  # broken, not unavailable: its scenarios report the error
    except subprocess.TimeoutExpired:
        return None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        children.remove(process)


def run_loadgen(args, loadgen, server, extra, cpu, fifo, timeout):
    command = [loadgen, "--port", str(server.port), "--pid", str(server.pid)] + extra
    if args.verbose:
        print("  $", " ".join(command), file=sys.stderr)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=pinned(cpu, fifo)
    )
    children.append(process)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError("the load generator overran its time")
    finally:
        if process in children:
            children.remove(process)
    if process.returncode != 0:
        raise RuntimeError(f"loadgen exited with {process.returncode}")
    return json.loads(out)


def loadgen_arguments(scenario, framed, p):
    common = ["--warmup", str(p["warmup"]), "--duration", str(p["duration"])]
    framing = ["--framed"] if framed else []
    if scenario == "pingpong":
        return common + framing + ["--connections", "1", "--depth", "1", "--size", "64"]
    if scenario == "pipelined":
        return common + framing + ["--connections", "100", "--depth", "4", "--size", "64"]
    if scenario == "idle":
        return (
            common
            + framing
            + ["--connections", "10", "--depth", "4", "--size", "64"]
            + ["--idle", str(p["idle"]), "--setup-timeout", str(p["idle_setup"])]
        )
    if scenario == "bulk":
        return framing + [
            "--connections", "1", "--depth", "16", "--size", str(64 * 1024),
            "--total-bytes", str(p["bulk_bytes"]), "--duration", str(p["bulk_seconds"]),
            "--warmup", "0",
        ]
    if scenario == "accept":
        return common + ["--accept", "--connections", "32"]
    if scenario in ("tls-echo-64", "tls-echo-1024"):
        return common + ["--connections", "100", "--depth", "4", "--setup-timeout",
                         str(p["tls_setup"]), "--size", scenario.split("-")[-1]]
    if scenario == "tls-bulk":
        return [
            "--connections", "1", "--depth", "16", "--size", str(64 * 1024),
            "--total-bytes", str(p["tls_bulk_bytes"]), "--duration", str(p["bulk_seconds"]),
            "--warmup", "0", "--setup-timeout", str(p["tls_setup"]),
        ]
    if scenario == "tls-handshakes":
        return common + ["--handshakes", "--connections", "16"]
    if scenario == "tls-memory":
        return ["--idle", str(p["tls_idle"]), "--size", "64",
                "--setup-timeout", str(p["tls_idle_setup"])]
    raise ValueError(scenario)


def time_allowed(scenario, p):
    if scenario == "tls-memory":
        return p["tls_idle_setup"] + 30
    if scenario == "tls-bulk":
        return p["tls_setup"] + p["bulk_seconds"] + 30
    if scenario.startswith("tls-echo"):
        return p["tls_setup"] + 2 * p["warmup"] + p["duration"] + 30
    if scenario == "bulk":
        return p["bulk_seconds"] + 30
    if scenario == "idle":
        return p["idle_setup"] + 2 * p["warmup"] + p["duration"] + 30
    return 2 * p["warmup"] + p["duration"] + 30


def measure_once(args, scenario, server_spec, p, placement):
    name, executable, framed = server_spec[:3]
    extra = server_spec[3] if len(server_spec) > 3 else ()
    server_cpu, loadgen_cpu, fifo = placement
    tls = scenario.startswith("tls-")
    path = os.path.join(args.bench_dir, executable)
    if not os.path.exists(path):
        return {"error": f"not built ({executable})"}
    try:
        server = Server(path, server_cpu, fifo, args.verbose,
                        tls_server_arguments(args) if tls else extra)
    except RuntimeError as error:
        return {"error": str(error)}
    try:
        result = run_loadgen(
            args, os.path.join(args.bench_dir, "loadgen-tls" if tls else "loadgen"), server,
            loadgen_arguments(scenario, framed, p), loadgen_cpu, fifo, time_allowed(scenario, p),
        )
    except (RuntimeError, ValueError) as error:
        return {"error": str(error)}
    finally:
        server.stop()
    before, after, opened = (result.get(k) for k in ("rss_before_kb", "rss_after_kb", "idle_open"))
    if scenario == "tls-memory" and result.get("idle_synced") and opened and before >= 0:
        result["bytes_per_conn"] = (after - before) * 1024 / opened
    return result


def tls_server_arguments(args):
    return ["--cert", os.path.join(args.certs, "server.pem"),
            "--key", os.path.join(args.certs, "server.key")]


def measure(args, scenario, servers, p, placement, key, rounds, best=False):
    """Runs one network scenario on every server, @rounds times interleaved (so that a slow
    spell of the machine hits every server alike), and keeps for each server the round
    whose @key is the median (with @best, the highest). Returns {server: result}, each with
    the spread of @key."""
    runs = {}
    for _ in range(rounds):
        for spec in servers:
            name, framed = spec[0], spec[2]
            if scenario == "accept" and framed:
                continue  # accepting is the same code path as the raw server's
            previous = runs.get(name, [])
            if previous and (("error" in previous[0]) or not served(previous[0])):
                continue  # a server that failed or served nothing once is not run again
            runs.setdefault(name, []).append(measure_once(args, scenario, spec, p, placement))
    results = {}
    for name, attempts in runs.items():
        good = [r for r in attempts if "error" not in r and r.get(key, -1) is not None
                and r.get(key, -1) >= 0]
        if not good:
            results[name] = attempts[0]
            continue
        good.sort(key=lambda r: r[key])
        chosen = dict(good[-1] if best else good[len(good) // 2])
        values = [r[key] for r in good]
        middle = chosen[key]
        chosen["spread"] = (max(values) - min(values)) / 2 / middle if middle else 0
        chosen["rounds"] = len(good)
        results[name] = chosen
    return results


def served(result):
    return (result.get("messages", 0) > 0 or result.get("connects", 0) > 0
            or result.get("idle_open", 0) > 0)


# Tables


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(value, base):
    if value is None or base in (None, 0) or value < 0 or base < 0:
        return "—"
    return f"{value / base:.2f}×"


def print_table(title, header, rows, note=None):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    if note:
        print(f"\n{note}")
    sys.stdout.flush()


def get(result, key):
    if "error" in result:
        return None
    value = result.get(key)
    return None if value is None or value < 0 else value


def status(result):
    if "error" in result:
        return result["error"]
    notes = []
    if not result.get("idle_synced", True):
        notes.append(f"had not accepted the idle connections after {result.get('setup_s', 0):.0f} s: "
                     "not measured")
    elif (result.get("messages", 1) == 0 and result.get("connects", 1) == 0
          and result.get("idle_open", 0) == 0):
        notes.append("served nothing")
    if result.get("errors"):
        notes.append(f"{result['errors']} errors")
    return "; ".join(notes) or "ok"


def spread(result):
    if "spread" not in result or result.get("rounds", 1) < 2:
        return "—"
    return f"±{100 * result['spread']:.0f}%"


def table_echo(title, results, main_key, main_label, digits=1, note=None, base_name="epoll"):
    epoll = results.get(base_name, {"error": ""})
    base = get(epoll, main_key)
    cpu_base = get(epoll, "cpu_per_op_ns")
    rows = []
    for name, result in results.items():
        value = get(result, main_key)
        cpu = get(result, "cpu_per_op_ns")
        row = [name, fmt(value, digits), ratio(value, base), spread(result),
               fmt(get(result, "rate"))]
        if main_key != "p50_us":
            row.append(fmt(get(result, "p50_us"), 1))
        row.append(fmt(get(result, "p99_us"), 1))
        if main_key != "cpu_per_op_ns":
            row += [fmt(cpu), ratio(cpu, cpu_base)]
        rows.append(row + [status(result)])
    short = "loop" if base_name == TLS_BASE else base_name
    header = ["server", main_label, f"× {short}", "spread", "msg/s"]
    if main_key != "p50_us":
        header.append("p50 µs")
    header.append("p99 µs")
    if main_key != "cpu_per_op_ns":
        header += ["CPU ns/msg", f"CPU × {short}"]
    print_table(title, header + ["notes"], rows, note)


def table_bulk(results, p):
    base = get(results.get("epoll", {"error": ""}), "bytes")
    base_s = get(results.get("epoll", {"error": ""}), "seconds")
    base_cpu = get(results.get("epoll", {"error": ""}), "server_cpu_s")
    rows = []
    for name, result in results.items():
        moved, seconds, cpu = get(result, "bytes"), get(result, "seconds"), get(result, "server_cpu_s")
        rate = moved / seconds / 1e9 if moved and seconds else None
        base_rate = base / base_s / 1e9 if base and base_s else None
        per_gib = cpu / (moved / (1 << 30)) if cpu is not None and moved else None
        base_per_gib = base_cpu / (base / (1 << 30)) if base_cpu is not None and base else None
        rows.append([name, fmt(rate, 2), ratio(rate, base_rate), fmt(per_gib, 3),
                     ratio(per_gib, base_per_gib), status(result)])
    size = p["bulk_bytes"] >> 20
    print_table(
        f"Bulk: {size} MiB streamed through the echo server on one connection "
        f"(best of {p['bulk_rounds']})",
        ["server", "GB/s", "× epoll", "server CPU s/GiB", "CPU × epoll", "notes"], rows,
        "Target: afxsock ≥ 0.95× the epoll loop's throughput. Each server echoes the stream "
        "back, so both directions cross it.",
    )


def table_accept(results):
    base = get(results.get("epoll", {"error": ""}), "rate")
    cpu_base = get(results.get("epoll", {"error": ""}), "cpu_per_op_ns")
    rows = []
    for name, result in results.items():
        rate, cpu = get(result, "rate"), get(result, "cpu_per_op_ns")
        rows.append([name, fmt(rate), ratio(rate, base), fmt(cpu), ratio(cpu, cpu_base),
                     status(result)])
    print_table(
        "Accept rate: connections per second, each closed by the client at once (32 in flight)",
        ["server", "conn/s", "× epoll", "CPU ns/conn", "CPU × epoll", "notes"], rows,
        "With server and load generator on one CPU the rate is mostly the load generator's "
        "and the kernel's; the server's CPU per connection is the figure that tells them apart.",
    )


def table_memory(results):
    rows = []
    base = None
    per = {}
    for name, result in results.items():
        before, after = get(result, "rss_before_kb"), get(result, "rss_after_kb")
        opened = get(result, "idle_open")
        if before is not None and after is not None and opened and result.get("idle_synced"):
            per[name] = (after - before) * 1024 / (opened + 1)
    base = per.get("epoll")
    for name, result in results.items():
        value = per.get(name)
        rows.append([name, fmt(value, 0), ratio(value, base) if base and base > 0 else "—",
                     fmt(get(result, "idle_open"), 0), status(result)])
    print_table(
        "Memory: server RSS growth per idle connection (VmRSS delta / connections)",
        ["server", "bytes/conn", "× epoll", "idle conns", "notes"], rows,
        "Target: afxsock ≤ 512 B per idle connection. Kernel socket memory is not in RSS.",
    )


def table_tls_bulk(results, p):
    base = results.get(TLS_BASE, {"error": ""})
    base_rate = tls_bulk_rate(base)
    base_cpu = tls_bulk_cpu(base)
    rows = []
    for name, result in results.items():
        rate, cpu = tls_bulk_rate(result), tls_bulk_cpu(result)
        rows.append([name, fmt(rate, 3), ratio(rate, base_rate), fmt(cpu, 3),
                     ratio(cpu, base_cpu), status(result)])
    print_table(
        f"TLS bulk: {p['tls_bulk_bytes'] >> 20} MiB streamed through the TLS echo server on one "
        f"connection (best of {p['bulk_rounds']})",
        ["server", "GB/s", "× loop", "server CPU s/GiB", "CPU × loop", "notes"], rows,
        "Target: afxsock ≥ 0.9× the OpenSSL loop's throughput. The server decrypts and "
        "encrypts every byte.",
    )


def tls_bulk_rate(result):
    moved, seconds = get(result, "bytes"), get(result, "seconds")
    return moved / seconds / 1e9 if moved and seconds else None


def tls_bulk_cpu(result):
    moved, cpu = get(result, "bytes"), get(result, "server_cpu_s")
    return cpu / (moved / (1 << 30)) if cpu is not None and moved else None


def table_tls_handshakes(results):
    base = get(results.get(TLS_BASE, {"error": ""}), "rate")
    cpu_base = get(results.get(TLS_BASE, {"error": ""}), "cpu_per_op_ns")
    rows = []
    for name, result in results.items():
        rate, cpu = get(result, "rate"), get(result, "cpu_per_op_ns")
        rows.append([name, fmt(rate), ratio(rate, base), spread(result),
                     fmt(cpu / 1000 if cpu is not None else None), ratio(cpu, cpu_base),
                     status(result)])
    print_table(
        "TLS handshakes: full handshakes per second (TLS 1.3, X25519, ECDSA P-256; 16 in "
        "flight, each connection closed once its handshake is done)",
        ["server", "handshakes/s", "× loop", "spread", "CPU µs/handshake", "CPU × loop",
         "notes"], rows,
        "Target: afxsock ≥ 0.9× the OpenSSL loop's handshakes per second. Server and client "
        "share one CPU: the rate is both sides' work, the server's CPU per handshake its own.",
    )


def table_tls_memory(results, p):
    base = get(results.get(TLS_BASE, {"error": ""}), "bytes_per_conn")
    rows = []
    for name, result in results.items():
        value = get(result, "bytes_per_conn")
        rows.append([name, fmt(value, 0), ratio(value, base), spread(result),
                     fmt(get(result, "idle_open"), 0), status(result)])
    print_table(
        f"TLS memory: server RSS growth per idle TLS connection ({p['tls_idle']:,} connections, "
        "each after its handshake and one 64 B echo)",
        ["server", "bytes/conn", "× loop", "spread", "idle conns", "notes"], rows,
        "Target: afxsock ≤ 1.5× the OpenSSL loop's (which sets SSL_MODE_RELEASE_BUFFERS). "
        "Kernel socket memory is not in RSS.",
    )


def tls_targets(raw):
    """The issue's TLS targets, each as afxsock's ratio and whether it is met."""
    def ratio_of(scenario, key, peer):
        results = raw.get(scenario, {})
        mine = get(results.get("afxsock", {"error": ""}), key)
        theirs = get(results.get(peer, {"error": ""}), key)
        return mine / theirs if mine is not None and theirs else None

    rows = []  # scenario, target, afxsock's ratio, whether it is met
    for scenario, label in (("tls-echo-64", "64 B"), ("tls-echo-1024", "1 KiB")):
        for peer, limit in ((TLS_BASE, 1.10), ("gio", 0.70)):
            value = ratio_of(scenario, "cpu_per_op_ns", peer)
            rows.append((scenario, f"echo {label}: CPU/msg ≤ {limit:.2f}× {peer}", value,
                         value is not None and value <= limit))
    bulk = raw.get("tls-bulk", {})
    rate = tls_bulk_rate(bulk.get("afxsock", {"error": ""}))
    base = tls_bulk_rate(bulk.get(TLS_BASE, {"error": ""}))
    value = rate / base if rate and base else None
    rows.append(("tls-bulk", "bulk ≥ 0.90× the loop's GB/s", value,
                 value is not None and value >= 0.9))
    value = ratio_of("tls-handshakes", "rate", TLS_BASE)
    rows.append(("tls-handshakes", "handshakes/s ≥ 0.90× the loop's", value,
                 value is not None and value >= 0.9))
    value = ratio_of("tls-memory", "bytes_per_conn", TLS_BASE)
    rows.append(("tls-memory", "idle memory ≤ 1.50× the loop's", value,
                 value is not None and value <= 1.5))
    table = [[label, "—" if value is None else f"{value:.2f}×",
              "not measured" if value is None else ("met" if met else "missed")]
             for scenario, label, value, met in rows if scenario in raw]
    if table:
        print_table("TLS targets (afxsock against its peers in this run)",
                    ["target", "afxsock", "verdict"], table)


def run_tls(args, scenarios, servers, p, placement, raw):
    """The TLS scenarios, with certificates made for this run in a temporary directory."""
    if not os.path.exists(os.path.join(args.bench_dir, "loadgen-tls")):
        print(f"\n(TLS scenarios skipped: no {args.bench_dir}/loadgen-tls)")
        return
    missing = [name for name, executable, _ in servers
               if not os.path.exists(os.path.join(args.bench_dir, executable))]
    if missing:
        # Optional peers (echo-tls-libevent needs libevent_openssl) are left out, not failed.
        print(f"\n(TLS peers not built, left out: {', '.join(missing)})")
        servers = [s for s in servers if s[0] not in missing]
    make_certs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                              "make-test-certs.sh")
    args.certs = tempfile.mkdtemp(prefix="afxsock-bench-certs-")
    try:
        subprocess.run(["sh", make_certs, args.certs], check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
        rounds = p["rounds"]
        if "tls-echo" in scenarios:
            for size, label in ((64, "64 B"), (1024, "1 KiB")):
                key = f"tls-echo-{size}"
                raw[key] = r = measure(args, key, servers, p, placement, "cpu_per_op_ns", rounds)
                table_echo(f"TLS echo: 100 connections × depth 4, {label} messages", r,
                           "cpu_per_op_ns", "CPU ns/msg", 0,
                           "Targets: afxsock server CPU per message ≤ 1.10× the OpenSSL "
                           "loop's and ≤ 0.7× GIO's.", base_name=TLS_BASE)
        if "tls-bulk" in scenarios:
            raw["tls-bulk"] = r = measure(args, "tls-bulk", servers, p, placement, "rate",
                                          p["bulk_rounds"], best=True)
            table_tls_bulk(r, p)
        if "tls-handshakes" in scenarios:
            raw["tls-handshakes"] = r = measure(args, "tls-handshakes", servers, p, placement,
                                                "cpu_per_op_ns", p["long_rounds"])
            table_tls_handshakes(r)
        if "tls-memory" in scenarios:
            raw["tls-memory"] = r = measure(args, "tls-memory", servers, p, placement,
                                            "bytes_per_conn", p["long_rounds"])
            table_tls_memory(r, p)
        tls_targets(raw)
    finally:
        shutil.rmtree(args.certs, ignore_errors=True)


def run_archive(args, p, placement):
    path = os.path.join(args.bench_dir, "archive-bench")
    cpu, _, fifo = placement
    out = subprocess.run(
        [path, "--seconds", str(p["archive_seconds"])], stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL, timeout=60 + 8 * p["archive_seconds"] * 4, check=True,
        preexec_fn=pinned(cpu, fifo),
    ).stdout.decode()
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    for workload, unit, key in (("record", "records/s", "ops_per_s"), ("blob", "GB/s", "gb_per_s")):
        rows_in = [r for r in results if r["workload"] == workload]
        by = {r["codec"]: r for r in rows_in}
        base = by.get("memcpy", {}).get(key)
        msgpack = by.get("msgpack-c", {}).get(key)
        xdr = by.get("xdr", {}).get(key)
        rows = []
        for r in rows_in:
            value = r.get(key)
            rows.append([r["codec"], fmt(value, 2 if workload == "blob" else 1), ratio(value, base),
                         ratio(value, msgpack), ratio(value, xdr), r["encoded_bytes"]])
        if workload == "record":
            title = "Archive: encode + decode of a 10-field mixed record"
            note = "Target: afxsock ≥ 1.5× msgpack-c and ≥ 1× XDR records/s."
        else:
            title = "Archive: encode + decode of a 1 MiB byte block"
            note = "Target: afxsock ≥ 0.8× memcpy."
        print_table(title, ["codec", unit, "× memcpy", "× msgpack-c", "× XDR", "encoded bytes"],
                    rows, note)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-C", "--build-dir", default="build",
                        help="the meson build directory (default: build)")
    parser.add_argument("--short", action="store_true", help="a quick run for CI")
    parser.add_argument("--only", help="comma-separated scenarios: " + ",".join(SCENARIOS))
    parser.add_argument("--servers", help="comma-separated servers (epoll is always run)")
    parser.add_argument("--placement", choices=["fifo", "same", "apart", "free"],
                        default="fifo",
                        help="how server and load generator share the CPUs: fifo (default: "
                             "one CPU, both SCHED_FIFO, so each runs until it waits), same "
                             "(one CPU), apart (one each) or free; see docs/performance.md")
    parser.add_argument("--json", help="also write every raw result to this file")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    args.bench_dir = os.path.join(args.build_dir, "bench")
    if not os.path.exists(os.path.join(args.bench_dir, "loadgen")):
        sys.exit(f"run.py: no {args.bench_dir}/loadgen: build with -Dbench=enabled "
                 "(libuv1-dev libevent-dev libmsgpack-dev libtirpc-dev)")

    p = SHORT if args.short else FULL
    scenarios = args.only.split(",") if args.only else SCENARIOS
    for s in scenarios:
        if s not in SCENARIOS:
            sys.exit(f"run.py: unknown scenario {s}")
    servers, tls_servers = SERVERS, TLS_SERVERS
    if args.servers:
        wanted = set(args.servers.split(",")) | {"epoll", TLS_BASE}
        servers = [s for s in SERVERS if s[0] in wanted]
        tls_servers = [s for s in TLS_SERVERS if s[0] in wanted]
    for spec in [s for s in servers if s[0] in OPTIONAL_SERVERS]:
        why = unavailable(args, spec[1])
        if why is not None:
            print(f"(server {spec[0]} left out: {why})")
            servers = [s for s in servers if s is not spec]

    available = cpus()
    placement_name = args.placement
    if placement_name == "fifo" and not fifo_allowed():
        placement_name = "same"  # no real-time scheduling here (not root, or a container)
    if placement_name in ("fifo", "same") and available:
        placement = (available[-1], available[-1], placement_name == "fifo")
    elif placement_name == "apart" and len(available) >= 2:
        placement = (available[-1], available[0], False)
    else:
        placement_name = "free"
        placement = (None, None, False)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    raw = {}
    started = time.monotonic()
    print(f"# afxsock benchmarks ({'short' if args.short else 'full'} run, "
          f"placement: {placement_name}, CPUs {available})")
    try:
        rounds = p["rounds"]
        if "pingpong" in scenarios:
            raw["pingpong"] = r = measure(args, "pingpong", servers, p, placement, "p50_us",
                                          rounds)
            table_echo("Ping-pong: 1 connection, 64 B, one message in flight", r, "p50_us",
                       "p50 µs", 1, "Target: afxsock p50 ≤ 1.05× the epoll loop's.")
        if "pipelined" in scenarios:
            raw["pipelined"] = r = measure(args, "pipelined", servers, p, placement,
                                           "cpu_per_op_ns", rounds)
            table_echo("Pipelined: 100 connections × depth 4, 64 B messages", r,
                       "cpu_per_op_ns", "CPU ns/msg", 0,
                       "Target: afxsock server CPU per message ≤ 1.15× the epoll loop's.")
        if "idle" in scenarios or "memory" in scenarios:
            raw["idle"] = r = measure(args, "idle", servers, p, placement, "cpu_per_op_ns",
                                      p["long_rounds"])
            if "idle" in scenarios:
                table_echo(f"Idle: 10 active connections (depth 4, 64 B) + {p['idle']:,} idle",
                           r, "cpu_per_op_ns", "CPU ns/msg", 0,
                           "Target: afxsock ≤ 1.3× the epoll loop's CPU per message.")
            if "memory" in scenarios:
                table_memory(r)
        if "bulk" in scenarios:
            # Bulk runs are bimodal here for every server alike (see docs/performance.md):
            # the best of the rounds is the figure.
            raw["bulk"] = r = measure(args, "bulk", servers, p, placement, "rate",
                                      p["bulk_rounds"], best=True)
            table_bulk(r, p)
        if "accept" in scenarios:
            raw["accept"] = r = measure(args, "accept", servers, p, placement, "cpu_per_op_ns",
                                        p["long_rounds"])
            table_accept(r)
        if "archive" in scenarios:
            raw["archive"] = run_archive(args, p, placement)
        if any(s in scenarios for s in TLS_SCENARIOS):
            run_tls(args, scenarios, tls_servers, p, placement, raw)
    finally:
        kill_children()
    print(f"\n({time.monotonic() - started:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    broken = [
        (scenario, name)
        for scenario, results in raw.items() if isinstance(results, dict)
        for name, result in results.items() if "error" in result
    ]
    return 1 if broken else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        kill_children()
