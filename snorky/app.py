"""The default app: what ``twistd -n snorky`` serves without ``--app``."""

from typing import Any, Dict, Mapping, Optional

from snorky.registry import ServiceRegistry
from snorky.services.echo import EchoService
from snorky.services.pubsub import PubSubBackend, PubSubService

__all__ = ["default_app"]


def default_app(config: Optional[Mapping[str, Any]] = None) -> Dict[str, ServiceRegistry]:
    """
    Build the default registries: ``frontend`` (the built-in services
    browsers use) and ``backend`` (their controls for trusted servers).

    :param config: the parsed ``--config`` file, if any.
    """
    config = config or {}
    pubsub = PubSubService("pubsub")
    frontend = ServiceRegistry([pubsub, EchoService("echo")])
    backend = ServiceRegistry([PubSubBackend("pubsub_backend", pubsub)])
    return {"frontend": frontend, "backend": backend}
