"""
Tests for snorky.ops.service and the ops port in ``--ports``, the server
tree and the ``twistd snorky`` options.
"""

import io
import json
from typing import Any, List

from twisted.application.service import Application
from twisted.logger import ILogObserver, LogLevel
from twisted.trial.unittest import TestCase

from snorky.ops import OpsOptions, OpsService
from snorky.ops.counting import PortRegistry
from snorky.ops.service import check_exposure
from snorky.ports import PortSpecError, parse_port_spec
from snorky.registry import ServiceRegistry
from snorky.server import PortService, ServerOptions, loopback_by_default, make_service
from snorky.tap import ConfigError, Options, build


def parse(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


def port_services(top: Any) -> List[PortService]:
    return [child for child in top if isinstance(child, PortService)]


class OpsPortSpecTests(TestCase):
    """
    ``ops`` in a port spec.
    """

    def test_ops_port(self) -> None:
        """
        ``NAME:ops:ENDPOINT`` is a port spec; its registry part names it.
        """
        spec = parse_port_spec("ops:ops:tcp:9102:interface=127.0.0.1")
        self.assertEqual(spec.protocols, ("ops",))
        self.assertEqual(spec.registry, "ops")

    def test_ops_alone(self) -> None:
        """
        ``ops`` cannot share a port with another protocol.
        """
        with self.assertRaises(PortSpecError) as caught:
            parse_port_spec("frontend:websocket+ops:tcp:9102")
        self.assertIn("ops cannot share a port", str(caught.exception))


class ExposureTests(TestCase):
    """
    Where an ops port may listen.
    """

    def check(self, spec: str, options: Any = None) -> None:
        check_exposure(loopback_by_default(parse_port_spec(spec)), options or OpsOptions())

    def test_loopback(self) -> None:
        """
        Loopback (named or by default) and UNIX sockets need no
        credentials.
        """
        for spec in ("ops:ops:tcp:9102", "ops:ops:tcp6:9102",
                     "ops:ops:tcp:9102:interface=127.0.0.2",
                     "ops:ops:tcp6:9102:interface=\\:\\:1", "ops:ops:unix:/tmp/ops.sock"):
            self.check(spec)

    def test_beyond_loopback_needs_credentials(self) -> None:
        """
        Another interface needs a key or basic auth.
        """
        with self.assertRaises(PortSpecError) as caught:
            self.check("ops:ops:tcp:9102:interface=0.0.0.0")
        self.assertIn("needs --ops-key-file or --ops-basic-auth-file", str(caught.exception))
        self.check("ops:ops:tcp:9102:interface=0.0.0.0", OpsOptions(key="k-0123"))
        self.check("ops:ops:tcp6:9102:interface=\\:\\:", OpsOptions(basic_auth="a:b"))


class MakeServiceTests(TestCase):
    """
    The server tree with and without an ops port.
    """

    def test_without_ops(self) -> None:
        """
        Without an ops port, transports get the registry itself and
        nothing is counted.
        """
        registry = ServiceRegistry()
        top = make_service({"frontend": registry},
                           [parse_port_spec("frontend:websocket:tcp:0")], ServerOptions())
        (port,) = port_services(top)
        self.assertIs(port.site.websocket_factory.registry, registry)
        self.assertEqual([c for c in top if isinstance(c, OpsService)], [])

    def test_with_ops(self) -> None:
        """
        With one, the ops port needs no registry of its name, the other
        ports count through a PortRegistry, and each is a readiness check.
        """
        registry = ServiceRegistry()
        ops = OpsOptions()
        top = make_service(
            {"frontend": registry},
            [parse_port_spec("frontend:websocket+sockjs:tcp:0"),
             parse_port_spec("frontend:websocket:tcp:0"),
             parse_port_spec("metrics:ops:tcp:0")],
            ServerOptions(ops=ops),
        )
        first, second, ops_port = port_services(top)
        factory = first.site.websocket_factory
        self.assertIsInstance(factory.registry, PortRegistry)
        self.assertIs(factory.registry.registry, registry)
        self.assertEqual(ops_port.endpoint._interface, "127.0.0.1")
        self.assertEqual([name for name, _ in ops.readiness.results()],
                         ["port frontend", "port frontend-2"])
        self.assertFalse(ops.readiness.ready())

    def test_ops_port_beyond_loopback(self) -> None:
        """
        An ops port on all interfaces without credentials is refused.
        """
        self.assertRaises(
            PortSpecError, make_service, {}, [parse_port_spec("ops:ops:tcp:0:interface=0.0.0.0")],
            ServerOptions())


class TapOptionsTests(TestCase):
    """
    The ops options of ``twistd snorky``.
    """

    def write(self, text: str) -> str:
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(text)
        return path

    def ops_options(self, top: Any) -> OpsOptions:
        (ops,) = [c for c in next(iter(top)) if isinstance(c, OpsService)]
        return ops.options

    def test_credentials_from_files(self) -> None:
        """
        The key and basic auth come from files, stripped.
        """
        options = parse("--ports", "ops:ops:tcp:0", "--backend-key", "k" * 20,
                        "--ops-key-file", self.write("the-ops-key\n"),
                        "--ops-basic-auth-file", self.write("me:pass-word\n"))
        ops = self.ops_options(build(options, out=io.StringIO()))
        self.assertEqual((ops.key, ops.basic_auth), ("the-ops-key", "me:pass-word"))

    def test_bad_credential_files(self) -> None:
        """
        A missing or empty file is one clear line.
        """
        for path, text in ((self.mktemp(), "cannot read --ops-key-file"),
                           (self.write("\n"), "is empty")):
            options = parse("--ports", "ops:ops:tcp:0", "--ops-key-file", path)
            with self.assertRaises(ConfigError) as caught:
                build(options, out=io.StringIO())
            self.assertIn(text, str(caught.exception))

    def test_log_json(self) -> None:
        """
        ``--log-json PATH`` gives twistd's application a JSON observer
        writing to PATH.
        """
        path = self.mktemp()
        options = parse("--ports", "frontend:websocket:tcp:0", "--log-json", path)
        top = build(options, out=io.StringIO())
        application = Application("test")
        top.setServiceParent(application)
        observer = ILogObserver(application)
        observer({"log_format": "hello", "log_level": LogLevel.info})
        with open(path) as f:
            self.assertEqual(json.loads(f.readline())["message"], "hello")

    def test_log_json_bad_path(self) -> None:
        """
        A --log-json file that cannot be opened is one clear line.
        """
        options = parse("--log-json", "/nonexistent-dir/x.log")
        with self.assertRaises(ConfigError) as caught:
            build(options, out=io.StringIO())
        self.assertIn("cannot open --log-json", str(caught.exception))
