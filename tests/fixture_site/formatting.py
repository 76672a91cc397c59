"""Values as the real site writes them into its pages, headers and XML."""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _utc(value: dt.datetime) -> str:
    return _iso(value.astimezone(dt.UTC))


def _http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)


def _date_text(value: dt.datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1].replace("</", "<\\/")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]
