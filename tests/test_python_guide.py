"""docs/python.md, run as written: every ``python`` code block, in order, in one namespace.

The blocks run in a temporary folder (their ``"archive"``) against the fixture site over a
socket (``STATEMENTS_BASE_URL``). Between the first sync and the second the site edits one
statement, as a publisher would, so the guide's history, diff and changes have an edit to show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storage.document import loads
from tests.conftest import CORPUS, PROJECT, need
from tests.fixture_site import FixtureSite, corpus_texts, usable_texts

pytestmark = [pytest.mark.corpus]

GUIDE = PROJECT / "docs" / "python.md"
ADDED = (
    "This sentence was added after the statement was first published"  # no full stop: words only
)


def blocks() -> list[str]:
    found = re.findall(r"^```python\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    assert len(found) >= 5, "docs/python.md lost its examples"
    return found


def test_every_example_of_the_python_guide_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = usable_texts(corpus_texts(need(CORPUS)), 6)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "guide"}
    with FixtureSite(texts) as site:
        monkeypatch.setenv("STATEMENTS_BASE_URL", site.base_url)
        first, *rest = blocks()
        exec(compile(first, f"{GUIDE}:block 1", "exec"), namespace)
        assert namespace["result"].saved == len(texts)  # type: ignore[attr-defined]
        edited = texts[0].rstrip("\n") + f"\n\n{ADDED}\n"
        site.edit(loads(texts[0]).source_url, edited)
        for number, block in enumerate(rest, start=2):
            exec(compile(block, f"{GUIDE}:block {number}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "updated" in out  # the second sync and the history saw the edit
    assert "{+" + ADDED.split()[0] in out  # the diff shows the added words
    assert "no source named 'no-such-source'" in out
    diff = namespace["diff"]
    assert (diff.old.number, diff.new.number) == (1, 2)  # type: ignore[attr-defined]
    assert diff.added == len(ADDED.split())  # type: ignore[attr-defined]
