"""The product as a user installs it: a built wheel in a fresh virtual environment (not ``-e``).

The wheel is built offline (``--no-build-isolation``, with the dev extra's setuptools) and
installed with ``--no-deps`` into a new venv; its dependencies come from this environment's
site-packages through a ``.pth`` line, so nothing is downloaded. The installed ``statements``
runs from a folder outside the checkout, so only what the wheel holds can be found.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT, SHARED, need

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    build = [*_PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(work)]
    subprocess.run([*build, str(PROJECT)], check=True, cwd=work, capture_output=True)
    return next(work.glob("statement_sync-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """The ``bin`` folder of a fresh venv holding only the built wheel."""
    env = wheel.parent / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    site = next((env / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    install = [*_PIP, "--python", str(env / "bin" / "python"), "install", "--no-deps"]
    subprocess.run([*install, "--no-index", str(wheel)], check=True, capture_output=True)
    return env / "bin"


_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def _statements(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "statements"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def test_the_wheel_ships_every_seed_file(wheel: Path) -> None:
    seeds = {f"crawler/seeds/{p.name}" for p in PROJECT.glob("seeds/*.toml")}
    assert "crawler/seeds/whitehouse.toml" in seeds
    assert seeds <= set(zipfile.ZipFile(wheel).namelist())


def test_installed_sources_lists_whitehouse(installed: Path, tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    done = _statements(installed, "sources", "--json", "--archive", archive, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = [s["name"] for s in json.loads(done.stdout)]
    assert "whitehouse" in names


def test_a_sync_that_finds_no_source_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An install that lost its seeds must not report a successful sync of nothing."""
    from crawler import source
    from crawler.cli import main

    monkeypatch.setattr(source, "BUILTIN_SEEDS", tmp_path / "no-seeds")
    monkeypatch.delenv("STATEMENTS_SEEDS", raising=False)
    assert main(["sync", "--archive", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no source to sync" in err


def test_installed_sync_archives_statements_from_the_fixture_site(
    installed: Path, tmp_path: Path
) -> None:
    need(SHARED / "pages")
    from tests.fixture_site import FixtureSite, corpus_texts, usable_texts

    texts = usable_texts(corpus_texts(), 20)
    archive = tmp_path / "archive"
    with FixtureSite(texts) as site:
        done = _statements(installed, *site.sync_args(archive, "--full", "--json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["sources"][0]["counts"]["new"] == 20
    assert len(list(archive.rglob("*.md"))) == 20
