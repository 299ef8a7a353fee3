"""
The pieces of snorky.workers that need no process: option parsing, the
workers' command line, and which worker holds a SockJS session.
"""

import os

from twisted.trial.unittest import TestCase

from snorky import tap
from snorky.workers import owner_of, parse_worker, worker_arguments, worker_count


class WorkerOptionTests(TestCase):
    """
    --workers and --worker values.
    """

    def test_worker_count(self) -> None:
        """
        A whole number is kept, 0 means one per core, anything else is refused.
        """
        self.assertEqual(worker_count("3"), 3)
        self.assertEqual(worker_count("0"), os.cpu_count() or 1)
        for bad in ["x", "-1", "1.5", "99999", None]:
            self.assertRaises(ValueError, worker_count, bad)

    def test_bad_workers_option_one_line(self) -> None:
        """
        twistd's --workers with a bad number ends start-up with one line.
        """
        options = tap.Options()
        options.parseOptions(["--workers", "many", "--broker", "redis://127.0.0.1:1/0",
                              "--backend-key", "k"])
        with self.assertRaises(SystemExit) as caught:
            tap.makeService(options)
        self.assertEqual(str(caught.exception),
                         "snorky: --workers wants a whole number (0: one per core)")

    def test_parse_worker(self) -> None:
        """
        --worker I:N:DIR is read back; nonsense is refused.
        """
        info = parse_worker("1:2:/tmp/x:y")
        self.assertEqual((info.index, info.count, info.directory), (1, 2, "/tmp/x:y"))
        self.assertEqual(info.socket_path(0, 3), "/tmp/x:y/w0-p3.sock")
        for bad in ["2:2:/d", "a:2:/d", "0:2:", "0:2"]:
            self.assertRaises(ValueError, parse_worker, bad)

    def test_worker_arguments(self) -> None:
        """
        Workers get the options after snorky, without --workers.
        """
        self.assertEqual(
            worker_arguments(["twistd", "-n", "snorky", "--workers", "2", "--broker", "u",
                              "--workers=3", "--ports", "p"]),
            ["--broker", "u", "--ports", "p"],
        )

    def test_owner_spread(self) -> None:
        """
        Sessions are spread over every worker, always to the same one.
        """
        owners = [owner_of(b"session%d" % n, 3) for n in range(300)]
        self.assertEqual(set(owners), {0, 1, 2})
        self.assertEqual(owner_of(b"abc", 3), owner_of(b"abc", 3))
