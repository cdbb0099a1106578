"""The graph projected for algorithms: which bibliographic resource uses which knowledge unit.

Associative retrieval (``query.association``) ranks resources by the units
they share, with sparse matrix products; walking the store for each request
would be far too slow, so the edges it needs are read once and kept beside
the store, in ``data_dir/projection/<token>.npz``:

- **resources** (rows): every Instance and every Work of the store;
  ``instance_work`` ties an Instance to its Work (``bf:instanceOf``);
- **units** (columns): the shared knowledge units a resource uses, each edge
  with its ``kind`` (``EDGE_KINDS``: subject, genre, contributor with its
  ``role``, series, related work). A record's own nodes
  (``{graph}#provision-1``) are not units: no other record can share them;
- **hierarchy**: ``skos:broader`` (and ``skos:narrower`` inverted) and
  ``cg:hasComponent`` (a complex heading and its parts: *Music -- Japan* has
  *Music* and *Japan*), so a subject can meet its broader and narrower terms;
- the **manifest** it was built from: each record graph of the record index
  with its content hash and its Instance, and the writers' unit edits seen.

**Incremental.** ``read`` compares the record index with the manifest:
a record graph that is new, gone, or whose hash changed (or is NULL: edited,
never trusted) names its Instance and its Work, old and new; only those
resources are read again from the store (a dozen indexed lookups each). A
writer's edit of a unit graph names its subject, read again too. The
hierarchy is read whole each time (three predicate scans, a small part of
the store). Arrays are kept in IRI order, so an update gives the same arrays,
byte for byte, as a full build of the same store (a test checks). A full
build happens only when no stored projection matches the live store (see
``token``) or its format changed.

**Tied to a checkpoint.** Each projection has a ``token`` (a digest of its
arrays: the same store gives the same token, and so the same derived graph,
whatever sequence of ingests reached it); the derived graph
of associations (``graph.derived``) states the token of the projection it was
computed from, in the same writing session, so a checkpoint carries the
token of the projection that describes it and a reader (the server) loads
exactly that one (``load``). The newest ``KEEP`` projections are kept, as
checkpoints are, so a server still on the previous checkpoint finds its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import time
import zipfile
from array import array
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyoxigraph import NamedNode, Store

from graph.disk_space import disk_full_error, is_disk_full
from ontology.errors import StoreError
from ontology.layout import Layout
from ontology.namespaces import BF, CG, SKOS

log = logging.getLogger(__name__)

PROJECTION_DIR = "projection"
#: Bumped when the arrays change meaning: an older file is then rebuilt, never misread.
#: 3: the lists as rows of ``resources`` (not IRIs), and association nodes named by source and target.
#: 4: the manifest as UTF-8 bytes (a quarter of the memory of numpy's str arrays).
#: 5: every array of strings as UTF-8 bytes (``resources``, ``units``, ``roles``, ``edits`` too).
FORMAT_VERSION = 5
#: Projections kept, newest first (as many as checkpoints, plus the one being built).
KEEP = 3

#: How a resource uses a unit; ``query.association`` weighs each kind.
EDGE_KINDS = ("subject", "genre", "contributor", "series", "related")
SUBJECT, GENRE, CONTRIBUTOR, SERIES, RELATED = range(len(EDGE_KINDS))
#: Hierarchy relations: ``child`` is narrower than ``parent``, or one of its components.
HIERARCHY_KINDS = ("broader", "component")
BROADER, COMPONENT = range(len(HIERARCHY_KINDS))

#: Resources kinds (rows).
INSTANCE, WORK = 0, 1

#: Resources read between two chances to give RocksDB's memory back (``LiveStore``).
READ_SLICE = 500

#: The store to read, taken again between slices of a long read: a function that may first
#: give back what the reads so far left in RocksDB's memory (a writer reopens its store, and
#: the store held before is then closed), so call it holding no reference to the store. A
#: plain ``Store`` is read in one go.
LiveStore = Callable[[], Store]

_UNIT_PROPERTIES = (
    (BF.subject, SUBJECT),
    (BF.genreForm, GENRE),
    (BF.hasSeries, SERIES),
    (BF.relatedTo, RELATED),
    (BF.hasPart, RELATED),
)


@dataclass
class Projection:
    """The arrays of one projection (all sorted by IRI; see the module docstring)."""

    token: str
    base: str
    resources: np.ndarray  # bytes (UTF-8), sorted: ``iri_list`` gives the IRIs
    resource_kind: np.ndarray  # int8: INSTANCE or WORK
    instance_work: np.ndarray  # int32: row of an instance's work, -1 for a work or none
    units: np.ndarray  # bytes (UTF-8), sorted
    edge_resource: np.ndarray  # int32
    edge_unit: np.ndarray  # int32
    edge_kind: np.ndarray  # int8
    edge_role: np.ndarray  # int32: index into roles, -1 for none
    roles: np.ndarray  # bytes (UTF-8), sorted
    hier_child: np.ndarray  # int32 unit
    hier_parent: np.ndarray  # int32 unit
    hier_kind: np.ndarray  # int8
    manifest_graph: np.ndarray  # bytes (UTF-8), sorted
    manifest_hash: np.ndarray  # bytes (hex; b'' = untrusted)
    manifest_instance: np.ndarray  # bytes (UTF-8; b'' = none)
    edits: np.ndarray  # bytes: hex of the writers' unit edits seen, sorted
    #: The association lists materialised from this projection (``graph.derived``): rows of
    #: ``resources`` (source work, target work) and the score, sources in row order, each
    #: source's targets in rank order. Rows, not IRIs: loading and saving cost the lists' length
    #: in numbers, not in strings (they are the largest arrays: ten per work).
    list_source: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int32))
    list_target: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int32))
    list_score: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.float64))
    #: What the last update changed (not stored): the resources read again, the units
    #: their edges use (before and after), and the units whose hierarchy changed (both ends
    #: of a link added or gone); ``None`` after a full build.
    changed_resources: set[str] | None = field(default=None, compare=False)
    changed_units: set[str] | None = field(default=None, compare=False)
    hierarchy_units: set[str] | None = field(default=None, compare=False)

    def row(self, iri: str | bytes) -> int | None:
        return _find(self.resources, iri)

    def unit(self, iri: str | bytes) -> int | None:
        return _find(self.units, iri)

    def resource_iri(self, row: int) -> str:
        return bytes(self.resources[row]).decode("utf-8")

    def unit_iri(self, column: int) -> str:
        return bytes(self.units[column]).decode("utf-8")

    def same_as(self, other: Projection) -> bool:
        """The same edges, hierarchy and manifest (the tokens aside)."""
        return all(np.array_equal(getattr(self, n), getattr(other, n)) for n in _ARRAYS)

    def lists(self) -> dict[int, list[tuple[int, float]]]:
        """The materialised association lists: {source row: [(target row, score), ...]}."""
        found: dict[int, list[tuple[int, float]]] = {}
        for source, target, score in zip(
            self.list_source.tolist(),
            self.list_target.tolist(),
            self.list_score.tolist(),
            strict=True,
        ):
            found.setdefault(source, []).append((target, score))
        return found


_ARRAYS = (
    "resources", "resource_kind", "instance_work", "units", "edge_resource", "edge_unit",
    "edge_kind", "edge_role", "roles", "hier_child", "hier_parent", "hier_kind",
    "manifest_graph", "manifest_hash", "manifest_instance", "edits",
    "list_source", "list_target", "list_score",
)  # fmt: skip


def _find(sorted_array: np.ndarray, iri: str | bytes) -> int | None:
    key = iri.encode("utf-8") if isinstance(iri, str) else iri
    at = int(np.searchsorted(sorted_array, key))
    return at if at < len(sorted_array) and sorted_array[at] == key else None


def iri_array(values: Iterable[str]) -> np.ndarray:
    """Strings as a numpy array of their UTF-8 bytes (``S`` dtype), the form of every array of
    strings of a projection: numpy's str arrays hold four bytes a character, padded to the
    longest, so ``resources`` at x160 open access took 27 MB as str and takes a quarter of
    that as bytes (docs/benchmarks.md). Bytes keep the order of the strings (UTF-8 sorts as
    code points do), so ``searchsorted``, ``positions``, ``np.unique`` and sorting work as
    before, as long as both sides are bytes: a query made of Python strings goes through
    here, and an IRI given out goes through ``iri_list`` (or ``Projection.resource_iri``).
    An IRI or a hex digest ends with no NUL, which numpy would strip.

    >>> iri_array(["é", ""]).tolist(), iri_list(iri_array(["é", ""]))
    ([b'\\xc3\\xa9', b''], ['é', ''])
    """
    items = [value.encode("utf-8") for value in values]
    return np.array(items, dtype=bytes) if items else np.array([], dtype="S1")


def _tight(array: np.ndarray) -> np.ndarray:
    """``array`` as wide as its longest string: an update's arrays come from the previous one's
    and keep their width when the longest IRI is gone, a full build's would not, and the
    width is part of the bytes the token digests (``content_token``).

    >>> _tight(iri_array(["ab", "abcd"])[:1]).dtype.str
    '|S2'
    """
    width = max(int(np.char.str_len(array).max()), 1) if len(array) else 1
    return array if array.dtype.itemsize == width else array.astype(f"S{width}")


def iri_list(array: np.ndarray) -> list[str]:
    """The strings of an ``iri_array``."""
    return [value.decode("utf-8") for value in array.tolist()]


# ------------------------------------------------------------ storage


def projection_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / PROJECTION_DIR


def _path(data_dir: Path | str, token: str) -> Path:
    if not token.isalnum():
        raise ValueError(f"not a projection token: {token!r}")
    return projection_dir(data_dir) / f"{token}.npz"


def save(projection: Projection, data_dir: Path | str) -> Path:
    """Write ``projection`` under its token (atomically: a temporary file renamed), prune old ones.

    Arrays of IRIs are stored as they are held, numpy bytes (``iri_array``): ``np.savez``
    writes an ``S`` array as its fixed-width bytes, and ``np.load`` reads it back without
    pickle and without a Python string an IRI (format 4 kept numpy's str arrays as lines of
    UTF-8 and split them again on load).
    """
    folder = projection_dir(data_dir)
    target = _path(data_dir, projection.token)
    meta = np.array([projection.token, projection.base, str(FORMAT_VERSION)], dtype=str)
    arrays = {name: getattr(projection, name) for name in _ARRAYS}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as out:
            np.savez(out, meta=meta, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(out.name, target)
    except OSError as exc:
        with suppress(OSError, UnboundLocalError):
            Path(out.name).unlink(missing_ok=True)
        if is_disk_full(exc):
            raise disk_full_error("save the projection", folder, str(exc)) from exc
        raise StoreError(f"cannot write the projection in {folder}: {exc.strerror or exc}") from exc
    kept = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in kept[KEEP:]:
        old.unlink(missing_ok=True)
    for stale in folder.glob("*.tmp"):
        if stale.name != Path(out.name).name:
            stale.unlink(missing_ok=True)
    return target


def load(data_dir: Path | str, token: str) -> Projection | None:
    """The projection saved under ``token``, or ``None`` if there is none (or it cannot be read)."""
    try:
        path = _path(data_dir, token)
        with np.load(path, allow_pickle=False) as data:
            meta = data["meta"]
            if str(meta[2]) != str(FORMAT_VERSION) or str(meta[0]) != token:
                return None
            arrays = {name: data[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    return Projection(token=token, base=str(meta[1]), **arrays)


# ------------------------------------------------------------ reading the store


class _Edges:
    """Edges of some resources while they are being read, every IRI kept once, as a number.

    Why numbers: a full build at x10 reads hundreds of thousands of edges, and pyoxigraph
    returns a new string for every term, so edges held as tuples of strings took tens of
    MB on top of RocksDB's memory for the terms decoded (the refresh's peak). Here each
    IRI is one string (``names``, ``id``) and each edge four numbers in arrays; repeats
    are left to ``_assemble``, which sorts and deduplicates the edges anyway.
    """

    def __init__(self) -> None:
        self.names: list[str] = [""]  # id -> IRI; 0 is "" (no role, no work)
        self._ids: dict[str, int] = {"": 0}
        self.kind: dict[int, int] = {}  # resource id -> INSTANCE / WORK
        self.work_of: dict[int, int] = {}  # instance id -> its work's id
        self.edge_resource = array("i")
        self.edge_unit = array("i")
        self.edge_kind = array("b")
        self.edge_role = array("i")

    def id(self, iri: str) -> int:
        """The number of ``iri`` (a new one the first time it is seen)."""
        found = self._ids.get(iri)
        if found is None:
            found = self._ids[iri] = len(self.names)
            self.names.append(iri)
        return found

    def add(self, resource: int, unit: int, kind: int, role: int) -> None:
        self.edge_resource.append(resource)
        self.edge_unit.append(unit)
        self.edge_kind.append(kind)
        self.edge_role.append(role)

    def resource_iris(self) -> list[str]:
        return [self.names[r] for r in self.kind]

    def work_iris(self) -> set[str]:
        return {self.names[w] for w in self.work_of.values()}

    def unit_iris(self) -> set[str]:
        return {self.names[u] for u in set(self.edge_unit)}


def _is_unit(layout: Layout, term: object) -> bool:
    return (
        isinstance(term, NamedNode)
        and not layout.is_record_local(term.value)
        and not (layout.is_part(term.value))
    )


def _read_resource(store: Store, layout: Layout, iri: str, found: _Edges) -> None:
    """Read one Instance or Work's edges (``found`` gains them); a resource gone adds nothing.

    One lookup a predicate (a scan of all the resource's statements decodes its titles,
    notes and identifiers too: slower, measured), but a contribution's few statements in
    one scan, and a Work's existence asked only when it has no edge to tell it."""
    node = NamedNode(iri)
    works = sorted(
        q.object.value for q in store.quads_for_pattern(node, BF.instanceOf, None, None)
        if isinstance(q.object, NamedNode)
    )  # fmt: skip
    if not works and layout.kind(iri) != "work":
        return
    edges: list[tuple[int, int, int]] = []
    for predicate, kind in _UNIT_PROPERTIES:
        for quad in store.quads_for_pattern(node, predicate, None, None):
            if _is_unit(layout, quad.object) and quad.object.value != iri:
                edges.append((found.id(quad.object.value), kind, 0))
    contributions = [
        q.object for q in store.quads_for_pattern(node, BF.contribution, None, None)
        if isinstance(q.object, NamedNode)
    ]  # fmt: skip
    held = works or edges or contributions
    if not held and next(store.quads_for_pattern(node, None, None, None), None) is None:
        return  # a Work gone
    me = found.id(iri)
    if works:
        found.kind[me] = INSTANCE
        found.work_of[me] = found.id(works[0])  # functional: the store keeps one (graph.ledger)
    else:
        found.kind[me] = WORK
    for unit, kind, role in edges:
        found.add(me, unit, kind, role)
    for contribution in contributions:
        agents: list[int] = []
        roles: list[int] = []
        for quad in store.quads_for_pattern(contribution, None, None, None):
            predicate = quad.predicate
            if predicate == BF.agent:
                if _is_unit(layout, quad.object):
                    agents.append(found.id(quad.object.value))
            elif predicate == BF.role and isinstance(quad.object, NamedNode):
                roles.append(found.id(quad.object.value))
        for agent in agents:
            for role in roles or [0]:
                found.add(me, agent, CONTRIBUTOR, role)


