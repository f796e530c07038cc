# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject overrides for afxsock (the ``Afx`` namespace).

They make the classes read as Python: ``receive`` returns ``bytes``, ``connect`` with a
callable connects a signal handler, ``Archive.read`` returns ``bytes``. Everything else is
the introspected API unchanged (README.md, "From Python", has the whole picture).
"""
from gi.repository import GObject

from ..module import get_introspection_module
from ..overrides import override

Afx = get_introspection_module("Afx")

__all__ = []


def _data(gbytes):
    data = gbytes.get_data()
    return data if data is not None else b""


def _connect(method):
    """``connect(signal, handler, *data)`` is GObject's signal connection, as everywhere in
    PyGObject; ``connect(host, port)`` is MFC's Connect (the introspected method)."""

    def connect(self, *args, **kwargs):
        if len(args) >= 2 and callable(args[1]):
            return GObject.Object.connect(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    connect.__doc__ = method.__doc__
    return connect


class AsyncSocket(Afx.AsyncSocket):
    connect = _connect(Afx.AsyncSocket.connect)

    def receive(self, size=65536, flags=0):
        """Receives what is there, up to ``size`` bytes, as ``bytes`` (``b""`` when the peer
        closed gracefully); raises ``GLib.Error`` (``Gio.IOErrorEnum.WOULD_BLOCK`` when
        nothing is there). Re-arms ``on_receive`` as the C call does."""
        return _data(self.receive_bytes(size, flags))

    def receive_from(self, size=65536, flags=0):
        """Receives a datagram: ``(data, host, port)``."""
        gbytes, host, port = self.receive_from_bytes(size, flags)
        return _data(gbytes), host, port

    def send(self, data, flags=0):
        return Afx.AsyncSocket.send(self, data, flags)

    def send_to(self, data, port, host=None, flags=0):
        return Afx.AsyncSocket.send_to(self, data, port, host, flags)


AsyncSocket = override(AsyncSocket)
__all__.append("AsyncSocket")


class Socket(Afx.Socket):
    connect = _connect(Afx.Socket.connect)

    def receive(self, size=65536, flags=0):
        """Waits (the main loop keeps running) until data arrives and returns it as
        ``bytes``; ``b""`` when the peer closed."""
        return _data(self.receive_bytes(size, flags))

    def receive_from(self, size=65536, flags=0):
        """Waits for a datagram: ``(data, host, port)``."""
        gbytes, host, port = self.receive_from_bytes(size, flags)
        return _data(gbytes), host, port

    def send(self, data, flags=0):
        return Afx.Socket.send(self, data, flags)

    def send_to(self, data, port, host=None, flags=0):
        return Afx.Socket.send_to(self, data, port, host, flags)


Socket = override(Socket)
__all__.append("Socket")


class Archive(Afx.Archive):
    def read(self, length):
        """Raw bytes, up to ``length`` (fewer at the end of the archive), as ``bytes``."""
        return _data(self.read_raw(length))


Archive = override(Archive)
__all__.append("Archive")
