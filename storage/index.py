"""The archive's index: every revision of every statement, fetch state and change events.

It is one SQLite file, ``<archive>/.statements/index.sqlite``, in WAL mode, readable with
``sqlite3`` or Datasette; ``docs/index.md`` documents the tables. The schema is versioned with
``PRAGMA user_version`` and brought up to date by :data:`MIGRATIONS` when opened.

Full-text search (:meth:`Index.search`) runs on ``revisions_fts``, an FTS5 table over the title
and body of every revision that keeps only the inverted index (the text stays in ``revisions``);
:meth:`Index.add_revision` adds each revision to it in the same transaction, and plain words are
quoted (:func:`fts_query`) so that only a ``raw`` query can be an FTS5 syntax error. Lists and
exports stream rows from a cursor (:meth:`Index.rows`).

An index that cannot be written (an archive on a read-only mount, a CD, a folder of another user)
is opened read-only (:func:`open_read_only`): every query works, nothing is migrated, and a
write fails with :class:`~storage.errors.ArchiveError`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storage.backend import IndexBackend as IndexBackend  # re-exported
from storage.document import load_meta
from storage.errors import ArchiveError, DocumentError, QueryError
from storage.schema import MIGRATIONS

SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class StatementRow:
    id: int
    url: str
    path: str
    slug: str
    source: str | None
    title: str
    published_time: str | None
    status: str
    head: int
    first_seen: str
    last_seen: str
    stable_id: str | None = None  # the source's own id for it (GOV.UK's content_id), if any


@dataclass(frozen=True)
class RevisionRow:
    id: int
    statement_id: int
    number: int
    seen_at: str
    origin: str
    url: str
    path: str
    title: str
    published_time: str | None
    modified_time: str | None
    content_hash: str
    words_hash: str
    front_matter: str
    body: str

    @property
    def text(self) -> str:
        """The whole file text of this revision."""
        return "---\n" + self.front_matter + "---\n \n" + self.body


@dataclass(frozen=True)
class FetchState:
    """What the crawler knows of a statement's URL: for conditional GET and incremental sync."""

    statement_id: int
    url: str
    status: str
    head: int
    modified_time: str | None = None  # of the latest revision
    published_time: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    sitemap_lastmod: str | None = None
    last_checked: str | None = None
    last_status: int | None = None
    sitemap: str | None = None  # the sitemap document that last listed it
    listing: str | None = None  # the listing (its start URL) that last listed it


@dataclass(frozen=True)
class ApiPost:
    """A post of a source's content API (a WordPress post) as it was when its statement was last
    checked: what an API audit compares the API with (:mod:`crawler.wpapi`)."""

    post_id: str  # the API's own id: the statement's stable identity there
    statement_id: int
    fingerprint: str  # of the content's words
    title: str
    modified: str | None  # the post's modified time as the API gave it (UTC)
    checked: str  # when it was last compared with the statement's page


@dataclass(frozen=True)
class EventRow:
    id: int
    statement_id: int
    at: str
    kinds: tuple[str, ...]
    from_rev: int | None
    to_rev: int | None
    detail: dict[str, Any]
    url: str
    path: str
    title: str
    source: str | None = None
    diff: str | None = None  # the announcement, rendered once (None: an older event, not yet)
    size: int | None = None  # words added or removed
    reverted_at: str | None = None  # when a later event undid this one (A -> B -> A)
    run: str | None = None  # the run that recorded it (None: outside a run)

    @property
    def flips(self) -> int:
        """How many flip-backs a flapping page made up to this event (0: not flapping)."""
        if "flapping" not in self.kinds:
            return 0
        return int(self.detail.get("flips", 1))


@dataclass(frozen=True)
class LinkRow:
    """A website's statement and its official text (see ``storage.links``)."""

    website_id: int
    official_id: int
    basis: str  # executive_order_number | title_and_signing_date
    key: str  # the number, or the signing date
    linked_at: str


@dataclass(frozen=True)
class EventFilter:
    """Which events :meth:`Index.events` returns; every field narrows the set."""

    since: str | None = None  # at or after
    until: str | None = None  # before
    kinds: Sequence[str] = ()  # any of them
    sources: Sequence[str] = ()  # one of them
    statement_id: int | None = None
    after_id: int | None = None
    flaps: bool = True  # False: of a run of flip-backs, only the latest (the page's state)
    news: bool = False  # True: no event that is only "reformatted" (never announced)
    min_size: int = 0  # updated or silent events smaller than this (in words) are left out
    follow_reverts: bool = False  # True: a revert also has the kinds of the edit it undid
    run: str | None = None  # recorded by this run


@dataclass(frozen=True)
class StatementFilter:
    """Which statements :meth:`Index.rows` and :meth:`Index.search` return; every field narrows
    the set. ``since``/``until`` are publication times (UTC text): at or after, before."""

    sources: Sequence[str] = ()  # recorded by a sync of one of them
    statuses: Sequence[str] = ()  # active, removed, replaced, withdrawn
    tags: Sequence[str] = ()  # the latest front matter's `tags` holds one of them
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    """A full-text search: ``words`` as a person types them (each word must appear; a
    ``"quoted phrase"`` in that order; ``word*`` a prefix), or with ``raw`` the backend's own
    query syntax (SQLite FTS5: ``AND``/``OR``/``NOT``, ``NEAR``, ``title:``). ``every_revision``
    searches every revision ever recorded, not only the latest ones."""

    words: str
    raw: bool = False
    every_revision: bool = False
    where: StatementFilter = StatementFilter()
    marks: tuple[str, str] = ("«", "»")  # around each matched word in the snippet


