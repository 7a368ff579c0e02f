from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from .signals import order_shipped

#: The demo shop ships everything from one warehouse; triggers match it as ``target``.
WAREHOUSE = "warehouse-1"


def new_tracking_number() -> str:
    return f"DEMO-{secrets.token_hex(4).upper()}"


class Order(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("new")
        SHIPPED = "shipped", _("shipped")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    item = models.CharField(_("item"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.NEW)
    tracking_number = models.CharField(_("tracking number"), max_length=50, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    # Django's default manager, declared so that type checkers run with the core's test
    # settings (where this app is not installed) know it too.
    objects: ClassVar[models.Manager[Order]] = models.Manager()

    class Meta:
        verbose_name = _("order")
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.quantity} x {self.item}"

    def mark_shipped(self, actor: Any, tracking_number: str) -> bool:
        """Ship the order and send ``order_shipped``; ``False`` if it had shipped already."""
        if self.status == self.Status.SHIPPED:
            return False
        self.status = self.Status.SHIPPED
        self.tracking_number = tracking_number
        # One transaction: DSN sends both notifications (post_save and order_shipped)
        # after it commits, and nothing if it rolls back.
        with transaction.atomic():
            self.save(update_fields=["status", "tracking_number"])
            self.announce_shipped(actor)
        return True

    def announce_shipped(self, actor: Any) -> None:
        """Send ``order_shipped`` for an order whose status was just set to shipped."""
        order_shipped.send(
            sender=Order,
            order=self,
            tracking_number=self.tracking_number,
            actor_object=actor,
            target=WAREHOUSE,
        )
