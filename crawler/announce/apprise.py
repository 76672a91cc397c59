"""Notifications through apprise: Slack, Matrix, e-mail, Telegram and the rest, by URL.

One ``[[alerts.apprise]]`` entry of ``statements.toml`` is one :class:`AppriseNotifier`, with
the filters of a webhook (kinds, sources, size: :func:`crawler.announce.base.wanted`). After a
sync it sends one plain-text message per source with news: a title that counts the changes, then
per event its kinds, title, URL and the start of its stored text. Delivery runs in a background
thread (a :class:`~crawler.announce.base.Delivery` in ``Outcome.pending``) with connect and read
timeouts per service, so a service that is down or slow never blocks or fails the sync: a failure
is logged, and the outbox keeps its events pending for the next run (each entry is its own
announcer there, :attr:`AppriseNotifier.key`).

An apprise URL holds its service's secrets (tokens, passwords), so it is never taken from the
command line: it comes from the environment (``url_env``), a file (``url_file``, one URL a line)
or ``urls``, whose ``${VAR}`` parts the environment fills in. Logs and messages name a URL only
redacted (:func:`redact`: apprise's privacy form, or the scheme alone), and a filter scrubs the
URLs' secret parts from what apprise and urllib3 log themselves.

apprise is the optional extra ``statement-sync[apprise]``, imported only when a message is sent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.announce.base import (
    Announcer,
    Delivery,
    Outcome,
    Run,
    latest,
    register,
    wanted,
)
from crawler.config import AppriseAlert, ArchiveConfig
from storage.event import Event
from storage.index import EventFilter

log = logging.getLogger(__name__)

EXTRA = "pip install 'statement-sync[apprise]'"
#: An event's text is cut to this many characters in a message (services cut long messages).
EXCERPT = 500
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class NoURL(Exception):
    """An entry whose URLs cannot be had; the message names the variable or file, no value."""


@dataclass(frozen=True)
class AppriseNotifier:
    """The ``apprise`` announcer: one per ``[[alerts.apprise]]`` entry."""

    alert: AppriseAlert
    name: str = "apprise"

    def announce(self, run: Run) -> Outcome:
        messages, told = [], 0
        for batch in run.batches:
            if not batch.events:
                continue
            where = EventFilter(after_id=batch.first_event, sources=(batch.source,))
            ids = {r.event.id for r in batch.events if r.event is not None}
            events = [e for e in latest(run.archive, where) if e.id in ids]
            events = chosen(self.alert, events)
            if events:
                messages.append(message(batch.source, events))
                told += len(events)
        if not messages:
            return Outcome(self.name)
        if importlib.util.find_spec("apprise") is None:
            problem = f"apprise is not installed: {EXTRA}"
            log.error("%s: %s", self.name, problem)
            return Outcome(self.name, problem=problem)
        try:
            urls = urls_of(self.alert)
        except NoURL as exc:
            log.error("%s: %s", self.name, exc)
            return Outcome(self.name, problem=str(exc))
        carried = [r.event.id for r in run.events if r.event is not None]
        thread = Delivery(carried, lambda: _safely(urls, messages, self.alert.timeout))
        thread.start()
        return Outcome(self.name, told, pending=(thread,))

    @property
    def key(self) -> str:
        """Its name in the outbox: one per entry, told apart by where its URLs come from (a
        digest of the entry, so no secret is shown)."""
        where = repr((self.alert.urls, self.alert.url_env, self.alert.url_file))
        return "apprise #" + hashlib.sha256(where.encode()).hexdigest()[:8]


@register("apprise")
def from_config(config: ArchiveConfig) -> Sequence[Announcer]:
    return [AppriseNotifier(alert) for alert in config.alerts.apprise]


def chosen(alert: AppriseAlert, events: Sequence[Event]) -> list[Event]:
    return [e for e in events if wanted(e, alert.kinds, alert.sources, alert.min_change)]


def message(source: str, events: Sequence[Event]) -> tuple[str, str]:
    """(title, body) of one source's news: plain text, every event with its kinds and link."""
    count = len(events)
    title = f"statement-sync: {count} change{'s' if count != 1 else ''} on {source}"
    parts = []
    for e in events:
        text = (e.diff or "").strip()
        if len(text) > EXCERPT:
            text = text[:EXCERPT].rstrip() + " …"
        parts.append(f"[{' '.join(e.kinds)}] {e.title}\n{e.url}" + (f"\n{text}" if text else ""))
    return title, "\n\n".join(parts)