@dataclass(frozen=True)
class SearchHit:
    """A statement a search found, best first: the revision that matched best, its snippet,
    and every matching revision (``latest``: the statement still says it)."""

    statement: StatementRow
    number: int  # the best-matching revision
    score: float  # lower is better (bm25, as SQLite orders it)
    snippet: str
    numbers: tuple[int, ...]  # every matching revision, oldest first
    latest: bool


#: Events that say nothing a reader could see: never announced.
QUIET_KINDS = ("reformatted",)

_STATEMENT_COLS = ", ".join(StatementRow.__dataclass_fields__)
_REVISION_COLS = ", ".join(c for c in RevisionRow.__dataclass_fields__)


class Index:
    """A connection to one archive's index. Writes happen inside :meth:`transaction`."""

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self._depth = 0
        if read_only:
            self.db = open_read_only(path)
            _add_functions(self.db)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            _add_functions(self.db)
            self._migrate()
        except sqlite3.Error as exc:
            if path.exists() and not writable(path.parent):
                raise ArchiveError(
                    "the archive is read-only: this command needs to write it",
                    where=str(path.parent.parent),
                    hint="history, show, diff, changes and status still work",
                ) from None
            raise ArchiveError(f"cannot open the index: {exc}", where=str(path)) from None

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"the index has schema version {version}, newer than this tool's {SCHEMA_VERSION}",
                where=str(self.path),
                hint="upgrade statement-sync",
            )
        # A migration may rebuild a table: foreign keys off around it (the pragma is a no-op
        # inside a transaction), checked before it commits.
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            for number in range(version, SCHEMA_VERSION):
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    for sql in _statements_of(MIGRATIONS[number]):
                        self.db.execute(sql)
                    broken = self.db.execute("PRAGMA foreign_key_check").fetchone()
                    if broken is not None:
                        raise sqlite3.IntegrityError(f"migration {number + 1} broke {broken}")
                    self.db.execute(f"PRAGMA user_version = {number + 1}")
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
        finally:
            self.db.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of writes; a nested call is a savepoint inside the outer one."""
        if self.read_only:
            raise ArchiveError(
                "the archive is read-only: nothing can be recorded",
                where=str(self.path.parent.parent),
                hint="history, show, diff, changes and status still work",
            )
        name = f"sp{self._depth}"
        self.db.execute("BEGIN IMMEDIATE" if self._depth == 0 else f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.db.execute("ROLLBACK")
            else:
                self.db.execute(f"ROLLBACK TO {name}")
                self.db.execute(f"RELEASE {name}")
            raise
        self._depth -= 1
        self.db.execute("COMMIT" if self._depth == 0 else f"RELEASE {name}")

    def lock_statement(self, key: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` makes SQLite's writers take turns already."""

    # -- settings ---------------------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def settings_with_prefix(self, prefix: str) -> dict[str, str]:
        """Every setting whose key starts with ``prefix``, keyed by the rest of the key."""
        rows = self.db.execute(
            "SELECT key, value FROM settings WHERE key >= ? AND key < ?",
            (prefix, prefix + "\uffff"),
        )
        return {str(key)[len(prefix) :]: str(value) for key, value in rows}

    def schema_version(self) -> int:
        """The schema version of the index (``len(MIGRATIONS)`` once opened for writing)."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- statements -------------------------------------------------------------------------

    def _statement(self, where: str, *args: Any) -> StatementRow | None:
        row = self.db.execute(f"SELECT {_STATEMENT_COLS} FROM statements WHERE {where}", args)
        found = row.fetchone()
        return None if found is None else StatementRow(*found)

    def by_id(self, statement_id: int) -> StatementRow:
        row = self._statement("id = ?", statement_id)
        if row is None:
            raise ArchiveError(f"no statement with id {statement_id}", where=str(self.path))
        return row

    def by_url(self, url: str) -> StatementRow | None:
        return self._statement("id = (SELECT statement_id FROM urls WHERE url = ?)", url)

    def by_path(self, path: str) -> StatementRow | None:
        return self._statement("path = ?", path)

    def by_stable_id(self, source: str, stable_id: str) -> StatementRow | None:
        return self._statement("source = ? AND stable_id = ?", source, stable_id)

    def by_slug_prefix(self, prefix: str, limit: int = 10) -> list[StatementRow]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.execute(
            f"SELECT {_STATEMENT_COLS} FROM statements WHERE slug LIKE ? ESCAPE '\\'"
            " ORDER BY slug LIMIT ?",
            (escaped + "%", limit),
        )
        return [StatementRow(*r) for r in rows]

    def statements(
        self, *, source: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[StatementRow]:
        """Statements in the order they entered the archive, of one source or status if given
        (imported statements have no source)."""
        where, args = ["1"], []
        for column, value in (("source", source), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_STATEMENT_COLS} FROM statements WHERE {' AND '.join(where)} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [StatementRow(*r) for r in self.db.execute(sql, args)]

    def last_from(self, origin: str) -> str | None:
        """The content hash of the latest revision that came from an origin (file or URL)."""
        row = self.db.execute(
            "SELECT content_hash FROM revisions WHERE origin = ? ORDER BY id DESC LIMIT 1",
            (origin,),
        ).fetchone()
        return None if row is None else str(row[0])

    def head_hashes(self) -> dict[str, str]:
        """Current path -> content hash of its latest revision, for fast no-op checks."""
        rows = self.db.execute(
            "SELECT s.path, r.content_hash FROM statements s"
            " JOIN revisions r ON r.statement_id = s.id AND r.number = s.head"
        )
        return {path: digest for path, digest in rows}

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
        cursor = self.db.execute(
            "INSERT INTO statements (url, path, slug, source, title, published_time, head,"
            " first_seen, last_seen, stable_id) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (url, path, slug, source, title, published_time, at, at, stable_id),
        )
        statement_id = int(cursor.lastrowid or 0)
        self.add_url(url, statement_id, at)
        return statement_id

    def add_url(self, url: str, statement_id: int, at: str) -> None:
        self.db.execute(
            "INSERT INTO urls (url, statement_id, first_seen) VALUES (?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET statement_id = excluded.statement_id",
            (url, statement_id, at),
        )

    def update_statement(self, statement_id: int, **values: Any) -> None:
        allowed = set(StatementRow.__dataclass_fields__) - {"id"}
        if not values or not set(values) <= allowed:
            raise ValueError(f"cannot update {sorted(set(values) - allowed)}")
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(
            f"UPDATE statements SET {sets} WHERE id = ?", (*values.values(), statement_id)
        )

    def count_statements(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM statements").fetchone()[0])

    def count_of_source(
        self,
        source: str,
        hosts: Sequence[str] = (),
        *,
        active_only: bool = False,
        at_most: int | None = None,
    ) -> int:
        """Statements of a source: recorded under its name, or (imported ones) at one of its
        hosts; ``active_only`` leaves out removed and replaced ones, ``at_most`` stops counting."""
        where = " OR ".join(["source = ?"] + ["url LIKE ?"] * len(hosts))
        if active_only:
            where = f"status = 'active' AND ({where})"
        args: list[Any] = [source, *(f"%://{host}/%" for host in hosts)]
        limit = "" if at_most is None else f" LIMIT {int(at_most)}"
        row = self.db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM statements WHERE {where}{limit})", args
        ).fetchone()
        return int(row[0])

    def urls_of(self, statement_id: int) -> list[str]:
        """Every URL a statement was seen at, first seen first."""
        rows = self.db.execute(
            "SELECT url FROM urls WHERE statement_id = ? ORDER BY first_seen, rowid",
            (statement_id,),
        )
        return [str(url) for (url,) in rows]

    def heads(self) -> list[tuple[int, str, str]]:
        """(id, path, content hash of the latest revision) of every statement, by id."""
        rows = self.db.execute(
            "SELECT s.id, s.path, r.content_hash FROM statements s"
            " JOIN revisions r ON r.statement_id = s.id AND r.number = s.head ORDER BY s.id"
        )
        return [(int(i), str(path), str(digest)) for i, path, digest in rows]

    def revision_paths(self) -> set[str]:
        """Every path any revision was ever written at (current and superseded)."""
        return {str(p) for (p,) in self.db.execute("SELECT DISTINCT path FROM revisions")}

    # -- fetch state ------------------------------------------------------------------------

    def fetch_state(self, url: str) -> FetchState | None:
        row = self.db.execute(
            "SELECT s.id, s.url, s.status, s.head, r.modified_time, s.published_time, f.etag,"
            " f.last_modified,"
            " f.sitemap_lastmod, f.last_checked, f.last_status, f.sitemap, f.listing"
            " FROM urls u JOIN statements s ON s.id = u.statement_id"
            " JOIN revisions r ON r.statement_id = s.id AND r.number = s.head"
            " LEFT JOIN fetch_state f ON f.statement_id = s.id WHERE u.url = ?",
            (url,),
        ).fetchone()
        return None if row is None else FetchState(*row)

    def set_fetch_state(self, statement_id: int, **values: Any) -> None:
        allowed = {
            "etag",
            "last_modified",
            "sitemap_lastmod",
            "last_checked",
            "last_status",
            "sitemap",
            "listing",
        }
        if not values or not set(values) <= allowed:
            raise ValueError(f"cannot set {sorted(set(values) - allowed)}")
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        sets = ", ".join(f"{k} = excluded.{k}" for k in values)
        self.db.execute(
            f"INSERT INTO fetch_state (statement_id, {cols}) VALUES (?, {marks})"
            f" ON CONFLICT (statement_id) DO UPDATE SET {sets}",
            (statement_id, *values.values()),
        )

    def listed_in(
        self, sitemaps: Sequence[str], listings: Sequence[str]
    ) -> list[tuple[str, str | None, str | None, str | None]]:
        """(URL, published time, sitemap, listing) of the active statements last listed in one
        of these sitemap documents or listings."""
        rows: list[tuple[str, str | None, str | None, str | None]] = []
        for column, places in (("sitemap", sitemaps), ("listing", listings)):
            for start in range(0, len(places), 500):
                chunk = list(places[start : start + 500])
                marks = ", ".join("?" for _ in chunk)
                rows += self.db.execute(
                    "SELECT s.url, s.published_time, f.sitemap, f.listing FROM fetch_state f"
                    " JOIN statements s ON s.id = f.statement_id"
                    f" WHERE s.status = 'active' AND f.{column} IN ({marks})",
                    chunk,
                )
        return list(dict.fromkeys(rows))

    def same_words(self, digest: str, published_time: str | None) -> list[tuple[str, str]]:
        """(URL, status) of statements whose latest text has these words and publication time."""
        rows = self.db.execute(
            "SELECT s.url, s.status FROM revisions r JOIN statements s ON s.id = r.statement_id"
            " AND r.number = s.head WHERE r.words_hash = ? AND s.published_time IS ?",
            (digest, published_time),
        )
        return [(str(url), str(status)) for url, status in rows]

    def least_recently_checked(self) -> Iterator[tuple[str, str | None]]:
        """Every statement's URL and last check, never-checked first, then oldest check
        (replaced statements left out: their URL leads to the document that replaced them)."""
        yield from self.db.execute(
            "SELECT s.url, f.last_checked FROM statements s LEFT JOIN fetch_state f"
            " ON f.statement_id = s.id WHERE s.status != 'replaced'"
            " ORDER BY f.last_checked IS NOT NULL, f.last_checked, s.id"
        )

    # -- a source's content API, as last checked ---------------------------------------------

    def api_posts(self, source: str) -> dict[str, ApiPost]:
        """The source's posts as last checked, by post id."""
        rows = self.db.execute(
            "SELECT post_id, statement_id, fingerprint, title, modified, checked FROM api_posts"
            " WHERE source = ?",
            (source,),
        )
        return {str(r[0]): ApiPost(*r) for r in rows}

    def set_api_posts(self, source: str, posts: Sequence[ApiPost]) -> None:
        """Add or replace posts of the source (by post id)."""
        self.db.executemany(
            "INSERT INTO api_posts (source, post_id, statement_id, fingerprint, title, modified,"
            " checked) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, post_id) DO UPDATE SET"
            " statement_id = excluded.statement_id, fingerprint = excluded.fingerprint,"
            " title = excluded.title, modified = excluded.modified, checked = excluded.checked",
            [
                (source, p.post_id, p.statement_id, p.fingerprint, p.title, p.modified, p.checked)
                for p in posts
            ],
        )

    def drop_api_posts(self, source: str, post_ids: Sequence[str]) -> None:
        """Forget posts of the source (gone from its API, and re-checked as pages)."""
        self.db.executemany(
            "DELETE FROM api_posts WHERE source = ? AND post_id = ?",
            [(source, post_id) for post_id in post_ids],
        )

    # -- reformat-only differences waiting for `statements reformat` ------------------------

    def set_pending_reformat(
        self, statement_id: int, base_rev: int, seen_at: str, origin: str, text: str
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO pending_reformats (statement_id, base_rev, seen_at, origin,"
            " text) VALUES (?, ?, ?, ?, ?)",
            (statement_id, base_rev, seen_at, origin, text),
        )

    def pending_reformat(self, statement_id: int) -> tuple[int, str, str] | None:
        """(the revision it re-renders, origin, file text) of a statement's pending reformat."""
        row = self.db.execute(
            "SELECT base_rev, origin, text FROM pending_reformats WHERE statement_id = ?",
            (statement_id,),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def pending_reformat_ids(self) -> list[int]:
        return [int(i) for (i,) in self.db.execute("SELECT statement_id FROM pending_reformats")]

    def clear_pending_reformat(self, statement_id: int) -> None:
        self.db.execute("DELETE FROM pending_reformats WHERE statement_id = ?", (statement_id,))

    # -- files a committed batch still has to move into place ------------------------------

    def add_pending(self, moves: list[tuple[str, str]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO pending_files (tmp, final) VALUES (?, ?)", moves
        )

    def pending(self) -> list[tuple[str, str]]:
        return [
            (str(t), str(f)) for t, f in self.db.execute("SELECT tmp, final FROM pending_files")
        ]

    def clear_pending(self) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM pending_files")

    # -- runs and the schedule ---------------------------------------------------------------

    def add_run(self, source: str, started: str, finished: str, ok: bool, summary: str) -> None:
        self.db.execute(
            "INSERT INTO runs (source, started, finished, ok, summary) VALUES (?, ?, ?, ?, ?)",
            (source, started, finished, int(ok), summary),
        )

    def last_run(self, source: str) -> tuple[str, str, bool, str] | None:
        """(started, finished, ok, summary JSON) of a source's latest run."""
        row = self.db.execute(
            "SELECT started, finished, ok, summary FROM runs WHERE source = ?"
            " ORDER BY started DESC, id DESC LIMIT 1",
            (source,),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), bool(row[2]), str(row[3]))

    def runs(
        self, *, source: str | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str, bool, str]]:
        """(source, started, finished, ok, summary JSON) of finished runs, latest first."""
        where, args = ("WHERE source = ?", [source]) if source is not None else ("", [])
        rows = self.db.execute(
            f"SELECT source, started, finished, ok, summary FROM runs {where}"
            " ORDER BY started DESC, id DESC LIMIT ?",
            [*args, -1 if limit is None else limit],
        )
        return [(str(r[0]), str(r[1]), str(r[2]), bool(r[3]), str(r[4])) for r in rows]

    def schedule_state(self, job: str) -> tuple[str | None, str | None]:
        """(last fire time, next fire time) of a scheduled job, as UTC text."""
        row = self.db.execute(
            "SELECT last_fire, next_fire FROM schedule WHERE job = ?", (job,)
        ).fetchone()
        return (None, None) if row is None else (row[0], row[1])

    def set_schedule_state(self, job: str, last_fire: str | None, next_fire: str | None) -> None:
        self.db.execute(
            "INSERT INTO schedule (job, last_fire, next_fire) VALUES (?, ?, ?) ON CONFLICT (job)"
            " DO UPDATE SET last_fire = excluded.last_fire, next_fire = excluded.next_fire",
            (job, last_fire, next_fire),
        )

    # -- revisions --------------------------------------------------------------------------

    def add_revision(self, revision: RevisionRow, *, declared: str | None = None) -> int:
        """Store a revision (with what its publisher declared, JSON text), and its title and
        body in the full-text index, in the caller's transaction; return its id."""
        values = [getattr(revision, c) for c in RevisionRow.__dataclass_fields__ if c != "id"]
        cols = ", ".join(c for c in RevisionRow.__dataclass_fields__ if c != "id")
        values.append(declared)
        marks = ", ".join("?" for _ in values)
        cursor = self.db.execute(
            f"INSERT INTO revisions ({cols}, declared) VALUES ({marks})", values
        )
        revision_id = int(cursor.lastrowid or 0)
        self.db.execute(  # its words into the full-text index, in the same transaction
            "INSERT INTO revisions_fts (rowid, title, body) VALUES (?, ?, ?)",
            (revision_id, revision.title, revision.body),
        )
        return revision_id

    def revision(self, statement_id: int, number: int) -> RevisionRow | None:
        row = self.db.execute(
            f"SELECT {_REVISION_COLS} FROM revisions WHERE statement_id = ? AND number = ?",
            (statement_id, number),
        ).fetchone()
        return None if row is None else RevisionRow(*row)

    def declared(self, statement_id: int, number: int) -> str | None:
        """What the publisher declared with a revision (JSON text), None if nothing."""
        row = self.db.execute(
            "SELECT declared FROM revisions WHERE statement_id = ? AND number = ?",
            (statement_id, number),
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def revisions(self, statement_id: int) -> list[RevisionRow]:
        rows = self.db.execute(
            f"SELECT {_REVISION_COLS} FROM revisions WHERE statement_id = ? ORDER BY number",
            (statement_id,),
        )
        return [RevisionRow(*r) for r in rows]

    # -- events -----------------------------------------------------------------------------

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
        cursor = self.db.execute(
            "INSERT INTO events (statement_id, at, kinds, from_rev, to_rev, detail, diff, size,"
            " run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                statement_id,
                at,
                " ".join(kinds),
                from_rev,
                to_rev,
                json.dumps(detail or {}),
                text,
                size,
                run,
            ),
        )
        event_id = int(cursor.lastrowid or 0)
        self.db.execute(  # the outbox: one pending announcement per announcer, in this transaction
            "INSERT INTO outbox (announcer, event_id) SELECT name, ? FROM announcers", (event_id,)
        )
        return event_id

    def set_event_text(self, event_id: int, text: str, size: int) -> None:
        """Store the announcement of an event recorded before announcements were stored."""
        self.db.execute("UPDATE events SET diff = ?, size = ? WHERE id = ?", (text, size, event_id))

    def event_html(self, event_ids: Sequence[int]) -> dict[int, str]:
        """The stored HTML announcements of these events, by id."""
        found: dict[int, str] = {}
        ids = list(event_ids)
        for start in range(0, len(ids), 500):  # SQLite caps the number of parameters
            part = ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT event_id, html FROM event_html WHERE event_id IN"
                f" ({', '.join('?' for _ in part)})",
                part,
            )
            found.update((int(r[0]), str(r[1])) for r in rows)
        return found

    def set_event_html(self, event_id: int, html: str) -> None:
        self.db.execute(
            "INSERT INTO event_html (event_id, html) VALUES (?, ?)"
            " ON CONFLICT (event_id) DO UPDATE SET html = excluded.html",
            (event_id, html),
        )

    def add_link(self, website_id: int, official_id: int, basis: str, key: str, at: str) -> None:
        self.db.execute(
            "INSERT INTO official_links (website_id, official_id, basis, key, linked_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (website_id, official_id)"
            " DO UPDATE SET basis = excluded.basis, key = excluded.key,"
            " linked_at = excluded.linked_at",
            (website_id, official_id, basis, key, at),
        )

    def links_of(self, statement_id: int) -> list[LinkRow]:
        rows = self.db.execute(
            "SELECT website_id, official_id, basis, key, linked_at FROM official_links"
            " WHERE website_id = ? OR official_id = ? ORDER BY linked_at, website_id, official_id",
            (statement_id, statement_id),
        )
        return [LinkRow(*r) for r in rows]

    def last_event_id(self) -> int:
        """The id of the latest event (0: none yet); later events have larger ids."""
        row = self.db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
        return int(row[0])

    def successor(self, statement_id: int) -> StatementRow | None:
        """The statement whose ``replaced`` event names this one as the one it replaced."""
        found = self.db.execute(
            "SELECT statement_id FROM events WHERE json_extract(detail, '$.replaces.id') = ?"
            " ORDER BY id LIMIT 1",
            (statement_id,),
        ).fetchone()
        return None if found is None else self.by_id(int(found[0]))

    def event_of_revision(self, statement_id: int, number: int) -> EventRow | None:
        """The event that brought a statement to this revision number."""
        found = self.events(EventFilter(statement_id=statement_id), to_rev=number, limit=1)
        return found[0] if found else None

    def events(
        self,
        where: EventFilter | None = None,
        *,
        limit: int | None = None,
        to_rev: int | None = None,
        **filters: Any,
    ) -> list[EventRow]:
        """Change events, newest first, as ``where`` (or the same fields as keywords) says."""
        clause, args = _event_clause(where or EventFilter(**filters))
        if to_rev is not None:
            clause += " AND e.to_rev = ?"
            args.append(to_rev)
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM events e JOIN statements s ON s.id = e.statement_id"
            f" WHERE {clause} ORDER BY e.at DESC, e.id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_event_row(r) for r in self.db.execute(sql, args)]

    def count_events(self, where: EventFilter) -> int:
        clause, args = _event_clause(where)
        sql = "SELECT count(*) FROM events e JOIN statements s ON s.id = e.statement_id"
        return int(self.db.execute(f"{sql} WHERE {clause}", args).fetchone()[0])

    # -- the outbox -------------------------------------------------------------------------

    def set_announcers(self, names: Sequence[str]) -> None:
        """The announcers events are announced to: a new name has nothing pending (only events
        written from now on), a name left out is dropped with what it had pending."""
        since = self.last_event_id()
        wanted = list(dict.fromkeys(names))
        marks = ", ".join("?" for _ in wanted)
        self.db.execute(f"DELETE FROM outbox WHERE announcer NOT IN ({marks})", wanted)
        self.db.execute(f"DELETE FROM announcers WHERE name NOT IN ({marks})", wanted)
        self.db.executemany(
            "INSERT INTO announcers (name, since) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            [(name, since) for name in wanted],
        )

    def announcers(self) -> dict[str, int]:
        """Announcer name -> the latest event id when it was enabled (later ones are its)."""
        rows = self.db.execute("SELECT name, since FROM announcers ORDER BY name")
        return {str(name): int(since) for name, since in rows}

    def outbox(self, announcer: str, limit: int | None = None) -> list[EventRow]:
        """The events an announcer has not delivered yet, oldest first."""
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM outbox o JOIN events e ON e.id = o.event_id"
            " JOIN statements s ON s.id = e.statement_id WHERE o.announcer = ? ORDER BY e.id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_event_row(r) for r in self.db.execute(sql, (announcer,))]

    def delivered(self, announcer: str, event_ids: Sequence[int]) -> None:
        """An announcer delivered these events: they are no longer pending."""
        self.db.executemany(
            "DELETE FROM outbox WHERE announcer = ? AND event_id = ?",
            [(announcer, i) for i in event_ids],
        )

    def undelivered(self, announcer: str, event_ids: Sequence[int], error: str) -> None:
        """An attempt to deliver these events failed: they stay pending, the error is kept."""
        self.db.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?"
            " WHERE announcer = ? AND event_id = ?",
            [(error, announcer, i) for i in event_ids],
        )

    def outbox_state(self) -> dict[str, tuple[int, int, str | None]]:
        """Announcer name -> (events pending, most attempts at one, the latest error)."""
        rows = self.db.execute(
            "SELECT a.name, count(o.event_id), coalesce(max(o.attempts), 0),"
            " (SELECT l.last_error FROM outbox l WHERE l.announcer = a.name"
            "  AND l.last_error IS NOT NULL ORDER BY l.attempts DESC, l.event_id DESC LIMIT 1)"
            " FROM announcers a LEFT JOIN outbox o ON o.announcer = a.name"
            " GROUP BY a.name ORDER BY a.name"
        )
        return {str(n): (int(c), int(t), e) for n, c, t, e in rows}

    # -- full-text search and lists ---------------------------------------------------------

    def search(self, query: SearchQuery, *, limit: int | None = 20) -> list[SearchHit]:
        """Statements whose words match, best first (bm25; a word in the title weighs as much
        as ten in the body), one hit per statement with its best revision's snippet."""
        sql, args = _search_sql(query)
        if sql is None:
            return []
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._fts(query, sql, args)
        width = len(StatementRow.__dataclass_fields__)
        hits = []
        for row in rows:
            score, revision_id, number, numbers, latest = row[width:]
            hits.append(
                SearchHit(
                    StatementRow(*row[:width]),
                    int(number),
                    float(score),
                    self._snippet(query, int(revision_id)),
                    tuple(sorted(int(n) for n in str(numbers).split(","))),
                    bool(latest),
                )
            )
        return hits

    def count_search(self, query: SearchQuery) -> int:
        """How many statements :meth:`search` finds (its ``limit`` aside)."""
        sql, args = _search_sql(query)
        if sql is None:
            return 0
        return int(self._fts(query, f"SELECT count(*) FROM ({sql})", args)[0][0])

    def _fts(self, query: SearchQuery, sql: str, args: list[Any]) -> list[Any]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if not re.search(
                r"fts5|syntax|unterminated string|no such column|unknown special query", str(exc)
            ):
                raise
            raise QueryError(
                f"cannot read the search query: {exc}",
                where=query.words,
                hint="raw queries take SQLite FTS5 syntax; without --raw the words are"
                " searched as they are",
            ) from None

    def _snippet(self, query: SearchQuery, revision_id: int) -> str:
        row = self.db.execute(
            "SELECT snippet(revisions_fts, -1, ?, ?, '…', 24) FROM revisions_fts"
            " WHERE revisions_fts MATCH ? AND rowid = ?",
            (*query.marks, fts_query(query.words, raw=query.raw), revision_id),
        ).fetchone()
        return "" if row is None else " ".join(str(row[0]).split())

    def rows(
        self, where: StatementFilter, *, every_revision: bool = False, newest_first: bool = False
    ) -> Iterator[tuple[StatementRow, RevisionRow]]:
        """Each statement ``where`` selects with its latest revision (``every_revision``: with
        each of its revisions, oldest first), by id or newest publication first. Streamed:
        consume it before writing to the index."""
        clause, args = _statement_clause(where)
        latest = "" if every_revision else " AND r.number = s.head"
        order = "datetime(s.published_time) DESC, s.id DESC" if newest_first else "s.id"
        revision_cols = ", ".join(f"r.{c}" for c in RevisionRow.__dataclass_fields__)
        width = len(StatementRow.__dataclass_fields__)
        cursor = self.db.execute(
            f"SELECT {_STATEMENT_COLS_S}, {revision_cols} FROM statements s"
            f" JOIN revisions r ON r.statement_id = s.id WHERE {clause}{latest}"
            f" ORDER BY {order}, r.number",
            args,
        )
        for row in cursor:
            yield StatementRow(*row[:width]), RevisionRow(*row[width:])


