from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.errors import SourceError
from crawler.source import BUILTIN_SEEDS, load_source, load_sources
from tests.conftest import PROJECT

SEED = (PROJECT / "seeds" / "whitehouse.toml").read_text(encoding="utf-8")


def test_the_builtin_whitehouse_source() -> None:
    sources = load_sources([BUILTIN_SEEDS])
    wh = sources["whitehouse"]
    assert wh.discovery == ("listing", "sitemap", "feed")
    assert wh.timezone == "America/New_York" and wh.archive.key_order == "alphabetical"
    match = wh.statement_match("https://www.whitehouse.gov/fact-sheets/2026/08/a-fact-sheet/")
    assert match is not None and match.group("tags") == "fact-sheets"
    assert wh.statement_match("https://www.whitehouse.gov/news/") is None
    assert wh.statement_match("https://evil.example/fact-sheets/2026/08/x/") is None
    assert not wh.allows("file:///etc/passwd") and not wh.allows("http://127.0.0.1/")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("rate = 1.0", 'rate = "fast"'), r"line \d+: politeness.rate: expected a number"),
        (
            ("concurrency = 2", "concurrency = 0"),
            "politeness.concurrency: expected a number above 0",
        ),
        (("[feed]", "[feed]\nurl = 3"), r"line \d+: feed.url: expected one of the known keys"),
        (
            ('timezone = "America/New_York"', 'timezone = "Mars/Olympus"'),
            "timezone: expected an IANA",
        ),
        (
            ('origin = "https://www.whitehouse.gov"', 'origin = "ftp://x"'),
            "origin: expected scheme",
        ),
        (
            ("statement_url = '", "statement_url = '(?P<"),
            "statement_url: expected a regular expression",
        ),
        (('key_order = "alphabetical"', 'key_order = "random"'), "archive.key_order"),
        (("[selectors.article]\n", "[selectors.article]\nbody2 = 1\n"), "selectors.article.body2"),
        (("[listing]", "[listing\n"), r"not valid TOML: .*line"),
        (('title = "h1.wp', 'titles = "h1.wp'), "selectors.article.titles"),
        (('every = "2h"', 'every = "2 hours"'), r"line \d+: schedule.every: '2 hours' is not a"),
        (("jitter = 120", 'jitter = "-2m"'), r"line \d+: schedule.jitter: '-2m' is not a"),
        (('every = "2h"', 'every = "0s"'), "schedule.every: '0s' is not a duration from 1s to"),
    ],
)
def test_a_bad_seed_names_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in SEED
    path = tmp_path / "broken.toml"
    path.write_text(SEED.replace(old, new, 1))
    with pytest.raises(SourceError, match=message) as info:
        load_source(path)
    assert str(path) in str(info.value)


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('title = "x"\norigin = "https://x.gov"\nallowed_hosts = ["x.gov"]\n')
    with pytest.raises(SourceError, match="statement_url: expected a value; the key is missing"):
        load_source(path)


def test_sources_command_lists_builtin_and_user_seeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "mine"
    seeds.mkdir()
    (seeds / "mirror.toml").write_text(
        SEED.replace('name = "whitehouse"', 'name = "mirror"')
        .replace("[feed]\nurls", "[x]\nurls")
        .replace('[x]\nurls = ["/feed/"]\n', "")
    )
    assert main(["sources", "--seeds", str(seeds), "--archive", str(tmp_path / "a"), "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed["whitehouse"]["discovery"] == ["listing", "sitemap", "feed"]
    assert listed["mirror"]["discovery"] == ["listing", "sitemap"]
    (seeds / "bad.toml").write_text("name = 3\n")
    assert main(["sources", "--seeds", str(seeds)]) == 2
    assert "bad.toml" in capsys.readouterr().err
