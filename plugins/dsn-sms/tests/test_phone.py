"""E.164 normalisation with phonenumbers: properties over generated input, and the
``dsn_clean_address`` hook through core's ContactPoint (save(), full_clean(), the admin's
own form refusing an invalid number on the address field)."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dsn_core.models import ContactPoint
from dsn_sms.phone import (
    PhoneNumberField,
    PhoneNumberForm,
    PhoneNumberValidator,
    is_e164,
    normalize_phone,
)

from .conftest import sms_settings

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


def example_numbers() -> list[phonenumbers.PhoneNumber]:
    found = []
    for region in REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                found.append(number)
    return found


EXAMPLES = example_numbers()


@given(st.sampled_from(EXAMPLES), st.sampled_from(FORMATS))
def test_valid_numbers_round_trip(number: phonenumbers.PhoneNumber, fmt: int) -> None:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_phone(phonenumbers.format_number(number, fmt)) == e164


@given(st.sampled_from(EXAMPLES))
def test_national_format_with_its_region(number: phonenumbers.PhoneNumber) -> None:
    region = str(phonenumbers.region_code_for_number(number))
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_phone(national, region) == e164
    assert normalize_phone(national, region.lower()) == e164


@given(st.text(max_size=80), st.sampled_from([None, "US", "GB", "DE", "IN"]))
@hypothesis_settings(max_examples=300)
def test_anything_is_normalised_or_refused_with_validation_error(
    raw: str, region: str | None
) -> None:
    try:
        normalized = normalize_phone(raw, region)
    except ValidationError as exc:
        error: ValidationError | None = exc
    else:
        error = None
    if error is not None:
        assert error.code == "invalid"
        assert "not a valid phone number" in error.messages[0]
        return
    assert normalized.startswith("+")
    assert normalized[1:].isdigit()
    assert normalize_phone(normalized) == normalized  # idempotent
    assert is_e164(normalized)


@given(
    st.text(alphabet="+0123456789 ()-.", min_size=1, max_size=20),
    st.sampled_from([None, "US", "FR"]),
)
@hypothesis_settings(max_examples=300)
def test_normalisation_is_idempotent_on_number_like_input(raw: str, region: str | None) -> None:
    try:
        once = normalize_phone(raw, region)
    except ValidationError:
        return
    assert normalize_phone(once) == once
    assert normalize_phone(once, region) == once


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "hello", "+1", "+999 123", "4155550123", "+1 415 555 0123 ext. 7", "1" * 200],
)
def test_garbage_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="not a valid phone number"):
        normalize_phone(raw)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValidationError):
        normalize_phone(4155550123)  # type: ignore[arg-type]


def test_default_region_setting_reads_national_numbers(settings: Any) -> None:
    sms_settings(settings, DEFAULT_REGION="gb")
    assert normalize_phone("020 7946 0958") == "+442079460958"
    assert normalize_phone("+1 415 555 0123") == "+14155550123"


def test_validator_accepts_only_e164() -> None:
    validator = PhoneNumberValidator()
    validator("+14155550123")
    for bad in ("+1 415 555 0123", "4155550123", None):
        with pytest.raises(ValidationError, match=r"E\.164"):
            validator(bad)
    assert validator == PhoneNumberValidator()
    path = validator.deconstruct()[0]  # type: ignore[attr-defined]
    assert path == "dsn_sms.phone.PhoneNumberValidator"


def test_form_field_and_form_normalise() -> None:
    assert PhoneNumberField(region="GB").clean("020 7946 0958") == "+442079460958"
    assert PhoneNumberField(required=False).clean("") == ""
    form = PhoneNumberForm({"phone": "+1 (415) 555-0123"})
    assert form.is_valid()
    assert form.cleaned_data["phone"] == "+14155550123"
    form = PhoneNumberForm({"phone": "12"})
    assert not form.is_valid()
    assert "not a valid phone number" in form.errors["phone"][0]


# -- contact points ----------------------------------------------------------------------


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create(username="carol")


def test_saving_a_contact_point_normalises_it(user: Any) -> None:
    point = ContactPoint.objects.create(user=user, channel="sms", address="+1 (415) 555-0123")
    point.refresh_from_db()
    assert point.address == "+14155550123"


def test_saving_an_invalid_number_is_refused(user: Any) -> None:
    with pytest.raises(ValidationError, match="not a valid phone number"):
        ContactPoint.objects.create(user=user, channel="sms", address="call me")
    assert not ContactPoint.objects.exists()


def test_updating_a_contact_point_normalises_it(user: Any) -> None:
    point = ContactPoint.objects.create(user=user, channel="sms", address="+14155550123")
    point.address = "+44 20 7946 0958"
    point.save()
    point.refresh_from_db()
    assert point.address == "+442079460958"
    point.address = "020 7946 0958"  # no country code, no DEFAULT_REGION
    with pytest.raises(ValidationError, match="not a valid phone number"):
        point.save()
    point.refresh_from_db()
    assert point.address == "+442079460958"


def test_default_region_applies_to_contact_points(user: Any, settings: Any) -> None:
    sms_settings(settings, DEFAULT_REGION="GB")
    point = ContactPoint.objects.create(user=user, channel="sms", address="020 7946 0958")
    assert point.address == "+442079460958"


def test_full_clean_reports_the_error_on_the_address_field(user: Any) -> None:
    point = ContactPoint(user=user, channel="sms", address="call me")
    with pytest.raises(ValidationError) as info:
        point.full_clean()
    assert "not a valid phone number" in info.value.message_dict["address"][0]
    point.address = "+1 (415) 555-0123"
    point.full_clean()
    assert point.address == "+14155550123"


def test_hook_answers_only_for_sms() -> None:
    from dsn_core.plugins import plugin_manager
    from dsn_sms.plugin import dsn_clean_address

    assert dsn_clean_address("sms", "+1 415 555 0123") == "+14155550123"
    assert dsn_clean_address("telegram", "+1 415 555 0123") is None
    # Through core's plugin manager, i.e. as loaded from the entry point:
    assert plugin_manager.clean_address("sms", "+1 415 555 0123") == "+14155550123"
    assert plugin_manager.clean_address("pager", "Ann 42") == "Ann 42"
    with pytest.raises(ValidationError, match="not a valid phone number"):
        plugin_manager.clean_address("sms", "call me")


def test_other_channels_are_left_alone(user: Any) -> None:
    point = ContactPoint.objects.create(user=user, channel="telegram", address="call me")
    point.refresh_from_db()
    assert point.address == "call me"


def admin_add(admin_client: Any, user: Any, channel: str, address: str) -> Any:
    return admin_client.post(
        "/admin/dsn_core/contactpoint/add/",
        {"user": user.pk, "channel": channel, "address": address, "verified": "on"},
    )


def test_admin_refuses_an_invalid_number_on_the_field(admin_client: Any, user: Any) -> None:
    response = admin_add(admin_client, user, "sms", "call me")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not a valid phone number" in errors["address"][0]
    assert not ContactPoint.objects.filter(user=user).exists()


def test_admin_saves_the_normalised_number(admin_client: Any, user: Any) -> None:
    response = admin_add(admin_client, user, "sms", "+1 415.555.0123")
    assert response.status_code == 302
    assert ContactPoint.objects.get(user=user).address == "+14155550123"


def test_admin_reports_a_duplicate_after_normalising(admin_client: Any, user: Any) -> None:
    ContactPoint.objects.create(user=user, channel="sms", address="+14155550123")
    response = admin_add(admin_client, user, "sms", "+1 (415) 555-0123")
    assert response.status_code == 200
    assert ContactPoint.objects.filter(user=user).count() == 1


def test_admin_other_channels_are_unchanged(admin_client: Any, user: Any) -> None:
    response = admin_add(admin_client, user, "telegram", "12345")
    assert response.status_code == 302
    assert ContactPoint.objects.get(user=user).address == "12345"


def test_admin_form_is_cores_own() -> None:
    """No workaround left: the admin validates through ContactPoint.clean() and the hook."""
    from django.contrib import admin

    from dsn_core.admin import ContactPointAdmin

    model_admin = admin.site._registry[ContactPoint]
    assert type(model_admin) is ContactPointAdmin
    assert "form" not in vars(model_admin)  # the old workaround replaced it here
