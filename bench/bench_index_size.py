"""Index size per statement, SQLite against PostgreSQL, for the same sync of the fixture site.

    python bench/bench_index_size.py [--statements 200]

Serves the newest N usable statements of the public archive (``../shared/corpus``) on the
fixture site, syncs them (``statements sync --full``) into one archive with its SQLite index and
into another with a PostgreSQL index in a throw-away cluster (``tests/pgcluster.py``: Debian's
binaries, run as ``postgres`` when root), then prints each index's bytes per statement:
SQLite's file after a WAL checkpoint, PostgreSQL's ``pg_database_size`` less that of an empty
migrated database (so the catalog is not counted), after ``VACUUM``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from crawler.cli import main  # noqa: E402
from storage.postgres import PostgresIndex  # noqa: E402
from tests.conftest import CORPUS, _corpus  # noqa: E402
from tests.fixture_site import FixtureSite, usable_texts  # noqa: E402
from tests.pgcluster import start_cluster  # noqa: E402


def database_size(locator: str) -> int:
    index = PostgresIndex(locator)
    try:
        index.db.execute("VACUUM")
        row = index.db.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0
    finally:
        index.close()


def main_(statements: int) -> None:
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is absent")
    texts = sorted(
        usable_texts(t for _, t in _corpus()), key=lambda t: t.split("published_time")[-1]
    )
    cluster = start_cluster()
    try:
        empty, shared = cluster.new_database(), cluster.new_database()
        with tempfile.TemporaryDirectory() as tmp, FixtureSite(texts[-statements:]) as site:
            lite, team = Path(tmp, "lite"), Path(tmp, "team")
            assert main([*site.sync_args(lite, "--full", "--json")]) == 0
            assert main([*site.sync_args(team, "--full", "--json"), "--index", shared]) == 0
            path = lite / ".statements" / "index.sqlite"
            with sqlite3.connect(path) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                count = db.execute("SELECT count(*) FROM statements").fetchone()[0]
            sqlite_bytes = path.stat().st_size
        pg_bytes = database_size(shared) - database_size(empty)
    finally:
        cluster.stop()
    print(f"statements: {count}", file=sys.stderr)
    print(f"SQLite:     {sqlite_bytes / count / 1024:7.1f} KiB per statement ({sqlite_bytes:,} B)")
    print(f"PostgreSQL: {pg_bytes / count / 1024:7.1f} KiB per statement ({pg_bytes:,} B)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=200)
    main_(parser.parse_args().statements)
