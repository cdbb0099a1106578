"""Login timing: does the answer's time tell a wrong password from an unknown name?

Run it from the repository root (after ``bash .ci/install``)::

    .venv/bin/python bench/login_timing.py            # 15 sign-ins of each kind
    .venv/bin/python bench/login_timing.py --runs 30

It makes accounts with the real ``web.accounts`` (argon2id) plus old accounts
imported from a ``users.json`` (werkzeug scrypt, as before accounts.sqlite),
starts the real server (``web.server``) on a free loopback port, and posts
the real login form (with its CSRF token) for: a wrong password of an argon2
account, an unknown name, a wrong password of an imported scrypt account,
and a right password. Each attempt comes from its own loopback address and
names its own account, so the throttle never answers instead of the hash.
It prints the median and the spread of each kind and their ratio to the
unknown name's. Nothing is asserted: it prints figures (docs/web.md quotes them).
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from web_fixtures import running_server, settings_for  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from web.accounts import add_user  # noqa: E402

PASSWORD = "the right password"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def request(
    url: str, method: str, path: str, source: str, body: str | None = None, cookie: str = ""
) -> tuple[int, dict[str, str], str, float]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    headers = {"Accept": "text/html"}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8")
        return response.status, dict(response.getheaders()), text, time.perf_counter() - started
    finally:
        conn.close()


def sign_in(url: str, name: str, password: str, source: str) -> tuple[int, float]:
    _status, headers, page, _s = request(url, "GET", "/login", source)
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    form = urlencode({"name": name, "password": password, "csrf_token": _TOKEN.search(page).group(1)})
    status, _h, _body, seconds = request(url, "POST", "/login", source, form, cookie)
    return status, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        for k in range(runs):
            add_user(data_dir, f"argon{k}", PASSWORD, "cataloger")
        add_user(data_dir, "right", PASSWORD, "cataloger")
        legacy = {
            f"scrypt{k}": {"role": "cataloger", "password": generate_password_hash(PASSWORD)}
            for k in range(runs)
        }
        (data_dir / "users.json").write_text(json.dumps({"version": 1, "users": legacy}))
        kinds = {
            "unknown name": lambda k: (f"nobody{k}", "wrong password"),
            "wrong password (argon2)": lambda k: (f"argon{k}", "wrong password"),
            "wrong password (scrypt, imported)": lambda k: (f"scrypt{k}", "wrong password"),
            "right password": lambda k: ("right", PASSWORD),
        }
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        with running_server(settings_for(data_dir)) as url:
            sign_in(url, "right", PASSWORD, "127.0.50.1")  # warm up: hashes, templates
            for k in range(runs):
                for index, (kind, credentials) in enumerate(kinds.items()):
                    name, password = credentials(k)
                    status, seconds = sign_in(url, name, password, f"127.0.{60 + index}.{k + 1}")
                    assert status == (303 if kind == "right password" else 200), (kind, status)
                    times[kind].append(seconds)
    base = statistics.median(times["unknown name"])
    print(f"{'sign-in':36} {'median':>9} {'min':>9} {'max':>9} {'/unknown':>9}")
    for kind, values in times.items():
        median = statistics.median(values)
        print(
            f"{kind:36} {median * 1000:7.0f}ms {min(values) * 1000:7.0f}ms "
            f"{max(values) * 1000:7.0f}ms {median / base:9.2f}"
        )


if __name__ == "__main__":
    main()
