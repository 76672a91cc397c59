"""Webhooks: one signed JSON POST per sync, source and ``[[alerts.webhooks]]`` entry.

A webhook gets the events of the sync it wants (kinds, sources, size; every flip-back of a
flapping page, which says what the page says now), each in the one event shape
(:meth:`storage.event.Event.as_json`), from the text stored when it was recorded. The body is
signed with HMAC-SHA256 when a secret is set (from the environment or a file, never from the
command line). Deliveries run in background threads with bounded retries: a receiver that is
down is logged, never raised, and never blocks the sync.

Each event carries its stable ``id``: the outbox (:mod:`crawler.announce.outbox`) delivers at
least once, so a receiver drops an event whose id it has seen. Each webhook is its own entry in
the outbox (:attr:`Webhook.key`), so one receiver that is down holds back no other.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from crawler.announce.base import Announcer, Delivery, Outcome, Run, latest, register, wanted
from crawler.config import ArchiveConfig, WebhookAlert
from crawler.fetch import make_client
from storage.event import Event
from storage.index import EventFilter

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Statements-Signature-256"


@dataclass(frozen=True)
class Webhook:
    """The ``webhooks`` announcer: one per ``[[alerts.webhooks]]`` entry."""

    hook: WebhookAlert
    name: str = "webhook"

    def announce(self, run: Run) -> Outcome:
        told, threads = 0, []
        for batch in run.batches:
            if not batch.events:
                continue
            where = EventFilter(after_id=batch.first_event, sources=(batch.source,))
            ids = {r.event.id for r in batch.events if r.event is not None}
            events = [e for e in latest(run.archive, where) if e.id in ids]
            threads += send([self.hook], batch.source, batch.summary, events)
            told += len(chosen(self.hook, events))
        return Outcome(self.name, told, pending=tuple(threads))

    @property
    def key(self) -> str:
        """Its name in the outbox: one per receiver (a URL with secrets in it, by a digest)."""
        shown = redact(self.hook.url)
        if shown != self.hook.url:
            shown += " #" + hashlib.sha256(self.hook.url.encode()).hexdigest()[:8]
        return f"webhook {shown}"


@register("webhooks")
def from_config(config: ArchiveConfig) -> Sequence[Announcer]:
    return [Webhook(hook) for hook in config.alerts.webhooks]


def chosen(hook: WebhookAlert, events: Sequence[Event]) -> list[Event]:
    return [e for e in events if wanted(e, hook.kinds, hook.sources, hook.min_change)]


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


def payload(source: str, summary: dict[str, Any], events: Sequence[Event]) -> bytes:
    return json.dumps(
        {"source": source, "summary": summary, "events": [e.as_json() for e in events]},
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


def send(
    hooks: Sequence[WebhookAlert],
    source: str,
    summary: dict[str, Any],
    events: Sequence[Event],
    **kw: Any,
) -> list[Delivery]:
    """Start one background delivery per webhook with something to say; never raises."""
    threads = []
    for hook in hooks:
        wanted_events = chosen(hook, events)
        if not wanted_events:
            continue
        body = payload(source, summary, wanted_events)
        ids = [e.id for e in wanted_events if e.id is not None]
        thread = Delivery(ids, functools.partial(_safely, hook, body, kw))
        thread.start()
        threads.append(thread)
    return threads


def _safely(hook: WebhookAlert, body: bytes, kw: dict[str, Any]) -> bool:
    try:
        return deliver(hook, body, **kw)
    except Exception:  # an alert must never take the sync down
        log.exception("webhook %s failed", redact(hook.url))
        return False
