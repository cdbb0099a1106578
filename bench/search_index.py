"""Seed search index: SQLite FTS5 against tantivy, measured on a real store (issue 12).

Issue 12 asks for a ranked full-text index over titles, labels, names and
notes, written in the same step as the store and never out of step with it,
and names two candidates: SQLite FTS5 and tantivy (PyPI). This script measures
both on the same documents so the choice rests on figures::

    .venv/bin/python bench/search_index.py              # the benchmark set once
    .venv/bin/python bench/search_index.py --repeat 3   # the set x3, fresh 001 per copy

Steps, all in one run:

1. ``catalograph ingest`` of the benchmark set (bench/ingest.py,
   ../shared/data/MANIFEST.md) into a temporary data directory;
2. the documents, read by SPARQL from the store: one per local resource
   (work, instance, agent, concept, place) with the fields title, label, name
   (agents' own names; contributors' names for works and instances), note
   (notes, summaries, contents, statements of responsibility), kind, language
   and year; CJK runs of every text field also go, split into overlapping
   character bigrams, into a field ``cjk`` (neither engine's default tokenizer
   splits CJK text into words);
3. (a) SQLite FTS5 (stdlib ``sqlite3``): ``unicode61 remove_diacritics 2``,
   a prefix index, bm25 with column weights as the field boosts, kind and
   language as indexed columns of weight 0 (a column filter in MATCH), year
   as an UNINDEXED column filtered in the same statement;
   (b) tantivy-py: its default tokenizer's chain (simple, remove_long,
   lowercase) plus ``ascii_fold`` (the default does not fold diacritics), its
   own ``ngram(1, 2)`` tokenizer for the CJK field, field boosts in
   ``parse_query``, prefix through ``fuzzy_fields`` (prefix, distance 0), raw
   and integer fields as filters;
4. for each: build time, size on disk, p50 / p95 latency over a fixed list of
   realistic queries (Latin with and without diacritics, a prefix, CJK words
   of two and five characters, filtered queries), the top five labels of each
   query for a person to judge, and the cost of an incremental update
   (delete and re-add 100 documents, committed and visible to the next search);
5. whether the index can change in the same transaction as the record index
   (graph/record_index.py, SQLite): tried for FTS5 on a copy of the store's
   record-index.sqlite, with a rollback and a commit; tantivy commits its own
   files under its own lock, so it cannot.

Also an FTS5 ``trigram`` table over the same text, to show what it finds for
CJK words shorter than three characters. Ratios are tantivy against FTS5
measured in the same run (the house rule: no timed assertions anywhere;
nothing here passes or fails).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

try:
    import tantivy
except ImportError:  # not a dependency of Catalograph: only this measurement needs it
    sys.exit("bench/search_index.py compares with tantivy: pip install 'tantivy==0.27.*' first")

import ingest as ingest_bench  # noqa: E402
from graph.snapshots import open_latest_snapshot  # noqa: E402

#: Local resources worth finding, by the first segment of their IRI's path.
KINDS = ("work", "instance", "agent", "concept", "place")
_KIND = re.compile(r"/(work|instance|agent|concept|place)/[^#/]+$")
#: Han, kana, Hangul (syllables) and the CJK compatibility ideographs.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+")
#: Field boosts (a title hit beats a note hit); the same numbers for both engines.
BOOSTS = {"title": 10.0, "label": 5.0, "name": 5.0, "note": 1.0, "cjk": 8.0}
TEXT_FIELDS = ("title", "label", "name", "note")

PREFIXES = """
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX mads: <http://www.loc.gov/mads/rdf/v1#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
#: (field, query): every query selects ?s and a literal ?v.
FIELD_QUERIES = [
    (
        "title",
        "SELECT ?s ?v { ?s bf:title ?t . ?t bf:mainTitle|bf:subtitle|bf:partName|bf:partNumber ?v }",
    ),
    (
        "label",
        "SELECT ?s ?v { ?s rdfs:label|skos:prefLabel|skos:altLabel|skos:hiddenLabel|mads:authoritativeLabel ?v FILTER(isLiteral(?v)) }",
    ),
    ("name", "SELECT ?s ?v { ?s bf:contribution/bf:agent/rdfs:label ?v }"),
    ("name", "SELECT ?s ?v { ?s bf:instanceOf/bf:contribution/bf:agent/rdfs:label ?v }"),
    ("note", "SELECT ?s ?v { ?s bf:note|bf:summary|bf:tableOfContents ?n . ?n rdfs:label ?v }"),
    ("note", "SELECT ?s ?v { ?s bf:responsibilityStatement ?v }"),
    ("language", "SELECT ?s ?v { ?s bf:language ?v }"),
    ("language", "SELECT ?s ?v { ?s bf:instanceOf/bf:language ?v }"),
    (
        "year",
        "SELECT ?s ?v { ?s bf:provisionActivity/bf:date ?v FILTER(datatype(?v) = xsd:gYear) }",
    ),
    (
        "year",
        "SELECT ?s ?v { ?i bf:instanceOf ?s ; bf:provisionActivity/bf:date ?v FILTER(datatype(?v) = xsd:gYear) }",
    ),
]


