"""Linking a website's executive order to its official text, and ``statements compare``.

The official side is the real EO 14430 of ../shared, synced over a socket from the fixture
Federal Register (tests/fixture_fedreg.py). The website side is a fixture whitehouse.gov page
carrying the same order, read by the whitehouse seed's own parser, with a planted difference
("6 million jobs" where the official text says "5 million") and the signature block the White
House prints.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import crawler
from crawler.cli import main
from crawler.kinds import federalregister
from crawler.parse import parse_statement
from crawler.source import load_source
from storage.archive import Archive
from storage.links import BY_NUMBER, BY_TITLE, Facts, eo_number_in_title, link, match, title_words
from tests.conftest import PROJECT, need
from tests.fixture_fedreg import REAL, FixtureFedreg

OFFICIAL = "https://www.federalregister.gov/d/2026-19417"
WEBSITE = (
    "https://www.whitehouse.gov/presidential-actions/2026/09/"
    "restoring-american-saltwater-angling-and-recreation/"
)
TITLE = "Restoring American Saltwater Angling and Recreation"


def whitehouse_page(body: str, title: str = TITLE, when: str = "2026-09-17T20:41:07+00:00") -> str:
    """A whitehouse.gov presidential action, in the markup the whitehouse seed reads."""
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8" />
<title>{title} &#8211; The White House</title>
<link rel="canonical" href="{WEBSITE}" />
<meta property="og:title" content="{title} &#8211; The White House" />
<meta property="article:published_time" content="{when}" />
</head><body><main><div class="entry-content wp-block-post-content">
<div class="wp-block-whitehouse-topper">
<h1 class="wp-block-whitehouse-topper__headline">{title}</h1>
<div class="wp-block-post-date"><time datetime="{when}">September 17, 2026</time></div></div>
{body}
<p>DONALD J. TRUMP</p>
<p>THE WHITE HOUSE,<br>September 17, 2026.</p>
</div></main></body></html>"""


def order_paragraphs(planted: bool = True) -> str:
    """The order's paragraphs as the website prints them: the official text's, from "By the
    authority" to the costs of publication, with one word changed."""
    text = need(REAL / "full_text_html_2026-19417.html").read_text("utf-8")
    body = federalregister.prepare_body(text, TITLE)
    start, end = body.index("<p>By the authority"), body.index("Department of Commerce.</p>")
    words = body[start : end + len("Department of Commerce.</p>")]
    return words.replace("5 million jobs", "6 million jobs") if planted else words


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real EO 14430 synced from the fixture, and the website's page of it recorded."""
    monkeypatch.setattr(federalregister, "_this_year", lambda tz: 2026)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    text = (PROJECT / "seeds" / "federalregister.toml").read_text(encoding="utf-8")
    (seeds / "federalregister.toml").write_text(
        text.replace("first_year = 1994", "first_year = 2026")
    )
    folder = tmp_path / "archive"
    need(REAL / "document_2026-19417_eo14430.json")
    with FixtureFedreg(real=True) as site:
        result = crawler.sync(
            folder, ["federalregister"], seeds=[seeds], base_url=site.base_url, rate=0, full=True
        )
    assert result.reports[0].counts["new"] == 1, result
    whitehouse = load_source(PROJECT / "seeds" / "whitehouse.toml")
    statement = parse_statement(whitehouse_page(order_paragraphs()), WEBSITE, whitehouse)
    with Archive(folder) as opened, opened.batch():
        opened.record(statement, origin=WEBSITE, source="whitehouse")
    return folder


