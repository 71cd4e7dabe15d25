"""Clients of every kind, bindings, ActiveSync and datastore clients: routes I9–I13.

Inferred from the SyncServer API Python interface ("Clients", "Bindings", "ActiveSync",
"Datastore"), which documents the library's operations but not their URLs or bodies; the
bodies follow docs/decisions.md, "Bodies of the inferred routes". No recording of the real service exists for these
routes: every `contract.match` key here reads "unrecorded" until a live run records it.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

import pytest

from contracts.common import (
    ATOM,
    ATOM_TYPE,
    DECISIONS,
    LIBRARY_DOC,
    OC,
    OTHER_USERS,
    G,
    GData,
    S,
    create_gdata,
    create_syncml,
    foreign_entries,
    text,
    uuid_of,
    xpath,
)

C = "/v2/clients/"
B = "/v2/clients/bindings/"
AS = "/v2/services/activesync/"
DS = "/v2/services/datastore/"
KIND_PATH = {"syncml": S, "gdata": G, "activesync": AS, "datastore": DS}
KIND_SCHEME = OC + "#kind"
UNKNOWN = "00000000-0000-0000-0000-000000000000"
AUTHOR = ("entry/author/name", "entry/author/email", "client/user_id")  # the account's own values
BINDING_ID = {r"/bindings/\d+": "/bindings/<id>"}


# --- helpers shared with test_contents.py ----------------------------------------------------
def entry(inner: str) -> bytes:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">{inner}</entry>'.encode()


def client_body(**fields: str) -> bytes:
    return entry("<oc:client>" + "".join(f"<oc:{k}>{escape(v)}</oc:{k}>" for k, v in fields.items())
                 + "</oc:client>")


def same_url(found: str | None, expected: str) -> bool:
    """Inferred item URLs: with or without the trailing slash (docs/decisions.md, "Liberal
    where the docs show variants")."""
    return found is not None and found.rstrip("/") == expected.rstrip("/")


def create_datastore(contract, role: str = "user", name: str | None = None):
    """A run-owned datastore client (000 "Datastore"), in the ledger."""
    name = name or contract.name("datastore")
    reply = contract.api_of(role).post(DS, client_body(name=name))
    assert reply.status_line == (201, "Created"), reply.text[:300]
    uuid = uuid_of(reply)
    contract.created("datastore", name, f"{DS}{uuid}/", role)
    return reply, uuid, name


def create_activesync(contract, password: str, username: str | None = None, role: str = "user"):
    """A run-owned ActiveSync client (000 "ActiveSync"), in the ledger."""
    username = username or contract.name("activesync")
    reply = contract.api_of(role).post(AS, client_body(username=username, password=password))
    assert reply.status_line == (201, "Created"), reply.text[:300]
    uuid = uuid_of(reply)
    contract.created("activesync", username, f"{AS}{uuid}/", role)
    return reply, uuid, username


def binding_body(source: str | None, target: str | None, dominant: str | None = None) -> bytes:
    parts = "".join(f"<oc:{k}>{v}</oc:{k}>" for k, v in (("source", source), ("target", target),
                                                         ("dominant", dominant)) if v is not None)
    return entry(f"<oc:binding>{parts}</oc:binding>")


def binding_of(reply_or_root) -> dict:
    found = xpath(reply_or_root, "oc:binding") if not hasattr(reply_or_root, "xml") else \
        xpath(reply_or_root, "/a:entry/oc:binding")
    assert len(found) == 1, "an entry carries exactly one oc:binding"
    return {child.tag.split("}")[1]: child.text for child in found[0]}


def create_binding(contract, source: str, target: str, dominant: str | None = None):
    """POST a binding (000 "Bindings": new(source, target)); recorded in the ledger after its
    clients, so the run deletes it before them."""
    reply = contract.api.post(B, binding_body(source, target, dominant))
    assert reply.status_line == (201, "Created"), reply.text[:300]
    binding = binding_of(reply)
    assert re.fullmatch(r"[1-9][0-9]*", binding.get("id") or ""), f"binding ids are integers: {binding}"
    contract.created("binding", f"{source} -> {target}", f"{B}{binding['id']}/")
    return reply, binding


def bindings_naming(contract, *uuids: str) -> list[dict]:
    """The user's bindings that name any of these clients."""
    reply = contract.api.get(B)
    assert reply.status_line == (200, "OK")
    found = [binding_of(e) for e in xpath(reply, "/a:feed/a:entry")]
    return [b for b in found if b.get("source") in uuids or b.get("target") in uuids]


def no_password(reply, *passwords: str) -> None:
    """000: old_pass and password "are not automatically populated": never shown."""
    for password in passwords:
        assert password.encode() not in reply.body, f"{reply!r} echoes a password"
    if reply.body.lstrip().startswith(b"<"):
        assert not xpath(reply, "//oc:password | //oc:old_pass"), f"{reply!r} shows a password element"


# === I9: /v2/clients/ ========================================================================
def _one_of_each_kind(contract) -> dict[str, tuple[str, dict]]:
    """{kind: (uuid, replace)}: one run-owned client of every kind, through each kind's API."""
    out = {}
    _, uuid, phone = create_syncml(contract)
    out["syncml"] = (uuid, {phone: "+4798765432"})
    values = GData(contract)
    _, uuid, _ = create_gdata(contract, values)
    out["gdata"] = (uuid, values.replace)
    _, uuid, username = create_activesync(contract, contract.secret("activesync-password"))
    out["activesync"] = (uuid, {username: "activesync-user"})
    _, uuid, name = create_datastore(contract)
    out["datastore"] = (uuid, {name: "datastore-name"})
    return out


def _kind_of(entry_element) -> str | None:
    categories = entry_element.xpath("a:category[@scheme=$s]", namespaces={"a": ATOM}, s=KIND_SCHEME)
    assert len(categories) == 1, "every entry of /v2/clients/ says its kind, once"
    return categories[0].get("term")


@pytest.mark.inferred("I9", basis=f"{LIBRARY_DOC}, 'Clients': listing all the registered clients, of every flavour")
@pytest.mark.mutating
def test_listing_shows_clients_of_every_kind_with_their_kind(contract):
    mine = _one_of_each_kind(contract)
    reply = contract.api.get(C)
    replace = {k: v for _, r in mine.values() for k, v in r.items()}
    contract.match("clients-list", reply, replace=replace, fields=AUTHOR, keep=[u for u, _ in mine.values()])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert reply.xml().tag == f"{{{ATOM}}}feed"
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{C}")
    for kind, (uuid, _) in mine.items():
        found = xpath(reply, f"/a:feed/a:entry[oc:client/oc:uuid='{uuid}']")
        assert len(found) == 1, f"the {kind} client is not listed once"
        assert _kind_of(found[0]) == kind
        # the entry is the kind's own: its id is the client's URL under its own API
        assert same_url(text(found[0], "a:id"), f"{contract.base_url}{KIND_PATH[kind]}{uuid}")


@pytest.mark.inferred("I9", basis=f"{LIBRARY_DOC}, 'Clients': fetching individual client instances of every flavour")
@pytest.mark.mutating
@pytest.mark.parametrize("kind", ["syncml", "gdata", "activesync", "datastore"])
def test_get_one_client_of_each_kind(contract, kind):
    if kind == "syncml":
        _, uuid, phone = create_syncml(contract)
        replace = {phone: "+4798765432"}
    elif kind == "gdata":
        values = GData(contract)
        _, uuid, _ = create_gdata(contract, values)
        replace = values.replace
    elif kind == "activesync":
        _, uuid, username = create_activesync(contract, contract.secret("activesync-password"))
        replace = {username: "activesync-user"}
    else:
        _, uuid, name = create_datastore(contract)
        replace = {name: "datastore-name"}
    own = contract.api.get(f"{KIND_PATH[kind]}{uuid}" + ("" if kind == "syncml" else "/"))
    assert own.status_line == (200, "OK")
    for slash in ("/", ""):
        reply = contract.api.get(f"{C}{uuid}{slash}")
        if slash:
            contract.match(f"clients-get-{kind}", reply, replace=replace, fields=AUTHOR)
        assert reply.status_line == (200, "OK")
        assert reply.content_type == ATOM_TYPE
        assert reply.xml().tag == f"{{{ATOM}}}entry"
        assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
        assert _kind_of(reply.xml()) == kind
        assert same_url(text(reply, "/a:entry/a:id"), f"{contract.base_url}{KIND_PATH[kind]}{uuid}")
        # the kind's own entry: the same client fields as its own API shows
        assert [c.tag for c in xpath(reply, "/a:entry/oc:client/*")] == \
            [c.tag for c in xpath(own, "/a:entry/oc:client/*")]
        if kind == "gdata":  # 001: token keys and secrets only ever in the 201 echo
            assert not xpath(reply, "//oc:token/oc:key | //oc:token/oc:secret")
        if kind == "activesync":
            no_password(reply)


@pytest.mark.inferred("I9", basis=f"{LIBRARY_DOC}, 'Clients': listing all the registered clients")
@pytest.mark.read_only
def test_listing_feed_shape(contract):
    """Read-only: whatever the account holds, every entry says its kind and is the kind's own."""
    reply = contract.api.get(C)
    contract.match("clients-list", reply, fields=AUTHOR, keep=[], indices=[])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{C}")
    for e in xpath(reply, "/a:feed/a:entry"):
        kind = _kind_of(e)
        assert kind in KIND_PATH, f"unknown kind {kind!r}"
        uuid = text(e, "oc:client/oc:uuid")
        assert uuid, "an entry without oc:client/oc:uuid"
        assert same_url(text(e, "a:id"), f"{contract.base_url}{KIND_PATH[kind]}{uuid}")
    assert not xpath(reply, "//oc:token/oc:key | //oc:token/oc:secret | //oc:password | //oc:old_pass"), \
        "the listing reveals secrets"


def _needs_oauth(spec: str, path: str):
    basis = f"{LIBRARY_DOC}, 'Authentication': protected parts of the API need OAuth"
    return pytest.param(path, marks=pytest.mark.inferred(spec, basis=basis), id=spec)


@pytest.mark.read_only
@pytest.mark.parametrize("path", [_needs_oauth("I9", C), _needs_oauth("I10", B), _needs_oauth("I12", AS),
                                  _needs_oauth("I13", DS)])
def test_listings_need_oauth(contract, path):
    reply = contract.anonymous.get(path)
    assert reply.status_line == (401, "Unauthorized")
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.inferred("I9", basis=f"{LIBRARY_DOC}, 'Collections': a missing member is NotFoundError")
@pytest.mark.read_only
def test_get_of_an_unknown_client(contract):
    reply = contract.api.get(f"{C}{UNKNOWN}/")
    assert reply.status_line == (404, "Not Found")


@pytest.mark.inferred("I9", basis=OTHER_USERS)
@pytest.mark.mutating
def test_get_of_another_users_client_is_forbidden(contract):
    _, uuid, _ = create_datastore(contract)
    assert contract.other.get(f"{C}{uuid}/").status_line == (403, "Forbidden")
    assert uuid not in contract.other.get(C).text
    assert contract.api.get(f"{C}{uuid}/").status_line == (200, "OK")


@pytest.mark.inferred("I9", basis=f"{LIBRARY_DOC}, 'Clients': only read-access is possible through the "
                                  "generic interface (NotAllowedError)")
@pytest.mark.mutating
def test_generic_interface_is_read_only(contract):
    _, uuid, name = create_datastore(contract)
    before = contract.api.get(f"{C}{uuid}/").body
    sent = []
    for method, path in (("POST", C), ("PUT", C), ("DELETE", C),
                         ("POST", f"{C}{uuid}/"), ("PUT", f"{C}{uuid}/"), ("DELETE", f"{C}{uuid}/")):
        sent.append(contract.name("refused"))
        body = client_body(name=sent[-1]) if method != "DELETE" else None
        reply = contract.api.request(method, path, body)
        assert reply.status_line == (405, "Method Not Allowed"), f"{method} {path}: {reply.status_line}"
        allowed = {m.strip() for m in reply.headers.get("Allow", "").split(",")}
        assert "GET" in allowed, f"{method} {path}: Allow {reply.headers.get('Allow')!r}"
        assert not allowed & {"POST", "PUT", "DELETE"}, f"{method} {path}: Allow {reply.headers.get('Allow')!r}"
    assert contract.api.get(f"{C}{uuid}/").body == before
    assert text(contract.api.get(f"{DS}{uuid}/"), "/a:entry/oc:client/oc:name") == name
    for listing in (contract.api.get(C).text, contract.api.get(DS).text):  # nothing was created or renamed
        assert not [name for name in sent if name in listing]


# === I10/I11: bindings =======================================================================
def _two_clients(contract) -> tuple[str, str]:
    _, source, _ = create_datastore(contract)
    _, target, _ = create_activesync(contract, contract.secret("activesync-password"))
    return source, target


@pytest.mark.inferred("I10", basis=f"{LIBRARY_DOC}, 'Bindings': new(source, target); the source takes precedence")
@pytest.mark.mutating
def test_new_binding_defaults_dominant_to_source(contract):
    source, target = _two_clients(contract)
    reply, binding = create_binding(contract, source, target)
    contract.match("binding", reply, regex=BINDING_ID, fields=("binding/id",))
    assert reply.content_type == ATOM_TYPE
    assert binding == {"id": binding["id"], "source": source, "target": target, "dominant": "source"}
    url = f"{contract.base_url}{B}{binding['id']}"
    assert same_url(text(reply, "/a:entry/a:id"), url)
    assert same_url(reply.headers.get("Location"), url)


@pytest.mark.inferred("I10", basis=f"{LIBRARY_DOC}, 'Bindings': dominant is 'source' or 'target'")
@pytest.mark.mutating
def test_new_binding_keeps_an_explicit_dominant(contract):
    source, target = _two_clients(contract)
    _, binding = create_binding(contract, source, target, "target")
    assert binding["dominant"] == "target"
    assert binding_of(contract.api.get(f"{B}{binding['id']}/"))["dominant"] == "target"


@pytest.mark.inferred("I10", basis=f"{LIBRARY_DOC}, 'Bindings': the bindings collection")
@pytest.mark.mutating
def test_bindings_listing_shows_own_bindings(contract):
    source, target = _two_clients(contract)
    _, binding = create_binding(contract, source, target)
    reply = contract.api.get(B)
    # keep= selects by substring of atom:id, and /bindings/1 is inside /bindings/12: the
    # recorded feed is compared by its head only; the entry is checked below.
    contract.match("bindings-list", reply, regex=BINDING_ID, keep=[], indices=[])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{B}")
    assert bindings_naming(contract, source, target) == [binding]
    assert not [b for b in (binding_of(e) for e in xpath(contract.other.get(B), "/a:feed/a:entry"))
                if b.get("id") == binding["id"]], "another user sees the binding"


@pytest.mark.inferred("I10", basis=f"{LIBRARY_DOC}, 'Bindings': the bindings collection")
@pytest.mark.read_only
def test_bindings_listing_feed_shape(contract):
    reply = contract.api.get(B)
    contract.match("bindings-list", reply, regex=BINDING_ID, keep=[], indices=[])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{B}")
    for e in xpath(reply, "/a:feed/a:entry"):
        b = binding_of(e)
        assert re.fullmatch(r"[1-9][0-9]*", b.get("id") or ""), b
        assert b.get("source") and b.get("target"), b
        assert b.get("dominant") in ("source", "target"), b
        assert same_url(text(e, "a:id"), f"{contract.base_url}{B}{b['id']}")


@pytest.mark.inferred("I10", basis=f"{DECISIONS}, 'Bodies of the inferred routes': a binding naming an unknown "
                                   "client is a 400")
@pytest.mark.mutating
def test_binding_with_an_unknown_client_is_refused(contract):
    source, target = _two_clients(contract)
    assert contract.api.post(B, binding_body(UNKNOWN, target)).status_line == (400, "Bad Request")
    assert contract.api.post(B, binding_body(source, UNKNOWN)).status_line == (400, "Bad Request")
    assert bindings_naming(contract, source, target) == []


@pytest.mark.inferred("I10", basis=f"{DECISIONS}, 'Bodies of the inferred routes': a binding naming another user's "
                                   "client is a 400")
@pytest.mark.mutating
def test_binding_with_another_users_client_is_refused(contract):
    mine, _ = _two_clients(contract)
    _, theirs, _ = create_datastore(contract, role="other")
    assert contract.api.post(B, binding_body(mine, theirs)).status_line == (400, "Bad Request")
    assert contract.api.post(B, binding_body(theirs, mine)).status_line == (400, "Bad Request")
    assert bindings_naming(contract, mine, theirs) == []
    assert theirs not in contract.other.get(B).text


@pytest.mark.inferred("I10", basis=f"{LIBRARY_DOC}, 'Bindings': new(source, target) binds two clients; dominant is "
                                   "'source' or 'target'")
@pytest.mark.mutating
def test_malformed_bindings_are_refused(contract):
    source, target = _two_clients(contract)
    for body in (binding_body(source, source),  # a client bound to itself
                 binding_body(source, target, "both"),  # dominant is source or target
                 binding_body(source, None),  # no target
                 binding_body(None, target)):  # no source
        reply = contract.api.post(B, body)
        assert reply.status_line == (400, "Bad Request"), f"{body!r}: {reply.status_line}"
    assert contract.api.post(B, b"", headers={"Content-Type": ATOM_TYPE}).status_line == (400, "No Entry provided")
    assert bindings_naming(contract, source, target) == []


@pytest.mark.inferred("I11", basis=f"{LIBRARY_DOC}, 'Bindings': api.clients.bindings[123], binding ids are integers")
@pytest.mark.mutating
def test_get_one_binding(contract):
    source, target = _two_clients(contract)
    _, binding = create_binding(contract, source, target)
    for slash in ("/", ""):
        reply = contract.api.get(f"{B}{binding['id']}{slash}")
        if slash:
            contract.match("binding-get", reply, regex=BINDING_ID, fields=("binding/id",))
        assert reply.status_line == (200, "OK")
        assert reply.content_type == ATOM_TYPE
        assert binding_of(reply) == binding
        assert same_url(text(reply, "/a:entry/a:id"), f"{contract.base_url}{B}{binding['id']}")


@pytest.mark.inferred("I11", basis=f"{LIBRARY_DOC}, 'Bindings': binding ids are integers")
@pytest.mark.read_only
@pytest.mark.parametrize("bad_id", ["abc", UNKNOWN, "1.5", "0"])
def test_binding_ids_that_name_none_are_not_found(contract, bad_id):
    assert contract.api.get(f"{B}{bad_id}/").status_line == (404, "Not Found")


@pytest.mark.inferred("I11", basis=f"{LIBRARY_DOC}, 'Resources': update(**kwargs); Bindings: dominant")
@pytest.mark.mutating
def test_update_binding(contract):
    source, target = _two_clients(contract)
    _, third, _ = create_datastore(contract)
    _, binding = create_binding(contract, source, target)
    path = f"{B}{binding['id']}/"
    reply = contract.api.put(path, binding_body(source, target, "target"))
    contract.match("binding-update", reply, regex=BINDING_ID, fields=("binding/id",))
    assert reply.status_line == (200, "Updated")
    assert reply.content_type == ATOM_TYPE
    assert binding_of(reply) == {**binding, "dominant": "target"}
    assert binding_of(contract.api.get(path)) == {**binding, "dominant": "target"}
    # other clients: the binding keeps its id
    reply = contract.api.put(path, binding_body(target, third))
    assert reply.status_line == (200, "Updated")
    assert binding_of(contract.api.get(path)) == {"id": binding["id"], "source": target, "target": third,
                                                  "dominant": "target"}


@pytest.mark.inferred("I11", basis=f"{DECISIONS}, 'Bodies of the inferred routes': unknown or foreign clients are a "
                                   "400; another user's object is 403")
@pytest.mark.mutating
def test_update_binding_refusals(contract):
    source, target = _two_clients(contract)
    _, theirs, _ = create_datastore(contract, role="other")
    _, binding = create_binding(contract, source, target)
    path = f"{B}{binding['id']}/"
    before = contract.api.get(path).body
    for body in (binding_body(UNKNOWN, target), binding_body(source, theirs), binding_body(source, source),
                 binding_body(source, target, "both")):
        reply = contract.api.put(path, body)
        assert reply.status_line == (400, "Bad Request"), f"{body!r}: {reply.status_line}"
    assert contract.api.put(path, b"", headers={"Content-Type": ATOM_TYPE}).status_line == (400, "No Entry provided")
    assert contract.api.put(f"{B}abc/", binding_body(source, target, "target")).status_line == (404, "Not Found")
    assert contract.other.get(path).status_line == (403, "Forbidden")
    assert contract.other.put(path, binding_body(source, target, "target")).status_line == (403, "Forbidden")
    assert contract.other.delete(path).status_line == (403, "Forbidden")
    assert contract.api.get(path).body == before


@pytest.mark.inferred("I11", basis=f"{LIBRARY_DOC}, 'Resources': delete()")
@pytest.mark.mutating
def test_delete_binding(contract):
    source, target = _two_clients(contract)
    _, binding = create_binding(contract, source, target)
    path = f"{B}{binding['id']}/"
    reply = contract.api.delete(path)
    contract.match("binding-delete", reply)
    assert reply.status_line == (200, "Deleted")
    assert reply.body == b""
    contract.deleted(path)
    assert contract.api.get(path).status_line == (404, "Not Found")
    assert contract.api.delete(path).status_line == (404, "Not Found")
    assert bindings_naming(contract, source, target) == []
    # the clients stay
    assert contract.api.get(f"{DS}{source}/").status_line == (200, "OK")
    assert contract.api.get(f"{AS}{target}/").status_line == (200, "OK")


# === I12: ActiveSync =========================================================================
@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': username; old_pass and password are never populated")
@pytest.mark.mutating
def test_new_activesync_client_never_echoes_the_password(contract):
    password = contract.secret("activesync-password")
    username = contract.name("activesync")
    reply = contract.api.post(AS, client_body(username=username, password=password))
    if reply.status < 300:
        contract.created("activesync", username, f"{AS}{uuid_of(reply)}/")
    contract.match("activesync-client", reply, replace={username: "activesync-user"}, fields=AUTHOR)
    assert reply.status_line == (201, "Created")
    assert reply.content_type == ATOM_TYPE
    uuid = uuid_of(reply)
    assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
    assert text(reply, "/a:entry/oc:client/oc:username") == username
    assert text(reply, "/a:entry/a:title") == username
    assert same_url(text(reply, "/a:entry/a:id"), f"{contract.base_url}{AS}{uuid}")
    no_password(reply, password)
    for path in (f"{AS}{uuid}/", f"{AS}{uuid}", AS, C, f"{C}{uuid}/"):
        shown = contract.api.get(path)
        assert shown.status_line == (200, "OK"), path
        assert uuid in shown.text, path
        no_password(shown, password)


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': api.clients.activesync and its members")
@pytest.mark.mutating
def test_get_and_list_activesync_clients(contract):
    password = contract.secret("activesync-password")
    _, uuid, username = create_activesync(contract, password)
    replace = {username: "activesync-user"}
    reply = contract.api.get(f"{AS}{uuid}/")
    contract.match("activesync-get", reply, replace=replace, fields=AUTHOR)
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert text(reply, "/a:entry/oc:client/oc:username") == username
    assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
    no_password(reply, password)
    listing = contract.api.get(AS)
    contract.match("activesync-list", listing, replace=replace, fields=AUTHOR, keep=[uuid])
    assert listing.status_line == (200, "OK")
    assert listing.content_type == ATOM_TYPE
    assert same_url(text(listing, "/a:feed/a:id"), f"{contract.base_url}{AS}")
    assert text(listing, f"/a:feed/a:entry[oc:client/oc:uuid='{uuid}']/oc:client/oc:username") == username
    no_password(listing, password)
    # a client of another kind is not an ActiveSync client
    _, store, _ = create_datastore(contract)
    assert contract.api.get(f"{AS}{store}/").status_line == (404, "Not Found")
    assert store not in contract.api.get(AS).text


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': the collection")
@pytest.mark.read_only
def test_activesync_listing_feed_shape(contract):
    reply = contract.api.get(AS)
    contract.match("activesync-list", reply, fields=AUTHOR, keep=[], indices=[])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{AS}")
    for e in xpath(reply, "/a:feed/a:entry"):
        assert text(e, "oc:client/oc:uuid") and text(e, "oc:client/oc:username") is not None
    no_password(reply)


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'Collections': a missing member is NotFoundError")
@pytest.mark.read_only
def test_get_of_an_unknown_activesync_client(contract):
    assert contract.api.get(f"{AS}{UNKNOWN}/").status_line == (404, "Not Found")


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': old_pass and password, used in update() to change "
                                   "the password")
