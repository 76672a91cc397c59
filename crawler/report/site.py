"""The report's thin shell: read the archive, decide which pages to render, write them.

:func:`generate` reads only through the archive's read API (``changes``, ``statements``,
``revisions``, ``revision``, ``statement``, ``announcements``, ``runs``), renders with
:mod:`crawler.report.pages`,
and writes a page only when its bytes differ from the file's (a temporary file renamed over it:
a web server never serves half a page).

Incremental: the output folder keeps a small manifest (``.report.json``: the options, the id of
the latest event shown, the pages made). When the options are the same, only the statements of
the events recorded since then are rendered again (and the statement a ``replaced`` document took
the URL from), with the pages of their sources, the index and the broken-discovery page; every
other page is left as it is. Other options, or no manifest, render the whole site and remove
pages the new one no longer has.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.report import pages
from storage.archive import Archive
from storage.change import Change, compare
from storage.document import Statement
from storage.index import EventRow, StatementRow

MANIFEST = ".report.json"
#: What HTML5 forbids in a document (controls, lone surrogates, noncharacters): a replacement
#: character instead, so a hostile title never makes a page invalid.
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(1, 17))
    + "]"
)  # controls, lone surrogates and noncharacters (of every plane): HTML5 parse errors
#: The manifest's format; another one renders the whole site.
VERSION = 1
#: The index lists at most this many changes (each source's page lists all of its own).
INDEX_LIMIT = 500
#: Kinds that alone make no change worth a page: a new statement, a rendering.
NOT_A_CHANGE = frozenset({"new", "reformatted"})


@dataclass
class Written:
    """What :func:`generate` did: pages rendered, pages whose file changed, pages removed."""

    out: Path
    full: bool = False
    rendered: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def generate(
    archive: Archive,
    out: Path,
    *,
    since: str | None = None,
    sources: Sequence[str] = (),
    full: bool = False,
) -> Written:
    """Write (or bring up to date) the report of ``archive`` in ``out``: the changes at or
    after ``since`` (index time, UTC text) of ``sources`` (all when empty)."""
    site = pages.Site(f"Changes in {archive.root.name}", since, tuple(sources))
    every = archive.changes(since=since, sources=tuple(sources), news=True)
    changes = [ev for ev in every if set(ev.kinds) - NOT_A_CHANGE]
    options = {"version": VERSION, "since": since, "sources": sorted(sources)}
    manifest = _read_manifest(out)
    done = Written(out, full=full or manifest.get("options") != options)
    last = int(manifest.get("last_event", 0))
    fresh = changes if done.full else [ev for ev in changes if ev.id > last]
    touched = {ev.statement_id for ev in fresh}
    touched |= {int(ev.detail["replaces"]["id"]) for ev in fresh if _replaces(ev)}
    by_statement: dict[int, list[EventRow]] = defaultdict(list)
    by_source: dict[str | None, list[EventRow]] = defaultdict(list)
    for ev in every:  # a statement's page shows its first revision too
        by_statement[ev.statement_id].append(ev)
    for ev in changes:
        by_source[ev.source].append(ev)
    rows = {row.id: row for row in archive.statements()}
    for sid in sorted(touched & {ev.statement_id for ev in changes}):
        html = _statement(archive, site, rows, rows[sid], by_statement[sid][::-1])
        _put(done, pages.statement_file(sid), html)
    for source in {ev.source for ev in fresh}:
        _put(done, pages.source_file(source), pages.source_page(site, source, by_source[source]))
    _put(done, "index.html", pages.index_page(site, changes, every, INDEX_LIMIT))
    _put(done, "broken.html", broken_page(archive, site))
    _put(done, "style.css", pages.STYLE)
    made = [pages.statement_file(s) for s in {ev.statement_id for ev in changes}] + [
        pages.source_file(s) for s in by_source
    ]
    if done.full:
        _remove_stale(done, set(made))
    last_shown = max((ev.id for ev in changes), default=0)
    _write_manifest(out, {"options": options, "last_event": max(last_shown, last), "pages": made})
    return done


def _replaces(ev: EventRow) -> bool:
    replaces = ev.detail.get("replaces")
    return isinstance(replaces, dict) and isinstance(replaces.get("id"), int)


def _statement(
    archive: Archive,
    site: pages.Site,
    rows: dict[int, StatementRow],
    row: StatementRow,
    events: Sequence[EventRow],
) -> str:
    """A statement's page: its revisions and each change event (oldest first here)."""
    revisions = archive.revisions(row)
    numbered = {r.number: archive.statement(r) for r in revisions}
    stored = archive.announcements(events)
    steps = []
    for ev in events:
        if "reformatted" in ev.kinds and len(ev.kinds) == 1:
            continue
        new = numbered.get(ev.to_rev or 0)
        html = stored.get(ev.id) or _render(numbered.get(ev.from_rev or 0), new, ev)
        steps.append(pages.Step(ev, html, _replaced_texts(archive, rows, ev, new)))
    return pages.statement_page(site, row, revisions, steps)


