"""What validating an editor's change costs, on a store of the shipped sample (``data/``).

Run it from the repository root::

    .venv/bin/python bench/change_validation.py                    # ingests data/ into a temporary folder
    .venv/bin/python bench/change_validation.py --data-dir DIR     # or measures an existing data directory

For changes touching 1, 10 and 100 resources (an alternative label added to
each of that many concepts and agents, in its unit graph), the edit is run as
a dry run (``apply_changes(dry_run=True)``: journal, change, read back, check,
put back; the writer's lock and the store's opening included) with no check,
with ``integrity`` (what SPARQL Update gets: cycles, preferred labels) and
with the editor's full check (plus dangling references and SHACL on the
touched resources, before and after). Each is the median of ``--repeat`` runs
after a warm-up (pyshacl's first import is not counted). Prints the times and
the time of the check alone inside it, and the ratio of the edit with the
editor's check to the bare edit. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyoxigraph import Literal, NamedNode, Quad, Store  # noqa: E402

from graph.change_validation import EditorCheck, integrity  # noqa: E402
from graph.updates import apply_changes  # noqa: E402
from ontology.layout import Layout  # noqa: E402
from ontology.namespaces import BF, RDF, SKOS  # noqa: E402

BASE = "http://127.0.0.1:5000/"


def ingest(data_dir: Path) -> None:
    paths = sorted(str(p) for p in (ROOT / "data").rglob("*") if p.suffix in (".mrc", ".marc", ".xml"))
    subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "ingest", *paths],
        cwd=ROOT, check=False, capture_output=True,
    )  # fmt: skip


def resources(data_dir: Path, layout: Layout, n: int) -> list[NamedNode]:
    store = Store.read_only(str(data_dir / "store"))
    found: list[NamedNode] = []
    for cls in (SKOS.Concept, BF.Agent):
        for quad in store.quads_for_pattern(None, RDF.type, cls, None):
            if quad.subject.value.startswith(layout.base) and "#" not in quad.subject.value:
                found.append(quad.subject)
            if len(found) >= n * 2:
                break
    quads = len(store)
    del store
    print(f"store: {quads:,} quads")
    return list(dict.fromkeys(found))[:n]


def timed(data_dir: Path, layout: Layout, change: list[Quad], check: object, repeat: int) -> tuple[float, float]:
    """Median seconds of the whole dry-run edit, and of the check alone inside it."""
    times, inside = [], []

    def clocked(store: Store, added: list[Quad], removed: list[Quad]) -> None:
        start = time.perf_counter()
        if check is not None:
            check(store, added, removed)  # type: ignore[operator]
        inside.append(time.perf_counter() - start)

    for _ in range(repeat):
        start = time.perf_counter()
        apply_changes(data_dir, add=change, layout=layout, who="bench", check=clocked, dry_run=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.median(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    made = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="catalograph-change-validation-"))
    try:
        if made:
            started = time.perf_counter()
            ingest(data_dir)
            print(f"ingested data/ in {time.perf_counter() - started:.1f} s")
        layout = Layout(BASE)
        pool = resources(data_dir, layout, 100)
        checks = {"none": None, "integrity": integrity, "editor": EditorCheck(layout)}
        warm = [Quad(pool[0], SKOS.altLabel, Literal("warm-up"), NamedNode(layout.owner(pool[0].value)))]
        timed(data_dir, layout, warm, checks["editor"], 1)
        print(f"{'resources':>9} {'edit, no check':>15} {'integrity (check alone)':>24} "
              f"{'editor (check alone)':>22} {'editor/none':>12}")
        for n in (1, 10, 100):
            change = [
                Quad(node, SKOS.altLabel, Literal(f"alternative {i}"), NamedNode(layout.owner(node.value)))
                for i, node in enumerate(pool[:n])
            ]
            got = {name: timed(data_dir, layout, change, check, args.repeat) for name, check in checks.items()}
            (bare, _), (whole_i, alone_i), (whole_e, alone_e) = got["none"], got["integrity"], got["editor"]
            print(
                f"{min(n, len(pool)):>9} {bare * 1000:>12.0f} ms {whole_i * 1000:>10.0f} ms ({alone_i * 1000:>5.1f} ms) "
                f"{whole_e * 1000:>10.0f} ms ({alone_e * 1000:>5.0f} ms) {whole_e / bare:>11.1f}x"
            )
    finally:
        if made:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
