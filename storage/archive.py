"""The archive on disk: statement files a person can read, and the index of their revisions.

:meth:`Archive.record` is the one way a revision enters the archive, whether it comes from an
imported file or from the crawler: it decides which statement the revision belongs to, classifies
the change, writes the file atomically, then records revision and event in the index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage import declared as published
from storage.backend import IndexBackend
from storage.declared import Declared
from storage.diff import KINDS, classify, is_replacement, title_kinds, words_hash
from storage.diffs import Diff, compare
from storage.document import (
    KEY_ORDERS,
    KeyOrder,
    Statement,
    detect_key_order,
    dumps,
    load_meta,
    loads,
    order_meta,
)
from storage.errors import ArchiveError, DocumentError, PathError, RevisionError, TargetError
from storage.eventtext import rendered
from storage.index import (
    EventRow,
    Index,
    RevisionRow,
    SearchHit,
    SearchQuery,
    StatementFilter,
    StatementRow,
    writable,
)
from storage.journal import FileJournal
from storage.layout import DEFAULT_LAYOUT, check_relative, disambiguate, path_for, slug_from_url
from storage.layout import STATE_DIR as STATE_DIR  # re-exported: the crawler takes it here
from storage.locator import check_locator, is_postgres, open_index

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from storage.index import EventRow

Clock = Callable[[], dt.datetime]
#: A revert (A -> B -> A) within this time of the edit it undoes is flapping, as CMS caches do.
FLAP_WINDOW = dt.timedelta(hours=24)
#: The kinds that change what a reader sees: a revert undoes one of them.
CONTENT_KINDS = frozenset({"updated", "retitled", "replaced"})
INDEX_NAME = "index.sqlite"


def _kept(statement: Statement, head: RevisionRow | None, keep: Collection[str]) -> Statement:
    """The statement with the ``keep`` keys it lacks taken from the latest revision, if any."""
    if not keep or head is None:
        return statement
    before = load_meta(head.front_matter)
    missing = {k: before[k] for k in keep if k not in statement.meta and k in before}
    return Statement({**statement.meta, **missing}, statement.body) if missing else statement


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    """A moment as sortable ISO 8601 text in UTC, to the second."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class _Change:
    """A revision about to be indexed."""

    row: StatementRow | None
    head: RevisionRow | None
    statement: Statement
    text: str
    digest: str
    kinds: tuple[str, ...]
    path: str
    origin: str
    when: str
    source: str | None
    revert: dict[str, Any] | None = None  # what this revision undoes (see Archive._revert)
    replaces: StatementRow | None = None  # a different document took this URL over
    stable_id: str | None = None  # the source's own id for the statement
    declared: str | None = None  # what the publisher declared with it (JSON), stored with it
    announced: dict[str, Any] | None = None  # its new change notes and withdrawal, for the event
    status: str = "active"  # the statement's status once it is recorded


@dataclass(frozen=True)
class Deferred:
    """A reformat-only difference that :meth:`Archive.record` did not record: the same visible
    content and front-matter values in another rendering. It waits in ``pending_reformats``
    for ``statements reformat``."""

    statement_id: int
    url: str
    path: str
    title: str


@dataclass(frozen=True)
class Recorded:
    """What :meth:`Archive.record` did: the change event it recorded."""

    statement_id: int
    url: str
    path: str
    kinds: tuple[str, ...]
    from_rev: int | None
    to_rev: int | None
    title: str
    flap: bool = False  # a revert soon after the edit it undoes: flapping, reported once
    event: EventRow | None = None  # the event as the index holds it (id, time, detail, text)


