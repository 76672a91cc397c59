"""The static HTML report: ``statements report`` and the regeneration after each sync.

A folder of plain HTML pages (no server, no JavaScript) that can be published next to the git
archive: an index of recent changes (``index.html``), one page per changed statement
(``statements/<id>.html``: its history and the word diff of each change), one per source
(``sources/<name>.html``) and the sources whose discovery broke (``broken.html``).

- :mod:`crawler.report.pages`: the pure core, plain values in, HTML text out, every value escaped;
- :mod:`crawler.report.site`: the thin shell that reads the archive, decides which pages a new
  sync touched (a manifest in the output folder) and writes only those.

``[report]`` in ``statements.toml`` (:class:`crawler.config.ReportConfig`) regenerates it after
every sync (:func:`after_sync`, called by :mod:`crawler.jobs`); a report that fails is logged and
never fails the sync.
"""

from __future__ import annotations

import logging
from pathlib import Path

from crawler.config import ReportConfig
from crawler.report.site import Written, generate
from storage.archive import Archive

__all__ = ["Written", "after_sync", "generate", "output_folder"]

log = logging.getLogger("crawler.report")


def output_folder(archive: Archive, config: ReportConfig) -> Path:
    """Where the report goes: ``out``, relative to the archive unless absolute."""
    return archive.root / Path(config.out).expanduser()


def after_sync(archive: Archive, config: ReportConfig) -> Written | None:
    """Bring the report up to date after a sync, if enabled; never raises."""
    if not config.enabled:
        return None
    try:
        return generate(archive, output_folder(archive, config), sources=config.sources)
    except Exception as exc:  # a report must never fail the sync
        log.error("report: could not write the report: %s", exc)
        log.debug("report failed", exc_info=True)
        return None
