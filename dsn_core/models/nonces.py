"""Single-use keys: a signed link that must work once (dsn-telegram's chat linking)."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UsedKey(models.Model):
    """A key that was used; the row outlives the key's validity, then is pruned."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    expires = models.DateTimeField(_("forget after"), db_index=True)

    class Meta:
        verbose_name = _("used key")

    def __str__(self) -> str:
        return self.key

    @classmethod
    def use_once(cls, key: str, lifetime: float) -> bool:
        """Record ``key`` as used; False if it was already. Keep it ``lifetime`` seconds:
        at least as long as what it protects (a token's max age) stays valid.

        The unique constraint decides, so two processes racing for one key cannot both
        win. Expired keys are pruned on the way.
        """
        now = timezone.now()
        cls.objects.filter(expires__lt=now).delete()
        try:
            with transaction.atomic():
                cls.objects.create(key=key[:200], expires=now + timedelta(seconds=lifetime))
        except IntegrityError:
            return False
        return True
