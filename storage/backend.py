"""The seam between the archive and the database that indexes it.

:class:`IndexBackend` lists every call the rest of the code makes on an index: the archive,
the journal, verify, import and the whole crawler type against it, never against SQLite. The
SQLite :class:`storage.index.Index` is today's one implementation (the default, zero set-up);
a shared PostgreSQL index (issue 16) is meant to be a second one, passing the same conformance
suite (``tests/test_index_conformance.py``).

What a backend must keep, so the two stay interchangeable:

- Values are plain Python: ``str``, ``int``, ``bool``, ``None`` and the row dataclasses of
  :mod:`storage.index`. Times are ISO 8601 text in UTC, which sorts as time does. Nothing of a
  driver (cursors, connections, rows) crosses the seam.
- Writes happen inside :meth:`IndexBackend.transaction`, a context manager: everything in it
  commits together or not at all; a nested ``transaction()`` is a savepoint, so an error inside
  it undoes only the inner part when the caller catches it.
- Ids are positive integers given by the backend; events' ids grow with time, so "events after
  id N" means "recorded later".
- Opening an index brings its schema up to date (migrations), and an index that cannot be
  written refuses writes with :class:`~storage.errors.ArchiveError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # only for annotations: storage.index imports this module
    from storage.index import (
        ApiPost,
        EventFilter,
        EventRow,
        FetchState,
        LinkRow,
        RevisionRow,
        SearchHit,
        SearchQuery,
        StatementFilter,
        StatementRow,
    )


@runtime_checkable
class IndexBackend(Protocol):
    """One archive's index: statements, their URLs, revisions and change events, the
    announcements not yet delivered (the outbox), the crawler's fetch state, settings, runs,
    the schedule, and the work a crash may leave."""

    # -- connection, schema and transactions --------------------------------------------------

    def close(self) -> None:
        """Release the connection; the index is not used afterwards."""

    def schema_version(self) -> int:
        """The schema version the store is at (the number of migrations applied)."""

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit of writes; nested, a savepoint undone alone by an error inside it."""

    def lock_statement(self, key: str) -> None:
        """Inside a transaction, wait for and hold the lock named ``key`` (a statement's URL or
        stable id) until the transaction ends, so writers sharing the index record one
        statement one after another (exactly once). A backend whose transactions already run
        one at a time (SQLite's ``BEGIN IMMEDIATE``) does nothing."""

    # -- settings -----------------------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        """A stored setting, or ``default`` if it was never set."""

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting, replacing an earlier value."""

    def settings_with_prefix(self, prefix: str) -> dict[str, str]:
        """Every setting whose key starts with ``prefix``, keyed by the rest of the key."""

    # -- statements and their URLs ------------------------------------------------------------

    def by_id(self, statement_id: int) -> StatementRow:
        """A statement by id; an unknown id is an :class:`~storage.errors.ArchiveError`."""

    def by_url(self, url: str) -> StatementRow | None:
        """The statement seen at this URL (its current one or a former one)."""

    def by_path(self, path: str) -> StatementRow | None:
        """The statement whose file is at this archive-relative path now."""

    def by_stable_id(self, source: str, stable_id: str) -> StatementRow | None:
        """The statement a source names by this stable id (its own id for it, whatever its URL
        now: GOV.UK's content_id); ids are unique per source."""

    def by_slug_prefix(self, prefix: str, limit: int = 10) -> list[StatementRow]:
        """Statements whose slug starts with ``prefix`` (taken literally), by slug."""

    def insert_statement(
        self,
        *,
        url: str,
        path: str,
        slug: str,
        title: str,
        published_time: str | None,
        at: str,
        source: str | None = None,
        stable_id: str | None = None,
    ) -> int:
        """Add a statement (head 0, active) and its URL, with its source's stable id for it if
        any (one statement per source and id); return its new id."""

    def add_url(self, url: str, statement_id: int, at: str) -> None:
        """Record that a statement is seen at a URL (a URL already known moves to it)."""

    def update_statement(self, statement_id: int, **values: Any) -> None:
        """Set columns of a statement (any field of :class:`StatementRow` but ``id``)."""

    def count_statements(self) -> int:
        """How many statements the index holds."""

    def statements(
        self, *, source: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[StatementRow]:
        """Statements in the order they entered the archive, of one source or status if given
        (imported statements have no source), at most ``limit``."""

    def count_of_source(
        self,
        source: str,
        hosts: Sequence[str] = (),
        *,
        active_only: bool = False,
        at_most: int | None = None,
    ) -> int:
        """Statements recorded under a source's name or (imported ones) at one of its hosts;
        ``active_only`` leaves out removed and replaced ones, ``at_most`` caps the count."""

    def urls_of(self, statement_id: int) -> list[str]:
        """Every URL a statement was seen at, first seen first."""

    def successor(self, statement_id: int) -> StatementRow | None:
        """The statement whose ``replaced`` event names this one as the statement it replaced."""

    # -- revisions ----------------------------------------------------------------------------

    def add_revision(self, revision: RevisionRow, *, declared: str | None = None) -> int:
        """Store a revision (its ``id`` is ignored) with what its publisher declared
        (``declared``: JSON text of :class:`storage.declared.Declared`, or None) and make its
        words searchable (:meth:`search`) in the same transaction; return its new id."""

    def declared(self, statement_id: int, number: int) -> str | None:
        """What the publisher declared with a revision (the JSON text stored), None if nothing
        (or no such revision)."""

    def revision(self, statement_id: int, number: int) -> RevisionRow | None:
        """One revision of a statement by number (1 is the first)."""

    def revisions(self, statement_id: int) -> list[RevisionRow]:
        """Every revision of a statement, oldest first."""

    def last_from(self, origin: str) -> str | None:
        """The content hash of the latest revision that came from an origin (file or URL)."""

    def head_hashes(self) -> dict[str, str]:
        """Current path -> content hash of its latest revision, for fast no-op checks."""

    def heads(self) -> list[tuple[int, str, str]]:
        """(id, path, content hash of the latest revision) of every statement, by id."""

    def revision_paths(self) -> set[str]:
        """Every path any revision was written at, current and superseded."""

    def same_words(self, digest: str, published_time: str | None) -> list[tuple[str, str]]:
        """(URL, status) of statements whose latest text has these words and publication time."""

    # -- full-text search and lists ----------------------------------------------------------

    def search(self, query: SearchQuery, *, limit: int | None = 20) -> list[SearchHit]:
        """Statements whose words match ``query``, best first, one hit per statement with the
        snippet of its best-matching revision; only latest revisions unless the query asks for
        every revision. A raw query the backend cannot read is a
        :class:`~storage.errors.QueryError`. Revisions enter the search index in the
        transaction that adds them (:meth:`add_revision`)."""

    def count_search(self, query: SearchQuery) -> int:
        """How many statements :meth:`search` finds, its ``limit`` aside."""

    def rows(
        self, where: StatementFilter, *, every_revision: bool = False, newest_first: bool = False
    ) -> Iterator[tuple[StatementRow, RevisionRow]]:
        """Each statement ``where`` selects with its latest revision (or each of its revisions,
        oldest first), by id or newest publication first; streamed in constant memory."""

    # -- events -------------------------------------------------------------------------------

    def add_event(
        self,
        statement_id: int,
        at: str,
        kinds: Sequence[str],
        from_rev: int | None,
        to_rev: int | None,
        detail: dict[str, Any] | None = None,
        *,
        text: str | None = None,
        size: int | None = None,
        run: str | None = None,
    ) -> int:
        """Store a change event (``detail`` is JSON-able, ``text`` its announcement, ``size``
        the words added or removed, ``run`` the run recording it) with one pending
        announcement per named announcer (the outbox, :meth:`set_announcers`); return its id,
        larger than every earlier event's."""

    def set_event_text(self, event_id: int, text: str, size: int) -> None:
        """Store the announcement of an event recorded before announcements were stored."""

    def event_html(self, event_ids: Sequence[int]) -> dict[int, str]:
        """The stored HTML announcements of these events, by id (an event without one: absent)."""

    def set_event_html(self, event_id: int, html: str) -> None:
        """Store the HTML announcement of an event (replacing an earlier one)."""

    def add_link(self, website_id: int, official_id: int, basis: str, key: str, at: str) -> None:
        """Link a website's statement to its official text (a pair is linked once: linking it
        again replaces ``basis``, ``key`` and ``at``)."""

    def links_of(self, statement_id: int) -> list[LinkRow]:
        """The links a statement is in, on either side, oldest first."""

    def last_event_id(self) -> int:
        """The id of the latest event (0: none yet)."""

    def event_of_revision(self, statement_id: int, number: int) -> EventRow | None:
        """The event that brought a statement to this revision number."""

    def events(
        self,
        where: EventFilter | None = None,
        *,
        limit: int | None = None,
        to_rev: int | None = None,
        **filters: Any,
    ) -> list[EventRow]:
        """Change events, newest first, as ``where`` (or the same fields as keywords) says;
        each carries its statement's URL, path, title and source, and when a revert undid it."""

    def count_events(self, where: EventFilter) -> int:
        """How many events ``where`` selects (``limit`` aside, as :meth:`events` would)."""

    # -- the outbox: announcements not yet delivered ------------------------------------------

    def set_announcers(self, names: Sequence[str]) -> None:
        """Name the announcers events are announced to: :meth:`add_event` writes one pending
        announcement per name with the event. A new name has nothing pending (only events
        written from now on); a name left out is dropped with what it had pending."""

    def announcers(self) -> dict[str, int]:
        """Announcer name -> the latest event id when it was named (later events are its)."""

    def outbox(self, announcer: str, limit: int | None = None) -> list[EventRow]:
        """The events an announcer has not delivered yet, oldest first (as :meth:`events`)."""

    def delivered(self, announcer: str, event_ids: Sequence[int]) -> None:
        """An announcer delivered these events: they are no longer pending."""

    def undelivered(self, announcer: str, event_ids: Sequence[int], error: str) -> None:
        """An attempt to deliver these events failed: they stay pending, counted, with the error."""

    def outbox_state(self) -> dict[str, tuple[int, int, str | None]]:
        """Each named announcer -> (events pending, most attempts at one, the latest error)."""

    # -- the crawler's fetch state ------------------------------------------------------------

    def fetch_state(self, url: str) -> FetchState | None:
        """What the crawler knows of the statement seen at a URL (None: not known)."""

    def set_fetch_state(self, statement_id: int, **values: Any) -> None:
        """Set fetch-state fields of a statement (etag, last_modified, sitemap_lastmod,
        last_checked, last_status, sitemap, listing)."""

    def listed_in(
        self, sitemaps: Sequence[str], listings: Sequence[str]
    ) -> list[tuple[str, str | None, str | None, str | None]]:
        """(URL, published time, sitemap, listing) of the active statements last listed in one
        of these sitemap documents or listings, each once."""

    def least_recently_checked(self) -> Iterator[tuple[str, str | None]]:
        """(URL, last check) of every statement but replaced ones: never checked first, then
        the oldest check, then by id."""

    # -- a source's content API, as last checked -------------------------------------------

    def api_posts(self, source: str) -> dict[str, ApiPost]:
        """The source's API posts (:class:`~storage.index.ApiPost`) as last checked, by id."""

    def set_api_posts(self, source: str, posts: Sequence[ApiPost]) -> None:
        """Add or replace posts of the source, by post id."""

    def drop_api_posts(self, source: str, post_ids: Sequence[str]) -> None:
        """Forget posts of the source (unknown ids are ignored)."""

    # -- runs and the schedule ----------------------------------------------------------------

    def add_run(self, source: str, started: str, finished: str, ok: bool, summary: str) -> None:
        """Record a finished run of a source (``summary`` is JSON text)."""

    def last_run(self, source: str) -> tuple[str, str, bool, str] | None:
        """(started, finished, ok, summary JSON) of a source's latest run."""

    def runs(
        self, *, source: str | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str, bool, str]]:
        """(source, started, finished, ok, summary JSON) of finished runs, latest first."""

    def schedule_state(self, job: str) -> tuple[str | None, str | None]:
        """(last fire time, next fire time) of a scheduled job; (None, None) if unknown."""

    def set_schedule_state(self, job: str, last_fire: str | None, next_fire: str | None) -> None:
        """Store a scheduled job's last and next fire times."""

    # -- work a crash may leave: files to move, reformats to apply ----------------------------

    def add_pending(self, moves: list[tuple[str, str]]) -> None:
        """Remember (temporary, final) file moves a committing batch still has to make."""

    def pending(self) -> list[tuple[str, str]]:
        """The (temporary, final) moves not yet cleared."""

    def clear_pending(self) -> None:
        """Forget every pending move (in a transaction of its own)."""

    def set_pending_reformat(
        self, statement_id: int, base_rev: int, seen_at: str, origin: str, text: str
    ) -> None:
        """Keep aside a reformat-only difference of a statement (one per statement: the latest)."""

    def pending_reformat(self, statement_id: int) -> tuple[int, str, str] | None:
        """(the revision it re-renders, origin, file text) of a statement's pending reformat."""

    def pending_reformat_ids(self) -> list[int]:
        """The statements with a pending reformat."""

    def clear_pending_reformat(self, statement_id: int) -> None:
        """Drop a statement's pending reformat, if any."""
