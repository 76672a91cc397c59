"""The Converter seam: engines by name, their own options in the seed, pandoc as one of them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from crawler import pandoc
from crawler.convert import CONVERTERS, Converter, Engine, converter
from crawler.errors import ConvertError, SourceError
from crawler.parse import parse_statement
from crawler.source import Convert, load_source
from tests.conftest import PROJECT

SEED = (PROJECT / "seeds" / "whitehouse.toml").read_text(encoding="utf-8")
CONVERT = "[convert]\n# The converter"
URL = "https://www.whitehouse.gov/briefings-statements/2025/06/a-statement/"
PAGE = (
    '<html><head><meta property="og:title" content="A Statement"></head><body><main>'
    '<div class="wp-block-whitehouse-topper"><h1 class="wp-block-whitehouse-topper__headline">'
    'A Statement</h1><time datetime="2025-06-02T15:05:11-04:00"></time></div>'
    "<p>Hello <em>world</em>.</p></main></body></html>"
)


def _seed(tmp_path: Path, convert: str) -> Path:
    """The whitehouse seed with its [convert] table replaced."""
    head, _, rest = SEED.partition(CONVERT)
    assert rest, "the seed's [convert] table moved"
    path = tmp_path / "whitehouse.toml"
    path.write_text(head + convert + "\n", encoding="utf-8")
    return path


def test_the_general_schema_names_no_pandoc_format() -> None:
    assert [f.name for f in dataclasses.fields(Convert)] == [
        "converter",
        "modified_time_offset",
        "options",
    ]
    assert "markdown_strict" not in SEED and "reader" not in SEED.partition(CONVERT)[2]


def test_the_shipped_seed_uses_pandoc_with_its_defaults() -> None:
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    assert source.convert.converter == "pandoc"
    assert source.convert.options == pandoc.PandocOptions("html", pandoc.MARKDOWN)
    engine = converter(source.convert.converter, source.convert.options)
    assert engine.name == "pandoc"
    html = "<p>one</p>"
    assert engine.convert(html) == pandoc.convert(html) == "one\n"
    assert engine.convert_many([html, "<p>two</p>"]) == ["one\n", "two\n"]


def test_pandoc_options_go_in_their_own_table(tmp_path: Path) -> None:
    path = _seed(tmp_path, '[convert]\nconverter = "pandoc"\n[convert.pandoc]\nwriter = "plain"')
    options = load_source(path).convert.options
    assert options == pandoc.PandocOptions("html", "plain")


def test_reader_and_writer_of_older_seeds_still_read_as_pandocs(tmp_path: Path) -> None:
    path = _seed(tmp_path, '[convert]\nreader = "html"\nwriter = "commonmark"')
    source = load_source(path)
    assert source.convert.converter == "pandoc"
    assert source.convert.options == pandoc.PandocOptions("html", "commonmark")


@pytest.mark.parametrize(
    ("convert", "message"),
    [
        ('[convert]\nconverter = "word"', r"line \d+: convert.converter: expected one of pandoc"),
        ("[convert]\nconverter = 3", "convert.converter: expected one of pandoc, got 3"),
        (
            '[convert]\n[convert.pandoc]\nwrite = "plain"',
            r"line \d+: convert.pandoc.write: expected one of the known keys "
            r"\(reader, writer, native\)",
        ),
        (
            '[convert]\nwriter = "plain"\n[convert.pandoc]\nwriter = "html"',
            r"convert.writer: expected writer in \[convert.pandoc\]",
        ),
        ('[convert]\n[convert.options]\nx = "y"', "convert.options: expected options of the"),
        ("[convert]\nconverter = [1]", "convert.converter: expected one of pandoc"),
    ],
)
def test_bad_converter_settings_fail_at_load_naming_the_key(
    tmp_path: Path, convert: str, message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        load_source(_seed(tmp_path, convert))


def test_an_unknown_converter_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ConvertError, match="no converter named 'word'") as caught:
        converter("word")
    assert caught.value.hint == "one of: pandoc"


@dataclasses.dataclass(frozen=True)
class ShoutOptions:
    mark: str = "!"


@dataclasses.dataclass(frozen=True)
class Shout:
    """A second engine: the page's text upper-cased, to show a seed can plug one in."""

    options: ShoutOptions
    name: str = "shout"

    def convert(self, html: str) -> str:
        return pandoc.convert(html, writer="plain").upper().strip() + self.options.mark + "\n"

    def convert_many(self, htmls: Sequence[str], *, jobs: int = 2) -> list[str]:
        return [self.convert(h) for h in htmls]


def test_a_seed_can_name_another_registered_converter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CONVERTERS, "shout", Engine("shout", ShoutOptions, Shout))
    path = _seed(tmp_path, '[convert]\nconverter = "shout"\n[convert.shout]\nmark = "?!"')
    source = load_source(path)
    engine: Converter = converter(source.convert.converter, source.convert.options)
    assert engine.name == "shout"
    assert parse_statement(PAGE, URL, source).body == "HELLO WORLD.?!\n"
    with pytest.raises(SourceError, match=r"convert\.pandoc: expected options of the converter"):
        load_source(_seed(tmp_path, '[convert]\nconverter = "shout"\n[convert.pandoc]\n'))
