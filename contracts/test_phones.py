"""The phones database and handset detection: routes I1–I8, inferred from the SyncServer
API Python interface ("Phones", "Vendors", "Models": detect_auto, detect_manual,
detect_poll) and shaped by docs/decisions.md, "Bodies of the inferred routes".

The phones database is the service's, read-only and the same for every account: contracts
read it anonymously and signed, and look vendors up by name in the vendors feed rather
than assume their ids. Model ids are the ones 003 shows (`112`, `56`, `242`, and 6233's
UUID). Detection is per account: a detection code is made by detect/manual, which sends
an SMS (side-effecting: only to the test phone); what happens when the phone opens the
link is driven through the fake's simulated phone (fake-only), since opening the link
from here would tell a live service a lie about the test phone.

The inferred routes have no recordings: their snapshot keys stay "unrecorded" until a live
run records them with --ocss-snapshot-update.
"""
from __future__ import annotations

import re

import pytest

from contracts.common import ATOM, ATOM_TYPE, DECISIONS, LIBRARY_DOC, OC, text, xpath

P = "/v2/phones/"
VENDORS = P + "vendors/"
MODELS = P + "models/"
AUTO = P + "detect/auto/"
MANUAL = P + "detect/manual/"
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"
# docs/decisions.md, "Bodies of the inferred routes": the models the SyncML API names, both
# forms of the 6233's id
MODELS_BY_REF = {"112": "Nokia 5310 XpressMusic", "56": "Nokia 5800 XpressMusic", "242": "Nokia 6233",
                 NOKIA_6233_UUID: "Nokia 6233"}
# 000 "Getting started": `print vendor.name, len(vendor.models)`, in this order, then "etc."
GETTING_STARTED = [("HTC", 26), ("Nokia", 188), ("LG", 5), ("Sony Ericsson", 84)]
UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"
NOKIA_6233_UA = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
NOKIA_5800_UA = ("Mozilla/5.0 (SymbianOS/9.4; U; Series60/5.0 Nokia5800d-1/21.0.025; Profile/MIDP-2.1 "
                 "Configuration/CLDC-1.1 ) AppleWebKit/413 (KHTML, like Gecko) Safari/413")
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CODE_PAGE = {r"/detect/manual/[^/<>\s]+/": "/detect/manual/<code>/"}  # snapshot transformers
CODE_FIELDS = ("entry/code",)
DOC_PHONE = "+4798765432"  # 003's example number: a run's phone reads as it in snapshots
MODEL_BODY = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><title>Nokia 9999</title>'
              "<oc:model><oc:name>Nokia 9999</oc:name></oc:model></entry>")
