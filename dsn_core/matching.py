"""The in-process trigger index: matching a signal costs no query.

Every process keeps an index of enabled triggers that have an enabled subscription with
an enabled backend. A configuration change made through the ORM bumps
:class:`~dsn_core.models.ConfigurationVersion` in the same transaction; each process
compares versions at most once per ``DSN["REFRESH_INTERVAL"]`` seconds (default 5), so
a change reaches every process within that interval, and the process that made it at
once (after commit). A save whose signal matches no trigger makes no query at all
between checks.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError, models, router, transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An action or actor object as matching sees it: model labels and, for instances, pk."""

    labels: tuple[str, ...]
    pk: str | None

    @classmethod
    def of(cls, obj: object) -> ObjectRef | None:
        if isinstance(obj, models.Model):
            # __class__, not type(): request.user is a SimpleLazyObject, which passes
            # isinstance() while its type() is the proxy class.
            return cls(model_labels(obj.__class__), None if obj.pk is None else str(obj.pk))
        if isinstance(obj, type) and issubclass(obj, models.Model):
            return cls(model_labels(obj), None)
        return None


@functools.cache  # model classes live as long as the process, and so do their labels
def model_labels(model: type[models.Model]) -> tuple[str, ...]:
    """The model's label and, for a proxy, its concrete model's: a trigger on a model
    also watches its proxies."""
    own = model._meta.label_lower
    concrete = model._meta.concrete_model._meta.label_lower if model._meta.concrete_model else own
    return (own,) if own == concrete else (own, concrete)


@dataclass(frozen=True, slots=True)
class TriggerEntry:
    """What matching needs of a trigger. An empty field matches anything."""

    trigger_id: int
    verb: str
    action_label: str | None = None
    action_id: str = ""
    actor_label: str | None = None
    actor_id: str = ""
    target: str = ""

    def matches(self, action: ObjectRef | None, actor: ObjectRef | None, target: object) -> bool:
        if not _object_matches(self.action_label, self.action_id, action):
            return False
        if not _object_matches(self.actor_label, self.actor_id, actor):
            return False
        return not self.target or (target is not None and str(target) == self.target)


def _object_matches(label: str | None, object_id: str, ref: ObjectRef | None) -> bool:
    if label is None:
        return True
    if ref is None or label not in ref.labels:
        return False
    return not object_id or ref.pk == object_id


class TriggerIndex:
    """Entries grouped by (verb, action label); ``None`` label holds "any object" entries."""

    def __init__(self, entries: Iterable[TriggerEntry] = (), version: object = None) -> None:
        self.version = version
        grouped: dict[tuple[str, str | None], list[TriggerEntry]] = {}
        for entry in entries:
            grouped.setdefault((entry.verb, entry.action_label), []).append(entry)
        self._by_key = {key: tuple(value) for key, value in grouped.items()}
        self.verbs = frozenset(verb for verb, _ in grouped)

    def action_labels(self, verb: str) -> set[str | None]:
        """Labels of the action objects ``verb``'s triggers watch; ``None``: any object."""
        return {label for key_verb, label in self._by_key if key_verb == verb}

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_key.values())

    def candidates(self, verb: str, action: ObjectRef | None) -> list[TriggerEntry]:
        found = list(self._by_key.get((verb, None), ()))
        if action is not None:
            for label in action.labels:
                found.extend(self._by_key.get((verb, label), ()))
        return found

    def match(
        self, verb: str, action: ObjectRef | None, actor: ObjectRef | None, target: object
    ) -> list[int]:
        return [
            e.trigger_id for e in self.candidates(verb, action) if e.matches(action, actor, target)
        ]


EMPTY = TriggerIndex()


#: Called after every configuration check with the index and the seconds until the next.
Listener = Callable[[TriggerIndex, float], None]


class IndexHolder:
    """Holds this process's index and decides when to look at the configuration version."""

    def __init__(self) -> None:
        self.index: TriggerIndex = EMPTY
        self.next_check = 0.0  # monotonic time of the next version check; 0: build now
        self.listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._building = False

    def current(self) -> TriggerIndex:
        if time.monotonic() < self.next_check:
            return self.index
        return self.refresh()

    def invalidate(self) -> None:
        """Rebuild on next use: this process changed the configuration."""
        self.next_check = 0.0
        self._notify(0.0)

    def refresh(self) -> TriggerIndex:
        from .conf import get_number_setting

        if self._building or not self._lock.acquire(blocking=False):
            return self.index  # another thread (or our own queries) is refreshing
        try:
            self._building = True
            interval = get_number_setting("REFRESH_INTERVAL")
            try:
                self.index = self._load(self.index)
            except DatabaseError as exc:
                # Keep serving the index we have (a locked or lost database is no reason
                # to stop notifying); before the first load, that is the empty one, and
                # the usual cause is that migrate has not created DSN's tables yet.
                log = logger.debug if self.index.version is None else logger.warning
                log("DSN could not check the configuration version: %s", exc)
            except Exception:
                # Anything else (a test runner refusing database access, a bug) must not
                # break the save or request that happened to be due for the check.
                logger.exception("DSN could not check the configuration version.")
            if self.index.version is None:  # never loaded (database not ready): retry soon
                interval = min(interval, 1.0)
            self.next_check = time.monotonic() + interval
        finally:
            self._building = False
            self._lock.release()
        self._notify(interval)
        return self.index

    def reset_after_fork(self) -> None:
        self._lock = threading.Lock()
        self._building = False
        self.next_check = 0.0

    def _notify(self, delay: float) -> None:
        for listener in self.listeners:
            listener(self.index, delay)

    def _load(self, old: TriggerIndex) -> TriggerIndex:
        from .models import ConfigurationVersion, Trigger

        alias = router.db_for_read(Trigger)
        # A savepoint keeps a failure (e.g. tables not migrated yet) from breaking the
        # caller's transaction on PostgreSQL.
        with transaction.atomic(using=alias):
            version = ConfigurationVersion.current(alias)
            if version == old.version:
                return old
            rows = (
                Trigger.objects.using(alias)
                .filter(
                    enabled=True,
                    subscriptions__enabled=True,
                    subscriptions__backends__enabled=True,
                )
                .values_list(
                    "pk",
                    "verb",
                    "action_object_content_type__app_label",
                    "action_object_content_type__model",
                    "action_object_id",
                    "actor_object_content_type__app_label",
                    "actor_object_content_type__model",
                    "actor_object_id",
                    "target",
                )
                .distinct()
            )
            entries = [
                TriggerEntry(
                    trigger_id=row[0],
                    verb=row[1],
                    action_label=f"{row[2]}.{row[3]}" if row[2] else None,
                    action_id=row[4],
                    actor_label=f"{row[5]}.{row[6]}" if row[5] else None,
                    actor_id=row[7],
                    target=row[8],
                )
                for row in rows
            ]
        logger.debug("DSN trigger index loaded: %d triggers, version %s", len(entries), version)
        return TriggerIndex(entries, version)


holder = IndexHolder()


def configuration_changed(using: str | None = None) -> None:
    """Record a configuration change: bump the shared version and refresh this process
    after commit. Called by signal receivers on the config models; call it yourself after
    ``QuerySet.update()`` or ``bulk_create()`` on triggers, subscriptions or backends.
    """
    from .models import ConfigurationVersion

    ConfigurationVersion.bump(using)
    transaction.on_commit(holder.invalidate, using=using)
    holder.invalidate()
