"""The ``git`` announcer: every sync that changed files becomes one commit.

This is how the public archive is published; the tool does it itself with ``--commit`` (or
``commit = true`` in ``statements.toml``). The index (``.statements/``) is kept out of git. The
message names what changed (never a reformat alone); a git that fails is the outcome's problem,
logged, never a failed sync (the files are recorded either way).
"""

from __future__ import annotations

import logging
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.announce.base import Announcer, Outcome, Run, register
from crawler.config import ArchiveConfig
from storage.archive import Recorded
from storage.errors import ArchiveError
from storage.importer import statement_files
from storage.index import QUIET_KINDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GitCommit:
    """The ``git`` announcer: on with ``commit = true`` (or ``statements sync --commit``)."""

    name: str = "git"

    def announce(self, run: Run) -> Outcome:
        events = run.events
        statements = run.archive.index.count_statements() if events else 0
        head = commit(run.archive.root, events, statements=statements)
        news = [e for e in events if set(e.kinds) - set(QUIET_KINDS)]
        return Outcome(self.name, len(news) if head else 0, head)


@register("git")
def from_config(config: ArchiveConfig) -> Sequence[Announcer]:
    return [GitCommit()] if config.commit else []


IDENTITY = ["-c", "user.name=statement-sync", "-c", "user.email=statement-sync@localhost"]


def commit_message(events: Sequence[Recorded], limit: int = 3, *, holds: int = 0) -> str:
    """'3 new, 1 updated: <titles>' for the events of one sync.

    A repository's first commit is named after what it holds (``holds``: '63 statements').
    An event that only reformatted a file is never mentioned; a commit of nothing else says so.
    A revert counts as 'reverted', whatever else changed with it.
    """
    if holds:
        return f"{holds} statement{'s' if holds != 1 else ''}"
    news = [e for e in events if set(e.kinds) - set(QUIET_KINDS)]
    if not news:
        return f"{len(events)} reformatted, no words changed"
    counts: Counter[str] = Counter()
    for event in news:
        counts["reverted" if "reverted" in event.kinds else event.kinds[0]] += 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    titles = "; ".join(e.title for e in news[:limit])
    more = f" and {len(news) - limit} more" if len(news) > limit else ""
    return f"{summary}: {titles}{more}"


def commit(root: Path, events: Sequence[Recorded], *, statements: int | None = None) -> str | None:
    """Commit what a sync changed; the new commit's id, or ``None`` when nothing changed.

    ``statements``: how many the archive holds, for the name of a first commit (default: its
    statement files counted).
    """
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
    holds = 0
    if not _has_commits(root):
        holds = len(statement_files(root)) if statements is None else statements
    _git(root, *IDENTITY, "commit", "-q", "-m", commit_message(events, holds=holds))
    return _git(root, "rev-parse", "HEAD").strip()


def _has_commits(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "-q", "HEAD")
    except ArchiveError:
        return False
    return True


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
