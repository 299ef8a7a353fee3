"""Snorky's tests; run them with ``python -m twisted.trial test``."""
