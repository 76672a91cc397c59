"""Announcers: who is told of a sync's change events, behind one interface.

``base`` holds the :class:`Announcer` protocol, the registry of announcer factories by name
and what announcers share (the events a filter wants, from their stored text). The built-in
announcers register themselves here, in the order a run asks them:

- ``atom`` (:mod:`crawler.announce.atom`): ``changes.atom`` in the archive;
- ``git`` (:mod:`crawler.announce.git`): a commit of the changed files;
- ``webhooks`` (:mod:`crawler.announce.webhook`): signed POSTs from background threads (after
  the commit, so a receiver that pulls the archive finds it);
- ``apprise`` (:mod:`crawler.announce.apprise`): messages to Slack, Matrix, e-mail... through
  apprise (the optional extra ``[apprise]``), from a background thread.

All are configured in the archive's ``statements.toml`` (:mod:`crawler.config`). The run
(:mod:`crawler.jobs`) builds them with :func:`announcers_for` and asks them, through the outbox
(:mod:`crawler.announce.outbox`), to announce what they have not delivered yet, so no alert is
lost to a crash; an announcer to come (the HTML report) registers a factory under its name.
"""

from __future__ import annotations

from crawler.announce import atom, git, outbox, webhook

# isort: split
from crawler.announce import apprise  # registered after the webhooks: it runs after them
from crawler.announce.base import (
    Announcer,
    Batch,
    Delivery,
    Outcome,
    Run,
    announce_all,
    announcers_for,
    latest,
    register,
    registered,
    wanted,
)

__all__ = [
    "Announcer",
    "Batch",
    "Delivery",
    "Outcome",
    "Run",
    "announce_all",
    "announcers_for",
    "apprise",
    "atom",
    "git",
    "latest",
    "outbox",
    "register",
    "registered",
    "wanted",
    "webhook",
]
