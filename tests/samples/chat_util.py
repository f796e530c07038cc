"""Helpers of the samples/chat tests: processes whose output lines are collected as they
come, a chat-server started on a free loopback port, and the chat message encoded from
docs/wire-format.md with struct (the way a peer in another language would write it)."""
import re
import socket
import struct
import subprocess
import threading
import time

# How long any single wait may take before the test fails. Nothing waits for a fixed time.
DEADLINE = 30.0


class Proc:
    """A child process; threads collect its stdout and stderr lines as they arrive."""

    def __init__(self, args, interactive=False, env=None):
        self.args = [str(a) for a in args]
        self.process = subprocess.Popen(
            self.args, stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
        self.lines = {"out": [], "err": []}
        self.changed = threading.Condition()
        self.threads = [threading.Thread(target=self._collect, args=(stream, name), daemon=True)
                        for stream, name in ((self.process.stdout, "out"),
                                             (self.process.stderr, "err"))]
        for thread in self.threads:
            thread.start()

    def _collect(self, stream, name):
        for line in stream:
            with self.changed:
                self.lines[name].append(line.rstrip("\n"))
                self.changed.notify_all()

    def out(self):
        with self.changed:
            return list(self.lines["out"])

    def err(self):
        """Its standard error, without the lines of Valgrind when it runs under it."""
        with self.changed:
            return [line for line in self.lines["err"] if not re.match(r"==\d+==", line)]

    def wait_line(self, pattern, stream="out", timeout=DEADLINE):
        """Waits until a line of the stream matches the regular expression; returns the match."""
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines[stream]:
                    found = regex.search(line)
                    if found:
                        return found
                left = end - time.monotonic()
                if left <= 0 or (self.process.poll() is not None
                                 and not any(t.is_alive() for t in self.threads)):
                    raise AssertionError("%s: no line matching %r in %s:\n%s\nstderr:\n%s" % (
                        self.args[0], pattern, stream, "\n".join(self.lines["out"]),
                        "\n".join(self.lines["err"])))
                self.changed.wait(min(left, 0.5))

    def say(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def close_input(self):
        self.process.stdin.close()

    def finish(self, timeout=DEADLINE):
        """Waits for the process to exit and its output to be collected; returns its status."""
        status = self.process.wait(timeout=timeout)
        for thread in self.threads:
            thread.join(timeout=timeout)
        return status

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def describe(self):
        return "%s\nstdout:\n%s\nstderr:\n%s" % (" ".join(self.args), "\n".join(self.out()),
                                                 "\n".join(self.err()))


def start_server(server_path, mode, *extra):
    """Starts chat-server on 127.0.0.1, port 0; returns the process and the port it printed."""
    args = [server_path, "--port", "0", "--address", "127.0.0.1"]
    args += ["--mfc"] if mode == "mfc" else []
    server = Proc(args + list(extra))
    port = int(server.wait_line(r"^listening on (\d+)$").group(1))
    return server, port


def start_client(client_path, mode, port, name, *extra, interactive=False, env=None):
    args = [client_path, "--host", "127.0.0.1", "--port", port, "--name", name]
    args += ["--mfc"] if mode == "mfc" else []
    return Proc(args + list(extra), interactive=interactive, env=env)


def conversation(proc):
    """The conversation lines a chat-client printed (its own notes start with '***')."""
    return [line for line in proc.out() if not line.startswith("*** ")]


def server_history(server):
    """The messages in the order the server took them, from its log."""
    found = [re.match(r"^message (\d+) from client \d+: (.*)$", line) for line in server.out()]
    found = [m for m in found if m]
    assert [int(m.group(1)) for m in found] == list(range(1, len(found) + 1)), server.describe()
    return [m.group(2) for m in found]


# The chat message (chat-message.h: MFC's CHATSRVR CMsg), per docs/wire-format.md.

def encode_string(mode, text):
    data = text.encode("utf-8")
    if mode == "network":
        return struct.pack(">I", len(data)) + data
    assert all(b < 0x80 for b in data), "this encoder writes MFC's narrow (ASCII) strings only"
    if len(data) < 0xFF:
        return struct.pack("<B", len(data)) + data
    if len(data) < 0xFFFE:
        return b"\xff" + struct.pack("<H", len(data)) + data
    return b"\xff\xff\xff" + struct.pack("<I", len(data)) + data


def encode_count(mode, count):
    if mode == "network":
        return struct.pack(">I", count)
    if count < 0xFFFF:
        return struct.pack("<H", count)
    return b"\xff\xff" + struct.pack("<I", count)


def encode_message(mode, close, text, lines=()):
    word = struct.pack(">H" if mode == "network" else "<H", 1 if close else 0)
    return (word + encode_string(mode, text) + encode_count(mode, len(lines))
            + b"".join(encode_string(mode, line) for line in lines))


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    sock.settimeout(DEADLINE)
    return sock


def recv_exactly(sock, size):
    data = b""
    while len(data) < size:
        more = sock.recv(size - len(data))
        assert more, "the server closed after %d of %d bytes: %s" % (len(data), size, data.hex(" "))
        data += more
    return data


def expect_closed(sock, timeout=DEADLINE):
    """Reads (and drops) whatever the server still sends until it closes the connection."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    sock.close()
