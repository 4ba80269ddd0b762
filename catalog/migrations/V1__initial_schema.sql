-- FlowForge catalog, schema version 1. The same file migrates SQLite and PostgreSQL, so it
-- keeps to SQL both accept with the same meaning: TEXT ids (UUID strings), timestamps as
-- RFC 3339 TEXT in UTC with microsecond precision (text order is time order), JSON documents as
-- TEXT, BOOLEAN columns written with TRUE/FALSE, BIGINT for numbers (it holds every u32), and
-- no generated keys (no AUTOINCREMENT, no IDENTITY): the stores assign every key themselves.

CREATE TABLE tenants (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    -- Number of the tenant's latest audit entry; appending one increments it in the same
    -- transaction (see audit_log.seq).
    last_audit_seq  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE entitlements (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    symbol      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, symbol)
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email           TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    password_hash   TEXT NOT NULL,
    scram_verifier  TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX users_by_tenant ON users (tenant_id);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    public_id       TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    secret_sha256   TEXT NOT NULL UNIQUE,
    scram_verifier  TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

CREATE TABLE serving_tables (
    name         TEXT PRIMARY KEY,
    backend      TEXT NOT NULL CHECK (backend IN ('embedded', 'clickhouse', 'materialize', 'redis')),
    freshness    TEXT NOT NULL CHECK (freshness IN ('live', 'point_lookup', 'analytical', 'historical_rollup')),
    description  TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE workflows (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    view_name        TEXT NOT NULL,
    description      TEXT NOT NULL,
    definition       TEXT NOT NULL,
    current_version  BIGINT NOT NULL,
    published        BOOLEAN NOT NULL DEFAULT FALSE,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (tenant_id, view_name)
);

CREATE TABLE workflow_versions (
    workflow_id  TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    definition   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    note         TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

-- `seq` numbers a tenant's entries 1, 2, 3... in insertion order, so "newest first" is exact
-- even when two entries share a timestamp. It is taken from tenants.last_audit_seq, whose row
-- lock serialises concurrent appends of one tenant on PostgreSQL.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    seq            BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    detail         TEXT NOT NULL,
    at             TEXT NOT NULL,
    UNIQUE (tenant_id, seq)
);
