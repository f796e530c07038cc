#!/usr/bin/env python3
"""samples/rpc over TLS, on loopback.

    rpc_tls_test.py RPC_SERVER RPC_CLIENT

Our client calls our TLS server from the command line and in a batch (results and error
replies as in plaintext); Python's ssl module sends a request record by hand and reads the
reply's bytes; a client that trusts another CA, and one without the certificate that a
server with --tls-client-ca requires, fail with the reason. Certificates: tls_certs.py.
"""
import socket
import struct
import subprocess
import sys

from tls_certs import certs_dir, client_args, python_client_context, server_args

server_path, client_path = sys.argv[1], sys.argv[2]
certs = certs_dir()
TIMEOUT = 30


def start_server(clients, *extra):
    server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1",
                               "--clients", str(clients)] + list(extra),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = server.stdout.readline()
    assert first.startswith("listening on "), (first, server.stderr.read())
    return server, first.split()[-1]


def finish(server):
    try:
        out, err = server.communicate(timeout=TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, (server.returncode, out, err)
    return out


def call(port, *args, stdin=None, host="localhost"):
    # The TLS options come before the METHOD: options end there.
    return subprocess.run([client_path, "--host", host, "--port", port] + list(args),
                          input=stdin, capture_output=True, text=True, timeout=TIMEOUT)


def raw_call(port):
    """A request written by hand (rpc-protocol.h), over Python's TLS: the reply's bytes."""
    add = struct.pack(">I", 3) + b"add"
    request = (struct.pack(">I", 9) + add + struct.pack(">I", 2)
               + b"i" + struct.pack(">q", 40) + b"i" + struct.pack(">q", 2))
    with socket.create_connection(("127.0.0.1", int(port)), timeout=TIMEOUT) as raw:
        with python_client_context(certs).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(struct.pack(">I", len(request)) + request)
            reply = b""
            while len(reply) < 4 + 14:
                chunk = tls.recv(64)
                assert chunk, "the server closed after %r" % reply
                reply += chunk
            assert reply == struct.pack(">IIBBq", 14, 9, 0, ord("i"), 42), reply
            tls.unwrap()


server, port = start_server(5, *server_args(certs))
good = call(port, *client_args(certs), "add", "2", "3")
assert (good.returncode, good.stdout) == (0, "add(2, 3) = 5\n"), good
batch = call(port, *client_args(certs), stdin="concat \"hello \" world\ndivide 1 0\n",
             host="127.0.0.1")
assert batch.returncode == 1, batch
assert batch.stdout.splitlines() == ["concat('hello ', 'world') = 'hello world'",
                                     "divide(1, 0): error 4: division by zero"], batch
raw_call(port)
wrong_ca = call(port, *client_args(certs, ca="self-signed"), "add", "1", "1")
assert wrong_ca.returncode == 1 and wrong_ca.stdout == "", wrong_ca
assert (wrong_ca.stderr == "rpc-client: connect: certificate for 'localhost' is signed by an "
        "unknown CA\n"), wrong_ca.stderr
plain = call(port, "add", "1", "1")  # a plaintext client: the server refuses it, and goes on
assert plain.returncode == 1 and plain.stdout == "", plain
out = finish(server)
assert "request 1: add(2, 3) = 5" in out, out
assert "request 2: divide(1, 0) failed: division by zero" in out, out
assert "closed: the peer rejected our certificate (tlsv1 alert unknown ca)" in out, out
assert "closed: the peer does not speak TLS" in out, out

server, port = start_server(2, *server_args(certs, client_ca=True))
good = call(port, *client_args(certs, certificate="client"), "echo", "certified")
assert (good.returncode, good.stdout) == (0, "echo('certified') = 'certified'\n"), good
refused = call(port, *client_args(certs), "echo", "anonymous")
assert refused.returncode == 1 and refused.stdout == "", refused
assert "the peer requires a certificate and none was sent" in refused.stderr, refused.stderr
out = finish(server)
assert "closed: peer did not send a certificate" in out, out
print("1 passed, 0 failed")
