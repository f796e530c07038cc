#!/usr/bin/env python3
"""Runs samples/rpc against loopback.

Calls each method from the command line, good calls and bad ones (unknown method, wrong
number or types of arguments, division by zero), then a batch from standard input, then
talks to the server as a raw client: a framed record that is not a request must get an
error reply on a connection that stays usable, and bytes that are not framed at all must
make the server close the connection and log why.

    rpc_test.py SERVER CLIENT [SERVER-OPTION...]

With --threads N among the server's options, the server must run N service threads
(afxsock-svc-*, counted in /proc) and serve everything the same.
"""
import os
import socket
import struct
import subprocess
import sys

server_path, client_path = sys.argv[1], sys.argv[2]
server_options = sys.argv[3:]

calls = [
    (["add", "2", "3"], 0, "add(2, 3) = 5"),
    (["add", "2.5", "1"], 0, "add(2.5, 1) = 3.5"),
    (["divide", "7", "2"], 0, "divide(7, 2) = 3.5"),
    (["concat", "foo", "bar", "42"], 0, "concat('foo', 'bar', 42) = 'foobar42'"),
    (["echo", "hello world"], 0, "echo('hello world') = 'hello world'"),
    (["echo", "-17"], 0, "echo(-17) = -17"),
    (["divide", "1", "0"], 1, "divide(1, 0): error 4: division by zero"),
    (["frobnicate", "1"], 1, "frobnicate(1): error 2: unknown method 'frobnicate'"),
    (["add", "2", "three"], 1,
     "add(2, 'three'): error 3: add: argument 2 is a string, expected a number"),
    (["divide", "1"], 1, "divide(1): error 3: divide takes 2 arguments, got 1"),
    (["echo"], 1, "echo(): error 3: echo takes 1 argument, got 0"),
    (["add", "9223372036854775807", "1"], 1,
     "add(9223372036854775807, 1): error 5: add: the sum does not fit 64 bits"),
]
batch = "add 1 2\n# a comment\n\nconcat \"hello \" world\ndivide 1 0\necho 0.25\n"
batch_out = ["add(1, 2) = 3", "concat('hello ', 'world') = 'hello world'",
             "divide(1, 0): error 4: division by zero", "echo(0.25) = 0.25"]


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def string(text):
    data = text.encode()
    return struct.pack(">I", len(data)) + data


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed after %d of %d bytes" % (len(data), n)
        data += chunk
    return data


def read_reply(sock):
    (length,) = struct.unpack(">I", read_exact(sock, 4))
    reply = read_exact(sock, length)
    request_id, status = struct.unpack(">IB", reply[:5])
    assert status == 1, reply
    code, length = struct.unpack(">iI", reply[5:13])
    return request_id, code, reply[13:13 + length].decode()


def raw_client(port):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        # A record too short for a request: error reply with id 0.
        sock.sendall(frame(b"\x00\x00"))
        request_id, code, message = read_reply(sock)
        assert (request_id, code) == (0, 1) and "malformed request" in message, message
        # A request with an unknown value type tag: error reply with its id.
        request = struct.pack(">I", 7) + string("add") + struct.pack(">I", 1) + b"z"
        sock.sendall(frame(request))
        request_id, code, message = read_reply(sock)
        assert (request_id, code) == (7, 1), (request_id, code, message)
        assert "unknown value type tag 0x7a" in message, message
        # Claiming 4 billion arguments is refused before anything is allocated.
        request = struct.pack(">I", 8) + string("add") + struct.pack(">I", 4000000000)
        sock.sendall(frame(request))
        request_id, code, message = read_reply(sock)
        assert (request_id, code) == (8, 1) and "exceeds the limit of 64" in message, message
        # The connection is still good: a proper call works.
        request = (struct.pack(">I", 9) + string("add") + struct.pack(">I", 2)
                   + b"i" + struct.pack(">q", 40) + b"i" + struct.pack(">q", 2))
        sock.sendall(frame(request))
        (length,) = struct.unpack(">I", read_exact(sock, 4))
        reply = read_exact(sock, length)
        assert reply == struct.pack(">IBBq", 9, 0, ord("i"), 42), reply
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        # Not records at all: "GET " announces a record of 1195725856 bytes.
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert sock.recv(100) == b"", "the server did not close the connection"


def service_threads(pid):
    names = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, task)) as comm:
            names.append(comm.read().strip())
    return sum(name.startswith("afxsock-svc-") for name in names)


server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1",
                           "--clients", str(len(calls) + 3)] + server_options,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    first = server.stdout.readline()
    assert first.startswith("listening on "), first
    port = first.split()[-1]
    if "--threads" in server_options:
        wanted = int(server_options[server_options.index("--threads") + 1])
        assert service_threads(server.pid) == wanted, (service_threads(server.pid), wanted)
    for args, code, expected in calls:
        client = subprocess.run([client_path, "--port", port] + args, capture_output=True,
                                text=True, timeout=20)
        assert client.returncode == code, (args, client.returncode, client.stdout, client.stderr)
        assert client.stdout.splitlines() == [expected], (args, client.stdout, client.stderr)
    client = subprocess.run([client_path, "--port", port], input=batch, capture_output=True,
                            text=True, timeout=20)
    assert client.returncode == 1, (client.returncode, client.stdout, client.stderr)
    assert client.stdout.splitlines() == batch_out, client.stdout
    raw_client(port)
    out, err = server.communicate(timeout=20)
finally:
    if server.poll() is None:
        server.kill()
        server.wait()
assert server.returncode == 0, (server.returncode, err)
assert "request 1: add(2, 3) = 5" in out, out
assert "request 1: divide(1, 0) failed: division by zero" in out, out
assert "request 0: malformed request: reading" in out, out
assert ("closed: the peer announced a record of 1195725856 bytes, over the maximum of 1048576"
        in out), out
# A bad command line never reaches the server.
usage = subprocess.run([client_path, "--port", port], input="concat \"unterminated\n",
                       capture_output=True, text=True, timeout=10)
assert usage.returncode == 2 and "line 1:" in usage.stderr, (usage.returncode, usage.stderr)
print("1 passed, 0 failed")
