"""Google Data clients: the Google Data Client API, routes D1–D5."""
from __future__ import annotations

import pytest

from contracts.common import (
    ATOM_TYPE,
    GDATA_DOC,
    G,
    GData,
    create_gdata,
    doc_request,
    entry_ids,
    foreign_entries,
    text,
    uuid_of,
    xpath,
)

AUTHOR = ("entry/author/name", "entry/author/email")  # the account's: the docs' is admin's


@pytest.mark.documented(GDATA_DOC, "List all clients", "D1")
@pytest.mark.mutating
def test_list_shows_own_clients_without_token_secrets(contract):
    values = GData(contract)
    _, uuid, _ = create_gdata(contract, values, values.listed_body())
    reply = contract.api.get(G)
    contract.match("gdata-list", reply, replace=values.replace, fields=AUTHOR, keep=[uuid])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    ids = entry_ids(reply)
    assert f"{contract.base_url}{G}{uuid}" in ids
    # 001: key and secret are "not revealed when listing"
    mine = xpath(reply, f"/a:feed/a:entry[oc:client/oc:uuid='{uuid}']//oc:token")
    assert mine, "the listed client lost its token"
    for token in mine:
        revealed = [child.tag.split("}")[1] for child in token if child.tag.split("}")[1] in ("key", "secret")]
        assert not revealed, f"the listing reveals the token's {', '.join(revealed)}"
    assert text(reply, "/a:feed/a:id") == f"{contract.base_url}{G}all.xml"


@pytest.mark.documented(GDATA_DOC, "List all clients", "D1")
@pytest.mark.read_only
def test_list_feed_as_documented(contract):
    """Read-only: whatever the account holds, the feed reads like 001's and hides secrets."""
    reply = contract.api.get(G)
    contract.match("gdata-list", reply, keep=[], indices=[])
    assert reply.status_line == (200, "OK")
    assert not xpath(reply, "//oc:token/oc:key | //oc:token/oc:secret"), "the listing reveals token secrets"


@pytest.mark.documented(GDATA_DOC, "List all clients", "D1")
@pytest.mark.read_only
def test_list_needs_oauth(contract):
    reply = contract.anonymous.get(G)
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.documented(GDATA_DOC, "Add a new client", "D2")
@pytest.mark.mutating
def test_create_echoes_the_token_as_sent(contract):
    values = GData(contract)
    reply = contract.api.post(G, doc_request("gdata-create", values.substitute))
    if reply.status < 300:
        uuid = uuid_of(reply)
        contract.created("gdata", values.user_id, f"{G}{uuid}/")
    contract.match("gdata-create", reply, replace=values.replace, fields=AUTHOR)
    assert reply.status_line == (201, "Created")
    assert reply.content_type == ATOM_TYPE
    assert text(reply, "/a:entry/a:title") == values.user_id
    assert text(reply, "//oc:token/oc:key") == values.key  # 001 shows the 201 echoing them
    assert text(reply, "//oc:token/oc:secret") == values.secret
    assert text(reply, "/a:entry/a:link[@rel='edit']/@href") == f"{contract.base_url}{G}{uuid}/edit"


@pytest.mark.documented(GDATA_DOC, "Add a new client", "D2")
@pytest.mark.mutating
def test_create_without_entry_is_refused(contract):
    before = foreign_entries(contract.api.get(G), contract.run_id)
    reply = contract.api.post(G, b"", headers={"Content-Type": ATOM_TYPE})
    assert reply.status_line == (400, "No Entry provided")
    assert foreign_entries(contract.api.get(G), contract.run_id) == before


@pytest.mark.documented(GDATA_DOC, "Add a new client", "D2")
@pytest.mark.mutating
def test_second_registration_of_a_user_is_refused(contract):
    _, _, values = create_gdata(contract)
    reply = contract.api.post(G, doc_request("gdata-create", values.substitute))
    assert reply.status_line == (400, "Google client already registered")


@pytest.mark.documented(GDATA_DOC, "Get details for specific client", "D3")
@pytest.mark.mutating
def test_get_shows_type_and_scopes_only(contract):
    values = GData(contract)
    _, uuid, _ = create_gdata(contract, values, values.listed_body())
    reply = contract.api.get(f"{G}{uuid}/")
    contract.match("gdata-get", reply, replace=values.replace, fields=AUTHOR)
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
    assert not xpath(reply, "//oc:token/oc:key | //oc:token/oc:secret"), "GET reveals the token's key or secret"
    assert xpath(reply, "//oc:token/oc:type | //oc:token/oc:token_type")


