"""Tests for snorky.services.tokens: new_token and TokenTable."""

from twisted.trial.unittest import TestCase

from snorky.services.tokens import TokenTable, new_token


class NewTokenTests(TestCase):
    """
    Tests for :func:`new_token`.
    """

    def test_length(self) -> None:
        """A token holds at least 128 random bits (43 URL-safe characters)."""
        self.assertGreaterEqual(len(new_token()), 43)

    def test_unique(self) -> None:
        """Fresh tokens differ."""
        self.assertEqual(len({new_token() for _ in range(1000)}), 1000)


class TokenTableTests(TestCase):
    """
    Tests for :class:`TokenTable`.
    """

    def setUp(self) -> None:
        self.table: TokenTable[str] = TokenTable()

    def test_add_get_pop(self) -> None:
        """A value added is found by its token until popped."""
        token = self.table.add("alice")
        self.assertEqual(self.table.get(token), "alice")
        self.assertEqual(len(self.table), 1)
        self.assertEqual(self.table.pop(token), "alice")
        self.assertIsNone(self.table.get(token))
        self.assertIsNone(self.table.pop(token))

    def test_put(self) -> None:
        """A value put under a given token is found by it."""
        token = new_token()
        self.table.put(token, "bob")
        self.assertEqual(self.table.get(token), "bob")

    def test_not_kept_by_token(self) -> None:
        """The table keeps digests, never the token text."""
        token = self.table.add("alice")
        self.assertNotIn(token, repr(self.table.by_digest))
        self.assertNotIn(token.encode(), b"".join(self.table.by_digest))

    def test_max_token_length(self) -> None:
        """Texts longer than max_token_length are not even looked up."""
        table: TokenTable[str] = TokenTable(max_token_length=10)
        token = table.add("alice")
        self.assertIsNone(table.get(token))
        self.assertEqual(TokenTable().max_token_length, 256)

    def test_wrong_tokens(self) -> None:
        """
        Near misses, prefixes, non-strings, lone surrogates and overlong
        texts find nothing and raise nothing.
        """
        token = self.table.add("alice")
        for wrong in (token[:-1], token[:16], token + "x", token.upper(), "",
                      None, 42, [token], "\ud800", "x" * 100_000):
            self.assertIsNone(self.table.get(wrong), wrong)
            self.assertIsNone(self.table.pop(wrong), wrong)
        self.assertEqual(self.table.get(token), "alice")
