#!/usr/bin/env python3
"""A peer written from docs/wire-format.md alone talks to chat-server next to a chat-client.

    chat_wire.py CHAT_SERVER CHAT_CLIENT network|mfc

In MFC mode the peer plays a legacy MFC CHATTER: every byte the server sends it must be
exactly what MFC's CHATSRVR would send (WORD close flag, CString, WriteCount + CStrings,
little-endian, one-byte lengths for short ASCII strings), and what it sends in MFC's bytes
must reach the chat-client as text. In network mode the same, in network byte order.
"""
import sys

from chat_util import (DEADLINE, connect, conversation, encode_message, expect_closed,
                       recv_exactly, server_history, start_client, start_server)

server_path, client_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]

server, port = start_server(server_path, mode, "--exit-after", "2")
alice = None
peer = None
try:
    peer = connect(port)
    server.wait_line(r"^client 1 joined")
    alice = start_client(client_path, mode, port, "alice", "--say", "hello python")

    # alice's line, relayed: no close flag, no text, one line.
    expected = encode_message(mode, False, "", ["alice: hello python"])
    if mode == "mfc":
        assert expected == bytes.fromhex("0000 00 0100 13") + b"alice: hello python"
    else:
        assert expected == (bytes.fromhex("0000 00000000 00000001 00000013")
                            + b"alice: hello python")
    got = recv_exactly(peer, len(expected))
    assert got == expected, (got.hex(" "), expected.hex(" "))

    # The peer speaks; the server relays it to both, then shuts down after this second
    # message and tells the peer with the close flag.
    peer.sendall(encode_message(mode, False, "py: hello alice"))
    expected = encode_message(mode, False, "", ["py: hello alice"])
    got = recv_exactly(peer, len(expected))
    assert got == expected, (got.hex(" "), expected.hex(" "))
    expected = encode_message(mode, True, "the server is shutting down")
    if mode == "mfc":
        assert expected == bytes.fromhex("0100 1b") + b"the server is shutting down" + b"\0\0"
    got = recv_exactly(peer, len(expected))
    assert got == expected, (got.hex(" "), expected.hex(" "))
    expect_closed(peer)
    peer = None

    assert alice.finish() == 0, alice.describe()
    assert server.finish() == 0, server.describe()
    assert conversation(alice) == ["alice: hello python", "py: hello alice"], alice.describe()
    assert server_history(server) == ["alice: hello python", "py: hello alice"], server.describe()
    assert server.err() == [], server.describe()
finally:
    if peer is not None:
        peer.close()
    for proc in (alice, server):
        if proc is not None:
            proc.kill()
print("1 passed, 0 failed")
