"""Subject suggestion against Annif on issue 12's held-out split (issue 12, part 4).

The issue's protocol, word for word:

    Measure it honestly against Annif, the open-source subject indexer
    libraries use, on this task: from the bibliographic records in
    ``../shared/data/marc`` and ``../shared/data/marcxml`` that have a 650 with
    second indicator 0 and a ``$a`` (leader/06 not in ``xyvuz``), the document
    text is 245 ``$a $b $n $p``, 246 ``$a``, 500/505/520 ``$a``; the gold is
    each such 650's first ``$a`` (NFC, whitespace collapsed, trailing
    `` .,;:/`` stripped); deduplicate by 001 + title; sort by sha1 of 001 +
    0x1F + title and put every fifth record (index % 5 == 4) in the test set.
    Score the top 5 suggestions strictly (a gold heading never seen in
    training still counts as a miss): P@5, R@5, F1@5 averaged per document.
    In the same script, install Annif from PyPI (``annif``), train its
    ``tfidf`` and ``mllm`` backends on the same training records (vocabulary =
    the training headings as SKOS) and print both side by side. Measured once
    here: Annif tfidf F1@5 0.134 on this split. Goal: at least 1.5x the best
    Annif backend. [...] the suggestions never look at the test records'
    hidden subjects.

The split and its open choices are in ``bench/suggest_split.py``. Scoring
(``score``): each system's suggestions become headings (normalised like the
gold), duplicates dropped, the first five kept; P@5 = hits / 5 (a system
that suggests fewer than five is not rewarded for it), R@5 = hits / gold, F1@5
the harmonic mean of the two for the document (0 when there is no hit); all
three averaged over the test documents. Annif is scored by the same function
from its ``annif index`` output, not by its own ``eval``.

Catalograph, all in this run:

1. calibration: the training records are split again (every fifth, in the
   same order, held out); the other four fifths are written as a MARC file
   with pymarc and ingested with the real ``catalograph ingest`` into a fresh
   data directory; the held-out fifth is given without its 6XX fields
   (``web.suggest_input``), and the weights of ``query.suggest`` are fitted
   to maximise F1@5 on it (coordinate ascent), then a logistic calibration of
   the score (gold or not, top 20 candidates);
2. test: all training records ingested into another fresh data directory; the
   test records given without their 6XX fields; suggestions from the LCSH
   concepts of the store with the fitted weights. The store never holds a
   test record, and nothing reads a test record's subjects but ``score``.

Annif (``--no-annif`` to skip): a virtualenv ``bench/.venv-annif``
(gitignored) created and ``pip install annif`` run in it (skipped with a
message if the registry cannot be reached); vocabulary = every training
heading as a ``skos:Concept`` with an English ``prefLabel``; corpus = the
training documents in Annif's short-text TSV format (text, then the
subjects' IRIs); projects ``tfidf`` and ``mllm`` with the ``snowball(english)``
analyzer; ``annif index --limit 5`` over one ``.txt`` file per test document.
NLTK's ``punkt_tab`` data, which Annif's analyzers need and would download,
cannot be fetched here: the script trains NLTK's own Punkt trainer on the
training texts and saves its parameters where NLTK looks (sentence splitting
only; words are tokenised the same way).

Run from the repository root::

    .venv/bin/python bench/suggest.py              # everything, about 5 minutes
    .venv/bin/python bench/suggest.py --no-annif   # Catalograph only

It prints figures; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the root: bench/ingest.py is not the ingest package

from suggest_split import Document, load_split, normalise_heading, write_marc  # noqa: E402

from graph import open_latest_snapshot  # noqa: E402
from query.subject_index import SubjectIndex, build_subject_index  # noqa: E402
from query.suggest import FEATURE_FIELDS, FEATURES, Weights, candidate_features, suggest  # noqa: E402
from web.suggest_input import RecordQuery, read_record_queries, without_subjects  # noqa: E402

SHARED = Path(os.environ.get("CATALOGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
BASE = "http://127.0.0.1:5000/"
LCSH = "http://id.loc.gov/authorities/subjects"
ANNIF_VENV = ROOT / "bench" / ".venv-annif"
TOP = 5

Scores = tuple[float, float, float]


# ------------------------------------------------------------------ scoring


def score(suggested: list[list[str]], docs: list[Document]) -> Scores:
    """P@5, R@5, F1@5 averaged per document; suggestions as heading text, best first."""
    p_sum = r_sum = f_sum = 0.0
    for headings, doc in zip(suggested, docs, strict=True):
        top: list[str] = []
        for heading in headings:
            heading = normalise_heading(heading)
            if heading and heading not in top:
                top.append(heading)
            if len(top) == TOP:
                break
        hits = len(set(top) & doc.gold)
        p, r = hits / TOP, hits / len(doc.gold)
        p_sum, r_sum = p_sum + p, r_sum + r
        f_sum += 2 * p * r / (p + r) if hits else 0.0
    n = len(docs) or 1
    return p_sum / n, r_sum / n, f_sum / n


# --------------------------------------------------------------- catalograph


def ingest(records: list[Document], data_dir: Path, work: Path) -> float:
    mrc = work / f"{data_dir.name}.mrc"
    write_marc([d.record for d in records], mrc)
    started = time.perf_counter()
    command = [sys.executable, "-m", "web.cli", "--data-dir", str(data_dir), "--base-iri", BASE]
    done = subprocess.run([*command, "ingest", "--quiet", str(mrc)], cwd=ROOT, capture_output=True)
    if done.returncode not in (0, 1):
        sys.exit(f"ingest failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}")
    return time.perf_counter() - started


def queries(docs: list[Document], work: Path, name: str) -> list[RecordQuery]:
    """The documents without their subjects, read back as ``catalograph suggest FILE`` reads them."""
    mrc = work / f"{name}-without-subjects.mrc"
    write_marc([without_subjects(d.record) for d in docs], mrc)
    out = [q for q in read_record_queries(mrc, BASE) if isinstance(q, RecordQuery)]
    if len(out) != len(docs):
        sys.exit(f"{name}: {len(docs)} records written, {len(out)} read back")
    return out


def store_index(docs: list[Document], work: Path, name: str) -> tuple[SubjectIndex, float, float]:
    data_dir = work / name
    ingest_s = ingest(docs, data_dir, work)
    started = time.perf_counter()
    index = build_subject_index(open_latest_snapshot(data_dir), BASE, scheme=LCSH)
    return index, ingest_s, time.perf_counter() - started


Cached = list[tuple[dict[int, dict[str, float]], list[str]]]


def cached_features(index: SubjectIndex, qs: list[RecordQuery], weights: Weights) -> Cached:
    return [(candidate_features(index, q.query, weights)[0], index.labels) for q in qs]


def ranked_headings(cached: Cached, weights: Weights, limit: int = 20) -> list[list[str]]:
    out = []
    for values, labels in cached:
        ranked = sorted(values, key=lambda c: (-weights.combine(values[c]), c))[:limit]
        out.append([labels[c] for c in ranked])
    return out


def fit_weights(cached: Cached, docs: list[Document], start: Weights) -> Weights:
    """Coordinate ascent on F1@5 over a grid of each feature's weight, three rounds."""
    grid = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
    best = start
    best_f1 = score(ranked_headings(cached, best), docs)[2]
    for _ in range(3):
        improved = False
        for name in FEATURES:
            if name == "knn":
                continue  # the scale: every other weight is relative to it
            for value in grid:
                trial = replace(best, **{FEATURE_FIELDS.get(name, name): value})
                f1 = score(ranked_headings(cached, trial), docs)[2]
                if f1 > best_f1 + 1e-9:
                    best, best_f1, improved = trial, f1, True
        if not improved:
            break
    return best


