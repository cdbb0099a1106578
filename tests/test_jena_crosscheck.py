"""Cross-check: every query of ``tests/jena/*.rq`` answers the same through our endpoint and Apache Jena.

Real parts only: the records are ingested by the real CLI into a temporary
data directory, exported with ``graph.store.dump`` (N-Quads), loaded into Jena
(Debian's ``libapache-jena-java``), and every query is run both through our
SPARQL endpoint over HTTP (``requests``, JSON results, N-Triples for CONSTRUCT
and DESCRIBE) and on Jena's ARQ.

Data: every file of ``data/`` and, when ``../shared/data`` is there
(``CATALOGRAPH_SHARED_DATA`` names another place), every file of its
``broken/``, ``marc/`` and ``marcxml/`` folders but one: 5,721 records read
from 210 files, 4,294 record graphs, 345,475 quads, with agents named by up to
283 records (Jane Austen), subjects used by up to 284 (Jazz) and a work
clustering 148 instances (Pride and prejudice): every kind of shared unit
(agent, concept, place, work, series, instance). The broken corpus goes first,
so that where one of its records names the same graph as a good copy
elsewhere the good one is kept; what the pipeline cannot read or rejects is
simply not stored, and the store is the same on every run.

The file left out (``LEFT_OUT``) is ``marc/solrmarc/uva_001_2000.mrc``: 2,000
general-catalogue records, 36% of the quads; the units the queries name do
not need it (it adds one record naming Mozart to the other 15). Measured on
this 2-core machine while other jobs shared it (load average 3 to 4.7): with
it (``CATALOGRAPH_JENA_ALL=1``: 7,721 records, 564,420 quads) the file took
47 to 77 s (ingest 10 to 20 s, export 4.5 to 8 s, Jena loading in 10 to
18 s); without it, 26 to 49 s (ingest 6 to 16 s, export 2 to 4.6 s, the
merged store 1.6 to 6 s, our endpoint 6.4 to 9 s for the 57 queries, Jena
loading in 4.5 to 11 s and answering in 3 to 10 s in the background). Without
the shared folder the check runs on ``data/`` alone (739 records, 88,698
quads, 18 to 21 s), says so (``test_store_holds_the_shared_corpus`` skips with
the reason), and skips the queries whose header says ``# needs: shared``;
every other query has answers on ``data/`` alone. Run with ``-s``, the test
prints where its time went.

Dataset semantics: our endpoint's default graph is the union of all named
graphs. The runner gives Jena a dataset whose default graph is the RDF merge
of the named graphs (each distinct triple once, a Jena graph being a set):
the dataset TDB2 answers with ``tdb:unionDefaultGraph``.

Comparison: solutions as multisets (lists when the query file says ``#
ordered``: its ORDER BY fixes every row), terms normalised (numbers in
canonical form, decimals to 12 places, language tags lower-cased, plain
literals as xsd:string), CONSTRUCT and DESCRIBE results as sets of triples (our
data has no blank nodes, so Jena's DESCRIBE, the resource's statements plus
the closure over blank nodes, and pyoxigraph's are the same triples).

Repeated triples: pyoxigraph 0.5 repeats a triple once per named graph
holding it when the default graph is the union (oxigraph#1919). Catalograph
states each triple in one graph (a record's, or a shared unit's), so every
query over shared agents, concepts and works gives the RDF merge's answer,
as Jena does; ``test_each_triple_is_in_one_graph`` checks the export for it.
(Before that layout, 21 of these queries differed from Jena.)

A query whose header says ``# divergence: CAUSE - why`` documents a known
difference and must still differ (strict xfail, and only a different answer
counts: a truncated or failed request is a failure). Its cause is checked as
well: pyoxigraph over the same export with the merge as its default graph
(no union) must still differ from Jena, so the difference is not one of
repeated triples. When a difference goes away, the test says so.

The ARQ runner (``tests/jena/RunQueries.java``) runs every query in one JVM,
in the background while our side answers. Without Java or Jena the test
skips, saying why, except in CI (``CI=true``), where ``.ci/install --test``
installs them, so it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from web_fixtures import running_server, settings_for

from graph.store import dump
from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parent.parent
SUITE = Path(__file__).resolve().parent / "jena"
RUNNER = SUITE / "RunQueries.java"
JAVA_LIBS = Path("/usr/share/java")
#: The shared corpus, in the order given to ``catalograph ingest``. The broken
#: corpus comes first: where one of its records names the same graph as a good
#: copy of it elsewhere, the later (good) record replaces it.
SHARED_FOLDERS = ["broken", "marc", "marcxml"]
#: Left out unless CATALOGRAPH_JENA_ALL=1: 2,000 general-catalogue records, 36% of
#: the quads, which the queries' units do not need (it adds one record naming
#: Mozart), and the difference between a 26-49 s and a 47-77 s test here.
LEFT_OUT = ["marc/solrmarc/uva_001_2000.mrc"]
#: Jena's own jars (Debian names them without a version) and what they need.
JENA_JARS = [
    "jena-arq", "jena-base", "jena-core", "jena-iri", "jena-shacl", "jena-shex", "jena-tdb",
    "jena-tdb2", "jena-dboe-base", "jena-dboe-index", "jena-dboe-storage",
    "jena-dboe-trans-data", "jena-dboe-transaction", "jena-rdfconnection", "jena-cmds",
]  # fmt: skip
DEPENDENCY_JARS = [
    "commons-cli", "commons-codec", "commons-compress", "commons-csv", "commons-io",
    "commons-lang3", "dexx.collection", "gson", "guava", "httpclient", "httpcore",
    "jackson-annotations", "jackson-core", "jackson-databind", "jakarta.json-api",
    "jsonld-java", "protobuf", "thrift", "titanium-json-ld", "slf4j-api", "slf4j-nop",
]  # fmt: skip
#: Debian's jena-core relocates its bundled Xerces classes to ``xerces.*`` but
#: leaves their message bundles here; without a copy under ``xerces/`` every
#: Jena command dies with "RuntimeException: internal error".
XERCES_BUNDLES = "org/apache/jena/ext/xerces/"
XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {XSD + name for name in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
)}  # fmt: skip
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
JAVA_OPTIONS = ["-XX:+UseSerialGC", "-Xms1g", "-Xshare:auto"]


@dataclass(frozen=True)
class SuiteQuery:
    path: Path
    text: str
    ordered: bool
    divergence: str | None
    needs_shared: bool

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def is_graph(self) -> bool:
        return any(
            line.lstrip().upper().startswith(("CONSTRUCT", "DESCRIBE"))
            for line in self.text.splitlines()
        )


def load_suite() -> list[SuiteQuery]:
    queries = []
    for path in sorted(SUITE.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
        divergence = next(
            (h.split(":", 1)[1].strip() for h in header if h.startswith("divergence:")), None
        )
        queries.append(
            SuiteQuery(path, text, "ordered" in header, divergence, "needs: shared" in header)
        )
    return queries


SUITE_QUERIES = load_suite()


def require_jena() -> None:
    """Skip when Jena is missing on a developer's machine; in CI, where
    ``.ci/install --test`` installs it, its absence is a failure."""
    reason = jena_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: .ci/install --test installs it in CI")
        pytest.skip(reason)


def jena_unavailable() -> str | None:
    """Why Jena cannot run here, or None."""
    if shutil.which("java") is None:
        return "needs Java (Debian: default-jdk-headless)"
    if shutil.which("javac") is None:
        return "needs a JDK to run tests/jena/RunQueries.java (Debian: default-jdk-headless)"
    missing = [
        name for name in JENA_JARS + DEPENDENCY_JARS if not (JAVA_LIBS / f"{name}.jar").exists()
    ]
    if missing:
        return f"needs Apache Jena (Debian: libapache-jena-java); missing {', '.join(missing[:4])}"
    return None


def xerces_fix(target: Path) -> Path:
    """Copies of jena-core's Xerces message bundles under the relocated package path."""
    with zipfile.ZipFile(JAVA_LIBS / "jena-core.jar") as jar:
        for name in jar.namelist():
            if (
                not name.startswith(XERCES_BUNDLES)
                or name.endswith((".class", "/"))
                or ".." in name
            ):
                continue
            destination = target / "xerces" / name[len(XERCES_BUNDLES) :]
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(jar.read(name))
    return target


