"""The hand-written XSD 1.0 schemas under xsd/ against the doc examples (contracts/doc_examples/).

Sources: the Google Data Client API and the SyncML API, whose examples these are.
Every schema is checked with both lxml (libxml2) and xmlschema, so neither validator's
leniency can hide a mistake.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from contracts import doc_examples
from ocss_testkit.routes import ROUTES
from tests.schema_checks import assert_invalid, assert_valid

ROOT = Path(__file__).resolve().parents[2]
XSD_DIR = ROOT / "xsd"
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
XS = "http://www.w3.org/2001/XMLSchema"

ALL_XSD_FILES = sorted(XSD_DIR.rglob("*.xsd"))
# Shared by every request schema, not a pair: xml:base and xml:lang on every element
# (RFC 4287 section 2), and the W3C's schema of the xml namespace they come from.
SHARED_FILES = (XSD_DIR / "request" / "common.xsd", XSD_DIR / "request" / "xml.xsd")
XSD_FILES = [p for p in ALL_XSD_FILES if p not in SHARED_FILES]
REQUEST_SCHEMAS = ("gdata-client", "syncml-client", "syncml-setup")
RESPONSE_SCHEMAS = ("gdata", "syncml", "syncml-setup")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------------------------
# The schema files


def test_the_documented_schema_files_exist():
    expected = {
        f"xsd/{kind}/{name}{suffix}"
        for kind, names in (("request", REQUEST_SCHEMAS), ("response", RESPONSE_SCHEMAS))
        for name in names
        for suffix in (".xsd", ".oc.xsd")
    }
    assert len(expected) == 12
    assert expected <= {_rel(p) for p in XSD_FILES}


def test_every_schema_the_server_loads_exists_as_a_pair():
    """Read from the folder, not by compiling: half a pair is named, not an lxml error."""
    found = {_rel(p) for p in XSD_FILES}
    halves = []
    for path in sorted(found):
        twin = path.replace(".oc.xsd", ".xsd") if path.endswith(".oc.xsd") else path[:-4] + ".oc.xsd"
        if twin not in found:
            halves.append(f"{path} has no {twin}: a schema is a pair, its Atom half and its oc: half "
                          "(xsd/README.md)")
    assert not halves, halves


@pytest.mark.parametrize("path", XSD_FILES, ids=_rel)
def test_schema_compiles_with_xmlschema(path):
    schema = xmlschema.XMLSchema10(str(path))
    expected_ns = OC if path.name.endswith(".oc.xsd") else ATOM
    assert schema.target_namespace == expected_ns


@pytest.mark.parametrize("path", ALL_XSD_FILES, ids=_rel)
def test_schema_compiles_with_lxml(path):
    etree.XMLSchema(etree.parse(str(path)))


def test_every_file_is_half_of_a_pair_the_server_loads_or_one_of_the_shared_files():
    from ocss_testkit.atom.schemas import schemas
    halves = {f"xsd/{kind}/{name}{suffix}" for kind in ("request", "response")
              for name in schemas(kind).names for suffix in (".xsd", ".oc.xsd")}
    assert {_rel(p) for p in ALL_XSD_FILES} - halves == {_rel(p) for p in SHARED_FILES}


def test_the_shared_files_are_a_chameleon_group_and_the_xml_namespace():
    common, xml = (xmlschema.XMLSchema10(str(p)) for p in SHARED_FILES)
    assert common.target_namespace == ""  # takes the namespace of each schema including it
    assert xml.target_namespace == "http://www.w3.org/XML/1998/namespace"
    group = etree.parse(str(SHARED_FILES[0])).getroot().find(f"{{{XS}}}attributeGroup")
    assert group.get("name") == "CommonAttributes"
    assert [a.get("ref") for a in group] == ["xml:base", "xml:lang"]


@pytest.mark.parametrize("path", [p for p in XSD_FILES if not p.name.endswith(".oc.xsd")], ids=_rel)
def test_entry_point_imports_its_oc_half(path):
    tree = etree.parse(str(path))
    imports = tree.getroot().findall(f"{{{XS}}}import")
    assert [(i.get("namespace"), i.get("schemaLocation")) for i in imports] == [
        (OC, path.name.replace(".xsd", ".oc.xsd"))
    ]


def _normalised(node: etree._Element) -> bytes:
    node = copy.deepcopy(node)
    for comment in node.xpath("//comment()"):
        comment.getparent().remove(comment)
    for el in node.iter():
        if el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(node, method="c14n")


def test_types_with_the_same_name_are_the_same_everywhere():
    """The pairs cannot share a types file (one file per namespace and schema), so the same
    type is written several times: every copy must be identical."""
    seen: dict[str, tuple[bytes, str]] = {}
    for path in XSD_FILES:
        for node in etree.parse(str(path)).getroot():
            if node.tag not in (f"{{{XS}}}simpleType", f"{{{XS}}}complexType"):
                continue
            name, text = node.get("name"), _normalised(node)
            if name in seen:
                assert seen[name][0] == text, f"type {name} differs in {seen[name][1]} and {_rel(path)}"
            else:
                seen[name] = (text, _rel(path))
    assert "PhoneNumber" in seen and "Uuid" in seen


# ---------------------------------------------------------------------------------------------
# The doc examples


INDEX = doc_examples.load_index()
DOCUMENTED_SECTIONS = {(r.provenance.title, r.provenance.section) for r in ROUTES if r.provenance.kind == "documented"}

EXCHANGE_IDS = [
    "gdata-list", "gdata-get", "gdata-create", "gdata-update", "gdata-delete",
    "syncml-list", "syncml-get", "syncml-create", "syncml-delete", "syncml-setup", "syncml-sync",
]


def _bodies():
    """(test id, schema kind, schema name, body) of every doc body that has a schema."""
    out = []
    for ex in INDEX:
        for kind, key in (("request", "request_schema"), ("response", "response_schema")):
            _, _, body = doc_examples.load_message(ex["id"], kind)
            if not body.strip():
                assert ex[key] is None, f"{ex['id']} {kind}: a schema but no body"
                continue
            assert ex[key] is not None, f"{ex['id']} {kind}: a body but no schema"
            out.append((f"{ex['id']}.{kind}", kind, ex[key], body))
    out.append(("gdata-typical-entry", "response", "gdata", doc_examples.TYPICAL_ENTRY.read_bytes()))
    return out


BODIES = _bodies()


def test_index_describes_every_documented_exchange():
    assert [ex["id"] for ex in INDEX] == EXCHANGE_IDS
    for ex in INDEX:
        assert set(ex) >= {"id", "doc", "section", "method", "path", "status", "reason",
                           "request_schema", "response_schema"}
        assert ex["request_schema"] in (None, *REQUEST_SCHEMAS)
        assert ex["response_schema"] in (None, *RESPONSE_SCHEMAS)
        # The exchange's document and section are the ones a documented route cites.
        assert (ex["doc"], ex["section"]) in DOCUMENTED_SECTIONS, ex["id"]
        request_line, _, _ = doc_examples.load_message(ex["id"], "request")
        status_line, _, _ = doc_examples.load_message(ex["id"], "response")
        assert request_line == f"{ex['method']} {ex['path']} HTTP/1.1"
        assert status_line == f"HTTP/1.1 {ex['status']} {ex['reason']}"


def test_documented_reason_phrases_are_kept():
    reasons = {ex["id"]: (ex["status"], ex["reason"]) for ex in INDEX}
    assert reasons["gdata-update"] == (200, "Updated")  # 001 line 325
    assert reasons["gdata-delete"] == (200, "Deleted")  # 001 line 374
    assert reasons["syncml-sync"] == (200, "Ok")  # 003 line 258
    assert reasons["syncml-delete"] == (200, "OK")  # 003 line 200


def test_doc_oddities_are_kept_verbatim():
    _, headers, _ = doc_examples.load_message("gdata-get", "response")
    assert ("Content-Length", "-") in headers  # 001 line 179
    _, headers, _ = doc_examples.load_message("syncml-setup", "request")
    assert ("Content-length", "143") in headers  # 003 line 218, spelled and valued as shown
    _, _, body = doc_examples.load_message("syncml-list", "response")
    assert b"<timezone>Europe/Oslo\"</timezone>" in body  # 003 line 98


def test_parse_http_accepts_crlf_and_no_body():
    start, headers, body = doc_examples.parse_http(b"HTTP/1.1 200 Ok\r\nA: b\r\n\r\n<x/>\r\n")
    assert (start, headers, body) == ("HTTP/1.1 200 Ok", [("A", "b")], b"<x/>\r\n")
    assert doc_examples.parse_http("HTTP/1.1 200 Deleted\n\n") == ("HTTP/1.1 200 Deleted", [], b"")


def test_every_doc_body_is_validated():
    """4 request bodies and 8 response bodies in the docs, plus 001's typical entry."""
    assert len(BODIES) == 13
    assert sum(1 for _, kind, _, _ in BODIES if kind == "request") == 4