def _read_hierarchy(store: Store, layout: Layout) -> set[tuple[str, str, int]]:
    """Every (narrower, broader, relation) the store states between units."""
    links: set[tuple[str, str, int]] = set()
    for predicate, kind, inverted in (
        (SKOS.broader, BROADER, False),
        (SKOS.narrower, BROADER, True),
        (CG.hasComponent, COMPONENT, False),
    ):
        for quad in store.quads_for_pattern(None, predicate, None, None):
            a, b = quad.subject, quad.object
            if _is_unit(layout, a) and _is_unit(layout, b) and a != b:
                child, parent = (b, a) if inverted else (a, b)
                links.add((child.value, parent.value, kind))
    return links


def _instances_of_graphs(store: Store | LiveStore, graphs: Iterable[str]) -> dict[str, str]:
    """The Instance each record graph describes (its ``cg:WorkLink``'s ``cg:linkedInstance``).

    One lookup a graph, ``READ_SLICE`` graphs at a time, the store taken again between slices
    (as ``_read_resources``). Not one scan of every ``cg:linkedInstance`` statement: a scan
    cannot stop to let the store be reopened, and at x160 open-access records the one scan of
    88,320 statements took the process from 231 to 351 MB (RocksDB's blocks and tables read,
    which it keeps until the store is closed: docs/benchmarks.md)."""
    live = _live(store)
    wanted = list(graphs)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), READ_SLICE):
        reading = live()
        for graph in wanted[start : start + READ_SLICE]:
            for quad in reading.quads_for_pattern(None, CG.linkedInstance, None, NamedNode(graph)):
                if isinstance(quad.object, NamedNode):
                    found[graph] = min(quad.object.value, found.get(graph, quad.object.value))
        del reading  # the last reference: the next ``live`` may close it
    return found


