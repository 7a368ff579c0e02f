"""Signed, expiring, single-use deep links that connect a user's Telegram chat.

Telegram passes ``https://t.me/<bot>?start=<token>`` to the bot as ``/start <token>``,
and a start payload may only hold ``[A-Za-z0-9_-]``, at most 64 characters: too short
for ``signing.dumps``. The token is therefore ``<user pk>_<time>_<signature>``: the time
is base62 seconds (as :class:`~django.core.signing.TimestampSigner` writes it), and the
signature is the first 22 characters (132 bits) of a :class:`~django.core.signing.Signer`
HMAC-SHA256 over the pk, the time and the user's current Telegram link state.

A token links once: :func:`link_chat` records its signature with core's
``UsedKey.use_once`` (a unique constraint, kept for ``LINK_MAX_AGE`` + ``CLOCK_SKEW``), in
the transaction that links. The link state in the signature is not enough on its own:
deleting the user's Telegram contact point brings the state back to what it was, and an
old token would verify again; it still makes every token issued before a link die with
it. ``SECRET_KEY_FALLBACKS`` are honoured.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.utils.http import urlencode

from . import settings

CHANNEL = "telegram"
SALT = "dsn_telegram.link"
SIGNATURE_LENGTH = 22
TOKEN_RE = re.compile(r"^([A-Za-z0-9]{1,32})_([A-Za-z0-9]{1,8})_([A-Za-z0-9_-]{22})$")
#: Tokens dated this far in the future (clock skew between servers) are still accepted.
CLOCK_SKEW = 60


class LinkError(ValueError):
    """The token is malformed, forged, expired or already used."""


def _pk_text(user: Any) -> str:
    pk = user.pk
    text = pk.hex if isinstance(pk, uuid.UUID) else str(pk)
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", text):
        raise ValueError(
            f"Cannot build a Telegram link for primary key {pk!r}: it must be an integer, a "
            "UUID or up to 32 letters and digits to fit Telegram's 64-character payload."
        )
    return text


def link_state(user: Any) -> str:
    """What changes whenever the user's Telegram link changes (part of the signed value)."""
    from dsn_core.models import ContactPoint

    rows = ContactPoint.objects.filter(user=user, channel=CHANNEL).order_by("-pk")
    return ";".join(
        f"{pk}@{updated.isoformat()}" for pk, updated in rows.values_list("pk", "updated")
    )


def _signature(value: str, key: str | bytes) -> str:
    signer = signing.Signer(salt=SALT, algorithm="sha256")
    return signer.signature(value, key=key)[:SIGNATURE_LENGTH]


def make_token(user: Any, *, now: float | None = None) -> str:
    """A start payload for ``user``, valid for ``LINK_MAX_AGE`` seconds and used once."""
    pk = _pk_text(user)
    stamp = signing.b62_encode(int(time.time() if now is None else now))
    signer = signing.Signer(salt=SALT, algorithm="sha256")
    signature = _signature(f"{pk}:{stamp}:{link_state(user)}", signer.key)
    return f"{pk}_{stamp}_{signature}"


def link_url(user: Any) -> str:
    """``https://t.me/<BOT_USERNAME>?start=<token>``: show it to the logged-in ``user``."""
    username = settings.text("BOT_USERNAME").removeprefix("@")
    if not settings.USERNAME_RE.match(username):
        from dsn_core.exceptions import ConfigurationError

        raise ConfigurationError(
            "Set DSN['TELEGRAM']['BOT_USERNAME'] to the bot's username to build links."
        )
    return f"https://t.me/{username}?{urlencode({'start': make_token(user)})}"


def verify_token(token: str, *, now: float | None = None) -> Any:
    """The user ``token`` was made for; :class:`LinkError` if it does not verify."""
    match = TOKEN_RE.match(token)
    if not match:
        raise LinkError("malformed link token")
    pk, stamp, signature = match.groups()
    try:
        issued = signing.b62_decode(stamp)
    except ValueError as exc:
        raise LinkError("malformed link token") from exc
    age = (time.time() if now is None else now) - issued
    if age > settings.number("LINK_MAX_AGE") or age < -CLOCK_SKEW:
        raise LinkError("expired link token")
    user_model = get_user_model()
    try:
        user = user_model._default_manager.filter(pk=pk).first()
    except (ValueError, ValidationError) as exc:
        raise LinkError("malformed link token") from exc
    if user is None or not user.is_active:
        raise LinkError("no such user")
    signer = signing.Signer(salt=SALT, algorithm="sha256")
    value = f"{pk}:{stamp}:{link_state(user)}"
    if not any(
        constant_time_compare(signature, _signature(value, key))
        for key in [signer.key, *signer.fallback_keys]
    ):
        raise LinkError("bad signature, or the link was already used")
    return user


def link_chat(token: str, chat_id: int | str) -> Any:
    """Verify ``token``, mark it used and make ``chat_id`` the user's one verified
    Telegram contact point. Returns the user; raises :class:`LinkError`.

    Runs in one transaction: the used key is only kept when the chat is linked, and of
    concurrent uses of one token the unique constraint lets exactly one through.
    """
    from dsn_core.models import ContactPoint, UsedKey

    with transaction.atomic():
        user = verify_token(token)
        # Lock the user, so concurrent links for one user queue up here.
        get_user_model()._default_manager.select_for_update().filter(pk=user.pk).exists()
        signature = token[-SIGNATURE_LENGTH:]  # verified, so the token ends with it
        lifetime = settings.number("LINK_MAX_AGE") + CLOCK_SKEW
        if not UsedKey.use_once(f"{SALT}:{signature}", lifetime):
            raise LinkError("this link was already used")
        user = verify_token(token)  # the link state may have changed while waiting
        ContactPoint.objects.filter(user=user, channel=CHANNEL).delete()
        ContactPoint.objects.create(
            user=user, channel=CHANNEL, address=str(chat_id), verified=True, invalid_reason=""
        )
    return user
