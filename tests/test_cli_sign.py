"""`ocss-fake sign` (issue 12): an OAuth 1.0a Authorization header, or a whole curl command
line, that the fake accepts. The printed curl command is run with curl itself where it is
installed, and always replayed with http.client from its shell words."""
from __future__ import annotations

import http.client
import shlex
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from ocss_testkit import cli, signer
from ocss_testkit.auth import Authenticator
from ocss_testkit.faults import METHODS
from ocss_testkit.server import FakeServer
from ocss_testkit.world.fixtures import FixtureSet
from tests.test_cli import _env, shipped_sets

CURL = shutil.which("curl")
SYNCML = "/v2/services/syncml/"
ENTRY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
         "<oc:client><oc:phone_number>{phone}</oc:phone_number><oc:model_uuid>242</oc:model_uuid>"
         "<oc:timezone>Europe/Paris</oc:timezone></oc:client></entry>")


@pytest.fixture
def fake():
    server = FakeServer(port=0).start()
    yield server
    server.stop()


def sign(capsys, *argv: str) -> tuple[str, str]:
    """`ocss-fake sign …` in-process: (stdout, stderr)."""
    assert cli.main(["sign", *argv]) == 0
    out, err = capsys.readouterr()
    return out, err


def header_of(out: str) -> tuple[str, str]:
    name, _, value = out.strip().partition(": ")
    assert name == "Authorization" and value.startswith("OAuth "), out
    return name, value


def replay(command: str) -> tuple[int, str, bytes]:
    """Send what a printed curl command sends, with http.client: its method, headers, body
    and URL, read from the shell words exactly as a POSIX shell splits them."""
    words = shlex.split(command)
    assert words[:4] == ["curl", "-sS", "-g", "-i"], words
    method, headers, body, i = "GET", {}, None, 4
    while i < len(words) - 1:
        option, value = words[i], words[i + 1] if i + 1 < len(words) else None
        if option == "-X":
            method, i = value, i + 2
        elif option == "--head":
            method, i = "HEAD", i + 1
        elif option == "-H":
            name, _, text = value.partition(": ")
            headers[name], i = text, i + 2
        elif option in ("--data-binary", "--data-raw"):
            body = (open(value[1:], "rb").read() if option == "--data-binary" and value.startswith("@")
                    else value.encode("utf-8"))
            i += 2
        else:
            raise AssertionError(f"unexpected curl argument {option!r} in {words}")
    url = urlsplit(words[-1])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, url.path + (f"?{url.query}" if url.query else ""), body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.reason, reply.read()
    finally:
        conn.close()


