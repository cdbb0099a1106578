"""The package as a user gets it from ``pip install .``: a wheel, not this source tree.

Everything else in the suite runs from the editable install, where a data file
missing from ``pyproject.toml``'s package data goes unnoticed: the code finds
it beside itself in the repository. Here the wheel is built from a copy of the
five packages, must hold every file they have, and, installed on its own, must
ingest a sample record and serve the SPARQL page with its local scripts, and the
home page in Chinese from the compiled catalogue it ships.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ontology", "ingest", "graph", "query", "web")
SAMPLE = ROOT / "data" / "marcxml"


def _sources(root: Path) -> set[str]:
    """Every file of the five packages, as wheel member names (caches left out)."""
    return {
        path.relative_to(root).as_posix()
        for package in PACKAGES
        for path in (root / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _pip(*args: str) -> subprocess.CompletedProcess:
    """This environment's pip, offline (``--no-index``); it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-index"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built, offline and with this environment's setuptools, from a copy of the sources."""
    tree = tmp_path_factory.mktemp("wheel-source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tree / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    out = tmp_path_factory.mktemp("wheel")
    built = _pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(tree))
    assert "BuildBackendWarning" not in built.stderr, built.stderr
    (found,) = out.glob("catalograph-*.whl")
    return found


def test_the_wheel_holds_every_file_of_the_five_packages_and_the_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _sources(ROOT) - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "catalograph = web.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_wheel_ingests_and_serves_without_the_source_tree(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(site), str(wheel))
    # The wheel's copy first on the path, run from elsewhere: the repository is not importable.
    env = {**os.environ, "PYTHONPATH": str(site)}
    cli = [sys.executable, "-m", "web.cli", "--data-dir", str(tmp_path / "data")]
    run = functools.partial(
        subprocess.run, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    where = run(
        [sys.executable, "-c", "import web, ontology; print(web.__file__, ontology.__file__)"]
    )
    assert where.stdout.split() and all(
        path.startswith(str(site)) for path in where.stdout.split()
    ), where.stdout + where.stderr
    sample = sorted(SAMPLE.glob("*.xml"))[0]
    ingested = run([*cli, "ingest", "--quiet", str(sample)])
    assert ingested.returncode == 0, ingested.stderr
    assert re.search(r"written\s+[1-9]", ingested.stderr), ingested.stderr
    server = subprocess.Popen(
        [*cli, "serve", "--port", "0"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        url = re.search(r"at (http://\S+?)/? ", server.stderr.readline())[1]
        page = requests.get(url + "/sparql", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "yasgui" in page.text.lower()
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', page.text)
        assert any("vendor/yasgui" in src for src in scripts), scripts
        for src in scripts:
            assert requests.get(
                url + src if src.startswith("/") else f"{url}/{src}", timeout=30
            ).ok, src
        answer = requests.get(
            url + "/sparql",
            params={"query": "SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE { ?w a bf:Work }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0
        # The compiled Chinese catalogue ships in the wheel (web/translations/*.mo).
        home = requests.get(
            url + "/", headers={"Accept": "text/html", "Accept-Language": "zh-CN"}, timeout=30
        )
        assert home.status_code == 200 and '<html lang="zh-Hans">' in home.text
        assert "<caption>本图谱收录</caption>" in home.text, home.text[:2000]
    finally:
        server.terminate()
        server.wait(timeout=30)
