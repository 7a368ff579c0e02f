"""Matching rules, as the seeds describe them: an empty trigger field matches anything."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from dsn_core.matching import ObjectRef, TriggerEntry, TriggerIndex
from tests.testapp.models import Movie, TestModel1

labels = st.sampled_from(["shop.order", "auth.user", "testapp.movie", "blog.post"])
pks = st.integers(min_value=1, max_value=5).map(str)
objects = st.one_of(
    st.none(),
    st.builds(lambda label, pk: ObjectRef((label,), pk), labels, st.one_of(st.none(), pks)),
)
targets = st.one_of(st.none(), st.sampled_from(["", "warehouse", "store"]))
verbs = st.sampled_from(["post_save", "pre_save", "order_shipped"])


@st.composite
def events(draw: st.DrawFn) -> tuple[str, ObjectRef | None, ObjectRef | None, str | None]:
    return draw(verbs), draw(objects), draw(objects), draw(targets)


@st.composite
def entries(draw: st.DrawFn) -> TriggerEntry:
    action_label, actor_label = (
        draw(st.one_of(st.none(), labels)),
        draw(st.one_of(st.none(), labels)),
    )
    return TriggerEntry(
        trigger_id=draw(st.integers(1, 10_000)),
        verb=draw(verbs),
        action_label=action_label,
        action_id=draw(pks) if action_label and draw(st.booleans()) else "",
        actor_label=actor_label,
        actor_id=draw(pks) if actor_label and draw(st.booleans()) else "",
        target=draw(st.sampled_from(["", "warehouse", "store"])),
    )


def entry_from(event: tuple[str, ObjectRef | None, ObjectRef | None, str | None]) -> TriggerEntry:
    """The most specific trigger that matches ``event``."""
    verb, action, actor, target = event
    return TriggerEntry(
        1,
        verb,
        action.labels[0] if action else None,
        (action.pk or "") if action else "",
        actor.labels[0] if actor else None,
        (actor.pk or "") if actor else "",
        target or "",
    )


@given(events())
def test_a_trigger_with_empty_fields_matches_every_event_of_its_verb(event):
    verb, action, actor, target = event
    assert TriggerEntry(1, verb).matches(action, actor, target)


@given(events())
def test_a_trigger_made_from_an_event_matches_it(event):
    _, action, actor, target = event
    assert entry_from(event).matches(action, actor, target)


@given(
    events(), st.sampled_from(["action_label", "action_id", "actor_label", "actor_id", "target"])
)
def test_changing_any_set_field_stops_the_match(event, field):
    _, action, actor, target = event
    entry = entry_from(event)
    current = getattr(entry, field)
    changed = {
        "action_label": "other.model",
        "actor_label": "other.model",
        "action_id": "999",
        "actor_id": "999",
        "target": "elsewhere",
    }[field]
    if field in {"action_id", "actor_id"} and not current:
        label_field = field.replace("_id", "_label")
        if getattr(entry, label_field) is None:
            return  # an id needs a type; nothing to change
    mismatched = dataclasses.replace(entry, **{field: changed})  # type: ignore[arg-type]
    assert not mismatched.matches(action, actor, target)


@given(st.lists(entries(), max_size=30), events())
def test_the_index_finds_exactly_what_a_linear_scan_finds(all_entries, event):
    verb, action, actor, target = event
    index = TriggerIndex(all_entries)
    expected = sorted(
        e.trigger_id for e in all_entries if e.verb == verb and e.matches(action, actor, target)
    )
    assert sorted(index.match(verb, action, actor, target)) == expected


def test_actor_id_is_compared_with_the_actor_not_the_action_object():
    """Regression: the original compared the actor's id with the action object's id."""
    entry = TriggerEntry(1, "custom", "shop.order", "7", "auth.user", "3")
    assert not entry.matches(ObjectRef(("shop.order",), "7"), ObjectRef(("auth.user",), "7"), None)
    assert entry.matches(ObjectRef(("shop.order",), "7"), ObjectRef(("auth.user",), "3"), None)


def test_object_refs_from_classes_instances_and_other_senders():
    assert ObjectRef.of(TestModel1) == ObjectRef(("testapp.testmodel1",), None)
    assert ObjectRef.of(Movie(pk=4)) == ObjectRef(("testapp.movie",), "4")
    assert ObjectRef.of(None) is None
    assert ObjectRef.of("a string sender") is None


def test_an_instance_trigger_does_not_match_a_class_sender():
    entry = TriggerEntry(1, "post_save", "testapp.testmodel1", "5")
    assert not entry.matches(ObjectRef.of(TestModel1), None, None)
