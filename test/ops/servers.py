"""
A whole Snorky server with an ops port, on loopback ports, for the
integration and browser tests of :mod:`snorky.ops`.
"""

from typing import Any, Dict, Optional

import treq
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import reactor

from snorky.app import default_app
from snorky.ops import OpsOptions
from snorky.ports import parse_port_spec
from snorky.server import ServerOptions, make_service
from snorky.services.datasync.subscriptions import State

KEY = "ops-test-backend-key-0123456789"

#: DataSync dealers: every item, and items by colour.
CONFIG = {
    "datasync": {
        "grace_period": 0,
        "dealers": [
            {"name": "all_items", "model": "Item", "kind": "broadcast"},
            {"name": "items_by_colour", "model": "Item", "kind": "simple", "key": "colour"},
        ],
    }
}


class OpsServer:
    """
    ``frontend`` on WebSocket and SockJS, ``backend`` on HTTP, and an
    ``ops`` port, all on free loopback ports; :meth:`stop` ends it.

    :ivar registries: the default app's registries.
    :ivar urls: ``ws``, ``sockjs``, ``backend`` and ``ops`` base URLs.
    """

    def __init__(self, ops: Optional[OpsOptions] = None, limits: Any = None,
                 broker: Any = None, **websocket: Any) -> None:
        self.registries = default_app(CONFIG, reactor=reactor)
        options = ServerOptions(backend_key=KEY, ops=ops)
        if limits is not None:
            options.limits = limits
        for name, value in websocket.items():
            setattr(options.websocket, name, value)
        specs = [
            parse_port_spec("frontend:websocket+sockjs:tcp:0:interface=127.0.0.1"),
            parse_port_spec("backend:http:tcp:0:interface=127.0.0.1"),
            parse_port_spec("ops:ops:tcp:0"),
        ]
        self.service = make_service(self.registries, specs, options, broker=broker)
        self.service.startService()
        ports = {}
        for child in self.service:
            spec = getattr(child, "spec", None)
            if spec is not None:
                ports[spec.registry] = child.port.getHost().port
        self.ports = ports
        base = "http://127.0.0.1:{}"
        self.urls: Dict[str, str] = {
            "ws": "ws://127.0.0.1:{}/ws".format(ports["frontend"]),
            "sockjs": base.format(ports["frontend"]) + "/sockjs",
            "backend": base.format(ports["backend"]) + "/backend",
            "ops": base.format(ports["ops"]),
        }

    @property
    def datasync(self) -> Any:
        return self.registries["frontend"].services["datasync"]

    async def stop(self) -> None:
        """
        Stop listening, close the clients, end the subscriptions.
        """
        for subscription in list(self.datasync.subscriptions.values()):
            self.datasync.cancel(subscription)
        await self.service.stopService()
        for subscription in list(self.datasync.subscriptions.values()):
            if subscription.state is not State.ENDED:
                self.datasync.cancel(subscription)

    async def backend(self, service: str, command: str, key: str = KEY, **params: Any) -> Any:
        """
        Call *command* of *service* through the backend API; the decoded
        answer (or the HTTP status code, for a refused request).
        """
        response = await treq.post(
            self.urls["backend"],
            json={"service": service,
                  "message": {"command": command, "params": params, "callId": 1}},
            headers={"X-Backend-Key": key},
            persistent=False,
        )
        body = await response.json()
        return body if response.code == 200 else response.code

    async def readyz(self) -> Any:
        """
        ``/readyz``: its status code and text.
        """
        response = await treq.get(self.urls["ops"] + "/readyz", persistent=False)
        return response.code, await response.text()

    async def metrics(self, **headers: str) -> "Metrics":
        """
        Scrape ``/metrics``.
        """
        response = await treq.get(self.urls["ops"] + "/metrics", headers=headers,
                                  persistent=False)
        text = await response.text()
        assert response.code == 200, (response.code, text)
        return Metrics(text)


class Metrics:
    """
    One scrape, parsed with ``prometheus_client``'s own parser.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: Dict[Any, float] = {}
        self.families = set()
        for family in text_string_to_metric_families(text):
            self.families.add(family.name)
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                self.samples[key] = sample.value

    def value(self, name: str, **labels: str) -> float:
        """
        The value of sample *name* with exactly *labels*; 0 if absent.
        """
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """
        The sum of the samples *name* whose labels include *labels*.
        """
        wanted = set(labels.items())
        return sum(
            value for (sample, have), value in self.samples.items()
            if sample == name and wanted <= set(have)
        )
