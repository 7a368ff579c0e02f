"""Phone numbers in E.164, validated by ``phonenumbers`` (Google's libphonenumber).

Contact points on channel ``"sms"`` hold E.164 (``+14155550100``): one spelling per
number, so an opt-out from Twilio (which reports E.164) finds the contact point it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from . import settings as sms_settings

CHANNEL = "sms"

#: libphonenumber refuses longer input anyway; checking first keeps the message ours.
MAX_INPUT_LENGTH = 64

INVALID_MESSAGE = _(
    "%(value)s is not a valid phone number. Enter it in international format, "
    "with + and the country code, e.g. +14155550100."
)


def mask_phone(number: str) -> str:
    """``+14155550100`` → ``+1415***0100``: enough to tell numbers apart in a log line,
    not enough to text someone (logs travel further than the database)."""
    if len(number) < 10:
        return number[:2] + "***"
    return number[:5] + "***" + number[-4:]


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` as an E.164 number, or raise ``ValidationError`` (code ``"invalid"``).

    ``region`` (ISO 3166 alpha-2, e.g. ``"GB"``) lets national numbers such as
    ``020 7946 0958`` be read; without it (and without ``DSN["SMS"]["DEFAULT_REGION"]``)
    a number needs its ``+country`` prefix. Numbers with an extension are refused: an SMS
    cannot reach one.
    """
    import phonenumbers

    shown = str(raw)[:MAX_INPUT_LENGTH]
    error = ValidationError(INVALID_MESSAGE, code="invalid", params={"value": repr(shown)})
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT_LENGTH:
        raise error
    region = (region or sms_settings.default_region() or "").upper() or None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise error from exc
    if number.extension or not phonenumbers.is_valid_number(number):
        raise error
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def is_e164(value: str) -> bool:
    """True when ``value`` is already a valid number spelled in E.164."""
    try:
        return normalize_phone(value) == value
    except ValidationError:
        return False


@deconstructible
class PhoneNumberValidator:
    """A field validator: refuses anything that is not a valid number already in E.164.

    Use it on model fields holding normalised numbers; forms that accept what people
    type should use :class:`PhoneNumberField`, which normalises first.
    """

    message = _("%(value)s is not a phone number in E.164 format, e.g. +14155550100.")

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str) or not is_e164(value):
            raise ValidationError(self.message, code="invalid", params={"value": repr(value)})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PhoneNumberValidator)

    def __hash__(self) -> int:
        return hash(type(self))


class PhoneNumberField(forms.CharField):
    """A form field that accepts what people type and cleans it to E.164."""

    def __init__(self, *, region: str | None = None, **kwargs: Any) -> None:
        self.region = region
        kwargs.setdefault("max_length", MAX_INPUT_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        return normalize_phone(text, self.region)


class PhoneNumberForm(forms.Form):
    """A ready-made form for "add my phone number" pages: ``form.cleaned_data["phone"]``."""

    phone = PhoneNumberField(label=_("Mobile phone number"))
