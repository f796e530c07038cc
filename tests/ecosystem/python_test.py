#!/usr/bin/env python3
"""afxsock from Python, the way a Python programmer writes it (README.md, "From Python").

    python_test.py SERIAL_PEER MAKE_TEST_CERTS

Each test drives the GLib main loop until its condition or a deadline; all traffic is on
loopback, every port is chosen by the kernel. Checked:

- an echo server and client exchanging 1 MiB through ``receive`` in a loop, byte-exact; the
  client's handlers connected with ``connect("receive", ...)``; the server keeps its
  accepted sockets as the README says, across a garbage collection;
- an accepted socket nobody keeps is closed (the peer sees the close, nothing is echoed);
- CSocket's blocking calls from Python against the echo server in a process of its own (a
  blocking call defers its own process's other socket notifications, as MFC does), a timer
  running during the calls;
- a Python ``Serializable`` through an MFC-format archive over a CSocketFile to a C peer,
  its bytes checked against MFC's layout with ``struct``, and the C peer's answer read back;
- TLS: the Python echo server and a blocking Python client with test certificates;
- datagrams with ``send_to`` / ``receive_from``, and ``Archive.read``;
- a SocketService whose connections are a Python class, held by the service alone;
- record mode: records taken as bytes by ``do_on_record_data`` (lent, copied into Python
  ``bytes``) and as ``GLib.Bytes`` by ``do_on_record``.
"""
import gc
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("Afx", "1.0")
from gi.repository import Afx, Gio, GLib, GObject  # noqa: E402

LOOPBACK = "127.0.0.1"
DEADLINE_S = 30


def run_until(condition, seconds=DEADLINE_S):
    """Iterates the default main context until condition() is true; False at the deadline."""
    context = GLib.MainContext.default()
    tick = GLib.timeout_add(50, lambda: GLib.SOURCE_CONTINUE)
    end = time.monotonic() + seconds
    try:
        while not condition():
            if time.monotonic() > end:
                return False
            context.iteration(True)
        return True
    finally:
        GLib.source_remove(tick)


def would_block(error):
    return error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.WOULD_BLOCK)


class EchoConnection(Afx.AsyncSocket):
    """One accepted connection: echoes what arrives, keeping what send did not take."""

    def __init__(self, server):
        super().__init__()
        self.server = server
        self.unsent = b""

    def do_on_receive(self, error_code):
        try:
            data = self.receive(65536)
        except GLib.Error as error:
            if would_block(error):
                return
            raise
        self.unsent += data
        self.flush()

    def do_on_send(self, error_code):
        self.flush()

    def flush(self):
        while self.unsent:
            try:
                sent = self.send(self.unsent[:65536])
            except GLib.Error as error:
                if would_block(error):
                    return  # on_send comes when there is room
                raise
            self.unsent = self.unsent[sent:]

    def do_on_close(self, error_code):
        self.close()
        self.server.connections.discard(self)


class EchoServer(Afx.AsyncSocket):
    """Accepts connections and owns them: they live in self.connections until they close."""

    def __init__(self, keep=True, tls=None):
        super().__init__()
        self.keep = keep
        self.connections = set()
        self.accepted = 0
        self.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, LOOPBACK)
        if tls is not None:
            self.set_tls(tls, None)
        self.listen(16)
        self.port = self.get_sock_name()[2]

    def do_on_accept(self, error_code):
        connection = EchoConnection(self)
        self.accept(connection)
        self.accepted += 1
        if self.keep:
            self.connections.add(connection)


def test_echo_one_mebibyte():
    server = EchoServer()
    payload = random.Random(1).randbytes(1 << 20)
    state = {"sent": 0, "received": bytearray(), "connected": None, "collected": False}
    client = Afx.AsyncSocket()

    def push(socket):
        while state["sent"] < len(payload):
            try:
                state["sent"] += socket.send(payload[state["sent"]:state["sent"] + 32768])
            except GLib.Error as error:
                if would_block(error):
                    return
                raise

    def on_connect(socket, error_code):
        state["connected"] = error_code

    def on_send(socket, error_code):
        push(socket)

    def on_receive(socket, error_code):
        try:
            state["received"] += socket.receive(65536)
        except GLib.Error as error:
            if not would_block(error):
                raise
        if not state["collected"] and len(state["received"]) > len(payload) // 2:
            gc.collect()  # the server's accepted socket lives on: the server keeps it
            state["collected"] = True

    # Signal handlers the usual PyGObject way; connect(host, port) is MFC's Connect.
    assert isinstance(client.connect("connect", on_connect), int)
    client.connect("send", on_send)
    client.connect("receive", on_receive)
    client.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, None)
    client.connect(LOOPBACK, server.port)
    assert run_until(lambda: len(state["received"]) >= len(payload)), (
        "echoed %d of %d bytes" % (len(state["received"]), len(payload)))
    assert state["connected"] == 0
    assert state["collected"]
    assert bytes(state["received"]) == payload, "the echo differs from what was sent"
    assert server.accepted == 1 and len(server.connections) == 1
    client.close()
    assert run_until(lambda: not server.connections), "the server never saw the close"
    server.close()


