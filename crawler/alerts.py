"""Announcing change events: an Atom feed in the archive, and signed webhooks.

Alerts never fail a sync: the feed is rewritten after the sync has committed, and webhooks are
posted from background threads with bounded retries; a receiver that is down is logged, not
raised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from crawler.config import AtomAlert, WebhookAlert
from crawler.fetch import make_client
from storage.archive import Archive
from storage.atomic import write_atomic
from storage.eventtext import fill_missing
from storage.index import QUIET_KINDS, EventFilter, EventRow

log = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
SIGNATURE_HEADER = "X-Statements-Signature-256"


@dataclass(frozen=True)
class Announcement:
    """One change event, ready to announce: with its word diff and its size in words.

    ``id`` is the event's id in the index: stable, so a receiver can drop a delivery it has
    seen. ``reverts`` is set when the event undid the one before it (A -> B -> A): the revision
    it undid (``reverts``), when that edit was seen (``reverts_seen``), the revision whose text
    the page has again (``back_to``) and, when flapping, ``flips``.
    """

    id: int
    at: str
    kinds: tuple[str, ...]
    url: str
    path: str
    title: str
    source: str | None
    from_rev: int | None
    to_rev: int | None
    size: int
    diff: str
    reverts: dict[str, Any] | None = None
    reverted_at: str | None = None


_REVERT_KEYS = ("reverts", "reverts_seen", "reverts_kinds", "back_to", "flips")


def announce(event: EventRow) -> Announcement:
    """An event as announced, from the text stored when it was recorded (no diffing here)."""
    reverts = {k: event.detail[k] for k in _REVERT_KEYS if k in event.detail}
    return Announcement(
        event.id,
        event.at,
        event.kinds,
        event.url,
        event.path,
        event.title,
        event.source,
        event.from_rev,
        event.to_rev,
        event.size or 0,
        event.diff or "",
        reverts or None,
        event.reverted_at,
    )


def latest(archive: Archive, where: EventFilter, limit: int | None = None) -> list[Announcement]:
    """The newest events a filter selects, announced; never a reformat-only event.

    One query; an event recorded before announcements were stored is rendered and stored
    first (once), then the query runs again, as its size may change what the filter keeps.
    """
    where = dataclasses.replace(where, news=True, follow_reverts=True)
    while True:
        rows = archive.index.events(where, limit=limit)
        if not fill_missing(archive.index, rows):
            return [announce(r) for r in rows]


def wanted(a: Announcement, kinds: Sequence[str], sources: Sequence[str], min_change: int) -> bool:
    """An alert's filters: any of the kinds, one of the sources, at least so many words.

    An event that only reformatted a file (no word a reader sees changed) is never wanted. A
    revert is wanted wherever the edit it undid was, so no receiver keeps believing that edit.
    """
    if not set(a.kinds) - set(QUIET_KINDS):
        return False
    undone = str((a.reverts or {}).get("reverts_kinds", "")).split()
    if kinds and not set(kinds) & {*a.kinds, *undone}:
        return False
    if sources and a.source not in sources:
        return False
    content = {"updated", "silent"} & set(a.kinds)
    return not (min_change and content and a.size < min_change)


# -- the Atom feed ----------------------------------------------------------------------------


def write_atom(archive: Archive, alert: AtomAlert, now: dt.datetime) -> Path | None:
    """Rewrite ``changes.atom`` from the latest events the alert wants: one query, no diffing.

    A flapping page (A -> B -> A -> B ...) shows its latest flip, which says what the page
    says now; every revert is an entry of its own.
    """
    if not alert.enabled:
        return None
    where = EventFilter(
        kinds=alert.kinds, sources=alert.sources, min_size=alert.min_change, flaps=False
    )
    chosen = latest(archive, where, alert.entries)
    path = archive.file(alert.path)
    write_atomic(path, atom_xml(chosen, now, f"Changes in {archive.root.name}"))
    return path


def atom_xml(entries: Iterable[Announcement], now: dt.datetime, title: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", "tag:statement-sync,2026:changes")
    _text(feed, "title", title)
    _text(feed, "updated", now.astimezone(dt.UTC).isoformat(timespec="seconds"))
    ET.SubElement(_text(feed, "author", ""), f"{{{ATOM}}}name").text = "statement-sync"
    _text(feed, "generator", "statement-sync")
    for a in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"tag:statement-sync,2026:event/{a.id}")
        _text(entry, "title", f"[{' '.join(a.kinds)}] {a.title}")
        _text(entry, "updated", a.at)
        ET.SubElement(entry, f"{{{ATOM}}}link", href=a.url, rel="alternate")
        for kind in a.kinds:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=kind)
        summary = f"{' '.join(a.kinds)}: {a.path} (revision {a.to_rev or '-'})"
        if a.reverted_at:
            summary += f"; reverted {a.reverted_at}"
        _text(entry, "summary", summary)
        _text(entry, "content", a.diff or " ".join(a.kinds)).set("type", "text")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


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


# -- webhooks ---------------------------------------------------------------------------------


def redact(url: str) -> str:
    """A URL fit for a log: no user, password or query (where tokens travel)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" + ("?…" if parts.query else "")


def secret_of(hook: WebhookAlert) -> bytes | None:
    """A webhook's secret, from the environment or a file: never from the command line."""
    if hook.secret_env and os.environ.get(hook.secret_env):
        return os.environ[hook.secret_env].encode()
    if hook.secret_file:
        return Path(hook.secret_file).expanduser().read_bytes().strip()
    return None


def sign(body: bytes, secret: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def payload(source: str, summary: dict[str, Any], announcements: Sequence[Announcement]) -> bytes:
    return json.dumps(
        {"source": source, "summary": summary, "events": [asdict(a) for a in announcements]},
        ensure_ascii=False,
    ).encode("utf-8")


def deliver(
    hook: WebhookAlert,
    body: bytes,
    *,
    client_factory: Callable[[], httpx.Client] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST one delivery, retried with backoff; ``False`` (logged) when the receiver stays down."""
    headers = {"Content-Type": "application/json"}
    secret = secret_of(hook)
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    factory = client_factory or (lambda: make_client(timeout=hook.timeout))
    with factory() as client:
        for attempt in range(1, hook.attempts + 1):
            try:
                reply = client.post(hook.url, content=body, headers=headers)
                if reply.status_code < 300:
                    return True
                reason = f"HTTP {reply.status_code}"
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            log.warning("webhook %s: attempt %d failed: %s", redact(hook.url), attempt, reason)
            if attempt < hook.attempts:
                sleep(min(30.0, 2.0 ** (attempt - 1)))
    return False


def send_webhooks(
    hooks: Sequence[WebhookAlert],
    source: str,
    summary: dict[str, Any],
    announcements: Sequence[Announcement],
    **kw: Any,
) -> list[threading.Thread]:
    """Start one background delivery per webhook with something to say; never raises."""
    threads = []
    for hook in hooks:
        chosen = [a for a in announcements if wanted(a, hook.kinds, hook.sources, hook.min_change)]
        if not chosen:
            continue
        body = payload(source, summary, chosen)
        thread = threading.Thread(target=_safely, args=(hook, body, kw), daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _safely(hook: WebhookAlert, body: bytes, kw: dict[str, Any]) -> None:
    try:
        deliver(hook, body, **kw)
    except Exception:  # an alert must never take the sync down
        log.exception("webhook %s failed", redact(hook.url))
