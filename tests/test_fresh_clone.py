"""The suite on a fresh clone: without ../shared, the README's test command passes, and every
test that needs the real data skips saying why.

It runs the README's test command (``python -m pytest``) in a subprocess with
``STATEMENTS_SHARED`` pointed at an empty folder (``tests/conftest.py`` reads it), this file left
out. Cost: the tests that need no shared data run a second time, about two minutes of the
suite's work (136 s in a measured run on 2 cores).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT

pytestmark = pytest.mark.slow

NESTED = "STATEMENTS_FRESH_CLONE_RUN"


@pytest.mark.heavy(seconds=100)  # on 2 quiet cores
@pytest.mark.skipif(NESTED in os.environ, reason="already inside the fresh-clone run")
def test_the_suite_passes_without_shared_data_and_says_why_it_skips(tmp_path: Path) -> None:
    empty = tmp_path / "no-shared"
    empty.mkdir()
    env = {**os.environ, "STATEMENTS_SHARED": str(empty), NESTED: "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'basetemp'}",
            f"--ignore={Path(__file__).relative_to(PROJECT)}",
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (\w+)", summary)}
    assert counts.get("passed", 0) > 100 and counts.get("skipped", 0) > 10, summary
    assert not {"failed", "error", "errors", "xpassed"} & set(counts), summary
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    # The skips for want of shared data name the file they lack (in the empty folder); any
    # other skip (a read-only mount not permitted here) says why in its own words.
    assert sum(str(empty) in s for s in skips) > 10, skips
    generic = [s for s in skips if "empty parameter set" in s or s.rstrip().endswith(":")]
    assert not generic, generic
    print(f"\nwithout ../shared: {summary}")
