"""The saved real pages (``../shared/pages/whitehouse.gov-2025``) cut into templates with named
holes, once per process: the article page, the listing page, one listing item, the pagination.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from tests.fixture_site.content import ARTICLE_PAGE, LISTING_PAGE

_HOLE = re.compile(r"@@(\w+)@@")


def _hole(name: str) -> str:
    return f"@@{name}@@"


class _Template:
    """Markup with named holes, split once so that rendering is a single join."""

    def __init__(self, markup: str) -> None:
        self._parts = _HOLE.split(markup)

    def render(self, **values: str) -> str:
        parts = list(self._parts)
        parts[1::2] = [values[name] for name in self._parts[1::2]]
        return "".join(parts)


@dataclass(frozen=True)
class _Templates:
    article: _Template
    listing: _Template
    item: _Template
    pagination: _Template


@cache
def _templates() -> _Templates:
    return _Templates(_article_template(), *_listing_templates())


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _one(node: Tag, selector: str) -> Tag:
    found = node.select_one(selector)
    if found is None:
        raise ValueError(f"the saved page has no {selector!r}: the template needs updating")
    return found


def _swap_in_scripts(soup: BeautifulSoup, swaps: dict[str, str]) -> None:
    for script in soup.find_all("script"):
        text = script.string
        if text and any(old in text for old in swaps):
            for old, new in swaps.items():
                text = text.replace(old, new)
            script.string = text


def _article_template() -> _Template:
    soup = _soup(ARTICLE_PAGE)
    topper = _one(soup, "main > div.entry-content > div.wp-block-whitehouse-topper")
    eyebrow = _one(topper, ".wp-block-whitehouse-topper__eyebrow a")
    body = _one(soup, "body")
    post_id = re.search(r"postid-(\d+)", " ".join(body["class"]))
    assert post_id is not None
    label = eyebrow.get_text(strip=True)
    date = str(_one(topper, "time[datetime]")["datetime"])[:10]
    # The page's own values, in its JSON-LD graph and its analytics data:
    _swap_in_scripts(
        soup,
        {
            str(_one(soup, 'meta[property="og:url"]')["content"]): _hole("json_url"),
            str(_one(soup, 'meta[property="og:title"]')["content"]): _hole("json_title"),
            str(_one(soup, 'meta[property="article:published_time"]')["content"]): _hole(
                "published_utc"
            ),
            str(_one(soup, 'meta[property="article:modified_time"]')["content"]): _hole(
                "lastmod_utc"
            ),
            f"'{post_id[1]}'": f"'{_hole('post_id')}'",
            f"'{date}'": f"'{_hole('date')}'",
            f"'Categories: {label}'": f"'Categories: {_hole('js_label')}'",
        },
    )
    _one(soup, "title").string = _hole("title")
    for selector, attribute, name in (
        ('link[rel="canonical"]', "href", "url"),
        ('meta[property="og:url"]', "content", "url"),
        ('meta[property="og:title"]', "content", "og_title"),
        ('meta[name="description"]', "content", "description"),
        ('meta[property="og:description"]', "content", "description"),
        ('meta[property="article:published_time"]', "content", "published_utc"),
    ):
        _one(soup, selector)[attribute] = _hole(name)
    _one(soup, 'meta[property="article:modified_time"]').replace_with(_hole("modified_meta"))
    body["class"] = " ".join(body["class"]).replace(post_id[0], "postid-" + _hole("post_id"))
    # The topper: category link, headline, date; then the body blocks.
    eyebrow["href"] = _hole("category_url")
    first = eyebrow.contents[0]
    assert isinstance(first, NavigableString)
    first.replace_with(_hole("category_label"))
    _one(topper, "h1.wp-block-whitehouse-topper__headline").string = _hole("heading")
    when = _one(topper, "time[datetime]")
    when["datetime"], when.string = _hole("published_local"), _hole("date_text")
    for node in list(topper.next_siblings):
        node.extract()
    topper.insert_after("\n\n" + _hole("body") + "\n")
    return _Template(str(soup))


def _listing_templates() -> tuple[_Template, _Template, _Template]:
    soup = _soup(LISTING_PAGE)
    heading = _one(soup, "main h1.wp-block-whitehouse-topper__headline")
    _swap_in_scripts(
        soup,
        {
            str(_one(soup, 'link[rel="canonical"]')["href"]): _hole("json_url"),
            html.escape(heading.get_text(strip=True), quote=False): _hole("json_label"),
        },
    )
    heading.string = _hole("heading")
    _one(soup, "title").string = _hole("title")
    _one(soup, 'link[rel="canonical"]')["href"] = _hole("page_url")
    _one(soup, 'meta[property="og:url"]')["content"] = _hole("page_url")
    _one(soup, 'meta[property="og:title"]')["content"] = _hole("og_title")
    _one(soup, 'link[rel="next"]').replace_with(_hole("head_links"))
    _one(soup, "body")["class"] = _hole("body_class")
    for form in soup.select("main form[role=search]"):
        form["action"] = _hole("section_url")
    posts = _one(soup, "main ul.wp-block-post-template")
    item = _item_template(_one(posts, "li.wp-block-post"))
    posts.clear()
    posts.append(_hole("items"))
    nav = _one(soup, "main nav.wp-block-query-pagination")
    nav.clear()
    nav.append(_hole("links"))
    pagination = _Template(str(nav))
    nav.replace_with(_hole("pagination"))
    return _Template(str(soup)), item, pagination


def _item_template(item: Tag) -> _Template:
    item["data-wp-key"] = "post-template-item-" + _hole("post_id")
    classes = " ".join(item["class"])
    classes = re.sub(r"\bpost-\d+\b", "post-" + _hole("post_id"), classes)
    item["class"] = re.sub(r"\bcategory-[a-z0-9-]+", "category-" + _hole("category"), classes)
    link = _one(item, "h2.wp-block-post-title a")
    link["href"], link.string = _hole("url"), _hole("title")
    tag = _one(item, ".taxonomy-category a[rel=tag]")
    tag["href"], tag.string = _hole("category_url"), _hole("category_label")
    when = _one(item, ".wp-block-post-date time[datetime]")
    when["datetime"], when.string = _hole("published_local"), _hole("date_text")
    return _Template(str(item))


def _pagination_links(page: int, pages: int, url: Callable[[int], str]) -> str:
    """WordPress's paginate_links (end_size 1, mid_size 2) in the block theme's markup."""
    action = 'data-wp-on--click="core/query::actions.navigate"'
    links: list[str] = []
    if page > 1:
        links.append(
            f'<a data-wp-key="query-pagination-previous" {action} href="{url(page - 1)}" '
            'class="wp-block-query-pagination-previous">Prev</a>'
        )
    numbers: list[str] = []
    dots = False
    for n in range(1, pages + 1):
        key = f'data-wp-key="index-{len(numbers)}"'
        if n == page:
            numbers.append(
                f'<span {key} aria-current="page" class="page-numbers current">{n}</span>'
            )
            dots = True
        elif n <= 1 or n > pages - 1 or abs(n - page) <= 2:
            numbers.append(f'<a {key} {action} class="page-numbers" href="{url(n)}">{n}</a>')
            dots = True
        elif dots:
            numbers.append(f'<span {key} class="page-numbers dots">&hellip;</span>')
            dots = False
    links.append('<div class="wp-block-query-pagination-numbers">' + "\n".join(numbers) + "</div>")
    if page < pages:
        links.append(
            f'<a data-wp-key="query-pagination-next" {action} href="{url(page + 1)}" '
            'class="wp-block-query-pagination-next">Next</a>'
        )
    return "\n\n" + "\n\n".join(links) + "\n"
