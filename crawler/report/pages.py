"""The report's pages, rendered from plain values: no file, no archive, no clock.

Each function returns one complete HTML5 document (or the style sheet) as text. Every value that
comes from the archive (titles, bodies, URLs, paths, source names, failure reasons) is escaped
here or by :meth:`storage.change.Change.html`; nothing is trusted to be markup. Pages use no
JavaScript and no external resource: one shared style sheet, relative links only, so the folder
can be published on any static host (or opened from disk).

Accessibility: ``lang``, one ``h1`` per page, ``header``/``nav``/``main``/``footer`` landmarks, a
skip link, tables with header cells, and no meaning carried by colour alone: a silent edit, a
replaced document, a revert or a removal is a flag whose words say so, deleted and inserted
words are struck through and underlined, and screen readers hear where each begins and ends.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.diff import KINDS
from storage.index import EventRow, RevisionRow, StatementRow

#: The flags that must stand out, by kind, in the order they are shown.
FLAGS = {
    "silent": "Silent edit",
    "replaced": "Replaced document",
    "reverted": "Reverted",
    "flapping": "Flapping",
    "removed": "Removed",
}
#: What a statement, event or source without one is called (an imported statement).
NO_SOURCE = "imported"


@dataclass(frozen=True)
class Step:
    """One change event of a statement, with what its page shows of it."""

    event: EventRow
    html: str = ""  # the change as HTML (:meth:`storage.change.Change.html`), stored with it
    replaced: tuple[str, str, str, str] | None = None  # old (title, body), new (title, body)


@dataclass(frozen=True)
class Broken:
    """A source whose latest run found its discovery broken."""

    source: str
    since: str  # the first failed run of the current series
    last_ok: str | None  # the latest run that worked
    reason: str
    failed_runs: int


@dataclass(frozen=True)
class Site:
    """What every page needs to know: the options the report was made with."""

    title: str = "Changes"
    since: str | None = None
    sources: tuple[str, ...] = ()
    more: Mapping[str, Any] = field(default_factory=dict)


def e(value: object) -> str:
    """A value as HTML text: escaped, quotes included (safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def source_name(source: str | None) -> str:
    return source or NO_SOURCE


def source_file(source: str | None) -> str:
    """The page of a source, relative to the report's root (a safe file name, whatever the name)."""
    if source is None:
        return "sources/_imported.html"
    if re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,80}", source) and ".." not in source:
        return f"sources/{source}.html"
    return f"sources/_{''.join(f'{ord(c):x}' for c in source)[:120]}.html"


def statement_file(statement_id: int) -> str:
    return f"statements/{statement_id}.html"


# -- the frame --------------------------------------------------------------------------------


def layout(site: Site, title: str, body: str, depth: int = 0) -> str:
    """A whole page: head, skip link, navigation, ``main`` holding ``body`` (which opens with
    the page's one ``h1``), footer."""
    up = "../" * depth
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)} · {e(site.title)}</title>\n"
        f'<link rel="stylesheet" href="{up}style.css">\n</head>\n<body>\n'
        '<a class="skip" href="#main">Skip to the content</a>\n'
        '<header><nav aria-label="Report">'
        f'<a href="{up}index.html">Recent changes</a> '
        f'<a href="{up}broken.html">Broken discovery</a></nav></header>\n'
        f'<main id="main">\n{body}\n</main>\n'
        "<footer><p>Made by statement-sync from the archive's index"
        f"{_scope(site)}. Times are UTC.</p></footer>\n"
        "</body>\n</html>\n"
    )


def _scope(site: Site) -> str:
    parts = []
    if site.since:
        parts.append(f"changes since {e(site.since)}")
    if site.sources:
        parts.append("sources " + ", ".join(e(s) for s in site.sources))
    return f" ({'; '.join(parts)})" if parts else ""


