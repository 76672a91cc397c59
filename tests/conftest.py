"""Shared fixtures. Tests never touch the internet; real data is read from ../shared."""

from __future__ import annotations

import json
import lzma
import os
import tarfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STATEMENTS_SHARED", PROJECT.parent / "shared"))
CORPUS = SHARED / "corpus" / "wh-briefings.tar.xz"
REVISIONS = SHARED / "corpus" / "wh-briefings-revisions.jsonl.xz"
REFERENCE = PROJECT / "seeds" / "reference" / "000_e5f9f57417d64ad5.txt"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read the real data in ../shared")
    return path


@cache
def _corpus() -> tuple[tuple[str, str], ...]:
    with tarfile.open(need(CORPUS)) as tar:
        return tuple(
            (m.name, tar.extractfile(m).read().decode("utf-8"))  # type: ignore[union-attr]
            for m in tar
            if m.isfile() and m.name.endswith(".md")
        )


@cache
def _revisions() -> tuple[dict[str, object], ...]:
    with lzma.open(need(REVISIONS), "rt", encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle)


@pytest.fixture(scope="session")
def corpus() -> tuple[tuple[str, str], ...]:
    """(path inside the archive, file text) for every statement of the public archive."""
    return _corpus()


@pytest.fixture(scope="session")
def revisions() -> tuple[dict[str, object], ...]:
    return _revisions()


@pytest.fixture(scope="session")
def corpus_dir(
    tmp_path_factory: pytest.TempPathFactory, corpus: tuple[tuple[str, str], ...]
) -> Path:
    """The corpus unpacked once, read-only by convention: copy before changing it."""
    root = tmp_path_factory.mktemp("corpus")
    for name, text in corpus:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return root


@pytest.fixture
def archive_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "archive"


def title_change_kinds(old: str, new: str) -> set[str]:
    """The tests' own statement of the title rule (README, "normalised before edit detection"),
    for the oracles that replay real edits: spacing alone (a no-break space) is presentation,
    letter case alone is ``metadata``, other words are ``retitled``."""
    if old.split() == new.split():
        return set()
    if [w.lower() for w in old.split()] == [w.lower() for w in new.split()]:
        return {"metadata"}
    return {"retitled"}


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[object]:
    """A throw-away PostgreSQL cluster for this test process (tests/pgcluster.py); skips
    without Debian's binaries unless STATEMENT_SYNC_REQUIRE_POSTGRES=1."""
    from tests.pgcluster import start_cluster

    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_index(postgres_cluster: object) -> str:
    """The URL of a fresh, empty database of the test cluster, for one test."""
    from tests.pgcluster import Cluster

    assert isinstance(postgres_cluster, Cluster)
    return postgres_cluster.new_database()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``heavy`` tests (each minutes of work) first, the longest first, then the rest in order:
    pytest-xdist hands tests out in collection order, so a heavy one started last would leave
    one worker running it alone at the end."""

    def cost(item: pytest.Item) -> float:
        heavy = item.get_closest_marker("heavy")
        return -float(heavy.kwargs.get("seconds", 60)) if heavy else 0.0

    items.sort(key=cost)  # stable: the rest keep their order
