"""Snapshots of an event's context: JSON when the signal fires, template values later.

A worker may render a message minutes after the signal, in another process, after a
``post_delete`` removed the row. So the trigger context and signal arguments are turned
into JSON at once: a model instance becomes its field values, ``pk``, its string, its
``get_FOO_display()`` values and ``get_absolute_url()``; a related object (foreign key,
one-to-one) becomes a nested snapshot, one level deep. Anything else becomes its string.
Templates read snapshots as they read the objects: ``{{ order }}``, ``{{ order.pk }}``,
``{{ order.item }}``, ``{{ order.customer.email }}``, ``{{ order.get_status_display }}``.
Other methods are not called later: pass what a template needs as a signal argument.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from .conf import get_names_setting
from .events import ClassForTemplates

MARK = "__dsn__"
_SCALARS = (str, int, float, bool, type(None))
#: Field values no template needs and no outbox row should hold.
SECRET_FIELDS = frozenset({"password"})
_TEMPORAL = {cls.__name__: cls for cls in (datetime.datetime, datetime.date, datetime.time)}


class Snapshot(dict[str, Any]):
    """A model instance as it was: a dict of its values that prints as the object did."""

    def __init__(self, values: Mapping[str, Any], text: str, label: str) -> None:
        super().__init__(values)
        self.text = text
        self.label = label

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:  # an object is truthy in ``{% if order %}`` even with no fields
        return True

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def dump(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-compatible data."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, models.Model):
        return _dump_instance(value, depth)
    if isinstance(value, ClassForTemplates):
        value = value.cls
    if isinstance(value, type) and issubclass(value, models.Model):
        return {MARK: "class", "label": value._meta.label_lower, "str": value.__name__}
    if isinstance(value, Mapping):
        items = {str(key): dump(item, depth) for key, item in value.items()}
        # A mapping of the sender's (request data, say) that carries the marker must not
        # load as a snapshot: wrap it.
        return {MARK: "dict", "items": items} if MARK in items else items
    if isinstance(value, list | tuple | set | frozenset):
        return [dump(item, depth) for item in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        # Tagged, so templates get the type back: ``|date``, ``|timesince`` need it.
        return {MARK: type(value).__name__, "iso": value.isoformat()}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return {MARK: "text", "str": str(value)}


def _dump_instance(obj: models.Model, depth: int) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": dump(obj.pk)}
    excluded = SECRET_FIELDS.union(get_names_setting("SNAPSHOT_EXCLUDE"))
    for field in obj._meta.concrete_fields:
        if field.name in excluded:
            continue  # never stored in the outbox, nor shown in the admin
        if field.is_relation:
            values[field.attname] = dump(field.value_from_object(obj))
            if depth == 0:
                related = _related(obj, field.name)
                values[field.name] = None if related is None else _dump_instance(related, 1)
            continue
        values[field.name] = dump(field.value_from_object(obj))
        if field.choices:
            values[f"get_{field.name}_display"] = str(getattr(obj, f"get_{field.name}_display")())
    if depth == 0 and hasattr(obj, "get_absolute_url"):
        # A URL that cannot be built now is left out, not fatal.
        with contextlib.suppress(Exception):
            values["get_absolute_url"] = str(obj.get_absolute_url())
    values.setdefault("id", values["pk"])
    return {MARK: "model", "label": obj._meta.label_lower, "str": str(obj), "values": values}


def _related(obj: models.Model, name: str) -> models.Model | None:
    """The related object, loaded if needed (one query per relation and event, never per
    recipient): templates commonly print ``{{ order.customer }}``."""
    try:
        related = getattr(obj, name)
    except ObjectDoesNotExist:
        return None
    return related if isinstance(related, models.Model) else None


def load(data: Any) -> Any:
    """Template-friendly values from :func:`dump`'s output."""
    if isinstance(data, list):
        return [load(item) for item in data]
    if not isinstance(data, dict):
        return data
    kind = data.get(MARK)
    if kind == "model":
        return Snapshot({k: load(v) for k, v in data["values"].items()}, data["str"], data["label"])
    if kind == "class":
        return Snapshot({}, data["str"], data["label"])
    if kind == "text":
        return data["str"]
    if kind in _TEMPORAL:
        return _TEMPORAL[kind].fromisoformat(data["iso"])
    if kind == "dict":
        return {key: load(item) for key, item in data["items"].items()}
    return {key: load(item) for key, item in data.items()}