def _index_rows(db: sqlite3.Connection) -> tuple[dict[str, str], set[str]]:
    """Record graphs with their hashes ('' when untrusted), and the unit edits' hashes."""
    rows = {graph: content_hash or "" for graph, content_hash in db.execute(
        "SELECT graph, content_hash FROM record_graph"
    )}  # fmt: skip
    try:
        edits = {bytes(h).hex() for (h,) in db.execute("SELECT hash FROM unit_edit")}
    except sqlite3.OperationalError:  # an index without a ledger yet
        edits = set()
    return rows, edits


def _edit_subjects(db: sqlite3.Connection, hashes: set[str]) -> set[str]:
    """The subjects of the writers' unit edits named by ``hashes`` (their resource, without fragment)."""
    subjects: set[str] = set()
    wanted = [bytes.fromhex(h) for h in hashes]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for (quad,) in db.execute(f"SELECT quad FROM unit_edit WHERE hash IN ({marks})", chunk):  # noqa: S608
            line = bytes(quad).decode("utf-8", "replace")
            if line.startswith("<"):
                subjects.add(line[1 : line.index(">")].partition("#")[0])
    return subjects


# ------------------------------------------------------------ building


def _assemble(
    base: str,
    previous: Projection | None,
    keep: np.ndarray | None,
    fresh: _Edges,
    hierarchy: set[tuple[str, str, int]],
    manifest: dict[str, tuple[str, str]],
    edits: set[str],
) -> Projection:
    """Arrays in IRI order: the rows ``keep`` of ``previous`` (an update) and the ``fresh`` edges
    read from the store (all a full build has). Index arithmetic in numpy, so an update costs
    what it reads, not the size of the projection.

    The resources are the Instances the record graphs link (``cg:linkedInstance``) and
    their Works, whatever else was read (an edited unit that is neither).
    """
    fresh._ids.clear()  # the reading is spent: its names by number are all that is needed now
    fresh_ids = sorted(fresh.kind, key=fresh.names.__getitem__)  # in IRI order
    fresh_resource = np.frombuffer(fresh.edge_resource, dtype=np.intc)
    old_rows = old_edges = np.array([], dtype=np.int64)
    if previous is None or keep is None:
        resources, resource_kind, instance_work, row_of = _fresh_resources(fresh, fresh_ids, manifest)
        edge_resource = [row_of[fresh_resource]]
        del row_of
    else:
        resources, resource_kind, instance_work, edge_resource, old_rows, old_edges = _resources(
            previous, keep, fresh, fresh_ids, fresh_resource, manifest
        )
    del fresh_ids
    fresh_unit = np.frombuffer(fresh.edge_unit, dtype=np.intc)
    # the fresh edges' IRIs by number: each distinct unit and role once, not once an edge
    fresh_role = np.frombuffer(fresh.edge_role, dtype=np.intc)
    unit_ids = np.unique(fresh_unit)
    role_ids = np.unique(fresh_role[fresh_role != 0])
    fresh_units = iri_array(fresh.names[u] for u in unit_ids.tolist())
    fresh_roles = iri_array(fresh.names[r] for r in role_ids.tolist())
    unit_parts = [fresh_units, iri_array({h[0] for h in hierarchy} | {h[1] for h in hierarchy})]
    role_parts = [fresh_roles]
    if previous is not None:
        unit_parts.append(previous.units[np.unique(previous.edge_unit[old_edges])])
        used_roles = np.unique(previous.edge_role[old_edges])
        role_parts.append(previous.roles[used_roles[used_roles >= 0]])
    units = _union(unit_parts)
    roles = _union(role_parts)

    edge_unit = [_renumbered(len(fresh.names), unit_ids, positions(units, fresh_units))[fresh_unit]]
    edge_kind = [np.frombuffer(fresh.edge_kind, dtype=np.int8)]
    edge_role = [_renumbered(len(fresh.names), role_ids, positions(roles, fresh_roles))[fresh_role]]
    if previous is not None:
        edge_resource.append(
            positions(resources, previous.resources)[previous.edge_resource[old_edges]]
        )
        edge_unit.append(positions(units, previous.units)[previous.edge_unit[old_edges]])
        edge_kind.append(previous.edge_kind[old_edges])
        old_roles = previous.edge_role[old_edges]
        role_map = positions(roles, previous.roles)
        mapped = (
            role_map[np.maximum(old_roles, 0)] if len(role_map) else np.full(len(old_roles), -1)
        )
        edge_role.append(np.where(old_roles >= 0, mapped, -1))
    e_res, e_unit = np.concatenate(edge_resource), np.concatenate(edge_unit)
    e_kind, e_role = np.concatenate(edge_kind).astype(np.int8), np.concatenate(edge_role)
    present = e_res >= 0
    e_res, e_unit, e_kind, e_role = (
        e_res[present],
        e_unit[present],
        e_kind[present],
        e_role[present],
    )
    order = np.lexsort((e_role, e_kind, e_unit, e_res))
    e_res, e_unit, e_kind, e_role = e_res[order], e_unit[order], e_kind[order], e_role[order]
    distinct = np.ones(len(e_res), dtype=bool)
    distinct[1:] = (
        (e_res[1:] != e_res[:-1]) | (e_unit[1:] != e_unit[:-1])
        | (e_kind[1:] != e_kind[:-1]) | (e_role[1:] != e_role[:-1])
    )  # fmt: skip
    links = sorted(hierarchy)
    graphs = sorted(manifest)
    projection = Projection(
        token="",
        base=base,
        resources=_tight(resources),
        resource_kind=resource_kind,
        instance_work=instance_work,
        units=_tight(units),
        edge_resource=e_res[distinct].astype(np.int32),
        edge_unit=e_unit[distinct].astype(np.int32),
        edge_kind=e_kind[distinct],
        edge_role=e_role[distinct].astype(np.int32),
        roles=_tight(roles),
        hier_child=positions(units, iri_array(h[0] for h in links)),
        hier_parent=positions(units, iri_array(h[1] for h in links)),
        hier_kind=np.array([h[2] for h in links], dtype=np.int8),
        manifest_graph=iri_array(graphs),
        manifest_hash=iri_array(manifest[g][0] for g in graphs),
        manifest_instance=iri_array(manifest[g][1] for g in graphs),
        edits=iri_array(sorted(edits)),
    )
    projection.token = content_token(projection)
    return projection


