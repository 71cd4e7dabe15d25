"""The hand-written XSD 1.0 schemas of the inferred routes (docs/decisions.md, "Bodies of
the inferred routes"; xsd/README.md, "Inferred routes").

The docs show none of these bodies, so the documents below are written by hand in the
style of the documented ones (Google Data Client API, SyncML API), with the
demo world's values (Nokia, vendor 1; Nokia 6233, model 242,
02978288-537f-102b-beff-000ea60275d1). Every schema is checked with both lxml (what the
server uses) and xmlschema, so neither validator's leniency can hide a mistake.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from tests.schema_checks import assert_invalid, assert_valid, lxml_schema

ROOT = Path(__file__).resolve().parents[2]
XSD_DIR = ROOT / "xsd"
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
XS = "http://www.w3.org/2001/XMLSchema"

REQUEST_SCHEMAS = ("activesync-client", "datastore-client", "content-item", "binding", "detect")
RESPONSE_SCHEMAS = ("phones", "detection", "clients", "activesync", "datastore", "contents", "sessions")
NEW_FILES = sorted(
    XSD_DIR / kind / f"{name}{suffix}"
    for kind, names in (("request", REQUEST_SCHEMAS), ("response", RESPONSE_SCHEMAS))
    for name in names
    for suffix in (".xsd", ".oc.xsd")
)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def reverse_children(body: str) -> str:
    """Every element's children in reverse order, at every level."""
    root = etree.fromstring(body.encode())
    for el in root.iter():
        children = [c for c in el if isinstance(c.tag, str)]
        if len(children) > 1:
            for child in children:
                el.remove(child)
            el.extend(reversed(children))
    return etree.tostring(root, encoding="unicode")


def a(local: str) -> str:
    return f"{{{ATOM}}}{local}"


def o(local: str) -> str:
    return f"{{{OC}}}{local}"


# ---------------------------------------------------------------------------------------------
# The schema files


@pytest.mark.parametrize("path", NEW_FILES, ids=_rel)
def test_schema_compiles_with_xmlschema(path):
    schema = xmlschema.XMLSchema10(str(path))
    assert schema.target_namespace == (OC if path.name.endswith(".oc.xsd") else ATOM)


@pytest.mark.parametrize("path", NEW_FILES, ids=_rel)
def test_schema_compiles_with_lxml(path):
    etree.XMLSchema(etree.parse(str(path)))


@pytest.mark.parametrize("path", [p for p in NEW_FILES if not p.name.endswith(".oc.xsd")], ids=_rel)
def test_entry_point_imports_its_oc_half(path):
    imports = etree.parse(str(path)).getroot().findall(f"{{{XS}}}import")
    assert [(i.get("namespace"), i.get("schemaLocation")) for i in imports] == [
        (OC, path.name.replace(".xsd", ".oc.xsd"))
    ]


def test_server_loads_every_new_schema_by_name():
    for kind, names in (("request", REQUEST_SCHEMAS), ("response", RESPONSE_SCHEMAS)):
        for name in names:
            assert (XSD_DIR / kind / f"{name}.xsd").is_file()
            lxml_schema(kind, name)


def _normalised(node: etree._Element) -> bytes:
    node = etree.fromstring(etree.tostring(node))
    for comment in node.xpath("//comment()"):
        comment.getparent().remove(comment)
    for el in node.iter():
        if el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(node, method="c14n")


def test_new_types_agree_with_every_same_named_type():
    """A type written in several files (Uuid, PhoneNumber, UtcTimestamp, ...) is the same
    everywhere, the old schemas included."""
    everywhere: dict[str, list[tuple[bytes, str]]] = {}
    for path in sorted(XSD_DIR.rglob("*.xsd")):
        for node in etree.parse(str(path)).getroot():
            if node.tag in (f"{{{XS}}}simpleType", f"{{{XS}}}complexType"):
                everywhere.setdefault(node.get("name"), []).append((_normalised(node), _rel(path)))
    new = {_rel(p) for p in NEW_FILES}
    for name, copies in everywhere.items():
        if any(where in new for _, where in copies):
            texts = {text for text, _ in copies}
            assert len(texts) == 1, f"type {name} differs between {[w for _, w in copies]}"


# ---------------------------------------------------------------------------------------------
# Valid documents, written by hand

NS = f'xmlns="{ATOM}" xmlns:oc="{OC}"'
B = "http://localhost:8080/"
MODEL_UUID = "02978288-537f-102b-beff-000ea60275d1"
SYNCML_UUID = "5b2d8f3c-0e6f-11de-9fa2-002215064801"
GDATA_UUID = "4f1d2dd0-49e4-11de-b387-002215064801"
AS_UUID = "9a0c5e22-c9a1-11de-8a39-0800200c9a66"
DS_UUID = "b1c3f0a4-c9a1-11de-8a39-0800200c9a66"

# --- requests ---

ACTIVESYNC_CREATE = f"""<entry {NS}>
  <title>ignored</title>
  <oc:client>
    <oc:username>alice@example.com</oc:username>
    <oc:password>correct horse battery</oc:password>
  </oc:client>
</entry>"""

ACTIVESYNC_CHANGE_PASSWORD = f"""<entry {NS}>
  <oc:client>
    <oc:old_pass>correct horse battery</oc:old_pass>
    <oc:password> staple </oc:password>
  </oc:client>
  <updated>2009-11-01T12:30:00Z</updated>
</entry>"""

