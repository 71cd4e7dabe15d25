"""Tests of phonesetup against the fake SyncServer, using nothing but the ocss-testkit
pytest plugin: its `ocss_api` / `ocss_api_for` fixtures (the OCSS library bound to the
fake), `ocss_fake` (outbox, faults, journal, state) and its markers. No conftest, no
server to start.
"""
from __future__ import annotations

import phonesetup
import pytest

from ocss.exceptions import ClientError, ConnectionError, ServerError

NUMBER = "+4798765432"
MODEL = "242"  # Nokia 6233 in the fake's phones database
PIN = "4711"
FAST = {"backoff": 0.01}  # the retry schedule, shortened for tests


def requests_seen(fake) -> list[tuple[str, str, int]]:
    """(method, path, status) of every API request the fake received in this test."""
    return [(e.method, e.path, e.status) for e in fake.journal]


def test_provision_registers_the_phone_and_texts_it_the_pincode(ocss_api, ocss_fake):
    uuid = phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, **FAST)

    sms = ocss_fake.outbox.last(to=NUMBER, kind="setup-sms")
    assert f"PIN: {PIN}" in sms.body
    assert sms.client == uuid
    assert requests_seen(ocss_fake) == [
        ("POST", "/v2/services/syncml/", 201),
        ("POST", f"/v2/services/syncml/{uuid}/setup/", 201),
    ]
    [client] = [c for c in ocss_fake.state.get()["clients"] if c["uuid"] == uuid]
    assert (client["owner"], client["phone_number"], client["model_uuid"]) == ("alice", NUMBER, MODEL)


@pytest.mark.ocss_patch([{"op": "replace", "path": "/users/2/setup_profile", "value": "AcmeSync"}])  # bob
def test_the_sms_names_the_users_setup_profile(ocss_api_for, ocss_fake):
    phonesetup.provision(ocss_api_for("bob"), NUMBER, MODEL, PIN, **FAST)
    assert ocss_fake.outbox.last(to=NUMBER, kind="setup-sms").body.startswith("Sync settings 'AcmeSync'")


@pytest.mark.ocss_patch([{"op": "replace", "path": "/clients", "value": []}])
def test_starting_from_an_admin_without_phones(ocss_api_for):
    admin = ocss_api_for("admin")
    assert phonesetup.list_phones(admin) == []  # the demo clients are gone
    uuid = phonesetup.provision(admin, NUMBER, MODEL, PIN, **FAST)
    assert phonesetup.list_phones(admin) == [{"uuid": uuid, "number": NUMBER, "model": MODEL}]


def test_the_demo_clients_are_back_in_the_next_test(ocss_api_for):
    assert len(phonesetup.list_phones(ocss_api_for("admin"))) == 2


def test_retries_a_server_that_answers_503(ocss_api, ocss_fake):
    ocss_fake.faults.add("status", status=503, path="/v2/services/syncml/*", times=2)
    pauses = []
    uuid = phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, backoff=0.01, sleep=pauses.append)

    assert requests_seen(ocss_fake) == [
        ("POST", "/v2/services/syncml/", 503),
        ("POST", "/v2/services/syncml/", 503),
        ("POST", "/v2/services/syncml/", 201),
        ("POST", f"/v2/services/syncml/{uuid}/setup/", 201),
    ]
    assert [e.fault is not None for e in ocss_fake.journal] == [True, True, False, False]
    assert pauses == [0.01, 0.02]  # exponential backoff
    [rule] = ocss_fake.faults.rules  # used up, but still listed with its count
    assert rule.spent and rule.hits == 2  # both failures happened
    assert len(ocss_fake.outbox.messages(to=NUMBER, kind="setup-sms")) == 1


def test_a_dropped_connection_is_retried_without_registering_twice(ocss_api, ocss_fake):
    ocss_fake.faults.add("drop", method="POST", path="/v2/services/syncml/", times=1)
    uuid = phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, **FAST)

    assert requests_seen(ocss_fake) == [
        ("POST", "/v2/services/syncml/", 0),  # no answer: the fake closed the connection
        ("GET", "/v2/services/syncml/", 200),  # was it created after all? no
        ("POST", "/v2/services/syncml/", 201),
        ("POST", f"/v2/services/syncml/{uuid}/setup/", 201),
    ]
    assert ocss_fake.journal[0].reason == "connection dropped"
    assert [c["uuid"] for c in ocss_fake.state.get()["clients"] if c["owner"] == "alice"] == [uuid]