#: An :class:`EventRow`'s columns, on ``events e`` joined to ``statements s``.
_EVENT_COLUMNS = (
    "e.id, e.statement_id, e.at, e.kinds, e.from_rev, e.to_rev, e.detail,"
    " s.url, s.path, s.title, s.source, e.diff, e.size,"
    " (SELECT r.at FROM events r WHERE r.statement_id = e.statement_id AND r.id > e.id"
    "  AND json_extract(r.detail, '$.reverts') = e.to_rev ORDER BY r.id LIMIT 1), e.run"
)


def _event_row(r: Sequence[Any]) -> EventRow:
    return EventRow(r[0], r[1], r[2], tuple(r[3].split()), r[4], r[5], json.loads(r[6]), *r[7:])


def fts_query(words: str, *, raw: bool) -> str | None:
    """The FTS5 ``MATCH`` expression of a search (None: nothing to search for).

    Raw, the words are FTS5 syntax as they are. Otherwise each word is quoted, so no word is
    an operator and nothing can be a syntax error: ``"quoted words"`` stay a phrase, a word
    ending in ``*`` is a prefix, stray quotes and words without a letter or digit drop out.
    """
    if raw:
        return words.strip() or None
    parts = []
    for phrase, bare in _TOKEN.findall(words):
        text = phrase or bare.replace('"', "")
        prefix = not phrase and text.endswith("*")
        text = text.rstrip("*")
        if re.search(r"\w", text):
            parts.append(f'"{text}"' + ("*" if prefix else ""))
    return " ".join(parts) or None


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_STATEMENT_COLS_S = ", ".join(f"s.{c}" for c in StatementRow.__dataclass_fields__)


