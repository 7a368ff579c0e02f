from __future__ import annotations

from django.conf import settings
from django.db import models


class TestModel1(models.Model):
    """The seed's demo model."""

    __test__ = False  # not a pytest test class

    name = models.CharField(max_length=100)
    extra_field = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.name


class TestModel2(models.Model):
    __test__ = False

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Movie(models.Model):
    """The seed's dynamic-user scenario: notify a movie's audiences."""

    name = models.CharField(max_length=255)
    audiences = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True)

    def __str__(self) -> str:
        return self.name


class TestModel1Proxy(TestModel1):
    """A trigger on TestModel1 also watches its proxies."""

    __test__ = False

    class Meta:
        proxy = True


class Order(models.Model):
    """Relations, choices and a URL, for snapshots."""

    STATUSES = [("new", "New"), ("shipped", "Shipped")]

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=STATUSES, default="new")
    total = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    placed = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Order {self.pk}"

    def get_absolute_url(self) -> str:
        return f"/orders/{self.pk}/"