def classpath(fix: Path) -> str:
    jars = [JAVA_LIBS / f"{name}.jar" for name in JENA_JARS + DEPENDENCY_JARS]
    return os.pathsep.join([str(fix), *map(str, jars)])


def record_paths() -> tuple[list[str], bool]:
    """What the cross-check ingests, in order, and whether the shared corpus is part of it.

    A folder holding a left-out file is given file by file, in the order the
    CLI reads a folder (sorted paths, hidden files and notes skipped).
    """
    if not all((SHARED_DATA / name).is_dir() for name in SHARED_FOLDERS):
        return ["data"], False
    left_out = set() if os.environ.get("CATALOGRAPH_JENA_ALL") == "1" else set(LEFT_OUT)
    paths = []
    for name in SHARED_FOLDERS:
        folder = SHARED_DATA / name
        if not any(path.startswith(f"{name}/") for path in left_out):
            paths.append(str(folder))
            continue
        paths += [
            str(file)
            for file in sorted(folder.rglob("*"))
            if file.is_file()
            and file.relative_to(SHARED_DATA).as_posix() not in left_out
            and not any(part.startswith(".") for part in file.relative_to(folder).parts)
            and file.suffix.lower() not in {".md", ".txt"}
        ]
    # data/ last: its records are copies of shared ones, and the later copy of a record is
    # the one kept, provenance included (graph.writer), so data/ still names its records.
    return [*paths, "data"], True