@pytest.mark.parametrize("kind,name,body", [b[1:] for b in BODIES], ids=[b[0] for b in BODIES])
def test_doc_body_validates(kind, name, body):
    assert_valid(kind, name, body)


def _reverse_children(body: bytes) -> bytes:
    root = etree.fromstring(body)
    for el in root.iter():
        children = [c for c in el if isinstance(c.tag, str)]
        if len(children) > 1:
            for child in children:
                el.remove(child)
            el.extend(reversed(children))
    return etree.tostring(root)


@pytest.mark.parametrize("kind,name,body", [b[1:] for b in BODIES], ids=[b[0] for b in BODIES])
def test_doc_body_in_reverse_order_still_validates(kind, name, body):
    assert_valid(kind, name, _reverse_children(body))


def test_swapped_order_in_syncml_create_request():
    _, _, body = doc_examples.load_message("syncml-create", "request")
    root = etree.fromstring(body)
    client = root.find(f"{{{OC}}}client")
    phone, model, tz = list(client)
    for el in (phone, model, tz):
        client.remove(el)
    client.extend([tz, model, phone])
    assert [etree.QName(c).localname for c in client] == ["timezone", "model_uuid", "phone_number"]
    assert_valid("request", "syncml-client", etree.tostring(root))


def test_swapped_order_in_gdata_update_request():
    _, _, body = doc_examples.load_message("gdata-update", "request")
    root = etree.fromstring(body)
    client = root.find(f"{{{OC}}}client")
    user_id, datastore = list(client)
    client.remove(user_id)
    client.append(user_id)
    token = datastore.find(f"{{{OC}}}token")
    token[:] = list(reversed(list(token)))
    assert [etree.QName(c).localname for c in token] == ["scope", "secret", "key", "token_type"]
    assert_valid("request", "gdata-client", etree.tostring(root))


