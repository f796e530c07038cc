#!/usr/bin/env python3
"""samples/echo over TLS, on loopback.

    echo_tls_test.py ECHO_SERVER ECHO_CLIENT

1. Our client and our server: arbitrary bytes (not only UTF-8, a 50 KB line) come back
   byte for byte, by name (localhost) and by address (127.0.0.1), lines and records.
2. Python's ssl module as the client of our server, and as the server of our client: 128
   KiB of random bytes each way, byte for byte.
3. A server that requires a client certificate: accepted with one, refused without one,
   with the reason printed on both sides.
4. Verification: a client trusting another CA, and a server certificate for another host,
   fail with the reason; unreadable certificate files are refused at start.
Every server is started with --clients N and must exit 0 after its N connections, the
failed handshakes included. Certificates: tls_certs.py.
"""
import os
import socket
import ssl
import subprocess
import sys
import threading

from tls_certs import (certs_dir, client_args, python_client_context, python_server_context,
                       server_args)

server_path, client_path = sys.argv[1], sys.argv[2]
certs = certs_dir()
TIMEOUT = 30


class Server:
    def __init__(self, clients, *extra):
        self.process = subprocess.Popen(
            [server_path, "--port", "0", "--address", "127.0.0.1", "--clients", str(clients)]
            + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self.process.stdout.readline().decode()
        assert first.startswith("listening on "), (first, self.process.stderr.read())
        self.port = first.split()[-1]

    def finish(self):
        """Waits for the server to exit after its clients; returns its log."""
        try:
            out, err = self.process.communicate(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        assert self.process.returncode == 0, (self.process.returncode, out, err)
        return out.decode(errors="replace")


LINE_ENDS = (0, 10, 13, 0xe2)


def line_bytes(size):
    """Random bytes without what ends a line of echo-client's standard input (GLib's
    g_io_channel_read_line: \\n, \\r, NUL and U+2029's first byte, 0xe2)."""
    return bytes(b if b not in LINE_ENDS else 42 for b in os.urandom(size))


def run_client(port, *args, host="localhost", stdin=None):
    return subprocess.run([client_path, "--host", host, "--port", port] + list(args),
                          input=stdin, capture_output=True, timeout=TIMEOUT)


def echoes(output):
    return [line[len(b"echo: "):] for line in output.split(b"\n") if line.startswith(b"echo: ")]


def check_echo(result, lines):
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert echoes(result.stdout) == lines, result.stdout[:1000]


def ours_to_ours():
    lines = [b"hello", bytes(b for b in range(256) if b not in LINE_ENDS),
             b"\xff\xfe not UTF-8", line_bytes(50000), b"bye"]
    server = Server(3, *server_args(certs))
    # Standard input, checked against the host name; the echo is the bytes sent.
    check_echo(run_client(server.port, *client_args(certs), stdin=b"\n".join(lines) + b"\n"),
               lines)
    # Arguments, to the address (the certificate names 127.0.0.1 too).
    check_echo(run_client(server.port, *client_args(certs), "one", "two", host="127.0.0.1"),
               [b"one", b"two"])
    python_to_ours(server.port)
    log = server.finish()
    assert log.count("closed by the client") == 3, log

    server = Server(1, "--records", *server_args(certs))
    records = [b"record %d " % i + b"r" * (i * 997) for i in range(20)]
    check_echo(run_client(server.port, "--records", *client_args(certs),
                          stdin=b"\n".join(records) + b"\n"), records)
    server.finish()


def python_to_ours(port):
    """Python's ssl as the client: random bytes, sent and read back in chunks."""
    data = os.urandom(128 * 1024)
    context = python_client_context(certs)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=TIMEOUT) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            got = bytearray()
            for start in range(0, len(data), 16384):
                tls.sendall(data[start:start + 16384])
                while len(got) < start + 16384:
                    chunk = tls.recv(65536)
                    assert chunk, "the server closed after %d bytes" % len(got)
                    got += chunk
            assert bytes(got) == data, "the echo differs from what was sent"
            tls.unwrap()  # close_notify both ways: the server sees a clean close


def ours_to_python():
    """Python's ssl as the server: it echoes until our client's close_notify."""
    data = [line_bytes(2048) for _ in range(64)]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)
    failures = []

    def serve():
        try:
            raw, _ = listener.accept()
            raw.settimeout(TIMEOUT)
            with python_server_context(certs).wrap_socket(raw, server_side=True) as tls:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    tls.sendall(chunk)
                tls.unwrap()
        except Exception as e:  # reported by the main thread
            failures.append(e)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        result = run_client(str(listener.getsockname()[1]), *client_args(certs),
                            stdin=b"\n".join(data) + b"\n")
    finally:
        thread.join(TIMEOUT)
        listener.close()
    assert not failures, failures
    check_echo(result, data)
    assert b"server closed the connection\n" in result.stdout, result.stdout


