"""Import the whole public archive (../shared/corpus) into a fresh archive, and measure it.

    python bench/bench_import.py [--corpus PATH]

Prints import seconds, files per second and peak memory (RSS of the importing process), beside
a baseline measured in the same run: copying the same files with ``shutil.copytree``. Then the
cost of a no-op re-import and of adopting the archive in place.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus" / "wh-briefings.tar.xz"

CHILD = """
import json, sys, time
from storage.archive import Archive
from storage.importer import import_dir
src, dst = sys.argv[1], sys.argv[2]
with Archive(dst) as archive:
    t = time.perf_counter(); first = import_dir(archive, src); first_s = time.perf_counter() - t
    t = time.perf_counter(); again = import_dir(archive, src); again_s = time.perf_counter() - t
    t = time.perf_counter(); adopt = import_dir(archive, dst); adopt_s = time.perf_counter() - t
print(json.dumps({
    "files": first.files, "new": first.new, "revised": first.revised,
    "problems": len(first.problems), "import_s": first_s,
    "reimport_s": again_s, "reimport_unchanged": again.unchanged,
    "adopt_s": adopt_s, "adopt_unchanged": adopt.unchanged,
    "peak_rss_mb": int(next(line.split()[1] for line in open("/proc/self/status")
                            if line.startswith("VmHWM:"))) / 1024,
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"bench: {args.corpus} is absent", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        src = Path(tmp, "corpus")
        with tarfile.open(args.corpus) as tar:
            tar.extractall(src, filter="data")
        t = time.perf_counter()
        shutil.copytree(src, Path(tmp, "copy"))
        copy_s = time.perf_counter() - t
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(src), str(Path(tmp, "archive"))],
            check=True,
            capture_output=True,
            text=True,
            cwd=PROJECT,
        )
        r = json.loads(out.stdout)
        index_mb = Path(tmp, "archive", ".statements", "index.sqlite").stat().st_size / 1e6
    print(
        f"files imported           {r['files']:>9,}  ({r['new']:,} new statements, "
        f"{r['revised']} revisions of URLs the corpus holds twice, {r['problems']} problems)"
    )
    print(f"import seconds           {r['import_s']:>9.1f}")
    print(f"files per second         {r['files'] / r['import_s']:>9,.0f}")
    print(f"peak RSS (import child)  {r['peak_rss_mb']:>9.0f} MB")
    print(f"index size               {index_mb:>9.0f} MB")
    print(
        f"baseline: copytree       {copy_s:>9.1f} s   import / copy = {r['import_s'] / copy_s:.1f}x"
    )
    unchanged = r["reimport_unchanged"]
    print(f"re-import, no change     {r['reimport_s']:>9.1f} s   ({unchanged:,} unchanged)")
    print(f"adopt in place           {r['adopt_s']:>9.1f} s   ({r['adopt_unchanged']:,} unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
