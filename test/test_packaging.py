"""
Tests for Snorky's packaging: ``python -m build`` from a clean copy of the
source tree (the sdist, then the wheel built from the sdist), and the wheel
installed into a fresh virtual environment, where ``twistd snorky`` runs
and serves ``/snorky.js``.

The fresh environment gets Snorky from the wheel and nothing else; its
dependencies (Twisted and the others) are those of the Python running the
tests, reached through a ``.pth`` file, so the test needs no network.
"""

import email
import os
import shutil
import sys
import sysconfig
import zipfile
from typing import Any, Dict, List, Tuple

import treq
from twisted.internet import reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from test.helpers import ProcessOutput, free_port, wait_ended, wait_listening

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: What a clean checkout does not have.
NOT_CHECKED_IN = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "node_modules.old", "_trial_temp*", "_build", "build",
    "dist", "*.egg-info", "__pycache__", "*.pyc", "dropin.cache", "*.sqlite3", "key.txt",
    "twistd.pid", ".hypothesis",
)
#: The twistd command, for an environment without Twisted's scripts.
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"


def _env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SNORKY_BACKEND_KEY")}


class WheelTests(TestCase):
    """
    The sdist and the wheel, built and installed as a user would.
    """

    timeout = 180

    async def command(self, args: List[str], cwd: str) -> Tuple[str, int]:
        out, err, code = await getProcessOutputAndValue(
            args[0], args[1:], env=_env(), path=cwd, reactor=reactor
        )
        return (out + err).decode("utf-8", "replace"), code

    async def test_build_install_run(self) -> None:
        """
        The wheel holds the code, every data file of snorky/ (JavaScript,
        templates, py.typed) and the twistd plugin, and says its license;
        installed in a fresh environment, ``twistd snorky --help`` works
        outside the source tree and ``twistd snorky`` serves /snorky.js.
        """
        work = os.path.abspath(self.mktemp())
        source = os.path.join(work, "snorky-source")
        shutil.copytree(ROOT, source, ignore=NOT_CHECKED_IN, symlinks=True)
        output, code = await self.command(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir",
             os.path.join(work, "dist"), source], work
        )
        self.assertEqual(code, 0, output)
        dist = sorted(os.listdir(os.path.join(work, "dist")))
        self.assertEqual([name.rsplit("-", 1)[0] for name in dist],
                         ["snorky-0.1.0-py3-none", "snorky"])
        wheel = os.path.join(work, "dist", dist[0])

        with zipfile.ZipFile(wheel) as z:
            names = set(z.namelist())
            metadata = email.message_from_bytes(z.read("snorky-0.1.0.dist-info/METADATA"))
        for folder, _dirs, files in os.walk(os.path.join(ROOT, "snorky")):
            for name in files:
                if not name.endswith((".py", ".pyc")):
                    path = os.path.relpath(os.path.join(folder, name), ROOT)
                    self.assertIn(path.replace(os.sep, "/"), names)
        self.assertIn("snorky/static/snorky.js", names)
        self.assertIn("twisted/plugins/snorky_plugin.py", names)
        self.assertNotIn("twisted/__init__.py", names)
        self.assertNotIn("twisted/plugins/__init__.py", names)
        self.assertFalse([n for n in names if n.startswith(("test/", "examples/"))])
        self.assertIn("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
                      metadata.get_all("Classifier"))
        self.assertIn("twisted>=23.10", metadata.get_all("Requires-Dist"))

        fresh = os.path.join(work, "fresh")
        output, code = await self.command([sys.executable, "-m", "venv", "--without-pip", fresh], work)
        self.assertEqual(code, 0, output)
        python = os.path.join(fresh, "bin", "python")
        output, code = await self.command(
            [sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
             "--no-index", "--no-deps", wheel], work
        )
        self.assertEqual(code, 0, output)
        purelib = sysconfig.get_path("purelib", vars={"base": fresh, "platbase": fresh})
        with open(os.path.join(purelib, "dependencies.pth"), "w", encoding="utf-8") as f:
            f.write(sysconfig.get_path("purelib") + "\n")

        output, code = await self.command(
            [python, "-c", "import snorky, twisted.plugins.snorky_plugin as p;"
                           " print(snorky.__file__); print(p.__file__)"], work
        )
        self.assertEqual(code, 0, output)
        self.assertEqual([line.startswith(purelib) for line in output.split()], [True, True])
        output, code = await self.command([python, "-c", TWISTD, "--help"], work)
        self.assertIn("real-time server", output)
        output, code = await self.command([python, "-c", TWISTD, "snorky", "--help"], work)
        self.assertEqual(code, 0, output)
        self.assertIn("Run a Snorky server.", output)

        port = free_port()
        server = ProcessOutput()
        server.transport = reactor.spawnProcess(
            server, python, [python, "-c", TWISTD, "-n", "--pidfile=", "snorky",
                             "--backend-key", "k",
                             "--ports", "frontend:websocket:tcp:{}:interface=127.0.0.1".format(port)],
            env=_env(), path=work,
        )
        self.addCleanup(self.stop, server)
        await wait_listening(port, server)
        response = await treq.get("http://127.0.0.1:{}/snorky.js".format(port), persistent=False)
        self.assertEqual(response.code, 200)
        with open(os.path.join(ROOT, "snorky", "static", "snorky.js"), "rb") as f:
            self.assertEqual(await response.content(), f.read())

    async def stop(self, server: Any) -> None:
        if not server.ended.called:
            server.transport.signalProcess("TERM")
            await wait_ended(server)
