"""A statement published empty is still a statement: archived as the public archive wrote it,
its later fill-in recorded as an edit (silent when unannounced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.errors import NotAStatement
from crawler.parse import Page, parse_many, parse_statement
from storage.archive import Archive
from storage.document import dumps, loads
from tests.fixture_site import FixtureSite, seed

pytestmark = [pytest.mark.corpus]
PATH = "briefings-statements/2025-01/2025-01-20-president-trumps-america-first-priorities.md"
URL = "https://www.whitehouse.gov/briefings-statements/2025/01/president-trumps-america-first-priorities/"


@pytest.fixture(scope="module")
def fill_in(revisions: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The public archive's commit that filled the empty statement in (2025-01-22)."""
    (record,) = [r for r in revisions if r["path"] == PATH]
    return record


def test_the_empty_statement_is_archived_byte_for_byte(fill_in: dict[str, Any]) -> None:
    empty = fill_in["old"]
    assert empty.endswith("---\n \n")  # the public archive wrote no body at all
    site = FixtureSite([empty])  # pages rendered in-process, not served
    page = site.respond(site.url_path(URL)).body
    assert b"wp-block-whitehouse-topper__headline" in page
    assert dumps(parse_statement(page, URL, seed())) == empty
    (batched,) = parse_many([Page(page, URL)], seed())
    assert dumps(batched) == empty  # type: ignore[arg-type]


def test_the_filled_in_page_gives_the_corpus_file(
    fill_in: dict[str, Any], corpus: tuple[tuple[str, str], ...]
) -> None:
    assert dict(corpus)[PATH] == fill_in["new"]
    assert loads(fill_in["new"]).modified_time == loads(fill_in["old"]).modified_time  # unannounced


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Page not found</title></head><body><main></main></body></html>",
        "<html><head><meta property='og:title' content='Page not found \u2013 The White House'>"
        "</head><body><main><h1>Page not found</h1></main></body></html>",
        "<main><h1 class='wp-block-whitehouse-topper__headline'>T</h1></main>",
    ],
)
def test_soft_404s_and_pages_without_the_markup_are_still_refused(html: str) -> None:
    with pytest.raises(NotAStatement, match=r"no title|no publication time"):
        parse_statement(html, URL, seed())


def test_published_empty_then_filled_in_silently_is_updated_silent(
    fill_in: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive_dir = tmp_path / "archive"
    with FixtureSite([fill_in["old"]]) as site:
        assert main(site.sync_args(archive_dir, "--full", "--json")) == 0
        first = json.loads(capsys.readouterr().out)["sources"][0]
        assert first["counts"] == {"new": 1} and not first["failures"]
        with Archive(archive_dir) as archive:
            row = archive.index.by_url(URL)
            assert row is not None
            assert (archive_dir / row.path).read_text(encoding="utf-8") == fill_in["old"]

        site.edit(URL, fill_in["new"], bump_lastmod=False)  # the words appear, nothing announced
        site.reset_counts()
        assert main(site.sync_args(archive_dir, "--json")) == 0
        plain = json.loads(capsys.readouterr().out)["sources"][0]
        assert site.statement_requests() == 0 and not plain["events"]

        assert main(site.sync_args(archive_dir, "--full", "--json")) == 0
        full = json.loads(capsys.readouterr().out)["sources"][0]
    (event,) = full["events"]
    assert set(event["kinds"]) == {"updated", "silent"}
    assert (archive_dir / row.path).read_text(encoding="utf-8") == fill_in["new"]
    with Archive(archive_dir) as archive:
        assert archive.index.count_statements() == 1
        assert [r.body == "" for r in archive.index.revisions(row.id)] == [True, False]
