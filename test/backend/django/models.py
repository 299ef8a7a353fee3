"""The models the Django integration tests save and delete."""

import uuid

from django.db import models

from snorky.backend.django import subscribable

APP = "snorky_tests"


@subscribable
class Player(models.Model):
    """A subscribable model with the default data."""

    name = models.CharField(max_length=40)
    color = models.CharField(max_length=10)
    score = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    joined = models.DateTimeField(null=True)
    uid = models.UUIDField(default=uuid.uuid4)

    class Meta:
        app_label = APP


@subscribable(name="Team", serializer=lambda squad: {"id": squad.pk, "title": squad.title})
class Squad(models.Model):
    """A subscribable model with its own delta name and serializer."""

    title = models.CharField(max_length=40)

    class Meta:
        app_label = APP


class Note(models.Model):
    """A model that is not subscribable."""

    text = models.CharField(max_length=40)

    class Meta:
        app_label = APP


MODELS = (Player, Squad, Note)