@dataclass
class Query:
    text: str
    kind: str | None = None
    language: str | None = None
    years: tuple[int, int] | None = None

    def __str__(self) -> str:
        filters = [f"kind={self.kind}"] * bool(self.kind) + [f"lang={self.language}"] * bool(
            self.language
        )
        if self.years:
            filters.append(f"year {self.years[0]}-{self.years[1]}")
        return self.text + (f" [{', '.join(filters)}]" if filters else "")


#: Realistic queries: names with and without diacritics, a title, a prefix as
#: typed for autocomplete, CJK words of 2 and 5 characters, filtered queries.
QUERIES = [
    Query("mozart"),
    Query("Müller"),
    Query("muller"),
    Query("Dvořák"),
    Query("dvorak"),
    Query("pride and prejudice"),
    Query("shakesp*"),
    Query("jazz piano"),
    Query("偏见"),
    Query("傲慢与偏见"),
    Query("北京"),
    Query("jazz", kind="instance", years=(1950, 1969)),
    Query("austen", language="chi"),
    Query("music", kind="concept"),
]
#: Queries whose top five are printed.
SHOWN = [
    "dvorak",
    "Müller",
    "pride and prejudice",
    "shakesp*",
    "偏见",
    "傲慢与偏见",
    "jazz [kind=instance, year 1950-1969]",
]


@dataclass
class Doc:
    iri: str
    kind: str
    fields: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    language: str = ""
    year: int | None = None

    def text(self, name: str) -> str:
        return "\n".join(dict.fromkeys(self.fields.get(name, ())))

    def cjk_bigrams(self) -> str:
        """Every CJK run of every text field as overlapping bigrams, space-separated."""
        grams = []
        for name in TEXT_FIELDS:
            for value in self.fields.get(name, ()):
                for run in CJK.findall(value):
                    grams.append(" ".join(bigrams(run)))
        return "\n".join(dict.fromkeys(grams))

    def cjk_runs(self) -> str:
        runs = [
            run for name in TEXT_FIELDS for v in self.fields.get(name, ()) for run in CJK.findall(v)
        ]
        return "\n".join(dict.fromkeys(runs))

    def display(self) -> str:
        for name in ("title", "label", "name"):
            if self.fields.get(name):
                return self.fields[name][0]
        return self.iri


