#!/usr/bin/env python3
"""Runs samples/echo in record mode against loopback.

The server listens on port 0 with --records; a first client sends a few messages given on
the command line (an empty one among them: a record of 0 bytes), a second one 32 MiB of
64 KiB lines from standard input, enough to fill the write queues on both sides, so that
the client waits for on_drain and the server stops reading until its own on_drain. Every
echo must come back whole and in order. Last, a raw client frames 13 MiB of records itself,
half-closes and only then reads, slowly: the server must still deliver every echo before
it closes.
"""
import hashlib
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

server_path, client_path = sys.argv[1], sys.argv[2]
messages = ["hello", "", "records of afxsock", "é ü ß", "x" * 100000, "bye"]
big_lines = [(b"%06d " % i) * (65536 // 7) for i in range(512)]



def half_closing_client(port):
    record = b"%d" * 65536
    count = 200
    received = bytearray()
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as sock:
        def read_slowly():
            time.sleep(0.5)  # let the server's write queue fill
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                received.extend(data)

        reader = threading.Thread(target=read_slowly)
        reader.start()
        for _ in range(count):
            sock.sendall(struct.pack(">I", len(record)) + record)
        sock.shutdown(socket.SHUT_WR)
        reader.join(timeout=40)
    expected = (struct.pack(">I", len(record)) + record) * count
    assert bytes(received) == expected, (len(received), len(expected))


server = subprocess.Popen([server_path, "--records", "--port", "0", "--address", "127.0.0.1",
                           "--clients", "3"], stdout=subprocess.PIPE, text=True)
try:
    first = server.stdout.readline()
    assert first.startswith("listening on "), first
    port = first.split()[-1]

    client = subprocess.run([client_path, "--records", "--host", "127.0.0.1", "--port", port]
                            + messages, capture_output=True, text=True, timeout=30)
    assert client.returncode == 0, (client.returncode, client.stdout, client.stderr)
    echoes = [l[len("echo: "):] for l in client.stdout.splitlines() if l.startswith("echo: ")]
    assert echoes == messages, client.stdout[:2000]
    assert "%d records echoed" % len(messages) in client.stdout, client.stdout[-2000:]

    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as output:
        source.write(b"\n".join(big_lines) + b"\n")
        source.seek(0)
        client = subprocess.run([client_path, "--records", "--port", port], stdin=source,
                                stdout=output, stderr=subprocess.PIPE, timeout=50)
        output.seek(0)
        lines = output.read().splitlines()
    assert client.returncode == 0, (client.returncode, client.stderr)
    echoes = [l[len(b"echo: "):] for l in lines if l.startswith(b"echo: ")]
    assert len(echoes) == len(big_lines), (len(echoes), len(big_lines))
    for i, (echo, line) in enumerate(zip(echoes, big_lines)):
        assert echo == line, "record %d differs" % i
    tail = b"\n".join(lines[-2:]).decode()
    assert "%d records echoed" % len(big_lines) in tail, tail
    waits = re.search(r"waited (\d+) times for the write queue to drain", tail)
    half_closing_client(port)
    out, _ = server.communicate(timeout=30)
finally:
    if server.poll() is None:
        server.kill()
        server.wait()
assert server.returncode == 0, server.returncode
assert "connection 1: closed by the client" in out, out
assert "connection 2: closed by the client" in out, out
assert "connection 3: closed by the client" in out, out
paused = re.search(r"connection 2: .*reading paused (\d+) times", out)
# Whether a queue fills depends on the kernel's socket buffers; 32 MiB is far more than
# loopback buffers hold, so at least one side must have waited for on_drain.
print("client waited for on_drain %s times, server paused reading %s times"
      % (waits.group(1) if waits else 0, paused.group(1) if paused else 0))
assert waits or paused, (tail, out)
digest = hashlib.sha256(b"".join(echoes)).hexdigest()[:16]
print("512 records (%d bytes, sha256 %s…) echoed in order" % (sum(map(len, echoes)), digest))
print("1 passed, 0 failed")
