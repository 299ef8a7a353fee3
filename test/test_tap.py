"""Tests for snorky.tap: the options and service tree of ``twistd snorky``."""

import gc
import io
import os

from twisted.application.service import IServiceCollection
from twisted.trial.unittest import TestCase

from snorky.limits import PortLimits
from snorky.registry import ServiceRegistry
from snorky.server import PortService
from snorky.tap import (
    KEY_ENV,
    ConfigError,
    Options,
    SnorkyService,
    build,
    makeService,
    server_options,
)


def parse(*args):
    options = Options()
    options.parseOptions(list(args))
    return options


def make_registries():
    """
    An app callable for --app: one registry named 'only'.
    """
    return {"only": ServiceRegistry()}


def not_registries():
    """
    An app callable for --app that returns the wrong thing.
    """
    return ["nope"]


class OptionsTests(TestCase):
    """
    Tests for parsing the command line.
    """

    def test_defaults(self):
        """
        Without arguments no port is named and the transports keep their
        defaults.
        """
        options = parse()
        self.assertEqual(options["ports"], [])
        self.assertEqual(options["ping-interval"], 90.0)
        self.assertEqual(options["max-message-size"], 1 << 20)
        self.assertIsNone(options["max-connections"])
        self.assertEqual(options["allowed-origins"], [])

    def test_repeatable(self):
        """
        --ports and --allowed-origin may be given several times.
        """
        options = parse(
            "--ports", "frontend:websocket:tcp:1",
            "--ports", "backend:http:tcp:2",
            "--allowed-origin", "https://a.example",
            "--allowed-origin", "https://b.example",
        )
        self.assertEqual(options["ports"], ["frontend:websocket:tcp:1", "backend:http:tcp:2"])
        self.assertEqual(
            options["allowed-origins"], ["https://a.example", "https://b.example"]
        )

    def test_typed(self):
        """
        Numeric options are converted.
        """
        options = parse("--ping-interval", "5", "--max-connections", "10",
                        "--write-delay", "0.002")
        self.assertEqual(options["write-delay"], 0.002)
        self.assertEqual(options["ping-interval"], 5.0)
        self.assertEqual(options["max-connections"], 10)


class HelpTests(TestCase):
    """
    Tests for the text of ``twistd snorky --help``.
    """

    def test_no_stray_spaces(self):
        """
        No help text keeps the indentation of the docstring it came from.
        """
        for width in (60, 80, 120):
            usage = Options().getUsage(width)
            self.assertNotIn("e.g.  ", usage)
            self.assertIn("e.g. https://example.com", " ".join(usage.split()))

    def test_option_names_whole(self):
        """
        The long description never breaks an option name at a hyphen, at
        any width, and says all it says.
        """
        for width in range(40, 130):
            usage = Options().getUsage(width)
            description = usage[usage.index("Run a Snorky server."):]
            self.assertFalse(
                [line for line in description.splitlines() if line.endswith("-")], width
            )
            self.assertEqual(" ".join(description.split()), " ".join(Options.longdesc.split()))


class ServerOptionsTests(TestCase):
    """
    Tests for server_options, the transports' options from the command line.
    """

    def test_allowed_origins(self) -> None:
        """
        --allowed-origin reaches both the WebSocket and the SockJS options;
        without it both allow any origin.
        """
        options = server_options(
            parse("--allowed-origin", "https://a.example", "--allowed-origin", "*.b.example"),
            None,
        )
        expected = ("https://a.example", "*.b.example")
        self.assertEqual(tuple(options.websocket.allowed_origins), expected)
        self.assertEqual(tuple(options.sockjs.allowed_origins), expected)
        defaults = server_options(parse(), None)
        self.assertEqual(tuple(defaults.websocket.allowed_origins), ("*",))
        self.assertEqual(tuple(defaults.sockjs.allowed_origins), ("*",))


    def test_sockjs_sessions_per_address(self) -> None:
        """
        --sockjs-sessions-per-address sets the SockJS cap; 0 turns it
        off; the default is 1000.
        """
        self.assertEqual(server_options(parse(), None).sockjs.max_sessions_per_address, 1000)
        for given, expected in [("5", 5), ("0", None)]:
            options = server_options(parse("--sockjs-sessions-per-address", given), None)
            self.assertEqual(options.sockjs.max_sessions_per_address, expected)


