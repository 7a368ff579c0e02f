"""Telegram for DSN: a Bot API messenger, and signed deep links that connect a user's chat."""

__version__ = "0.1.0"