DATASTORE_CLIENT = f"""<entry xmlns="{ATOM}">
  <title>ignored</title>
  <client xmlns="{OC}"><name>Backup of my Nokia 6233</name></client>
</entry>"""

DATASTORE_CLIENT_EMPTY_UPDATE = f"""<entry {NS}><id>urn:x</id><oc:client/></entry>"""

CONTENT_ITEM = f"""<entry {NS}>
  <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
  <title>Ola Nordmann</title>
  <author><name>alice</name><email>alice@example.com</email></author>
  <link rel="alternate" href="http://example.com/ola"/>
  <content type="text/x-vcard">BEGIN:VCARD
VERSION:2.1
N:Nordmann;Ola
TEL;CELL:+4798765432
END:VCARD</content>
  <oc:dataclass>contacts</oc:dataclass>
  <updated>2009-11-01T12:30:00Z</updated>
</entry>"""

CONTENT_ITEM_PLAIN = f"""<entry {NS}>
  <content type="text/plain; charset=utf-8">Buy milk &amp; bread &lt;today&gt;</content>
  <category term="x"/>
  <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">skipped</div></summary>
</entry>"""

CONTENT_ITEM_RENAME = f"""<entry {NS}><title>Ola N.</title><updated>2009-11-02T08:00:00Z</updated></entry>"""

BINDING = f"""<entry {NS}>
  <oc:binding>
    <oc:source>{SYNCML_UUID}</oc:source>
    <oc:target>{GDATA_UUID}</oc:target>
    <oc:dominant>target</oc:dominant>
  </oc:binding>
</entry>"""

BINDING_DEFAULT_DOMINANT = f"""<entry {NS}>
  <title>bind</title>
  <oc:binding><oc:target>{DS_UUID}</oc:target><oc:source>{AS_UUID}</oc:source></oc:binding>
</entry>"""

DETECT = f"""<entry {NS}>
  <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
  <oc:phone_number>+4798765432</oc:phone_number>
</entry>"""

DETECT_DEFAULT_NS = f"""<a:entry xmlns:a="{ATOM}"><a:title>t</a:title>
  <phone_number xmlns="{OC}">4798765432</phone_number></a:entry>"""

# --- responses ---

VENDOR_ENTRY_BODY = f"""
    <author><name>ObexCode AS</name></author>
    <content src="{B}v2/phones/vendors/1" type="text/html"/>
    <id>{B}v2/phones/vendors/1</id>
    <link href="{B}v2/phones/vendors/1" rel="self"/>
    <link href="{B}v2/phones/vendors/1" rel="alternate" type="text/html"/>
    <link href="{B}v2/phones/vendors/1/models/" rel="related" title="Nokia models"/>
    <published>2009-03-01T00:00:00Z</published>
    <title>Nokia</title>
    <updated>2009-03-01T00:00:00Z</updated>
    <vendor xmlns="{OC}">
      <id>1</id>
      <uuid>5e550e8f-6119-5c7c-a3a6-ea8666b93d29</uuid>
      <name>Nokia</name>
      <image_url>http://www.obexcode.com/media/phones/nokia/logo.jpg</image_url>
      <models>188</models>
    </vendor>"""

MODEL_ENTRY_BODY = f"""
    <author><name>ObexCode AS</name></author>
    <content src="{B}v2/phones/models/242" type="text/html"/>
    <id>{B}v2/phones/models/242</id>
    <link href="{B}v2/phones/models/242" rel="self"/>
    <link href="{B}v2/phones/models/242" rel="alternate" type="text/html"/>
    <link href="{B}v2/phones/vendors/1" rel="related" title="Nokia"/>
    <published>2009-03-01T00:00:00Z</published>
    <title>Nokia 6233</title>
    <updated>2009-03-01T00:00:00Z</updated>
    <model xmlns="{OC}">
      <id>242</id>
      <uuid>{MODEL_UUID}</uuid>
      <name>Nokia 6233</name>
      <image_url>http://www.obexcode.com/media/phones/nokia/6233.jpg</image_url>
      <vendor>Nokia</vendor>
      <vendor_id>1</vendor_id>
      <server_alert>true</server_alert>
    </model>"""

PHONES_VENDOR = f'<entry xmlns="{ATOM}">{VENDOR_ENTRY_BODY}</entry>'
PHONES_MODEL = f'<entry xmlns="{ATOM}">{MODEL_ENTRY_BODY}</entry>'
PHONES_MODEL_NO_IMAGE = PHONES_MODEL.replace(
    "<image_url>http://www.obexcode.com/media/phones/nokia/6233.jpg</image_url>", "<image_url></image_url>"
).replace("<server_alert>true</server_alert>", "<server_alert>false</server_alert>")


def _phones_feed(url: str, title: str, entry_body: str) -> str:
    return f"""<feed xmlns="{ATOM}">
  <author><name>ObexCode AS</name></author>
  <id>{url}</id>
  <link href="{url}" rel="self"/>
  <title>{title}</title>
  <updated>2009-03-01T00:00:00Z</updated>
  <entry>{entry_body}</entry>
</feed>"""


PHONES_VENDORS_FEED = _phones_feed(f"{B}v2/phones/vendors/", "Phone Vendors", VENDOR_ENTRY_BODY)
PHONES_MODELS_FEED = _phones_feed(f"{B}v2/phones/vendors/1/models/", "Nokia models", MODEL_ENTRY_BODY)
PHONES_EMPTY_FEED = _phones_feed(f"{B}v2/phones/models/", "Phone Models", "").replace("<entry></entry>", "")

