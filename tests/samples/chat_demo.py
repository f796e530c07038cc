#!/usr/bin/env python3
"""The chat demo, as the README runs it, plus clients that join late and leave early.

    chat_demo.py CHAT_SERVER CHAT_CLIENT network|mfc [tls]

1. Runs samples/chat/demo.sh (one server, three clients taking turns, a clean shutdown) and
   checks the conversation it prints: every client received every message exactly once, in
   order, and was told when the server closed.
2. The same conversation as separate processes driven from here, with a fourth client, dave,
   who joins first and leaves after the first message, and carol joining only once dave has
   gone: she gets the history first, then the rest, still each message exactly once.
With "tls", both again encrypted: demo.sh --tls (which makes its own certificates), and
the processes with tls_certs.py's (every client verifies the server's certificate).
"""
import pathlib
import re
import subprocess
import sys

from chat_util import DEADLINE, conversation, server_history, start_client, start_server

server_path, client_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
tls = sys.argv[4:] == ["tls"]
if tls:
    from tls_certs import certs_dir, client_args, server_args
    certs = certs_dir()
    SERVER_TLS, CLIENT_TLS = server_args(certs), client_args(certs)
else:
    SERVER_TLS, CLIENT_TLS = [], []
root = pathlib.Path(__file__).resolve().parents[2]
build = pathlib.Path(server_path).resolve().parents[2]

# The demo's conversation: (speaker, messages seen before speaking, text).
SCRIPT = [
    ("alice", 0, "Hi all! alice here, on a GLib main loop."),
    ("bob", 1, "Hello alice. bob here: CSocket and CArchive, as in CHATTER."),
    ("carol", 2, "carol here. Each message is one CArchive record."),
    ("alice", 3, "And nobody freezes while waiting for the others."),
    ("bob", 4, "The server keeps the history, so latecomers catch up."),
    ("carol", 5, "Time to go. Bye!"),
]
EXPECTED = ["%s: %s" % (name, text) for name, _, text in SCRIPT]
CLOSED = "*** the server closed the conversation: the server is shutting down"


def script_args(name):
    args = []
    for speaker, after, text in SCRIPT:
        if speaker == name:
            args += ["--after", str(after), "--say", text]
    return args


def check_demo_script():
    args = [str(root / "samples" / "chat" / "demo.sh")] + (["--mfc"] if mode == "mfc" else [])
    args += ["--tls"] if tls else []
    demo = subprocess.run(args + [str(build)], capture_output=True, text=True, timeout=DEADLINE)
    assert demo.returncode == 0, (demo.returncode, demo.stdout, demo.stderr)
    sections = {}
    current = None
    for line in demo.stdout.splitlines():
        if re.match(r"==\d+==", line):
            continue  # Valgrind's, when the programs run under it
        if line.startswith("---- "):
            current = line[len("---- "):]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    for name in ("alice", "bob", "carol"):
        lines = sections["%s's terminal" % name]
        said = [l for l in lines if not l.startswith("*** ")]
        assert said == EXPECTED, (name, demo.stdout)
        assert lines[-1] == CLOSED, (name, demo.stdout)
    log = sections["chat-server's log"]
    assert log[1].endswith(", over TLS") == tls, demo.stdout
    for name in ("alice", "bob", "carol"):
        assert sections["%s's terminal" % name][0].endswith(", over TLS") == tls, demo.stdout
    assert "shutting down: the conversation is over" in log, demo.stdout
    assert "told 3 clients" in log, demo.stdout
    # Each client waits for the server's end (over TLS, its close_notify) before closing:
    # none resets the connection.
    assert not [line for line in log if " lost " in line], demo.stdout
    assert log[-1] == "server stopped after 6 messages", demo.stdout


def check_join_and_leave():
    server, port = start_server(server_path, mode, "--exit-after", str(len(SCRIPT)), *SERVER_TLS)
    procs = [server]
    try:
        dave = start_client(client_path, mode, port, "dave", "--wait-for", "1", *CLIENT_TLS)
        alice = start_client(client_path, mode, port, "alice", *script_args("alice"), *CLIENT_TLS)
        bob = start_client(client_path, mode, port, "bob", *script_args("bob"), *CLIENT_TLS)
        procs += [dave, alice, bob]
        dave.wait_line(r"^\*\*\* left the conversation$")
        carol = start_client(client_path, mode, port, "carol", *script_args("carol"), *CLIENT_TLS)
        procs.append(carol)
        for client in (dave, alice, bob, carol):
            assert client.finish() == 0, client.describe()
        assert server.finish() == 0, server.describe()

        assert server_history(server) == EXPECTED, server.describe()
        for client in (alice, bob, carol):
            assert conversation(client) == EXPECTED, client.describe()
            assert client.out()[-1] == CLOSED, client.describe()
        # dave saw the first message (maybe the second too), each once, then left.
        seen = conversation(dave)
        assert 1 <= len(seen) <= 2 and seen == EXPECTED[:len(seen)], dave.describe()
        assert any(line.endswith(" left") for line in server.out()), server.describe()
        assert "told 3 clients" in server.out(), server.describe()
        assert server.err() == [], server.describe()
    finally:
        for proc in procs:
            proc.kill()


check_demo_script()
check_join_and_leave()
print("2 passed, 0 failed")
