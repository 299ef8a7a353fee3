"""Tests for snorky.transports.sockjs."""
