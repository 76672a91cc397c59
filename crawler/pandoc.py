"""The pandoc engine: HTML to the archive's Markdown (and back, for the fixture site), many
documents per process.

pandoc comes from the ``pypandoc_binary`` wheel, so nothing needs a system install. Starting one
pandoc process per page is what bounds a naive pipeline; here a batch of documents goes through
one process, split apart again on a separator paragraph no document contains, and batches run in
parallel processes. Each document's output is identical to converting it alone (tested).
``--sandbox`` keeps pandoc from reading files or the network (it would otherwise fetch an
``<iframe src>`` and inline it).

pandoc's format names live here only: :class:`Pandoc` is the :class:`crawler.convert.Converter`
registered as ``pandoc``; a seed may set its :class:`PandocOptions` in ``[convert.pandoc]``.
Its first step is the native writer (:mod:`crawler.markdown`): a body it writes exactly as
pandoc does skips pandoc (~30 ms of CPU each); the rest go to pandoc, batched, as before.
``native = false`` turns that off. What the native writer refuses (of a page read from its tree,
only the blocks it refuses: on the fixture site's real pages, 1.4 MB of 14.4 MB of body HTML)
goes to one pandoc process at a time, whatever the threads converting: a pandoc process takes
100-170 MB, and two at once beside the sync break the memory bound of a sync (300 MB; 327 MB
measured at 2,125 pages), while one keeps up with the rest of the pipeline.
"""

from __future__ import annotations

import logging
import re
import secrets
import subprocess
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from crawler.errors import ConvertError
from crawler.markdown import Partial, element_to_partial, to_markdown

log = logging.getLogger(__name__)

#: Held while pandoc converts what the native writer refused (see the module docstring).
_LEFTOVERS = threading.Lock()

#: The archive's body format: pandoc's markdown_strict at 72 columns, pandoc 2 list style.
MARKDOWN = "markdown_strict+four_space_rule"


@cache
def pandoc_path() -> str:
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError) as exc:  # pragma: no cover - depends on the install
        raise ConvertError(
            f"pandoc is not available ({exc})", hint="pip install pypandoc_binary"
        ) from None


#: pandoc's Haskell runtime options. The wheel's binary suggests itself a 64 MB heap (-H64m),
#: which every process fills; a smaller one keeps a 10-page batch near 40 MB instead of 70 MB
#: (two run at once beside the sync), for a little more garbage collecting.
RTS = ("+RTS", "-H32m", "-RTS")


@cache
def rts_options() -> tuple[str, ...]:
    """:data:`RTS` if this pandoc takes them (one built without ``-rtsopts`` refuses), else none."""
    done = subprocess.run([pandoc_path(), *RTS, "--version"], capture_output=True, check=False)
    return RTS if done.returncode == 0 else ()


