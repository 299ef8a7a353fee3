"""
Tests for the examples package itself: what a Python without Twisted says.
"""

import os
import sys

from twisted.internet import reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class WithoutTwistedTests(TestCase):
    """
    An example started in the project root by a Python that has no Twisted.
    """

    async def test_clear_error(self) -> None:
        """
        It stops with one line saying to use .venv/bin/python, not with a
        traceback about twisted.internet (the project's twisted/plugins/
        folder would otherwise stand in for Twisted).
        """
        # -S: without site-packages, so without Twisted.
        out, err, code = await getProcessOutputAndValue(
            sys.executable, ["-S", "-m", "examples.chat"], env={}, path=ROOT, reactor=reactor
        )
        self.assertEqual(code, 1)
        self.assertNotIn(b"Traceback", err)
        [line] = err.decode("utf-8").splitlines()
        self.assertIn("cannot import Twisted", line)
        self.assertIn(".venv/bin/python -m examples.", line)
