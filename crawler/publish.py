"""Publishing an archive with git: every sync that changed files becomes one commit.

This is how the public archive is published; the tool does it itself with ``--commit`` (or
``commit = true`` in ``statements.toml``). The index (``.statements/``) is kept out of git.
"""

from __future__ import annotations

import logging
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from storage.archive import Recorded
from storage.errors import ArchiveError

log = logging.getLogger(__name__)

IDENTITY = ["-c", "user.name=statement-sync", "-c", "user.email=statement-sync@localhost"]


def commit_message(events: Sequence[Recorded], limit: int = 3) -> str:
    """'3 new, 1 updated: <titles>' for the events of one sync."""
    counts: Counter[str] = Counter()
    for event in events:
        counts[event.kinds[0]] += 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    titles = "; ".join(e.title for e in events[:limit])
    more = f" and {len(events) - limit} more" if len(events) > limit else ""
    return f"{summary}: {titles}{more}"


def commit(root: Path, events: Sequence[Recorded]) -> str | None:
    """Commit what a sync changed; the new commit's id, or ``None`` when nothing changed."""
    if not events:
        return None
    if not (root / ".git").exists():
        _git(root, "init", "-q")
    ignore = root / ".gitignore"
    if not ignore.exists() or ".statements/" not in ignore.read_text(encoding="utf-8"):
        with ignore.open("a", encoding="utf-8") as handle:
            handle.write(".statements/\n")
    _git(root, "add", "-A", "--", ".")
    if _git(root, "status", "--porcelain").strip() == "":
        return None
    _git(root, *IDENTITY, "commit", "-q", "-m", commit_message(events))
    return _git(root, "rev-parse", "HEAD").strip()


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=120
        )
    except FileNotFoundError:
        raise ArchiveError("git is not installed", hint="install git, or drop --commit") from None
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise ArchiveError(
            f"git {args[0]} failed: {message[-1] if message else exc.returncode}", where=str(root)
        ) from None
    return done.stdout
