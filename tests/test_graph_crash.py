"""A writer killed with SIGKILL at any point leaves a store that recovery makes whole.

A child process (this file run as a script) writes four big batches through
``graph.Writer``: new records, a collision, then changed and deleted records.
It is killed at random moments, and once the moment its bulk load has put a
temporary table on disk. After each kill, opening a writer must roll back the
interrupted batch: every record graph left is exactly one version of its
record and has that version's provenance, no journal entry and no orphan
file remain. Finally the same input is run to the end, and the store must
equal a clean run's store quad for quad (provenance times aside, which say
when a record was written and so differ between runs).
"""

from __future__ import annotations

import pickle
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as the child process
    sys.path.insert(0, str(ROOT))

from graph import Writer, journal, latest_snapshot, open_latest_snapshot  # noqa: E402
from graph.provenance import has_provenance  # noqa: E402
from graph.store import ORPHAN_GLOB, store_path  # noqa: E402
from ingest.iri import IriMinter  # noqa: E402
from ingest.model import Position, RecordGraph  # noqa: E402
from ingest.quads import GraphBuilder  # noqa: E402
from ontology.namespaces import BF, CG  # noqa: E402

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:5000/"
MINTER = IriMinter(BASE)
META = MINTER.metadata_graph()
BATCH = 800
SOURCE = "records.mrc"
_TIME = re.compile(rb'(<http://www.w3.org/ns/prov#generatedAtTime> )"[^"]*"')


def record(n: int, version: int = 0, position: int | None = None) -> RecordGraph:
    """A record graph of about 80 quads, shaped like a mapped bibliographic record."""
    graph = MINTER.graph("test", f"r{n}")
    builder = GraphBuilder(graph)
    instance = MINTER.resource("instance", f"r{n}")
    work = MINTER.resource("work", f"w{n % 700}")  # works shared between records
    builder.type(instance, BF.Instance)
    builder.add(instance, BF.instanceOf, work)
    builder.type(work, BF.Work)
    for part in range(25):
        title = MINTER.local(graph, "title", part)
        builder.add(instance, BF.title, title)
        builder.label(title, f"Record {n} part {part}, edition {version}")
        builder.text(title, BF.mainTitle, f"Title {n}-{part}")
    return builder.to_record_graph(Position(SOURCE, position or n + 1, n * 1000))


def deleted(n: int, position: int) -> RecordGraph:
    graph = MINTER.graph("test", f"r{n}").value
    return RecordGraph(graph, Position(SOURCE, position), b"", 0, "", deleted=True)


def build_input() -> list[list[RecordGraph]]:
    """Four batches: new records, a collision, then changes, deletions and unknown deletions."""
    batches = [[record(n) for n in range(i * BATCH, (i + 1) * BATCH)] for i in range(3)]
    batches[2].append(record(2 * BATCH, version=9, position=99_999))  # same graph twice: later wins
    last = [record(n) for n in range(3 * BATCH, 3 * BATCH + 600)]
    last += [record(n, version=1, position=50_000 + n) for n in range(100)]  # changed
    last += [deleted(n, 60_000 + n) for n in range(100, 170)]  # deleted
    last += [deleted(n, 70_000 + n) for n in range(90_000, 90_040)]  # deleted, never written
    batches.append(last)
    return batches


def write_all(data_dir: str, input_file: str) -> None:
    """The child: write every batch, saying when each is done."""
    batches = pickle.loads(Path(input_file).read_bytes())
    with Writer(data_dir, META, "crash-test") as writer:
        print("open", flush=True)
        for i, batch in enumerate(batches):
            writer.write(batch)
            print(f"batch {i}", flush=True)
    print("done", flush=True)


def start(data_dir: Path, input_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, str(data_dir), str(input_file)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def masked_dump(store) -> list[bytes]:  # noqa: ANN001
    return sorted(_TIME.sub(rb'\1"T"', line) for line in store.dump(format=RdfFormat.N_QUADS).splitlines())


def versions_of(batches: list[list[RecordGraph]]) -> dict[str, dict[str, frozenset[bytes]]]:
    """graph IRI -> content hash -> its lines: every state a complete graph may be in."""
    versions: dict[str, dict[str, frozenset[bytes]]] = defaultdict(dict)
    for batch in batches:
        for r in batch:
            if not r.deleted:
                versions[r.graph][r.content_hash] = frozenset(r.nquads.splitlines())
    return versions


def orphans(data_dir: Path) -> list[str]:
    return sorted(p.name for p in store_path(data_dir).glob(ORPHAN_GLOB))


def wait_for(child: subprocess.Popen, condition) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 60
    while not condition() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)