def fit_calibration(cached: Cached, docs: list[Document], weights: Weights) -> Weights:
    """Logistic regression of "is gold" on the combined score of the top 20 candidates."""
    points: list[tuple[float, int]] = []
    for (values, labels), doc in zip(cached, docs, strict=True):
        ranked = sorted(values, key=lambda c: -weights.combine(values[c]))[:20]
        points += [(weights.combine(values[c]), int(normalise_heading(labels[c]) in doc.gold)) for c in ranked]
    slope, intercept = 0.0, 0.0
    for _ in range(50):  # Newton's method on the log-likelihood: two parameters
        g_s = g_i = h_ss = h_si = h_ii = 0.0
        for x, y in points:
            p = 1 / (1 + math.exp(-(slope * x + intercept)))
            g_s, g_i = g_s + (y - p) * x, g_i + (y - p)
            w = p * (1 - p)
            h_ss, h_si, h_ii = h_ss + w * x * x, h_si + w * x, h_ii + w
        det = h_ss * h_ii - h_si * h_si
        if det <= 1e-12:
            break
        step_s = (h_ii * g_s - h_si * g_i) / det
        step_i = (h_ss * g_i - h_si * g_s) / det
        slope, intercept = slope + step_s, intercept + step_i
        if abs(step_s) + abs(step_i) < 1e-9:
            break
    return replace(weights, slope=round(slope, 4), intercept=round(intercept, 4))