def test_unkept_accepted_socket_is_closed():
    server = EchoServer(keep=False)
    state = {"closed": None, "received": b""}
    client = Afx.AsyncSocket()
    client.connect("close", lambda socket, code: state.update(closed=code))
    client.connect("receive", lambda socket, code: state.update(received=socket.receive()))
    client.connect("connect", lambda socket, code: socket.send(b"anyone there?"))
    client.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, None)
    client.connect(LOOPBACK, server.port)
    assert run_until(lambda: state["closed"] is not None), "the unkept connection stayed open"
    assert server.accepted == 1
    assert state["received"] == b"", "an unkept connection echoed %r" % state["received"]
    client.close()
    server.close()


def serve(certs):
    """The echo server as a program of its own (python_test.py --serve [CERTS]): prints its
    port, serves until its standard input closes. A CSocket client's blocking call defers
    the other sockets' notifications of its own process (MFC's rule), so its server runs
    elsewhere."""
    tls = None
    if certs:
        tls = Afx.TlsSettings.new(Afx.TlsRole.SERVER)
        tls.set_certificate_files(os.path.join(certs, "server.pem"),
                                  os.path.join(certs, "server.key"))
    server = EchoServer(tls=tls)
    loop = GLib.MainLoop()
    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.IN | GLib.IOCondition.HUP, lambda *args: loop.quit())
    print(server.port, flush=True)
    loop.run()
    server.close()


class EchoServerProcess:
    def __init__(self, certs=None):
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"]
                                        + ([certs] if certs else []),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.process.stdout.readline()
        assert line, "the echo server process did not start"
        self.port = int(line)

    def stop(self):
        self.process.stdin.close()
        assert self.process.wait(timeout=DEADLINE_S) == 0, "the echo server process failed"


def blocking_echo(client, payload, piece_size):
    echoed = bytearray()
    for offset in range(0, len(payload), piece_size):
        piece = payload[offset:offset + piece_size]
        assert client.send(piece) == len(piece)
        want = offset + len(piece)
        while len(echoed) < want:
            data = client.receive(want - len(echoed))
            assert data, "the echo server closed early"
            echoed += data
    return bytes(echoed)


def test_blocking_socket_keeps_the_loop_running():
    server = EchoServerProcess()
    ticks = []
    timer = GLib.timeout_add(1, lambda: ticks.append(1) or GLib.SOURCE_CONTINUE)
    try:
        client = Afx.Socket()
        client.set_timeout(DEADLINE_S * 1000)
        client.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, None)
        client.connect(LOOPBACK, server.port)  # blocks, with the main loop running
        payload = random.Random(2).randbytes(256 * 1024)
        assert blocking_echo(client, payload, 16384) == payload
        # The blocking receive that waits for a reply nobody sends runs the timer meanwhile.
        client.set_timeout(200)
        before = len(ticks)
        try:
            client.receive()
            raise AssertionError("a receive with nothing coming returned")
        except GLib.Error as error:
            assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT), error.message
        assert len(ticks) > before, "no timer ran during the blocking call"
        client.close()
    finally:
        GLib.source_remove(timer)
        server.stop()


class Point(GObject.Object, Afx.Serializable):
    """MFC's CPoint-like record: LONG x, LONG y, CString label."""
    __gtype_name__ = "PyTestPoint"

    def __init__(self, x=0, y=0, label=""):
        super().__init__()
        self.x, self.y, self.label = x, y, label

    def do_serialize(self, archive):
        if archive.is_storing():
            archive.write_long(self.x)
            archive.write_long(self.y)
            archive.write_cstring(self.label)
        else:
            self.x = archive.read_long()
            self.y = archive.read_long()
            self.label = archive.read_cstring()


