"""Audit a WordPress source through its REST API: the whole archive in about 1% of the requests.

WordPress's REST API (``/wp-json/wp/v2/posts``) lists up to 100 posts a request with their
``id``, ``link``, ``modified_gmt``, ``title.rendered`` and ``content.rendered``. An audit of a
source whose seed turns it on (``[wordpress] api``) reads every page of it (:func:`read_posts`)
and compares each post with what was recorded at the last check (the index's ``api_posts``):

- a post whose content fingerprint (the words of ``content.rendered``), title or modified time
  differs is fetched as a page, so the archive's bytes still come from the page exactly as
  without the API; a changed fingerprint with an unchanged modified time is a silent-edit
  candidate, which the page confirms or not;
- a post that was in the API at the last check and is no longer is re-checked as a page (one
  request): a 404 or 410 marks it removed, within the source's ``max_removed_share``;
- a post seen for the first time (no row yet) is fetched as a page when it was modified after
  the statement's last check, or when its words or title are not those of the statement's
  latest revision in the archive (:func:`agrees`); else it is taken as the baseline of its
  statement. Taking the API on trust there would hide for good an edit made after the page was
  last fetched and before the first audit (the fingerprint would start from the edited words and
  never move again); fetching every page instead would make the first audit cost a request per
  statement. The revision is what the page showed at its last check, so comparing words costs no
  request, and only posts that differ (an edit, or Markdown the comparison cannot see through:
  3 of the corpus's 2,125 current statements on the fixture site) are fetched; the page then
  records the edit, or confirms the baseline. Both sides are read the same way
  (:func:`reading`): their letters and digits in order, Markdown's syntax (list numbers, link
  destinations, escapes, emphasis) left out, since spacing and punctuation differ between the
  two renderings. So an edit of punctuation or spacing alone made before the first audit is not
  seen by the comparison: the page sweep (:func:`crawler.wpaudit.rotation`) re-checks that
  statement's page in its turn;
- the API's ``id`` is the statement's stable id there (kept in ``api_posts``).

Trust is earned (:func:`self_check`): before an audit relies on the API, the content of a few
recent posts must have the words of their page's body; it is checked again whenever a post's
fingerprint and its page disagree (:func:`disagreements`). An API that answers 401, 403 or 404,
or fails, or does not track its pages, makes the audit fall back to pages as before; the state
(``wp_api:<source>`` in the index's settings: ``trusted`` or ``fallback`` and why) is shown by
``statements status`` and, when it changes, in the sync summary.

:func:`compare` and :func:`disagreements` are pure; :func:`read_posts` and :func:`self_check`
take the fetcher; :class:`crawler.syncer.Syncer` runs the audit (``_api_audit``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from html import unescape
from typing import Any

from bs4 import BeautifulSoup, Tag
from lxml import etree

from crawler.errors import FetchError, Stopped
from crawler.fetch import Fetcher
from crawler.source import Source
from storage.diff import HTML_ELEMENTS, visible
from storage.index import ApiPost, FetchState

PER_PAGE = 100  # WordPress's most
FIELDS = "id,link,date_gmt,modified_gmt,title,content"
DISABLED = frozenset({401, 403, 404})
#: A page's body may hold a little more than the post's content (a share block, a byline).
MIN_COVER = 0.9
_PARSER = etree.HTMLParser()  # plain elements: lxml.html's element classes cost more than parsing


class ApiUnavailable(Exception):
    """The API cannot be used for this audit; the message says why, for people."""


@dataclass(frozen=True)
class Post:
    """One post as the API gives it (times as the API writes them, in UTC)."""

    post_id: str
    url: str
    title: str
    published: str | None
    modified: str | None
    content: str  # content.rendered: HTML

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.content)


def words(html: str) -> list[str]:
    """The words a reader sees in an HTML fragment (lxml: thousands of posts an audit)."""
    if not html.strip():
        return []
    root = etree.fromstring(f"<div>{html}</div>", _PARSER)
    etree.strip_elements(root, etree.Comment, "script", "style", with_tail=False)
    return " ".join(root.itertext()).split()


def fingerprint(html: str) -> str:
    """SHA-256 of the content's words: markup and wrapping do not move it, a word does."""
    return hashlib.sha256(" ".join(words(html)).encode("utf-8")).hexdigest()


