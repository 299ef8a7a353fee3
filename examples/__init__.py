"""Runnable examples of Snorky."""
