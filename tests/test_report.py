"""The static HTML report (``statements report``, :mod:`crawler.report`), in plain Python.

A planted archive (an edit, a silent edit and its revert, a replaced document, a removal, hostile
titles, a broken source) is reported; every page is parsed with ``html.parser`` and held to a
strict structure (one ``h1``, a ``main`` landmark, ``lang``, a skip link, every element closed,
no script), every value must come back as text, never markup, and every link must resolve.
Regenerating after three changes must rewrite only the pages they touch. The real browser's
view of the same site is in ``tests/test_report_browser.py``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import html5lib
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler import report
from crawler.cli import main
from crawler.config import ReportConfig, load_config
from crawler.report import pages
from crawler.report.site import MANIFEST, UNSAFE, generate
from storage import diff as wdiff
from storage.archive import Archive
from storage.change import compare, html_hunks
from storage.document import loads, new_statement
from storage.index import EventRow, StatementRow
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_archive import URL, Clock, make
from tests.test_document import hostile_text
from tests.test_hostile import RECORDS

OTHER = "https://www.whitehouse.gov/briefing-room/statements-releases/2026/03/01/other/"
HOSTILE = '<script>alert("x")</script> & </title><b onmouseover=alert(1)>'
VOID = {"meta", "link", "br", "img", "hr", "input", "wbr", "source", "col", "area", "base"}


# -- a strict reading of a page ---------------------------------------------------------------


@dataclass
class Page(HTMLParser):
    """What a page holds, and every structural problem found in it."""

    problems: list[str] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    doctype: str = ""
    lang: str | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if "id" in found:
            self.ids.append(str(found["id"]))
        for name in ("href", "src"):
            if found.get(name) is not None:
                self.links.append(str(found[name]))
        if tag not in VOID:
            self.stack.append(tag)
            self.texts.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for tag in set(self.stack):
            self.texts[tag][-1] += data

    def text(self, tag: str) -> list[str]:
        return self.texts.get(tag, [])


def read_page(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def html5_errors(text: str) -> list[str]:
    """The parse errors of the WHATWG HTML parser (html5lib) on a document."""
    parser = html5lib.HTMLParser(strict=False)
    parser.parse(text.encode("utf-8"), transport_encoding="utf-8")
    return [f"{code} at {where}: {data}" for where, code, data in parser.errors]


def check_page(text: str) -> Page:
    """A page holds to the report's structure: valid, accessible, no script, nothing unclosed."""
    assert html5_errors(text) == []
    page = read_page(text)
    assert page.problems == [] and page.stack == [], (page.problems, page.stack)
    assert page.doctype.lower() == "doctype html" and page.lang == "en"
    assert page.tags.count("h1") == 1 and page.tags.count("main") == 1
    assert {"header", "nav", "footer", "title"} <= set(page.tags)
    assert page.tags.count("title") == 1 and page.tags.count("body") == 1
    assert "script" not in page.tags and "iframe" not in page.tags
    assert not [name for name, _ in page.attrs if name.startswith("on")]  # no event handler
    assert page.links[:2] == ["../style.css", "#main"] or page.links[:2] == ["style.css", "#main"]
    assert "main" in page.ids and len(page.ids) == len(set(page.ids))
    assert 'name="viewport"' in text and '<meta charset="utf-8">' in text
    return page


def safe_text(text: str) -> str:
    return UNSAFE.sub("\ufffd", text)


def test_the_page_checks_find_what_they_look_for() -> None:
    bad = '<!DOCTYPE html><html lang="en"><title>x</title><p>a\x07b<div></p>'
    codes = [e.split(" ")[0] for e in html5_errors(bad)]
    assert codes[:2] == ["invalid-codepoint", "unexpected-end-tag"]
    with pytest.raises(AssertionError):
        check_page(bad)


# -- the planted archive ----------------------------------------------------------------------


