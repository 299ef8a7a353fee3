"""
Tests of the settings-built connector, and of what importing
``snorky.backend`` loads.
"""

import os
import subprocess
import sys

from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from twisted.trial.unittest import TestCase

import snorky
from snorky.backend.django import get_backend
from test.backend.django.helpers import KEY


class GetBackendTests(TestCase):
    """
    ``get_backend`` builds one connector from the settings, anew when they
    change.
    """

    def test_from_settings(self):
        """The connector has the URL, timeout and service name of the settings, and is shared."""
        with override_settings(
            SNORKY_BACKEND_URL="http://127.0.0.1:5002/backend",
            SNORKY_API_KEY=KEY,
            SNORKY_TIMEOUT=3,
            SNORKY_DATASYNC_SERVICE="sync_backend",
        ):
            backend = get_backend()
            self.assertIs(get_backend(), backend)
            self.assertEqual(
                (backend.url, backend.timeout, backend.datasync_service),
                ("http://127.0.0.1:5002/backend", 3, "sync_backend"),
            )
            with override_settings(SNORKY_BACKEND_URL="http://127.0.0.1:5003/backend"):
                self.assertEqual(get_backend().url, "http://127.0.0.1:5003/backend")

    def test_missing(self):
        """Without a URL or a key, it raises ImproperlyConfigured naming both settings."""
        for values in ({"SNORKY_API_KEY": KEY}, {"SNORKY_BACKEND_URL": "http://h/b"}):
            with override_settings(**values):
                error = self.assertRaises(ImproperlyConfigured, get_backend)
                self.assertIn("SNORKY_BACKEND_URL and SNORKY_API_KEY", str(error))

    def test_invalid(self):
        """An invalid key raises ImproperlyConfigured without quoting it."""
        bad = "bad key\twith a tab"
        with override_settings(SNORKY_BACKEND_URL="http://h/b", SNORKY_API_KEY=bad):
            error = self.assertRaises(ImproperlyConfigured, get_backend)
            self.assertIn("key must be", str(error))
            self.assertNotIn(bad, str(error))


class ImportTests(TestCase):
    """
    Django stays optional.
    """

    def test_backend_without_django(self):
        """Importing snorky.backend and its REST helpers does not import Django."""
        code = (
            "import sys, snorky.backend, snorky.backend.rest; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
            check=True, cwd=os.path.dirname(os.path.dirname(snorky.__file__)),
        )
        self.assertEqual(out.stdout.strip(), "[]")
