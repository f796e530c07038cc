#!/usr/bin/env python3
"""chat-server keeps the latest --history lines, not the whole conversation.

    chat_history.py CHAT_SERVER CHAT_CLIENT network|mfc

With --history 3, alice says seven lines (each relayed back to her before the next); bob
then joins and is sent exactly the latest three, then what comes after. The server's log
numbers every message (1 to 8, none skipped) whatever it dropped from its history, and the
server shuts down cleanly telling both.
"""
import signal
import sys

from chat_util import conversation, server_history, start_client, start_server

server_path, client_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]

server, port = start_server(server_path, mode, "--history", "3")
alice = bob = None
try:
    alice = start_client(client_path, mode, str(port), "alice", interactive=True)
    alice.wait_line(r"^\*\*\* connected")
    said = []
    for number in range(1, 8):
        line = "line %d" % number
        alice.say(line)
        alice.wait_line("^alice: %s$" % line)
        said.append("alice: " + line)
    bob = start_client(client_path, mode, str(port), "bob", interactive=True)
    bob.wait_line(r"^\*\*\* connected")
    bob.wait_line("^alice: line 7$")
    alice.say("line 8")
    said.append("alice: line 8")
    bob.wait_line("^alice: line 8$")
    alice.wait_line("^alice: line 8$")
    assert conversation(bob) == said[-4:], bob.describe()
    assert conversation(alice) == said, alice.describe()

    server.process.send_signal(signal.SIGTERM)
    assert alice.finish() == 0, alice.describe()
    assert bob.finish() == 0, bob.describe()
    assert server.finish() == 0, server.describe()
    assert server_history(server) == said, server.describe()
    assert "server stopped after 8 messages" in server.out(), server.describe()
finally:
    for proc in (alice, bob, server):
        if proc is not None:
            proc.kill()
print("1 passed, 0 failed")
