"""A real A -> B -> A through the fixture site over a socket: recorded, listed and announced."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import feedparser
import pytest

from crawler.cli import main
from crawler.config import Alerts, ArchiveConfig, WebhookAlert
from crawler.jobs import FetchSettings, run_sync
from crawler.syncer import SyncOptions
from storage.document import Statement, dumps, loads
from tests.fixture_site import FixtureSite, usable_texts
from tests.receiver import Receiver
from tests.test_sync import whitehouse

pytestmark = [pytest.mark.corpus]
NOW = dt.datetime(2026, 8, 22, 12, 0, tzinfo=dt.UTC)


def sync(
    root: Path, site: FixtureSite, hook: Receiver, at: dt.datetime, **options: Any
) -> list[Any]:
    """One sync (as `statements sync` runs it) at a given time; the events its webhook got."""
    config = ArchiveConfig(alerts=Alerts(webhooks=(WebhookAlert(url=hook.url),)))
    fetch = FetchSettings(base_url=site.base_url, rate=0.0)
    posted_before = len(hook.posts)
    result = run_sync(
        root, [whitehouse()], SyncOptions(**options), fetch, config=config, clock=lambda: at
    )
    result.wait_for_deliveries(10)
    assert not result.broken and result.exit_code == 0
    return [e for _, body in hook.posts[posted_before:] for e in json.loads(body)["events"]]


def test_a_page_edited_then_put_back_is_announced_as_reverted(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = usable_texts((t for _, t in corpus), 5)
    a = loads(texts[0])
    url = a.source_url
    assert " the " in a.body
    b = dumps(Statement(a.meta, a.body.replace(" the ", " THE ", 1)))
    root = tmp_path / "archive"
    with FixtureSite(texts) as site, Receiver() as receiver:
        assert len(sync(root, site, receiver, NOW, full=True)) == 5
        site.edit(url, b)
        (edit,) = sync(root, site, receiver, NOW + dt.timedelta(hours=1))
        site.edit(url, texts[0])  # the words of A again, weeks later (its modified time moves)
        (revert,) = sync(root, site, receiver, NOW + dt.timedelta(days=20))
        flips = []
        for hours, text in ((1, b), (2, texts[0])):  # then it flaps: B, A within the hour
            site.edit(url, text)
            flips += sync(root, site, receiver, NOW + dt.timedelta(days=20, hours=hours))
    assert edit["kinds"] == ["updated", "metadata"] and "[-the-]{+THE+}" in edit["diff"]
    assert revert["kinds"] == ["updated", "metadata", "reverted"]
    assert revert["reverts"] == {
        "reverts": 2,
        "reverts_seen": edit["at"],
        "reverts_kinds": "updated metadata",
        "back_to": 1,
    }
    assert revert["diff"].startswith("Reverted: the page says again what it said at revision 1")
    assert "[-THE-]{+the+}" in revert["diff"]
    assert [f["kinds"] for f in flips] == [["updated", "metadata", "reverted", "flapping"]] * 2
    assert [f["reverts"]["flips"] for f in flips] == [1, 2]
    assert len({e["id"] for e in (edit, revert, *flips)}) == 4  # stable ids, one per event

    # The feed: the latest flip (the page says A now) stands for the flapping run.
    feed = feedparser.parse((root / "changes.atom").read_bytes())
    mine = [e for e in feed.entries if e.link == url]
    assert [e.title.split("]")[0] for e in mine] == [
        "[updated metadata reverted flapping",
        "[updated metadata reverted",
        "[updated metadata",
        "[new",
    ]
    assert "Flapping: flip-back 2 within a day." in mine[0].content[0].value
    assert "reverted" in mine[2].summary  # the edit says it was undone

    base = ["changes", "--archive", str(root), "--json"]
    assert main([*base, "--kind", "reverted"]) == 0
    assert [e["to_rev"] for e in json.loads(capsys.readouterr().out)] == [5, 3]
    assert main([*base, "--kind", "flapping", "--all"]) == 0
    assert [e["to_rev"] for e in json.loads(capsys.readouterr().out)] == [5, 4]
