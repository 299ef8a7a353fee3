"""The `Client`: one connection as services see it."""

from typing import Any, Iterable, Optional

from twisted.internet.defer import Deferred, succeed

from snorky.envelopes import encode

__all__ = ["Client", "send_to_clients", "send_encoded_to_clients"]


class Client:
    """
    One connection to a registry, as services see it.

    Transports subclass it and implement :meth:`write_frame` (and, when
    they can frame a message once for many connections, :meth:`prepare`
    and :attr:`frame_key`; when they can ping the peer, :meth:`probe`).
    Services use :attr:`identity`, :attr:`remote_address`, :meth:`send`
    and :meth:`send_encoded`; DataSync also reads :attr:`connected` and
    calls :meth:`probe`. Nothing else of a client is part of the contract
    between transports and services.

    :ivar identity: who this connection is, as set by an identity service
        or by the application; ``None`` until something sets it.
    :ivar remote_address: the peer's address as text, when known.
    :ivar connected: ``True`` until the registry is told the connection
        ended.
    """

    #: Name of the transport, for logs ("websocket", "sockjs", "http").
    transport_name = "memory"

    def __init__(self, remote_address: Optional[str] = None) -> None:
        self.identity: Any = None
        self.remote_address = remote_address
        self.connected = True

    @property
    def frame_key(self) -> Any:
        """
        Clients with equal keys share prepared frames in a fan-out.
        """
        return type(self)

    def prepare(self, data: bytes) -> Any:
        """
        Turn an encoded envelope into what :meth:`write_frame` writes.
        """
        return data

    def write_frame(self, frame: Any) -> None:
        """
        Write a prepared frame to the connection.
        """
        raise NotImplementedError

    def probe(self, timeout: float) -> "Deferred[bool]":
        """
        Find out whether the connection still answers, for a service that
        would give what this client holds to another one: fires with
        ``True`` if the peer answers within *timeout* seconds, or when the
        transport has no way to ask; with ``False`` otherwise, and the
        connection is then being dropped.
        """
        return succeed(self.connected)

    def send(self, envelope: Any) -> None:
        """
        Send one envelope (a JSON-able object) to this client.
        """
        self.send_encoded(encode(envelope))

    def send_encoded(self, data: bytes) -> None:
        """
        Send an envelope already encoded as UTF-8 JSON.

        Sending to a client that has disconnected does nothing.
        """
        if self.connected:
            self.write_frame(self.prepare(data))

    def __repr__(self) -> str:
        return "<{} {} {}>".format(
            type(self).__name__, self.transport_name, self.remote_address
        )


def send_to_clients(clients: Iterable[Client], envelope: Any) -> None:
    """
    Send one envelope to many clients, encoding it once and framing it
    once per kind of transport.
    """
    send_encoded_to_clients(clients, encode(envelope))


def send_encoded_to_clients(clients: Iterable[Client], data: bytes) -> None:
    """
    Send one envelope, already encoded as UTF-8 JSON, to many clients,
    framing it once per kind of transport.
    """
    frames: dict = {}
    # A write may disconnect a client, and with it change *clients*.
    for client in list(clients):
        if not client.connected:
            continue
        key = client.frame_key
        try:
            frame = frames[key]
        except KeyError:
            frame = frames[key] = client.prepare(data)
        client.write_frame(frame)
