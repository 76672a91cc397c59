"""The Atom feed: ``<archive>/changes.atom``, rewritten after every sync that recorded events.

Its entries are the latest events ``[alerts.atom]`` wants (on by default), newest first, each
with its HTML as content (``type="html"``: the changed words in ``<del>``/``<ins>``, every value
escaped, from :meth:`storage.change.Change.html`), stored in the index when the event was
recorded: one query, no diffing, whatever the archive's history. A flapping page
(A -> B -> A -> B ...) shows its latest flip, which says what the page says now; every revert is
an entry of its own.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.announce.base import Announcer, Outcome, Run, latest, register
from crawler.config import ArchiveConfig, AtomAlert
from storage.archive import Archive
from storage.atomic import write_atomic
from storage.event import ENTRY_ID, Event
from storage.eventtext import html_of
from storage.index import EventFilter

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class AtomFeed:
    """The ``atom`` announcer."""

    alert: AtomAlert
    name: str = "atom"

    def announce(self, run: Run) -> Outcome:
        if not self.alert.enabled or not run.events:
            return Outcome(self.name)
        chosen = entries(run.archive, self.alert)
        path = write(run.archive, self.alert, chosen, run.now, html_of(run.archive.index, chosen))
        return Outcome(self.name, run.ours(chosen), str(path))


@register("atom")
def from_config(config: ArchiveConfig) -> Sequence[Announcer]:
    return [AtomFeed(config.alerts.atom)]


def entries(archive: Archive, alert: AtomAlert) -> list[Event]:
    """The latest events the feed wants."""
    where = EventFilter(
        kinds=alert.kinds, sources=alert.sources, min_size=alert.min_change, flaps=False
    )
    return latest(archive, where, alert.entries)


def write(
    archive: Archive,
    alert: AtomAlert,
    chosen: Sequence[Event],
    now: dt.datetime,
    html: Mapping[int, str] | None = None,
) -> Path:
    path = archive.file(alert.path)
    write_atomic(path, atom_xml(chosen, now, f"Changes in {archive.root.name}", html))
    return path


def write_atom(archive: Archive, alert: AtomAlert, now: dt.datetime) -> Path | None:
    """Rewrite the feed from the latest events the alert wants (``None``: the feed is off)."""
    if not alert.enabled:
        return None
    chosen = entries(archive, alert)
    return write(archive, alert, chosen, now, html_of(archive.index, chosen))


def atom_xml(
    events: Iterable[Event], now: dt.datetime, title: str, html: Mapping[int, str] | None = None
) -> bytes:
    """The feed; an event's content is its HTML from ``html`` (by id), else its plain text."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", "tag:statement-sync,2026:changes")
    _text(feed, "title", title)
    _text(feed, "updated", now.astimezone(dt.UTC).isoformat(timespec="seconds"))
    ET.SubElement(_text(feed, "author", ""), f"{{{ATOM}}}name").text = "statement-sync"
    _text(feed, "generator", "statement-sync")
    for event in events:
        entry(feed, event, (html or {}).get(event.id or 0))
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def entry(feed: ET.Element, e: Event, html: str | None = None) -> ET.Element:
    """An event's Atom entry: its content is the event's stored HTML (escaped in the XML, as
    ``type="html"`` says), else its stored text; never a fresh diff."""
    element = ET.SubElement(feed, f"{{{ATOM}}}entry")
    _text(element, "id", ENTRY_ID.format(e.id))
    _text(element, "title", f"[{' '.join(e.kinds)}] {e.title}")
    _text(element, "updated", e.at)
    ET.SubElement(element, f"{{{ATOM}}}link", href=e.url, rel="alternate")
    for kind in e.kinds:
        ET.SubElement(element, f"{{{ATOM}}}category", term=kind)
    summary = f"{' '.join(e.kinds)}: {e.path} (revision {e.to_rev or '-'})"
    if e.reverted_at:
        summary += f"; reverted {e.reverted_at}"
    _text(element, "summary", summary)
    if html:
        _text(element, "content", html).set("type", "html")
    else:
        _text(element, "content", e.diff or " ".join(e.kinds)).set("type", "text")
    return element


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    if text:
        element.text = _xml_safe(text)
    return element


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot hold control characters or lone surrogates: drop them."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or (" " <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch >= "\U00010000"
    )
