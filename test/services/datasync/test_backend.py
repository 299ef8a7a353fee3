"""Tests for snorky.services.datasync.backend."""

import json

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.envelopes import MAX_DEPTH
from snorky.services.datasync import DataSyncBackend, DataSyncService
from test.helpers import Harness, insert, nested


class AuthorizeTests(TestCase):
    """
    authorizeSubscription checks every item before creating anything.
    """

    def setUp(self):
        self.h = Harness(max_items_per_subscription=3)

    def error(self, **params):
        answer = self.h.backend_call("authorizeSubscription", **params)
        self.assertEqual(answer["type"], "error", answer)
        return answer["message"]

    def test_token(self):
        """The answer is a fresh token of at least 43 URL-safe characters."""
        first = self.h.authorize(("AllPlayers", None))
        second = self.h.authorize(("AllPlayers", None))
        self.assertGreaterEqual(len(first), 43)
        self.assertRegex(first, "^[A-Za-z0-9_-]+$")
        self.assertNotEqual(first, second)

    def test_empty_items(self):
        """A subscription without items is allowed (and receives nothing)."""
        self.assertIsInstance(self.h.authorize(), str)

    def test_errors(self):
        """Each malformed request gets its exact error."""
        good = {"dealer": "AllPlayers", "query": None}
        cases = [
            ({}, 'Missing field "items"'),
            ({"items": {"dealer": "AllPlayers"}}, "Invalid items (expected a list)"),
            ({"items": [good, "x"]}, "Item 1 is not an object"),
            ({"items": [good, {"query": 1}]}, 'Missing field "dealer" in item 1'),
            ({"items": [{"dealer": "AllPlayers"}]}, 'Missing field "query" in item 0'),
            ({"items": [{"dealer": "Nobody", "query": 1}]}, "No such dealer"),
            ({"items": [{"dealer": ["AllPlayers"], "query": 1}]}, "No such dealer"),
            ({"items": [{"dealer": "Players", "query": ["=", "a", 1]}]}, "Invalid query"),
            ({"items": [{"dealer": "Players", "query": "red"}]}, "Invalid query"),
            ({"items": [{"dealer": "PlayerById", "query": 1}] * 4}, "Too many items"),
        ]
        for params, text in cases:
            self.assertEqual(self.error(**params), text, params)

    def test_nothing_created_on_error(self):
        """When a later item is invalid, no earlier item is indexed."""
        self.error(items=[
            {"dealer": "AllPlayers", "query": None},
            {"dealer": "Players", "query": ["==", "a", 1]},
            {"dealer": "Players", "query": ["bogus"]},
        ])
        self.h.assert_empty(self)

    def test_unknown_param(self):
        """Unexpected parameters are refused by the RPC layer."""
        answer = self.h.backend_call("authorizeSubscription", items=[], extra=1)
        self.assertEqual(answer["message"], "Invalid params")

    def test_timeout_interval(self):
        """The backend's timeout_interval bounds the wait for acquisition."""
        h = Harness(timeout_interval=5)
        token = h.authorize(("AllPlayers", None))
        h.clock.advance(5)
        self.assertEqual(h.acquire(h.browser(), token)["message"], "No such subscription")

    def test_bad_timeout_interval(self):
        """A timeout_interval that is not positive is rejected."""
        frontend = DataSyncService("datasync", reactor=Clock())
        self.assertRaises(ValueError, DataSyncBackend, "b", frontend, timeout_interval=0)


class PublishTests(TestCase):
    """
    publishDeltas validates the whole batch, then delivers it.
    """

    def setUp(self):
        self.h = Harness()
        self.browser = self.h.browser()
        self.h.subscribe(self.browser, ("AllPlayers", None))

    def test_publish(self):
        """A valid batch answers null and is delivered."""
        self.h.publish(insert({"id": 1}), insert({"id": 2}))
        self.assertEqual(len(self.h.deltas(self.browser)), 2)

    def test_bad_batch_delivers_nothing(self):
        """A batch with one bad delta is refused, naming it, and none of it is delivered."""
        answer = self.h.backend_call(
            "publishDeltas",
            deltas=[insert({"id": 1}), {"type": "insert", "model": "Player"}],
        )
        self.assertEqual(answer["message"], 'Missing field "data" in delta 1')
        self.assertEqual(self.browser.sent, [])

    def test_unencodable_batch_delivers_nothing(self):
        """
        A batch ``[ok, bad, ok]`` whose middle delta cannot be encoded (not
        JSON, or nested too deeply) is refused naming it, and none of it is
        delivered.
        """
        deep = []
        for _ in range(5000):
            deep = [deep]
        for bad, reason in [({1, 2}, "not JSON serializable"),
                            (deep, "Nested too deeply to encode")]:
            self.h.back.process_message_from(self.h.app, "datasync_backend", {
                "command": "publishDeltas", "callId": 7,
                "params": {"deltas": [insert({"id": 1}), insert({"id": bad}),
                                      insert({"id": 3})]},
            })
            answer = self.h.app.pop()["message"]
            self.assertEqual(answer["type"], "error")
            self.assertTrue(answer["message"].startswith("Delta 1 cannot be encoded: "))
            self.assertIn(reason, answer["message"])
            self.assertEqual(self.browser.sent, [])
            self.assertEqual(self.h.frontend.last_seq, 0)

    def test_deep_frame_delivers_nothing(self):
        """
        A batch frame ``[ok, deep, ok]`` whose middle delta is nested about
        950 levels is refused whole with an error naming the depth limit.
        """
        ok = json.dumps(insert({"id": 1}))
        deep = '{"type":"insert","model":"Player","data":' + "[" * 950 + "]" * 950 + "}"
        frame = ('{"service":"datasync_backend","message":{"command":"publishDeltas",'
                 '"callId":1,"params":{"deltas":[' + ",".join([ok, deep, ok]) + "]}}}")
        self.h.back.process_frame(self.h.app, frame)
        self.assertEqual(self.h.app.pop()["message"], {
            "type": "error", "message": "Invalid JSON: nested deeper than 128 levels"})
        self.assertEqual(self.browser.sent, [])

    def test_deepest_delta_delivered(self):
        """
        A delta in a frame exactly as deep as the limit is delivered intact.
        """
        # envelope, message, params, deltas, delta: five levels above data.
        data = nested(MAX_DEPTH - 5)
        self.h.publish(insert(data))
        self.assertEqual(self.h.deltas(self.browser), [insert(data)])

    def test_missing_deltas(self):
        """A call without deltas names the missing field."""
        answer = self.h.backend_call("publishDeltas")
        self.assertEqual(answer["message"], 'Missing field "deltas"')

    def test_not_a_list(self):
        """deltas that are not a list are refused."""
        answer = self.h.backend_call("publishDeltas", deltas=insert({"id": 1}))
        self.assertEqual(answer["message"], "Invalid deltas (expected a list)")
