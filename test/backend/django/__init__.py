"""
Tests of the Django integration. Importing this package configures Django
once for the whole test run: an in-memory SQLite database (one per
thread, so each test gets its own) and the models of :mod:`.models`.
"""

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        },
        INSTALLED_APPS=[],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
