"""The admin through Django's test client: pages open, choices come from the plugins,
validation refuses bad configuration with a message and saves nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from dsn_core import hookimpl
from dsn_core.message_templates import BaseMessageTemplate
from dsn_core.models import Backend, ConfigurationVersion, ContactPoint, Subscription, Trigger
from dsn_core.resolvers import BaseRecipientResolver
from dsn_core.testing import register_plugin
from tests.testapp.models import Movie, TestModel1

pytestmark = pytest.mark.django_db


class MovieNewsTemplate(BaseMessageTemplate):
    id = "movie_news"
    label = "Movie news"
    template_string = "{{ movie }} is out"
    required_signal_args = ("movie",)


class AudienceResolver(BaseRecipientResolver):
    id = "movie_audience"
    label = "Audience of the movie"
    required_signal_args = ("movie",)

    def resolve(self, trigger_context: Any, signal_kwargs: Any) -> Any:
        return signal_kwargs["movie"].audiences.all()


class MoviePlugin:
    @hookimpl
    def dsn_register_message_templates(self, register: Callable[[type], None]) -> None:
        register(MovieNewsTemplate)

    @hookimpl
    def dsn_register_recipient_resolvers(self, register: Callable[[type], None]) -> None:
        register(AudienceResolver)


class BrokenPlugin:
    """A channel whose registration hook blows up, as one with a missing SDK would."""

    @hookimpl
    def dsn_register_messengers(self, register: Callable[[type], None]) -> None:
        raise RuntimeError("the example SDK is not installed")


@pytest.fixture
def movie_plugin() -> Iterator[None]:
    with register_plugin(MoviePlugin(), name="dsn_movies"):
        yield


@pytest.fixture
def backend() -> Backend:
    return Backend.objects.create(
        name="Console", messenger="console", message_template="event_summary"
    )


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:dsn_core_{name}", args=args)


def trigger_data(subscriptions: list[dict[str, Any]] = (), **fields: Any) -> dict[str, Any]:  # type: ignore[assignment]
    """POST data for the trigger add form with its subscription inline formset."""
    data: dict[str, Any] = {
        "verb": "",
        "action_object_content_type": "",
        "action_object_id": "",
        "actor_object_content_type": "",
        "actor_object_id": "",
        "target": "",
        "enabled": "on",
        "subscriptions-TOTAL_FORMS": str(len(subscriptions)),
        "subscriptions-INITIAL_FORMS": "0",
        "subscriptions-MIN_NUM_FORMS": "0",
        "subscriptions-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, subscription in enumerate(subscriptions):
        values = {"name": "", "recipient_resolver": "", "enabled": "on", **subscription}
        for key, value in values.items():
            data[f"subscriptions-{index}-{key}"] = value
    return data


def content_type(model: type) -> str:
    return str(ContentType.objects.get_for_model(model).pk)


# -- every page opens ------------------------------------------------------------------


def test_every_admin_page_opens(admin_client, admin_user, backend):
    trigger = Trigger.save_by_model("post_save", action_object=TestModel1)
    subscription = Subscription.objects.create(trigger=trigger)
    subscription.backends.add(backend)
    subscription.receiver_users.add(admin_user)
    point = ContactPoint.objects.create(user=admin_user, channel="telegram", address="42")
    pages = [url("plugins"), reverse("admin:app_list", args=["dsn_core"])]
    for name, obj in [
        ("trigger", trigger),
        ("backend", backend),
        ("subscription", subscription),
        ("contactpoint", point),
    ]:
        pages += [url(f"{name}_changelist"), url(f"{name}_add"), url(f"{name}_change", obj.pk)]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page


def test_changelist_filters_and_search_work(admin_client, admin_user, backend):
    Trigger.save_by_model("post_save", action_object=TestModel1)
    ContactPoint.objects.create(user=admin_user, channel="sms", address="+1555", invalid_reason="x")
    for page, query in [
        ("trigger", {"verb": "post_save", "enabled__exact": "1", "q": "post"}),
        ("trigger", {"action_object_content_type__id__exact": content_type(TestModel1)}),
        ("backend", {"messenger": "console", "message_template": "event_summary", "q": "Con"}),
        (
            "contactpoint",
            {"channel": "sms", "verified__exact": "0", "invalid": "yes", "q": "admin"},
        ),
    ]:
        response = admin_client.get(url(f"{page}_changelist"), query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1, (page, query)


def test_configuration_version_is_not_in_the_admin(admin_client):
    assert admin_client.get("/admin/dsn_core/configurationversion/").status_code == 404


# -- choices from the registries ----------------------------------------------------------


def test_verbs_show_the_arguments_each_signal_sends(admin_client):
    response = admin_client.get(url("trigger_add"))
    assert ("custom_signal", "custom_signal (parameter1)") in response.context[
        "adminform"
    ].form.fields["verb"].choices
    assert "post_save (instance, created, raw, using, update_fields)" in response.content.decode()


def test_object_types_are_ordered_by_app_and_model(admin_client):
    form = admin_client.get(url("trigger_add")).context["adminform"].form
    for name in ("action_object_content_type", "actor_object_content_type"):
        types = list(form.fields[name].queryset)
        assert types == sorted(types, key=lambda ct: (ct.app_label, ct.model))
        assert ContentType.objects.get_for_model(TestModel1) in types


def test_choices_follow_plugins_loaded_after_startup(admin_client):
    page = url("backend_add")
    assert "movie_news" not in admin_client.get(page).content.decode()
    with register_plugin(MoviePlugin(), name="dsn_movies"):
        content = admin_client.get(page).content.decode()
        assert "Movie news [movie_news] — needs signal argument(s): movie" in content
        assert "Console (print each message) [console] — console, per recipient" in content
        assert (
            "Audience of the movie [movie_audience]"
            in admin_client.get(url("subscription_add")).content.decode()
        )


# -- validation: message shown, nothing saved -----------------------------------------------


def test_duplicate_trigger_is_refused(admin_client):
    existing = Trigger.save_by_model("post_save", action_object=TestModel1)
    data = trigger_data(verb="post_save", action_object_content_type=content_type(TestModel1))
    response = admin_client.post(url("trigger_add"), data)
    assert response.status_code == 200
    assert f"An identical trigger already exists (#{existing.pk}" in response.content.decode()
    assert Trigger.objects.count() == 1


def test_model_signal_without_action_object_is_refused(admin_client):
    response = admin_client.post(url("trigger_add"), trigger_data(verb="pre_save"))
    assert response.status_code == 200
    assert "pre_save fires for every model in the site" in response.content.decode()
    assert not Trigger.objects.exists()


@pytest.mark.usefixtures("movie_plugin")
def test_template_needing_an_argument_the_signal_does_not_send_is_refused(admin_client):
    movie_backend = Backend.objects.create(messenger="console", message_template="movie_news")
    data = trigger_data([{"backends": [str(movie_backend.pk)]}], verb="custom_signal")
    response = admin_client.post(url("trigger_add"), data)
    assert response.status_code == 200
    assert (
        "needs signal argument(s) movie, which custom_signal does not send "
        "(it sends: parameter1)" in response.content.decode()
    )
    assert not Trigger.objects.exists()
    assert not Subscription.objects.exists()


@pytest.mark.usefixtures("movie_plugin")
def test_changing_the_verb_rechecks_existing_subscriptions(admin_client):
    trigger = Trigger.objects.create(verb="notify_audiences")
    movie_backend = Backend.objects.create(messenger="console", message_template="movie_news")
    subscription = Subscription.objects.create(trigger=trigger, recipient_resolver="movie_audience")
    subscription.backends.add(movie_backend)
    data = trigger_data(
        [{"id": str(subscription.pk), "backends": [str(movie_backend.pk)], "trigger": trigger.pk}],
        verb="custom_signal",
    )
    data["subscriptions-INITIAL_FORMS"] = "1"
    data["subscriptions-0-recipient_resolver"] = "movie_audience"
    response = admin_client.post(url("trigger_change", trigger.pk), data)
    content = response.content.decode()
    assert "Message template &#x27;movie_news&#x27;" in content
    assert "Recipient resolver &#x27;movie_audience&#x27; needs signal argument(s) movie" in content
    trigger.refresh_from_db()
    assert trigger.verb == "notify_audiences"


@pytest.mark.usefixtures("movie_plugin")
def test_standalone_subscription_form_checks_the_triggers_signal(admin_client):
    trigger = Trigger.objects.create(verb="custom_signal")
    movie_backend = Backend.objects.create(messenger="console", message_template="movie_news")
    data = {"trigger": trigger.pk, "backends": [movie_backend.pk], "enabled": "on"}
    response = admin_client.post(url("subscription_add"), data)
    assert "which custom_signal does not send" in response.content.decode()
    assert not Subscription.objects.exists()


def test_unknown_messenger_or_template_id_is_refused(admin_client):
    data = {"messenger": "no_such_messenger", "message_template": "event_summary", "options": "{}"}
    response = admin_client.post(url("backend_add"), data)
    assert "Select a valid choice. no_such_messenger is not one of" in response.content.decode()
    data = {"messenger": "console", "message_template": "no_such_template", "options": "{}"}
    response = admin_client.post(url("backend_add"), data)
    assert "Select a valid choice. no_such_template is not one of" in response.content.decode()
    assert not Backend.objects.exists()


# -- saving a valid configuration ---------------------------------------------------------


def test_valid_trigger_with_inline_subscription_saves(admin_client, admin_user, backend):
    staff = Group.objects.create(name="Staff")
    data = trigger_data(
        [
            {
                "name": "Tell staff",
                "backends": [str(backend.pk)],
                "receiver_users": [str(admin_user.pk)],
                "receiver_groups": [str(staff.pk)],
            }
        ],
        verb="post_save",
        action_object_content_type=content_type(Movie),
    )
    before = ConfigurationVersion.current()
    response = admin_client.post(url("trigger_add"), data, follow=True)
    assert response.status_code == 200
    assert "was added successfully" in response.content.decode()
    trigger = Trigger.objects.get()
    assert trigger.verb == "post_save"
    assert trigger.action_object_content_type == ContentType.objects.get_for_model(Movie)
    subscription = trigger.subscriptions.get()
    assert subscription.name == "Tell staff"
    assert list(subscription.backends.all()) == [backend]
    assert list(subscription.receiver_users.all()) == [admin_user]
    assert list(subscription.receiver_groups.all()) == [staff]
    assert ConfigurationVersion.current() > before


def test_disable_action_refreshes_the_configuration(admin_client, backend):
    before = ConfigurationVersion.current()
    data = {"action": "disable", "_selected_action": [backend.pk]}
    response = admin_client.post(url("backend_changelist"), data, follow=True)
    assert "1 row updated." in response.content.decode()
    backend.refresh_from_db()
    assert not backend.enabled
    assert ConfigurationVersion.current() > before


# -- plugins: the page, load errors, uninstalled ids ---------------------------------------


def test_plugins_page_lists_plugins_and_is_linked(admin_client):
    content = admin_client.get(url("plugins")).content.decode()
    assert "dsn_core" in content
    assert "dsn-core" in content
    assert "messengers: SimplePrintMessengerTemplateBased, console" in content
    plugins = url("plugins")
    assert plugins in admin_client.get(url("backend_changelist")).content.decode()
    assert (
        plugins in admin_client.get(reverse("admin:app_list", args=["dsn_core"])).content.decode()
    )


def test_plugins_page_is_staff_only(client, django_user_model):
    assert client.get(url("plugins")).status_code == 302
    client.force_login(django_user_model.objects.create_user("visitor"))
    response = client.get(url("plugins"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_plugin_load_error_is_shown_with_its_hint(admin_client):
    changelist = url("backend_changelist")
    assert "failed to load" not in admin_client.get(changelist).content.decode()
    with register_plugin(BrokenPlugin(), name="broken_channel"):
        content = admin_client.get(url("plugins")).content.decode()
        assert "raised in dsn_register_messengers" in content
        assert "the example SDK is not installed" in content
        assert "block it with DSN[&#x27;BLOCKED_PLUGINS&#x27;]" in content
        warning = admin_client.get(changelist).content.decode()
        assert "A DSN plugin failed to load and was skipped: broken_channel." in warning
        assert f'<a href="{url("plugins")}">See the DSN plugins page.</a>' in warning


def test_backend_with_uninstalled_messenger_opens_and_explains(admin_client):
    gone = Backend.objects.create(
        name="Old pager", messenger="dsn_pager", message_template="event_summary"
    )
    page = url("backend_change", gone.pk)
    response = admin_client.get(page)
    assert response.status_code == 200
    assert '<option value="dsn_pager" selected>dsn_pager (not installed)</option>' in (
        response.content.decode()
    )
    assert (
        "dsn_pager (not installed)" in admin_client.get(url("backend_changelist")).content.decode()
    )

    data = {"name": "Renamed", "messenger": "dsn_pager", "message_template": "event_summary"}
    response = admin_client.post(page, {**data, "options": "{}", "enabled": "on"})
    assert response.status_code == 200
    assert "Unknown messenger &#x27;dsn_pager&#x27;: is its plugin installed" in (
        response.content.decode()
    )
    gone.refresh_from_db()
    assert gone.name == "Old pager"


def test_verb_and_resolver_no_plugin_provides_still_open(admin_client, backend):
    trigger = Trigger.objects.create(verb="gone_signal")
    subscription = Subscription.objects.create(trigger=trigger, recipient_resolver="gone_resolver")
    subscription.backends.add(backend)
    content = admin_client.get(url("trigger_change", trigger.pk)).content.decode()
    assert '<option value="gone_signal" selected>gone_signal (not installed)</option>' in content
    assert "gone_resolver (not installed)" in content
    content = admin_client.get(url("subscription_change", subscription.pk)).content.decode()
    assert "gone_resolver (not installed)" in content
