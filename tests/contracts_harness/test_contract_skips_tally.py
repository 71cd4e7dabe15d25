"""What a contract run tells its reader: why a contract was skipped (everything it lacks,
at once), and one tally of the run that agrees with pytest's own line or says why not.

Issue 12, defects 7 and 8: a skipped contract named one missing flag at a time, and the
harness's "216 passed, 8 failed" stood one line above pytest's "12 failed".
"""
from __future__ import annotations

import json
import re
import secrets as _secrets
import subprocess
from pathlib import Path

import pytest

from contracts.harness import report
from contracts.harness.plugin import ContractInfo, skip_reason, uses_second_user
from tests.contracts_harness.test_contract_harness import CONTRACTS, ROOT, child_env, hand_snapshots, run_child

URL = "http://127.0.0.1:9"  # nothing listens: a contract that ran would fail, not pass
SECOND_USER = ("the second user's credentials (OCSS_OTHER_ACCESS_TOKEN and OCSS_OTHER_ACCESS_SECRET, "
               "or --ocss-netrc with an entry for machine other.127.0.0.1)")
USER_ONLY = {"OCSS_CONSUMER_KEY": "probe-consumer-key", "OCSS_CONSUMER_SECRET": "probe-consumer-secret",
             "OCSS_ACCESS_TOKEN": "probe-access-token", "OCSS_ACCESS_SECRET": "probe-access-secret"}
BOTH_USERS = {**USER_ONLY, "OCSS_OTHER_ACCESS_TOKEN": "probe-other-token",
              "OCSS_OTHER_ACCESS_SECRET": "probe-other-secret"}


def info(safety: str, fake_only: str | None = None) -> ContractInfo:
    return ContractInfo("I9", "inferred", "probe", safety, fake_only)


def reason(safety: str, *, uses_other=False, fake_only=None, flags=(), phone=None, has_other=False,
           base_url: str | None = URL) -> str | None:
    return skip_reason(info(safety, fake_only), uses_other, base_url=base_url,
                       allow_mutating="mutating" in flags, allow_sms="sms" in flags, test_phone=phone,
                       has_second_user=has_other)


# --- the reason builder ----------------------------------------------------------------------------
class TestSkipReason:
    def test_side_effecting_with_nothing_given_names_every_flag(self):
        assert reason("side-effecting") == (
            "side-effecting (sends an SMS or push to a phone): against a URL target it needs "
            "--ocss-allow-mutating, --ocss-allow-sms and --ocss-test-phone NUMBER")

    def test_only_what_is_still_missing_is_named(self):
        assert reason("side-effecting", flags=("mutating",)) == (
            "side-effecting (sends an SMS or push to a phone): against a URL target it needs "
            "--ocss-allow-sms and --ocss-test-phone NUMBER")
        assert reason("side-effecting", flags=("mutating",), phone="+4790000001").endswith(
            "it needs --ocss-allow-sms")
        assert reason("side-effecting", phone="+4790000001").endswith(
            "it needs --ocss-allow-mutating and --ocss-allow-sms")
        assert reason("side-effecting", flags=("mutating", "sms"), phone="+4790000001") is None

    def test_the_second_user_is_named_with_the_flags(self):
        assert reason("mutating", uses_other=True) == (
            "mutating (creates, changes or deletes data), signs as a second user: against a URL target it needs "
            f"--ocss-allow-mutating and {SECOND_USER}")
        assert reason("side-effecting", uses_other=True) == (
            "side-effecting (sends an SMS or push to a phone), signs as a second user: against a URL target it "
            f"needs --ocss-allow-mutating, --ocss-allow-sms, --ocss-test-phone NUMBER and {SECOND_USER}")
        assert reason("read-only", uses_other=True) == (
            f"read-only, signs as a second user: against a URL target it needs {SECOND_USER}")
        assert reason("read-only", uses_other=True, has_other=True) is None
        assert reason("mutating", uses_other=True, has_other=True).endswith("it needs --ocss-allow-mutating")
        assert reason("mutating", flags=("mutating",), has_other=False) is None  # it does not use a second user

    def test_fake_only_names_the_target_and_nothing_that_would_not_help(self):
        text = reason("side-effecting", fake_only="reads the outbox", uses_other=True)
        assert text == ("fake only (reads the outbox): runs only against the in-process fake, "
                        "that is without --ocss-base-url")
        assert reason("read-only", fake_only="reads the outbox", flags=("mutating", "sms"), phone="+1234567",
                      has_other=True) == text

    @pytest.mark.parametrize("safety", ["read-only", "mutating", "side-effecting"])
    def test_against_the_in_process_fake_nothing_skips(self, safety):
        assert reason(safety, base_url=None, uses_other=True, fake_only="x") is None

    def test_the_second_user_is_read_from_the_contracts_source(self):
        class Item:
            def __init__(self, function):
                self.function = function

        def uses_other(contract):
            contract.other.get("/")

        def uses_role(contract, create):
            create(contract, role="other")

        def uses_api_of(contract):
            contract.api_of("other")

        def user_only(contract):
            contract.api.get("/")  # another user's client is mentioned, not used

        assert [uses_second_user(Item(f)) for f in (uses_other, uses_role, uses_api_of, user_only)] == [
            True, True, True, False]
        assert uses_second_user(Item(len)) is False  # no source to read


