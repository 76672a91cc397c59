"""Golden folders: every source's parser cases as files, no Python per case.

``tests/seeds/<source>/`` holds, for the seed ``seeds/<source>.toml``, pairs of a saved page and
its outcome: ``<case>.html`` with ``<case>.expected.md`` (the archive file the page must give, byte
for byte; the URL parsed is its ``source_url``), or with ``<case>.error.txt`` (the URL on its
first line, a fragment of the refusal's message on the second). A new case is two files. The real
page of ../shared, with the archive file the public archive wrote for it, is collected too when
present. Each source's pages are also parsed in one batch, which must give the same files.

A source of a JSON API kind (``govuk``) has ``<case>.json`` (the item as its API serves it)
instead of ``<case>.html``; its real items in ../shared are never copied in: the folder holds only
their ``<shared-file-stem>.expected.md``, and the JSON is read from ../shared (skipped, saying so,
when absent). Every case is parsed by its seed's kind (:mod:`crawler.kinds`): its extractor,
given the saved reply as the sync gives it a fetched one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from crawler.errors import NotAStatement
from crawler.fetch import Response
from crawler.kinds import Extracted, Fetched, Parsed, kind_of
from crawler.parse import parse_statement
from crawler.source import Source, load_source
from storage.document import Statement, dumps, loads
from tests.conftest import PROJECT, SHARED, need

GOLDEN = Path(__file__).resolve().parent / "seeds"
_WH = SHARED / "pages" / "whitehouse.gov-2025"
#: Real pages outside the repository (never copied in): source -> (page, expected archive file).
SHARED_CASES = {
    "whitehouse": [
        (
            _WH / "article" / "articles_2025-03-14_week-eight-wins_PRETTIFIED.html",
            _WH
            / "expected"
            / (
                "articles_2025-03_2025-03-14-week-eight-wins-a-testament-to-american-greatness-"
                "under-president-trump.md"
            ),
        )
    ]
}
_GOVUK = SHARED / "pages" / "gov.uk"
#: The real GOV.UK items: Content API items and Publishing API messages (see PROVENANCE.txt).
GOVUK_ITEMS = [
    *(
        f"content-api/{name}.json"
        for name in (
            "news_article__best-practice-government-response",
            "news_article__best-practice-news-story",
            "news_article__best-practice-press-release",
            "news_article__news_article_history_mode",
            "news_article__news_article_press_release",
            "news_article__news_article_withdrawn",
            "speech__best-practice-oral-statement",
            "speech__best-practice-written-statement",
            "speech__speech-transcript",
        )
    ),
    *(
        f"publishing-api-messages/{name}.json"
        for name in ("historic_news_story_message", "press_release_message", "speech_message")
    ),
]


def _shared_govuk(relative: str) -> tuple[Path, Path]:
    page = _GOVUK / relative
    return page, Path(__file__).resolve().parent / "seeds" / "govuk" / f"{page.stem}.expected.md"


SHARED_CASES["govuk"] = [_shared_govuk(item) for item in GOVUK_ITEMS]
_STATE = SHARED / "pages" / "state.gov" / "feed"
#: Real state.gov feed items (see its PROVENANCE.txt): (capture, the item's page id). The
#: capture is read in place; the item read is the one whose link is the expected source_url.
STATE_ITEMS = [
    ("press-releases_feed_2021-05-23T1510Z_first", 245633),  # a short statement
    ("press-releases_feed_2021-05-23T1510Z_first", 245386),  # a long press availability
    ("press-releases_feed_2022-03-04T2234Z_slug-after", 320953),  # after its slug change
    ("press-releases_feed_2022-03-24T2323Z_edit-before", 327872),  # before its title edit
    ("press-releases_feed_2022-03-24T2349Z_edit-after", 327872),  # after it
    ("press-releases_feed_2022-08-03T2024Z_last-in-snapshot", 364862),
    ("press-releases_feed_2022-08-03T2024Z_last-in-snapshot", 364673),  # a transcript
]
SHARED_CASES["state"] = [
    (_STATE / f"{capture}.xml", GOLDEN / "state" / f"{capture}--{page_id}.expected.md")
    for capture, page_id in STATE_ITEMS
]
_BIDEN = SHARED / "pages" / "whitehouse.gov-biden" / "feed"
#: Real items of the previous whitehouse.gov's briefing-room feed (its PROVENANCE.txt): (capture,
#: post id); the expected files' source_url is on the public archive's host (archive_hosts).
BIDEN_ITEMS = [
    ("briefing-room_feed_2021-05-23T1406Z_first", 18205),  # a fact sheet
    ("briefing-room_feed_2021-05-25T1927Z_edit-before", 18371),  # before its title edit
    ("briefing-room_feed_2021-05-25T2025Z_edit-after", 18371),  # after it
    ("briefing-room_feed_2022-03-09T1103Z_recat-1", 48665),  # before its category move
    ("briefing-room_feed_2022-03-09T1421Z_recat-2", 48665),  # after it
    ("briefing-room_feed_2022-05-17T2035Z_slug-2", 53449),  # U+FFFC in slug and title
]
SHARED_CASES["whitehouse-biden"] = [
    (_BIDEN / f"{capture}.xml", GOLDEN / "whitehouse-biden" / f"{capture}--{post}.expected.md")
    for capture, post in BIDEN_ITEMS
]
_FR = SHARED / "pages" / "federalregister.gov" / "api"
#: The real Federal Register documents: each JSON is read with its full text beside it, when
#: ../shared has it (the 1994 determination's is not there: its case has no body).
SHARED_CASES["federalregister"] = [
    (_FR / f"{stem}.json", GOLDEN / "federalregister" / f"{stem}.expected.md")
    for stem in ("document_2026-19417_eo14430", "document_93-32104_determination_1994")
]

_UKP = SHARED / "pages" / "parliament.uk-written-statements" / "api"
_UKP_LIST = _UKP / "statements_2021-02-01_bicameral_take20.json"
#: The real written statements: each result of a real list response, "<file>#<uin>" (their text
#: is the list's, cut by the API at about 255 characters).
UKP_UINS = [f"HCWS{n}" for n in range(747, 752)] + [f"HLWS{n}" for n in range(743, 748)]
SHARED_CASES["ukparliament"] = [
    (
        _UKP_LIST.with_name(f"{_UKP_LIST.name}#{uin}"),
        GOLDEN / "ukparliament" / f"{_UKP_LIST.stem}__{uin}.expected.md",
    )
    for uin in UKP_UINS
]


@dataclass(frozen=True)
class Case:
    source: str
    name: str
    page: Path
    outcome: Path  # .expected.md or .error.txt

    @property
    def url(self) -> str:
        text = self.outcome.read_text(encoding="utf-8")
        return text.splitlines()[0] if self.refused else loads(text).source_url

    @property
    def refused(self) -> bool:
        return self.outcome.name.endswith(".error.txt")

    @property
    def shared(self) -> bool:
        return self.name.startswith("shared:")


def _folders() -> list[Path]:
    return sorted(p for p in GOLDEN.iterdir() if p.is_dir())


#: What a case's saved reply may be: a page, an API's JSON, a feed (a feed_items source).
PAGE_SUFFIXES = (".html", ".json", ".xml")


def _pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in PAGE_SUFFIXES)


def _cases() -> list[Case]:
    cases = []
    for folder in _folders():
        for page in _pages(folder):
            name = page.stem
            outcomes = [folder / f"{name}.expected.md", folder / f"{name}.error.txt"]
            found = [o for o in outcomes if o.exists()]
            cases.append(Case(folder.name, name, page, found[0] if found else outcomes[0]))
    for source, pairs in SHARED_CASES.items():
        for page, expected in pairs:
            name = expected.name.removesuffix(".expected.md")
            cases.append(Case(source, f"shared:{name}", page, expected))
    return cases


@cache
def _seed(name: str) -> Source:
    return load_source(PROJECT / "seeds" / f"{name}.toml")


def _exists(path: Path) -> bool:
    return path.with_name(path.name.partition("#")[0]).exists()


def _read(path: Path) -> bytes:
    if "#" in path.name:  # one result of a real list response
        name, _, uin = path.name.partition("#")
        results = json.loads(need(path.with_name(name)).read_bytes())["results"]
        return json.dumps(next(r for r in results if r["value"]["uin"] == uin)).encode()
    if path.parent == _FR and path.suffix == ".json":
        return _fr_bundle(need(path))
    return need(path).read_bytes() if path.is_relative_to(SHARED) else path.read_bytes()


def _fr_bundle(path: Path) -> bytes:
    """A real Federal Register document as the kind's fetch hands it over: its JSON, with the
    full text saved beside it (``full_text_html_<number>.html``), if any."""
    from crawler.kinds.federalregister import bundle

    document = json.loads(path.read_bytes())
    full_text = path.parent / f"full_text_html_{document['document_number']}.html"
    return bundle(document, full_text.read_text("utf-8") if full_text.exists() else "")


CASES = _cases()


def test_every_golden_folder_is_a_source_and_every_file_part_of_a_case() -> None:
    assert _folders(), "no golden folders"
    shared = {c.outcome for c in CASES if c.shared}
    for folder in _folders():
        assert (PROJECT / "seeds" / f"{folder.name}.toml").exists(), f"{folder.name}: no seed"
        names = {p.stem for p in _pages(folder)}
        for path in folder.iterdir():
            case = path.name.removesuffix(".expected.md").removesuffix(".error.txt")
            if path.name != "README.md" and path.suffix not in PAGE_SUFFIXES:
                assert case in names or path in shared, f"{path}: no {case}.html/.json beside it"
        for name in names:
            outcomes = [folder / f"{name}.expected.md", folder / f"{name}.error.txt"]
            assert sum(o.exists() for o in outcomes) == 1, f"{folder / name}: one outcome file"


def _extract(name: str, pages: list[tuple[str, bytes]]) -> list[Statement | Exception]:
    """Saved replies through the extractor of the source's kind, in one batch, as a sync would."""
    seed = _seed(name)
    fetched = [Fetched(url, Response(url, 200, {}, page)) for url, page in pages]
    results: list[Extracted] = kind_of(seed).extract(fetched, seed)
    return [r.statement if isinstance(r, Parsed) else r for r in results]


