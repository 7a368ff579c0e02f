"""An event: one matched signal, with what templates and resolvers need to render it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    verb: str
    sender: Any
    action_object: Any
    actor_object: Any
    target: Any
    signal_kwargs: dict[str, Any]
    trigger_ids: tuple[int, ...]

    @classmethod
    def from_signal(
        cls,
        verb: str,
        sender: Any,
        action_object: Any,
        kwargs: dict[str, Any],
        trigger_ids: list[int],
    ) -> Event:
        signal_kwargs = {k: v for k, v in kwargs.items() if k != "signal"}
        return cls(
            verb=verb,
            sender=sender,
            action_object=action_object,
            actor_object=kwargs.get("actor_object"),
            target=kwargs.get("target"),
            signal_kwargs=signal_kwargs,
            trigger_ids=tuple(trigger_ids),
        )

    @property
    def trigger_context(self) -> dict[str, Any]:
        return {
            "verb": self.verb,
            "action_object": self.action_object,
            "actor_object": self.actor_object,
            "target": self.target,
        }