@pytest.mark.mutating
def test_password_change_needs_the_right_old_pass(contract):
    first, second, third = (contract.secret("activesync-password") for _ in range(3))
    wrong = contract.secret("activesync-wrong")
    _, uuid, username = create_activesync(contract, first)
    path = f"{AS}{uuid}/"
    before = contract.api.get(path).body
    reply = contract.api.put(path, client_body(old_pass=wrong, password=second))
    assert reply.status_line == (400, "Bad Request")
    no_password(reply, first, second, wrong)
    assert contract.api.get(path).body == before
    # the refused change left the password as it was: the first one still opens it
    reply = contract.api.put(path, client_body(old_pass=first, password=second))
    contract.match("activesync-update", reply, replace={username: "activesync-user"}, fields=AUTHOR)
    assert reply.status_line == (200, "Updated")
    assert reply.content_type == ATOM_TYPE
    assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
    assert text(reply, "/a:entry/oc:client/oc:username") == username
    no_password(reply, first, second)
    # the first password is spent; the second is now the current one
    reply = contract.api.put(path, client_body(old_pass=first, password=third))
    assert reply.status_line == (400, "Bad Request")
    no_password(reply, first, second, third)
    reply = contract.api.put(path, client_body(old_pass=second, password=third))
    assert reply.status_line == (200, "Updated")
    no_password(reply, second, third)


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': a password change needs old_pass and password")
@pytest.mark.mutating
def test_refused_password_change_changes_nothing(contract):
    password, new = contract.secret("activesync-password"), contract.secret("activesync-password")
    _, uuid, _ = create_activesync(contract, password)
    path = f"{AS}{uuid}/"
    before = contract.api.get(path).body
    for fields in ({"old_pass": contract.secret("activesync-wrong"), "password": new,
                    "username": contract.name("renamed")},  # wrong old_pass, with a rename
                   {"password": new},  # a new password without the current one
                   {"old_pass": password}):  # the current password and nothing to change it to
        reply = contract.api.put(path, client_body(**fields))
        assert reply.status_line == (400, "Bad Request"), f"{sorted(fields)}: {reply.status_line}"
        no_password(reply, password, new)
    assert contract.api.put(path, b"", headers={"Content-Type": ATOM_TYPE}).status_line == (400, "No Entry provided")
    assert contract.api.get(path).body == before
    assert contract.api.put(path, client_body(old_pass=password, password=new)).status_line == (200, "Updated")


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': username; Resources: update(**kwargs)")
@pytest.mark.mutating
def test_rename_activesync_client(contract):
    password = contract.secret("activesync-password")
    _, uuid, _ = create_activesync(contract, password)
    renamed = contract.name("activesync")
    reply = contract.api.put(f"{AS}{uuid}/", client_body(username=renamed))
    assert reply.status_line == (200, "Updated")
    assert text(reply, "/a:entry/oc:client/oc:username") == renamed
    assert text(reply, "/a:entry/a:title") == renamed
    assert text(contract.api.get(f"{AS}{uuid}/"), "/a:entry/oc:client/oc:username") == renamed
    # the password is untouched by a rename
    reply = contract.api.put(f"{AS}{uuid}/", client_body(old_pass=password,
                                                         password=contract.secret("activesync-password")))
    assert reply.status_line == (200, "Updated")


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'ActiveSync': a client has a username and a password")
@pytest.mark.mutating
def test_new_activesync_client_refusals(contract):
    password = contract.secret("activesync-password")
    username = contract.name("activesync")
    before = foreign_entries(contract.api.get(AS), contract.run_id)
    for fields in ({"username": username},  # no password
                   {"password": password},  # no username
                   {"username": username, "password": password, "old_pass": password}):  # old_pass is for changes
        reply = contract.api.post(AS, client_body(**fields))
        if reply.status < 300:
            contract.created("activesync", username, f"{AS}{uuid_of(reply)}/")
        assert reply.status_line == (400, "Bad Request"), f"{sorted(fields)}: {reply.status_line}"
        no_password(reply, password)
    assert contract.api.post(AS, b"", headers={"Content-Type": ATOM_TYPE}).status_line == (400, "No Entry provided")
    assert username not in contract.api.get(AS).text
    assert foreign_entries(contract.api.get(AS), contract.run_id) == before


