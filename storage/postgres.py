"""The index in a PostgreSQL database: the second :class:`~storage.backend.IndexBackend`.

A team's archive keeps its index in one shared database (``--index postgresql://...`` or
``index = "postgresql://..."`` in ``statements.toml``; ``docs/team.md``). psycopg 3 is imported
here only, so the single user's SQLite default needs none of it (the ``[postgres]`` extra).

The class answers exactly as :class:`storage.index.Index` does (``tests/test_index_conformance``
runs on both); where the dialects differ:

- One connection in autocommit mode; :meth:`PostgresIndex.transaction` is psycopg's transaction
  block (nested: a savepoint). The session runs in UTC.
- Opening takes an advisory lock while it migrates (:mod:`storage.pgschema`), so workers that
  start together migrate once; the version is the row of ``schema_version``.
- Search uses the ``search`` ``tsvector`` column: plain words become a ``tsquery`` built from
  ``plainto_tsquery`` / ``phraseto_tsquery`` pieces (never a syntax error), a raw query takes the
  same boolean syntax as SQLite's (``AND``, ``OR``, ``NOT``, parentheses, ``"phrases"``,
  ``prefix*``) translated to ``to_tsquery``; a score is ``-ts_rank`` (lower is better), a title
  word weighing ten body words; snippets come from ``ts_headline``.
- The front matter's tags are YAML: their test runs in Python (:func:`storage.index.has_tag`)
  on the statements a text search in SQL preselects, and the query then takes their ids.
- :meth:`PostgresIndex.lock_statement` is a transaction-scoped advisory lock, so workers
  recording the same page take turns (exactly once; ``Archive.record``).
- Lists stream through a server-side cursor ``WITH HOLD`` (constant memory in the client; the
  connection stays usable while the caller reads).

Credentials never come from the locator: a password in the URL is refused (it would sit in
``ps``, shell history and config files); libpq reads it from ``PGPASSWORD``, ``PGPASSFILE`` or
``~/.pgpass`` (or ``passfile=`` in the URL), and errors name the locator with its user
information left out (:func:`storage.locator.redact`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from storage.errors import ArchiveError, QueryError
from storage.index import (
    QUIET_KINDS,
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
    has_tag,
)
from storage.locator import check_no_password, redact
from storage.pgschema import MIGRATIONS

_STREAMS = itertools.count()  # names of server-side cursors
_LOCK = 0x5747_4D54  # the advisory lock key of migrations ("statements")
_STATEMENT_COLS = ", ".join(f"s.{c}" for c in StatementRow.__dataclass_fields__)
_REVISION_COLS = ", ".join(f"r.{c}" for c in RevisionRow.__dataclass_fields__)
_WIDTH = len(StatementRow.__dataclass_fields__)
_CONFIG = "'english'::regconfig"


class PostgresIndex:
    """A connection to an archive's index in a PostgreSQL database."""

    def __init__(self, locator: str, *, read_only: bool = False):
        check_no_password(locator)
        self.locator = redact(locator)
        self.read_only = read_only
        try:
            self.db = psycopg.connect(locator.strip(), autocommit=True)
        except psycopg.Error as exc:
            raise ArchiveError(
                f"cannot connect to the index: {_first_line(exc)}",
                where=self.locator,
                hint="check the server, the database name and PGUSER/PGPASSWORD or PGPASSFILE",
            ) from None
        try:
            self.db.execute("SET TIME ZONE 'UTC'")
            if read_only:
                self.db.execute("SET default_transaction_read_only = on")
                self._check_version()
            else:
                self._migrate()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    # -- schema and transactions -------------------------------------------------------------

    def _version(self) -> int:
        found = self._one("SELECT to_regclass('schema_version') IS NOT NULL")
        if not found[0]:
            return 0
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        return 0 if row is None else int(row[0])

    def _check_version(self) -> None:
        version = self._version()
        if version != len(MIGRATIONS):
            raise ArchiveError(
                f"the index has schema version {version}, this tool reads {len(MIGRATIONS)},"
                " and it is opened read-only so it cannot be brought up to date",
                where=self.locator,
                hint="open it once for writing, or use the matching statement-sync",
            )

    def _migrate(self) -> None:
        with self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = self._version()
            if version > len(MIGRATIONS):
                raise ArchiveError(
                    f"the index has schema version {version}, newer than this tool's"
                    f" {len(MIGRATIONS)}",
                    where=self.locator,
                    hint="upgrade statement-sync",
                )
            for number in range(version, len(MIGRATIONS)):
                if MIGRATIONS[number].strip():
                    self.db.execute(MIGRATIONS[number])
            if version < len(MIGRATIONS):
                self.db.execute("DELETE FROM schema_version")
                self.db.execute("INSERT INTO schema_version VALUES (%s)", (len(MIGRATIONS),))

    def schema_version(self) -> int:
        return self._version()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.read_only:
            raise ArchiveError(
                "the index is opened read-only: nothing can be recorded",
                where=self.locator,
                hint="history, show, diff, changes and status still work",
            )
        with self.db.transaction():
            yield

    def lock_statement(self, key: str) -> None:
        """A transaction-scoped advisory lock on the key's 64-bit hash: it exists before the
        statement's row does (a new page recorded by two workers at once)."""
        self._x("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    def _x(self, query: str, args: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run one statement; a broken constraint or any other failure of the server is an
        :class:`ArchiveError` (the importer reports a conflicting file, the CLI one line), the
        transaction it broke undone by the caller's block."""
        try:
            return self.db.execute(query, args)
        except psycopg.IntegrityError as exc:
            raise ArchiveError(
                f"conflicts with another statement in the index ({_first_line(exc)})",
                where=self.locator,
            ) from None
        except psycopg.errors.SyntaxError:
            raise  # a raw search query: the caller says so (QueryError)
        except psycopg.Error as exc:  # a lost server, text PostgreSQL cannot store (NUL)
            raise ArchiveError(
                f"the index refused a query: {_first_line(exc)}",
                where=self.locator,
                hint="the transaction was undone; check the database server and run again",
            ) from None

    def _one(self, query: str, args: Sequence[Any] = ()) -> Any:
        return self._x(query, args).fetchone()

    def _stream(self, query: str, args: Sequence[Any]) -> Iterator[Any]:
        """Rows of a query through a server-side cursor, a batch at a time."""
        name = f"statements_stream_{next(_STREAMS)}"  # streams may nest: each its own cursor
        cursor = self.db.cursor(name=name, withhold=True)
        try:
            try:
                cursor.execute(query, args)
                while batch := cursor.fetchmany(500):
                    yield from batch
            except psycopg.Error as exc:  # a lost server mid-stream: one line, as in _x
                raise ArchiveError(
                    f"the index refused a query: {_first_line(exc)}",
                    where=self.locator,
                    hint="check the database server and run again",
                ) from None
        finally:
            with contextlib.suppress(psycopg.Error):
                cursor.close()

    # -- settings ----------------------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key = %s", (key,))
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._x(
            "INSERT INTO settings (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def settings_with_prefix(self, prefix: str) -> dict[str, str]:
        rows = self._x("SELECT key, value FROM settings WHERE starts_with(key, %s)", (prefix,))
        return {str(key)[len(prefix) :]: str(value) for key, value in rows}

    # -- statements --------------------------------------------------------------------------

    def _statement(self, where: str, *args: Any) -> StatementRow | None:
        found = self._one(f"SELECT {_STATEMENT_COLS} FROM statements s WHERE {where}", args)
        return None if found is None else StatementRow(*found)

    def by_id(self, statement_id: int) -> StatementRow:
        row = self._statement("s.id = %s", statement_id)
        if row is None:
            raise ArchiveError(f"no statement with id {statement_id}", where=self.locator)
        return row

    def by_url(self, url: str) -> StatementRow | None:
        return self._statement("s.id = (SELECT statement_id FROM urls WHERE url = %s)", url)

    def by_path(self, path: str) -> StatementRow | None:
        return self._statement("s.path = %s", path)

    def by_stable_id(self, source: str, stable_id: str) -> StatementRow | None:
        return self._statement("s.source = %s AND s.stable_id = %s", source, stable_id)

    def by_slug_prefix(self, prefix: str, limit: int = 10) -> list[StatementRow]:
        rows = self._x(
            f"SELECT {_STATEMENT_COLS} FROM statements s WHERE starts_with(s.slug, %s)"
            " ORDER BY s.slug LIMIT %s",
            (prefix, limit),
        )
        return [StatementRow(*r) for r in rows]

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
        row = self._one(
            "INSERT INTO statements (url, path, slug, source, title, published_time, head,"
            " first_seen, last_seen, stable_id) VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s, %s)"
            " RETURNING id",
            (url, path, slug, source, title, published_time, at, at, stable_id),
        )
        statement_id = int(row[0])
        self.add_url(url, statement_id, at)
        return statement_id

    def add_url(self, url: str, statement_id: int, at: str) -> None:
        self._x(
            "INSERT INTO urls (url, statement_id, first_seen) VALUES (%s, %s, %s)"
            " ON CONFLICT (url) DO UPDATE SET statement_id = excluded.statement_id",
            (url, statement_id, at),
        )

    def update_statement(self, statement_id: int, **values: Any) -> None:
        allowed = set(StatementRow.__dataclass_fields__) - {"id"}
        if not values or not set(values) <= allowed:
            raise ValueError(f"cannot update {sorted(set(values) - allowed)}")
        sets = ", ".join(f"{k} = %s" for k in values)
        self._x(f"UPDATE statements SET {sets} WHERE id = %s", (*values.values(), statement_id))

    def count_statements(self) -> int:
        return int(self._one("SELECT count(*) FROM statements")[0])

    def statements(
        self, *, source: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[StatementRow]:
        where, args = ["true"], []
        for column, value in (("source", source), ("status", status)):
            if value is not None:
                where.append(f"s.{column} = %s")
                args.append(value)
        rows = self._x(
            f"SELECT {_STATEMENT_COLS} FROM statements s WHERE {' AND '.join(where)}"
            " ORDER BY s.id LIMIT %s",
            (*args, limit),
        )
        return [StatementRow(*r) for r in rows]

    def count_of_source(
        self,
        source: str,
        hosts: Sequence[str] = (),
        *,
        active_only: bool = False,
        at_most: int | None = None,
    ) -> int:
        where = " OR ".join(["source = %s"] + ["url LIKE %s"] * len(hosts))
        if active_only:
            where = f"status = 'active' AND ({where})"
        args: list[Any] = [source, *(f"%://{host}/%" for host in hosts), at_most]
        row = self._one(
            f"SELECT count(*) FROM (SELECT 1 FROM statements WHERE {where} LIMIT %s) AS c", args
        )
        return int(row[0])

    def urls_of(self, statement_id: int) -> list[str]:
        rows = self._x(
            "SELECT url FROM urls WHERE statement_id = %s ORDER BY first_seen, seq",
            (statement_id,),
        )
        return [str(url) for (url,) in rows]

    def successor(self, statement_id: int) -> StatementRow | None:
        found = self._one(
            "SELECT statement_id FROM events WHERE detail -> 'replaces' -> 'id' = to_jsonb(%s)"
            " ORDER BY id LIMIT 1",
            (statement_id,),
        )
        return None if found is None else self.by_id(int(found[0]))

    # -- revisions ---------------------------------------------------------------------------

    def add_revision(self, revision: RevisionRow, *, declared: str | None = None) -> int:
        cols = [c for c in RevisionRow.__dataclass_fields__ if c != "id"]
        values = [getattr(revision, c) for c in cols] + [declared]
        marks = ", ".join("%s" for _ in values)
        row = self._one(
            f"INSERT INTO revisions ({', '.join(cols)}, declared) VALUES ({marks}) RETURNING id",
            values,
        )  # its words enter the search column (generated) in the same transaction
        return int(row[0])

    def declared(self, statement_id: int, number: int) -> str | None:
        row = self._one(
            "SELECT declared FROM revisions WHERE statement_id = %s AND number = %s",
            (statement_id, number),
        )
        return None if row is None or row[0] is None else str(row[0])

    def revision(self, statement_id: int, number: int) -> RevisionRow | None:
        row = self._one(
            f"SELECT {_REVISION_COLS} FROM revisions r WHERE r.statement_id = %s AND r.number = %s",
            (statement_id, number),
        )
        return None if row is None else RevisionRow(*row)

    def revisions(self, statement_id: int) -> list[RevisionRow]:
        rows = self._x(
            f"SELECT {_REVISION_COLS} FROM revisions r WHERE r.statement_id = %s ORDER BY r.number",
            (statement_id,),
        )
        return [RevisionRow(*r) for r in rows]

    def last_from(self, origin: str) -> str | None:
        row = self._one(
            "SELECT content_hash FROM revisions WHERE origin = %s ORDER BY id DESC LIMIT 1",
            (origin,),
        )
        return None if row is None else str(row[0])

    def head_hashes(self) -> dict[str, str]:
        return {path: digest for _, path, digest in self.heads()}

    def heads(self) -> list[tuple[int, str, str]]:
        rows = self._x(
            "SELECT s.id, s.path, r.content_hash FROM statements s"
            " JOIN revisions r ON r.statement_id = s.id AND r.number = s.head ORDER BY s.id"
        )
        return [(int(i), str(path), str(digest)) for i, path, digest in rows]

    def revision_paths(self) -> set[str]:
        return {str(p) for (p,) in self._x("SELECT DISTINCT path FROM revisions")}

    def same_words(self, digest: str, published_time: str | None) -> list[tuple[str, str]]:
        rows = self._x(
            "SELECT s.url, s.status FROM revisions r JOIN statements s ON s.id = r.statement_id"
            " AND r.number = s.head WHERE r.words_hash = %s"
            " AND s.published_time IS NOT DISTINCT FROM %s ORDER BY s.id",
            (digest, published_time),
        )
        return [(str(url), str(status)) for url, status in rows]

    # -- full-text search and lists ----------------------------------------------------------

    def search(self, query: SearchQuery, *, limit: int | None = 20) -> list[SearchHit]:
        built = self._search_sql(query)
        if built is None:
            return []
        sql, args = built
        rows = self._query(query, f"{sql} LIMIT %s", [*args, limit]).fetchall()
        hits = []
        for row in rows:
            score, revision_id, number, numbers, latest = row[_WIDTH:]
            hits.append(
                SearchHit(
                    StatementRow(*row[:_WIDTH]),
                    int(number),
                    float(score),
                    self._snippet(query, int(revision_id)),
                    tuple(sorted(int(n) for n in numbers)),
                    bool(latest),
                )
            )
        return hits

    def count_search(self, query: SearchQuery) -> int:
        built = self._search_sql(query)
        if built is None:
            return 0
        sql, args = built
        return int(self._query(query, f"SELECT count(*) FROM ({sql}) AS hits", args).fetchone()[0])  # type: ignore[index]

    def _query(self, query: SearchQuery, sql: str, args: list[Any]) -> psycopg.Cursor[Any]:
        try:
            return self._x(sql, args)
        except psycopg.errors.SyntaxError as exc:
            raise _unreadable(query, exc) from None

    def _search_sql(self, query: SearchQuery) -> tuple[str, list[Any]] | None:
        """One row per statement: its columns, the best score, the best revision's id and
        number, every matching number, whether its latest revision matches."""
        match = tsquery(query.words, raw=query.raw)
        if match is None:
            return None
        clause, args = self._statement_clause(query.where)
        latest = "" if query.every_revision else " AND r.number = s.head"
        sql = (
            f"WITH q AS MATERIALIZED (SELECT {match[0]} AS q),"
            " hits AS (SELECT r.statement_id, r.id, r.number, r.number = s.head AS latest,"
            "  -ts_rank('{0.1, 0.2, 0.4, 1.0}', r.search, q.q) AS score"
            "  FROM q, revisions r JOIN statements s ON s.id = r.statement_id"
            f"  WHERE r.search @@ q.q AND {clause}{latest}),"
            " best AS (SELECT DISTINCT ON (statement_id) statement_id, score, id, number,"
            "  array_agg(number) OVER w AS numbers, bool_or(latest) OVER w AS latest"
            "  FROM hits WINDOW w AS (PARTITION BY statement_id)"
            "  ORDER BY statement_id, score, number)"
            f" SELECT {_STATEMENT_COLS}, b.score, b.id, b.number, b.numbers, b.latest"
            " FROM best b JOIN statements s ON s.id = b.statement_id ORDER BY b.score, s.id"
        )
        return sql, [*match[1], *args]

    def _snippet(self, query: SearchQuery, revision_id: int) -> str:
        match = tsquery(query.words, raw=query.raw)
        if match is None:
            return ""
        start, stop = (m.replace('"', "") for m in query.marks)
        options = f'StartSel="{start}", StopSel="{stop}", MaxWords=24, MinWords=8'
        row = self._query(
            query,
            f"WITH q AS (SELECT {match[0]} AS q) SELECT CASE"
            f" WHEN to_tsvector({_CONFIG}, r.body) @@ q.q"
            f" THEN ts_headline({_CONFIG}, r.body, q.q, %s)"
            f" ELSE ts_headline({_CONFIG}, r.title, q.q, %s) END"
            " FROM q, revisions r WHERE r.id = %s",
            [*match[1], options, options, revision_id],
        ).fetchone()
        return "" if row is None else " ".join(str(row[0]).split())

    def rows(
        self, where: StatementFilter, *, every_revision: bool = False, newest_first: bool = False
    ) -> Iterator[tuple[StatementRow, RevisionRow]]:
        clause, args = self._statement_clause(where)
        latest = "" if every_revision else " AND r.number = s.head"
        order = (
            "statements_time(s.published_time) DESC NULLS LAST, s.id DESC"
            if newest_first
            else "s.id"
        )
        for row in self._stream(
            f"SELECT {_STATEMENT_COLS}, {_REVISION_COLS} FROM statements s"
            f" JOIN revisions r ON r.statement_id = s.id WHERE {clause}{latest}"
            f" ORDER BY {order}, r.number",
            args,
        ):
            yield StatementRow(*row[:_WIDTH]), RevisionRow(*row[_WIDTH:])

    def _statement_clause(self, f: StatementFilter) -> tuple[str, list[Any]]:
        """The SQL condition (on ``statements s``) of a statement filter."""
        where: list[str] = ["true"]
        args: list[Any] = []
        for column, values in (("s.source", f.sources), ("s.status", f.statuses)):
            if values:
                where.append(f"{column} = ANY(%s)")
                args.append(list(values))
        for op, value in ((">=", f.since), ("<", f.until)):
            if value is not None:
                where.append(f"statements_time(s.published_time) {op} statements_time(%s)")
                args.append(value)
        if f.tags:
            where.append("s.id = ANY(%s)")
            args.append(self._tagged(f.tags))
        return " AND ".join(where), args

    def _tagged(self, tags: Sequence[str]) -> list[int]:
        """The statements whose latest front matter holds one of these tags."""
        rows = self._x(
            "SELECT s.id, r.front_matter FROM statements s JOIN revisions r"
            " ON r.statement_id = s.id AND r.number = s.head"
            " WHERE r.front_matter LIKE ANY(%s)",
            ([f"%{_like(tag)}%" for tag in tags],),
        )
        return [int(i) for i, fm in rows if any(has_tag(fm, tag) for tag in tags)]

    # -- events ------------------------------------------------------------------------------

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
        row = self._one(
            "INSERT INTO events (statement_id, at, kinds, from_rev, to_rev, detail, diff, size,"
            " run) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
        event_id = int(row[0])
        self._x(  # the outbox: one pending announcement per announcer, in this transaction
            "INSERT INTO outbox (announcer, event_id) SELECT name, %s FROM announcers",
            (event_id,),
        )
        return event_id

    def set_event_text(self, event_id: int, text: str, size: int) -> None:
        self._x("UPDATE events SET diff = %s, size = %s WHERE id = %s", (text, size, event_id))

    def event_html(self, event_ids: Sequence[int]) -> dict[int, str]:
        rows = self._x(
            "SELECT event_id, html FROM event_html WHERE event_id = ANY(%s)", (list(event_ids),)
        )
        return {int(i): str(html) for i, html in rows}

    def set_event_html(self, event_id: int, html: str) -> None:
        self._x(
            "INSERT INTO event_html (event_id, html) VALUES (%s, %s)"
            " ON CONFLICT (event_id) DO UPDATE SET html = excluded.html",
            (event_id, html),
        )

    def last_event_id(self) -> int:
        return int(self._one("SELECT coalesce(max(id), 0) FROM events")[0])

    def event_of_revision(self, statement_id: int, number: int) -> EventRow | None:
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
        clause, args = _event_clause(where or EventFilter(**filters))
        if to_rev is not None:
            clause += " AND e.to_rev = %s"
            args.append(to_rev)
        rows = self._x(
            f"SELECT {_EVENT_COLUMNS} FROM events e JOIN statements s ON s.id = e.statement_id"
            f" WHERE {clause} ORDER BY e.at DESC, e.id DESC LIMIT %s",
            [*args, limit],
        )
        return [_event_row(r) for r in rows]

    def count_events(self, where: EventFilter) -> int:
        clause, args = _event_clause(where)
        sql = "SELECT count(*) FROM events e JOIN statements s ON s.id = e.statement_id"
        return int(self._one(f"{sql} WHERE {clause}", args)[0])

    # -- the outbox --------------------------------------------------------------------------

    def set_announcers(self, names: Sequence[str]) -> None:
        since = self.last_event_id()
        wanted = list(dict.fromkeys(names))
        self._x("DELETE FROM outbox WHERE announcer <> ALL(%s)", (wanted,))
        self._x("DELETE FROM announcers WHERE name <> ALL(%s)", (wanted,))
        for name in wanted:
            self._x(
                "INSERT INTO announcers (name, since) VALUES (%s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (name, since),
            )

    def announcers(self) -> dict[str, int]:
        rows = self._x("SELECT name, since FROM announcers ORDER BY name")
        return {str(name): int(since) for name, since in rows}

    def outbox(self, announcer: str, limit: int | None = None) -> list[EventRow]:
        rows = self._x(
            f"SELECT {_EVENT_COLUMNS} FROM outbox o JOIN events e ON e.id = o.event_id"
            " JOIN statements s ON s.id = e.statement_id WHERE o.announcer = %s"
            " ORDER BY e.id LIMIT %s",
            (announcer, limit),
        )
        return [_event_row(r) for r in rows]

    def delivered(self, announcer: str, event_ids: Sequence[int]) -> None:
        self._x(
            "DELETE FROM outbox WHERE announcer = %s AND event_id = ANY(%s)",
            (announcer, list(event_ids)),
        )

    def undelivered(self, announcer: str, event_ids: Sequence[int], error: str) -> None:
        self._x(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s"
            " WHERE announcer = %s AND event_id = ANY(%s)",
            (error, announcer, list(event_ids)),
        )

    def outbox_state(self) -> dict[str, tuple[int, int, str | None]]:
        rows = self._x(
            "SELECT a.name, count(o.event_id), coalesce(max(o.attempts), 0),"
            " (SELECT l.last_error FROM outbox l WHERE l.announcer = a.name"
            "  AND l.last_error IS NOT NULL ORDER BY l.attempts DESC, l.event_id DESC LIMIT 1)"
            " FROM announcers a LEFT JOIN outbox o ON o.announcer = a.name"
            " GROUP BY a.name ORDER BY a.name"
        )
        return {str(n): (int(c), int(t), e) for n, c, t, e in rows}

    # -- fetch state -------------------------------------------------------------------------

    def fetch_state(self, url: str) -> FetchState | None:
        row = self._one(
            "SELECT s.id, s.url, s.status, s.head, r.modified_time, s.published_time, f.etag,"
            " f.last_modified, f.sitemap_lastmod, f.last_checked, f.last_status, f.sitemap,"
            " f.listing FROM urls u JOIN statements s ON s.id = u.statement_id"
            " JOIN revisions r ON r.statement_id = s.id AND r.number = s.head"
            " LEFT JOIN fetch_state f ON f.statement_id = s.id WHERE u.url = %s",
            (url,),
        )
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
        marks = ", ".join("%s" for _ in values)
        sets = ", ".join(f"{k} = excluded.{k}" for k in values)
        self._x(
            f"INSERT INTO fetch_state (statement_id, {cols}) VALUES (%s, {marks})"
            f" ON CONFLICT (statement_id) DO UPDATE SET {sets}",
            (statement_id, *values.values()),
        )

    def listed_in(
        self, sitemaps: Sequence[str], listings: Sequence[str]
    ) -> list[tuple[str, str | None, str | None, str | None]]:
        rows = self._x(
            "SELECT s.url, s.published_time, f.sitemap, f.listing FROM fetch_state f"
            " JOIN statements s ON s.id = f.statement_id WHERE s.status = 'active'"
            " AND (f.sitemap = ANY(%s) OR f.listing = ANY(%s)) ORDER BY s.id",
            (list(sitemaps), list(listings)),
        )
        return [(str(u), p, m, li) for u, p, m, li in rows]

    def least_recently_checked(self) -> Iterator[tuple[str, str | None]]:
        for url, checked in self._stream(
            "SELECT s.url, f.last_checked FROM statements s LEFT JOIN fetch_state f"
            " ON f.statement_id = s.id WHERE s.status <> 'replaced'"
            " ORDER BY f.last_checked IS NOT NULL, f.last_checked, s.id",
            (),
        ):
            yield str(url), checked

    # -- runs and the schedule ---------------------------------------------------------------

    def add_run(self, source: str, started: str, finished: str, ok: bool, summary: str) -> None:
        self._x(
            "INSERT INTO runs (source, started, finished, ok, summary) VALUES (%s, %s, %s, %s, %s)",
            (source, started, finished, ok, summary),
        )

    def last_run(self, source: str) -> tuple[str, str, bool, str] | None:
        found = self.runs(source=source, limit=1)
        return None if not found else found[0][1:]

    def runs(
        self, *, source: str | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str, bool, str]]:
        where, args = ("WHERE source = %s", [source]) if source is not None else ("", [])
        rows = self._x(
            f"SELECT source, started, finished, ok, summary FROM runs {where}"
            " ORDER BY started DESC, id DESC LIMIT %s",
            [*args, limit],
        )
        return [(str(r[0]), str(r[1]), str(r[2]), bool(r[3]), str(r[4])) for r in rows]

    def schedule_state(self, job: str) -> tuple[str | None, str | None]:
        row = self._one("SELECT last_fire, next_fire FROM schedule WHERE job = %s", (job,))
        return (None, None) if row is None else (row[0], row[1])

    def set_schedule_state(self, job: str, last_fire: str | None, next_fire: str | None) -> None:
        self._x(
            "INSERT INTO schedule (job, last_fire, next_fire) VALUES (%s, %s, %s)"
            " ON CONFLICT (job) DO UPDATE SET last_fire = excluded.last_fire,"
            " next_fire = excluded.next_fire",
            (job, last_fire, next_fire),
        )

    # -- work a crash may leave --------------------------------------------------------------

    def add_pending(self, moves: list[tuple[str, str]]) -> None:
        for tmp, final in moves:
            self._x(
                "INSERT INTO pending_files (tmp, final) VALUES (%s, %s)"
                " ON CONFLICT (tmp) DO UPDATE SET final = excluded.final",
                (tmp, final),
            )

    def pending(self) -> list[tuple[str, str]]:
        return [(str(t), str(f)) for t, f in self._x("SELECT tmp, final FROM pending_files")]

    def clear_pending(self) -> None:
        with self.transaction():
            self._x("DELETE FROM pending_files")

    # -- a content API's posts as last checked (an API audit) ------------------------------

    def api_posts(self, source: str) -> dict[str, ApiPost]:
        rows = self._x(
            "SELECT post_id, statement_id, fingerprint, title, modified, checked FROM api_posts"
            " WHERE source = %s",
            (source,),
        )
        return {str(r[0]): ApiPost(*r) for r in rows}

    def set_api_posts(self, source: str, posts: Sequence[ApiPost]) -> None:
        for p in posts:
            self._x(
                "INSERT INTO api_posts (source, post_id, statement_id, fingerprint, title,"
                " modified, checked) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (source, post_id) DO UPDATE SET"
                " statement_id = excluded.statement_id, fingerprint = excluded.fingerprint,"
                " title = excluded.title, modified = excluded.modified, checked = excluded.checked",
                (source, p.post_id, p.statement_id, p.fingerprint, p.title, p.modified, p.checked),
            )

    def drop_api_posts(self, source: str, post_ids: Sequence[str]) -> None:
        self._x(
            "DELETE FROM api_posts WHERE source = %s AND post_id = ANY(%s)",
            (source, list(post_ids)),
        )

    # -- links between a website's statement and its official text -------------------------

    def add_link(self, website_id: int, official_id: int, basis: str, key: str, at: str) -> None:
        self._x(
            "INSERT INTO official_links (website_id, official_id, basis, key, linked_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (website_id, official_id)"
            " DO UPDATE SET basis = excluded.basis, key = excluded.key,"
            " linked_at = excluded.linked_at",
            (website_id, official_id, basis, key, at),
        )

    def links_of(self, statement_id: int) -> list[LinkRow]:
        rows = self._x(
            "SELECT website_id, official_id, basis, key, linked_at FROM official_links"
            " WHERE website_id = %s OR official_id = %s"
            " ORDER BY linked_at, website_id, official_id",
            (statement_id, statement_id),
        )
        return [LinkRow(*r) for r in rows]

    def set_pending_reformat(
        self, statement_id: int, base_rev: int, seen_at: str, origin: str, text: str
    ) -> None:
        self._x(
            "INSERT INTO pending_reformats (statement_id, base_rev, seen_at, origin, text)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (statement_id) DO UPDATE SET"
            " base_rev = excluded.base_rev, seen_at = excluded.seen_at,"
            " origin = excluded.origin, text = excluded.text",
            (statement_id, base_rev, seen_at, origin, text),
        )

    def pending_reformat(self, statement_id: int) -> tuple[int, str, str] | None:
        row = self._one(
            "SELECT base_rev, origin, text FROM pending_reformats WHERE statement_id = %s",
            (statement_id,),
        )
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def pending_reformat_ids(self) -> list[int]:
        rows = self._x("SELECT statement_id FROM pending_reformats ORDER BY statement_id")
        return [int(i) for (i,) in rows]

    def clear_pending_reformat(self, statement_id: int) -> None:
        self._x("DELETE FROM pending_reformats WHERE statement_id = %s", (statement_id,))


#: An :class:`EventRow`'s columns, on ``events e`` joined to ``statements s``.
_EVENT_COLUMNS = (
    "e.id, e.statement_id, e.at, e.kinds, e.from_rev, e.to_rev, e.detail,"
    " s.url, s.path, s.title, s.source, e.diff, e.size,"
    " (SELECT r.at FROM events r WHERE r.statement_id = e.statement_id AND r.id > e.id"
    "  AND r.detail -> 'reverts' = to_jsonb(e.to_rev) ORDER BY r.id LIMIT 1), e.run"
)


def _event_row(r: Sequence[Any]) -> EventRow:
    detail = r[6] if isinstance(r[6], dict) else json.loads(r[6])
    return EventRow(r[0], r[1], r[2], tuple(r[3].split()), r[4], r[5], detail, *r[7:])


def _has_kind(column: str) -> str:
    return f"strpos(' ' || {column} || ' ', %s) > 0"


def _event_clause(f: EventFilter) -> tuple[str, list[Any]]:
    """The SQL condition (on ``events e`` joined to ``statements s``) of an event filter."""
    where: list[str] = ["true"]
    args: list[Any] = []
    if not f.flaps:  # a flip-back followed by another flip-back is summed up by the latter
        where.append(
            f"NOT ({_has_kind('e.kinds')} AND coalesce((SELECT {_has_kind('n.kinds')}"
            " FROM events n WHERE n.statement_id = e.statement_id AND n.id > e.id"
            " ORDER BY n.id LIMIT 1), false))"
        )
        args += [" flapping ", " flapping "]
    if f.news:
        where.append("e.kinds <> ALL(%s)")
        args.append(list(QUIET_KINDS))
    if f.min_size:
        where.append(
            f"(e.size IS NULL OR e.size >= %s OR NOT ({_has_kind('e.kinds')}"
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
            where.append(f"{column} {op} %s")
            args.append(value)
    if f.kinds:
        kinds = "e.kinds"
        if f.follow_reverts:
            kinds = "e.kinds || ' ' || coalesce(e.detail ->> 'reverts_kinds', '')"
        where.append("(" + " OR ".join(_has_kind(kinds) for _ in f.kinds) + ")")
        args.extend(f" {k} " for k in f.kinds)
    if f.sources:
        where.append("s.source = ANY(%s)")
        args.append(list(f.sources))
    return " AND ".join(where), args


# -- search queries ---------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_RAW_TOKEN = re.compile(r'"[^"]*"|"|\(|\)|[^\s()"]+')


def tsquery(words: str, *, raw: bool) -> tuple[str, list[Any]] | None:
    """The SQL expression of a search's ``tsquery`` and its arguments (None: nothing to find).

    Plain words: each word must appear (``plainto_tsquery``), a ``"quoted phrase"`` in that
    order (``phraseto_tsquery``), ``word*`` is a prefix; words without a letter or digit drop
    out, so nothing is syntax. Raw: the boolean syntax of :func:`raw_tsquery`.
    """
    if raw:
        text = raw_tsquery(words)
        return None if text is None else (f"to_tsquery({_CONFIG}, %s)", [text])
    parts: list[str] = []
    args: list[Any] = []
    for phrase, bare in _TOKEN.findall(words):
        text = phrase or bare.replace('"', "")
        prefix = not phrase and text.endswith("*")
        text = text.rstrip("*")
        if not re.search(r"\w", text):
            continue
        if prefix and re.fullmatch(r"\w+", text):
            parts.append(f"to_tsquery({_CONFIG}, %s)")
            args.append(_lexeme(text) + ":*")
        else:
            parts.append(f"{'phraseto' if phrase else 'plainto'}_tsquery({_CONFIG}, %s)")
            args.append(text)
    if not parts:
        return None
    return "(" + " && ".join(parts) + ")", args


def raw_tsquery(words: str) -> str | None:
    """A raw query in ``to_tsquery`` syntax: ``AND`` (or two terms side by side), ``OR``,
    ``NOT`` (and not), parentheses, ``"phrases"``, ``prefix*``. An unbalanced quote or a
    dangling operator is a :class:`~storage.errors.QueryError` (here or from the server)."""
    out: list[str] = []
    operand = False  # the previous token ends an operand
    for token in _RAW_TOKEN.findall(words):
        if token == '"':
            raise QueryError(
                "cannot read the search query: an unterminated phrase",
                where=words,
                hint='close the quote, or search without --raw: "words" are taken as they are',
            )
        word = {"AND": "&", "OR": "|", "NOT": "& !"}.get(token)
        if word is not None:
            out.append(word)
            operand = False
            continue
        if token == ")":
            out.append(")")
            operand = True
            continue
        if operand:
            out.append("&")
        if token == "(":
            out.append("(")
            operand = False
            continue
        out.append(_raw_term(token))
        operand = True
    return " ".join(out) or None


def _raw_term(token: str) -> str:
    if token.startswith('"'):
        terms = [_lexeme(w) for w in re.findall(r"\w+", token)]
        return "(" + " <-> ".join(terms) + ")" if terms else "''"
    if token.endswith("*"):
        return _lexeme(token.rstrip("*")) + ":*"
    return _lexeme(token)


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _unreadable(query: SearchQuery, exc: Exception) -> QueryError:
    return QueryError(
        f"cannot read the search query: {_first_line(exc)}",
        where=query.words,
        hint='raw queries take AND, OR, NOT, parentheses, "phrases" and prefix*; without'
        " --raw the words are searched as they are",
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
