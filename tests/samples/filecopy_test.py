#!/usr/bin/env python3
"""Runs samples/filecopy against loopback.

Copies a generated 20 MiB file and checks the digests, the copy's contents and the plain
progress lines; then a copy corrupted on purpose after its digest was taken (MISMATCH,
nothing kept), an empty file, a raw client announcing a name that leaves the output
directory (refused), a copy to a terminal (a progress bar redrawn in place), and a file
over the server's size limit (refused, and the client shows why). Last, the server on two
service threads (--threads 2): eight copies at once, and a client that stalls in its header,
whose stage deadline must fire on the thread that holds it.
"""
import hashlib
import os
import pty
import random
import re
import struct
import socket
import subprocess
import sys
import tempfile

server_path, client_path = sys.argv[1], sys.argv[2]


def run_client(port, path, extra=()):
    return subprocess.run([client_path, "--host", "127.0.0.1", "--port", port, *extra, path],
                          capture_output=True, text=True, timeout=30)


def string(text):
    data = text.encode()
    return struct.pack(">I", len(data)) + data


def hostile_client(port):
    """Announces "../escaped": the server must refuse it, and say so."""
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        sock.sendall(string("afxsock filecopy 1") + string("../escaped") + struct.pack(">Q", 4))
        reply = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    verified = reply[0]
    (length,) = struct.unpack(">I", reply[1:5])
    return verified, reply[5:5 + length].decode()


def run_on_terminal(path, port):
    master, slave = pty.openpty()
    client = subprocess.Popen([client_path, "--port", port, path], stdout=slave,
                              stderr=subprocess.PIPE)
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the client is gone and the terminal closed
            break
        if not data:
            break
        output += data
    os.close(master)
    client.wait(timeout=30)
    return client.returncode, output.decode(), client.stderr.read().decode()


with tempfile.TemporaryDirectory() as work:
    source_dir = os.path.join(work, "source")
    output_dir = os.path.join(work, "received")
    os.mkdir(source_dir)
    os.mkdir(output_dir)
    generator = random.Random(20)
    files = {}
    for name, size in [("big.bin", 20 << 20), ("corrupted.bin", 1 << 20), ("empty.txt", 0),
                       ("terminal.bin", 3 << 20)]:
        files[name] = generator.randbytes(size)
        with open(os.path.join(source_dir, name), "wb") as f:
            f.write(files[name])

    server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1",
                               "--output", output_dir, "--clients", "5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        assert first.startswith("listening on "), first
        port = first.split()[-1]

        # 20 MiB: digest, contents, progress lines.
        client = run_client(port, os.path.join(source_dir, "big.bin"))
        assert client.returncode == 0, (client.returncode, client.stdout, client.stderr)
        digest = hashlib.sha256(files["big.bin"]).hexdigest()
        lines = client.stdout.splitlines()
        assert "SHA-256 " + digest in lines, client.stdout
        assert any(l.startswith("server: OK: ") and digest in l for l in lines), client.stdout
        progress = [l for l in lines if l.startswith("progress: ")]
        expected = ["progress: %d%% (%d of %d bytes)" % (p, (20 << 20) * p // 100, 20 << 20)
                    for p in range(10, 101, 10)]
        assert progress == expected, progress
        with open(os.path.join(output_dir, "big.bin"), "rb") as f:
            received = f.read()
        assert received == files["big.bin"], "the copy differs"
        assert hashlib.sha256(received).hexdigest() == digest

        # Corrupted after the digest was taken: MISMATCH, exit 1, nothing kept.
        client = run_client(port, os.path.join(source_dir, "corrupted.bin"),
                            ["--simulate-corruption"])
        assert client.returncode == 1, (client.returncode, client.stdout, client.stderr)
        assert "server: MISMATCH: corrupted.bin has SHA-256 " in client.stdout, client.stdout
        assert "SHA-256 " + hashlib.sha256(files["corrupted.bin"]).hexdigest() in client.stdout

        # An empty file is a file too.
        client = run_client(port, os.path.join(source_dir, "empty.txt"))
        assert client.returncode == 0, (client.returncode, client.stdout, client.stderr)
        assert "progress: 100% (0 of 0 bytes)" in client.stdout, client.stdout
        assert os.path.getsize(os.path.join(output_dir, "empty.txt")) == 0

        verified, message = hostile_client(port)
        assert verified == 0 and "refused file name \"../escaped\"" in message, message

        # On a terminal: a bar redrawn in place, no progress lines.
        code, output, err = run_on_terminal(os.path.join(source_dir, "terminal.bin"), port)
        assert code == 0, (code, output, err)
        assert re.search(r"\r\[#{30}\] 100%  3\.0 MiB of 3\.0 MiB", output), repr(output)
        assert "progress: " not in output, repr(output)

        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # One mismatch and one refusal: the server reports failure.
    assert server.returncode == 1, (server.returncode, out, err)
    assert "receiving big.bin (20971520 bytes)" in out, out
    assert "OK: %s" % os.path.join(output_dir, "big.bin") in out, out
    assert "MISMATCH: corrupted.bin" in out, out
    assert "FAILED: refused file name \"../escaped\"" in out, out
    assert sorted(os.listdir(output_dir)) == ["big.bin", "empty.txt", "terminal.bin"], \
        os.listdir(output_dir)
    assert not os.path.exists(os.path.join(work, "escaped"))

    # A server that refuses a file stops reading; the client still shows the reason.
    server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1",
                               "--output", output_dir, "--clients", "1", "--max-size", "1000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().split()[-1]
        client = run_client(port, os.path.join(source_dir, "corrupted.bin"))
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    reason = "FAILED: corrupted.bin: 1048576 bytes is over the limit of 1000"
    assert client.returncode == 1 and "server: " + reason in client.stdout, \
        (client.returncode, client.stdout, client.stderr)
    assert server.returncode == 1 and reason in out, (server.returncode, out, err)

    # Two threads: eight transfers at once and a client stalled in its header.
    threaded_dir = os.path.join(work, "threaded")
    os.mkdir(threaded_dir)
    server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1",
                               "--output", threaded_dir, "--clients", "9", "--threads", "2",
                               "--timeout", "2000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().split()[-1]
        stalled = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        stalled.sendall(string("afxsock filecopy 1")[:7])
        names = ["copy-%d.bin" % i for i in range(8)]
        for name in names:
            with open(os.path.join(source_dir, name), "wb") as f:
                f.write(files["corrupted.bin"][:(256 << 10)] + name.encode())
        clients = [subprocess.Popen([client_path, "--host", "127.0.0.1", "--port", port,
                                     os.path.join(source_dir, name)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for name in names]
        results = [(c.wait(timeout=30), c.stdout.read(), c.stderr.read()) for c in clients]
        stalled_reply = stalled.recv(4096)  # the verdict, once the header's deadline passed
        stalled.close()
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    for code, stdout, stderr in results:
        assert code == 0 and "server: OK: " in stdout, (code, stdout, stderr)
    assert sorted(os.listdir(threaded_dir)) == names, os.listdir(threaded_dir)
    for name in names:
        with open(os.path.join(source_dir, name), "rb") as a, \
                open(os.path.join(threaded_dir, name), "rb") as b:
            assert a.read() == b.read(), name
    assert b"did not arrive within 2000 ms" in stalled_reply, stalled_reply
    assert server.returncode == 1, (server.returncode, out, err)  # the stalled one failed
    assert "the header did not arrive within 2000 ms" in out, out
print("1 passed, 0 failed")