class Archive:
    """An archive folder and its index. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        root: Path | str,
        *,
        clock: Clock = utc_now,
        create: bool = True,
        index: str | None = None,
    ):
        """``index``: where the index is (:mod:`storage.locator`): None, the archive's own
        SQLite file; ``postgresql://...``, a shared database (the files stay in ``root``)."""
        check_locator(index)
        self.root = Path(root)
        self.clock = clock
        self.locator = index or None
        self.run: str | None = None  # the run recording now (its events carry it), if any
        # False: record into the index only, the files are written by storage.publish (workers
        # of a team, which share a database and need not share this folder).
        self.files = True
        if not self.root.exists():
            if not create:
                raise ArchiveError(
                    "no archive here", where=str(self.root), hint="run an import first"
                )
            self.root.mkdir(parents=True)
        elif not self.root.is_dir():
            raise ArchiveError("not a folder", where=str(self.root))
        state = self.root / STATE_DIR
        shared = is_postgres(index)
        if shared and create:
            state.mkdir(exist_ok=True)  # the lock and the journal's files stay on this machine
        if not create and not shared and not (state / INDEX_NAME).exists():
            raise ArchiveError("no index in this folder", where=str(self.root), hint="import first")
        # Opened only to be read (create=False), an archive that cannot be written (a read-only
        # mount) is opened read-only: queries work, a write fails with a clear error.
        self.read_only = not create and not writable(state)
        self.index: IndexBackend = open_index(index, state, read_only=self.read_only)
        self.journal = FileJournal(self.root, self.index)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.index.close()

    # -- settings ---------------------------------------------------------------------------

    @property
    def key_order(self) -> KeyOrder:
        value = self.index.setting("key_order", "reference")
        for order in KEY_ORDERS:
            if value == order:
                return order
        return "reference"

    def set_key_order(self, order: KeyOrder) -> None:
        if order not in KEY_ORDERS:
            raise ArchiveError(f"unknown key order {order!r}", hint=f"use one of {KEY_ORDERS}")
        with self.index.transaction():
            self.index.set_setting("key_order", order)

    @property
    def layout(self) -> str:
        return self.index.setting("layout", DEFAULT_LAYOUT) or DEFAULT_LAYOUT

    # -- files ------------------------------------------------------------------------------

    def file(self, relative: str) -> Path:
        """The absolute path of an archive-relative path, refused if it would leave the archive."""
        path = self.root / check_relative(relative)
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise PathError(f"path {relative!r} leads outside the archive", where=str(self.root))
        return path

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many :meth:`record` calls into one index transaction (see ``storage.journal``)."""
        with self.journal.batch():
            yield

    def recover(self) -> int:
        """Finish or undo what a killed writer left. Call it holding the archive's lock.

        An archive moving to another index (PostgreSQL) first rolls forward what a writer killed
        while it still used its own SQLite index committed there: the files that index lists as
        pending are in ``tmp`` and must land before anything counts them as leftovers."""
        own = self.root / STATE_DIR / INDEX_NAME
        if self.locator is not None and own.is_file():
            previous = Index(own)
            try:
                done = FileJournal(self.root, previous).recover() if previous.pending() else 0
            finally:
                previous.close()
        else:
            done = 0
        return done + self.journal.recover()

    # -- recording --------------------------------------------------------------------------

    def record(
        self,
        statement: Statement,
        *,
        origin: str,
        text: str | None = None,
        at: dt.datetime | None = None,
        path_hint: str | None = None,
        previous_url: str | None = None,
        source: str | None = None,
        unannounced: bool = False,
        reformat: bool = False,
        stable_id: str | None = None,
        declared: Declared | None = None,
        keep: Collection[str] = (),
        hosts: Mapping[str, str] | None = None,
    ) -> Recorded | Deferred | None:
        """Record a revision of a statement; ``None`` when the archive has it already.

        ``text`` is the exact file text ``statement`` was read from (an imported file); without
        it the statement is written in the key order of its existing file, or the archive's
        order for a new statement. ``path_hint`` adopts a file where it lies.
        ``previous_url`` names the URL the statement had before (a redirect), so it stays one
        statement with its history. ``unannounced``: the site gave no sign of a change (its
        sitemap lastmod did not move), so a content change that leaves ``modified_time`` alone
        is also ``silent``. A reformat-only difference is :class:`Deferred`, not recorded, unless
        ``reformat`` asks for it or it is an adopted file that already holds it.
        ``stable_id``: the source's own id for the statement (GOV.UK's content_id); a statement
        of the same ``source`` with this id is this one, whatever its URL (a move keeps its
        history and file), and a different id at its current URL is another document.
        ``declared``: what the publisher declares of this version (``storage.declared``): its
        change notes and withdrawal notice are stored with the revision; a change with a new
        note is also ``declared`` (the notes in the event's detail), a content change with no
        new note and an unmoved ``modified_time`` is ``silent``, a new withdrawal notice is
        ``withdrawn`` (an event of its own when the text did not change).
        ``keep``: front-matter keys the source never gives (a feed has no ``modified_time``);
        one the statement lacks is kept from the latest revision, so that an absence the source
        cannot help (an adopted file's ``modified_time``) is no change. ``hosts``: hosts the
        source declares the same (its origin and its public archive's): a link moved between
        them is no change (:func:`storage.diff.same_words`).
        Exactly once: the statement's locks (:meth:`_lock`) are taken in the transaction that
        records, before it reads what the index holds, so writers sharing an index (workers on
        PostgreSQL) that record the same page at once record it once.
        """
        with self.journal.batch():
            self._lock(statement.source_url, previous_url, source, stable_id)
            change = self._prepare(
                statement,
                origin,
                text,
                at,
                path_hint,
                previous_url,
                source,
                unannounced,
                stable_id,
                declared,
                keep=keep,
                hosts=hosts,
            )
            if change is None:
                return None if declared is None else self._declared_status(statement, declared, at)
            target = self.file(change.path)
            adopted = path_hint is not None and _holds(target, change.text)  # the file is there
            if change.kinds == ("reformatted",) and not (reformat or adopted):
                return self._defer(change)
            with self.journal.batch():
                if not adopted and self.files:
                    self.journal.write(target, change.text.encode("utf-8"))
                return self._index_revision(change)

    def _lock(
        self, url: str, previous_url: str | None, source: str | None, stable_id: str | None
    ) -> None:
        """Hold the locks of a statement (its URLs, its source's id for it), in one order."""
        keys = {f"url:{url}"} | ({f"url:{previous_url}"} if previous_url else set())
        if stable_id:
            keys.add(f"id:{source}:{stable_id}")
        for key in sorted(keys):
            self.index.lock_statement(key)

    def _defer(self, change: _Change) -> Deferred:
        row, head = change.row, change.head
        assert row is not None and head is not None
        with self.index.transaction():
            self.index.set_pending_reformat(
                row.id, head.number, change.when, change.origin, change.text
            )
        return Deferred(row.id, row.url, row.path, row.title)

    def reformat(self, row: StatementRow, *, at: dt.datetime | None = None) -> Recorded | None:
        """Rewrite a statement's file in the newer rendering a sync or import found for it,
        recording a ``reformatted`` revision; ``None`` when it has none (or a stale one)."""
        pending = self.index.pending_reformat(row.id)
        if pending is None:
            return None
        base, origin, text = pending
        if base != row.head or row.status not in ("active", "withdrawn"):  # stale, or gone
            with self.index.transaction():
                self.index.clear_pending_reformat(row.id)
            return None
        recorded = self.record(loads(text), origin=origin, text=text, at=at, reformat=True)
        return recorded if isinstance(recorded, Recorded) else None

    def preview(
        self,
        statement: Statement,
        *,
        previous_url: str | None = None,
        unannounced: bool = False,
        stable_id: str | None = None,
        source: str | None = None,
        declared: Declared | None = None,
        keep: Collection[str] = (),
        hosts: Mapping[str, str] | None = None,
    ) -> tuple[str, ...] | None:
        """The change kinds :meth:`record` would record, writing nothing (a dry run)."""
        change = self._prepare(
            statement,
            "",
            None,
            None,
            None,
            previous_url,
            source,
            unannounced,
            stable_id,
            declared,
            keep=keep,
            hosts=hosts,
        )
        if change is None and declared is not None:
            row = self.index.by_url(statement.source_url)
            return None if row is None else _status_kinds(row, declared)
        return None if change is None else change.kinds

    def _prepare(
        self,
        statement: Statement,
        origin: str,
        text: str | None,
        at: dt.datetime | None,
        path_hint: str | None,
        previous_url: str | None,
        source: str | None,
        unannounced: bool,
        stable_id: str | None = None,
        declared: Declared | None = None,
        *,
        keep: Collection[str] = (),
        hosts: Mapping[str, str] | None = None,
    ) -> _Change | None:
        when = stamp(at or self.clock())
        row: StatementRow | None
        known = self._by_stable_id(source, stable_id)
        if known is not None:
            row, path = known, path_hint  # the same statement, whatever its URL now
        else:
            row, path = self._identify(statement, path_hint, previous_url, stable_id)
        head = None if row is None else self.index.revision(row.id, row.head)
        if text is None:
            statement = _kept(statement, head, keep)
            text = self._render(statement, head)
            statement = loads(text)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DocumentError(
                f"the text holds {exc.object[exc.start : exc.end]!r}, which UTF-8 cannot store",
                where=statement.source_url,
            ) from None
        digest = content_hash(text)
        kinds: tuple[str, ...] = ("new",)
        revert = None
        if _unchanged(row, head, digest, statement.source_url):
            return None  # the cheap check first: most re-checked pages did not change
        replaced = self._replaced(row, head, statement, path_hint, stable_id)
        if replaced is not None:
            row, head, kinds = None, None, ("replaced",)
            path = self._new_path(statement, path_hint)
        prior = None if row is None or head is None else self.index.declared(row.id, head.number)
        announced: dict[str, Any] | None = None
        if row is not None and head is not None:
            kinds = self._kinds(row, head, statement, unannounced, hosts)
            if declared is not None:
                kinds, announced = _declared_kinds(kinds, row, head, prior, declared)
            revert = self._revert(row, head, statement, digest, kinds, when)
            if revert is not None:
                added = {"reverted", "flapping"} if "flap_of" in revert else {"reverted"}
                kinds = tuple(k for k in KINDS if k in {*kinds, *added})
            path = path or row.path
        assert path is not None
        withdrawn = row is not None and row.status == "withdrawn"
        if declared is not None:
            withdrawn = declared.withdrawn is not None
        return _Change(
            row,
            head,
            statement,
            text,
            digest,
            kinds,
            path,
            origin,
            when,
            source,
            revert=revert,
            replaces=replaced,
            stable_id=stable_id,
            declared=prior if declared is None else declared.dumps(),
            announced=announced,
            status="withdrawn" if withdrawn else "active",
        )

    def _replaced(
        self,
        row: StatementRow | None,
        head: RevisionRow | None,
        statement: Statement,
        path_hint: str | None,
        stable_id: str | None = None,
    ) -> StatementRow | None:
        """The statement a different document at its URL replaces: one its source names by
        another stable id, else one that ``is_replacement`` tells apart."""
        if row is None or head is None or row.url != statement.source_url:
            return None
        if path_hint is not None and path_hint == row.path:
            return None  # its own file now holds another text: a revision of that file
        if _other_id(row, stable_id):
            return row
        old = Statement(load_meta(head.front_matter), head.body, head.front_matter)
        return row if is_replacement(old, statement) else None

    def _new_path(self, statement: Statement, path_hint: str | None) -> str:
        path = check_relative(path_hint or path_for(statement, self.layout))
        if path_hint is None and self.index.by_path(path) is not None:
            path = disambiguate(path, statement.source_url)
        return path

    def _by_stable_id(self, source: str | None, stable_id: str | None) -> StatementRow | None:
        if source is None or stable_id is None:
            return None
        return self.index.by_stable_id(source, stable_id)

    def _identify(
        self,
        statement: Statement,
        path_hint: str | None,
        previous_url: str | None,
        stable_id: str | None = None,
    ) -> tuple[StatementRow | None, str | None]:
        """The statement a revision belongs to (``None``: a new one) and, if new, its path."""
        url = statement.source_url
        row = self.index.by_url(url)
        if row is not None and row.url != url and _other_id(row, stable_id):
            row = None  # a former URL of a statement that lives elsewhere: another document
        if row is None and previous_url is not None:
            row = self.index.by_url(previous_url)
            if row is not None and _other_id(row, stable_id):
                row = None  # the URL before was another document's
        if row is not None:
            return row, path_hint
        path = check_relative(path_hint or path_for(statement, self.layout))
        other = self.index.by_path(path)
        if other is not None and _other_id(other, stable_id):
            path = disambiguate(path, url)  # another document of the source, by its id
            other = None
        if other is not None and (path_hint or _same_publication(other, statement)):
            return other, path  # the same statement under a new URL: a move
        if other is not None:
            path = disambiguate(path, url)
        return None, path

    def _kinds(
        self,
        row: StatementRow,
        head: RevisionRow,
        new: Statement,
        unannounced: bool,
        hosts: Mapping[str, str] | None = None,
    ) -> tuple[str, ...]:
        old = Statement(load_meta(head.front_matter), head.body, head.front_matter)
        kinds = classify(old, new, hosts) or ("reformatted",)
        if row.status == "removed":
            kinds = (*(k for k in kinds if k != "reformatted"), "restored")
        content = {"updated", "retitled"} & set(kinds)
        if unannounced and content and "metadata" not in kinds:
            kinds = (*kinds, "silent")
        return kinds

    def _revert(
        self,
        row: StatementRow,
        head: RevisionRow,
        new: Statement,
        digest: str,
        kinds: tuple[str, ...],
        when: str,
    ) -> dict[str, Any] | None:
        """What a revision undoes when it says again what the one before ``head`` said.

        A -> B -> A at any distance in time: the new text equals the one two revisions back,
        or the edit that made ``head`` changed what a reader sees (words, title) and the new
        revision changes none of that against the one before it (only dates or formatting
        differ). Within :data:`FLAP_WINDOW` of the edit it undoes, it is also flapping, and
        ``flips`` counts the flip-backs in a row.
        """
        if head.number < 2 or head.content_hash == digest or set(kinds) <= {"reformatted"}:
            return None
        before = self.index.revision(row.id, head.number - 1)
        if before is None:
            return None
        undone = self.index.event_of_revision(row.id, head.number)
        if before.content_hash != digest:
            if undone is None or not CONTENT_KINDS & set(undone.kinds):
                return None
            if CONTENT_KINDS & set(classify(self.statement(before), new)):
                return None
        revert: dict[str, Any] = {
            "reverts": head.number,
            "reverts_seen": head.seen_at,
            "reverts_kinds": " ".join(undone.kinds) if undone else "",
            "back_to": before.number,
        }
        if _seconds_between(head.seen_at, when) <= FLAP_WINDOW.total_seconds():
            flips = undone.flips + 1 if undone is not None else 1
            revert.update(flap_of=head.number, flips=flips)
        return revert

    def _render(self, statement: Statement, head: RevisionRow | None) -> str:
        if head is None:
            return dumps(Statement(order_meta(statement.meta, self.key_order), statement.body))
        keys = list(load_meta(head.front_matter))
        order = detect_key_order(keys)
        return dumps(Statement(order_meta(statement.meta, order, like=keys), statement.body))

    def _index_revision(self, change: _Change) -> Recorded:
        row, head, new, when = change.row, change.head, change.statement, change.when
        url = new.source_url
        title = _storable(new.title)
        published = _iso(new.published_time)
        with self.index.transaction():
            if row is None:
                slug = slug_from_url(url) or Path(change.path).stem
                statement_id = self.index.insert_statement(
                    url=url,
                    path=change.path,
                    slug=slug,
                    title=title,
                    published_time=published,
                    at=when,
                    source=change.source,
                    stable_id=change.stable_id,
                )
            else:
                statement_id = row.id
                self.index.add_url(url, statement_id, when)
            number = 1 if head is None else head.number + 1
            self.index.add_revision(
                RevisionRow(
                    0,
                    statement_id,
                    number,
                    when,
                    change.origin,
                    url,
                    change.path,
                    title,
                    published,
                    _iso(new.modified_time),
                    change.digest,
                    words_hash(new.body),
                    new.front_matter(),
                    new.body,
                ),
                declared=change.declared,
            )
            values: dict[str, Any] = {"source": change.source} if change.source else {}
            if change.stable_id is not None and row is not None:
                values["stable_id"] = change.stable_id  # a statement first archived without it
            self.index.update_statement(
                statement_id,
                url=url,
                path=change.path,
                title=title,
                published_time=published,
                status=change.status,
                head=number,
                last_seen=when,
                **values,
            )
            self.index.clear_pending_reformat(statement_id)
            if change.replaces is not None:
                self.index.update_statement(change.replaces.id, status="replaced")
                self.index.clear_pending_reformat(change.replaces.id)
            detail = self._detail(change)
            before = None if head is None else head.number
            old = None if head is None else self.statement(head)
            size, text, html = rendered(old, new, change.kinds, detail)
            event_id = self.index.add_event(
                statement_id, when, change.kinds, before, number, detail, text=text, size=size,
                run=self.run,
            )  # fmt: skip
            self.index.set_event_html(event_id, html)
        log.debug("%s %s (revision %d)", " ".join(change.kinds), url, number)
        source = change.source or (change.row.source if change.row else None)
        event = EventRow(
            event_id, statement_id, when, change.kinds, before, number, detail, url, change.path,
            title, source, text, size, run=self.run,
        )  # fmt: skip
        return Recorded(
            statement_id,
            url,
            change.path,
            change.kinds,
            before,
            number,
            title,
            flap="flapping" in change.kinds,
            event=event,
        )

    def _detail(self, change: _Change) -> dict[str, Any]:
        head, kinds = change.head, change.kinds
        detail: dict[str, Any] = {"origin": change.origin}
        old = change.replaces
        if old is not None:
            detail.update(replaces={"id": old.id, "path": old.path, "title": old.title})
        if head is None:
            return detail
        if "moved" in kinds:
            detail.update(old_url=head.url, new_url=change.statement.source_url)
        if "retitled" in kinds or title_kinds(head.title, change.statement.title) == ("metadata",):
            detail.update(old_title=head.title, new_title=change.statement.title)
        detail.update(change.revert or {})
        detail.update(change.announced or {})
        return detail

    def _declared_status(
        self, statement: Statement, declared: Declared, at: dt.datetime | None
    ) -> Recorded | None:
        """A withdrawal (or its end) that came with an unchanged text: an event of its own,
        with no revision (the text stays archived), as a removal is."""
        row = self.index.by_url(statement.source_url)
        if row is None:
            return None
        kinds = _status_kinds(row, declared)
        if kinds is None:
            return None
        detail: dict[str, Any] = {"origin": statement.source_url}
        if declared.withdrawn is not None:
            detail["withdrawn"] = declared.withdrawn.as_json()
        status = "withdrawn" if declared.withdrawn is not None else "active"
        return self._status_event(row, kinds, detail, status, at)

    def _status_event(
        self,
        row: StatementRow,
        kinds: tuple[str, ...],
        detail: dict[str, Any],
        status: str,
        at: dt.datetime | None,
    ) -> Recorded:
        """An event that changes a statement's status and records no revision."""
        when = stamp(at or self.clock())
        size, text, html = rendered(None, None, kinds, detail)
        with self.index.transaction():
            self.index.update_statement(row.id, status=status, last_seen=when)
            self.index.clear_pending_reformat(row.id)
            event_id = self.index.add_event(
                row.id, when, kinds, row.head, None, detail, text=text, size=size, run=self.run
            )
            self.index.set_event_html(event_id, html)
        event = EventRow(
            event_id, row.id, when, kinds, row.head, None, detail, row.url, row.path,
            row.title, row.source, text, size, run=self.run,
        )  # fmt: skip
        return Recorded(row.id, row.url, row.path, kinds, row.head, None, row.title, event=event)

    def mark_removed(
        self, row: StatementRow, *, at: dt.datetime | None = None, why: str
    ) -> Recorded:
        """Record that a statement is gone from its source. Its file and history stay."""
        # A removed page is not re-rendered: its pending reformat is dropped.
        return self._status_event(row, ("removed",), {"why": why}, "removed", at)

    # -- reading ----------------------------------------------------------------------------

    def resolve(self, target: str) -> StatementRow:
        """A statement named by its URL (any it ever had), its path, or a unique slug prefix."""
        if target.startswith(("http://", "https://")):
            for url in (target, target.rstrip("/") + "/", target.rstrip("/")):
                row = self.index.by_url(url)
                if row is not None:
                    return row
            raise TargetError("no statement has this URL", where=target)
        row = self._by_file(target)
        if row is not None:
            return row
        matches = self.index.by_slug_prefix(target.removesuffix(".md"))
        exact = [m for m in matches if m.slug == target]
        if len(matches) == 1 or len(exact) == 1:
            return (exact or matches)[0]
        if not matches:
            raise TargetError(
                "no statement matches this URL, path or slug",
                where=target,
                hint="to find statements by their words: statements search WORDS;"
                " 'statements list' shows what the archive holds",
            )
        shown = ", ".join(m.url for m in matches[:3]) + (", ..." if len(matches) > 3 else "")
        raise TargetError(
            f"{len(matches)}{'+' if len(matches) >= 10 else ''} statements match: {shown}",
            where=target,
            hint="give the URL or the path instead",
        )

    def _by_file(self, target: str) -> StatementRow | None:
        candidate = Path(target)
        root = self.root.resolve()
        for path in (candidate, self.root / candidate):
            try:
                relative = path.resolve().relative_to(root).as_posix()
            except (ValueError, OSError):
                continue
            row = self.index.by_path(relative)
            if row is not None:
                return row
        return None

    def revision(self, target: StatementRow | str, number: int | None = None) -> RevisionRow:
        """Revision ``number`` of a statement: the latest when None; counted back from the latest
        when negative (-1 is the one before the latest)."""
        row = self._row(target)
        wanted = row.head if number is None else number
        if wanted < 0:
            wanted = row.head + wanted
        found = self.index.revision(row.id, wanted)
        if found is None:
            raise RevisionError(
                f"no revision {number}",
                where=row.url,
                hint=f"it has revisions 1 to {row.head}; -1 is the one before the latest",
            )
        return found

    def statement(self, revision: RevisionRow) -> Statement:
        return Statement(load_meta(revision.front_matter), revision.body, revision.front_matter)

    # -- the read API (docs/python.md): a statement is a StatementRow or a target to resolve --

    def statements(
        self, *, source: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[StatementRow]:
        """Statements in the order they entered the archive; ``source``: recorded by a sync of
        that source; ``status``: ``active``, ``removed`` or ``replaced``."""
        return self.index.statements(source=source, status=status, limit=limit)

    def revisions(self, target: StatementRow | str) -> list[RevisionRow]:
        """Every revision of a statement, oldest first."""
        return self.index.revisions(self._row(target).id)

    def history(self, target: StatementRow | str) -> list[EventRow]:
        """A statement's change events, oldest first (a removal has no revision of its own)."""
        return self.index.events(statement_id=self._row(target).id)[::-1]

    def diff(
        self, target: StatementRow | str, old: int | None = None, new: int | None = None
    ) -> Diff:
        """Revision ``old`` against revision ``new`` (numbered as :meth:`revision`'s); by default
        the latest against the one before it."""
        row = self._row(target)
        after = self.revision(row, new)
        if old is None and after.number <= 1:
            raise RevisionError("has only one revision: nothing to compare", where=row.url)
        before = self.revision(row, after.number - 1 if old is None else old)
        kinds: tuple[str, ...] = ()
        event = self.index.event_of_revision(row.id, after.number)
        if event is not None and event.from_rev == before.number:
            kinds = event.kinds  # silent, restored, reverted: known only to the event
        return compare(row, before, after, kinds)

    def changes(
        self,
        *,
        since: dt.datetime | str | None = None,
        until: dt.datetime | str | None = None,
        kinds: Sequence[str] | str = (),
        sources: Sequence[str] | str = (),
        limit: int | None = None,
        **filters: Any,
    ) -> list[EventRow]:
        """Change events of the whole archive, newest first: at or after ``since``, before
        ``until``, of any of ``kinds``, of one of ``sources``, and any other field of
        :class:`storage.index.EventFilter` (``news``, ``min_size``, ``flaps``...)."""
        return self.index.events(
            since=_moment(since),
            until=_moment(until),
            kinds=_names(kinds),
            sources=_names(sources),
            limit=limit,
            **filters,
        )

    def search(
        self,
        words: str,
        *,
        raw: bool = False,
        every_revision: bool = False,
        sources: Sequence[str] | str = (),
        since: dt.datetime | str | None = None,
        until: dt.datetime | str | None = None,
        limit: int | None = 20,
    ) -> list[SearchHit]:
        """Statements whose latest revision has these words (``every_revision``: any revision
        ever recorded), best first, each with a snippet; ``since``/``until`` bound the
        publication time. ``raw``: the index's own query syntax (SQLite FTS5), where a syntax
        error is a :class:`~storage.errors.QueryError`."""
        query = SearchQuery(words, raw, every_revision, self._filter(sources, since, until))
        return self.index.search(query, limit=limit)

    def select(
        self,
        *,
        sources: Sequence[str] | str = (),
        tags: Sequence[str] | str = (),
        statuses: Sequence[str] | str = (),
        since: dt.datetime | str | None = None,
        until: dt.datetime | str | None = None,
        every_revision: bool = False,
        newest_first: bool = False,
    ) -> Iterator[tuple[StatementRow, RevisionRow]]:
        """Each statement (with its latest revision, or each of its revisions) of one of
        ``sources``, with one of ``tags``, of one of ``statuses``, published at or after
        ``since`` and before ``until``; streamed, by id (or newest publication first)."""
        where = self._filter(sources, since, until, tags=_names(tags), statuses=_names(statuses))
        return self.index.rows(where, every_revision=every_revision, newest_first=newest_first)

    def _filter(
        self,
        sources: Sequence[str] | str,
        since: dt.datetime | str | None,
        until: dt.datetime | str | None,
        **more: Any,
    ) -> StatementFilter:
        return StatementFilter(
            sources=_names(sources), since=_moment(since), until=_moment(until), **more
        )

    def announcements(self, events: Sequence[EventRow]) -> dict[int, str]:
        """The HTML of these events (front-matter changes, the word diff in ``<del>``/``<ins>``,
        every value escaped), as rendered once when each was recorded, by event id; an event
        recorded before it was stored (schema 8) is absent."""
        return self.index.event_html([e.id for e in events])

    def runs(
        self, *, source: str | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str, bool, str]]:
        """Finished sync runs, latest first: (source, started, finished, ok, summary JSON)."""
        return self.index.runs(source=source, limit=limit)

    def _row(self, target: StatementRow | str) -> StatementRow:
        return target if isinstance(target, StatementRow) else self.resolve(target)


def _moment(value: dt.datetime | str | None) -> str | None:
    """A time as the index stores it (UTC text); text is taken as it is."""
    return stamp(value) if isinstance(value, dt.datetime) else value


def _names(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _unchanged(row: StatementRow | None, head: RevisionRow | None, digest: str, url: str) -> bool:
    """The statement is active (or withdrawn: still on the site) and its latest revision is
    this very text at this URL."""
    if row is None or head is None or row.status not in ("active", "withdrawn"):
        return False
    return head.content_hash == digest and row.url == url


def _other_id(row: StatementRow, stable_id: str | None) -> bool:
    """Whether a statement has a stable id and it is not this one: another document."""
    return stable_id is not None and row.stable_id is not None and row.stable_id != stable_id


def _declared_kinds(
    kinds: tuple[str, ...],
    row: StatementRow,
    head: RevisionRow,
    prior: str | None,
    declared: Declared,
) -> tuple[tuple[str, ...], dict[str, Any] | None]:
    """The kinds of a change whose publisher declares its edits (see ``storage.declared``), and
    what the event says of it: the new change notes, the withdrawal."""
    since = head.modified_time or head.published_time
    before = None if since is None else dt.datetime.fromisoformat(since)
    notes = published.new_notes(published.loads(prior), declared, before)
    found = set(kinds)
    announced: dict[str, Any] = {}
    content = {"updated", "retitled"} & found
    if notes and found - {"reformatted"}:
        found.add("declared")
        found.discard("silent")  # the publisher said so: not silent, whatever the sitemap says
        announced["declared"] = [n.as_json() for n in notes]
    elif content and "metadata" not in found:
        found.add("silent")
    if published.newly_withdrawn(declared, row.status):
        assert declared.withdrawn is not None
        found.add("withdrawn")
        announced["withdrawn"] = declared.withdrawn.as_json()
    elif row.status == "withdrawn" and declared.withdrawn is None:
        found.add("restored")
    if "withdrawn" in found or "declared" in found:
        found.discard("reformatted")
    return tuple(k for k in KINDS if k in found), announced or None


def _status_kinds(row: StatementRow, declared: Declared) -> tuple[str, ...] | None:
    """The kinds of a status change declared with an unchanged text (None: no change)."""
    if published.newly_withdrawn(declared, row.status):
        return ("withdrawn",)
    if row.status == "withdrawn" and declared.withdrawn is None:
        return ("restored",)
    return None


def _same_publication(row: StatementRow, statement: Statement) -> bool:
    """Whether a statement already at this path is this one under another URL (a move)."""
    published = statement.published_time
    return published is not None and row.published_time == published.isoformat()


def _storable(text: str) -> str:
    """Text the index can store: a lone surrogate (exact in the YAML) becomes U+FFFD."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


def _seconds_between(earlier: str, later: str) -> float:
    return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_bytes() == text.encode("utf-8")
    except OSError:
        return False
