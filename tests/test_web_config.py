"""Settings: defaults -> TOML file -> environment -> overrides, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ontology.errors import ConfigurationError
from web.config import Settings, load_settings, setting_names

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_work_with_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.data_dir == tmp_path / "catalograph-data"
    assert settings.base_iri == "http://127.0.0.1:5000/"
    assert (settings.host, settings.port, settings.threads) == ("127.0.0.1", 5000, 32)
    # every query the pool admits (running or waiting) has a request thread
    assert (settings.query_workers, settings.query_queue) == (8, 8)
    assert settings.threads > (
        settings.query_workers
        + settings.query_queue
        + settings.max_page_requests
        + settings.page_queue
    )
    assert (settings.query_timeout_s, settings.max_rows, settings.max_query_bytes) == (
        10.0,
        10_000,
        100_000,
    )


def test_later_sources_win(tmp_path: Path) -> None:
    config = tmp_path / "catalograph.toml"
    config.write_text('port = 6000\nmax_rows = 50\ndata_dir = "store-here"\nthreads = 2\n')
    env = {
        "CATALOGRAPH_CONFIG": str(config),
        "CATALOGRAPH_MAX_ROWS": "70",
        "CATALOGRAPH_QUERY_TIMEOUT_S": "2.5",
        "CATALOGRAPH_UNRELATED": "ignored",
    }
    settings = load_settings(env=env, threads=9)
    assert settings.port == 6000  # file
    assert settings.max_rows == 70  # environment beats file
    assert settings.query_timeout_s == 2.5
    assert settings.threads == 9  # override beats file
    assert settings.data_dir == (tmp_path / "store-here").resolve()  # relative to the file
    assert load_settings(config, env={}).max_rows == 50  # explicit path, as --config gives


def test_base_iri_gets_its_slash() -> None:
    assert load_settings(env={}, base_iri="https://example.org/lib").base_iri == (
        "https://example.org/lib/"
    )


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("colour = 'red'\n", "colour"),
        ("port = 'high'\n", "port"),
        ("max_rows = true\n", "max_rows"),
        ("[web]\nport = 1\n", "web"),
    ],
)
def test_file_errors_name_the_key(tmp_path: Path, content: str, key: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigurationError, match=re.escape(repr(key)) + "|" + key):
        load_settings(config, env={})


def test_environment_errors_name_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="CATALOGRAPH_PORT: port must be int"):
        load_settings(env={"CATALOGRAPH_PORT": "eighty"})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"port": 70000}, "port must be between"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"max_rows": 0}, "max_rows must be at least 1"),
        ({"query_timeout_s": 0}, "query_timeout_s must be positive"),
        ({"base_iri": "ftp://x/"}, "base_iri must be an absolute http"),
        ({"page_timeout_s": 0}, "page_timeout_s must be positive"),
        ({"max_page_requests": 0}, "max_page_requests must be at least 1"),
        ({"page_list_size": 0}, "page_list_size must be at least 1"),
        ({"ingest_nice": 20}, "ingest_nice must be between 0 and 19"),
        ({"page_queue": -1}, "page_queue must be 0 or more"),
        ({"page_list_size": 5000}, "page_list_size must be at most 1000"),
        ({"trusted_hosts": "evil.example/x"}, "is not a host name"),
        ({"trusted_hosts": ["[::1]"]}, "is not a host name"),
        ({"bogus": 1}, "unknown setting 'bogus'"),
    ],
)
def test_bad_values(override: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(env={}, **override)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the configuration file"):
        load_settings(tmp_path / "missing.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("port = = 1")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings(broken, env={})


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    for name in setting_names():
        assert f"| `{name}` |" in doc, f"setting {name} is not in docs/web.md"
        assert f"CATALOGRAPH_{name.upper()}" in doc
    assert set(setting_names()) == set(Settings.__dataclass_fields__)