def bigrams(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def split_query(text: str) -> tuple[list[str], list[str], bool]:
    """Latin words, CJK runs, and whether the last word is a prefix (``word*``)."""
    prefix = text.rstrip().endswith("*")
    runs = CJK.findall(text)
    words = _WORD.findall(CJK.sub(" ", text))
    return words, runs, prefix and bool(words)


# ----------------------------------------------------------------- documents


def ingest(files: list[Path], data_dir: Path) -> float:
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "ingest", "--quiet"]
    started = time.perf_counter()
    done = subprocess.run([*command, *map(str, files)], cwd=ROOT, capture_output=True)
    if done.returncode not in (0, 1):
        sys.exit(f"ingest failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}")
    return time.perf_counter() - started


def read_documents(data_dir: Path) -> tuple[list[Doc], int]:
    store = open_latest_snapshot(data_dir)
    docs: dict[str, Doc] = {}
    for (s,) in store.query(
        "SELECT DISTINCT ?s { ?s a ?t FILTER(isIRI(?s)) }", use_default_graph_as_union=True
    ):
        found = _KIND.search(s.value)
        if found:
            docs[s.value] = Doc(s.value, found[1])
    for name, text in FIELD_QUERIES:
        for s, v in store.query(PREFIXES + text, use_default_graph_as_union=True):
            doc = docs.get(s.value)
            if doc is None:
                continue
            if name == "language":
                doc.language = doc.language or v.value.rsplit("/", 1)[-1]
            elif name == "year":
                year = int(v.value[:4]) if v.value[:4].isdigit() else None
                if year and (doc.year is None or year < doc.year):
                    doc.year = year
            elif name == "label" and doc.kind == "agent":
                doc.fields["name"].append(v.value)
            else:
                doc.fields[name].append(v.value)
    han = next(
        iter(
            store.query(
                "SELECT (COUNT(*) AS ?n) { ?s ?p ?o FILTER(isLiteral(?o) && REGEX(STR(?o), '[\u4e00-\u9fff]')) }",
                use_default_graph_as_union=True,
            )
        )
    )[0]
    return [d for d in docs.values() if any(d.fields.get(f) for f in TEXT_FIELDS)], int(han.value)


# ----------------------------------------------------------------- FTS5


