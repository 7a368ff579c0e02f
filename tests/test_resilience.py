"""Bad plugins, bad settings, bad timing: DSN degrades without breaking the site."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import IntegrityError, OperationalError, connection, transaction
from django.urls import reverse

from dsn_core import hookimpl
from dsn_core.matching import holder
from dsn_core.models import Backend, ConfigurationVersion, Subscription, Trigger
from dsn_core.plugins import DsnPluginManager
from dsn_core.testing import register_plugin
from tests.test_admin import MoviePlugin
from tests.testapp.models import TestModel1, TestModel2


@pytest.fixture
def watched(subscribe: Any, user_factory: Any) -> Any:
    return subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1), users=[user_factory("ann")]
    )


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


class SkippedButStillAnswering:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        raise RuntimeError("settings missing")

    @hookimpl
    def dsn_resolve_address(self, user: Any, channel: str) -> str | None:
        return "hijacked"


class RaisingAddresses:
    @hookimpl
    def dsn_resolve_address(self, user: Any, channel: str) -> str | None:
        raise RuntimeError("bug in some plugin")


@pytest.mark.django_db
def test_a_skipped_plugin_answers_no_runtime_hook(watched, dsn_plugin, dsn_outbox, commit):
    info = dsn_plugin(SkippedButStillAnswering(), name="skipped")
    assert not info.loaded
    assert info.errors

    with commit():
        TestModel1.objects.create(name="x")

    assert [m.recipient.address for m in dsn_outbox] == ["ann"]


@pytest.mark.django_db
def test_a_raising_address_hook_does_not_stop_other_channels(
    watched, dsn_plugin, dsn_outbox, commit, caplog
):
    dsn_plugin(RaisingAddresses(), name="buggy")

    with commit():
        TestModel1.objects.create(name="x")

    assert [m.recipient.address for m in dsn_outbox] == ["ann"]
    assert "DSN plugin buggy raised in dsn_resolve_address" in caplog.text


class BadUrls:
    @hookimpl
    def dsn_register_urls(self, register: Any) -> None:
        register("webhook/")


def test_a_plugin_registering_bad_urls_is_skipped_not_fatal() -> None:
    with register_plugin(BadUrls(), name="bad-urls") as info:
        assert not info.loaded
        assert "takes a list of path()/re_path() results" in info.errors[0]


@pytest.mark.django_db
def test_bad_list_settings_do_not_stop_plugin_loading(settings):
    settings.DSN = {
        "BLOCKED_PLUGINS": [1],
        "PLUGINS": "tests.testapp.dsn_plugin",
        "LOAD_ENTRY_POINTS": False,  # installed channel plugins are not the point here
    }
    manager = DsnPluginManager()

    manager.load()  # neither a TypeError nor 26 one-letter "plugins"

    assert list(manager.plugins) == ["dsn_core"]
    from dsn_core.plugins import plugin_manager

    plugin_manager.contribute()  # restore the global registries


@pytest.mark.django_db
def test_a_bad_refresh_interval_never_breaks_a_save(settings, watched, dsn_outbox, commit):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": "5s", "STRICT": False}
    holder.invalidate()

    with commit():
        TestModel1.objects.create(name="saved")

    assert len(dsn_outbox) == 1


@pytest.mark.django_db
def test_a_database_blip_during_a_version_check_keeps_the_index(
    settings, watched, dsn_outbox, commit
):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    holder.current()

    def locked(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "dsn_core_configurationversion" in sql:
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    holder.next_check = 0  # the interval has passed: the next signal checks the version
    with connection.execute_wrapper(locked), commit():
        TestModel1.objects.create(name="during the blip")
    with commit():
        TestModel1.objects.create(name="right after")

    assert [m.message.text for m in dsn_outbox] == [
        "Hello ann: post_save on during the blip.",
        "Hello ann: post_save on right after.",
    ]


@pytest.mark.django_db
def test_a_version_reused_after_a_rollback_is_still_a_change(settings, user_factory):
    """A rolled-back bump and a later committed one may share a number; not a timestamp."""
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    holder.current()

    def rolled_back_change() -> None:
        with transaction.atomic():
            ConfigurationVersion.bump()
            holder.refresh()  # this process saw the uncommitted version
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back_change()
    seen = holder.index.version

    ConfigurationVersion.bump()  # "another process" commits: the same number again

    assert ConfigurationVersion.current()[0] == seen[0]  # type: ignore[index]
    assert ConfigurationVersion.current() != seen


@pytest.mark.django_db
def test_loaddata_of_a_configuration_takes_effect(
    tmp_path, settings, user_factory, dsn_outbox, commit
):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    user = user_factory("u")
    holder.current()
    content_type = ContentType.objects.get_for_model(TestModel1)
    fixture = [
        {
            "model": "dsn_core.trigger",
            "pk": 1,
            "fields": {
                "verb": "post_save",
                "action_object_content_type": content_type.pk,
                "created": "2026-01-01T00:00:00Z",
                "updated": "2026-01-01T00:00:00Z",
            },
        },
        {
            "model": "dsn_core.backend",
            "pk": 1,
            "fields": {"messenger": "dsn_test_outbox", "message_template": "event_summary"},
        },
        {
            "model": "dsn_core.subscription",
            "pk": 1,
            "fields": {"trigger": 1, "backends": [1], "receiver_users": [user.pk]},
        },
    ]
    path = tmp_path / "dsn.json"
    path.write_text(json.dumps(fixture))

    with commit():
        call_command("loaddata", str(path), verbosity=0)  # raw saves: no notification
        TestModel1.objects.create(name="after loaddata")

    assert [m.message.text for m in dsn_outbox] == ["Hello u: post_save on after loaddata."]


@pytest.mark.django_db(transaction=True)
def test_pre_save_outside_a_transaction_waits_for_the_write(subscribe, user_factory, dsn_outbox):
    subscribe(
        Trigger.save_by_model("pre_save", action_object=TestModel1), users=[user_factory("u")]
    )
    existing = TestModel1.objects.create(name="first")
    assert [m.message.text for m in dsn_outbox] == ["Hello u: pre_save on first."]

    with pytest.raises(IntegrityError):
        TestModel1.objects.create(pk=existing.pk, name="duplicate pk")  # the INSERT fails

    assert len(dsn_outbox) == 1
    TestModel2.objects.create(name="unrelated")  # no stray flush elsewhere
    assert len(dsn_outbox) == 1


@pytest.mark.django_db
def test_a_watched_model_costs_one_query_per_interval_not_per_save(
    settings, subscribe, user_factory, django_assert_num_queries
):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    watched_row = TestModel1.objects.create(name="watched")
    other_row = TestModel1.objects.create(name="other")
    subscribe(
        Trigger.save_by_model("post_save", action_object=watched_row), users=[user_factory("u")]
    )
    other_row.save()  # loads the index

    with django_assert_num_queries(3):  # three UPDATEs: DSN matches in memory
        for _ in range(3):
            other_row.save()


@pytest.mark.django_db
def test_switching_a_backends_template_is_checked_against_its_subscriptions(admin_client):
    with register_plugin(MoviePlugin(), name="dsn_movies"):
        backend = Backend.objects.create(messenger="console", message_template="event_summary")
        subscription = Subscription.objects.create(
            trigger=Trigger.objects.create(verb="custom_signal")
        )
        subscription.backends.add(backend)
        data = {
            "name": "",
            "messenger": "console",
            "message_template": "movie_news",
            "options": "{}",
            "enabled": "on",
        }

        response = admin_client.post(
            reverse("admin:dsn_core_backend_change", args=[backend.pk]), data
        )

        backend.refresh_from_db()
        assert backend.message_template == "event_summary"
        assert "needs signal argument(s) movie, which custom_signal does not send" in (
            response.content.decode()
        )


def test_seed_style_context_sees_what_get_template_context_added() -> None:
    from dsn_core.message_templates import BaseMessageTemplate

    class Timed(BaseMessageTemplate):
        template_string = "{{ context.current_time }} {{ user }} {{ signal_kwargs.user }}"

        def get_template_context(self, context: dict[str, Any]) -> dict[str, Any]:
            context["current_time"] = "noon"
            return context

    text = Timed().render("recipient", {"verb": "user_logged_in"}, {"user": "who logged in"})

    assert text == "noon recipient who logged in"


@pytest.mark.django_db(transaction=True)
def test_a_failed_deferred_save_is_not_sent_with_the_next_one(subscribe, user_factory, dsn_outbox):
    subscribe(
        Trigger.save_by_model("pre_save", action_object=TestModel1), users=[user_factory("u")]
    )
    existing = TestModel1.objects.create(name="first")
    dsn_outbox.clear()
    clash = TestModel1(pk=existing.pk, name="clash")
    with pytest.raises(IntegrityError):
        clash.save(force_insert=True)  # deferred on the instance, then the INSERT fails

    with transaction.atomic():  # saved again, in a transaction this time
        clash.save()

    assert [m.message.text for m in dsn_outbox] == ["Hello u: pre_save on clash."]


def test_a_refused_database_access_never_breaks_the_version_check(caplog):
    """No db fixture: pytest-django refuses the query with a RuntimeError, not a
    DatabaseError. A request or save due for the check must still go through."""
    holder.invalidate()
    index = holder.refresh()
    assert index is holder.index
    assert "DSN could not check the configuration version." in caplog.text
