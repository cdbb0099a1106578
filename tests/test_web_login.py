"""Signing in and out in a browser's way: a real server, the real form, real argon2 accounts.

``requests.Session`` plays the browser (it keeps cookies and sends them back);
the accounts are made by the real ``catalograph user`` command, and a client
comes from its own loopback address where the throttle must not be shared.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from test_web_auth import INSTANCE, catalograph, insert, legacy_users_file
from test_web_auth_throttle import send
from web_fixtures import build_data_dir, running_server, settings_for

from web.accounts import SESSIONS_PER_ACCOUNT
from web.sessions import COOKIE

PASSWORD = "a long enough password"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-login"))
    legacy_users_file(data_dir, {"olga": ("cataloger", PASSWORD), "rita": ("reader", PASSWORD)})
    for name, role in (("carl", "cataloger"), ("vera", "reviewer"), ("ada", "admin")):
        args = ("user", "add", name, "--role", role, "--password-stdin")
        done = catalograph(data_dir, *args, stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
    return data_dir


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir, trusted_proxy="127.0.0.1")) as root:
        yield root


def form_token(browser: requests.Session, url: str, path: str = "/login") -> str:
    page = browser.get(url + path, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    return _TOKEN.search(page.text).group(1)


def log_in(
    browser: requests.Session, url: str, name: str, password: str = PASSWORD, **extra: str
) -> requests.Response:
    token = form_token(browser, url)
    return browser.post(
        url + "/login",
        data={"name": name, "password": password, "csrf_token": token, **extra},
        headers={"Accept": "text/html"},
        allow_redirects=False,
    )


def problem(page: requests.Response) -> str:
    found = re.search(r'<p class="problem" role="alert">([^<]*)</p>', page.text)
    return found.group(1) if found else ""


def editor(browser: requests.Session, url: str) -> requests.Response:
    return browser.get(url + "/editor", headers={"Accept": "text/html"}, allow_redirects=False)


def test_login_opens_the_editor_with_a_fresh_private_cookie(url: str) -> None:
    browser = requests.Session()
    assert editor(browser, url).headers["Location"] == "/login?next=/editor"
    form_token(browser, url)
    before = browser.cookies[COOKIE]  # what a planted cookie would be: anonymous
    answer = log_in(browser, url, "carl")
    assert answer.status_code == 303 and answer.headers["Location"] == "/editor"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the proxy test
    assert browser.cookies[COOKIE] != before
    page = editor(browser, url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert "Signed in as carl, cataloger." in page.text and "What the editor holds" in page.text
    assert 'action="/logout"' in page.text
    # The cookie the browser held before signing in (session fixation) signs nobody in.
    planted = requests.Session()
    planted.cookies.set(COOKIE, before)
    assert editor(planted, url).status_code == 303


def test_wrong_password_and_unknown_name_read_the_same(url: str) -> None:
    browser = requests.Session()
    wrong = log_in(browser, url, "carl", "not the password")
    unknown = log_in(browser, url, "nobody-at-all", "not the password")
    garbage = log_in(browser, url, "no such name!", "not the password")
    for page in (wrong, unknown, garbage):
        assert page.status_code == 200 and problem(page) == "Wrong name or password."
    assert re.sub(_TOKEN, "", wrong.text) == re.sub(_TOKEN, "", unknown.text).replace(
        'value="nobody-at-all"', 'value="carl"'
    )
    assert editor(browser, url).status_code == 303


def test_login_without_its_csrf_token_signs_nobody_in(url: str) -> None:
    browser = requests.Session()
    forged = browser.post(
        url + "/login", data={"name": "carl", "password": PASSWORD}, allow_redirects=False
    )
    assert forged.status_code == 400 and "expired" in problem(forged)
    assert editor(browser, url).status_code == 303


def test_logout_needs_its_token_and_ends_the_session_on_the_server(url: str) -> None:
    browser = requests.Session()
    assert log_in(browser, url, "vera").status_code == 303
    copied = browser.cookies[COOKIE]
    forged = browser.post(url + "/logout", allow_redirects=False)
    assert forged.status_code == 403 and editor(browser, url).status_code == 200
    token = form_token(browser, url, "/editor")
    out = browser.post(url + "/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status_code == 303 and out.headers["Location"] == "/"
    assert f"{COOKIE}=;" in out.headers["Set-Cookie"]  # the browser forgets it
    assert editor(browser, url).status_code == 303
    thief = requests.Session()  # a copy of the cookie taken before the logout
    thief.cookies.set(COOKIE, copied)
    assert editor(thief, url).status_code == 303
    page = browser.get(url + "/", headers={"Accept": "text/html"})
    assert 'href="/login"' in page.text and "/logout" not in page.text


def test_a_legacy_reader_signs_in_but_may_not_edit(url: str) -> None:
    browser = requests.Session()
    assert log_in(browser, url, "rita").status_code == 303
    assert editor(browser, url).status_code == 403
    home = browser.get(url + "/", headers={"Accept": "text/html"})
    assert "rita" in home.text and "reader (old role: may not edit)" in home.text


def test_only_an_admin_sees_the_accounts(url: str) -> None:
    admin, cataloger = requests.Session(), requests.Session()
    assert log_in(admin, url, "ada").status_code == 303
    assert log_in(cataloger, url, "carl").status_code == 303
    assert 'href="/editor/accounts"' in editor(admin, url).text
    assert "/editor/accounts" not in editor(cataloger, url).text
    page = admin.get(url + "/editor/accounts", headers={"Accept": "text/html"})
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", page.text)
    assert ("ada", "administrator") in rows and ("vera", "reviewer") in rows
    assert ("rita", "reader (old role: may not edit)") in rows
    refused = cataloger.get(url + "/editor/accounts", headers={"Accept": "text/html"})
    assert refused.status_code == 403


def test_role_password_and_removal_take_effect_at_once(url: str, data_dir: Path) -> None:
    browser = requests.Session()
    assert log_in(browser, url, "ada").status_code == 303
    assert "administrator" in editor(browser, url).text
    assert catalograph(data_dir, "user", "set-role", "ada", "reviewer").returncode == 0
    assert "Signed in as ada, reviewer." in editor(browser, url).text
    done = catalograph(data_dir, "user", "passwd", "ada", "--password-stdin", stdin="another one!\n")
    assert done.returncode == 0 and "sessions are ended" in done.stdout
    assert editor(browser, url).status_code == 303
    assert log_in(browser, url, "ada", "another one!").status_code == 303
    assert catalograph(data_dir, "user", "remove", "ada").returncode == 0
    assert editor(browser, url).status_code == 303


def test_an_imported_scrypt_password_is_rehashed_with_argon2_at_login(
    url: str, data_dir: Path
) -> None:
    def stored() -> str:
        with sqlite3.connect(data_dir / "accounts.sqlite") as db:
            return db.execute("SELECT password FROM account WHERE name = 'olga'").fetchone()[0]

    assert stored().startswith("scrypt:")
    assert log_in(requests.Session(), url, "olga", "wrong password").status_code == 200
    assert stored().startswith("scrypt:")
    assert log_in(requests.Session(), url, "olga").status_code == 303
    assert stored().startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert log_in(requests.Session(), url, "olga").status_code == 303  # and still works


def test_a_signed_in_cataloger_updates_from_the_query_page_only_with_its_token(url: str) -> None:
    browser = requests.Session()
    assert log_in(browser, url, "carl").status_code == 303
    page = browser.get(url + "/sparql", headers={"Accept": "text/html"})
    token = re.search(r'"csrfToken":\s*"([^"]+)"', page.text).group(1)
    cookie_only = browser.post(url + "/sparql", data={"update": insert("by cookie")})
    assert cookie_only.status_code == 403 and "CSRF" in cookie_only.text
    other_site = browser.post(
        url + "/sparql", data={"update": insert("by cookie"), "csrf_token": "forged"}
    )
    assert other_site.status_code == 403
    done = browser.post(
        url + "/sparql", data={"update": insert("by carl")}, headers={"X-CSRFToken": token}
    )
    assert done.status_code == 204, done.text
    body = browser.post(
        url + "/sparql",
        data=insert("by carl, as a body").encode(),
        headers={"Content-Type": "application/sparql-update", "X-CSRFToken": token},
    )
    assert body.status_code == 204, body.text
    query = f'ASK {{ <{INSTANCE}> rdfs:comment "by carl" }}'
    assert requests.get(url + "/sparql", params={"query": query}).json()["boolean"]
    query = f'ASK {{ <{INSTANCE}> rdfs:comment "by cookie" }}'
    assert not requests.get(url + "/sparql", params={"query": query}).json()["boolean"]
    # A reader's query page carries no token at all.
    anonymous = requests.get(url + "/sparql", headers={"Accept": "text/html"})
    assert '"csrfToken": null' in anonymous.text


def test_the_cookie_is_secure_behind_a_tls_proxy(url: str) -> None:
    """The proxy named by trusted_proxy says the client came over HTTPS: Secure."""
    browser = requests.Session()
    form_token(browser, url)
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    page = browser.get(url + "/login", headers={**headers, "Accept": "text/html"})
    token = _TOKEN.search(page.text).group(1)
    answer = browser.post(
        url + "/login",
        data={"name": "carl", "password": PASSWORD, "csrf_token": token},
        headers=headers,
        allow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Secure" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]


def test_login_is_throttled_per_client_without_telling_names_apart(url: str) -> None:
    """The form shares HTTP Basic's throttle: a client that keeps guessing gets 429,
    for a real account as for a name nobody has, before any hash."""

    def attempt(name: str, source: str) -> tuple[int, dict[str, str], str]:
        browser = requests.Session()
        token = form_token(browser, url)
        cookie = f"{COOKIE}={browser.cookies[COOKIE]}"
        form = {"name": name, "password": "wrong password", "csrf_token": token}
        status, headers, body = send(url, "POST", "/login", source=source, form=form, cookie=cookie)
        return status, headers, body

    answers = {}
    for name in ("carl", "nobody-else"):
        source = "127.0.9.1" if name == "carl" else "127.0.9.2"
        for _ in range(40):
            status, headers, body = attempt(name, source)
            if status == 429:
                answers[name] = (headers, body)
                break
            assert status == 200 and "Wrong name or password." in body
        else:
            raise AssertionError(f"no 429 for {name} after 40 wrong passwords")
    for headers, body in answers.values():
        assert 1 <= int(headers["Retry-After"]) <= 60
        assert "Too many failed sign-ins" in body
    bodies = [re.sub(r"\d+|value=\"[^\"]*\"", "N", body) for _h, body in answers.values()]
    assert bodies[0] == bodies[1]
    # Another account from another client is not affected. (That carl's name is now
    # throttled from everywhere, for a while that depends on the machine's speed, is
    # tests/test_web_auth_throttle.py's: the form and HTTP Basic share the throttle.)
    assert log_in(requests.Session(), url, "vera").status_code == 303


def test_sessions_per_account_are_bounded(url: str, data_dir: Path) -> None:
    for _ in range(SESSIONS_PER_ACCOUNT + 3):
        assert log_in(requests.Session(), url, "vera").status_code == 303
    with sqlite3.connect(data_dir / "accounts.sqlite") as db:
        held = db.execute("SELECT count(*) FROM session WHERE account = 'vera'").fetchone()[0]
    assert held == SESSIONS_PER_ACCOUNT


def test_sessions_survive_a_restart_with_a_private_key(data_dir: Path) -> None:
    """The signing key lives in the data directory (0600): a new server process over the
    same directory knows the cookies the last one gave."""
    browser = requests.Session()
    with running_server(settings_for(data_dir)) as first:
        assert log_in(browser, first, "carl").status_code == 303
    key = data_dir / "session.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes().strip()) == 64
    with running_server(settings_for(data_dir)) as second:
        page = editor(browser, second)
        assert page.status_code == 200 and "Signed in as carl" in page.text