def ingest(data_dir: Path, paths: list[str]) -> None:
    """``catalograph ingest`` through the real CLI, which must account for every record."""
    completed = subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "ingest", "--quiet", *paths],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    summary = completed.stderr
    assert completed.returncode in (0, 1), summary[-3000:]
    assert "WARNING" not in summary, summary[-3000:]
    # Exit 1 means rejected records or unread files, which only the broken corpus may have.
    rejected = re.search(r"^  rejected +(\d+)$", summary, re.MULTILINE)
    assert rejected, summary[-3000:]
    unread = summary.partition("files not read:\n")[2].splitlines()
    broken = f"  {SHARED_DATA / SHARED_FOLDERS[0]}/"
    assert all(line.startswith(broken) for line in unread), summary[-3000:]
    assert (int(rejected[1]) > 0 or bool(unread)) == (completed.returncode == 1), summary[-3000:]


def start_jena(
    store: Path, out: Path, fix: Path, queries: list[SuiteQuery] | None = None
) -> subprocess.Popen:
    """Jena's run over every query (the suite's by default), in the background; its messages
    go to ``out/stderr.txt``."""
    out.mkdir()
    command = ["java", *JAVA_OPTIONS, "-cp", classpath(fix), str(RUNNER), str(store), str(out)]
    with (out / "stderr.txt").open("wb") as errors:
        return subprocess.Popen(
            command + [str(q.path) for q in (SUITE_QUERIES if queries is None else queries)],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )


def merged_store(export: Path) -> ox.Store:
    """In memory, the RDF merge of the export's named graphs as the default graph (no named graphs).

    Each N-Quads line ends with its graph's IRI, which holds no space: cut, it
    leaves an N-Triples line, and the store keeps each distinct triple once.
    """
    lines = export.read_bytes().splitlines()
    store = ox.Store()
    store.bulk_load(
        b"".join(line.rsplit(b" ", 2)[0] + b" .\n" for line in lines if line),
        format=ox.RdfFormat.N_TRIPLES,
    )
    return store


@dataclass
class Crosscheck:
    endpoint: str
    jena: subprocess.Popen
    out: Path
    merged: ox.Store
    shared: bool
    timings: dict[str, float]
    #: Quads in the export (every named graph's statements, provenance included).
    quads: int

    def jena_output(self) -> Path:
        """Jena's output folder, once its run has ended well."""
        if self.jena.returncode is None:
            began = time.monotonic()
            self.jena.wait(timeout=240)
            self.timings["waiting for Jena"] = time.monotonic() - began
            if self.jena.returncode == 0:
                self.timings.update(jena_timings(self.out))
        errors = (self.out / "stderr.txt").read_text(errors="replace")
        assert self.jena.returncode == 0, errors[-3000:]
        return self.out

    def time(self, name: str, began: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - began


def jena_timings(out: Path) -> dict[str, float]:
    rows = [line.split("\t") for line in (out / "timings.tsv").read_text().splitlines()]
    return {
        "Jena loading": float(rows[0][1]),
        "Jena queries": sum(float(seconds) for _, seconds in rows[1:]),
    }


@pytest.fixture(scope="module")
def crosscheck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crosscheck]:
    require_jena()
    tmp = tmp_path_factory.mktemp("jena")
    data_dir, export = tmp / "data", tmp / "store.nq"
    paths, shared = record_paths()
    timings: dict[str, float] = {}
    began = time.monotonic()
    ingest(data_dir, paths)
    timings["ingest"] = time.monotonic() - began
    began = time.monotonic()
    dump(data_dir, export)
    timings["export"] = time.monotonic() - began
    jena = start_jena(export, tmp / "jena", xerces_fix(tmp / "xerces-fix"))
    try:
        began = time.monotonic()
        merged = merged_store(export)
        timings["merged store"] = time.monotonic() - began
        # Raised caps: the answers are compared whole, and a cut one would fail the test.
        settings = settings_for(
            data_dir, query_timeout_s=60.0, max_rows=200_000, max_response_bytes=200_000_000
        )
        with running_server(settings) as root:
            quads = sum(1 for line in export.read_bytes().splitlines() if line)
            yield Crosscheck(root + "/sparql", jena, tmp / "jena", merged, shared, timings, quads)
    finally:
        if jena.poll() is None:
            jena.kill()
            jena.wait()
        note = "" if shared else f"; {SHARED_DATA} absent: data/ alone"
        figures = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        print(f"\nJena cross-check: {figures}{note}")


