"""Publishing files from the index: each statement's file written as its latest revision says.

A single user's sync writes a statement's file as it records the revision (through the file
journal, :mod:`storage.journal`). Workers of a team (:mod:`crawler.team`) record into the shared
database only (``Archive.files = False``), so that they need not share the archive folder; one
publish job on the machine that holds the folder then writes the files from the database:
:func:`publish_files`.

What it writes is what the index holds: the exact text of each statement's latest revision
(``Archive.revision(row).text``, the same text a single user's sync writes), at the statement's
path. It is incremental and idempotent: a manifest in the folder (``.statements/published.json``,
path -> content hash of the text last written there) says what is already published, so a
publish reads every statement's head hash from the index (one query), and writes only where the
hash moved. A file the manifest does not know (written by a single user's sync, or by a publish
killed before it saved the manifest) is compared by content: equal, it is only noted; else
written. Each file is written atomically; the manifest after the files, so a publish killed
midway writes again, next time, at most what it had not noted.

Events are not the trigger: with workers side by side, event ids are handed out in insert order,
not commit order, so "events after the last one published" could skip one that committed late.
Head hashes have no such gap.
"""

from __future__ import annotations

import json
from pathlib import Path

from storage.archive import Archive, content_hash
from storage.atomic import write_atomic
from storage.layout import STATE_DIR

MANIFEST = "published.json"


def publish_files(archive: Archive) -> int:
    """Write the files whose latest revision is not yet published; return how many."""
    path = archive.root / STATE_DIR / MANIFEST
    manifest = _load(path)
    written = 0
    changed = False
    for statement_id, relative, digest in archive.index.heads():
        if manifest.get(relative) == digest:
            continue
        target = archive.file(relative)
        if _digest_of(target) != digest:
            row = archive.index.by_id(statement_id)
            write_atomic(target, archive.revision(row).text.encode("utf-8"))
            written += 1
        manifest[relative] = digest
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(manifest, sort_keys=True).encode("utf-8"))
    return written


def _load(path: Path) -> dict[str, str]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: every file is compared by content
    return value if isinstance(value, dict) else {}


def _digest_of(path: Path) -> str | None:
    try:
        return content_hash(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
