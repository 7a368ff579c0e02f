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