def planted(root: Path) -> Archive:
    """An archive of every kind of change the report must show (see the module docstring)."""
    archive = Archive(root, clock=Clock())
    archive.record(make(), origin=URL, source="whitehouse")
    archive.record(make("One two four and six.\n"), origin=URL, source="whitehouse")
    archive.record(make("One two four and seven.\n"), origin=URL, unannounced=True)  # silent
    archive.record(make("One two four and six.\n"), origin=URL, source="whitehouse")  # revert
    other = make("Alpha beta gamma delta.\n", source_url=OTHER, title="Other " + HOSTILE)
    archive.record(other, origin=OTHER, source="state")
    archive.record(
        make("Alpha beta " + HOSTILE + " delta.\n", source_url=OTHER, title="Other " + HOSTILE),
        origin=OTHER,
        source="state",
    )
    for n, (_, (title, body, error)) in enumerate(sorted(RECORDS.items())):
        if error is None:  # the hostile-title cases the archive accepts
            url = f"https://www.whitehouse.gov/articles/2025/03/hostile-{n}/"
            doc = make(body, source_url=url, title=title)
            archive.record(doc, origin=url)
            archive.record(doc.replace(title=title + " (edited)"), origin=url)
    replaced_url = "https://www.whitehouse.gov/articles/2025/06/a-letter/"
    archive.record(make("War powers letter text here.\n", source_url=replaced_url), origin="x")
    permit = new_statement(
        title="Pipeline permit granted",
        source_url=replaced_url,
        tags="articles",
        published_time=dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC),
        body="A presidential permit for the South Bow pipeline crossing.\n",
    )
    archive.record(permit, origin=replaced_url)
    archive.mark_removed(archive.resolve(OTHER), why="410 Gone")
    with archive.index.transaction():
        archive.index.add_run("whitehouse", "2026-03-01T00:00:00+00:00", "t", True, "{}")
        for hour in (1, 2):
            archive.index.add_run(
                "state",
                f"2026-03-01T0{hour}:00:00+00:00",
                "t",
                False,
                json.dumps({"broken": "found nothing <i>at</i> https://state.gov/ & more"}),
            )
    return archive


@pytest.fixture
def site(tmp_path: Path) -> tuple[Archive, Path]:
    archive = planted(tmp_path / "archive")
    out = tmp_path / "report"
    generate(archive, out)
    return archive, out


def html_files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text("utf-8") for p in out.rglob("*.html")}


# -- the tests --------------------------------------------------------------------------------


def test_every_page_is_valid_accessible_html5(site: tuple[Archive, Path]) -> None:
    archive, out = site
    files = html_files(out)
    changed = {e.statement_id for e in archive.changes() if set(e.kinds) - {"new"}}
    assert set(files) == {"index.html", "broken.html"} | {
        f"statements/{sid}.html" for sid in changed
    } | {"sources/whitehouse.html", "sources/state.html", "sources/_imported.html"}
    for text in files.values():
        check_page(text)


def test_titles_and_bodies_are_text_never_markup(site: tuple[Archive, Path]) -> None:
    archive, out = site
    other = archive.resolve(
        "https://www.whitehouse.gov/briefing-room/statements-releases/2026/03/01/other/"
    )
    page = check_page((out / f"statements/{other.id}.html").read_text("utf-8"))
    assert page.text("h1") == [other.title]  # every character back as text
    # the inserted words as a reader sees them (raw tags are presentation), escaped, in place
    assert page.text("ins") == ['alert("x") & </title>']
    for text in html_files(out).values():
        assert "<script" not in text and "<b onmouseover" not in text and "<i>at" not in text
    broken = read_page((out / "broken.html").read_text("utf-8"))
    assert "found nothing <i>at</i> https://state.gov/ & more" in "".join(broken.text("td"))


def test_hostile_titles_come_back_as_their_text(site: tuple[Archive, Path]) -> None:
    archive, out = site
    for n, (name, (title, _, error)) in enumerate(sorted(RECORDS.items())):
        if error is not None:
            continue
        row = archive.resolve(f"https://www.whitehouse.gov/articles/2025/03/hostile-{n}/")
        page = check_page((out / f"statements/{row.id}.html").read_text("utf-8"))
        expected = pages_safe(title + " (edited)")
        assert page.text("h1") == [expected], name
        assert expected in "".join(page.text("ins")) or "edited" in "".join(page.text("ins"))


def pages_safe(text: str) -> str:
    """What a page holds of a text: controls and lone surrogates become U+FFFD."""
    return safe_text(text)


def test_the_index_lists_changes_newest_first_with_flags_and_counts(
    site: tuple[Archive, Path],
) -> None:
    archive, out = site
    index = check_page((out / "index.html").read_text("utf-8"))
    changes = [e for e in archive.changes() if set(e.kinds) - {"new"}]
    flags = index.text("strong")
    assert {"Silent edit", "Reverted", "Replaced document", "Removed"} <= set(flags)
    links = [link for link in index.links if link.startswith("statements/")]
    assert links == [f"statements/{e.statement_id}.html#event-{e.id}" for e in changes]
    assert [e.at for e in changes] == sorted((e.at for e in changes), reverse=True)
    text = (out / "index.html").read_text("utf-8")
    assert f"{len(changes)} changes to" in text
    assert re.search(r'href="sources/state.html">state</a></td><td>2</td>', text)


