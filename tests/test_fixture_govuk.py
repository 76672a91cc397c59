"""The fixture GOV.UK itself, over a socket: search (built from the Search API's documentation,
no raw response being available offline), content, robots.txt, edits, withdrawals, moves by
content id, faults, request counting; and that crawler.kinds.govuk reads what it serves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from crawler.kinds import govuk
from tests.conftest import need
from tests.fixture_govuk import CONTENT_API, FixtureGovuk, generated_item

LATER = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def site() -> Iterator[FixtureGovuk]:
    with FixtureGovuk(generated=25, real=False) as fixture:
        yield fixture


@pytest.fixture
def http(site: FixtureGovuk) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, headers={"Accept": "application/json"}) as client:
        yield client


def _search_page(http: httpx.Client, page: int, count: int, types=govuk.DOCUMENT_TYPES):
    url = govuk.search_url(page, document_types=types, count=count, base="")
    answer = http.get(url)
    assert answer.status_code == 200
    return govuk.parse_search(answer.content)


def test_search_filters_orders_newest_first_and_pages(
    site: FixtureGovuk, http: httpx.Client
) -> None:
    first = _search_page(http, 0, 10)
    second = _search_page(http, 1, 10)
    last = _search_page(http, 2, 10)
    assert first.total == 25 and first.start == 0 and not first.last
    assert (len(second.items), len(last.items), last.last) == (10, 5, True)
    every = [*first.items, *second.items, *last.items]
    times = [f.public_timestamp for f in every]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    assert len({f.content_id for f in every}) == 25
    assert every[0].url == "https://www.gov.uk/government/news/generated-statement-0"
    speeches = _search_page(http, 0, 50, types=("speech",))
    assert speeches.total == 5 and {f.document_type for f in speeches.items} == {"speech"}


def test_search_returns_only_the_fields_asked_and_refuses_unknown_parameters(
    http: httpx.Client,
) -> None:
    answer = http.get("/api/search.json", params={"fields": ["link", "title"], "count": 1})
    assert answer.json()["results"][0].keys() == {"link", "title"}
    assert http.get("/api/search.json", params={"q": "x", "colour": "red"}).status_code == 422


def test_content_edits_with_and_without_a_change_note(
    site: FixtureGovuk, http: httpx.Client
) -> None:
    cid = "00000000-0000-4000-8000-000000000003"
    path = site.item(cid)["base_path"]
    before = http.get("/api/content" + path)
    etag = before.headers["etag"]
    assert http.get("/api/content" + path, headers={"If-None-Match": etag}).status_code == 304
    site.edit(cid, "<p>Minor fix.</p>")  # no note: public_updated_at stays
    minor = http.get("/api/content" + path).json()
    assert minor["public_updated_at"] == before.json()["public_updated_at"]
    assert minor["details"]["body"] == "<p>Minor fix.</p>"
    site.edit(cid, "<p>Major change.</p>", note="Added figures.", at=LATER)
    major = govuk.read_item(http.get("/api/content" + path).content)
    assert major.modified == LATER.astimezone(major.modified.tzinfo)  # type: ignore[union-attr]
    assert [n.note for n in major.change_history] == ["First published.", "Added figures."]


def test_withdrawal_move_by_content_id_and_removal(site: FixtureGovuk, http: httpx.Client) -> None:
    cid = "00000000-0000-4000-8000-000000000001"
    old = site.item(cid)["base_path"]
    site.withdraw(cid, "No longer current.", at=LATER)
    item = govuk.read_item(http.get("/api/content" + old).content)
    assert item.withdrawn is not None and item.withdrawn.explanation == "No longer current."
    site.move(cid, "/government/news/a-new-name")
    moved = http.get("/api/content" + old, follow_redirects=True)
    assert moved.url.path == "/api/content/government/news/a-new-name"
    assert govuk.read_item(moved.content).content_id == cid  # same id, new URL
    found = {f.content_id: f.url for f in _search_page(http, 0, 100).items}
    assert found[cid] == "https://www.gov.uk/government/news/a-new-name"
    site.remove(cid, status=410)
    assert http.get("/api/content/government/news/a-new-name").status_code == 410


def test_faults_429_with_retry_after_then_5xx_then_served(
    site: FixtureGovuk, http: httpx.Client
) -> None:
    site.fail("/api/content", 429, retry_after=7)
    site.fail("/api/content", 503)
    path = "/api/content" + site.item("00000000-0000-4000-8000-000000000000")["base_path"]
    limited = http.get(path)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert http.get(path).status_code == 503
    assert http.get(path).status_code == 200
    assert http.get("/api/search.json").status_code == 200  # other paths unaffected


def test_robots_and_request_counting(site: FixtureGovuk, http: httpx.Client) -> None:
    assert "User-agent: *" in http.get("/robots.txt").text
    http.get("/api/search.json")
    http.get("/api/content/nowhere")
    assert site.count() == 3 and site.count("/api/content") == 1
    assert all(r.headers.get("accept") == "application/json" for r in site.requests)
    site.reset_counts()
    assert site.count() == 0


def test_the_real_items_are_served_and_read_back() -> None:
    need(CONTENT_API)
    with FixtureGovuk() as site, httpx.Client(base_url=site.base_url) as http:
        assert len(site.items) == 9
        for item in site.items.values():
            read = govuk.read_item(http.get("/api/content" + item["base_path"]).content)
            assert read.content_id == item["content_id"]
        page = _search_page(http, 0, 100)
        assert page.total == 9  # every real item is of an archived document type


def test_generated_items_are_statements() -> None:
    item = govuk.read_item(generated_item(7))
    assert item.document_type in govuk.DOCUMENT_TYPES and item.change_history