# -- the URLs and their secrets -------------------------------------------------------------


def urls_of(alert: AppriseAlert) -> list[str]:
    """An entry's apprise URLs: ``urls`` with ``${VAR}`` filled in, ``url_env``'s value (URLs
    separated by spaces), ``url_file``'s lines (blank and ``#`` lines skipped)."""
    urls = [_expand(url) for url in alert.urls]
    if alert.url_env:
        value = os.environ.get(alert.url_env, "")
        if not value.strip():
            raise NoURL(f"the environment variable {alert.url_env} (url_env) is not set")
        urls += value.split()
    if alert.url_file:
        path = Path(alert.url_file).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise NoURL(f"cannot read url_file {path}: {exc.strerror}") from None
        urls += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not urls:
        raise NoURL("no apprise URL to notify (urls, url_env, url_file)")
    _SCRUB.remember(urls)
    return urls


def _expand(url: str) -> str:
    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in os.environ:
            raise NoURL(f"the environment variable {name} in an apprise URL is not set")
        return os.environ[name]

    return _VARIABLE.sub(value, url)


def redact(url: str) -> str:
    """A URL fit for a log: apprise's privacy form without its options, or the scheme alone."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    if importlib.util.find_spec("apprise") is None:
        return f"{scheme}://…"
    with _quietly() as apprise:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"{scheme}://…"
    return str(plugin.url(privacy=True)).split("?", 1)[0]


class _Scrubber(logging.Filter):
    """Takes the secret parts of the URLs in use out of what apprise and urllib3 log."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.lock = threading.Lock()

    def remember(self, urls: Sequence[str]) -> None:
        with self.lock:
            for url in urls:
                rest = url.split("://", 1)[-1]
                self.secrets.add(rest)
                self.secrets.update(p for p in re.split(r"[/:@?&=#,;]+", rest) if len(p) >= 4)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        with self.lock:
            secrets = sorted(self.secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, "…")
        record.msg, record.args = text, ()
        return True


_SCRUB = _Scrubber()
for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_SCRUB)


# -- delivery ---------------------------------------------------------------------------------


@contextmanager
def _quietly() -> Iterator[Any]:
    """The apprise module, its plugins loaded without their deprecation warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        yield apprise


def deliver(urls: Sequence[str], messages: Sequence[tuple[str, str]], timeout: float) -> bool:
    """Send every message to every URL; ``False`` (logged, redacted) when one failed."""
    ok = True
    for url in urls:
        with _quietly() as apprise:
            plugin = apprise.Apprise.instantiate(url)
            if plugin is None:
                log.error("apprise %s: not a URL apprise can use", redact(url))
                ok = False
                continue
            plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
            sender = apprise.Apprise()
            sender.add(plugin)
            for title, body in messages:
                if not sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT):
                    log.warning("apprise %s: the notification was not delivered", redact(url))
                    ok = False
    return ok


def _safely(urls: Sequence[str], messages: Sequence[tuple[str, str]], timeout: float) -> bool:
    """Deliver; ``False`` when it failed (the outbox keeps the events pending)."""
    try:
        return deliver(urls, messages, timeout)
    except Exception as exc:  # a notification must never take the sync down
        log.error("apprise: delivery failed: %s", type(exc).__name__)
        return False
