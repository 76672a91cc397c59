"""The ``statements`` command line, one module per group of commands.

- :mod:`crawler.cli.main`: the parser, and the one place that maps exceptions to exit codes;
- :mod:`crawler.cli.args`: the option types (every value checked before any work starts);
- :mod:`crawler.cli.common`: what several commands share (opening an archive, ``--json``
  output, ``--wait``, ``--since``/``--until``, sources and fetch settings);
- :mod:`crawler.cli.archive`, :mod:`~crawler.cli.crawl`, :mod:`~crawler.cli.sync`,
  :mod:`~crawler.cli.schedule`: the commands. They import from ``args`` and ``common``, never
  from each other.

``pyproject.toml`` names ``crawler.cli:entry`` as the ``statements`` script.
"""

from __future__ import annotations

from crawler.cli.main import build_parser, entry, main

__all__ = ["build_parser", "entry", "main"]