class Fts5:
    name = "FTS5"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # as the record index commits
        self.db.execute(
            "CREATE VIRTUAL TABLE search USING fts5(title, label, name, note, cjk, kind, language, "
            "iri UNINDEXED, year UNINDEXED, display UNINDEXED, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
        )
        # kind and language are indexed for the filter (a column filter in MATCH), weight 0.
        weights = ", ".join(str(BOOSTS[f]) for f in (*TEXT_FIELDS, "cjk")) + ", 0, 0"
        self.db.execute(f"INSERT INTO search(search, rank) VALUES ('rank', 'bm25({weights})')")

    @staticmethod
    def row(number: int, doc: Doc) -> tuple:
        texts = [doc.text(f) for f in TEXT_FIELDS]
        return (
            number,
            *texts,
            doc.cjk_bigrams(),
            doc.kind,
            doc.language,
            doc.iri,
            doc.year,
            doc.display(),
        )

    def add(self, db: sqlite3.Connection, docs: list[tuple[int, Doc]]) -> None:
        db.executemany(
            "INSERT INTO search(rowid, title, label, name, note, cjk, kind, language, iri, year, display) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.row(n, d) for n, d in docs],
        )

    def build(self, docs: list[Doc]) -> None:
        self.db.execute("BEGIN")
        self.add(self.db, list(enumerate(docs)))
        self.db.execute("COMMIT")
        self.db.execute("INSERT INTO search(search) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))

    def breakdown(self) -> str:
        """Bytes per shadow table: the inverted index (with its prefix indexes) against the stored text."""
        rows = self.db.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search_%' GROUP BY name ORDER BY 2 DESC"
        )
        return ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in rows)

    @staticmethod
    def match(query: Query) -> str:
        words, runs, prefix = split_query(query.text)
        parts = []
        for i, word in enumerate(words):
            star = "*" if prefix and i == len(words) - 1 else ""
            parts.append(f'{{title label name note}} : "{word}"{star}')
        for run in runs:
            if len(run) == 1:
                parts.append(f'cjk : "{run}"*')
            else:
                parts.append(f'cjk : "{" ".join(bigrams(run))}"')
        if query.kind:
            parts.append(f'kind : "{query.kind}"')
        if query.language:
            parts.append(f'language : "{query.language}"')
        return " AND ".join(parts)

    def search(self, query: Query, limit: int = 10) -> list[str]:
        sql = "SELECT display FROM search WHERE search MATCH ?"
        args: list = [self.match(query)]
        if query.years:
            sql += " AND year BETWEEN ? AND ?"
            args.extend(query.years)
        sql += " ORDER BY rank LIMIT ?"
        return [r[0] for r in self.db.execute(sql, [*args, limit])]

    def update(self, changed: list[tuple[int, Doc]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("DELETE FROM search WHERE rowid = ?", [(n,) for n, _ in changed])
        self.add(self.db, changed)
        self.db.execute("COMMIT")


# ----------------------------------------------------------------- tantivy


class Tantivy:
    name = "tantivy"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("iri", stored=True, tokenizer_name="raw")
        for name in TEXT_FIELDS:
            builder.add_text_field(name, tokenizer_name="folded")
        builder.add_text_field("cjk", tokenizer_name="cjk_ngram")
        builder.add_text_field("kind", tokenizer_name="raw")
        builder.add_text_field("language", tokenizer_name="raw")
        builder.add_integer_field("year", indexed=True, fast=True)
        builder.add_text_field("display", stored=True, tokenizer_name="raw")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=str(path))
        # The default tokenizer (simple, remove_long, lowercase) plus ascii_fold.
        self.index.register_tokenizer(
            "folded",
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build(),
        )
        self.index.register_tokenizer(
            "cjk_ngram", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(1, 2, False)).build()
        )
        # One indexing thread: the machine is shared, and SQLite's writer is one thread too.
        self.writer = self.index.writer(heap_size=64_000_000, num_threads=1)

    @staticmethod
    def document(doc: Doc) -> tantivy.Document:
        values: dict = {name: doc.text(name) for name in TEXT_FIELDS}
        values.update(iri=doc.iri, cjk=doc.cjk_runs(), kind=doc.kind, display=doc.display())
        values["language"] = doc.language
        if doc.year is not None:
            values["year"] = doc.year
        return tantivy.Document(**values)

    def build(self, docs: list[Doc]) -> None:
        for doc in docs:
            self.writer.add_document(self.document(doc))
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index.writer(heap_size=64_000_000, num_threads=1)
        self.index.reload()

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def query(self, query: Query) -> tantivy.Query:
        words, runs, prefix = split_query(query.text)
        must = tantivy.Occur.Must
        parts = []
        for i, word in enumerate(words):
            fuzzy = None
            if prefix and i == len(words) - 1:
                fuzzy = {name: (True, 0, False) for name in TEXT_FIELDS}
            parts.append((must, self.index.parse_query(word, list(TEXT_FIELDS), BOOSTS, fuzzy)))
        for run in runs:
            parts.append((must, self.index.parse_query(run, ["cjk"], BOOSTS)))
        if query.kind:
            parts.append((must, tantivy.Query.term_query(self.schema, "kind", query.kind)))
        if query.language:
            parts.append((must, tantivy.Query.term_query(self.schema, "language", query.language)))
        if query.years:
            low, high = query.years
            parts.append(
                (
                    must,
                    tantivy.Query.range_query(
                        self.schema, "year", tantivy.FieldType.Integer, low, high
                    ),
                )
            )
        return tantivy.Query.boolean_query(parts)

    def search(self, query: Query, limit: int = 10) -> list[str]:
        searcher = self.index.searcher()
        hits = searcher.search(self.query(query), limit).hits
        return [searcher.doc(address)["display"][0] for _score, address in hits]

    def update(self, changed: list[tuple[int, Doc]]) -> None:
        for _, doc in changed:
            self.writer.delete_documents_by_term("iri", doc.iri)
            self.writer.add_document(self.document(doc))
        self.writer.commit()
        self.index.reload()


