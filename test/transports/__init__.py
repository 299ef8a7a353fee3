"""Tests for snorky.transports."""
