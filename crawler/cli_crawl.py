"""The crawling commands of the CLI: sources (and, with the sync issue, sync)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from crawler.source import Source, load_sources, seed_dirs


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("sources", parents=[common], help="list the sources that can be crawled")
    p.add_argument(
        "--seeds",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own seed files (also: <archive>/seeds)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sources)


def sources_for(args: argparse.Namespace) -> dict[str, Source]:
    """Built-in seeds, then $STATEMENTS_SEEDS, the archive's seeds/, and --seeds folders."""
    return load_sources(seed_dirs([Path(args.archive) / "seeds", *args.seeds]))


def cmd_sources(args: argparse.Namespace) -> int:
    sources = sources_for(args)
    if args.json:
        print(json.dumps([_source_json(s) for s in sources.values()], indent=2))
        return 0
    for s in sources.values():
        state = "" if s.enabled else "  (disabled)"
        print(f"{s.name:16} {s.origin:32} {', '.join(s.discovery) or 'no discovery'}{state}")
        print(f"{'':16} {s.title}  [{s.path}]")
    return 0


def _source_json(s: Source) -> dict[str, Any]:
    return {
        "name": s.name,
        "title": s.title,
        "origin": s.origin,
        "allowed_hosts": list(s.allowed_hosts),
        "enabled": s.enabled,
        "discovery": list(s.discovery),
        "timezone": s.timezone,
        "path": s.path,
        "rate": s.politeness.rate,
        "concurrency": s.politeness.concurrency,
    }
