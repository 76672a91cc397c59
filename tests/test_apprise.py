"""The apprise announcer: notifications by apprise URL, configured in statements.toml.

Delivered for real with apprise's ``json://`` notification to a receiver on 127.0.0.1: the same
filters as webhooks, never blocking or failing the sync, secrets from the environment or a file,
and no secret in any log line (apprise's and urllib3's own included).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crawler import announce, sync
from crawler.announce import apprise as notify
from crawler.announce import outbox
from crawler.config import Alerts, AppriseAlert, ArchiveConfig, AtomAlert, load_config
from crawler.errors import SourceError
from storage.archive import Archive
from storage.document import loads
from tests.fixture_site import FixtureSite, usable_texts
from tests.receiver import Receiver
from tests.test_announce import A, B, ask, record, reformat, run_of
from tests.test_archive import URL, Clock, make

pytest.importorskip("apprise", reason="apprise is the extra [apprise] (in dev)")

SECRET, TOKEN = "s3cr3tpass", "t0k3nvalue"


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    archive = Archive(tmp_path / "archive", clock=Clock())
    yield archive
    archive.close()


def json_url(receiver: Receiver) -> str:
    return receiver.url.replace("http://", "json://", 1)


def config(**alert: Any) -> ArchiveConfig:
    """Apprise (and the feed, off)."""
    return ArchiveConfig(
        alerts=Alerts(atom=AtomAlert(enabled=False), apprise=(AppriseAlert(**alert),))
    )


def test_a_sync_is_told_by_json_to_a_local_receiver(archive: Archive) -> None:
    first = record(archive, A).event
    assert first is not None and first.id is not None
    events = [record(archive, B), record(archive, A), reformat(archive)]
    with Receiver() as receiver:
        (archive.root / "statements.toml").write_text(
            f'[[alerts.apprise]]\nurls = ["{json_url(receiver)}"]\nkinds = ["updated"]\n'
        )
        outcomes = ask(load_config(archive.root), run_of(archive, first.id, events))
        ((headers, body),) = receiver.posts
    assert outcomes["apprise"].told == 2 and outcomes["apprise"].problem is None
    sent = json.loads(body)
    assert headers["content-type"].startswith("application/json")
    assert sent["title"] == "statement-sync: 2 changes on whitehouse"
    assert "[updated] A statement\nhttps://" in sent["message"]
    assert "[updated reverted flapping] A statement\nhttps://" in sent["message"]
    assert "reformatted" not in sent["message"]  # a reformat is never announced


def test_filters_are_the_webhooks_and_an_empty_run_sends_nothing(archive: Archive) -> None:
    first = record(archive, A).event
    assert first is not None and first.id is not None
    run = run_of(archive, first.id, [record(archive, B)])
    with Receiver() as receiver:
        url = json_url(receiver)
        for unwanted in ({"kinds": ("new",)}, {"sources": ("other",)}, {"min_change": 99}):
            assert ask(config(urls=(url,), **unwanted), run)["apprise"] == announce.Outcome(
                "apprise"
            )  # a change of a few words: under min_change 99
        assert ask(config(urls=(url,)), run_of(archive, first.id, []))["apprise"] == (
            announce.Outcome("apprise")
        )
        assert receiver.posts == []
        assert ask(config(urls=(url,), min_change=1), run)["apprise"].told == 1
        assert len(receiver.posts) == 1


class Stuck:
    """A receiver that holds every request until released: a service that hangs."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.arrived.set()
                outer.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_delivery_never_blocks_the_sync(archive: Archive) -> None:
    first = record(archive, A).event
    assert first is not None and first.id is not None
    run = run_of(archive, first.id, [record(archive, B)])
    stuck = Stuck()
    try:
        (notifier,) = [
            a for a in announce.announcers_for(config(urls=(stuck.url,))) if a.name == "apprise"
        ]
        outcome = notifier.announce(run)  # returns while the service still holds the request
        assert outcome.told == 1 and len(outcome.pending) == 1
        assert stuck.arrived.wait(20) and outcome.pending[0].is_alive()
        stuck.release.set()
        outcome.pending[0].join(20)
        assert not outcome.pending[0].is_alive()
    finally:
        stuck.release.set()
        stuck.server.shutdown()
        stuck.server.server_close()


def test_urls_come_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPRISE_URLS", "json://a.example/x  json://b.example/y")
    monkeypatch.setenv("HOOK_TOKEN", TOKEN)
    listed = tmp_path / "urls"
    listed.write_text("# my services\n\njson://c.example/z\n")
    alert = AppriseAlert(
        urls=("json://d.example/?token=${HOOK_TOKEN}",),
        url_env="APPRISE_URLS",
        url_file=str(listed),
    )
    assert notify.urls_of(alert) == [
        f"json://d.example/?token={TOKEN}",
        "json://a.example/x",
        "json://b.example/y",
        "json://c.example/z",
    ]
    monkeypatch.delenv("HOOK_TOKEN")
    with pytest.raises(notify.NoURL, match="HOOK_TOKEN in an apprise URL is not set"):
        notify.urls_of(alert)
    with pytest.raises(notify.NoURL, match=r"NOPE \(url_env\) is not set"):
        notify.urls_of(AppriseAlert(url_env="NOPE"))
    with pytest.raises(notify.NoURL, match="cannot read url_file"):
        notify.urls_of(AppriseAlert(url_file=str(tmp_path / "absent")))