DETECTION_PENDING = f"""<entry {NS}>
  <id>{B}v2/phones/detect/manual/ys_-qA6m0AxM/</id>
  <title>Handset detection for +4798765432</title>
  <updated>2009-11-01T12:30:00Z</updated>
  <link href="{B}v2/phones/detect/manual/ys_-qA6m0AxM/" rel="self"/>
  <oc:code>ys_-qA6m0AxM</oc:code>
  <oc:phone_number>+4798765432</oc:phone_number>
  <oc:status>pending</oc:status>
</entry>"""

DETECTION_DETECTED = f"""<entry {NS}>
  <id>{B}v2/phones/detect/manual/ys_-qA6m0AxM/</id>
  <title>Handset detection for +4798765432</title>
  <updated>2009-11-01T12:35:10Z</updated>
  <link href="{B}v2/phones/detect/manual/ys_-qA6m0AxM/" rel="self"/>
  <link href="{B}v2/phones/models/242" rel="related" title="Nokia 6233"/>
  <oc:code>ys_-qA6m0AxM</oc:code>
  <oc:phone_number>+4798765432</oc:phone_number>
  <oc:status>detected</oc:status>
  <oc:model_uuid>{MODEL_UUID}</oc:model_uuid>
</entry>"""

DETECTION_FAILED_BY_ID = (DETECTION_DETECTED.replace("<oc:status>detected", "<oc:status>failed")
                          .replace(f"<oc:model_uuid>{MODEL_UUID}", "<oc:model_uuid>242"))


def _client_head(url: str, title: str, content_type: str = "text/html", extra_links: str = "") -> str:
    return f"""
    <author><name>alice</name><email>alice@example.com</email></author>
    <content src="{url}" type="{content_type}"/>
    <id>{url}</id>
    <link href="{url}" rel="self"/>{extra_links}
    <link href="{url}" rel="alternate" type="text/html"/>
    <published>2009-11-01T12:30:00Z</published>
    <title>{title}</title>
    <updated>2009-11-02T08:00:00Z</updated>"""


SYNCML_URL = f"{B}v2/services/syncml/{SYNCML_UUID}"
GDATA_URL = f"{B}v2/services/google/{GDATA_UUID}"
AS_URL = f"{B}v2/services/activesync/{AS_UUID}"
DS_URL = f"{B}v2/services/datastore/{DS_UUID}"
KIND = f"{OC}#kind"

SYNCML_CLIENT_ENTRY_BODY = _client_head(SYNCML_URL, "Nokia 6233") + f"""
    <category scheme="{KIND}" term="syncml"/>
    <client xmlns="{OC}">
      <uuid>{SYNCML_UUID}</uuid>
      <user_id>2</user_id>
      <datastore dataclass="Contacts" href="{B}v2/services/syncml/datastores/Contacts">C:Contacts.cdb</datastore>
      <phone_number>+4798765432</phone_number>
      <model_uuid>242</model_uuid>
      <imei/>
      <setup sent="2009-11-01 12:31:00">SyncServer</setup>
      <timezone>Europe/Oslo</timezone>
    </client>"""

GDATA_CLIENT_ENTRY_BODY = _client_head(
    GDATA_URL, "some_user@gmail.com", "html", f'\n    <link href="{GDATA_URL}/edit" rel="edit"/>'
) + f"""
    <category scheme="{KIND}" term="gdata"/>
    <client xmlns="{OC}">
      <uuid>{GDATA_UUID}</uuid>
      <user_id>some_user@gmail.com</user_id>
      <datastore dataclass="Calendar" href="http://www.google.com/calendar/feeds/default/private/full" name="Test">
        <token><type>2</type><scope>http://www.google.com/calendar/feeds/</scope></token>
      </datastore>
    </client>"""

AS_CLIENT_BODY = f"""
    <client xmlns="{OC}">
      <uuid>{AS_UUID}</uuid>
      <user_id>2</user_id>
      <username>alice@corp.example.com</username>
    </client>"""

DS_CLIENT_BODY = f"""
    <client xmlns="{OC}">
      <uuid>{DS_UUID}</uuid>
      <user_id>2</user_id>
      <name>Backup of my Nokia 6233</name>
    </client>"""

AS_ENTRY_BODY = _client_head(AS_URL, "alice@corp.example.com") + AS_CLIENT_BODY
DS_ENTRY_BODY = _client_head(
    DS_URL, "Backup of my Nokia 6233",
    extra_links=f'\n    <link href="{DS_URL}/contents/" rel="related" title="contents"/>'
) + DS_CLIENT_BODY

CLIENTS_SYNCML = f'<entry xmlns="{ATOM}">{SYNCML_CLIENT_ENTRY_BODY}</entry>'


def _feed(url: str, title: str, *entry_bodies: str, ns: str = f'xmlns="{ATOM}"') -> str:
    entries = "".join(f"\n  <entry>{body}\n  </entry>" for body in entry_bodies)
    return f"""<feed {ns}>
  <author><name>ObexCode AS</name></author>
  <id>{url}</id>
  <link href="{url}" rel="self"/>
  <title>{title}</title>
  <updated>2009-11-02T08:00:00Z</updated>{entries}
</feed>"""