class BuildTests(TestCase):
    """
    Tests for building the service tree, and its one-line errors.
    """

    def setUp(self):
        self.patch(os, "environ", {})

    def build(self, *args):
        out = io.StringIO()
        return build(parse(*args), out), out.getvalue()

    def assertConfigError(self, args, *fragments):
        e = self.assertRaises(ConfigError, build, parse(*args), io.StringIO())
        for fragment in fragments:
            self.assertIn(fragment, str(e))
        self.assertNotIn("\n", str(e))

    def ports(self, top):
        [inner] = list(IServiceCollection(top))
        return list(IServiceCollection(inner))

    def test_default_ports(self):
        """
        Without --ports, the frontend and the backend ports are built, and
        a generated backend key is printed.
        """
        top, out = self.build()
        names = [p.name for p in self.ports(top)]
        self.assertEqual(
            names,
            ["frontend:websocket+sockjs:tcp:5001", "backend:http:tcp:5002:interface=127.0.0.1"],
        )
        self.assertIn("generated", out)
        self.assertIn(KEY_ENV, out)

    def test_key_from_option_not_printed(self):
        """
        A key given on the command line is not printed.
        """
        top, out = self.build("--backend-key", "sekrit")
        self.assertEqual(out, "")

    def test_key_from_file_and_environment(self):
        """
        The key can come from a file or the environment.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("from-file\n")
        top, out = self.build("--backend-key-file", path)
        self.assertEqual(out, "")
        os.environ[KEY_ENV] = "from-env"
        top, out = self.build()
        self.assertEqual(out, "")

    def test_key_file_missing_or_empty(self):
        """
        A missing or empty key file stops start-up.
        """
        self.assertConfigError(("--backend-key-file", "/nonexistent/key"), "cannot read")
        path = self.mktemp()
        open(path, "w").close()
        self.assertConfigError(("--backend-key-file", path), "is empty")

    def test_unknown_registry(self):
        """
        A port naming an unknown registry stops start-up naming it.
        """
        self.assertConfigError(
            ("--ports", "nowhere:websocket:tcp:0"), "unknown registry 'nowhere'"
        )

    def test_unknown_protocol(self):
        """
        A port naming an unknown protocol stops start-up naming it.
        """
        self.assertConfigError(("--ports", "frontend:gopher:tcp:0"), "'gopher'")

    def test_bad_endpoint(self):
        """
        An unparsable endpoint stops start-up naming it.
        """
        self.assertConfigError(
            ("--ports", "frontend:websocket:nonsense:0"), "bad endpoint 'nonsense:0'"
        )

    def test_app(self):
        """
        --app MODULE:CALLABLE supplies the registries.
        """
        top, out = self.build(
            "--app", "test.test_tap:make_registries", "--ports", "only:websocket:tcp:0"
        )
        [port] = self.ports(top)
        self.assertIsInstance(port, PortService)

    def test_app_errors(self):
        """
        An app that fails to import, is not MODULE:CALLABLE, or returns the
        wrong thing stops start-up saying so.
        """
        self.assertConfigError(("--app", "no_such_module:make"), "cannot load", "no_such_module")
        self.assertConfigError(("--app", "test.test_tap:missing"), "cannot load", "missing")
        self.assertConfigError(("--app", "nocolon"), "MODULE:CALLABLE")
        self.assertConfigError(
            ("--app", "test.test_tap:not_registries"), "mapping of names to ServiceRegistry"
        )

    def test_bad_config_file(self):
        """
        A --config file that cannot be read or parsed stops start-up.
        """
        self.assertConfigError(("--config", "/nonexistent.toml"), "cannot read --config")
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("this is = = not toml")
        self.assertConfigError(("--config", path), "cannot read --config")

    def test_config_file(self):
        """
        A --config file declares DataSync's dealers; a mistake in it stops
        start-up naming it.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write('[[datasync.dealers]]\nname = "all"\nmodel = "Player"\n'
                    'kind = "broadcast"\n')
        top, out = self.build("--config", path, "--backend-key", "k")
        self.assertEqual(len(self.ports(top)), 2)
        with open(path, "w") as f:
            f.write('[[datasync.dealers]]\nname = "all"\nmodel = "Player"\n'
                    'kind = "psychic"\n')
        self.assertConfigError(("--config", path), "bad --config", "psychic")

    def test_bad_transport_option(self):
        """
        A transport option out of range stops start-up naming it.
        """
        self.assertConfigError(("--max-connections", "0"), "bad transport option")
        self.assertConfigError(("--write-delay", "-1"), "bad transport option")

    def test_make_service_exits_with_one_line(self):
        """
        The twistd entry point turns a configuration error into SystemExit
        with one line.
        """
        e = self.assertRaises(
            SystemExit, makeService, parse("--ports", "frontend:gopher:tcp:0")
        )
        self.assertTrue(str(e).startswith("snorky: "))


