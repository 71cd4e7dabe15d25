"""The contract suite's pytest plugin: targets, safety, the ledger, snapshots and reports.

`contracts/conftest.py` imports this module whole. Every contract carries exactly one
provenance marker (`documented` or `inferred`), checked when the suite is collected, and a
safety class (`read_only`, `mutating` — the default, as in pytest-selenium everything is
destructive unless marked otherwise — or `side_effecting`, which reaches a phone).
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import secrets as _secrets
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ocss_testkit.app import FakeApp
from ocss_testkit.atom import safe
from ocss_testkit.fake_handle import FakeHandle
from ocss_testkit.routes import ROUTES, deletable

from . import report as reports
from .ledger import Ledger, new_run_id
from .snapshots import (
    NAMESPACES,
    Normalizer,
    Recording,
    SnapshotStore,
    View,
    compare,
    record,
)
from .target import (
    CredentialsError,
    Target,
    credentials_for,
    demo_credentials,
    secrets_of,
)

HERE = Path(__file__).resolve().parent.parent  # contracts/
SPEC_IDS = {r.spec_id: r for r in ROUTES if r.spec_id}


def _id_range(kind: str) -> str:
    """The route ids of a kind as the table has them, e.g. "I1–I17" (docs/decisions.md, "Route ids")."""
    numbers = sorted(int(spec[1:]) for spec in SPEC_IDS if spec[0] == kind)
    return f"{kind}{numbers[0]}–{kind}{numbers[-1]}"


ROUTE_IDS = f"{_id_range('D')}, {_id_range('I')}"  # for messages: "D1–D15, I1–I17"
SAFETY = {"read_only": "read-only", "mutating": "mutating", "side_effecting": "side-effecting"}
DEFAULT_TEST_PHONE = "+447700900123"  # Ofcom's range reserved for drama: never a real phone
FICTIONAL_PREFIX = "+447700900"
STASH = pytest.StashKey[dict]()


# --- options and markers -------------------------------------------------------------------
def pytest_addoption(parser) -> None:
    group = parser.getgroup("ocss-contracts", "ocss-testkit contract suite")
    group.addoption("--ocss-base-url", default=None, metavar="URL",
                    help="run the contracts over HTTP against this server instead of the in-process fake")
    group.addoption("--ocss-netrc", default=None, metavar="PATH",
                    help="read the URL target's credentials from this netrc file (see contracts/README.md)")
    group.addoption("--ocss-allow-mutating", action="store_true",
                    help="against a URL target, also run contracts that create, change or delete data")
    group.addoption("--ocss-allow-sms", action="store_true",
                    help="against a URL target, also run contracts that send an SMS or push (needs "
                         "--ocss-allow-mutating and --ocss-test-phone)")
    group.addoption("--ocss-test-phone", default=None, metavar="NUMBER",
                    help="the phone that side-effecting contracts may reach (E.164, e.g. +4790000000)")
    group.addoption("--ocss-snapshot-update", action="store_true",
                    help="re-record contracts/snapshots/ from the URL target, only if the run passes")
    group.addoption("--ocss-report-dir", default=None, metavar="DIR",
                    help="write drift-report.md/.html/.json, junit.xml and the ledger here")
    group.addoption("--ocss-run-id", default=None, metavar="ID",
                    help="name of this run; everything it creates carries it (default: ocss-<time>-<hex>)")
    # tests point the suite at a copy of the snapshots; not for users
    group.addoption("--ocss-snapshot-dir", default=None, metavar="DIR", help=argparse.SUPPRESS)


MARKERS = (
    f"documented(doc, section, spec): a contract for a documented exchange ({_id_range('D')}), citing the API "
    "document by title and its section",
    f"inferred(spec, basis): a contract for an operation inferred from the API documentation ({_id_range('I')})",
    "read_only: the contract only reads; runs against any URL target",
    "mutating: the contract creates, changes or deletes (the default); needs --ocss-allow-mutating on a URL",
    "side_effecting: the contract sends an SMS or push to a phone; needs --ocss-allow-sms and --ocss-test-phone",
    "fake_only(reason): the contract drives the fake's control plane; never runs against a URL target",
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    opt = config.option
    if opt.ocss_snapshot_update and not opt.ocss_base_url:
        raise pytest.UsageError("--ocss-snapshot-update needs --ocss-base-url: snapshots record the real "
                                "service, never the fake")
    if opt.ocss_allow_sms and not opt.ocss_test_phone:
        raise pytest.UsageError("--ocss-allow-sms needs --ocss-test-phone NUMBER: the only phone the run may reach")
    if opt.ocss_allow_sms and not opt.ocss_allow_mutating:
        raise pytest.UsageError("--ocss-allow-sms needs --ocss-allow-mutating too: sending a setup SMS changes data")
    if opt.ocss_test_phone and not re.fullmatch(r"\+\d{6,15}", opt.ocss_test_phone):
        raise pytest.UsageError(f"--ocss-test-phone must be a number like +4790000000, not {opt.ocss_test_phone!r}")
    if opt.ocss_base_url:
        try:
            credentials = credentials_for(opt.ocss_base_url, os.environ, opt.ocss_netrc)
        except CredentialsError as e:
            raise pytest.UsageError(str(e)) from None
    else:
        credentials = None
    worker = getattr(config, "workerinput", None)
    run_id = (worker or {}).get("ocss_run_id") or opt.ocss_run_id or new_run_id()
    report_dir = Path(opt.ocss_report_dir).resolve() if opt.ocss_report_dir else None
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        if worker is None and not opt.xmlpath:
            opt.xmlpath = str(report_dir / "junit.xml")
    config.stash[STASH] = {"run_id": run_id, "credentials": credentials, "report_dir": report_dir,
                           # the target's secrets, scrubbed from every report from the start
                           "secrets": secrets_of(credentials or demo_credentials()),
                           "worker": (worker or {}).get("workerid", "gw0" if worker else "main"),
                           "results": {}, "store": SnapshotStore(
                               Path(opt.ocss_snapshot_dir) if opt.ocss_snapshot_dir else HERE / "snapshots")}
    config.pluginmanager.register(Reporter(config), "ocss-contract-reporter")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: every worker names what it creates with the controller's run id."""
    node.workerinput["ocss_run_id"] = node.config.stash[STASH]["run_id"]


