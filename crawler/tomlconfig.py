"""TOML files into frozen dataclasses, validated once: the seed files and the archive's config.

The dataclass is the schema: its fields' types say what each key takes. An unknown key, a wrong
type or a missing key fails with the file, the line and the key, and what is expected.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.errors import StatementSyncError


@dataclass(frozen=True)
class Context:
    """The file being read, to say where a problem is."""

    path: Path
    text: str
    error: type[StatementSyncError]

    def fail(self, key: str, expected: str, got: Any = dataclasses.MISSING) -> StatementSyncError:
        found = "" if got is dataclasses.MISSING else f", got {got!r}"
        return self.invalid(key, f"expected {expected}{found}")

    def invalid(self, key: str, message: str) -> StatementSyncError:
        name = re.escape(key.rsplit(".", 1)[-1].split("[")[0])
        pattern = rf"\s*(\[+\s*)?([\w.-]*\.)?({name}|\"{name}\")\s*(=|\])"
        rows = self.text.splitlines()
        line = next((n for n, row in enumerate(rows, 1) if re.match(pattern, row)), None)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return self.error(f"{key}: {message}", where=where)


def read_toml(path: Path, error: type[StatementSyncError]) -> tuple[dict[str, Any], Context]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read the file: {exc}", where=str(path)) from None
    try:
        return tomllib.loads(text), Context(path, text, error)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"not valid TOML: {exc}", where=str(path)) from None


def build(
    cls: type[Any], table: Any, ctx: Context, prefix: str = "", skip: tuple[str, ...] = ()
) -> Any:
    """A ``cls`` from a TOML table, every value checked against the field's type."""
    if not isinstance(table, dict):
        raise ctx.fail(prefix.rstrip(".") or "(top level)", "a table", table)
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        key = f"{prefix}{unknown[0]}"
        raise ctx.fail(key, f"one of the known keys ({', '.join(fields)}); unknown key")
    values = {}
    for name, spec in fields.items():
        key = f"{prefix}{name}"
        if name not in table:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ctx.fail(key, "a value; the key is missing")
            continue
        values[name] = convert(hints[name], table[name], key, ctx)
    return cls(**values)


def convert(hint: Any, value: Any, key: str, ctx: Context) -> Any:
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:  # Annotated[T, read]: a string goes through read(), e.g. "2m"
        if isinstance(value, str):
            try:
                return args[1](value)
            except ValueError as exc:
                raise ctx.invalid(key, str(exc)) from None
        return convert(args[0], value, key, ctx)
    if isinstance(hint, types.UnionType):  # X | None
        inner = next(a for a in args if a is not type(None))
        return convert(inner, value, key, ctx)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, ctx, key + ".")  # type: ignore[arg-type]
    if (
        origin is dict
        or origin is typing.Mapping
        or str(origin) == "<class 'collections.abc.Mapping'>"
    ):
        if not isinstance(value, dict):
            raise ctx.fail(key, "a table", value)
        return {k: convert(args[1], v, f"{key}.{k}", ctx) for k, v in value.items()}
    if origin is tuple:
        return _sequence(args[0], value, key, ctx)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and type(value) is hint:
        return value
    raise ctx.fail(key, {float: "a number", int: "an integer"}.get(hint, hint.__name__), value)


def _sequence(item: Any, value: Any, key: str, ctx: Context) -> tuple[Any, ...]:
    if dataclasses.is_dataclass(item):
        if not isinstance(value, list):
            raise ctx.fail(key, "a list of tables ([[...]])", value)
        return tuple(convert(item, v, f"{key}[{i}]", ctx) for i, v in enumerate(value))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.fail(key, "a list of strings", value)
    return tuple(value)