# -- comparing a post with the archive's latest revision -------------------------------------

# A Markdown list item's marker ("-", "*", "+", "1.", "2)"), after any blockquote marks.
_ITEM = re.compile(r"^[ \t>]*(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)")
_NUMBER = re.compile(r"^([ \t>]*)\d{1,9}[.)](?=[ \t]|$)")
# The canonical HTML tags :func:`storage.diff.visible` writes for links, images and raw HTML.
_TAG = re.compile(rf"</?(?:{'|'.join(sorted(HTML_ELEMENTS))})(?=[\s/>])[^<>]*>", re.I)
_NOT_ALNUM = re.compile(r"[\W_]+")


def reading(text: str) -> str:
    """The letters and digits of a text, in order: what a post's content and an archived body
    must share to be taken as the same. Spacing and punctuation are left out, as the two
    renderings differ there (an inline element splits a word in ``words``; Markdown escapes,
    emphasis and rules)."""
    return _NOT_ALNUM.sub("", text)


def content_reading(html: str) -> str:
    """The :func:`reading` of a post's ``content.rendered`` (HTML)."""
    return reading(" ".join(words(html)))


def body_reading(markdown: str) -> str:
    """The :func:`reading` of an archived Markdown body: the numbers of ordered list items,
    link and image syntax and raw HTML tags left out (a link's text stays, its destination
    goes, as in the HTML), character references read."""
    return reading(unescape(_TAG.sub(" ", visible(_unnumbered(markdown)))))


def _unnumbered(markdown: str) -> str:
    """Markdown without the numbers of its ordered list items (``<ol>`` shows them, but not as
    text): a number opens an item only after a blank line, an item or an indented line, not
    in a wrapped paragraph ("... in\\n2025. The ...")."""
    lines = markdown.split("\n")
    out = []
    for before, line in zip(["", *lines], lines, strict=False):
        if not before.strip() or before[:1] in " \t" or _ITEM.match(before):
            line = _NUMBER.sub(r"\1", line, count=1)
        out.append(line)
    return "\n".join(out)


def agrees(post: Post, title: str, body: str) -> bool:
    """Whether a post has the words and title of a statement's revision (``body`` Markdown)."""
    if reading(post.title) != reading(title):
        return False
    return content_reading(post.content) == body_reading(body)


# -- reading the API --------------------------------------------------------------------------


def page_url(source: Source, page: int) -> str:
    query = f"per_page={PER_PAGE}&page={page}&orderby=id&order=asc&_fields={FIELDS}"
    return f"{source.absolute(source.wordpress.endpoint)}?{query}"


def read_posts(
    fetcher: Fetcher, source: Source, stop: Callable[[], bool] = lambda: False
) -> list[Post]:
    """Every post, in pages of 100 (``X-WP-TotalPages`` says how many); statement URLs only.
    :class:`ApiUnavailable` when the API is disabled, fails, or answers what is not posts."""
    posts: list[Post] = []
    page, pages = 1, 1
    while page <= pages:
        if stop():
            raise Stopped("asked to stop", url=page_url(source, page))
        try:
            reply = fetcher.get(page_url(source, page), accept="application/json")
        except Stopped:
            raise
        except FetchError as exc:
            raise ApiUnavailable(f"the API failed: {exc.message}") from None
        if reply.status in DISABLED:
            raise ApiUnavailable(f"the API answers HTTP {reply.status}")
        if reply.status == 400 and page > 1:
            break  # fewer pages than said when it started: posts were taken down meanwhile
        if reply.status != 200:
            raise ApiUnavailable(f"the API answers HTTP {reply.status}")
        posts += parse_page(reply.content, source)
        pages = _total_pages(reply.headers.get("x-wp-totalpages"), page)
        page += 1
    return posts


