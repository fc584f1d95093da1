-- Reformboard schema, version 1 (PostgreSQL). Kept column-for-column equal to the PostgreSQL
-- migration of the same number: the same SQL runs on both.

-- Server-wide facts, e.g. the sync epoch (a new database has a new one, so old cookies reset).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Sync spaces: each reform item is one, plan-level data is 'plan'. The version is bumped by every
-- push that writes to the space, under the row's lock, so versions follow commit order.
CREATE TABLE space (
    id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- Every synced entity, as the JSON of `shared::entity::Entity`. Never deleted: archiving is a
-- field, and the audit trail keeps every before/after.
CREATE TABLE entity (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    space TEXT NOT NULL,
    version BIGINT NOT NULL,
    visible_unit TEXT,
    data TEXT NOT NULL
);
CREATE INDEX entity_space_version ON entity (space, version);
CREATE INDEX entity_kind ON entity (kind);

CREATE TABLE client_group (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Last applied mutation id per sync client, written in the same transaction as the effects.
CREATE TABLE client (
    id TEXT PRIMARY KEY,
    client_group TEXT NOT NULL,
    last_mutation_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX client_by_group ON client (client_group);

-- Permanently refused mutations, with the reason the client was shown.
CREATE TABLE rejection (
    client_id TEXT NOT NULL,
    mutation_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    mutation TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (client_id, mutation_id)
);

-- Append-only audit trail (留痕): every accepted change and every security event.
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    unit_id TEXT,
    action TEXT NOT NULL,
    entity TEXT,
    space TEXT,
    client_id TEXT,
    mutation_id BIGINT,
    before TEXT,
    after TEXT,
    detail TEXT
);
CREATE INDEX audit_entity ON audit (entity, at);
CREATE INDEX audit_at ON audit (at);
CREATE UNIQUE INDEX audit_once ON audit (client_id, mutation_id, entity);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL,
    disabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Server-side sessions; the cookie holds a random token, the table only its SHA-256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed logins per account and per address, for throttling.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_at BIGINT NOT NULL
);
