"""
The one place that reads Twisted's private write buffer
(``abstract.FileDescriptor.dataBuffer`` and ``_tempDataLen``), fenced by a
feature check made once at import.

Writing a frame straight to the socket when Twisted has nothing buffered
for the connection saves the two epoll registrations and the reactor
turn that a buffered ``transport.write`` costs, which were most of the
cost of a fan-out delivery or an RPC answer (``bench/fanout.py``,
``bench/rpc.py``). Twisted has no public way to ask whether a transport
holds unsent bytes, so the shortcut reads its private attributes: if a
Twisted release changes them, :data:`SUPPORTED` is ``False``, every write
takes the public path, and ``test/transports/wsserver/test_sockets.py``
fails so that someone notices.
"""

import socket
from typing import Any, Optional

from twisted.internet import abstract, tcp

__all__ = ["SUPPORTED", "direct_socket", "nothing_buffered", "discard_buffered"]


class _FakeReactor:
    def addWriter(self, writer: Any) -> None:
        pass

    def removeWriter(self, writer: Any) -> None:
        pass


def _check() -> bool:
    """
    Whether Twisted's file descriptors still buffer writes as this module
    assumes: ``write`` appends to ``_tempDataBuffer`` and counts the bytes
    in ``_tempDataLen``, ``dataBuffer`` holds what ``doWrite`` has not
    sent yet, and TCP connections keep their socket in ``socket``.
    """
    try:
        descriptor = abstract.FileDescriptor(reactor=_FakeReactor())  # type: ignore[arg-type]
        descriptor.connected = 1
        if descriptor.dataBuffer != b"" or descriptor._tempDataLen != 0:
            return False
        descriptor.write(b"probe")
        if descriptor._tempDataLen != 5 or descriptor._tempDataBuffer != [b"probe"]:
            return False
        return "socket" in tcp.Connection.__init__.__code__.co_names
    except Exception:
        return False


#: Whether the shortcut may be used with the installed Twisted.
SUPPORTED = _check()


def direct_socket(transport: Any) -> Optional[socket.socket]:
    """
    The socket of *transport* if frames may be written to it directly (a
    plain TCP connection of Twisted's, with :data:`SUPPORTED`), else
    ``None`` (TLS, a transport of another kind, or another Twisted).
    """
    if not SUPPORTED or not isinstance(transport, tcp.Connection) or transport.TLS:
        return None
    return transport.socket


def nothing_buffered(transport: Any) -> bool:
    """
    Whether *transport*, for which :func:`direct_socket` returned a socket,
    has no bytes of its own waiting to be sent, so that new ones may go to
    the socket first.
    """
    return not transport.dataBuffer and not transport._tempDataLen


def discard_buffered(transport: Any) -> None:
    """
    Drop what a lost connection's *transport* still buffers, so that its
    memory returns at once even if something keeps the transport itself
    alive until the next full garbage collection (a twisted.web channel
    that handed the connection over to WebSocket does).
    """
    if SUPPORTED and isinstance(transport, abstract.FileDescriptor):
        if transport.connected:
            return
        transport.dataBuffer = b""
        transport.offset = 0
        transport._tempDataBuffer = []
        transport._tempDataLen = 0