def _total_pages(value: str | None, page: int) -> int:
    try:
        return int(value or page)
    except ValueError:
        raise ApiUnavailable(f"the API's X-WP-TotalPages is not a number ({value!r})") from None


def parse_page(content: bytes, source: Source) -> list[Post]:
    """The posts of one API reply whose link is a statement URL of the source."""
    try:
        data = json.loads(content)
    except ValueError:
        raise ApiUnavailable("the API does not answer JSON") from None
    if not isinstance(data, list):
        raise ApiUnavailable("the API does not answer a list of posts")
    posts = []
    for item in data:
        post = _post(item)
        if post is None:
            raise ApiUnavailable("the API answers posts without id, link or content")
        if source.statement_match(post.url):
            posts.append(post)
    return posts


def _post(item: Any) -> Post | None:
    if not isinstance(item, dict):
        return None
    link, title, content = item.get("link"), item.get("title"), item.get("content")
    rendered = content.get("rendered") if isinstance(content, dict) else None
    if not isinstance(item.get("id"), int) or not isinstance(link, str):
        return None
    if not isinstance(rendered, str):
        return None
    text = title.get("rendered") if isinstance(title, dict) else None
    title_text = " ".join(words(text)) if isinstance(text, str) and text else ""
    published, modified = item.get("date_gmt"), item.get("modified_gmt")
    return Post(
        str(item["id"]),
        link,
        title_text,
        published if isinstance(published, str) else None,
        modified if isinstance(modified, str) else None,
        rendered,
    )


# -- comparing with the last check ----------------------------------------------------------


@dataclass
class Audit:
    """What an API read means against the last check: ``fetch`` (post, statement id, silent)
    as pages; ``baseline``, rows to keep as they are; ``missing``, rows no longer in the API;
    ``covered``, the statement ids the API lists."""

    fetch: list[tuple[Post, int, bool]] = field(default_factory=list)
    baseline: list[ApiPost] = field(default_factory=list)
    missing: list[ApiPost] = field(default_factory=list)
    covered: set[int] = field(default_factory=set)
    moved_words: set[int] = field(default_factory=set)  # fingerprint not as last checked
    unmoved: set[int] = field(default_factory=set)  # fingerprint as last checked
    unlike: set[int] = field(default_factory=set)  # first seen, not as the archive has it

    @property
    def silent(self) -> int:
        return sum(1 for _, _, silent in self.fetch if silent)


def compare(
    posts: Iterable[Post],
    recorded: Mapping[str, ApiPost],
    state_of: Callable[[str], FetchState | None],
    checked: str,
    agree: Callable[[Post, int], bool],
) -> Audit:
    """Sort the posts read against the rows recorded at the last check (see the module);
    ``agree(post, statement id)``: whether a post seen for the first time has the words and
    title of the statement's latest revision (:func:`agrees`)."""
    audit = Audit()
    seen: set[str] = set()
    for post in posts:
        seen.add(post.post_id)
        row = recorded.get(post.post_id)
        state = state_of(post.url)
        statement_id = state.statement_id if state else row.statement_id if row else None
        if statement_id is None:
            continue  # not archived: discovery's to find
        audit.covered.add(statement_id)
        if row is None:
            if state is not None and _after(post.modified, state.last_checked):
                audit.fetch.append((post, statement_id, False))
            elif not agree(post, statement_id):
                audit.unlike.add(statement_id)
                audit.fetch.append((post, statement_id, False))
            else:
                audit.baseline.append(as_row(post, statement_id, checked))
        elif (row.fingerprint, row.title, row.modified) != (
            post.fingerprint,
            post.title,
            post.modified,
        ) or (state is None or state.statement_id != row.statement_id):
            silent = row.fingerprint != post.fingerprint and row.modified == post.modified
            audit.fetch.append((post, row.statement_id, silent))
        if row is not None:
            moved = row.fingerprint != post.fingerprint
            (audit.moved_words if moved else audit.unmoved).add(row.statement_id)
    audit.missing = [row for post_id, row in recorded.items() if post_id not in seen]
    return audit


