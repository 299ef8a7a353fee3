"""How transports describe a peer's address to services."""

from typing import Any, Optional

__all__ = ["address_text"]


def address_text(address: Any) -> Optional[str]:
    """
    The text a :class:`~snorky.Client` shows as its ``remote_address``:
    the host of an IP address, the path of a UNIX socket, or ``None``.

    :param address: an ``IAddress`` provider, or ``None``.
    """
    host = getattr(address, "host", None)
    if isinstance(host, str):
        return host
    name = getattr(address, "name", None)
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    if isinstance(name, str):
        return name
    return None