def test_an_answer_cut_short_after_the_phone_was_created_is_not_registered_again(ocss_api, ocss_fake):
    # The server created the phone, but its answer broke off half way: the app must find
    # the phone it made rather than make a second one.
    ocss_fake.faults.add("truncate", method="POST", path="/v2/services/syncml/", times=1)
    uuid = phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, **FAST)

    assert requests_seen(ocss_fake) == [
        ("POST", "/v2/services/syncml/", 201),  # applied, but the library read half of it
        ("GET", "/v2/services/syncml/", 200),  # found it
        ("POST", f"/v2/services/syncml/{uuid}/setup/", 201),
    ]
    assert [c["uuid"] for c in ocss_fake.state.get()["clients"] if c["owner"] == "alice"] == [uuid]


def test_a_failed_setup_is_retried_and_the_phone_registered_once(ocss_api, ocss_fake):
    ocss_fake.faults.add("status", status=502, path="/v2/services/syncml/*/setup/", times=1)
    uuid = phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, **FAST)
    assert [status for _, _, status in requests_seen(ocss_fake)] == [201, 502, 201]
    assert ocss_fake.outbox.last(to=NUMBER, kind="setup-sms").client == uuid


def test_gives_up_after_its_retry_budget(ocss_api, ocss_fake):
    ocss_fake.faults.add("status", status=503, path="/v2/services/syncml/*", times=10)
    with pytest.raises(phonesetup.ProvisionFailed) as failed:
        phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, attempts=3, **FAST)

    assert failed.value.step == "register"
    assert all(isinstance(e, ServerError) for e in failed.value.errors)
    assert [e.status for e in failed.value.errors] == [503, 503, 503]
    assert requests_seen(ocss_fake) == [("POST", "/v2/services/syncml/", 503)] * 3  # and not one more
    [rule] = ocss_fake.faults.rules
    assert (rule.hits, rule.times) == (3, 10)
    assert ocss_fake.outbox.messages(kind="setup-sms") == []


def test_gives_up_on_a_server_that_keeps_dropping_the_connection(ocss_api, ocss_fake):
    ocss_fake.faults.add("drop", path="/v2/services/syncml/*")  # always
    with pytest.raises(phonesetup.ProvisionFailed) as failed:
        phonesetup.provision(ocss_api, NUMBER, MODEL, PIN, attempts=2, **FAST)
    assert all(isinstance(e, ConnectionError) and phonesetup.ambiguous(e) for e in failed.value.errors)
    # The first POST, then the look-up that also found no answer.
    assert requests_seen(ocss_fake) == [("POST", "/v2/services/syncml/", 0), ("GET", "/v2/services/syncml/", 0)]


@pytest.mark.ocss_allow_problems  # the 400 below is the point of this test
def test_a_refusal_is_not_retried(ocss_api, ocss_fake):
    with pytest.raises(ClientError) as refused:
        phonesetup.provision(ocss_api, NUMBER, "no-such-model", PIN, **FAST)
    assert refused.value.status == 400
    assert len(ocss_fake.journal) == 1


def test_the_command_line_reads_the_credentials_from_the_environment(ocss_fake, monkeypatch, capsys):
    c = ocss_fake.credentials("bob")
    for name, value in {"OCSS_BASE_URL": ocss_fake.url, "OCSS_CONSUMER_KEY": c.consumer_key,
                        "OCSS_CONSUMER_SECRET": c.consumer_secret, "OCSS_ACCESS_TOKEN": c.token,
                        "OCSS_ACCESS_SECRET": c.token_secret}.items():
        monkeypatch.setenv(name, value)
    assert phonesetup.main([NUMBER, MODEL, PIN, "--timezone", "Europe/Oslo"]) == 0
    uuid = capsys.readouterr().out.strip()
    [client] = [c for c in ocss_fake.state.get()["clients"] if c["uuid"] == uuid]
    assert (client["owner"], client["timezone"]) == ("bob", "Europe/Oslo")
    assert ocss_fake.outbox.last(to=NUMBER, kind="setup-sms").client == uuid
