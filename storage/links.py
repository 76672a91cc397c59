"""A website's statement and its official text, linked: an executive order on whitehouse.gov and
the Federal Register document that publishes it.

An executive order appears twice: on the White House website (``presidential-actions``), the day
it is signed, and days later in the Federal Register, the official text. The two are separate
statements of separate sources; a link says that they are the same order, so that ``statements
compare`` can show where the website's words differ from the official ones.

Matching is pure (:func:`match`), on :class:`Facts` of each side:

- by executive order number where both give it: the official text's ``executive_order_number``
  (its front matter, else what its publisher declared with it, ``revisions.declared``) and the
  number the website's title names ("Executive Order 14430: ..."); two different numbers are
  never linked, whatever the titles;
- otherwise by title and signing date: the titles are the same words (case, punctuation, quotes
  and spacing aside) and the website published it on the signing date or the day after (the
  official text's ``signing_date``; the website's ``date``).

:func:`link` finds and stores the links of one statement, on either side, when it has none yet
(``official_links`` in the index: docs/index.md); the official side is a statement of one of the
sources named official (a Federal Register source). Only the index and the archive's files are
read: nothing here fetches.

A correction and the statement it corrects are linked the same way, in the same table (a link
reads "the first text, and the one that supersedes it"): ``website_id`` is the statement
corrected, ``official_id`` the correction, ``basis`` :data:`CORRECTION` and ``key`` the day the
publisher linked them. The publisher declares it with a statement (``revisions.declared``,
``about``): its own ``id`` for the statement and ``corrections``, the ids of its statements that
are this one's correction or what it corrects (the UK Parliament's ``linkedStatements`` of type
``CorrectedStatement``: crawler/kinds/ukparliament.py). Which of two corrects the other is not
said on either side, so the one made later is the correction (the same day: the one with the
higher id). :func:`correction_pairs` is pure; :func:`link_corrections` reads a source's
statements and stores the pairs not yet linked, whichever side declared the link and in
whichever order the two were archived: the sync runs it after each sync of a source whose kind
declares corrections (``Kind.corrections``), so a rerun after a crash links what the crashed
run did not.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage import declared as published
from storage.index import LinkRow, StatementRow

if TYPE_CHECKING:
    from storage.archive import Archive

BY_NUMBER = "executive_order_number"
BY_TITLE = "title_and_signing_date"
#: The basis of a link between a correction and the statement it corrects.
CORRECTION = "corrected_statement"
#: How long after it is signed an order is published in the Federal Register, at most: the
#: official texts looked at for a website's statement are those published in this window.
PUBLICATION_WINDOW = dt.timedelta(days=90)
_EO_IN_TITLE = re.compile(r"\bExecutive\s+Order\s+(?:No\.?\s*)?(\d{4,6})\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Facts:
    """What matching needs of one side: a website's statement (``day``: its publication date)
    or an official text (``day``: its signing date)."""

    statement_id: int
    title: str
    day: dt.date | None
    eo_number: str | None = None


def eo_number_in_title(title: str) -> str | None:
    """The executive order number a title names, if it names one."""
    found = _EO_IN_TITLE.search(title)
    return found.group(1) if found else None


def title_words(title: str) -> tuple[str, ...]:
    """A title's words for matching: case, punctuation, quotes and spacing aside."""
    text = unicodedata.normalize("NFKC", title).replace("\u2019", "'").casefold()
    return tuple(_WORD.findall(text.replace("'", "")))


def match(website: Facts, official: Facts) -> tuple[str, str] | None:
    """How the two are the same order (the basis and its key), or ``None``."""
    if website.eo_number is not None and official.eo_number is not None:
        same = website.eo_number == official.eo_number
        return (BY_NUMBER, official.eo_number) if same else None
    if website.day is None or official.day is None:
        return None
    if title_words(website.title) != title_words(official.title) or not title_words(website.title):
        return None
    if 0 <= (website.day - official.day).days <= 1:
        return BY_TITLE, official.day.isoformat()
    return None


# -- the archive: facts, candidates, links ------------------------------------------------------


def _day(published_time: str | None) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(published_time).date() if published_time else None
    except ValueError:
        return None


def website_facts(row: StatementRow) -> Facts:
    return Facts(row.id, row.title, _day(row.published_time), eo_number_in_title(row.title))


def official_facts(archive: Archive, row: StatementRow) -> Facts:
    """An official text's facts: its front matter's ``signing_date`` and
    ``executive_order_number``, else what its publisher declared with its latest revision."""
    meta: dict[str, Any] = {}
    declared = published.loads(archive.index.declared(row.id, row.head))
    if declared is not None:
        meta.update({k: v for k, v in declared.about.items() if v})
    head = archive.index.revision(row.id, row.head)
    if head is not None:
        meta.update({k: v for k, v in archive.statement(head).meta.items() if v})
    signing = meta.get("signing_date")
    if isinstance(signing, str):
        try:
            signing = dt.date.fromisoformat(signing)
        except ValueError:
            signing = None
    number = meta.get("executive_order_number")
    return Facts(
        row.id,
        row.title,
        signing if isinstance(signing, dt.date) else None,
        str(number) if number else None,
    )


