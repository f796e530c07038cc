#!/usr/bin/env python3
"""What every sample's command line promises (samples/common/sample-options.h).

    command_line_test.py VERSION CHAT_SERVER CHAT_CLIENT FILECOPY_CLIENT PROGRAM...

1. Every program: --version prints "NAME (afxsock) VERSION" (the project's version) and
   exits 0; --help exits 0 and lists --version.
2. filecopy-client says what is missing: no FILE, or a --port that is not a port.
3. Non-ASCII text under a UTF-8 locale: chat-client --say "héllo, café, 한글" reaches the
   server and comes back to the client intact (the samples call setlocale, so GLib converts
   the command line and the output with the locale's encoding, not ASCII's).
"""
import os
import pathlib
import re
import subprocess
import sys

DEADLINE = 30.0
version, chat_server, chat_client, filecopy_client = sys.argv[1:5]
programs = sys.argv[5:]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def run(args, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, timeout=DEADLINE,
                          **kwargs)


for program in programs:
    name = pathlib.Path(program).name
    result = run([program, "--version"])
    out = result.stdout.decode("utf-8", "replace")
    check(result.returncode == 0 and out == "%s (afxsock) %s\n" % (name, version),
          "%s --version: status %d, %r" % (name, result.returncode, out))
    result = run([program, "--help"])
    out = result.stdout.decode("utf-8", "replace")
    check(result.returncode == 0 and "--version" in out,
          "%s --help: status %d, %r" % (name, result.returncode, out))

result = run([filecopy_client])
err = result.stderr.decode()
check(result.returncode == 2 and "which FILE?" in err, "filecopy-client without FILE: %r" % err)
result = run([filecopy_client, "--port", "0", "some-file"])
err = result.stderr.decode()
check(result.returncode == 2 and "--port 0 is not a port" in err,
      "filecopy-client --port 0: %r" % err)

# The chat, in a UTF-8 locale whatever the test runner's is.
env = dict(os.environ, LC_ALL="C.UTF-8")
text = "héllo, café, 한글"
server = subprocess.Popen([chat_server, "--port", "0", "--address", "127.0.0.1",
                           "--exit-after", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env)
try:
    first = server.stdout.readline().decode("utf-8")
    port = re.match(r"^listening on (\d+)$", first).group(1)
    client = run([chat_client, "--host", "127.0.0.1", "--port", port, "--name", "zoë",
                  "--say", text, "--wait-for", "1"], env=env)
    out = client.stdout.decode("utf-8")
    check(client.returncode == 0 and "zoë: %s\n" % text in out,
          "chat-client --say %r: status %d\nstdout: %s\nstderr: %s" % (
              text, client.returncode, out, client.stderr.decode("utf-8", "replace")))
    server_out, server_err = server.communicate(timeout=DEADLINE)
    server_out = server_out.decode("utf-8")
    check(re.search(r"^message 1 from client \d+: zoë: %s$" % re.escape(text), server_out,
                    re.MULTILINE) is not None,
          "chat-server did not log the message: %r %r" % (server_out, server_err))
finally:
    if server.poll() is None:
        server.kill()
        server.wait()

for failure in failures:
    print("FAIL", failure)
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
