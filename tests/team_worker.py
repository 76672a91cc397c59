"""A team worker for the tests, in a process of its own: ``python -m tests.team_worker SPEC``.

``SPEC`` is a JSON file: the archive, the index URL, a seeds folder (its sources only: no
built-in seed, so no request can leave the machine), each source's loopback publisher
(``base_urls``), the rate, ``once``, the sweep interval and ``stalled_after``. The worker is
:func:`crawler.team.run_worker`, as ``statements worker`` runs it; only the per-source publisher
differs (the command line has one ``--base-url`` for all).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from crawler.config import load_config
from crawler.jobs import FetchSettings
from crawler.source import load_sources
from crawler.team import Team, run_worker


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    root = Path(spec["archive"])
    crew = Team(
        root,
        load_config(root, spec["index"]),
        load_sources([Path(spec["seeds"])]),
        FetchSettings(rate=spec.get("rate")),
        stalled_after=spec.get("stalled_after", 30.0),
        base_urls=spec["base_urls"],
    )
    run_worker(
        crew,
        spec["index"],
        once=spec.get("once", False),
        sweep_every=spec.get("sweep", "30s"),
        reconnect=1.0,
        name=spec.get("name"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
