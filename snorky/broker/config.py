"""
The broker from the command line and the ``[broker]`` table of the
``--config`` file::

    [broker]
    url = "redis://:secret@10.0.0.5:6379/0"   # or rediss:// for TLS
    node_id = "web-1"          # optional; random by default
    max_log_length = 100000    # optional: deltas retained for replay
    max_log_age = 3600         # optional: seconds a delta is retained
    prefix = "snorky"          # optional: prefix of Redis keys and channels
    node_timeout = 10          # optional: seconds before a silent node's
                               # chat members, names and cursors are removed

``--broker URL`` and ``--node-id ID`` override the file. Without a URL
there is no shared broker: every service stays in-process.
"""

from typing import Any, Dict, Mapping, Optional

from snorky.broker.url import BrokerURLError, parse_broker_url

__all__ = ["broker_from_config"]

# Option -> (types, smallest value).
_OPTIONS: Dict[str, Any] = {
    "node_id": (str, None),
    "max_log_length": (int, 1),
    "max_log_age": ((int, float), 1),
    "prefix": (str, None),
    "node_timeout": ((int, float), 1),
}


def broker_from_config(
    config: Mapping[str, Any],
    url: Optional[str] = None,
    node_id: Optional[str] = None,
) -> Any:
    """
    The :class:`~snorky.broker.redis.RedisBroker` that *config* (a parsed
    TOML document) and the command line ask for, or ``None``.

    :raises ValueError: one line naming the first mistake.
    """
    section = config.get("broker", {})
    if not isinstance(section, Mapping):
        raise ValueError("broker: expected a table")
    unknown = sorted(set(section) - set(_OPTIONS) - {"url"})
    if unknown:
        raise ValueError("broker: unknown option {!r}".format(unknown[0]))
    options: Dict[str, Any] = {}
    for name, (kinds, smallest) in _OPTIONS.items():
        if name not in section:
            continue
        value = section[name]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError("broker.{}: wrong type {}".format(name, type(value).__name__))
        if smallest is not None and value < smallest:
            raise ValueError("broker.{}: must be at least {}".format(name, smallest))
        if isinstance(value, str) and not value:
            raise ValueError("broker.{}: must not be empty".format(name))
        options[name] = value
    url = url or section.get("url")
    if node_id:
        options["node_id"] = node_id
    if url is None:
        if node_id:
            raise ValueError("--node-id needs a broker (--broker URL)")
        return None
    if not isinstance(url, str):
        raise ValueError("broker.url: expected a string")
    parsed = parse_broker_url(url)
    try:
        from snorky.broker.redis import RedisBroker
    except ImportError as e:
        raise BrokerURLError(
            "the Redis broker needs txredisapi ({}); install snorky[cluster]".format(e)
        ) from None
    return RedisBroker(parsed, **options)
