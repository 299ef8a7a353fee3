"""
`TokenTable`: values found by a secret token (identity tokens, DataSync
subscription tokens), without the lookup's timing telling anything about
the tokens it holds.
"""

import hashlib
import secrets
from typing import Any, Dict, Generic, Optional, TypeVar

__all__ = ["TokenTable", "new_token"]

V = TypeVar("V")

# 32 random bytes: 256 bits.
_TOKEN_BYTES = 32


def new_token() -> str:
    """
    A fresh, unguessable token (URL-safe text, 256 random bits).
    """
    return secrets.token_urlsafe(_TOKEN_BYTES)


def _digest(token: str) -> bytes:
    # Tokens are kept by their SHA-256 digest, so how long a dict lookup
    # takes tells an attacker nothing about the tokens that are stored
    # (only about digests, which they cannot aim at).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenTable(Generic[V]):
    """
    Values by the secret token that stands for each.

    :param max_token_length: the longest text that is even looked up;
        longer ones find nothing at once.
    :ivar by_digest: the values by the SHA-256 digest of their token; read
        it to count or list them, never to look one up.
    """

    __slots__ = ("by_digest", "max_token_length")

    def __init__(self, max_token_length: int = 256) -> None:
        self.by_digest: Dict[bytes, V] = {}
        self.max_token_length = max_token_length

    def add(self, value: V) -> str:
        """
        Keep *value* under a fresh token.

        :returns: the token.
        """
        token = new_token()
        self.put(token, value)
        return token

    def put(self, token: str, value: V) -> None:
        """
        Keep *value* under *token*, one made by :func:`new_token`.
        """
        self.by_digest[_digest(token)] = value

    def digest(self, token: Any) -> Optional[bytes]:
        """
        The digest *token* is kept under (here, or in a shared broker), or
        ``None`` for anything that cannot be a token of this table.
        """
        if not isinstance(token, str) or len(token) > self.max_token_length:
            return None
        return _digest(token)

    _key = digest

    def get(self, token: Any) -> Optional[V]:
        """
        The value of *token*, or ``None`` for anything that is not a token
        of this table (including non-strings).
        """
        key = self._key(token)
        return None if key is None else self.by_digest.get(key)

    def pop(self, token: Any) -> Optional[V]:
        """
        Remove *token* and return its value, or ``None`` if it has none.
        """
        key = self._key(token)
        return None if key is None else self.by_digest.pop(key, None)

    def __len__(self) -> int:
        return len(self.by_digest)