def _fresh_resources(
    fresh: _Edges, fresh_ids: list[int], manifest: dict[str, tuple[str, str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A full build's resources (the Instances the record graphs link, and their Works: see
    ``_assemble``), their kinds and Works, and the row of each of ``fresh``'s numbers (-1 for
    the others). Chosen and numbered by ``fresh``'s numbers and Python's strings, and the one
    array of strings made once: numpy's strings are padded to the longest IRI (and when they
    were str, not bytes, took four bytes a character), and an update's way (``_resources``: arrays of every name, their works', the
    rows kept, sorted) held half a dozen of them at once, 27 MB each at x160 open access
    (the assembling's peak, docs/benchmarks.md). ``fresh_ids`` are in IRI order already."""
    names, kind, work_of = fresh.names, fresh.kind, fresh.work_of
    linked = {i for _h, i in manifest.values() if i}
    instances = {r for r in fresh_ids if kind[r] == INSTANCE and names[r] in linked}
    del linked
    works = {work_of.get(r, 0) for r in instances}
    wanted = [r for r in fresh_ids if r in instances or (kind[r] == WORK and r in works)]
    del instances, works
    row_of = np.full(len(names), -1, dtype=np.int32)  # id 0, no work, is never a resource
    row_of[np.array(wanted, dtype=np.int64)] = np.arange(len(wanted), dtype=np.int32)
    resources = iri_array(names[r] for r in wanted)
    resource_kind = np.array([kind[r] for r in wanted], dtype=np.int8)
    instance_work = row_of[np.array([work_of.get(r, 0) for r in wanted], dtype=np.int64)]
    return resources, resource_kind, instance_work, row_of


def _resources(
    previous: Projection,
    keep: np.ndarray,
    fresh: _Edges,
    fresh_ids: list[int],
    fresh_resource: np.ndarray,
    manifest: dict[str, tuple[str, str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
    """An update's resources (``_fresh_resources``): the rows ``keep`` of ``previous`` and the
    ``fresh`` ones, their kinds and Works, the rows of the fresh edges' resources (in a list,
    as ``_assemble`` gathers them), the rows kept and the edges kept."""
    fresh_names = names = iri_array(fresh.names[r] for r in fresh_ids)
    kinds = np.array([fresh.kind[r] for r in fresh_ids], dtype=np.int8)
    work_names = iri_array(fresh.names[fresh.work_of.get(r, 0)] for r in fresh_ids)
    old_rows = np.flatnonzero(keep)
    old_work = previous.instance_work[old_rows]
    old_names = np.where(old_work >= 0, previous.resources[np.maximum(old_work, 0)], b"")
    names = np.concatenate([previous.resources[old_rows], names])
    kinds = np.concatenate([previous.resource_kind[old_rows], kinds])
    work_names = np.concatenate([old_names, work_names])
    old_edges = np.flatnonzero(keep[previous.edge_resource])
    # membership through sets of Python bytes: np.isin over the arrays sorts copies of both,
    # the largest allocation of a full build (when they were str arrays, four bytes a character)
    linked = {i.encode("utf-8") for _h, i in manifest.values() if i}
    name_list = names.tolist()
    is_instance = (kinds == INSTANCE) & _members(name_list, linked)
    of_linked = set(work_names[is_instance].tolist())
    is_work = (kinds == WORK) & _members(name_list, of_linked)
    del name_list, linked, of_linked
    wanted = is_instance | is_work
    order = np.argsort(names[wanted], kind="stable")
    resources = names[wanted][order]
    resource_kind = kinds[wanted][order].astype(np.int8)
    instance_work = positions(resources, work_names[wanted][order])
    edge_resource = [
        _renumbered(len(fresh.names), fresh_ids, positions(resources, fresh_names))[fresh_resource]
    ]
    return resources, resource_kind, instance_work, edge_resource, old_rows, old_edges


def content_token(projection: Projection) -> str:
    """The token of a projection: a digest of its base and arrays, so the same store gives the
    same token (and the same derived graph) however it was reached."""
    digest = hashlib.blake2b(projection.base.encode("utf-8"), digest_size=16)
    for name in _ARRAYS[: _ARRAYS.index("list_source")]:
        array = np.ascontiguousarray(getattr(projection, name))
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array)  # its buffer, the bytes ``tobytes`` would copy (27 MB at x160)
    return digest.hexdigest()


def _members(names: list[str], wanted: set[str]) -> np.ndarray:
    return np.fromiter((name in wanted for name in names), dtype=bool, count=len(names))


def _renumbered(count: int, ids: Iterable[int] | np.ndarray, rows: np.ndarray) -> np.ndarray:
    """An array over the numbers of ``_Edges`` (``count`` of them): the row of each of ``ids``, -1
    for the others.

    >>> _renumbered(4, [3, 1], np.array([0, 5])).tolist()
    [-1, 5, -1, 0]
    """
    table = np.full(count, -1, dtype=np.int32)
    table[np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)] = rows
    return table


def _union(parts: list[np.ndarray]) -> np.ndarray:
    parts = [part for part in parts if len(part)]
    return np.unique(np.concatenate(parts)) if parts else iri_array(())


def _rows_of(sorted_names: np.ndarray, names: Iterable[str]) -> np.ndarray:
    """A mask over ``sorted_names``: True where the name is one of ``names`` (``np.isin`` would
    sort copies of both arrays of strings; ``names`` is an update's few thousand).

    >>> _rows_of(iri_array(["a", "b", "c"]), {"c", "x", "a"}).tolist()
    [True, False, True]
    """
    mask = np.zeros(len(sorted_names), dtype=bool)
    at = positions(sorted_names, iri_array(names))
    mask[at[at >= 0]] = True
    return mask


def positions(sorted_names: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Where each of ``names`` is in ``sorted_names``, -1 where it is not. Both of one kind
    (bytes, or str): numpy would not compare bytes with str.

    >>> positions(iri_array(["a", "c"]), iri_array(["c", "b", "a"])).tolist()
    [1, -1, 0]
    >>> positions(iri_array(["a"]), np.array(["a"]))
    Traceback (most recent call last):
    TypeError: positions of <U1 in |S1
    """
    if names.dtype.kind != sorted_names.dtype.kind:
        raise TypeError(f"positions of {names.dtype.str} in {sorted_names.dtype.str}")
    if not len(names):
        return np.array([], dtype=np.int32)
    if not len(sorted_names):
        return np.full(len(names), -1, dtype=np.int32)
    at = np.minimum(np.searchsorted(sorted_names, names), len(sorted_names) - 1)
    return np.where(sorted_names[at] == names, at, -1).astype(np.int32)


@dataclass
class Reading:
    """What a full build or an update read from the store, ready to be assembled into arrays.

    It holds no reference to the store, so the writer can give RocksDB's memory for what
    was read back (reopen the store) before the arrays are assembled: the two peaks then
    come one after the other instead of one on top of the other (``read``, ``assemble``).
    """

    base: str
    fresh: _Edges
    hierarchy: set[tuple[str, str, int]]
    manifest: dict[str, tuple[str, str]]
    edits: set[str]
    #: An update's: the projection updated, which of its rows stay, the resources read again.
    previous: Projection | None = None
    keep: np.ndarray | None = None
    touched: set[str] = field(default_factory=set)


def _live(store: Store | LiveStore) -> LiveStore:
    return (lambda: store) if isinstance(store, Store) else store


def _read_resources(live: LiveStore, layout: Layout, iris: list[str], found: _Edges) -> None:
    """``_read_resource`` for each of ``iris``, ``READ_SLICE`` at a time, the store taken again
    between slices: RocksDB keeps the index and filter blocks of every table a read opens
    until the store is closed, so reading every resource of a large store in one go made
    the refresh's memory grow with the store (docs/benchmarks.md)."""
    for start in range(0, len(iris), READ_SLICE):
        store = live()
        for iri in iris[start : start + READ_SLICE]:
            _read_resource(store, layout, iri, found)
        del store  # the last reference: the next ``live`` may close it


def _read_all(live: LiveStore, db: sqlite3.Connection, layout: Layout) -> Reading:
    """A full build's reading: every record graph's Instance, and its Work."""
    rows, edits = _index_rows(db)
    links = _instances_of_graphs(live, sorted(rows))
    found = _Edges()
    instances = set(links.values())
    _read_resources(live, layout, sorted(instances), found)
    _read_resources(live, layout, sorted(found.work_iris()), found)
    manifest = {g: (h, links.get(g, "")) for g, h in rows.items()}
    del rows, links, instances
    hierarchy = _read_hierarchy(live(), layout)
    return Reading(layout.base, found, hierarchy, manifest, edits)


def _read_changes(
    previous: Projection, live: LiveStore, db: sqlite3.Connection, layout: Layout
) -> Reading:
    """An update's reading: only the resources whose record graphs or unit edits changed."""
    rows, edits = _index_rows(db)
    old = {
        g: (h, i) for g, h, i in zip(
            iri_list(previous.manifest_graph), iri_list(previous.manifest_hash),
            iri_list(previous.manifest_instance), strict=True,
        )
    }  # fmt: skip
    changed = [g for g, h in rows.items() if not h or old.get(g, (None,))[0] != h]
    gone = [g for g in old if g not in rows]
    new_links = _instances_of_graphs(live, changed)
    touched: set[str] = {old[g][1] for g in (*changed, *gone) if g in old and old[g][1]}
    touched |= set(new_links.values())
    old_edits = set(iri_list(previous.edits))
    edited = _edit_subjects(db, edits ^ old_edits) if edits != old_edits else set()
    touched |= edited
    # an Instance read again brings its Work (old and new); a Work edited brings nothing more
    resources = previous.resources
    at = positions(resources, iri_array(touched))
    works = previous.instance_work[at[at >= 0]]
    touched.update(iri_list(resources[works[works >= 0]]))
    fresh = _Edges()
    _read_resources(live, layout, sorted(touched), fresh)
    works_now = {w for w in fresh.work_iris() if w not in touched}
    # an Instance now of another Work: that Work is read again too
    _read_resources(live, layout, sorted(works_now), fresh)
    touched |= works_now
    keep = ~_rows_of(resources, touched)
    hierarchy = _read_hierarchy(live(), layout)
    manifest = {g: (h, new_links.get(g, old.get(g, ("", ""))[1])) for g, h in rows.items()}
    return Reading(layout.base, fresh, hierarchy, manifest, edits, previous, keep, touched)


def _assembled(reading: Reading) -> Projection:
    """The arrays of ``reading`` (a full build's or an update's), and for an update what changed."""
    previous, fresh, hierarchy = reading.previous, reading.fresh, reading.hierarchy
    result = _assemble(
        reading.base, previous, reading.keep, fresh, hierarchy, reading.manifest, reading.edits
    )
    if previous is None:
        return result
    old_hierarchy = {
        (previous.unit_iri(c), previous.unit_iri(p), int(k))
        for c, p, k in zip(
            previous.hier_child, previous.hier_parent, previous.hier_kind, strict=True
        )
    }
    read_again = reading.touched | set(fresh.resource_iris())
    units = fresh.unit_iris()
    before_mask = _rows_of(previous.resources, read_again)
    units |= set(iri_list(previous.units[previous.edge_unit[before_mask[previous.edge_resource]]]))
    linked = {unit for c, p, _k in hierarchy ^ old_hierarchy for unit in (c, p)}
    result.changed_resources, result.changed_units = read_again, units | linked
    result.hierarchy_units = linked
    return result


def build(store: Store, db: sqlite3.Connection, layout: Layout) -> Projection:
    """A full build: every record graph's Instance, and its Work, read from ``store``."""
    return _assembled(_read_all(_live(store), db, layout))


def update(
    previous: Projection, store: Store, db: sqlite3.Connection, layout: Layout
) -> Projection:
    """``previous`` brought up to the store's state, reading only what changed (module docstring)."""
    return _assembled(_read_changes(previous, _live(store), db, layout))


@dataclass
class Refresh:
    """What a refresh (``read``, then ``assemble``) did, for the ingest's summary and the benchmark."""

    projection: Projection
    full: bool
    reason: str
    seconds: float
    #: The projection updated (``None`` after a full build): its lists are what the derived
    #: graph holds, and its matrices tell which lists may change.
    previous: Projection | None = None


@dataclass
class PendingRefresh:
    """A refresh read from the store, not yet assembled (``read``, then ``assemble``)."""

    reading: Reading
    full: bool
    reason: str
    seconds: float


def read(
    store: Store | LiveStore,
    db: sqlite3.Connection,
    layout: Layout,
    data_dir: Path | str,
    token: str | None,
) -> PendingRefresh:
    """What a refresh reads from the store: ``token``'s projection (the one the store's derived
    graph names) and what changed since, or everything when there is none to trust. Then
    ``assemble`` makes the projection of the store now; it is not saved: the caller saves it
    once the derived graph that names it is written (``save``). Two steps, so that a writer
    can give back the memory of what was read before the arrays are assembled; ``store`` as a
    ``LiveStore``, it can give it back during the reading too, between slices of resources."""
    started = time.perf_counter()
    previous = load(data_dir, token) if token else None
    if previous is not None and previous.base != layout.base:
        previous = None
    if previous is None:
        reason = "no projection matches the store" if token else "the store has no projection yet"
        reading = _read_all(_live(store), db, layout)
        return PendingRefresh(reading, True, reason, time.perf_counter() - started)
    reading = _read_changes(previous, _live(store), db, layout)
    return PendingRefresh(reading, False, "updated", time.perf_counter() - started)


def assemble(pending: PendingRefresh) -> Refresh:
    """The projection of what ``pending`` read (no store needed: see ``Reading``)."""
    started = time.perf_counter()
    projection = _assembled(pending.reading)
    seconds = pending.seconds + time.perf_counter() - started
    return Refresh(projection, pending.full, pending.reason, seconds, pending.reading.previous)

