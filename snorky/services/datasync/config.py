"""
DataSync from a configuration file, so that applications in any language
can declare dealers without writing Python.

The file is TOML; DataSync reads its ``[datasync]`` table and ignores the
rest::

    [datasync]
    grace_period = 30          # optional, seconds
    timeout_interval = 120     # optional, seconds to acquire after authorizing

    [[datasync.dealers]]
    name = "all_players"
    model = "Player"
    kind = "broadcast"

    [[datasync.dealers]]
    name = "player_by_id"
    model = "Player"
    kind = "simple"
    key = "id"                 # dotted field path

    [[datasync.dealers]]
    name = "players"
    model = "Player"
    kind = "filter"

Every mistake raises :class:`ValueError` with one line naming it.
"""

from typing import Any, Dict, List, Mapping, Optional, Tuple

from twisted.internet.interfaces import IReactorTime

from snorky.configfile import load_toml
from snorky.services.datasync.backend import DataSyncBackend
from snorky.services.datasync.dealers import (
    BroadcastDealer,
    Dealer,
    FilterDealer,
    SimpleDealer,
)
from snorky.services.datasync.filters import InvalidFilter, field_getter
from snorky.services.datasync.service import DataSyncService

__all__ = [
    "dealers_from_config",
    "load_config",
    "load_dealers",
    "services_from_config",
]

_KINDS = {"broadcast": BroadcastDealer, "simple": SimpleDealer, "filter": FilterDealer}

# Option name -> (accepts floats, smallest value); they are passed as keyword
# arguments to DataSyncService, except timeout_interval (DataSyncBackend).
_OPTIONS = {
    "grace_period": (True, 0),
    "holder_timeout": (True, 0),
    "max_buffer": (False, 0),
    "max_buffer_bytes": (False, 0),
    "max_replay": (False, 0),
    "max_replay_bytes": (False, 0),
    "max_subscriptions_per_client": (False, 1),
    "max_items_per_subscription": (False, 1),
    "timeout_interval": (True, 1),
}


def _section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    section = config.get("datasync", {})
    if not isinstance(section, Mapping):
        raise ValueError("datasync: expected a table")
    unknown = sorted(set(section) - set(_OPTIONS) - {"dealers"})
    if unknown:
        raise ValueError("datasync: unknown option {!r}".format(unknown[0]))
    return section


def _text(entry: Mapping[str, Any], field: str, where: str) -> str:
    if field not in entry:
        raise ValueError('{}: missing "{}"'.format(where, field))
    value = entry[field]
    if not isinstance(value, str) or not value:
        raise ValueError('{}: "{}" must be a non-empty string'.format(where, field))
    return value


def _dealer(entry: Any, where: str) -> Dealer:
    if not isinstance(entry, Mapping):
        raise ValueError("{}: expected a table".format(where))
    name = _text(entry, "name", where)
    where = "{} ({})".format(where, name)
    model = _text(entry, "model", where)
    kind = _text(entry, "kind", where)
    if kind not in _KINDS:
        raise ValueError(
            '{}: unknown kind "{}" (expected broadcast, simple or filter)'.format(
                where, kind
            )
        )
    allowed = {"name", "model", "kind"} | ({"key"} if kind == "simple" else set())
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(
            '{}: unknown field "{}" for a {} dealer'.format(where, unknown[0], kind)
        )
    if kind != "simple":
        return _KINDS[kind](name=name, model=model)
    key = _text(entry, "key", where)
    try:
        field_getter(key)
    except InvalidFilter:
        raise ValueError('{}: key "{}" has an empty part'.format(where, key)) from None
    return SimpleDealer(name=name, model=model, key=key)


def dealers_from_config(config: Mapping[str, Any]) -> List[Dealer]:
    """
    The dealers declared in *config* (a parsed TOML document) under
    ``[[datasync.dealers]]``; none when there is no such table.

    :raises ValueError: one line naming the first mistake.
    """
    entries = _section(config).get("dealers", [])
    if not isinstance(entries, list):
        raise ValueError("datasync.dealers: expected an array of tables")
    dealers: List[Dealer] = []
    names: Dict[str, int] = {}
    for index, entry in enumerate(entries):
        dealer = _dealer(entry, "datasync.dealers[{}]".format(index))
        if dealer.name in names:
            raise ValueError(
                'datasync.dealers[{}]: the name "{}" is used by '
                "datasync.dealers[{}]".format(index, dealer.name, names[dealer.name])
            )
        names[dealer.name] = index
        dealers.append(dealer)
    return dealers


def _options(config: Mapping[str, Any]) -> Dict[str, Any]:
    options = {}
    for name, value in _section(config).items():
        if name == "dealers":
            continue
        floats, smallest = _OPTIONS[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not floats)
            or value < smallest
        ):
            raise ValueError(
                "datasync.{}: expected {} of at least {}".format(
                    name, "a number" if floats else "an integer", smallest
                )
            )
        options[name] = value
    return options


def load_config(path: str) -> Dict[str, Any]:
    """
    Read the TOML file at *path* (:func:`snorky.configfile.load_toml`).

    :raises ValueError: one line, starting with *path*, if it cannot be
        read or parsed.
    """
    return load_toml(path)


def load_dealers(path: str) -> List[Dealer]:
    """
    The dealers declared in the TOML file at *path*.

    :raises ValueError: one line, starting with *path*, naming the mistake.
    """
    config = load_config(path)
    try:
        return dealers_from_config(config)
    except ValueError as e:
        raise ValueError("{}: {}".format(path, e)) from None


def services_from_config(
    config: Mapping[str, Any],
    name: str = "datasync",
    backend_name: str = "datasync_backend",
    reactor: Optional[IReactorTime] = None,
) -> Tuple[DataSyncService, DataSyncBackend]:
    """
    A :class:`DataSyncService` with the dealers and options of *config*
    (a parsed TOML document), and the :class:`DataSyncBackend` controlling
    it.

    :raises ValueError: one line naming the first mistake.
    """
    dealers = dealers_from_config(config)
    options = _options(config)
    timeout_interval = options.pop("timeout_interval", 120)
    frontend = DataSyncService(name, dealers, reactor=reactor, **options)
    return frontend, DataSyncBackend(backend_name, frontend, timeout_interval)