CLIENTS_FEED = _feed(
    f"{B}v2/clients/", "Clients",
    SYNCML_CLIENT_ENTRY_BODY,
    GDATA_CLIENT_ENTRY_BODY,
    AS_ENTRY_BODY.replace("<client ", f'<category scheme="{KIND}" term="activesync"/>\n    <client '),
    DS_ENTRY_BODY,  # the category is optional
)

BINDING_ENTRY_BODY = f"""
    <id>{B}v2/clients/bindings/1</id>
    <link href="{B}v2/clients/bindings/1" rel="self"/>
    <link href="{B}v2/clients/{SYNCML_UUID}" rel="related" title="source"/>
    <link href="{B}v2/clients/{GDATA_UUID}" rel="related" title="target"/>
    <published>2009-11-03T09:00:00Z</published>
    <title>{SYNCML_UUID} -> {GDATA_UUID}</title>
    <updated>2009-11-03T09:00:00Z</updated>
    <binding xmlns="{OC}">
      <id>1</id>
      <source>{SYNCML_UUID}</source>
      <target>{GDATA_UUID}</target>
      <dominant>source</dominant>
    </binding>"""

CLIENTS_BINDING = f'<entry xmlns="{ATOM}">{BINDING_ENTRY_BODY}</entry>'
CLIENTS_BINDINGS_FEED = _feed(
    f"{B}v2/clients/bindings/", "Bindings", BINDING_ENTRY_BODY,
    BINDING_ENTRY_BODY.replace("bindings/1", "bindings/2").replace("<id>1</id>", "<id>2</id>"))

ACTIVESYNC_ENTRY = f'<entry xmlns="{ATOM}">{AS_ENTRY_BODY}</entry>'
ACTIVESYNC_FEED = _feed(f"{B}v2/services/activesync/", "ActiveSync Clients", AS_ENTRY_BODY)
DATASTORE_ENTRY = f'<entry xmlns="{ATOM}">{DS_ENTRY_BODY}</entry>'
DATASTORE_FEED = _feed(f"{B}v2/services/datastore/", "Datastore Clients", DS_ENTRY_BODY, DS_ENTRY_BODY)

CONTENT_URL = f"{DS_URL}/contents/7"
CONTENT_ENTRY_BODY = f"""
    <id>{CONTENT_URL}</id>
    <title>Ola Nordmann</title>
    <link href="{CONTENT_URL}" rel="self"/>
    <published>2009-11-01T12:30:00Z</published>
    <updated>2009-11-01T12:30:00Z</updated>
    <content type="text/x-vcard">BEGIN:VCARD
VERSION:2.1
N:Nordmann;Ola
END:VCARD</content>
    <oc:dataclass>contacts</oc:dataclass>"""

TOMBSTONE_BODY = f"""
    <id>{DS_URL}/contents/8</id>
    <title>Buy milk</title>
    <link href="{DS_URL}/contents/8" rel="self"/>
    <published>2009-11-01T12:31:00Z</published>
    <updated>2009-11-02T10:00:00Z</updated>
    <oc:dataclass>notes</oc:dataclass>
    <oc:operation>delete</oc:operation>"""

CONTENTS_ENTRY = f"<entry {NS}>{CONTENT_ENTRY_BODY}</entry>"
CONTENTS_FEED_SINCE = _feed(
    f"{DS_URL}/contents/", "Contents of Backup of my Nokia 6233",
    CONTENT_ENTRY_BODY + "\n    <oc:operation>insert</oc:operation>", TOMBSTONE_BODY, ns=NS,
)
CONTENTS_EMPTY_FEED = _feed(f"{DS_URL}/contents/", "Contents of Backup of my Nokia 6233", ns=NS)

SESSION_URL = f"{B}v2/services/syncml/sessions/1/"
SESSION_ENTRY_BODY = f"""
    <id>{SESSION_URL}</id>
    <link href="{SESSION_URL}" rel="self"/>
    <link href="{SYNCML_URL}" rel="related"/>
    <published>2009-11-01T12:40:00Z</published>
    <title>SyncML session 1: ok</title>
    <updated>2009-11-01T12:40:05Z</updated>
    <session xmlns="{OC}">
      <id>1</id>
      <client>{SYNCML_UUID}</client>
      <outcome>ok</outcome>
      <datastore dataclass="Contacts" name="C:Contacts.cdb" sync_type="slow"/>
      <datastore dataclass="Calendar" name="cal.vcs" sync_type="slow"/>
    </session>"""

FAILED_SESSION_BODY = f"""
    <id>{B}v2/services/syncml/sessions/2/</id>
    <link href="{B}v2/services/syncml/sessions/2/" rel="self"/>
    <link href="{SYNCML_URL}" rel="related"/>
    <published>2009-11-02T08:00:00Z</published>
    <title>SyncML session 2: failed</title>
    <updated>2009-11-02T08:00:00Z</updated>
    <session xmlns="{OC}">
      <id>2</id>
      <client>{SYNCML_UUID}</client>
      <outcome>failed</outcome>
      <reason>the phone has no sync settings for this server (setup not accepted)</reason>
    </session>"""

