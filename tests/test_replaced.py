"""A different document published at a known URL is ``replaced``, not an update of it.

The real case: the 23 June 2025 War Powers letter and the 30 June South Bow pipeline permit share
one ``source_url`` in the public archive. Near misses from the real edits must stay updates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from storage import diff as wdiff
from storage.archive import Archive
from storage.document import Statement, loads
from storage.importer import import_dir
from tests.fixture_site import FixtureSite
from tests.test_import import WAR_POWERS

pytestmark = [pytest.mark.corpus]
SOUTH_BOW = WAR_POWERS.replace("06-23", "06-30")


@pytest.fixture(scope="module")
def pair(corpus: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    texts = dict(corpus)
    return texts[WAR_POWERS], texts[SOUTH_BOW]


def real_edit(revisions: tuple[dict[str, Any], ...], slug: str) -> tuple[Statement, Statement]:
    """The heaviest of a statement's real edits: the fewest three-word runs kept."""
    pairs = [
        (loads(str(r["old"])), loads(str(r["new"]))) for r in revisions if slug in str(r["path"])
    ]
    return min(
        pairs, key=lambda p: wdiff.overlap(wdiff.shingles(p[0].body), wdiff.shingles(p[1].body))
    )


def test_the_real_pair_is_a_replacement(pair: tuple[str, str]) -> None:
    old, new = (loads(t) for t in pair)
    assert old.source_url == new.source_url
    assert "War Powers" in old.body and "South Bow" in new.body
    assert wdiff.is_replacement(old, new) and wdiff.is_replacement(new, old)


def test_near_misses_stay_updates(revisions: tuple[dict[str, Any], ...]) -> None:
    # A heavy real edit, re-dated: a fifth of its three-word runs kept, the same title.
    old, new = real_edit(revisions, "reforming-foreign-defense-sales")
    assert old.published_time != new.published_time
    assert wdiff.overlap(wdiff.shingles(old.body), wdiff.shingles(new.body)) < 0.3
    assert not wdiff.is_replacement(old, new)
    assert "updated" in wdiff.classify(old, new)
    # A near-total rewrite under the same title and publication time.
    old, new = real_edit(revisions, "bidenomics-and-the-investing")
    assert not wdiff.is_replacement(old, new) and "updated" in wdiff.classify(old, new)
    # A retitle alone.
    retitled = old.replace(title="Another title altogether")
    assert not wdiff.is_replacement(old, retitled)
    assert wdiff.classify(old, retitled) == ("retitled",)


def test_import_keeps_both_documents(
    pair: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    for path, text in zip((WAR_POWERS, SOUTH_BOW), pair, strict=True):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    root = tmp_path / "archive"
    with Archive(root) as archive:
        report = import_dir(archive, folder)
        assert report.new == 2 and not report.problems
        url = loads(pair[0]).source_url
        new = archive.resolve(url)
        old = archive.resolve(WAR_POWERS)
        assert old.status == "replaced" and new.status == "active" and old.id != new.id
        assert new.path != old.path and (root / new.path).read_text() == pair[1]
        assert (root / old.path).read_text() == pair[0]  # the old document keeps its file
        (event,) = archive.index.events(kinds=["replaced"])
        assert event.statement_id == new.id and event.kinds == ("replaced",)
        assert event.detail["replaces"] == {"id": old.id, "path": old.path, "title": old.title}
        assert event.diff is not None and event.diff.startswith("Replaced: a different document")
        assert old.title in event.diff  # an alert names both documents
    assert main(["diff", url, "--archive", str(root)]) == 0
    out = capsys.readouterr().out
    assert "replaced" in out and old.title in out and new.title in out
    assert old.path in out and new.path in out and "[-" not in out
    assert main(["history", WAR_POWERS, "--archive", str(root)]) == 0
    out = capsys.readouterr().out
    assert "(replaced)" in out and f"replaced by {new.title}" in out
    assert main(["history", url, "--archive", str(root), "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert history["revisions"][0]["kinds"] == ["replaced"]
    assert main(["verify", "--archive", str(root)]) == 0


def test_sync_records_a_replacement_over_a_socket(pair: tuple[str, str], tmp_path: Path) -> None:
    root = tmp_path / "archive"
    url = loads(pair[0]).source_url
    with FixtureSite([pair[0]]) as site:
        assert main([*site.sync_args(root, "--full", "--json")]) == 0
        site.edit(url, pair[1])
        assert main([*site.sync_args(root, "--json")]) == 0
    with Archive(root) as archive:
        (event,) = archive.index.events(kinds=["replaced"])
        new, old = archive.resolve(url), archive.index.by_id(event.detail["replaces"]["id"])
        assert new.title == loads(pair[1]).title and old.title == loads(pair[0]).title
        assert old.status == "replaced" and (root / old.path).exists()
        assert (root / new.path).exists() and new.path != old.path
        assert archive.index.fetch_state(url).statement_id == new.id  # type: ignore[union-attr]