def client_certificates():
    server = Server(3, *server_args(certs, client_ca=True))
    check_echo(run_client(server.port, *client_args(certs, certificate="client"), "let me in"),
               [b"let me in"])
    refused = run_client(server.port, *client_args(certs), "no certificate")
    assert refused.returncode != 0, refused
    said = refused.stdout + refused.stderr
    assert b"the peer requires a certificate and none was sent" in said, said
    assert echoes(refused.stdout) == [], refused.stdout
    # A certificate the server's CA did not sign.
    refused = run_client(server.port, *client_args(certs, certificate="self-signed"), "forged")
    assert refused.returncode != 0, refused
    said = refused.stdout + refused.stderr
    assert b"the peer rejected our certificate" in said, said
    log = server.finish()
    assert "connection 1: closed by the client" in log, log
    assert "connection 2: peer did not send a certificate" in log, log
    assert "connection 3: certificate for 'localhost' is signed by an unknown CA" in log, log


def verification_failures():
    server = Server(1, *server_args(certs))
    wrong_ca = run_client(server.port, *client_args(certs, ca="self-signed"), "hello")
    assert wrong_ca.returncode == 1, wrong_ca
    assert (wrong_ca.stderr.decode() == "echo-client: connect: certificate for 'localhost' is "
            "signed by an unknown CA\n"), wrong_ca.stderr
    assert b"echo:" not in wrong_ca.stdout, wrong_ca.stdout
    log = server.finish()
    assert "connection 1: the peer rejected our certificate (tlsv1 alert unknown ca)" in log, log

    server = Server(1, *server_args(certs, name="other-host"))
    wrong_host = run_client(server.port, *client_args(certs), "hello")
    assert wrong_host.returncode == 1, wrong_host
    assert (b"certificate for 'example.org' does not match host 'localhost'"
            in wrong_host.stderr), wrong_host.stderr
    server.finish()

    # Files that are not there: refused with the file's name, before anything listens or
    # connects (the client's port is never reached: nothing listens on port 1).
    port_for = {server_path: "0", client_path: "1"}
    missing = str(certs / "missing.pem")
    for program, args in ((server_path, ["--tls-certificate", missing,
                                         "--tls-key", str(certs / "server.key")]),
                          (server_path, ["--tls-certificate", str(certs / "server.pem"),
                                         "--tls-key", str(certs / "client.key")]),
                          (client_path, ["--tls", "--tls-ca", missing, "hello"])):
        result = subprocess.run([program, "--port", port_for[program]] + args,
                                capture_output=True, timeout=TIMEOUT)
        assert result.returncode == 1, (args, result)
        assert b"listening" not in result.stdout, (args, result.stdout)
        assert result.stderr.startswith(os.path.basename(program).encode() + b": loading the "), \
            (args, result.stderr)
    # Half a pair, or client options without --tls: usage errors.
    for program, args in ((server_path, ["--tls-certificate", str(certs / "server.pem")]),
                          (client_path, ["--tls-ca", str(certs / "ca.pem"), "hello"])):
        result = subprocess.run([program, "--port", port_for[program]] + args,
                                capture_output=True, timeout=TIMEOUT)
        assert result.returncode == 1 and b"needs" in result.stderr, (args, result)


ours_to_ours()
ours_to_python()
client_certificates()
verification_failures()
print("4 passed, 0 failed")
