"""Moving an index from one backend to another, whole history included.

:func:`copy_index` reads a source index and writes an empty target through the
:class:`~storage.backend.IndexBackend` protocol alone, so it moves SQLite to PostgreSQL (an
archive joining a team, ``statements import`` of an archive into a PostgreSQL index) as well as
back. Files are not touched: the archive folder stays where it is.

What is kept: every statement with its URLs (in the order first seen), status, head and
times; every revision with what its publisher declared; every event (in id order, so new ids
grow as the old ones did) with its announcement and HTML; the outbox (what each announcer had
not delivered); fetch state, settings, runs, schedule state, pending reformats, the API
audit's posts as last checked and the links between website and official texts. Ids are the
target's own: statement ids inside an event's ``detail`` (``replaces.id``) are mapped, event
ids in the announcers' ``since`` too. A URL keeps its statement's first-seen time (the source
keeps no per-URL time in the protocol).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storage.backend import IndexBackend
from storage.errors import ArchiveError
from storage.index import EventFilter, FetchState, StatementFilter

_FETCH_FIELDS = (
    "etag",
    "last_modified",
    "sitemap_lastmod",
    "last_checked",
    "last_status",
    "sitemap",
    "listing",
)


def copy_index(source: IndexBackend, target: IndexBackend) -> int:
    """Copy every row of ``source`` into the empty ``target`` in one transaction; return the
    number of statements copied. A target that holds statements is refused."""
    if target.count_statements():
        raise ArchiveError(
            "the target index is not empty",
            hint="move an index only into a new database",
        )
    with target.transaction():
        ids = _statements(source, target)
        _events(source, target, ids)
        _rest(source, target, ids)
    return len(ids)


def _statements(source: IndexBackend, target: IndexBackend) -> dict[int, int]:
    ids: dict[int, int] = {}
    for row, revision in source.rows(StatementFilter(), every_revision=True):
        if row.id not in ids:
            new = target.insert_statement(
                url=row.url,
                path=row.path,
                slug=row.slug,
                title=row.title,
                published_time=row.published_time,
                at=row.first_seen,
                source=row.source,
                stable_id=row.stable_id,
            )
            ids[row.id] = new
        declared = source.declared(row.id, revision.number)
        target.add_revision(replace(revision, statement_id=ids[row.id]), declared=declared)
    for old, new in ids.items():
        row = source.by_id(old)
        for url in source.urls_of(old):
            target.add_url(url, new, row.first_seen)
        fields = {k: getattr(row, k) for k in ("url", "status", "head", "last_seen")}
        target.update_statement(new, **fields)
        state = source.fetch_state(row.url)
        if state is not None and state.statement_id == old:
            _fetch_state(target, new, state)
    return ids


def _fetch_state(target: IndexBackend, statement_id: int, state: FetchState) -> None:
    values = {k: getattr(state, k) for k in _FETCH_FIELDS if getattr(state, k) is not None}
    if values:
        target.set_fetch_state(statement_id, **values)


def _events(source: IndexBackend, target: IndexBackend, ids: dict[int, int]) -> None:
    """Every event, oldest first, with its pending announcements."""
    announcers = source.announcers()
    events = sorted(source.events(EventFilter()), key=lambda e: e.id)
    pending = {name: {e.id for e in source.outbox(name)} for name in announcers}
    html = source.event_html([e.id for e in events])
    named: list[str] = []
    for event in events:
        for name, since in announcers.items():  # named when the source named it
            if since < event.id and name not in named:
                named.append(name)
                target.set_announcers(named)
        new = target.add_event(
            ids[event.statement_id],
            event.at,
            event.kinds,
            event.from_rev,
            event.to_rev,
            _mapped_detail(event.detail, ids),
            text=event.diff,
            size=event.size,
            run=event.run,
        )
        if event.id in html:
            target.set_event_html(new, html[event.id])
        for name in named:
            if event.id not in pending[name]:
                target.delivered(name, [new])
    target.set_announcers(list(announcers))


def _mapped_detail(detail: dict[str, Any], ids: dict[int, int]) -> dict[str, Any]:
    replaces = detail.get("replaces")
    if isinstance(replaces, dict) and replaces.get("id") in ids:
        return {**detail, "replaces": {**replaces, "id": ids[replaces["id"]]}}
    return detail


def _rest(source: IndexBackend, target: IndexBackend, ids: dict[int, int]) -> None:
    for key, value in source.settings_with_prefix("").items():
        target.set_setting(key, value)
    names = set()
    for name, started, finished, ok, summary in reversed(source.runs()):
        target.add_run(name, started, finished, ok, summary)
        names.add(name)
    names.update(row.source for row in source.statements() if row.source)
    names.update(k.removeprefix("schedule:") for k in source.settings_with_prefix("schedule:"))
    for name in sorted(names):
        last, nxt = source.schedule_state(name)
        if last is not None or nxt is not None:
            target.set_schedule_state(name, last, nxt)
    for name in sorted(names):  # the API audit's posts, as last checked
        posts = source.api_posts(name).values()
        target.set_api_posts(name, [replace(p, statement_id=ids[p.statement_id]) for p in posts])
    for old, new in ids.items():  # each link once: from its website side
        for link in source.links_of(old):
            if link.website_id == old:
                target.add_link(new, ids[link.official_id], link.basis, link.key, link.linked_at)
    for old in source.pending_reformat_ids():
        base, origin, text = source.pending_reformat(old) or (0, "", "")
        target.set_pending_reformat(ids[old], base, source.by_id(old).last_seen, origin, text)
    if source.pending():
        target.add_pending(source.pending())
