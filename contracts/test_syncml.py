"""SyncML clients: the SyncML API, routes D6–D15, and a setup at its own URL (I17).

003 shows one client's story in three examples: "Create a new client" answers
`3fe85584-…` as a Nokia 6233 (`model_uuid` as a UUID), and "List details for a specific
client" shows the same uuid with `model_uuid` `242`, its setup sent and the datastores
its first synchronization generated. Live contracts can only reach the first half (a
fresh client: no datastores, `<setup sent="" />`); the fake-only ones drive the simulated
phone through setup and a first sync to reach the second.
"""
from __future__ import annotations

import re

import pytest

from contracts.common import (
    ATOM,
    ATOM_TYPE,
    OC,
    OTHER_USERS,
    SYNCML_DOC,
    S,
    create_syncml,
    doc_request,
    entry_ids,
    syncml_body,
    text,
    xpath,
)
from contracts.harness.snapshots import parse

AUTHOR = ("entry/author/name", "entry/author/email")  # the account's: the docs' is admin's
ACCOUNT = (*AUTHOR, "user_id")  # the docs' account id is 1
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"  # 003's create example; `242` in its GET
UNKNOWN = "00000000-0000-0000-0000-000000000000"
MODELS = {"242": "Nokia 6233", NOKIA_6233_UUID: "Nokia 6233",  # docs/decisions.md, "Bodies of the inferred routes"
          "112": "Nokia 5310 XpressMusic", "56": "Nokia 5800 XpressMusic"}
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
PLAIN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
SETUP_ID = {r"/setup/\d+/$": "/setup/143/"}  # the setup's number counts on the account
SETUP_PROFILE = ("entry/setup",)  # "Mobile Backup" in 003: the account's profile name


def _refusal_number(contract) -> str:
    """A number for a request that must be refused: from Ofcom's London drama range, which
    no contract gives a client it keeps, unique per run and worker, so that "nothing was
    created" can be checked in a listing other workers change concurrently."""
    digits = contract.ledger.digits()
    return "+442079460" + digits[4] + digits[-2:]


def _listed_with_number(contract, number: str) -> list:
    reply = contract.api.get(S)
    assert reply.status_line == (200, "OK")
    return xpath(reply, f"/a:feed/a:entry[oc:client/oc:phone_number='{number}']")


