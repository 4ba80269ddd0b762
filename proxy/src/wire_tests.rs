//! The server as a real PostgreSQL client sees it: tokio-postgres against a `ProxyServer` on a
//! loopback port, over tenant sessions holding small in-memory tables.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, IntervalMonthDayNanoArray, ListArray, RecordBatch,
    StringArray, TimestampMicrosecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Int64Type, IntervalMonthDayNano, Schema};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use datafusion::datasource::MemTable;
use flowforge_catalog::{Identity, Role as CatalogRole, ScramVerifier};
use flowforge_engine::session::{Role, Tenant, TenantSession};
use flowforge_engine::EngineError;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::oneshot;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

use crate::{tls, AuthMethod, ProxyConfig, ProxyServer, SessionProvider, TlsFiles};

const PASSWORD: &str = "analyst123";
const LOGIN: &str = "analyst@tenant-a.test";

/// Logins backed by real SCRAM verifiers; sessions with a `types` and a `nums` table.
struct TestProvider {
    users: HashMap<String, (Identity, ScramVerifier, String)>,
}

impl TestProvider {
    fn new() -> Self {
        let identity = Identity {
            tenant_id: "t-a".into(),
            tenant_slug: "tenant-a".into(),
            user_id: Some("u-1".into()),
            api_key_id: None,
            email_or_key_name: LOGIN.into(),
            role: CatalogRole::Analyst,
            entitlements: vec!["AAPL".into()],
        };
        let verifier = ScramVerifier::from_password(PASSWORD, b"0123456789abcdef", 4096).unwrap();
        let mut users = HashMap::new();
        users.insert(
            LOGIN.to_string(),
            (identity, verifier, PASSWORD.to_string()),
        );
        TestProvider { users }
    }
}

#[async_trait]
impl SessionProvider for TestProvider {
    async fn lookup_login(&self, login: &str) -> Option<(Identity, ScramVerifier)> {
        self.users
            .get(login)
            .map(|(identity, verifier, _)| (identity.clone(), verifier.clone()))
    }

    async fn verify_password(&self, login: &str, password: &str) -> Option<Identity> {
        self.users
            .get(login)
            .filter(|(_, _, p)| p == password)
            .map(|(identity, _, _)| identity.clone())
    }

    async fn open_session(&self, identity: &Identity) -> Result<Arc<TenantSession>, EngineError> {
        let tenant = Tenant {
            id: identity.tenant_id.clone(),
            slug: identity.tenant_slug.clone(),
            role: Role::Analyst,
            user: identity.email_or_key_name.clone(),
            entitlements: identity.entitlements.clone(),
        };
        let session = TenantSession::new(tenant, &|_| None)?;
        session
            .context()
            .register_table("types", Arc::new(types_table()))?;
        session
            .context()
            .register_table("nums", Arc::new(nums_table()))?;
        Ok(Arc::new(session))
    }
}

/// 2026-01-04 13:05:01.5 UTC in microseconds since 1970.
const TS_MICROS: i64 = 1_767_531_901_500_000;

/// One row of every type the server encodes, then a row of NULLs.
fn types_table() -> MemTable {
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), None, Some(3)]),
        None,
    ]);
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("b", Arc::new(BooleanArray::from(vec![Some(true), None]))),
        ("i2", Arc::new(Int16Array::from(vec![Some(-2), None]))),
        ("i4", Arc::new(Int32Array::from(vec![Some(40_000), None]))),
        (
            "i8",
            Arc::new(Int64Array::from(vec![Some(-9_000_000_000), None])),
        ),
        (
            "u8",
            Arc::new(UInt64Array::from(vec![Some(u64::MAX), None])),
        ),
        ("f4", Arc::new(Float32Array::from(vec![Some(0.1f32), None]))),
        (
            "f8",
            Arc::new(Float64Array::from(vec![Some(f64::INFINITY), None])),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![Some(-12345), None])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
        ("t", Arc::new(StringArray::from(vec![Some("héllo"), None]))),
        (
            "by",
            Arc::new(BinaryArray::from(vec![Some(&[1u8, 255][..]), None])),
        ),
        ("d", Arc::new(Date32Array::from(vec![Some(20_457), None]))),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(vec![Some(TS_MICROS), None])),
        ),
        (
            "tstz",
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(TS_MICROS), None]).with_timezone("UTC"),
            ),
        ),
        (
            "iv",
            Arc::new(IntervalMonthDayNanoArray::from(vec![
                Some(IntervalMonthDayNano::new(14, 3, 3_600_000_000_000)),
                None,
            ])),
        ),
        ("arr", Arc::new(list)),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    MemTable::try_new(schema, vec![vec![batch]]).unwrap()
}