def run_catalograph(train: list[Document], test: list[Document], work: Path) -> dict[str, object]:
    inner = [d for i, d in enumerate(train) if i % 5 != 4]
    held = [d for i, d in enumerate(train) if i % 5 == 4]
    print(f"calibration: store of {len(inner)} training records, {len(held)} held out", flush=True)
    index, ingest_s, build_s = store_index(inner, work, "calibration")
    held_queries = queries(held, work, "calibration")
    weights = Weights()
    for _ in range(2):  # cooc depends on the weights: features again with the fitted ones
        cached = cached_features(index, held_queries, weights)
        weights = fit_weights(cached, held, weights)
    weights = fit_calibration(cached_features(index, held_queries, weights), held, weights)
    print(f"  fitted: {weights}", flush=True)
    print(f"  held-out F1@5 with them: {score(ranked_headings(cached_features(index, held_queries, weights), weights), held)[2]:.3f}")

    index, ingest_s, build_s = store_index(train, work, "train")
    print(
        f"test store: {len(train)} training records ingested in {ingest_s:.1f} s; index of "
        f"{index.work_count} works, {len(index.concepts)} LCSH concepts built in {build_s:.1f} s",
        flush=True,
    )
    test_queries = queries(test, work, "test")
    same_work = sum(1 for q in test_queries if any(w in index.work_ids for w in q.query.works))
    print(f"  test records whose Work is in the store with subjects: {same_work} of {len(test)}")
    results: dict[str, object] = {"weights": weights}
    started = time.perf_counter()
    found = [suggest(index, q.query, 10, weights) for q in test_queries]
    results["suggest_ms"] = (time.perf_counter() - started) * 1000 / len(test)
    results["catalograph"] = score([[s.label for s in f] for f in found], test)
    print_reliability(found, test)
    # Ablations: the same index and weights (fitted for all of the evidence) with parts turned off.
    every = set(FEATURES)
    for name, keep in (
        ("words only (knn)", {"knn"}),
        ("words + labels", {"knn", "label", "words", "prior"}),
        ("all but class numbers", every - {"class", "broad_class"}),
        ("all but work/agent/series", every - {"work", "agent", "series"}),
    ):
        ablated = replace(weights, **{FEATURE_FIELDS.get(f, f): 0.0 for f in FEATURES if f not in keep})
        results[name] = score(
            [[s.label for s in suggest(index, q.query, 10, ablated)] for q in test_queries], test
        )
    return results


def print_reliability(found: list, test: list[Document]) -> None:
    """Is the score a probability? Mean score against the share of gold, by score band (top 5)."""
    bands: dict[int, list[tuple[float, int]]] = {}
    for suggestions, doc in zip(found, test, strict=True):
        for s in suggestions[:TOP]:
            hit = int(normalise_heading(s.label) in doc.gold)
            bands.setdefault(min(int(s.score * 5), 4), []).append((s.score, hit))
    print("  calibration on the test set (top 5): score band, suggestions, mean score, share that is gold")
    for band in sorted(bands):
        rows = bands[band]
        mean = sum(r[0] for r in rows) / len(rows)
        share = sum(r[1] for r in rows) / len(rows)
        print(f"    {band / 5:.1f}-{(band + 1) / 5:.1f}  {len(rows):5d}  {mean:.3f}  {share:.3f}")


# --------------------------------------------------------------------- Annif


def annif_ready(log: Callable[[str], None]) -> Path | None:
    """``bench/.venv-annif/bin/annif``, installing it first if needed; None if it cannot be had."""
    annif = ANNIF_VENV / "bin" / "annif"
    if annif.exists():
        return annif
    log(f"creating {ANNIF_VENV} and installing annif from PyPI...")
    subprocess.run([sys.executable, "-m", "venv", str(ANNIF_VENV)], check=True)
    done = subprocess.run(
        [str(ANNIF_VENV / "bin" / "pip"), "install", "--quiet", "annif"],
        capture_output=True, text=True, timeout=1800,
    )
    if done.returncode != 0 or not annif.exists():
        log("Annif could not be installed (is PyPI reachable?); skipping it:\n" + done.stderr[-2000:])
        return None
    return annif


def _subject_iri(heading: str) -> str:
    return "http://example.org/heading/" + hashlib.sha1(heading.encode()).hexdigest()[:16]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _punkt(train: list[Document], nltk_data: Path, annif: Path) -> None:
    """NLTK punkt_tab parameters trained on the training texts (the download is not reachable)."""
    target = nltk_data / "tokenizers" / "punkt_tab" / "english"
    if target.exists():
        return
    target.mkdir(parents=True)
    corpus = nltk_data / "punkt-corpus.txt"
    corpus.write_text("\n\n".join(d.text for d in train), encoding="utf-8")
    script = (
        "import sys\nfrom nltk.tokenize.punkt import PunktTrainer, save_punkt_params\n"
        "t = PunktTrainer(); t.train(open(sys.argv[1], encoding='utf-8').read(), finalize=True)\n"
        "save_punkt_params(t.get_params(), dir=sys.argv[2])\n"
    )
    subprocess.run([str(annif.parent / "python"), "-c", script, str(corpus), str(target)], check=True)


