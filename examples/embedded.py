"""
Embedding Snorky in your own Twisted program, without twistd.

Run it from the project root with ``.venv/bin/python -m examples.embedded``; it
serves PubSub over WebSocket on port 5001 and the backend API on
127.0.0.1:5002 with the key ``example-key``.
"""

from twisted.internet import reactor

from snorky import ServiceRegistry
from snorky.ports import parse_port_spec
from snorky.server import ServerOptions, make_service
from snorky.services.pubsub import PubSubBackend, PubSubService


def main() -> None:
    pubsub = PubSubService("pubsub")
    registries = {
        "frontend": ServiceRegistry([pubsub]),
        "backend": ServiceRegistry([PubSubBackend("pubsub_backend", pubsub)]),
    }
    ports = [
        parse_port_spec("frontend:websocket:tcp:5001"),
        parse_port_spec("backend:http:tcp:5002:interface=127.0.0.1"),
    ]
    service = make_service(registries, ports, ServerOptions(backend_key="example-key"))
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()


if __name__ == "__main__":
    main()
