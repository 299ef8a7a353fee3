"""Tests for the built-in services in snorky.services."""
