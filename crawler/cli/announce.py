"""``statements announce``: deliver the alerts still pending, without syncing.

Every event is written with a pending announcement per configured announcer (the outbox,
:mod:`crawler.announce.outbox`); a sync delivers them at its end. This command does that step
alone: after a sync that was killed, or when a webhook receiver was down. It prints one line per
announcer and exits 1 while something is still pending.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from crawler.announce.outbox import Announced, announce_pending
from crawler.cli.common import add_wait
from crawler.config import load_config


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "announce",
        parents=[common],
        help="deliver the alerts still pending (after a killed sync, a receiver that was down)",
        description="Deliver what each announcer of statements.toml has not delivered yet.",
    )
    p.add_argument(
        "--commit", action="store_true", help="the git announcer too: commit the changed files"
    )
    add_wait(p, 0.0)
    p.add_argument("--json", action="store_true", help="print what was done as one JSON object")
    p.set_defaults(handler=cmd_announce)


def cmd_announce(args: argparse.Namespace) -> int:
    root = Path(args.archive)
    config = load_config(root, args.index)
    done = announce_pending(
        root, dataclasses.replace(config, commit=args.commit or config.commit), wait=args.wait
    )
    if args.json:
        print(json.dumps(as_json(done), indent=2))
    else:
        for line in lines(done):
            print(line)
    return done.exit_code


def as_json(done: Announced) -> dict[str, Any]:
    return {
        "announcers": [
            {
                "name": k,
                "delivered": done.delivered.get(k, 0),
                "pending": n,
                "attempts": t,
                "error": e,
            }
            for k, (n, t, e) in done.left.items()
        ]
    }


def lines(done: Announced) -> list[str]:
    """One line per announcer: what it delivered now, what it still has pending and why."""
    out = []
    for k, (n, tries, error) in done.left.items():
        line = f"{k}: {done.delivered.get(k, 0)} delivered"
        if n:
            line += f", {n} still pending ({tries} attempts; {error or 'not tried yet'})"
        out.append(line)
    return out or ["no announcer is configured"]
