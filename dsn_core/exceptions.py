"""The exception hierarchy: one root so callers can catch everything DSN raises."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class DsnError(Exception):
    """Root of every exception DSN raises on purpose."""


class ConfigurationError(DsnError, ImproperlyConfigured):
    """A setting or registration is wrong; the message says how to fix it."""


class RegistrationError(ConfigurationError):
    """A plugin or project registered something invalid or already taken."""


class UnknownSignal(DsnError, LookupError):
    """A verb names no registered signal."""


class TemplateRenderError(DsnError):
    """A message template failed to compile or render."""


class DeliveryError(DsnError):
    """Raised by a messenger for a whole batch; prefer per-recipient outcomes."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TransientDeliveryError(DeliveryError):
    """The provider may accept the same message later (timeouts, 429, 5xx)."""


class PermanentDeliveryError(DeliveryError):
    """Retrying the same message cannot succeed (bad address, bad credentials)."""
