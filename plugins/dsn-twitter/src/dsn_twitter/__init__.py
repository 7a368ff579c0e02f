"""DSN's X/Twitter channel: a broadcast post per event, or a direct message per user.

Built on tweepy's v2 ``Client``; see the README for the developer-portal set-up.
"""

from __future__ import annotations

__version__ = "0.1.0"