# ----------------------------------------------------------------- measurements


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(engine, docs: list[Doc], rounds: int) -> dict:
    figures: dict = {}
    started = time.perf_counter()
    engine.build(docs)
    figures["build"] = time.perf_counter() - started
    figures["size"] = engine.size()
    figures["hits"] = {str(q): engine.search(q) for q in QUERIES}
    timings: list[float] = []
    per_query: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for q in QUERIES:
            started = time.perf_counter()
            engine.search(q)
            elapsed = time.perf_counter() - started
            timings.append(elapsed)
            per_query[str(q)].append(elapsed)
    figures["p50"], figures["p95"] = percentile(timings, 0.5), percentile(timings, 0.95)
    figures["per_query"] = {q: statistics.median(t) for q, t in per_query.items()}
    step = max(1, len(docs) // 100)
    changed = [(n, docs[n]) for n in range(0, len(docs), step)][:100]
    updates = []
    for _ in range(5):
        started = time.perf_counter()
        engine.update(changed)
        updates.append(time.perf_counter() - started)
    figures["update"] = statistics.median(updates)
    figures["after_update"] = engine.search(QUERIES[0]) == figures["hits"][str(QUERIES[0])]
    return figures


def same_transaction(data_dir: Path, work: Path, docs: list[Doc]) -> str:
    """FTS5 rows and record-index rows in one SQLite transaction: rollback, then commit."""
    copy = work / "record-index-copy.sqlite"
    shutil.copy(data_dir / "record-index.sqlite", copy)
    db = sqlite3.connect(copy, isolation_level=None)
    db.execute(
        "CREATE VIRTUAL TABLE search USING fts5(title, iri UNINDEXED, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    graph, before = db.execute("SELECT graph, content_hash FROM record_graph LIMIT 1").fetchone()

    def batch(fail: bool) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("UPDATE record_graph SET content_hash = 'edited' WHERE graph = ?", (graph,))
            db.execute(
                "INSERT INTO search(title, iri) VALUES (?, ?)", ("Dvořák edited", docs[0].iri)
            )
            if fail:
                raise RuntimeError("killed half-way")
            db.execute("COMMIT")
        except RuntimeError:
            db.execute("ROLLBACK")

    def state() -> tuple:
        hash_ = db.execute(
            "SELECT content_hash FROM record_graph WHERE graph = ?", (graph,)
        ).fetchone()[0]
        hits = db.execute("SELECT count(*) FROM search WHERE search MATCH 'dvorak'").fetchone()[0]
        return hash_, hits

    batch(fail=True)
    after_rollback = state()
    batch(fail=False)
    after_commit = state()
    db.close()
    ok = after_rollback == (before, 0) and after_commit == ("edited", 1)
    return (
        f"{'yes' if ok else 'NO'}: one BEGIN..COMMIT in a copy of record-index.sqlite; "
        f"failed batch left (hash, hits) = {after_rollback}, committed one {after_commit}"
    )


def trigram_check(work: Path, docs: list[Doc]) -> dict[str, int]:
    """What an FTS5 trigram table (no CJK splitting needed) finds for short CJK words."""
    db = sqlite3.connect(work / "trigram.sqlite", isolation_level=None)
    db.execute("CREATE VIRTUAL TABLE tri USING fts5(text, tokenize = 'trigram')")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO tri(text) VALUES (?)",
        [("\n".join(d.text(f) for f in TEXT_FIELDS),) for d in docs],
    )
    db.execute("COMMIT")
    found = {}
    for word in ("偏见", "傲慢与偏见", "北京", "dvorak", "Dvořák"):
        found[word] = db.execute(
            "SELECT count(*) FROM tri WHERE tri MATCH ?", (f'"{word}"',)
        ).fetchone()[0]
    found["LIKE %偏见%"] = db.execute(
        "SELECT count(*) FROM tri WHERE text LIKE '%偏见%'"
    ).fetchone()[0]
    db.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="copies of the benchmark set")
    parser.add_argument("--rounds", type=int, default=30, help="passes over the query list")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and indexes")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}; "
        f"sqlite {sqlite3.sqlite_version}; tantivy {version('tantivy')}; pyoxigraph {version('pyoxigraph')}"
    )
    work = Path(tempfile.mkdtemp(prefix="catalograph-search-bench-"))
    try:
        files = ingest_bench.benchmark_files()
        if args.repeat > 1:
            files = ingest_bench.replicate(files, args.repeat, work / "input")
        seconds = ingest(files, work / "data")
        started = time.perf_counter()
        docs, han = read_documents(work / "data")
        read = time.perf_counter() - started
        kinds = defaultdict(int)
        for doc in docs:
            kinds[doc.kind] += 1
        cjk_docs = sum(1 for d in docs if d.cjk_runs())
        print(
            f"ingest of the benchmark set x{args.repeat}: {seconds:.1f} s; {len(docs):,} documents read "
            f"by SPARQL in {read:.1f} s ({', '.join(f'{k} {kinds[k]:,}' for k in KINDS)}); "
            f"{han} literals hold Han characters, {cjk_docs} documents have CJK text"
        )
        results = {}
        engines = (Fts5(work / "fts5.sqlite"), Tantivy(work / "tantivy"))
        for engine in engines:
            results[engine.name] = measure(engine, docs, args.rounds)
        f, t = results["FTS5"], results["tantivy"]
        print(f"\n{'':34}{'FTS5':>12}{'tantivy':>12}{'tantivy/FTS5':>14}")
        rows = [
            ("build (index + commit)", "build", 1, "s", ".2f"),
            ("size on disk", "size", 2**-20, "MB", ".1f"),
            (f"query p50 ({len(QUERIES)} queries x {args.rounds})", "p50", 1000, "ms", ".3f"),
            ("query p95", "p95", 1000, "ms", ".3f"),
            ("update 100 docs (del+add, commit)", "update", 1000, "ms", ".1f"),
        ]
        for label, key, scale, unit, fmt in rows:
            print(
                f"{label:34}{format(f[key] * scale, fmt):>9} {unit:2}{format(t[key] * scale, fmt):>9} {unit:2}"
                f"{t[key] / f[key]:>13.2f}x"
            )
        print(f"FTS5 size by table: {engines[0].breakdown()}")
        print("\nper query: hits in the top 10 and median ms (FTS5 / tantivy), same first result?")
        for q in QUERIES:
            a, b = f["hits"][str(q)], t["hits"][str(q)]
            same = "same first" if a[:1] == b[:1] else "different first"
            fq, tq = f["per_query"][str(q)] * 1000, t["per_query"][str(q)] * 1000
            print(
                f"  {str(q):38} {len(a):>2} / {len(b):>2}  {fq:6.3f} / {tq:6.3f} ms  {same if a and b else ''}"
            )
        for shown in SHOWN:
            print(f"\ntop 5 for {shown!r}")
            for name in ("FTS5", "tantivy"):
                hits = results[name]["hits"][shown][:5]
                print(
                    f"  {name:8}" + ("\n  " + " " * 8).join(h[:90] for h in hits)
                    if hits
                    else f"  {name:8}(none)"
                )
        print("\nFTS5 trigram table, matches:", trigram_check(work, docs))
        print("same transaction as the record index:")
        print(f"  FTS5:    {same_transaction(work / 'data', work, docs)}")
        print(
            "  tantivy: no: its own files, lock and commit; a batch would need a journal and replay"
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
