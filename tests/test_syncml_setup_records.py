"""A setup at its own URL (route I17; docs/decisions.md, "Bodies of the inferred routes").

The setup POST's answer has an id that is a URL (SyncML API, "Setup and Phone
Configuration"); a GET of it answers the same entry. Every refusal is a 4xx with a sentence
naming what was wrong, and changes nothing.
"""
from __future__ import annotations

import pytest

from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient
from tests.helpers import (
    ADMIN_SYNCML_5310,
    ADMIN_SYNCML_5800,
    SYNCML,
    UNKNOWN_UUID,
    assert_error,
    call,
    setup_body,
    text,
    unchanged,
    valid_atom,
    xml,
)


def _post_setup(fake, pincode: str = "1234", client: str = ADMIN_SYNCML_5310) -> tuple[bytes, str]:
    """The setup POST's answer and the path of the id it shows."""
    r = call(fake, "POST", f"{SYNCML}{client}/setup/", "admin", setup_body(pincode))
    assert (r.status_code, r.reason) == (201, "Created"), r.text
    url = text(xml(r), "a:id")
    assert url.startswith(fake.url + SYNCML), url
    return r.content, url[len(fake.url):]


def test_the_id_of_a_setup_answers_the_entry_its_post_answered(fake):
    posted, path = _post_setup(fake, "8642")
    assert path == f"{SYNCML}{ADMIN_SYNCML_5310}/setup/1/"
    with unchanged(fake):  # reading a setup sends nothing and records nothing
        for p in (path, path.rstrip("/")):
            r = call(fake, "GET", p)
            entry = valid_atom(r, "syncml-setup")
            assert r.content == posted, p
            assert text(entry, "oc:pincode") == "8642"
        head = call(fake, "HEAD", path)
        assert (head.status_code, head.reason, head.content) == (200, "OK", b"")
        assert head.headers["Content-Type"].startswith("application/atom+xml")
    assert [m["kind"] for m in _outbox(fake)] == ["setup-sms"]


def test_each_setup_keeps_its_own_pincode_and_number(fake):
    first, first_path = _post_setup(fake, "1111")
    second, second_path = _post_setup(fake, "22222")
    assert (first_path, second_path) == (f"{SYNCML}{ADMIN_SYNCML_5310}/setup/1/",
                                         f"{SYNCML}{ADMIN_SYNCML_5310}/setup/2/")
    assert call(fake, "GET", first_path).content == first
    assert call(fake, "GET", second_path).content == second


@pytest.mark.parametrize("user, path, status, reason, needle", [
    (None, "{client}/setup/1/", 401, "Unauthorized", "OAuth"),
    ("bob", "{client}/setup/1/", 403, "Forbidden", "another user"),
    ("admin", f"{UNKNOWN_UUID}/setup/1/", 404, "Not Found", UNKNOWN_UUID),
    ("admin", f"{ADMIN_SYNCML_5800}/setup/1/", 404, "Not Found", "has no setup 1"),
    ("admin", "{client}/setup/2/", 404, "Not Found", "has no setup 2"),
    ("admin", "{client}/setup/0/", 404, "Not Found", "has no setup 0"),
    ("admin", "{client}/setup/first/", 404, "Not Found", "integers"),
    ("admin", "{client}/setup/-1/", 404, "Not Found", "integers"),
    ("admin", "{client}/setup/" + "9" * 40 + "/", 404, "Not Found", "integers"),
], ids=["anonymous", "another-user", "unknown-client", "another-client", "not-yet", "zero", "word", "negative",
        "huge"])
def test_refusals_say_why_and_change_nothing(fake, user, path, status, reason, needle):
    _post_setup(fake)
    with unchanged(fake):
        r = call(fake, "GET", SYNCML + path.format(client=ADMIN_SYNCML_5310), user)
    assert_error(r, status, reason, needle)


def test_writes_to_a_setup_are_405_with_allow(fake):
    _, path = _post_setup(fake)
    for method in ("PUT", "POST", "DELETE"):
        with unchanged(fake):
            r = call(fake, method, path, "admin", setup_body() if method != "DELETE" else None)
        assert (r.status_code, r.reason) == (405, "Method Not Allowed"), (method, r.text)
        assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "HEAD"}


def test_a_deleted_clients_setups_are_gone_with_it(fake):
    _, path = _post_setup(fake)
    assert call(fake, "DELETE", SYNCML + ADMIN_SYNCML_5310).status_code == 200
    assert_error(call(fake, "GET", path), 404, "Not Found", ADMIN_SYNCML_5310)


def test_only_the_newest_setups_are_kept_and_an_older_one_says_so():
    """The setup records are bounded as the outbox is (docs/decisions.md, "Simulated world")."""
    app = FakeApp(outbox_limit=2)
    admin = SignedClient(app, Credentials.of(app, "admin"))
    for pincode in ("1111", "2222", "3333"):
        assert admin.post(f"{SYNCML}{ADMIN_SYNCML_5310}/setup/", setup_body(pincode)).status == 201
    gone = admin.get(f"{SYNCML}{ADMIN_SYNCML_5310}/setup/1/")
    assert (gone.status, gone.reason) == (404, "Not Found")
    assert b"has no setup 1 (the newest 2 setups are kept)" in gone.body
    for number, pincode in ((2, "2222"), (3, "3333")):
        kept = admin.get(f"{SYNCML}{ADMIN_SYNCML_5310}/setup/{number}/")
        assert (kept.status, text(xml(kept.body), "oc:pincode")) == (200, pincode)


def test_a_setup_is_found_again_after_the_state_round_trips(app, wsgi):
    admin = wsgi("admin")
    posted = admin.post(f"{SYNCML}{ADMIN_SYNCML_5310}/setup/", setup_body("4321"))
    assert posted.status == 201
    app.replace_state(app.world.to_dict())
    again = admin.get(f"{SYNCML}{ADMIN_SYNCML_5310}/setup/1/")
    assert (again.status, again.body) == (200, posted.body)
    # numbering goes on after the records read back: no id is given twice
    assert text(xml(admin.post(f"{SYNCML}{ADMIN_SYNCML_5310}/setup/", setup_body()).body), "a:id").endswith(
        "/setup/2/")


def _outbox(fake) -> list[dict]:
    r = call(fake, "GET", "/_fake/outbox", None)
    assert r.status_code == 200, r.text
    return r.json()["messages"]