def test_a_statement_page_shows_its_history_and_each_diff(site: tuple[Archive, Path]) -> None:
    archive, out = site
    row = archive.resolve(URL)
    text = (out / f"statements/{row.id}.html").read_text("utf-8")
    page = check_page(text)
    assert "One two <del>three</del><ins>four and six</ins>." in text
    assert "four and <del>six</del><ins>seven</ins>." in text  # the silent edit
    assert "four and <del>seven</del><ins>six</ins>." in text  # its revert
    assert page.text("strong").count("Silent edit") == 1
    assert any(t.startswith("Reverted: the page says again") for t in page.text("strong"))
    assert [f"event-{e.id}" for e in archive.history(row)][::-1] == [
        i for i in page.ids if i.startswith("event-")
    ]
    headings = page.text("h3")
    assert headings[0].startswith("Revision 3 → 4") and headings[-1].startswith("Revision 1,")


def test_a_replaced_document_shows_both_texts(site: tuple[Archive, Path]) -> None:
    archive, out = site
    new = archive.resolve("https://www.whitehouse.gov/articles/2025/06/a-letter/")
    assert new.title == "Pipeline permit granted"
    page = check_page((out / f"statements/{new.id}.html").read_text("utf-8"))
    sides = page.text("h4")
    assert sides == [
        "The document replaced: A statement",
        "The document now at this URL: Pipeline permit granted",
    ]
    text = (out / f"statements/{new.id}.html").read_text("utf-8")
    old_at = text.index('<div class="text">War powers letter text here.\n</div>')
    assert old_at < text.index('<div class="text">A presidential permit for the South Bow')


def test_events_recorded_before_their_html_was_stored_are_rendered_alike(
    site: tuple[Archive, Path], tmp_path: Path
) -> None:
    archive, out = site
    archive.index.db.execute("DELETE FROM event_html")  # as an index before schema 8
    generate(archive, tmp_path / "again")
    assert html_files(tmp_path / "again") == html_files(out)


def test_every_link_resolves(site: tuple[Archive, Path]) -> None:
    _, out = site
    for name, text in html_files(out).items():
        page = read_page(text)
        for link in page.links:
            if link.startswith("https://"):
                continue
            path, _, anchor = link.partition("#")
            target = (out / name).parent / path if path else out / name
            assert target.resolve().is_file(), (name, link)
            if anchor:
                assert anchor in read_page(target.read_text("utf-8")).ids, (name, link)


def test_the_broken_page_names_the_source_that_broke(site: tuple[Archive, Path]) -> None:
    _, out = site
    page = check_page((out / "broken.html").read_text("utf-8"))
    cells = page.text("td")
    assert cells[:4] == ["Broken state", "2026-03-01 01:00", "2", "never"]
    assert "whitehouse" not in "".join(cells)  # its latest run worked


def test_regenerating_after_three_changes_rewrites_only_what_they_touch(
    site: tuple[Archive, Path],
) -> None:
    archive, out = site
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*.html")}
    same = generate(archive, out)
    assert not same.full and same.written == [] and len(same.rendered) == 3  # index, broken, css
    archive.record(make("One two four and eight.\n"), origin=URL, source="whitehouse")
    archive.record(make("One two five and eight.\n"), origin=URL, source="whitehouse")
    other = archive.resolve(OTHER)
    third = make("Alpha beta delta.\n", source_url=OTHER, title=other.title)
    archive.record(third, origin=OTHER, source="state")
    touched = {archive.resolve(URL).id, other.id}
    done = generate(archive, out)
    assert not done.full
    expected = {f"statements/{sid}.html" for sid in touched}
    expected |= {"sources/whitehouse.html", "sources/state.html", "index.html"}
    assert set(done.written) == expected
    for path, (mtime, data) in before.items():
        if path.relative_to(out).as_posix() not in expected:
            assert (path.stat().st_mtime_ns, path.read_bytes()) == (mtime, data), path
    assert "five" in (out / f"statements/{archive.resolve(URL).id}.html").read_text("utf-8")