@cache
def pandoc_version() -> str:
    out = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def _run(text: str, reader: str, writer: str, timeout: float) -> str:
    command = [pandoc_path(), *rts_options(), "--sandbox", "-f", reader, "-t", writer]
    try:
        done = subprocess.run(
            command, input=text.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ConvertError(f"pandoc took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConvertError(f"pandoc failed: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8")


def convert(text: str, reader: str = "html", writer: str = MARKDOWN, timeout: float = 60) -> str:
    """Convert one document."""
    return _run(text, reader, writer, timeout)


def convert_many(
    texts: Sequence[str],
    reader: str = "html",
    writer: str = MARKDOWN,
    *,
    jobs: int = 2,
    batch: int = 50,
    timeout: float = 120,
) -> list[str]:
    """Convert many documents, ``batch`` per pandoc process, ``jobs`` processes at a time."""
    if not texts:
        return []
    groups = [list(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = pool.map(lambda g: _convert_group(g, reader, writer, timeout), groups)
        return [out for group in results for out in group]


def _convert_group(texts: list[str], reader: str, writer: str, timeout: float) -> list[str]:
    """The documents converted in one pandoc process, but those it would write otherwise in a
    batch (:func:`_writes_ids`), each converted alone."""
    alone = [reader.startswith("html") and _writes_ids(t) for t in texts]
    out = [
        _run(t, reader, writer, timeout) if a else None for t, a in zip(texts, alone, strict=True)
    ]
    rest = [t for t, o in zip(texts, out, strict=True) if o is None]
    batched = iter(_convert_batch(rest, reader, writer, timeout))
    return [next(batched) if o is None else o for o in out]


#: A heading in a table or a figure: pandoc's HTML reader gives it an id unique in the document,
#: the batch's other documents included, and the Markdown writer writes it, as HTML. (Coarse: both
#: tags anywhere in the document.)
_IDS = re.compile(r"<h[1-6][\s>]", re.I), re.compile(r"<(?:table|figure)[\s>]", re.I)


def _writes_ids(text: str) -> bool:
    return all(pattern.search(text) for pattern in _IDS)


def _convert_batch(texts: list[str], reader: str, writer: str, timeout: float) -> list[str]:
    if len(texts) <= 1:
        return [_run(t, reader, writer, timeout) for t in texts]
    token = f"SPLIT{secrets.token_hex(8).upper()}X"
    if any(token in t for t in texts):  # pragma: no cover - 64 random bits
        return [_run(t, reader, writer, timeout) for t in texts]
    mark = "\n<p>{}</p>\n" if reader.startswith("html") else "\n\n{}\n\n"
    joined = "".join(t + mark.format(f"{token}{i:06d}") for i, t in enumerate(texts))
    output = _run(joined, reader, writer, timeout)
    parts = _split(output, token, len(texts))
    if parts is None:
        # A document swallowed or moved a separator (broken markup): convert each alone instead.
        log.debug("batch of %d did not split back; converting one by one", len(texts))
        return [_run(t, reader, writer, timeout) for t in texts]
    return [_tidy(p, first=i == 0) for i, p in enumerate(parts)]


def _split(output: str, token: str, count: int) -> list[str] | None:
    """The batch's output cut at its separators, or None unless they are all there, in order.

    A separator is a line of its own, matched exactly: ``\\s`` would also eat the lines of NBSPs
    (or other Unicode spaces) a document begins or ends with, and an indented separator is one a
    document swallowed (an unclosed list), which must not split.
    """
    pattern = re.compile(rf"^(?:<p>)?{token}(\d{{6}})(?:</p>)?\n", re.M)
    pieces = pattern.split(output + "\n")
    numbers, parts, rest = pieces[1::2], pieces[0:-1:2], pieces[-1]
    if numbers != [f"{i:06d}" for i in range(count)] or rest.strip("\n"):
        return None
    return parts


def _tidy(part: str, *, first: bool) -> str:
    """A document's output cut out of the batch's: less the blank line the separator before it
    leaves (a document's own blank first line stays: a code block may begin with one), ended as
    pandoc ends every output, an empty one too."""
    if not first and part.startswith("\n"):
        part = part[1:]
    return part.rstrip("\n") + "\n"


@dataclass(frozen=True)
class PandocOptions:
    """A seed's ``[convert.pandoc]``: pandoc's reader and writer formats, and ``native``: whether
    the bodies :mod:`crawler.markdown` writes exactly as pandoc (plain ones) skip pandoc (only
    with the default formats, the ones it reproduces)."""

    reader: str = "html"
    writer: str = MARKDOWN
    native: bool = True


@dataclass(frozen=True)
class Pandoc:
    """pandoc as a :class:`crawler.convert.Converter`."""

    options: PandocOptions = field(default_factory=PandocOptions)
    name: str = "pandoc"

    def convert(self, html: str) -> str:
        native = self._native(html)
        if native is not None:
            return native
        with self._leftovers():
            return convert(html, self.options.reader, self.options.writer)

    def convert_many(self, htmls: Sequence[str], *, jobs: int = 2) -> list[str]:
        """The bodies the native writer takes, written by it; the others by pandoc, batched."""
        done = [self._native(html) for html in htmls]
        rest = [html for html, out in zip(htmls, done, strict=True) if out is None]
        if not rest:
            return [out for out in done if out is not None]  # not waiting for the lock for nothing
        if self._writes_natively():
            jobs = 1  # one pandoc process at a time for what the native writer refuses
        with self._leftovers():
            written = convert_many(rest, self.options.reader, self.options.writer, jobs=jobs)
        converted = iter(written)
        return [next(converted) if out is None else out for out in done]

    def _leftovers(self) -> AbstractContextManager[object]:
        """Held while pandoc converts: the lock that lets one pandoc process at a time convert
        what the native writer refused; nothing when every body goes to pandoc."""
        return _LEFTOVERS if self._writes_natively() else nullcontext()

    def _writes_natively(self) -> bool:
        options = self.options
        return options.native and (options.reader, options.writer) == ("html", MARKDOWN)

    def _native(self, html: str) -> str | None:
        return to_markdown(html) if self._writes_natively() else None

    def write_element(
        self, element: Any, *, skip: Collection[Any], strip: Sequence[str]
    ) -> str | Partial | None:
        """A body written by the native writer from the page's tree, all of it or all but the
        top-level blocks it refuses (for pandoc, each alone), or None (see
        :class:`crawler.convert.WritesElements`)."""
        if not self._writes_natively():
            return None
        return element_to_partial(element, skip=skip, strip=strip)