BAD_NUMBERS = {  # (body, reason): "Bad input"; "No Entry provided" as in the Google Data Client API
    "no entry": (b"", "No Entry provided"),
    "no phone_number": (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><title>x</title></entry>'.encode(), "Bad Request"),
    "empty phone_number": (None, "Bad Request"),
    "letters": ("not-a-number", "Bad Request"),
    "too short": ("1234", "Bad Request"),
    "too long": ("+1234567890123456", "Bad Request"),
    "two numbers": (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+447700900001</oc:phone_number>'
                    "<oc:phone_number>+447700900002</oc:phone_number></entry>".encode(), "Bad Request"),
    "malformed": (b"<entry><oc:phone_number>", "Bad Request"),
    "entity": (f'<!DOCTYPE entry [<!ENTITY n "+447700900001">]><entry xmlns="{ATOM}" xmlns:oc="{OC}">'
               "<oc:phone_number>&n;</oc:phone_number></entry>".encode(), "Bad Request"),
}


# --- helpers ---------------------------------------------------------------------------------
def detect_body(number: str) -> bytes:
    """A detection request is an entry holding `<oc:phone_number>` (docs/decisions.md,
    "Bodies of the inferred routes")."""
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{number}</oc:phone_number></entry>'.encode()


def bad_body(case: str) -> tuple[bytes, str]:
    body, reason = BAD_NUMBERS[case]
    if body is None:
        return detect_body(""), reason
    if isinstance(body, str):
        return detect_body(body), reason
    return body, reason


def fresh_number(contract) -> str:
    """A fictional number (Ofcom's drama range), never detected: unknown to detect/auto."""
    return "+447700900" + contract.ledger.digits()[-3:]


def atom_ok(reply, status: int = 200, reason: str = "OK"):
    assert reply.status_line == (status, reason), (reply, reply.text[:300])
    assert reply.content_type == ATOM_TYPE
    return reply.xml()


def path_of(contract, url: str) -> str:
    assert url.startswith(contract.base_url + "/"), f"{url} is not an absolute URL of {contract.base_url}"
    return url[len(contract.base_url):]


def allowed(reply) -> set[str]:
    return {m.strip().upper() for m in reply.headers.get("Allow", "").split(",") if m.strip()}


def assert_plain_error(reply, status: int, reason: str) -> None:
    assert reply.status_line == (status, reason), (reply, reply.text[:300])
    assert reply.body.strip(), "an error answers a human-readable reason"
    assert b"Traceback" not in reply.body


def links_to(entry, prefix: str) -> list[str]:
    return [h for h in xpath(entry, "a:link/@href") if h.startswith(prefix)]


def check_vendor_entry(contract, entry, name: str) -> str:
    """A vendor entry per docs/decisions.md: title = name, oc:vendor with oc:name and oc:image_url, an
    absolute id with a self link, and a link to its models. Returns the vendor's path."""
    url = text(entry, "a:id")
    assert url and url.startswith(f"{contract.base_url}{VENDORS}"), url
    assert text(entry, "a:title") == name
    assert len(xpath(entry, "oc:vendor")) == 1, "one oc:vendor in the SyncServer namespace"
    assert text(entry, "oc:vendor/oc:name") == name
    assert (text(entry, "oc:vendor/oc:image_url") or "").startswith("http")
    assert text(entry, "a:link[@rel='self']/@href") == url
    path = path_of(contract, url).rstrip("/") + "/"
    models = f"{contract.base_url}{path}models/"
    assert models in xpath(entry, "a:link/@href") or models.rstrip("/") in xpath(entry, "a:link/@href"), \
        "a vendor entry links to its models"
    return path


def check_model_entry(contract, entry, name: str) -> str:
    """A model entry per docs/decisions.md: title = name, oc:model with oc:name and oc:image_url, an
    absolute id with a self link, and a link to its vendor. Returns the vendor's URL."""
    url = text(entry, "a:id")
    assert url and url.startswith(f"{contract.base_url}{MODELS}"), url
    assert text(entry, "a:title") == name
    assert len(xpath(entry, "oc:model")) == 1, "one oc:model in the SyncServer namespace"
    assert text(entry, "oc:model/oc:name") == name
    assert (text(entry, "oc:model/oc:image_url") or "").startswith("http")
    assert text(entry, "a:link[@rel='self']/@href") == url
    vendor = links_to(entry, f"{contract.base_url}{VENDORS}")
    assert len(vendor) == 1, f"a model entry links to its vendor once: {vendor}"
    return vendor[0]


def vendor_path(contract, name: str) -> str:
    """The path of a vendor, found by name in the vendors feed (ids are the service's)."""
    reply = contract.anonymous.get(VENDORS)
    (entry,) = xpath(atom_ok(reply), f"/a:feed/a:entry[a:title='{name}']")
    return path_of(contract, text(entry, "a:id")).rstrip("/") + "/"


def start_detection(contract, number: str | None = None):
    """detect/manual (I6) for the test phone: (code, the 201 reply)."""
    reply = contract.api.post(MANUAL, detect_body(number or contract.test_phone))
    atom_ok(reply, 201, "Created")
    code = text(reply, "/a:entry/oc:code")
    assert code and re.fullmatch(r"[A-Za-z0-9_\-.~]+", code), f"not a code for a URL: {code!r}"
    return code, reply


def poll(contract, code: str, role: str = "user"):
    return contract.api_of(role).get(f"{MANUAL}{code}/")


def check_detection(contract, reply, code: str, number: str, status: str):
    """A detection entry (I6/I7): absolute id …/detect/manual/{code}/, self link, oc:code,
    oc:phone_number, oc:status; the model only when detected."""
    root = atom_ok(reply) if reply.status == 200 else reply.xml()
    assert root.tag == f"{{{ATOM}}}entry"
    url = f"{contract.base_url}{MANUAL}{code}/"
    assert text(root, "a:id") == url
    assert text(root, "a:link[@rel='self']/@href") == url
    assert text(root, "oc:code") == code
    assert text(root, "oc:phone_number") == number
    assert text(root, "oc:status") == status
    if status != "detected":
        assert not xpath(root, "oc:model_uuid"), f"a {status} detection names no model"
        assert not links_to(root, f"{contract.base_url}{MODELS}"), f"a {status} detection links to no model"
    return root


# --- I1 vendors -------------------------------------------------------------------------------
@pytest.mark.inferred("I1", basis=f"{LIBRARY_DOC}, 'Phones', 'Vendors': api.phones.vendors, no credentials needed")
@pytest.mark.read_only
def test_vendors_feed_is_anonymous(contract):
    reply = contract.anonymous.get(VENDORS)
    contract.match("phones-vendors", reply, keep=[], indices=[])
    feed = atom_ok(reply)
    assert feed.tag == f"{{{ATOM}}}feed"
    assert text(feed, "a:id") == f"{contract.base_url}{VENDORS}"
    assert text(feed, "a:link[@rel='self']/@href") == f"{contract.base_url}{VENDORS}"
    entries = xpath(feed, "a:entry")
    assert entries, "the vendors feed is empty"
    names = [text(e, "oc:vendor/oc:name") for e in entries]
    assert len(set(names)) == len(names), "a vendor is listed twice"
    for entry, name in zip(entries, names):
        check_vendor_entry(contract, entry, name)


@pytest.mark.inferred("I1", basis=f"{LIBRARY_DOC}, 'Phones': credentials are not required, and do no harm")
@pytest.mark.read_only
@pytest.mark.parametrize("path", [VENDORS, "vendor"], ids=["feed", "entry"])
def test_vendors_signed_read_as_anonymous(contract, path):
    if path == "vendor":
        path = vendor_path(contract, "Nokia")
    anonymous, signed = contract.anonymous.get(path), contract.api.get(path)
    atom_ok(anonymous)
    atom_ok(signed)
    assert signed.body == anonymous.body, "a signed request reads another phones database"


@pytest.mark.inferred("I1", basis=f"{LIBRARY_DOC}, 'Vendors': api.phones.vendors['some-vendor-id']")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("slash", ["/", ""], ids=["slash", "no-slash"])
def test_one_vendor(contract, role, slash):
    path = vendor_path(contract, "Nokia")
    reply = contract.api_of(role).get(path.rstrip("/") + slash)
    contract.match("phones-vendor", reply, fields=("vendor/models",))
    entry = atom_ok(reply)
    assert entry.tag == f"{{{ATOM}}}entry"
    assert check_vendor_entry(contract, entry, "Nokia") == path, "one vendor, one id"


@pytest.mark.inferred("I1", basis=f"{LIBRARY_DOC}, 'Collections': NotFoundError \"No Vendor with ID "
                                  "'invalid-vendor-id'\"")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("vendor", ["invalid-vendor-id", "99999", UNKNOWN_UUID])
def test_unknown_vendor_is_404(contract, role, vendor):
    assert_plain_error(contract.api_of(role).get(f"{VENDORS}{vendor}/"), 404, "Not Found")


# --- I2 a vendor's models -----------------------------------------------------------------------
@pytest.mark.inferred("I2", basis=f"{LIBRARY_DOC}, 'Vendors': vendor.models, a Models collection")
@pytest.mark.read_only
def test_vendor_models_feed(contract):
    path = vendor_path(contract, "Nokia")
    vendor_url = contract.base_url + path
    reply = contract.anonymous.get(path + "models/")
    contract.match("phones-vendor-models", reply, keep=[], indices=[])
    feed = atom_ok(reply)
    assert feed.tag == f"{{{ATOM}}}feed"
    assert text(feed, "a:id") == f"{vendor_url}models/"
    assert text(feed, "a:link[@rel='self']/@href") == f"{vendor_url}models/"
    entries = xpath(feed, "a:entry")
    names = {text(e, "oc:model/oc:name"): e for e in entries}
    assert len(names) == len(entries), "a model is listed twice"
    for name in ("Nokia 6233", "Nokia 5310 XpressMusic", "Nokia 5800 XpressMusic"):
        assert name in names, f"{name} is not among Nokia's models"
    for name, entry in names.items():
        vendor = check_model_entry(contract, entry, name)
        assert vendor.rstrip("/") == vendor_url.rstrip("/"), f"{name} links to {vendor}, not to Nokia"


@pytest.mark.inferred("I2", basis=f"{LIBRARY_DOC}, 'Getting started': print vendor.name, len(vendor.models)")
@pytest.mark.read_only
def test_getting_started_counts(contract):
    """000's first example lists HTC 26, Nokia 188, LG 5, Sony Ericsson 84, "etc."."""
    feed = atom_ok(contract.anonymous.get(VENDORS))
    names = [text(e, "a:title") for e in xpath(feed, "a:entry")]
    assert names[:4] == [name for name, _ in GETTING_STARTED] and len(names) > 4, names
    for name, count in GETTING_STARTED:
        models = atom_ok(contract.anonymous.get(vendor_path(contract, name) + "models/"))
        assert len(xpath(models, "a:entry")) == count, f"len({name}.models)"


@pytest.mark.inferred("I2", basis=f"{LIBRARY_DOC}, 'Vendors': vendor.models of an unknown vendor: NotFoundError")
@pytest.mark.read_only
@pytest.mark.parametrize("vendor", ["invalid-vendor-id", "99999"])
def test_models_of_an_unknown_vendor_is_404(contract, vendor):
    assert_plain_error(contract.anonymous.get(f"{VENDORS}{vendor}/models/"), 404, "Not Found")


# --- I3 models ---------------------------------------------------------------------------------
@pytest.mark.inferred("I3", basis=f"{LIBRARY_DOC}, 'Models': api.phones.models, every vendor's")
@pytest.mark.read_only
def test_models_feed(contract):
    reply = contract.anonymous.get(MODELS)
    contract.match("phones-models", reply, keep=[], indices=[])
    feed = atom_ok(reply)
    assert feed.tag == f"{{{ATOM}}}feed"
    assert text(feed, "a:id") == f"{contract.base_url}{MODELS}"
    assert text(feed, "a:link[@rel='self']/@href") == f"{contract.base_url}{MODELS}"
    entries = xpath(feed, "a:entry")
    ids = [text(e, "a:id") for e in entries]
    assert len(set(ids)) == len(ids), "a model is listed twice"
    by_id = {i: e for i, e in zip(ids, entries)}
    for ref in ("112", "56", "242"):
        entry = by_id.get(f"{contract.base_url}{MODELS}{ref}", by_id.get(f"{contract.base_url}{MODELS}{ref}/"))
        assert entry is not None, f"model {ref} is not in the feed"
        check_model_entry(contract, entry, MODELS_BY_REF[ref])
    for entry in entries:
        assert text(entry, "a:title") == text(entry, "oc:model/oc:name")


@pytest.mark.inferred("I3", basis=f"{LIBRARY_DOC}, 'Models': api.phones.models['some-model-id']; the SyncML API's "
                                  "model ids 112, 56, 242, UUID")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("ref", list(MODELS_BY_REF))
def test_one_model(contract, ref, role):
    name = MODELS_BY_REF[ref]
    reply = contract.api_of(role).get(f"{MODELS}{ref}/")
    if name == "Nokia 6233":
        contract.match("phones-model", reply)
    entry = atom_ok(reply)
    assert entry.tag == f"{{{ATOM}}}entry"
    vendor = check_model_entry(contract, entry, name)
    assert text(atom_ok(contract.anonymous.get(path_of(contract, vendor))), "a:title") == "Nokia", \
        "the model's vendor link leads to Nokia"
    if ref.isdigit():  # one model, one id: the numeric id names the entry
        assert text(entry, "a:id").rstrip("/") == f"{contract.base_url}{MODELS}{ref}"


@pytest.mark.inferred("I3", basis=f"{DECISIONS}, 'Bodies of the inferred routes': model ids may be integers (242) "
                                  "or UUIDs, both a Nokia 6233 in the SyncML API")
@pytest.mark.read_only
@pytest.mark.parametrize("slash", ["/", ""], ids=["slash", "no-slash"])
def test_model_by_uuid_is_the_model_by_id(contract, slash):
    by_id = contract.anonymous.get(f"{MODELS}242{slash}")
    by_uuid = contract.anonymous.get(f"{MODELS}{NOKIA_6233_UUID}{slash}")
    atom_ok(by_id)
    atom_ok(by_uuid)
    assert by_uuid.body == by_id.body, "the UUID and the numeric id name different entries"


@pytest.mark.inferred("I3", basis=f"{LIBRARY_DOC}, 'Collections': a non-existent member is NotFoundError")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("ref", ["99999", "0", UNKNOWN_UUID, "some-model-id"])
def test_unknown_model_is_404(contract, ref, role):
    assert_plain_error(contract.api_of(role).get(f"{MODELS}{ref}/"), 404, "Not Found")


# --- I4 the phones API is read-only -------------------------------------------------------------
PHONES_PATHS = ["vendors", "vendor", "vendor-models", "models", "model"]


def _phones_path(contract, which: str) -> str:
    if which in ("vendor", "vendor-models"):
        path = vendor_path(contract, "Nokia")
        return path + ("models/" if which == "vendor-models" else "")
    return {"vendors": VENDORS, "models": MODELS, "model": f"{MODELS}242/"}[which]


@pytest.mark.inferred("I4", basis=f"{LIBRARY_DOC}, 'Exceptions': NotAllowedError: the phones API is read-only, "
                                  "update()/delete() fail")
@pytest.mark.mutating  # refused, but a write all the same: the safety guard counts it
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("which", PHONES_PATHS)
def test_every_write_is_not_allowed(contract, which, method, role):
    path = _phones_path(contract, which)
    before = contract.anonymous.get(path)
    atom_ok(before)
    body = MODEL_BODY.encode() if method != "DELETE" else None
    reply = contract.api_of(role).request(method, path, body)
    if (which, method, role) == ("model", "PUT", "user"):
        contract.match("phones-not-allowed", reply)
    assert_plain_error(reply, 405, "Method Not Allowed")
    methods = allowed(reply)
    assert "GET" in methods and method not in methods, f"Allow: {reply.headers.get('Allow')!r}"
    assert not methods & {"POST", "PUT", "DELETE"}, "the phones API allows no write"
    assert contract.anonymous.get(path).body == before.body, f"a refused {method} changed {path}"


@pytest.mark.inferred("I4", basis=f"{LIBRARY_DOC}, 'Models': detect_* are the phones API's only operations that send")
@pytest.mark.mutating
@pytest.mark.parametrize("method, path", [("PUT", AUTO), ("DELETE", AUTO), ("PUT", MANUAL), ("DELETE", MANUAL),
                                          ("POST", f"{MANUAL}no-such-code/"), ("PUT", f"{MANUAL}no-such-code/"),
                                          ("DELETE", f"{MANUAL}no-such-code/")])
def test_other_writes_on_detection_urls_are_not_allowed(contract, method, path):
    body = detect_body(fresh_number(contract)) if method != "DELETE" else None
    reply = contract.api.request(method, path, body)
    assert_plain_error(reply, 405, "Method Not Allowed")
    methods = allowed(reply)
    assert methods and method not in methods, f"Allow: {reply.headers.get('Allow')!r}"
    if path in (AUTO, MANUAL):
        assert methods == {"POST"}, f"Allow: {reply.headers.get('Allow')!r}"
    else:  # a detection is only polled
        assert "GET" in methods and not methods & {"POST", "PUT", "DELETE"}, f"Allow: {reply.headers.get('Allow')!r}"


# --- I5 detect/auto ------------------------------------------------------------------------------
@pytest.mark.inferred("I5", basis=f"{LIBRARY_DOC}, 'Models': detect_auto(number) gives a Model, or None otherwise")
@pytest.mark.mutating
def test_auto_detection_of_an_unknown_number_is_204(contract):
    reply = contract.api.post(AUTO, detect_body(fresh_number(contract)))
    contract.match("detect-auto-unknown", reply)
    assert reply.status_line == (204, "No Content")
    assert reply.body == b""


@pytest.mark.inferred("I5", basis=f"{DECISIONS}, 'Liberal where the docs show variants': oc: elements prefixed or "
                                  "in the default namespace")
@pytest.mark.mutating
def test_auto_detection_takes_the_default_namespace_too(contract):
    body = (f'<entry xmlns="{ATOM}"><phone_number xmlns="{OC}">{fresh_number(contract)}</phone_number></entry>')
    assert contract.api.post(AUTO, body).status_line == (204, "No Content")


@pytest.mark.inferred("I5", basis=f"{LIBRARY_DOC}, 'Models': detect_auto is 'for allowed users' (may_detect_auto)")
@pytest.mark.mutating
def test_auto_detection_needs_the_permission(contract):
    """The second account (bob in the demo world) lacks may_detect_auto."""
    reply = contract.other.post(AUTO, detect_body(fresh_number(contract)))
    assert_plain_error(reply, 403, "Forbidden")


@pytest.mark.inferred("I5", basis=f"{LIBRARY_DOC}, 'Models': the detect_* methods require authentication credentials")
@pytest.mark.mutating
def test_auto_detection_needs_oauth(contract):
    reply = contract.anonymous.post(AUTO, detect_body(fresh_number(contract)))
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.inferred("I5", basis=f"{DECISIONS}, 'Bad input': bad input gets a clear 4xx")
@pytest.mark.mutating
@pytest.mark.parametrize("case", list(BAD_NUMBERS))
def test_auto_detection_refuses_a_bad_number(contract, case):
    body, reason = bad_body(case)
    assert_plain_error(contract.api.post(AUTO, body, headers={"Content-Type": ATOM_TYPE}), 400, reason)


@pytest.mark.inferred("I5", basis=f"{LIBRARY_DOC}, 'Models': detect_auto knows a handset the service identified before")
@pytest.mark.side_effecting
@pytest.mark.fake_only("drives the simulated phone through a manual detection first")
def test_auto_detection_knows_a_detected_number(contract, fake):
    number = "+447700900233"
    assert contract.api.post(AUTO, detect_body(number)).status_line == (204, "No Content")
    start_detection(contract, number)
    fake.phone(number).visit(NOKIA_6233_UA)
    reply = contract.api.post(AUTO, detect_body(number))
    contract.match("detect-auto", reply)
    entry = atom_ok(reply)
    assert entry.tag == f"{{{ATOM}}}entry"
    vendor = check_model_entry(contract, entry, "Nokia 6233")
    assert text(entry, "a:id").rstrip("/") == f"{contract.base_url}{MODELS}242"
    assert text(atom_ok(contract.anonymous.get(path_of(contract, vendor))), "a:title") == "Nokia"
    assert contract.api.post(AUTO, detect_body("+447700900234")).status == 204, "other numbers stay unknown"
    # the permission still holds for a known number
    assert_plain_error(contract.other.post(AUTO, detect_body(number)), 403, "Forbidden")


@pytest.mark.inferred("I5", basis=f"{DECISIONS}, 'Bad input': a refused request changes nothing")
@pytest.mark.side_effecting
@pytest.mark.fake_only("compares the fake's whole state before and after")
def test_refused_auto_detections_change_nothing(contract, fake):
    number = "+447700900235"
    before = fake.state.get()
    for case in BAD_NUMBERS:
        body, _ = bad_body(case)
        assert contract.api.post(AUTO, body, headers={"Content-Type": ATOM_TYPE}).status == 400
    assert contract.other.post(AUTO, detect_body(number)).status == 403
    assert contract.anonymous.post(AUTO, detect_body(number)).status == 401
    assert fake.state.get() == before


# --- I6 detect/manual ----------------------------------------------------------------------------
@pytest.mark.inferred("I6", basis=f"{LIBRARY_DOC}, 'Models': detect_manual(number) sends a message, returns a "
                                  "unique code")
@pytest.mark.side_effecting
def test_manual_detection_answers_a_code(contract):
    number = contract.test_phone
    code, reply = start_detection(contract, number)
    contract.match("detect-manual", reply, replace={number: DOC_PHONE}, fields=CODE_FIELDS, regex=CODE_PAGE)
    url = f"{contract.base_url}{MANUAL}{code}/"
    assert reply.headers.get("Location") == url
    check_detection(contract, reply, code, number, "pending")
    second, _ = start_detection(contract, number)
    assert second != code, "each detection has its own code"


@pytest.mark.inferred("I6", basis=f"{LIBRARY_DOC}, 'Models': detect_manual sends the phone a link to a detection page")
@pytest.mark.side_effecting
@pytest.mark.fake_only("reads the outbox: the SMS the phone would get")
def test_manual_detection_sends_the_link(contract, fake):
    number = contract.test_phone
    assert fake.outbox.messages(to=number) == []
    code, _ = start_detection(contract, number)
    (sms,) = fake.outbox.messages(to=number)
    assert sms.kind == "detection-link" and sms.code == code
    found = re.findall(r"https?://\S+", sms.body)
    assert [u.rstrip(".,;") for u in found] == [f"{contract.base_url}/d/{code}"], sms.body


@pytest.mark.inferred("I6", basis=f"{DECISIONS}, 'Bad input': a missing or invalid phone number gets a clear 4xx")
@pytest.mark.side_effecting
@pytest.mark.parametrize("case", list(BAD_NUMBERS))
def test_manual_detection_refuses_a_bad_number(contract, case):
    body, reason = bad_body(case)
    assert_plain_error(contract.api.post(MANUAL, body, headers={"Content-Type": ATOM_TYPE}), 400, reason)


@pytest.mark.inferred("I6", basis=f"{LIBRARY_DOC}, 'Models': the detect_* methods require authentication credentials")
@pytest.mark.side_effecting
def test_manual_detection_needs_oauth(contract):
    reply = contract.anonymous.post(MANUAL, detect_body(contract.test_phone))
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.inferred("I6", basis=f"{DECISIONS}, 'Bad input': a refused request changes nothing and sends nothing")
@pytest.mark.side_effecting
@pytest.mark.fake_only("compares the fake's whole state and outbox before and after")
def test_refused_manual_detections_send_nothing(contract, fake):
    before = fake.state.get()
    for case in BAD_NUMBERS:
        body, _ = bad_body(case)
        assert contract.api.post(MANUAL, body, headers={"Content-Type": ATOM_TYPE}).status == 400
    assert contract.anonymous.post(MANUAL, detect_body(contract.test_phone)).status == 401
    assert contract.api.post(MANUAL, detect_body(contract.test_phone),
                             headers={"Content-Type": "application/json"}).status == 415
    assert fake.state.get() == before
    assert list(fake.outbox) == []


# --- I7 detect_poll ------------------------------------------------------------------------------
@pytest.mark.inferred("I7", basis=f"{LIBRARY_DOC}, 'Models': detect_poll(code) is None until the phone visits the page")
@pytest.mark.side_effecting
@pytest.mark.parametrize("slash", ["/", ""], ids=["slash", "no-slash"])
def test_poll_is_pending_before_the_visit(contract, slash):
    number = contract.test_phone
    code, _ = start_detection(contract, number)
    reply = contract.api.get(f"{MANUAL}{code}{slash}")
    contract.match("detect-poll-pending", reply, replace={number: DOC_PHONE}, fields=CODE_FIELDS, regex=CODE_PAGE)
    check_detection(contract, reply, code, number, "pending")


@pytest.mark.inferred("I7", basis=f"{LIBRARY_DOC}, 'Models': detect_poll raises a ClientError if an invalid code "
                                  "was used")
@pytest.mark.read_only
@pytest.mark.parametrize("slash", ["/", ""], ids=["slash", "no-slash"])
def test_poll_of_an_unknown_code_is_400(contract, slash):
    assert_plain_error(contract.api.get(f"{MANUAL}no-such-code{slash}"), 400, "Bad Request")


@pytest.mark.inferred("I7", basis=f"{LIBRARY_DOC}, 'Models': the detect_* methods require authentication credentials")
@pytest.mark.read_only
def test_poll_needs_oauth(contract):
    reply = contract.anonymous.get(f"{MANUAL}no-such-code/")
    assert reply.status == 401
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.inferred("I7", basis=f"{DECISIONS}, 'Another user's object': another user's object is 403")
@pytest.mark.side_effecting
def test_poll_of_another_users_code_is_forbidden(contract):
    number = contract.test_phone
    code, _ = start_detection(contract, number)
    assert_plain_error(poll(contract, code, "other"), 403, "Forbidden")
    check_detection(contract, poll(contract, code), code, number, "pending")


@pytest.mark.inferred("I7", basis=f"{LIBRARY_DOC}, 'Models': detect_poll gives the detected Model once the page was "
                                  "visited")
@pytest.mark.side_effecting
@pytest.mark.fake_only("the simulated phone opens the detection link")
def test_poll_after_the_phone_visited_names_the_model(contract, fake):
    number = contract.test_phone
    code, _ = start_detection(contract, number)
    fake.phone(number).visit(NOKIA_6233_UA)
    reply = poll(contract, code)
    contract.match("detect-poll-detected", reply, replace={number: DOC_PHONE}, fields=CODE_FIELDS,
                   regex=CODE_PAGE)
    entry = check_detection(contract, reply, code, number, "detected")
    assert text(entry, "oc:model_uuid") == NOKIA_6233_UUID
    (model,) = links_to(entry, f"{contract.base_url}{MODELS}")
    check_model_entry(contract, atom_ok(contract.anonymous.get(path_of(contract, model))), "Nokia 6233")


@pytest.mark.inferred("I7", basis=f"{LIBRARY_DOC}, 'Models': detect_poll gives False when the model could not be "
                                  "identified")
@pytest.mark.side_effecting
@pytest.mark.fake_only("the simulated phone opens the detection link with a browser no model has")
def test_poll_after_an_unrecognised_visit_has_failed(contract, fake):
    number = contract.test_phone
    code, _ = start_detection(contract, number)
    fake.phone(number).visit(DESKTOP_UA)
    reply = poll(contract, code)
    contract.match("detect-poll-failed", reply, replace={number: DOC_PHONE}, fields=CODE_FIELDS,
                   regex=CODE_PAGE)
    check_detection(contract, reply, code, number, "failed")
    assert contract.api.post(AUTO, detect_body(number)).status == 204, "a failed detection identifies nothing"


@pytest.mark.inferred("I7", basis=f"{LIBRARY_DOC}, 'Models': detect_poll raises a ClientError for an invalid "
                                  "(expired) code")
@pytest.mark.side_effecting
@pytest.mark.fake_only("moves the fake's clock past the code's lifetime")
def test_poll_of_an_expired_code_is_400(contract, fake):
    number = contract.test_phone
    fake.clock.freeze()
    code, _ = start_detection(contract, number)
    lifetime = fake.world.settings["detection_code_lifetime"]
    fake.clock.advance(lifetime - 1)
    check_detection(contract, poll(contract, code), code, number, "pending")
    fake.clock.advance(1)
    before = fake.state.get()
    assert_plain_error(poll(contract, code), 400, "Bad Request")
    assert fake.state.get() == before


# --- I8 the detection page -----------------------------------------------------------------------
@pytest.mark.inferred("I8", basis=f"{LIBRARY_DOC}, 'Models': detect_manual invites the owner to visit a detection page")
@pytest.mark.mutating  # opening a detection page records the phone's visit
@pytest.mark.parametrize("code", ["no-such-code", "no-such-code/"])
def test_the_page_of_an_unknown_code(contract, code):
    reply = contract.anonymous.get(f"/d/{code}", headers={"User-Agent": NOKIA_6233_UA})
    assert reply.status_line == (404, "Not Found")
    assert (reply.content_type or "").startswith("text/html")
    assert re.search(r"unknown|expired|invalid", reply.text, re.IGNORECASE), reply.text[:300]


@pytest.mark.inferred("I8", basis=f"{LIBRARY_DOC}, 'Models': the detection page identifies the handset that visits it")
@pytest.mark.side_effecting
@pytest.mark.fake_only("opens the SMS's link as the phone's browser would")
@pytest.mark.parametrize("user_agent, name", [(NOKIA_6233_UA, "Nokia 6233"), (NOKIA_5800_UA, "Nokia 5800 XpressMusic")],
                         ids=["6233", "5800"])
def test_the_page_identifies_the_phone(contract, fake, user_agent, name):
    number = contract.test_phone
    code, _ = start_detection(contract, number)
    link = re.search(r"https?://\S+", fake.outbox.last(to=number, kind="detection-link").body).group(0)
    reply = contract.anonymous.get(path_of(contract, link.rstrip(".,;")), headers={"User-Agent": user_agent})
    assert reply.status_line == (200, "OK")
    assert (reply.content_type or "").startswith("text/html")
    assert name in reply.text, "the page tells the owner what the phone is"
    entry = check_detection(contract, poll(contract, code), code, number, "detected")
    (model,) = links_to(entry, f"{contract.base_url}{MODELS}")
    check_model_entry(contract, atom_ok(contract.anonymous.get(path_of(contract, model))), name)
    # oc:model_uuid names the same model (a model's id or its UUID: docs/decisions.md)
    model_uuid = text(entry, "oc:model_uuid")
    assert model_uuid, "a detected model is named by oc:model_uuid"
    if name == "Nokia 6233":
        assert model_uuid == NOKIA_6233_UUID
    assert text(atom_ok(contract.anonymous.get(f"{MODELS}{model_uuid}/")), "a:title") == name


@pytest.mark.inferred("I8", basis=f"{LIBRARY_DOC}, 'Models': a phone the page cannot identify: detect_poll gives False")
@pytest.mark.side_effecting
@pytest.mark.fake_only("opens the SMS's link with a desktop browser")
def test_the_page_for_an_unrecognised_browser(contract, fake):
    number = contract.test_phone
    code, _ = start_detection(contract, number)
    reply = contract.anonymous.get(f"/d/{code}", headers={"User-Agent": DESKTOP_UA})
    assert reply.status_line == (200, "OK")
    assert (reply.content_type or "").startswith("text/html")
    assert "Nokia" not in reply.text
    check_detection(contract, poll(contract, code), code, number, "failed")


@pytest.mark.inferred("I8", basis=f"{LIBRARY_DOC}, 'Models': the link of a detection code that expired")
@pytest.mark.side_effecting
@pytest.mark.fake_only("moves the fake's clock past the code's lifetime")
def test_the_page_of_an_expired_code(contract, fake):
    number = contract.test_phone
    fake.clock.freeze()
    code, _ = start_detection(contract, number)
    fake.clock.advance(fake.world.settings["detection_code_lifetime"])
    before = fake.state.get()
    reply = contract.anonymous.get(f"/d/{code}", headers={"User-Agent": NOKIA_6233_UA})
    assert reply.status_line == (404, "Not Found")
    assert (reply.content_type or "").startswith("text/html")
    assert re.search(r"unknown|expired|invalid", reply.text, re.IGNORECASE), reply.text[:300]
    assert fake.state.get() == before, "an expired link recorded a visit"