def number(value: str, datatype: str) -> str:
    try:
        if datatype in INTEGERS:
            return str(int(value))
        if datatype == XSD + "decimal":
            return format(Decimal(value).quantize(Decimal("1e-12")).normalize(), "f")
        if datatype in (XSD + "double", XSD + "float"):
            return repr(round(float(value), 9))
    except (ValueError, InvalidOperation):
        pass
    return value


def json_term(term: dict[str, str] | None) -> tuple[str, ...] | None:
    """A SPARQL JSON term in a form both engines agree on when they mean the same term."""
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return ("uri", value)
    if kind == "bnode":
        return ("bnode",)
    if "xml:lang" in term:
        return ("lang", value, term["xml:lang"].lower())
    datatype = term.get("datatype", XSD + "string")
    if datatype == XSD + "boolean":
        value = "true" if value in ("true", "1") else "false"
    return ("literal", number(value, datatype), datatype)


def rdf_term(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> tuple[str, ...]:
    if isinstance(term, ox.NamedNode):
        return ("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if term.language:
        return ("lang", term.value, term.language.lower())
    return ("literal", number(term.value, term.datatype.value), term.datatype.value)


@dataclass(frozen=True)
class Answer:
    """One engine's answer, normalised: rows (SELECT), a boolean (ASK) or triples (graphs)."""

    variables: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    boolean: bool | None = None
    triples: frozenset[tuple] | None = None

    @classmethod
    def parse(cls, body: bytes, graph: bool) -> Answer:
        if graph:
            return cls(
                triples=frozenset(
                    (rdf_term(t.subject), rdf_term(t.predicate), rdf_term(t.object))
                    for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
                )
            )
        results = json.loads(body)
        if "boolean" in results:
            return cls(boolean=results["boolean"])
        variables = tuple(results["head"].get("vars", []))
        return cls(
            variables,
            tuple(
                tuple(json_term(binding.get(name)) for name in variables)
                for binding in results["results"]["bindings"]
            ),
        )

    def is_empty(self) -> bool:
        return not self.rows and not self.triples and self.boolean is None


class Mismatch(AssertionError):
    """Our answer and Jena's differ (what a ``# divergence:`` header expects)."""


def difference(mine: Answer, jena: Answer, ordered: bool) -> str | None:
    """What separates two answers to one query, or None when they are the same."""
    if jena.triples is not None:
        if mine.triples == jena.triples:
            return None
        only_mine, only_jena = (
            sorted(mine.triples - jena.triples),
            sorted(jena.triples - mine.triples),
        )
        return f"only ours: {only_mine[:5]}; only Jena's: {only_jena[:5]}"
    if jena.boolean is not None:
        return (
            None if mine.boolean == jena.boolean else f"ours {mine.boolean}, Jena's {jena.boolean}"
        )
    if mine.variables != jena.variables:
        return f"variables {mine.variables} here, {jena.variables} from Jena"
    if ordered:
        return None if mine.rows == jena.rows else "the rows or their order differ"
    only_mine, only_jena = (
        Counter(mine.rows) - Counter(jena.rows),
        Counter(jena.rows) - Counter(mine.rows),
    )
    if not only_mine and not only_jena:
        return None
    return (
        f"{len(mine.rows)} rows here, {len(jena.rows)} from Jena; "
        f"only ours: {list(only_mine.items())[:3]}; only Jena's: {list(only_jena.items())[:3]}"
    )


def ours(endpoint: str, query: SuiteQuery) -> Answer:
    accept = N_TRIPLES if query.is_graph else RESULTS_JSON
    response = requests.post(
        endpoint, data={"query": query.text}, headers={"Accept": accept}, timeout=60
    )
    assert response.status_code == 200, response.text[:500]
    assert "X-Catalograph-Truncated" not in response.headers
    return Answer.parse(response.content, query.is_graph)


def theirs(out: Path, query: SuiteQuery) -> Answer:
    error = out / f"{query.name}.error"
    assert not error.exists(), f"Jena failed on {query.name}: {error.read_text()}"
    answer = Answer.parse(
        (out / f"{query.name}.{'nt' if query.is_graph else 'srj'}").read_bytes(), query.is_graph
    )
    assert not answer.is_empty(), "the query should have answers on the test data"
    return answer


def merged(store: ox.Store, query: SuiteQuery) -> Answer:
    """pyoxigraph's answer over the merge of the named graphs: no union, so no triple repeated."""
    result = store.query(query.text)
    if isinstance(result, ox.QueryTriples):
        return Answer.parse(result.serialize(format=ox.RdfFormat.N_TRIPLES), graph=True)
    return Answer.parse(result.serialize(format=ox.QueryResultsFormat.JSON), graph=False)


def params() -> list:
    return [
        pytest.param(
            q,
            id=q.name,
            marks=[pytest.mark.xfail(strict=True, raises=Mismatch, reason=q.divergence)]
            if q.divergence
            else [],
        )
        for q in SUITE_QUERIES
    ]


def test_the_suite_is_big_enough() -> None:
    assert len(SUITE_QUERIES) >= 40
    assert len([q for q in SUITE_QUERIES if not q.divergence]) >= 20
    assert any(q.ordered for q in SUITE_QUERIES) and any(q.is_graph for q in SUITE_QUERIES)
    describes = [q for q in SUITE_QUERIES if re.search(r"^DESCRIBE ", q.text, re.MULTILINE)]
    assert len(describes) >= 3 and all(q.is_graph for q in describes)
    assert len([q for q in SUITE_QUERIES if not q.needs_shared]) >= 40


def test_divergences_can_be_checked_without_the_union() -> None:
    """The merged store has no named graphs: a query with a divergence header must not need them."""
    for query in SUITE_QUERIES:
        body = "\n".join(line for line in query.text.splitlines() if not line.startswith("#"))
        if query.divergence:
            assert not re.search(r"\b(GRAPH|FROM)\b", body, re.IGNORECASE), query.name


@pytest.mark.slow
def test_store_holds_the_shared_corpus(crosscheck: Crosscheck) -> None:
    """Records of every shared folder, and of data/, are in the store the queries run on."""
    if not crosscheck.shared:
        pytest.skip(
            f"{SHARED_DATA} is absent: the cross-check ran on data/ alone, and the "
            f"{sum(q.needs_shared for q in SUITE_QUERIES)} queries that need the shared corpus skip"
        )
    text = (
        "PREFIX cg: <https://w3id.org/catalograph/ontology#> "
        "SELECT DISTINCT ?file WHERE { ?graph cg:sourceFile ?file }"
    )
    response = requests.post(
        crosscheck.endpoint, data={"query": text}, headers={"Accept": RESULTS_JSON}, timeout=60
    )
    assert response.status_code == 200, response.text[:500]
    files = [row["file"]["value"] for row in response.json()["results"]["bindings"]]
    for folder in [str(SHARED_DATA / name) + "/" for name in SHARED_FOLDERS] + ["data/"]:
        assert any(file.startswith(folder) for file in files), f"no record from {folder}"


def test_each_triple_is_in_one_graph(crosscheck: Crosscheck) -> None:
    """The layout the answers rest on: the merge of the named graphs (a set of triples) has
    as many triples as the store has quads, so no triple is stated in two graphs."""
    assert crosscheck.quads > 1000
    assert len(crosscheck.merged) == crosscheck.quads


@pytest.mark.parametrize("query", params())
def test_same_answer_as_jena(crosscheck: Crosscheck, query: SuiteQuery) -> None:
    if query.needs_shared and not crosscheck.shared:
        pytest.skip(f"needs the shared corpus, and {SHARED_DATA} is absent: ran on data/ alone")
    began = time.monotonic()
    mine = ours(crosscheck.endpoint, query)
    crosscheck.time("our endpoint", began)
    jena = theirs(crosscheck.jena_output(), query)
    if query.divergence:
        began = time.monotonic()
        without_repeats = difference(merged(crosscheck.merged, query), jena, query.ordered)
        crosscheck.time("merged-store checks", began)
        assert without_repeats, (
            "pyoxigraph agrees with Jena once no triple is repeated: the divergence is one of "
            "repeated triples, which the layout must not allow (each triple in one graph)"
        )
    problem = difference(mine, jena, query.ordered)
    if problem:
        raise Mismatch(problem)