CHAT_BODY = f"""
    <id>{SESSION_URL}chatlog/1</id>
    <title>Message 1 from phone</title>
    <updated>2009-11-01T12:40:01Z</updated>
    <content type="application/vnd.syncml+xml">&lt;SyncML&gt;&lt;SyncHdr&gt;&lt;VerDTD&gt;1.2&lt;/VerDTD&gt;\
&lt;SessionID&gt;1&lt;/SessionID&gt;&lt;MsgID&gt;1&lt;/MsgID&gt;&lt;/SyncHdr&gt;&lt;SyncBody&gt;&lt;Final/&gt;\
&lt;/SyncBody&gt;&lt;/SyncML&gt;</content>
    <oc:direction>from-phone</oc:direction>
    <oc:session_id>1</oc:session_id>"""

SESSIONS_ENTRY = f'<entry xmlns="{ATOM}">{SESSION_ENTRY_BODY}</entry>'
SESSIONS_FEED = _feed(f"{B}v2/services/syncml/sessions/", "SyncML Sessions", SESSION_ENTRY_BODY,
                      FAILED_SESSION_BODY)
CHATLOG_FEED = _feed(
    f"{B}v2/services/syncml/sessions/chatlog/", "SyncML Chatlog", CHAT_BODY,
    CHAT_BODY.replace("chatlog/1", "chatlog/2").replace("from-phone", "to-phone").replace("from phone", "to phone"),
    ns=NS,
)

VALID = [
    ("request", "activesync-client", "create", ACTIVESYNC_CREATE),
    ("request", "activesync-client", "change-password", ACTIVESYNC_CHANGE_PASSWORD),
    ("request", "datastore-client", "create-default-ns", DATASTORE_CLIENT),
    ("request", "datastore-client", "empty-update", DATASTORE_CLIENT_EMPTY_UPDATE),
    ("request", "content-item", "vcard", CONTENT_ITEM),
    ("request", "content-item", "plain-with-charset", CONTENT_ITEM_PLAIN),
    ("request", "content-item", "rename-only", CONTENT_ITEM_RENAME),
    ("request", "binding", "full", BINDING),
    ("request", "binding", "default-dominant", BINDING_DEFAULT_DOMINANT),
    ("request", "detect", "prefixed", DETECT),
    ("request", "detect", "default-ns", DETECT_DEFAULT_NS),
    ("response", "phones", "vendor", PHONES_VENDOR),
    ("response", "phones", "model", PHONES_MODEL),
    ("response", "phones", "model-no-image", PHONES_MODEL_NO_IMAGE),
    ("response", "phones", "vendors-feed", PHONES_VENDORS_FEED),
    ("response", "phones", "models-feed", PHONES_MODELS_FEED),
    ("response", "phones", "empty-feed", PHONES_EMPTY_FEED),
    ("response", "detection", "pending", DETECTION_PENDING),
    ("response", "detection", "detected", DETECTION_DETECTED),
    ("response", "detection", "model-by-id", DETECTION_FAILED_BY_ID),
    ("response", "clients", "syncml-entry", CLIENTS_SYNCML),
    ("response", "clients", "feed-of-every-kind", CLIENTS_FEED),
    ("response", "clients", "binding", CLIENTS_BINDING),
    ("response", "clients", "bindings-feed", CLIENTS_BINDINGS_FEED),
    ("response", "activesync", "entry", ACTIVESYNC_ENTRY),
    ("response", "activesync", "feed", ACTIVESYNC_FEED),
    ("response", "datastore", "entry", DATASTORE_ENTRY),
    ("response", "datastore", "feed", DATASTORE_FEED),
    ("response", "contents", "entry", CONTENTS_ENTRY),
    ("response", "contents", "feed-since", CONTENTS_FEED_SINCE),
    ("response", "contents", "empty-feed", CONTENTS_EMPTY_FEED),
    ("response", "sessions", "entry", SESSIONS_ENTRY),
    ("response", "sessions", "feed", SESSIONS_FEED),
    ("response", "sessions", "chatlog", CHATLOG_FEED),
]
VALID_IDS = [f"{kind}/{name}:{label}" for kind, name, label, _ in VALID]


def test_every_new_schema_has_valid_documents():
    assert {(kind, name) for kind, name, _, _ in VALID} == (
        {("request", n) for n in REQUEST_SCHEMAS} | {("response", n) for n in RESPONSE_SCHEMAS}
    )


@pytest.mark.parametrize("kind,name,label,body", VALID, ids=VALID_IDS)
def test_valid_document(kind, name, label, body):
    assert_valid(kind, name, body)


@pytest.mark.parametrize("kind,name,label,body", VALID, ids=VALID_IDS)
def test_valid_document_in_reverse_order(kind, name, label, body):
    reversed_body = reverse_children(body)
    assert reversed_body != etree.tostring(etree.fromstring(body.encode()), encoding="unicode")
    assert_valid(kind, name, reversed_body)


# ---------------------------------------------------------------------------------------------
# Invalid variants: rejected by both validators, and lxml names the element (or the
# identity constraint, whose name says which child is missing or repeated)


def _variant(body: str, old: str, new: str) -> str:
    assert body.count(old) >= 1, f"{old!r} is not in the document"
    return body.replace(old, new)