def test_compare_links_by_title_and_signing_date_and_shows_the_planted_difference(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", WEBSITE, "--archive", str(archive), "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"website:  {TITLE}\n          {WEBSITE}\nofficial: {TITLE}\n")
    assert "linked by title and signing date 2026-09-17" in out
    assert "[-6-]{+5+} million jobs" in out  # the planted word, website to official
    assert "[-DONALD J-]" in out  # the website prints the signature's name, the official an image
    assert '{+<a href="https://www.federalregister.gov/executive-order/14430">Executive' in out
    with Archive(archive) as opened:
        website, official = opened.resolve(WEBSITE), opened.resolve(OFFICIAL)
        [stored] = opened.index.links_of(website.id)
        assert (stored.official_id, stored.basis, stored.key) == (
            official.id,
            BY_TITLE,
            "2026-09-17",
        )
    # from the official side: the same link, stored once
    assert main(["compare", OFFICIAL, "--archive", str(archive), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["link"]["basis"] == BY_TITLE and data["website"]["url"] == WEBSITE
    assert data["official"]["url"] == OFFICIAL
    changes = [(c["op"], c["old"], c["new"]) for c in data["body"]]
    assert ("replace", "6", "5") in changes and len(changes) == 5  # with the heading, signature
    with Archive(archive) as opened:
        assert len(opened.index.links_of(opened.resolve(OFFICIAL).id)) == 1


def test_a_statement_with_no_official_text_is_a_one_line_error(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whitehouse = load_source(PROJECT / "seeds" / "whitehouse.toml")
    other = WEBSITE.replace("restoring-american", "another-order")
    page = whitehouse_page("<p>Something else entirely.</p>", "Another Order").replace(
        WEBSITE, other
    )
    with Archive(archive) as opened, opened.batch():
        opened.record(parse_statement(page, other, whitehouse), origin=other, source="whitehouse")
    capsys.readouterr()
    assert main(["compare", other, "--archive", str(archive)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no official text is linked" in err and "Traceback" not in err


def test_a_website_title_naming_the_order_links_by_number_with_the_real_record(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real record gives the number (executive_order_number); a website page whose title
    names it, under another title and days later, is linked by the number, not the title."""
    whitehouse = load_source(PROJECT / "seeds" / "whitehouse.toml")
    other = WEBSITE.replace("restoring-american", "eo-14430-restoring-american")
    titled = "Executive Order 14430: Saltwater Angling"
    page = whitehouse_page(order_paragraphs(), titled, "2026-09-20T12:00:00+00:00")
    with Archive(archive) as opened, opened.batch():
        statement = parse_statement(page.replace(WEBSITE, other), other, whitehouse)
        opened.record(statement, origin=other, source="whitehouse")
    assert main(["compare", other, "--archive", str(archive), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["link"]["basis"] == BY_NUMBER and data["link"]["key"] == "14430"
    assert data["official"]["url"] == OFFICIAL and data["website"]["url"] == other
    assert ("replace", "6", "5") in [(c["op"], c["old"], c["new"]) for c in data["body"]]


def _facts(title: str, day: dt.date | None, eo: str | None = None) -> Facts:
    return Facts(1, title, day, eo)


def test_matching_by_number_where_both_give_it_else_by_title_and_signing_date() -> None:
    signed = dt.date(2026, 9, 17)
    official = _facts(TITLE, signed, "14430")
    assert match(_facts(f"Executive Order 14430: {TITLE}", None, "14430"), official) == (
        BY_NUMBER,
        "14430",
    )
    assert match(_facts(TITLE, signed, "14431"), official) is None  # two numbers: never
    assert match(_facts(TITLE.upper() + ".", signed), official) == (BY_TITLE, "2026-09-17")
    assert match(_facts(TITLE, signed + dt.timedelta(days=1)), official) is not None
    assert match(_facts(TITLE, signed + dt.timedelta(days=2)), official) is None
    assert match(_facts(TITLE, signed - dt.timedelta(days=1)), official) is None
    assert match(_facts("Restoring American Hunting", signed), official) is None
    assert eo_number_in_title("Executive Order No. 14430 on Fishing") == "14430"
    assert eo_number_in_title(TITLE) is None
    assert title_words("America\u2019s  Hunting-Heritage") == ("americas", "hunting", "heritage")


def test_a_read_only_archive_gets_the_link_found_but_not_stored(archive: Path) -> None:
    with Archive(archive) as opened:
        opened.read_only = True  # as a folder this user cannot write opens
        website = opened.resolve(WEBSITE)
        [found] = link(opened, website, ["federalregister"], "2026-11-30T00:00:00+00:00")
        assert (found.basis, found.key) == (BY_TITLE, "2026-09-17")
        assert opened.index.links_of(website.id) == []  # nothing written
