"""The shop's own signal, registered as a DSN verb in :class:`shop.apps.ShopConfig`."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent when an order ships, with ``order`` and ``tracking_number``. It also passes
#: ``actor_object`` (the staff user who shipped it) and ``target`` (the warehouse),
#: which DSN triggers match on and templates render.
order_shipped = Signal()