def flags(kinds: Iterable[str]) -> str:
    """The flags of the kinds that must stand out, as words (colour only adds to them)."""
    return " ".join(
        f'<strong class="flag flag-{kind}">{e(label)}</strong>'
        for kind, label in FLAGS.items()
        if kind in kinds
    )


def kinds_cell(event: EventRow) -> str:
    words = f'<span class="kinds">{e(" ".join(event.kinds))}</span>'
    marks = flags(event.kinds)
    reverted = ""
    if event.reverted_at:
        reverted = f' <em class="flag flag-undone">undone {e(event.reverted_at)}</em>'
    return (marks + " " if marks else "") + words + reverted


def _time(value: str | None) -> str:
    """A time from the index: ``2026-03-01 12:03`` for a UTC one (the footer says UTC)."""
    if not value:
        return ""
    shown = value
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?\+00:00", value):
        shown = value[:16].replace("T", " ")
    return f'<time datetime="{e(value)}">{e(shown)}</time>'


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _table(caption: str, heads: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div class="wrap"><table>\n<caption>{caption}</caption>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>"
    )


def change_rows(events: Iterable[EventRow], depth: int) -> Iterator[list[str]]:
    """A row per change event: when, kinds (flags first), statement, source, words."""
    up = "../" * depth
    for ev in events:
        link = f"{up}{statement_file(ev.statement_id)}#event-{ev.id}"
        yield [
            _time(ev.at),
            kinds_cell(ev),
            f'<a href="{e(link)}">{e(ev.title) or "(untitled)"}</a>',
            f'<a href="{e(up + source_file(ev.source))}">{e(source_name(ev.source))}</a>',
            e(ev.size if ev.size is not None else ""),
        ]


CHANGE_HEADS = ("When", "Kinds", "Statement", "Source", "Words")


def counts_by_kind(events: Iterable[EventRow]) -> Counter[str]:
    return Counter(kind for ev in events for kind in ev.kinds)


def _kind_table(caption: str, counts: Counter[str]) -> str:
    rows = ([e(k), str(counts[k])] for k in KINDS if counts[k])
    return _table(caption, ("Kind", "Events"), rows)


def _source_table(changes: Sequence[EventRow]) -> str:
    """Changes by source (rows) and kind (columns), with counts."""
    by_source: dict[str | None, Counter[str]] = {}
    for ev in changes:
        by_source.setdefault(ev.source, Counter())["(all)"] += 1
        by_source[ev.source].update(ev.kinds)
    kinds = [k for k in KINDS if any(c[k] for c in by_source.values())]
    order = sorted(by_source, key=lambda s: (-by_source[s]["(all)"], source_name(s)))
    rows = (
        [f'<a href="{e(source_file(s))}">{e(source_name(s))}</a>', str(by_source[s]["(all)"])]
        + [str(by_source[s][k]) for k in kinds]
        for s in order
    )
    return _table("Changes by source and kind", ("Source", "Changes", *kinds), rows)


# -- the pages --------------------------------------------------------------------------------


def index_page(
    site: Site, changes: Sequence[EventRow], every: Sequence[EventRow], limit: int
) -> str:
    """Recent changes, newest first: counts by source and kind (of every event shown by the
    report, new statements included), then the latest ``limit`` changes."""
    statements = len({ev.statement_id for ev in changes})
    parts = [
        "<h1>Recent changes</h1>",
        f"<p>{plural(len(changes), 'change')} to {plural(statements, 'statement')}"
        f"{_scope(site)}. Flags mark what must stand out: "
        + ", ".join(e(label).lower() for label in FLAGS.values())
        + ".</p>",
        '<section aria-labelledby="by-source"><h2 id="by-source">By source and kind</h2>',
        _source_table(changes),
        "</section>",
        '<section aria-labelledby="by-kind"><h2 id="by-kind">By kind</h2>',
        _kind_table("Events by kind (a change can have several)", counts_by_kind(every)),
        "</section>",
        '<section aria-labelledby="latest"><h2 id="latest">Latest changes</h2>',
    ]
    shown = changes[:limit]
    if shown:
        parts.append(_table("Latest changes, newest first", CHANGE_HEADS, change_rows(shown, 0)))
    else:
        parts.append("<p>No changes.</p>")
    if len(changes) > limit:
        parts.append(f"<p>The latest {limit} of {len(changes)}; each source's page lists all.</p>")
    parts.append("</section>")
    return layout(site, "Recent changes", "\n".join(parts))


