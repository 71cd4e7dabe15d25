"""The OCSS library's entry points and credentials (SyncServer API Python interface,
'Getting started' and 'Authentication'): where SyncServerAuth finds its values
(arguments, then environment, then netrc), where SyncServerAPI connects, and the OAuth
1.0a three-legged flow against the fake (RFC 5849 §2)."""
from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

import ocss
from ocss.exceptions import ClientError, NotAllowedError, OCSSAPIError

VARIABLES = ("OCSS_CONSUMER_KEY", "OCSS_CONSUMER_SECRET", "OCSS_ACCESS_TOKEN", "OCSS_ACCESS_SECRET", "OCSS_BASE_URL")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No OCSS_* variables, and a home without a .netrc."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def values(auth: ocss.SyncServerAuth) -> tuple:
    return auth.consumer_key, auth.consumer_secret, auth.access_key, auth.access_secret


def write_netrc(tmp_path, text: str):
    path = tmp_path / "keys.netrc"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_arguments_come_first(clean_env):
    clean_env.setenv("OCSS_CONSUMER_KEY", "env-key")
    assert values(ocss.SyncServerAuth("k", "s", "t", "ts")) == ("k", "s", "t", "ts")


def test_the_environment_fills_what_the_arguments_leave_out(clean_env):
    for name, value in zip(VARIABLES[:4], ("ek", "es", "et", "ets"), strict=True):
        clean_env.setenv(name, value)
    assert values(ocss.SyncServerAuth()) == ("ek", "es", "et", "ets")
    assert values(ocss.SyncServerAuth(access_key="t")) == ("ek", "es", "t", "ets")


def test_netrc_fills_the_rest_for_the_api_host(clean_env, tmp_path):
    path = write_netrc(tmp_path, "machine api.example.net login nk password ns account nt:nts\n"
                                 "machine other.example.net login xk password xs account xt:xts\n")
    clean_env.setenv("OCSS_ACCESS_TOKEN", "env-token")
    auth = ocss.SyncServerAuth(netrcfile=path)
    assert values(auth) == (None, None, "env-token", None)  # netrc is read for a host, by the API
    api = ocss.SyncServerAPI(auth, base_url="https://api.example.net/prefix")
    assert values(api.auth) == ("nk", "ns", "env-token", "nts")


def test_the_default_netrc_is_home_netrc(clean_env, tmp_path):
    (tmp_path / ".netrc").write_text("machine api.obexcode.com login hk password hs account ht:hts\n")
    (tmp_path / ".netrc").chmod(0o600)
    api = ocss.SyncServerAPI(ocss.SyncServerAuth())
    assert api.base_url == "https://api.obexcode.com"
    assert values(api.auth) == ("hk", "hs", "ht", "hts")


def test_netrc_without_an_account_gives_the_consumer_only(clean_env, tmp_path):
    path = write_netrc(tmp_path, "machine 127.0.0.1 login ck password cs\n")
    auth = ocss.SyncServerAuth(netrcfile=str(path))
    ocss.SyncServerAPI(auth, base_url="http://127.0.0.1:9")
    assert values(auth) == ("ck", "cs", None, None) and auth.has_consumer and not auth.complete


def test_netrc_prefers_host_and_port_then_the_bare_host(clean_env, tmp_path):
    path = write_netrc(tmp_path, "machine 127.0.0.1 login hk password hs account ht:hts\n"
                                 "machine 127.0.0.1:8080 login pk password ps account pt:pts\n"
                                 "default login dk password ds account dt:dts\n")

    def read(base_url: str) -> tuple:
        return values(ocss.SyncServerAPI(ocss.SyncServerAuth(netrcfile=path), base_url=base_url).auth)

    assert read("http://127.0.0.1:8080") == ("pk", "ps", "pt", "pts")  # its own entry, whole
    assert read("http://127.0.0.1:9090/prefix") == ("hk", "hs", "ht", "hts")  # no 9090 entry: the host's
    assert read("http://127.0.0.1") == ("hk", "hs", "ht", "hts")
    assert read("http://localhost:8080") == ("dk", "ds", "dt", "dts")  # neither: the default entry


def test_netrc_values_combine_with_the_environment_value_by_value(clean_env, tmp_path):
    path = write_netrc(tmp_path, "machine 127.0.0.1 login nk password ns\n")
    clean_env.setenv("OCSS_ACCESS_TOKEN", "env-token")
    clean_env.setenv("OCSS_ACCESS_SECRET", "env-secret")
    auth = ocss.SyncServerAuth(netrcfile=path)
    ocss.SyncServerAPI(auth, base_url="http://127.0.0.1:8080")  # the fake's address: machine 127.0.0.1
    assert values(auth) == ("nk", "ns", "env-token", "env-secret") and auth.complete


@pytest.mark.parametrize("text", ["machine h login k password s account no-colon\n", "bogus h login k\n"])
def test_a_bad_netrc_is_an_ocss_error(clean_env, tmp_path, text):
    with pytest.raises(OCSSAPIError):
        ocss.SyncServerAPI(ocss.SyncServerAuth(netrcfile=write_netrc(tmp_path, text)), base_url="http://h")


