"""`default_reactor`: the one place that falls back to the global reactor."""

from typing import Optional, TypeVar, cast

__all__ = ["default_reactor"]

R = TypeVar("R")


def default_reactor(reactor: Optional[R]) -> R:
    """
    *reactor* if given, else Twisted's global reactor.

    Everything that waits or reads the time takes a ``reactor`` (or
    ``clock``) argument so that tests can pass a
    :class:`~twisted.internet.task.Clock`; this is how such an argument
    left as ``None`` becomes the real reactor. The import happens only
    then, so importing Snorky never installs a reactor.

    :param reactor: what the caller was given, typed by the interfaces it
        uses (``IReactorTime``...).
    """
    if reactor is not None:
        return reactor
    from twisted.internet import reactor as global_reactor

    return cast(R, global_reactor)