def link(
    archive: Archive, row: StatementRow, official_sources: Sequence[str], at: str
) -> list[LinkRow]:
    """The links of a statement (a website's or an official text), found and stored now if it
    has none yet. ``official_sources``: the sources whose statements are official texts. A
    read-only archive (a folder this user cannot write) gets the links found, not stored. The
    store touches the index alone (no file), in one transaction, so it needs no archive lock."""
    known = archive.index.links_of(row.id)
    if known:
        return known
    everything = archive.statements()
    official = [s for s in everything if s.source in official_sources]
    if row.source in official_sources:
        facts = official_facts(archive, row)
        pairs = [(website_facts(w), facts) for w in _websites(everything, official_sources, facts)]
    else:
        facts = website_facts(row)
        pairs = [(facts, official_facts(archive, o)) for o in _officials(official, facts)]
    found = [(w, o, m) for w, o in pairs if (m := match(w, o)) is not None]
    if found and archive.read_only:
        rows = [LinkRow(w.statement_id, o.statement_id, b, k, at) for w, o, (b, k) in found]
        return sorted(rows, key=lambda r: (r.linked_at, r.website_id, r.official_id))
    if found:
        with archive.index.transaction():
            for website, text, (basis, key) in found:
                archive.index.add_link(website.statement_id, text.statement_id, basis, key, at)
    return archive.index.links_of(row.id)


def _officials(official: Iterable[StatementRow], website: Facts) -> list[StatementRow]:
    """Official texts published from the website's date to :data:`PUBLICATION_WINDOW` after."""
    if website.day is None:
        return []
    last = website.day + PUBLICATION_WINDOW
    return [o for o in official if (day := _day(o.published_time)) and website.day <= day <= last]


def _websites(
    everything: Iterable[StatementRow], official_sources: Sequence[str], text: Facts
) -> list[StatementRow]:
    """Website statements published from the signing date to :data:`PUBLICATION_WINDOW` after."""
    if text.day is None:
        return []
    first, last = text.day, text.day + PUBLICATION_WINDOW
    return [
        w
        for w in everything
        if w.source not in official_sources
        and (day := _day(w.published_time)) is not None
        and first <= day <= last
    ]


# -- corrections ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declares:
    """What linking corrections needs of one statement: its publisher's id for it, the day it
    was made, and the publisher's ids of the statements it is linked to as a correction (each
    with the day of the link)."""

    statement_id: int
    publisher_id: str | None
    day: str
    corrections: tuple[tuple[str, str], ...] = ()


def correction_pairs(items: Sequence[Declares]) -> list[tuple[int, int, str]]:
    """(corrected, correction, day linked) for every declared correction whose two statements
    are both among ``items``, each pair once, whichever side declared it."""
    by_id = {d.publisher_id: d for d in items if d.publisher_id}
    pairs: dict[tuple[int, int], str] = {}
    for item in items:
        for other_id, linked in item.corrections:
            other = by_id.get(other_id)
            if other is None or other.statement_id == item.statement_id:
                continue
            first, second = sorted((item, other), key=_made)
            key = (first.statement_id, second.statement_id)
            pairs[key] = max(pairs.get(key, ""), linked or second.day)
    return [(a, b, day) for (a, b), day in sorted(pairs.items())]


def _made(item: Declares) -> tuple[str, int, int]:
    own = item.publisher_id or ""
    number = int(own) if own.isdigit() else 0
    return item.day, number, item.statement_id


def declares(archive: Archive, row: StatementRow) -> Declares:
    """What the publisher declared of a statement with its latest revision, for linking."""
    declared = published.loads(archive.index.declared(row.id, row.head))
    about = declared.about if declared is not None else {}
    own = about.get("id")
    listed = about.get("corrections")
    corrections = tuple(
        (str(c["id"]), str(c.get("linked") or ""))
        for c in (listed if isinstance(listed, list) else [])
        if isinstance(c, dict) and c.get("id") is not None
    )
    day = about.get("date_made") or (row.published_time or "")[:10]
    return Declares(row.id, None if own is None else str(own), str(day), corrections)


def link_corrections(archive: Archive, source: str, at: str) -> int:
    """Link the corrections among a source's statements that are not linked yet; how many."""
    items = [declares(archive, row) for row in archive.statements(source=source)]
    pairs = correction_pairs(items)
    if not pairs:
        return 0
    new = [
        (a, b, day)
        for a, b, day in pairs
        if not any(k.official_id == b and k.basis == CORRECTION for k in archive.index.links_of(a))
    ]
    if new:
        with archive.index.transaction():
            for corrected, correction, day in new:
                archive.index.add_link(corrected, correction, CORRECTION, day, at)
    return len(new)
