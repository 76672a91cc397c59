"""Statement documents: YAML front matter plus a Markdown body, read and written byte-exactly.

The archive format (see ``seeds/README.md``) is::

    ---\\n
    <yaml.dump(meta, Dumper=SafeDumper, sort_keys=False, default_flow_style=False)>
    ---\\n
     \\n            (one line holding a single space)
    <Markdown body>

:func:`loads` and :func:`dumps` are pure and inverse of each other on every file of the public
archive. YAML is only ever read with a safe loader.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import yaml
from frontmatter.default_handlers import YAMLHandler

from storage.errors import DocumentError

# libyaml reads the same values as the pure-Python loader, several times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Front matter is split, loaded and exported through python-frontmatter's YAML handler, with the
# public archive's dump settings: the pure-Python SafeDumper (libyaml folds long titles
# differently), keys in the given order, block style, non-ASCII escaped.
_HANDLER = YAMLHandler(fm_boundary=re.compile(r"^---\n", re.MULTILINE))
_DUMP_SETTINGS: dict[str, Any] = {
    "Dumper": yaml.SafeDumper,
    "sort_keys": False,
    "default_flow_style": False,
    "allow_unicode": False,
}

# The fast path of dump_meta: libyaml's emitter, where it writes what SafeDumper writes.
_CDumper: Any = getattr(yaml, "CSafeDumper", None)
_SCALARS = (str, int, bool, dt.date, dt.datetime, type(None))
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ENTRY = re.compile(r"\n(?! )")  # a line not indented starts an entry
_FOLD_WIDTH = 80  # the emitters' default width

OPENER = "---\n"
SEPARATOR = " \n"

#: The key order of the reference document and of the public archive's files before April 2022.
REFERENCE_ORDER: tuple[str, ...] = (
    "tags",
    "date",
    "modified_time",
    "source_url",
    "published_time",
    "title",
)
#: Older names some early files used for the same keys.
KEY_ALIASES: Mapping[str, str] = MappingProxyType({"permalink": "source_url", "category": "tags"})

KeyOrder = Literal["reference", "alphabetical", "custom"]
KEY_ORDERS: tuple[KeyOrder, ...] = ("reference", "alphabetical")


@dataclass(frozen=True)
class Statement:
    """One statement: its front matter (in file order) and its Markdown body."""

    meta: Mapping[str, Any]
    body: str
    # The exact YAML text the front matter was read from, when it was read from a file.
    _front_matter: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def _get(self, key: str) -> Any:
        if key in self.meta:
            return self.meta[key]
        for alias, canonical in KEY_ALIASES.items():
            if canonical == key and alias in self.meta:
                return self.meta[alias]
        return None

    @property
    def source_url(self) -> str:
        value = self._get("source_url")
        if not isinstance(value, str) or not value:
            raise DocumentError("front matter has no source_url", hint="every statement needs one")
        return value

    @property
    def title(self) -> str:
        value = self._get("title")
        return "" if value is None else str(value)

    @property
    def tags(self) -> str:
        value = self._get("tags")
        if isinstance(value, list):
            return str(value[0]) if value else ""
        return "" if value is None else str(value)

    @property
    def date(self) -> str:
        value = self._get("date")
        if isinstance(value, dt.date):
            return value.isoformat()
        return "" if value is None else str(value)

    @property
    def published_time(self) -> dt.datetime | None:
        return _as_datetime(self._get("published_time"))

    @property
    def modified_time(self) -> dt.datetime | None:
        return _as_datetime(self._get("modified_time"))

    @property
    def key_order(self) -> KeyOrder:
        return detect_key_order(self.meta)

    def replace(self, *, body: str | None = None, **meta: Any) -> Statement:
        """A copy with some front-matter values or the body changed; key order is kept."""
        merged = dict(self.meta)
        merged.update(meta)
        return Statement(merged, self.body if body is None else body)

    def front_matter(self) -> str:
        """The YAML text of the front matter, without the ``---`` lines."""
        if self._front_matter is not None:
            return self._front_matter
        return dump_meta(self.meta)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def claims_front_matter(head: str | bytes) -> bool:
    """Whether a file's first bytes open front matter, as a statement file's do. Other files in
    an archive folder (a README, a licence, notes) are not statements, and not problems either."""
    if isinstance(head, bytes):
        head = head[:5].decode("utf-8", "replace")
    return head.startswith((OPENER, "---\r\n"))


def split(text: str) -> tuple[str, str]:
    """Split a file's text into its YAML front matter and its body.

    python-frontmatter's handler splits, on the archive's boundary (a line that is exactly
    ``---``); its default boundary also takes the white space around the lines, which the
    archive keeps byte for byte.
    """
    if not text.startswith(OPENER):
        raise DocumentError("not a statement file: the first line is not '---'")
    try:
        front_matter, body = _HANDLER.split(text)
    except ValueError:  # fewer than two boundary lines
        raise DocumentError("the front matter has no closing '---' line") from None
    if body.startswith(SEPARATOR):
        body = body[len(SEPARATOR) :]
    return front_matter, body


def load_meta(front_matter: str) -> dict[str, Any]:
    """Read front matter with a safe loader; it must be a mapping with string keys."""
    try:
        meta = _safe_load(front_matter)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(f"the front matter is not valid YAML{line}: {problem}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) for k in meta):
        raise DocumentError("the front matter is not a mapping of names to values")
    return meta


def _safe_load(front_matter: str) -> Any:
    try:
        return _HANDLER.load(front_matter, Loader=_Loader)
    except yaml.YAMLError:
        if _Loader is yaml.SafeLoader:
            raise
    # libyaml refuses some escapes the pure loader reads (a lone surrogate, "\uD800").
    return _HANDLER.load(front_matter, Loader=yaml.SafeLoader)


def loads(text: str) -> Statement:
    """Parse a statement file's text. ``dumps(loads(text)) == text`` for archive files."""
    front_matter, body = split(text)
    return Statement(load_meta(front_matter), body, front_matter)