def test_other_options_rebuild_the_site_and_drop_pages_it_no_longer_has(
    site: tuple[Archive, Path],
) -> None:
    archive, out = site
    done = generate(archive, out, sources=["state"])
    assert done.full and "sources/whitehouse.html" in done.removed
    assert sorted(p.name for p in (out / "sources").glob("*.html")) == ["state.html"]
    assert json.loads((out / MANIFEST).read_text())["options"]["sources"] == ["state"]
    index = check_page((out / "index.html").read_text("utf-8"))
    assert "sources state" in "".join(index.text("footer"))
    late = generate(archive, out, since="2099-01-01T00:00:00+00:00")
    assert late.full and list((out / "statements").glob("*.html")) == []
    assert "No changes." in (out / "index.html").read_text("utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=hostile_text, body=hostile_text)
@example(title="\U000effff\ufdd0", body="0\U0010fffe")  # noncharacters of the upper planes
def test_any_title_and_body_render_as_text(title: str, body: str) -> None:
    row = StatementRow(
        1, "javascript:alert(1)", "a.md", "a", title, title, None, "active", 2, "", ""
    )
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    old = new_statement(title="old", source_url=URL, tags="t", body="x\n", published_time=when)
    new = new_statement(title=title, source_url=URL, tags="t", body=body, published_time=when)
    change = compare(old, new, ("updated",), {})
    at = "2026-01-01T00:00:00+00:00"
    event = EventRow(2, 1, at, ("updated", "silent"), 1, 2, {}, URL, "a.md", title, title)
    text = pages.statement_page(pages.Site(title), row, [], [pages.Step(event, change.html())])
    page = check_page(safe_text(text))
    assert page.text("h1") == [pages_safe(title) or "(untitled)"]
    assert "javascript:" not in " ".join(page.links)


def test_the_cli_writes_the_report_and_the_config_section_enables_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted(tmp_path / "archive").close()
    a = ["--archive", str(tmp_path / "archive")]
    assert main(["report", *a, "--source", "whitehouse", "--since", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("report (whole site):") and str(tmp_path / "archive" / "report") in out
    assert (tmp_path / "archive" / "report" / "sources" / "whitehouse.html").is_file()
    assert main(["report", *a, "--out", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "index.html").is_file()
    assert main(["report", *a, "--since", "soon"]) == 2
    assert "--since 'soon'" in capsys.readouterr().err
    assert load_config(tmp_path / "archive").report == ReportConfig(enabled=False)
    (tmp_path / "archive" / "statements.toml").write_text('[report]\nout = "site"\n')
    assert load_config(tmp_path / "archive").report == ReportConfig(out="site")
    (tmp_path / "file").write_text("not a folder")
    assert main(["report", *a, "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    assert "cannot write the report: Not a directory" in err and err.count("\n") == 1
    (tmp_path / "archive" / "statements.toml").write_text('[report]\nout = ""\n')
    assert main(["report", *a]) == 2
    assert "report.out" in capsys.readouterr().err


def test_a_failing_report_never_fails_the_sync(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with planted(tmp_path / "archive") as archive:
        assert report.after_sync(archive, ReportConfig(enabled=False)) is None
        done = report.after_sync(archive, ReportConfig(out="site"))
        assert done is not None and (archive.root / "site" / "index.html").is_file()
        (tmp_path / "file").write_text("not a folder")
        with caplog.at_level(logging.ERROR):
            assert report.after_sync(archive, ReportConfig(out=str(tmp_path / "file"))) is None
    assert "report: could not write the report" in caplog.text
    assert os.path.isfile(tmp_path / "file")


@pytest.mark.corpus
def test_a_sync_brings_the_report_up_to_date_and_shows_a_broken_source(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path
) -> None:
    texts = sorted(usable_texts(t for _, t in corpus), key=lambda t: str(loads(t).published_time))
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    (archive_dir / "statements.toml").write_text('[report]\nout = "site"\n')
    out = archive_dir / "site"
    with FixtureSite(texts[-12:]) as site:
        args = ["sync", "--archive", str(archive_dir), "--base-url", site.base_url, "--rate", "0"]
        assert main([*args, "--full"]) == 0
        check_page((out / "index.html").read_text("utf-8"))
        assert list((out / "statements").glob("*.html")) == []  # new statements: no change yet
        doc = loads(texts[-1])
        edited = texts[-1].replace(doc.body, doc.body.replace(" the ", " THE NEW ", 1))
        site.edit(doc.source_url, edited)
        assert main(args) == 0
    with Archive(archive_dir) as archive:
        row = archive.resolve(doc.source_url)
    page = (out / f"statements/{row.id}.html").read_text("utf-8")
    assert "<del>the</del><ins>THE NEW</ins>" in page
    with FixtureSite([]) as empty:
        assert main([*args[:3], "--base-url", empty.base_url, "--rate", "0"]) == 3
    broken = check_page((out / "broken.html").read_text("utf-8"))
    assert broken.text("td")[0] == "Broken whitehouse"


words = st.lists(st.sampled_from(["a", "b", "c", "<d>", "&", "é", ".", '"']), max_size=80)


@settings(max_examples=200, deadline=None)
@given(old=words, new=words, context=st.integers(0, 5))
def test_html_hunks_are_the_text_hunks_escaped_in_del_and_ins(
    old: list[str], new: list[str], context: int
) -> None:
    chunks = wdiff.word_diff(" ".join(old), " ".join(new), markdown=False)
    text = list(
        wdiff.render_hunks(chunks, context, {"delete": ("\0", "\1"), "insert": ("\2", "\3")})
    )
    marks = {"<del>": "\0", "</del>": "\1", "<ins>": "\2", "</ins>": "\3"}
    shown = [
        html.unescape(re.sub("</?(?:del|ins)>", lambda m: marks[m.group()], hunk))
        for hunk in html_hunks(chunks, context)
    ]
    assert shown == text
    assert all("<" not in re.sub("</?(?:del|ins)>", "", h) for h in html_hunks(chunks, context))
