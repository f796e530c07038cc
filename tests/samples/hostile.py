#!/usr/bin/env python3
"""Hostile clients against the sample servers: no client may cost the others anything, and
every connection is released, whatever way it ends.

    hostile.py SCENARIO SERVER-KIND PROGRAM...

SERVER-KIND is echo, echo-records, chat-network, chat-mfc, rpc or filecopy; PROGRAM the
server (and for filecopy the client). The scenarios:

dribblers
    50 clients each send the beginning of a record (a message, a request, a file) one byte
    per 100 ms and never its end. A well-behaved client is then served: the ordering is
    asserted, not the time it took, which is printed. Its reply must come while every
    attacker is still connected and still in the middle of its record.
resets
    Clients flood the server without reading what it sends back, to different depths (a
    little; until the server's replies fill the socket; until the server holds replies it
    cannot send; until the server stops reading), half-close (SHUT_WR), and once the server
    has seen the end of stream, reset the connection (SO_LINGER 0). The server's open
    descriptors (/proc/PID/fd) must come back to what they were before, and the server
    must then serve a well-behaved client.
half-close (echo only)
    The same flood to the depth where the server holds echoes it cannot send, then a
    half-close, then the client reads: every byte must come back.
stage-deadline (filecopy only)
    A client dribbles a file header a byte per 100 ms, more often than the server's
    deadline; the server must drop it once the header stage's deadline has passed, however
    many bytes keep arriving.

Loopback only, port 0; each wait is for a condition, with a deadline.
"""
import array
import fcntl
import hashlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

from chat_util import Proc, encode_message

ATTACKERS = 50
DRIBBLE_INTERVAL = 0.1  # seconds between two bytes of one attacker
DRIBBLE_LIMIT = 30.0  # seconds; the dribbling thread stops by then whatever happens
SERVED_DEADLINE = 15.0  # how long the well-behaved client may wait before the test fails
RELEASE_DEADLINE = 15.0  # how long the server may take to close what it should
READ_DEADLINE = 1.0  # a server that has not read a chunk within this has stopped reading
FLOOD_CHUNK = 16384  # at most what the servers read at once, so a chunk is read whole
FLOOD_CAP = 64 << 20  # bytes; no flood goes further
FLOOD_LIMIT = 10.0  # seconds; nor does it last longer


def wait_for(condition, timeout, interval=0.002):
    """Calls condition until it returns something true or timeout seconds passed; returns
    the last value."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


# What the kernel says about the loopback connections (the servers listen on 127.0.0.1):
# /proc/net/tcp has a row per socket, keyed here by (local port, remote port). For an
# established socket tx counts the bytes written and not yet acknowledged by the peer, rx
# the bytes received and not yet read; inode is 0 while no process has the socket open
# (not accepted yet, or closed and still being finished by the kernel).

def tcp_table():
    table = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local = int(fields[1].split(":")[1], 16)
            remote = int(fields[2].split(":")[1], 16)
            tx, rx = (int(x, 16) for x in fields[4].split(":"))
            table[(local, remote)] = {"state": int(fields[3], 16), "tx": tx, "rx": rx,
                                      "inode": int(fields[9])}
    return table


def unread_here(sock):
    count = array.array("i", [0])
    fcntl.ioctl(sock, termios.FIONREAD, count)
    return count[0]


def not_read_by_server(sock, server_port, table):
    """How many bytes sent on sock the server has not read (None: no such connection)."""
    port = sock.getsockname()[1]
    if (port, server_port) not in table or (server_port, port) not in table:
        return None
    return table[(port, server_port)]["tx"] + table[(server_port, port)]["rx"]


def server_has_read_all(sock, server_port):
    """Whether every byte sent on sock was acknowledged and read by the server."""
    return not_read_by_server(sock, server_port, tcp_table()) == 0


ESTABLISHED, CLOSE_WAIT = 0x01, 0x08


def server_holds(sock, server_port, table=None):
    """Whether the server's end of this client's connection is still open (it is until the
    server closes it, whether or not it has accepted it yet)."""
    row = (table or tcp_table()).get((server_port, sock.getsockname()[1]))
    return row is not None and row["state"] in (ESTABLISHED, CLOSE_WAIT)


def connections_open(server_port):
    """How many connections the server has open."""
    return sum(1 for (local, remote), row in tcp_table().items()
               if local == server_port and remote != 0 and row["inode"] != 0)


def descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main_thread_switches(pid):
    """How many times the server's main thread went to sleep, and its state."""
    with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return int(status["voluntary_ctxt_switches"]), status["State"].split()[0]


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def string(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">I", len(data)) + data


