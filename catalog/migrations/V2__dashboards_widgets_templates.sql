-- FlowForge catalog, schema version 2: dashboards, their widgets, and workflow templates. Same
-- portable SQL as version 1 (TEXT ids and RFC 3339 timestamps, JSON as TEXT, BIGINT numbers,
-- no generated keys).

CREATE TABLE dashboards (
    id                        TEXT PRIMARY KEY,
    tenant_id                 TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    description               TEXT NOT NULL,
    -- NULL means manual refresh.
    refresh_interval_seconds  BIGINT CHECK (refresh_interval_seconds IN (5, 30, 60, 300, 900, 3600)),
    -- JSON array of global filters.
    global_filters            TEXT NOT NULL,
    created_by                TEXT NOT NULL,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    -- Lets widgets reference (tenant_id, id), so a widget can never sit on another tenant's
    -- dashboard.
    UNIQUE (tenant_id, id)
);
CREATE INDEX dashboards_by_tenant ON dashboards (tenant_id);

-- A widget points at a workflow's output node but has no foreign key to the workflow: deleting
-- the workflow keeps the widget, which then shows a "source workflow deleted" error state.
-- Deleting its dashboard (or tenant) deletes it.
CREATE TABLE widgets (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    dashboard_id  TEXT NOT NULL,
    workflow_id   TEXT NOT NULL,
    node_id       TEXT NOT NULL,
    title         TEXT NOT NULL,
    layout_x      BIGINT NOT NULL CHECK (layout_x >= 0),
    layout_y      BIGINT NOT NULL CHECK (layout_y >= 0),
    layout_w      BIGINT NOT NULL CHECK (layout_w BETWEEN 1 AND 48),
    layout_h      BIGINT NOT NULL CHECK (layout_h BETWEEN 1 AND 48),
    -- JSON array of the column names embeds may override with URL filters.
    filters       TEXT NOT NULL,
    -- JSON object of display options.
    config        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    FOREIGN KEY (tenant_id, dashboard_id) REFERENCES dashboards (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX widgets_by_dashboard ON widgets (tenant_id, dashboard_id);
CREATE INDEX widgets_by_workflow ON widgets (workflow_id);

-- Starting points for new workflows. tenant_id NULL marks a built-in template every tenant
-- sees; names are unique among the built-ins and within each tenant.
CREATE TABLE templates (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    category     TEXT NOT NULL,
    definition   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX templates_builtin_name ON templates (name) WHERE tenant_id IS NULL;
CREATE UNIQUE INDEX templates_tenant_name ON templates (tenant_id, name) WHERE tenant_id IS NOT NULL;
