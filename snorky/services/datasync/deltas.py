"""
Deltas: notifications that data of a model was inserted, updated or deleted.

On the wire a delta is ``{"type": "insert"|"delete", "model", "data"}`` or
``{"type": "update", "model", "newData", "oldData"}``; :func:`parse_deltas`
turns a batch of those into :class:`Delta` objects, rejecting the whole
batch if any of them is malformed.
"""

from typing import Any, Dict, List

__all__ = [
    "Delta",
    "InsertionDelta",
    "UpdateDelta",
    "DeletionDelta",
    "DeltaError",
    "parse_delta",
    "parse_deltas",
]


class Delta:
    """
    A change to one item of a model. Its class attribute ``type`` is its
    type on the wire (``"insert"``, ``"update"`` or ``"delete"``).

    :ivar model: the name of the model that changed.
    """

    __slots__ = ("model",)

    type = ""

    def __init__(self, model: str) -> None:
        self.model = model

    def for_json(self) -> Dict[str, Any]:
        """
        This delta as it travels on the wire.
        """
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Delta) and self.for_json() == other.for_json()

    def __repr__(self) -> str:
        return "<{} {!r}>".format(type(self).__name__, self.for_json())


class _DataDelta(Delta):
    """
    A delta that carries one version of the item.
    """

    __slots__ = ("data",)

    def __init__(self, model: str, data: Any) -> None:
        super().__init__(model)
        self.data = data

    def for_json(self) -> Dict[str, Any]:
        return {"type": self.type, "model": self.model, "data": self.data}


class InsertionDelta(_DataDelta):
    """
    An item was inserted.

    :ivar data: the inserted item.
    """

    __slots__ = ()
    type = "insert"


class DeletionDelta(_DataDelta):
    """
    An item was deleted.

    :ivar data: the item as it was before the deletion.
    """

    __slots__ = ()
    type = "delete"


class UpdateDelta(Delta):
    """
    An item changed.

    :ivar new_data: the item after the change.
    :ivar old_data: the item before the change.
    """

    __slots__ = ("new_data", "old_data")
    type = "update"

    def __init__(self, model: str, new_data: Any, old_data: Any) -> None:
        super().__init__(model)
        self.new_data = new_data
        self.old_data = old_data

    def for_json(self) -> Dict[str, Any]:
        return {
            "type": self.type,
            "model": self.model,
            "newData": self.new_data,
            "oldData": self.old_data,
        }


class DeltaError(ValueError):
    """
    A delta that cannot be parsed; the text names it and says why.
    """


def _field(obj: Dict[str, Any], name: str, index: int) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise DeltaError(
            'Missing field "{}" in delta {}'.format(name, index)
        ) from None


def parse_delta(obj: Any, index: int = 0) -> Delta:
    """
    Turn the wire form of one delta into a :class:`Delta`.

    :param index: the delta's position in its batch, used in error texts.
    :raises DeltaError: if *obj* is not a valid delta.
    """
    if not isinstance(obj, dict):
        raise DeltaError("Delta {} is not an object".format(index))
    kind = _field(obj, "type", index)
    model = _field(obj, "model", index)
    if not isinstance(model, str):
        raise DeltaError("Invalid model in delta {} (expected a string)".format(index))
    if kind == "insert":
        return InsertionDelta(model, _field(obj, "data", index))
    if kind == "delete":
        return DeletionDelta(model, _field(obj, "data", index))
    if kind == "update":
        return UpdateDelta(
            model, _field(obj, "newData", index), _field(obj, "oldData", index)
        )
    raise DeltaError(
        "Invalid type in delta {} (expected insert, update or delete)".format(index)
    )


def parse_deltas(objs: Any) -> List[Delta]:
    """
    Parse a batch of deltas: all of them, or none.

    :raises DeltaError: naming the first invalid delta.
    """
    if not isinstance(objs, list):
        raise DeltaError("Invalid deltas (expected a list)")
    return [parse_delta(obj, index) for index, obj in enumerate(objs)]