def run_annif(train: list[Document], test: list[Document], work: Path) -> dict[str, Scores]:
    annif = annif_ready(print)
    if annif is None:
        return {}
    home = work / "annif"
    (home / "data").mkdir(parents=True)
    nltk_data = ANNIF_VENV / "nltk_data"
    _punkt(train, nltk_data, annif)
    headings = sorted({g for d in train for g in d.gold})
    lines = ["@prefix skos: <http://www.w3.org/2004/02/skos/core#> ."]
    for heading in headings:
        label = heading.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'<{_subject_iri(heading)}> a skos:Concept ; skos:prefLabel "{label}"@en .')
    (home / "vocab.ttl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = "".join(
        f"{_one_line(d.text)}\t{' '.join(f'<{_subject_iri(g)}>' for g in sorted(d.gold))}\n"
        for d in train
        if _one_line(d.text)
    )
    (home / "train.tsv").write_text(corpus, encoding="utf-8")
    (home / "projects.cfg").write_text(
        "[tfidf]\nname=TF-IDF\nlanguage=en\nbackend=tfidf\nanalyzer=snowball(english)\n"
        "vocab=headings\nlimit=100\n\n"
        "[mllm]\nname=MLLM\nlanguage=en\nbackend=mllm\nanalyzer=snowball(english)\n"
        "vocab=headings\nlimit=100\n",
        encoding="utf-8",
    )
    docs_dir = home / "test"
    docs_dir.mkdir()
    for i, d in enumerate(test):
        (docs_dir / f"doc{i:05d}.txt").write_text(d.text or d.title, encoding="utf-8")
    env = {**os.environ, "NLTK_DATA": str(nltk_data), "ANNIF_PROJECTS": str(home / "projects.cfg")}

    def run(*args: str) -> None:
        done = subprocess.run([str(annif), *args], cwd=home, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"annif {' '.join(args)} failed:\n{done.stderr[-3000:]}")

    run("load-vocab", "--language", "en", "headings", "vocab.ttl")
    label_of = {_subject_iri(h): h for h in headings}
    results: dict[str, Scores] = {}
    for project in ("tfidf", "mllm"):
        started = time.perf_counter()
        run("train", project, "train.tsv")
        for old in docs_dir.glob("*.annif"):
            old.unlink()
        run("index", "--limit", str(TOP), "--force", project, str(docs_dir))
        suggested = []
        for i in range(len(test)):
            out = docs_dir / f"doc{i:05d}.annif"
            rows = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
            suggested.append([label_of.get(row.split("\t")[0].strip("<>"), "") for row in rows])
        results[f"Annif {project}"] = score(suggested, test)
        print(f"  Annif {project}: trained and indexed in {time.perf_counter() - started:.1f} s", flush=True)
    return results


# ---------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-annif", action="store_true", help="Skip Annif.")
    parser.add_argument("--keep", action="store_true", help="Keep the working folder.")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} not found: the shared data set is needed")
    started = time.perf_counter()
    train, test = load_split(SHARED)
    seen = {g for d in train for g in d.gold}
    unseen = sum(1 for d in test for g in d.gold if g not in seen)
    print(
        f"documents: {len(train)} train, {len(test)} test; {len(seen)} training headings; "
        f"{unseen} of {sum(len(d.gold) for d in test)} test gold headings never seen in training"
    )
    work = Path(tempfile.mkdtemp(prefix="catalograph-suggest-bench-"))
    try:
        results = run_catalograph(train, test, work)
        annif = {} if args.no_annif else run_annif(train, test, work)
    finally:
        if args.keep:
            print(f"working folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    rows: dict[str, Scores] = {k: v for k, v in results.items() if isinstance(v, tuple)}
    rows.update(annif)
    best_annif = max(annif.items(), key=lambda kv: kv[1][2], default=None)
    print(f"\n{'system':<26} {'P@5':>6} {'R@5':>6} {'F1@5':>6}  vs best Annif F1@5")
    for name, (p, r, f) in rows.items():
        ratio = f"{f / best_annif[1][2]:.2f}x" if best_annif and best_annif[1][2] else "-"
        print(f"{name:<26} {p:6.3f} {r:6.3f} {f:6.3f}  {ratio}")
    if best_annif:
        print(f"best Annif backend: {best_annif[0]} (F1@5 {best_annif[1][2]:.3f}); goal 1.5x")
    print(f"catalograph suggest: {results['suggest_ms']:.1f} ms per record (in process, index built)")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