@pytest.mark.inferred("I12", basis=f"{LIBRARY_DOC}, 'Resources': delete()")
@pytest.mark.mutating
def test_delete_activesync_client(contract):
    _, uuid, _ = create_activesync(contract, contract.secret("activesync-password"))
    path = f"{AS}{uuid}/"
    reply = contract.api.delete(path)
    contract.match("activesync-delete", reply)
    assert reply.status_line == (200, "Deleted")
    assert reply.body == b""
    contract.deleted(path)
    assert contract.api.get(path).status_line == (404, "Not Found")
    assert contract.api.delete(path).status_line == (404, "Not Found")
    assert contract.api.get(f"{C}{uuid}/").status_line == (404, "Not Found")
    assert uuid not in contract.api.get(AS).text


@pytest.mark.inferred("I12", basis=OTHER_USERS)
@pytest.mark.mutating
def test_another_users_activesync_client_is_forbidden(contract):
    password = contract.secret("activesync-password")
    _, uuid, _ = create_activesync(contract, password)
    path = f"{AS}{uuid}/"
    before = contract.api.get(path).body
    assert contract.other.get(path).status_line == (403, "Forbidden")
    reply = contract.other.put(path, client_body(old_pass=password, password=contract.secret("activesync-theirs")))
    assert reply.status_line == (403, "Forbidden")
    assert contract.other.delete(path).status_line == (403, "Forbidden")
    assert uuid not in contract.other.get(AS).text
    assert contract.api.get(path).body == before
    # the password is still the user's own
    assert contract.api.put(path, client_body(old_pass=password, password=contract.secret(
        "activesync-password"))).status_line == (200, "Updated")


