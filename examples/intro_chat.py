"""
The introductory example: a tiny chat service, served by ``twistd``.

Run it from the project root::

    .venv/bin/twistd -n --pidfile= snorky --app examples.intro_chat:make_app \\
        --ports frontend:websocket:tcp:5001 \\
        --ports backend:http:tcp:5002:interface=127.0.0.1 --backend-key K
"""

from snorky import RPCService, ServiceRegistry, rpc_command
from snorky.services.pubsub import PubSubBackend, PubSubService


class MyChatService(RPCService):
    def __init__(self, name):
        super().__init__(name)
        self.clients = set()

    @rpc_command
    def join(self, req):
        self.clients.add(req.client)

    @rpc_command
    def send_message(self, req, body):
        for client in self.clients:
            self.send_message_to(client, {"type": "chatMessage", "body": body})

    def client_disconnected(self, client):
        # Every client that disconnects, joined or not.
        self.clients.discard(client)


def make_app():
    """
    The registries: ``frontend`` with the chat and PubSub, ``backend``
    with PubSub's backend.
    """
    pubsub = PubSubService("pubsub")
    return {
        "frontend": ServiceRegistry([MyChatService("chat"), pubsub]),
        "backend": ServiceRegistry([PubSubBackend("pubsub_backend", pubsub)]),
    }
