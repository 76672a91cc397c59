"""The README's offline walk-through, run as written against a started fixture site.

Every line of the code block under "Trying it offline" is run: the fixture site by hand (on a free
port instead of 8000), then each ``statements`` command in-process, in order, with the block's
``http://127.0.0.1:8000`` and ``/tmp/try`` pointed at the started site and a temporary folder.
A line of another shape fails the test, so the walk-through cannot drift from what works.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crawler.cli import main
from storage.document import loads
from tests.conftest import CORPUS, PROJECT, need
from tests.fixture_site import ARTICLE_PAGE, LISTING_PAGE, ORIGIN, usable_texts

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

README = PROJECT / "README.md"
EXAMPLE_BASE = "http://127.0.0.1:8000"
EXAMPLE_ARCHIVE = "/tmp/try"


def walk_through() -> list[list[str]]:
    """The commands of the README's "Trying it offline" code block, split into words."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Trying it offline", 1)[1].split("\n## ", 1)[0]
    lines = [line[4:] for line in section.splitlines() if line.startswith("    ")]
    assert lines, "the README lost its offline walk-through"
    return [shlex.split(line) for line in lines]


def test_the_walk_through_is_where_the_test_reads_it() -> None:
    commands = walk_through()
    assert commands[0][:3] == [".venv/bin/python", "-m", "tests.fixture_site"]
    assert commands[0][-1] == "&"
    assert all(c[0] == ".venv/bin/statements" for c in commands[1:])
    assert {c[1] for c in commands[1:]} >= {"sync", "discover", "fetch"}


@pytest.fixture(scope="module")
def started() -> Iterator[tuple[str, list[list[str]]]]:
    """The README's fixture site, started as its first line says, on a free port."""
    for path in (CORPUS, ARTICLE_PAGE, LISTING_PAGE):
        need(path)
    first, *rest = walk_through()
    argv = [sys.executable, *first[1:-1], "--quiet"]
    argv[argv.index("--port") + 1] = "0"
    with subprocess.Popen(
        argv, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:"), process.stderr
            yield base_url, rest
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(60) == 0


def test_every_url_the_walk_through_names_is_served(
    started: tuple[str, list[list[str]]],
) -> None:
    base_url, commands = started
    urls = [w for c in commands for w in c if w.startswith(ORIGIN + "/")]
    assert urls
    for url in urls:
        assert httpx.get(base_url + url.removeprefix(ORIGIN), timeout=30).status_code == 200, url


def test_every_command_of_the_walk_through_works(
    started: tuple[str, list[list[str]]],
    corpus: tuple[tuple[str, str], ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_url, commands = started
    count = int(walk_through()[0][walk_through()[0].index("--count") + 1])
    served = {loads(t).source_url: t for t in usable_texts((t for _, t in corpus), count)}
    urls = [w for c in commands for w in c if w.startswith(ORIGIN + "/")]
    archive = tmp_path / "try"
    for command in commands:
        argv = [
            w.replace(EXAMPLE_BASE, base_url).replace(EXAMPLE_ARCHIVE, str(archive))
            for w in command[1:]
        ]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (command, err)
        if argv[0] == "fetch":  # prints the archive file of the statement it was given
            assert out == served[argv[1]]  # byte for byte, as the README says
        if argv[0] == "sync":
            assert len(list(archive.rglob("*.md"))) == count
        if argv[0] == "history":
            assert out.startswith(loads(served[urls[0]]).title + "\n"), out
