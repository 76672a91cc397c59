"""``statements compare TARGET``: the website's text of an order against its official text.

TARGET names either side: a website's statement (a whitehouse.gov executive order) or its
official text (a Federal Register document). The two are linked by :func:`storage.links.link`
(by executive order number where both give it, else by title and signing date), which stores the
link in the index the first time; the official side is a statement of a source whose kind is
``federalregister``. The output is the word diff of ``statements diff`` (the same change model
and terminal renderer, :mod:`storage.change`), from the website's words to the official ones.

TARGET may also be a correction, or a statement corrected (a UK Parliament written statement):
the two are linked at sync (``storage.links.link_corrections``) and compared the same way, from
the words corrected to the correction's.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from crawler.cli.args import count
from crawler.cli.common import open_archive, print_json, seeds_option, sources_for
from crawler.errors import SourceError
from storage import diff as wdiff
from storage.archive import Archive, stamp, utc_now
from storage.change import compare
from storage.document import Statement
from storage.errors import TargetError
from storage.index import LinkRow, StatementRow
from storage.links import CORRECTION, link

#: The kind of source whose statements are official texts.
OFFICIAL_KIND = "federalregister"


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "compare",
        parents=[common, seeds_option()],
        help="a website's text against its official text",
    )
    p.add_argument("target", metavar="TARGET", help="either side: URL, archive path or slug")
    p.add_argument("--context", type=count(0), default=8, help="words of context around a change")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(handler=cmd_compare)


def official_sources(args: argparse.Namespace) -> list[str]:
    """The names of the sources whose kind gives official texts (the built-in one if the seeds
    cannot be read)."""
    try:
        sources = sources_for(args)
    except SourceError:
        return [OFFICIAL_KIND]
    return [s.name for s in sources.values() if s.kind == OFFICIAL_KIND] or [OFFICIAL_KIND]


def cmd_compare(args: argparse.Namespace) -> int:
    with open_archive(args) as archive:
        row = archive.resolve(args.target)
        links = link(archive, row, official_sources(args), stamp(utc_now()))
        if not links:
            raise TargetError(
                "no official text is linked to it, and none was found",
                where=row.url,
                hint="an order is linked to its Federal Register document by executive order"
                " number, or by title and signing date: run 'statements sync federalregister'",
            )
        chosen = links[-1]
        website = archive.index.by_id(chosen.website_id)
        official = archive.index.by_id(chosen.official_id)
        before, after = _latest(archive, website), _latest(archive, official)
    change = compare(Statement({}, before.body), Statement({}, after.body))
    if args.json:
        print_json(
            {
                "website": _side(website),
                "official": _side(official),
                "link": {"basis": chosen.basis, "key": chosen.key, "linked_at": chosen.linked_at},
                "body": wdiff.chunks_as_json(change.chunks, args.context),
                "added": change.added,
                "removed": change.removed,
            }
        )
        return 0
    style = wdiff.ANSI if _colour(args.color) else wdiff.PLAIN
    first, second, words = _labels(chosen)
    width = max(len(first), len(second)) + 1
    print(f"{first:<{width}}{website.title}\n{'':{width}}{website.url}")
    print(f"{second:<{width}}{official.title}\n{'':{width}}{official.url}")
    print(f"linked by {_basis(chosen)}; {words}:")
    for line in change.terminal(args.context, style):
        print(line)
    return 0


def _latest(archive: Archive, row: StatementRow) -> Statement:
    return archive.statement(archive.revision(row, None))


def _side(row: StatementRow) -> dict[str, Any]:
    return {"url": row.url, "path": row.path, "title": row.title, "source": row.source}


def _labels(chosen: LinkRow) -> tuple[str, str, str]:
    """The names of the two sides, and of the direction of the diff."""
    if chosen.basis == CORRECTION:
        return "corrected:", "correction:", "from the words corrected to the correction's"
    return "website:", "official:", "from the website's words to the official text's"


def _basis(chosen: LinkRow) -> str:
    if chosen.basis == CORRECTION:
        return f"the publisher's correction link of {chosen.key}"
    if chosen.basis == "executive_order_number":
        return f"executive order number {chosen.key}"
    return f"title and signing date {chosen.key}"


def _colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ
