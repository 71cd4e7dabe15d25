"""xml:base and xml:lang on every element of every request schema (RFC 4287 §2, the Atom
common attributes), and nothing else: issue 10, item 13.

One document per request schema holds every element the schema declares (a test checks
that against the .xsd files); each element in turn gets both attributes, which must be valid
for lxml (what the server uses) and for xmlschema; an unknown attribute, xml:space, or an
attribute of another namespace, on the root or on any child, must stay invalid for both.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.schema_checks import lxml_errors, xmlschema_errors

ROOT = Path(__file__).resolve().parents[2]
REQUEST_DIR = ROOT / "xsd" / "request"
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
XS = "http://www.w3.org/2001/XMLSchema"
XML = "http://www.w3.org/XML/1998/namespace"
NS = f'xmlns="{ATOM}" xmlns:oc="{OC}"'
UUID_A = "2fb295cc-0e50-11de-81c8-002215064801"
UUID_B = "4f1d2dd0-49e4-11de-b387-002215064801"

# Every element each request schema declares, with an Atom element the schema skips.
FULL = {
    "gdata-client": f"""<entry {NS}><title>t</title><oc:client>
        <oc:uuid>{UUID_B}</oc:uuid><oc:user_id>someone@gmail.com</oc:user_id>
        <oc:datastore dataclass="Calendar" href="http://www.google.com/calendar/feeds/x/private/full" name="Cal">
          <oc:token><oc:token_type>2</oc:token_type><oc:key>k</oc:key><oc:secret>s</oc:secret>
            <oc:scope>http://www.google.com/calendar/feeds/</oc:scope></oc:token></oc:datastore>
        <oc:datastore dataclass="Contacts" href="http://www.google.com/m8/feeds/">
          <oc:token><oc:type>1</oc:type><oc:key>k</oc:key><oc:secret>s</oc:secret>
            <oc:scope>http://www.google.com/m8/feeds/</oc:scope></oc:token></oc:datastore>
      </oc:client></entry>""",
    "syncml-client": f"""<entry {NS}><title>t</title><oc:client>
        <oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>112</oc:model_uuid>
        <oc:timezone>Europe/Oslo</oc:timezone><oc:imei>490154203237518</oc:imei></oc:client></entry>""",
    "syncml-setup": f"<entry {NS}><title>t</title><oc:pincode>1234</oc:pincode></entry>",
    "activesync-client": f"""<entry {NS}><title>t</title><oc:client><oc:username>ann</oc:username>
        <oc:password> secret </oc:password><oc:old_pass>old</oc:old_pass></oc:client></entry>""",
    "datastore-client": f"<entry {NS}><title>t</title><oc:client><oc:name>Café</oc:name></oc:client></entry>",
    "content-item": f"""<entry {NS}><title>Ola Nordmann</title>
        <content type="text/x-vcard">BEGIN:VCARD</content><oc:dataclass>contacts</oc:dataclass>
        <author><name>ann</name></author><category term="x"/><contributor><name>b</name></contributor>
        <id>urn:x</id><link href="http://x/"/><published>2009-11-01T12:00:00Z</published><rights>r</rights>
        <source><id>urn:y</id></source><summary>s</summary><updated>2009-11-01T12:00:00Z</updated></entry>""",
    "binding": f"""<entry {NS}><title>t</title><oc:binding><oc:source>{UUID_A}</oc:source>
        <oc:target>{UUID_B}</oc:target><oc:dominant>target</oc:dominant></oc:binding></entry>""",
    "detect": f"<entry {NS}><title>t</title><oc:phone_number>+4798765432</oc:phone_number></entry>",
}
SCHEMAS = sorted(FULL)


def _elements(body: str) -> list[etree._Element]:
    """Every element of the document, root first, in document order."""
    return [el for el in etree.fromstring(body.encode()).iter() if isinstance(el.tag, str)]


def _with(body: str, index: int, attributes: dict[str, str]) -> str:
    """The document with `attributes` set on its `index`-th element (document order)."""
    root = etree.fromstring(body.encode())
    element = [el for el in root.iter() if isinstance(el.tag, str)][index]
    for name, value in attributes.items():
        element.set(name, value)
    return etree.tostring(root, encoding="unicode")


def _valid(name: str, body: str) -> None:
    assert lxml_errors("request", name, body) == [], body
    assert xmlschema_errors("request", name, body) == [], body


def _invalid(name: str, body: str, *needles: str) -> None:
    messages = lxml_errors("request", name, body)
    assert messages, f"lxml accepted {body}"
    assert xmlschema_errors("request", name, body), f"xmlschema accepted {body}"
    for needle in needles:
        assert needle in "\n".join(messages), messages


def test_every_request_schema_has_a_full_document():
    from ocss_testkit.atom.schemas import schemas
    assert set(FULL) == set(schemas("request").names)


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_full_document_holds_every_element_its_schema_declares(name):
    declared = set()
    for path in (REQUEST_DIR / f"{name}.xsd", REQUEST_DIR / f"{name}.oc.xsd"):
        declared |= {e.get("name") for e in etree.parse(str(path)).iter(f"{{{XS}}}element") if e.get("name")}
    present = {etree.QName(el).localname for el in etree.fromstring(FULL[name].encode()).iter()
               if isinstance(el.tag, str)}
    assert declared <= present, declared - present
    _valid(name, FULL[name])


@pytest.mark.parametrize("name", SCHEMAS)
def test_xml_lang_and_xml_base_are_accepted_on_every_element(name):
    body = FULL[name]
    elements = _elements(body)
    assert len(elements) >= 3
    for index in range(len(elements)):
        _valid(name, _with(body, index, {f"{{{XML}}}lang": "nb-NO", f"{{{XML}}}base": "http://example.com/a/"}))
    # all at once, with the values RFC 4287 allows: an empty language, a relative base
    everywhere = etree.fromstring(body.encode())
    for el in everywhere.iter():
        if isinstance(el.tag, str):
            el.set(f"{{{XML}}}lang", "")
            el.set(f"{{{XML}}}base", "sub/")
    _valid(name, etree.tostring(everywhere, encoding="unicode"))


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_prefixed_spelling_written_by_hand_is_accepted(name):
    """`xml:lang` as a client writes it (the prefix needs no declaration)."""
    body = FULL[name].replace(f"<entry {NS}>", f'<entry {NS} xml:lang="en" xml:base="http://x/">', 1)
    assert 'xml:lang="en"' in body
    _valid(name, body)


@pytest.mark.parametrize("attribute, needle", [
    ("foo", "foo"),
    (f"{{{XML}}}space", "space"),
    (f"{{{XML}}}id", "id"),
    (f"{{{OC}}}lang", "lang"),
    (f"{{{ATOM}}}base", "base"),
    ("lang", "lang"),
])
@pytest.mark.parametrize("name", SCHEMAS)
def test_any_other_attribute_is_still_refused_on_the_root_and_on_every_read_element(name, attribute, needle):
    body = FULL[name]
    elements = _elements(body)
    # every element the server reads (the Atom elements it skips take any attribute)
    read = [i for i, el in enumerate(elements)
            if i == 0 or el.tag.startswith(f"{{{OC}}}")
            or (name == "content-item" and el.tag in (f"{{{ATOM}}}title", f"{{{ATOM}}}content"))]
    assert read[0] == 0 and len(read) >= 2
    for index in read:
        _invalid(name, _with(body, index, {attribute: "x"}), needle)


@pytest.mark.parametrize("value", ["not a tag", "en_GB", "toolongsubtag-x", "-en"])
def test_a_malformed_language_tag_is_refused(value):
    body = FULL["datastore-client"].replace("<oc:name>", f'<oc:name xml:lang="{value}">')
    _invalid("datastore-client", body, "lang")