def test_a_missing_secret_or_extra_is_a_logged_problem_never_a_failure(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = record(archive, A).event
    assert first is not None and first.id is not None
    run = run_of(archive, first.id, [record(archive, B)])
    monkeypatch.delenv("STATEMENTS_TEST_UNSET", raising=False)
    outcome = ask(config(url_env="STATEMENTS_TEST_UNSET"), run)["apprise"]
    assert outcome.told == 0 and "STATEMENTS_TEST_UNSET" in (outcome.problem or "")
    real = notify.importlib.util.find_spec
    monkeypatch.setattr(
        notify.importlib.util, "find_spec", lambda name: None if name == "apprise" else real(name)
    )
    outcome = ask(config(urls=("json://127.0.0.1:9/x",)), run)["apprise"]
    assert "pip install 'statement-sync[apprise]'" in (outcome.problem or "")


def test_secrets_never_reach_a_log_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)  # apprise's and urllib3's own debug lines too
    monkeypatch.setenv("APPRISE_URLS", f"json://user:{SECRET}@127.0.0.1:9/hook?token={TOKEN}")
    urls = notify.urls_of(AppriseAlert(url_env="APPRISE_URLS"))
    urls += [f"notascheme://{SECRET}@host/x", f"json:/{TOKEN}"]
    assert notify.deliver(urls, [("title", "body")], timeout=2.0) is False  # nothing listens
    notify._SCRUB.remember(urls)
    assert notify.redact(urls[0]) == "json://user:****@127.0.0.1:9/hook"
    assert notify.redact(urls[1]) == "notascheme://…"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.1:9/hook" in logged and "not delivered" in logged
    assert SECRET not in logged and TOKEN not in logged and SECRET not in caplog.text


def test_the_config_is_validated(tmp_path: Path) -> None:
    toml = tmp_path / "statements.toml"
    toml.write_text(
        '[[alerts.apprise]]\nurl_env = "SLACK_URL"\nkinds = ["updated"]\nmin_change = 3\n'
    )
    (alert,) = load_config(tmp_path).alerts.apprise
    assert (alert.url_env, alert.kinds, alert.min_change, alert.timeout) == (
        "SLACK_URL",
        ("updated",),
        3,
        10.0,
    )
    for text, key in (
        ("[[alerts.apprise]]\nkinds = []\n", r"alerts\.apprise\[0\]\.urls"),
        ('[[alerts.apprise]]\nurl_env = "X"\nkinds = ["big"]\n', r"alerts\.apprise\[0\]\.kinds"),
        ('[[alerts.apprise]]\nurl_env = "X"\ntimeout = 0\n', r"alerts\.apprise\[0\]\.timeout"),
        ('[[alerts.apprise]]\nurl = "json://x"\n', r"alerts\.apprise\[0\]\.url"),
    ):
        toml.write_text(text)
        with pytest.raises(SourceError, match=key):
            load_config(tmp_path)


@pytest.mark.corpus
def test_a_real_sync_notifies_through_apprise(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path
) -> None:
    """``crawler.sync()`` over a socket, configured by the archive's statements.toml."""
    texts = usable_texts((t for _, t in corpus), 5)
    root = tmp_path / "archive"
    root.mkdir()
    with FixtureSite(texts) as site, Receiver() as receiver:
        (root / "statements.toml").write_text(
            f'[[alerts.apprise]]\nurls = ["{json_url(receiver)}"]\nkinds = ["new"]\n'
        )
        result = sync(root, ["whitehouse"], base_url=site.base_url, rate=0, full=True)
        result.wait_for_deliveries(20)
        ((_, body),) = receiver.posts
    assert result.exit_code == 0 and result.reports[0].counts["new"] == 5
    sent = json.loads(body)
    assert sent["title"] == "statement-sync: 5 changes on whitehouse"
    assert sent["message"].count("[new] ") == 5
    assert all(loads(t).title in sent["message"] for t in texts)


def test_a_failed_notification_stays_in_the_outbox_until_delivered(tmp_path: Path) -> None:
    """Each ``[[alerts.apprise]]`` entry is its own announcer in the outbox (by a digest, no
    secret in its name): a service that answers 503 keeps its events pending, the next run
    sends them, and then nothing is pending."""
    with Receiver(status=503) as down:
        url = json_url(down)
        cfg = config(urls=(url,))
        announcers = [a for a in announce.announcers_for(cfg) if a.name == "apprise"]
        (key,) = [outbox.key(a) for a in announcers]
        assert key.startswith("apprise #") and "127.0.0.1" not in key
        with Archive(tmp_path / "archive", clock=Clock()) as archive:
            outbox.enable(archive, announcers)
            archive.record(make("One two three.\n"), origin=URL, source="whitehouse")
            archive.record(make("One two four.\n"), origin=URL, source="whitehouse")
            outbox.deliver(archive, announcers, Clock()())
            assert len(down.posts) == 1
            assert archive.index.outbox_state()[key][:2] == (2, 1)  # kept, one attempt
        down.status = 200
        with Archive(tmp_path / "archive", clock=Clock()) as archive:
            outbox.deliver(archive, announcers, Clock()())
            assert archive.index.outbox_state()[key][0] == 0
    assert len(down.posts) == 2 and "2 changes" in json.loads(down.posts[1][1])["title"]
