"""Tests for snorky.services.datasync."""