def run_curl(command: str, cwd=None) -> int:
    """The printed command through a real shell and curl; the status code curl got."""
    done = subprocess.run(["sh", "-c", command + " -o /dev/null -w '%{http_code}'"], capture_output=True,
                          text=True, timeout=30, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_the_header_is_accepted_over_plain_http_client(fake, capsys):
    out, err = sign(capsys, "GET", f"{fake.url}{SYNCML}")
    assert err == ""  # the URL needed no change
    name, value = header_of(out)
    assert 'oauth_token="alice-access-token"' in value and 'oauth_consumer_key="demo-consumer-key"' in value
    assert "secret" not in value
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("GET", SYNCML, headers={name: value})
    reply = conn.getresponse()
    assert reply.status == 200, reply.read()
    conn.close()
    (entry,) = [e for e in fake.app.journal.entries() if e.path == SYNCML]
    assert entry.user == "alice"


@pytest.mark.parametrize("user", ["bob", "admin"])
def test_user_picks_the_fixture_user(fake, capsys, user):
    _, value = header_of(sign(capsys, "GET", f"{fake.url}{SYNCML}", "--user", user)[0])
    status, _, body = replay(sign(capsys, "GET", f"{fake.url}{SYNCML}", "--user", user, "--curl")[0])
    assert status == 200, body
    assert f'oauth_token="{user}-access-token"' in value
    assert fake.app.journal.entries()[-1].user == user


def test_post_with_a_body_creates_a_client_via_the_curl_command(fake, capsys):
    body = ENTRY.format(phone="+4798765401")
    command = sign(capsys, "POST", f"{fake.url}{SYNCML}", "--data", body, "--curl")[0].strip()
    words = shlex.split(command)
    assert words[words.index("-X") + 1] == "POST"
    assert "Content-Type: application/atom+xml" in words
    assert words[words.index("--data-binary") + 1] == body and words[-1] == f"{fake.url}{SYNCML}"
    status, reason, answer = replay(command)
    assert (status, reason) == (201, "Created"), answer
    assert b"+4798765401" in answer


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_itself_runs_the_printed_commands(fake, capsys, tmp_path):
    get = sign(capsys, "GET", f"{fake.url}{SYNCML}", "--curl")[0].strip()
    assert run_curl(get) == 200
    post = sign(capsys, "POST", f"{fake.url}{SYNCML}", "--data", ENTRY.format(phone="+4798765402"),
                "--curl")[0].strip()
    assert run_curl(post) == 201
    # a body from a file, which holds a quote, a newline and shell metacharacters in its name
    entry = tmp_path / "it's $(a) body.xml"
    entry.write_text(ENTRY.format(phone="+4798765403").replace("><oc:client>", ">\n<oc:client>"), "utf-8")
    from_file = sign(capsys, "POST", f"{fake.url}{SYNCML}", "--data", f"@{entry}", "--curl")[0].strip()
    assert run_curl(from_file) == 201
    head = sign(capsys, "HEAD", f"{fake.url}{SYNCML}", "--curl")[0].strip()
    assert "--head" in shlex.split(head) and "-X" not in shlex.split(head)
    assert run_curl(head) == 200
    phones = {c["phone_number"] for c in fake.app.world.to_dict()["clients"] if c["owner"] == "alice"}
    assert {"+4798765402", "+4798765403"} <= phones


TRICKY = [
    # (URL as typed, the form curl sends, which is the one signed)
    (f"{SYNCML}?q=a%2Fb%20c&r=%7E", f"{SYNCML}?q=a%2Fb%20c&r=%7E"),          # escapes kept as written
    ("/v2/services/./x/../syncml/", SYNCML),                                  # dot segments resolved
    (f"{SYNCML}?name=é x&brace={{1}}", f"{SYNCML}?name=%C3%A9%20x&brace=%7B1%7D"),  # escaped as curl must
    (f"{SYNCML}#fragment", SYNCML),                                           # never sent
    (f"{SYNCML}?", f"{SYNCML}?"),                                             # an empty query stays
]


@pytest.mark.parametrize("typed,wire", TRICKY, ids=[t[0] for t in TRICKY])
def test_the_url_is_signed_as_curl_sends_it(fake, capsys, typed, wire):
    command = sign(capsys, "GET", f"{fake.url}{typed}", "--curl")[0].strip()
    assert shlex.split(command)[-1] == f"{fake.url}{wire}"
    status, _, body = replay(command)
    assert status == 200, body
    if CURL is not None:
        assert run_curl(sign(capsys, "GET", f"{fake.url}{typed}", "--curl")[0].strip()) == 200
        sent = fake.app.journal.entries()[-1]
        assert sent.status == 200 and sent.user == "alice"


def test_a_changed_url_is_named_when_only_the_header_is_printed(fake, capsys):
    out, err = sign(capsys, "GET", f"{fake.url}/v2/services/./syncml/")
    assert err == f"ocss-fake: signed for {fake.url}{SYNCML} (the form sent on the wire); send exactly that URL\n"
    header_of(out)


def test_explicit_credentials(fake, capsys):
    out = sign(capsys, "GET", f"{fake.url}{SYNCML}", "--consumer-key", "demo-consumer-key",
               "--consumer-secret", "demo-consumer-secret", "--token", "bob-access-token",
               "--token-secret", "bob-access-secret", "--curl")[0]
    assert replay(out.strip())[0] == 200
    assert fake.app.journal.entries()[-1].user == "bob"
    wrong = sign(capsys, "GET", f"{fake.url}{SYNCML}", "--consumer-key", "demo-consumer-key",
                 "--consumer-secret", "not-the-secret", "--token", "bob-access-token",
                 "--token-secret", "bob-access-secret", "--curl")[0]
    assert replay(wrong.strip())[0] == 401


def test_a_form_body_is_part_of_the_signature():
    """RFC 5849 §3.4.1.3.1: a form-encoded body's parameters are signed; the fake checks
    that, so a header signed over another body is refused."""
    world = FixtureSet.load("demo").build()
    user = world.users["alice"]
    creds = signer.Credentials(user.consumer_key, world.consumers[user.consumer_key], user.token, user.token_secret)
    url, form = "http://127.0.0.1:8080/v2/services/syncml/", b"a=1&b=%C3%A9"
    header = signer.authorization("POST", url, creds, form, signer.FORM)
    headers = {"Authorization": header, "Content-Type": signer.FORM}
    assert Authenticator().verify(world, "POST", url, headers, form).user.name == "alice"
    assert Authenticator().verify(world, "POST", url, headers, b"a=2&b=%C3%A9").user is None
    with pytest.raises(signer.SignError, match="GET carries no body"):
        signer.authorization("GET", url, creds, form, signer.FORM)


def test_shell_quoting_survives_any_body():
    body = "it's \"quoted\"\n$(rm -rf /) `x` \\ ; & | * ?"
    command = signer.curl_command("PUT", "http://h/p?a=1&b=2", 'OAuth a="1"', data=body)
    words = shlex.split(command)
    assert words[words.index("--data-binary") + 1] == body and words[-1] == "http://h/p?a=1&b=2"
    assert "Authorization: OAuth a=\"1\"" in words
    # a body that starts with "@" is not a file name to curl
    at = shlex.split(signer.curl_command("POST", "http://h/", "OAuth", data="@etc/passwd"))
    assert at[at.index("--data-raw") + 1] == "@etc/passwd" and "--data-binary" not in at


@pytest.mark.parametrize("argv,message", [
    (["GET", "http://127.0.0.1:8080/", "--user", "zed"],
     "ocss-fake: no user 'zed' in fixture set 'demo'; users: alice, bob, admin (credentials come from the "
     "fixture set, --fixtures NAME|DIR, not from a running server; or give --consumer-key …)\n"),
    (["GET", "ftp://127.0.0.1/"],
     "ocss-fake: 'ftp://127.0.0.1/' is not an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080/v2/clients/\n"),
    (["GET", "/v2/clients/"],
     "ocss-fake: '/v2/clients/' is not an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080/v2/clients/\n"),
    (["GET", "http://alice:pw@127.0.0.1/"],
     "ocss-fake: the URL holds a user name: curl would send it as Basic authentication; leave it out\n"),
    (["POST", "http://127.0.0.1/", "--data", "@/nonexistent/body.xml"],
     "ocss-fake: cannot read the body from '/nonexistent/body.xml': No such file or directory\n"),
])
def test_refusals_are_one_line(capsys, argv, message):
    assert cli.main(["sign", *argv]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


def test_an_unknown_fixture_set_lists_the_sets(capsys):
    assert cli.main(["sign", "GET", "http://127.0.0.1/", "--fixtures", "nope"]) == 2
    assert capsys.readouterr().err == (f"ocss-fake: no fixture set 'nope'; available: {', '.join(shipped_sets())}; "
                                       "or a folder holding world.json or patch.json\n")


@pytest.mark.parametrize("method", ["GTE", "FETCH", "G*T", "*", ""])
def test_a_method_the_fake_does_not_know_is_a_usage_error_naming_the_known_ones(capsys, method):
    with pytest.raises(SystemExit) as exited:
        cli.main(["sign", method, "http://127.0.0.1:8080/v2/clients/"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: ocss-fake sign"), err
    assert (f"ocss-fake sign: error: argument METHOD: {method!r} is not an HTTP method the fake knows: "
            f"use one of {', '.join(METHODS)}\n") in err, err
    with pytest.raises(signer.SignError, match="not an HTTP method"):  # the library refuses it too
        signer.authorization(method, "http://h/", signer.Credentials("k", "s"))


@pytest.mark.parametrize("method", METHODS)
def test_every_known_method_signs_in_any_case(capsys, method):
    out, _ = sign(capsys, method.lower(), "http://127.0.0.1:8080/v2/clients/")
    header_of(out)


def test_an_unknown_user_names_the_users_and_where_credentials_come_from(capsys):
    assert cli.main(["sign", "GET", "http://127.0.0.1/", "--user", "dora", "--fixtures", "demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ocss-fake: no user 'dora' in fixture set 'demo'; users: alice, bob, admin "), err
    assert "come from the fixture set, --fixtures NAME|DIR, not from a running server" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("argv,message", [
    (["--user", "bob", "--consumer-key", "k", "--consumer-secret", "s"], "give --user or explicit credentials"),
    (["--consumer-key", "k"], "--consumer-key and --consumer-secret go together"),
    (["--consumer-key", "k", "--consumer-secret", "s", "--token", "t"], "--token and --token-secret go together"),
])
def test_conflicting_credentials_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        cli.main(["sign", "GET", "http://127.0.0.1/", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ocss-fake sign") and f"ocss-fake sign: error: {message}" in err, err


def test_sign_from_the_command_line(fake, tmp_path):
    done = subprocess.run([sys.executable, "-m", "ocss_testkit", "sign", "GET", f"{fake.url}{SYNCML}",
                           "--user", "admin", "--curl"],
                          capture_output=True, text=True, env=_env(), cwd=str(tmp_path), timeout=30)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert replay(done.stdout.strip())[0] == 200
