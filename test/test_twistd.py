"""
Integration tests of ``twistd -n snorky`` run as a real subprocess, with
real WebSocket and HTTP clients on loopback.
"""

import json
import os
import signal
import socket
import sys

import treq
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from snorky.backend import SnorkyBackend
from test.helpers import (
    KEY,
    ROOT,
    ProcessOutput,
    free_port,
    run_twistd,
    twistd_path,
    wait_ended,
    wait_listening,
)
from test.test_server import answers, flood
from test.wsclient import connect


class PluginTests(TestCase):
    """
    The plugin is installed by the README's install step.
    """

    async def test_help_lists_snorky(self):
        """
        ``twistd --help``, run outside the source tree, lists snorky.
        """
        elsewhere = self.mktemp()
        os.mkdir(elsewhere)
        proto = run_twistd(["--help"], cwd=elsewhere, pythonpath=False)
        await wait_ended(proto)
        self.assertIn(b"snorky", proto.output)
        self.assertIn(b"real-time server", proto.output)


class IntroExampleTests(TestCase):
    """
    The introductory example served by twistd, end to end.
    """

    def setUp(self):
        return ensureDeferred(self.start())

    async def start(self):
        self.ws_port, self.http_port = free_port(), free_port()
        self.proto = run_twistd([
            "snorky", "--app", "examples.intro_chat:make_app",
            "--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(self.ws_port),
            "--ports", "backend:http:tcp:{}:interface=127.0.0.1".format(self.http_port),
            "--backend-key", KEY,
        ])
        self.addCleanup(lambda: ensureDeferred(self.stop()))
        await wait_listening(self.ws_port, self.proto)
        await wait_listening(self.http_port, self.proto)

    async def stop(self):
        if not self.proto.ended.called:
            self.proto.transport.signalProcess("KILL")
            await self.proto.ended

    async def test_end_to_end(self):
        """
        The chat works over WebSocket, a publish through the HTTP backend
        and through SnorkyBackend reaches a subscriber, a client that leaves
        without joining does no harm, the key is never logged, and SIGTERM
        closes clients with 1001 and ends the server promptly.
        """
        url = "ws://127.0.0.1:{}/ws".format(self.ws_port)
        alice = await connect(url)
        self.assertEqual((await alice.call("chat", "join"))["type"], "response")
        reply = await alice.call("chat", "send_message", body="hello")
        self.assertEqual(reply["type"], "response")
        self.assertEqual(
            (await alice.next_notification())["message"],
            {"type": "chatMessage", "body": "hello"},
        )

        bob = await connect(url)
        await bob.close()
        reply = await alice.call("chat", "send_message", body="still here")
        self.assertEqual(reply["type"], "response")

        self.assertEqual((await alice.call("pubsub", "subscribe", channel="news"))["type"],
                         "response")
        backend_url = "http://127.0.0.1:{}/backend".format(self.http_port)
        body = {"service": "pubsub_backend",
                "message": {"command": "publish", "callId": 1,
                            "params": {"channel": "news", "message": "via http"}}}
        response = await treq.post(backend_url, json.dumps(body).encode(),
                                   headers={"X-Backend-Key": KEY}, persistent=False)
        self.assertEqual(response.code, 200)
        self.assertEqual((await response.json())["message"]["type"], "response")
        await alice.next_notification()  # the second chat message
        self.assertEqual(
            (await alice.next_notification())["message"],
            {"type": "message", "channel": "news", "message": "via http"},
        )

        backend = SnorkyBackend(backend_url, KEY)
        await deferToThread(backend.publish, "news", "via connector")
        self.assertEqual(
            (await alice.next_notification())["message"]["message"], "via connector"
        )

        wrong = await treq.post(backend_url, b"{}", headers={"X-Backend-Key": "wrong"}, persistent=False)
        self.assertEqual(wrong.code, 401)

        self.proto.transport.signalProcess("TERM")
        self.assertEqual(await alice.closed.addTimeout(5, reactor), 1001)
        self.assertEqual(await wait_ended(self.proto, 10), signal.SIGTERM)
        self.assertNotIn(KEY.encode(), self.proto.output)
        # bob left without joining: nothing failed.
        self.assertNotIn(b"failed", self.proto.output)


