"""`PlayerStore`: the Players example's database, a ``Player`` table in SQLite."""

import sqlite3
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["COLORS", "SAMPLE", "PlayerError", "PlayerStore"]

#: The colours a player may have.
COLORS = ("red", "green", "blue", "yellow", "purple")

#: The players a new database starts with (name, colour).
SAMPLE = (("Alice", "red"), ("Bob", "blue"), ("Carol", "green"))

Player = Dict[str, Any]


class PlayerError(ValueError):
    """
    A player field that is not acceptable; the text says which and why.
    """


def check_name(name: Any) -> str:
    """
    Return *name* if it is a valid player name (1 to 40 printable
    characters, no surrounding spaces).

    :raises PlayerError: otherwise.
    """
    if not (
        isinstance(name, str)
        and 0 < len(name) <= 40
        and name == name.strip()
        and name.isprintable()
    ):
        raise PlayerError("A name is 1 to 40 printable characters")
    return name


def check_color(color: Any) -> str:
    """
    Return *color* if it is one of :data:`COLORS`.

    :raises PlayerError: otherwise.
    """
    if color not in COLORS:
        raise PlayerError("A colour is one of " + ", ".join(COLORS))
    return str(color)


class PlayerStore:
    """
    The players, in an SQLite database. Each change is committed before
    the method returns, and returns what a DataSync delta needs.

    :param path: the database file (created if missing), or ``":memory:"``.
    :param sample: add a few players to a database created empty.
    """

    def __init__(self, path: str = ":memory:", sample: bool = False) -> None:
        self.db = sqlite3.connect(path)
        self.db.row_factory = sqlite3.Row
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS player ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " name TEXT NOT NULL,"
                " color TEXT NOT NULL)"
            )
        if sample and self.db.execute("SELECT COUNT(*) FROM player").fetchone()[0] == 0:
            for name, color in SAMPLE:
                self.create(name, color)

    def close(self) -> None:
        """
        Close the database.
        """
        self.db.close()

    def list(self, color: Optional[str] = None) -> List[Player]:
        """
        The players, oldest first; only those of *color* if given.
        """
        if color is None:
            rows = self.db.execute("SELECT id, name, color FROM player ORDER BY id")
        else:
            rows = self.db.execute(
                "SELECT id, name, color FROM player WHERE color = ? ORDER BY id", (color,)
            )
        return [dict(row) for row in rows]

    def _get(self, player_id: int) -> Optional[Player]:
        row = self.db.execute(
            "SELECT id, name, color FROM player WHERE id = ?", (player_id,)
        ).fetchone()
        return dict(row) if row is not None else None

    def create(self, name: Any, color: Any) -> Player:
        """
        Add a player.

        :returns: the new player.
        :raises PlayerError: for a bad name or colour.
        """
        name, color = check_name(name), check_color(color)
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO player (name, color) VALUES (?, ?)", (name, color)
            )
        return {"id": cursor.lastrowid, "name": name, "color": color}

    def update(
        self, player_id: int, changes: Dict[str, Any]
    ) -> Optional[Tuple[Player, Player]]:
        """
        Change the ``name`` and/or ``color`` of a player.

        :returns: the player before and after, or ``None`` if there is no
            such player.
        :raises PlayerError: for a bad or unknown field.
        """
        unknown = set(changes) - {"name", "color"}
        if unknown or not changes:
            raise PlayerError("Only name and color can be changed")
        if "name" in changes:
            check_name(changes["name"])
        if "color" in changes:
            check_color(changes["color"])
        with self.db:
            old = self._get(player_id)
            if old is None:
                return None
            new = dict(old, **changes)
            self.db.execute(
                "UPDATE player SET name = ?, color = ? WHERE id = ?",
                (new["name"], new["color"], player_id),
            )
        return old, new

    def delete(self, player_id: int) -> Optional[Player]:
        """
        Remove a player.

        :returns: the player removed, or ``None`` if there was none.
        """
        with self.db:
            old = self._get(player_id)
            if old is not None:
                self.db.execute("DELETE FROM player WHERE id = ?", (player_id,))
        return old
