"""PostgreSQL schema migrations, applied in order and recorded in `tabadol_schema`.

The same tables and meaning as the SQLite schema (its migrations 1-5, as they stand), in
PostgreSQL's types: BIGINT microseconds, BYTEA for stored bodies (served as stored, never
re-encoded), and flags as INTEGER 0/1 as in SQLite, so that the two dialects share their SQL.
Search is a `tsvector` with the `simple` configuration over the normalized text the text layer
produces (never a language configuration: tokens arrive already normalized and stemmed), with
a GIN index; it replaces SQLite's FTS5 table.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: everything SQLite's migrations 1-5 hold
    """
    CREATE TABLE orgs (
        id BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        identity_id TEXT NOT NULL UNIQUE,
        member INTEGER NOT NULL,
        created BIGINT NOT NULL,
        custody TEXT NOT NULL DEFAULT 'node',
        home_peer BIGINT
    );
    CREATE TABLE tokens (
        id BIGSERIAL PRIMARY KEY,
        org_id BIGINT REFERENCES orgs(id),
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        secret_hash BYTEA NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created BIGINT NOT NULL,
        revoked BIGINT
    );
    CREATE TABLE groups (
        id BIGSERIAL PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        created_by BIGINT NOT NULL REFERENCES orgs(id),
        created BIGINT NOT NULL,
        home_peer BIGINT
    );
    CREATE TABLE group_members (
        group_id BIGINT NOT NULL REFERENCES groups(id),
        org_id BIGINT NOT NULL REFERENCES orgs(id),
        owner INTEGER NOT NULL,
        PRIMARY KEY (group_id, org_id)
    );
    CREATE INDEX group_members_by_org ON group_members(org_id);
    CREATE TABLE collections (
        id BIGSERIAL PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        ref BIGINT,
        title TEXT NOT NULL,
        description TEXT NOT NULL
    );
    CREATE UNIQUE INDEX collections_channel ON collections(kind, coalesce(ref, -1));
    CREATE TABLE objects (
        seq BIGSERIAL PRIMARY KEY,
        collection_id BIGINT NOT NULL,
        stix_id TEXT NOT NULL,
        type TEXT NOT NULL,
        spec_version TEXT NOT NULL,
        version_us BIGINT NOT NULL,
        date_added BIGINT NOT NULL,
        is_first INTEGER NOT NULL,
        is_last INTEGER NOT NULL,
        author_org BIGINT NOT NULL,
        created_by_ref TEXT,
        tlp TEXT NOT NULL,
        tlp_defaulted INTEGER NOT NULL,
        body BYTEA NOT NULL,
        sealed INTEGER NOT NULL DEFAULT 0,
        via_peer BIGINT
    );
    CREATE UNIQUE INDEX objects_version ON objects(collection_id, stix_id, version_us);
    CREATE UNIQUE INDEX objects_date_added ON objects(date_added);
    CREATE INDEX objects_by_collection ON objects(collection_id, date_added);
    CREATE INDEX objects_by_type ON objects(collection_id, type, date_added);
    CREATE INDEX objects_last ON objects(collection_id, date_added) WHERE is_last = 1;
    CREATE TABLE tombstones (
        seq BIGSERIAL PRIMARY KEY,
        collection_id BIGINT NOT NULL,
        stix_id TEXT NOT NULL,
        version_us BIGINT NOT NULL,
        author_org BIGINT NOT NULL,
        deleted_at BIGINT NOT NULL,
        via_peer BIGINT,
        tlp TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX tombstones_by_position ON tombstones(deleted_at);
    CREATE INDEX tombstones_by_version ON tombstones(collection_id, stix_id, version_us);
    CREATE TABLE statuses (
        uuid TEXT PRIMARY KEY,
        org_id BIGINT,
        request_us BIGINT NOT NULL,
        total INTEGER NOT NULL,
        successes BYTEA NOT NULL,  -- JSON, as the SQLite store writes it
        failures BYTEA NOT NULL
    );
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO counters(name, value) VALUES ('date_added', 0);
    CREATE TABLE org_keys (
        key_id TEXT PRIMARY KEY,
        org_id BIGINT NOT NULL REFERENCES orgs(id),
        purpose TEXT NOT NULL,
        public_key BYTEA NOT NULL,
        created BIGINT NOT NULL,
        valid_until BIGINT,
        revoked_at BIGINT,
        revoked_reason TEXT,
        wrapped_private BYTEA
    );
    CREATE INDEX org_keys_by_org ON org_keys(org_id, purpose);
    CREATE TABLE audit_log (
        position BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        entry BYTEA NOT NULL,
        leaf_hash BYTEA NOT NULL
    );
    CREATE INDEX audit_by_action ON audit_log(action, position);
    CREATE TABLE audit_heads (
        tree_size BIGINT PRIMARY KEY,
        root_hash BYTEA NOT NULL,
        at BIGINT NOT NULL,
        key_id TEXT NOT NULL,
        signature BYTEA NOT NULL
    );
    CREATE TABLE audit_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tree_size BIGINT NOT NULL,
        last_leaf BYTEA,
        frontier BYTEA NOT NULL
    );
    INSERT INTO audit_state(id, tree_size, last_leaf, frontier) VALUES (1, 0, NULL, '');
    CREATE TABLE search_index (
        rowid BIGINT PRIMARY KEY,  -- objects.date_added, named as SQLite's FTS5 rowid
        body TEXT NOT NULL,
        stems TEXT NOT NULL,
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', body), 'A')
            || setweight(to_tsvector('simple', stems), 'B')
        ) STORED
    );
    CREATE INDEX search_document ON search_index USING GIN (document);
    CREATE TABLE observables (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        date_added BIGINT NOT NULL
    );
    CREATE INDEX observables_by_value ON observables(kind, value, date_added);
    CREATE INDEX observables_by_object ON observables(date_added);
    CREATE TABLE peers (
        id BIGSERIAL PRIMARY KEY,
        node_id TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        public_key BYTEA NOT NULL UNIQUE,
        paused INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        created BIGINT NOT NULL,
        cursor BIGINT NOT NULL DEFAULT 0,
        peer_head BIGINT NOT NULL DEFAULT 0,
        directory_version BIGINT NOT NULL DEFAULT 0,
        last_ok BIGINT,
        last_error TEXT,
        last_error_at BIGINT,
        failures INTEGER NOT NULL DEFAULT 0,
        retry_at BIGINT,
        via_peer BIGINT,
        channels TEXT NOT NULL DEFAULT '[]',
        directory_doc BYTEA
    );
    """,
    # 2: the latest versions of one type, newest first without a sort (match[type] on the
    # default latest-version reads; SQLite finds them through objects_by_type)
    """
    CREATE INDEX objects_last_by_type ON objects(collection_id, type, date_added)
        WHERE is_last = 1;
    """,
    # 3: a search row keeps only its tsvector. The shared code inserts the normalized text
    # (body, stems) as into FTS5; a trigger turns it into the document and stores no text:
    # nothing reads it after indexing, and it made the rows a search reads one by one ~1.8x
    # wider. The table is rebuilt rather than updated, so it is compact afterwards.
    """
    CREATE TABLE search_index_slim (
        rowid BIGINT PRIMARY KEY,
        body TEXT NOT NULL,  -- always '': the shared INSERT names it
        stems TEXT NOT NULL,  -- always ''
        document tsvector NOT NULL
    );
    INSERT INTO search_index_slim(rowid, body, stems, document)
        SELECT rowid, '', '', document FROM search_index;
    DROP TABLE search_index;
    ALTER TABLE search_index_slim RENAME TO search_index;
    ALTER INDEX search_index_slim_pkey RENAME TO search_index_pkey;
    CREATE INDEX search_document ON search_index USING GIN (document);
    CREATE FUNCTION search_index_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.document := setweight(to_tsvector('simple', NEW.body), 'A')
            || setweight(to_tsvector('simple', NEW.stems), 'B');
        NEW.body := '';
        NEW.stems := '';
        RETURN NEW;
    END $$;
    CREATE TRIGGER search_index_document BEFORE INSERT OR UPDATE ON search_index
        FOR EACH ROW EXECUTE FUNCTION search_index_document();
    """,
    # 4: as SQLite's migration 6: the directory records of orgs hosted by peers, and the
    # index that finds whether an org published anything in a reader's channels
    """
    CREATE TABLE directory_records (
        org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
        version_us BIGINT NOT NULL,
        received BIGINT NOT NULL,
        body BYTEA NOT NULL
    );
    CREATE INDEX objects_by_author ON objects(author_org, collection_id);
    """,
    # 5: as SQLite's migration 7: people — persons of orgs (e-mail unique across the node),
    # their one-time enrolment and reset links, sessions, passkeys, and counters of failed
    # sign-ins; a token may belong to a person (a personal token) and expire, and names the
    # person who made an org token (BIGSERIAL ids are never reused)
    """
    CREATE TABLE people (
        id BIGSERIAL PRIMARY KEY,
        org_id BIGINT NOT NULL REFERENCES orgs(id),
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        created BIGINT NOT NULL,
        password_hash TEXT,
        totp_wrapped BYTEA,
        totp_last_step BIGINT
    );
    CREATE INDEX people_by_org ON people(org_id);
    CREATE TABLE person_links (
        id BIGSERIAL PRIMARY KEY,
        person_id BIGINT NOT NULL REFERENCES people(id),
        purpose TEXT NOT NULL,
        secret_hash BYTEA NOT NULL UNIQUE,
        created BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        used BIGINT,
        issued_by TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX person_links_by_person ON person_links(person_id);
    CREATE TABLE person_sessions (
        id BIGSERIAL PRIMARY KEY,
        person_id BIGINT NOT NULL REFERENCES people(id),
        secret_hash BYTEA NOT NULL UNIQUE,
        created BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        revoked BIGINT,
        address TEXT NOT NULL,
        user_agent TEXT NOT NULL,
        stage TEXT NOT NULL,
        factor TEXT NOT NULL
    );
    CREATE INDEX person_sessions_by_person ON person_sessions(person_id);
    CREATE TABLE passkeys (
        id BIGSERIAL PRIMARY KEY,
        person_id BIGINT NOT NULL REFERENCES people(id),
        credential_id BYTEA NOT NULL UNIQUE,
        public_key BYTEA NOT NULL,
        sign_count BIGINT NOT NULL,
        label TEXT NOT NULL,
        created BIGINT NOT NULL,
        last_used BIGINT
    );
    CREATE INDEX passkeys_by_person ON passkeys(person_id);
    CREATE TABLE sign_in_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure BIGINT NOT NULL,
        locked_until BIGINT
    );
    CREATE INDEX sign_in_failures_by_age ON sign_in_failures(last_failure);
    ALTER TABLE tokens ADD COLUMN person_id BIGINT;
    ALTER TABLE tokens ADD COLUMN expires BIGINT;
    ALTER TABLE tokens ADD COLUMN created_by_person BIGINT;
    CREATE INDEX tokens_by_person ON tokens(person_id) WHERE person_id IS NOT NULL;
    """,
    # 6: as SQLite's migration 8: WebAuthn challenges, bound to the browser (the hash of a cookie
    # secret and a purpose), taken once and short-lived
    """
    CREATE TABLE webauthn_challenges (
        binding BYTEA PRIMARY KEY,
        challenge BYTEA NOT NULL,
        expires BIGINT NOT NULL
    );
    CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges(expires);
    """,
    # 7: as SQLite's migration 9: the inbox filtered by author org or TLP, newest first
    """
    CREATE INDEX objects_last_by_author ON objects(collection_id, author_org, date_added)
        WHERE is_last = 1;
    CREATE INDEX objects_last_by_tlp ON objects(collection_id, tlp, date_added)
        WHERE is_last = 1;
    """,
]
