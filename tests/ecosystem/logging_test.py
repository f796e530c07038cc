#!/usr/bin/env python3
"""G_MESSAGES_DEBUG=afxsock shows the connection life cycle (structured logging, domain afxsock).

Usage: logging_test.py ECHO_SERVER ECHO_CLIENT
"""
import os
import subprocess
import sys

server_path, client_path = sys.argv[1], sys.argv[2]
env = dict(os.environ, G_MESSAGES_DEBUG="afxsock")
server = subprocess.Popen([server_path, "--port", "0", "--address", "127.0.0.1", "--clients", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
try:
    port = None
    lines = []
    for line in server.stdout:
        lines.append(line)
        if line.startswith("listening on "):
            port = line.split()[-1]
            break
    assert port, lines
    client = subprocess.run([client_path, "--host", "127.0.0.1", "--port", port, "hi"],
                            capture_output=True, text=True, timeout=30, env=env)
    assert client.returncode == 0, client.stderr
    rest, _ = server.communicate(timeout=30)
finally:
    if server.poll() is None:
        server.kill()
        server.wait()
log = "".join(lines) + rest
client_log = client.stdout + client.stderr
for needle, where in [("afxsock-DEBUG", log), ("accepted descriptor", log),
                      ("peer closed descriptor", log), ("closed descriptor", log),
                      ("connected descriptor", client_log)]:
    assert needle in where, "missing %r in:\n%s" % (needle, where)
print("1 passed, 0 failed")
