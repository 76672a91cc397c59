"""Full-text search on the adopted corpus: latency, the index's size growth, the migration time.

    python bench/bench_search.py [--archive DIR] [--keep DIR]

Builds an archive as an adopted public archive stands (the corpus's 14,396 files imported, each
edited statement at its first old text, then its 1,163 real edits recorded as revisions), unless
``--archive`` names one built before (``--keep DIR`` keeps the one it builds). Then:

- the migration that adds the FTS table (schema 6): the same index with the FTS table dropped
  and ``user_version`` set back to 5 (exactly what an archive of schema 5 holds), vacuumed, then
  opened by this code: seconds, and the file's size before and after;
- search latency of a few typical queries (latest revisions and ``every_revision``; the search
  and the count ``statements search`` makes), median and max of 7 runs each, against a baseline
  measured in the same run: a ``LIKE '%word%'`` scan of the latest bodies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import lzma
import sqlite3
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from storage.archive import Archive  # noqa: E402
from storage.document import loads  # noqa: E402
from storage.importer import import_dir  # noqa: E402
from storage.index import Index, SearchQuery  # noqa: E402

SHARED = PROJECT.parent / "shared" / "corpus"
QUERIES = ("inflation", "climate change", '"climate change"', "tariffs china", "ukraine", "infla*")
RUNS = 7


def corpus_archive(root: Path) -> int:
    """Build the adopted corpus with its real edits at ``root``; return the revisions."""
    with lzma.open(SHARED / "wh-briefings-revisions.jsonl.xz", "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    first_old: dict[str, str] = {}
    for record in records:
        first_old.setdefault(record["path"], record["old"])
    with tarfile.open(SHARED / "wh-briefings.tar.xz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".md"):
                text = tar.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
                path = root / member.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(first_old.get(member.name, text), encoding="utf-8")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with Archive(root) as archive:
        import_dir(archive, root)  # adopted in place
        for n, record in enumerate(records):
            now = start + dt.timedelta(minutes=n)
            archive.clock = lambda now=now: now  # type: ignore[misc]
            with archive.batch():
                head = archive.revision(archive.resolve(loads(record["new"]).source_url))
                if head.text != record["old"]:  # a URL the public archive kept in two files
                    archive.record(loads(record["old"]), origin="replay", text=record["old"])
                archive.record(loads(record["new"]), origin="replay", text=record["new"])
        return int(archive.index.db.execute("SELECT count(*) FROM revisions").fetchone()[0])  # type: ignore[attr-defined]


def migration(index_file: Path, tmp: Path) -> dict[str, float]:
    """The schema-6 migration on a copy of the index taken back to schema 5."""
    copy = tmp / "schema5.sqlite"
    db = sqlite3.connect(index_file)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute(f"VACUUM INTO '{copy}'")
    db.close()
    db = sqlite3.connect(copy)
    db.executescript(
        "DROP TABLE revisions_fts; DROP VIEW IF EXISTS latest; DROP VIEW IF EXISTS changes;"
        " PRAGMA user_version = 5; VACUUM;"
    )
    db.close()
    before = copy.stat().st_size
    t = time.perf_counter()
    Index(copy).close()
    seconds = time.perf_counter() - t
    db = sqlite3.connect(copy)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"seconds": seconds, "before_mb": before / 1e6, "after_mb": copy.stat().st_size / 1e6}


def latency(index: Index) -> list[tuple[str, bool, int, float, float]]:
    rows = []
    for words in QUERIES:
        for every in (False, True):
            query = SearchQuery(words, every_revision=every)
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                index.search(query, limit=20)
                found = index.count_search(query)
                times.append(time.perf_counter() - t)
            rows.append((words, every, found, statistics.median(times), max(times)))
    return rows


def like_baseline(index: Index, word: str) -> float:
    times = []
    for _ in range(3):
        t = time.perf_counter()
        index.db.execute(
            "SELECT count(*) FROM statements s JOIN revisions r ON r.statement_id = s.id"
            " AND r.number = s.head WHERE r.body LIKE ?",
            (f"%{word}%",),
        ).fetchone()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="an archive built before (see --keep)")
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        root = args.archive or args.keep or Path(tmp, "archive")
        if args.archive is None:
            t = time.perf_counter()
            revisions = corpus_archive(root)
            took = time.perf_counter() - t
            print(f"built the corpus archive: {revisions:,} revisions, {took:.0f} s")
        index_file = root / ".statements" / "index.sqlite"
        m = migration(index_file, Path(tmp))
        growth = 100 * (m["after_mb"] - m["before_mb"]) / m["before_mb"]
        print(
            f"migration 6 (FTS over every revision): {m['seconds']:.1f} s; index "
            f"{m['before_mb']:.0f} MB -> {m['after_mb']:.0f} MB (+{growth:.0f}%)"
        )
        index = Index(index_file, read_only=True)
        counts = index.db.execute(
            "SELECT (SELECT count(*) FROM statements), (SELECT count(*) FROM revisions)"
        ).fetchone()
        print(f"statements {counts[0]:,}, revisions {counts[1]:,}")
        print(f"{'query':20} {'revisions':9} {'found':>6} {'median ms':>10} {'max ms':>8}")
        for words, every, found, median, worst in latency(index):
            which = "every" if every else "latest"
            print(f"{words:20} {which:9} {found:6,} {median * 1000:10.1f} {worst * 1000:8.1f}")
        like = like_baseline(index, "inflation") * 1000
        print(f"baseline: LIKE '%inflation%' over the latest bodies  {like:.0f} ms")
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