def left_half_a_batch(data_dir: Path) -> bool:
    """Before recovery: are there pending graphs whose data is there without provenance?

    (The writer is dead, so reading the live store directly is safe here.) Such a
    state is the window that only the journal can repair.
    """
    store = Store.read_only(str(store_path(data_dir)))
    pending = [q.object for q in journal.pending(store)]
    unfinished = [
        g for g in pending
        if store.contains_named_graph(g) and not has_provenance(store, g, META)
    ]
    del store
    return bool(unfinished)


def assert_whole(data_dir: Path, versions: dict[str, dict[str, frozenset[bytes]]]) -> None:
    """Recover, then check every record graph is one complete version with its provenance."""
    with Writer(data_dir, META, "crash-test") as writer:
        assert not journal.pending(writer.store)
        assert orphans(data_dir) == []
        dumped = writer.store.dump(format=RdfFormat.N_QUADS)
    lines_by_graph: dict[bytes, set[bytes]] = defaultdict(set)
    for line in dumped.splitlines():
        lines_by_graph[line.rsplit(b" ", 2)[-2]].add(line)
    hashes = {}
    for line in lines_by_graph.pop(b"<" + META.value.encode() + b">", set()):
        subject, predicate, rest = line.split(b" ", 2)
        if predicate == b"<" + CG.contentHash.value.encode() + b">":
            hashes[subject] = rest.split(b'"')[1].decode()
    assert set(lines_by_graph) == set(hashes)  # data if and only if provenance
    for graph, lines in lines_by_graph.items():
        known = versions[graph[1:-1].decode()]
        assert hashes[graph] in known, graph
        assert frozenset(lines) == known[hashes[graph]], graph


def test_killed_writer_recovers_and_rerun_equals_clean_run(tmp_path: Path) -> None:
    batches = build_input()
    input_file = tmp_path / "input.pickle"
    input_file.write_bytes(pickle.dumps(batches))
    versions = versions_of(batches)

    clean = tmp_path / "clean"
    child = start(clean, input_file)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    expected = masked_dump(open_latest_snapshot(clean))
    assert len(expected) > 4 * BATCH * 75

    crashed = tmp_path / "crashed"
    rng = random.Random(20251121)
    # Each run starts the input again on what the killed runs left, as a user would. The
    # first is killed while a bulk load has its temporary tables on disk; then just after
    # they were moved into the store; then a random time after finishing batch k (so inside
    # batch k + 1, or in the checkpoint at the end after the last), since batches already
    # written go by fast when re-run.
    seen_orphans: list[str] = []

    def kill(child: subprocess.Popen) -> None:
        child.kill()  # SIGKILL
        child.communicate(timeout=30)
        seen_orphans.extend(orphans(crashed))

    child = start(crashed, input_file)
    wait_for(child, lambda: orphans(crashed))
    kill(child)
    assert_whole(crashed, versions)

    # Just after the bulk load moved its tables into the store, before provenance: a
    # window of some tens of milliseconds, so tried until hit (a busy machine may miss it).
    for _attempt in range(8):
        child = start(crashed, input_file)
        wait_for(child, lambda: orphans(crashed))
        wait_for(child, lambda: not orphans(crashed))
        kill(child)
        hit = left_half_a_batch(crashed)
        assert_whole(crashed, versions)
        if hit:
            break
    assert hit, "no kill landed between a bulk load and its provenance"

    for after, delay in [(f"batch {k}", rng.uniform(0.0, 0.8)) for k in range(3)] + [
        ("batch 3", rng.uniform(0.0, 0.05))
    ]:
        child = start(crashed, input_file)
        for line in child.stdout:
            if line.decode().strip() == after:
                break
        time.sleep(delay)
        kill(child)
        assert_whole(crashed, versions)
    assert seen_orphans, "no kill landed inside a bulk load"
    assert all(re.fullmatch(r"bulk-\d+\.sst", name) for name in seen_orphans)

    child = start(crashed, input_file)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    assert masked_dump(open_latest_snapshot(crashed)) == expected
    assert orphans(crashed) == []
    with Writer(crashed, META, "crash-test") as writer:
        assert not journal.pending(writer.store)
        assert masked_dump(writer.store) == expected  # the live store, not only the checkpoint
    snapshots = sorted(p.name for p in (crashed / "snapshots").iterdir())
    assert len(snapshots) == 3 and snapshots[-1] == "CURRENT"
    assert latest_snapshot(crashed).name == snapshots[1]


if __name__ == "__main__":
    write_all(sys.argv[1], sys.argv[2])