def test_serializable_to_a_c_peer():
    Afx.Archive.register_class_with_name(Point, "CPoint", 1, Afx.ArchiveClassFlags(0))
    point = Point(-7, 21, "héllo")

    # MFC's bytes, independently of afxsock: new-class tag, schema, name, then the fields.
    memory = Afx.Archive.new_store_to_memory(Afx.ArchiveFormat.MFC)
    memory.write_object(point)
    memory.check()
    # A label beyond ASCII is a Unicode CString: FF, FFFE, then its UTF-16 length and text.
    label = "héllo".encode("utf-16-le")
    expected = (struct.pack("<HHH", 0xFFFF, 1, 6) + b"CPoint" + struct.pack("<ii", -7, 21)
                + b"\xff\xfe\xff" + struct.pack("<B", len(label) // 2) + label)
    assert memory.steal_bytes().get_data() == expected, "not MFC's layout"

    listener = Afx.Socket()
    listener.set_timeout(DEADLINE_S * 1000)
    listener.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, LOOPBACK)
    listener.listen(1)
    peer = subprocess.Popen([SERIAL_PEER, str(listener.get_sock_name()[2])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        connection = Afx.Socket()
        listener.accept(connection)  # blocks, the main loop running
        file = Afx.SocketFile.new(connection)
        out = Afx.Archive.new_store_to_stream(file.get_output_stream(), Afx.ArchiveFormat.MFC,
                                              4096)
        out.write_object(point)
        out.close()
        archive = Afx.Archive.new_load_from_stream(file.get_input_stream(),
                                                   Afx.ArchiveFormat.MFC, 4096)
        reply = archive.read_object(Point)
        archive.check()
        output, _ = peer.communicate(timeout=DEADLINE_S)
    finally:
        if peer.poll() is None:
            peer.kill()
    assert peer.returncode == 0, "the C peer failed: %s" % output.decode()
    assert b'CPoint (-7, 21, "h\xc3\xa9llo")' in output, output.decode()
    assert isinstance(reply, Point)
    assert (reply.x, reply.y, reply.label) == (-6, 42, "HÉLLO")
    connection.close()
    listener.close()


def test_tls_echo():
    with tempfile.TemporaryDirectory() as certs:
        subprocess.run([MAKE_CERTS, certs], check=True)
        client_tls = Afx.TlsSettings.new(Afx.TlsRole.CLIENT)
        client_tls.set_ca_file(os.path.join(certs, "ca.pem"))
        server = EchoServerProcess(certs)
        try:
            client = Afx.Socket()
            client.set_timeout(DEADLINE_S * 1000)
            client.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, None)
            client.set_tls(client_tls, "localhost")
            client.connect(LOOPBACK, server.port)  # returns after the handshake
            assert client.is_tls_established()
            ok, subject, issuer, sha256 = client.get_peer_certificate_info()
            assert ok and "localhost" in subject and "afxsock test CA" in issuer and sha256
            payload = random.Random(3).randbytes(64 * 1024)
            assert blocking_echo(client, payload, len(payload)) == payload
            client.close()
        finally:
            server.stop()


def test_datagrams_and_raw_archive_reads():
    a, b = Afx.AsyncSocket(), Afx.AsyncSocket()
    for socket in (a, b):
        socket.create(0, Afx.SocketType.DGRAM, Afx.SocketEvents.ALL, LOOPBACK)
    got = []
    b.connect("receive", lambda socket, code: got.append(socket.receive_from(2048)))
    a.send_to(b"ping", b.get_sock_name()[2], LOOPBACK)
    assert run_until(lambda: got)
    assert got[0] == (b"ping", LOOPBACK, a.get_sock_name()[2]), got[0]
    a.close()
    b.close()

    store = Afx.Archive.new_store_to_memory(Afx.ArchiveFormat.NETWORK)
    store.write(b"\x00raw\xff")
    archive = Afx.Archive.new_load_from_bytes(store.steal_bytes(), Afx.ArchiveFormat.NETWORK)
    assert archive.read(3) == b"\x00ra"
    assert archive.read(1 << 40) == b"w\xff"  # a huge length allocates only what is there
    assert archive.read(10) == b""


def test_code_page_and_nuls_through_introspection():
    store = Afx.Archive.new_store_to_memory(Afx.ArchiveFormat.MFC)
    store.props.code_page = "CP949"
    store.write_cstring_len("a\0한".encode())  # a string with a NUL: bytes in, bytes out
    store.set_wide_strings(True)
    store.write_cstring("ab")
    data = store.steal_bytes()
    assert data.get_data() == bytes.fromhex("04 61 00 c7 d1 ff fe ff 02 61 00 62 00"), data
    archive = Afx.Archive.new_load_from_bytes(data, Afx.ArchiveFormat.MFC)
    assert archive.set_code_page("949")
    assert archive.read_cstring_len() == "a\0한".encode()
    assert archive.read_cstring() == "ab"
    try:
        archive.set_code_page("no such code page")
        raise AssertionError("an unknown code page was taken")
    except GLib.Error as error:
        assert error.matches(GLib.convert_error_quark(), GLib.ConvertError.NO_CONVERSION), error
    assert archive.props.code_page == "949"


if sys.argv[1] == "--serve":
    serve(sys.argv[2] if len(sys.argv) > 2 else None)
    sys.exit(0)
SERIAL_PEER, MAKE_CERTS = sys.argv[1], sys.argv[2]

class ServiceEcho(Afx.AsyncSocket):
    """A connection class for Afx.SocketService: made by the service, held by it."""

    def do_on_receive(self, error_code):
        try:
            data = self.receive()
        except GLib.Error as error:
            if would_block(error):
                return
            raise
        if data:
            self.send(data)

    def do_on_close(self, error_code):
        # After a graceful close the service leaves the connection to us (the peer may still
        # read, docs/service.md); closing it here is what ends the service's hold.
        self.close()


def test_service_holds_python_connections():
    service = Afx.SocketService.new(ServiceEcho)
    service.add_inet_port(LOOPBACK, 0)
    incoming = []
    service.connect("incoming", lambda svc, connection: incoming.append(
        type(connection).__name__) or True)
    service.start()
    port = service.get_port(0)
    replies = {}
    clients = []
    for number in range(3):
        client = Afx.AsyncSocket()
        text = b"client %d" % number
        client.connect("connect", lambda socket, code, text=text: socket.send(text))
        client.connect("receive", lambda socket, code, number=number: replies.update(
            {number: socket.receive()}))
        client.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL)
        client.connect(LOOPBACK, port)
        clients.append(client)
    gc.collect()  # nothing of Python's refers to the connections: the service holds them
    assert run_until(lambda: len(replies) == 3), "replies: %r" % replies
    assert replies == {n: b"client %d" % n for n in range(3)}, replies
    assert incoming == ["ServiceEcho"] * 3, incoming
    stats = service.get_stats()
    assert stats.connections_now == 3 and stats.bytes_received == 3 * 8, (
        stats.connections_now, stats.bytes_received)
    for client in clients:
        client.close()
    assert run_until(lambda: service.get_stats().connections_now == 0), (
        service.get_stats().connections_now)
    stopped = []
    service.stop(1000, None, lambda svc, result: stopped.append(svc.stop_finish(result)))
    assert run_until(lambda: stopped) and stopped[0] == (True, 0), stopped


class RecordEcho(Afx.AsyncSocket):
    """Record mode: takes records lent (do_on_record_data), sends each back doubled."""

    def __init__(self):
        super().__init__()
        self.got = []

    def do_on_record_data(self, data, size):  # PyGObject passes the length too
        self.got.append(bytes(data))
        self.send_record_data(bytes(data) * 2)


class RecordClient(Afx.AsyncSocket):
    """Record mode through on_record: each record a GLib.Bytes."""

    def __init__(self):
        super().__init__()
        self.got = []

    def do_on_record(self, record):
        self.got.append(record.get_data())


def test_records_lent_and_as_bytes():
    listener = Afx.AsyncSocket()
    listener.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL, LOOPBACK)
    listener.set_record_mode(True)
    listener.listen(4)
    server, client = RecordEcho(), RecordClient()
    accepted = []
    listener.connect("accept", lambda socket, code: accepted.append(socket.accept(server)))
    client.create(0, Afx.SocketType.STREAM, Afx.SocketEvents.ALL)
    client.set_record_mode(True)
    client.connect(LOOPBACK, listener.get_sock_name()[2])
    records = [b"", b"a", "한글".encode(), bytes(range(256)) * 300]  # the last: 75 KiB
    assert run_until(lambda: accepted), "no on_accept"
    for record in records:
        client.send_record_data(record)
    assert run_until(lambda: len(client.got) == len(records)), (len(server.got), len(client.got))
    assert server.got == records, [len(r) for r in server.got]
    assert client.got == [r * 2 for r in records], [len(r) for r in client.got]
    for socket in (client, server, listener):
        socket.close()


TESTS = [test_echo_one_mebibyte, test_unkept_accepted_socket_is_closed,
         test_blocking_socket_keeps_the_loop_running, test_serializable_to_a_c_peer, test_tls_echo,
         test_datagrams_and_raw_archive_reads, test_code_page_and_nuls_through_introspection,
         test_service_holds_python_connections, test_records_lent_and_as_bytes]

failed = 0
for test in TESTS:
    try:
        test()
        print("ok   %s" % test.__name__)
    except Exception as error:  # report every test, then fail
        failed += 1
        print("FAIL %s: %s: %s" % (test.__name__, type(error).__name__, error))
print("%d passed, %d failed" % (len(TESTS) - failed, failed))
sys.exit(1 if failed else 0)