# --- collection: provenance check and what may run against this target ---------------------
@dataclass(frozen=True)
class ContractInfo:
    spec: str
    provenance: str  # documented | inferred
    source: str  # document title and section, or the basis of the inference
    safety: str  # read-only | mutating | side-effecting
    fake_only: str | None


def contract_info(item) -> ContractInfo:
    """The contract's markers, or a reason why they are not acceptable (ValueError)."""
    marks = {name: list(item.iter_markers(name)) for name in
             ("documented", "inferred", "read_only", "mutating", "side_effecting", "fake_only")}
    provenance = marks["documented"] + marks["inferred"]
    if len(provenance) != 1:
        raise ValueError("needs exactly one provenance marker, @pytest.mark.documented(doc, section, spec) "
                         f"or @pytest.mark.inferred(spec, basis); it has {len(provenance)}")
    mark = provenance[0]
    params = dict(zip(("doc", "section", "spec") if mark.name == "documented" else ("spec", "basis"), mark.args))
    params.update(mark.kwargs)
    spec = params.get("spec", "")
    route = SPEC_IDS.get(spec)
    if route is None:
        raise ValueError(f"names {spec!r}, not a route id ({ROUTE_IDS}; docs/decisions.md, 'Route ids')")
    if route.provenance.kind != mark.name:
        raise ValueError(f"is marked {mark.name} but {spec} is {route.provenance.kind} in the route table")
    if mark.name == "documented":
        if params.get("doc") != route.provenance.title or not params.get("section"):
            raise ValueError(f"documented contracts of {spec} cite {route.provenance.title!r} (the API "
                             "document's title) and a section")
        source = f"{params['doc']}, '{params['section']}'"
    else:
        if not params.get("basis"):
            raise ValueError("inferred contracts say what they are inferred from (basis=...)")
        source = params["basis"]
    classes = [name for name in ("read_only", "mutating", "side_effecting") if marks[name]]
    if len(classes) > 1:
        raise ValueError(f"has more than one safety class: {', '.join(classes)}")
    safety = SAFETY[classes[0]] if classes else "mutating"
    fake_only = marks["fake_only"][0].args[0] if marks["fake_only"] and marks["fake_only"][0].args else (
        "drives the fake's control plane" if marks["fake_only"] else None)
    return ContractInfo(spec, mark.name, source, safety, fake_only)


