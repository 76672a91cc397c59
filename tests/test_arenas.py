"""The CLI asks glibc for fewer malloc arenas (crawler/arenas.py), unless told otherwise."""

from __future__ import annotations

import ctypes
import platform
import sys
from typing import Any

import pytest

from crawler import arenas


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


def test_the_process_asks_glibc_for_two_arenas(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = FakeLibc()
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    assert arenas.fewer_arenas() is True
    assert libc.calls == [(-8, 2)]  # M_ARENA_MAX


def test_the_environment_or_another_c_library_leaves_it_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert arenas.fewer_arenas() is False and libc.calls == []
    monkeypatch.delenv("MALLOC_ARENA_MAX")

    def no_libc(name: str) -> Any:
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert arenas.fewer_arenas() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_real_libc_agrees() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MALLOC_ARENA_MAX", raising=False)
        assert arenas.fewer_arenas() is True  # this machine's C library is glibc
