//! The Redis the unit tests share, from the test services' environment.

/// `FLOWFORGE_TEST_REDIS_URL`; a test that needs Redis fails (never skips) without it.
pub(crate) fn url() -> String {
    std::env::var("FLOWFORGE_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "FLOWFORGE_TEST_REDIS_URL is not set: start the test services \
             (deploy/scripts/test-services.sh start DIR) and source DIR/env"
        )
    })
}