def _is_contract(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


# A contract that signs as the second user says so in its source: `contract.other`,
# `contract.api_of("other")` or a helper given `role="other"`.
_SECOND_USER = re.compile(r"""\bcontract\.other\b|\bapi_of\(\s*["']other["']|\brole\s*=\s*["']other["']""")


def uses_second_user(item) -> bool:
    """Whether the contract's own code signs as the second user (see _SECOND_USER)."""
    function = getattr(item, "function", None)
    try:
        source = inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):  # no source to read: the call in api_of() still skips it
        return False
    return bool(_SECOND_USER.search(source))


def second_user_hint(base_url: str) -> str:
    host = urlsplit(base_url).hostname or "HOST"
    return ("the second user's credentials (OCSS_OTHER_ACCESS_TOKEN and OCSS_OTHER_ACCESS_SECRET, "
            f"or --ocss-netrc with an entry for machine other.{host})")


def skip_reason(info: ContractInfo, uses_other: bool, *, base_url: str | None, allow_mutating: bool,
                allow_sms: bool, test_phone: str | None, has_second_user: bool) -> str | None:
    """Why the contract cannot run against this target, naming at once *everything* it
    lacks (every flag, the second user's credentials), or None when it can run.

    On the in-process fake (`base_url` None) everything runs. A fake-only contract cannot
    run against any URL, whatever else is given, so its reason names only that.
    """
    if not base_url:
        return None
    if info.fake_only:
        return (f"fake only ({info.fake_only}): runs only against the in-process fake, "
                "that is without --ocss-base-url")
    missing = []
    if info.safety != "read-only" and not allow_mutating:
        missing.append("--ocss-allow-mutating")
    if info.safety == "side-effecting":
        if not allow_sms:
            missing.append("--ocss-allow-sms")
        if not test_phone:
            missing.append("--ocss-test-phone NUMBER")
    if uses_other and not has_second_user:
        missing.append(second_user_hint(base_url))
    if not missing:
        return None
    what = {"read-only": "read-only", "mutating": "mutating (creates, changes or deletes data)",
            "side-effecting": "side-effecting (sends an SMS or push to a phone)"}[info.safety]
    if uses_other:
        what += ", signs as a second user"
    needs = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return f"{what}: against a URL target it needs {needs}"


def pytest_collection_modifyitems(session, config, items) -> None:
    opt = config.option
    rejected = []
    for item in items:
        if not _is_contract(item):
            continue
        try:
            info = contract_info(item)
        except ValueError as e:
            rejected.append(f"{item.nodeid} {e}")
            continue
        item.stash[STASH] = {"info": info, "matches": [], "recordings": []}
        if not opt.ocss_base_url:
            continue
        reason = skip_reason(info, uses_second_user(item), base_url=opt.ocss_base_url,
                             allow_mutating=opt.ocss_allow_mutating, allow_sms=opt.ocss_allow_sms,
                             test_phone=opt.ocss_test_phone,
                             has_second_user="other" in (config.stash[STASH]["credentials"] or {}))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
    if rejected:
        raise pytest.UsageError("contracts without an acceptable provenance marker:\n  " + "\n  ".join(rejected))


# --- the run: target, ledger, secrets --------------------------------------------------------
class Run:
    """What one pytest process (one xdist worker) shares across contracts."""

    def __init__(self, config) -> None:
        state = config.stash[STASH]
        self.run_id = state["run_id"]
        self.test_phone = config.option.ocss_test_phone
        if config.option.ocss_base_url:
            self.target = Target(config.option.ocss_base_url, state["credentials"])
        else:
            self.target = Target.in_process()
        ledger_file = state["report_dir"] / "ledger.jsonl" if state["report_dir"] else None
        self.ledger = Ledger(self.run_id, state["worker"], ledger_file)
        self.secrets: dict[str, str] = state["secrets"]  # the target's; contracts add the ones they make

    def cleanup(self) -> list[str]:
        apis = {}

        def delete(entry) -> int:
            if entry.role not in apis:
                apis[entry.role] = self.target.api(entry.role, allowed="mutating")
            return apis[entry.role].delete(entry.path).status
        try:
            return self.ledger.cleanup(delete)
        finally:
            for api in apis.values():
                api.close()


