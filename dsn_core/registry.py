"""Registries of what plugins contribute, keyed by stable string ids.

Backend rows store these ids, so a registry is looked up at run time and never frozen
into ``choices=`` in a migration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from .exceptions import RegistrationError
from .message_templates import BaseMessageTemplate
from .messengers import BaseMessenger
from .resolvers import BaseRecipientResolver

T = TypeVar("T")

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")


@dataclass(frozen=True)
class Registration(Generic[T]):
    id: str
    cls: type[T]
    source: str


class Registry(Generic[T]):
    """Classes of one kind, each under a unique id and attributed to the plugin that sent it."""

    def __init__(self, kind: str, base: type[T], on_register: Callable[[type[T]], None]) -> None:
        self.kind = kind
        self.base = base
        self._on_register = on_register
        self._entries: dict[str, Registration[T]] = {}

    def register(self, cls: type[T], *, source: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise RegistrationError(
                f"{source} registered {cls!r} as a {self.kind}, but it is not a subclass of "
                f"{self.base.__module__}.{self.base.__qualname__}."
            )
        key = str(getattr(cls, "id", "") or "")
        if not _ID.match(key):
            raise RegistrationError(
                f"{source} registered {self.kind} {cls.__qualname__} with invalid id {key!r}: "
                "use letters, digits, '_', '.', '-' (at most 100 characters)."
            )
        existing = self._entries.get(key)
        if existing is not None:
            if existing.cls is cls:
                return
            raise RegistrationError(
                f"{self.kind} id {key!r} is claimed by both {existing.source} "
                f"({existing.cls.__module__}.{existing.cls.__qualname__}) and {source} "
                f"({cls.__module__}.{cls.__qualname__}); the second is ignored. "
                "Block one of them with DSN['BLOCKED_PLUGINS'] or give the class another id."
            )
        self._on_register(cls)
        self._entries[key] = Registration(key, cls, source)

    def get(self, key: str) -> type[T] | None:
        entry = self._entries.get(key)
        return entry.cls if entry else None

    def source_of(self, key: str) -> str | None:
        entry = self._entries.get(key)
        return entry.source if entry else None

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Registration[T]]:
        return iter(sorted(self._entries.values(), key=lambda entry: entry.id))

    def ids_from(self, source: str) -> list[str]:
        return sorted(key for key, entry in self._entries.items() if entry.source == source)

    def choices(self) -> list[tuple[str, str]]:
        return [(entry.id, str(getattr(entry.cls, "label", entry.id))) for entry in self]

    def remove_sources(self, keep: Callable[[str], bool]) -> None:
        """Drop every registration whose source ``keep`` rejects (used on plugin reload)."""
        self._entries = {k: e for k, e in self._entries.items() if keep(e.source)}


def _no_op(cls: type) -> None:
    return None


def _compile_template(cls: type[BaseMessageTemplate]) -> None:
    cls.try_compile()


messengers: Registry[BaseMessenger] = Registry("messenger", BaseMessenger, _no_op)
message_templates: Registry[BaseMessageTemplate] = Registry(
    "message template", BaseMessageTemplate, _compile_template
)
resolvers: Registry[BaseRecipientResolver] = Registry(
    "recipient resolver", BaseRecipientResolver, _no_op
)