# --- in a child run against a URL target -----------------------------------------------------------
SKIPS = '''
import pytest

def create(contract, role="user"):
    contract.api_of(role).post("/v2/services/datastore/", b"<entry/>")

@pytest.mark.inferred("I13", basis="probe")
def test_mutating(contract):
    create(contract)

@pytest.mark.inferred("I13", basis="probe")
@pytest.mark.side_effecting
def test_side_effecting(contract):
    contract.api.post("/v2/services/syncml/x/setup/", b"<entry/>")

@pytest.mark.inferred("I13", basis="probe")
@pytest.mark.mutating
def test_mutating_second_user(contract):
    create(contract, role="other")

@pytest.mark.inferred("I13", basis="probe")
@pytest.mark.side_effecting
def test_side_effecting_second_user(contract):
    contract.other.post("/v2/services/syncml/x/setup/", b"<entry/>")

@pytest.mark.inferred("I13", basis="probe")
@pytest.mark.read_only
def test_read_only_second_user(contract):
    contract.other.get("/v2/services/datastore/")

@pytest.mark.inferred("I13", basis="probe")
@pytest.mark.fake_only("reads the outbox")
def test_fake_only(contract, fake):
    assert fake.outbox.messages() == []
'''


def run_contracts(source: str, *args: str, env: dict, extra_files=()) -> tuple[subprocess.CompletedProcess, str]:
    """`source` as a contract file (under contracts/, removed at once) in a child pytest."""
    name = f"tmp_skips_probe_{_secrets.token_hex(4)}.py"
    path = CONTRACTS / name
    try:
        path.write_text(source, encoding="utf-8")
        return run_child(f"contracts/{name}", *extra_files, *args, env=env), f"contracts/{name}"
    finally:
        path.unlink(missing_ok=True)


def skip_reasons(report_dir: Path) -> dict[str, str]:
    data = json.loads((report_dir / "drift-report.json").read_text(encoding="utf-8"))
    return {c["nodeid"].split("::")[1]: c["skip"] for c in data["contracts"] if c["behaviour"] == "skipped"}


