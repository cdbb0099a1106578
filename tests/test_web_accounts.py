"""The accounts file: the real ``catalograph user`` commands, real argon2, real SQLite.

Migration from ``users.json`` (werkzeug scrypt hashes, as the previous
version wrote them), concurrent writers, rehashing, and sessions.
"""

from __future__ import annotations

import sqlite3
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from test_web_auth import catalograph, legacy_users_file

from ontology.errors import UsageError
from web.accounts import (
    HASHER,
    SESSION_LIFETIME_S,
    Accounts,
    add_user,
    list_users,
    remove_user,
    set_password,
)

PASSWORD = "correct horse battery staple"


def stored_hash(data_dir: Path, name: str) -> str:
    with sqlite3.connect(data_dir / "accounts.sqlite") as db:
        return db.execute("SELECT password FROM account WHERE name = ?", (name,)).fetchone()[0]


def test_user_commands_from_add_to_remove(tmp_path: Path) -> None:
    for name, role in (("ann", "cataloger"), ("ben", "reviewer"), ("cy", "admin")):
        done = catalograph(tmp_path, "user", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        assert done.returncode == 0 and f"added {name} ({role})" in done.stdout, done.stderr
    path = tmp_path / "accounts.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_hash(tmp_path, "ann").startswith("$argon2id$")
    assert catalograph(tmp_path, "user", "set-role", "ann", "admin").returncode == 0
    reader = catalograph(tmp_path, "user", "set-role", "ann", "reader")
    assert reader.returncode == 2 and "'reader' is not one of" in reader.stderr
    missing = catalograph(tmp_path, "user", "set-role", "zed", "admin")
    assert missing.returncode == 2 and "there is no user 'zed'" in missing.stderr
    before = stored_hash(tmp_path, "ben")
    done = catalograph(tmp_path, "user", "passwd", "ben", "--password-stdin", stdin="a new password\n")
    assert done.returncode == 0 and stored_hash(tmp_path, "ben") != before
    assert HASHER.verify(stored_hash(tmp_path, "ben"), "a new password")
    assert catalograph(tmp_path, "user", "remove", "cy").returncode == 0
    listed = catalograph(tmp_path, "user", "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["ann", "admin"], ["ben", "reviewer"]]
    assert catalograph(tmp_path, "user", "remove", "cy").returncode == 2
    for command in ("add", "list", "set-role", "passwd", "remove"):
        assert catalograph(tmp_path, "user", command, "--help").returncode == 0


def test_users_json_is_imported_once_and_safely(tmp_path: Path) -> None:
    add_user(tmp_path, "ann", PASSWORD, "admin")
    legacy = legacy_users_file(
        tmp_path,
        {"ann": ("reader", "old password"), "bob": ("cataloger", PASSWORD), "rita": ("reader", PASSWORD)},
    )
    text = legacy.read_text(encoding="utf-8")
    # The next open imports it: a name that exists keeps its newer account.
    assert list_users(tmp_path)[0][:2] == ("ann", "admin")
    assert [(n, r) for n, r, _ in list_users(tmp_path)] == [
        ("ann", "admin"), ("bob", "cataloger"), ("rita", "reader")
    ]
    assert not legacy.exists() and (tmp_path / "users.json.migrated").read_text() == text
    assert stored_hash(tmp_path, "bob").startswith("scrypt:")
    # The same file put back (a restored backup) is not imported again: removed stays removed.
    remove_user(tmp_path, "bob")
    legacy.write_text(text, encoding="utf-8")
    assert "bob" not in [name for name, _r, _c in list_users(tmp_path)]
    assert not legacy.exists()


def test_a_broken_users_json_is_reported_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text("{not json", encoding="utf-8")
    done = catalograph(tmp_path, "user", "list")
    assert done.returncode == 1 and "users.json is not a Catalograph accounts file" in done.stderr
    assert (tmp_path / "users.json").exists()


def test_old_hashes_are_replaced_at_the_next_right_password(tmp_path: Path) -> None:
    legacy_users_file(tmp_path, {"olga": ("cataloger", PASSWORD)})
    accounts = Accounts(tmp_path)
    assert accounts.verify("olga", "wrong") is None
    assert stored_hash(tmp_path, "olga").startswith("scrypt:")
    principal = accounts.verify("olga", PASSWORD)
    assert principal is not None and principal.role == "cataloger" and principal.may("edit")
    assert stored_hash(tmp_path, "olga").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    # An argon2 hash with weaker parameters than today's is redone too.
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with sqlite3.connect(tmp_path / "accounts.sqlite") as db:
        db.execute("UPDATE account SET password = ? WHERE name = 'olga'", (weak,))
    assert Accounts(tmp_path).verify("olga", PASSWORD) is not None
    assert stored_hash(tmp_path, "olga").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    # A remembered password stops counting once the hash changes (here: it did).
    assert accounts.remembered("olga", PASSWORD) is None
    assert accounts.verify("olga", PASSWORD) is not None
    assert accounts.remembered("olga", PASSWORD) is not None
    assert accounts.remembered("olga", "wrong") is None
    set_password(tmp_path, "olga", "a brand new one")
    assert accounts.remembered("olga", PASSWORD) is None


def test_unknown_names_and_huge_passwords_are_refused(tmp_path: Path) -> None:
    add_user(tmp_path, "ann", PASSWORD, "cataloger")
    accounts = Accounts(tmp_path)
    assert accounts.verify("nobody", PASSWORD) is None
    assert accounts.verify("a:b", PASSWORD) is None
    assert accounts.verify("ann", "x" * 5000) is None
    with pytest.raises(UsageError, match="at most 1024"):
        add_user(tmp_path, "big", "x" * 2000, "cataloger")
    with pytest.raises(UsageError, match="unknown role"):
        add_user(tmp_path, "old", PASSWORD, "reader")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    """Eight processes add accounts at once (each its own transaction): all are there."""
    names = [f"user{k}" for k in range(8)]

    def add(name: str) -> int:
        args = ("user", "add", name, "--password-stdin")
        return catalograph(tmp_path, *args, stdin=PASSWORD + "\n").returncode

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(add, names)) == [0] * 8
    assert [name for name, _r, _c in list_users(tmp_path)] == names


def test_sessions_end_with_logout_removal_and_time(tmp_path: Path) -> None:
    add_user(tmp_path, "ann", PASSWORD, "cataloger")
    accounts = Accounts(tmp_path)
    first, second = accounts.open_session("ann"), accounts.open_session("ann")
    assert first != second
    assert accounts.session_principal(first).name == "ann"
    assert accounts.session_principal(first).via == "session"
    accounts.close_session(first)
    assert accounts.session_principal(first) is None
    assert accounts.session_principal(second) is not None
    with sqlite3.connect(tmp_path / "accounts.sqlite") as db:  # the file keeps digests only
        assert db.execute("SELECT count(*) FROM session WHERE digest = ?", (second,)).fetchone()[0] == 0
        db.execute("UPDATE session SET expires = ?", (time.time() - 1,))
    assert accounts.session_principal(second) is None
    third = accounts.open_session("ann")
    assert SESSION_LIFETIME_S == 12 * 3600
    remove_user(tmp_path, "ann")
    assert accounts.session_principal(third) is None
    for junk in (None, 42, "", "x" * 1000):
        assert accounts.session_principal(junk) is None
