"""The HTML dashboard at /_fake/, driven in a real headless Chromium.

The browser is Debian's `chromium` (/usr/bin/chromium) under Playwright for Python; no
browser is downloaded. Without Playwright or Chromium the browser tests skip, except when
the environment variable CI is set: CI must run them, so there they fail instead.
Every wait is bounded.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import requests
from lxml import etree
from requests_oauthlib import OAuth1

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser tests skip (or fail under CI) in the fixture below
    expect = sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15_000  # any one wait in the browser
HTTP_TIMEOUT = 30

OC = "http://schemas.obexcode.com/syncserver/2009"
ATOM_XML = {"Content-Type": "application/atom+xml"}
NUMBER = "+4798765432"
NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"  # model 242 of the phones database
DETECT_BODY = (f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC}">'
               f"<oc:phone_number>{NUMBER}</oc:phone_number></entry>")


def alice() -> OAuth1:
    return OAuth1("demo-consumer-key", "demo-consumer-secret", "alice-access-token", "alice-access-secret")


def oc(element, name: str) -> str | None:
    found = element.find(f".//{{{OC}}}{name}")
    return None if found is None else found.text


def signed(fake, method: str, path: str, body: str | None = None) -> requests.Response:
    return requests.request(method, fake.url + path, auth=alice(), data=body,
                            headers=ATOM_XML if body is not None else {}, allow_redirects=False,
                            timeout=HTTP_TIMEOUT)


# --- the page itself, no browser ------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/_fake/", "/_fake"])
def test_dashboard_is_one_self_contained_html_page(fake, path):
    r = requests.get(fake.url + path, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.history == []
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    html = r.text
    assert html.startswith("<!DOCTYPE html>") and "@@MODELS@@" not in html
    # Nothing external: no absolute or protocol-relative URL anywhere, every src/href local.
    assert not re.search(r"(?i)\b(?:https?|ftp|wss?):", html), re.search(r"(?i)\b(?:https?|ftp|wss?):.{0,60}", html)
    for attribute, value in re.findall(r"""(?i)\b(src|href|action)\s*=\s*["']?([^"'\s>]*)""", html):
        assert value == "data:," or not value.startswith(("/", "\\")) and ":" not in value, (attribute, value)
    assert not re.search(r"(?i)@import|url\(", html)
    # The browser enforces it too: only this page's own script and style, requests to itself.
    policy = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+';", policy)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # The embedded model names are a JSON data block with nothing that could close it.
    block = re.search(r'<script type="application/json" id="models">(.*?)</script>', html, re.DOTALL).group(1)
    assert '"242":"Nokia 6233"' in block and "<" not in block


def test_dashboard_answers_head_and_is_not_journaled(fake):
    r = requests.head(fake.url + "/_fake/", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.content == b""
    assert requests.get(fake.url + "/_fake/journal", timeout=HTTP_TIMEOUT).json()["entries"] == []


def test_dashboard_ships_inside_the_package():
    """hatchling puts every file of the ocss_testkit package in the wheel: the page lives there."""
    from importlib import resources
    assert resources.files("ocss_testkit").joinpath("dashboard.html").is_file()


# --- in Chromium ------------------------------------------------------------------------------------
def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the dashboard's browser tests must run "
                    "(apt-get install chromium; pip install playwright)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright():
    if sync_playwright is None:
        if os.environ.get("CI"):
            _unavailable("playwright is not installed")
        pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (Debian package chromium)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        yield p


@pytest.fixture
def page(playwright, tmp_path, fake):
    """A fresh headless Chromium (its own empty profile) with one page; every request it
    makes is recorded, so a test can check that nothing left the fake's origin."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        timeout=60_000, viewport={"width": 1400, "height": 1000})
    try:
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        page.requested = []
        page.console_errors = []
        page.on("request", lambda request: page.requested.append(request.url))
        # Chromium logs every 4xx answer to fetch as a console error: those are the tests' own doing.
        page.on("console", lambda message: message.type == "error" and "Failed to load resource" not in message.text
                and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        origin = fake.url + "/"
        assert all(url.startswith((origin, "data:")) for url in page.requested), page.requested
        assert page.console_errors == []
    finally:
        context.close()


def open_dashboard(page, fake):
    page.goto(fake.url + "/_fake/", wait_until="load")
    expect(page.get_by_test_id("refreshed")).to_have_attribute("data-generation", re.compile(r"\d+"),
                                                              timeout=TIMEOUT_MS)


def poll(check, what: str, timeout: float = 10.0):
    """RequestContext `check` until it returns something other than None; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def no_problems(fake) -> None:
    """The page made no request the fake refused (the journal lists /v2/, /oauth/, /d/)."""
    problems = requests.get(fake.url + "/_fake/journal?problems=1", timeout=HTTP_TIMEOUT).json()["entries"]
    assert problems == []


def test_manual_detection_through_the_browser(fake, page):
    created = signed(fake, "POST", "/v2/phones/detect/manual/", DETECT_BODY)
    assert created.status_code == 201, created.text
    code = oc(etree.fromstring(created.content), "code")
    assert code

    open_dashboard(page, fake)
    expect(page.get_by_test_id("error")).to_be_hidden()
    row = page.locator(f'[data-testid="outbox-row"][data-kind="detection-link"][data-to="{NUMBER}"]')
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("body")).to_contain_text(f"/d/{code}")
    detection = page.locator(f'[data-testid="detection-row"][data-code="{code}"]')
    expect(detection.get_by_test_id("detection-status")).to_have_text("pending")

    row.get_by_test_id("ua-select").select_option(label="Nokia 6233")
    assert row.get_by_test_id("ua-select").input_value() == NOKIA_6233
    row.get_by_test_id("open-link").click()

    def detected():
        entry = etree.fromstring(signed(fake, "GET", f"/v2/phones/detect/manual/{code}/").content)
        return entry if oc(entry, "status") == "detected" else None
    entry = poll(detected, f"detection {code} to be detected")
    assert oc(entry, "model_uuid") == NOKIA_6233_UUID
    assert entry.find("{http://www.w3.org/2005/Atom}link[@rel='related']").get("title") == "Nokia 6233"

    expect(page.get_by_test_id("last-action")).to_contain_text(f"detection {code} is detected (Nokia 6233)")
    expect(detection.get_by_test_id("detection-status")).to_have_text("detected")
    expect(detection.get_by_test_id("detection-model")).to_have_text("Nokia 6233")
    expect(detection).to_contain_text(NOKIA_6233)
    expect(row.get_by_test_id("answer")).to_have_text("visited")
    expect(row.get_by_test_id("open-link")).to_have_count(0)
    expect(page.get_by_test_id("error")).to_be_hidden()
    no_problems(fake)


def test_setup_and_sync_accepted_through_the_browser(fake, page):
    created = signed(fake, "POST", "/v2/services/syncml/",
                     f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC}"><oc:client>'
                     f"<oc:phone_number>{NUMBER}</oc:phone_number><oc:model_uuid>242</oc:model_uuid>"
                     "<oc:timezone>Europe/Oslo</oc:timezone></oc:client></entry>")
    assert created.status_code == 201, created.text
    uuid = oc(etree.fromstring(created.content), "uuid")
    setup = signed(fake, "POST", f"/v2/services/syncml/{uuid}/setup/",
                   f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC}"><oc:pincode>1234</oc:pincode></entry>')
    assert setup.status_code == 201, setup.text

    open_dashboard(page, fake)
    phone = page.locator(f'[data-testid="phone-row"][data-number="{NUMBER}"]')
    expect(phone.get_by_test_id("not-installed")).to_have_count(1)
    sms = page.locator(f'[data-testid="outbox-row"][data-kind="setup-sms"][data-to="{NUMBER}"]')
    expect(sms.get_by_test_id("body")).to_contain_text("PIN: 1234")
    sms.get_by_test_id("accept-setup").click()
    expect(sms.get_by_test_id("answer")).to_have_text("accepted")
    expect(phone.get_by_test_id("installed")).to_have_count(1)

    alert = signed(fake, "POST", f"/v2/services/syncml/{uuid}/sync/")
    assert alert.status_code == 200, alert.text
    page.get_by_test_id("refresh").click()
    push = page.locator(f'[data-testid="outbox-row"][data-kind="server-alert"][data-to="{NUMBER}"]')
    push.get_by_test_id("accept-sync").click()
    expect(push.get_by_test_id("answer")).to_have_text("accepted")
    expect(page.get_by_test_id("last-action")).to_contain_text("session 1 ok")

    session = page.locator('[data-testid="session-row"][data-id="1"]')
    expect(session).to_have_attribute("data-client", uuid)
    expect(session.get_by_test_id("session-outcome")).to_have_text("ok")
    expect(session).to_contain_text("Nokia 6233")
    feed = signed(fake, "GET", "/v2/services/syncml/sessions/")
    assert feed.status_code == 200 and uuid in feed.text
    expect(page.get_by_test_id("summary-sessions")).to_have_text("1")
    expect(page.get_by_test_id("error")).to_be_hidden()
    no_problems(fake)