def _client_xml(phone: str, model: str | None = NOKIA_6233_UUID, timezone: str | None = "Europe/Paris") -> bytes:
    parts = [f"<oc:phone_number>{phone}</oc:phone_number>"]
    if model is not None:
        parts.append(f"<oc:model_uuid>{model}</oc:model_uuid>")
    if timezone is not None:
        parts.append(f"<oc:timezone>{timezone}</oc:timezone>")
    return (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client>' + "".join(parts) + "</oc:client></entry>").encode()


def _check_fresh_entry(contract, entry, uuid: str, model: str, phone: str, timezone: str) -> None:
    """A client entry as 003's create answer shows one: before any setup or sync."""
    url = f"{contract.base_url}{S}{uuid}"
    assert text(entry, "a:id") == url
    assert text(entry, "a:link[@rel='self']/@href") == url
    assert text(entry, "a:link[@rel='alternate'][@type='text/html']/@href") == url
    assert text(entry, "a:content[@type='text/html']/@src") == url  # 003: "text/html", not 001's "html"
    assert ISO_Z.fullmatch(text(entry, "a:published") or "") and ISO_Z.fullmatch(text(entry, "a:updated") or "")
    assert text(entry, "a:title") == MODELS[model], "the title is the model's name"
    client = xpath(entry, "oc:client")
    assert len(client) == 1, "one oc:client in the SyncServer namespace"
    client = client[0]
    assert text(client, "oc:uuid") == uuid
    assert (text(client, "oc:user_id") or "").isdigit(), "user_id is the account's id"
    assert text(client, "oc:phone_number") == phone
    assert text(client, "oc:model_uuid") == model, "model_uuid is echoed as sent"
    (imei,) = xpath(client, "oc:imei")
    assert imei.text is None and len(imei) == 0, "003 shows <imei />"
    (setup,) = xpath(client, "oc:setup")
    assert dict(setup.attrib) == {"sent": ""} and not setup.text, '003 shows <setup sent="" /> before any setup'
    assert text(client, "oc:timezone") == timezone
    assert not xpath(client, "oc:datastore"), "datastores come with the first synchronization"


# --- D6 list ----------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Listing all clients", "D6")
@pytest.mark.read_only
def test_list_feed_as_documented(contract):
    """Read-only: whatever the account holds, the feed's head reads like 003's."""
    reply = contract.api.get(S, headers={"Accept": ATOM_TYPE})
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert reply.xml().tag == f"{{{ATOM}}}feed"
    assert text(reply, "/a:feed/a:id") == f"{contract.base_url}{S}"
    assert text(reply, "/a:feed/a:link[@rel='self']/@href") == f"{contract.base_url}{S}"
    assert text(reply, "/a:feed/a:title") == "SyncML Clients"
    for entry in xpath(reply, "/a:feed/a:entry"):
        assert text(entry, "a:id").startswith(f"{contract.base_url}{S}")
        assert xpath(entry, "oc:client/oc:uuid"), "every listed client carries oc:client/oc:uuid"
    contract.match("syncml-list", reply, keep=[], indices=[])


@pytest.mark.documented(SYNCML_DOC, "Listing all clients", "D6")
@pytest.mark.mutating
def test_list_shows_own_client(contract):
    reply, uuid, phone = create_syncml(contract, model="112", timezone="Europe/Oslo")
    user_id = text(reply, "/a:entry/oc:client/oc:user_id")
    listed = contract.api.get(S)
    assert listed.status_line == (200, "OK")
    assert listed.content_type == ATOM_TYPE
    assert f"{contract.base_url}{S}{uuid}" in entry_ids(listed)
    (entry,) = xpath(listed, f"/a:feed/a:entry[oc:client/oc:uuid='{uuid}']")
    _check_fresh_entry(contract, entry, uuid, "112", phone, "Europe/Oslo")
    assert text(entry, "oc:client/oc:user_id") == user_id
    # The feed's `updated` is the newest entry's (docs/decisions.md), so never older than ours
    assert text(listed, "/a:feed/a:updated") >= text(entry, "a:updated")


@pytest.mark.documented(SYNCML_DOC, "Listing all clients", "D6")
@pytest.mark.read_only
def test_list_needs_oauth(contract):
    reply = contract.anonymous.get(S)
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.documented(SYNCML_DOC, "Listing all clients", "D6")
@pytest.mark.mutating
def test_list_holds_no_other_users_clients(contract):
    _, uuid, _ = create_syncml(contract)
    theirs = contract.other.get(S)
    assert theirs.status_line == (200, "OK")
    assert f"{contract.base_url}{S}{uuid}" not in entry_ids(theirs), \
        "003: only the clients of the authenticated user are accessible"
    assert uuid.encode() not in theirs.body


@pytest.mark.documented(SYNCML_DOC, "Listing all clients", "D6")
@pytest.mark.side_effecting
@pytest.mark.fake_only("drives the simulated phone through setup and a first sync")
def test_list_entry_of_a_synced_client_reads_as_documented(contract, fake):
    """003's first listed entry is a Nokia 5310 (`112`) after setup and a first sync."""
    phone = "+447700900112"
    _, uuid, _ = create_syncml(contract, model="112", phone=phone, timezone="Europe/Oslo")
    _setup_and_first_sync(contract, fake, uuid, phone)
    reply = contract.api.get(S)
    assert reply.status_line == (200, "OK")
    (entry,) = xpath(reply, f"/a:feed/a:entry[oc:client/oc:uuid='{uuid}']")
    assert [(d.get("dataclass"), d.text) for d in xpath(entry, "oc:client/oc:datastore")] == \
        [("Calendar", "Calendar"), ("Contacts", "Contacts")]
    diffs = contract.match("syncml-list", reply, replace={phone: "+4790981948"}, fields=ACCOUNT,
                           keep=[uuid], indices=[0])
    assert not diffs, diffs


# --- D7 create --------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Create a new client", "D7")
@pytest.mark.mutating
def test_create_as_documented(contract):
    reply, uuid, phone = create_syncml(contract)  # 003's request, with the run's own number
    assert reply.content_type == ATOM_TYPE
    entry = reply.xml()
    assert entry.tag == f"{{{ATOM}}}entry"
    _check_fresh_entry(contract, entry, uuid, NOKIA_6233_UUID, phone, "Europe/Paris")
    assert not xpath(entry, "a:link[@rel='edit']"), "003's entries have no edit link"
    contract.match("syncml-create", reply, replace={phone: "+4798765432"}, fields=ACCOUNT)


@pytest.mark.documented(SYNCML_DOC, "Create a new client", "D7")
@pytest.mark.mutating
@pytest.mark.parametrize("model", ["242", "112", "56"])
def test_create_with_a_numeric_model_id_echoes_it(contract, model):
    """003's GET shows `242` where its create shows the 6233's UUID: both name a model,
    and `model_uuid` is echoed as sent (docs/decisions.md, "Bodies of the inferred routes")."""
    reply, uuid, phone = create_syncml(contract, model=model)
    _check_fresh_entry(contract, reply.xml(), uuid, model, phone, "Europe/Paris")
    got = contract.api.get(f"{S}{uuid}")
    assert got.status_line == (200, "OK")
    assert text(got, "/a:entry/oc:client/oc:model_uuid") == model
    assert text(got, "/a:entry/a:title") == MODELS[model]
    if model == "242":  # the same model as the recorded answer's UUID
        contract.match("syncml-create", reply, replace={phone: "+4798765432"}, fields=ACCOUNT,
                       regex={r"^242$": "<uuid:2>"})  # normalized, as the UUID reads


@pytest.mark.documented(SYNCML_DOC, "Create a new client", "D7")
@pytest.mark.mutating
def test_create_without_entry_is_refused(contract):
    reply = contract.api.post(S, b"", headers={"Content-Type": ATOM_TYPE})
    assert reply.status_line == (400, "No Entry provided")
    assert reply.body.strip(), "a refusal says why"


@pytest.mark.documented(SYNCML_DOC, "Create a new client", "D7")
@pytest.mark.mutating
@pytest.mark.parametrize("model,timezone,why", [
    ("999999", "Europe/Paris", "unknown model id"),
    ("12345678-1234-1234-1234-123456789abc", "Europe/Paris", "unknown model uuid"),
    (NOKIA_6233_UUID, "Mars/Olympus", "unknown timezone"),
    (NOKIA_6233_UUID, 'Europe/Oslo"', "the docs' typo is no timezone (docs/decisions.md)"),
    (None, "Europe/Paris", "no model"),
], ids=["model-id", "model-uuid", "timezone", "doc-typo-timezone", "no-model"])
def test_create_refusals_create_nothing(contract, model, timezone, why):
    number = _refusal_number(contract)
    reply = contract.api.post(S, _client_xml(number, model, timezone))
    if reply.status in (200, 201):  # it should not have; let the ledger remove it
        contract.created("syncml", number, f"{S}{reply.xml().findtext(f'{{{OC}}}client/{{{OC}}}uuid')}")
    assert reply.status == 400, f"{why}: {reply.status} {reply.reason}"
    assert reply.reason and reply.body.strip(), "a refusal says why"
    assert reply.status != 500
    assert _listed_with_number(contract, number) == [], f"{why}: a refused request created a client"


@pytest.mark.documented(SYNCML_DOC, "Create a new client", "D7")
@pytest.mark.mutating
def test_create_without_a_phone_number_is_refused(contract):
    before = contract.api.get(S)
    body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:model_uuid>242</oc:model_uuid>' \
           f"<oc:timezone>Europe/Paris</oc:timezone></oc:client></entry>"
    reply = contract.api.post(S, body)
    if reply.status in (200, 201):
        contract.created("syncml", "(no number)", f"{S}{reply.xml().findtext(f'{{{OC}}}client/{{{OC}}}uuid')}")
    assert reply.status == 400, f"{reply.status} {reply.reason}"
    without_number = "/a:feed/a:entry[not(oc:client/oc:phone_number/text())]/a:id"
    known = {e.text for e in xpath(before, without_number)}
    assert not [e.text for e in xpath(contract.api.get(S), without_number) if e.text not in known], \
        "a client without a number was created"


@pytest.mark.documented(SYNCML_DOC, "Create a new client", "D7")
@pytest.mark.mutating
def test_create_needs_oauth(contract):
    number = _refusal_number(contract)
    reply = contract.anonymous.post(S, syncml_body(number, NOKIA_6233_UUID))
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")
    assert _listed_with_number(contract, number) == []


# --- D8 get -----------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "List details for a specific client", "D8")
@pytest.mark.mutating
@pytest.mark.parametrize("slash", ["", "/"], ids=["as-documented", "trailing-slash"])
def test_get_own_client(contract, slash):
    created, uuid, phone = create_syncml(contract, model="242", timezone="Europe/Oslo")
    reply = contract.api.get(f"{S}{uuid}{slash}", headers={"Accept": ATOM_TYPE})
    assert reply.status_line == (200, "OK")  # never a redirect: it would break the OAuth signature
    assert reply.content_type == ATOM_TYPE
    entry = reply.xml()
    assert entry.tag == f"{{{ATOM}}}entry"
    _check_fresh_entry(contract, entry, uuid, "242", phone, "Europe/Oslo")
    for path in ("a:published", "oc:client/oc:user_id", "a:author/a:name"):
        assert text(entry, path) == text(created, f"/a:entry/{path}"), f"GET and create disagree on {path}"


@pytest.mark.documented(SYNCML_DOC, "List details for a specific client", "D8")
@pytest.mark.mutating
def test_get_of_another_users_client_is_forbidden(contract):
    _, uuid, phone = create_syncml(contract)
    reply = contract.other.get(f"{S}{uuid}")
    assert reply.status_line == (403, "Forbidden")
    assert phone.encode() not in reply.body, "a refusal leaks the other user's client"


@pytest.mark.documented(SYNCML_DOC, "List details for a specific client", "D8")
@pytest.mark.read_only
def test_get_of_an_unknown_client(contract):
    reply = contract.api.get(f"{S}{UNKNOWN}")
    assert reply.status == 404


@pytest.mark.documented(SYNCML_DOC, "List details for a specific client", "D8")
@pytest.mark.read_only
def test_get_needs_oauth(contract):
    reply = contract.anonymous.get(f"{S}{UNKNOWN}")
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


def _setup_and_first_sync(contract, fake, uuid: str, phone: str) -> str:
    """Setup accepted, a server alert accepted: the phone's first SyncML session ran.
    Returns the setup's profile name."""
    setup = contract.api.post(f"{S}{uuid}/setup/", doc_request("syncml-setup"))
    assert setup.status_line == (201, "Created"), setup.text[:300]
    fake.phone(phone).accept_setup()
    sync = contract.api.post(f"{S}{uuid}/sync/")
    assert sync.status_line == (200, "Ok"), sync.text[:300]
    session = fake.phone(phone).accept_sync()
    assert session.outcome == "ok", session.reason
    return text(setup, "/a:entry/oc:setup")


@pytest.mark.documented(SYNCML_DOC, "List details for a specific client", "D8")
@pytest.mark.side_effecting
@pytest.mark.fake_only("drives the simulated phone through setup and a first sync")
def test_get_of_a_synced_client_reads_as_documented(contract, fake):
    """003's GET shows its create example's client (same uuid) after setup and the first
    sync: setup sent as `YYYY-MM-DD HH:MM:SS`, the datastores the phone reported."""
    phone = "+447700900242"
    _, uuid, _ = create_syncml(contract, model="242", phone=phone, timezone="Europe/Oslo")
    profile = _setup_and_first_sync(contract, fake, uuid, phone)
    reply = contract.api.get(f"{S}{uuid}")
    assert reply.status_line == (200, "OK")
    (setup,) = xpath(reply, "/a:entry/oc:client/oc:setup")
    assert PLAIN.fullmatch(setup.get("sent")) and setup.text == profile
    datastores = xpath(reply, "/a:entry/oc:client/oc:datastore")
    for d in datastores:
        assert d.get("href") == f"{contract.base_url}{S}datastores/{d.get('dataclass')}"
    assert [(d.get("dataclass"), d.text) for d in datastores] == \
        [("Calendar", "Calendar"), ("Contacts", "Contacts"), ("Calendar", "cal.vcs")]
    diffs = contract.match("syncml-get", reply, replace={phone: "+4790066951"}, fields=ACCOUNT)
    assert not diffs, diffs


# --- D9 delete --------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Delete a client", "D9")
@pytest.mark.mutating
def test_delete(contract):
    _, uuid, _ = create_syncml(contract)
    reply = contract.api.delete(f"{S}{uuid}", headers={"Content-Type": ATOM_TYPE, "Accept": ATOM_TYPE})
    assert reply.status_line == (200, "OK")
    assert reply.body == b""
    contract.deleted(f"{S}{uuid}")
    assert contract.api.get(f"{S}{uuid}").status == 404
    assert f"{contract.base_url}{S}{uuid}" not in entry_ids(contract.api.get(S))
    contract.match("syncml-delete", reply)


@pytest.mark.documented(SYNCML_DOC, "Delete a client", "D9")
@pytest.mark.mutating
def test_delete_refusals(contract):
    created, uuid, _ = create_syncml(contract)
    assert contract.other.delete(f"{S}{uuid}").status_line == (403, "Forbidden")
    assert contract.api.delete(f"{S}{UNKNOWN}").status == 404
    assert contract.anonymous.delete(f"{S}{uuid}").status == 401
    after = contract.api.get(f"{S}{uuid}")
    assert after.status_line == (200, "OK"), "a refused delete removed the client"
    assert text(after, "/a:entry/oc:client/oc:phone_number") == text(created, "/a:entry/oc:client/oc:phone_number")


# --- D10 setup --------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Setup and Phone Configuration", "D10")
@pytest.mark.side_effecting
def test_setup_as_documented(contract):
    _, uuid, _ = create_syncml(contract, phone=contract.test_phone)
    reply = contract.api.post(f"{S}{uuid}/setup/", doc_request("syncml-setup"))
    assert reply.status_line == (201, "Created")
    assert reply.content_type == ATOM_TYPE
    entry = reply.xml()
    assert entry.tag == f"{{{ATOM}}}entry"
    assert [child.tag for child in entry] == [f"{{{ATOM}}}id", f"{{{OC}}}pincode", f"{{{OC}}}setup"]
    assert re.fullmatch(re.escape(f"{contract.base_url}{S}{uuid}/setup/") + r"\d+/", text(entry, "a:id"))
    assert text(entry, "oc:pincode") == "1234"
    (setup,) = xpath(entry, "oc:setup")
    assert ISO_Z.fullmatch(setup.get("sent") or ""), "setup sent is ISO-8601 with Z in the setup answer"
    assert setup.text, "the setup names the account's sync profile"
    contract.match("syncml-setup", reply, regex=SETUP_ID, fields=SETUP_PROFILE)
    # …and `YYYY-MM-DD HH:MM:SS` inside the client entry (docs/decisions.md, "Where the docs disagree")
    client = contract.api.get(f"{S}{uuid}")
    (shown,) = xpath(client, "/a:entry/oc:client/oc:setup")
    assert shown.get("sent") == setup.get("sent")[:19].replace("T", " ")
    assert shown.text == setup.text


@pytest.mark.documented(SYNCML_DOC, "Setup and Phone Configuration", "D10")
@pytest.mark.side_effecting
def test_setup_numbers_are_new_per_setup(contract):
    _, uuid, _ = create_syncml(contract, phone=contract.test_phone)
    ids = []
    for pin in ("1111", "22222"):
        reply = contract.api.post(f"{S}{uuid}/setup/", doc_request("syncml-setup", {"1234": pin}))
        assert reply.status_line == (201, "Created")
        assert text(reply, "/a:entry/oc:pincode") == pin
        ids.append(text(reply, "/a:entry/a:id"))
    assert ids[0] != ids[1], "each setup is a new resource"


@pytest.mark.documented(SYNCML_DOC, "Setup and Phone Configuration", "D10")
@pytest.mark.side_effecting
def test_setup_refusals(contract):
    """None of these reaches the phone, and the client still shows no setup sent."""
    _, uuid, _ = create_syncml(contract, phone=contract.test_phone)
    assert contract.api.post(f"{S}{uuid}/setup/", b"", headers={"Content-Type": ATOM_TYPE}).status_line == \
        (400, "No Entry provided")
    assert contract.api.post(f"{S}{uuid}/setup/", f'<entry xmlns="{ATOM}"/>').status == 400  # no pincode
    assert contract.other.post(f"{S}{uuid}/setup/", doc_request("syncml-setup")).status_line == (403, "Forbidden")
    assert contract.api.post(f"{S}{UNKNOWN}/setup/", doc_request("syncml-setup")).status == 404
    assert contract.anonymous.post(f"{S}{uuid}/setup/", doc_request("syncml-setup")).status == 401
    after = contract.api.get(f"{S}{uuid}")
    assert after.status_line == (200, "OK")
    (setup,) = xpath(after, "/a:entry/oc:client/oc:setup")
    assert setup.get("sent") == "" and not setup.text, "a refused setup was recorded as sent"


@pytest.mark.documented(SYNCML_DOC, "Setup and Phone Configuration", "D10")
@pytest.mark.side_effecting
@pytest.mark.fake_only("reads the outbox: the setup SMS the phone would get")
def test_setup_sends_the_settings_with_the_pincode(contract, fake):
    phone = "+447700900010"
    _, uuid, _ = create_syncml(contract, phone=phone)
    assert fake.outbox.messages(to=phone) == []
    reply = contract.api.post(f"{S}{uuid}/setup/", doc_request("syncml-setup", {"1234": "8642"}))
    assert reply.status_line == (201, "Created")
    (sms,) = fake.outbox.messages(to=phone)
    assert sms.kind == "setup-sms" and sms.client == uuid
    assert "8642" in sms.body
    assert text(reply, "/a:entry/oc:setup/@sent") == sms.time.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- I17 a setup at its own URL -----------------------------------------------------------------
SETUP_AT_ITS_ID = (f"{SYNCML_DOC}, 'Setup and Phone Configuration': the answer's id is a URL; "
                   "Google Data Client API, 'XML Object description': \"ATOM id is the URL to the element\"")


def _posted_setup(contract, uuid: str) -> tuple:
    """POST the docs' setup request; the answer and the path of the setup's id."""
    posted = contract.api.post(f"{S}{uuid}/setup/", doc_request("syncml-setup"))
    assert posted.status_line == (201, "Created"), posted.text[:300]
    found = re.fullmatch(re.escape(contract.base_url) + r"(/.+/setup/\d+/)", text(posted, "/a:entry/a:id"))
    assert found, text(posted, "/a:entry/a:id")
    return posted, found.group(1)


def _children(reply) -> list:
    return [(child.tag, child.text, dict(child.attrib)) for child in reply.xml()]


@pytest.mark.inferred("I17", basis=SETUP_AT_ITS_ID)
@pytest.mark.side_effecting
def test_a_setup_answers_at_its_id(contract):
    _, uuid, _ = create_syncml(contract, phone=contract.test_phone)
    posted, path = _posted_setup(contract, uuid)
    reply = contract.api.get(path)
    contract.match("syncml-setup-get", reply, regex=SETUP_ID, fields=SETUP_PROFILE)
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert _children(reply) == _children(posted), "GET of the id answers the entry the POST answered"
    assert contract.api.get(path.rstrip("/")).status_line == (200, "OK"), "item URLs answer without the slash"


@pytest.mark.inferred("I17", basis=f"{SETUP_AT_ITS_ID}; {OTHER_USERS}")
@pytest.mark.side_effecting
def test_a_setup_at_its_id_refusals(contract):
    _, uuid, _ = create_syncml(contract, phone=contract.test_phone)
    _, other_uuid, _ = create_syncml(contract)  # a second client of the same user: no setup sent to it
    _, path = _posted_setup(contract, uuid)
    number = path.rstrip("/").rsplit("/", 1)[-1]
    assert contract.anonymous.get(path).status == 401
    assert contract.other.get(path).status_line == (403, "Forbidden")
    assert contract.api.get(f"{S}{UNKNOWN}/setup/{number}/").status == 404
    assert contract.api.get(f"{S}{other_uuid}/setup/{number}/").status == 404, "a setup belongs to its client"
    assert contract.api.get(f"{S}{uuid}/setup/first/").status == 404


# --- D11 server-initiated sync ----------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Server Initiated Synchronization", "D11")
@pytest.mark.side_effecting
def test_sync_as_documented(contract):
    _, uuid, _ = create_syncml(contract, model="242", phone=contract.test_phone)
    reply = contract.api.post(f"{S}{uuid}/sync/", headers={"Content-Type": ATOM_TYPE, "Content-Length": "0"})
    assert reply.status_line == (200, "Ok")  # 003 writes "Ok"
    assert reply.headers.get("Content-Length") == "0"
    assert reply.body == b"", "003: no content is returned"
    assert reply.content_type == ATOM_TYPE
    contract.match("syncml-sync", reply)


def _model_without_server_alert(contract) -> str | None:
    """A model the phones database says cannot take a server alert (I3's `oc:server_alert`)."""
    reply = contract.anonymous.get("/v2/phones/models/")
    if reply.status != 200:
        return None
    found = xpath(reply, "/a:feed/a:entry/oc:model[oc:server_alert='false']/oc:id")
    return found[0].text if found else None


@pytest.mark.documented(SYNCML_DOC, "Server Initiated Synchronization", "D11")
@pytest.mark.side_effecting
def test_sync_on_a_model_without_server_initiated_sync_is_refused(contract):
    model = _model_without_server_alert(contract)
    if model is None:
        assert not contract.on_fake, "the fake's phones database lists models without server alert"
        pytest.skip("the target's phones database names no model without server-initiated sync")
    reply, uuid, _ = create_syncml(contract, model=model, phone=contract.test_phone)
    name = text(reply, "/a:entry/a:title")
    sync = contract.api.post(f"{S}{uuid}/sync/")
    assert sync.status_line == (400, "Server initiated sync not supported")
    assert name in sync.text, "the refusal names the model"


@pytest.mark.documented(SYNCML_DOC, "Server Initiated Synchronization", "D11")
@pytest.mark.side_effecting
def test_sync_refusals(contract):
    _, uuid, _ = create_syncml(contract, model="242", phone=contract.test_phone)
    assert contract.other.post(f"{S}{uuid}/sync/").status_line == (403, "Forbidden")
    assert contract.api.post(f"{S}{UNKNOWN}/sync/").status == 404
    assert contract.anonymous.post(f"{S}{uuid}/sync/").status == 401


@pytest.mark.documented(SYNCML_DOC, "Server Initiated Synchronization", "D11")
@pytest.mark.side_effecting
@pytest.mark.fake_only("reads the outbox: the server alert pushed to the phone")
def test_sync_pushes_a_server_alert_only_when_supported(contract, fake):
    phone, other_phone = "+447700900011", "+447700900012"
    _, uuid, _ = create_syncml(contract, model="242", phone=phone)
    assert contract.api.post(f"{S}{uuid}/sync/").status_line == (200, "Ok")
    (alert,) = fake.outbox.messages(to=phone)
    assert alert.kind == "server-alert" and alert.client == uuid
    _, refused, _ = create_syncml(contract, model="401", phone=other_phone)  # Samsung SGH-E250: no alerts
    assert contract.api.post(f"{S}{refused}/sync/").status_line == (400, "Server initiated sync not supported")
    assert fake.outbox.messages(to=other_phone) == [], "a refused sync reached the phone"


# --- D12 sessions -----------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Session API", "D12")
@pytest.mark.read_only
def test_sessions_feed(contract):
    reply = contract.api.get(f"{S}sessions/")
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert reply.xml().tag == f"{{{ATOM}}}feed"
    url = f"{contract.base_url}{S}sessions/"
    assert text(reply, "/a:feed/a:id") == url
    assert text(reply, "/a:feed/a:link[@rel='self']/@href") == url
    for entry in xpath(reply, "/a:feed/a:entry"):
        assert text(entry, "a:id").startswith(url)


@pytest.mark.documented(SYNCML_DOC, "Session API", "D12")
@pytest.mark.read_only
def test_sessions_need_oauth(contract):
    reply = contract.anonymous.get(f"{S}sessions/")
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.documented(SYNCML_DOC, "Session API", "D12")
@pytest.mark.side_effecting
@pytest.mark.fake_only("drives the simulated phone through setup and a first sync")
def test_sessions_list_the_phones_first_sync(contract, fake):
    phone = "+447700900013"
    _, uuid, _ = create_syncml(contract, model="242", phone=phone)
    assert xpath(contract.api.get(f"{S}sessions/"), "/a:feed/a:entry") == []
    _setup_and_first_sync(contract, fake, uuid, phone)
    reply = contract.api.get(f"{S}sessions/")
    assert reply.status_line == (200, "OK")
    (entry,) = xpath(reply, "/a:feed/a:entry")
    session_id = text(entry, "oc:session/oc:id")
    assert text(entry, "a:id") == f"{contract.base_url}{S}sessions/{session_id}/"
    assert text(entry, "oc:session/oc:client") == uuid
    assert text(entry, "a:link[@rel='related']/@href") == f"{contract.base_url}{S}{uuid}"
    assert text(entry, "oc:session/oc:outcome") == "ok"
    assert text(reply, "/a:feed/a:updated") == text(entry, "a:updated")
    # 003: "These datastores are generated on the first synchronization of the phone"
    assert xpath(contract.api.get(f"{S}{uuid}"), "/a:entry/oc:client/oc:datastore")
    # …and the session is the user's own
    assert xpath(contract.other.get(f"{S}sessions/"), "/a:feed/a:entry") == []


# --- D13 chatlog ------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Chatlog", "D13")
@pytest.mark.read_only
def test_chatlog_is_forbidden_to_non_administrators(contract):
    reply = contract.api.get(f"{S}sessions/chatlog/")
    assert reply.status_line == (403, "Forbidden")
    assert b"<content" not in reply.body, "the refusal shows SyncML data"


@pytest.mark.documented(SYNCML_DOC, "Chatlog", "D13")
@pytest.mark.side_effecting
@pytest.mark.fake_only("needs the demo world's administrator and a session run by the simulated phone")
def test_chatlog_is_for_administrators(contract, fake):
    phone = "+447700900014"
    _, uuid, _ = create_syncml(contract, model="242", phone=phone)
    _setup_and_first_sync(contract, fake, uuid, phone)
    session_id = text(contract.api.get(f"{S}sessions/"), "/a:feed/a:entry/oc:session/oc:id")
    for path in ("sessions/chatlog/", f"sessions/{session_id}/chatlog/"):
        assert contract.api.get(S + path).status_line == (403, "Forbidden"), "only administrators (003)"
        assert contract.other.get(S + path).status_line == (403, "Forbidden")
    admin = fake.client("admin")
    for path in ("sessions/chatlog/", f"sessions/{session_id}/chatlog/"):
        reply = admin.get(S + path)
        assert (reply.status, reply.reason) == (200, "OK"), reply.text[:300]
        assert reply.headers.get("Content-Type") == ATOM_TYPE
        feed = parse(reply.body, reply.headers.get("Content-Type"))
        assert feed.tag == f"{{{ATOM}}}feed"
        assert text(feed, "/a:feed/a:id") == f"{admin.base}{S}{path}"
        entries = xpath(feed, "/a:feed/a:entry")
        assert entries, "the session's SyncML messages are shown"
        for entry in entries:
            assert text(entry, "oc:session_id") == session_id
            assert "SyncML" in (text(entry, "a:content") or ""), "the actual SyncML XML exchanged (003)"


# --- D14 datastores ---------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "Datastore API", "D14")
@pytest.mark.read_only
@pytest.mark.parametrize("slash", ["/", ""], ids=["as-documented", "no-slash"])
def test_datastores_are_not_implemented_yet(contract, slash):
    reply = contract.api.get(f"{S}datastores{slash}")
    assert reply.status_line == (501, "Not implemented yet")


# --- D15 no PUT -------------------------------------------------------------------------------
@pytest.mark.documented(SYNCML_DOC, "SyncML Client API", "D15")
@pytest.mark.mutating
@pytest.mark.parametrize("slash", ["", "/"], ids=["as-documented", "trailing-slash"])
def test_put_is_not_allowed_by_design(contract, slash):
    _, uuid, phone = create_syncml(contract, model="242")
    before = contract.api.get(f"{S}{uuid}").body
    reply = contract.api.put(f"{S}{uuid}{slash}", syncml_body(phone, "56", "Europe/Oslo"))
    assert reply.status_line == (405, "Method Not Allowed")
    allowed = {m.strip() for m in reply.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed, "a 405 names the methods allowed"
    assert "PUT" not in allowed and {"GET", "DELETE"} <= allowed
    assert contract.api.get(f"{S}{uuid}").body == before, "a refused PUT changed the client"
