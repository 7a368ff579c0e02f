"""Every hook DSN calls, typed and documented: the contract for plugin authors.

A plugin is a module (or object) with functions decorated by :data:`dsn_core.hookimpl`
and named like the specs below. Implementations may accept any subset of a spec's
arguments, so specs can grow keyword arguments without breaking plugins.

Contribution hooks receive a ``register`` callable owned by core: it validates each
registration, records which plugin made it, and rejects a key another plugin already
claimed with a message naming both. A hook that raises disables only that plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.urls import URLPattern, URLResolver

    from .cli import Subcommand
    from .message_templates import BaseMessageTemplate
    from .messengers import BaseMessenger
    from .models import Delivery
    from .resolvers import BaseRecipientResolver

_hookspec = pluggy.HookspecMarker("dsn")


@_hookspec
def dsn_register_messengers(register: Callable[[type[BaseMessenger]], None]) -> None:
    """Register messenger classes: ``register(MyMessenger)``.

    Each class needs a stable ``id`` (stored on Backend rows; defaults to the class
    name), a human ``label`` and the ``channel`` it addresses (``"email"``, ...).
    """


@_hookspec
def dsn_register_message_templates(
    register: Callable[[type[BaseMessageTemplate]], None],
) -> None:
    """Register message template classes: ``register(MyTemplate)``.

    Templates are compiled when registered; a syntax error is reported by the system
    check ``dsn.E006`` instead of at the first send.
    """


@_hookspec
def dsn_register_signals(register: Callable[..., None]) -> None:
    """Register signals that triggers can use as verbs.

    ``register(name, signal, args=("order", "tracking_number"), description="...")``.
    ``args`` are the keyword arguments the signal sends (Django dropped
    ``providing_args``); DSN checks templates' ``required_signal_args`` against them.
    Pass ``requires_action_object=True`` for signals that fire for every model.
    """


@_hookspec
def dsn_register_recipient_resolvers(
    register: Callable[[type[BaseRecipientResolver]], None],
) -> None:
    """Register dynamic recipient resolvers (e.g. "the audiences of the movie").

    A subscription may pick one; it returns users computed from the event.
    """


@_hookspec
def dsn_register_urls(register: Callable[[list[URLPattern | URLResolver]], None]) -> None:
    """Register URL patterns, mounted under ``dsn/<plugin name>/`` by
    ``include("dsn_core.urls")``: provider webhooks, chat linking.

    A webhook must verify the provider's signature before it changes anything.
    """


@_hookspec
def dsn_register_commands(register: Callable[[Subcommand], None]) -> None:
    """Register ``manage.py dsn <name>`` subcommands (``dsn telegram poll``).

    Build each with :func:`dsn_core.cli.subcommand`; a name core or another plugin
    already uses is refused with a message naming both.
    """


@_hookspec(firstresult=True)
def dsn_resolve_address(user: AbstractBaseUser, channel: str) -> str | None:
    """Return ``user``'s address on ``channel`` (email, chat id, E.164 phone...).

    The first non-``None`` answer wins; plugins run before core's default, which
    answers ``user.email`` for ``"email"``, the username for ``"console"``, and else the
    user's verified, valid contact point for the channel. Return ``None`` to defer.
    """


@_hookspec(firstresult=True)
def dsn_clean_address(channel: str, address: str) -> str | None:
    """Validate and normalise an address a contact point is saved with (an E.164 phone).

    Return the normalised address, or ``None`` when ``channel`` is not yours; raise
    :class:`django.core.exceptions.ValidationError` to refuse it: the admin shows the
    message on the address field, and ``ContactPoint.save()`` raises it.
    """


@_hookspec
def dsn_delivery_finished(delivery: Delivery) -> None:
    """Observe a delivery's final outcome (sent, failed or skipped): metrics, audit.

    Called once per outcome, and once more if a provider later reports a sent message
    as bounced or undelivered (``status`` then ``failed``, ``provider_status`` says why).

    ``delivery`` is the :class:`~dsn_core.models.Delivery` row, saved: ``status``,
    ``attempts``, ``last_error``, ``provider_message_id``, its ``event``. An exception
    here is logged, never propagated to the delivery machinery.
    """
