"""The static report in a real browser: Debian's Chromium, headless, as plain subprocesses.

``chromium --headless --dump-dom`` gives the DOM as the browser built it from a page (so the
deleted and inserted words are checked where the browser put them), ``--screenshot`` keeps a
picture of the index and of a diff page at phone and desktop widths (in
``$STATEMENT_SYNC_ARTIFACTS``, default ``artifacts/screenshots`` in the repository, git-ignored),
and ``--enable-logging=stderr --v=0`` prints every console message: one run loads every page of
the site in frames beside a page that logs an error on purpose, which must be the only one seen.

Without Chromium these tests skip, saying why; CI (``.ci/run``) installs it and sets
``STATEMENT_SYNC_REQUIRE_BROWSER=1``, and then a missing browser fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.report.site import generate
from storage.archive import Archive
from tests.conftest import PROJECT
from tests.test_archive import URL
from tests.test_report import check_page, planted, read_page

pytestmark = pytest.mark.slow
WIDTHS = {"phone": 390, "desktop": 1280}
HEIGHT = 1400
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?:?\d*\] \"(?P<message>.*)\", source: (?P<source>\S+)")


def chromium() -> str:
    found = shutil.which(os.environ.get("STATEMENT_SYNC_CHROMIUM", "chromium"))
    if found is None:
        why = "chromium is not installed (apt-get install chromium); the browser tests need it"
        if os.environ.get("STATEMENT_SYNC_REQUIRE_BROWSER"):
            pytest.fail(why + " and STATEMENT_SYNC_REQUIRE_BROWSER is set (CI)")
        pytest.skip(why)
    return found


def run(browser: str, profile: Path, url: str, *options: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run on ``url``; no network is reachable from a ``file://`` site."""
    args = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *options,
        url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@dataclass(frozen=True)
class Seen:
    """What the browser made of the site."""

    out: Path
    archive: Path
    statement: Path  # the diff page
    doms: dict[str, str]  # page -> the DOM Chromium built
    console: list[tuple[str, str]]  # (message, source) of every console message
    shots: dict[str, Path]


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Seen:
    browser = chromium()
    tmp = tmp_path_factory.mktemp("browser")
    with planted(tmp / "archive") as archive:
        out = tmp / "report"
        generate(archive, out)
        statement = out / f"statements/{archive.resolve(URL).id}.html"
    shots_dir = Path(
        os.environ.get("STATEMENT_SYNC_ARTIFACTS", PROJECT / "artifacts" / "screenshots")
    )
    shots_dir.mkdir(parents=True, exist_ok=True)
    harness = _harness(tmp, sorted(out.rglob("*.html")))
    jobs: dict[str, tuple[str, Sequence[str]]] = {
        "dom:index": ((out / "index.html").as_uri(), ["--dump-dom"]),
        "dom:statement": (statement.as_uri(), ["--dump-dom"]),
        "console": (harness.as_uri(), ["--dump-dom", "--enable-logging=stderr", "--v=0"]),
    }
    shots = {}
    for page, path in (("index", out / "index.html"), ("diff", statement)):
        for name, width in WIDTHS.items():
            shot = shots_dir / f"report-{page}-{name}-{width}px.png"
            shot.unlink(missing_ok=True)
            shots[f"{page}-{name}"] = shot
            jobs[f"shot:{page}-{name}"] = (
                path.as_uri(),
                [f"--screenshot={shot}", f"--window-size={width},{HEIGHT}"],
            )
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = {
            key: pool.submit(run, browser, tmp / f"profile-{n}", url, *options)
            for n, (key, (url, options)) in enumerate(jobs.items())
        }
        results = {key: future.result() for key, future in done.items()}
    for key, result in results.items():
        assert result.returncode == 0, (key, result.stderr[-2000:])
    console = [(m["message"], m["source"]) for m in CONSOLE.finditer(results["console"].stderr)]
    doms = {k.removeprefix("dom:"): r.stdout for k, r in results.items() if k.startswith("dom:")}
    print(f"\nreport screenshots: {shots_dir}")
    return Seen(out, tmp / "archive", statement, doms, console, shots)