# === I13: datastore clients ==================================================================
@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Datastore': a client with a custom name")
@pytest.mark.mutating
def test_new_datastore_client(contract):
    name = contract.name("datastore")
    reply = contract.api.post(DS, client_body(name=name))
    if reply.status < 300:
        contract.created("datastore", name, f"{DS}{uuid_of(reply)}/")
    contract.match("datastore-client", reply, replace={name: "datastore-name"}, fields=AUTHOR)
    assert reply.status_line == (201, "Created")
    assert reply.content_type == ATOM_TYPE
    uuid = uuid_of(reply)
    assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
    assert text(reply, "/a:entry/oc:client/oc:name") == name
    assert text(reply, "/a:entry/a:title") == name
    assert same_url(text(reply, "/a:entry/a:id"), f"{contract.base_url}{DS}{uuid}")


@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Datastore': api.clients.datastore and its members")
@pytest.mark.mutating
def test_get_and_list_datastore_clients(contract):
    created, uuid, name = create_datastore(contract)
    replace = {name: "datastore-name"}
    for slash in ("/", ""):
        reply = contract.api.get(f"{DS}{uuid}{slash}")
        if slash:
            contract.match("datastore-get", reply, replace=replace, fields=AUTHOR)
        assert reply.status_line == (200, "OK")
        assert reply.content_type == ATOM_TYPE
        assert text(reply, "/a:entry/oc:client/oc:uuid") == uuid
        assert text(reply, "/a:entry/oc:client/oc:name") == name
        assert text(reply, "/a:entry/a:id") == text(created, "/a:entry/a:id")
    listing = contract.api.get(DS)
    contract.match("datastore-list", listing, replace=replace, fields=AUTHOR, keep=[uuid])
    assert listing.status_line == (200, "OK")
    assert listing.content_type == ATOM_TYPE
    assert same_url(text(listing, "/a:feed/a:id"), f"{contract.base_url}{DS}")
    assert text(listing, f"/a:feed/a:entry[oc:client/oc:uuid='{uuid}']/oc:client/oc:name") == name
    # a client of another kind is not a datastore client
    _, other_kind, _ = create_activesync(contract, contract.secret("activesync-password"))
    assert contract.api.get(f"{DS}{other_kind}/").status_line == (404, "Not Found")


