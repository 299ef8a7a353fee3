"""Tests for snorky.services.pubsub: PubSubService and PubSubBackend."""

from typing import Any, List

from twisted.trial.unittest import TestCase

from snorky import Client, ServiceRegistry
from snorky.services.pubsub import PubSubBackend, PubSubService
from test.helpers import RecordingClient


class OwnChannelPubSub(PubSubService):
    """
    A PubSub whose clients may only publish on ``{"user": <their identity>}``.
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.asked: List[Any] = []

    def can_publish(self, client: Client, channel: Any) -> bool:
        self.asked.append((client, channel))
        return channel == {"user": client.identity}


class PubSubTestMixin:
    """
    A registry with a PubSub frontend and its backend, and helpers to call them.
    """

    service_class = PubSubService

    def setUp(self) -> None:
        self.pubsub = self.service_class("pubsub", max_subscriptions=3)
        self.backend = PubSubBackend("pubsub_backend", self.pubsub)
        self.registry = ServiceRegistry([self.pubsub, self.backend])
        self.alice, self.bob, self.carol = self.connect(3)

    def connect(self, count: int) -> List[RecordingClient]:
        clients = [RecordingClient() for _ in range(count)]
        for client in clients:
            self.registry.client_connected(client)
        return clients

    def call(
        self, client: Client, command: str, service: str = "pubsub", **params: Any
    ) -> Any:
        """
        Call *command* and return the answer (or None if there was none).
        """
        before = len(client.sent)  # type: ignore[attr-defined]
        self.registry.process_message_from(
            client, service, {"command": command, "params": params, "callId": 1}
        )
        answers = [
            e["message"]
            for e in client.sent[before:]  # type: ignore[attr-defined]
            if e["message"].get("callId") == 1
        ]
        return answers[0] if answers else None

    def ok(self, client: Client, command: str, **params: Any) -> None:
        self.assertEqual(  # type: ignore[attr-defined]
            self.call(client, command, **params),
            {"type": "response", "callId": 1, "data": None},
        )

    def error(self, client: Client, command: str, **params: Any) -> str:
        answer = self.call(client, command, **params)
        self.assertEqual(answer["type"], "error")  # type: ignore[attr-defined]
        return answer["message"]

    def notifications(self, client: RecordingClient) -> List[Any]:
        return [m for m in client.messages("pubsub") if m.get("type") == "message"]


class PubSubServiceTests(PubSubTestMixin, TestCase):
    """
    Tests for :class:`PubSubService`.
    """

    def test_publish_reaches_subscribers(self) -> None:
        """
        A message published on a channel reaches every subscriber, publisher included.
        """
        self.ok(self.alice, "subscribe", channel="news")
        self.ok(self.bob, "subscribe", channel="news")
        self.ok(self.alice, "publish", channel="news", message={"text": "hi"})
        expected = [{"type": "message", "channel": "news", "message": {"text": "hi"}}]
        self.assertEqual(self.notifications(self.alice), expected)
        self.assertEqual(self.notifications(self.bob), expected)
        self.assertEqual(self.notifications(self.carol), [])

    def test_publisher_need_not_subscribe(self) -> None:
        """
        A client may publish on a channel it is not subscribed to.
        """
        self.ok(self.bob, "subscribe", channel="news")
        self.ok(self.carol, "publish", channel="news", message=1)
        self.assertEqual(self.notifications(self.carol), [])
        self.assertEqual(len(self.notifications(self.bob)), 1)

    def test_publish_without_subscribers(self) -> None:
        """
        Publishing on a channel nobody listens to succeeds and sends nothing else.
        """
        self.ok(self.alice, "publish", channel="void", message=None)
        self.assertEqual(self.notifications(self.alice), [])

    def test_channels_kept_apart(self) -> None:
        """
        Subscribers of one channel get nothing published on another.
        """
        self.ok(self.alice, "subscribe", channel="a")
        self.ok(self.bob, "subscribe", channel="b")
        self.ok(self.carol, "publish", channel="a", message="for a")
        self.assertEqual(len(self.notifications(self.alice)), 1)
        self.assertEqual(self.notifications(self.bob), [])

    def test_unsubscribe(self) -> None:
        """
        After unsubscribing, a client gets no more messages from that channel.
        """
        self.ok(self.alice, "subscribe", channel="news")
        self.ok(self.alice, "unsubscribe", channel="news")
        self.ok(self.bob, "publish", channel="news", message=1)
        self.assertEqual(self.notifications(self.alice), [])
        self.assertEqual(
            (self.pubsub.subscribers, self.pubsub.channels_by_client), ({}, {})
        )

    def test_channels_any_json(self) -> None:
        """
        Any JSON value is a channel, and the notification names it as published.
        """
        channels = [None, 0, 1.5, True, "x", [], [1, "a"], {}, {"room": {"id": 3}}]
        self.pubsub.max_subscriptions = len(channels)
        for channel in channels:
            self.ok(self.alice, "subscribe", channel=channel)
        for channel in channels:
            self.ok(self.bob, "publish", channel=channel, message="m")
        self.assertEqual(
            [n["channel"] for n in self.notifications(self.alice)], channels
        )

    def test_object_key_order(self) -> None:
        """
        Objects with the same members in another order are the same channel.
        """
        self.ok(self.alice, "subscribe", channel={"a": 1, "b": {"c": 2, "d": 3}})
        self.ok(
            self.bob, "publish", channel={"b": {"d": 3, "c": 2}, "a": 1}, message="m"
        )
        [note] = self.notifications(self.alice)
        self.assertEqual(note["channel"], {"a": 1, "b": {"c": 2, "d": 3}})
        self.assertEqual(
            self.error(
                self.alice, "subscribe", channel={"b": {"d": 3, "c": 2}, "a": 1}
            ),
            "Already subscribed",
        )
        self.ok(self.alice, "unsubscribe", channel={"b": {"c": 2, "d": 3}, "a": 1})

    def test_distinct_values_distinct_channels(self) -> None:
        """
        Values that differ in JSON (1 and "1", [1] and 1, true and 1) are different
        channels.
        """
        self.ok(self.alice, "subscribe", channel=1)
        for other in ("1", [1], True, {"1": 1}):
            self.ok(self.bob, "publish", channel=other, message="m")
        self.assertEqual(self.notifications(self.alice), [])

    def test_already_subscribed(self) -> None:
        """
        Subscribing twice to one channel is an error and leaves one subscription.
        """
        self.ok(self.alice, "subscribe", channel="news")
        self.assertEqual(
            self.error(self.alice, "subscribe", channel="news"), "Already subscribed"
        )
        self.ok(self.bob, "publish", channel="news", message=1)
        self.assertEqual(len(self.notifications(self.alice)), 1)

    def test_not_subscribed(self) -> None:
        """
        Unsubscribing from a channel one is not subscribed to is an error.
        """
        self.assertEqual(
            self.error(self.alice, "unsubscribe", channel="news"), "Not subscribed"
        )
        self.ok(self.bob, "subscribe", channel="news")
        self.assertEqual(
            self.error(self.alice, "unsubscribe", channel="news"), "Not subscribed"
        )
        self.assertEqual(list(self.pubsub.channels_by_client), [self.bob])

    def test_too_many_subscriptions(self) -> None:
        """
        A client may hold max_subscriptions channels; another one is refused until it
        leaves one.
        """
        for channel in ("a", "b", "c"):
            self.ok(self.alice, "subscribe", channel=channel)
        self.assertEqual(
            self.error(self.alice, "subscribe", channel="d"), "Too many subscriptions"
        )
        self.ok(self.bob, "subscribe", channel="d")
        self.ok(self.alice, "unsubscribe", channel="a")
        self.ok(self.alice, "subscribe", channel="d")
        self.assertEqual(len(self.pubsub.channels_by_client[self.alice]), 3)

    def test_no_subscriptions_allowed(self) -> None:
        """
        With max_subscriptions 0, subscribing is refused and leaves no entry behind.
        """
        self.pubsub.max_subscriptions = 0
        self.assertEqual(
            self.error(self.alice, "subscribe", channel="a"), "Too many subscriptions"
        )
        self.assertEqual(
            (self.pubsub.subscribers, self.pubsub.channels_by_client), ({}, {})
        )

    def test_channel_name_too_long(self) -> None:
        """
        A channel whose canonical JSON is longer than max_channel_length
        (1,024 by default) is refused on subscribe and publish, and leaves
        no entry behind; one exactly that long is accepted.
        """
        longest = "x" * 1022  # two quotes make 1,024 characters of JSON
        for channel in ("x" * 1023, {"a": "x" * 1020}, "x" * 1_000_000):
            self.assertEqual(
                self.error(self.alice, "subscribe", channel=channel),
                "Channel name too long",
            )
            self.assertEqual(
                self.error(self.alice, "publish", channel=channel, message=1),
                "Channel name too long",
            )
        self.assertEqual(
            (self.pubsub.subscribers, self.pubsub.channels_by_client), ({}, {})
        )
        self.ok(self.alice, "subscribe", channel=longest)
        self.ok(self.bob, "publish", channel=longest, message=1)
        self.assertEqual(len(self.notifications(self.alice)), 1)

    def test_invalid_params(self) -> None:
        """
        Commands missing their channel or message are Invalid params.
        """
        self.assertEqual(self.error(self.alice, "subscribe"), "Invalid params")
        self.assertEqual(
            self.error(self.alice, "publish", channel="x"), "Invalid params"
        )
        self.assertEqual(
            self.error(self.alice, "subscribe", channel="x", extra=1), "Invalid params"
        )

    def test_non_commands(self) -> None:
        """
        The Python methods publish_command, can_publish and client_disconnected are not
        commands.
        """
        for name in (
            "publish_command",
            "can_publish",
            "client_disconnected",
            "_remove",
        ):
            self.assertEqual(
                self.error(self.alice, name, channel="x"), "Unknown command"
            )

    def test_encodes_once(self) -> None:
        """
        A message to many subscribers is framed once.
        """
        clients = self.connect(20)
        for client in clients:
            self.ok(client, "subscribe", channel="news")
        for client in clients:
            client.frames_prepared = 0
        self.pubsub.publish("news", {"big": "x" * 1000})
        self.assertEqual(sum(c.frames_prepared for c in clients), 1)
        self.assertEqual([len(self.notifications(c)) for c in clients], [1] * 20)

    def test_publish_method(self) -> None:
        """
        The publish method delivers from Python code with the same notification.
        """
        self.ok(self.alice, "subscribe", channel=["x"])
        self.pubsub.publish(["x"], 42)
        self.assertEqual(
            self.notifications(self.alice),
            [{"type": "message", "channel": ["x"], "message": 42}],
        )

    def test_disconnect_cleans_up(self) -> None:
        """
        A disconnected client leaves no trace in the service's tables.
        """
        for channel in ("a", "b", {"c": 1}):
            self.ok(self.alice, "subscribe", channel=channel)
        self.ok(self.bob, "subscribe", channel="a")
        self.registry.client_disconnected(self.alice)
        self.assertEqual(list(self.pubsub.subscribers.values()), [{self.bob}])
        self.assertEqual(list(self.pubsub.channels_by_client), [self.bob])
        self.assertEqual(len(self.pubsub.channels_by_client[self.bob]), 1)
        self.registry.client_disconnected(self.bob)
        self.assertEqual(
            (self.pubsub.subscribers, self.pubsub.channels_by_client), ({}, {})
        )

    def test_disconnect_without_subscribing(self) -> None:
        """
        A client that never subscribed disconnects without error.
        """
        self.registry.client_disconnected(self.carol)
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertEqual(self.pubsub.channels_by_client, {})

    def test_disconnected_not_written(self) -> None:
        """
        After a subscriber disconnects, publishing does not write to it.
        """
        self.ok(self.alice, "subscribe", channel="news")
        self.ok(self.bob, "subscribe", channel="news")
        self.registry.client_disconnected(self.alice)
        sent = len(self.alice.sent)
        self.ok(self.carol, "publish", channel="news", message=1)
        self.assertEqual(len(self.alice.sent), sent)
        self.assertEqual(len(self.notifications(self.bob)), 1)

    def test_dropped_during_fanout(self) -> None:
        """
        A subscriber whose transport drops it while receiving does not disturb the
        others.
        """
        registry = self.registry

        class Dropping(RecordingClient):
            def write_frame(self, frame: Any) -> None:
                super().write_frame(frame)
                if '"type":"message"' in frame.decode():
                    registry.client_disconnected(self)

        droppers = [Dropping() for _ in range(3)]
        listeners = self.connect(3)
        for client in droppers + listeners:
            self.ok(client, "subscribe", channel="news")
        self.pubsub.publish("news", "m")
        self.assertEqual(
            [len(self.notifications(c)) for c in droppers + listeners], [1] * 6
        )
        self.assertEqual(list(self.pubsub.subscribers.values()), [set(listeners)])

    def test_many_clients_cleanup(self) -> None:
        """
        Many clients with many subscriptions all leave empty tables behind.
        """
        clients = self.connect(100)
        for i, client in enumerate(clients):
            for j in range(3):
                self.ok(client, "subscribe", channel=[i % 7, j])
        for client in clients:
            self.registry.client_disconnected(client)
        self.assertEqual(
            (self.pubsub.subscribers, self.pubsub.channels_by_client), ({}, {})
        )


class PolicyTests(PubSubTestMixin, TestCase):
    """
    Tests for the ``can_publish`` policy and :class:`PubSubBackend`.
    """

    service_class = OwnChannelPubSub

    def test_not_authorized(self) -> None:
        """
        A publish the policy refuses is Not authorized and reaches nobody.
        """
        self.alice.identity = "alice"
        self.ok(self.bob, "subscribe", channel={"user": "bob"})
        self.assertEqual(
            self.error(self.alice, "publish", channel={"user": "bob"}, message="x"),
            "Not authorized",
        )
        self.assertEqual(self.notifications(self.bob), [])
        self.assertEqual(self.pubsub.asked, [(self.alice, {"user": "bob"})])

    def test_authorized(self) -> None:
        """
        A publish the policy allows is delivered.
        """
        self.alice.identity = "alice"
        self.ok(self.bob, "subscribe", channel={"user": "alice"})
        self.ok(self.alice, "publish", channel={"user": "alice"}, message="x")
        self.assertEqual(len(self.notifications(self.bob)), 1)

    def test_default_allows(self) -> None:
        """
        The default policy allows everyone to publish anywhere.
        """
        self.assertTrue(PubSubService("p").can_publish(RecordingClient(), "any"))

    def test_backend_bypasses_policy(self) -> None:
        """
        PubSubBackend publishes into the frontend whatever its policy says.
        """
        backend_client = RecordingClient()
        self.ok(self.bob, "subscribe", channel={"user": "bob"})
        answer = self.call(
            backend_client,
            "publish",
            service="pubsub_backend",
            channel={"user": "bob"},
            message={"from": "server"},
        )
        self.assertEqual(answer, {"type": "response", "callId": 1, "data": None})
        self.assertEqual(
            self.notifications(self.bob),
            [
                {
                    "type": "message",
                    "channel": {"user": "bob"},
                    "message": {"from": "server"},
                }
            ],
        )
        self.assertEqual(self.pubsub.asked, [])

    def test_backend_invalid_params(self) -> None:
        """
        A backend publish without a message is Invalid params.
        """
        answer = self.call(
            RecordingClient(), "publish", service="pubsub_backend", channel="x"
        )
        self.assertEqual(answer["message"], "Invalid params")

    def test_backend_has_no_subscribe(self) -> None:
        """
        The backend service only publishes.
        """
        answer = self.call(
            RecordingClient(), "subscribe", service="pubsub_backend", channel="x"
        )
        self.assertEqual(answer["message"], "Unknown command")
