"""Email addresses as settings and options write them: ``"Name <user@host>"`` or bare."""

from __future__ import annotations

from email.utils import getaddresses

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def split(value: str) -> tuple[str, str]:
    """``("Name", "user@host")``; raise ValueError when it is not one valid address."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not an email address")
    parsed = getaddresses([value])
    if len(parsed) != 1:
        raise ValueError(f"{value!r} is not one email address")
    name, address = parsed[0]
    try:
        validate_email(address)
    except ValidationError:
        raise ValueError(f"{value!r} is not a valid email address") from None
    return name, address


def problem(value: object) -> str | None:
    """Why ``value`` is not a usable address, or None."""
    try:
        split(value)  # type: ignore[arg-type]
    except ValueError as exc:
        return str(exc)
    return None
