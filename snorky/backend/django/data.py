"""
What a model instance looks like in a delta: a JSON-able dict.
"""

import json
from typing import Any, Dict

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model

__all__ = ["jsonable", "model_data"]


def model_data(instance: Model) -> Dict[str, Any]:
    """
    The default data of *instance*: each concrete field by name (a foreign
    key as the related row's key, like ``model_to_dict``), converted by
    :func:`jsonable`. Fields deferred with ``only()`` or ``defer()`` are
    left out rather than loaded, one query per row.
    """
    deferred = instance.get_deferred_fields()
    return jsonable(
        {
            field.name: field.value_from_object(instance)
            for field in instance._meta.concrete_fields
            if field.attname not in deferred
        }
    )


def jsonable(data: Any) -> Any:
    """
    A copy of *data* made of JSON types only, converted the way Django's
    :class:`~django.core.serializers.json.DjangoJSONEncoder` does: dates
    and times as ISO 8601 strings, durations as ISO 8601 durations,
    decimals and UUIDs as strings.

    :raises TypeError: for a value that encoder does not know (bytes, say).
    """
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
