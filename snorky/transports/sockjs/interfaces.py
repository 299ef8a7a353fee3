"""
The two sides of a SockJS connection: the `Channel` a transport offers
and the `SessionHandler` that an application puts behind it.

A SockJS endpoint builds one handler per connection with a
`HandlerFactory`. The Snorky adapter (:mod:`.client`) is one such
handler; the protocol test server's echo and close services are others.
"""

from typing import Any, Callable, Optional, Protocol

from twisted.internet.defer import Deferred


__all__ = ["Channel", "SessionHandler", "HandlerFactory"]


class Channel(Protocol):
    """
    What a handler may do with its connection.

    Messages are text. :meth:`encode` turns one message into the form the
    channel queues; it depends only on the kind of channel, so a message
    sent to many channels of one kind is encoded once.
    """

    #: The peer's address as text, when known.
    remote_address: Optional[str]

    def encode(self, message: str) -> Any:
        """
        Encode one message for :meth:`send_encoded`.
        """

    def send_encoded(self, encoded: Any) -> None:
        """
        Send a message encoded by :meth:`encode`.
        """

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        """
        Close the connection with a code and a reason.
        """

    def probe(self, timeout: float) -> "Deferred[bool]":
        """
        Whether the client still answers, as :meth:`snorky.Client.probe`.
        """


class SessionHandler(Protocol):
    """
    The application side of one connection. Each method is called by the
    transport: :meth:`opened` once, then :meth:`received` for each
    message in order, then :meth:`closed` once.
    """

    def opened(self) -> None:
        """
        The connection is open; messages may be sent.
        """

    def received(self, message: str) -> None:
        """
        The client sent *message*.
        """

    def closed(self) -> None:
        """
        The connection is closed, by either side or by a timeout.
        """


#: Builds the handler of a new connection, given its channel.
HandlerFactory = Callable[[Channel], SessionHandler]