def receive_until(sock, wanted, deadline):
    """Reads until the bytes received contain wanted (True) or the server closed."""
    data = b""
    end = time.monotonic() + deadline
    while wanted not in data:
        sock.settimeout(max(end - time.monotonic(), 0.001))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return False
        if not chunk:
            return False
        data += chunk
    return True


# The servers. Each says how to start it, what a record never finished looks like, what a
# well-behaved exchange is, and what a flood is made of.

class Echo:
    name = "echo"
    replies = "echoes"  # what it sends back is exactly what it received

    def __init__(self, programs):
        self.server = programs[0]

    def arguments(self, work):
        return [self.server, "--port", "0", "--address", "127.0.0.1"]

    def partial(self, i):
        return b"attacker %d: a line that never ends " % i + b"." * 1000

    def serve_one(self, port, work):
        with socket.create_connection(("127.0.0.1", port), timeout=SERVED_DEADLINE) as sock:
            sock.sendall(b"hello from a well-behaved client\n")
            return receive_until(sock, b"hello from a well-behaved client\n", SERVED_DEADLINE)

    def flood(self):
        while True:
            yield b"x" * FLOOD_CHUNK


class EchoRecords(Echo):
    name = "echo --records"

    def arguments(self, work):
        return super().arguments(work) + ["--records"]

    def partial(self, i):
        return frame(b"attacker %d: " % i + b"." * 1000)

    def serve_one(self, port, work):
        with socket.create_connection(("127.0.0.1", port), timeout=SERVED_DEADLINE) as sock:
            sock.sendall(frame(b"hello from a well-behaved client"))
            return receive_until(sock, frame(b"hello from a well-behaved client"),
                                 SERVED_DEADLINE)

    def flood(self):
        while True:
            yield frame(b"r" * (FLOOD_CHUNK - 4))


