//! The catalog schema: the versioned SQL files in `catalog/migrations/`, embedded at compile
//! time. Every store applies this one set, so SQLite and PostgreSQL always have the same tables.

refinery::embed_migrations!("migrations");
