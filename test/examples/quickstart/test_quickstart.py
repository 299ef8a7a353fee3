"""
Tests for the README's "Running Snorky itself" and the quick start
(examples/quickstart/): the README's commands run as written (on free
ports), the quick start's web application beside them, and its page in
headless Chromium, changed by its script.
"""

import json
import os
import re
import shutil
import sys
from typing import Any, List, Optional

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from snorky.backend import SnorkyBackend
from test.helpers import free_port, wait_listening

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser.js")
#: Seconds a process may take to start, and the browser run to end.
START_TIMEOUT = 30.0
BROWSER_TIMEOUT = 60.0


def readme_commands(section: str) -> List[str]:
    """
    The commands of the first literal block of the README's *section*,
    continuation lines joined.
    """
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("\n" + section + "\n"):]
    block = body[body.index("::\n\n") + 4:]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line.strip())
    joined = "\n".join(lines).replace("\\\n", " ")
    return [line for line in joined.splitlines() if line]


class _Process(ProcessProtocol):
    """
    A process's output; :attr:`printed` fires with the first group of the
    first match of *pattern* (or fails when the process ends without),
    :attr:`ended` with the exit code or the signal.
    """

    def __init__(self, pattern: Optional[bytes]) -> None:
        self.output = b""
        #: The process, once spawned.
        self.running: Any = None
        self.pattern = re.compile(pattern) if pattern else None
        self.printed: Deferred = Deferred()
        self.ended: Deferred = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output += data
        found = self.pattern and self.pattern.search(self.output)
        if found and not self.printed.called:
            self.printed.callback(found.group(1).decode("ascii"))

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        if self.pattern and not self.printed.called:
            self.printed.errback(AssertionError(self.output.decode("utf-8", "replace")))
        code = reason.value.exitCode
        self.ended.callback(reason.value.signal if code is None else code)


class QuickStartTests(TestCase):
    """
    The README's commands and the quick start, as a newcomer runs them.
    """

    timeout = 120

    def spawn(self, args: List[str], cwd: str, pattern: Optional[bytes] = None) -> _Process:
        """
        Start *args*; it is killed at the end of the test.
        """
        process = _Process(pattern)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SNORKY_BACKEND_KEY")}
        process.running = reactor.spawnProcess(process, args[0], args, env=env, path=cwd)

        def stop() -> Any:
            if not process.ended.called:
                try:
                    process.running.signalProcess("KILL")
                except ProcessExitedAlready:
                    pass
                return process.ended

        self.addCleanup(stop)
        return process

    def test_readme_commands(self) -> None:
        """
        The README's block is two commands: one that creates key.txt, one
        that starts twistd with snorky.toml and that key, without a pid file.
        """
        make_key, start = readme_commands("Running Snorky itself")
        self.assertIn("> key.txt", make_key)
        self.assertIn("--pidfile= snorky --config snorky.toml --backend-key-file key.txt", start)

    async def test_quickstart_in_browser(self) -> None:
        """
        The README's commands start a Snorky whose DataSync has the
        quick start's dealer; with the quick start's web application, two
        pages show the list and follow every change the script makes
        (browser.js checks each step).
        """
        node = shutil.which("node") or self.fail("node is needed for this test")
        # A folder like the project root: snorky.toml and the environment.
        here = os.path.abspath(self.mktemp())
        os.mkdir(here)
        shutil.copy(os.path.join(ROOT, "snorky.toml"), here)
        os.symlink(os.path.dirname(os.path.dirname(sys.executable)), os.path.join(here, ".venv"))
        make_key, start = readme_commands("Running Snorky itself")
        made = self.spawn(["/bin/sh", "-c", make_key], here)
        self.assertEqual(await made.ended, 0, made.output)
        with open(os.path.join(here, "key.txt"), encoding="utf-8") as f:
            key = f.read().strip()
        self.assertGreaterEqual(len(key), 43)

        frontend, backend = free_port(), free_port()
        snorky = self.spawn([
            "/bin/sh", "-c", "exec " + start
            + " --ports frontend:websocket+sockjs:tcp:{}:interface=127.0.0.1".format(frontend)
            + " --ports backend:http:tcp:{}:interface=127.0.0.1".format(backend),
        ], here)
        await wait_listening(frontend, snorky, START_TIMEOUT)
        await wait_listening(backend, snorky, START_TIMEOUT)
        self.assertFalse(os.path.exists(os.path.join(here, "twistd.pid")))
        response = await treq.get(
            "http://127.0.0.1:{}/snorky.js".format(frontend), persistent=False
        )
        self.assertIn(b"DataSync", await response.content())

        backend_url = "http://127.0.0.1:{}/backend".format(backend)
        web = self.spawn([
            sys.executable, "-m", "examples.quickstart.web", "--port", "0",
            "--snorky", "127.0.0.1:{}".format(frontend), "--backend", backend_url,
            "--key-file", os.path.join(here, "key.txt"),
        ], ROOT, rb"open (http://127\.0\.0\.1:\d+/)")
        page_url = await web.printed.addTimeout(START_TIMEOUT, reactor)

        browser = self.spawn([node, DRIVER, page_url, sys.executable, ROOT], ROOT)
        killer = reactor.callLater(BROWSER_TIMEOUT, browser.running.signalProcess, "KILL")
        code = await browser.ended
        if killer.active():
            killer.cancel()
        self.assertEqual(code, 0, browser.output.decode("utf-8", "replace")
                         + web.output.decode("utf-8", "replace"))
        self.assertIn(b"ok ", browser.output)

        # The web application published what the page showed; the other
        # dealer of snorky.toml is there too.
        client = SnorkyBackend(backend_url, key)
        self.addCleanup(client.close)
        token = client.authorize_subscription([{"dealer": "tasks_by_done", "query": False}])
        self.assertEqual(len(token), 43)
        snorky.running.signalProcess("TERM")
        await snorky.ended
        self.assertNotIn(key.encode("ascii"), snorky.output)

    async def test_web_errors(self) -> None:
        """
        The quick start's web application answers bad requests with a
        clear error, and a Snorky that is not running with 503.
        """
        key_file = os.path.abspath(self.mktemp())
        with open(key_file, "w", encoding="utf-8") as f:
            f.write("a key\n")
        web = self.spawn([
            sys.executable, "-m", "examples.quickstart.web", "--port", "0",
            "--backend", "http://127.0.0.1:{}/backend".format(free_port()),
            "--key-file", key_file,
        ], ROOT, rb"open (http://127\.0\.0\.1:\d+/)")
        url = await web.printed.addTimeout(START_TIMEOUT, reactor)
        cases = [
            ("POST", "api/tasks", b'{"title": ""}', 400, "title"),
            ("POST", "api/tasks", b"[1]", 400, "JSON object"),
            ("PUT", "api/tasks/7", b'{"done": true}', 404, "No such task"),
            ("PUT", "api/tasks/x", b'{"done": true}', 404, "Not found"),
            ("PUT", "api/tasks/1", b'{"done": "yes"}', 400, "true or false"),
            ("DELETE", "api/tasks/7", b"", 404, "No such task"),
            ("GET", "nowhere", b"", 404, "Not found"),
            ("POST", "api/tasks", b'{"title": "Snorky is down"}', 503, "cannot be reached"),
        ]
        for method, path, body, code, error in cases:
            response = await treq.request(method, url + path, data=body, persistent=False)
            self.assertEqual(response.code, code, (method, path))
            self.assertIn(error, json.loads(await response.content())["error"])
