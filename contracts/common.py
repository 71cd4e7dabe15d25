"""What contracts share: the docs' request bodies, XML lookups, and set-up through the
public API (every object created is named with the run id and put in the ledger)."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from contracts.doc_examples import load_message

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
# The API documents by title, as `documented(doc, section, spec)` markers cite them.
GDATA_DOC = "Google Data Client API"
SYNCML_DOC = "SyncML API"
LIBRARY_DOC = "SyncServer API Python interface"
DECISIONS = "docs/decisions.md"  # the project's own decisions, where the documents are silent
# The Google Data Client API's rule ('Authorization': operations only on objects of the
# current user), which the fake applies to every endpoint.
OTHER_USERS = f"{GDATA_DOC}, 'Authorization', applied everywhere: another user's object is 403"
G = "/v2/services/google/"
S = "/v2/services/syncml/"
ATOM_TYPE = "application/atom+xml"


def doc_request(exchange: str, substitute: dict[str, str] | None = None) -> bytes:
    """The body of a documented request, with the run's own values put in for the docs'."""
    _, _, body = load_message(exchange, "request")
    text = body.decode("utf-8")
    for old, new in sorted((substitute or {}).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(old, new)
    return text.encode("utf-8")


def xpath(reply_or_root, path: str) -> list:
    root = reply_or_root.xml() if hasattr(reply_or_root, "xml") else reply_or_root
    return root.xpath(path, namespaces=NS)


def text(reply_or_root, path: str) -> str | None:
    found = xpath(reply_or_root, path)
    if not found:
        return None
    return found[0] if isinstance(found[0], str) else (found[0].text or "")


def entry_ids(reply) -> list[str]:
    return [e.text for e in xpath(reply, "/a:feed/a:entry/a:id")]


def foreign_entries(reply, run_id: str) -> list[bytes]:
    """The entries of a feed that this run did not make. Other contracts (other xdist
    workers) create and delete concurrently, so "nothing changed" is checked on these."""
    return sorted(etree.tostring(e) for e in xpath(reply, "/a:feed/a:entry")
                  if run_id not in etree.tostring(e).decode())


def uuid_of(reply) -> str:
    """The uuid of the entry a 201 answered."""
    return text(reply, "/a:entry/oc:client/oc:uuid") or text(reply, "/a:entry/a:id").rstrip("/").rsplit("/", 1)[-1]


# --- Google Data clients (Google Data Client API) ---------------------------------------------
class GData:
    """Values of one run-owned GData client, mirroring the docs' `some_user@gmail.com`."""

    def __init__(self, contract) -> None:
        self.user_id = contract.name("gdata") + "@example.com"
        self.key = contract.secret("gdata-token-key")
        self.secret = contract.secret("gdata-token-secret")

    @property
    def substitute(self) -> dict:
        return {"some_user@gmail.com": self.user_id, "secret_key": self.key, "secret_secret": self.secret}

    @property
    def replace(self) -> dict:
        """The snapshot transformer: our values read as the docs' again."""
        return {self.user_id: "some_user@gmail.com", self.user_id.replace("@", "%40"): "some_user%40gmail.com"}

    def listed_body(self) -> bytes:
        """A create request for the client that the Google Data Client API's listing and GET
        examples show: two datastores named Test, tokens with two scopes each."""
        quoted = self.user_id.replace("@", "%40")

        def store(dataclass, href, scope):
            return (f'<datastore dataclass="{dataclass}" href="{href}" name="Test"><token>'
                    f"<token_type>2</token_type><key>{self.key}</key><secret>{self.secret}</secret>"
                    f"<scope>https://www.google.com/{scope}/feeds/</scope>"
                    f"<scope>http://www.google.com/{scope}/feeds/</scope></token></datastore>")
        return (f'<entry xmlns="{ATOM}"><client xmlns="{OC}"><user_id>{self.user_id}</user_id>'
                + store("Calendar", "http://www.google.com/calendar/feeds/e0an755fcc57j0a25ptli0d22g%40group."
                                    "calendar.google.com/private/full", "calendar")
                + store("Contacts", f"http://www.google.com/m8/feeds/groups/{quoted}/base/7d2f83ef088611c8", "m8")
                + "</client></entry>").encode()


def create_gdata(contract, values: GData | None = None, body: bytes | None = None, role: str = "user"):
    """POST the docs' create request (Google Data Client API, 'Add a new client') with
    run-owned values."""
    values = values or GData(contract)
    api = contract.api_of(role)
    reply = api.post(G, body or doc_request("gdata-create", values.substitute))
    assert reply.status_line == (201, "Created"), reply.text[:300]
    uuid = uuid_of(reply)
    contract.created("gdata", values.user_id, f"{G}{uuid}/", role)
    return reply, uuid, values


# --- SyncML clients (SyncML API) -------------------------------------------------------------
def syncml_body(phone: str, model: str, timezone: str = "Europe/Paris") -> bytes:
    return doc_request("syncml-create", {"+4798765432": phone, "02978288-537f-102b-beff-000ea60275d1": model,
                                         "Europe/Paris": timezone})


def create_syncml(contract, model: str = "02978288-537f-102b-beff-000ea60275d1", phone: str | None = None,
                  timezone: str = "Europe/Paris", role: str = "user"):
    """POST the docs' create request (SyncML API, 'Create a new client') for a run-owned client."""
    phone = phone or contract.phone_number()
    reply = contract.api_of(role).post(S, syncml_body(phone, model, timezone))
    assert reply.status_line == (201, "Created"), reply.text[:300]
    uuid = uuid_of(reply)
    contract.created("syncml", phone, f"{S}{uuid}", role)
    return reply, uuid, phone


# --- datastore contents (docs/decisions.md, "Bodies of the inferred routes") ----------------------
def item_body(data: str | None = None, ctype: str | None = None, title: str | None = None,
              dataclass: str | None = None) -> bytes:
    """`<title>`, `<content type="{mime}">{data}</content>`, optional `oc:dataclass`
    (docs/decisions.md, "Bodies of the inferred routes")."""
    parts = []
    if title is not None:
        parts.append(f"<title>{escape(title)}</title>")
    if data is not None:
        type_attr = f" type={quoteattr(ctype)}" if ctype is not None else ""
        parts.append(f"<content{type_attr}>{escape(data)}</content>")
    if dataclass is not None:
        parts.append(f"<oc:dataclass>{escape(dataclass)}</oc:dataclass>")
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">{"".join(parts)}</entry>'.encode()
