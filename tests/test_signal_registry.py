"""The signal registry: verbs, their declared arguments, and registration errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.dispatch import Signal

from dsn_core.exceptions import RegistrationError, UnknownSignal
from dsn_core.models import Trigger
from dsn_core.signals import registry
from tests.testapp.models import TestModel1
from tests.testapp.signals import custom_signal


@pytest.fixture
def scratch_signals():
    """Remove signals a test registers under the "scratch" source."""
    yield
    registry.remove_sources(lambda source: source != "scratch")


def test_django_signals_are_registered_by_default():
    names = {spec.name for spec in registry}
    assert {"pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"} <= names
    assert {"user_logged_in", "user_logged_out", "user_login_failed"} <= names
    assert {"request_started", "request_finished", "got_request_exception"} <= names
    assert registry.get("post_save").args == (
        "instance",
        "created",
        "raw",
        "using",
        "update_fields",
    )
    assert registry.get("post_save").requires_action_object


def test_seed_registration_keeps_declared_arguments():
    assert registry.get("custom_signal").signal is custom_signal
    assert registry.get("custom_signal").args == ("parameter1",)
    Trigger.registered_verb_signal("custom_signal", custom_signal, ("parameter1",))  # idempotent


def test_two_signals_under_one_name_is_an_error(scratch_signals):
    with pytest.raises(
        RegistrationError, match=r"Two signals are registered under the verb 'custom_signal'"
    ):
        registry.register("custom_signal", Signal(), source="scratch")


def test_one_signal_under_two_names_is_an_error(scratch_signals):
    with pytest.raises(RegistrationError, match="already registered as 'custom_signal'"):
        registry.register("custom_signal_again", custom_signal, source="scratch")


def test_not_a_signal_is_an_error(scratch_signals):
    with pytest.raises(RegistrationError, match="not a Signal"):
        registry.register("bogus", object(), source="scratch")  # type: ignore[arg-type]


def test_unknown_verb_lists_the_registered_ones():
    with pytest.raises(UnknownSignal, match=r"order_shiped.*post_save"):
        registry.get("order_shiped")


@pytest.mark.django_db
def test_trigger_validation_messages():
    with pytest.raises(ValidationError) as unknown:
        Trigger(verb="nope").full_clean()
    assert "No signal is registered under the verb 'nope'" in str(unknown.value)

    with pytest.raises(ValidationError) as no_object:
        Trigger(verb="post_save").full_clean()
    assert "post_save fires for every model" in str(no_object.value)

    with pytest.raises(ValidationError) as missing_row:
        Trigger.save_by_model("post_save", action_object=TestModel1(pk=424242))
    assert "No test model1 with id '424242' exists" in str(missing_row.value)

    first = Trigger.save_by_model("post_save", action_object=TestModel1)
    assert Trigger.save_by_model("post_save", action_object=TestModel1) == first
    with pytest.raises(ValidationError, match="An identical trigger already exists"):
        Trigger(
            verb="post_save", action_object_content_type=first.action_object_content_type
        ).full_clean()
