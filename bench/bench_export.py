"""``statements export`` on the adopted corpus: throughput and peak memory, streamed.

    python bench/bench_export.py [--archive DIR]

``--archive`` names an adopted corpus archive built before (``bench/bench_search.py --keep
DIR`` builds one: 14,396 files, 1,163 real edits); without it one is built. Each export runs in
a process of its own (``statements export``, as a user runs it) that reports its peak memory
(``VmHWM``); rows per second, MB written and peak memory are printed for every format, latest
revisions and ``--revisions``. Baselines measured in the same run:

- the same export of a small archive (the first 100 files of the corpus): a streamed export's
  peak memory does not grow with the archive, so the two peaks should be close;
- a bare cursor over the same rows with ``sqlite3`` and no formatting (what reading costs).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "bench"))

from bench_search import corpus_archive  # noqa: E402

CHILD = """
import json, sys, time
from crawler.cli import main
t = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - t
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak / 1024}), file=sys.stderr)
"""

BARE = """
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
t = time.perf_counter()
n = 0
for row in db.execute("SELECT s.*, r.* FROM statements s JOIN revisions r"
                      " ON r.statement_id = s.id ORDER BY s.id, r.number"):
    n += 1
seconds = time.perf_counter() - t
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rows": n, "seconds": seconds, "peak_mb": peak / 1024}))
"""


def run_export(archive: Path, fmt: str, revisions: bool, out: Path) -> dict[str, float]:
    argv = ["export", "--archive", str(archive), "--format", fmt, "--out", str(out)]
    argv += ["--revisions"] if revisions else []
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, cwd=PROJECT
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    rows = int(done.stderr.split(" ", 1)[0]) if done.stderr[:1].isdigit() else 0
    return {**report, "rows": rows, "mb": out.stat().st_size / 1e6}


def small_archive(corpus: Path, root: Path, files: int = 100) -> None:
    """An archive of the first ``files`` statement files of another one."""
    source = root.parent / "small-source"
    for path in sorted(corpus.rglob("*.md"))[:files]:
        target = source / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    subprocess.run(
        [sys.executable, "-m", "crawler.cli", "import", str(source), "--archive", str(root)],
        check=True,
        capture_output=True,
        cwd=PROJECT,
    )


def formats() -> list[str]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        print("(pyarrow is not installed: no parquet; pip install '.[parquet]')")
        return ["jsonl", "csv"]
    return ["jsonl", "csv", "parquet"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="an adopted corpus archive built before")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        archive = args.archive
        if archive is None:
            archive = Path(tmp, "archive")
            corpus_archive(archive)
        small = Path(tmp, "small")
        small_archive(archive, small)
        bare = subprocess.run(
            [sys.executable, "-c", BARE, str(archive / ".statements" / "index.sqlite")],
            capture_output=True,
            text=True,
            check=True,
        )
        b = json.loads(bare.stdout)
        print(
            f"{'export':26} {'rows':>7} {'seconds':>8} {'rows/s':>8} {'MB out':>7} {'peak MB':>8}"
        )
        for fmt in formats():
            for revisions in (False, True):
                label = f"{fmt}{' --revisions' if revisions else ''}"
                for name, where in (("corpus", archive), ("small", small)):
                    t = time.perf_counter()
                    r = run_export(where, fmt, revisions, Path(tmp, f"out.{fmt}"))
                    rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
                    print(
                        f"{label + ' (' + name + ')':26} {r['rows']:7,.0f} {r['seconds']:8.2f}"
                        f" {rate:8,.0f} {r['mb']:7.1f} {r['peak_mb']:8.0f}"
                    )
                    assert r["code"] == 0, (label, time.perf_counter() - t)
        rate = b["rows"] / b["seconds"]
        print(
            f"{'baseline: bare cursor':26} {b['rows']:7,} {b['seconds']:8.2f} {rate:8,.0f}"
            f" {'':>7} {b['peak_mb']:8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
