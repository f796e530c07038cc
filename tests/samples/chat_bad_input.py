#!/usr/bin/env python3
"""Bad clients are disconnected with a logged reason while the others keep chatting.

    chat_bad_input.py CHAT_SERVER CHAT_CLIENT network|mfc

alice and bob chat through standard input (the interactive client). Between their rounds,
raw clients on 127.0.0.1 send what is not a message: garbage, bytes that are not UTF-8, a
record cut short by a close, a record cut short by a client that then says nothing, a record
dribbled slower than the server's per-message deadline, and a string claiming 4 GiB. Each
one is disconnected, the server's warning names the archive's error, and alice and bob go
on. At the end alice leaves (end of input), and SIGTERM shuts the server down cleanly,
telling bob and a raw client that never hangs up: the server's grace period ends it
("did not hang up in time") and the server still exits cleanly.
"""
import select
import signal
import socket
import sys
import time

from chat_util import (connect, conversation, encode_message, expect_closed, server_history,
                       start_client, start_server)

server_path, client_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
TIMEOUT_MS = 1000


def four_gibibyte_claim():
    """A message whose text claims 2^32 bytes (the length escaped to a QWORD)."""
    if mode == "network":
        return bytes.fromhex("0000 ffffffff 0000000100000000")
    return bytes.fromhex("0000 ff ffff ffffffff 0000000001000000")


def not_utf8():
    """A well-framed 4-byte text that is not UTF-8."""
    length = bytes.fromhex("00000004") if mode == "network" else bytes.fromhex("04")
    return bytes.fromhex("0000") + length + bytes.fromhex("c328a0a1")


GARBAGE = bytes(range(256)) * 4
VALID = encode_message(mode, False, "mallory: this message will never be complete")
CASES = [
    # name, bytes, whether the client then half-closes, expected words of the reason
    ("garbage", GARBAGE, False, "limit"),
    ("not UTF-8", not_utf8(), False, "UTF-8"),
    ("truncated, then closed", VALID[: len(VALID) // 2], True, "end of archive"),
    ("truncated, then silent", VALID[: len(VALID) // 2], False,
     "nothing complete within %d ms" % TIMEOUT_MS),
    ("4 GiB string", four_gibibyte_claim(), False, "limit"),
]

server, port = start_server(server_path, mode, "--timeout", str(TIMEOUT_MS))
alice = bob = None
rounds = []
try:
    alice = start_client(client_path, mode, port, "alice", interactive=True)
    bob = start_client(client_path, mode, port, "bob", interactive=True)
    alice.wait_line(r"^\*\*\* connected")
    bob.wait_line(r"^\*\*\* connected")
    next_client = 3

    def chat_round(number):
        """alice and bob each say a line; both must see both."""
        for speaker in (alice, bob):
            name = "alice" if speaker is alice else "bob"
            line = "round %d from %s" % (number, name)
            speaker.say(line)
            for listener in (alice, bob):
                listener.wait_line("^%s: %s$" % (name, line))
            rounds.append("%s: %s" % (name, line))

    def expect_rejected(client_id, reason):
        found = server.wait_line(r"client %d disconnected: receiving: (.*)$" % client_id, "err")
        assert reason in found.group(1), (reason, found.group(1))
        server.wait_line(r"^client %d disconnected$" % client_id)

    chat_round(0)
    alice_id = int(server.wait_line(r"^message 1 from client (\d+): alice: ").group(1))
    for number, (name, data, half_close, reason) in enumerate(CASES, start=1):
        mallory = connect(port)
        server.wait_line(r"^client %d joined" % next_client)
        mallory.sendall(data)
        if half_close:
            mallory.shutdown(socket.SHUT_WR)
        # While the server waits for the rest of a silent record, the others' messages are
        # relayed at once; the deadline then drops the bad client, delaying nobody.
        chat_round(number)
        expect_rejected(next_client, reason)
        expect_closed(mallory)
        next_client += 1

    # A record dribbled a byte at a time, slower than the deadline allows for a message.
    mallory = connect(port)
    server.wait_line(r"^client %d joined" % next_client)
    start = time.monotonic()
    closed = False
    for byte in VALID:
        # Four bytes per deadline at most; the history the server sends on joining is read
        # and dropped, and its close ends the dribbling.
        if select.select([mallory], [], [], TIMEOUT_MS / 4000)[0]:
            try:
                closed = not mallory.recv(65536)
            except ConnectionResetError:
                closed = True
        if closed:
            break
        try:
            mallory.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
    expect_rejected(next_client, "nothing complete within %d ms" % TIMEOUT_MS)
    expect_closed(mallory)
    assert time.monotonic() - start < 10 * TIMEOUT_MS / 1000
    chat_round(len(CASES) + 1)

    # alice leaves at end of input; then the server is told to stop and tells bob.
    alice.close_input()
    assert alice.finish() == 0, alice.describe()
    assert alice.out()[-1] == "*** left the conversation", alice.describe()
    server.wait_line(r"^client %d left$" % alice_id)
    chat_round_bob = "bob: still here"
    bob.say("still here")
    bob.wait_line("^%s$" % chat_round_bob)
    rounds.append(chat_round_bob)
    next_client += 1
    stayer = connect(port)  # says nothing, reads nothing, never hangs up
    server.wait_line(r"^client %d joined" % next_client)
    server.process.send_signal(signal.SIGTERM)
    assert bob.finish() == 0, bob.describe()
    assert server.finish() == 0, server.describe()
    server.wait_line(r"^client %d did not hang up in time$" % next_client)
    expect_closed(stayer)

    assert "shutting down: terminated" in server.out(), server.describe()
    assert "told 2 clients" in server.out(), server.describe()
    assert bob.out()[-1] == ("*** the server closed the conversation: the server is shutting "
                             "down"), bob.describe()
    # Every message exactly once, in order, and nothing from the bad clients.
    assert server_history(server) == rounds, server.describe()
    assert conversation(alice) == rounds[:-1], alice.describe()
    assert conversation(bob) == rounds, bob.describe()
    warnings = [line for line in server.err() if "WARNING" in line]
    assert len(warnings) == len(CASES) + 1, server.describe()
finally:
    for proc in (alice, bob, server):
        if proc is not None:
            proc.kill()
print("%d passed, 0 failed" % (len(CASES) + 2))
