"""A project-local DSN plugin used by the tests: resolvers, templates, a seed-style messenger."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dsn_core import hookimpl
from dsn_core.message_templates import BaseMessageTemplate
from dsn_core.messengers import BaseMessenger
from dsn_core.resolvers import BaseRecipientResolver

from .models import Movie

#: What the seed-style messenger "sent": (username, rendered text).
seed_sent: list[tuple[str, str]] = []


class MovieAudiencesResolver(BaseRecipientResolver):
    """The seed's dynamic users: everyone in the movie's audiences."""

    id = "movie_audiences"
    label = "Audiences of the movie"
    required_signal_args = ("movie",)

    def resolve(
        self, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> Iterable[Any]:
        movie: Movie = signal_kwargs["movie"]
        return movie.audiences.all()


class MovieReleasedTemplate(BaseMessageTemplate):
    id = "movie_released"
    required_signal_args = ("movie",)
    parts = {"subject": "{{ movie.name }} is out"}
    template_string = "Dear {{ user.get_username }}, {{ movie.name }} is released."


class SeedStyleTemplate(BaseMessageTemplate):
    """Written as the seed documented: the merged context under ``context``."""

    template_string = "{{ context.verb }}|{{ context.user.get_username }}|{{ context.parameter1 }}"


class SeedStyleMessenger(BaseMessenger):
    """Written as the seed documented: a classmethod that renders and sends itself."""

    @classmethod
    def send(  # type: ignore[override]
        cls, template: Any, users: Any, trigger_context: Any, signal_kwargs: Any
    ) -> None:
        for user in users:
            seed_sent.append(
                (user.get_username(), template.render(user, trigger_context, signal_kwargs))
            )


class SmsLikeMessenger(BaseMessenger):
    """Addresses users through their contact points on the "sms" channel."""

    id = "sms_like"
    channel = "sms"

    def send(self, messages: Any) -> list[Any]:
        from dsn_core.testing import OutboxMessenger

        return list(OutboxMessenger(self.options).send(messages))


@hookimpl
def dsn_register_recipient_resolvers(register: Callable[[type], None]) -> None:
    register(MovieAudiencesResolver)


@hookimpl
def dsn_register_message_templates(register: Callable[[type], None]) -> None:
    register(MovieReleasedTemplate)
    register(SeedStyleTemplate)


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    register(SmsLikeMessenger)