def test_a_url_run_without_opt_ins_names_everything_each_contract_needs(tmp_path):
    result, _ = run_contracts(SKIPS, "--ocss-base-url", URL, "--ocss-report-dir", str(tmp_path), "-rs",
                              env=child_env(**USER_ONLY))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\b6 skipped\b", result.stdout.splitlines()[-1]), result.stdout[-500:]
    side_effecting = "side-effecting (sends an SMS or push to a phone)"
    assert skip_reasons(tmp_path) == {
        "test_mutating": "mutating (creates, changes or deletes data): against a URL target it needs "
                         "--ocss-allow-mutating",
        "test_side_effecting": f"{side_effecting}: against a URL target it needs --ocss-allow-mutating, "
                               "--ocss-allow-sms and --ocss-test-phone NUMBER",
        "test_mutating_second_user": "mutating (creates, changes or deletes data), signs as a second user: against "
                                     f"a URL target it needs --ocss-allow-mutating and {SECOND_USER}",
        "test_side_effecting_second_user": f"{side_effecting}, signs as a second user: against a URL target it "
                                           "needs --ocss-allow-mutating, --ocss-allow-sms, --ocss-test-phone "
                                           f"NUMBER and {SECOND_USER}",
        "test_read_only_second_user": f"read-only, signs as a second user: against a URL target it needs {SECOND_USER}",
        "test_fake_only": "fake only (reads the outbox): runs only against the in-process fake, that is without "
                          "--ocss-base-url",
    }
    # pytest's own short summary carries the same sentences
    assert f"it needs --ocss-allow-mutating, --ocss-allow-sms, --ocss-test-phone NUMBER and {SECOND_USER}" \
        in result.stdout


def test_a_url_run_with_some_opt_ins_names_only_what_is_still_missing(tmp_path):
    # the contracts that could now run are deselected: nothing listens at URL
    result, _ = run_contracts(SKIPS, "--ocss-base-url", URL, "--ocss-report-dir", str(tmp_path),
                              "--ocss-allow-mutating", "--ocss-test-phone", "+4790000001",
                              "-k", "side_effecting or fake_only", env=child_env(**BOTH_USERS))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert skip_reasons(tmp_path) == {
        "test_side_effecting": "side-effecting (sends an SMS or push to a phone): against a URL target it needs "
                               "--ocss-allow-sms",
        "test_side_effecting_second_user": "side-effecting (sends an SMS or push to a phone), signs as a second "
                                           "user: against a URL target it needs --ocss-allow-sms",
        "test_fake_only": "fake only (reads the outbox): runs only against the in-process fake, that is without "
                          "--ocss-base-url",
    }


# --- one tally --------------------------------------------------------------------------------------
TALLY = '''
import pytest

@pytest.fixture
def breaks_on_teardown():
    yield
    raise RuntimeError("the fixture's teardown broke")

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
def test_passes(contract):
    assert contract.api.get("/v2/phones/vendors/").status == 200

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
def test_fails_its_assertion(contract):
    assert contract.api.get("/v2/phones/vendors/").status == 418

@pytest.mark.documented("SyncML API", "Listing all clients", "D6")
@pytest.mark.read_only
def test_drifts_only(contract):
    reply = contract.api.get("/v2/services/syncml/")
    contract.match("hand-drift", reply)
    assert reply.status == 200

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
@pytest.mark.xfail(reason="a known failure")
def test_xfails(contract):
    assert False

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
def test_teardown_breaks(contract, breaks_on_teardown):
    pass

@pytest.mark.inferred("I1", basis="probe")
@pytest.mark.read_only
@pytest.mark.skip(reason="not today")
def test_skipped(contract):
    pass
'''
OUTSIDE = '''
def test_outside_passes():
    pass

def test_outside_fails():
    assert False
'''
ARTEFACTS = ("report", "conformance-report", "junit.xml", "ledger.jsonl", "drift-report.md", "drift-report.html",
             "drift-report.json")


def parse_counts(text: str) -> dict[str, int]:
    """`2 failed (…), 3 passed, 1 error` -> {"failed": 2, "passed": 3, "error": 1}."""
    text = re.sub(r"\([^()]*\)", "", text)
    return {("error" if word.startswith("error") else word): int(n)
            for n, word in re.findall(r"(\d+) (failed|passed|skipped|xfailed|xpassed|errors?)\b", text)}


def artefacts_in_checkout() -> set[Path]:
    return {p for d in (ROOT, CONTRACTS) for name in ARTEFACTS for p in [d / name] if p.exists()}


