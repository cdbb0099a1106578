"""How long the vocabulary editor's merge takes on the shipped sample, and that it lasts.

1. ``catalograph ingest data/`` and ``catalograph mentions --refresh`` into a
   fresh data directory (the real CLI, as ``.ci/up`` does);
2. the concept with the most references in unit and record graphs is merged
   into the one with the next most (``query.vocabulary_edits.merge``, then
   ``graph.updates.apply_changes``, what ``web.changes.submit_change`` calls):
   the plan and the apply are timed, and set against one small edit (an
   alternate label added) through the same writer, the fixed cost of any change;
3. the sample is ingested again, and the mentions refreshed: every reference
   must still be the survivor's, and the mentions (a derived graph) must have
   followed the labels the survivor took.

Run from the repository root::

    .venv/bin/python bench/vocabulary_merge.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.updates import apply_changes  # noqa: E402
from ontology.layout import Layout  # noqa: E402
from ontology.namespaces import CG, SKOS  # noqa: E402
from query.vocabulary import references  # noqa: E402
from query.vocabulary_merge import merge  # noqa: E402

BASE = "http://127.0.0.1:5000/"


def cli(data_dir: Path, *args: str) -> None:
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: some sample records rejected, reported
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")


def most_referenced(store: Store, layout: Layout) -> list[tuple[int, str]]:
    concepts = {q.subject.value for q in store.quads_for_pattern(None, SKOS.inScheme, None, None)}
    counted = sorted(((len(references(store, c, layout)), c) for c in concepts), reverse=True)
    return counted[:2]


def mentions_of(store: Store, iri: str) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, CG.mentions, NamedNode(iri), None))


def most_mentioned(store: Store, skip: set[str]) -> list[tuple[int, str]]:
    """The two concepts (in a scheme, not yet merged) most mentioned by works' texts."""
    counts: dict[str, int] = {}
    for quad in store.quads_for_pattern(None, CG.mentions, None, None):
        iri = quad.object.value
        if iri not in skip and next(store.quads_for_pattern(quad.object, SKOS.inScheme, None, None), None):
            counts[iri] = counts.get(iri, 0) + 1
    ranked = sorted(((n, iri) for iri, n in counts.items()), reverse=True)
    return ranked[:2] if len(ranked) >= 2 else []


def main() -> None:
    layout = Layout(BASE)
    folder = Path(tempfile.mkdtemp(prefix="catalograph-bench-merge-"))
    data_dir = folder / "data"
    try:
        started = time.perf_counter()
        cli(data_dir, "ingest", "data/")
        cli(data_dir, "mentions", "--refresh")
        print(f"sample ingested and mentions refreshed in {time.perf_counter() - started:.1f} s")
        store = Store.read_only(str(data_dir / "store"))
        (n_merged, merged), (n_survivor, survivor) = most_referenced(store, layout)
        mentioned = mentions_of(store, merged)
        started = time.perf_counter()
        plan = merge(store, layout, merged, survivor)
        plan_s = time.perf_counter() - started
        del store
        started = time.perf_counter()
        edit = apply_changes(data_dir, add=plan.change.add, remove=plan.change.remove, layout=layout,
                             who="bench", reason=plan.change.reason)  # fmt: skip
        apply_s = time.perf_counter() - started
        home = NamedNode(layout.home_graph(survivor, None))
        small = [Quad(NamedNode(survivor), SKOS.altLabel, Literal("bench alias", language="en"), home)]
        started = time.perf_counter()
        apply_changes(data_dir, add=small, layout=layout, who="bench")
        small_s = time.perf_counter() - started
        print(f"merged <{merged}> ({n_merged} references, {mentioned} mentions) into <{survivor}> "
              f"({n_survivor} references)")  # fmt: skip
        print(f"  moved: {plan.total} statements ({', '.join(f'{p} {u + r}' for p, u, r in plan.moved)}), "
              f"{plan.labels} labels as alternate labels; changeset: {edit.added} added, {edit.removed} removed")
        print(f"  plan {plan_s * 1000:.1f} ms, apply {apply_s * 1000:.1f} ms; one alternate label {small_s * 1000:.1f} ms "
              f"(merge / small edit = {apply_s / small_s:.2f}x)")  # fmt: skip
        store = Store.read_only(str(data_dir / "store"))
        named = most_mentioned(store, {merged, survivor})
        if named:
            (n_a, a), (n_b, b) = named
            second = merge(store, layout, a, b)
            del store
            apply_changes(data_dir, add=second.change.add, remove=second.change.remove, layout=layout, who="bench")
            print(f"merged <{a}> ({n_a} mentions) into <{b}> ({n_b} mentions): {second.total} statements moved, "
                  f"{second.labels} labels as alternate labels")  # fmt: skip
        else:
            del store
        started = time.perf_counter()
        cli(data_dir, "ingest", "data/")
        cli(data_dir, "mentions", "--refresh")
        print(f"sample ingested again and mentions refreshed in {time.perf_counter() - started:.1f} s")
        store = Store.read_only(str(data_dir / "store"))
        left = len(references(store, merged, layout))
        print(f"  after re-ingest: {left} references to the merged concept (expected 0), "
              f"{len(references(store, survivor, layout))} to the survivor")
        if named:
            print(f"  mentions of <{a}> now {mentions_of(store, a)} (expected 0), of <{b}> {mentions_of(store, b)}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
