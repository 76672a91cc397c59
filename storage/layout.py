"""Where a statement's file goes inside the archive: pure functions, no I/O.

The default layout is the public archive's own, ``<tags>/<YYYY-MM>/<YYYY-MM-DD>-<slug>.md``, so a
checkout of it can be adopted in place. Every part that comes from a URL or a title is sanitised:
the result is always a relative path that stays inside the archive.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from storage.document import Statement
from storage.errors import DocumentError, PathError

#: The archive's own folder (index, lock, temporary files), never a statement's path.
STATE_DIR = ".statements"
DEFAULT_LAYOUT = "{tags}/{yyyy}-{mm}/{date}-{slug}.md"
LAYOUT_FIELDS = frozenset({"tags", "yyyy", "mm", "dd", "date", "slug"})
#: Longest slug kept whole, in UTF-8 bytes (file names stay well under the usual 255).
MAX_SLUG_BYTES = 200
MAX_PART_BYTES = 100

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UNSAFE = re.compile(r"[^\w.%\-]+")
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)


def slug_from_url(url: str) -> str:
    """The last non-empty segment of a URL's path, unsanitised (``''`` when there is none)."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return parts[-1] if parts else ""


def sanitize(text: str, limit: int = MAX_SLUG_BYTES, fallback: str = "statement") -> str:
    """A safe single path segment: no separators, no ``..``, no control characters, capped."""
    cleaned = unicodedata.normalize("NFC", text)
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch)[0] != "C")
    cleaned = _UNSAFE.sub("-", cleaned)
    cleaned = re.sub(r"\.{2,}", ".", cleaned).strip(".-_")
    if not cleaned or cleaned.lower().split(".")[0] in _WINDOWS_RESERVED:
        cleaned = f"{fallback}-{cleaned}".rstrip("-.")
    encoded = cleaned.encode("utf-8")
    if len(encoded) > limit:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        cut = encoded[: limit - len(digest) - 1].decode("utf-8", "ignore").rstrip("-.")
        cleaned = f"{cut}-{digest}"
    return cleaned


def path_for(statement: Statement, layout: str = DEFAULT_LAYOUT) -> str:
    """The archive-relative path (POSIX) for a statement under a layout template."""
    date = statement.date
    match = _DATE.match(date)
    if not match:
        raise PathError(
            f"date {date!r} is not YYYY-MM-DD",
            where=_where(statement),
            hint="the front matter needs a 'date' like 2025-03-14",
        )
    yyyy, mm, dd = match.groups()
    url_slug = slug_from_url(_where(statement))
    values = {
        "tags": sanitize(statement.tags or "uncategorized", MAX_PART_BYTES, "tag"),
        "yyyy": yyyy,
        "mm": mm,
        "dd": dd,
        "date": date,
        "slug": sanitize(url_slug or statement.title),
    }
    try:
        relative = layout.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise PathError(
            f"layout {layout!r} is not valid ({exc})",
            hint=f"use the fields {', '.join(sorted(LAYOUT_FIELDS))}",
        ) from None
    return check_relative(relative)


def check_relative(relative: str) -> str:
    """Refuse a path that is absolute, empty, or climbs out of the archive."""
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or any(p in ("..", ".", "") for p in path.parts):
        raise PathError(f"path {relative!r} would leave the archive")
    if path.parts[0] == STATE_DIR or "\\" in relative or "\x00" in relative:
        raise PathError(f"path {relative!r} is not allowed in the archive")
    return path.as_posix()


def disambiguate(relative: str, url: str) -> str:
    """Another path for a statement whose natural path is taken by a different statement."""
    path = PurePosixPath(relative)
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return path.with_name(f"{path.stem}-{digest}{path.suffix}").as_posix()


def _where(statement: Statement) -> str:
    try:
        return statement.source_url
    except DocumentError:
        return ""
