"""Tests for snorky.configfile: load_toml."""

from twisted.trial.unittest import TestCase

from snorky.configfile import load_toml


class LoadTomlTests(TestCase):
    """
    Tests for :func:`load_toml`.
    """

    def write(self, text: str) -> str:
        """
        A new file holding *text*; its path.
        """
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_parsed(self) -> None:
        """A TOML file is read into dicts and lists."""
        path = self.write('[a]\nb = 1\nc = ["x"]\n')
        self.assertEqual(load_toml(path), {"a": {"b": 1, "c": ["x"]}})

    def test_missing_file(self) -> None:
        """A missing file is one line starting with the path."""
        path = self.mktemp()
        e = self.assertRaises(ValueError, load_toml, path)
        self.assertEqual(str(e), path + ": No such file or directory")

    def test_syntax_error(self) -> None:
        """A syntax error is one line starting with the path and naming the line."""
        path = self.write("[a\n")
        e = self.assertRaises(ValueError, load_toml, path)
        self.assertTrue(str(e).startswith(path + ": "), str(e))
        self.assertIn("line 1", str(e))
        self.assertNotIn("\n", str(e))

    def test_not_utf8(self) -> None:
        """A file that is not UTF-8 is a clear error, not a crash."""
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b'a = "\xff"\n')
        e = self.assertRaises(ValueError, load_toml, path)
        self.assertEqual(str(e), path + ": not UTF-8 (byte 6 of the file)")
