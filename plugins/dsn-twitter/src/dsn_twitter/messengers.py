"""The two X messengers: a post from the site's account, and direct messages to users.

Backend options (JSON, non-secret):

- ``"overflow"``: ``"trim"`` (default) cuts a text longer than ``max_length`` at a word
  boundary and appends "…"; ``"fail"`` fails the delivery permanently instead.
- ``"max_length"``: the weighted length allowed (default 280 for a post, as X counts
  it: see :mod:`dsn_twitter.weighted_length`; 10,000 for a direct message). Raise it
  for an X Premium account, which may post longer texts.

The ``text`` part of the rendered message is sent. A text that is empty (after trimming
whitespace) is not sent: the delivery is skipped with "empty post: ..." (or "empty
direct message: ..."), as the template rendered nothing worth sending. A text of which
nothing fits in ``max_length`` fails: that is a wrong option, not an empty message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.checks import CheckMessage

from dsn_core.exceptions import ConfigurationError
from dsn_core.feedback import mark_address_invalid
from dsn_core.messages import (
    Outcome,
    OutgoingMessage,
    PermanentFailure,
    Sent,
    Skipped,
    TransientFailure,
)
from dsn_core.messengers import BaseMessenger

from . import checks, errors, weighted_length
from .client import make_client, response_data, user_auth
from .settings import TwitterSettings, load

if TYPE_CHECKING:
    import tweepy

logger = logging.getLogger(__name__)
OVERFLOW_CHOICES = ("trim", "fail")


class TwitterMessenger(BaseMessenger):
    """What both messengers share: settings, text preparation, error mapping."""

    channel = "twitter"
    #: "post" or "direct message", for reasons and logs.
    what: ClassVar[str] = "post"
    id_field: ClassVar[str] = "id"
    default_max_length: ClassVar[int] = weighted_length.MAX_POST_WEIGHT

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if not messages:
            return []
        try:
            settings = load()
        except ConfigurationError as exc:
            return [PermanentFailure(f"{exc} (then retry the delivery)")] * len(messages)
        client = make_client(settings)
        outcomes: list[Outcome] = []
        stopped: errors.Verdict | None = None
        try:
            for outgoing in messages:
                if stopped is not None:
                    outcomes.append(stopped.outcome)
                    continue
                verdict = self.send_one(client, settings, outgoing)
                if verdict.invalid_address and outgoing.recipient.address:
                    mark_address_invalid(
                        self.channel, outgoing.recipient.address, _short(verdict.outcome)
                    )
                if verdict.stops_batch:
                    stopped = verdict
                outcomes.append(verdict.outcome)
        finally:
            client.session.close()
        return outcomes

    def send_one(
        self, client: tweepy.Client, settings: TwitterSettings, outgoing: OutgoingMessage
    ) -> errors.Verdict:
        prepared = self.prepare_text(outgoing.message.text)
        if not isinstance(prepared, str):
            return errors.Verdict(prepared)
        refused = self.check_address(outgoing.recipient.address)
        if refused is not None:
            return refused
        try:
            response = self.call(client, settings, outgoing, prepared)
        except Exception as exc:
            verdict = errors.from_exception(
                exc,
                direct_message=not self.broadcast,
                timeout=settings.timeout,
                attempt=outgoing.attempt,
            )
            if verdict is None:
                # The log (credentials redacted) has the details; the delivery's error
                # gets the type alone: an exception message may quote a credential.
                logger.exception("X %s to %s raised unexpectedly.", self.what, outgoing.recipient)
                return errors.Verdict(
                    TransientFailure(
                        f"unexpected {type(exc).__name__} while sending the {self.what} "
                        "(details in the 'dsn_twitter' log)"
                    )
                )
            return verdict
        data = response_data(response)
        if data is not None and data.get(self.id_field):
            if response.errors:
                logger.warning("X sent the %s but reported: %r", self.what, response.errors)
            return errors.Verdict(Sent(provider_id=str(data[self.id_field])))
        return errors.from_errors(
            response.errors or [], direct_message=not self.broadcast, attempt=outgoing.attempt
        )

    def prepare_text(self, text: str) -> str | PermanentFailure | Skipped:
        """The text to send, NFC and within ``max_length``; or why there is none."""
        overflow = self.options.get("overflow", "trim")
        limit = self.options.get("max_length", self.default_max_length)
        if overflow not in OVERFLOW_CHOICES:
            return PermanentFailure(
                f"Backend option 'overflow' must be one of {OVERFLOW_CHOICES}, not {overflow!r}."
            )
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            return PermanentFailure(
                f"Backend option 'max_length' must be a whole number >= 1, not {limit!r}."
            )
        text = weighted_length.normalize(text).strip()
        if not text:
            return Skipped(f"empty {self.what}: the message template rendered no text")
        weight = weighted_length.weigh(text)
        if weight <= limit:
            return text
        if overflow == "fail":
            return PermanentFailure(
                f"{self.what} too long: weighs {weight}, more than {limit} "
                "(Backend option 'overflow' is 'fail')"
            )
        trimmed = weighted_length.fit(text, limit)
        if not trimmed:
            return PermanentFailure(
                f"{self.what} too long: nothing of it fits in {limit} with the ellipsis "
                "(Backend option 'max_length')"
            )
        return trimmed

    def check_address(self, address: str | None) -> errors.Verdict | None:
        return None

    def call(
        self,
        client: tweepy.Client,
        settings: TwitterSettings,
        outgoing: OutgoingMessage,
        text: str,
    ) -> Any:
        raise NotImplementedError


class TwitterPostMessenger(TwitterMessenger):
    """Publishes one post per event from the configured account (``POST /2/tweets``)."""

    id = "twitter_post"
    label = "X (Twitter) post"
    broadcast = True
    max_batch_size = 1

    def call(
        self,
        client: tweepy.Client,
        settings: TwitterSettings,
        outgoing: OutgoingMessage,
        text: str,
    ) -> Any:
        return client.create_tweet(text=text, user_auth=user_auth(settings))

    @classmethod
    def check(cls) -> list[CheckMessage]:
        return checks.settings_messages() + checks.credential_messages(cls.id)


class TwitterDirectMessenger(TwitterMessenger):
    """Sends a direct message to each recipient's linked X account.

    The address is the recipient's numeric X user id, from a ``ContactPoint(channel=
    "twitter", address="<id>", verified=True)`` (``POST
    /2/dm_conversations/with/<id>/messages``). An account that does not exist or does
    not accept our DMs gets its contact point marked invalid.
    """

    id = "twitter_dm"
    label = "X (Twitter) direct message"
    broadcast = False
    max_batch_size = 50  # one request each: keep a batch well inside TASK_TIME_LIMIT
    what = "direct message"
    id_field = "dm_event_id"
    default_max_length = 10_000  # X's DM limit, in characters: weighing never undercounts

    def check_address(self, address: str | None) -> errors.Verdict | None:
        if address and address.isascii() and address.isdigit():
            return None
        return errors.Verdict(
            PermanentFailure(f"{address!r} is not an X user id (digits only)"),
            invalid_address=bool(address),
        )

    def call(
        self,
        client: tweepy.Client,
        settings: TwitterSettings,
        outgoing: OutgoingMessage,
        text: str,
    ) -> Any:
        return client.create_direct_message(
            participant_id=outgoing.recipient.address, text=text, user_auth=user_auth(settings)
        )

    @classmethod
    def check(cls) -> list[CheckMessage]:
        return checks.credential_messages(cls.id)


def _short(outcome: Outcome) -> str:
    return getattr(outcome, "reason", "")[:255]
