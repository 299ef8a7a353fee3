"""Tests for the runnable examples in examples/."""
