"""Cross-check: every query of ``tests/jena/*.rq`` answers the same through our endpoint and Apache Jena.

Real parts only: records from ``data/`` are ingested by the real CLI into a
temporary data directory, exported with ``graph.store.dump`` (N-Quads), loaded
into Jena (Debian's ``libapache-jena-java``), and every query is run both
through our SPARQL endpoint over HTTP (``requests``, JSON results, N-Triples
for CONSTRUCT) and on Jena's ARQ.

Dataset semantics: our endpoint's default graph is the union of all named
graphs. Jena's in-memory dataset has a default graph of its own, so the export
handed to Jena carries, besides every named graph, the RDF merge of the named
graphs (each distinct triple once) as its default graph: the same dataset as
TDB2's ``tdb:unionDefaultGraph``, without a loading step.

Comparison: solutions as multisets (lists when the query file says ``#
ordered``: its ORDER BY fixes every row), terms normalised (numbers in
canonical form, decimals to 12 places, language tags lower-cased, plain
literals as xsd:string), CONSTRUCT results as sets of triples (our data has no
blank nodes). A query whose header says ``# divergence: ...`` documents a known
difference and must still differ (strict xfail): when the difference goes
away, the test says so.

The ARQ runner (``tests/jena/RunQueries.java``) runs every query in one JVM.
Without Java or Jena the test skips, saying why, except in CI (``CI=true``),
where ``.ci/install --test`` installs them, so it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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

ROOT = Path(__file__).resolve().parent.parent
SUITE = Path(__file__).resolve().parent / "jena"
RUNNER = SUITE / "RunQueries.java"
JAVA_LIBS = Path("/usr/share/java")
#: Records ingested for the cross-check: every MARC file of the sample, and two
#: MARCXML files rich in editions, parallel scripts and shared subjects.
RECORDS = ["data/marc", "data/marcxml/nlm.xml", "data/marcxml/princeton.xml"]
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
JAVA_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


@dataclass(frozen=True)
class SuiteQuery:
    path: Path
    text: str
    ordered: bool
    divergence: str | None

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def is_graph(self) -> bool:
        return any(line.lstrip().upper().startswith("CONSTRUCT") for line in self.text.splitlines())


def load_suite() -> list[SuiteQuery]:
    queries = []
    for path in sorted(SUITE.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
        divergence = next(
            (h.split(":", 1)[1].strip() for h in header if h.startswith("divergence:")), None
        )
        queries.append(SuiteQuery(path, text, "ordered" in header, divergence))
    return queries


SUITE_QUERIES = load_suite()


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


def export_for_jena(data_dir: Path, target: Path) -> Path:
    """The store as N-Quads, plus the RDF merge of its named graphs as the default graph."""
    exported = target / "store.nq"
    dump(data_dir, exported)
    quads = list(ox.parse(path=str(exported), format=ox.RdfFormat.N_QUADS))
    assert quads and all(isinstance(q.graph_name, ox.NamedNode) for q in quads)
    merge = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    union = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in merge]
    dataset = target / "dataset.nq"
    ox.serialize([*quads, *union], str(dataset), ox.RdfFormat.N_QUADS)
    return dataset


def run_jena(dataset: Path, out: Path, fix: Path) -> None:
    out.mkdir()
    command = ["java", *JAVA_OPTIONS, "-cp", classpath(fix), str(RUNNER), str(dataset), str(out)]
    completed = subprocess.run(
        command + [str(q.path) for q in SUITE_QUERIES], capture_output=True, text=True, timeout=240
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


@pytest.fixture(scope="module")
def crosscheck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    reason = jena_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: .ci/install --test installs it in CI")
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("jena")
    data_dir = tmp / "data"
    ingest = subprocess.run(
        [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "ingest", "--quiet", *RECORDS],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    dataset = export_for_jena(data_dir, tmp)
    run_jena(dataset, tmp / "jena", xerces_fix(tmp / "xerces-fix"))
    with running_server(settings_for(data_dir)) as root:
        yield root + "/sparql", tmp / "jena"


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


def solutions(results: dict) -> list[tuple]:
    variables = results["head"].get("vars", [])
    return [
        tuple(json_term(binding.get(name)) for name in variables)
        for binding in results["results"]["bindings"]
    ]


def rdf_term(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> tuple[str, ...]:
    if isinstance(term, ox.NamedNode):
        return ("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if term.language:
        return ("lang", term.value, term.language.lower())
    return ("literal", number(term.value, term.datatype.value), term.datatype.value)


def triples(body: bytes) -> set[tuple]:
    return {
        (rdf_term(t.subject), rdf_term(t.predicate), rdf_term(t.object))
        for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
    }


def ours(endpoint: str, query: SuiteQuery) -> requests.Response:
    accept = N_TRIPLES if query.is_graph else RESULTS_JSON
    response = requests.post(
        endpoint, data={"query": query.text}, headers={"Accept": accept}, timeout=60
    )
    assert response.status_code == 200, response.text[:500]
    assert "X-Catalograph-Truncated" not in response.headers
    return response


def theirs(out: Path, query: SuiteQuery) -> bytes:
    error = out / f"{query.name}.error"
    assert not error.exists(), f"Jena failed on {query.name}: {error.read_text()}"
    return (out / f"{query.name}.{'nt' if query.is_graph else 'srj'}").read_bytes()


def compare(endpoint: str, out: Path, query: SuiteQuery) -> None:
    answer, expected = ours(endpoint, query), theirs(out, query)
    if query.is_graph:
        mine, jena = triples(answer.content), triples(expected)
        assert jena, "the query should construct something on the test data"
        assert mine == jena, (
            f"only ours: {sorted(mine - jena)[:5]}; only Jena's: {sorted(jena - mine)[:5]}"
        )
        return
    mine_json, jena_json = answer.json(), json.loads(expected)
    if "boolean" in jena_json:
        assert mine_json.get("boolean") == jena_json["boolean"]
        return
    assert mine_json["head"]["vars"] == jena_json["head"]["vars"]
    mine, jena = solutions(mine_json), solutions(jena_json)
    assert jena, "the query should have solutions on the test data"
    if query.ordered:
        assert mine == jena
    else:
        only_ours, only_jena = Counter(mine) - Counter(jena), Counter(jena) - Counter(mine)
        assert not only_ours and not only_jena, (
            f"{len(mine)} rows here, {len(jena)} from Jena; "
            f"only ours: {list(only_ours.items())[:3]}; only Jena's: {list(only_jena.items())[:3]}"
        )


def params() -> list:
    return [
        pytest.param(
            q,
            id=q.name,
            marks=[pytest.mark.xfail(strict=True, reason=q.divergence)] if q.divergence else [],
        )
        for q in SUITE_QUERIES
    ]


def test_the_suite_is_big_enough() -> None:
    assert len([q for q in SUITE_QUERIES if not q.divergence]) >= 20
    assert any(q.ordered for q in SUITE_QUERIES) and any(q.is_graph for q in SUITE_QUERIES)


@pytest.mark.parametrize("query", params())
def test_same_answer_as_jena(crosscheck: tuple[str, Path], query: SuiteQuery) -> None:
    endpoint, out = crosscheck
    compare(endpoint, out, query)
