"""SQLite schema migrations, applied in order and recorded in `PRAGMA user_version`."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: directory, collections, objects, statuses
    """
    CREATE TABLE orgs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        identity_id TEXT NOT NULL UNIQUE,
        member INTEGER NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        org_id INTEGER REFERENCES orgs(id),
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        secret_hash BLOB NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created INTEGER NOT NULL,
        revoked INTEGER
    );
    CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        created_by INTEGER NOT NULL REFERENCES orgs(id),
        created INTEGER NOT NULL
    );
    CREATE TABLE group_members (
        group_id INTEGER NOT NULL REFERENCES groups(id),
        org_id INTEGER NOT NULL REFERENCES orgs(id),
        owner INTEGER NOT NULL,
        PRIMARY KEY (group_id, org_id)
    ) WITHOUT ROWID;
    CREATE INDEX group_members_by_org ON group_members(org_id);
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        ref INTEGER,
        title TEXT NOT NULL,
        description TEXT NOT NULL
    );
    CREATE UNIQUE INDEX collections_channel ON collections(kind, ifnull(ref, -1));
    CREATE TABLE objects (
        seq INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL,
        stix_id TEXT NOT NULL,
        type TEXT NOT NULL,
        spec_version TEXT NOT NULL,
        version_us INTEGER NOT NULL,
        date_added INTEGER NOT NULL,
        is_first INTEGER NOT NULL,
        is_last INTEGER NOT NULL,
        author_org INTEGER NOT NULL,
        created_by_ref TEXT,
        tlp TEXT NOT NULL,
        tlp_defaulted INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE UNIQUE INDEX objects_version ON objects(collection_id, stix_id, version_us);
    CREATE UNIQUE INDEX objects_date_added ON objects(date_added);
    CREATE INDEX objects_by_collection ON objects(collection_id, date_added);
    CREATE INDEX objects_by_type ON objects(collection_id, type, date_added);
    CREATE INDEX objects_last ON objects(collection_id, date_added) WHERE is_last = 1;
    CREATE TABLE tombstones (
        seq INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL,
        stix_id TEXT NOT NULL,
        version_us INTEGER NOT NULL,
        author_org INTEGER NOT NULL,
        deleted_at INTEGER NOT NULL
    );
    CREATE TABLE statuses (
        uuid TEXT PRIMARY KEY,
        org_id INTEGER,
        request_us INTEGER NOT NULL,
        total INTEGER NOT NULL,
        successes TEXT NOT NULL,
        failures TEXT NOT NULL
    );
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO counters(name, value) VALUES ('date_added', 0);
    """,
    # 2: trust — org keys and custody, sealed objects, the audit log
    """
    ALTER TABLE orgs ADD COLUMN custody TEXT NOT NULL DEFAULT 'node';
    CREATE TABLE org_keys (
        key_id TEXT PRIMARY KEY,
        org_id INTEGER NOT NULL REFERENCES orgs(id),
        purpose TEXT NOT NULL,
        public_key BLOB NOT NULL,
        created INTEGER NOT NULL,
        valid_until INTEGER,
        revoked_at INTEGER,
        revoked_reason TEXT,
        wrapped_private BLOB
    );
    CREATE INDEX org_keys_by_org ON org_keys(org_id, purpose);
    ALTER TABLE objects ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE audit_log (
        position INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        entry BLOB NOT NULL,
        leaf_hash BLOB NOT NULL
    );
    CREATE INDEX audit_by_action ON audit_log(action, position);
    CREATE TABLE audit_heads (
        tree_size INTEGER PRIMARY KEY,
        root_hash BLOB NOT NULL,
        at INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        signature BLOB NOT NULL
    );
    CREATE TABLE audit_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tree_size INTEGER NOT NULL,
        last_leaf BLOB,
        frontier BLOB NOT NULL
    );
    INSERT INTO audit_state(id, tree_size, last_leaf, frontier) VALUES (1, 0, NULL, x'');
    """,
    # 3: full-text search over normalized text (the latest version of each object per channel;
    # rowid = objects.date_added, unique per node)
    """
    CREATE VIRTUAL TABLE search_index USING fts5(
        body, stems, tokenize = 'unicode61 remove_diacritics 0'
    );
    """,
    # 4: observables of the latest version of each object per channel (correlations are found
    # by joining on them at read time: no correlation rows are stored)
    """
    CREATE TABLE observables (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        date_added INTEGER NOT NULL
    );
    CREATE INDEX observables_by_value ON observables(kind, value, date_added);
    CREATE INDEX observables_by_object ON observables(date_added);
    """,
    # 5: federation — peers and their sync state; where each org, group and stored version
    # came from; tombstones take their position from the date_added counter, so one strictly
    # increasing position orders the change feed of versions and deletions together (older
    # tombstones, from before any peer, get negative positions: no feed ever reads them)
    """
    CREATE TABLE peers (
        id INTEGER PRIMARY KEY,
        node_id TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        public_key BLOB NOT NULL UNIQUE,
        paused INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL,
        cursor INTEGER NOT NULL DEFAULT 0,
        peer_head INTEGER NOT NULL DEFAULT 0,
        directory_version INTEGER NOT NULL DEFAULT 0,
        last_ok INTEGER,
        last_error TEXT,
        last_error_at INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        retry_at INTEGER,
        via_peer INTEGER,
        channels TEXT NOT NULL DEFAULT '[]',
        directory_doc BLOB
    );
    ALTER TABLE orgs ADD COLUMN home_peer INTEGER;
    ALTER TABLE groups ADD COLUMN home_peer INTEGER;
    ALTER TABLE objects ADD COLUMN via_peer INTEGER;
    ALTER TABLE tombstones ADD COLUMN via_peer INTEGER;
    ALTER TABLE tombstones ADD COLUMN tlp TEXT NOT NULL DEFAULT '';
    UPDATE tombstones SET deleted_at = -seq WHERE tlp = '';
    CREATE INDEX tombstones_by_position ON tombstones(deleted_at);
    CREATE INDEX tombstones_by_version ON tombstones(collection_id, stix_id, version_us);
    """,
    # 6: the directory records (STIX identities) of orgs hosted by peers, as their nodes
    # signed them, served where the orgs' items are read; and whether an org published
    # anything a reader sees in a channel (which decides whether its identity is served there)
    # found by an index rather than a scan of the channel
    """
    CREATE TABLE directory_records (
        org_id INTEGER PRIMARY KEY REFERENCES orgs(id),
        version_us INTEGER NOT NULL,
        received INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE INDEX objects_by_author ON objects(author_org, collection_id);
    """,
    # 7: people — persons of orgs (e-mail unique across the node), their one-time enrolment
    # and reset links, sessions, passkeys, and counters of failed sign-ins; a token may belong
    # to a person (a personal token) and expire, and names the person who made an org token;
    # ids of the people tables are never reused (AUTOINCREMENT): a removed person's revoked
    # tokens and log entries never attach to someone invited later
    """
    CREATE TABLE people (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id INTEGER NOT NULL REFERENCES orgs(id),
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        created INTEGER NOT NULL,
        password_hash TEXT,
        totp_wrapped BLOB,
        totp_last_step INTEGER
    );
    CREATE INDEX people_by_org ON people(org_id);
    CREATE TABLE person_links (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id INTEGER NOT NULL REFERENCES people(id),
        purpose TEXT NOT NULL,
        secret_hash BLOB NOT NULL UNIQUE,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        used INTEGER,
        issued_by TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX person_links_by_person ON person_links(person_id);
    CREATE TABLE person_sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id INTEGER NOT NULL REFERENCES people(id),
        secret_hash BLOB NOT NULL UNIQUE,
        created INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        revoked INTEGER,
        address TEXT NOT NULL,
        user_agent TEXT NOT NULL,
        stage TEXT NOT NULL,
        factor TEXT NOT NULL
    );
    CREATE INDEX person_sessions_by_person ON person_sessions(person_id);
    CREATE TABLE passkeys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id INTEGER NOT NULL REFERENCES people(id),
        credential_id BLOB NOT NULL UNIQUE,
        public_key BLOB NOT NULL,
        sign_count INTEGER NOT NULL,
        label TEXT NOT NULL,
        created INTEGER NOT NULL,
        last_used INTEGER
    );
    CREATE INDEX passkeys_by_person ON passkeys(person_id);
    CREATE TABLE sign_in_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure INTEGER NOT NULL,
        locked_until INTEGER
    );
    CREATE INDEX sign_in_failures_by_age ON sign_in_failures(last_failure);
    ALTER TABLE tokens ADD COLUMN person_id INTEGER;
    ALTER TABLE tokens ADD COLUMN expires INTEGER;
    ALTER TABLE tokens ADD COLUMN created_by_person INTEGER;
    CREATE INDEX tokens_by_person ON tokens(person_id) WHERE person_id IS NOT NULL;
    """,
    # 8: WebAuthn challenges, each bound to the browser it was issued to (the hash of a cookie
    # secret and a purpose), taken once and short-lived
    """
    CREATE TABLE webauthn_challenges (
        binding BLOB PRIMARY KEY,
        challenge BLOB NOT NULL,
        expires INTEGER NOT NULL
    );
    CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges(expires);
    """,
    # 9: a person's inbox filtered by author org or TLP, newest first: each channel's latest
    # versions of one author (or one TLP) walked in date order, never the whole channel
    """
    CREATE INDEX objects_last_by_author ON objects(collection_id, author_org, date_added)
        WHERE is_last = 1;
    CREATE INDEX objects_last_by_tlp ON objects(collection_id, tlp, date_added)
        WHERE is_last = 1;
    """,
]
