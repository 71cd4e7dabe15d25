"""The datastore content store: default dataclasses and `since` semantics (000)."""
from datetime import datetime, timedelta, timezone

import pytest

from ocss_testkit.services.datastore.contents import ContentStore, default_dataclass
from ocss_testkit.world.errors import NotFound

T0 = datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize("ctype, expected", [
    ("text/x-vcard", "contacts"), ("text/vcard; charset=utf-8", "contacts"),
    ("text/calendar", "events"), ("text/x-vcalendar", "events"),
    ("text/plain", "Misc"), ("application/octet-stream", "Misc"),
])
def test_default_dataclass_from_content_type(ctype, expected):
    assert default_dataclass(ctype) == expected


def test_since_reports_insert_update_delete_with_tombstones():
    store = ContentStore()
    old = store.add("BEGIN:VCARD", "text/x-vcard", None, "Old", at(-10))
    gone = store.add("x", "text/plain", None, "Gone", at(-9))
    store.update(old.id, at(1), title="Old, renamed")
    store.delete(gone.id, at(2))
    store.add("BEGIN:VCALENDAR", "text/calendar", None, "New", at(3))
    temp = store.add("y", "text/plain", None, "Temp", at(4))
    store.delete(temp.id, at(5))  # born and gone after `since`: nothing to tell

    changes = [(i.title, op) for i, op in store.changes_since(T0)]
    assert changes == [("Old, renamed", "update"), ("Gone", "delete"), ("New", "insert")]
    assert [(i.title, op) for i, op in store.changes_since(T0, dataclass="events")] == [("New", "insert")]
    assert [i.title for i in store.listing()] == ["Old, renamed", "New"]
    assert store.changes_since(at(10)) == []
    with pytest.raises(NotFound):
        store.get(gone.id)


def test_many_updates_keep_the_log_compact_and_answers_right():
    store = ContentStore()
    item = store.add("v0", "text/plain", "notes", "t", at(0))
    for n in range(1, 1000):
        store.update(item.id, at(n), data=f"v{n}")
    assert len(store._log) <= 130  # compacted: one live change plus fresh garbage
    assert [(i.data, op) for i, op in store.changes_since(at(500))] == [("v999", "update")]
    assert [(i.data, op) for i, op in store.changes_since(at(-1))] == [("v999", "insert")]


def test_clock_set_backwards_still_answers_in_time_order():
    store = ContentStore()
    a = store.add("a", "text/plain", None, "a", at(10))
    b = store.add("b", "text/plain", None, "b", at(5))  # virtual clock moved back
    assert [i.id for i, _ in store.changes_since(at(7))] == [a.id]
    assert [i.id for i, _ in store.changes_since(at(0))] == [b.id, a.id]


# --- `since` is inclusive (issue 10): timestamps have whole seconds -------------------------
def test_two_items_of_one_second_are_both_reported_from_the_first_ones_time():
    store = ContentStore()
    first = store.add("a", "text/plain", None, "First", at(0))
    second = store.add("b", "text/plain", None, "Second", at(0))
    assert [(i.id, op) for i, op in store.changes_since(first.updated)] == [(first.id, "insert"),
                                                                             (second.id, "insert")]
    assert store.changes_since(at(0) + timedelta(seconds=1)) == []


def test_an_update_at_exactly_since_is_reported():
    store = ContentStore()
    old = store.add("a", "text/plain", None, "Old", at(-10))
    store.update(old.id, at(0), title="Renamed")
    assert [(i.title, op) for i, op in store.changes_since(at(0))] == [("Renamed", "update")]
    assert store.changes_since(at(0) + timedelta(seconds=1)) == []


def test_an_item_created_at_exactly_since_and_changed_later_is_an_insert():
    store = ContentStore()
    item = store.add("a", "text/plain", None, "New", at(0))
    store.update(item.id, at(1), data="b")
    assert [(i.data, op) for i, op in store.changes_since(at(0))] == [("b", "insert")]
    assert [(i.data, op) for i, op in store.changes_since(at(0) + timedelta(seconds=1))] == [("b", "update")]


def test_a_deletion_at_exactly_since_is_reported():
    store = ContentStore()
    gone = store.add("a", "text/plain", None, "Gone", at(-10))
    store.delete(gone.id, at(0))
    assert [(i.title, op) for i, op in store.changes_since(at(0))] == [("Gone", "delete")]
    assert store.changes_since(at(0) + timedelta(seconds=1)) == []


def test_an_item_created_at_exactly_since_then_deleted_is_a_delete():
    """The client may have seen it in that second; one created after `since` and gone
    since is nothing to tell."""
    store = ContentStore()
    seen = store.add("a", "text/plain", None, "Maybe seen", at(0))
    unseen = store.add("b", "text/plain", None, "Never seen", at(1))
    store.delete(seen.id, at(2))
    store.delete(unseen.id, at(3))
    assert [(i.title, op) for i, op in store.changes_since(at(0))] == [("Maybe seen", "delete")]
    assert [(i.title, op) for i, op in store.changes_since(at(1))] == [("Maybe seen", "delete"),
                                                                        ("Never seen", "delete")]
