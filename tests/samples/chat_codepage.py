#!/usr/bin/env python3
"""chat-server and chat-client in MFC's format with a Korean ANSI code page (CP949).

    chat_codepage.py CHAT_SERVER CHAT_CLIENT

A peer written from docs/wire-format.md plays a legacy ANSI MFC CHATTER built for CP949: it
decodes what the server sends with Python's own cp949 codec, and speaks CP949 itself. Two
chat-clients with --mfc --codepage=CP949 take part: alice's Korean line must reach bob and
the peer, the peer's must reach alice and bob, and the bytes on the wire must be narrow
CP949 strings (no UTF-16, no UTF-8). A line with a character CP949 lacks is not sent, and
the client says why. The options are checked too: --codepage without --mfc, and an unknown
code page.
"""
import os
import struct
import subprocess
import sys

from chat_util import (DEADLINE, connect, conversation, expect_closed, recv_exactly,
                       server_history, start_client, start_server)

server_path, client_path = sys.argv[1], sys.argv[2]
# The clients read --say and print in the locale's encoding: make it UTF-8.
os.environ["LC_ALL"] = "C.UTF-8"

CP = "--codepage=CP949"


def encode_cp949_string(text):
    """A narrow MFC CString (§4.1, §5.5) in CP949, as an ANSI CHATTER writes it."""
    data = text.encode("cp949")
    assert len(data) < 0xFF
    return struct.pack("<B", len(data)) + data


def encode_message(close, text, lines=()):
    return (struct.pack("<H", 1 if close else 0) + encode_cp949_string(text)
            + struct.pack("<H", len(lines)) + b"".join(encode_cp949_string(l) for l in lines))


def read_cp949_string(sock):
    """A CString as the peer reads it: narrow only (an ANSI peer here), decoded as CP949."""
    n = recv_exactly(sock, 1)[0]
    assert n < 0xFF, "not a short narrow string: length byte %02x" % n
    raw = recv_exactly(sock, n)
    return raw, raw.decode("cp949")


def read_message(sock):
    close = struct.unpack("<H", recv_exactly(sock, 2))[0]
    _, text = read_cp949_string(sock)
    count = struct.unpack("<H", recv_exactly(sock, 2))[0]
    lines = [read_cp949_string(sock) for _ in range(count)]
    return close, text, lines


checks = 0

# The options themselves.
for args, message in (([server_path, "--codepage=CP949"], "--codepage needs --mfc"),
                      ([client_path, "--codepage=CP949"], "--codepage needs --mfc"),
                      ([server_path, "--mfc", "--codepage=CP99999"], "code page 'CP99999' is not known"),
                      ([client_path, "--mfc", "--codepage=SHIFT_JIS"],
                       "does not keep ASCII as it is")):
    result = subprocess.run(args, capture_output=True, text=True, timeout=DEADLINE)
    assert result.returncode == 2 and message in result.stderr, (args, result)
    checks += 1
for path in (server_path, client_path):
    result = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=DEADLINE)
    assert result.returncode == 0 and "--codepage=CP" in result.stdout, result.stdout
    checks += 1

server, port = start_server(server_path, "mfc", CP, "--exit-after", "2")
alice = bob = peer = None
try:
    server.wait_line(r"^messages in MFC's archive format, code page CP949$")
    peer = connect(port)
    server.wait_line(r"^client 1 joined")
    bob = start_client(client_path, "mfc", port, "bob", CP, "--wait-for", "2")
    server.wait_line(r"^client 2 joined")
    bob.wait_line(r"^\*\*\* connected to .* as bob, code page CP949$")
    # An emoji is not in CP949: refused by the client itself, which goes on.
    alice = start_client(client_path, "mfc", port, "alice", CP, "--say", "\U0001F600 smile",
                         "--say", "안녕하세요, 세계", "--wait-for", "2")
    alice.wait_line(r"^\*\*\* not sent: writing CString at offset 2: the character U\+1F600 "
                    r"'\U0001F600' at byte 7 of the text has no encoding in code page CP949$")
    checks += 1

    # alice's line reaches the peer as CP949 bytes, narrow, decoded here with Python's codec.
    close, text, lines = read_message(peer)
    expected = "alice: 안녕하세요, 세계"
    assert (close, text) == (0, "") and [l[1] for l in lines] == [expected], (close, text, lines)
    assert lines[0][0] == expected.encode("cp949"), lines[0][0].hex(" ")
    checks += 1

    # The peer speaks CP949; everyone gets it, the peer too.
    said = "py: 반갑습니다"
    peer.sendall(encode_message(False, said))
    close, text, lines = read_message(peer)
    assert (close, [l[1] for l in lines]) == (0, [said]), (close, lines)
    assert lines[0][0] == said.encode("cp949")
    close, text, lines = read_message(peer)
    assert close == 1 and text == "the server is shutting down", (close, text)
    expect_closed(peer)
    peer = None
    checks += 1

    for client in (alice, bob):
        assert client.finish() == 0, client.describe()
        assert conversation(client) == [expected, said], client.describe()
        checks += 1
    assert server.finish() == 0, server.describe()
    assert server_history(server) == [expected, said], server.describe()
    assert server.err() == [], server.describe()
    checks += 1
finally:
    if peer is not None:
        peer.close()
    for proc in (alice, bob, server):
        if proc is not None:
            proc.kill()
print("%d passed, 0 failed" % checks)