INVALID = [
    # --- activesync-client
    ("request", "activesync-client", "unknown-oc-element",
     _variant(ACTIVESYNC_CREATE, "</oc:client>", "<oc:email>alice@example.com</oc:email></oc:client>"),
     [o("email")]),
    ("request", "activesync-client", "empty-username",
     _variant(ACTIVESYNC_CREATE, "alice@example.com</oc:username>", " </oc:username>"), [o("username")]),
    ("request", "activesync-client", "password-too-long",
     _variant(ACTIVESYNC_CREATE, "correct horse battery", "x" * 256), [o("password")]),
    ("request", "activesync-client", "no-client",
     f"<entry {NS}><title>x</title></entry>", [a("entry"), o("client")]),
    # --- datastore-client
    ("request", "datastore-client", "unknown-oc-element",
     _variant(DATASTORE_CLIENT, "</client>", "<colour>red</colour></client>"), [o("colour")]),
    ("request", "datastore-client", "name-too-long",
     _variant(DATASTORE_CLIENT, "Backup of my Nokia 6233", "n" * 256), [o("name")]),
    ("request", "datastore-client", "two-names",
     _variant(DATASTORE_CLIENT, "</client>", "<name>again</name></client>"), [o("name")]),
    # --- content-item
    ("request", "content-item", "content-without-type",
     _variant(CONTENT_ITEM, '<content type="text/x-vcard">', "<content>"), [a("content"), "'type'"]),
    ("request", "content-item", "type-not-a-mime-type",
     _variant(CONTENT_ITEM, 'type="text/x-vcard"', 'type="text"'), [a("content"), "type"]),
    ("request", "content-item", "markup-in-content",
     _variant(CONTENT_ITEM_PLAIN, "Buy milk &amp; bread &lt;today&gt;", "Buy <b>milk</b>"), [a("content")]),
    ("request", "content-item", "unlisted-atom-element",
     _variant(CONTENT_ITEM, "<updated>", "<icon>x</icon><updated>"), [a("icon")]),
    ("request", "content-item", "two-titles",
     _variant(CONTENT_ITEM, "<title>Ola Nordmann</title>", "<title>Ola</title><title>Nordmann</title>"),
     [a("title"), "EntryAllowsOneTitle"]),
    ("request", "content-item", "unknown-oc-element",
     _variant(CONTENT_ITEM, "<oc:dataclass>", "<oc:operation>insert</oc:operation><oc:dataclass>"),
     [o("operation")]),
    # --- binding
    ("request", "binding", "wrong-dominant",
     _variant(BINDING, "<oc:dominant>target</oc:dominant>", "<oc:dominant>both</oc:dominant>"),
     [o("dominant"), "'both'"]),
    ("request", "binding", "two-targets",
     _variant(BINDING, f"<oc:target>{GDATA_UUID}</oc:target>",
              f"<oc:target>{GDATA_UUID}</oc:target><oc:target>{GDATA_UUID}</oc:target>"), [o("target")]),
    ("request", "binding", "source-not-a-uuid",
     _variant(BINDING, f"<oc:source>{SYNCML_UUID}</oc:source>", "<oc:source>42</oc:source>"), [o("source")]),
    ("request", "binding", "unknown-oc-element",
     _variant(BINDING, "</oc:binding>", "<oc:priority>1</oc:priority></oc:binding>"), [o("priority")]),
    # --- detect
    ("request", "detect", "missing-phone-number",
     f"<entry {NS}><title>x</title></entry>", [a("entry"), o("phone_number")]),
    ("request", "detect", "bad-phone-number",
     _variant(DETECT, "+4798765432", "+47 987 65 432"), [o("phone_number")]),
    ("request", "detect", "two-phone-numbers",
     _variant(DETECT, "</entry>", "<oc:phone_number>+4712345678</oc:phone_number></entry>"), [o("phone_number")]),
    ("request", "detect", "unknown-oc-element",
     _variant(DETECT, "</entry>", "<oc:client/></entry>"), [o("client")]),
    # --- phones
    ("response", "phones", "vendor-and-model",
     _variant(PHONES_VENDOR, "</entry>", MODEL_ENTRY_BODY.split("<updated>2009-03-01T00:00:00Z</updated>")[1]
              + "</entry>"),
     ["EntryRequiresOneVendorOrModel"]),
    ("response", "phones", "model-without-server-alert",
     _variant(PHONES_MODEL, "<server_alert>true</server_alert>", ""), [o("model"), "server_alert"]),
    ("response", "phones", "server-alert-not-boolean",
     _variant(PHONES_MODEL, "<server_alert>true</server_alert>", "<server_alert>yes</server_alert>"),
     [o("server_alert")]),
    ("response", "phones", "unknown-oc-element-in-vendor",
     _variant(PHONES_VENDORS_FEED, "<models>188</models>", "<models>188</models><country>FI</country>"),
     [o("country")]),
    ("response", "phones", "author-with-email",
     _variant(PHONES_MODEL, "<name>ObexCode AS</name>", "<name>ObexCode AS</name><email>a@b.c</email>"),
     [a("email")]),
    ("response", "phones", "edit-link",
     _variant(PHONES_MODEL, 'rel="alternate"', 'rel="edit"'), [a("link"), "rel", "'edit'"]),
    # --- detection
    ("response", "detection", "wrong-status",
     _variant(DETECTION_PENDING, "<oc:status>pending", "<oc:status>unknown"), [o("status"), "'unknown'"]),
    ("response", "detection", "missing-code",
     _variant(DETECTION_PENDING, "<oc:code>ys_-qA6m0AxM</oc:code>", ""), [a("entry"), "EntryRequiresOneCode"]),
    ("response", "detection", "model-uuid-not-an-id",
     _variant(DETECTION_DETECTED, f"<oc:model_uuid>{MODEL_UUID}", "<oc:model_uuid>Nokia 6233"),
     [o("model_uuid")]),
    ("response", "detection", "fraction-of-a-second",
     _variant(DETECTION_PENDING, "12:30:00Z", "12:30:00.5Z"), [a("updated")]),
    # --- clients
    ("response", "clients", "unknown-kind",
     _variant(CLIENTS_SYNCML, 'term="syncml"', 'term="imap"'), [a("category"), "term", "'imap'"]),
    ("response", "clients", "client-without-uuid",
     _variant(CLIENTS_SYNCML, f"<uuid>{SYNCML_UUID}</uuid>", ""), [o("client"), "ClientRequiresOneUuid"]),
    ("response", "clients", "client-uuid-not-a-uuid",
     _variant(CLIENTS_FEED, f"<uuid>{AS_UUID}</uuid>", "<uuid>42</uuid>"), [o("uuid")]),
    ("response", "clients", "no-namespace-element-in-client",
     _variant(CLIENTS_SYNCML, "<imei/>", '<imei xmlns=""/>'), ["Element 'imei'"]),
    ("response", "clients", "binding-with-author",
     _variant(CLIENTS_BINDING, "<published>", "<author><name>alice</name></author><published>"),
     ["EntryRequiresOneAuthorOrBinding"]),
    ("response", "clients", "client-entry-without-content",
     _variant(CLIENTS_SYNCML, f'<content src="{SYNCML_URL}" type="text/html"/>', ""),
     [a("entry"), "EntryRequiresOneContentOrBinding"]),
    ("response", "clients", "wrong-dominant",
     _variant(CLIENTS_BINDINGS_FEED, "<dominant>source</dominant>", "<dominant>both</dominant>"),
     [o("dominant"), "'both'"]),
    # --- activesync
    ("response", "activesync", "password-echoed",
     _variant(ACTIVESYNC_ENTRY, "</username>", "</username><password>correct horse battery</password>"),
     [o("password")]),
    ("response", "activesync", "old-pass-echoed-in-feed",
     _variant(ACTIVESYNC_FEED, "</username>", "</username><old_pass>hunter2</old_pass>"), [o("old_pass")]),
    ("response", "activesync", "missing-username",
     _variant(ACTIVESYNC_ENTRY, "<username>alice@corp.example.com</username>", ""), [o("client"), "username"]),
    ("response", "activesync", "author-without-email",
     _variant(ACTIVESYNC_ENTRY, "<email>alice@example.com</email>", ""), [a("author"), "email"]),
    # --- datastore
    ("response", "datastore", "missing-name",
     _variant(DATASTORE_ENTRY, "<name>Backup of my Nokia 6233</name>", ""), [o("client"), "name"]),
    ("response", "datastore", "user-id-zero",
     _variant(DATASTORE_ENTRY, "<user_id>2</user_id>", "<user_id>0</user_id>"), [o("user_id")]),
    ("response", "datastore", "content-type-html",
     _variant(DATASTORE_FEED, f'<content src="{DS_URL}" type="text/html"/>', f'<content src="{DS_URL}" type="html"/>'),
     [a("content"), "'html'"]),
    ("response", "datastore", "missing-uuid",
     _variant(DATASTORE_ENTRY, f"<uuid>{DS_UUID}</uuid>", ""), [o("client"), "uuid"]),
    # --- contents
    ("response", "contents", "wrong-operation",
     _variant(CONTENTS_FEED_SINCE, "<oc:operation>insert", "<oc:operation>upsert"), [o("operation"), "'upsert'"]),
    ("response", "contents", "missing-dataclass",
     _variant(CONTENTS_ENTRY, "<oc:dataclass>contacts</oc:dataclass>", ""),
     [a("entry"), "EntryRequiresOneDataclass"]),
    ("response", "contents", "content-without-type",
     _variant(CONTENTS_ENTRY, '<content type="text/x-vcard">', "<content>"), [a("content"), "'type'"]),
    ("response", "contents", "author-in-entry",
     _variant(CONTENTS_ENTRY, "<published>", "<author><name>alice</name></author><published>"), [a("author")]),
    # --- sessions
    ("response", "sessions", "wrong-outcome",
     _variant(SESSIONS_ENTRY, "<outcome>ok", "<outcome>partial"), [o("outcome"), "'partial'"]),
    ("response", "sessions", "wrong-sync-type",
     _variant(SESSIONS_FEED, 'sync_type="slow"', 'sync_type="one-way"'), [o("datastore"), "sync_type"]),
    ("response", "sessions", "session-without-client",
     _variant(SESSIONS_ENTRY, f"<client>{SYNCML_UUID}</client>", ""), [o("session"), "SessionRequiresOneClient"]),
    ("response", "sessions", "chatlog-wrong-content-type",
     _variant(CHATLOG_FEED, "application/vnd.syncml+xml", "application/xml"), [a("content"), "type"]),
    ("response", "sessions", "chatlog-without-direction",
     _variant(CHATLOG_FEED, "<oc:direction>from-phone</oc:direction>", ""),
     [a("entry"), "EntryRequiresOneSessionOrDirection"]),
    ("response", "sessions", "chatlog-with-published",
     _variant(CHATLOG_FEED, "<oc:direction>to-phone", "<published>2009-11-01T12:40:01Z</published>"
              "<oc:direction>to-phone"),
     ["EntryRequiresOnePublishedOrSessionId"]),
    ("response", "sessions", "session-with-content",
     _variant(SESSIONS_ENTRY, "<published>", '<content type="application/vnd.syncml+xml">x</content><published>'),
     ["EntryRequiresOneSessionOrContent"]),
]
INVALID_IDS = [f"{kind}/{name}:{label}" for kind, name, label, _, _ in INVALID]