def source_page(site: Site, source: str | None, changes: Sequence[EventRow]) -> str:
    name = source_name(source)
    parts = [
        f"<h1>Source: {e(name)}</h1>",
        f"<p>{plural(len(changes), 'change')} to"
        f" {plural(len({ev.statement_id for ev in changes}), 'statement')}"
        + (" imported from files (no source)" if source is None else "")
        + ".</p>",
        '<section aria-labelledby="kinds"><h2 id="kinds">By kind</h2>',
        _kind_table(f"Events of {e(name)} by kind", counts_by_kind(changes)),
        "</section>",
        '<section aria-labelledby="changes"><h2 id="changes">Changes, newest first</h2>',
        _table(f"Changes of {e(name)}", CHANGE_HEADS, change_rows(changes, 1))
        if changes
        else "<p>No changes.</p>",
        "</section>",
    ]
    return layout(site, f"Source {name}", "\n".join(parts), depth=1)


def statement_page(
    site: Site,
    row: StatementRow,
    revisions: Sequence[RevisionRow],
    steps: Sequence[Step],
) -> str:
    """A statement: what it is, its revisions, then each change (newest first) with the field
    changes above the word diff; a replaced document shows both texts."""
    kinds = {ev.to_rev: ev.kinds for ev in (s.event for s in steps) if ev.to_rev is not None}
    parts = [
        f"<h1>{e(row.title) or '(untitled)'}</h1>",
        '<dl class="facts">',
        f"<dt>URL</dt><dd>{_url(row.url)}</dd>",
        f"<dt>File</dt><dd><code>{e(row.path)}</code></dd>",
        f'<dt>Source</dt><dd><a href="../{e(source_file(row.source))}">'
        f"{e(source_name(row.source))}</a></dd>",
        f"<dt>Status</dt><dd>{e(row.status)}</dd>",
        f"<dt>Published</dt><dd>{_time(row.published_time) or 'unknown'}</dd>",
        "</dl>",
        '<section aria-labelledby="history"><h2 id="history">History</h2>',
        _table(
            "Revisions, oldest first",
            ("Revision", "Seen", "Kinds", "Title"),
            (
                [str(r.number), _time(r.seen_at), e(" ".join(kinds.get(r.number, ()))), e(r.title)]
                for r in revisions
            ),
        ),
        "</section>",
        '<section aria-labelledby="changes"><h2 id="changes">Changes, newest first</h2>',
        *(_step(step) for step in reversed(steps)),
        "</section>",
    ]
    return layout(site, row.title or "(untitled)", "\n".join(parts), depth=1)


def _url(url: str) -> str:
    """A statement's URL: a link only when it is http(s) (a hostile ``javascript:`` stays text)."""
    if re.match(r"https?://", url, re.I):
        return f'<a href="{e(url)}" rel="nofollow noopener">{e(url)}</a>'
    return f"<code>{e(url)}</code>"


def _step(step: Step) -> str:
    ev = step.event
    span = (
        f"revision {ev.from_rev} → {ev.to_rev}"
        if ev.from_rev and ev.to_rev
        else (f"revision {ev.to_rev}" if ev.to_rev else f"after revision {ev.from_rev}")
    )
    head = f'<h3 id="event-{ev.id}">{e(span.capitalize())}, {_time(ev.at)}</h3>'
    lines = [f'<article class="step" aria-labelledby="event-{ev.id}">', head]
    lines.append(f'<p class="meta">{kinds_cell(ev)}</p>')
    if step.replaced is not None:
        lines.append(_both_texts(*step.replaced))
    if step.html:
        lines.append(f'<div class="diff">{step.html}</div>')
    lines.append("</article>")
    return "\n".join(lines)


