"""The event webhook's verification key, as SendGrid shows it or as a PEM file has it.

SendGrid's UI shows the key as bare base64; the SDK wraps it in PEM armour itself, so a
key pasted with its own ``-----BEGIN PUBLIC KEY-----`` lines (or line breaks) would be
wrapped twice and every request refused. The armour and all whitespace are removed.
"""

from __future__ import annotations

import re
from typing import Any

_ARMOUR = re.compile(r"-----(BEGIN|END) [A-Z ]+-----")


def normalise(value: str) -> str:
    """The base64 body of a public key given bare or as PEM."""
    return "".join(_ARMOUR.sub("", value).split())


def verifier(value: str) -> Any:
    """A ``sendgrid.EventWebhook`` for ``value``; ValueError says why it is unusable."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec
    from sendgrid import EventWebhook

    try:
        webhook = EventWebhook(normalise(value))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"it does not load ({type(exc).__name__})") from None
    if not isinstance(webhook.public_key, ec.EllipticCurvePublicKey):
        raise ValueError("it is not an elliptic-curve (ECDSA) key")
    return webhook
