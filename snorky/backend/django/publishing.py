"""
:func:`subscribable`: marking a Django model so that its saves and
deletes become DataSync deltas, published after commit.
"""

from typing import Any, Callable, Dict, Optional

from django.db.models import Model
from django.db.models.signals import post_delete, post_init, post_save

from snorky.backend.django.commits import publish_after_commit
from snorky.backend.django.data import jsonable, model_data

__all__ = ["subscribable"]

Serializer = Callable[[Any], Dict[str, Any]]

# Where an instance keeps its data as last loaded or saved.
_SNAPSHOT = "_snorky_data"


def subscribable(
    model: Optional[type] = None,
    *,
    name: Optional[str] = None,
    serializer: Optional[Serializer] = None,
) -> Any:
    """
    Make *model* publish a delta for each instance created (``insert``),
    saved again with other data (``update``, with ``oldData`` and
    ``newData``) or deleted (``delete``, with its last data), after the
    transaction commits. Use it bare (``@subscribable``), with arguments
    (``@subscribable(name="Player")``) or as a function.

    :param model: the model class.
    :param name: the delta's ``model``; the class's name by default.
    :param serializer: what turns an instance into its data; the model's
        ``jsonify()`` method if it has one, otherwise
        :func:`~snorky.backend.django.data.model_data`. Its result is
        converted by :func:`~snorky.backend.django.data.jsonable`.
    :returns: the model, marked.
    :raises TypeError: if *model* is abstract.
    """

    def mark(model: type) -> type:
        if model._meta.abstract:  # type: ignore[attr-defined]
            raise TypeError("{} is abstract: mark its concrete models".format(model))
        _Publisher(model, name or model.__name__, _serializer_of(model, serializer))
        return model

    return mark if model is None else mark(model)


def _serializer_of(model: type, serializer: Optional[Serializer]) -> Serializer:
    if serializer is None:
        jsonify = getattr(model, "jsonify", None)
        if jsonify is None:
            return model_data
        serializer = jsonify
    chosen = serializer
    return lambda instance: jsonable(chosen(instance))


class _Publisher:
    """
    The signal receivers of one subscribable model: they keep each
    instance's data as last loaded or saved, which is the ``oldData`` of
    the next update (no query needed, and the state the application saw).
    """

    def __init__(self, model: type, name: str, serializer: Serializer) -> None:
        self.name = name
        self.data = serializer
        uid = "snorky-" + model._meta.label  # type: ignore[attr-defined]
        post_init.connect(self.loaded, sender=model, weak=False, dispatch_uid=uid)
        post_save.connect(self.saved, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(self.deleted, sender=model, weak=False, dispatch_uid=uid)

    def loaded(self, sender: type, instance: Model, **kwargs: Any) -> None:
        setattr(instance, _SNAPSHOT, self.data(instance))

    def saved(
        self,
        sender: type,
        instance: Model,
        created: bool,
        raw: bool,
        using: str,
        **kwargs: Any,
    ) -> None:
        new = self.data(instance)
        old = getattr(instance, _SNAPSHOT, None)
        setattr(instance, _SNAPSHOT, new)
        if raw:
            # Fixtures being loaded: not the application's changes.
            return
        if created or old is None:
            delta = {"type": "insert", "model": self.name, "data": new}
        elif old != new:
            delta = {"type": "update", "model": self.name, "oldData": old, "newData": new}
        else:
            return
        publish_after_commit(delta, using)

    def deleted(self, sender: type, instance: Model, using: str, **kwargs: Any) -> None:
        data = getattr(instance, _SNAPSHOT, None)
        if data is None:
            data = self.data(instance)
        publish_after_commit({"type": "delete", "model": self.name, "data": data}, using)
