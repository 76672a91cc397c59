from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import feedparser
import pytest

from crawler import announce
from crawler.announce import atom, git, webhook
from crawler.config import AtomAlert, WebhookAlert, load_config
from crawler.errors import SourceError
from storage.archive import Archive
from storage.event import Event
from tests.receiver import Receiver
from tests.test_archive import URL, Clock, make

NOW = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    archive = Archive(tmp_path / "archive", clock=Clock())
    archive.record(make(), origin=URL)
    archive.record(make("One two four and <five> & six.\n"), origin=URL)
    archive.record(
        make("One two four and <five> & six.\n", title="A \x00 retitled statement"), origin=URL
    )
    return archive


def test_the_atom_feed_is_valid_and_carries_the_word_diff(archive: Archive) -> None:
    path = atom.write_atom(archive, AtomAlert(), NOW)
    assert path == archive.root / "changes.atom"
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title.startswith("Changes in")
    assert len(feed.entries) == 3
    newest, updated, _ = feed.entries
    assert "[retitled]" in newest.title and updated.title.startswith("[updated]")
    content = updated.content[0]
    assert content.type == "text/html"  # type="html": the entry's HTML, escaped in the XML
    assert "<del>three</del><ins>four and &lt;five&gt; &amp; six</ins>" in content.value
    assert b"&lt;del&gt;three&lt;/del&gt;" in path.read_bytes()  # escaped, never raw markup
    assert "<dt>title</dt>" in newest.content[0].value
    assert updated.link == URL and {t.term for t in updated.tags} == {"updated"}
    only_updates = atom.write_atom(archive, AtomAlert(kinds=("updated",)), NOW)
    assert only_updates is not None
    assert len(feedparser.parse(only_updates.read_bytes()).entries) == 1


def test_entry_html_is_rendered_once_and_hostile_text_stays_text(tmp_path: Path) -> None:
    hostile = 'x</content><script>alert(1)</script>]]>&amp;"'
    archive = Archive(tmp_path / "archive", clock=Clock())
    archive.record(make("Plain words here.\n"), origin=URL)
    archive.record(make(f"Plain {hostile} here.\n", title=f"T {hostile}"), origin=URL)
    path = atom.write_atom(archive, AtomAlert(), NOW)
    assert path is not None
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    value = feed.entries[0].content[0].value
    assert "<script" not in value and "&lt;script&gt;" in value and "<ins>" in value
    stored = archive.index.event_html([e.id for e in archive.index.events()])
    assert len(stored) == 2  # kept: the next feed reads them, no diffing
    first = path.read_bytes()
    archive.index.db.execute("DELETE FROM event_html")  # as for events recorded before schema 8
    assert atom.write_atom(archive, AtomAlert(), NOW) == path and path.read_bytes() == first
    assert archive.index.event_html([e.id for e in archive.index.events()]) == stored


def test_filters_by_kind_source_and_size(archive: Archive) -> None:
    events = [Event.of(e) for e in archive.index.events()]
    updated = next(a for a in events if "updated" in a.kinds)
    assert updated.size == 8  # "three" out; "four", "and", "<", "five", ">", "&", "six" in
    assert announce.wanted(updated, ("updated",), (), 0)
    assert not announce.wanted(updated, ("retitled",), (), 0)
    assert not announce.wanted(updated, (), ("gov.uk",), 0)
    assert announce.wanted(updated, (), (), 8)
    assert not announce.wanted(updated, (), (), 9)


def test_webhooks_are_signed_and_a_dead_receiver_fails_nothing(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    events = [Event.of(e) for e in archive.index.events()]
    with Receiver() as receiver:
        hook = WebhookAlert(url=receiver.url, secret_env="HOOK_SECRET", kinds=("updated",))
        for thread in webhook.send([hook], "whitehouse", {"counts": {}}, events):
            thread.join(10)
        ((headers, body),) = receiver.posts
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers[webhook.SIGNATURE_HEADER.lower()] == expected
    payload = json.loads(body)
    assert [e["kinds"] for e in payload["events"]] == [["updated"]]
    sleeps: list[float] = []
    dead = WebhookAlert(url="http://127.0.0.1:9/hook", attempts=3, timeout=1.0)
    assert webhook.deliver(dead, body, sleep=sleeps.append) is False
    assert sleeps == [1.0, 2.0]
    with Receiver(status=500) as failing:
        assert not webhook.deliver(
            WebhookAlert(url=failing.url, attempts=2), body, sleep=sleeps.append
        )
        assert len(failing.posts) == 2


def test_archive_config_is_validated(tmp_path: Path) -> None:
    (tmp_path / "statements.toml").write_text(
        'commit = true\n[schedule.whitehouse]\nevery = "30m"\n'
        '[[alerts.webhooks]]\nurl = "https://example.org/h"\nkinds = ["updated", "silent"]\n'
    )
    config = load_config(tmp_path)
    assert config.commit and config.schedule["whitehouse"].every == "30m"
    assert config.alerts.webhooks[0].kinds == ("updated", "silent")
    (tmp_path / "statements.toml").write_text('[[alerts.webhooks]]\nurl = "x"\nkinds = ["big"]\n')
    with pytest.raises(SourceError, match=r"statements.toml, line 3: alerts.webhooks\[0\].kinds"):
        load_config(tmp_path)
    (tmp_path / "statements.toml").write_text("[alerts.atom]\nentries = 'many'\n")
    with pytest.raises(SourceError, match=r"alerts\.atom\.entries: expected an integer"):
        load_config(tmp_path)


def test_git_commit_summarises_the_sync(archive: Archive) -> None:
    events = [archive.record(make("Other words entirely.\n"), origin=URL)]
    head = git.commit(archive.root, [e for e in events if e is not None])
    assert head is not None
    events = [archive.record(make("Yet other words.\n"), origin=URL)]
    assert git.commit(archive.root, [e for e in events if e is not None]) is not None
    log = subprocess.run(
        ["git", "-C", str(archive.root), "log", "--format=%s"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The first commit is named after what the archive holds, the next after what changed.
    assert log.splitlines() == ["1 updated: A statement", "1 statement"]
    tracked = subprocess.run(
        ["git", "-C", str(archive.root), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".gitignore" in tracked and not any(t.startswith(".statements") for t in tracked)
    assert git.commit(archive.root, []) is None
    assert git.commit_message([e for e in events if e is not None]).startswith("1 updated")


def test_webhook_urls_are_redacted_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    hook = WebhookAlert(
        url="http://user:pa55@127.0.0.1:9/hook?token=t0k3n", attempts=1, timeout=0.5
    )
    assert webhook.deliver(hook, b"{}") is False
    assert (
        "pa55" not in caplog.text
        and "t0k3n" not in caplog.text
        and "127.0.0.1:9/hook" in caplog.text
    )
