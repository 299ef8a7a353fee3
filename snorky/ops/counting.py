"""
`PortRegistry`: what one port's transports see of its registry, counting
connections and incoming frames on the way through.

A port's transports are handed a :class:`PortRegistry` in place of the
:class:`~snorky.ServiceRegistry` they serve, so that connections and
frames are counted per port and transport without the transports or the
registry knowing about metrics. It forwards everything else.
"""

from typing import Any, Dict, Union

from snorky.client import Client
from snorky.envelopes import EnvelopeError, decode_envelope
from snorky.registry import ServiceRegistry

__all__ = ["PortCounts", "PortRegistry", "transport_label"]

#: Label of a client whose transport does not say.
UNKNOWN = "unknown"


def transport_label(client: Client) -> str:
    """
    The ``transport`` label of *client*: its transport's name, and for
    SockJS the SockJS transport its session started with
    (``sockjs_xhr_streaming``, ``sockjs_websocket``...).
    """
    name = getattr(client, "transport_name", None) or UNKNOWN
    if name == "sockjs":
        channel = getattr(client, "channel", None)
        kind = getattr(channel, "transport", None)
        if isinstance(kind, str):
            return "sockjs_" + kind
    return name


class PortCounts:
    """
    The counters of one port, each a dict from a label tuple to a number.
    Plain integers, bumped on the reactor thread and read at scrape time.

    :ivar opened: connections opened, by transport.
    :ivar closed: connections closed, by transport.
    :ivar frames_in: frames received, by transport.
    :ivar bytes_in: bytes of frames received, by transport.
    :ivar frames_out: frames written, by transport (for transports that
        do not count their own).
    :ivar bytes_out: bytes (characters for SockJS) of those frames.
    :ivar messages_in: envelopes received, by service (``unknown`` for
        those naming no service of the registry).
    """

    def __init__(self) -> None:
        self.opened: Dict[str, int] = {}
        self.closed: Dict[str, int] = {}
        self.frames_in: Dict[str, int] = {}
        self.bytes_in: Dict[str, int] = {}
        self.frames_out: Dict[str, int] = {}
        self.bytes_out: Dict[str, int] = {}
        self.messages_in: Dict[str, int] = {}

    def open_now(self) -> Dict[str, int]:
        """
        Connections open now, by transport.
        """
        return {
            label: count - self.closed.get(label, 0)
            for label, count in self.opened.items()
        }


def _bump(counts: Dict[str, int], label: str, by: int = 1) -> None:
    counts[label] = counts.get(label, 0) + by


def _frame_size(frame: Any) -> int:
    if isinstance(frame, (bytes, str)):
        return len(frame)
    payload = getattr(frame, "payloadHybi", None)
    return len(payload) if payload is not None else 0


class PortRegistry:
    """
    Stands for *registry* before one port's transports, counting into
    *counts*.

    Frames written to a client are counted by wrapping its
    ``write_frame`` when it connects, except for transports that count
    their own writes more cheaply (``counts_own_frames`` on the client
    class; the WebSocket transport counts per flush) and for the HTTP
    backend, whose responses are counted at its site.
    """

    def __init__(self, registry: ServiceRegistry, counts: PortCounts) -> None:
        self.registry = registry
        self.counts = counts
        self._labels: Dict[Client, str] = {}

    @property
    def services(self) -> Dict[str, Any]:
        """
        The registry's services, by name.
        """
        return self.registry.services

    def __getattr__(self, name: str) -> Any:
        # Anything else a transport may use is the registry's own.
        return getattr(self.registry, name)

    def client_connected(self, client: Client) -> None:
        label = transport_label(client)
        self._labels[client] = label
        _bump(self.counts.opened, label)
        # The HTTP backend's answers are counted per response, at its
        # site (Metrics.count_responses): its clients answer through send.
        if label != "http" and not getattr(client, "counts_own_frames", False):
            self._count_writes(client, label)
        self.registry.client_connected(client)

    def _count_writes(self, client: Client, label: str) -> None:
        write = client.write_frame
        frames, sizes = self.counts.frames_out, self.counts.bytes_out

        def write_frame(frame: Any) -> None:
            frames[label] = frames.get(label, 0) + 1
            sizes[label] = sizes.get(label, 0) + _frame_size(frame)
            write(frame)

        client.write_frame = write_frame  # type: ignore[method-assign]

    def client_disconnected(self, client: Client) -> None:
        label = self._labels.pop(client, None) or transport_label(client)
        _bump(self.counts.closed, label)
        self.registry.client_disconnected(client)

    def process_frame(self, client: Client, data: Union[str, bytes]) -> None:
        label = self._labels.get(client) or transport_label(client)
        _bump(self.counts.frames_in, label)
        _bump(self.counts.bytes_in, label, len(data))
        try:
            name, message = decode_envelope(data)
        except EnvelopeError:
            # The registry answers and logs it.
            self.registry.process_frame(client, data)
            return
        self._route(client, name, message)

    def process_message_from(self, client: Client, name: str, message: Any) -> None:
        # A transport that hands over decoded messages (the HTTP backend)
        # receives one frame per message.
        _bump(self.counts.frames_in, self._labels.get(client) or transport_label(client))
        self._route(client, name, message)

    def _route(self, client: Client, name: str, message: Any) -> None:
        service = name if name in self.registry.services else UNKNOWN
        _bump(self.counts.messages_in, service)
        self.registry.process_message_from(client, name, message)
