"""Source kinds are a seam (crawler/kinds): the registry, the html kind, and a kind of this test's
own, a tiny JSON API, that plugs in with one module's worth of code and syncs end to end through
``crawler.sync()`` over a socket: discovery by its own method, statements fetched from another
URL than their page's (``fetch_url``) with ``Accept: application/json``, stable ids, a move by
id, extra front-matter keys, conditional GET keyed by the statement URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import crawler
from crawler.cli import main
from crawler.discover import Found
from crawler.errors import FetchError, NotAStatement, RobotsDisallowed, SourceError
from crawler.fetch import Fetcher, Response, make_client
from crawler.kinds import (
    BUILTIN,
    Fetched,
    Kind,
    Method,
    Parsed,
    Walk,
    kind_of,
    kinds,
    one_by_one,
    register,
    template_fetch_url,
    unregister,
    with_extra_keys,
)
from crawler.source import Source, load_source
from crawler.walk import Discovered, discover
from storage.archive import Archive
from storage.document import new_statement
from tests.conftest import PROJECT

ORIGIN = "https://data.example.gov"

# -- the test's own kind: one module's worth of code ------------------------------------------


@dataclass(frozen=True)
class ApiOptions:
    """The kind's own seed options: the table [test-api]."""

    index: str = "/api/index.json"


def read_index(fetcher: Fetcher, source: Source, result: Discovered, walk: Walk) -> None:
    """The kind's own discovery method: a JSON list of page URLs."""
    url = source.absolute(source.kind_options.index)
    response = fetcher.get(url)
    if response.status != 200:
        raise FetchError(f"answered HTTP {response.status}", url=url, status=response.status)
    for item in json.loads(response.content):
        page = source.absolute(item["path"])
        if source.statement_match(page):
            result.add(Found(page, via="index"))


def read_item(item: Fetched, source: Source) -> Parsed:
    try:
        return _read_item(json.loads(item.response.content), source)
    except (KeyError, ValueError) as exc:
        raise NotAStatement(f"not an item of the API ({exc})", url=item.url) from None


def _read_item(data: dict[str, Any], source: Source) -> Parsed:
    statement = new_statement(
        title=data["title"],
        source_url=source.absolute(data["path"]),
        tags=data["type"],
        published_time=dt.datetime.fromisoformat(data["published"]).astimezone(source.tz),
        body=data["body"],
    )
    extra = {"item_id": data["id"], "words": len(data["body"].split())}
    return Parsed(with_extra_keys(statement, extra, source), stable_id=data["id"])


def refuse_non_json(response: Response) -> str | None:
    kind = response.headers.get("content-type", "").split(";")[0]
    return None if kind == "application/json" else f"not JSON ({kind})"


TEST_API = Kind(
    name="test-api",
    extract=one_by_one(read_item),
    discovery=(Method("index", read_index, lambda source: True),),
    refuse=refuse_non_json,
    accept="application/json",
    rate=3.0,
    extra_keys={"item_id": "the API's id of the item", "words": "how many words"},
    options=ApiOptions,
)

SEED = f"""
name = "testapi"
kind = "test-api"
title = "A JSON API of this test"
origin = "{ORIGIN}"
allowed_hosts = ["data.example.gov"]
statement_url = '/news/[a-z0-9-]+'
fetch_url = "{ORIGIN}/api/items{{path}}.json"
timezone = "Europe/London"

[test-api]
index = "/api/list.json"

[archive]
extra_keys = ["item_id"]
"""


@pytest.fixture
def test_api() -> Iterator[Kind]:
    register(TEST_API)
    yield TEST_API
    unregister(TEST_API.name)


def write_seed(folder: Path, text: str = SEED) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "testapi.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- a tiny API over a socket -----------------------------------------------------------------