def test_prefixed_and_default_namespace_forms_are_the_same():
    prefixed = (
        f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client>'
        "<oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>112</oc:model_uuid>"
        "</oc:client></entry>"
    ).encode()
    default = (
        f'<a:entry xmlns:a="{ATOM}"><client xmlns="{OC}">'
        "<phone_number>+4798765432</phone_number><model_uuid>112</model_uuid>"
        "</client></a:entry>"
    ).encode()
    assert_valid("request", "syncml-client", prefixed)
    assert_valid("request", "syncml-client", default)


# ---------------------------------------------------------------------------------------------
# Negative cases: invalid for both validators, and lxml names the offending element


def syncml_request(client_children: str, entry_extra: str = "") -> bytes:
    return (
        f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">{entry_extra}'
        f"<oc:client>{client_children}</oc:client></entry>"
    ).encode()


PHONE = "<oc:phone_number>+4798765432</oc:phone_number>"
MODEL = "<oc:model_uuid>02978288-537f-102b-beff-000ea60275d1</oc:model_uuid>"


def test_syncml_request_helper_is_valid():
    assert_valid("request", "syncml-client", syncml_request(PHONE + MODEL))
    assert_valid("request", "syncml-client", syncml_request(
        MODEL + "<oc:imei/><oc:timezone>Europe/Oslo</oc:timezone>" + PHONE,
        entry_extra="<title>ignored</title><id>urn:x</id>",
    ))


def test_unknown_oc_element_in_syncml_request():
    assert_invalid("request", "syncml-client", syncml_request(PHONE + MODEL + "<oc:colour>red</oc:colour>"),
                   f"{{{OC}}}colour")


def test_unknown_oc_element_directly_in_the_entry():
    assert_invalid("request", "syncml-client", syncml_request(PHONE + MODEL, entry_extra="<oc:colour>red</oc:colour>"),
                   f"{{{OC}}}colour")


def test_missing_phone_number():
    assert_invalid("request", "syncml-client", syncml_request(MODEL), f"{{{OC}}}client", "phone_number")


def test_model_uuid_not_an_id():
    assert_invalid("request", "syncml-client", syncml_request(PHONE + "<oc:model_uuid>abc</oc:model_uuid>"),
                   f"{{{OC}}}model_uuid", "'abc'")


