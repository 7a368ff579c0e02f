"""Dynamic recipient resolvers: the seed's "dynamic user", chosen per subscription."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from .contributions import Contribution


class BaseRecipientResolver(Contribution):
    """Computes recipients from an event, e.g. "the audiences of the movie in the signal".

    ``required_signal_args`` names the signal arguments ``resolve`` reads; the admin
    refuses a subscription whose trigger's signal does not send them.
    """

    required_signal_args: ClassVar[Sequence[str]] = ()

    def resolve(
        self, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> Iterable[Any]:
        """Return the users (instances of ``AUTH_USER_MODEL``) to notify; may be a queryset."""
        raise NotImplementedError(f"{type(self).__name__} must implement resolve().")
