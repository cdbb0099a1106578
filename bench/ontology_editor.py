"""The ontology in the store: seeding it, and the first pages that read it.

    .venv/bin/python bench/ontology_editor.py [--runs 5]

1. Seeding: ``graph.ontology_graph.seed_ontology`` into a fresh on-disk
   store (every statement of ``catalograph.ttl`` written), then again on the
   same store (the digest matches: one lookup), median of ``--runs``.
2. The shipped sample (``data/``) is ingested by ``catalograph ingest`` into a
   temporary data directory (which seeds the ontology), and the app is made
   over it: the first request of ``/editor/ontology`` (reads the checkpoint's
   ontology graph, builds the reference model, counts each term's uses, renders
   two trees), then a second one (everything cached per checkpoint), and the
   same for ``/ontology``; and the cost of ``query.ontology_usage.use_counts``
   alone. Times are wall-clock on whatever machine runs it; the ratios say
   what caching buys.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyoxigraph import Store  # noqa: E402

from graph.ontology_graph import seed_ontology  # noqa: E402
from ontology.layout import Layout  # noqa: E402
from ontology.vocabulary import ontology_triples  # noqa: E402

BASE = "http://127.0.0.1:5000/"


def timed(action, *args, **kwargs) -> float:
    started = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - started


def seeding(runs: int, folder: Path) -> None:
    layout = Layout(BASE)
    ontology_triples()  # parsed once per process, as in a writer: not part of the seed
    fresh, again = [], []
    for n in range(runs):
        store = Store(str(folder / f"seed-{n}"))
        fresh.append(timed(seed_ontology, store, layout))
        again.append(timed(seed_ontology, store, layout))
        store.flush()
        del store
    statements = len(ontology_triples())
    print(f"seed into a fresh on-disk store ({statements:,} statements): "
          f"median {statistics.median(fresh) * 1000:.1f} ms over {runs} runs")  # fmt: skip
    print(f"seed of a store already seeded from this file: median {statistics.median(again) * 1000:.2f} ms")


def first_pages(folder: Path) -> None:
    data_dir = folder / "data"
    done = subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", "--data-dir", str(data_dir),
         "ingest", "--quiet", str(ROOT / "data")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    from web.accounts import add_user
    from web.app import close_app, create_app
    from web.config import load_settings

    add_user(data_dir, "bench", "a long enough password", "cataloger")
    app = create_app(load_settings(env={}, data_dir=data_dir))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"name": "bench", "password": "a long enough password", "csrf_token": token})
    html = {"Accept": "text/html"}
    for path in ("/editor/ontology", "/ontology"):
        first = timed(client.get, path, headers=html)
        second = timed(client.get, path, headers=html)
        print(f"{path}: first request {first * 1000:.0f} ms, next {second * 1000:.1f} ms "
              f"(ratio {first / second:.0f}x)")  # fmt: skip
    from graph import open_latest_snapshot
    from ontology.reference import ontology_reference
    from query.ontology_usage import use_counts

    store = open_latest_snapshot(data_dir)
    model = ontology_reference()
    terms = [*model.classes, *model.properties]
    spent = timed(use_counts, store, terms, Layout(BASE))
    print(f"use counts of {len(terms)} terms over the sample ({len(store):,} quads): {spent * 1000:.0f} ms")
    close_app(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catalograph-ontology-bench-") as folder:
        seeding(args.runs, Path(folder))
        first_pages(Path(folder))


if __name__ == "__main__":
    main()
