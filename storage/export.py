"""Statements and revisions out of the archive, as CSV, JSON Lines or Parquet, streamed.

:func:`export` takes the rows :meth:`storage.archive.Archive.select` streams (a statement with
one of its revisions) and writes each as it comes, so memory stays flat whatever the archive's
size: CSV and JSON Lines row by row, Parquet in record batches of :data:`BATCH` rows. One row
has every column of the index's ``statements`` and ``revisions`` tables (:data:`COLUMNS`):
``front_matter`` and ``body`` rebuild the file exactly (``---\\n`` + front matter + ``---\\n \\n``
+ body).

Parquet needs ``pyarrow``, the optional extra ``statement-sync[parquet]``; it is imported only
when asked for (:func:`parquet_missing` says, without importing it, whether it is there).
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections.abc import Iterable
from typing import IO, Any

from storage.index import RevisionRow, StatementRow

FORMATS = ("jsonl", "csv", "parquet")
#: Rows per Parquet record batch (and row group): about 3 MB of text at the corpus's sizes.
BATCH = 500

#: The columns of a row, in order, and their types (for Parquet).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("statement_id", "int"),
    ("url", "str"),
    ("path", "str"),
    ("slug", "str"),
    ("source", "str"),
    ("status", "str"),
    ("head", "int"),
    ("first_seen", "str"),
    ("last_seen", "str"),
    ("stable_id", "str"),
    ("revision", "int"),
    ("seen_at", "str"),
    ("origin", "str"),
    ("revision_url", "str"),
    ("revision_path", "str"),
    ("title", "str"),
    ("published_time", "str"),
    ("modified_time", "str"),
    ("content_hash", "str"),
    ("words_hash", "str"),
    ("front_matter", "str"),
    ("body", "str"),
)
NAMES = tuple(name for name, _ in COLUMNS)


def record(statement: StatementRow, revision: RevisionRow) -> tuple[Any, ...]:
    """One row's values, in :data:`COLUMNS` order (the revision's own title and times)."""
    s, r = statement, revision
    return (
        s.id, s.url, s.path, s.slug, s.source, s.status, s.head, s.first_seen, s.last_seen,
        s.stable_id, r.number, r.seen_at, r.origin, r.url, r.path, r.title, r.published_time,
        r.modified_time, r.content_hash, r.words_hash, r.front_matter, r.body,
    )  # fmt: skip


def parquet_missing() -> bool:
    """Whether Parquet cannot be written here (pyarrow is not installed)."""
    return importlib.util.find_spec("pyarrow") is None


def export(rows: Iterable[tuple[StatementRow, RevisionRow]], fmt: str, out: IO[Any]) -> int:
    """Write ``rows`` to ``out`` (text for csv and jsonl, binary for parquet); return how many."""
    if fmt == "jsonl":
        return _jsonl(rows, out)
    if fmt == "csv":
        return _csv(rows, out)
    if fmt == "parquet":
        return _parquet(rows, out)
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")


def _jsonl(rows: Iterable[tuple[StatementRow, RevisionRow]], out: IO[str]) -> int:
    count = 0
    for statement, revision in rows:
        line = dict(zip(NAMES, record(statement, revision), strict=True))
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def _csv(rows: Iterable[tuple[StatementRow, RevisionRow]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(NAMES)
    count = 0
    for statement, revision in rows:
        writer.writerow(record(statement, revision))
        count += 1
    return count


def _parquet(rows: Iterable[tuple[StatementRow, RevisionRow]], out: IO[bytes]) -> int:
    import pyarrow as pa  # the optional extra [parquet]
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "str": pa.string()}
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS])
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        batch: list[tuple[Any, ...]] = []
        for statement, revision in rows:
            batch.append(record(statement, revision))
            if len(batch) == BATCH:
                writer.write_batch(_batch(pa, schema, batch))
                count, batch = count + len(batch), []
        if batch:
            writer.write_batch(_batch(pa, schema, batch))
            count += len(batch)
    return count


def _batch(pa: Any, schema: Any, rows: list[tuple[Any, ...]]) -> Any:
    columns = [
        pa.array([row[i] for row in rows], type=schema.field(i).type) for i in range(len(COLUMNS))
    ]
    return pa.record_batch(columns, schema=schema)