def _both_texts(old_title: str, old_body: str, new_title: str, new_body: str) -> str:
    def side(label: str, title: str, body: str) -> str:
        return (
            f'<section class="side"><h4>{label}: {e(title)}</h4>'
            f'<div class="text">{e(body)}</div></section>'
        )

    return (
        '<div class="both">'
        + side("The document replaced", old_title, old_body)
        + side("The document now at this URL", new_title, new_body)
        + "</div>"
    )


def broken_page(site: Site, broken: Sequence[Broken], runs: int) -> str:
    parts = ["<h1>Broken discovery</h1>"]
    if not broken:
        parts.append(f"<p>No source's discovery is broken ({plural(runs, 'run')} recorded).</p>")
    else:
        parts.append(
            f"<p>{plural(len(broken), 'source')} found nothing where statements were found before "
            "(markup changed?). Their latest runs failed:</p>"
        )
        parts.append(
            _table(
                "Sources whose discovery broke",
                ("Source", "Failing since", "Failed runs", "Last good run", "Reason"),
                (
                    [
                        f'<strong class="flag flag-broken">Broken</strong> {e(b.source)}',
                        _time(b.since),
                        str(b.failed_runs),
                        _time(b.last_ok) or "never",
                        e(b.reason),
                    ]
                    for b in broken
                ),
            )
        )
    return layout(site, "Broken discovery", "\n".join(parts))


STYLE = """\
:root { --fg: #1b1b1b; --bg: #fff; --muted: #595959; --del: #ffe0e0; --ins: #ddf4dd;
  --flag: #7a3e00; --flagbg: #fff2d6; --line: #ccc; --link: #0b57b0; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 0 1rem 2rem; font: 1rem/1.5 system-ui,
  sans-serif; color: var(--fg); background: var(--bg); overflow-wrap: break-word; }
a { color: var(--link); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; z-index: 1; }
header nav { display: flex; flex-wrap: wrap; gap: 1rem; padding: .75rem 0;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; line-height: 1.25; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
caption { text-align: left; color: var(--muted); }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid var(--line); }
.flag { display: inline-block; padding: 0 .35rem; border: 1px solid var(--flag);
  color: var(--flag); background: var(--flagbg); border-radius: .25rem; font-size: .85rem; }
.flag::before { content: "⚑ "; }
.kinds { color: var(--muted); }
td time { white-space: nowrap; }
del { background: var(--del); text-decoration: line-through; }
ins { background: var(--ins); text-decoration: underline; }
del + ins { margin-left: .2em; }
del::before, del::after, ins::before, ins::after { position: absolute; width: 1px; height: 1px;
  overflow: hidden; clip-path: inset(100%); white-space: nowrap; }
del::before { content: " [deleted: "; } ins::before { content: " [inserted: "; }
del::after, ins::after { content: "] "; }
.step { border-top: 1px solid var(--line); padding-top: .5rem; margin-top: 1rem; }
.hunks li { margin-bottom: .5rem; }
.facts dt { font-weight: bold; } .facts dd { margin: 0 0 .5rem; }
.fields dt { font-weight: bold; } .fields dd { margin: 0 0 .5rem 1rem; }
.both { display: grid; grid-template-columns: 1fr; gap: 1rem; }
.text { white-space: pre-wrap; font-size: .9rem; max-height: 40rem; overflow: auto;
  border: 1px solid var(--line); padding: .5rem; }
@media (min-width: 48rem) { .both { grid-template-columns: 1fr 1fr; } }
footer { margin-top: 2rem; color: var(--muted); font-size: .9rem; }
"""
