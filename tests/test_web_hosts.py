"""The Host header through a real server: unknown hosts refused, redirects never name one.

A double slash (``/static//x``, ``/work//abc``) is answered with a redirect to
the single-slash path; it used to name whatever host the request named
(``Location: http://evil.example/work/abc``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from web_fixtures import build_data_dir, running_server, settings_for

INSTANCE_PATH = "/instance/lccn-2002036483"
DOUBLE_SLASHES = ["/static//catalograph.css", "/work//abc", "/static//x"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data_dir(tmp_path_factory.mktemp("web-hosts"))


@pytest.fixture(scope="module")
def url(data_dir: Path) -> Iterator[str]:
    with running_server(settings_for(data_dir)) as root:
        yield root


def get(url: str, path: str, host: str) -> requests.Response:
    return requests.get(url + path, headers={"Host": host}, allow_redirects=False, timeout=30)


@pytest.mark.parametrize("path", [*DOUBLE_SLASHES, INSTANCE_PATH, "/-/health", "/sparql"])
def test_an_unknown_host_is_refused(url: str, path: str) -> None:
    response = get(url, path, "evil.example")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "evil.example" in response.text and "not trusted" in response.text


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("path", DOUBLE_SLASHES)
def test_redirects_name_no_host(url: str, path: str, host: str) -> None:
    port = urlsplit(url).port
    response = get(url, path, f"{host}:{port}")
    assert response.status_code == 308
    assert response.headers["Location"] == path.replace("//", "/")


def test_the_loopback_names_find_the_resources(url: str) -> None:
    port = urlsplit(url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        response = get(url, INSTANCE_PATH, host)
        assert response.status_code == 200 and "Rereading George Eliot" in response.text


def test_a_request_naming_no_host_is_about_the_base(url: str) -> None:
    """HTTP/1.0 needs no Host: such a request is taken as naming the base IRI's host."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(b"GET /work//abc HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert head[0].split()[1] == "308"
    assert "Location: /work/abc" in head


def test_a_configured_base_admits_its_host_and_the_trusted_ones(data_dir: Path) -> None:
    settings = settings_for(
        data_dir,
        base_iri="https://catalogue.example.org/",
        trusted_hosts=(".mirror.example.net",),
    )
    with running_server(settings) as root:
        for host in ("catalogue.example.org", "eu.mirror.example.net", "mirror.example.net"):
            assert get(root, "/-/health", host).status_code == 200, host
        for host in ("127.0.0.1", "localhost", "catalogue.example.org.evil.example"):
            assert get(root, "/-/health", host).status_code == 400, host
        redirect = get(root, "/static//catalograph.css", "catalogue.example.org")
        assert redirect.headers["Location"] == "/static/catalograph.css"


def test_any_host_when_asked_for(data_dir: Path) -> None:
    """``trusted_hosts = ["*"]``: any Host is answered (a copy served under many names),
    and redirects still name none."""
    with running_server(settings_for(data_dir, trusted_hosts=("*",))) as root:
        response = get(root, INSTANCE_PATH, "catalogue.example.org")
        assert response.status_code == 200 and "Rereading George Eliot" in response.text
        assert get(root, "/work//abc", "evil.example").headers["Location"] == "/work/abc"
