"""
Broker URLs: ``redis://[:password@]host:port/db`` and ``rediss://...``
(TLS), as given to ``--broker`` or ``[broker] url``.
"""

from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

__all__ = ["BrokerURL", "BrokerURLError", "parse_broker_url", "broker_from_url"]


class BrokerURLError(ValueError):
    """
    A broker URL that cannot be used; the text says why.
    """


@dataclass(frozen=True)
class BrokerURL:
    """
    A parsed broker URL. The password is left out of ``repr`` and
    :meth:`__str__`, so that it does not end up in logs.
    """

    host: str
    port: int = 6379
    db: int = 0
    password: Optional[str] = field(default=None, repr=False)
    username: Optional[str] = None
    tls: bool = False

    def __str__(self) -> str:
        return "{}://{}{}:{}/{}".format(
            "rediss" if self.tls else "redis",
            (self.username or "") + (":***@" if self.password else ("@" if self.username else "")),
            self.host,
            self.port,
            self.db,
        )


def parse_broker_url(url: str) -> BrokerURL:
    """
    Parse *url*.

    :raises BrokerURLError: naming what is wrong.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise BrokerURLError("broker URL {!r}: {}".format(url, e)) from None
    if parts.scheme not in ("redis", "rediss"):
        raise BrokerURLError(
            "broker URL must start with redis:// or rediss://, not {!r}".format(
                url.split(":", 1)[0]
            )
        )
    if not parts.hostname:
        raise BrokerURLError("broker URL {!r} has no host".format(parts.scheme + "://"))
    path = parts.path.lstrip("/")
    if path and not path.isdigit():
        raise BrokerURLError("broker URL: database {!r} is not a number".format(path))
    return BrokerURL(
        host=parts.hostname,
        port=port or 6379,
        db=int(path or 0),
        password=unquote(parts.password) if parts.password else None,
        username=unquote(parts.username) if parts.username else None,
        tls=parts.scheme == "rediss",
    )



def broker_from_url(url: str, **options: Any) -> Any:
    """
    A :class:`~snorky.broker.redis.RedisBroker` for *url*, with *options*
    (``node_id``, ``max_log_length``, ``max_log_age``, ``prefix``...), as
    an embedding application passes it to
    :func:`~snorky.server.make_service`.

    :raises BrokerURLError: if *url* cannot be used.
    """
    from snorky.broker.config import broker_from_config

    return broker_from_config({"broker": dict(options, url=url)})
