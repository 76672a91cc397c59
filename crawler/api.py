"""The public Python API of the crawler: :func:`sync`, the run ``statements sync`` makes.

There is one code path: ``statements sync`` is a thin adapter over :func:`sync`, and :func:`sync`
over :func:`crawler.jobs.run_sync` (the scheduler's too), which takes the archive's lock,
finishes what a killed writer left, adopts a folder of archive files on first use, syncs each
source, records the run and announces the changes. Reading the archive is
:class:`storage.Archive`'s (docs/python.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from crawler.config import load_config
from crawler.errors import SourceError
from crawler.jobs import FetchSettings, RunResult, run_sync
from crawler.source import Source, load_sources, seed_dirs
from crawler.syncer import SyncOptions
from storage.archive import Archive


def sync(
    archive: Archive | Path | str,
    sources: Iterable[str | Source] | str | Source | None = None,
    *,
    full: bool = False,
    since: dt.datetime | None = None,
    audit: int = 0,
    dry_run: bool = False,
    base_url: str | None = None,
    confirm_removals: bool = False,
    commit: bool = False,
    seeds: Iterable[Path | str] = (),
    rate: float | None = None,
    concurrency: int | None = None,
    user_agent: str | None = None,
    wait: float = 0.0,
    stop: Callable[[], bool] = lambda: False,
    progress_for: Callable[[str], Any] | None = None,
    index: str | None = None,
) -> RunResult:
    """Bring an archive (its folder, or an open :class:`Archive`'s) up to date with its sources.

    ``sources`` are names or :class:`Source` objects; ``None`` syncs every enabled source of the
    built-in seeds, ``$STATEMENTS_SEEDS``, the archive's ``seeds/`` and ``seeds`` folders. An
    unknown name, or no source at all, raises :class:`SourceError`; a busy archive
    :class:`storage.lock.ArchiveLocked` (after ``wait`` seconds). ``base_url`` sends every
    request to another origin (a mirror, the fixture site); ``since`` (a time with a zone; a
    naive one is UTC) limits a sync to what was published since. The result says what each
    source's sync found; ``result.exit_code`` is what ``statements sync`` would exit with.
    ``index`` names a shared index (``postgresql://...``) in place of ``index`` in the
    archive's ``statements.toml`` (an open :class:`Archive` gives its own).
    """
    root = archive.root if isinstance(archive, Archive) else Path(archive)
    if index is None and isinstance(archive, Archive):
        index = archive.locator
    chosen = choose_sources(_available(root, seeds), sources)
    options = SyncOptions(
        full=full,
        since=since if since is None or since.tzinfo else since.replace(tzinfo=dt.UTC),
        dry_run=dry_run,
        audit=audit,
        confirm_removals=confirm_removals,
    )
    return run_sync(
        root,
        chosen,
        options,
        FetchSettings(base_url, rate, concurrency, user_agent),
        config=load_config(root, index),
        commit=commit,
        wait=wait,
        stop=stop,
        progress_for=progress_for,
    )


def _available(root: Path, seeds: Iterable[Path | str]) -> dict[str, Source]:
    """Built-in seeds, then $STATEMENTS_SEEDS, the archive's seeds/, and ``seeds`` folders."""
    return load_sources(seed_dirs([root / "seeds", *map(Path, seeds)]))


def choose_sources(
    available: Mapping[str, Source], wanted: Iterable[str | Source] | str | Source | None
) -> list[Source]:
    """The sources to sync: those ``wanted`` (names looked up in ``available``), or every
    enabled one when ``wanted`` is ``None``."""
    if isinstance(wanted, str | Source):
        wanted = [wanted]
    if wanted is None:
        enabled = [s for s in available.values() if s.enabled]
        if not enabled:  # a sync of nothing is no success: an install without its seeds?
            raise SourceError(
                "no source to sync: no enabled seed file was found",
                hint="see 'statements sources'; add seed files with --seeds DIR",
            )
        return enabled
    chosen = [_named(available, w) for w in wanted]
    if not chosen:
        raise SourceError("no source to sync: none was named", hint="None syncs every source")
    return chosen


def _named(available: Mapping[str, Source], wanted: str | Source) -> Source:
    if isinstance(wanted, Source):
        return wanted
    if wanted not in available:
        raise SourceError(f"no source named {wanted!r}", hint=f"known: {', '.join(available)}")
    return available[wanted]
