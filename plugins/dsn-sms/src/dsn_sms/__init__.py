"""SMS for DSN: Twilio's Messages API, E.164 contact points, status callbacks and STOP."""

from __future__ import annotations

__version__ = "0.1.0"