class SnorkyServiceTests(TestCase):
    """
    The top service of ``twistd snorky``.
    """

    def test_start_freezes_startup_objects(self):
        """Starting moves the objects made so far out of the garbage collector's scans."""
        gc.unfreeze()
        self.addCleanup(gc.unfreeze)
        top = SnorkyService()
        made_before = object.__new__(SnorkyService)
        top.startService()
        self.addCleanup(top.stopService)
        self.assertGreater(gc.get_freeze_count(), 0)
        self.assertFalse(any(o is made_before for o in gc.get_objects()))

    def test_full_collections_continue_after_freeze(self):
        """After the freeze, cycles made later still meet a full collection at the usual rate."""
        gc.unfreeze()
        self.addCleanup(gc.unfreeze)
        # A full collection with many long-lived objects raises the bar
        # for the next one; freezing them must not keep it raised.
        keep = [[n] for n in range(300000)]
        gc.collect()
        top = SnorkyService()
        top.startService()
        self.addCleanup(top.stopService)
        del keep
        before = gc.get_stats()[2]["collections"]
        for _ in range(100000):
            node = {}
            node["self"] = [node]
        self.assertGreater(gc.get_stats()[2]["collections"], before)


class LimitOptionsTests(TestCase):
    """
    The port limit options and the keyless backend flag.
    """

    def test_defaults(self):
        """
        By default no total limit is set (make_service shares the open
        files), 1,000 connections per address, 20 s per request, and
        private services need the key.
        """
        options = server_options(parse(), "k")
        self.assertEqual(options.limits, PortLimits())
        self.assertFalse(options.allow_unkeyed_private)

    def test_given(self):
        """
        The options reach the port limits and the server options.
        """
        options = server_options(parse(
            "--max-port-connections", "500", "--max-connections-per-address", "0",
            "--request-timeout", "2.5", "--allow-keyless-backend",
        ), "k")
        self.assertEqual(options.limits, PortLimits(500, 0, 2.5))
        self.assertTrue(options.allow_unkeyed_private)

    def test_keyless_backend_refused(self):
        """
        The default app's backend registry over websocket stops start-up
        with one line naming the option that allows it.
        """
        self.patch(os, "environ", {})
        e = self.assertRaises(
            ConfigError, build, parse("--ports", "backend:websocket:tcp:0"), io.StringIO()
        )
        self.assertIn("serves private services", str(e))
        build(parse("--ports", "backend:websocket:tcp:0", "--allow-keyless-backend"),
              io.StringIO())

    def test_bad_limits(self):
        """
        Limits out of range stop start-up.
        """
        e = self.assertRaises(
            ConfigError, build, parse("--request-timeout", "0"), io.StringIO()
        )
        self.assertIn("request_timeout", str(e))
