from __future__ import annotations

import datetime as dt

import pytest

from storage.document import loads, new_statement
from storage.errors import PathError
from storage.layout import check_relative, path_for, sanitize


def statement(url: str, title: str = "Title", tags: str = "statements-releases"):  # type: ignore[no-untyped-def]
    return new_statement(
        title=title,
        source_url=url,
        tags=tags,
        published_time=dt.datetime(2025, 3, 14, 17, 14, tzinfo=dt.UTC),
        body="",
    )


@pytest.mark.corpus
def test_path_for_reproduces_every_corpus_path(corpus: tuple[tuple[str, str], ...]) -> None:
    wrong = [name for name, text in corpus if path_for(loads(text)) != name]
    assert wrong == []


@pytest.mark.parametrize(
    "url",
    [
        "https://x.gov/a/../../etc/passwd",
        "https://x.gov/a/%2e%2e%2f%2e%2e%2fetc%2fpasswd/",
        "https://x.gov/a/..%2F..%2F/",
        "https://x.gov/a/%00nul%0Aline/",
        "https://x.gov/a/con/",
        "https://x.gov/",
        "https://x.gov/a/" + "é" * 600 + "/",
    ],
)
def test_hostile_slugs_stay_inside_the_archive(url: str) -> None:
    path = path_for(statement(url))
    assert check_relative(path) == path
    parts = path.split("/")
    assert len(parts) == 3 and parts[:2] == ["statements-releases", "2025-03"]
    name = parts[2]
    assert name.startswith("2025-03-14-") and name.endswith(".md")
    assert ".." not in name and "\x00" not in name and "\n" not in name
    assert len(name.encode()) <= 255


def test_long_slugs_are_cut_with_a_hash_so_they_stay_distinct() -> None:
    a = path_for(statement("https://x.gov/" + "a" * 300 + "-one/"))
    b = path_for(statement("https://x.gov/" + "a" * 300 + "-two/"))
    assert a != b
    assert len(a.rsplit("/", 1)[1].encode()) < 230


def test_hostile_tags_are_sanitised() -> None:
    path = path_for(statement("https://x.gov/a/b/", tags="../../root"))
    assert path.startswith("root/2025-03/")


@pytest.mark.parametrize(
    "bad", ["/etc/passwd", "../x.md", "a/../../x.md", "", ".statements/index.sqlite"]
)
def test_check_relative_refuses_escapes(bad: str) -> None:
    with pytest.raises(PathError):
        check_relative(bad)


def test_sanitize() -> None:
    assert sanitize("Hello World/..\\x") == "Hello-World-.-x"
    assert sanitize("...") == "statement"
