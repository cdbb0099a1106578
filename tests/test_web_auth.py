"""Credentials: accounts made with the real ``catalograph user`` command, tokens from the
environment, checked by a real server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from SPARQLWrapper import POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import Unauthorized
from web_fixtures import BASE, ROOT, build_data_dir, running_server, settings_for
from werkzeug.security import generate_password_hash

from ontology.errors import ConfigurationError
from web.config import load_settings

PASSWORD = "correct horse battery staple"
INSTANCE = BASE + "instance/lccn-2002036483"  # george_eliot.marc 010 $a


def insert(note: str) -> str:
    """A note on the instance, in the instance's own graph (where the layout keeps it)."""
    return f'INSERT DATA {{ GRAPH <{INSTANCE}> {{ <{INSTANCE}> rdfs:comment "{note}" }} }}'


def catalograph(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def legacy_users_file(data_dir: Path, users: dict[str, tuple[str, str]]) -> Path:
    """``users.json`` as Catalograph wrote it before accounts.sqlite: werkzeug scrypt hashes."""
    path = data_dir / "users.json"
    entries = {
        name: {"role": role, "password": generate_password_hash(password), "changed": "2026-01-01"}
        for name, (role, password) in users.items()
    }
    path.write_text(json.dumps({"version": 1, "users": entries}), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = build_data_dir(tmp_path_factory.mktemp("web-auth"))
    # rita comes from an older data directory, with the old role "reader" (readers now
    # need no account): imported, still known, still refused.
    legacy_users_file(data_dir, {"rita": ("reader", PASSWORD)})
    added = catalograph(
        data_dir,
        "user",
        "add",
        "alice",
        "--role",
        "cataloger",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added alice (cataloger)" in added.stdout
    return data_dir


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


def ask(url: str, note: str) -> bool:
    query = f'ASK {{ <{INSTANCE}> rdfs:comment "{note}" }}'
    return requests.get(url + "/sparql", params={"query": query}).json()["boolean"]


def test_the_accounts_file_is_private_and_holds_no_password(data_dir: Path) -> None:
    path = data_dir / "accounts.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert PASSWORD.encode() not in data and b"$argon2id$" in data
    assert b"scrypt:" in data  # rita's imported hash, until her next right password
    assert not (data_dir / "users.json").exists()
    assert (data_dir / "users.json.migrated").exists()
    listed = catalograph(data_dir, "user", "list")
    assert listed.returncode == 0
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [
        ["alice", "cataloger"],
        ["rita", "reader"],
    ]


def test_cli_refuses_bad_accounts(data_dir: Path) -> None:
    again = catalograph(
        data_dir, "user", "add", "alice", "--password-stdin", stdin="another password\n"
    )
    assert again.returncode == 2 and "--replace" in again.stderr
    short = catalograph(data_dir, "user", "add", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    bad_name = catalograph(
        data_dir, "user", "add", "a:b", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert bad_name.returncode == 2 and "invalid user name" in bad_name.stderr


def test_basic_auth_of_a_cataloger_writes(url: str) -> None:
    client = SPARQLWrapper(url + "/sparql")
    client.setMethod(POST)
    client.setCredentials("alice", PASSWORD)
    client.setQuery(insert("by alice"))
    assert client.query().response.status == 204
    assert ask(url, "by alice") is True


def test_wrong_password_and_unknown_user_are_401(url: str) -> None:
    client = SPARQLWrapper(url + "/sparql")
    client.setMethod(POST)
    client.setCredentials("alice", "not her password")
    client.setQuery(insert("wrong password"))
    with pytest.raises(Unauthorized):
        client.query()
    for auth in (("nobody", PASSWORD), ("alice", "")):
        response = requests.post(url + "/sparql", data={"update": insert("x")}, auth=auth)
        assert response.status_code == 401
    garbled = requests.post(
        url + "/sparql", data={"update": insert("x")}, headers={"Authorization": "Basic !!!"}
    )
    assert garbled.status_code == 401
    other_scheme = requests.post(
        url + "/sparql", data={"update": insert("x")}, headers={"Authorization": "Digest x"}
    )
    assert other_scheme.status_code == 401
    assert ask(url, "wrong password") is False and ask(url, "x") is False


def test_a_reader_may_not_write(url: str) -> None:
    response = requests.post(
        url + "/sparql", data={"update": insert("by rita")}, auth=("rita", PASSWORD)
    )
    assert response.status_code == 403 and "reader" in response.text
    assert ask(url, "by rita") is False


def test_reading_needs_no_credentials_even_with_a_wrong_header(url: str) -> None:
    query = f"ASK {{ <{INSTANCE}> a bf:Instance }}"
    for headers in ({}, {"Authorization": "Bearer wrong-wrong-wrong-wrong"}):
        assert requests.get(url + "/sparql", params={"query": query}, headers=headers).json()[
            "boolean"
        ]
        posted = requests.post(url + "/sparql", data={"query": query}, headers=headers)
        assert posted.status_code == 200


def test_a_removed_account_stops_working_at_once(url: str, data_dir: Path) -> None:
    added = catalograph(data_dir, "user", "add", "temp", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0
    first = requests.post(
        url + "/sparql", data={"update": insert("by temp")}, auth=("temp", PASSWORD)
    )
    assert first.status_code == 204
    removed = catalograph(data_dir, "user", "remove", "temp")
    assert removed.returncode == 0
    second = requests.post(
        url + "/sparql", data={"update": insert("again")}, auth=("temp", PASSWORD)
    )
    assert second.status_code == 401


def test_tokens_from_the_environment(tmp_path: Path) -> None:
    first, second = "first-token-0123456789abcdef", "second-token-0123456789abcdef"
    settings = load_settings(
        env={"CATALOGRAPH_UPDATE_TOKENS": f"{first}, {second}"},
        data_dir=build_data_dir(tmp_path),
        port=0,
    )
    assert settings.update_tokens == (first, second)
    assert first not in repr(settings)
    with running_server(settings) as url:
        for token in (first, second):
            headers = {"Authorization": f"Bearer {token}"}
            response = requests.post(
                url + "/sparql", data={"update": insert(token)}, headers=headers
            )
            assert response.status_code == 204
            assert ask(url, token) is True
        prefix = requests.post(
            url + "/sparql",
            data={"update": insert("p")},
            headers={"Authorization": f"Bearer {first[:-1]}"},
        )
        assert prefix.status_code == 401


def test_short_tokens_are_refused_without_being_printed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env={"CATALOGRAPH_UPDATE_TOKENS": "tooshort"})
    assert "at least 16" in str(caught.value) and "tooshort" not in str(caught.value)


def imported_modules(data_dir: Path, *args: str, stdin: str = "") -> set[str]:
    """Every module ``catalograph ARGS`` imports, read from ``python -X importtime``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGRAPH_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "web.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # [0] is the header


def test_user_commands_do_not_load_the_store(tmp_path: Path) -> None:
    """Managing accounts needs the accounts file only: no pyoxigraph, no store, no web app."""
    for args, stdin in [
        (("user", "--help"), ""),
        (("user", "add", "carol", "--password-stdin"), PASSWORD + "\n"),
        (("user", "list"), ""),
        (("user", "set-role", "carol", "reviewer"), ""),
        (("user", "passwd", "carol", "--password-stdin"), "another password\n"),
        (("user", "remove", "carol"), ""),
    ]:
        modules = imported_modules(tmp_path, *args, stdin=stdin)
        assert "web.config" in modules and "click" in modules  # the list is the real one
        assert "web.accounts" in modules or args[1] == "--help"
        loaded = {m for m in modules if m.split(".")[0] in ("pyoxigraph", "graph", "query", "flask")}
        assert not loaded, f"catalograph {' '.join(args)} imported {sorted(loaded)}"
    assert b"carol" not in (tmp_path / "accounts.sqlite").read_bytes()