class Api:
    """Items by id, served as JSON at /api/items/news/<slug>.json, listed at /api/list.json; every
    request is logged with its Accept and conditional headers."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[str, str, str]] = []  # (path, Accept, If-None-Match)
        self.robots = "User-agent: *\nDisallow: /api/items/news/secret\n"

    def put(self, ident: str, slug: str, body: str, title: str = "") -> None:
        self.items[ident] = {
            "id": ident,
            "path": f"/news/{slug}",
            "title": title or f"Item {ident}",
            "type": "press-release",
            "published": "2026-03-29T01:30:00+00:00",  # the clocks went forward in London at 01:00
            "body": body,
        }

    def answer(self, path: str) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            return 200, "text/plain", self.robots.encode()
        if path == "/api/list.json":
            listed = [{"path": item["path"]} for item in self.items.values()]
            return 200, "application/json", json.dumps(listed).encode()
        for item in self.items.values():
            if path == f"/api/items{item['path']}.json":
                return 200, "application/json", json.dumps(item).encode()
        return 404, "application/json", b"{}"


@pytest.fixture
def api() -> Iterator[tuple[Api, str]]:
    state = Api()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.log.append(
                (self.path, self.headers.get("Accept", ""), self.headers.get("If-None-Match", ""))
            )
            status, kind, body = state.answer(self.path)
            etag = f'"{hash(body) & 0xFFFF:x}"'
            if status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def sync(archive: Path, seeds: Path, base_url: str, **options: Any) -> crawler.SyncReport:
    result = crawler.sync(archive, ["testapi"], seeds=[seeds], base_url=base_url, rate=0, **options)
    assert len(result.reports) == 1, result
    return result.reports[0]


def item_requests(state: Api) -> list[tuple[str, str, str]]:
    return [entry for entry in state.log if entry[0].startswith("/api/items/")]


# -- the registry -----------------------------------------------------------------------------


def test_the_html_kind_is_built_in_with_its_three_discovery_methods() -> None:
    html = kind_of("html")
    assert "html" in kinds() and "crawler.kinds.html" in BUILTIN  # found in the package
    assert html.method_names() == ("listing", "sitemap", "feed")
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    assert source.kind == "html" and kind_of(source) is html
    assert source.discovery == ("listing", "sitemap", "feed")
    no_feed = dataclasses.replace(source, feed=None, listing=None)
    assert no_feed.discovery == ("sitemap",)
    assert html.accept == "" and source.politeness.rate == 1.0


def test_an_unknown_kind_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no source kind named 'nope'.*html"):
        kind_of("nope")
    text = SEED.replace('kind = "test-api"', 'kind = "nope"')
    with pytest.raises(SourceError, match=r"kind: expected one of .*html.*got 'nope'") as error:
        load_source(write_seed(tmp_path, text))
    assert "line 3" in str(error.value.where)


def test_a_kind_checks_its_seed_options_and_extra_keys(tmp_path: Path, test_api: Kind) -> None:
    source = load_source(write_seed(tmp_path))
    assert source.kind_options == ApiOptions(index="/api/list.json")
    assert source.politeness.rate == 3.0  # the kind's default pace
    assert source.discovery == ("index",)
    paced = load_source(write_seed(tmp_path, SEED + "[politeness]\nrate = 0.5\n"))
    assert paced.politeness.rate == 0.5  # the seed's own
    with pytest.raises(SourceError, match=r"test-api\.indx: expected one of the known keys"):
        load_source(write_seed(tmp_path, SEED.replace('index = "/api', 'indx = "/api')))
    bad_key = SEED.replace('extra_keys = ["item_id"]', 'extra_keys = ["colour"]')
    with pytest.raises(SourceError, match=r"archive\.extra_keys: .*item_id, words.*'colour'"):
        load_source(write_seed(tmp_path, bad_key))
    bad_template = SEED.replace("{path}.json", "{slug}.json")
    with pytest.raises(SourceError, match=r"fetch_url: expected a URL template"):
        load_source(write_seed(tmp_path, bad_template))


def test_an_html_source_needs_its_selectors(tmp_path: Path) -> None:
    text = (PROJECT / "seeds" / "whitehouse.toml").read_text(encoding="utf-8")
    cut = text[: text.index("[selectors.listing]")] + text[text.index("[schedule]") :]
    path = tmp_path / "whitehouse.toml"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(SourceError, match=r"selectors\.article: expected selectors"):
        load_source(path)


def test_fetch_url_template_and_one_by_one(tmp_path: Path, test_api: Kind) -> None:
    source = load_source(write_seed(tmp_path))
    page = f"{ORIGIN}/news/a?x=1"
    assert template_fetch_url(source, page) == f"{ORIGIN}/api/items/news/a.json"
    plain = dataclasses.replace(source, fetch_url="{url}#{path}{query}")
    assert template_fetch_url(plain, page) == f"{page}#/news/a?x=1"
    assert template_fetch_url(dataclasses.replace(source, fetch_url=""), page) == page
    item = {"id": "1", "path": "/news/a", "title": "T", "type": "t", "body": "Hi"}
    item["published"] = "2026-01-01T00:00:00+00:00"
    good = Response(page, 200, {"content-type": "application/json"}, json.dumps(item).encode())
    broken = Response(page, 200, {}, b"{}")
    results = TEST_API.extract([Fetched(page, good), Fetched(page, broken)], source)
    assert isinstance(results[0], Parsed) and results[0].stable_id == "1"
    assert isinstance(results[1], NotAStatement) and "not an item" in results[1].message


def test_extra_keys_follow_the_format_in_the_seed_order(tmp_path: Path, test_api: Kind) -> None:
    source = load_source(write_seed(tmp_path, SEED.replace('["item_id"]', '["words", "item_id"]')))
    base = new_statement(
        title="T",
        source_url=f"{ORIGIN}/news/a",
        tags="t",
        published_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        body="b",
    )
    out = with_extra_keys(base, {"item_id": "x", "words": 3, "other": 1}, source)
    assert list(out.meta) == [*base.meta, "words", "item_id"]
    none = dataclasses.replace(source, archive=dataclasses.replace(source.archive, extra_keys=()))
    assert with_extra_keys(base, {"item_id": "x"}, none) is base  # the seed format, unchanged


# -- fetching from another URL: Accept, robots of the page's host -----------------------------


def test_a_page_fetched_elsewhere_obeys_both_hosts_robots(tmp_path: Path, test_api: Kind) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/robots.txt":
            rules = "Disallow: /news/secret" if request.url.host == "www.example.gov" else ""
            return httpx.Response(200, text=f"User-agent: *\n{rules}\n")
        return httpx.Response(200, json={})

    text = SEED.replace('["data.example.gov"]', '["data.example.gov", "www.example.gov"]')
    source = load_source(write_seed(tmp_path, text))
    with make_client(transport=httpx.MockTransport(answer)) as client:
        fetcher = Fetcher(client, source, rate=0)
        api = f"{ORIGIN}/api/items/news/secret.json"
        with pytest.raises(RobotsDisallowed):
            fetcher.get(api, page="https://www.example.gov/news/secret")
        assert fetcher.get(api, page="https://www.example.gov/news/open").status == 200
    hosts = [(r.url.host, r.url.path) for r in seen if r.url.path == "/robots.txt"]
    assert sorted(hosts) == [
        ("data.example.gov", "/robots.txt"),
        ("www.example.gov", "/robots.txt"),
    ]
    asked = [r for r in seen if r.url.path.startswith("/api/")]
    assert [r.headers.get("accept") for r in asked] == ["application/json"]
    robots = {r.headers.get("accept") for r in seen if r.url.path == "/robots.txt"}
    assert robots == {"*/*"}  # httpx's default: robots.txt is text, whatever the kind


def test_discovery_asks_the_kind_for_its_methods(tmp_path: Path, test_api: Kind) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/list.json":
            return httpx.Response(200, json=[{"path": "/news/a"}, {"path": "/elsewhere/b"}])
        return httpx.Response(404)

    source = load_source(write_seed(tmp_path))
    with make_client(transport=httpx.MockTransport(answer)) as client:
        found = discover(Fetcher(client, source, rate=0), source)
    assert list(found.found) == [f"{ORIGIN}/news/a"] and found.counts == {"index": 1}


# -- end to end over a socket -----------------------------------------------------------------


def test_a_new_kind_syncs_end_to_end(
    tmp_path: Path, api: tuple[Api, str], test_api: Kind, capsys: pytest.CaptureFixture[str]
) -> None:
    state, base = api
    seeds, archive_dir = tmp_path / "seeds", tmp_path / "archive"
    write_seed(seeds)
    state.put("id-a", "a", "The first words.")
    state.put("id-b", "b", "Other words entirely.")
    state.put("id-s", "secret", "Robots keep this one out.")

    first = sync(archive_dir, seeds, base)
    assert first.counts["new"] == 2 and [f[0] for f in first.failures] == [f"{ORIGIN}/news/secret"]
    assert "robots.txt" in first.failures[0][1]
    assert {accept for _, accept, _ in item_requests(state)} == {"application/json"}
    with Archive(archive_dir, create=False) as archive:
        row = archive.resolve(f"{ORIGIN}/news/a")
        assert row.stable_id == "id-a" and row.source == "testapi"
        text = (archive_dir / row.path).read_text(encoding="utf-8")
        assert text.startswith("---\ntags: press-release\ndate: '2026-03-29'\n")
        assert (
            "published_time: 2026-03-29 02:30:00+01:00\ntitle: Item id-a\nitem_id: id-a\n" in text
        )
        assert "words:" not in text  # the kind offers it, the seed does not ask for it
        state_a = archive.index.fetch_state(f"{ORIGIN}/news/a")
        assert state_a is not None and state_a.etag  # validators keyed by the statement URL
        assert archive.index.fetch_state(f"{ORIGIN}/api/items/news/a.json") is None

    state.log.clear()  # nothing new: no item is fetched
    quiet = sync(archive_dir, seeds, base)
    assert quiet.counts["new"] == 0 and item_requests(state) == []  # robots: no request
    assert quiet.requests == 2  # robots.txt and the list: the cost of nothing new

    state.log.clear()  # --full: every item asked again with its ETag, and unchanged
    full = sync(archive_dir, seeds, base, full=True)
    conditional = {
        p: etag for p, _, etag in item_requests(state) if p.endswith(("/a.json", "/b.json"))
    }
    assert all(conditional.values()) and len(conditional) == 2
    assert full.counts["not_modified"] == 2 and full.counts["changed"] == 0

    # The item moves to a new URL, with other words: the same statement, by its id.
    del state.items["id-s"]
    state.put("id-a", "a-renamed", "The first words, and more of them.")
    moved = sync(archive_dir, seeds, base)
    assert [e.kinds for e in moved.events] == [("updated", "moved")]
    with Archive(archive_dir, create=False) as archive:
        after = archive.resolve(f"{ORIGIN}/news/a-renamed")
        assert after.id == row.id and after.path == row.path and after.stable_id == "id-a"
        assert archive.index.urls_of(row.id) == [f"{ORIGIN}/news/a", f"{ORIGIN}/news/a-renamed"]
        assert [r.number for r in archive.revisions(after)] == [1, 2]
        assert archive.statements(source="testapi")[0].id == row.id
        assert len(archive.statements(source="testapi")) == 2
    assert (
        "source_url: https://data.example.gov/news/a-renamed"
        in (archive_dir / row.path).read_text()
    )

    capsys.readouterr()
    assert main(["history", f"{ORIGIN}/news/a", "--archive", str(archive_dir)]) == 0
    out = capsys.readouterr().out
    assert "id id-a, as testapi names it" in out and f"formerly {ORIGIN}/news/a\n" in out
    assert (
        main(["history", f"{ORIGIN}/news/a-renamed", "--archive", str(archive_dir), "--json"]) == 0
    )
    history = json.loads(capsys.readouterr().out)
    assert history["stable_id"] == "id-a"
    assert [r["kinds"] for r in history["revisions"]] == [["new"], ["updated", "moved"]]


def test_a_refused_reply_is_a_failure_named_by_the_kind(
    tmp_path: Path, api: tuple[Api, str], test_api: Kind
) -> None:
    state, base = api
    seeds = tmp_path / "seeds"
    write_seed(seeds)
    state.put("id-a", "a", "Words.")
    original = state.answer

    def html_instead(path: str) -> tuple[int, str, bytes]:
        status, kind, body = original(path)
        return (
            (status, "text/html", body) if path.startswith("/api/items/") else (status, kind, body)
        )

    state.answer = html_instead  # type: ignore[method-assign]
    report = sync(tmp_path / "archive", seeds, base)
    assert report.failures == [(f"{ORIGIN}/news/a", "not JSON (text/html)")]


def test_an_html_page_may_name_its_stable_id() -> None:
    from crawler.kinds import html

    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    page = b"<html><head><link rel='shortlink' href='https://www.whitehouse.gov/?p=59312'></head>"
    assert html.stable_id(page, source) is None  # the seed names none: as before
    assert source.selectors is not None
    article = dataclasses.replace(
        source.selectors.article,
        stable_id='link[rel="shortlink"]',
        stable_id_pattern=r"[?&]p=(\d+)",
    )
    wordpress = dataclasses.replace(
        source, selectors=dataclasses.replace(source.selectors, article=article)
    )
    assert html.stable_id(page, wordpress) == "59312"
    assert html.stable_id(b"<html><head></head></html>", wordpress) is None
    whole = dataclasses.replace(article, stable_id_pattern="")
    assert (
        html.stable_id(
            page,
            dataclasses.replace(
                wordpress, selectors=dataclasses.replace(source.selectors, article=whole)
            ),
        )
        == "https://www.whitehouse.gov/?p=59312"
    )


def test_fetch_and_sources_commands_go_through_the_kind(
    tmp_path: Path, api: tuple[Api, str], test_api: Kind, capsys: pytest.CaptureFixture[str]
) -> None:
    state, base = api
    seeds = tmp_path / "seeds"
    write_seed(seeds)
    state.put("id-a", "a", "Words of the item.")
    page = f"{ORIGIN}/news/a"
    assert main(["fetch", page, "--base-url", base, "--rate", "0", "--seeds", str(seeds)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("---\ntags: press-release\n") and "item_id: id-a\n" in out
    assert "Words of the item." in out
    assert [p for p, _, _ in item_requests(state)] == ["/api/items/news/a.json"]
    argv = ["fetch", page, "--json", "--base-url", base, "--rate", "0", "--seeds", str(seeds)]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["stable_id"] == "id-a"
    assert main(["sources", "--json", "--seeds", str(seeds)]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed["testapi"]["kind"] == "test-api" and listed["testapi"]["discovery"] == ["index"]
    assert listed["whitehouse"]["kind"] == "html"
