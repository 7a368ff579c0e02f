"""Dynamic recipient resolvers: the seed's "dynamic user", chosen per subscription."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar


class BaseRecipientResolver:
    """Computes recipients from an event, e.g. "the audiences of the movie in the signal".

    ``required_signal_args`` names the signal arguments ``resolve`` reads; the admin
    refuses a subscription whose trigger's signal does not send them.
    """

    id: ClassVar[str] = ""
    label: ClassVar[str] = ""
    required_signal_args: ClassVar[Sequence[str]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:
            cls.id = cls.__name__
        if "label" not in cls.__dict__:
            cls.label = cls.id

    def resolve(
        self, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> Iterable[Any]:
        """Return the users (instances of ``AUTH_USER_MODEL``) to notify; may be a queryset."""
        raise NotImplementedError(f"{type(self).__name__} must implement resolve().")
