"""crawler.kinds.federalregister's pure pieces: URLs, slices, result pages (the real ones of
../shared), the stop rule, the date rule, the body's preparation and the seed's checks."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.errors import NotAStatement, SourceError
from crawler.kinds import federalregister as fr
from crawler.source import load_source
from tests.conftest import PROJECT, SHARED, need

API = SHARED / "pages" / "federalregister.gov" / "api"
NY = zoneinfo.ZoneInfo("America/New_York")


def test_a_statement_url_is_the_short_link_of_the_document_number() -> None:
    assert fr.statement_url("2026-19417") == "https://www.federalregister.gov/d/2026-19417"
    assert fr.number_of("https://www.federalregister.gov/d/2026-19417") == "2026-19417"
    api = "https://www.federalregister.gov/api/v1/documents/C1-2026-19417"
    assert fr.number_of(api) == fr.number_of(api + ".json") == "C1-2026-19417"
    page = "https://www.federalregister.gov/documents/2026/09/22/2026-19417/restoring-american"
    assert fr.number_of(page) == "2026-19417"  # a correction may be listed by its page
    assert fr.number_of("https://www.federalregister.gov/documents/search") is None
    assert fr.document_url("https://www.federalregister.gov/d/93-32104") == (
        "https://www.federalregister.gov/api/v1/documents/93-32104.json"
    )


def test_the_search_url_asks_presidential_documents_of_a_slice_newest_first() -> None:
    piece = fr.Slice(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    parts = urlsplit(fr.search_url(piece, page_size=50, types=("executive_order",)))
    assert (parts.netloc, parts.path) == ("www.federalregister.gov", "/api/v1/documents.json")
    query = parse_qs(parts.query)
    assert query["conditions[type][]"] == ["PRESDOCU"]
    assert query["conditions[presidential_document_type][]"] == ["executive_order"]
    assert query["conditions[publication_date][gte]"] == ["2025-01-01"]
    assert query["conditions[publication_date][lte]"] == ["2025-12-31"]
    assert (query["order"], query["per_page"]) == (["newest"], ["50"])
    assert query["fields[]"] == list(fr.SEARCH_FIELDS)
    newest = parse_qs(urlsplit(fr.search_url(fr.Slice(dt.date(2026, 1, 1)))).query)
    assert "conditions[publication_date][lte]" not in newest  # the newest slice is open


def test_slices_are_years_newest_first_and_a_slice_over_the_cap_halves() -> None:
    slices = list(fr.year_slices(2026, 2024))
    assert slices == [
        fr.Slice(dt.date(2026, 1, 1)),
        fr.Slice(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        fr.Slice(dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ]
    newer, older = fr.halve(slices[1], dt.date(2025, 12, 30))
    assert older == fr.Slice(dt.date(2025, 1, 1), dt.date(2025, 7, 2))
    assert newer == fr.Slice(dt.date(2025, 7, 3), dt.date(2025, 12, 31))
    assert fr.halve(slices[0], dt.date(2026, 3, 1))[0].end is None  # still open
    assert fr.halve(fr.Slice(dt.date(2025, 5, 5), dt.date(2025, 5, 5)), dt.date(2025, 5, 5)) == ()


def test_the_real_result_pages_give_their_documents_and_cursor() -> None:
    one = fr.parse_page(need(API / "presdocu_newest_page1.json").read_bytes())
    two = fr.parse_page(need(API / "presdocu_newest_page2.json").read_bytes())
    assert [e.number for e in one.entries] == ["2026-19555", "2026-19554"]
    assert [e.number for e in two.entries] == ["2026-19417", "2026-19416"]
    assert one.count == 8582 and one.newest == dt.date(2026, 9, 23)
    assert one.next_url is not None and "search_after_cursor=" in one.next_url
    assert two.entries[0].title == "Restoring American Saltwater Angling and Recreation"
    assert all(e.corrects is None for e in one.entries + two.entries)


def test_a_correction_is_known_by_correction_of_or_by_its_number() -> None:
    listing = fr.parse_page(need(API / "eo_order_by_eo_number_fields.json").read_bytes())
    assert [e.corrects for e in listing.entries] == ["2014-25788", "2013-20465"]  # real: C1-...
    of = "https://www.federalregister.gov/api/v1/documents/2026-19417"
    assert fr.corrected("X-1", of) == "2026-19417"  # from correction_of (documented shape)
    assert fr.corrected("2026-19417", None) is None


def _entry(n: int, day: dt.date, corrects: str | None = None) -> fr.Entry:
    return fr.Entry(f"2026-{n}", f"Doc {n}", day, "Notice", corrects)


def test_the_stop_rule() -> None:
    page = fr.ResultPage((_entry(1, dt.date(2026, 2, 2)), _entry(2, dt.date(2026, 2, 1))), 9, "n")
    assert fr.stop_paging(page, lambda e: True)
    assert not fr.stop_paging(page, lambda e: e.number == "2026-1")
    assert not fr.stop_paging(page, lambda e: True, full=True)
    assert fr.stop_paging(page, lambda e: False, since=dt.date(2026, 3, 1))
    assert not fr.stop_paging(fr.ResultPage((), 0, None), lambda e: True)  # an empty slice


def test_the_date_rule_is_midnight_in_new_york_whatever_the_season() -> None:
    assert fr.day_start(dt.date(2026, 9, 22), NY).isoformat() == "2026-09-22T00:00:00-04:00"
    assert fr.day_start(dt.date(1994, 1, 3), NY).isoformat() == "1994-01-03T00:00:00-05:00"
    assert fr.day_start(dt.date(2026, 3, 8), NY).isoformat() == "2026-03-08T00:00:00-05:00"


def test_tags_are_the_presidential_document_type_codes() -> None:
    assert fr.subtype_tag("Executive Order") == "executive_order"
    assert fr.subtype_tag("Determination") == "determination"
    assert fr.subtype_tag(None) == "presidential_document"


def test_the_real_eo_14430_is_read_with_its_facts_for_the_index() -> None:
    doc = json.loads(need(API / "document_2026-19417_eo14430.json").read_bytes())
    text = need(API / "full_text_html_2026-19417.html").read_text("utf-8")
    read = fr.read_bundle(fr.bundle(doc, text))
    assert (read.number, read.tags, read.signing_date) == (
        "2026-19417",
        "executive_order",
        dt.date(2026, 9, 17),
    )
    about = read.declared().about
    assert about["executive_order_number"] == "14430" and about["citation"] == "91 FR 60293"
    assert read.declared().notes == ()
    assert "printed page" not in read.body_html and "Billing code" not in read.body_html
    assert "<h1" not in read.body_html  # the title, already in the front matter
    assert 'href="https://www.federalregister.gov/executive-order/14313"' in read.body_html
    assert "THE WHITE HOUSE" in read.body_html and "class=" not in read.body_html


def test_a_reply_that_is_no_bundle_is_refused() -> None:
    with pytest.raises(NotAStatement, match="not JSON"):
        fr.read_bundle(b"<html>")
    with pytest.raises(NotAStatement, match="no document"):
        fr.read_bundle(b'{"results": []}')


def test_the_seed_loads_and_its_checks_say_which_key(tmp_path: Path) -> None:
    seed = load_source(PROJECT / "seeds" / "federalregister.toml")
    assert (seed.kind, seed.enabled, seed.timezone) == (
        "federalregister",
        False,
        "America/New_York",
    )
    assert seed.discovery == ("documents-api",)
    assert seed.statement_match("https://www.federalregister.gov/d/2026-19417")
    text = (PROJECT / "seeds" / "federalregister.toml").read_text(encoding="utf-8")
    bad = tmp_path / "federalregister.toml"
    bad.write_text(text.replace("page_size = 100", "page_size = 5000"))
    with pytest.raises(SourceError, match="page_size"):
        load_source(bad)
