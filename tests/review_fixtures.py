"""A store with match candidates, built from real records by the real ``catalograph ingest``.

The shipped sample (data/) and Evergreen's jazz catalogue from ../shared/data
(``marc/evergreen/jazz_1k.mrc``, whose records name the same musicians with
and without their dates: "Mulligan, Gerry, 1927-1996", "Mulligan, Gerry,
1927-", "Mulligan, Gerry"), ingested in a subprocess; the ingest refreshes the
candidates at its end (``web.ingest_command``), so the queue is ready without
``catalograph candidates --refresh``.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import NamedNode

from graph.candidates import candidate_iri
from ontology.layout import Layout
from tests.conftest import BASE, SAMPLE_DATA, shared_path
from tests.test_cli_ingest import catalograph

LAYOUT = Layout(BASE)
JAZZ = "marc/evergreen/jazz_1k.mrc"
#: Two headings of one musician, with and without his dates (agent-dates, 0.93).
MONK = (f"{BASE}agent/kc3d097fb4f568489d06b", f"{BASE}agent/kd3da24a8ae90fed580c1")
#: "Herman, Woody, 1913-1987" and "…1913-1988": dates that only nearly agree (0.80).
HERMAN = (f"{BASE}agent/k2d9d27950bf69b9e24f7", f"{BASE}agent/k989d80222e3cc7ec1dd2")


def candidate(pair: tuple[str, str]) -> NamedNode:
    return candidate_iri(LAYOUT, *pair)


def build_review_store(data_dir: Path) -> Path:
    """Ingest the sample and the jazz catalogue into ``data_dir`` (candidates refreshed at the end)."""
    jazz = shared_path(JAZZ)
    done = catalograph(data_dir, "ingest", "--quiet", str(SAMPLE_DATA), str(jazz))
    assert done.returncode == 0, done.stderr
    assert "match candidates" in done.stderr, done.stderr  # refreshed by the ingest itself
    return data_dir