class BadOptionsTests(TestCase):
    """
    Bad options stop start-up with one clear line, not a traceback.
    """

    async def assertOneLine(self, args, fragment):
        proto = run_twistd(["snorky", "--backend-key", KEY] + args)
        code = await wait_ended(proto)
        self.assertNotEqual(code, 0)
        self.assertNotIn(b"Traceback", proto.output)
        lines = [l for l in proto.output.decode().splitlines() if "snorky: " in l]
        self.assertEqual(len(lines), 1, proto.output.decode())
        self.assertIn(fragment, lines[0])

    async def test_unknown_registry(self):
        """
        An unknown registry.
        """
        await self.assertOneLine(["--ports", "nowhere:websocket:tcp:0"], "unknown registry")

    async def test_unknown_protocol(self):
        """
        An unknown protocol.
        """
        await self.assertOneLine(["--ports", "frontend:gopher:tcp:0"], "unknown protocol")

    async def test_bad_endpoint(self):
        """
        An unparsable endpoint.
        """
        await self.assertOneLine(["--ports", "frontend:websocket:nonsense"], "bad endpoint")

    async def test_app_import_fails(self):
        """
        An app that fails to import.
        """
        await self.assertOneLine(["--app", "no_such_module:app"], "cannot load --app")

    async def test_port_in_use(self):
        """
        A port already in use.
        """
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            await self.assertOneLine(
                ["--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(port)],
                "cannot listen",
            )


LOW_LIMIT = (256, 384)
SHARE = (LOW_LIMIT[1] - 128) // 2
LIMITED = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, ({}, {})); "
    "os.execv(sys.argv[1], sys.argv[1:])"
).format(*LOW_LIMIT)


def _open_file_limits(pid):
    with open("/proc/{}/limits".format(pid)) as f:
        for line in f:
            if line.startswith("Max open files"):
                return tuple(int(n) for n in line.split()[3:5])
    raise AssertionError("no open-file limit for {}".format(pid))


class LimitsTests(TestCase):
    """
    ``twistd snorky`` under a flood of half-sent requests, with a low
    open-file limit.
    """

    timeout = 90

    async def test_flood(self):
        """
        twistd raises its open-file soft limit to the hard limit and puts
        a backend port without an interface on loopback; a flood of
        half-sent requests fills the frontend's share of the open files,
        further connections get 503, the backend still answers, and the
        half-sent requests get 408 once the request timeout has passed.
        """
        ws_port, http_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SNORKY_BACKEND_KEY")}
        env["PYTHONPATH"] = ROOT
        proto = ProcessOutput()
        args = [twistd_path(), "-n", "--pidfile=", "snorky", "--backend-key", KEY,
                "--request-timeout", "10",
                "--ports", "frontend:websocket+sockjs:tcp:{}:interface=127.0.0.1".format(ws_port),
                "--ports", "backend:http:tcp:{}".format(http_port)]
        proto.transport = reactor.spawnProcess(
            proto, sys.executable, [sys.executable, "-c", LIMITED] + args, env=env, path=ROOT,
        )

        async def stop():
            if not proto.ended.called:
                proto.transport.signalProcess("KILL")
                await proto.ended

        self.addCleanup(lambda: ensureDeferred(stop()))
        await wait_listening(ws_port, proto)
        await wait_listening(http_port, proto)
        self.assertEqual(_open_file_limits(proto.transport.pid), (LOW_LIMIT[1], LOW_LIMIT[1]))
        # The backend port named no interface: it listens on loopback only.
        self.assertIn(b"backend:http:tcp:%d:interface=127.0.0.1" % http_port, proto.output)
        self.assertNotIn(b"without TLS", proto.output)

        sockets = await deferToThread(flood, ws_port, SHARE + 30)
        self.addCleanup(lambda: [s.close() for s in sockets])
        probe = await deferToThread(flood, ws_port, 1)
        self.addCleanup(probe[0].close)
        [answer] = (await deferToThread(answers, probe, 1, 20)).values()
        self.assertTrue(answer == "reset" or answer.startswith(b"HTTP/1.1 503"), answer)
        response = await treq.post(
            "http://127.0.0.1:{}/backend".format(http_port),
            b'{"service": "pubsub_backend", "message": {"command": "publish", '
            b'"params": {"channel": "c", "message": 1}, "callId": 1}}',
            headers={"X-Backend-Key": KEY}, persistent=False,
        )
        self.assertEqual(response.code, 200)
        await response.content()
        received = list((await deferToThread(answers, sockets, len(sockets), 60)).values())
        refused = [a for a in received if a == "reset" or a.startswith(b"HTTP/1.1 503")]
        timed_out = [a for a in received if a != "reset" and a.startswith(b"HTTP/1.1 408")]
        self.assertEqual((len(refused), len(timed_out)), (30, SHARE))
        script = await treq.get("http://127.0.0.1:{}/snorky.js".format(ws_port),
                                persistent=False)
        self.assertEqual(script.code, 200)
        await script.content()