@pytest.fixture(scope="session")
def ocss_run(pytestconfig):
    run = Run(pytestconfig)
    yield run
    left = run.cleanup()
    if left:
        pytest.fail("the run could not delete what it created:\n  " + "\n  ".join(left), pytrace=False)


class Contract:
    """The one fixture a contract uses: signed APIs for the target's users, names, the
    ledger, secrets, snapshots, and (fake-only contracts) the fake's control plane."""

    def __init__(self, run: Run, item, info: ContractInfo) -> None:
        self.run, self.item, self.info = run, item, info
        self._apis: dict = {}
        self.fake: FakeHandle | None = None
        self.target = run.target
        self.ledger = run.ledger
        if info.fake_only:  # its own world: it may do anything to it
            app = FakeApp()
            self.target = Target.in_process(app)
            self.fake = FakeHandle(app)
            self.ledger = Ledger(run.run_id, "private")

    # users
    def api_of(self, role: str | None):
        if role not in self._apis:
            if role is not None and role not in self.target.credentials:
                # a contract whose source did not show it (see uses_second_user) ends up here
                pytest.skip(f"signs as a second user: against a URL target it needs "
                            f"{second_user_hint(self.target.base_url)}")
            api = self._apis[role] = self.target.api(role, allowed=self.info.safety)
            api.on_reply = self._watch
        return self._apis[role]

    def _watch(self, api, reply) -> None:
        """Whatever a POST created goes in the ledger at once, before any assertion: a
        target that answers creation differently (200 for 201, say) must not strand it."""
        if reply.method != "POST" or not 200 <= reply.status < 300 or not reply.body.lstrip().startswith(b"<"):
            return
        try:
            root = reply.xml()
        except safe.XMLRejected:  # not XML: nothing to find
            return
        found = root.findtext(f"{{{NAMESPACES['atom']}}}id") or ""
        base = self.target.base_url
        path = found[len(base):] if found.startswith(base) else ""
        if path.startswith("/") and deletable(path):
            title = root.findtext(f"{{{NAMESPACES['atom']}}}title") or path
            self.ledger.add(_kind_of(path), title, path, api.role or "user")

    @property
    def api(self):
        return self.api_of("user")

    @property
    def other(self):
        return self.api_of("other")

    @property
    def anonymous(self):
        return self.api_of(None)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def base_url(self) -> str:
        return self.target.base_url

    @property
    def on_fake(self) -> bool:
        return self.target.app is not None

    # names, the ledger, secrets
    def name(self, kind: str) -> str:
        return self.ledger.name(kind)

    def phone_number(self) -> str:
        """A number for a client that sends nothing: fictional unless a test phone was given."""
        return self.run.test_phone or FICTIONAL_PREFIX + self.ledger.digits()[-3:]

    @property
    def test_phone(self) -> str:
        """The phone side-effecting contracts may reach."""
        if self.info.safety != "side-effecting":
            raise AssertionError("only side_effecting contracts may reach the test phone")
        return self.run.test_phone or DEFAULT_TEST_PHONE

    def created(self, kind: str, name: str, path: str, role: str = "user") -> None:
        self.ledger.add(kind, name, path, role)

    def deleted(self, path: str) -> None:
        self.ledger.forget(path)

    def secret(self, name: str) -> str:
        """A fresh secret value that reports and snapshots show only as `<secret:NAME>`."""
        value = f"{name}-{_secrets.token_hex(8)}"
        self.run.secrets[f"{name}-{value[-4:]}"] = value
        return value

    def hide(self, name: str, value: str) -> str:
        """A secret the target issued (a request token, say): shown only as `<secret:NAME>`."""
        self.run.secrets[name] = value
        return value

    # snapshots
    def match(self, key: str, reply, *, replace: dict | None = None, fields=(), regex: dict | None = None,
              keep=None, indices=None) -> list[str]:
        """Compare `reply` with `snapshots/<key>.json`; differences become API drift (the
        contract fails after its own assertions). Returns the differences."""
        view = View(tuple(fields), tuple((regex or {}).items()),
                    tuple(keep) if keep is not None else None, tuple(indices) if indices is not None else None)
        normalizer = Normalizer(base_urls=(self.target.base_url,), secrets=self.run.secrets,
                                replace=dict(replace or {}), run_id=self.run.run_id, test_phone=self.run.test_phone)
        actual = record(reply.status, reply.reason, reply.headers, reply.body, normalizer,
                        {"method": reply.method, "path": reply.path}, view)
        state = self.item.config.stash[STASH]
        loaded = state["store"].load(key)
        stash = self.item.stash[STASH]
        if self.item.config.option.ocss_snapshot_update and view.indices is None:
            # (a contract that stands in for some recorded entries only cannot re-record the whole)
            stash["recordings"].append({"key": key, "recording": actual.to_dict()})
        if loaded is None:
            stash["matches"].append({"key": key, "verdict": "unrecorded", "diffs": []})
            return []
        expected, meta = loaded
        diffs = compare(view.expected(expected), actual)
        stash["matches"].append({"key": key, "verdict": "drift" if diffs else "match", "diffs": diffs,
                                 "recorded": meta.get("recorded", "")})
        return diffs


