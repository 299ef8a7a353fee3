"""Tests for snorky.transports.wsserver."""
