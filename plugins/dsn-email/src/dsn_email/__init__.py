"""Email for DSN: a SendGrid messenger, a Django-email messenger and an email template."""

__version__ = "0.1.0"