@pytest.fixture(scope="module")
def tally_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("tally")
    outside = base / "test_outside_probe.py"
    outside.write_text(OUTSIDE, encoding="utf-8")
    before = artefacts_in_checkout()
    result, nodeid = run_contracts(TALLY, "--ocss-snapshot-dir", str(hand_snapshots(base / "snapshots")),
                                   env=child_env(), extra_files=(str(outside),))
    return result, nodeid, artefacts_in_checkout() - before


def test_the_harness_tally_and_pytests_line_agree_and_say_why(tally_run):
    result, _, _ = tally_run
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if "ocss contract suite" in line))
    harness = lines[start + 1]
    assert harness.split(": ", 1)[1].startswith(
        "contracts: 6 — 2 failed (1 on its assertions, 1 on API drift alone), 2 passed, 1 skipped, 1 xfailed, "
        "1 error (in the teardown of a contract counted above too); pytest's count also includes 1 failed, "
        "1 passed outside the contracts · API drift: 1 drifted"), harness
    mine, _, outside = harness.partition("pytest's count also includes ")
    outside = outside.split(" outside the contracts")[0]
    pytest_line = lines[-1].strip("= ")
    assert pytest_line.startswith("3 failed, 3 passed, 1 skipped, 1 xfailed, 1 error in "), pytest_line
    # the two add up, category by category
    contracts, others, pytests = parse_counts(mine.split("contracts: 6 — ")[1]), parse_counts(outside), \
        parse_counts(pytest_line)
    assert {k: contracts.get(k, 0) + others.get(k, 0) for k in pytests} == pytests


def test_a_run_without_a_report_dir_writes_nothing_into_the_checkout(tally_run):
    _, _, new_artefacts = tally_run
    assert new_artefacts == set()


def test_the_tally_for_pytests_counts_per_report():
    rows = [
        {"nodeid": "c::a", "spec": "I1", "provenance": "inferred", "source": "s", "safety": "read-only",
         "behaviour": "failed", "matches": [], "counted": ["passed", "error"], "teardown_error": True},
        {"nodeid": "c::b", "spec": "I1", "provenance": "inferred", "source": "s", "safety": "read-only",
         "behaviour": "failed", "matches": [], "counted": ["error"]},  # its setup failed
        {"nodeid": "c::c", "spec": "I1", "provenance": "inferred", "source": "s", "safety": "read-only",
         "behaviour": "passed", "matches": [{"key": "k", "verdict": "drift", "diffs": ["x"]}], "counted": ["failed"]},
        {"nodeid": "c::d", "spec": "I1", "provenance": "inferred", "source": "s", "safety": "read-only",
         "behaviour": "passed", "matches": [{"key": "k", "verdict": "drift", "diffs": ["x"]}], "counted": ["failed"]},
    ]
    summary = report.summarize(rows, {"passed": 4, "failed": 2, "error": 3})
    assert summary["tally"] == {"contracts": 4, "failed": 2, "passed": 1, "skipped": 0, "xfailed": 0, "xpassed": 0,
                                "error": 2, "failed_on_assertions": 0, "failed_on_drift": 2, "counted_twice": 1}
    assert summary["pytest_outside"] == {"passed": 3, "error": 1}
    assert report.tally_line(summary) == (
        "contracts: 4 — 2 failed (on API drift alone), 1 passed, 2 errors (1 in the teardown of a contract "
        "counted above too); pytest's count also includes 3 passed, 1 error outside the contracts")
    # when pytest counted nothing else, the line says so
    assert report.tally_line(report.summarize(rows[2:], {"failed": 2})) == (
        "contracts: 2 — 2 failed (on API drift alone); pytest's count is the same")


def test_run_artefacts_are_ignored_by_git(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["report/drift-report.html", "conformance-report/junit.xml", "junit.xml", "ledger.jsonl",
             "drift-report.md", ".hypothesis/constants/x", "contracts/tmp_harness_probe_1234.py.ran"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, check=False)
    assert sorted(result.stdout.split()) == sorted(paths), result.stderr
    kept = subprocess.run(["git", "check-ignore", "--no-index", "contracts/report.py", "docs/report.md"], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=False)
    assert kept.stdout == "", "only run artefacts are ignored"
