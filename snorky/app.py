"""The default app: what ``twistd -n snorky`` serves without ``--app``."""

from typing import Any, Dict, Mapping, Optional

from twisted.internet.interfaces import IReactorTime

from snorky.registry import ServiceRegistry
from snorky.services.chat import ChatService
from snorky.services.cursors import CursorsService
from snorky.services.datasync.config import services_from_config
from snorky.services.echo import EchoService
from snorky.services.identity import IdentityBackend, IdentityService
from snorky.services.messaging import MessagingService
from snorky.services.pubsub import PubSubBackend, PubSubService

__all__ = ["default_app"]


def default_app(
    config: Optional[Mapping[str, Any]] = None,
    reactor: Optional[IReactorTime] = None,
) -> Dict[str, ServiceRegistry]:
    """
    Build the default registries: ``frontend`` with the built-in services
    browsers use (``pubsub``, ``echo``, ``datasync``, ``identity``,
    ``chat``, ``messaging``, ``cursors``) and ``backend`` with their
    controls for trusted servers (``pubsub_backend``, ``datasync_backend``,
    ``identity_backend``).

    :param config: the parsed ``--config`` file, if any; its
        ``[datasync]`` table declares DataSync's dealers.
    :param reactor: the clock of every timer and log limit; the global
        reactor when ``None``.
    :raises ValueError: one line naming a mistake in *config*.
    """
    pubsub = PubSubService("pubsub")
    identity = IdentityService("identity", clock=reactor)
    datasync, datasync_backend = services_from_config(config or {}, reactor=reactor)
    frontend = ServiceRegistry(
        [
            pubsub,
            EchoService("echo"),
            datasync,
            identity,
            ChatService("chat", clock=reactor),
            MessagingService("messaging"),
            CursorsService("cursors"),
        ],
        clock=reactor,
    )
    backend = ServiceRegistry(
        [
            PubSubBackend("pubsub_backend", pubsub),
            datasync_backend,
            IdentityBackend("identity_backend", identity),
        ],
        clock=reactor,
    )
    return {"frontend": frontend, "backend": backend}