def _harness(tmp: Path, pages: list[Path]) -> Path:
    """A page framing every page of the site, and one that logs an error (the control)."""
    control = tmp / "control.html"
    control.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>control</title></head><body>'
        '<script>console.error("control error")</script></body></html>'
    )
    frames = "".join(f'<iframe src="{p.as_uri()}"></iframe>' for p in [control, *pages])
    harness = tmp / "harness.html"
    harness.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>all pages</title></head>'
        f"<body>{frames}</body></html>"
    )
    return harness


def test_the_index_lists_the_planted_changes(seen: Seen) -> None:
    dom = read_page(seen.doms["index"])
    with Archive(seen.archive, create=False) as archive:
        changes = [e for e in archive.changes() if set(e.kinds) - {"new"}]
    statement_links = [link for link in dom.links if link.startswith("statements/")]
    assert statement_links == [f"statements/{e.statement_id}.html#event-{e.id}" for e in changes]
    assert len(changes) >= 8
    flags = dom.text("strong")
    assert {"Silent edit", "Reverted", "Replaced document", "Removed"} <= set(flags)
    assert dom.text("h1") == ["Recent changes"]


def test_a_statement_page_shows_the_deleted_and_inserted_words_in_place(seen: Seen) -> None:
    dom = seen.doms["statement"]
    page = read_page(dom)
    assert page.text("del") == ["seven", "six", "three"]  # newest change first
    assert page.text("ins") == ["six", "seven", "four and six"]
    assert sides(dom) == [
        ("One two four and seven.", "One two four and six."),
        ("One two four and six.", "One two four and seven."),
        ("One two three.", "One two four and six."),
    ]  # without the inserted words each hunk reads as before, without the deleted ones as after
    assert "One two <del>three</del><ins>four and six</ins>." in dom  # the DOM Chromium built


def sides(dom: str) -> list[tuple[str, str]]:
    """Each hunk (``li``) of a diff as (the text before, the text after)."""

    def text(markup: str) -> str:
        return re.sub(r"\s+", " ", re.sub("<[^>]+>", "", markup)).strip()

    return [
        (text(re.sub(r"<ins>.*?</ins>", "", hunk)), text(re.sub(r"<del>.*?</del>", "", hunk)))
        for hunk in re.findall(r"<li>(.*?)</li>", dom, re.S)
    ]


def test_links_between_pages_work(seen: Seen) -> None:
    for name, dom in seen.doms.items():
        base = seen.out / "index.html" if name == "index" else seen.statement
        for link in read_page(dom).links:
            if link.startswith(("https://", "#")):
                continue
            path, _, anchor = link.partition("#")
            target = (base.parent / path).resolve()
            assert target.is_file(), (name, link)
            if anchor:
                assert anchor in read_page(target.read_text("utf-8")).ids, (name, link)
            if target.suffix == ".html":
                check_page(target.read_text("utf-8"))


def test_no_page_has_console_errors(seen: Seen) -> None:
    control = [m for m, source in seen.console if source.endswith("/control.html")]
    assert control == ["control error"]  # the browser's console is read: the control is seen
    assert [c for c in seen.console if not c[1].endswith("/control.html")] == []


def test_screenshots_at_phone_and_desktop_widths(seen: Seen) -> None:
    for key, shot in seen.shots.items():
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", key
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (WIDTHS[key.split("-")[1]], HEIGHT), key
        assert len(data) > 10_000, key  # a rendered page, not a blank one


def test_without_chromium_ci_fails_and_a_local_run_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATEMENT_SYNC_CHROMIUM", "no-such-browser-here")
    monkeypatch.delenv("STATEMENT_SYNC_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.setenv("STATEMENT_SYNC_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="STATEMENT_SYNC_REQUIRE_BROWSER is set"):
        chromium()