def _search_sql(query: SearchQuery) -> tuple[str | None, list[Any]]:
    """The ranked search, one row per statement: its columns, the best score, the best
    revision's id and number, every matching number, and whether its latest revision matches."""
    match = fts_query(query.words, raw=query.raw)
    if match is None:
        return None, []
    clause, args = _statement_clause(query.where)
    latest = "" if query.every_revision else " AND r.number = s.head"
    sql = (
        "WITH hits AS MATERIALIZED (SELECT rowid AS rid, bm25(revisions_fts, 10.0, 1.0) AS score"
        " FROM revisions_fts WHERE revisions_fts MATCH ?)"
        f" SELECT {_STATEMENT_COLS_S}, min(h.score), r.id, r.number, group_concat(r.number),"
        " max(r.number = s.head)"
        " FROM hits h JOIN revisions r ON r.id = h.rid JOIN statements s ON s.id = r.statement_id"
        f" WHERE {clause}{latest} GROUP BY s.id ORDER BY min(h.score), s.id"
    )  # SQLite takes the bare columns r.id, r.number from the row of min(h.score)
    return sql, [match, *args]


def _statement_clause(f: StatementFilter) -> tuple[str, list[Any]]:
    """The SQL condition (on ``statements s``) of a statement filter."""
    where: list[str] = ["1"]
    args: list[Any] = []
    for column, values in (("s.source", f.sources), ("s.status", f.statuses)):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            args.extend(values)
    if f.since is not None:
        where.append("datetime(s.published_time) >= datetime(?)")
        args.append(f.since)
    if f.until is not None:
        where.append("datetime(s.published_time) < datetime(?)")
        args.append(f.until)
    if f.tags:  # a cheap test of the text first, then the front matter read as YAML
        tests = " OR ".join(
            "(instr(t.front_matter, ?) AND statements_has_tag(t.front_matter, ?))" for _ in f.tags
        )
        where.append(
            "EXISTS (SELECT 1 FROM revisions t WHERE t.statement_id = s.id"
            f" AND t.number = s.head AND ({tests}))"
        )
        for tag in f.tags:
            args += [tag, tag]
    return " AND ".join(where), args


