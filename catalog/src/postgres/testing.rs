//! Test support: every PostgreSQL test gets a schema of its own, with a random name, in the
//! database named by `FLOWFORGE_TEST_CATALOG_PG_URL`. Each pooled connection of the store under
//! test starts with that schema as its `search_path`, so tests run in parallel without seeing
//! each other, and the schema is dropped when the test ends, whether it passed or not.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use super::{pool, PostgresCatalog, PostgresCatalogOptions};

/// The variable naming the test database.
pub(crate) const URL_VAR: &str = "FLOWFORGE_TEST_CATALOG_PG_URL";

/// The connection settings of the test database. Fails the test when the variable is missing:
/// a PostgreSQL test that quietly skips would pass without testing anything.
pub(crate) fn test_database() -> tokio_postgres::Config {
    let url = std::env::var(URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{URL_VAR} is not set. The catalog tests run against PostgreSQL too and need a \
             database they may create schemas in; run them with `make test`, which starts one \
             (or set {URL_VAR}=postgres://user@host:port/database yourself)"
        )
    });
    pool::parse_url(&url).unwrap_or_else(|e| panic!("{URL_VAR} is not usable: {e}"))
}

/// A private schema in the test database.
#[derive(Clone)]
pub(crate) struct TestSchema {
    name: String,
    database: tokio_postgres::Config,
}

impl TestSchema {
    /// Runs `test` with a fresh schema and drops the schema afterwards, then passes on the
    /// test's panic, if any.
    pub(crate) async fn isolated<F, Fut>(test: F)
    where
        F: FnOnce(TestSchema) -> Fut,
        Fut: Future<Output = ()>,
    {
        let schema = TestSchema {
            name: format!("flowforge_test_{:016x}", rand::random::<u64>()),
            database: test_database(),
        };
        schema
            .admin(&format!("CREATE SCHEMA {}", schema.name))
            .await;
        let outcome = AssertUnwindSafe(test(schema.clone())).catch_unwind().await;
        schema
            .admin(&format!("DROP SCHEMA {} CASCADE", schema.name))
            .await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    /// Connection settings whose sessions use this schema.
    pub(crate) fn config(&self) -> tokio_postgres::Config {
        let mut config = self.database.clone();
        let options = format!(
            "{} -c search_path={}",
            config.get_options().unwrap_or_default(),
            self.name
        );
        config.options(options.trim_start());
        config
    }

    /// A catalog store in this schema (migrating it on first use).
    pub(crate) async fn connect(&self) -> PostgresCatalog {
        PostgresCatalog::from_config(self.config(), &PostgresCatalogOptions::default())
            .await
            .expect("connect the PostgreSQL catalog")
    }

    /// A plain connection in this schema, for looking at what the store wrote.
    pub(crate) async fn raw(&self) -> deadpool_postgres::Client {
        pool::build(self.config(), &PostgresCatalogOptions::default())
            .expect("pool")
            .get()
            .await
            .expect("connect to the test database")
    }

    async fn admin(&self, sql: &str) {
        let pool = pool::build(self.database.clone(), &PostgresCatalogOptions::default())
            .expect("pool for the test database");
        let client = pool.get().await.unwrap_or_else(|e| {
            panic!("cannot connect to the database in {URL_VAR}: {e}");
        });
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    }
}
