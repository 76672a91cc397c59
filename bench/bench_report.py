"""The static HTML report of the whole public archive: time, size, memory, and an incremental run.

    python bench/bench_report.py [--keep DIR]

Builds the archive as a sync would have seen it: the corpus (``../shared/corpus``, 14,396
statements) as it stood before its 1,163 real after-publication edits, imported, then the edits
recorded in ``committed_at`` order (each at its real time), all but the last three commits. Then,
each in a child process of its own (wall and CPU seconds, peak memory ``VmHWM``):

- **baseline, read**: what the report reads and nothing more (every change event, the revisions
  of every changed statement, the runs), no diff and no page;
- **report, whole site**: ``crawler.report.generate`` into an empty folder: pages, bytes;
- **report, re-diffing**: the same into another folder, every event's HTML rendered from its
  revisions instead of read as stored (the path of events recorded before schema 7);
- **report, incremental**: the last three commits' edits recorded, then the report regenerated:
  the pages it rewrote.

The import of the corpus (the other baseline) and the recording of the edits are timed in this
process. ``--keep DIR`` keeps the archive and the report there (to look at it in a browser).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import lzma
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from itertools import groupby
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from storage.archive import Archive  # noqa: E402
from storage.document import loads  # noqa: E402
from storage.importer import import_dir  # noqa: E402

SHARED = PROJECT.parent / "shared" / "corpus"
HELD_BACK = 3  # commits recorded after the first report, for the incremental run

CHILD = """
import json, resource, sys, time
from pathlib import Path
from crawler.report import generate
from storage.archive import Archive
root, out, what = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
wall, cpu = time.perf_counter(), time.process_time()
result = {}
with Archive(root, create=False) as archive:
    if what == "read":
        events = archive.changes(news=True)
        changed = {e.statement_id for e in events if set(e.kinds) - {"new", "reformatted"}}
        rows = {r.id: r for r in archive.statements()}
        revisions = sum(len(archive.revisions(rows[sid])) for sid in changed)
        result = {"events": len(events), "statements": len(changed), "revisions": revisions,
                  "runs": len(archive.runs())}
    else:
        if what == "rediff":  # as for events recorded before their HTML was stored
            archive.announcements = lambda events: {}
        done = generate(archive, out)
        result = {"full": done.full, "rendered": len(done.rendered), "written": len(done.written),
                  "written_pages": done.written[:12]}
result["wall_s"] = time.perf_counter() - wall
result["cpu_s"] = time.process_time() - cpu
result["peak_mb"] = int(next(line.split()[1] for line in open("/proc/self/status")
                             if line.startswith("VmHWM:"))) / 1024
print(json.dumps(result))
"""


def child(root: Path, out: Path, what: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(out), what],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def build(tmp: Path) -> tuple[Path, list[list[dict[str, Any]]], dict[str, float]]:
    """The archive before the edits, then every edit but the held-back commits'."""
    with lzma.open(SHARED / "wh-briefings-revisions.jsonl.xz", "rt", encoding="utf-8") as handle:
        records = sorted((json.loads(x) for x in handle), key=lambda r: r["committed_at"])
    groups = [list(g) for _, g in groupby(records, key=lambda r: r["committed_at"])]
    first_old: dict[str, str] = {}
    for edit in records:
        first_old.setdefault(edit["path"], edit["old"])
    folder = tmp / "base"
    with tarfile.open(SHARED / "wh-briefings.tar.xz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".md"):
                text = tar.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
                path = folder / member.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(first_old.get(member.name, text), encoding="utf-8")
    root = tmp / "archive"
    start = dt.datetime.fromisoformat(records[0]["committed_at"]) - dt.timedelta(days=1)
    figures: dict[str, float] = {}
    with Archive(root, clock=lambda: start) as archive:
        t = time.perf_counter()
        figures["files"] = import_dir(archive, folder).files
        figures["import_s"] = time.perf_counter() - t
        t = time.perf_counter()
        figures["edits"] = record_edits(archive, groups[:-HELD_BACK])
        figures["record_s"] = time.perf_counter() - t
    return root, groups[-HELD_BACK:], figures


def record_edits(archive: Archive, groups: list[list[dict[str, Any]]]) -> int:
    """Record the edits of these commits, each at its commit's time; how many."""
    count = 0
    for group in groups:
        when = dt.datetime.fromisoformat(group[0]["committed_at"])
        archive.clock = lambda when=when: when  # type: ignore[misc]
        with archive.batch():
            for edit in group:
                head = archive.revision(archive.resolve(loads(edit["new"]).source_url))
                if head.text != edit["old"]:  # a URL the public archive kept in two files
                    archive.record(loads(edit["old"]), origin="replay", text=edit["old"])
                archive.record(loads(edit["new"]), origin="replay", text=edit["new"])
                count += 1
    return count


def size_of(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the archive and the report here")
    args = parser.parse_args()
    if not (SHARED / "wh-briefings.tar.xz").exists():
        print(f"bench: {SHARED} is absent", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-report-") as name:
        tmp = Path(name)
        root, held, f = build(tmp)
        out = root / "report"
        read = child(root, out, "read")
        full = child(root, out, "report")
        files, size = size_of(out)
        rediff = child(root, tmp / "rediff", "rediff")
        with Archive(root) as archive:
            edits = record_edits(archive, held)
        again = child(root, out, "report")
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(root, args.keep)
    print(f"archive: {int(f['files']):,} files imported in {f['import_s']:.1f} s (baseline),")
    print(f"         {int(f['edits']):,} real edits recorded in {f['record_s']:.1f} s")
    print(
        f"baseline, read only    {read['wall_s']:7.1f} s wall {read['cpu_s']:7.1f} s CPU"
        f"  {read['peak_mb']:6.0f} MB peak   ({read['events']:,} events,"
        f" {read['statements']:,} changed statements, {read['revisions']:,} revisions)"
    )
    print(
        f"report, whole site     {full['wall_s']:7.1f} s wall {full['cpu_s']:7.1f} s CPU"
        f"  {full['peak_mb']:6.0f} MB peak   ({full['written']:,} pages written;"
        f" {files:,} files, {size / 1e6:.1f} MB)"
    )
    print(
        f"report, re-diffing     {rediff['wall_s']:7.1f} s wall {rediff['cpu_s']:7.1f} s CPU"
        f"  {rediff['peak_mb']:6.0f} MB peak   ({rediff['written']:,} pages written)"
    )
    print(
        f"report, incremental    {again['wall_s']:7.1f} s wall {again['cpu_s']:7.1f} s CPU"
        f"  {again['peak_mb']:6.0f} MB peak   (after {edits} edits in {HELD_BACK} commits:"
        f" {again['written']} pages written of {again['rendered']} rendered:"
        f" {', '.join(again['written_pages'])})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
