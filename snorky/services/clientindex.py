"""`ClientIndex`: which clients are under which keys, both ways."""

from typing import Dict, Generic, Optional, Set, TypeVar

from snorky.client import Client

__all__ = ["ClientIndex"]

K = TypeVar("K")
V = TypeVar("V")

_NO_CLIENTS: Set[Client] = frozenset()  # type: ignore[assignment]


class ClientIndex(Generic[K, V]):
    """
    The two-way index services keep between clients and what they joined
    (channels, rooms, documents, names), with a value for each pair (the
    identity a client joined with, say).

    Both tables only hold entries that are in use: a key goes when its
    last client leaves, a client when it leaves its last key, so that a
    disconnected client leaves no trace.

    :ivar clients_by_key: key to the clients under it.
    :ivar keys_by_client: client to ``{key: value}`` of the keys it is
        under, in the order it joined them.
    """

    __slots__ = ("clients_by_key", "keys_by_client")

    def __init__(self) -> None:
        self.clients_by_key: Dict[K, Set[Client]] = {}
        self.keys_by_client: Dict[Client, Dict[K, V]] = {}

    def add(self, client: Client, key: K, value: Optional[V] = None) -> Set[Client]:
        """
        Put *client* under *key*, with *value*.

        :returns: the clients under *key*, *client* included (the index's
            own set, which stays current until the key's last client
            leaves).
        """
        self.keys_by_client.setdefault(client, {})[key] = value  # type: ignore[assignment]
        clients = self.clients_by_key.get(key)
        if clients is None:
            clients = self.clients_by_key[key] = set()
        clients.add(client)
        return clients

    def remove(self, client: Client, key: K) -> V:
        """
        Take *client* from under *key*.

        :returns: the pair's value.
        :raises KeyError: if *client* is not under *key*.
        """
        keys = self.keys_by_client[client]
        value = keys.pop(key)
        if not keys:
            del self.keys_by_client[client]
        self._unlist(client, key)
        return value

    def remove_client(self, client: Client) -> Dict[K, V]:
        """
        Take *client* from under every key.

        :returns: ``{key: value}`` of the keys it was under.
        """
        keys = self.keys_by_client.pop(client, {})
        for key in keys:
            self._unlist(client, key)
        return keys

    def _unlist(self, client: Client, key: K) -> None:
        clients = self.clients_by_key[key]
        clients.discard(client)
        if not clients:
            del self.clients_by_key[key]

    def keys_of(self, client: Client) -> Dict[K, V]:
        """
        ``{key: value}`` for the keys *client* is under (do not change it).
        """
        return self.keys_by_client.get(client, {})

    def clients_of(self, key: K) -> Set[Client]:
        """
        The clients under *key* (do not change the set).
        """
        return self.clients_by_key.get(key, _NO_CLIENTS)

    def has(self, client: Client, key: K) -> bool:
        """
        Whether *client* is under *key*.
        """
        return key in self.keys_by_client.get(client, ())

    def __len__(self) -> int:
        """
        How many keys have clients.
        """
        return len(self.clients_by_key)
