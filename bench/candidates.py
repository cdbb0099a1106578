"""What refreshing the match candidates adds to an ingest: its CPU time against the ingest's.

    .venv/bin/python bench/candidates.py                 # the shipped sample (data/)
    .venv/bin/python bench/candidates.py FILE...         # data/ and these files too

``catalograph ingest`` and ``catalograph harvest`` refresh the candidates at
their end when they changed the data (``web.ingest_command``), so the review
queue is ready without another command. The first ingest into a fresh store
refreshes them in full (every agent's heading and every work's titles read:
``web.candidates_refresh``); later ones compare the blocks their changes
touched. This prints, for a fresh store of the given files (one mapper, so
the process's CPU time is the whole ingest's): the ingest's CPU time and wall
time, the refresh's share of them as the ingest reported it, and the full
refresh alone run three more times on the store it left (a rebuild that
writes nothing: the cost of finding), then the incremental one (nothing
changed: the cost of looking). Nothing here is a pass/fail assertion: it
prints figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.writer import Writer  # noqa: E402
from ingest import PIPELINE_VERSION  # noqa: E402
from ontology.layout import Layout  # noqa: E402
from web.candidates_command import refresh_candidates  # noqa: E402
from web.config import load_settings  # noqa: E402
from web.ingest_command import run_ingest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="more MARC files to ingest with data/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catalograph-bench-candidates-") as folder:
        settings = load_settings(env={}, data_dir=Path(folder))
        wall, cpu = time.perf_counter(), time.process_time()
        report = run_ingest(settings, [ROOT / "data", *args.files], workers=1)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        refreshed = report.candidates
        print(f"ingest of {report.read:,} records: {cpu:.2f} s CPU, {wall:.2f} s wall")
        if refreshed is None:
            print("the ingest changed nothing: no refresh")
            return
        print(
            f"  of which the candidates' refresh: {refreshed.cpu_seconds:.2f} s CPU "
            f"({refreshed.cpu_seconds / cpu:.1%} of the ingest's), {refreshed.seconds:.2f} s wall "
            f"({refreshed.seconds / wall:.1%}); "
            f"{refreshed.candidates} candidates, {refreshed.added} quads written"
        )
        layout = Layout(settings.base_iri)
        runs = []
        with Writer(settings.data_dir, layout, PIPELINE_VERSION, make_checkpoint=False) as writer:
            for _ in range(3):
                started = time.process_time()
                again = refresh_candidates(writer, layout, settings.data_dir, full=True)
                runs.append(time.process_time() - started)
                assert again.added == again.removed == 0
            started = time.process_time()
            refresh_candidates(writer, layout, settings.data_dir)
            looked = time.process_time() - started
        best = min(runs)
        print(f"incremental refresh with nothing changed: {looked:.3f} s CPU")
        print(
            f"refresh alone on that store (best of 3): {best:.3f} s CPU = {best / cpu:.1%} of the "
            f"ingest's CPU time, {best / max(report.read, 1) * 1000:.3f} ms per record ingested"
        )


if __name__ == "__main__":
    main()