def _parse(case: Case, page: bytes) -> Statement:
    if _seed(case.source).kind == "html":
        return parse_statement(page, case.url, _seed(case.source))  # the one-page parser
    result = _extract(case.source, [(case.url, page)])[0]
    if isinstance(result, Exception):
        raise result
    return result


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.source}/{c.name}")
def test_golden_page_gives_its_archive_file_or_its_refusal(case: Case) -> None:
    page = _read(case.page)
    if case.refused:
        fragment = case.outcome.read_text(encoding="utf-8").splitlines()[1]
        with pytest.raises(NotAStatement, match=fragment):
            _parse(case, page)
        return
    expected = _read(case.outcome).decode("utf-8")
    assert dumps(_parse(case, page)) == expected


@pytest.mark.parametrize("name", sorted({c.source for c in CASES}))
def test_golden_pages_parsed_in_one_batch_give_the_same(name: str) -> None:
    cases = [c for c in CASES if c.source == name and _exists(c.page) and c.outcome.exists()]
    results = _extract(name, [(c.url, _read(c.page)) for c in cases])
    for case, result in zip(cases, results, strict=True):
        if case.refused:
            assert isinstance(result, NotAStatement), case.name
        else:
            assert not isinstance(result, Exception), f"{case.name}: {result}"
            assert dumps(result) == _read(case.outcome).decode("utf-8"), case.name
