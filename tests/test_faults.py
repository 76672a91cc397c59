"""Faults: an unreliable site, a full disk. Nothing is lost, nothing half-written."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.syncer import CONVERT_BATCH
from storage import journal
from storage.archive import Archive
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_sync import run_sync, snapshot

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


@pytest.fixture(scope="module")
def texts(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    return usable_texts((t for _, t in corpus), 120)


def test_an_unreliable_site_loses_nothing(texts: list[str], tmp_path: Path) -> None:
    with FixtureSite(texts, stall_seconds=1.5) as site:
        run_sync(tmp_path / "control", site, full=True)
        site.fault_rate, site.fault_seed = 0.2, 3
        report = run_sync(tmp_path / "faulty", site, timeout=1.0, full=True)
        assert sum(site.injected.values()) >= 15 and len(site.injected) >= 5  # every class
        archived = len(list((tmp_path / "faulty").rglob("*.md")))
        failed = {url for url, _ in report.failures}
        assert archived + len(failed) == len(texts)  # none silently missing
        site.fault_rate = 0.0
        again = run_sync(tmp_path / "faulty", site)
        assert not again.failures and again.counts["new"] == len(failed)
    assert snapshot(tmp_path / "faulty")[0] == snapshot(tmp_path / "control")[0]  # no cut bodies


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_full_disk_or_read_only_archive_is_a_clear_error(
    texts: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: int,
) -> None:
    root = tmp_path / "archive"
    written = []
    real_write = journal.write_file

    def failing(path: Path, data: bytes) -> None:
        if len(written) >= CONVERT_BATCH + 2:  # the second batch fails part-way
            raise OSError(error, "simulated")
        written.append(path)
        real_write(path, data)

    with FixtureSite(texts) as site:
        args = site.sync_args(root, "--full")
        monkeypatch.setattr(journal, "write_file", failing)
        assert main(args) == 1
        err = capsys.readouterr().err
        assert err.startswith("statements: ") and "cannot write" in err and err.count("\n") == 1
        with Archive(root) as archive:
            assert archive.index.count_statements() == CONVERT_BATCH  # the first batch, whole
        assert len(list(root.rglob("*.md"))) == CONVERT_BATCH and not list(root.rglob("*.part"))
        assert main(["verify", "--archive", str(root)]) == 0
        monkeypatch.setattr(journal, "write_file", real_write)
        assert main(args) == 0  # space freed: the rerun completes
    assert len(list(root.rglob("*.md"))) == len(texts)
