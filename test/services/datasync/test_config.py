"""Tests for snorky.services.datasync.config."""

import tomllib

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from snorky.services.datasync.config import (
    dealers_from_config,
    load_config,
    load_dealers,
    services_from_config,
)
from snorky.services.datasync.dealers import BroadcastDealer, FilterDealer, SimpleDealer

EXAMPLE = """
[server]
something_else = true

[datasync]
grace_period = 10
holder_timeout = 2.5
max_buffer = 50
max_buffer_bytes = 65536
max_replay = 20
max_replay_bytes = 32768
timeout_interval = 60

[[datasync.dealers]]
name = "all_players"
model = "Player"
kind = "broadcast"

[[datasync.dealers]]
name = "player_by_team"
model = "Player"
kind = "simple"
key = "team.id"

[[datasync.dealers]]
name = "players"
model = "Player"
kind = "filter"
"""


def config_error(case, text):
    """
    The one-line error for the TOML *text*.
    """
    e = case.assertRaises(ValueError, dealers_from_config, tomllib.loads(text))
    case.assertNotIn("\n", str(e))
    return str(e)


class DealersFromConfigTests(TestCase):
    """
    dealers_from_config builds the declared dealers or names the mistake.
    """

    def test_example(self):
        """Each kind becomes the matching dealer with its name, model and key."""
        dealers = dealers_from_config(tomllib.loads(EXAMPLE))
        self.assertEqual(
            [(type(d), d.name, d.model) for d in dealers],
            [
                (BroadcastDealer, "all_players", "Player"),
                (SimpleDealer, "player_by_team", "Player"),
                (FilterDealer, "players", "Player"),
            ],
        )
        self.assertEqual(dealers[1].get_key_for_model({"team": {"id": 4}}), 4)

    def test_no_section(self):
        """A file without a datasync table declares no dealers."""
        self.assertEqual(dealers_from_config({"server": {}}), [])

    def test_errors(self):
        """Each mistake is reported on one line naming the entry and the field."""
        head = '[[datasync.dealers]]\n'
        cases = [
            ("datasync = 3", "datasync: expected a table"),
            ("[datasync]\ndealers = 3", "datasync.dealers: expected an array of tables"),
            ("[datasync]\ndealers = [3]", "datasync.dealers[0]: expected a table"),
            ("[datasync]\ngrace = 3", "datasync: unknown option 'grace'"),
            (head + 'model = "P"\nkind = "filter"', 'datasync.dealers[0]: missing "name"'),
            (
                head + 'name = "p"\nkind = "filter"',
                'datasync.dealers[0] (p): missing "model"',
            ),
            (
                head + 'name = "p"\nmodel = ""\nkind = "filter"',
                'datasync.dealers[0] (p): "model" must be a non-empty string',
            ),
            (
                head + 'name = "p"\nmodel = "P"\nkind = "fliter"',
                'datasync.dealers[0] (p): unknown kind "fliter" '
                "(expected broadcast, simple or filter)",
            ),
            (
                head + 'name = "p"\nmodel = "P"\nkind = "simple"',
                'datasync.dealers[0] (p): missing "key"',
            ),
            (
                head + 'name = "p"\nmodel = "P"\nkind = "simple"\nkey = "a..b"',
                'datasync.dealers[0] (p): key "a..b" has an empty part',
            ),
            (
                head + 'name = "p"\nmodel = "P"\nkind = "filter"\nkey = "id"',
                'datasync.dealers[0] (p): unknown field "key" for a filter dealer',
            ),
            (
                (head + 'name = "p"\nmodel = "P"\nkind = "filter"\n') * 2,
                'datasync.dealers[1]: the name "p" is used by datasync.dealers[0]',
            ),
        ]
        for text, expected in cases:
            self.assertEqual(config_error(self, text), expected)


class LoadTests(TestCase):
    """
    Loading from a file prefixes errors with the path.
    """

    def write(self, text):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_load_dealers(self):
        """load_dealers reads the dealers of a TOML file."""
        dealers = load_dealers(self.write(EXAMPLE))
        self.assertEqual(
            [d.name for d in dealers], ["all_players", "player_by_team", "players"]
        )

    def test_bad_toml(self):
        """A TOML syntax error is one line starting with the path."""
        path = self.write("[datasync\n")
        e = self.assertRaises(ValueError, load_dealers, path)
        self.assertTrue(str(e).startswith(path + ": "))
        self.assertNotIn("\n", str(e))

    def test_missing_file(self):
        """A missing file is one line starting with the path."""
        path = self.mktemp()
        e = self.assertRaises(ValueError, load_config, path)
        self.assertEqual(str(e), path + ": No such file or directory")

    def test_bad_dealer(self):
        """A bad dealer in a file is reported with the path."""
        path = self.write('[[datasync.dealers]]\nname = "x"\n')
        e = self.assertRaises(ValueError, load_dealers, path)
        self.assertEqual(str(e), path + ': datasync.dealers[0] (x): missing "model"')


class ServicesFromConfigTests(TestCase):
    """
    services_from_config builds both services with the file's options.
    """

    def test_services(self):
        """The frontend gets dealers and options; the backend its timeout."""
        clock = Clock()
        frontend, backend = services_from_config(tomllib.loads(EXAMPLE), reactor=clock)
        self.assertEqual((frontend.name, backend.name), ("datasync", "datasync_backend"))
        self.assertEqual(
            sorted(frontend.dealers), ["all_players", "player_by_team", "players"]
        )
        self.assertEqual(
            (frontend.grace_period, frontend.holder_timeout, frontend.max_buffer,
             frontend.max_buffer_bytes, frontend.max_replay, frontend.max_replay_bytes),
            (10, 2.5, 50, 65536, 20, 32768),
        )
        self.assertIs(frontend.reactor, clock)
        self.assertIs(backend.frontend, frontend)
        self.assertEqual(backend.timeout_interval, 60)

    def test_defaults(self):
        """Without a datasync table, both services exist with default options."""
        frontend, backend = services_from_config({}, reactor=Clock())
        self.assertEqual(frontend.dealers, {})
        self.assertEqual((frontend.grace_period, backend.timeout_interval), (30.0, 120))

    def test_bad_option(self):
        """An option of the wrong type or range is one clear line."""
        for text, expected in [
            (
                "[datasync]\ngrace_period = -1",
                "datasync.grace_period: expected a number of at least 0",
            ),
            (
                "[datasync]\nmax_buffer = 1.5",
                "datasync.max_buffer: expected an integer of at least 0",
            ),
            (
                "[datasync]\nmax_buffer = true",
                "datasync.max_buffer: expected an integer of at least 0",
            ),
            (
                "[datasync]\nmax_replay = -1",
                "datasync.max_replay: expected an integer of at least 0",
            ),
            (
                "[datasync]\nmax_replay_bytes = 1.5",
                "datasync.max_replay_bytes: expected an integer of at least 0",
            ),
            (
                '[datasync]\ntimeout_interval = "1"',
                "datasync.timeout_interval: expected a number of at least 1",
            ),
        ]:
            e = self.assertRaises(ValueError, services_from_config, tomllib.loads(text))
            self.assertEqual(str(e), expected)
