"""The seed reference (seeds/README.md) cannot drift from the schema: every key of the dataclasses
of crawler/source.py is documented, in its table, and every documented key exists; every built-in
source kind is documented, with its own options and the extra front-matter keys it writes."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from typing import Any

from crawler.kinds import kinds
from crawler.source import Source
from tests.conftest import PROJECT

README = PROJECT / "seeds" / "README.md"
#: Fields that are not keys of a seed: where it was read from, and what is built from a table
#: of its own ([<kind>], [convert.<converter>]).
NOT_KEYS = {"path", "kind_options", "convert.options"}


def _dataclass_of(hint: Any) -> type[Any] | None:
    if isinstance(hint, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = inner[0] if len(inner) == 1 else None
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def schema_keys(cls: type[Any], table: str = "") -> dict[str, set[str]]:
    """Table ("" for the top level) -> its keys, from the dataclasses."""
    hints = typing.get_type_hints(cls)
    tables: dict[str, set[str]] = {}
    for f in dataclasses.fields(cls):
        dotted = f"{table}.{f.name}" if table else f.name
        if dotted in NOT_KEYS:
            continue
        inner = _dataclass_of(hints[f.name])
        if inner is not None:
            tables.update(schema_keys(inner, dotted))
        else:
            tables.setdefault(table, set()).add(f.name)
    return tables


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def bullets(text: str) -> list[str]:
    """Each bullet's text, its continuation lines joined."""
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith("- "):
            items.append(line[2:])
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
        elif not line.strip() and items and not items[-1].endswith("\n"):
            items[-1] += "\n"
    return [i.strip() for i in items]


def named(bullet: str) -> list[str]:
    """The keys a bullet documents: the backquoted names before its first colon, once the
    parenthesised asides (defaults, examples) are set aside."""
    text = bullet
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    return re.findall(r"`([\w-]+)`", text.split(":", 1)[0])


def documented_keys() -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for block in re.split(r"\n### ", section("Seed reference"))[1:]:
        heading, _, body = block.partition("\n")
        match = re.fullmatch(r"`\[([\w.-]+)\]`", heading.strip())
        table = match.group(1) if match else ""
        assert match or heading.strip() == "Top-level keys", heading
        for bullet in bullets(body):
            tables.setdefault(table, set()).update(named(bullet))
    return tables


def test_the_parser_reads_bullets_as_written() -> None:
    assert named("`rate` (default: the kind's, 1 for `html`): requests") == ["rate"]
    assert named('`every` (`"2h"`) or `cron`: when') == ["every", "cron"]
    assert named("`title_meta` (default `og:title`) and `title_suffixes` (x): y") == [
        "title_meta",
        "title_suffixes",
    ]


def test_every_key_of_the_schema_is_documented_and_no_other() -> None:
    expected = schema_keys(Source)
    for kind in kinds().values():  # a kind's own options: the table named after it
        if kind.options is not None:
            expected[kind.name] = {f.name for f in dataclasses.fields(kind.options)}
    found = documented_keys()
    missing = {t: sorted(keys - found.get(t, set())) for t, keys in expected.items()}
    extra = {t: sorted(keys - expected.get(t, set())) for t, keys in found.items()}
    assert {t: k for t, k in missing.items() if k} == {}, "keys not in seeds/README.md"
    assert {t: k for t, k in extra.items() if k} == {}, "documented keys the schema lacks"


def test_every_kind_is_documented_with_its_extra_keys() -> None:
    text = section("Source kinds")
    for kind in kinds().values():
        entry = next((b for b in bullets(text) if b.startswith(f"`{kind.name}`:")), None)
        assert entry is not None, f"kind {kind.name} is not in seeds/README.md"
        for key in kind.extra_keys:
            assert f"`{key}`" in entry, f"extra key {key} of {kind.name} is not documented"
        for method in kind.method_names():
            assert f"`{method}`" in entry, f"discovery method {method} of {kind.name}"


def test_the_whitehouse_seed_uses_only_documented_keys() -> None:
    seed = tomllib.loads((PROJECT / "seeds" / "whitehouse.toml").read_text(encoding="utf-8"))
    found = documented_keys()

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            dotted = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(value, dotted)
            else:
                assert key in found.get(prefix, set()), dotted

    walk(seed, "")
