#!/usr/bin/env python3
"""Runs samples/echo against loopback: server on port 0, client sends lines, both exit."""
import subprocess
import sys

server_path, client_path = sys.argv[1], sys.argv[2]
messages = ["hello", "from afxsock", "x" * 5000, "bye"]

server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1", "--clients", "2"],
                          stdout=subprocess.PIPE, text=True)
try:
    first = server.stdout.readline()
    assert first.startswith("listening on "), first
    port = first.split()[-1]
    client = subprocess.run([client_path, "--host", "127.0.0.1", "--port", port] + messages,
                            capture_output=True, text=True, timeout=30)
    assert client.returncode == 0, (client.returncode, client.stderr)
    echoes = [l[len("echo: "):] for l in client.stdout.splitlines() if l.startswith("echo: ")]
    assert echoes == messages, client.stdout
    assert "server closed the connection" in client.stdout, client.stdout
    # The same through standard input, with a host name resolved without blocking.
    client = subprocess.run([client_path, "--host", "localhost", "--port", port],
                            input="line one\nline two\n", capture_output=True, text=True,
                            timeout=30)
    assert client.returncode == 0, (client.returncode, client.stderr)
    echoes = [l[len("echo: "):] for l in client.stdout.splitlines() if l.startswith("echo: ")]
    assert echoes == ["line one", "line two"], client.stdout
    out, _ = server.communicate(timeout=30)
finally:
    if server.poll() is None:
        server.kill()
        server.wait()
assert server.returncode == 0, server.returncode
assert "connection 1: closed by the client" in out, out
print("1 passed, 0 failed")
