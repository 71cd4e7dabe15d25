"""The contract suite's harness (contracts/harness/), module by module: snapshots and their
comparison, the docs as the first snapshots, targets and credentials, the request guard, the
ledger, the drift report, and the pytest plugin as a contract author meets it (in a child
pytest, the way CI runs the suite)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets as _secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from lxml import etree

from contracts.doc_examples import load_index
from contracts.harness import report
from contracts.harness.docs import doc_recordings
from contracts.harness.ledger import Entry, Ledger, new_run_id
from contracts.harness.plugin import ROUTE_IDS
from contracts.harness.snapshots import (
    SNAPSHOT_DIR,
    Normalizer,
    Recording,
    SnapshotStore,
    View,
    compare,
    diff_nodes,
    keep_entries,
    parse,
    record,
    refine,
    renumber,
    select_entries,
)
from contracts.harness.target import (
    IN_PROCESS_URL,
    Credentials,
    CredentialsError,
    Reply,
    Target,
    UnsafeRequest,
    WSGIAdapter,
    credentials_for,
)
from ocss_testkit.app import FakeApp
from ocss_testkit.atom import safe

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
UUID_A = "4f1d2dd0-49e4-11de-b387-002215064801"
UUID_B = "51579fd6-01a5-11de-8505-002215064801"


def entry(inner: str) -> bytes:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">{inner}</entry>'.encode()


# === snapshots.py ===============================================================================
class TestNormalizer:
    def test_uuids_become_references_by_first_appearance(self):
        n = Normalizer()
        body = entry(f"<id>{UUID_B}</id><oc:client><oc:uuid>{UUID_A}</oc:uuid>"
                     f"<oc:other>{UUID_B.upper()} and {UUID_A}</oc:other></oc:client>")
        assert n.element(parse(body)) == [
            "atom:entry", ["atom:id", "<uuid:1>"],
            ["oc:client", ["oc:uuid", "<uuid:2>"], ["oc:other", "<uuid:1> and <uuid:2>"]]]
        # the same normalizer keeps numbering across calls; a fresh one starts again
        assert n.value(UUID_A) == "<uuid:2>" and n.value("0" * 8 + "-0000-0000-0000-" + "0" * 12) == "<uuid:3>"
        assert Normalizer().value(UUID_A) == "<uuid:1>"

    def test_timestamps_become_their_format(self):
        n = Normalizer()
        assert n.value("2009-05-25T10:43:25Z") == "<iso8601>"
        assert n.value("at 2009-05-25T10:43:25.123456Z.") == "at <iso8601>."
        assert n.value("2009-05-25 10:43:25") == "<datetime>"
        assert n.value("last 2009-05-25 10:43:25, next 2010-01-01T00:00:00Z") == "last <datetime>, next <iso8601>"
        assert n.value("2009-05-25") == "2009-05-25"  # a date alone is kept
        assert n.value("2009-05-25T10:43:25+02:00") == "2009-05-25T10:43:25+02:00"  # only UTC `Z` stamps

    def test_base_url_becomes_a_token_in_text_and_attributes(self):
        n = Normalizer(base_urls=("http://127.0.0.1:8080/",))
        root = parse(entry('<id>http://127.0.0.1:8080/v2/services/google/x</id>'
                           '<link href="http://127.0.0.1:8080/v2/services/google/x/edit" rel="edit"/>'
                           '<link href="http://www.google.com/calendar/feeds/" rel="related"/>'))
        assert n.element(root) == [
            "atom:entry", ["atom:id", "<base-url>/v2/services/google/x"],
            ["atom:link", {"href": "<base-url>/v2/services/google/x/edit", "rel": "edit"}],
            ["atom:link", {"href": "http://www.google.com/calendar/feeds/", "rel": "related"}]]
        assert Normalizer().value("http://api.obexcode.com/v2/") == "<base-url>/v2/"  # the docs' host by default

    def test_secret_bearing_elements_are_never_kept(self):
        root = parse(entry("<oc:token><oc:key>k1</oc:key><oc:secret>s1</oc:secret><oc:scope>sc</oc:scope></oc:token>"
                           "<oc:password>pw</oc:password><oc:old_pass>old</oc:old_pass>"
                           "<password xmlns='urn:other'>pw2</password><oc:keys>not secret</oc:keys>"))
        assert Normalizer().element(root) == [
            "atom:entry",
            ["oc:token", ["oc:key", "<secret>"], ["oc:secret", "<secret>"], ["oc:scope", "sc"]],
            ["oc:password", "<secret>"], ["oc:old_pass", "<secret>"], ["{urn:other}password", "<secret>"],
            ["oc:keys", "not secret"]]

    def test_known_secret_values_become_their_name_anywhere(self):
        n = Normalizer(secrets={"user-token-secret": "alice-access-secret", "empty": ""})
        root = parse(entry('<title>has alice-access-secret inside</title>'
                           '<link href="http://x/?s=alice-access-secret" rel="self"/>'))
        assert n.element(root) == [
            "atom:entry", ["atom:title", "has <secret:user-token-secret> inside"],
            ["atom:link", {"href": "http://x/?s=<secret:user-token-secret>", "rel": "self"}]]
        assert n.value("plain") == "plain"  # an empty secret replaces nothing

    def test_replace_maps_run_values_to_recorded_ones_longest_first(self):
        n = Normalizer(replace={"ocss-run-1": "short", "ocss-run-1-gdata2@example.com": "some_user@gmail.com"})
        assert n.value("ocss-run-1-gdata2@example.com") == "some_user@gmail.com"
        assert n.value("ocss-run-1-x") == "short-x"

    def test_record_keeps_the_api_headers_and_normalizes_the_request(self):
        n = Normalizer(base_urls=("http://h:1",))
        headers = requests.structures.CaseInsensitiveDict({
            "content-type": "application/atom+xml", "Content-Length": "12", "X-Request-Id": "r7",
            "WWW-Authenticate": 'OAuth realm="http://h:1/"'})
        rec = record(201, "Created", headers, entry(f"<id>http://h:1/x/{UUID_A}</id>"), n,
                     {"method": "POST", "path": f"/x/{UUID_A}/"})
        assert rec.headers == {"Content-Type": "application/atom+xml",
                               "WWW-Authenticate": 'OAuth realm="<base-url>/"'}
        assert rec.body == ["atom:entry", ["atom:id", "<base-url>/x/<uuid:1>"]]
        assert rec.request == {"method": "POST", "path": "/x/<uuid:1>/"}
        assert record(204, "Deleted", {}, b"  \n", Normalizer()).body is None
        broken = record(200, "OK", {}, b"<entry>", Normalizer()).body
        assert broken[0] == "(not XML)" and len(broken) == 2


class TestRefineAndSelection:
    BODY: ClassVar[list] = ["atom:entry",
                            ["atom:author", ["atom:name", "admin"], ["atom:email", "support@obexcode.com"]],
            ["atom:link", {"href": "<base-url>/phones/models/242/"}],
            ["oc:client", ["oc:user_id", "some_user@gmail.com"], ["oc:name", "admin"]]]

    def test_fields_become_references_only_at_their_path(self):
        out = refine(self.BODY, ("entry/author/name", "user_id"))
        assert out == ["atom:entry", ["atom:author", ["atom:name", "<name:admin>"],
                                      ["atom:email", "support@obexcode.com"]],
                       ["atom:link", {"href": "<base-url>/phones/models/242/"}],
                       ["oc:client", ["oc:user_id", "<user_id:some_user@gmail.com>"], ["oc:name", "admin"]]]
        # both sides become the same reference whatever the account's value
        theirs = refine(renumber(out), ())
        mine = renumber(refine(["atom:entry", ["atom:author", ["atom:name", "alice"], ["atom:email", "a@x"]],
                                ["atom:link", {"href": "<base-url>/phones/models/242/"}],
                                ["oc:client", ["oc:user_id", "alice@x"], ["oc:name", "admin"]]],
                               ("entry/author/name", "user_id")))
        assert theirs[1][1] == mine[1][1] == ["atom:name", "<name:1>"]
        assert theirs[3][1] == mine[3][1] == ["oc:user_id", "<user_id:1>"]

    def test_regex_applies_to_text_and_attributes(self):
        out = refine(self.BODY, regex={r"/models/\d+/": "/models/<model>/", r"^admin$": "<who>"})
        assert out[2] == ["atom:link", {"href": "<base-url>/phones/models/<model>/"}]
        assert out[1][1] == ["atom:name", "<who>"] and out[3][2] == ["oc:name", "<who>"]
        assert refine(self.BODY) is self.BODY and refine(None, ("x",)) is None

    def test_keep_entries_keeps_only_the_runs_own_in_the_given_order(self):
        feed = parse(f'<feed xmlns="{ATOM}"><id>f</id>'.encode() + b"".join(
            f"<entry><id>http://h/x/{u}</id></entry>".encode() for u in ("aaa", "bbb", "ccc"))
            + b"<title>t</title></feed>")
        kept = keep_entries(feed, ("ccc", "aaa", "zzz"))
        assert [e.findtext(f"{{{ATOM}}}id") for e in kept.findall(f"{{{ATOM}}}entry")] == ["http://h/x/ccc",
                                                                                            "http://h/x/aaa"]
        assert kept.findtext(f"{{{ATOM}}}title") == "t"
        assert len(keep_entries(parse(f'<feed xmlns="{ATOM}"><entry><id>a</id></entry></feed>'.encode()), ())) == 0
        single = parse(entry("<id>a</id>"))
        assert keep_entries(single, ()) is single and len(single) == 1  # not a feed: untouched

    def test_select_entries_then_renumber(self):
        feed = ["atom:feed", ["atom:id", "<base-url>/f"], ["atom:entry", ["atom:id", "<uuid:1>"]],
                ["atom:entry", ["atom:id", "<uuid:2>"], ["oc:x", "<uuid:3>"]], ["atom:entry", ["atom:id", "<uuid:4>"]],
                ["atom:updated", "<iso8601>"]]
        chosen = select_entries(feed, [2, 1, 7])  # out of range: ignored
        assert chosen == ["atom:feed", ["atom:id", "<base-url>/f"], ["atom:updated", "<iso8601>"],
                          ["atom:entry", ["atom:id", "<uuid:4>"]],
                          ["atom:entry", ["atom:id", "<uuid:2>"], ["oc:x", "<uuid:3>"]]]
        assert renumber(chosen)[3:] == [["atom:entry", ["atom:id", "<uuid:1>"]],
                                        ["atom:entry", ["atom:id", "<uuid:2>"], ["oc:x", "<uuid:3>"]]]
        assert select_entries(feed, []) == ["atom:feed", ["atom:id", "<base-url>/f"], ["atom:updated", "<iso8601>"]]
        assert select_entries(feed, None) is feed
        assert select_entries(["atom:entry", ["atom:id", "x"]], [0]) == ["atom:entry", ["atom:id", "x"]]

    def test_renumber_counts_per_kind_and_leaves_secrets_and_tokens(self):
        value = {"a": ["x", {"h": "<uuid:7> <secret:k> <base-url>"}, "<name:bob> <uuid:3> <uuid:7>", "<name:eve>"]}
        assert renumber(value) == {"a": ["x", {"h": "<uuid:1> <secret:k> <base-url>"},
                                         "<name:1> <uuid:2> <uuid:1>", "<name:2>"]}

    def test_view_expected_applies_the_same_transformers_to_the_snapshot(self):
        snap = Recording(200, "OK", {}, ["atom:feed", ["atom:entry", ["atom:id", "<uuid:1>"], ["oc:user_id", "u1"]],
                                         ["atom:entry", ["atom:id", "<uuid:2>"], ["oc:user_id", "u2"]]])
        got = View(fields=("user_id",), indices=(1,)).expected(snap)
        assert got.body == ["atom:feed", ["atom:entry", ["atom:id", "<uuid:1>"], ["oc:user_id", "<user_id:1>"]]]
        assert (got.status, got.reason) == (200, "OK") and snap.body[1][2] == ["oc:user_id", "u1"]


class TestDiff:
    E: ClassVar[list] = ["atom:entry", ["atom:id", "x"], ["atom:link", {"href": "a", "rel": "self"}],
         ["atom:link", {"href": "b", "rel": "edit"}], ["atom:title", "t"],
         ["oc:client", ["oc:uuid", "<uuid:1>"], ["oc:user_id", "u"]]]

    def test_identical_trees_have_no_difference(self):
        assert diff_nodes(self.E, json.loads(json.dumps(self.E))) == []

    def test_changed_text_and_attribute(self):
        actual = json.loads(json.dumps(self.E))
        actual[1][1] = "y"
        actual[3][1]["href"] = "c"
        assert diff_nodes(self.E, actual) == ['/entry/id: text "x" → "y"', '/entry/link[1]@href: "b" → "c"']

    def test_text_or_attribute_appearing_and_vanishing(self):
        assert diff_nodes(["atom:e", ["atom:t"]], ["atom:e", ["atom:t", "v"]]) == ['/e/t: text (none) → "v"']
        assert diff_nodes(["atom:e", ["atom:t", {"type": "text"}]], ["atom:e", ["atom:t"]]) == \
            ['/e/t@type: "text" → (none)']

    def test_missing_and_added_elements(self):
        actual = [c for c in self.E if not (isinstance(c, list) and c[0] == "atom:title")]
        assert diff_nodes(self.E, actual) == ["/entry/title: present → missing"]
        actual = json.loads(json.dumps(self.E)) + [["atom:summary", "s"]]
        assert diff_nodes(self.E, actual) == ["/entry/summary: missing → present"]
        actual = json.loads(json.dumps(self.E))
        actual.insert(2, ["atom:summary", "s"])
        assert diff_nodes(self.E, actual) == ["/entry/summary: missing → present"]
        actual = json.loads(json.dumps(self.E))
        del actual[2]  # the first of two links
        assert diff_nodes(self.E, actual) == ["/entry/link[0]: present → missing"]

    def test_an_added_sibling_of_the_same_name_is_one_difference(self):
        actual = json.loads(json.dumps(self.E))
        actual.insert(4, ["atom:link", {"href": "d", "rel": "alternate"}])
        assert diff_nodes(self.E, actual) == ["/entry/link[2]: missing → present"]
        actual = json.loads(json.dumps(self.E))
        del actual[3]  # the second of two links
        assert diff_nodes(self.E, actual) == ["/entry/link[1]: present → missing"]

    def test_renamed_element(self):
        actual = json.loads(json.dumps(self.E))
        actual[5][2][0] = "oc:userid"
        assert diff_nodes(self.E, actual) == ["/entry/client/user_id: element oc:user_id → oc:userid"]

    def test_namespace_change(self):
        actual = json.loads(json.dumps(self.E))
        actual[4][0] = "{urn:x}title"
        assert diff_nodes(self.E, actual) == ["/entry/title: element atom:title → {urn:x}title"]
        assert diff_nodes(["atom:entry"], ["{urn:x}entry"]) == ["/entry: element atom:entry → {urn:x}entry"]

    def test_compare_status_reason_headers_and_body(self):
        exp = Recording(201, "Created", {"Content-Type": "application/atom+xml", "Allow": "GET"}, ["atom:entry",
                                                                                                  ["atom:id", "x"]])
        act = Recording(200, "OK", {"Content-Type": "application/xml", "X-Extra": "ignored"}, ["atom:entry",
                                                                                               ["atom:id", "y"]])
        assert compare(exp, act) == ['status: 201 → 200', 'reason: "Created" → "OK"',
                                     'header Content-Type: "application/atom+xml" → "application/xml"',
                                     'header Allow: "GET" → (none)', '/entry/id: text "x" → "y"']
        assert compare(exp, exp) == []
        assert compare(Recording(204, "Deleted", {}, None), Recording(204, "Deleted", {}, ["atom:entry"])) == \
            ["body: (empty) → atom:entry"]
        assert compare(Recording(200, "OK", {}, ["atom:feed"]), Recording(200, "OK", {}, None)) == \
            ["body: atom:feed → (empty)"]


class TestSnapshotStore:
    REC = Recording(201, "Created", {"Content-Type": "application/atom+xml"},
                    ["atom:entry", ["atom:id", "<base-url>/x/<uuid:1>"],
                     ["oc:client", {"a": "1"}, ["oc:uuid", "<uuid:1>"]]], {"method": "POST", "path": "/x/"})

    def test_save_layout_and_load_round_trip(self, tmp_path):
        store = SnapshotStore(tmp_path / "snaps")
        path = store.save("my-key.v2", self.REC, {"provenance": {"kind": "inferred", "source": "b"},
                                                  "recorded": "by hand"})
        assert path == tmp_path / "snaps" / "my-key.v2.json"
        assert path.read_text(encoding="utf-8") == """{
  "key": "my-key.v2",
  "provenance": {"kind": "inferred", "source": "b"},
  "recorded": "by hand",
  "request": {"method": "POST", "path": "/x/"},
  "response": {
    "status": 201,
    "reason": "Created",
    "headers": {"Content-Type": "application/atom+xml"},
    "body": ["atom:entry",
      ["atom:id", "<base-url>/x/<uuid:1>"],
      ["oc:client", {"a": "1"},
        ["oc:uuid", "<uuid:1>"]
      ]
    ]
  }
}
"""
        loaded, meta = store.load("my-key.v2")
        assert loaded == self.REC
        assert meta["recorded"] == "by hand" and meta["key"] == "my-key.v2"
        assert store.keys() == ["my-key.v2"]
        assert list((tmp_path / "snaps").iterdir()) == [path]  # no temporary file left
        assert store.load("other") is None

    @pytest.mark.parametrize("key", ["Bad", "../etc/passwd", "a/b", "", "-a", "a_b", "a b", ".hidden"])
    def test_bad_keys_are_refused(self, tmp_path, key):
        store = SnapshotStore(tmp_path)
        with pytest.raises(ValueError, match="snapshot keys"):
            store.save(key, self.REC, {})
        with pytest.raises(ValueError):
            store.load(key)
        assert list(tmp_path.iterdir()) == []


# === docs.py ===================================================================================
def test_committed_doc_snapshots_are_exactly_the_docs_normalized(tmp_path):
    built = doc_recordings()
    fresh = SnapshotStore(tmp_path)
    checked = 0
    for path in sorted(SNAPSHOT_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data.get("recorded", "").startswith("from the API documentation"):
            continue  # re-recorded from a live service since
        key = path.stem
        assert key in built, f"{path.name} claims to come from the docs but no doc exchange is {key}"
        recording, meta = built[key]
        assert path.read_text(encoding="utf-8") == fresh.save(key, recording, meta).read_text(encoding="utf-8"), key
        checked += 1
    assert checked > 0


def test_every_doc_exchange_has_a_snapshot():
    ids = [e["id"] for e in load_index()]
    assert ids and len(ids) == len(set(ids))
    assert sorted(ids) == sorted(doc_recordings())
    missing = [i for i in ids if not (SNAPSHOT_DIR / f"{i}.json").exists()]
    assert not missing, missing
    for i in ids:  # and it is that exchange's
        data = json.loads((SNAPSHOT_DIR / f"{i}.json").read_text(encoding="utf-8"))
        assert data["key"] == i
        exchange = next(e for e in load_index() if e["id"] == i)
        assert (data["response"]["status"], data["response"]["reason"]) == (exchange["status"], exchange["reason"])
        assert data["request"]["method"] == exchange["method"]


# === target.py =================================================================================
FULL_ENV = {"OCSS_CONSUMER_KEY": "ck", "OCSS_CONSUMER_SECRET": "cs", "OCSS_ACCESS_TOKEN": "ut",
            "OCSS_ACCESS_SECRET": "us", "OCSS_OTHER_ACCESS_TOKEN": "ot", "OCSS_OTHER_ACCESS_SECRET": "os"}


class TestCredentials:
    def test_from_the_environment(self):
        creds = credentials_for("https://sync.example.com/", FULL_ENV)
        assert creds == {"user": Credentials("ck", "cs", "ut", "us"), "other": Credentials("ck", "cs", "ot", "os")}
        only_user = {k: v for k, v in FULL_ENV.items() if "OTHER" not in k}
        assert credentials_for("https://sync.example.com/", only_user) == {"user": Credentials("ck", "cs", "ut", "us")}

    def test_from_a_netrc_file(self, tmp_path):
        netrc = tmp_path / "netrc"
        netrc.write_text("machine sync.example.com login CK password CS account UT:US\n"
                         "machine other.sync.example.com account OT:OS\n"
                         "machine elsewhere.example.com login X password Y account A:B\n")
        creds = credentials_for("https://sync.example.com:8443/v2/", {}, str(netrc))
        assert creds == {"user": Credentials("CK", "CS", "UT", "US"), "other": Credentials("CK", "CS", "OT", "OS")}

    def test_the_environment_wins_over_netrc(self, tmp_path):
        netrc = tmp_path / "netrc"
        netrc.write_text("machine sync.example.com login CK password CS account UT:US\n"
                         "machine other.sync.example.com account OT:OS\n")
        creds = credentials_for("https://sync.example.com/", {"OCSS_CONSUMER_KEY": "envck",
                                                              "OCSS_ACCESS_SECRET": "envus",
                                                              "OCSS_OTHER_ACCESS_TOKEN": "envot"}, str(netrc))
        assert creds == {"user": Credentials("envck", "CS", "UT", "envus"),
                         "other": Credentials("envck", "CS", "envot", "OS")}

    def test_missing_values_name_the_variables(self, tmp_path):
        with pytest.raises(CredentialsError) as e:
            credentials_for("https://sync.example.com/", {"OCSS_CONSUMER_KEY": "ck", "OCSS_ACCESS_SECRET": "x"})
        message = str(e.value)
        assert "OCSS_CONSUMER_SECRET, OCSS_ACCESS_TOKEN" in message and "sync.example.com" in message
        assert "OCSS_CONSUMER_KEY" not in message and "OCSS_ACCESS_SECRET" not in message
        netrc = tmp_path / "netrc"
        netrc.write_text("machine other.host.example account OT:OS\n")  # no entry for the host itself
        with pytest.raises(CredentialsError, match="OCSS_CONSUMER_KEY, OCSS_CONSUMER_SECRET, OCSS_ACCESS_TOKEN, "
                                                   "OCSS_ACCESS_SECRET"):
            credentials_for("http://host.example/", {}, str(netrc))

    def test_malformed_netrc_account_or_file(self, tmp_path):
        netrc = tmp_path / "netrc"
        netrc.write_text("machine sync.example.com login CK password CS account TOKENONLY\n")
        with pytest.raises(CredentialsError, match="sync.example.com: account must be TOKEN:SECRET"):
            credentials_for("https://sync.example.com/", FULL_ENV, str(netrc))
        with pytest.raises(CredentialsError, match="cannot read the netrc file"):
            credentials_for("https://sync.example.com/", FULL_ENV, str(tmp_path / "absent"))

    def test_target_api_of_an_absent_user(self):
        target = Target("https://sync.example.com/", {"user": Credentials("ck", "cs", "ut", "us")})
        with pytest.raises(CredentialsError, match="'other'"):
            target.api("other")
        assert target.base_url == "https://sync.example.com" and target.kind == "url"
        assert target.secrets() == {"consumer-key": "ck", "consumer-secret": "cs", "user-token": "ut",
                                    "user-token-secret": "us"}


SYNCML_CLIENT = entry("<oc:client><oc:phone_number>+4790000001</oc:phone_number><oc:model_uuid>56</oc:model_uuid>"
                      "<oc:timezone>Europe/Oslo</oc:timezone></oc:client>")


class TestInProcessTarget:
    def test_signed_requests_round_trip_through_the_wsgi_adapter(self):
        target = Target.in_process()
        assert target.kind == "fake" and target.base_url == IN_PROCESS_URL
        api = target.api("user", allowed="mutating")
        reply = api.get("/v2/services/syncml/")
        assert reply.status_line == (200, "OK") and reply.content_type == "application/atom+xml"
        assert reply.xml().findtext(f"{{{ATOM}}}id") == f"{IN_PROCESS_URL}/v2/services/syncml/"
        assert repr(reply) == f"<Reply GET /v2/services/syncml/: 200 OK, {len(reply.body)} bytes>"
        created = api.post("/v2/services/syncml/", SYNCML_CLIENT)
        assert created.status_line == (201, "Created"), created.text
        uuid = created.xml().findtext(f"{{{OC}}}client/{{{OC}}}uuid")
        assert api.get(f"/v2/services/syncml/{uuid}").status == 200
        seen = [(e.method, e.path, e.query, e.user, e.status) for e in target.app.journal.entries()]
        assert seen == [("GET", "/v2/services/syncml/", "", "alice", 200),
                        ("POST", "/v2/services/syncml/", "", "alice", 201),
                        ("GET", f"/v2/services/syncml/{uuid}", "", "alice", 200)]
        api.close()

    def test_a_signed_request_with_a_query_string(self):
        target = Target.in_process()
        reply = target.api("user").get("/v2/services/syncml/", params={"q": "x y"})
        assert reply.status_line == (200, "OK")
        assert [(e.query, e.auth) for e in target.app.journal.entries()] == [("q=x+y", "ok")]

    def test_an_unsigned_request_is_refused(self):
        target = Target.in_process()
        reply = target.api(None).get("/v2/services/syncml/")
        assert reply.status == 401
        assert reply.headers["WWW-Authenticate"].startswith("OAuth realm=")
        assert [(e.user, e.status) for e in target.app.journal.entries()] == [(None, 401)]

    def test_the_adapter_serves_a_plain_requests_session(self):
        app = FakeApp()
        session = requests.Session()
        session.mount("http://any.invalid", WSGIAdapter(app))
        r = session.get("http://any.invalid/v2/services/syncml/")
        assert (r.status_code, r.reason) == (401, "Unauthorized") and r.url == "http://any.invalid/v2/services/syncml/"
        assert r.headers["Content-Type"] and r.content == r.raw.read()


class TestSafetyGuard:
    def test_read_only_api_refuses_a_post_before_sending(self):
        target = Target.in_process()
        before = target.app.journal.last_id()
        clients = sorted(target.app.world.clients)
        api = target.api("user", allowed="read-only")
        with pytest.raises(UnsafeRequest, match=r"POST /v2/services/syncml/ is mutating but the contract is "
                                                r"marked read-only"):
            api.post("/v2/services/syncml/", SYNCML_CLIENT)
        with pytest.raises(UnsafeRequest):
            api.delete("/v2/services/not-a-route/")  # unknown routes: judged by the method
        assert target.app.journal.last_id() == before and target.app.journal.entries() == []
        assert sorted(target.app.world.clients) == clients
        assert api.get("/v2/services/syncml/").status == 200  # reads still go through

    def test_mutating_api_refuses_a_setup_post_before_sending(self):
        target = Target.in_process()
        mutating = target.api("user", allowed="mutating")
        created = mutating.post("/v2/services/syncml/", SYNCML_CLIENT)
        assert created.status == 201
        uuid = created.xml().findtext(f"{{{OC}}}client/{{{OC}}}uuid")
        seen, outbox = target.app.journal.last_id(), list(target.app.world.outbox)
        with pytest.raises(UnsafeRequest, match="is side-effecting but the contract is marked mutating"):
            mutating.post(f"/v2/services/syncml/{uuid}/setup/", b"")
        assert target.app.journal.last_id() == seen
        assert list(target.app.world.outbox) == outbox
        # the control: a side_effecting Api does reach the fake with the same request
        target.api("user", allowed="side-effecting").post(f"/v2/services/syncml/{uuid}/setup/", b"")
        assert target.app.journal.last_id() == seen + 1

    def test_the_guard_holds_on_a_url_target_without_any_connection(self):
        target = Target("http://127.0.0.1:9", {"user": Credentials("ck", "cs", "ut", "us")}, timeout=2)
        with pytest.raises(UnsafeRequest):  # not a ConnectionError: nothing was sent
            target.api("user").put(f"/v2/services/google/{UUID_A}/", entry(""))


class TestReplyXml:
    @staticmethod
    def reply(body: bytes) -> Reply:
        return Reply(200, "OK", requests.structures.CaseInsensitiveDict(), body, "GET", "/x")

    def test_billion_laughs_is_refused_unexpanded(self):
        decls = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10))
        body = f'<?xml version="1.0"?><!DOCTYPE lolz [{decls}]><lolz>&lol9;</lolz>'.encode()
        with pytest.raises(safe.XMLRejected, match="DOCTYPE"):
            self.reply(body).xml()

    def test_internal_and_external_entities_are_refused(self, tmp_path):
        # The contracts read answers through the package's one hardened parser
        # (atom/safe.py): a DOCTYPE is refused, so no entity can expand or reach a file.
        with pytest.raises(safe.XMLRejected, match="DOCTYPE"):
            self.reply(b'<!DOCTYPE r [<!ENTITY a "EXPANDED">]><r>x&a;y</r>').xml()
        leak = tmp_path / "leak.txt"
        leak.write_text("LEAKED-CONTENT")
        with pytest.raises(safe.XMLRejected, match="DOCTYPE"):
            self.reply(f'<!DOCTYPE r [<!ENTITY x SYSTEM "{leak.as_uri()}">]><r>&x;</r>'.encode()).xml()

    def test_a_plain_answer_parses(self):
        assert self.reply(b"<r><c>x</c></r>").xml().findtext("c") == "x"


# === ledger.py =================================================================================
class TestLedger:
    def test_names_are_unique_and_carry_run_id_and_worker(self):
        ledger = Ledger("ocss-20240101000000-beef", "gw1")
        names = []

        def many():
            for _ in range(200):
                names.append(ledger.name("gdata"))
        threads = [threading.Thread(target=many) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(names)) == 800
        assert all(n.startswith("ocss-20240101000000-beef-gw1-gdata") for n in names)
        assert ledger.name("syncml") == "ocss-20240101000000-beef-gw1-syncml801"
        digits = {ledger.digits() for _ in range(50)}
        assert all(len(d) == 8 and d.isdigit() for d in digits) and len(digits) >= 50
        assert new_run_id().startswith("ocss-") and new_run_id() != new_run_id()

    def test_cleanup_deletes_newest_first_and_reports_what_is_left(self, tmp_path):
        file = tmp_path / "ledger.jsonl"
        ledger = Ledger("run1", "main", file)
        for kind, path, role in (("a", "/a/", "user"), ("b", "/b/", "other"), ("c", "/c/", "user"),
                                 ("d", "/d/", "user"), ("e", "/e/", "user"), ("f", "/f/", "user")):
            ledger.add(kind, f"run1-main-{kind}", path, role)
        ledger.forget("/c/")  # its contract deleted it
        ledger.forget("/nowhere/")  # not in the ledger: nothing happens
        answers = {"/f/": 204, "/e/": 500, "/d/": RuntimeError("boom"), "/b/": 404, "/a/": 200}
        calls = []

        def delete(entry: Entry) -> int:
            calls.append((entry.path, entry.role))
            answer = answers[entry.path]
            if isinstance(answer, Exception):
                raise answer
            return answer
        left = ledger.cleanup(delete)
        assert calls == [("/f/", "user"), ("/e/", "user"), ("/d/", "user"), ("/b/", "other"), ("/a/", "user")]
        assert left == ["e run1-main-e (/e/): HTTP 500", "d run1-main-d (/d/): RuntimeError: boom"]
        assert {e.path: e.deleted for e in ledger.entries} == {"/a/": True, "/b/": True, "/c/": True, "/d/": False,
                                                               "/e/": False, "/f/": True}
        lines = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
        assert [(ln["kind"], ln["event"]) for ln in lines] == [
            ("a", "created"), ("b", "created"), ("c", "created"), ("d", "created"), ("e", "created"),
            ("f", "created"), ("c", "deleted by its contract"), ("f", "deleted at the end of the run"),
            ("e", "NOT deleted: HTTP 500"), ("d", "NOT deleted: RuntimeError: boom"),
            ("b", "deleted at the end of the run"), ("a", "deleted at the end of the run")]
        assert lines[1] == {"run": "run1", "worker": "main", "event": "created", "kind": "b", "name": "run1-main-b",
                            "path": "/b/", "role": "other", "deleted": False}
        assert lines[6]["deleted"] is True
        # a second cleanup tries only what is still there
        calls.clear()
        answers.update({"/e/": 404, "/d/": 204})
        assert ledger.cleanup(delete) == [] and [c[0] for c in calls] == ["/e/", "/d/"]

    def test_without_a_file_nothing_is_written(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        ledger = Ledger("run2")
        ledger.add("a", "n", "/a/")
        assert ledger.cleanup(lambda e: 204) == [] and list(tmp_path.iterdir()) == []


# === report.py =================================================================================
def rows():
    return [
        {"nodeid": "contracts/test_x.py::test_inferred_one", "spec": "I9", "provenance": "inferred",
         "source": "000, clients", "safety": "mutating", "fake_only": None, "behaviour": "passed",
         "matches": [{"key": "clients-create", "verdict": "unrecorded", "diffs": []}], "skip": "",
         "recordings": [{"key": "clients-create", "recording": {}}]},
        {"nodeid": "contracts/test_x.py::test_b<i>", "spec": "D2", "provenance": "documented",
         "source": "001, Add a new client", "safety": "mutating", "fake_only": None, "behaviour": "failed",
         "matches": [{"key": "gdata-create", "verdict": "drift", "recorded": "docs",
                      "diffs": ["status: 201 → 200", '/entry/title: text "<script>alert(1)</script>" → "x"']}],
         "skip": ""},
        {"nodeid": "contracts/test_x.py::test_a", "spec": "D1", "provenance": "documented",
         "source": "001, List all clients", "safety": "read-only", "fake_only": None, "behaviour": "passed",
         "matches": [{"key": "gdata-list", "verdict": "match", "diffs": []}], "skip": ""},
        {"nodeid": "contracts/test_x.py::test_skipped", "spec": "I1", "provenance": "inferred",
         "source": "000, vendors", "safety": "mutating", "fake_only": None, "behaviour": "skipped",
         "matches": [], "skip": "mutating: give --ocss-allow-mutating <now>"},
    ]


DIFFS = ["status: 201 → 200", '/entry/title: text "<script>alert(1)</script>" → "x"']


class TestReport:
    def test_summarize(self):
        s = report.summarize(rows())
        assert [r["nodeid"].split("::")[1] for r in s["rows"]] == ["test_a", "test_b<i>", "test_skipped",
                                                                   "test_inferred_one"]
        assert [r["drift"] for r in s["rows"]] == ["match", "drift", "not compared", "unrecorded"]
        assert s["behaviour"] == {"passed": 2, "failed": 1, "skipped": 1}
        assert s["drift"] == {"match": 1, "drift": 1, "unrecorded": 1, "not compared": 1}
        assert s["provenance"] == {"documented": 2, "inferred": 2}
        none = {"failed": 0, "skipped": 0, "drifted": 0}
        assert s["coverage"]["D1"] == {"contracts": 1, "passed": 1, **none, "provenance": "documented"}
        assert s["coverage"]["D2"] == {"contracts": 1, "passed": 0, **none, "failed": 1, "drifted": 1,
                                       "provenance": "documented"}
        assert s["coverage"]["D3"] == {"contracts": 0, "passed": 0, **none, "provenance": "documented"}
        last = report.SPEC_ORDER[-1]  # the last inferred id of the route table
        assert last.startswith("I")
        assert s["coverage"][last] == {"contracts": 0, "passed": 0, **none, "provenance": "inferred"}
        assert list(s["coverage"])[:3] == ["D1", "D2", "D3"] and list(s["coverage"])[-1] == last
        # without pytest's reports, each contract's category follows from its verdicts
        assert [r["counted"] for r in s["rows"]] == [["passed"], ["failed"], ["skipped"], ["passed"]]
        assert s["pytest_outside"] is None
        assert report.verdict_line(s) == (
            "contracts: 4 — 1 failed (on its assertions), 2 passed, 1 skipped · API drift: 1 drifted, "
            "1 match their snapshot, 1 unrecorded · provenance: 2 documented, 2 inferred")
        assert report.differences(s) == [("contracts/test_x.py::test_b<i>", "gdata-create", d) for d in DIFFS]
        lines = report.terminal_lines(s, "run9")
        assert lines[0] == "run run9: " + report.verdict_line(s)
        assert lines[1:3] == [f"DRIFT gdata-create (test_b<i>): {d}" for d in DIFFS]
        assert lines[3].startswith("no contract ran for: D3, D4,") and "D1," not in lines[3]

    def test_markdown_has_three_verdict_sections_and_every_difference(self):
        md = report.markdown(report.summarize(rows()), "http://h", "run9", "2024-01-01 00:00:00 UTC")
        sections = [line for line in md.splitlines() if line.startswith("## ")]
        assert sections == ["## 1. Behaviour (assertions against the target)", "## 2. API drift (target vs snapshots)",
                            "## 3. Provenance (documented vs inferred)"]
        for d in DIFFS:
            assert f"- **gdata-create** (`contracts/test_x.py::test_b<i>`): `{d}`" in md
        assert "| `contracts/test_x.py::test_a` | D1 | read-only | passed |" in md
        assert ("| `contracts/test_x.py::test_skipped` | I1 | mutating | "
                "skipped (mutating: give --ocss-allow-mutating <now>) |") in md
        assert "| `contracts/test_x.py::test_b<i>` | gdata-create | drift |" in md
        assert "| D1 | documented | 1 | 1 | 001, List all clients |" in md
        assert "| D3 | documented | 0 | 0 |  |" in md
        assert "- target: `http://h`" in md and "- run: `run9`" in md
        clean = report.summarize([r for r in rows() if r["spec"] != "D2"])
        assert "No drift: every compared answer matches its snapshot." in report.markdown(clean, "t", "r", "g")

    def test_markdown_keeps_a_difference_with_a_pipe_verbatim(self):
        data = rows()
        data[1]["matches"][0]["diffs"] = ['/entry/title: text "a|b" → "a"']
        md = report.markdown(report.summarize(data), "t", "r", "g")
        assert '`/entry/title: text "a|b" → "a"`' in md

    def test_html_page_escapes_everything(self):
        page = report.page(report.summarize(rows()), "http://h/<t>", "run9", "now")
        assert "<script>alert" not in page and "<i>" not in page and "<now>" not in page and "<t>" not in page
        assert ("<li><b>gdata-create</b> <code>/entry/title: text &quot;&lt;script&gt;alert(1)&lt;/script&gt;"
                "&quot; → &quot;x&quot;</code> <small class='muted'>contracts/test_x.py::test_b&lt;i&gt;</small></li>"
                ) in page
        assert "<code>status: 201 → 200</code>" in page
        for heading in ("API drift (target vs snapshots)", "Behaviour and drift per contract, by spec id",
                        "Provenance (documented vs inferred), by spec id"):
            assert f"<h2>{heading}</h2>" in page
        assert "<br>mutating: give <code class='flag'>--ocss-allow-mutating</code> &lt;now&gt;" in page

    def test_html_page_groups_by_spec_with_counts_and_marks_problems(self):
        data = rows()
        data.append({**data[2], "nodeid": "contracts/test_x.py::test_a2", "behaviour": "passed",
                     "matches": [{"key": "gdata-list-2", "verdict": "drift",
                                  "diffs": ['reason: "OK" → "Fine"']}]})
        page = report.page(report.summarize(data), "t", "r", "g")
        groups = re.findall(r"<section class='spec (\w+)' id='spec-(\w+)'><h3>\w+ <small>([^<]*)</small>", page)
        assert groups == [("problem", "D1", "documented · 2 contracts: 2 passed, 0 failed, 0 skipped · 1 drifted"),
                          ("problem", "D2", "documented · 1 contract: 0 passed, 1 failed, 0 skipped · 1 drifted"),
                          ("fine", "I1", "inferred · 1 contract: 0 passed, 0 failed, 1 skipped · 0 drifted"),
                          ("fine", "I9", "inferred · 1 contract: 1 passed, 0 failed, 0 skipped · 0 drifted")]
        classes = {nodeid: cls for cls, nodeid in re.findall(r"<tr class='contract (\w+)' data-nodeid='([^']*)'>",
                                                             page)}
        assert classes == {
            "contracts/test_x.py::test_a": "fine", "contracts/test_x.py::test_a2": "problem",
            "contracts/test_x.py::test_b&lt;i&gt;": "problem", "contracts/test_x.py::test_skipped": "fine",
            "contracts/test_x.py::test_inferred_one": "fine"}
        # a contract that only drifted passed its assertions, and pytest failed it: both are said
        assert ("<span class='tag passed'>passed</span> <span class='muted'>— pytest counts it as failed</span>"
                in page)
        # the overview: one row per spec id, linking to its group when it has contracts
        assert ("<td><a href='#spec-D1'>D1</a></td><td>documented</td><td>2</td><td>2</td><td class=''>0</td>"
                "<td>0</td><td class='drift'>1</td>") in page
        assert "<tr class='fine'><td>D3</td><td>documented</td><td>0</td>" in page

    def test_html_page_is_self_contained_under_its_policy(self):
        page = report.page(report.summarize(rows()), "t", "r", "g")
        policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
        assert policy.startswith("default-src 'none';") and "unsafe-inline" not in policy
        # the one style and the one script are allowed by their hash, nothing else
        (style,) = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
        (script,) = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
        for source, directive in ((style, "style-src"), (script, "script-src")):
            digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
            assert f"{directive} 'sha256-{digest}';" in policy
        links = re.findall(r"(?i)\b(?:src|href|action)\s*=\s*['\"]?([^'\"\s>]*)", page)
        assert links and all(link.startswith("#spec-") for link in links), links  # only in-page links
        assert not re.search(r"(?i)https?:|@import|url\(", page.replace("http://h", ""))
        # the filter is hidden until the script shows it: without scripts the page shows everything
        assert '<div id="filter" hidden>' in page

    def test_write_makes_the_three_files(self, tmp_path):
        report.write(tmp_path, report.summarize(rows()), target="http://h", run_id="run9")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["drift-report.html", "drift-report.json",
                                                               "drift-report.md"]
        data = json.loads((tmp_path / "drift-report.json").read_text(encoding="utf-8"))
        assert (data["target"], data["run"]) == ("http://h", "run9")
        assert data["behaviour"] == {"passed": 2, "failed": 1, "skipped": 1}
        assert data["drift"]["drift"] == 1 and data["coverage"]["D2"]["contracts"] == 1
        assert data["differences"] == [{"contract": "contracts/test_x.py::test_b<i>", "snapshot": "gdata-create",
                                        "difference": d} for d in DIFFS]
        assert [c["nodeid"].split("::")[1] for c in data["contracts"]] == ["test_a", "test_b<i>", "test_skipped",
                                                                           "test_inferred_one"]
        assert all("recordings" not in c for c in data["contracts"])
        md = (tmp_path / "drift-report.md").read_text(encoding="utf-8")
        assert all(d in md for d in DIFFS) and "run: `run9`" in md
        assert "&lt;script&gt;" in (tmp_path / "drift-report.html").read_text(encoding="utf-8")


# === plugin.py, in a child pytest ================================================================
# Contracts are files under contracts/, so the probes are written there for one run and
# removed at once. Their names do not match `test_*.py`: a concurrent `pytest contracts` never
# collects them; given explicitly on the command line, pytest runs them all the same.
def child_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCSS_", "PYTEST_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run_child(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-p", "no:xdist", "-q"]
    return subprocess.run(cmd, cwd=ROOT, env=env or child_env(), capture_output=True, text=True, timeout=180,
                          check=False)


def run_probe(source: str, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    name = f"tmp_harness_probe_{_secrets.token_hex(4)}.py"
    path = CONTRACTS / name
    try:
        path.write_text(source, encoding="utf-8")
        return run_child(f"contracts/{name}", *args), f"contracts/{name}"
    finally:
        path.unlink(missing_ok=True)


REJECTED = '''
import pytest

@pytest.mark.read_only
def test_no_marker(contract):
    pass

@pytest.mark.documented("Google Data Client API", "List all clients", "D1")
@pytest.mark.inferred("I1", basis="the client library")
@pytest.mark.read_only
def test_two_markers(contract):
    pass

@pytest.mark.documented("SyncML API", "List all clients", "D1")
@pytest.mark.read_only
def test_wrong_doc(contract):
    pass

@pytest.mark.inferred("I99", basis="nothing")
@pytest.mark.read_only
def test_unknown_spec(contract):
    pass

@pytest.mark.documented("SyncServer API Python interface", "Vendors", "I1")
@pytest.mark.read_only
def test_documented_but_inferred(contract):
    pass

@pytest.mark.inferred("I1", basis="the client library")
@pytest.mark.read_only
@pytest.mark.mutating
def test_two_safety_classes(contract):
    pass

@pytest.mark.inferred("I1", basis="the client library")
@pytest.mark.read_only
def test_fine(contract):
    open(__file__ + ".ran", "w").close()
'''


@pytest.fixture(scope="module")
def rejected_run():
    result, nodeid = run_probe(REJECTED)
    ran = ROOT / f"{nodeid}.ran"
    yield result, nodeid, ran.exists()
    ran.unlink(missing_ok=True)


@pytest.mark.parametrize("test, reason", [
    ("test_no_marker", ("needs exactly one provenance marker, @pytest.mark.documented(doc, section, spec) or "
                        "@pytest.mark.inferred(spec, basis); it has 0")),
    ("test_two_markers", "needs exactly one provenance marker"),
    ("test_two_markers", "it has 2"),
    ("test_wrong_doc", "documented contracts of D1 cite 'Google Data Client API' (the API document's title) "
                       "and a section"),
    ("test_unknown_spec", f"names 'I99', not a route id ({ROUTE_IDS}; docs/decisions.md, 'Route ids')"),
    ("test_documented_but_inferred", "is marked documented but I1 is inferred in the route table"),
    ("test_two_safety_classes", "has more than one safety class: read_only, mutating"),
])
def test_unacceptable_markers_stop_the_run(rejected_run, test, reason):
    result, nodeid, ran = rejected_run
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "contracts without an acceptable provenance marker" in result.stderr
    line = next((ln for ln in result.stderr.splitlines() if ln.strip().startswith(f"{nodeid}::{test} ")), None)
    assert line is not None, result.stderr
    assert reason in line
    assert f"{nodeid}::test_fine" not in result.stderr
    assert "passed" not in result.stdout and not ran


@pytest.mark.parametrize("args, message", [
    (("--ocss-snapshot-update",), "--ocss-snapshot-update needs --ocss-base-url"),
    (("--ocss-allow-mutating", "--ocss-allow-sms"), "--ocss-allow-sms needs --ocss-test-phone NUMBER"),
    (("--ocss-allow-sms", "--ocss-test-phone", "+4790000001"), "--ocss-allow-sms needs --ocss-allow-mutating too"),
    (("--ocss-base-url", "http://127.0.0.1:9"),
     ("no credentials for http://127.0.0.1:9: set OCSS_CONSUMER_KEY, OCSS_CONSUMER_SECRET, OCSS_ACCESS_TOKEN, "
      "OCSS_ACCESS_SECRET")),
])
def test_usage_errors(args, message):
    # --co: were the check missing, nothing would run against anything
    result = run_child("contracts/test_gdata.py", "--co", *args)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert message in result.stderr


BEHAVIOUR = '''
import pytest

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
def test_read_only_posts(contract):
    contract.api.post("/v2/phones/vendors/", b"<entry xmlns='http://www.w3.org/2005/Atom'/>")

@pytest.mark.documented("SyncML API", "Listing all clients", "D6")
@pytest.mark.read_only
def test_drifts(contract):
    reply = contract.api.get("/v2/services/syncml/")
    contract.match("hand-drift", reply)
    assert reply.status == 200

@pytest.mark.documented("SyncML API", "Listing all clients", "D6")
@pytest.mark.read_only
@pytest.mark.xfail(strict=True, reason="a known drift")
def test_known_drift(contract):
    contract.match("hand-drift", contract.api.get("/v2/services/syncml/"))

@pytest.mark.documented("SyncML API", "Listing all clients", "D6")
@pytest.mark.read_only
def test_matches(contract):
    reply = contract.api.get("/v2/services/syncml/")
    assert contract.match("hand-match", reply) == []

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
def test_leaks_a_secret(contract):
    token = contract.target.credentials["user"].token_secret
    print("captured", token)
    assert token == "something else", "the token secret is " + token
'''
DRIFT_LINES = ['reason: "Fine" → "OK"', 'header Content-Type: "application/xml" → "application/atom+xml"',
               '/feed/title: text "SyncML Clientele" → "SyncML Clients"', "/feed/subtitle: present → missing"]


def hand_snapshots(directory: Path) -> Path:
    """A snapshot store with `hand-match` (the fake's syncml listing as it is) and
    `hand-drift` (the same, changed in DRIFT_LINES' four ways)."""
    target = Target.in_process()
    reply = target.api("user").get("/v2/services/syncml/")
    actual = record(reply.status, reply.reason, reply.headers, reply.body,
                    Normalizer(base_urls=(IN_PROCESS_URL,), secrets=target.secrets()),
                    {"method": "GET", "path": "/v2/services/syncml/"})
    assert actual.body[0] == "atom:feed" and ["atom:title", "SyncML Clients"] in actual.body
    store = SnapshotStore(directory)
    store.save("hand-match", actual, {"recorded": "by hand"})
    drifted = Recording.from_dict(json.loads(json.dumps(actual.to_dict())))
    drifted.reason, drifted.headers = "Fine", {"Content-Type": "application/xml"}
    drifted.body[drifted.body.index(["atom:title", "SyncML Clients"])] = ["atom:title", "SyncML Clientele"]
    drifted.body.append(["atom:subtitle", "gone"])
    store.save("hand-drift", drifted, {"recorded": "by hand"})
    return directory


@pytest.fixture(scope="module")
def behaviour_run(tmp_path_factory):
    """One child run: a guard failure, a drift, a match, a leaked secret."""
    base = tmp_path_factory.mktemp("harness-run")
    result, nodeid = run_probe(BEHAVIOUR, "--ocss-snapshot-dir", str(hand_snapshots(base / "snapshots")),
                               "--ocss-report-dir", str(base / "report"), "-rA")
    return result, nodeid, base / "report"


def junit_cases(report_dir: Path) -> dict[str, etree._Element]:
    root = etree.parse(str(report_dir / "junit.xml")).getroot()
    return {case.get("name"): case for case in root.iter("testcase")}


def _failure_text(failure) -> str:
    """The message attribute and the element's text: newer pytest shortens the attribute."""
    return (failure.get("message") or "") + "\n" + (failure.text or "")


def test_a_read_only_contract_that_posts_fails_with_the_guards_message(behaviour_run):
    result, _, report_dir = behaviour_run
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "UnsafeRequest: POST /v2/phones/vendors/ is mutating but the contract is marked read-only" in result.stdout
    failure = junit_cases(report_dir)["test_read_only_posts"].find("failure")
    assert failure is not None and "is mutating but the contract is marked read-only" in _failure_text(failure)
    # the drift report says why in one line, next to the verdict
    data = json.loads((report_dir / "drift-report.json").read_text(encoding="utf-8"))
    (posts,) = [c for c in data["contracts"] if c["nodeid"].endswith("::test_read_only_posts")]
    assert posts["behaviour"] == "failed" and posts["failure"] == (
        "contracts.harness.target.UnsafeRequest: POST /v2/phones/vendors/ is mutating but the contract is marked "
        "read-only")
    assert "is mutating but the contract is marked read-only</code>" in (report_dir / "drift-report.html").read_text(
        encoding="utf-8")


def test_a_drifted_answer_fails_and_the_report_names_each_difference(behaviour_run):
    result, nodeid, report_dir = behaviour_run
    assert f"FAILED {nodeid}::test_drifts" in result.stdout and f"PASSED {nodeid}::test_matches" in result.stdout
    assert "API drift (the answer differs from the recorded snapshot):" in result.stdout
    for line in DRIFT_LINES:
        assert f"  hand-drift: {line}" in result.stdout
        assert f"DRIFT hand-drift (test_drifts): {line}" in result.stdout
        assert f"DRIFT hand-drift (test_known_drift): {line}" in result.stdout
    data = json.loads((report_dir / "drift-report.json").read_text(encoding="utf-8"))
    assert [d["difference"] for d in data["differences"]] == DRIFT_LINES * 2
    assert {d["snapshot"] for d in data["differences"]} == {"hand-drift"}
    assert data["drift"] == {"match": 1, "drift": 2, "unrecorded": 0, "not compared": 2}
    # drift is an ordinary failure: a contract expected to fail on it is xfailed, not XPASS(strict)
    assert f"XFAIL {nodeid}::test_known_drift" in result.stdout
    md = (report_dir / "drift-report.md").read_text(encoding="utf-8")
    for line in DRIFT_LINES:
        assert f"- **hand-drift** (`{nodeid}::test_drifts`): `{line}`" in md
    failure = junit_cases(report_dir)["test_drifts"].find("failure")
    assert failure is not None and "API drift" in _failure_text(failure)


def test_a_secret_in_a_failure_is_scrubbed_from_terminal_and_junit(behaviour_run):
    result, nodeid, report_dir = behaviour_run
    assert f"FAILED {nodeid}::test_leaks_a_secret" in result.stdout
    assert "alice-access-secret" not in result.stdout + result.stderr
    assert "the token secret is <secret:user-token-secret>" in result.stdout
    assert "captured <secret:user-token-secret>" in result.stdout  # the captured output too
    junit = (report_dir / "junit.xml").read_text(encoding="utf-8")
    assert "alice-access-secret" not in junit
    failure = junit_cases(report_dir)["test_leaks_a_secret"].find("failure")
    assert "the token secret is <secret:user-token-secret>" in _failure_text(failure)
    for path in report_dir.iterdir():
        assert "alice-access-secret" not in path.read_text(encoding="utf-8"), path.name


def test_ledger_records_a_path_once_and_the_contracts_words_win():
    from contracts.harness.ledger import Ledger
    ledger = Ledger("ocss-run", "gw0")
    ledger.add("created", "seen by the harness", "/v2/services/google/abc")
    ledger.add("gdata", "named by the contract", "/v2/services/google/abc/")
    assert [(e.kind, e.name, e.path) for e in ledger.entries] == [("gdata", "named by the contract",
                                                                  "/v2/services/google/abc/")]
    ledger.forget("/v2/services/google/abc")
    assert ledger.cleanup(lambda entry: pytest.fail("deleted twice")) == []


def test_routes_know_what_a_run_must_clean_up():
    from ocss_testkit.routes import deletable
    assert deletable("/v2/services/google/0a42ada8-e836-11f1-854c-02fc00000001")
    assert deletable("/v2/clients/bindings/3/")
    assert not deletable("/v2/services/syncml/0a42ada8-e836-11f1-854c-02fc00000001/setup/143/")
    assert not deletable("/v2/clients/0a42ada8-e836-11f1-854c-02fc00000001/")  # 405 by design
