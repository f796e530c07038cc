#!/usr/bin/env python3
"""afxsock from Python through GObject introspection.

A Python subclass of Afx.AsyncSocket overrides the receive notification, reads a
length-prefixed record from a C peer, decodes it with Afx.Archive, and answers with a record
archived the same way; the C peer checks the reply byte for byte. Python also checks the
request's bytes against the wire format, with struct, independently of afxsock.
"""
import struct
import subprocess
import sys

import gi

gi.require_version("Afx", "1.0")
from gi.repository import Afx, GLib, GObject  # noqa: E402

PEER = sys.argv[1]
result = {"request_checked": False, "peer_status": None, "error": None}
loop = GLib.MainLoop()


def expected_request():
    text = "hello from C".encode()
    return (struct.pack(">I", 42) + struct.pack(">I", len(text)) + text
            + struct.pack(">d", 2.5))


class Connection(Afx.AsyncSocket):
    def __init__(self):
        super().__init__()
        self.pending = b""

    def do_on_receive(self, error_code):
        data = self.receive_bytes(65536, 0)
        self.pending += data.get_data() or b""
        if len(self.pending) < 4:
            return
        (length,) = struct.unpack(">I", self.pending[:4])
        if len(self.pending) < 4 + length:
            return
        record, self.pending = self.pending[4:4 + length], self.pending[4 + length:]
        if record != expected_request():
            result["error"] = "request bytes differ: %r" % record
            loop.quit()
            return
        result["request_checked"] = True
        archive = Afx.Archive.new_load_from_bytes(GLib.Bytes.new(record),
                                                  Afx.ArchiveFormat.NETWORK)
        number = archive.read_dword()
        text = archive.read_cstring()
        value = archive.read_double()
        archive.check()
        reply = Afx.Archive.new_store_to_memory(Afx.ArchiveFormat.NETWORK)
        reply.write_dword(number + 1)
        reply.write_cstring(text.upper())
        reply.write_double(value * 2)
        reply.check()
        payload = reply.steal_bytes().get_data()
        self.send_bytes(GLib.Bytes.new(struct.pack(">I", len(payload)) + payload), 0)

    def do_on_close(self, error_code):
        self.close()


class Listener(Afx.AsyncSocket):
    def __init__(self):
        super().__init__()
        self.connections = []

    def do_on_accept(self, error_code):
        connection = Connection()
        if self.accept(connection):
            self.connections.append(connection)


def on_peer_exit(pid, status):
    result["peer_status"] = status
    loop.quit()


def on_deadline():
    result["error"] = "deadline passed"
    loop.quit()
    return GLib.SOURCE_REMOVE


listener = Listener()
listener.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, "127.0.0.1")
listener.listen(5)
ok, address, port = listener.get_sock_name()
assert ok and port > 0

pid, _, _, _ = GLib.spawn_async([PEER, str(port)], flags=GLib.SpawnFlags.DO_NOT_REAP_CHILD)
GLib.child_watch_add(GLib.PRIORITY_DEFAULT, pid, on_peer_exit)
GLib.timeout_add_seconds(20, on_deadline)
loop.run()

assert result["error"] is None, result["error"]
assert result["request_checked"], "the request never arrived"
assert result["peer_status"] == 0, "the C peer failed (status %r)" % result["peer_status"]
assert isinstance(listener, GObject.Object)
print("1 passed, 0 failed")
