"""
The example's Django settings, made in code: no settings module, no
``manage.py``.
"""

import secrets

import django
from django.conf import settings

__all__ = ["configure"]


def configure(db_path: str, backend_url: str, api_key: str) -> None:
    """
    Configure Django for the example and set it up; once per process, as
    Django allows.

    :param db_path: the SQLite database file.
    :param backend_url: Snorky's backend API, e.g.
        ``http://127.0.0.1:5002/backend``.
    :param api_key: Snorky's backend key.
    """
    settings.configure(
        SECRET_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]"],
        ROOT_URLCONF="examples.django_players.urls",
        INSTALLED_APPS=["examples.django_players"],
        # No sessions, no CSRF: the example has no users. A real project
        # keeps its middleware; the page sends JSON with fetch().
        MIDDLEWARE=[],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        SNORKY_BACKEND_URL=backend_url,
        SNORKY_API_KEY=api_key,
    )
    django.setup()