def dump_meta(meta: Mapping[str, Any]) -> str:
    """The YAML text of front matter, as the archive writes it (see the module docstring)."""
    fast = _dumped_fast(meta)
    if fast is not None:
        return fast
    try:
        # The handler strips the dump's final newline; the archive's front matter ends in one.
        return _HANDLER.export(dict(meta), **_DUMP_SETTINGS) + "\n"
    except yaml.YAMLError as exc:
        raise DocumentError(f"the front matter cannot be written as YAML: {exc}") from None


def _dumped_fast(meta: Mapping[str, Any]) -> str | None:
    """SafeDumper's text, mostly written by libyaml (several times faster), or None.

    The two emitters write a scalar alike but fold a long one differently, and folding happens
    only where a line passes 80 columns at a space or (double-quoted) after an escape. So for
    front matter of plain keys and scalar values, each ``key: value`` entry libyaml writes on
    one line that cannot fold is kept, and the others are written by SafeDumper alone: an entry
    of a block mapping is written the same alone as among others. Tested against SafeDumper on
    every file of the public archive and on hostile values (tests/test_document.py).
    """
    if _CDumper is None or not meta:
        return None
    if not all(type(v) in _SCALARS and _plain_key(k) for k, v in meta.items()):
        return None
    try:
        text = yaml.dump(dict(meta), **{**_DUMP_SETTINGS, "Dumper": _CDumper})
        entries = _ENTRY.split(text.removesuffix("\n"))
        if len(entries) != len(meta):
            return None
        return "".join(
            entry + "\n" if _unfolded(key, entry) else yaml.dump({key: value}, **_DUMP_SETTINGS)
            for (key, value), entry in zip(meta.items(), entries, strict=True)
        )
    except (yaml.YAMLError, UnicodeEncodeError):  # libyaml refuses a lone surrogate
        return None


def _plain_key(key: object) -> bool:
    """A short name: SafeDumper writes a key past 122 characters as ``? key``, libyaml does not."""
    return isinstance(key, str) and len(key) <= 64 and _PLAIN_KEY.match(key) is not None


def _unfolded(key: str, entry: str) -> bool:
    """Whether SafeDumper writes this one-line entry so too: it fits, or has nowhere to fold."""
    if len(entry) <= _FOLD_WIDTH:
        return "\n" not in entry
    value = entry[len(key) + 2 :]
    return "\n" not in entry and " " not in value and not value.startswith(("'", '"'))


def dumps(statement: Statement) -> str:
    """The file text of a statement, in the archive format."""
    return OPENER + dump_meta(statement.meta) + OPENER + SEPARATOR + statement.body


def detect_key_order(keys: Iterable[str]) -> KeyOrder:
    """Which archive key order a file's keys follow (``custom`` when neither)."""
    names = list(keys)
    if names == _reference_subsequence(names):
        return "reference"
    if names == sorted(names):
        return "alphabetical"
    return "custom"


def _reference_subsequence(names: list[str]) -> list[str]:
    known = [k for k in REFERENCE_ORDER if k in names]
    return known + [k for k in names if k not in REFERENCE_ORDER]


def order_meta(
    meta: Mapping[str, Any], order: KeyOrder, like: Iterable[str] = ()
) -> dict[str, Any]:
    """Put front-matter keys in an archive key order.

    ``custom`` keeps the order of ``like`` (an existing file's keys) and appends the rest.
    """
    if order == "alphabetical":
        names = sorted(meta)
    elif order == "reference":
        names = _reference_subsequence(list(meta))
    else:
        first = [k for k in like if k in meta]
        names = first + [k for k in meta if k not in first]
    return {k: meta[k] for k in names}


def new_statement(
    *,
    title: str,
    source_url: str,
    tags: str,
    published_time: dt.datetime,
    body: str,
    modified_time: dt.datetime | None = None,
    order: KeyOrder = "reference",
    extra: Mapping[str, Any] | None = None,
) -> Statement:
    """A new statement with the archive's conventions: aware datetimes, ``date`` as text."""
    for name, value in (("published_time", published_time), ("modified_time", modified_time)):
        if value is not None and value.utcoffset() is None:
            raise DocumentError(f"{name} {value.isoformat()} has no time zone", where=source_url)
    meta: dict[str, Any] = {
        "tags": tags,
        "date": published_time.date().isoformat(),
        "source_url": source_url,
        "published_time": published_time,
        "title": title,
    }
    if modified_time is not None:
        meta["modified_time"] = modified_time
    if extra:
        meta.update(extra)
    return Statement(order_meta(meta, order), body)
