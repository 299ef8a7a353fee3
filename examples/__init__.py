"""
Runnable examples of Snorky. Run them from the project root with the
project's environment, for example ``.venv/bin/python -m examples.players``.
"""

try:
    import twisted.internet  # noqa: F401
except ImportError as e:
    # A Python without Twisted, started in the project root, takes the
    # project's own twisted/plugins/ folder for Twisted and fails with a
    # puzzling "No module named 'twisted.internet'": say what to do instead.
    import sys

    raise SystemExit(
        "{} cannot import Twisted ({}). Run the examples with the project's "
        "environment, which `make run` sets up: .venv/bin/python -m examples.players".format(
            sys.executable, e
        )
    ) from None
