"""An archive's own settings: ``<archive>/statements.toml`` (optional).

::

    commit = true                      # every sync that changed files is a git commit
    index = "postgresql://db.example/statements"   # a shared index (docs/team.md); default:
                                       # the archive's own .statements/index.sqlite

    [schedule.whitehouse]              # overrides the seed file's [schedule]
    every = "30m"
    audit = 100

    [alerts.atom]                      # <archive>/changes.atom, on by default
    entries = 200
    kinds = ["updated", "retitled", "silent"]

    [[alerts.webhooks]]
    url = "https://example.org/hooks/statements"
    secret_env = "STATEMENTS_WEBHOOK_SECRET"   # or secret_file; never on the command line
    kinds = ["updated", "silent"]
    sources = ["whitehouse"]
    min_change = 3                     # words added or removed

    [[alerts.apprise]]                 # needs the extra: pip install 'statement-sync[apprise]'
    url_env = "STATEMENTS_APPRISE_URLS"        # or url_file, or urls = ["slack://${SLACK_TOKENS}"]
    kinds = ["updated", "retitled", "removed"]

    [report]                           # a static HTML report, brought up to date after each sync
    out = "report"                     # relative to the archive; enabled = false turns it off
    sources = ["whitehouse"]           # only these sources' changes (default: all)

``commit``, ``[alerts.atom]``, ``[[alerts.webhooks]]`` and ``[[alerts.apprise]]`` are the configs
of the announcers ``git``, ``atom``, ``webhooks`` and ``apprise`` (:mod:`crawler.announce`),
whose factories read them from :class:`ArchiveConfig`; an announcer to come adds its table under
``[alerts]`` here. ``[report]`` configures the HTML report (:mod:`crawler.report`). ``index``
(``--index`` wins) names where the index is (:mod:`storage.locator`), never with a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from crawler.errors import SourceError
from crawler.source import Schedule
from crawler.tomlconfig import Context, build, read_toml
from storage.diff import KINDS
from storage.errors import ArchiveError
from storage.locator import check_locator

CONFIG_NAME = "statements.toml"


@dataclass(frozen=True)
class AtomAlert:
    enabled: bool = True
    path: str = "changes.atom"
    entries: int = 200
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    min_change: int = 0


@dataclass(frozen=True)
class WebhookAlert:
    url: str
    secret_env: str = ""
    secret_file: str = ""
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    min_change: int = 0
    timeout: float = 10.0
    attempts: int = 3


@dataclass(frozen=True)
class AppriseAlert:
    """Notifications through apprise (Slack, Matrix, e-mail...): its URLs carry secrets, so
    they come from the environment (``url_env``), a file (``url_file``, one a line) or
    ``urls`` whose ``${VAR}`` parts the environment fills in; never the command line."""

    urls: tuple[str, ...] = ()
    url_env: str = ""
    url_file: str = ""
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    min_change: int = 0
    timeout: float = 10.0  # seconds to connect and to read, per service


@dataclass(frozen=True)
class Alerts:
    atom: AtomAlert = field(default_factory=AtomAlert)
    webhooks: tuple[WebhookAlert, ...] = ()
    apprise: tuple[AppriseAlert, ...] = ()


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: present, it is on (``enabled = false`` turns it off); absent, off."""

    enabled: bool = True
    out: str = "report"
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArchiveConfig:
    commit: bool = False
    index: str = ""  # "": the archive's SQLite file; "postgresql://...": a shared database
    schedule: Mapping[str, Schedule] = field(default_factory=dict)
    alerts: Alerts = field(default_factory=Alerts)
    report: ReportConfig = field(default_factory=lambda: ReportConfig(enabled=False))


def load_config(archive_root: Path, index: str | None = None) -> ArchiveConfig:
    """The archive's settings; the defaults when it has no ``statements.toml``. ``index``
    (``--index``) replaces the file's ``index``."""
    path = archive_root / CONFIG_NAME
    config = ArchiveConfig()
    if path.exists():
        data, ctx = read_toml(path, SourceError)
        config = build(ArchiveConfig, data, ctx)
        _check(config, ctx)
        _check_index(config.index, ctx)
    return config if index is None else replace(config, index=index)


def _check_index(index: str, ctx: Context) -> None:
    try:
        check_locator(index)
    except ArchiveError as exc:
        raise ctx.invalid("index", exc.message + (f" ({exc.hint})" if exc.hint else "")) from None


def _check(config: ArchiveConfig, ctx: Context) -> None:
    alerts: list[tuple[str, AtomAlert | WebhookAlert | AppriseAlert]] = [
        ("alerts.atom", config.alerts.atom)
    ]
    alerts += [(f"alerts.webhooks[{i}]", hook) for i, hook in enumerate(config.alerts.webhooks)]
    alerts += [(f"alerts.apprise[{i}]", a) for i, a in enumerate(config.alerts.apprise)]
    for key, alert in alerts:
        unknown = [k for k in alert.kinds if k not in KINDS]
        if unknown:
            raise ctx.fail(f"{key}.kinds", f"kinds among {', '.join(KINDS)}", unknown[0])
        if alert.min_change < 0:
            raise ctx.fail(f"{key}.min_change", "0 or more", alert.min_change)
    if not config.report.out.strip():
        raise ctx.fail("report.out", "a folder (relative to the archive, or absolute)", "")
    for i, hook in enumerate(config.alerts.webhooks):
        if urlsplit(hook.url).scheme not in ("http", "https"):
            raise ctx.fail(f"alerts.webhooks[{i}].url", "an http(s) URL", hook.url)
        if hook.attempts < 1 or hook.timeout <= 0:
            raise ctx.fail(f"alerts.webhooks[{i}].attempts", "1 or more, and a timeout above 0")
    for i, notify in enumerate(config.alerts.apprise):
        if not (notify.urls or notify.url_env or notify.url_file):
            raise ctx.fail(f"alerts.apprise[{i}].urls", "urls, url_env or url_file")
        if notify.timeout <= 0:
            raise ctx.fail(f"alerts.apprise[{i}].timeout", "a number above 0", notify.timeout)