class Chat:
    replies = "similar"  # its replies are about as long as the requests

    def __init__(self, programs, mode):
        self.server = programs[0]
        self.mode = mode
        self.name = "chat-server (%s)" % mode

    def arguments(self, work):
        # The per-message deadline is long here, so that an attacker is still connected
        # when the others are served even on a slow machine; chat_bad_input.py checks that
        # the deadline drops a dribbler.
        return [self.server, "--port", "0", "--address", "127.0.0.1", "--timeout", "20000"] + (
            ["--mfc"] if self.mode == "mfc" else [])

    def partial(self, i):
        return encode_message(self.mode, False, "attacker %d: %s" % (i, "." * 1000))

    def serve_one(self, port, work):
        # The relay carries the line as it was said: its bytes are in what comes back (after
        # the history, if anything was said before).
        line = "good: hello from a well-behaved client %d" % time.monotonic_ns()
        with socket.create_connection(("127.0.0.1", port), timeout=SERVED_DEADLINE) as sock:
            sock.sendall(encode_message(self.mode, False, line))
            return receive_until(sock, line.encode(), SERVED_DEADLINE)

    def flood(self):
        # Two messages per chunk; each is relayed back to the flooder, who does not read.
        message = encode_message(self.mode, False, "flood: " + "f" * (FLOOD_CHUNK // 2 - 16))
        while True:
            yield message * 2


class Rpc:
    name = "rpc-server"
    replies = "similar"  # its replies are about as long as the requests

    def __init__(self, programs):
        self.server = programs[0]

    def arguments(self, work):
        return [self.server, "--port", "0", "--address", "127.0.0.1"]

    @staticmethod
    def request(request_id, method, *strings):
        body = struct.pack(">I", request_id) + string(method) + struct.pack(">I", len(strings))
        return frame(body + b"".join(b"s" + string(s) for s in strings))

    def partial(self, i):
        return self.request(i + 1, "echo", "attacker %d: %s" % (i, "." * 1000))

    def serve_one(self, port, work):
        add = frame(struct.pack(">I", 7) + string("add") + struct.pack(">I", 2)
                    + b"i" + struct.pack(">q", 2) + b"i" + struct.pack(">q", 3))
        with socket.create_connection(("127.0.0.1", port), timeout=SERVED_DEADLINE) as sock:
            sock.sendall(add)
            return receive_until(sock, frame(struct.pack(">IB", 7, 0) + b"i"
                                             + struct.pack(">q", 5)), SERVED_DEADLINE)

    def flood(self):
        request = self.request(1, "echo", "e" * (FLOOD_CHUNK - 32))
        while True:
            yield request


class Filecopy:
    name = "filecopy-server"
    replies = None  # it replies once, at the end

    def __init__(self, programs):
        self.server, self.client = programs[0], programs[1]
        self.served = 0

    def arguments(self, work):
        return [self.server, "--port", "0", "--address", "127.0.0.1", "--output", work]

    @staticmethod
    def header(name, size):
        return string("afxsock filecopy 1") + string(name) + struct.pack(">Q", size)

    def partial(self, i):
        contents = b"." * 1000
        return (self.header("attacker-%d.bin" % i, len(contents)) + contents
                + string(hashlib.sha256(contents).hexdigest()))

    def serve_one(self, port, work):
        self.served += 1
        path = os.path.join(work, "source-%d" % self.served, "good.txt")
        os.makedirs(os.path.dirname(path))
        with open(path, "wb") as f:
            f.write(b"a well-behaved file\n" * 1000)
        try:
            client = subprocess.run([self.client, "--host", "127.0.0.1", "--port", str(port),
                                     path], capture_output=True, text=True,
                                    timeout=SERVED_DEADLINE)
        except subprocess.TimeoutExpired:
            return False
        return client.returncode == 0 and "server: OK: " in client.stdout

    def flood(self):
        yield self.header("flood.bin", 1 << 30)  # under the server's limit: it is accepted
        for _ in range(64):  # 1 MiB: the server writes it to its disk
            yield b"\xf1" * FLOOD_CHUNK


def make_kind(name, programs):
    if name == "echo":
        return Echo(programs)
    if name == "echo-records":
        return EchoRecords(programs)
    if name in ("chat-network", "chat-mfc"):
        return Chat(programs, name.split("-")[1])
    if name == "rpc":
        return Rpc(programs)
    if name == "filecopy":
        return Filecopy(programs)
    raise SystemExit("unknown server kind %s" % name)


def start(kind, work, *extra):
    server = Proc(kind.arguments(work) + list(extra))
    port = int(server.wait_line(r"^listening on (\d+)$").group(1))
    return server, port


def warm_up(kind, server, port, work):
    """Serves one client alone; once the server has no connection open, returns how many
    descriptors it has (the figure to come back to) and the client's latency."""
    served, latency_ms = timed_serve(kind, port, work)
    assert served, "a well-behaved client alone was not served\n" + server.describe()
    released = wait_for(lambda: connections_open(port) == 0, RELEASE_DEADLINE)
    assert released, "a well-behaved client's connection was not closed\n" + server.describe()
    return descriptors(server.process.pid), latency_ms


def timed_serve(kind, port, work):
    started = time.monotonic()
    served = kind.serve_one(port, work)
    return served, (time.monotonic() - started) * 1000


# Scenario: dribblers.

class Dribblers:
    """The attackers, and one thread that sends each of them its next byte every
    DRIBBLE_INTERVAL, never the last byte of its record, for DRIBBLE_LIMIT at most."""

    def __init__(self, kind, port):
        self.port = port
        self.records = [kind.partial(i) for i in range(ATTACKERS)]
        self.sockets = []
        for _ in range(ATTACKERS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=SERVED_DEADLINE)
            sock.setblocking(False)
            self.sockets.append(sock)
        self.sent = [0] * ATTACKERS
        self.failed = [None] * ATTACKERS
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        end = time.monotonic() + DRIBBLE_LIMIT
        while not self.stop.is_set() and time.monotonic() < end:
            for i, sock in enumerate(self.sockets):
                if self.failed[i] is None and self.sent[i] < len(self.records[i]) - 1:
                    try:
                        self.sent[i] += sock.send(self.records[i][self.sent[i]:self.sent[i] + 1])
                    except OSError as error:
                        self.failed[i] = error
            self.stop.wait(DRIBBLE_INTERVAL)

    def read_by_server(self, least):
        """Whether the server has read at least `least` bytes of every attacker's record."""
        sent = list(self.sent)  # before the table: bytes sent since then only make it later
        table = tcp_table()
        for count, sock in zip(sent, self.sockets):
            unread = not_read_by_server(sock, self.port, table)
            if unread is None or count - unread < least:
                return False
        return True

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=DRIBBLE_LIMIT)
        for sock in self.sockets:
            sock.close()


def dribblers(kind, work):
    server, port = start(kind, work)
    attack = None
    try:
        baseline, first_ms = warm_up(kind, server, port, work)

        attack = Dribblers(kind, port)
        # The server must be in the middle of every attacker's record: each has sent a few
        # bytes and the server has read them (a server that blocks in one attacker's record
        # reads no other's: then this gives up at the deadline and the next step tells).
        holding = wait_for(lambda: attack.read_by_server(3), SERVED_DEADLINE)

        served, latency_ms = timed_serve(kind, port, work)
        # The attackers as they were when the reply had come.
        sent = list(attack.sent)
        table = tcp_table()
        held = [server_holds(sock, port, table) for sock in attack.sockets]
        assert served, ("the well-behaved client was not served within %.0f s while %d clients "
                        "dribbled (the server had read every attacker's first bytes: %s)\n%s"
                        % (SERVED_DEADLINE, ATTACKERS, holding, server.describe()))
        # The ordering: the server had every attacker's record started before the
        # well-behaved client came, and it was served while every attacker was still
        # connected and in the middle of its record.
        assert holding, "the server had not read every attacker's first bytes"
        assert all(n < len(record) for n, record in zip(sent, attack.records)), sent
        assert all(held), "attackers dropped before the good client was served: %s" % [
            i for i, is_held in enumerate(held) if not is_held]
        assert all(error is None for error in attack.failed), attack.failed
        print("%s: a well-behaved client served in %.1f ms while %d clients dribbled "
              "(each had sent %d to %d bytes of a %d-byte record; alone: %.1f ms)"
              % (kind.name, latency_ms, ATTACKERS, min(sent), max(sent),
                 min(len(r) for r in attack.records), first_ms))

        attack.finish()
        count = wait_for(lambda: descriptors(server.process.pid) == baseline, RELEASE_DEADLINE)
        assert count, "descriptors: %d before the attack, %d after it ended" % (
            baseline, descriptors(server.process.pid))
        print("%s: %d descriptors before the attack and after the attackers hung up"
              % (kind.name, baseline))
        assert server.process.poll() is None, server.describe()
    finally:
        if attack is not None:
            attack.finish()
        server.kill()


# Scenario: resets.

# How deep each flood goes before the client half-closes and resets, and how many clients
# go that deep (the third depth is the one that lost connections: twice, and once more
# with the kernel's default socket buffers, where it takes megabytes to get there).
DEPTHS = [("a little", 1), ("replies fill the socket", 1), ("replies held by the server", 2),
          ("server stopped reading", 1), ("replies held by the server, default buffers", 1)]


def flooder(port, small=True):
    """A client with small socket buffers and segments: what the server sends back fills
    them after a few KiB instead of megabytes, so that a flood is short."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if small:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.settimeout(SERVED_DEADLINE)
    sock.connect(("127.0.0.1", port))
    return sock


def flood(kind, sock, port, depth):
    """Sends the kind's flood without reading anything, until depth is reached; returns
    what happened."""
    sock.settimeout(READ_DEADLINE)
    local = sock.getsockname()[1]
    sent = 0
    end = time.monotonic() + FLOOD_LIMIT
    for chunk in kind.flood():
        try:
            sock.sendall(chunk)
        except socket.timeout:
            return "the server stopped reading after %d bytes" % sent
        except OSError as error:
            return "the server closed after %d bytes (%s)" % (sent, error)
        sent += len(chunk)
        if sent >= FLOOD_CAP or time.monotonic() > end:
            return "sent %d bytes" % sent
        if depth == "server stopped reading":
            continue  # until sendall times out: no need to look at each chunk
        if not wait_for(lambda: server_has_read_all(sock, port), READ_DEADLINE, 0.0005):
            return "the server stopped reading after %d bytes" % sent
        if depth == "a little":
            return "sent %d bytes" % sent
        waiting_there = tcp_table()[(port, local)]["tx"]
        in_transit = unread_here(sock) + waiting_there
        if depth == "replies fill the socket" and waiting_there >= 8192:
            return "sent %d bytes; %d bytes of replies in the sockets" % (sent, in_transit)
        # Replies are about as long as requests (the echoes exactly): what was sent and is
        # not back in the sockets is held by the server. Only echoes make this exact: a
        # reply not written yet counts as held too. (The depths only vary the scenario: what
        # is asserted is the server's descriptors afterwards.)
        margin = 0 if kind.replies == "echoes" else 4096 + sent // 50
        if (depth == "replies held by the server" and kind.replies is not None
                and sent - in_transit > margin):
            return "sent %d bytes; the server holds about %d bytes of replies" % (
                sent, sent - in_transit)
    return "sent %d bytes" % sent


def resets(kind, work):
    server, port = start(kind, work)
    pid = server.process.pid
    try:
        baseline, _ = warm_up(kind, server, port, work)
        outcomes = []
        for depth, clients in DEPTHS:
            for _ in range(clients):
                sock = flooder(port, small=not depth.endswith("default buffers"))
                what = flood(kind, sock, port, depth.split(",")[0])
                # Half-close, and let the server take the end of stream before the reset:
                # its main thread wakes for it and goes back to sleep.
                switches, _ = main_thread_switches(pid)
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                wait_for(lambda: (lambda n, state: n > switches and state == "S")(
                    *main_thread_switches(pid)), READ_DEADLINE)
                reset(sock)
                outcomes.append("%s: %s" % (depth, what))
        for outcome in outcomes:
            print("%s: %s, then half-closed and reset" % (kind.name, outcome))
        released = wait_for(lambda: descriptors(pid) == baseline, RELEASE_DEADLINE)
        assert released, ("%d descriptors before %d half-closed and reset clients, %d %.0f s "
                          "after\n%s" % (baseline, len(outcomes), descriptors(pid),
                                         RELEASE_DEADLINE, server.describe()))
        served, latency_ms = timed_serve(kind, port, work)
        assert served, "the well-behaved client was not served afterwards\n" + server.describe()
        print("%s: %d descriptors before and after %d half-closed and reset clients; the next "
              "client served in %.1f ms" % (kind.name, baseline, len(outcomes), latency_ms))
        assert server.process.poll() is None, server.describe()
    finally:
        server.kill()


# Scenario: half-close (echo).

def half_close(kind, work):
    """The same flood, but the client then reads: a client that half-closed is still owed
    every echo, and the connection ends once it has them."""
    server, port = start(kind, work)
    try:
        for small in (True, False):
            sock = flooder(port, small)
            what = flood(kind, sock, port, "replies held by the server")
            sent = int(what.split()[1])
            sock.shutdown(socket.SHUT_WR)
            received = 0
            end = time.monotonic() + SERVED_DEADLINE
            while time.monotonic() < end:
                sock.settimeout(max(end - time.monotonic(), 0.001))
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    break
                if not data:
                    break
                received += len(data)
            sock.close()
            assert received == sent, ("%s: %s, then half-closed: %d bytes of echo came back "
                                      "in %.0f s\n%s" % (kind.name, what, received,
                                                          SERVED_DEADLINE, server.describe()))
            print("%s: %s, then half-closed: every echo came back" % (kind.name, what))
        assert server.process.poll() is None, server.describe()
    finally:
        server.kill()


# Scenario: stage-deadline (filecopy).

def stage_deadline(kind, work):
    timeout_ms = 1000
    server, port = start(kind, work, "--timeout", str(timeout_ms))
    try:
        record = kind.partial(0)
        with socket.create_connection(("127.0.0.1", port), timeout=SERVED_DEADLINE) as sock:
            started = time.monotonic()
            sent = 0
            closed = False
            # One byte per 100 ms: ten per deadline, each of which restarted a per-call
            # timeout; the header stage must still end at its deadline.
            while sent < len(record) - 1 and time.monotonic() - started < SERVED_DEADLINE:
                try:
                    sock.sendall(record[sent:sent + 1])
                except OSError:
                    closed = True
                    break
                sent += 1
                # The pace: wait one interval for the server to drop us, then send the next.
                if wait_for(lambda: not server_holds(sock, port), DRIBBLE_INTERVAL):
                    closed = True
                    break
            elapsed = time.monotonic() - started
        assert closed, "a client dribbling a byte per 100 ms was not dropped in %.0f s" % elapsed
        found = server.wait_line(r"^connection \d+: FAILED: (.*)$")
        assert "within %d ms" % timeout_ms in found.group(1), server.describe()
        print("filecopy-server: a client dribbling its header was dropped after %.1f s and %d "
              "bytes (deadline %d ms per stage): %s" % (elapsed, sent, timeout_ms,
                                                        found.group(1)))
    finally:
        server.kill()


if __name__ == "__main__":
    scenario, kind_name, programs = sys.argv[1], sys.argv[2], sys.argv[3:]
    kind = make_kind(kind_name, programs)
    scenarios = {"dribblers": dribblers, "resets": resets, "half-close": half_close,
                 "stage-deadline": stage_deadline}
    with tempfile.TemporaryDirectory() as work:
        scenarios[scenario](kind, work)
    print("1 passed, 0 failed")
