"""The drift report and the dashboard on a 1280 px screen, in a real headless Chromium.

Both pages are rendered with real content — failures, drift, long node ids, skip reasons
and differences; an outbox, phones, a detection and a journal holding a long OAuth query
— at a 1280x800 viewport. Every table cell must end inside the viewport, nothing may
scroll sideways (the page or any box in it), and a PNG screenshot of each is saved under
the test's tmp_path (its path is printed: `pytest -s` shows it).

The browser is Debian's /usr/bin/chromium under Playwright, as in tests/control/test_dashboard.py,
whose fixture and conventions this module shares: without Playwright or Chromium these
tests skip, except when CI is set, where they fail.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

from contracts.harness import report
from contracts.harness.plugin import ContractInfo, second_user_hint, skip_reason
from tests.control.test_dashboard import (  # noqa: F401  (playwright is a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    DETECT_BODY,
    HTTP_TIMEOUT,
    NUMBER,
    OC,
    TIMEOUT_MS,
    expect,
    open_dashboard,
    playwright,
    signed,
)

WIDTH, HEIGHT = 1280, 800
N95 = ("Mozilla/5.0 (SymbianOS/9.2; U; Series60/3.1 NokiaN95/11.0.026; Profile/MIDP-2.0 Configuration/CLDC-1.1) "
       "AppleWebKit/413 (KHTML, like Gecko) Safari/413")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# Every th/td whose right edge passes the viewport, every box that scrolls sideways, and
# the page's own widths.
LAYOUT = """(width) => {
  const describe = (node) => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") +
    (node.dataset && node.dataset.testid ? "[" + node.dataset.testid + "]" : "") + " «" +
    node.textContent.trim().slice(0, 60) + "»";
  const cells = [...document.querySelectorAll("th, td")];
  const outside = cells.filter((c) => c.getBoundingClientRect().right > width)
                       .map((c) => describe(c) + " ends at " + Math.round(c.getBoundingClientRect().right));
  const scrolling = [...document.querySelectorAll("body *")]
    .filter((n) => n.scrollWidth > n.clientWidth + 1 && !["visible", "hidden"].includes(getComputedStyle(n).overflowX))
    .map((n) => describe(n) + " scrolls " + n.scrollWidth + " > " + n.clientWidth);
  return {cells: cells.filter((c) => c.getClientRects().length).length, outside, scrolling,
          scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth};
}"""


def assert_fits(page, what: str) -> None:
    layout = page.evaluate(LAYOUT, WIDTH)
    assert layout["cells"] > 0, f"{what}: no table cell is shown"
    assert layout["outside"] == [], f"{what}: columns end past {WIDTH} px"
    assert layout["scrolling"] == [], f"{what}: boxes scroll sideways"
    assert layout["scrollWidth"] <= WIDTH and layout["scrollWidth"] <= layout["clientWidth"], layout


def screenshot(page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a picture, not a blank page
    print(f"screenshot: {path}")
    return path


@pytest.fixture
def screen(playwright, tmp_path):  # noqa: F811  (the shared fixture)
    """A fresh headless Chromium page at 1280x800; every request it makes and every
    console error is recorded for the test to check."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        timeout=60_000, viewport={"width": WIDTH, "height": HEIGHT})
    try:
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        page.requested, page.errors = [], []
        page.on("request", lambda request: page.requested.append(request.url))
        page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
    finally:
        context.close()


# --- the drift report ----------------------------------------------------------------------------
LONG_SCOPE = "https://www.google.com/calendar/feeds/e0an755fcc57j0a25ptli0d22g%40group.calendar.google.com/private/full"
TOKEN = "x" * 180  # one unbreakable word, as a base64 token or a digest is


def contract(nodeid: str, spec: str, safety: str, behaviour: str, matches=(), skip: str = "", **extra) -> dict:
    documented = spec.startswith("D")
    return {"nodeid": nodeid, "spec": spec, "provenance": "documented" if documented else "inferred",
            "source": ("Google Data Client API, 'Add a new client'" if documented
                       else "SyncServer API Python interface, 'ActiveSync': password is write-only; the "
                            "library's ActiveSync class has no getter"),
            "safety": safety, "fake_only": extra.pop("fake_only", None), "behaviour": behaviour,
            "matches": list(matches), "skip": skip, **extra}


