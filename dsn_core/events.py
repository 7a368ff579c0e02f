"""An event: one matched signal, with what templates and resolvers need to render it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SignalEvent:
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
    ) -> SignalEvent:
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
            "action_object": template_safe(self.action_object),
            "actor_object": template_safe(self.actor_object),
            "target": self.target,
        }


class ClassForTemplates:
    """A class as template context: Django templates call callables, and calling a model
    class would build an empty instance, so ``{{ action_object }}`` rendered as ``""``.
    """

    do_not_call_in_templates = True

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cls, name)

    def __str__(self) -> str:
        return self.cls.__name__

    def __repr__(self) -> str:
        return f"<class {self.cls.__module__}.{self.cls.__qualname__}>"

    def __eq__(self, other: object) -> bool:
        return self.cls is (other.cls if isinstance(other, ClassForTemplates) else other)

    def __hash__(self) -> int:
        return hash(self.cls)


def template_safe(value: Any) -> Any:
    return ClassForTemplates(value) if isinstance(value, type) else value
