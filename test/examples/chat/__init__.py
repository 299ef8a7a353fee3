"""Tests for the chat example, examples/chat/."""