def test_every_new_schema_has_two_to_seven_invalid_variants():
    for kind, names in (("request", REQUEST_SCHEMAS), ("response", RESPONSE_SCHEMAS)):
        for name in names:
            count = sum(1 for k, n, *_ in INVALID if (k, n) == (kind, name))
            assert 2 <= count <= 7, f"{kind}/{name}: {count} invalid variants"


@pytest.mark.parametrize("kind,name,label,body,must_name", INVALID, ids=INVALID_IDS)
def test_invalid_variant(kind, name, label, body, must_name):
    assert_invalid(kind, name, body, *must_name)


# ---------------------------------------------------------------------------------------------
# Rules worth a test of their own


def test_activesync_password_is_taken_as_sent():
    """xs:string, not xs:token: a password of spaces is still a password (1-255 chars)."""
    body = _variant(ACTIVESYNC_CREATE, "correct horse battery", "   ")
    assert_valid("request", "activesync-client", body)
    empty = _variant(ACTIVESYNC_CREATE, "<oc:password>correct horse battery</oc:password>", "<oc:password/>")
    assert_invalid("request", "activesync-client", empty, o("password"))


def test_activesync_response_rejects_password_in_every_position():
    for where in ("<uuid>", "<user_id>", "</client>"):
        body = ACTIVESYNC_ENTRY.replace(where, "<password>x</password>" + where, 1)
        assert_invalid("response", "activesync", body, o("password"))


