"""Which index an archive uses: its own SQLite file (the default) or a PostgreSQL database.

An index locator is text: empty (or ``None``) means ``<archive>/.statements/index.sqlite``;
``postgresql://...`` (or ``postgres://``) a database, opened by :mod:`storage.postgres` (which
needs the ``[postgres]`` extra: psycopg is imported only then). The crawler reads the locator
from ``--index`` or ``index`` in ``statements.toml`` and hands it to :class:`storage.Archive`;
storage knows nothing of where it came from.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from storage.backend import IndexBackend
from storage.errors import ArchiveError
from storage.index import Index

SQLITE_NAME = "index.sqlite"


def is_postgres(locator: str | None) -> bool:
    """Whether a locator names a PostgreSQL database (not the archive's SQLite file)."""
    return bool(locator) and urlsplit(str(locator).strip()).scheme.lower() in (
        "postgresql",
        "postgres",
    )


def check_locator(locator: str | None) -> None:
    """Refuse a locator that is neither empty nor a PostgreSQL URL without a password, before
    anything opens."""
    if is_postgres(locator):
        check_no_password(str(locator))
    elif locator and locator.strip():
        scheme = urlsplit(locator.strip()).scheme or "a path"
        raise ArchiveError(
            f"unknown index location ({scheme})",
            hint="leave it out for the archive's own SQLite file, or give postgresql://HOST/DB",
        )


def open_index(locator: str | None, state: Path, *, read_only: bool = False) -> IndexBackend:
    """The index a locator names; the SQLite file in ``state`` when it names none."""
    check_locator(locator)
    if not is_postgres(locator):
        return Index(state / SQLITE_NAME, read_only=read_only)
    try:
        from storage.postgres import PostgresIndex
    except ImportError:
        raise ArchiveError(
            "a PostgreSQL index needs psycopg",
            hint="pip install 'statement-sync[postgres]'",
        ) from None
    assert locator is not None
    return PostgresIndex(locator, read_only=read_only)


def redact(locator: str) -> str:
    """A locator safe to show: no user information, no password parameter."""
    parts = urlsplit(locator.strip())
    host = parts.netloc.rpartition("@")[2]
    query = "&".join(
        f"{k}={'***' if k.lower() == 'password' else v}" for k, v in parse_qsl(parts.query)
    )
    return f"{parts.scheme}://{host}{parts.path}" + (f"?{query}" if query else "")


def check_no_password(locator: str) -> None:
    """Refuse a locator that holds a password: it would sit in ``ps``, shell history and
    config files. libpq takes it from ``PGPASSWORD`` or a password file instead."""
    parts = urlsplit(locator.strip())
    try:
        in_netloc = parts.password is not None
    except ValueError:
        in_netloc = False
    if in_netloc or any(k.lower() == "password" for k, _ in parse_qsl(parts.query)):
        raise ArchiveError(
            "the index URL holds a password",
            where=redact(locator),
            hint="leave it out: set PGPASSWORD, or put it in a password file (PGPASSFILE,"
            " ~/.pgpass, or passfile=PATH in the URL)",
        )