@pytest.mark.parametrize("number", ["4790", "+47 98765432", "0047987654321234567", "+４７９８７６５４３２"])
def test_bad_phone_numbers(number):
    assert_invalid("request", "syncml-client",
                   syncml_request(f"<oc:phone_number>{number}</oc:phone_number>" + MODEL),
                   f"{{{OC}}}phone_number")


@pytest.mark.parametrize("value,ok", [("", True), ("35693803564380", True), ("3569380356438", False),
                                      ("35693803564380123", False), ("3569380356438x", False)])
def test_imei_is_empty_or_14_to_16_digits(value, ok):
    body = syncml_request(PHONE + MODEL + f"<oc:imei>{value}</oc:imei>")
    if ok:
        assert_valid("request", "syncml-client", body)
    else:
        assert_invalid("request", "syncml-client", body, f"{{{OC}}}imei")


def test_empty_timezone_in_request():
    assert_invalid("request", "syncml-client", syncml_request(PHONE + MODEL + "<oc:timezone/>"),
                   f"{{{OC}}}timezone")


def test_duplicate_child_in_syncml_client_request():
    assert_invalid("request", "syncml-client", syncml_request(PHONE + MODEL + PHONE), f"{{{OC}}}phone_number")


def gdata_request(datastore_attrs: str, token: str = "<oc:token_type>2</oc:token_type>") -> bytes:
    return (
        f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client>'
        "<oc:user_id>some_user@gmail.com</oc:user_id>"
        f"<oc:datastore {datastore_attrs}><oc:token>{token}</oc:token></oc:datastore>"
        "</oc:client></entry>"
    ).encode()


def test_gdata_request_helper_is_valid():
    assert_valid("request", "gdata-client", gdata_request('dataclass="Calendar" href="http://x/cal"'))


def test_dataclass_not_contacts_or_calendar():
    assert_invalid("request", "gdata-client", gdata_request('dataclass="Tasks" href="http://x/"'),
                   f"{{{OC}}}datastore", "dataclass", "'Tasks'")


def test_datastore_without_href():
    assert_invalid("request", "gdata-client", gdata_request('dataclass="Contacts"'),
                   f"{{{OC}}}datastore", "href")


def test_token_type_not_1_or_2():
    assert_invalid("request", "gdata-client",
                   gdata_request('dataclass="Contacts" href="http://x/"', "<oc:type>3</oc:type>"),
                   f"{{{OC}}}type")


def test_client_in_the_atom_namespace():
    """<client> without the oc namespace is an Atom element: skipped, so oc:client is missing."""
    body = (
        f'<entry xmlns="{ATOM}"><client><phone_number>+4798765432</phone_number>'
        "<model_uuid>112</model_uuid></client></entry>"
    ).encode()
    assert_invalid("request", "syncml-client", body, f"{{{ATOM}}}entry", f"{{{OC}}}client")
    gdata = f'<entry xmlns="{ATOM}"><client><user_id>a@b.c</user_id></client></entry>'.encode()
    assert_invalid("request", "gdata-client", gdata, f"{{{ATOM}}}entry", f"{{{OC}}}client")


def test_child_element_in_no_namespace():
    inside_client = syncml_request('<phone_number xmlns="">+4798765432</phone_number>' + MODEL)
    assert_invalid("request", "syncml-client", inside_client, "Element 'phone_number'")
    in_entry = syncml_request(PHONE + MODEL, entry_extra='<title xmlns="">x</title>')
    assert_invalid("request", "syncml-client", in_entry, "Element 'title'")


def test_child_element_in_another_namespace():
    body = syncml_request(PHONE + MODEL, entry_extra='<x:title xmlns:x="urn:other">x</x:title>')
    assert_invalid("request", "syncml-client", body, "{urn:other}title")


def setup_request(pincode: str) -> bytes:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:pincode>{pincode}</oc:pincode></entry>'.encode()


def test_pincode_with_a_letter():
    assert_invalid("request", "syncml-setup", setup_request("12a4"), f"{{{OC}}}pincode", "'12a4'")


@pytest.mark.parametrize("pincode,ok", [("1234", True), ("12345678", True), ("123", False), ("123456789", False)])
def test_pincode_is_4_to_8_digits(pincode, ok):
    if ok:
        assert_valid("request", "syncml-setup", setup_request(pincode))
    else:
        assert_invalid("request", "syncml-setup", setup_request(pincode), f"{{{OC}}}pincode")


