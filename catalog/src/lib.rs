//! FlowForge's metadata catalog: tenants, users, roles, API keys, symbol entitlements, the
//! serving-table registry, workflows with their version history, dashboards and their widgets,
//! workflow templates, and the audit log.
//!
//! The catalog stores metadata only; it never runs analytical queries. Workflow definitions are
//! kept as JSON and compiled by the engine. Everything is reached through the async
//! [`CatalogStore`] trait, implemented by [`SqliteCatalog`] (embedded, one file) and
//! [`PostgresCatalog`] (a shared PostgreSQL database); [`CatalogLocation`] picks one from a URL.
//! Both apply the same migrations and pass the same behavioural test suite. Authentication
//! helpers ([`authenticate_password`], [`identity_for_login`], [`identity_for_api_key_secret`])
//! turn credentials into an [`Identity`]. Passwords and API key secrets are stored only as
//! one-way hashes: argon2id for HTTP logins and PostgreSQL-format SCRAM-SHA-256 verifiers
//! ([`ScramVerifier`]) for pgwire logins.

#![warn(missing_docs)]

pub mod api_key;
mod audit;
mod dashboard;
mod error;
mod identity;
mod location;
mod password;
mod postgres;
mod role;
mod schema;
mod scram;
mod seed;
pub mod serving;
mod sqlite;
mod store;
mod stored;
mod template;
mod tenant;
mod timestamp;
pub mod validate;
pub mod view_name;
mod widget;
mod workflow;

#[cfg(test)]
mod store_tests;

pub use api_key::{ApiKey, ApiKeyCredentials, CreatedApiKey, GeneratedKeyMaterial, NewApiKey};
pub use audit::{AuditEntry, NewAuditEntry, MAX_AUDIT_PAGE};
pub use dashboard::{
    validate_global_filters, validate_refresh_interval, Dashboard, DashboardUpdate, FilterKind,
    GlobalFilter, NewDashboard, REFRESH_INTERVALS_SECONDS,
};
pub use error::CatalogError;
pub use identity::{
    authenticate_password, identity_for_api_key_secret, identity_for_login, identity_for_user,
    Identity,
};
pub use location::CatalogLocation;
pub use password::{PasswordHashes, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
pub use postgres::{PostgresCatalog, PostgresCatalogOptions};
pub use role::Role;
pub use scram::{ScramVerifier, DEFAULT_SCRAM_ITERATIONS, SCRAM_SALT_LEN};
pub use seed::{seed_demo, SeedReport};
pub use serving::{default_serving_tables, Backend, Freshness, ServingTable};
pub use sqlite::SqliteCatalog;
pub use store::CatalogStore;
pub use template::{NewTemplate, Template};
pub use tenant::{NewUser, Tenant, User, UserCredentials};
pub use view_name::{derive_view_name, validate_view_name};
pub use widget::{NewWidget, Widget, WidgetLayout, WidgetUpdate, MAX_WIDGET_SPAN};
pub use workflow::{NewWorkflow, Workflow, WorkflowUpdate, WorkflowVersion, MAX_WORKFLOW_PAGE};