def drift_summary() -> dict:
    url = "https://api.obexcode.example/"
    needs_all = skip_reason(ContractInfo("D10", "documented", "s", "side-effecting", None), True, base_url=url,
                            allow_mutating=False, allow_sms=False, test_phone=None, has_second_user=False)
    diffs = [
        f"/feed/entry[3]/client/datastore[0]/token/scope[1]: text \"{LONG_SCOPE}\" → \"{LONG_SCOPE}/extra\"",
        'header Content-Type: "application/atom+xml" → "application/atom+xml; charset=UTF-8; type=feed"',
        f"/entry/client/token/key: text \"<secret>\" → \"{TOKEN}\"",
        "/feed/entry[0]/published: present → missing",
    ]
    rows = [
        contract("contracts/test_gdata.py::test_list_all_clients_returns_the_documented_feed", "D1", "read-only",
                 "passed", [{"key": "gdata-list", "verdict": "match", "diffs": []}]),
        contract("contracts/test_gdata.py::test_add_a_new_client_with_two_datastores_and_tokens_of_two_scopes_each",
                 "D2", "mutating", "failed",
                 [{"key": "gdata-create", "verdict": "drift", "diffs": diffs[:2]}], counted=["failed"],
                 failure="AssertionError: assert (200, 'OK') == (201, 'Created')"),
        contract("contracts/test_gdata.py::test_update_client[" + "long-parameter-id-" * 6 + "]", "D3", "mutating",
                 "passed", [{"key": "gdata-update", "verdict": "drift", "diffs": diffs[2:]}], counted=["failed"]),
        contract("contracts/test_syncml.py::test_setup_refusals", "D10", "side-effecting", "skipped", skip=needs_all),
        contract("contracts/test_syncml.py::test_setup_reaches_the_phone", "D10", "side-effecting", "skipped",
                 skip="fake only (reads the outbox: the setup SMS the phone would get): runs only against the "
                      "in-process fake, that is without --ocss-base-url", fake_only="reads the outbox"),
        contract("contracts/test_clients.py::test_another_users_activesync_client_is_forbidden", "I12", "mutating",
                 "skipped", skip="signs as a second user: against a URL target it needs " + second_user_hint(url)),
        contract("contracts/test_clients.py::test_activesync_password_is_write_only", "I12", "mutating", "failed",
                 teardown_error=True, counted=["passed", "error"]),
        contract("contracts/test_contents.py::test_listing_since_a_time_" + "a" * 90, "I14", "read-only", "passed",
                 [{"key": "contents-since", "verdict": "unrecorded", "diffs": []}]),
    ]
    return report.summarize(rows, {"failed": 2, "passed": 4, "skipped": 3, "error": 1})


def test_the_drift_report_fits_1280_px_and_filters_problems(screen, tmp_path):
    summary = drift_summary()
    path = tmp_path / "drift-report.html"
    path.write_text(report.page(summary, "https://api.obexcode.example", "ocss-20261124031700-a1b2",
                                "2026-11-24T03:17:00Z"), encoding="utf-8")
    screen.goto(path.as_uri(), wait_until="load")
    expect(screen.locator("#filter")).to_be_visible()  # the script ran under the page's own policy
    assert_fits(screen, "drift report")
    # groups by spec id, with their counts
    headings = screen.locator("section.spec h3").all_inner_texts()
    assert headings[:2] == ["D1 documented · 1 contract: 1 passed, 0 failed, 0 skipped · 0 drifted",
                            "D2 documented · 1 contract: 0 passed, 1 failed, 0 skipped · 1 drifted"]
    assert [h.split()[0] for h in headings] == ["D1", "D2", "D3", "D10", "I12", "I14"]
    # every difference is on screen in full, long scope URL and unbroken token included
    assert screen.get_by_text(TOKEN, exact=False).first.is_visible()
    screenshot(screen, tmp_path / "drift-report-1280.png")

    rows = screen.locator("tr.contract")
    expect(rows).to_have_count(8)
    screen.locator("#problems-only").check()
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == 3  # the two drifted contracts and the one whose teardown failed
    assert {r.get_attribute("data-nodeid").split("::")[1][:20] for r in visible} == {
        "test_add_a_new_clien", "test_update_client[l", "test_activesync_pass"}
    expect(screen.locator("#shown")).to_have_text("3 of 8 contracts shown")
    expect(screen.locator("#spec-D1")).to_be_hidden()
    assert_fits(screen, "drift report, problems only")
    screenshot(screen, tmp_path / "drift-report-problems-1280.png")
    assert all(url.startswith("file://") for url in screen.requested), screen.requested
    assert screen.errors == []