def test_setup_request_without_pincode():
    body = f'<entry xmlns="{ATOM}"><title>t</title></entry>'.encode()
    assert_invalid("request", "syncml-setup", body, f"{{{ATOM}}}entry", f"{{{OC}}}pincode")


def _response_body(exchange_id: str) -> bytes:
    return doc_examples.load_message(exchange_id, "response")[2]


def _without(body: bytes, path: str) -> bytes:
    root = etree.fromstring(body)
    for el in root.xpath(path, namespaces={"atom": ATOM, "oc": OC}):
        el.getparent().remove(el)
    return etree.tostring(root)


@pytest.mark.parametrize("exchange_id,schema", [("gdata-list", "gdata"), ("syncml-list", "syncml")])
def test_feed_response_missing_id(exchange_id, schema):
    body = _without(_response_body(exchange_id), "/atom:feed/atom:id")
    assert_invalid("response", schema, body, f"{{{ATOM}}}feed", "FeedRequiresOneId")


@pytest.mark.parametrize("path,must_name", [
    ("/atom:entry/atom:updated", "EntryRequiresOneUpdated"),
    ("/atom:entry/atom:author", "EntryRequiresOneAuthorName"),
    ("/atom:entry/oc:client/oc:imei", "ClientRequiresOneImei"),
    ("/atom:entry/oc:client/oc:setup", "ClientRequiresOneSetup"),
    ("/atom:entry/oc:client", "EntryRequiresOneClientWithUuid"),
])
def test_syncml_entry_response_missing_a_documented_child(path, must_name):
    assert_invalid("response", "syncml", _without(_response_body("syncml-get"), path), must_name)


def test_response_entry_with_two_ids():
    body = _response_body("gdata-get").replace(b"</entry>", b"<id>http://x/</id></entry>")
    assert_invalid("response", "gdata", body, f"{{{ATOM}}}id", "EntryRequiresOneId")


def test_content_type_is_each_apis_own():
    gdata = _response_body("gdata-get").replace(b'type="html"', b'type="text/html"')
    assert_invalid("response", "gdata", gdata, f"{{{ATOM}}}content")
    syncml = _response_body("syncml-get").replace(b'type="text/html" />', b'type="html" />')
    assert_invalid("response", "syncml", syncml, f"{{{ATOM}}}content")


def test_gdata_response_token_needs_one_type():
    both = _response_body("gdata-create").replace(b"<token_type>2</token_type>",
                                                  b"<token_type>2</token_type><type>2</type>")
    assert_invalid("response", "gdata", both, "TokenRequiresOneTypeOrTokenType")
    neither = _response_body("gdata-create").replace(b"<token_type>2</token_type>", b"")
    assert_invalid("response", "gdata", neither, f"{{{OC}}}token", "TokenRequiresOneTypeOrTokenType")


def test_gdata_response_datastore_both_shapes():
    """Element form (001 lines 136-142) and text form (001 lines 345-346) in one client."""
    body = _response_body("gdata-update").replace(
        b"</client>",
        b'<datastore dataclass="Contacts" href="http://x/" name="Test"><token><type>1</type>'
        b"<scope>http://x/</scope></token></datastore></client>",
    )
    assert_valid("response", "gdata", body)


def test_timezone_typo_validates_in_responses():
    """The response type is a plain string (003 line 98); requests only say "non-empty token":
    the IANA check is the server code's."""
    assert b'Europe/Oslo"' in _response_body("syncml-list")
    assert_valid("response", "syncml", _response_body("syncml-list"))


def test_setup_response_needs_iso_utc_sent():
    body = _response_body("syncml-setup").replace(b'sent="2008-08-15T16:13:03Z"', b'sent="2008-08-15 16:13:03"')
    assert_invalid("response", "syncml-setup", body, f"{{{OC}}}setup", "sent")


def test_unknown_element_in_response():
    body = _response_body("syncml-get").replace(b"</client>", b"<pincode>1234</pincode></client>")
    assert_invalid("response", "syncml", body, f"{{{OC}}}pincode")


def test_explain_lists_every_reason_with_readable_prefixes():
    from ocss_testkit.atom.schemas import explain

    body = (b'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            b"<oc:client><oc:model_uuid>abc</oc:model_uuid><oc:colour>red</oc:colour></oc:client></entry>")
    reasons = explain("request", "syncml-client", body)
    assert reasons and all("{http" not in r for r in reasons)
    assert any("oc:" in r for r in reasons)
