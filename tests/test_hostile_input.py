"""Hostile and malformed request bodies, over real HTTP (docs/decisions.md, "Bad input").

Every bad body posted to the SyncML and GData collections (as admin, correctly signed with
requests-oauthlib, an OAuth client independent of the toolkit's own) must get an exact 4xx
status with a human-readable reason, never a 500, and must leave the world exactly as it was.
"""
from __future__ import annotations

import logging
import re
import socket
import time
from contextlib import contextmanager

import pytest
import requests
from requests_oauthlib import OAuth1

from ocss_testkit.routes import ROUTES
from tests.helpers import unchanged

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
SYNCML = "/v2/services/syncml/"
GOOGLE = "/v2/services/google/"
ENDPOINTS = [SYNCML, GOOGLE]
ADMIN_SYNCML_CLIENT = "2fb295cc-0e50-11de-81c8-002215064801"  # demo fixtures (seed 003)
FAST = 1.0  # seconds: "well under a second" for every hostile body

SYNCML_CLIENT = ("<oc:phone_number>+4798765432</oc:phone_number>"
                 "<oc:model_uuid>112</oc:model_uuid>"
                 "<oc:timezone>{tz}</oc:timezone>")
GDATA_CLIENT = ("<oc:user_id>{user_id}</oc:user_id>"
                '<oc:datastore dataclass="{dataclass}" href="http://www.google.com/calendar/feeds/x/private/full">'
                "<oc:token><oc:token_type>2</oc:token_type><oc:key>k</oc:key><oc:secret>s</oc:secret>"
                "<oc:scope>http://www.google.com/calendar/feeds/</oc:scope></oc:token></oc:datastore>")


def entry(inner: str, root: str = "entry", ns: str = ATOM) -> str:
    return f'<{root} xmlns="{ns}" xmlns:oc="{OC}">{inner}</{root}>'


def client_el(inner: str) -> str:
    return f"<oc:client>{inner}</oc:client>"


def syncml_body(tz: str = "Europe/Paris", extra: str = "", drop: str = "", model: str = "112") -> str:
    fields = SYNCML_CLIENT.format(tz=tz).replace(">112<", f">{model}<") + extra
    if drop:
        fields = re.sub(rf"<oc:{drop}>.*?</oc:{drop}>", "", fields)
    return entry(client_el(fields))


def gdata_body(user_id: str = "new_user@gmail.com", dataclass: str = "Calendar", extra: str = "") -> str:
    return entry(client_el(GDATA_CLIENT.format(user_id=user_id, dataclass=dataclass) + extra))


def valid_body(path: str, value: str = None) -> str:
    """A body the endpoint would accept, with `value` in a field the server echoes back
    (the timezone, named in the error message; the GData user_id, echoed in the 201)."""
    if path == SYNCML:
        return syncml_body(tz=value or "Europe/Paris")
    return gdata_body(user_id=value or "new_user@gmail.com")


@pytest.fixture
def http(fake):
    session = requests.Session()
    session.auth = OAuth1("demo-consumer-key", "demo-consumer-secret",
                          "admin-access-token", "admin-access-secret")
    yield session
    session.close()


def post(fake, http, path, body, content_type="application/atom+xml", **kw) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    if isinstance(body, str):
        body = body.encode("utf-8")
    return http.post(fake.url + path, data=body, headers=headers, timeout=30, **kw)


def assert_refusal(reply: requests.Response, status: int, *needles: str) -> None:
    assert reply.status_code != 500, reply.text
    assert reply.status_code == status, (reply.status_code, reply.text)
    assert reply.reason, "no reason phrase"
    text = reply.text
    assert text.startswith(f"{status} {reply.reason}: "), text
    detail = text.split(": ", 1)[1].strip()
    assert len(detail) > 10, f"no human-readable reason in {text!r}"
    for needle in needles:
        assert needle.lower() in text.lower(), f"{needle!r} not named in {text!r}"
    assert "Traceback" not in text