@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Datastore': the collection")
@pytest.mark.read_only
def test_datastore_listing_feed_shape(contract):
    reply = contract.api.get(DS)
    contract.match("datastore-list", reply, fields=AUTHOR, keep=[], indices=[])
    assert reply.status_line == (200, "OK")
    assert reply.content_type == ATOM_TYPE
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{DS}")
    for e in xpath(reply, "/a:feed/a:entry"):
        uuid = text(e, "oc:client/oc:uuid")
        assert uuid and text(e, "oc:client/oc:name"), "a datastore client has a uuid and a name"
        assert same_url(text(e, "a:id"), f"{contract.base_url}{DS}{uuid}")


@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Collections': a missing member is NotFoundError")
@pytest.mark.read_only
def test_get_of_an_unknown_datastore_client(contract):
    assert contract.api.get(f"{DS}{UNKNOWN}/").status_line == (404, "Not Found")


@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Datastore': name; Resources: update(**kwargs)")
@pytest.mark.mutating
def test_rename_datastore_client(contract):
    _, uuid, _ = create_datastore(contract)
    renamed = contract.name("datastore")
    reply = contract.api.put(f"{DS}{uuid}/", client_body(name=renamed))
    contract.match("datastore-update", reply, replace={renamed: "datastore-name"}, fields=AUTHOR)
    assert reply.status_line == (200, "Updated")
    assert reply.content_type == ATOM_TYPE
    assert text(reply, "/a:entry/oc:client/oc:name") == renamed
    assert text(contract.api.get(f"{DS}{uuid}/"), "/a:entry/oc:client/oc:name") == renamed