# --- the dashboard -----------------------------------------------------------------------------------
def fill_the_world(fake) -> None:
    """An outbox (detection link, setup SMS), a phone, a detection visited with a long
    User-Agent, a journal with a long OAuth query, a long refused path and a long value."""
    assert signed(fake, "POST", "/v2/phones/detect/manual/", DETECT_BODY).status_code == 201
    visit = requests.post(f"{fake.url}/_fake/phone/{NUMBER}/visit", json={"user_agent": N95}, timeout=HTTP_TIMEOUT)
    assert visit.status_code == 200, visit.text
    created = signed(fake, "POST", "/v2/services/syncml/",
                     f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC}"><oc:client>'
                     f"<oc:phone_number>{NUMBER}</oc:phone_number><oc:model_uuid>242</oc:model_uuid>"
                     "<oc:timezone>Europe/Oslo</oc:timezone></oc:client></entry>")
    assert created.status_code == 201, created.text
    uuid = re.search(r"<uuid>([^<]+)</uuid>", created.text).group(1)
    setup = signed(fake, "POST", f"/v2/services/syncml/{uuid}/setup/",
                   f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC}"><oc:pincode>1234</oc:pincode></entry>')
    assert setup.status_code == 201, setup.text
    # signed in the query: the journal keeps every oauth_* parameter
    in_query = OAuth1("demo-consumer-key", "demo-consumer-secret", "alice-access-token", "alice-access-secret",
                      signature_type="query")
    r = requests.get(fake.url + "/v2/services/syncml/", params={"since": "2009-11-01T12:30:00Z"}, auth=in_query,
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    r = requests.get(fake.url + "/v2/services/google/" + "no-such-client-" * 12 + "/", timeout=HTTP_TIMEOUT)
    assert r.status_code in (401, 404)
    # one unbroken 600-character value: it must wrap too
    r = requests.get(fake.url + "/v2/services/syncml/", params={"oauth_token": "t" * 600}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 401


def test_the_dashboard_fits_1280_px_with_one_time_format(fake, screen, tmp_path):
    fill_the_world(fake)
    open_dashboard(screen, fake)
    expect(screen.get_by_test_id("journal-row")).to_have_count(6)  # the phone visited in-process: not journaled
    query = screen.get_by_test_id("journal-query").filter(has_text="oauth_signature=")
    expect(query).to_have_count(1)
    assert_fits(screen, "dashboard")
    # the query wraps inside its cell, a line per few parameters, never past the viewport
    box = query.bounding_box()
    assert box["x"] + box["width"] <= WIDTH and box["height"] > 2 * 16

    times = screen.get_by_test_id("time").all_inner_texts()
    assert len(times) >= 6 + 2 + 1  # journal, outbox, detection
    assert [t for t in times if not ISO_UTC.match(t)] == []
    assert ISO_UTC.match(screen.get_by_test_id("clock-now").inner_text())
    assert ISO_UTC.match(screen.get_by_test_id("summary-clock").inner_text().split(" ")[0])
    assert ISO_UTC.match(screen.get_by_test_id("refreshed").inner_text().split(" ")[1])
    screenshot(screen, tmp_path / "dashboard-1280.png")
    origin = fake.url + "/"
    assert all(url.startswith((origin, "data:")) for url in screen.requested), screen.requested
    # Chromium logs every 4xx answer to fetch as a console error; this page made none
    assert screen.errors == []
