"""
The DataSync dealers of the Players example: which browsers get which
changes of the ``Player`` model.
"""

from snorky.services.datasync.dealers import BroadcastDealer, SimpleDealer

__all__ = ["AllPlayers", "PlayersByColor"]


class AllPlayers(BroadcastDealer):
    """
    Every change of every player (query: ``null``).
    """

    model = "Player"


class PlayersByColor(SimpleDealer):
    """
    The changes of the players of one colour (query: the colour). A player
    changing colour leaves one view (a delete) and enters another (an
    insert).
    """

    model = "Player"
    key = "color"
