"""
The example's one model. Marked :func:`~snorky.backend.django.subscribable`,
every save and delete of a player becomes a DataSync delta after commit.
"""

from django.db import models

from snorky.backend.django import subscribable

__all__ = ["Player"]


@subscribable
class Player(models.Model):
    """
    A player: a name and a colour (one of
    :data:`examples.players.store.COLORS`).
    """

    name = models.CharField(max_length=40)
    color = models.CharField(max_length=10)

    class Meta:
        app_label = "django_players"
        ordering = ["id"]
