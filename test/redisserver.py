"""
A real ``redis-server`` for integration tests: started on a free loopback
port with persistence off, stopped by its PID.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Optional

from test.helpers import free_port

__all__ = ["RedisServer"]


class RedisServer:
    """
    One ``redis-server`` process.

    :ivar port: its port on 127.0.0.1; kept across :meth:`stop` and
        :meth:`start`, so that clients find it again.
    """

    def __init__(self, port: Optional[int] = None, password: Optional[str] = None) -> None:
        self.port = port or free_port()
        self.password = password
        self.process: Optional[subprocess.Popen] = None
        self.directory = tempfile.mkdtemp(prefix="snorky-redis-")

    @property
    def url(self) -> str:
        """
        The ``redis://`` URL of database 0.
        """
        auth = ":{}@".format(self.password) if self.password else ""
        return "redis://{}127.0.0.1:{}/0".format(auth, self.port)

    def start(self, timeout: float = 10.0) -> None:
        """
        Start it and wait until it accepts connections (the only wait is
        for the process to come up, before the test's reactor work).
        """
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed (make setup installs it; "
                "or apt-get install redis-server)"
            )
        args = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", self.directory,
            "--protected-mode", "no", "--loglevel", "warning",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start on port {}".format(self.port))

    def stop(self) -> None:
        """
        Kill it (SIGKILL, by PID) and wait for it to exit; its data is lost.
        """
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def cleanup(self) -> None:
        """
        Stop it and remove its directory.
        """
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