def as_row(post: Post, statement_id: int, checked: str) -> ApiPost:
    return ApiPost(post.post_id, statement_id, post.fingerprint, post.title, post.modified, checked)


def _after(modified: str | None, last_checked: str | None) -> bool:
    """Whether the post was modified after the statement's last check (never checked: yes)."""
    if last_checked is None:
        return True
    if modified is None:
        return False
    try:
        when = dt.datetime.fromisoformat(modified)
        checked = dt.datetime.fromisoformat(last_checked)
    except ValueError:
        return True
    when = when if when.utcoffset() is not None else when.replace(tzinfo=dt.UTC)
    return when > checked


def disagreements(audit: Audit, changed: set[int], answered: set[int]) -> list[int]:
    """Statements whose fingerprint and page disagree: their fingerprint moved but their page,
    fetched (``answered``), recorded no change of its words (not in ``changed``); or their page
    changed words while their fingerprint did not move."""
    odd = (audit.moved_words & answered) - changed
    return sorted(odd | (changed & audit.unmoved))


# -- trust --------------------------------------------------------------------------------------


def page_words(page: str | bytes, source: Source) -> list[str]:
    """The words of a page's body, as the seed's selectors cut it."""
    selectors = source.selectors.article if source.selectors else None
    soup = BeautifulSoup(page, "lxml")
    body = soup.select_one(selectors.body) if selectors else soup.body
    if not isinstance(body, Tag):
        return []
    for selector in selectors.remove if selectors else ():
        for tag in body.select(selector):
            tag.decompose()
    return body.get_text(" ").split()


def tracks(post: Post, page: str | bytes, source: Source) -> bool:
    """Whether the post's content is the page's body: the same words, or a run of them that
    makes up nearly all of the body."""
    mine, theirs = words(post.content), page_words(page, source)
    if mine == theirs:
        return True
    if not mine or len(mine) < MIN_COVER * len(theirs):
        return False
    return f" {' '.join(mine)} " in f" {' '.join(theirs)} "


def self_check(
    fetcher: Fetcher, source: Source, posts: Sequence[Post], known: Callable[[str], bool]
) -> str | None:
    """None when the newest few archived posts' content has their page's words; else why not.
    A page that cannot be fetched is passed over; none fetched is no proof."""
    newest = sorted(posts, key=lambda p: (p.published or "", p.post_id), reverse=True)
    checked = 0
    for post in (p for p in newest if known(p.url)):
        if checked >= source.wordpress.self_check:
            break
        try:
            reply = fetcher.get(post.url)
        except Stopped:
            raise
        except FetchError:
            continue
        if reply.status != 200:
            continue
        checked += 1
        if not tracks(post, reply.html, source):
            return f"its content does not match the page's body ({post.url})"
    return None if checked else "no recent page could be compared with it"


@dataclass(frozen=True)
class Trust:
    """Whether audits use the API (``state``: ``trusted``, ``fallback``; ``unchecked`` before
    the first check and after a disagreement), why not, and since when."""

    state: str = "unchecked"
    why: str = ""
    at: str = ""

    @classmethod
    def load(cls, text: str | None) -> Trust:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(str(data["state"]), str(data.get("why", "")), str(data.get("at", "")))
        except (ValueError, KeyError, TypeError):
            return cls()

    def dump(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    def describe(self) -> str:
        """One line for people: how audits go."""
        if self.state == "fallback":
            return f"audit by pages: WordPress API not used ({self.why})"
        if self.state == "trusted":
            return "audit by the WordPress API"
        return "audit by the WordPress API once checked"


def trust_key(source: str) -> str:
    """The setting that keeps a source's :class:`Trust` (docs/index.md)."""
    return f"wp_api:{source}"
