"""The crawling commands of the CLI: sources, fetch and discover, each through the source's kind
(:mod:`crawler.kinds`)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crawler.cli.common import crawl_options, named_sources, seeds_option, sources_for
from crawler.errors import FetchError, NotAStatement, UsageError
from crawler.fetch import Fetcher, make_client
from crawler.kinds.base import Fetched, Parsed, kind_of
from crawler.source import Source
from crawler.walk import discover
from storage.document import dumps

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    crawling = crawl_options()
    p = sub.add_parser("sources", parents=[common, seeds_option()], help="list the sources")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sources)

    p = sub.add_parser(
        "fetch",
        parents=[common, crawling],
        help="fetch one statement page and print its archive file",
    )
    p.add_argument("url", metavar="URL", help="the statement's real URL")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_fetch)

    p = sub.add_parser(
        "discover", parents=[common, crawling], help="list what a source's discovery finds"
    )
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("--full", action="store_true", help="walk every listing page")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_discover)


@contextmanager
def fetcher_for(args: argparse.Namespace, source: Source) -> Iterator[Fetcher]:
    with make_client(user_agent=args.user_agent, timeout=source.politeness.timeout) as client:
        yield Fetcher(
            client, source, base_url=args.base_url, rate=args.rate, concurrency=args.concurrency
        )


def source_of(args: argparse.Namespace, name: str | None = None, url: str | None = None) -> Source:
    sources = sources_for(args)
    if name is not None:
        return named_sources(sources, [name])[0]
    for source in sources.values():
        if url is not None and source.statement_match(url):
            return source
    raise UsageError(
        "no source has statements at this URL", where=url, hint="see 'statements sources'"
    )


def cmd_fetch(args: argparse.Namespace) -> int:
    source = source_of(args, url=args.url)
    kind = kind_of(source.kind)  # what the source serves, and where a statement is fetched
    url = kind.fetch_url(source, args.url)
    with fetcher_for(args, source) as fetcher:
        response = fetcher.get(url, page=None if url == args.url else args.url)
    if response.status != 200:
        raise FetchError(f"answered HTTP {response.status}", url=url, status=response.status)
    refused = kind.refuse(response)
    if refused is not None:
        raise NotAStatement(refused, url=url)
    (parsed,) = kind.extract([Fetched(args.url, response)], source)
    if not isinstance(parsed, Parsed):
        raise parsed
    statement = parsed.statement
    if args.json:
        meta = {k: str(v) if not isinstance(v, str) else v for k, v in statement.meta.items()}
        out = {"source": source.name, "meta": meta, "body": statement.body}
        print(json.dumps({**out, "stable_id": parsed.stable_id}, indent=2))
    else:
        sys.stdout.write(dumps(statement))
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    source = source_of(args, name=args.source)
    with fetcher_for(args, source) as fetcher:
        found = discover(fetcher, source, full=args.full)
    items = sorted(
        found.found.values(), key=lambda f: f.published or f.lastmod or _EPOCH, reverse=True
    )
    if args.json:
        print(
            json.dumps(
                [
                    {
                        **dataclasses.asdict(f),
                        "published": f.published and f.published.isoformat(),
                        "lastmod": f.lastmod and f.lastmod.isoformat(),
                    }
                    for f in items
                ],
                indent=2,
            )
        )
    else:
        for f in items:
            when = (f.published or f.lastmod or _EPOCH).isoformat()
            print(f"{when}  {f.via:16} {f.url}")
        print(f"{len(items)} statements found ({fetcher.stats.requests} requests)")
    for failure in found.failures:
        print(f"statements: {failure}", file=sys.stderr)
    return 1 if found.failures else 0


def cmd_sources(args: argparse.Namespace) -> int:
    sources = sources_for(args)
    if args.json:
        print(json.dumps([_source_json(s) for s in sources.values()], indent=2))
        return 0
    width = max((len(s.name) for s in sources.values()), default=0)
    for s in sources.values():
        state = "" if s.enabled else "  (disabled)"
        found = ", ".join(s.discovery) or "no discovery"
        print(f"{s.name:{width}}  {s.kind}: {found}{state}")
        print(f"{'':{width}}  {s.origin}  {s.title}")
        print(f"{'':{width}}  [{s.path}]")
    return 0


def _source_json(s: Source) -> dict[str, Any]:
    return {
        "name": s.name,
        "kind": s.kind,
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