def _kind_of(path: str) -> str:
    """What an object is, from its URL: `gdata`, `syncml`, `activesync`, `datastore`,
    `binding` or `content`."""
    parts = [p for p in path.split("/") if p]
    if "contents" in parts:
        return "content"
    if "bindings" in parts:
        return "binding"
    return {"google": "gdata"}.get(parts[2], parts[2]) if len(parts) > 2 else "object"


@pytest.fixture
def contract(ocss_run, request):
    info = request.node.stash.get(STASH, {}).get("info")
    if info is None:
        raise pytest.UsageError("the contract fixture is for contracts/ only")
    c = Contract(ocss_run, request.node, info)
    yield c
    for api in c._apis.values():
        api.close()


@pytest.fixture
def fake(contract):
    """The fake behind a fake_only contract: clock, phone, outbox, faults, state."""
    if contract.fake is None:
        raise pytest.UsageError("the fake fixture needs @pytest.mark.fake_only(reason)")
    return contract.fake


# --- reports: two verdicts per contract, secrets scrubbed everywhere ------------------------
def scrub(text: str, secrets: dict[str, str]) -> str:
    for name, value in sorted(secrets.items(), key=lambda kv: -len(kv[1] or "")):
        if value:
            text = text.replace(value, f"<secret:{name}>")
    return text


def scrub_values(data, secrets: dict[str, str]):
    """`data` (JSON-like) with every string value scrubbed; keys are the harness's own."""
    if isinstance(data, str):
        return scrub(data, secrets)
    if isinstance(data, dict):
        return {k: scrub_values(v, secrets) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [scrub_values(v, secrets) for v in data]
    return data


class ContractDrift(pytest.fail.Exception):
    """The contract's own assertions held, but the answer differs from its snapshot."""


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """Drift fails the contract as its last step, as an ordinary failure (so xfail, JUnit
    and every other plugin treat it as one); a behaviour failure raised first wins."""
    result = yield
    data = pyfuncitem.stash.get(STASH, None) if _is_contract(pyfuncitem) else None
    drift = [m for m in (data or {}).get("matches", []) if m["verdict"] == "drift"]
    if drift and not pyfuncitem.config.option.ocss_snapshot_update:
        raise ContractDrift("API drift (the answer differs from the recorded snapshot):\n" + "\n".join(
            f"  {m['key']}: {d}" for m in drift for d in m["diffs"]), pytrace=False)
    return result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    data = item.stash.get(STASH, None) if _is_contract(item) else None
    if data is None:
        return
    state = item.config.stash[STASH]
    secrets = state.get("secrets", {})
    behaviour = report.outcome if report.when == "call" or report.outcome != "passed" else None
    if report.when == "call" and call.excinfo is not None and call.excinfo.errisinstance(ContractDrift):
        behaviour = "passed"  # its assertions held; the drift verdict says the rest
    elif behaviour == "skipped" and hasattr(report, "wasxfail"):
        behaviour = "failed" if report.when == "call" else behaviour  # an expected failure is still one
    if isinstance(report.longrepr, tuple) and secrets:  # a skip: (path, line, reason)
        report.longrepr = (*report.longrepr[:2], scrub(str(report.longrepr[2]), secrets))
    elif report.longrepr is not None and secrets:
        report.longrepr = scrub(str(report.longrepr), secrets)
    if secrets:
        report.sections = [(title, scrub(content, secrets)) for title, content in report.sections]
    if behaviour is not None and report.when in ("setup", "call"):
        info = data["info"]
        entry = {"nodeid": item.nodeid, "spec": info.spec, "provenance": info.provenance, "source": info.source,
                 "safety": info.safety, "fake_only": info.fake_only, "behaviour": behaviour,
                 "matches": data["matches"], "recordings": data["recordings"],
                 "skip": scrub(str(report.longrepr[2]).removeprefix("Skipped: ")
                               if report.skipped and isinstance(report.longrepr, tuple) else "", secrets)}
        if behaviour == "failed" and call.excinfo is not None:  # the report shows why, in a line
            entry["failure"] = call.excinfo.exconly().strip().splitlines()[0][:300]
        # values only: a short secret ("s", say) scrubbed from the JSON text would break its keys
        report.user_properties.append(("ocss.contract", json.dumps(scrub_values(entry, secrets))))


class Reporter:
    """Gathers every contract's verdicts (from xdist workers too: they travel in the
    reports' user_properties) and writes the reports once, in the controlling process."""

    def __init__(self, config) -> None:
        self.config = config
        self.state = config.stash[STASH]
        # pytest's own tally of the session, counted as its summary line counts: one
        # category per report, from the same hook its terminal reporter asks
        self.pytest_counts: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report) -> None:
        results = self.state["results"]
        for name, value in report.user_properties:
            if name == "ocss.contract":
                entry = json.loads(value)
                results[entry["nodeid"]] = {**results.get(entry["nodeid"], {}), **entry}
        if report.when == "teardown" and report.failed and report.nodeid in results:
            results[report.nodeid]["behaviour"] = "failed"
            results[report.nodeid]["teardown_error"] = True
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        if category and getattr(report, "count_towards_summary", True):
            self.pytest_counts[category] += 1
            if report.nodeid in results:
                results[report.nodeid].setdefault("counted", []).append(category)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.pytest_counts["error"] += 1
        elif report.skipped:
            self.pytest_counts["skipped"] += 1

    def summarize(self, results) -> dict:
        return reports.summarize(results, dict(self.pytest_counts))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.state["results"]:
            return
        summary = self.summarize(self.state["results"].values())
        terminalreporter.write_sep("-", "ocss contract suite")
        for line in reports.terminal_lines(summary, self.state["run_id"]):
            terminalreporter.write_line(line)
        for line in self.state.get("ambiguous", []):
            terminalreporter.write_line(f"NOT RECORDED (answered differently by several contracts) {line}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        results = list(self.state["results"].values())
        if not results or hasattr(self.config, "workerinput"):
            return
        summary = self.summarize(results)
        target = self.config.option.ocss_base_url or "the in-process fake"
        if self.config.option.ocss_snapshot_update:
            if exitstatus == 0 and not summary["behaviour"]["failed"]:
                self._save_recordings(results)
                summary["snapshots_updated"] = True
            else:
                summary["snapshots_updated"] = False
        summary["ambiguous_keys"] = self.state.get("ambiguous", [])
        if self.state["report_dir"] is not None:
            reports.write(self.state["report_dir"], summary, target=target, run_id=self.state["run_id"])
        if summary["drift"]["drift"] and session.exitstatus == 0 and not self.config.option.ocss_snapshot_update:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _save_recordings(self, results) -> None:
        """One file per key; a key that contracts answered differently is not recorded (it
        would flip between runs): the report names it, and each contract needs its own key."""
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        by_key: dict[str, list] = {}
        for entry in results:
            for rec in entry.get("recordings", []):
                by_key.setdefault(rec["key"], []).append((entry, rec["recording"]))
        ambiguous = self.state.setdefault("ambiguous", [])
        for key, recordings in sorted(by_key.items()):
            if len({json.dumps(r["response"], sort_keys=True) for _, r in recordings}) > 1:
                ambiguous.append(f"{key}: {', '.join(sorted({e['nodeid'] for e, _ in recordings}))}")
                continue
            entry, recording = recordings[0]
            meta = {"provenance": {"kind": entry["provenance"], "source": entry["source"]},
                    "recorded": f"from <base-url> on {when}, run {self.state['run_id']}, by {entry['nodeid']}"}
            self.state["store"].save(key, Recording.from_dict(recording), meta)