@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Datastore': a client has a name")
@pytest.mark.mutating
def test_new_datastore_client_refusals(contract):
    before = foreign_entries(contract.api.get(DS), contract.run_id)
    for body in (entry("<oc:client/>"), client_body(name=""), client_body(name="   ")):
        reply = contract.api.post(DS, body)
        if reply.status < 300:
            contract.created("datastore", "(nameless)", f"{DS}{uuid_of(reply)}/")
        assert reply.status_line == (400, "Bad Request"), f"{body!r}: {reply.status_line}"
    assert contract.api.post(DS, b"", headers={"Content-Type": ATOM_TYPE}).status_line == (400, "No Entry provided")
    assert foreign_entries(contract.api.get(DS), contract.run_id) == before


@pytest.mark.inferred("I13", basis=f"{LIBRARY_DOC}, 'Resources': delete()")
@pytest.mark.mutating
def test_delete_datastore_client(contract):
    _, uuid, _ = create_datastore(contract)
    path = f"{DS}{uuid}/"
    reply = contract.api.delete(path)
    contract.match("datastore-delete", reply)
    assert reply.status_line == (200, "Deleted")
    assert reply.body == b""
    contract.deleted(path)
    assert contract.api.get(path).status_line == (404, "Not Found")
    assert contract.api.get(f"{path}contents/").status_line == (404, "Not Found")
    assert contract.api.delete(path).status_line == (404, "Not Found")
    assert uuid not in contract.api.get(DS).text


@pytest.mark.inferred("I13", basis=OTHER_USERS)
@pytest.mark.mutating
def test_another_users_datastore_client_is_forbidden(contract):
    _, uuid, _ = create_datastore(contract)
    path = f"{DS}{uuid}/"
    before = contract.api.get(path).body
    assert contract.other.get(path).status_line == (403, "Forbidden")
    assert contract.other.put(path, client_body(name=contract.name("theirs"))).status_line == (403, "Forbidden")
    assert contract.other.delete(path).status_line == (403, "Forbidden")
    assert uuid not in contract.other.get(DS).text
    assert contract.api.get(path).body == before
