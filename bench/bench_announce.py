"""The cost of announcing a sync's changes (Atom feed and webhook payloads) as history grows.

    python bench/bench_announce.py [--base all|edited] [--old-every 50] [--syncs N]

Replays the public archive's 1,163 real after-publication edits
(``../shared/corpus/wh-briefings-revisions.jsonl.xz``) onto an archive holding the corpus as it
stood before them, one "sync" per commit of the public archive (964 of them), in
``committed_at`` order. After each sync it times the announce step as a sync runs it: rewrite
``changes.atom`` (200 entries) and build the webhook payload of the sync's events.

- **new**: the code as it is: every event's announcement was rendered when it was recorded, the
  feed is one query of the latest 200 wanted events, no diffing.
- **old**: the algorithm before, measured in the same run on the same archive: the latest
  3 x 200 events, each re-diffed from its revisions, filtered, the first 200 written.

Wall and CPU seconds (this process; no child process is involved) per sync; the old algorithm
every ``--old-every`` syncs and at the last one (it is slow). ``record`` is the time to record the
sync's edits, which now includes rendering each event's announcement once.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import lzma
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from crawler import announce  # noqa: E402
from crawler.announce import atom, webhook  # noqa: E402
from crawler.config import AtomAlert  # noqa: E402
from storage import diff as wdiff  # noqa: E402
from storage.archive import Archive  # noqa: E402
from storage.atomic import write_atomic  # noqa: E402
from storage.document import loads  # noqa: E402
from storage.event import Event  # noqa: E402
from storage.importer import import_dir  # noqa: E402
from storage.index import EventFilter, EventRow  # noqa: E402

SHARED = PROJECT.parent / "shared" / "corpus"
FEED = AtomAlert()


@contextmanager
def timed(into: dict[str, float], key: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into[key + "_wall"] = time.perf_counter() - wall
    into[key + "_cpu"] = time.process_time() - cpu


# -- the announce step before stored announcements (the old algorithm, for comparison) --------


def old_announce(archive: Archive, event: EventRow) -> Event:
    size, text = 0, ""
    row = archive.index.by_id(event.statement_id)
    if event.to_rev is not None:
        new = archive.statement(archive.revision(row, event.to_rev))
        if event.from_rev is None:
            size, text = len(wdiff.words(new.body)), f"New statement: {new.title}"
        else:
            old = archive.statement(archive.revision(row, event.from_rev))
            lines = [f"{c.key}: {c.old} -> {c.new}" for c in wdiff.meta_changes(old, new)]
            chunks = wdiff.word_diff(old.body, new.body)
            size = sum(len(c.old) + len(c.new) for c in chunks if c.op != "equal")
            lines.extend(wdiff.render_hunks(chunks))
            text = "\n".join(lines)
    elif "removed" in event.kinds:
        text = f"Removed from the source ({event.detail.get('why', '')})."
    return dataclasses.replace(Event.of(event), size=size, diff=text)


def old_step(archive: Archive, first_event: int, now: dt.datetime) -> None:
    events = archive.index.events(limit=FEED.entries * 3, flaps=False)
    chosen = [
        a
        for a in (old_announce(archive, e) for e in events)
        if announce.wanted(a, FEED.kinds, FEED.sources, FEED.min_change)
    ][: FEED.entries]
    write_atomic(archive.file(FEED.path), atom.atom_xml(chosen, now, "Changes"))
    mine = [old_announce(archive, e) for e in archive.index.events(after_id=first_event)]
    webhook.payload("whitehouse", {}, mine)


def new_step(archive: Archive, first_event: int, now: dt.datetime) -> None:
    atom.write_atom(archive, FEED, now)
    webhook.payload("whitehouse", {}, announce.latest(archive, EventFilter(after_id=first_event)))


# -- the replay -------------------------------------------------------------------------------


def build_base(root: Path, base: str, records: list[dict[str, Any]]) -> int:
    """The archive as it stood before the edits: each edited statement at its first old text."""
    first_old: dict[str, str] = {}
    for record in records:
        first_old.setdefault(record["path"], record["old"])
    folder = root.parent / "base"
    with tarfile.open(SHARED / "wh-briefings.tar.xz") as tar:
        for member in tar:
            if not (member.isfile() and member.name.endswith(".md")):
                continue
            if base == "edited" and member.name not in first_old:
                continue
            text = tar.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
            path = folder / member.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(first_old.get(member.name, text), encoding="utf-8")
    with Archive(root) as archive:
        return import_dir(archive, folder).files


def replay(
    root: Path, groups: list[list[dict[str, Any]]], old_every: int, say: Callable[..., None]
) -> list[dict[str, float]]:
    rows: list[dict[str, float]] = []
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # after the base import's events
    with Archive(root) as archive:
        for n, group in enumerate(groups, 1):
            now = start + dt.timedelta(hours=n)
            archive.clock = lambda now=now: now  # type: ignore[misc]
            first = int(archive.index.db.execute("SELECT max(id) FROM events").fetchone()[0])
            row: dict[str, float] = {"sync": n, "edits": len(group)}
            with timed(row, "record"), archive.batch():
                for record in group:
                    head = archive.revision(archive.resolve(loads(record["new"]).source_url))
                    if head.text != record["old"]:  # a URL the public archive kept in two files
                        archive.record(loads(record["old"]), origin="replay", text=record["old"])
                    archive.record(loads(record["new"]), origin="replay", text=record["new"])
            with timed(row, "new"):
                new_step(archive, first, now)
            if n % old_every == 0 or n == len(groups) or n == 1:
                with timed(row, "old"):
                    old_step(archive, first, now)
            row["events"] = archive.index.count_events(EventFilter())
            rows.append(row)
            if "old_wall" in row:
                say(line(row), flush=True)
    return rows


def line(row: dict[str, float]) -> str:
    old = f"{row['old_wall']:7.3f} {row['old_cpu']:7.3f}" if "old_wall" in row else " " * 15
    return (
        f"{int(row['sync']):5d} {int(row['events']):7d} {row['record_wall']:8.3f}"
        f"  {old}  {row['new_wall']:7.3f} {row['new_cpu']:7.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", choices=("all", "edited"), default="all")
    parser.add_argument("--old-every", type=int, default=50, metavar="N")
    parser.add_argument("--syncs", type=int, default=0, help="stop after N syncs (0: all)")
    parser.add_argument("--json", action="store_true", help="every sync's figures as JSON")
    args = parser.parse_args()
    with lzma.open(SHARED / "wh-briefings-revisions.jsonl.xz", "rt", encoding="utf-8") as handle:
        records = sorted((json.loads(x) for x in handle), key=lambda r: r["committed_at"])
    groups = [list(g) for _, g in groupby(records, key=lambda r: r["committed_at"])]
    if args.syncs:
        groups = groups[: args.syncs]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "archive"
        t = time.perf_counter()
        files = build_base(root, args.base, records)
        print(f"base: {files} files imported in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        print(" sync  events   record   old wall  old cpu  new wall new cpu  (seconds)")
        rows = replay(root, groups, args.old_every, print)
    if args.json:
        print(json.dumps(rows))
    olds = [r for r in rows if "old_wall" in r]
    for key, sample in (("old", olds), ("new", rows)):
        walls = [r[f"{key}_wall"] for r in sample]
        cpus = [r[f"{key}_cpu"] for r in sample]
        print(
            f"{key}: announce step, {len(sample)} syncs: wall median"
            f" {statistics.median(walls):.3f} s, max {max(walls):.3f} s, last {walls[-1]:.3f} s;"
            f" CPU median {statistics.median(cpus):.3f} s, last {cpus[-1]:.3f} s"
        )
    edits = sum(int(r["edits"]) for r in rows)
    recording = sum(r["record_wall"] for r in rows)
    print(f"recording the {edits} edits (each announcement rendered once): {recording:.1f} s")


if __name__ == "__main__":
    main()