def _render(old: Statement | None, new: Statement | None, ev: EventRow) -> str:
    """The HTML of an event recorded before its HTML was stored (schema 8): diffed here."""
    if old is None and new is None:
        return ""
    if old is None and new is not None:  # a first revision needs its title only
        return Change(ev.kinds, "first", new.title, detail=ev.detail).html()
    return compare(old, new, ev.kinds, ev.detail).html()


def _replaced_texts(
    archive: Archive, rows: dict[int, StatementRow], ev: EventRow, new: Statement | None
) -> tuple[str, str, str, str] | None:
    """A ``replaced`` event shows both documents: the one replaced (its latest text) and this."""
    if not _replaces(ev) or new is None:
        return None
    old_row = rows.get(int(ev.detail["replaces"]["id"]))
    if old_row is None:
        return None
    old = archive.statement(archive.revision(old_row))
    return (old.title, old.body, new.title, new.body)


def broken_page(archive: Archive, site: pages.Site) -> str:
    """Sources whose latest recorded run found their discovery broken (see ``jobs._record_run``:
    such a run's summary has ``broken``, the reason)."""
    runs = archive.runs()
    by_source: dict[str, list[tuple[str, str, str, bool, str]]] = defaultdict(list)
    for run in runs:  # latest first
        by_source[run[0]].append(run)
    broken = []
    for source, theirs in sorted(by_source.items()):
        failing = []
        for run in theirs:
            reason = _broken_reason(run[4])
            if run[3] or reason is None:
                break
            failing.append((run, reason))
        if not failing or (site.sources and source not in site.sources):
            continue
        last_ok = next((r[1] for r in theirs[len(failing) :] if r[3]), None)
        since = failing[-1][0][1]
        broken.append(pages.Broken(source, since, last_ok, failing[0][1], len(failing)))
    return pages.broken_page(site, broken, len(runs))


def _broken_reason(summary: str) -> str | None:
    try:
        data = json.loads(summary)
    except ValueError:
        return None
    reason = data.get("broken") if isinstance(data, dict) else None
    return None if reason is None else str(reason)


# -- files ------------------------------------------------------------------------------------


def _put(done: Written, relative: str, text: str) -> None:
    """Write a page if its bytes differ from the file's (temporary file, then a rename)."""
    done.rendered.append(relative)
    path = done.out / relative
    data = UNSAFE.sub("\ufffd", text).encode("utf-8")
    with suppress(OSError):
        if path.read_bytes() == data:
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    done.written.append(relative)


def _remove_stale(done: Written, keep: Iterable[str]) -> None:
    wanted = set(keep)
    for folder in ("statements", "sources"):
        for path in sorted((done.out / folder).glob("*.html")):
            relative = f"{folder}/{path.name}"
            if relative not in wanted:
                path.unlink()
                done.removed.append(relative)


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(out: Path, data: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{MANIFEST}.{os.getpid()}.part"
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