def has_tag(front_matter: str, tag: str) -> bool:
    """Whether a front matter's ``tags`` (one name or a list) holds ``tag``."""
    try:
        tags = load_meta(front_matter).get("tags")
    except DocumentError:
        return False
    if isinstance(tags, str):
        return tags == tag
    return isinstance(tags, list) and tag in [str(t) for t in tags]


def _has_kind(column: str) -> str:
    return f"instr(' ' || {column} || ' ', ?)"


def _event_clause(f: EventFilter) -> tuple[str, list[Any]]:
    """The SQL condition (on ``events e`` joined to ``statements s``) of an event filter."""
    where: list[str] = ["1"]
    args: list[Any] = []
    if not f.flaps:  # a flip-back followed by another flip-back is summed up by the latter
        where.append(
            f"NOT ({_has_kind('e.kinds')} AND coalesce((SELECT {_has_kind('n.kinds')}"
            " FROM events n WHERE n.statement_id = e.statement_id AND n.id > e.id"
            " ORDER BY n.id LIMIT 1), 0))"
        )
        args += [" flapping ", " flapping "]
    if f.news:
        where.append(f"e.kinds NOT IN ({', '.join('?' for _ in QUIET_KINDS)})")
        args += QUIET_KINDS
    if f.min_size:
        where.append(
            f"(e.size IS NULL OR e.size >= ? OR NOT ({_has_kind('e.kinds')}"
            f" OR {_has_kind('e.kinds')}))"
        )
        args += [f.min_size, " updated ", " silent "]
    for column, op, value in (
        ("e.id", ">", f.after_id),
        ("e.at", ">=", f.since),
        ("e.at", "<", f.until),
        ("e.statement_id", "=", f.statement_id),
        ("e.run", "=", f.run),
    ):
        if value is not None:
            where.append(f"{column} {op} ?")
            args.append(value)
    if f.kinds:
        kinds = "e.kinds"
        if f.follow_reverts:
            kinds = "e.kinds || ' ' || coalesce(json_extract(e.detail, '$.reverts_kinds'), '')"
        where.append("(" + " OR ".join(_has_kind(kinds) for _ in f.kinds) + ")")
        args.extend(f" {k} " for k in f.kinds)
    if f.sources:
        where.append(f"s.source IN ({', '.join('?' for _ in f.sources)})")
        args.extend(f.sources)
    return " AND ".join(where), args


