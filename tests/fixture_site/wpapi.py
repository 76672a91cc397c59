"""The site's WordPress REST API: ``/wp-json/wp/v2/posts``, as WordPress core answers it.

Posts are the statements the site serves (removed ones left out; a moved one at its new link),
with ``id`` (the post id its pages name), ``date_gmt``, ``modified_gmt``, ``link``,
``title.rendered`` and ``content.rendered``: the very body HTML planted in its page, so an edit
through the site's methods changes both, and a silent edit changes the content but not
``modified_gmt``. Paging is WordPress's: ``per_page`` (10 by default, at most 100), ``page``
(past the last: HTTP 400 ``rest_post_invalid_page_number``), ``orderby`` (``date``, ``id``,
``modified``), ``order`` and ``_fields``, with the ``X-WP-Total`` and ``X-WP-TotalPages`` headers.

Two switches for tests: ``api_status`` (401, 403, 404...) answers every API request with that
status, as a site that disables the API does; ``api_tracks = False`` serves each post's content
as first published, whatever the edits since (a stale cache: the API no longer tracks the page).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fixture_site.answers import Response
from tests.fixture_site.content import _Entry
from tests.fixture_site.formatting import _text

POSTS_ROUTE = "/wp-json/wp/v2/posts"
_ORDER_KEYS = {
    "date": lambda e: (e.published, e.post_id),
    "id": lambda e: (e.post_id,),
    "modified": lambda e: (e.lastmod, e.post_id),
}
_JSON = "application/json; charset=UTF-8"


class _Api:
    """The REST API side of :class:`~tests.fixture_site.site.FixtureSite`."""

    _lock: threading.RLock
    _entries: dict[str, _Entry]
    api_status: int | None
    api_tracks: bool

    def respond_api(self, target: str) -> Response:
        """What the API answers a GET for a path with its query."""
        parts = urlsplit(target)
        if self.api_status is not None:
            return _error(self.api_status, "rest_disabled", "The REST API is disabled.")
        if parts.path.rstrip("/") != POSTS_ROUTE:
            return _error(404, "rest_no_route", "No route was found matching the URL.")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            per_page = int(query.get("per_page", "10"))
            page = int(query.get("page", "1"))
        except ValueError:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): page")
        if not 1 <= per_page <= 100 or page < 1:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        order_key = _ORDER_KEYS.get(query.get("orderby", "date"))
        if order_key is None:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        with self._lock:
            shown = [e for e in self._entries.values() if e.gone is None]
            shown.sort(key=order_key, reverse=query.get("order", "desc") != "asc")
            total, pages = len(shown), max(1, -(-len(shown) // per_page))
            if page > pages:
                message = "The page number requested is larger than the number of pages available."
                return _error(400, "rest_post_invalid_page_number", message)
            chosen = shown[(page - 1) * per_page : page * per_page]
            posts = [self._post(e) for e in chosen]
        fields = [f for f in query.get("_fields", "").split(",") if f]
        if fields:
            posts = [{k: v for k, v in post.items() if k in fields} for post in posts]
        body = json.dumps(posts).encode("utf-8")
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        return Response(200, body, _JSON, headers)

    def _post(self, entry: _Entry) -> dict[str, Any]:
        content = entry.body_html if self.api_tracks else entry.first_body
        return {
            "id": entry.post_id,
            "date_gmt": _gmt(entry.published),
            "modified_gmt": _gmt(entry.lastmod),
            "link": entry.url,
            "type": "post",
            "title": {"rendered": _text(entry.title)},
            "content": {"rendered": content, "protected": False},
        }


def _gmt(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status}})
    return Response(status, body.encode("utf-8"), _JSON)
