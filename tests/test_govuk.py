"""crawler.kinds.govuk's pure pieces: reading items, the URLs, search responses and the stop rule.

The search responses here are built from the Search API's published documentation
(https://docs.publishing.service.gov.uk/repos/search-api/using-the-search-api.html: `results`,
`total`, `start`, the requested `fields`): no raw response was available offline.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.errors import NotAStatement
from crawler.kinds import govuk
from tests.fixture_govuk import generated_item

LAST_SYNC = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _result(n: int, when: str, kind: str = "press_release") -> dict[str, str]:
    return {
        "link": f"/government/news/item-{n}",
        "title": f"Item {n}",
        "public_timestamp": when,
        "content_id": f"id-{n}",
        "content_store_document_type": kind,
    }


#: A response in the documented shape: two results of a total of 5, from start 0.
RESPONSE = {
    "results": [
        _result(1, "2026-11-02T09:00:00.000+00:00"),
        _result(2, "2026-10-31T17:30:00Z", "speech"),
        {"title": "no link"},
        {"link": "https://elsewhere.example/x", "title": "off site"},
    ],
    "total": 5,
    "start": 0,
    "aggregates": {},
    "suggested_queries": [],
}


def test_search_url_filters_by_type_newest_first_with_fields_and_paging() -> None:
    url = govuk.search_url(2, document_types=("speech", "press_release"), count=50)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.gov.uk", "/api/search.json")
    query = parse_qs(parts.query)
    assert query["filter_content_store_document_type"] == ["speech", "press_release"]
    assert query["order"] == ["-public_timestamp"]
    assert query["fields"] == list(govuk.SEARCH_FIELDS)
    assert (query["start"], query["count"]) == (["100"], ["50"])
    with pytest.raises(ValueError):
        govuk.search_url(-1)


def test_parse_search_reads_items_and_total_and_skips_results_without_a_gov_uk_path() -> None:
    page = govuk.parse_search(json.dumps(RESPONSE).encode())
    assert [f.url for f in page.items] == [
        "https://www.gov.uk/government/news/item-1",
        "https://www.gov.uk/government/news/item-2",
    ]
    first, second = page.items
    assert first.public_timestamp == dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    assert second.public_timestamp == dt.datetime(2026, 10, 31, 17, 30, tzinfo=dt.UTC)
    assert (second.content_id, second.document_type, second.title) == ("id-2", "speech", "Item 2")
    assert (page.total, page.start, page.last, len(page.skipped)) == (5, 0, False, 2)
    with pytest.raises(NotAStatement, match="without results"):
        govuk.parse_search(b'{"error": "x"}')
    with pytest.raises(NotAStatement, match="not JSON"):
        govuk.parse_search(b"<html>")


def test_stop_paging_at_a_page_all_settled_or_older_than_since_unless_full() -> None:
    old = govuk.parse_search({**RESPONSE, "results": [_result(3, "2026-10-30T09:00:00Z")]})
    assert govuk.stop_paging(old, lambda item: True)  # every item archived as listed
    assert not govuk.stop_paging(old, lambda item: False)  # one new or edited: go on
    assert not govuk.stop_paging(old, lambda item: True, full=True)
    assert govuk.stop_paging(old, lambda item: False, since=LAST_SYNC)  # all older than since
    page = govuk.parse_search(RESPONSE)
    assert not govuk.stop_paging(page, lambda item: False, since=LAST_SYNC)  # item 1 is newer
    last = govuk.parse_search({**RESPONSE, "start": 4, "total": 5})
    assert govuk.stop_paging(last, lambda item: False, full=True)  # nothing after it


def test_statement_and_content_urls() -> None:
    assert govuk.statement_url("/government/news/x") == "https://www.gov.uk/government/news/x"
    assert (
        govuk.content_url("https://www.gov.uk/government/news/x")
        == "https://www.gov.uk/api/content/government/news/x"
    )
    assert govuk.content_url("https://www.gov.uk/a b", "http://127.0.0.1:1/api/content/") == (
        "http://127.0.0.1:1/api/content/a%20b"
    )


def test_read_item_gives_the_index_its_facts() -> None:
    item = govuk.read_item(generated_item(1))
    declared = item.declared()
    assert declared.about["content_id"] == item.content_id
    assert declared.about["organisations"][0]["title"] == "Cabinet Office"
    assert [n.note for n in declared.notes] == ["First published."]
    assert declared.withdrawn is None
    assert item.published.tzinfo is not None and str(item.published.tzinfo) == "Europe/London"


def test_read_item_refuses_what_is_not_an_archived_statement() -> None:
    with pytest.raises(NotAStatement, match="document type 'guide' is not archived"):
        govuk.read_item({**generated_item(1), "document_type": "guide"})
    with pytest.raises(NotAStatement, match="not JSON"):
        govuk.read_item(b"<!doctype html>")
    with pytest.raises(NotAStatement, match="no base_path"):
        govuk.read_item({"title": "x"})
    with pytest.raises(NotAStatement, match="not a valid date"):
        govuk.read_item({**generated_item(1), "first_published_at": "soon"})
    speeches_only = govuk.read_item(generated_item(2), document_types=("speech",))
    assert speeches_only.document_type == "speech"


def test_a_body_nesting_too_deep_is_refused() -> None:
    deep = "<div>" * (govuk.MAX_DEPTH + 5) + "x" + "</div>" * (govuk.MAX_DEPTH + 5)
    item = {**generated_item(1), "details": {"body": deep}}
    with pytest.raises(NotAStatement, match="nests deeper"):
        govuk.read_item(item)


def test_parse_many_keeps_each_failure_with_its_item() -> None:
    items = [generated_item(1), {**generated_item(2), "document_type": "guide"}, generated_item(3)]
    results = govuk.parse_many(items)
    assert isinstance(results[1], NotAStatement)
    first, third = results[0], results[2]
    assert isinstance(first, tuple) and isinstance(third, tuple)
    assert first[0].body == "Statement number 1 says this.\n" and first[1].content_id.endswith("1")
    assert first[0] == govuk.parse_item(items[0])[0]  # as parsed alone