/// `n` = 1..=10 in two batches.
fn nums_table() -> MemTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let batch = |range: std::ops::RangeInclusive<i64>| {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(range.clone())),
                Arc::new(StringArray::from_iter_values(
                    range.map(|n| format!("n{n}")),
                )),
            ],
        )
        .unwrap()
    };
    MemTable::try_new(schema.clone(), vec![vec![batch(1..=5), batch(6..=10)]]).unwrap()
}

struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(config: ProxyConfig) -> TestServer {
    let config = ProxyConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    let server = ProxyServer::bind(config, Arc::new(TestProvider::new()))
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        stop: Some(stop),
    }
}

fn config_for(server: &TestServer, user: &str, password: &str) -> Config {
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(server.addr.port())
        .user(user)
        .password(password)
        .dbname("flowforge")
        .application_name("wire-tests");
    config
}

async fn connect(server: &TestServer) -> Client {
    let (client, connection) = config_for(server, LOGIN, PASSWORD)
        .connect(NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn sqlstate(error: &tokio_postgres::Error) -> String {
    error
        .code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| format!("no SQLSTATE: {error}"))
}

fn message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default()
}

/// The raw bytes of a value, whatever its type.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn simple_rows(messages: &[SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn completions(messages: &[SimpleQueryMessage]) -> Vec<u64> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_login_and_startup_parameters() {
    let server = serve(ProxyConfig::default()).await;
    let (client, connection) = config_for(&server, LOGIN, PASSWORD)
        .connect(NoTls)
        .await
        .unwrap();
    assert_eq!(connection.parameter("server_version"), Some("16.4"));
    assert_eq!(connection.parameter("server_encoding"), Some("UTF8"));
    assert_eq!(connection.parameter("client_encoding"), Some("UTF8"));
    assert_eq!(connection.parameter("DateStyle"), Some("ISO, MDY"));
    assert_eq!(connection.parameter("TimeZone"), Some("UTC"));
    assert_eq!(connection.parameter("integer_datetimes"), Some("on"));
    assert_eq!(
        connection.parameter("standard_conforming_strings"),
        Some("on")
    );
    assert_eq!(connection.parameter("IntervalStyle"), Some("postgres"));
    assert_eq!(connection.parameter("is_superuser"), Some("off"));
    assert_eq!(connection.parameter("application_name"), Some("wire-tests"));
    assert_eq!(connection.parameter("session_authorization"), Some(LOGIN));
    tokio::spawn(connection);
    let row = client.query_one("SELECT 1 AS one", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>("one"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_fail_the_same_way() {
    let server = serve(ProxyConfig::default()).await;
    let wrong = config_for(&server, LOGIN, "not-the-password")
        .connect(NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&wrong), "28P01");
    assert_eq!(
        message(&wrong),
        format!("password authentication failed for user \"{LOGIN}\"")
    );
    let unknown = config_for(&server, "nobody@nowhere.test", PASSWORD)
        .connect(NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&unknown), "28P01");
    assert_eq!(
        message(&unknown),
        "password authentication failed for user \"nobody@nowhere.test\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_protocol_runs_each_statement_and_keeps_semicolons_in_strings() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let messages = client
        .simple_query(
            "SELECT 1 AS a; SELECT 'x;y' AS b; SELECT n FROM nums WHERE n <= 3 ORDER BY n",
        )
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&messages),
        vec![
            vec![Some("1".into())],
            vec![Some("x;y".into())],
            vec![Some("1".into())],
            vec![Some("2".into())],
            vec![Some("3".into())],
        ]
    );
    assert_eq!(completions(&messages), vec![1, 1, 3]);
    // An empty query string and comment-only strings get EmptyQueryResponse (which
    // tokio-postgres reports as a completion of zero rows), not errors.
    for empty in ["", " ; -- nothing"] {
        let messages = client.simple_query(empty).await.unwrap();
        assert!(simple_rows(&messages).is_empty());
        assert_eq!(completions(&messages), vec![0], "{empty:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_statement_stops_the_rest_of_a_simple_query() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let error = client
        .simple_query(
            "SET application_name = 'first'; SELECT * FROM missing; SET application_name = 'third'",
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "42P01");
    let shown = client.simple_query("SHOW application_name").await.unwrap();
    assert_eq!(simple_rows(&shown), vec![vec![Some("first".into())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_binds_parameters_in_text_and_binary() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    // tokio-postgres sends parameters in binary, typed by the server's ParameterDescription.
    let rows = client
        .query(
            "SELECT n, label FROM nums WHERE n > $1 AND label <> $2 ORDER BY n",
            &[&7i64, &"n9"],
        )
        .await
        .unwrap();
    let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(8, "n8".into()), (10, "n10".into())]);
    let statement = client
        .prepare("SELECT n FROM nums WHERE n = $1")
        .await
        .unwrap();
    assert_eq!(statement.params(), &[Type::INT8]);
    assert_eq!(statement.columns()[0].type_(), &Type::INT8);
    // A parameter the query cannot type falls back to text.
    let echo = client.prepare("SELECT $1 AS echo").await.unwrap();
    assert_eq!(echo.params(), &[Type::TEXT]);
    let row = client.query_one(&echo, &[&"hi"]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "hi");
    // Array parameters (psycopg's `= ANY(%s)`), in binary.
    let any = client
        .prepare_typed(
            "SELECT n FROM nums WHERE n = ANY($1) ORDER BY n",
            &[Type::INT8_ARRAY],
        )
        .await
        .unwrap();
    let rows = client.query(&any, &[&vec![3i64, 1, 42]]).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(),
        vec![1, 3]
    );
    // Declared types are honoured and the statement is reusable.
    let typed = client
        .prepare_typed("SELECT n FROM nums WHERE n = $1", &[Type::INT4])
        .await
        .unwrap();
    for n in [2i32, 5] {
        let row = client.query_one(&typed, &[&n]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), i64::from(n));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_in_binary() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let rows = client
        .query("SELECT * FROM types ORDER BY b NULLS LAST", &[])
        .await
        .unwrap();
    let types: Vec<Type> = rows[0]
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    assert_eq!(
        types,
        vec![
            Type::BOOL,
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::NUMERIC,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::NUMERIC,
            Type::TEXT,
            Type::BYTEA,
            Type::DATE,
            Type::TIMESTAMP,
            Type::TIMESTAMPTZ,
            Type::INTERVAL,
            Type::INT8_ARRAY,
        ]
    );
    let row = &rows[0];
    assert!(row.get::<_, bool>("b"));
    assert_eq!(row.get::<_, i16>("i2"), -2);
    assert_eq!(row.get::<_, i32>("i4"), 40_000);
    assert_eq!(row.get::<_, i64>("i8"), -9_000_000_000);
    // numeric 18446744073709551615: weight 4, digits 1844 6744 0737 0955 1615.
    let mut u8_numeric = vec![0, 5, 0, 4, 0, 0, 0, 0];
    for group in [1844u16, 6744, 737, 955, 1615] {
        u8_numeric.extend_from_slice(&group.to_be_bytes());
    }
    assert_eq!(row.get::<_, Raw>("u8").0, u8_numeric);
    assert_eq!(row.get::<_, f32>("f4"), 0.1f32);
    assert_eq!(row.get::<_, f64>("f8"), f64::INFINITY);
    // numeric -123.45: weight 0, sign negative, dscale 2, digits 123 4500.
    assert_eq!(
        row.get::<_, Raw>("dec").0,
        vec![0, 2, 0, 0, 0x40, 0, 0, 2, 0, 123, 0x11, 0x94]
    );
    assert_eq!(row.get::<_, String>("t"), "héllo");
    assert_eq!(row.get::<_, Vec<u8>>("by"), vec![1, 255]);
    assert_eq!(
        row.get::<_, NaiveDate>("d"),
        NaiveDate::from_ymd_opt(2026, 1, 4).unwrap()
    );
    let expected = DateTime::from_timestamp_micros(TS_MICROS).unwrap();
    assert_eq!(row.get::<_, NaiveDateTime>("ts"), expected.naive_utc());
    assert_eq!(row.get::<_, DateTime<Utc>>("tstz"), expected);
    let mut interval = 3_600_000_000i64.to_be_bytes().to_vec();
    interval.extend_from_slice(&3i32.to_be_bytes());
    interval.extend_from_slice(&14i32.to_be_bytes());
    assert_eq!(row.get::<_, Raw>("iv").0, interval);
    assert_eq!(
        row.get::<_, Vec<Option<i64>>>("arr"),
        vec![Some(1), None, Some(3)]
    );
    let nulls = &rows[1];
    for i in 0..nulls.len() {
        assert!(
            nulls.get::<_, Option<Raw>>(i).is_none(),
            "column {i} is NULL"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_has_postgres_text_output() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let messages = client
        .simple_query("SELECT * FROM types ORDER BY b NULLS LAST")
        .await
        .unwrap();
    let rows = simple_rows(&messages);
    let text: Vec<&str> = rows[0].iter().map(|v| v.as_deref().unwrap()).collect();
    assert_eq!(
        text,
        vec![
            "t",
            "-2",
            "40000",
            "-9000000000",
            "18446744073709551615",
            "0.1",
            "Infinity",
            "-123.45",
            "héllo",
            "\\x01ff",
            "2026-01-04",
            "2026-01-04 13:05:01.5",
            "2026-01-04 13:05:01.5+00",
            "1 year 2 mons 3 days 01:00:00",
            "{1,NULL,3}",
        ]
    );
    assert!(rows[1].iter().all(Option::is_none));
    // The session time zone applies to timestamptz text.
    client
        .batch_execute("SET TIME ZONE 'America/New_York'")
        .await
        .unwrap();
    let messages = client
        .simple_query("SELECT tstz FROM types WHERE tstz IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&messages),
        vec![vec![Some("2026-01-04 08:05:01.5-05".into())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portals_suspend_at_max_rows_and_resume() {
    let server = serve(ProxyConfig::default()).await;
    let mut client = connect(&server).await;
    let transaction = client.transaction().await.unwrap();
    let portal = transaction
        .bind("SELECT n FROM nums WHERE n > $1 ORDER BY n", &[&3i64])
        .await
        .unwrap();
    let mut chunks = Vec::new();
    loop {
        let rows = transaction.query_portal(&portal, 3).await.unwrap();
        let chunk: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let done = chunk.len() < 3;
        chunks.push(chunk);
        if done {
            break;
        }
    }
    assert_eq!(chunks, vec![vec![4, 5, 6], vec![7, 8, 9], vec![10]]);
    transaction.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_show_work_on_both_protocols() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let show = |messages: Vec<SimpleQueryMessage>| simple_rows(&messages)[0][0].clone().unwrap();
    assert_eq!(
        show(client.simple_query("SHOW server_version").await.unwrap()),
        "16.4"
    );
    assert_eq!(
        show(
            client
                .simple_query("SHOW transaction_isolation")
                .await
                .unwrap()
        ),
        "read committed"
    );
    assert_eq!(
        show(client.simple_query("SHOW search_path").await.unwrap()),
        "\"$user\", public"
    );
    client
        .batch_execute("SET statement_timeout = 5000; SET SESSION myapp.flag TO 'on'")
        .await
        .unwrap();
    assert_eq!(
        show(client.simple_query("SHOW statement_timeout").await.unwrap()),
        "5s"
    );
    assert_eq!(
        show(client.simple_query("SHOW myapp.flag").await.unwrap()),
        "on"
    );
    // pgjdbc sends SET through the extended protocol at connect.
    client
        .execute("SET extra_float_digits = 3", &[])
        .await
        .unwrap();
    let row = client
        .query_one("SHOW extra_float_digits", &[])
        .await
        .unwrap();
    assert_eq!(row.columns()[0].name(), "extra_float_digits");
    assert_eq!(row.get::<_, String>(0), "3");
    let all = client.query("SHOW ALL", &[]).await.unwrap();
    assert!(all
        .iter()
        .any(|r| r.get::<_, String>(0) == "TimeZone" && r.get::<_, String>(1) == "UTC"));
    client.batch_execute("RESET ALL").await.unwrap();
    assert_eq!(
        show(client.simple_query("SHOW statement_timeout").await.unwrap()),
        "0"
    );
    let error = client
        .simple_query("SHOW no_such_setting")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "42704");
    let error = client
        .batch_execute("SET client_encoding = 'LATIN1'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "22023");
    for (sql, tag_ok) in [
        ("BEGIN", true),
        ("SAVEPOINT a", true),
        ("RELEASE SAVEPOINT a", true),
        ("COMMIT", true),
        ("START TRANSACTION READ ONLY", true),
        ("ROLLBACK", true),
        ("SET TRANSACTION READ ONLY", true),
        ("DISCARD ALL", true),
        ("DEALLOCATE ALL", true),
    ] {
        assert_eq!(client.batch_execute(sql).await.is_ok(), tag_ok, "{sql}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_unknown_relations_and_bad_syntax_get_postgres_sqlstates() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    for sql in [
        "INSERT INTO nums VALUES (11, 'n11')",
        "UPDATE nums SET n = 0",
        "DELETE FROM nums",
        "CREATE TABLE x (a int)",
        "DROP TABLE nums",
    ] {
        let simple = client.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&simple), "25006", "{sql}");
        let extended = client.execute(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&extended), "25006", "{sql}");
    }
    let rows = client
        .query("SELECT count(*) FROM nums", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 10, "nothing was written");
    assert_eq!(rows[0].columns()[0].name(), "count");
    let missing = client.query("SELECT * FROM nope", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&missing), "42P01");
    let syntax = client.simple_query("SELEC 1").await.unwrap_err();
    assert_eq!(sqlstate(&syntax), "42601");
    // After errors (and the Sync that ends them) the connection still works.
    assert_eq!(
        client
            .query_one("SELECT 2", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_transaction_refuses_statements_until_rollback() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    client.batch_execute("BEGIN").await.unwrap();
    assert!(client.batch_execute("SELECT * FROM nope").await.is_err());
    let refused = client.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(sqlstate(&refused), "25P02");
    client.batch_execute("ROLLBACK").await.unwrap();
    assert!(client.simple_query("SELECT 1").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deallocated_statements_are_gone() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let statement = client
        .prepare("SELECT n FROM nums WHERE n = $1")
        .await
        .unwrap();
    assert_eq!(client.query(&statement, &[&1i64]).await.unwrap().len(), 1);
    client.batch_execute("DEALLOCATE ALL").await.unwrap();
    let error = client.query(&statement, &[&1i64]).await.unwrap_err();
    assert_eq!(sqlstate(&error), "26000");
}

/// A query that runs for minutes unless stopped.
const ENDLESS: &str = "SELECT sum(generate_series) FROM generate_series(1, 100000000000)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_stops_a_running_query() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel_query(NoTls).await.unwrap();
    });
    let started = std::time::Instant::now();
    let error = client.simple_query(ENDLESS).await.unwrap_err();
    canceller.await.unwrap();
    assert_eq!(sqlstate(&error), "57014");
    assert_eq!(message(&error), "canceling statement due to user request");
    assert!(started.elapsed() < Duration::from_secs(20));
    // The connection is still usable, on both protocols.
    assert_eq!(
        client
            .query_one("SELECT 3", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        3
    );
    assert!(client.simple_query("SELECT 4").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_stops_long_queries() {
    let server = serve(ProxyConfig::default()).await;
    let client = connect(&server).await;
    client
        .batch_execute("SET statement_timeout = 200")
        .await
        .unwrap();
    let error = client.query(ENDLESS, &[]).await.unwrap_err();
    assert_eq!(sqlstate(&error), "57014");
    assert_eq!(
        message(&error),
        "canceling statement due to statement timeout"
    );
    client
        .batch_execute("SET statement_timeout = 0")
        .await
        .unwrap();
    assert!(client.query_one("SELECT 1", &[]).await.is_ok());
    // The server-wide default applies to new sessions.
    let strict = serve(ProxyConfig {
        statement_timeout: Some(Duration::from_millis(200)),
        ..ProxyConfig::default()
    })
    .await;
    let client = connect(&strict).await;
    let error = client.simple_query(ENDLESS).await.unwrap_err();
    assert_eq!(sqlstate(&error), "57014");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_result_rows_is_an_error_not_a_truncation() {
    let server = serve(ProxyConfig {
        max_result_rows: Some(5),
        ..ProxyConfig::default()
    })
    .await;
    let client = connect(&server).await;
    assert_eq!(
        client
            .query("SELECT n FROM nums WHERE n <= 5", &[])
            .await
            .unwrap()
            .len(),
        5
    );
    let error = client.query("SELECT n FROM nums", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&error), SqlState::PROGRAM_LIMIT_EXCEEDED.code());
    let error = client.simple_query("SELECT n FROM nums").await.unwrap_err();
    assert_eq!(sqlstate(&error), "54000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_abandoned_connections_do_not_hurt_others() {
    let server = serve(ProxyConfig::default()).await;
    // Not a PostgreSQL startup packet at all.
    let mut garbage = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    garbage
        .write_all(b"\x00\x00\x00\x08GET / HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut sink = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(10), garbage.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "the server closes a garbage connection");
    // A client that vanishes in the middle of a long result.
    let quitter = connect(&server).await;
    let streaming = tokio::spawn(async move {
        let _ = quitter
            .simple_query("SELECT generate_series FROM generate_series(1, 100000000)")
            .await;
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    streaming.abort();
    // Everyone else is served.
    let client = connect(&server).await;
    assert_eq!(
        client
            .query_one("SELECT 5", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gssapi_and_ssl_requests_are_answered_n_without_tls() {
    let server = serve(ProxyConfig::default()).await;
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    for code in [80_877_104i32, 80_877_103] {
        let mut request = 8i32.to_be_bytes().to_vec();
        request.extend_from_slice(&code.to_be_bytes());
        socket.write_all(&request).await.unwrap();
        assert_eq!(socket.read_u8().await.unwrap(), b'N', "request code {code}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_refused() {
    let server = serve(ProxyConfig {
        max_connections: 1,
        ..ProxyConfig::default()
    })
    .await;
    let first = connect(&server).await;
    let refused = config_for(&server, LOGIN, PASSWORD)
        .connect(NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&refused), "53300");
    assert!(first.simple_query("SELECT 1").await.is_ok());
}

/// tokio-postgres over rustls, trusting one CA, with `tls-server-end-point` channel binding.
#[derive(Clone)]
struct RustlsConnect(Arc<rustls::ClientConfig>);

impl RustlsConnect {
    fn trusting(ca_pem: &[u8]) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut &ca_pem[..]) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        RustlsConnect(Arc::new(config))
    }
}

struct RustlsConnector {
    config: Arc<rustls::ClientConfig>,
    domain: String,
}

struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnector;
    type Error = std::io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnector, std::io::Error> {
        Ok(RustlsConnector {
            config: self.0.clone(),
            domain: domain.to_string(),
        })
    }
}

impl<S> TlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, std::io::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = rustls::pki_types::ServerName::try_from(self.domain)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(name, stream)
                .await?;
            Ok(RustlsStream(tls))
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        match session.peer_certificates().and_then(|certs| certs.first()) {
            // The demo certificate is signed with ECDSA-SHA256, so the binding hash is SHA-256.
            Some(cert) => ChannelBinding::tls_server_end_point(Sha256::digest(cert).to_vec()),
            None => ChannelBinding::none(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

async fn tls_server(auth: AuthMethod) -> (TestServer, RustlsConnect, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let certs = tls::ensure_demo_certificates(dir.path()).unwrap();
    let connector = RustlsConnect::trusting(&std::fs::read(&certs.ca).unwrap());
    let server = serve(ProxyConfig {
        tls: Some(TlsFiles {
            cert: certs.cert.clone(),
            key: certs.key.clone(),
        }),
        auth,
        ..ProxyConfig::default()
    })
    .await;
    (server, connector, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_scram_channel_binding() {
    let (server, connector, _dir) = tls_server(AuthMethod::ScramSha256).await;
    let mut config = config_for(&server, LOGIN, PASSWORD);
    config
        .host("localhost")
        .ssl_mode(tokio_postgres::config::SslMode::Require)
        .channel_binding(tokio_postgres::config::ChannelBinding::Require);
    let (client, connection) = config.connect(connector.clone()).await.unwrap();
    tokio::spawn(connection);
    assert_eq!(
        client
            .query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
    // Wrong passwords fail the same way over TLS.
    let mut wrong = config_for(&server, LOGIN, "nope");
    wrong
        .host("localhost")
        .ssl_mode(tokio_postgres::config::SslMode::Require);
    let error = wrong.connect(connector).await.err().unwrap();
    assert_eq!(sqlstate(&error), "28P01");
    // Plaintext clients still get SCRAM.
    let plain = connect(&server).await;
    assert!(plain.simple_query("SELECT 1").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_passwords_are_only_accepted_over_tls() {
    let (server, connector, _dir) = tls_server(AuthMethod::Password).await;
    let refused = config_for(&server, LOGIN, PASSWORD)
        .connect(NoTls)
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&refused), "28000");
    assert!(message(&refused).contains("TLS"), "{}", message(&refused));
    let mut secure = config_for(&server, LOGIN, PASSWORD);
    secure
        .host("localhost")
        .ssl_mode(tokio_postgres::config::SslMode::Require);
    let (client, connection) = secure.clone().connect(connector.clone()).await.unwrap();
    tokio::spawn(connection);
    assert!(client.simple_query("SELECT 1").await.is_ok());
    let mut wrong = secure;
    wrong.password("nope");
    let error = wrong.connect(connector).await.err().unwrap();
    assert_eq!(sqlstate(&error), "28P01");
}
