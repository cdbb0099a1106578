"""A writer killed with SIGKILL at any point leaves a store that recovery makes whole.

A child process (this file run as a script) writes four big batches through
``graph.Writer``: new records, a collision, then changed and deleted records,
whose statements about shared Works come and go. It is killed at random
moments, and once the moment its bulk load has put a temporary table on disk.
After each kill, opening a writer must roll back the interrupted batch: every
record graph left is exactly one version of its record and has that
version's provenance; the unit graphs hold exactly what the records left say
about the shared units, and the ledger counts exactly the records that say
each statement; no journal entry and no orphan file remain. Finally the same
input is run to the end, and the store must equal a clean run's store quad
for quad (provenance times aside, which say when a record was written and so
differ between runs).
"""

from __future__ import annotations

import os
import pickle
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import closing
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, Store

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as the child process
    sys.path.insert(0, str(ROOT))

from graph import Writer, latest_snapshot, open_latest_snapshot  # noqa: E402
from graph.record_index import index_path  # noqa: E402
from graph.store import ORPHAN_GLOB, store_path  # noqa: E402
from ingest.iri import IriMinter  # noqa: E402
from ingest.model import Position, RecordGraph  # noqa: E402
from ingest.quads import GraphBuilder  # noqa: E402
from ontology.namespaces import BF, CG, PROV, RDF  # noqa: E402

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:5000/"
MINTER = IriMinter(BASE)
META = MINTER.metadata_graph()
BATCH = 600
SOURCE = "records.mrc"
_TIME = re.compile(rb'(<http://www.w3.org/ns/prov#generatedAtTime> )"[^"]*"')


def record(n: int, version: int = 0, position: int | None = None) -> RecordGraph:
    """A record graph of about 80 quads, shaped like a mapped bibliographic record."""
    graph = MINTER.graph("test", f"r{n}")
    builder = GraphBuilder(graph, MINTER.layout)
    instance = MINTER.resource("instance", f"r{n}")
    work = MINTER.resource("work", f"w{n % 700}")  # works shared between records
    builder.type(instance, BF.Instance)
    builder.add(instance, BF.instanceOf, work)
    builder.type(work, BF.Work)
    # statements about the shared Work: one every record of it makes, one per version
    builder.label(work, f"Work {n % 700}")
    builder.label(work, f"Work {n % 700}, as edition {version} has it")
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
    last = [record(n) for n in range(3 * BATCH, 3 * BATCH + 400)]
    last += [record(n, version=1, position=50_000 + n) for n in range(300)]  # changed
    last += [deleted(n, 60_000 + n) for n in range(300, 370)]  # deleted
    last += [deleted(n, 70_000 + n) for n in range(90_000, 90_040)]  # deleted, never written
    batches.append(last)
    return batches


def die_inside_drop(nth: int) -> None:
    """Fault injection in the child: SIGKILL itself inside the ``nth`` graph drop of a batch.

    The real ``drop_record_graph`` runs for the graphs before; for the ``nth``
    one, a first provenance statement is removed and the process dies, which
    is the state a kill at that instant leaves (data there, provenance partly
    gone, the journal pending). Waiting for a random kill to land in that
    ~0.3 s window was flaky on a busy machine.
    """
    import graph.writer as writer_module

    real_drop = writer_module.drop_record_graph
    calls = 0

    def drop(store: Store, graph, metadata_graph) -> None:
        nonlocal calls
        calls += 1
        if calls == nth:
            store.remove(next(iter(store.quads_for_pattern(graph, None, None, metadata_graph))))
            store.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        real_drop(store, graph, metadata_graph)

    writer_module.drop_record_graph = drop


def write_all(data_dir: str, input_file: str) -> None:
    """The child: write every batch, saying when each is done."""
    batches = pickle.loads(Path(input_file).read_bytes())
    crash_batch = os.environ.get("CRASH_IN_BATCH")
    with Writer(data_dir, MINTER.layout, "crash-test") as writer:
        print("open", flush=True)
        for i, batch in enumerate(batches):
            if crash_batch == str(i):
                die_inside_drop(int(os.environ["CRASH_AT_DROP"]))
            writer.write(batch)
            print(f"batch {i}", flush=True)
    print("done", flush=True)


def start(data_dir: Path, input_file: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, str(data_dir), str(input_file)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )


def masked_dump(store) -> list[bytes]:
    return sorted(_TIME.sub(rb'\1"T"', line) for line in store.dump(format=RdfFormat.N_QUADS).splitlines())


Version = tuple[frozenset[bytes], frozenset[bytes]]


def versions_of(batches: list[list[RecordGraph]]) -> dict[str, dict[str, Version]]:
    """graph IRI -> content hash -> (its lines, its unit statements): every state a complete
    graph may be in."""
    versions: dict[str, dict[str, Version]] = defaultdict(dict)
    for batch in batches:
        for r in batch:
            if not r.deleted:
                versions[r.graph][r.content_hash] = (
                    frozenset(r.nquads.splitlines()),
                    frozenset(r.units.splitlines()),
                )
    return versions


def orphans(data_dir: Path) -> list[str]:
    return sorted(p.name for p in store_path(data_dir).glob(ORPHAN_GLOB))


def wait_for(child: subprocess.Popen, condition) -> None:
    deadline = time.monotonic() + 60
    while not condition() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)


#: Provenance statements of every record graph of this input (all have a byte offset).
PROVENANCE = {
    f"<{term.value}>".encode()
    for term in (RDF.type, CG.sourceFile, CG.sourcePosition, CG.byteOffset, CG.contentHash,
                 CG.pipelineVersion, PROV.generatedAtTime)
}


