"""Docs that cannot drift: every command and option is in the README, every kind is documented.

After sqlite-utils' ``tests/test_docs.py``: the parser is the truth, and the README's command
table must name each command with each of its options; the change kinds documented in the README
and in ``docs/index.md`` must be exactly the code's.
"""

from __future__ import annotations

import argparse
import re

import pytest

from crawler.cli import build_parser
from storage.diff import KINDS
from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")
INDEX_DOC = (PROJECT / "docs" / "index.md").read_text(encoding="utf-8")
# Documented once, below the table, for every command.
EVERYWHERE = {"--help", "--archive", "--index"}


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the CLI has no subcommands")


def _rows() -> dict[str, str]:
    """The README command table's rows, by command name."""
    rows = {}
    for line in README.splitlines():
        match = re.match(r"\| `statements ([a-z-]+)", line)
        if match:
            rows[match.group(1)] = line
    return rows


COMMANDS = _commands()


def test_the_readme_table_has_exactly_the_commands() -> None:
    assert set(_rows()) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_of_a_command_is_in_its_readme_row(name: str) -> None:
    row = _rows().get(name, "")
    options = {
        option
        for action in COMMANDS[name]._actions
        for option in action.option_strings
        if option.startswith("--") and option not in EVERYWHERE
    }
    missing = sorted(o for o in options if not re.search(rf"{re.escape(o)}\b", row))
    assert missing == [], f"README row of 'statements {name}' lacks {missing}"


def test_the_readme_documents_exactly_the_change_kinds() -> None:
    start = README.index("Change kinds")
    documented = re.findall(r"^- `([a-z]+)`: ", README[start:], flags=re.M)
    assert documented[: len(KINDS)] == list(KINDS), "one line per kind, in the order reported"
    assert set(documented) == set(KINDS)


def test_the_index_doc_lists_exactly_the_change_kinds() -> None:
    match = re.search(r"space-separated: `([a-z ]+)`", INDEX_DOC)
    assert match is not None, "docs/index.md lists the kinds of the events table"
    assert set(match.group(1).split()) == set(KINDS)


def test_the_readme_lists_every_built_in_source_once_with_its_seed_and_kind() -> None:
    import tomllib

    listed = re.findall(
        r"^\| `([a-z0-9-]+)` \| `seeds/([a-z0-9-]+)\.toml` \| `([a-z_]+)` \|", README, re.M
    )
    seeds = {
        p.stem: tomllib.loads(p.read_text(encoding="utf-8")).get("kind", "html")
        for p in (PROJECT / "seeds").glob("*.toml")
    }
    assert sorted((name, kind) for name, _, kind in listed) == sorted(seeds.items())
    assert all(name == file for name, file, _ in listed)
