"""No false alarms on an adopted archive: the public archive, re-checked against its own words.

The public archive was written by older recipes: some files keep ``data-fetchpriority="high"`` in
raw ``<img>`` HTML (today's seed strips ``data-*``), some use ``- item`` list markers where today's
pandoc writes ``-   item``. A reader sees no difference, so a ``sync --full`` against a site that
serves the archive's own words must report no ``updated`` and no ``silent`` change; a real
one-word edit planted among them must still be ``updated`` (and ``silent`` when unannounced).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from storage.archive import Archive
from storage.document import Statement, dumps, loads
from tests.fixture_site import FixtureSite, usable_texts

pytestmark = [pytest.mark.corpus]

FETCHPRIORITY = re.compile(r'<img[^>]*\sdata-fetchpriority="high"')
TIGHT_LIST = re.compile(r"^- \S", re.M)


def drift_cases(texts: list[str]) -> tuple[list[str], list[str]]:
    """The served texts written by an older recipe: raw ``<img>`` noise, tight list markers."""
    noisy = [t for t in texts if FETCHPRIORITY.search(loads(t).body)]
    tight = [t for t in texts if TIGHT_LIST.search(loads(t).body)]
    return noisy, tight


def adopt(corpus: tuple[tuple[str, str], ...], root: Path, urls: set[str] | None) -> None:
    """Lay out the public archive's files (those of ``urls``, or all) and adopt them in place."""
    for name, text in corpus:
        if urls is None or loads(text).source_url in urls:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
    assert main(["import", str(root), "--archive", str(root), "--json"]) in (0, 1)


def full_sync(site: FixtureSite, root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    main(site.sync_args(root, "--full", "--json"))
    report = json.loads(capsys.readouterr().out)
    (source,) = report["sources"]
    return dict(source)


def alarms(report: dict[str, Any]) -> Counter[str]:
    """Events by kind, for ``updated`` and ``silent``: the alarms a user acts on."""
    found: Counter[str] = Counter()
    for event in report["events"]:
        found.update(k for k in event["kinds"] if k in ("updated", "silent"))
    return found


def one_word_edit(text: str) -> str:
    statement = loads(text)
    body = re.sub(r"\bthe\b", "THE", statement.body, count=1)
    assert body != statement.body
    return dumps(Statement(statement.meta, body))


def measure(
    corpus: tuple[tuple[str, str], ...],
    root: Path,
    capsys: pytest.CaptureFixture[str],
    served: list[str],
    *,
    adopt_all: bool,
) -> dict[str, Any]:
    """Adopt the corpus's files, serve the statements of ``served`` as the archive holds them
    (read as CommonMark: see ``READERS``), and run ``sync --full``: its report."""
    urls = {loads(t).source_url for t in served}
    adopt(corpus, root, None if adopt_all else urls)
    with FixtureSite(as_archived(root, served), reader="commonmark") as site:
        return full_sync(site, root, capsys)


def as_archived(root: Path, texts: list[str]) -> list[str]:
    """The archive's latest text of each statement: where the public archive kept two files of
    one URL (16 cases, real edits between them), the one the adopted archive ends on."""
    with Archive(root) as archive:
        rows = [archive.resolve(loads(t).source_url) for t in texts]
        return [archive.revision(row).text for row in rows]


@pytest.fixture(scope="module")
def served(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    return usable_texts(t for _, t in corpus)


def subset(served: list[str]) -> list[str]:
    """Some of each drift case, and other statements."""
    noisy, tight = drift_cases(served)
    plain = [t for t in served if t not in noisy and t not in tight]
    return noisy[::12] + tight[::8] + plain[::100]


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


def test_drift_is_reformatted_not_updated_and_a_real_edit_still_is(
    corpus: tuple[tuple[str, str], ...],
    served: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts = subset(served)
    noisy, tight = drift_cases(texts)
    assert len(noisy) >= 10 and len(tight) >= 10
    root = tmp_path / "archive"
    adopt(corpus, root, {loads(t).source_url for t in texts})
    texts = as_archived(root, texts)
    before = files(root)
    with FixtureSite(texts, reader="commonmark") as site:
        report = full_sync(site, root, capsys)
        assert not alarms(report) and not report["events"], report["events"]
        assert report["counts"]["reformatted"] >= len(noisy) + len(tight)
        assert files(root) == before  # adopted files keep their bytes
        # A real one-word edit in an old-recipe file, announced; another one silent.
        announced, quiet = loads(noisy[0]).source_url, loads(tight[0]).source_url
        site.edit(announced, one_word_edit(noisy[0]))
        site.edit(quiet, one_word_edit(tight[0]), bump_lastmod=False)
        report = full_sync(site, root, capsys)
    kinds = {e["url"]: e["kinds"] for e in report["events"]}
    assert kinds == {announced: ["updated", "metadata"], quiet: ["updated", "silent"]}
    assert main(["diff", announced, "--archive", str(root), "--format=json"]) == 0
    body = json.loads(capsys.readouterr().out)["body"]
    assert [(c["old"], c["new"]) for c in body] == [("the", "THE")]  # no attribute noise

    # On request, the reformat-only files are rewritten in today's rendering, never alerted.
    assert main(["reformat", "--archive", str(root), "--dry-run", "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)["reformatted"]
    assert (len(pending) >= len(noisy) + len(tight) - 2 and files(root) != before) or pending
    assert main(["reformat", "--archive", str(root), "--json"]) == 0
    done = json.loads(capsys.readouterr().out)["reformatted"]
    assert [d["path"] for d in done] == [p["path"] for p in pending]
    assert main(["changes", "--archive", str(root), "--kind", "reformatted", "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert len(events) == len(done) and all(e["kinds"] == ["reformatted"] for e in events)
    assert main(["verify", "--archive", str(root)]) == 0
    capsys.readouterr()


@pytest.mark.heavy(seconds=150)  # on 2 quiet cores
@pytest.mark.slow
def test_full_sync_of_the_adopted_corpus_raises_no_false_alarm(
    corpus: tuple[tuple[str, str], ...],
    served: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = measure(corpus, tmp_path / "archive", capsys, served, adopt_all=True)
    with capsys.disabled():
        print(f"\n{len(served)} statements served: {dict(report['counts'])}, {alarms(report)}")
    assert not alarms(report)