def half_replaced(data_dir: Path) -> bool:
    """Before recovery: is a pending graph there without its whole provenance?

    That is a graph caught while ``drop_record_graph`` removed its provenance
    (statement by statement) and then its data, the state only the journal
    repairs. (The writer is dead, so reading the live store directly is safe.)
    """
    store = Store.read_only(str(store_path(data_dir)))
    found = any(
        store.contains_named_graph(graph)
        and len(list(store.quads_for_pattern(graph, None, None, META))) < len(PROVENANCE)
        for graph in map(NamedNode, pending(data_dir))
    )
    del store
    return found


def pending(data_dir: Path) -> list[str]:
    """The journal's graphs, read from the record index's file (the writer is dead or done)."""
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        return [row[0] for row in db.execute("SELECT graph FROM pending")]


def ledger_counts(data_dir: Path) -> dict[bytes, int]:
    """The ledger's count of each unit statement (the records that make a group holding it),
    read from the record index's file."""
    counts: Counter[bytes] = Counter()
    with closing(sqlite3.connect(index_path(data_dir))) as db:
        assert db.execute("SELECT count(*) FROM pending").fetchone()[0] == 0
        for lines, refs in db.execute(
            "SELECT t.lines, g.refs FROM unit_group AS g JOIN unit_group_text AS t USING (key)"
        ):
            for line in bytes(lines).splitlines():
                counts[line] += refs  # a row left at zero shows as a zero count
    return dict(counts)


def assert_whole(data_dir: Path, versions: dict[str, dict[str, Version]]) -> None:
    """Recover, then check every record graph is one complete version with its provenance,
    and the unit graphs and the ledger say exactly what those versions say."""
    with Writer(data_dir, MINTER.layout, "crash-test") as writer:
        assert pending(data_dir) == []
        assert orphans(data_dir) == []
        dumped = writer.store.dump(format=RdfFormat.N_QUADS)
    lines_by_graph: dict[bytes, set[bytes]] = defaultdict(set)
    unit_lines: set[bytes] = set()
    for line in dumped.splitlines():
        graph = line.rsplit(b" ", 2)[-2]
        if MINTER.layout.is_catalograph_graph(graph[1:-1].decode()):
            lines_by_graph[graph].add(line)
        else:
            unit_lines.add(line)
    hashes: dict[bytes, str] = {}
    described: dict[bytes, set[bytes]] = defaultdict(set)
    for line in lines_by_graph.pop(b"<" + META.value.encode() + b">", set()):
        subject, predicate, rest = line.split(b" ", 2)
        described[subject].add(predicate)
        if predicate == b"<" + CG.contentHash.value.encode() + b">":
            hashes[subject] = rest.split(b'"')[1].decode()
    assert set(lines_by_graph) == set(described)  # data if and only if provenance
    stated: Counter[bytes] = Counter()
    for graph, lines in lines_by_graph.items():
        assert described[graph] == PROVENANCE, graph  # all of it
        known = versions[graph[1:-1].decode()]
        assert hashes[graph] in known, graph
        own, units = known[hashes[graph]]
        assert frozenset(lines) == own, graph
        stated.update(units)
    assert unit_lines == set(stated)  # what the records left say about the units, no more
    assert ledger_counts(data_dir) == dict(stated)  # each counted once per record that says it


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
    hashes = [line for line in expected if CG.contentHash.value.encode() in line]
    assert len(hashes) == 3 * BATCH + 400 - 70  # written, less the deleted

    crashed = tmp_path / "crashed"
    rng = random.Random(20251121)
    # Each run starts the input again on what the killed runs left, as a user would. The
    # first is killed while a bulk load has its temporary tables on disk; then while the
    # last batch replaces changed records; then a random time after finishing batch k (so
    # inside batch k + 1, or in the checkpoint at the end after the last), since batches
    # already written go by fast when re-run.
    seen_orphans: list[str] = []

    def kill(child: subprocess.Popen) -> None:
        child.kill()  # SIGKILL
        child.communicate(timeout=30)
        seen_orphans.extend(orphans(crashed))

    def kill_after(child: subprocess.Popen, line: str, delay: float) -> None:
        for said in child.stdout:
            if said.decode().strip() == line:
                break
        time.sleep(delay)
        kill(child)

    child = start(crashed, input_file)
    wait_for(child, lambda: orphans(crashed))
    kill(child)
    assert_whole(crashed, versions)

    # The last batch first drops 300 changed graphs; dying inside the 150th leaves one
    # with data but only part of its provenance, which only the journal repairs.
    child = start(crashed, input_file, CRASH_IN_BATCH="3", CRASH_AT_DROP="150")
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    assert half_replaced(crashed)
    assert_whole(crashed, versions)

    for k in (0, 2):
        kill_after(start(crashed, input_file), f"batch {k}", rng.uniform(0.0, 0.6))
        assert_whole(crashed, versions)
    kill_after(start(crashed, input_file), "batch 3", rng.uniform(0.0, 0.05))  # checkpoint
    assert_whole(crashed, versions)
    assert seen_orphans, "no kill landed inside a bulk load"
    assert all(re.fullmatch(r"bulk-\d+\.sst", name) for name in seen_orphans)

    child = start(crashed, input_file)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    assert masked_dump(open_latest_snapshot(crashed)) == expected
    assert orphans(crashed) == []
    with Writer(crashed, MINTER.layout, "crash-test") as writer:
        assert pending(crashed) == []
        assert masked_dump(writer.store) == expected  # the live store, not only the checkpoint
    snapshots = sorted(p.name for p in (crashed / "snapshots").iterdir())
    assert len(snapshots) == 3 and snapshots[-1] == "CURRENT"
    assert latest_snapshot(crashed).name == snapshots[1]


if __name__ == "__main__":
    write_all(sys.argv[1], sys.argv[2])