def _add_functions(db: sqlite3.Connection) -> None:
    """The SQL functions the queries here use (``statements_has_tag``)."""
    db.create_function("statements_has_tag", 2, has_tag, deterministic=True)


def _statements_of(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def writable(folder: Path) -> bool:
    """Whether this process may create files in a folder (false on a read-only mount)."""
    return os.access(folder, os.W_OK | os.X_OK)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an index, at the schema version of this tool.

    SQLite opens a WAL database read-only only if it can use the ``-shm`` file: when no writer
    has left one and none can be created (a read-only mount), the file is opened ``immutable``,
    which is sound because nothing can write it there.
    """
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    try:
        if not path.is_file():
            raise sqlite3.OperationalError("no such file")
        try:
            db = _read_only(uri)
        except sqlite3.OperationalError:
            if writable(path.parent):
                raise
            db = _read_only(uri + "&immutable=1")
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise ArchiveError(f"cannot open the index read-only: {exc}", where=str(path)) from None
    if version != SCHEMA_VERSION:
        db.close()
        raise ArchiveError(
            f"the index has schema version {version}, this tool reads {SCHEMA_VERSION}, and the"
            " archive is read-only so it cannot be brought up to date",
            where=str(path),
            hint="open it once where it can be written, or use the matching statement-sync",
        )
    return db


def _read_only(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA query_only=ON")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("SELECT count(*) FROM sqlite_schema").fetchone()  # opens the file for real
    except sqlite3.Error:
        db.close()
        raise
    return db
