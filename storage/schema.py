"""The index's schema, as migrations: entry N brings an index from version N to N + 1.

A migration is never edited once released; a change to the schema is a new entry. ``docs/index.md``
describes the tables.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE statements (
        id             INTEGER PRIMARY KEY,
        url            TEXT NOT NULL UNIQUE,
        path           TEXT NOT NULL UNIQUE,
        slug           TEXT NOT NULL,
        source         TEXT,
        title          TEXT NOT NULL,
        published_time TEXT,
        status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
        head           INTEGER NOT NULL,
        first_seen     TEXT NOT NULL,
        last_seen      TEXT NOT NULL
    );
    CREATE INDEX statements_slug ON statements (slug);
    CREATE TABLE urls (
        url          TEXT PRIMARY KEY,
        statement_id INTEGER NOT NULL REFERENCES statements (id),
        first_seen   TEXT NOT NULL
    );
    CREATE TABLE revisions (
        id             INTEGER PRIMARY KEY,
        statement_id   INTEGER NOT NULL REFERENCES statements (id),
        number         INTEGER NOT NULL,
        seen_at        TEXT NOT NULL,
        origin         TEXT NOT NULL,
        url            TEXT NOT NULL,
        path           TEXT NOT NULL,
        title          TEXT NOT NULL,
        published_time TEXT,
        modified_time  TEXT,
        content_hash   TEXT NOT NULL,
        words_hash     TEXT NOT NULL,
        front_matter   TEXT NOT NULL,
        body           TEXT NOT NULL,
        UNIQUE (statement_id, number)
    );
    CREATE TABLE fetch_state (
        statement_id    INTEGER PRIMARY KEY REFERENCES statements (id),
        etag            TEXT,
        last_modified   TEXT,
        sitemap_lastmod TEXT,
        last_checked    TEXT,
        last_status     INTEGER
    );
    CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        statement_id INTEGER NOT NULL REFERENCES statements (id),
        at           TEXT NOT NULL,
        kinds        TEXT NOT NULL,
        from_rev     INTEGER,
        to_rev       INTEGER,
        detail       TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX revisions_origin ON revisions (origin);
    CREATE INDEX events_at ON events (at);
    CREATE INDEX events_statement ON events (statement_id);
    """,
    # 2: find a statement by its words (a statement that reappears under a new URL).
    """
    CREATE INDEX revisions_words ON revisions (words_hash);
    CREATE INDEX statements_source ON statements (source);
    """,
    # 3: the scheduler's state and every sync run, so a restart resumes the schedule.
    """
    CREATE TABLE runs (
        id       INTEGER PRIMARY KEY,
        source   TEXT NOT NULL,
        started  TEXT NOT NULL,
        finished TEXT NOT NULL,
        ok       INTEGER NOT NULL,
        summary  TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_source ON runs (source, started);
    CREATE TABLE schedule (
        job       TEXT PRIMARY KEY,
        last_fire TEXT,
        next_fire TEXT
    );
    """,
    # 4: files a committed batch still has to move into place (rolled forward after a crash).
    """
    CREATE TABLE pending_files (
        tmp   TEXT PRIMARY KEY,
        final TEXT NOT NULL
    );
    """,
    # 5: each event's announcement, rendered once when recorded (NULL: not yet, filled lazily);
    # flip-backs recorded before reverts had a kind of their own become "reverted flapping".
    # and where discovery last listed a statement (a sitemap document, a listing's start URL), so
    # a statement that leaves a place read again is re-checked without --full.
    # Also: a statement can be replaced (a different document took its URL over) or withdrawn, so
    # statements.url is no longer unique (the urls table says which statement a URL leads to);
    # and a reformat-only difference waits in pending_reformats for `statements reformat`.
    # The table is rebuilt with foreign keys off (Index._migrate), as SQLite prescribes.
    """
    ALTER TABLE events ADD COLUMN diff TEXT;
    ALTER TABLE events ADD COLUMN size INTEGER;
    UPDATE events SET
        kinds = kinds || ' reverted flapping',
        detail = json_set(
            detail,
            '$.reverts', json_extract(detail, '$.flap_of'),
            '$.back_to', json_extract(detail, '$.flap_of') - 1,
            '$.reverts_kinds', (
                SELECT u.kinds FROM events u WHERE u.statement_id = events.statement_id
                AND u.to_rev = json_extract(events.detail, '$.flap_of')
            ),
            '$.reverts_seen', (
                SELECT r.seen_at FROM revisions r WHERE r.statement_id = events.statement_id
                AND r.number = json_extract(events.detail, '$.flap_of')
            )
        )
    WHERE json_extract(detail, '$.flap_of') IS NOT NULL;
    ALTER TABLE fetch_state ADD COLUMN sitemap TEXT;
    ALTER TABLE fetch_state ADD COLUMN listing TEXT;
    CREATE INDEX fetch_state_sitemap ON fetch_state (sitemap);
    CREATE INDEX fetch_state_listing ON fetch_state (listing);
    CREATE TABLE statements_new (
        id             INTEGER PRIMARY KEY,
        url            TEXT NOT NULL,
        path           TEXT NOT NULL UNIQUE,
        slug           TEXT NOT NULL,
        source         TEXT,
        title          TEXT NOT NULL,
        published_time TEXT,
        status         TEXT NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'removed', 'replaced', 'withdrawn')),
        head           INTEGER NOT NULL,
        first_seen     TEXT NOT NULL,
        last_seen      TEXT NOT NULL
    );
    INSERT INTO statements_new (id, url, path, slug, source, title, published_time, status, head,
        first_seen, last_seen)
        SELECT id, url, path, slug, source, title, published_time, status, head, first_seen,
        last_seen FROM statements;
    DROP TABLE statements;
    ALTER TABLE statements_new RENAME TO statements;
    CREATE INDEX statements_slug ON statements (slug);
    CREATE INDEX statements_source ON statements (source);
    CREATE INDEX statements_url ON statements (url);
    CREATE TABLE pending_reformats (
        statement_id INTEGER PRIMARY KEY REFERENCES statements (id),
        base_rev     INTEGER NOT NULL,
        seen_at      TEXT NOT NULL,
        origin       TEXT NOT NULL,
        text         TEXT NOT NULL
    );
    """,
    # 6: the outbox: which announcers an archive announces to, and each event's announcement
    # that one of them has not yet delivered (written with the event, deleted once delivered).
    """
    CREATE TABLE announcers (
        name  TEXT PRIMARY KEY,
        since INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        announcer  TEXT NOT NULL REFERENCES announcers (name) ON DELETE CASCADE,
        event_id   INTEGER NOT NULL REFERENCES events (id),
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        PRIMARY KEY (announcer, event_id)
    );
    """,
    # 7: full-text search over the title and body of every revision (`statements search`).
    # An external-content FTS5 table: it keeps only the inverted index, the text stays in
    # `revisions` (no second copy); the latest revisions are those at `statements.head`.
    # Index.add_revision adds each new revision in the transaction that records it; the
    # 'rebuild' command indexes the revisions of an existing archive once. `content="revisions"`
    # is written the way Datasette looks for it, so its table page of revisions has a search box.
    # Two views for people browsing the index (Datasette, sqlite3): `latest`, each statement with
    # its latest text, and `changes`, each change event with its statement's title and path.
    """
    CREATE VIRTUAL TABLE revisions_fts USING fts5(
        title, body, content="revisions", content_rowid="id",
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO revisions_fts (revisions_fts) VALUES ('rebuild');
    CREATE VIEW latest AS
        SELECT s.id, s.url, s.path, s.source, s.status, s.title, s.published_time,
            r.modified_time, s.head AS revisions, s.first_seen, s.last_seen, r.id AS revision_id,
            r.body
        FROM statements s JOIN revisions r ON r.statement_id = s.id AND r.number = s.head;
    CREATE VIEW changes AS
        SELECT e.id, e.at, e.kinds, s.title, s.path, s.url, s.source, e.from_rev, e.to_rev,
            e.size, e.diff, e.statement_id
        FROM events e JOIN statements s ON s.id = e.statement_id;
    """,
    # 8: the HTML of an event's announcement (the Atom entry's content), rendered once.
    """
    CREATE TABLE event_html (
        event_id INTEGER PRIMARY KEY REFERENCES events (id),
        html     TEXT NOT NULL
    );
    """,
    # 9: a statement's stable id, as its source names it (GOV.UK's content_id, a WordPress post
    # id): it keeps its identity, history and file when its URL changes (a move by id). Unique
    # per source; NULL for a source that names none (the urls table keeps every URL it had).
    """
    ALTER TABLE statements ADD COLUMN stable_id TEXT;
    CREATE UNIQUE INDEX statements_stable_id ON statements (source, stable_id)
        WHERE stable_id IS NOT NULL;
    """,
    # 10: what the publisher declared with each revision (JSON, NULL: nothing): its change notes
    # (time and note), a withdrawal notice (time and explanation) and facts for the index (a
    # stable id, organisations, people); see storage/declared.py.
    """
    ALTER TABLE revisions ADD COLUMN declared TEXT;
    """,
    # 11: a website's statement linked to its official text (a whitehouse.gov executive order
    # and the Federal Register document that publishes it): `basis` says how they were matched
    # ('executive_order_number' or 'title_and_signing_date') and `key` by what (the number, or
    # the signing date); see storage/links.py. One link per pair; `statements compare` reads it.
    """
    CREATE TABLE official_links (
        website_id  INTEGER NOT NULL REFERENCES statements (id),
        official_id INTEGER NOT NULL REFERENCES statements (id),
        basis       TEXT NOT NULL,
        key         TEXT NOT NULL,
        linked_at   TEXT NOT NULL,
        PRIMARY KEY (website_id, official_id)
    );
    CREATE INDEX official_links_official ON official_links (official_id);
    """,
    # 12: each post of a source's content API (a WordPress REST API) as it was when its
    # statement was last checked: the post's id, the statement it is, a fingerprint of its
    # content's words, its title and modified time. An API audit (crawler/wpapi.py) compares the
    # API with these rows and fetches as pages only the posts that changed.
    """
    CREATE TABLE api_posts (
        source       TEXT NOT NULL,
        post_id      TEXT NOT NULL,
        statement_id INTEGER NOT NULL REFERENCES statements (id),
        fingerprint  TEXT NOT NULL,
        title        TEXT NOT NULL,
        modified     TEXT,
        checked      TEXT NOT NULL,
        PRIMARY KEY (source, post_id)
    );
    CREATE INDEX api_posts_statement ON api_posts (statement_id);
    """,
    # 13: the run that recorded each event (NULL: recorded outside a run, or before this), so
    # "this sync's events" holds when workers sharing an index record side by side, where
    # event ids are handed out in insert order, not commit order (docs/team.md).
    """
    ALTER TABLE events ADD COLUMN run TEXT;
    CREATE INDEX events_run ON events (run);
    """,
)
