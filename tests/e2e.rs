//! End-to-end tests: the real `flowforge` binary driven by real clients (psql, psycopg 3,
//! asyncpg, HTTP). One test binary with modules, so DataFusion links once.

mod e2e {
    pub mod api;
    pub mod backend_faults;
    pub mod backends;
    pub mod bi_clients;
    pub mod bi_corpus;
    pub mod cli;
    pub mod dashboards;
    pub mod http;
    pub mod psql;
    pub mod psql_catalog;
    pub mod python_clients;
    pub mod redis;
    pub mod server;
}
