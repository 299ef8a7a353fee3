"""`PortSpec`: what one listening port serves, parsed from ``--ports``."""

from dataclasses import dataclass
from typing import Tuple

__all__ = [
    "PROTOCOLS",
    "UNKEYED_PROTOCOLS",
    "PortSpec",
    "PortSpecError",
    "parse_port_spec",
]

#: The protocols a port can serve, joined with ``+`` in a port spec.
#: ``ops`` (metrics, health, status page) serves no registry and goes alone.
PROTOCOLS = ("websocket", "sockjs", "http", "ops")

#: The protocols that hand clients to the registry's services without
#: checking the backend key: a registry with private services must not be
#: served over them (only ``http`` checks the key).
UNKEYED_PROTOCOLS = ("websocket", "sockjs")


class PortSpecError(ValueError):
    """
    A port spec that cannot be used; the text says why.
    """


@dataclass(frozen=True)
class PortSpec:
    """
    One listening port: the registry it exposes, the protocols it speaks
    and the Twisted server endpoint string it listens on.
    """

    registry: str
    protocols: Tuple[str, ...]
    endpoint: str

    def __str__(self) -> str:
        return "{}:{}:{}".format(self.registry, "+".join(self.protocols), self.endpoint)


def parse_port_spec(spec: str) -> PortSpec:
    """
    Parse ``REGISTRY:PROTOCOLS:ENDPOINT``, e.g.
    ``frontend:websocket+sockjs:tcp:5001``.

    :raises PortSpecError: naming what is wrong.
    """
    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise PortSpecError(
            "port spec {!r} is not REGISTRY:PROTOCOLS:ENDPOINT "
            "(e.g. frontend:websocket:tcp:5001)".format(spec)
        )
    registry, protocols, endpoint = parts
    names = tuple(protocols.split("+"))
    for name in names:
        if name not in PROTOCOLS:
            raise PortSpecError(
                "port spec {!r}: unknown protocol {!r} (known: {})".format(
                    spec, name, ", ".join(PROTOCOLS)
                )
            )
    if len(set(names)) != len(names):
        raise PortSpecError("port spec {!r} names a protocol twice".format(spec))
    if "ops" in names and len(names) > 1:
        raise PortSpecError("port spec {!r}: ops cannot share a port".format(spec))
    return PortSpec(registry, names, endpoint)
