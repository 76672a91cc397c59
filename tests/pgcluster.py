"""A throw-away PostgreSQL cluster for the tests: one per pytest process (each xdist worker).

``initdb`` in a fresh folder under the system's temp dir, then ``pg_ctl start`` with a unix
socket in that folder, no TCP, ``fsync=off``: it starts in a second or two. Run as root (CI),
the server cannot run as root, so the folder is given to the ``postgres`` user and every
command runs through ``runuser -u postgres --``. Each test gets a database of its own
(:meth:`Cluster.new_database`), so tests never see each other's rows.

Without Debian's binaries the tests skip with the reason, unless
``STATEMENT_SYNC_REQUIRE_POSTGRES=1`` (``.ci/run`` exports it): then they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REQUIRED = os.environ.get("STATEMENT_SYNC_REQUIRE_POSTGRES") == "1"
SUPERUSER = "postgres"


def binaries() -> Path | None:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres`` (the newest Debian version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def unavailable(reason: str) -> None:
    """Skip (or, where PostgreSQL is required, fail) the test that needs the cluster."""
    if REQUIRED:
        pytest.fail(f"{reason} (STATEMENT_SYNC_REQUIRE_POSTGRES=1)")
    pytest.skip(f"{reason}: the PostgreSQL tests need Debian's postgresql")


@dataclass
class Cluster:
    bin: Path
    folder: Path
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *command], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> None:
        data = self.folder / "data"
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}'"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=60 -c shared_buffers=32MB"
        )
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self.run(
                str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def locator(self, database: str) -> str:
        """The index URL of a database of this cluster (the socket folder as host)."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def new_database(self) -> str:
        """A fresh, empty database; its index URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.locator("postgres"), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.locator(name)


def start_cluster() -> Cluster:
    """A running cluster in a new folder; skips (or fails) when it cannot be had."""
    folder_bin = binaries()
    if folder_bin is None:
        unavailable("no initdb (PostgreSQL binaries) on this machine")
    assert folder_bin is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[dev]')")
    folder = Path(tempfile.mkdtemp(prefix="statements-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        os.chown(folder, user.pw_uid, user.pw_gid)
    cluster = Cluster(folder_bin, folder)
    try:
        cluster.start()
    except (OSError, subprocess.SubprocessError) as exc:
        log = folder / "log"
        detail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        unavailable(f"the test cluster did not start: {exc} {detail}".strip())
    return cluster