@pytest.mark.documented(GDATA_DOC, "Get details for specific client", "D3")
@pytest.mark.mutating
def test_get_of_another_users_client_is_forbidden(contract):
    _, uuid, _ = create_gdata(contract)
    reply = contract.other.get(f"{G}{uuid}/")
    assert reply.status == 403


@pytest.mark.documented(GDATA_DOC, "Get details for specific client", "D3")
@pytest.mark.read_only
def test_get_of_an_unknown_client(contract):
    reply = contract.api.get(f"{G}00000000-0000-0000-0000-000000000000/")
    assert reply.status_line == (404, "No such Google client.")


def _gdata_as_the_update_example_implies(contract):
    """001's update answer shows the client it changed holding a Calendar datastore at
    `…#Test`: create exactly that first."""
    values = GData(contract)
    body = doc_request("gdata-create", {**values.substitute,
                                        "some_user@gmail.com/calendar#Test": "some_user@gmail.com#Test"})
    body = body.replace(b"some_user@gmail.com", values.user_id.encode())
    return create_gdata(contract, values, body)


@pytest.mark.documented(GDATA_DOC, "Update a client", "D4")
@pytest.mark.mutating
def test_update_adds_datastores(contract):
    _, uuid, values = _gdata_as_the_update_example_implies(contract)
    reply = contract.api.put(f"{G}{uuid}/", doc_request("gdata-update", values.substitute))
    contract.match("gdata-update", reply, replace=values.replace, fields=AUTHOR)
    assert reply.status_line == (200, "Updated")
    names = [d.text for d in xpath(reply, "//oc:datastore")]
    assert names == ["Calendar", "Contacts"], "an update merges datastores, it does not replace them"


@pytest.mark.documented(GDATA_DOC, "Update a client", "D4")
@pytest.mark.mutating
def test_update_through_the_collection_url_names_the_client(contract):
    _, uuid, values = create_gdata(contract)
    body = doc_request("gdata-update", values.substitute).replace(
        b"<oc:user_id>", f"<oc:uuid>{uuid}</oc:uuid><oc:user_id>".encode())
    reply = contract.api.put(G, body)
    assert reply.status_line == (200, "Updated")
    assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid


@pytest.mark.documented(GDATA_DOC, "Update a client", "D4")
@pytest.mark.mutating
def test_update_refusals(contract):
    _, uuid, values = create_gdata(contract)
    before = contract.api.get(f"{G}{uuid}/").body
    assert contract.api.put(G, doc_request("gdata-update", values.substitute)).status_line == \
        (400, "No client ID provided")
    assert contract.api.put(f"{G}{uuid}/", b"", headers={"Content-Type": ATOM_TYPE}).status_line == \
        (400, "No Entry provided")
    assert contract.other.put(f"{G}{uuid}/", doc_request("gdata-update", values.substitute)).status == 403
    assert contract.api.put(f"{G}00000000-0000-0000-0000-000000000000/",
                            doc_request("gdata-update", values.substitute)).status_line == (404, "No such client ID")
    assert contract.api.get(f"{G}{uuid}/").body == before


@pytest.mark.documented(GDATA_DOC, "Delete a client", "D5")
@pytest.mark.mutating
def test_delete(contract):
    _, uuid, _ = create_gdata(contract)
    reply = contract.api.delete(f"{G}{uuid}/")
    contract.match("gdata-delete", reply)
    assert reply.status_line == (200, "Deleted")
    assert reply.body == b""
    contract.deleted(f"{G}{uuid}/")
    assert contract.api.get(f"{G}{uuid}/").status == 404


@pytest.mark.documented(GDATA_DOC, "Delete a client", "D5")
@pytest.mark.mutating
def test_delete_refusals(contract):
    _, uuid, _ = create_gdata(contract)
    assert contract.api.delete(G).status_line == (400, "No client ID provided")
    assert contract.other.delete(f"{G}{uuid}/").status == 403
    assert contract.api.delete(f"{G}00000000-0000-0000-0000-000000000000/").status == 404
    assert contract.api.get(f"{G}{uuid}/").status == 200