def test_errors_from_the_endpoints_are_shown_and_reset_works(fake, page):
    signed(fake, "POST", "/v2/phones/detect/manual/", DETECT_BODY).raise_for_status()
    open_dashboard(page, fake)
    page.get_by_test_id("clock-advance-seconds").fill("-5")
    page.get_by_test_id("clock-advance").click()
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("400 Bad Request: advance must be a number of seconds")

    # The detection link expires after an hour of virtual time: the visit is refused, visibly.
    page.get_by_test_id("clock-freeze").click()
    expect(page.get_by_test_id("clock-state")).to_have_text("frozen")
    expect(error).to_be_hidden()
    page.get_by_test_id("clock-advance-hour").click()
    expect(page.get_by_test_id("last-action")).to_contain_text("(frozen)")
    page.locator('[data-testid="outbox-row"][data-kind="detection-link"]').get_by_test_id("open-link").click()
    expect(error).to_contain_text("expired")

    page.get_by_test_id("reset").click()
    expect(page.get_by_test_id("last-action")).to_contain_text("reset: reset")
    expect(page.get_by_test_id("outbox-row")).to_have_count(0)
    expect(page.get_by_test_id("clock-state")).to_contain_text("running")
    expect(error).to_be_hidden()
    assert fake.app.world.outbox.messages() == []