@pytest.mark.parametrize("mime,ok", [
    ("text/x-vcard", True), ("text/calendar", True), ("text/plain; charset=utf-8", True),
    ("text/plain;charset=UTF-8", True), ('multipart/mixed; boundary="a b"', True),
    ("application/vnd.syncml+xml", True), ("text", False), ("text/", False), ("text/plain;", False),
    ("text/plain; charset", False), ("", False),
])
def test_content_type_is_a_mime_type(mime, ok):
    body = CONTENT_ITEM.replace('type="text/x-vcard"', f"type='{mime}'")
    if ok:
        assert_valid("request", "content-item", body)
        assert_valid("response", "contents", CONTENTS_ENTRY.replace('type="text/x-vcard"', f"type='{mime}'"))
    else:
        assert_invalid("request", "content-item", body, a("content"))


def test_content_item_title_up_to_1024_characters():
    assert_valid("request", "content-item", CONTENT_ITEM_RENAME.replace("Ola N.", "t" * 1024))
    assert_invalid("request", "content-item", CONTENT_ITEM_RENAME.replace("Ola N.", "t" * 1025), a("title"))


def test_content_item_dataclass_is_a_non_empty_token_up_to_64():
    assert_valid("request", "content-item", CONTENT_ITEM.replace(">contacts<", ">" + "d" * 64 + "<"))
    for value in ("", "  ", "d" * 65):
        assert_invalid("request", "content-item", CONTENT_ITEM.replace(">contacts<", f">{value}<"), o("dataclass"))


def test_content_item_rejects_other_namespaces_and_no_namespace():
    assert_invalid("request", "content-item", CONTENT_ITEM.replace("<updated>", '<x:y xmlns:x="urn:x"/><updated>'),
                   "{urn:x}y")
    assert_invalid("request", "content-item", CONTENT_ITEM.replace("<updated>", '<note xmlns=""/><updated>'),
                   "Element 'note'")


@pytest.mark.parametrize("stamp", ["2009-11-01T12:30:00", "2009-11-01T12:30:00+00:00", "2009-11-01 12:30:00Z",
                                   "2009-11-01T123000Z"])
def test_response_timestamps_are_utc_seconds_with_z(stamp):
    body = CONTENTS_ENTRY.replace("<updated>2009-11-01T12:30:00Z</updated>", f"<updated>{stamp}</updated>")
    assert_invalid("response", "contents", body, a("updated"))


def test_tombstone_without_content_is_valid_on_its_own():
    assert_valid("response", "contents", f"<entry {NS}>{TOMBSTONE_BODY}</entry>")


def test_entry_with_both_client_and_binding():
    body = CLIENTS_SYNCML.replace("</entry>", BINDING_ENTRY_BODY.split("</updated>")[1] + "</entry>")
    assert_invalid("response", "clients", body, "EntryRequiresOneClientOrBinding")


def test_entry_with_both_session_and_session_id():
    body = SESSIONS_ENTRY.replace("</entry>", f'<session_id xmlns="{OC}">1</session_id></entry>')
    assert_invalid("response", "sessions", body, "EntryRequiresOneSessionOrSessionId")


def test_phones_entry_needs_vendor_or_model():
    body = _variant(PHONES_VENDOR, VENDOR_ENTRY_BODY.split("</updated>")[1], "")
    assert_invalid("response", "phones", body, a("entry"), "EntryRequiresOneVendorOrModel")


def test_detection_model_uuid_at_most_once():
    body = DETECTION_DETECTED.replace("</entry>", "<oc:model_uuid>242</oc:model_uuid></entry>")
    assert_invalid("response", "detection", body, "EntryAllowsOneModelUuid")