def refuse(fake, http, path, body, status, *needles, content_type="application/atom+xml",
           within: float = FAST) -> requests.Response:
    with unchanged(fake):
        started = time.monotonic()
        reply = post(fake, http, path, body, content_type)
        elapsed = time.monotonic() - started
    assert_refusal(reply, status, *needles)
    assert elapsed < within, f"took {elapsed:.2f} s"
    return reply


@pytest.fixture(scope="module")
def passwd_marker() -> str:
    try:
        with open("/etc/passwd", encoding="utf-8") as f:
            first = f.readline().strip()
    except OSError:
        first = ""
    return first or "root:x:0:0"


class Listener:
    """A TCP port we own: if the server ever fetches a URL on it, the connection shows up."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener():
    own = Listener()
    yield own
    own.sock.close()


# --- sanity: the bodies below differ from accepted ones only by what makes them hostile --

@pytest.mark.parametrize("path", ENDPOINTS)
def test_the_valid_body_is_accepted(fake, http, path):
    reply = post(fake, http, path, valid_body(path))
    assert reply.status_code == 201, reply.text


# --- XXE ------------------------------------------------------------------------------

def _xxe_bodies(path: str) -> dict[str, bytes]:
    general = ('<?xml version="1.0"?>\n<!DOCTYPE entry [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
               + valid_body(path, "&xxe;"))
    parameter = ('<?xml version="1.0"?>\n<!DOCTYPE entry [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>\n'
                 + valid_body(path))
    utf16 = general.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    return {"general-entity": general.encode(), "parameter-entity": parameter.encode(),
            # the byte scan for "<!DOCTYPE" cannot see UTF-16; the parser still must refuse it
            "utf-16": utf16.encode("utf-16")}


@pytest.mark.parametrize("variant", ["general-entity", "parameter-entity", "utf-16"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_xxe_file_entity_is_refused_and_never_leaks(fake, http, path, variant, passwd_marker):
    reply = refuse(fake, http, path, _xxe_bodies(path)[variant], 400, "DOCTYPE")
    assert passwd_marker not in reply.text
    assert "root:" not in reply.text
    listing = http.get(fake.url + path, timeout=10)
    assert listing.status_code == 200
    assert passwd_marker not in listing.text and "root:" not in listing.text


# --- entity expansion (billion laughs, quadratic blowup) --------------------------------

def _billion_laughs(path: str, encoding: str = "utf-8") -> bytes:
    decls = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    decl = '<?xml version="1.0" encoding="%s"?>\n' % encoding.upper()
    text = decl + "<!DOCTYPE entry [" + "".join(decls) + "]>\n" + valid_body(path, "&lol9;")
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_billion_laughs_is_refused_fast(fake, http, path, encoding):
    reply = refuse(fake, http, path, _billion_laughs(path, encoding), 400, "entity", within=0.5)
    assert "lollol" not in reply.text


@pytest.mark.parametrize("path", ENDPOINTS)
def test_quadratic_blowup_is_refused_fast(fake, http, path):
    big = "A" * 50_000
    body = (f'<?xml version="1.0"?><!DOCTYPE entry [<!ENTITY a "{big}">]>'
            + valid_body(path, "&a;" * 5_000))
    refuse(fake, http, path, body, 400, "DOCTYPE", within=0.5)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_undeclared_entity_reference_is_refused(fake, http, path):
    refuse(fake, http, path, valid_body(path, "&undeclared;"), 400, "malformed XML", "undeclared")


# --- external references: nothing is ever fetched ---------------------------------------

@pytest.mark.parametrize("path", ENDPOINTS)
def test_external_dtd_is_refused_without_fetching(fake, http, path):
    body = '<!DOCTYPE entry SYSTEM "http://127.0.0.1:9/x.dtd">\n' + valid_body(path)
    refuse(fake, http, path, body, 400, "DOCTYPE", within=0.5)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_external_dtd_on_a_listening_port_gets_no_connection(fake, http, path, listener):
    port = listener.port
    bodies = [
        f'<!DOCTYPE entry SYSTEM "http://127.0.0.1:{port}/x.dtd">\n' + valid_body(path),
        f'<!DOCTYPE entry PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:{port}/p.dtd">\n' + valid_body(path),
        f'<!DOCTYPE entry [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/e">]>\n' + valid_body(path, "&e;"),
    ]
    for body in bodies:
        refuse(fake, http, path, body, 400, "DOCTYPE", within=0.5)
    assert listener.connections() == 0, "the server connected to a URL named in a request body"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_xinclude_and_schema_location_are_not_followed(fake, http, path, listener, passwd_marker):
    port = listener.port
    xinclude = valid_body(path).replace(
        "<oc:client>", f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
                       f'parse="text"/><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                       f'href="http://127.0.0.1:{port}/x.xml"/><oc:client>', 1)
    reply = refuse(fake, http, path, xinclude, 400, "include")
    assert passwd_marker not in reply.text
    # xsi:schemaLocation is legal on any element; it may be accepted, but never fetched.
    located = valid_body(path, "Europe/Oslo" if path == SYNCML else "located@gmail.com").replace(
        "<entry ", '<entry xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                   f'xsi:schemaLocation="{ATOM} http://127.0.0.1:{port}/atom.xsd" ', 1)
    reply = post(fake, http, path, located)
    assert reply.status_code in (201, 400), reply.text
    assert listener.connections() == 0, "the server fetched a URL named in a request body"


# --- size -----------------------------------------------------------------------------

def _padded(path: str, size: int) -> bytes:
    """A valid entry padded with whitespace to exactly `size` bytes."""
    body = valid_body(path, "Europe/Oslo" if path == SYNCML else "padded@gmail.com").encode()
    head, tail = body.rsplit(b"</entry>", 1)
    assert size > len(body)
    return head + b" " * (size - len(body)) + b"</entry>" + tail


def _header(request, name: str) -> str:
    value = request.headers.get(name)  # requests-oauthlib leaves header values as bytes
    return value.decode() if isinstance(value, bytes) else value


def _chunks(data: bytes, size: int = 64 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_over_one_mebibyte_is_413(fake, http, path, transfer):
    limit = fake.app.max_body
    assert limit == 1024 * 1024
    body = _padded(path, limit + 1)
    data = body if transfer == "content-length" else _chunks(body)
    with unchanged(fake):
        started = time.monotonic()
        reply = http.post(fake.url + path, data=data, timeout=30,
                          headers={"Content-Type": "application/atom+xml"})
        elapsed = time.monotonic() - started
    if transfer == "chunked":
        assert _header(reply.request, "Transfer-Encoding") == "chunked"
        assert "Content-Length" not in reply.request.headers
    else:
        assert _header(reply.request, "Content-Length") == str(limit + 1)
    assert_refusal(reply, 413, str(limit))
    assert reply.reason == "Request Entity Too Large"
    assert elapsed < 5


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_of_exactly_one_mebibyte_is_accepted(fake, http, path, transfer):
    body = _padded(path, fake.app.max_body)
    data = body if transfer == "content-length" else _chunks(body)
    reply = http.post(fake.url + path, data=data, timeout=30,
                      headers={"Content-Type": "application/atom+xml"})
    assert reply.status_code == 201, reply.text[:300]


# --- structure ----------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["atom-element", "oc-client"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_nesting_100_levels_is_refused(fake, http, path, where):
    deep = "<x>" * 100 + "deep" + "</x>" * 100
    if where == "atom-element":
        body = valid_body(path).replace("<oc:client>", f"<author><name>{deep}</name></author><oc:client>", 1)
    else:
        body = valid_body(path).replace("</oc:client>", f"<oc:deep>{deep}</oc:deep></oc:client>", 1)
    refuse(fake, http, path, body, 400, "nested deeper than")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_nesting_beyond_the_parser_limit_is_refused_fast(fake, http, path):
    levels = 100_000  # ~700 KB: under the size limit, far over any depth limit
    body = valid_body(path).replace("<oc:client>", "<x>" * levels + "</x>" * levels + "<oc:client>", 1)
    assert len(body) < fake.app.max_body
    reply = refuse(fake, http, path, body, 400, within=0.5)
    assert "depth" in reply.text.lower() or "nested deeper" in reply.text.lower(), reply.text


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80abc", b"\xe2\x82"],
                         ids=["ff-fe", "overlong", "surrogate", "lone-continuation", "truncated-sequence"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_invalid_utf8_is_refused(fake, http, path, bad):
    body = valid_body(path, "MARKER").encode().replace(b"MARKER", b"Europe/" + bad)
    refuse(fake, http, path, body, 400, "malformed XML", "encoding")


@pytest.mark.parametrize("root, ns, named", [("feed", ATOM, "feed"), ("client", OC, "client"),
                                              ("entry", "urn:not-atom", "entry")])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_wrong_root_element_is_refused_by_name(fake, http, path, root, ns, named):
    inner = valid_body(path)
    inner = inner[inner.index("<oc:client>"):inner.rindex("</entry>")]
    refuse(fake, http, path, entry(inner, root=root, ns=ns), 400, named)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unknown_oc_element_is_refused_by_name(fake, http, path):
    body = valid_body(path).replace("</oc:client>", "<oc:favourite_colour>red</oc:favourite_colour></oc:client>")
    refuse(fake, http, path, body, 400, "oc:favourite_colour")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_two_oc_client_elements_are_refused(fake, http, path):
    body = valid_body(path)
    one = body[body.index("<oc:client>"):body.index("</oc:client>") + len("</oc:client>")]
    refuse(fake, http, path, body.replace(one, one + one), 400, "oc:client")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_wrong_content_type_with_a_body_is_415(fake, http, path, content_type):
    body = '{"client": {"phone_number": "+4798765432", "model_uuid": "112"}}' \
        if content_type == "application/json" else valid_body(path)
    reply = refuse(fake, http, path, body, 415, content_type.split(";")[0], content_type=content_type)
    assert reply.reason == "Unsupported Media Type"
    assert "application/atom+xml" in reply.text


@pytest.mark.parametrize("body", [
    b"\x00\x01\x02garbage\xff\xfe\x00",
    b"this is not XML at all",
    b"<",
    b"<entry",
    b'{"json": true}',
], ids=["binary", "text", "lt", "open-tag", "json-as-atom"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_garbage_is_refused(fake, http, path, body):
    refuse(fake, http, path, body, 400, "malformed XML")


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_truncated_xml_is_refused(fake, http, path, cut):
    body = valid_body(path).encode()
    refuse(fake, http, path, body[:int(len(body) * cut)], 400, "malformed XML")


# --- SyncML client values -----------------------------------------------------------------

def test_missing_phone_number_is_refused_by_name(fake, http):
    refuse(fake, http, SYNCML, syncml_body(drop="phone_number"), 400, "phone_number")


def test_missing_model_uuid_is_refused_by_name(fake, http):
    refuse(fake, http, SYNCML, syncml_body(drop="model_uuid"), 400, "model_uuid")


@pytest.mark.parametrize("model", ["abc", "0", "-1", "112abc", "02978288-537f-102b-beff-000ea60275dZ"])
def test_malformed_model_uuid_is_refused(fake, http, model):
    refuse(fake, http, SYNCML, syncml_body(model=model), 400, "model_uuid", model)


@pytest.mark.parametrize("model", ["99999", "02978288-0000-0000-0000-000000000000"])
def test_unknown_model_is_refused(fake, http, model):
    refuse(fake, http, SYNCML, syncml_body(model=model), 400, "unknown phone model", model)


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "Europe/Oslo\"", "europe/oslo", "Europe",
                                "../../../../etc/passwd", "/etc/localtime", "zone.tab", "Europe/Oslo/"])
def test_unknown_timezone_is_refused(fake, http, tz):
    from xml.sax.saxutils import escape
    refuse(fake, http, SYNCML, syncml_body(tz=escape(tz)), 400, "timezone")


@pytest.mark.parametrize("phone", ["12", "+47 987 65 432x", "+٤٧٩٨٧٦٥٤٣٢", ""])
def test_malformed_phone_number_is_refused(fake, http, phone):
    body = syncml_body().replace("+4798765432", phone)
    refuse(fake, http, SYNCML, body, 400, "phone_number")


# --- GData client values ------------------------------------------------------------------

@pytest.mark.parametrize("dataclass", ["Tasks", "contacts", ""])
def test_gdata_datastore_with_unknown_dataclass_is_refused(fake, http, dataclass):
    refuse(fake, http, GOOGLE, gdata_body(dataclass=dataclass), 400, "dataclass", dataclass)


def test_gdata_two_datastores_of_one_dataclass_are_refused(fake, http):
    body = gdata_body()
    store = body[body.index("<oc:datastore"):body.index("</oc:datastore>") + len("</oc:datastore>")]
    refuse(fake, http, GOOGLE, body.replace(store, store + store), 400, "Calendar")


def test_gdata_token_type_out_of_range_is_refused(fake, http):
    body = gdata_body().replace("<oc:token_type>2</oc:token_type>", "<oc:token_type>7</oc:token_type>")
    refuse(fake, http, GOOGLE, body, 400, "token_type")


# --- setup --------------------------------------------------------------------------------

@pytest.mark.parametrize("pincode", ["12a4", "123", "123456789", "", "١٢٣٤"])
def test_setup_with_bad_pincode_is_refused(fake, http, pincode):
    path = f"{SYNCML}{ADMIN_SYNCML_CLIENT}/setup/"
    reply = refuse(fake, http, path, entry(f"<oc:pincode>{pincode}</oc:pincode>"), 400, "pincode")
    if pincode:
        assert pincode in reply.text
    assert not fake.app.world.outbox.messages(kind="setup-sms")


def test_setup_with_a_good_pincode_is_accepted(fake, http):
    reply = post(fake, http, f"{SYNCML}{ADMIN_SYNCML_CLIENT}/setup/", entry("<oc:pincode>1234</oc:pincode>"))
    assert reply.status_code == 201, reply.text
    assert len(fake.app.world.outbox.messages(kind="setup-sms")) == 1


def test_setup_with_two_pincodes_is_refused(fake, http):
    refuse(fake, http, f"{SYNCML}{ADMIN_SYNCML_CLIENT}/setup/",
           entry("<oc:pincode>1234</oc:pincode><oc:pincode>5678</oc:pincode>"), 400, "pincode")


# --- unexpected errors --------------------------------------------------------------------

@contextmanager
def handler_replaced(method: str, path: str, replacement):
    """Routes are frozen dataclasses and the URL map holds the Route objects themselves:
    swap the handler on the object, and always put it back."""
    route = next(r for r in ROUTES if r.method == method and r.path == path)
    original = route.handler
    object.__setattr__(route, "handler", replacement)
    try:
        yield route
    finally:
        object.__setattr__(route, "handler", original)
    assert route.handler is original


SECRET = "kaboom-internal-detail-0x5f3759df"


def _boom(call, **kwargs):
    raise RuntimeError(SECRET)


@pytest.mark.parametrize("method, path, body", [
    ("GET", SYNCML, None),
    ("POST", SYNCML, syncml_body()),
    ("POST", GOOGLE, gdata_body()),
])
def test_unexpected_handler_error_is_a_500_with_request_id_and_no_traceback(
        fake, http, caplog, method, path, body):
    caplog.set_level(logging.ERROR, logger="ocss_testkit")
    with handler_replaced(method, path, _boom), unchanged(fake):
        reply = http.request(method, fake.url + path, data=body and body.encode(), timeout=10,
                             headers={"Content-Type": "application/atom+xml"} if body else {})
    assert reply.status_code == 500
    assert reply.reason == "Internal Server Error"
    request_id = reply.headers["X-Request-Id"]
    assert re.fullmatch(r"r\d+", request_id)
    assert request_id in reply.text
    assert reply.text.startswith("500 Internal Server Error: ")
    for leak in ("Traceback", SECRET, "RuntimeError", 'File "', ".py"):
        assert leak not in reply.text, f"{leak!r} leaked into the 500 body"
    logged = [r for r in caplog.records
              if r.name == "ocss_testkit" and r.levelno == logging.ERROR and request_id in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert logged[0].exc_info and SECRET in str(logged[0].exc_info[1])
    assert path in logged[0].getMessage() and method in logged[0].getMessage()
    # the route works again once the handler is back
    assert http.get(fake.url + path, timeout=10).status_code == 200