def test_a_named_netrc_that_is_missing_is_an_ocss_error(clean_env, tmp_path):
    with pytest.raises(OCSSAPIError, match="netrc"):
        ocss.SyncServerAPI(ocss.SyncServerAuth(netrcfile=tmp_path / "absent"), base_url="http://h")


def test_base_url_argument_then_environment_then_default(clean_env):
    assert ocss.SyncServerAPI().base_url == "https://api.obexcode.com"
    clean_env.setenv("OCSS_BASE_URL", "http://127.0.0.1:8080/")
    assert ocss.SyncServerAPI().base_url == "http://127.0.0.1:8080"
    assert ocss.SyncServerAPI(base_url="https://example.org").base_url == "https://example.org"
    with pytest.raises(ValueError):
        ocss.SyncServerAPI(base_url="ftp://example.org")


def test_secrets_stay_out_of_the_repr(clean_env):
    text = repr(ocss.SyncServerAuth("key", "consumer-secret", "token", "token-secret"))
    assert "'key'" in text
    assert not [s for s in ("consumer-secret", "'token'", "token-secret") if s in text]


def test_a_consumer_alone_reaches_the_phones_but_no_protected_call(fake):
    api = ocss.SyncServerAPI(ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret"), base_url=fake.url)
    assert api.phones.vendors["1"].name == "Nokia"
    before = fake.app.journal.last_id()
    with pytest.raises(NotAllowedError, match="no request was sent"):
        len(api.clients)
    assert fake.app.journal.last_id() == before
    api.close()


# --- the three-legged flow -----------------------------------------------------------------------
def decide(fake, url: str, user: str, approve: str) -> str:
    """What the user does in the browser: click Approve (`approve="yes"`) or Deny
    (`"no"`) on the authorization page; the text the page answers."""
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["oauth_token"][0]
    form = urllib.parse.urlencode({"oauth_token": token, "user": user, "approve": approve}).encode()
    with urllib.request.urlopen(fake.url + "/oauth/authorize", data=form, timeout=10) as reply:
        return reply.read().decode()


def approve(fake, url: str, user: str) -> str:
    """The user approves; the verifier the page shows."""
    return urllib.parse.parse_qs(decide(fake, url, user, "yes"))["oauth_verifier"][0]


def test_the_three_legged_flow_gives_a_working_access_token(fake):
    auth = ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret")
    api = ocss.SyncServerAPI(auth, base_url=fake.url)
    assert api.phones.models["112"].name  # cached before: cleared by the new identity
    key, secret = api.get_request_token()
    assert (auth.request_key, auth.request_secret) == (key, secret)
    url = api.get_authorization_url()
    assert url.startswith(fake.url + "/oauth/authorize?oauth_token=")
    verifier = approve(fake, url, "admin")
    assert api.get_access_token(verifier) == (auth.access_key, auth.access_secret)
    assert auth.complete and auth.request_key is None
    assert "2fb295cc-0e50-11de-81c8-002215064801" in api.clients  # admin's phone
    with pytest.raises(NotAllowedError):
        api.get_access_token(verifier)  # the request token is used up: refused locally
    api.close()


def test_a_denied_request_token_cannot_be_exchanged(fake):
    auth = ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret")
    api = ocss.SyncServerAPI(auth, base_url=fake.url)
    api.get_request_token()
    shown = decide(fake, api.get_authorization_url(), "bob", "no")
    assert shown.startswith("Access denied") and "oauth_verifier" not in shown
    with pytest.raises(NotAllowedError) as raised:
        api.get_access_token("whatever-the-user-typed")
    assert raised.value.status == 401
    assert not auth.complete and auth.access_key is None
    api.close()


def test_a_wrong_verifier_is_refused(fake):
    api = ocss.SyncServerAPI(ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret"), base_url=fake.url)
    api.get_request_token(callback="http://127.0.0.1:9/callback")
    approve_url = api.get_authorization_url()
    with pytest.raises((NotAllowedError, ClientError)) as raised:
        api.get_access_token("not-the-verifier")
    assert raised.value.status in (400, 401)
    assert approve_url
    api.close()


def test_the_flow_needs_a_consumer_and_a_request_token_first(fake):
    before = fake.app.journal.last_id()
    with pytest.raises(NotAllowedError):
        ocss.SyncServerAPI(base_url=fake.url).get_request_token()
    api = ocss.SyncServerAPI(ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret"), base_url=fake.url)
    for call in (api.get_authorization_url, lambda: api.get_access_token("v")):
        with pytest.raises(NotAllowedError):
            call()
    assert fake.app.journal.last_id() == before
    wrong = ocss.SyncServerAPI(ocss.SyncServerAuth("demo-consumer-key", "wrong-secret"), base_url=fake.url)
    with pytest.raises(NotAllowedError) as raised:
        wrong.get_request_token()
    assert raised.value.status == 401
