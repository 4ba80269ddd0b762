//! The catalog per tenant and the queries psql 15 sends for its meta-commands.

use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use futures::TryStreamExt;

use super::types::format_type;
use crate::serving_tables::serving_table;
use crate::session::{Planned, Role, Tenant, TenantSession, ViewDef};

fn session(slug: &str, role: Role) -> TenantSession {
    let tenant = Tenant {
        id: format!("id-{slug}"),
        slug: slug.to_string(),
        role,
        user: format!("{slug}@example.test"),
        entitlements: vec!["AAPL".into()],
    };
    TenantSession::new(tenant, &|name| {
        let schema = serving_table(name)?.schema;
        let table: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(schema, vec![vec![]]).ok()?);
        Some(table)
    })
    .unwrap()
}

fn publish(session: &TenantSession, name: &str, description: &str) {
    session
        .register_view(ViewDef {
            description: Some(description.into()),
            sql: Some(format!(
                "SELECT symbol, price FROM market.fct_trades -- {name}"
            )),
            ..crate::session::tests::workflow_view(session, name)
        })
        .unwrap();
}

/// Rows as `|`-joined text (nulls empty), like `psql -A -t`.
async fn rows(session: &TenantSession, sql: &str) -> Vec<String> {
    let planned = session
        .plan_sql(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}\n{e}"));
    let Planned::Query { plan, .. } = planned else {
        panic!("expected a query for {sql}");
    };
    let batches: Vec<RecordBatch> = session
        .execute(plan)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}\n{e}"));
    let mut out = Vec::new();
    for batch in &batches {
        let columns: Vec<StringArray> = batch
            .columns()
            .iter()
            .map(|c| {
                let text = cast(c, &DataType::Utf8).unwrap();
                text.as_any().downcast_ref::<StringArray>().unwrap().clone()
            })
            .collect();
        for i in 0..batch.num_rows() {
            let cells: Vec<&str> = columns
                .iter()
                .map(|c| if c.is_null(i) { "" } else { c.value(i) })
                .collect();
            out.push(cells.join("|"));
        }
    }
    out
}

const DN: &str = "SELECT n.nspname AS \"Name\",
  pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;";

fn list_relations(kinds: &str, filter: &str) -> String {
    format!(
        "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ({kinds})
{filter}
ORDER BY 1,2;"
    )
}

const LIST: &str = "SELECT d.datname as \"Name\",
       pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\",
       pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\",
       d.datcollate as \"Collate\",
       d.datctype as \"Ctype\",
       d.daticulocale as \"ICU Locale\",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS \"Locale Provider\",
       pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\"
FROM pg_catalog.pg_database d
ORDER BY 1;";

const FIND: &str = "SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(trades_by_symbol)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;";

fn table_info(oid: &str) -> String {
    format!(
        "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '{oid}';"
    )
}

fn columns(oid: &str) -> String {
    format!(
        "SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated,
  a.attstorage,
  pg_catalog.col_description(a.attrelid, a.attnum)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '{oid}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;"
    )
}

#[tokio::test]
async fn schemas_list_market_only_for_roles_that_see_it() {
    let analyst = session("a", Role::Analyst);
    assert_eq!(
        rows(&analyst, DN).await,
        vec!["market|a@example.test", "public|a@example.test"]
    );
    let viewer = session("v", Role::Viewer);
    assert_eq!(rows(&viewer, DN).await, vec!["public|v@example.test"]);
    let tables = list_relations(
        "'r','p',''",
        "AND n.nspname OPERATOR(pg_catalog.~) '^(market)$' COLLATE pg_catalog.default",
    );
    assert!(rows(&viewer, &tables).await.is_empty());
    let listed = rows(&analyst, &tables).await;
    assert!(
        listed.contains(&"market|fct_trades|table|a@example.test".to_string()),
        "{listed:?}"
    );
}

#[tokio::test]
async fn views_and_descriptions_are_per_tenant() {
    let a = session("a", Role::Analyst);
    let b = session("b", Role::Analyst);
    publish(&a, "trades_by_symbol", "Trades of tenant a");
    publish(&b, "bank_exposure", "Exposure of tenant b");
    let views = list_relations(
        "'v',''",
        "AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' \
         AND n.nspname <> 'information_schema' AND pg_catalog.pg_table_is_visible(c.oid)",
    );
    assert_eq!(
        rows(&a, &views).await,
        vec!["public|trades_by_symbol|view|a@example.test"]
    );
    assert_eq!(
        rows(&b, &views).await,
        vec!["public|bank_exposure|view|b@example.test"]
    );
    let descriptions = "SELECT d.description FROM pg_description d \
        JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = 'public' ORDER BY 1";
    assert_eq!(
        rows(&a, descriptions).await,
        vec!["Fill price", "Trades of tenant a"]
    );
    assert_eq!(
        rows(&b, descriptions).await,
        vec!["Exposure of tenant b", "Fill price"]
    );
    // Serving tables carry their documentation too.
    assert!(rows(
        &a,
        "SELECT obj_description('market.fct_trades'::regclass, 'pg_class')"
    )
    .await
    .iter()
    .any(|d| d.starts_with("Executed trades")));
    // Deregistering removes the rows; a view named like a catalog table shadows it.
    assert!(a.deregister_view("trades_by_symbol").unwrap());
    assert!(rows(&a, &views).await.is_empty());
    publish(&a, "pg_views", "Shadowing");
    assert_eq!(
        rows(&a, "SELECT count(*) FROM pg_views").await,
        vec!["0"],
        "the tenant's own view, which is empty, wins over pg_catalog.pg_views"
    );
    assert_eq!(
        rows(
            &a,
            "SELECT viewname FROM pg_catalog.pg_views WHERE schemaname = 'public'"
        )
        .await,
        vec!["pg_views"]
    );
}

#[tokio::test]
async fn describe_view_queries_from_psql_return_its_columns_and_definition() {
    let a = session("a", Role::Analyst);
    publish(&a, "trades_by_symbol", "Trades of tenant a");
    let found = rows(&a, FIND).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let oid = found[0].split('|').next().unwrap().to_string();
    assert_eq!(found[0], format!("{oid}|public|trades_by_symbol"));
    assert_eq!(
        rows(&a, &table_info(&oid)).await,
        vec!["0|v|false|true|false|false|false|false|false||0||p|n|"]
    );
    assert_eq!(
        rows(&a, &columns(&oid)).await,
        vec![
            "symbol|text||false||||x|",
            "price|double precision||false||||p|Fill price"
        ]
    );
    let verbose_info = format!(
        "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')
, c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '{oid}';"
    );
    assert_eq!(
        rows(&a, &verbose_info).await,
        vec!["0|v|false|true|false|false|false|false|false||0||p|n|"]
    );
    let definition = format!("SELECT pg_catalog.pg_get_viewdef('{oid}'::pg_catalog.oid, true);");
    assert_eq!(
        rows(&a, &definition).await,
        vec!["SELECT symbol, price FROM market.fct_trades -- trades_by_symbol"]
    );
    assert_eq!(
        rows(&a, "SELECT 'trades_by_symbol'::regclass::oid = pg_catalog.to_regclass('public.trades_by_symbol')").await,
        vec!["true"]
    );
    // Another tenant cannot find it.
    let b = session("b", Role::Analyst);
    assert!(rows(&b, FIND).await.is_empty());
    assert_eq!(rows(&b, &columns(&oid)).await, Vec::<String>::new());
}

#[tokio::test]
async fn database_list_shows_flowforge_in_utf8() {
    let a = session("a", Role::Viewer);
    assert_eq!(
        rows(&a, LIST).await,
        vec!["flowforge|a@example.test|UTF8|C.UTF-8|C.UTF-8||libc|"]
    );
}

#[test]
fn format_type_names_types_like_postgres() {
    assert_eq!(format_type(20, None), "bigint");
    assert_eq!(format_type(25, None), "text");
    assert_eq!(format_type(701, None), "double precision");
    assert_eq!(format_type(1114, None), "timestamp without time zone");
    assert_eq!(format_type(1184, None), "timestamp with time zone");
    assert_eq!(format_type(1009, None), "text[]");
    assert_eq!(format_type(4242, None), "???");
    assert_eq!(format_type(1700, Some((12 << 16 | 4) + 4)), "numeric(12,4)");
    assert_eq!(format_type(1043, Some(36)), "character varying(32)");
    assert_eq!(format_type(3904, None), "int4range");
    assert_eq!(format_type(3905, None), "int4range[]");
    assert_eq!(format_type(2276, None), "\"any\"");
}

#[test]
fn sizes_print_like_pg_size_pretty() {
    use super::functions::pretty_size;
    assert_eq!(pretty_size(0), "0 bytes");
    assert_eq!(pretty_size(10239), "10239 bytes");
    assert_eq!(pretty_size(10240), "10 kB");
    assert_eq!(pretty_size(7_340_032), "7168 kB");
    assert_eq!(pretty_size(20_971_520), "20 MB");
    assert_eq!(pretty_size(-10240), "-10 kB");
}

#[test]
fn like_patterns_with_other_escape_characters_become_backslash_patterns() {
    use super::functions::backslash_pattern;
    assert_eq!(backslash_pattern("pg/_%", Some('/')), "pg\\_%");
    assert_eq!(backslash_pattern("a\\b//c", Some('/')), "a\\\\b\\/c");
    assert_eq!(backslash_pattern("50%", None), "50%");
}

#[tokio::test]
async fn catalog_queries_drivers_send_plan_and_answer_like_postgres() {
    let a = session("a", Role::Analyst);
    publish(&a, "trades_by_symbol", "Trades of tenant a");
    // SQLAlchemy's get_schema_names: LIKE with a non-backslash escape.
    assert_eq!(
        rows(
            &a,
            "SELECT nspname FROM pg_catalog.pg_namespace \
             WHERE nspname NOT LIKE 'pg/_' || '%' ESCAPE '/' ORDER BY nspname"
        )
        .await,
        vec!["information_schema", "market", "public"]
    );
    // A subquery over a catalog FlowForge never fills is NULL, even when correlated in its
    // select list (SQLAlchemy's identity options).
    assert_eq!(
        rows(
            &a,
            "SELECT a.attname, (SELECT a.attidentity = 'a' FROM pg_catalog.pg_sequence s \
             WHERE s.seqrelid = a.attrelid) FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = 'trades_by_symbol'::regclass AND a.attnum = 1"
        )
        .await,
        vec!["symbol|"]
    );
    assert_eq!(
        rows(
            &a,
            "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'max_index_keys'"
        )
        .await,
        vec!["32"]
    );
    assert_eq!(
        rows(&a, "SELECT 'pg_catalog.pg_class'::regclass::oid").await,
        vec!["1259"]
    );
}

#[test]
fn format_follows_postgres() {
    use super::functions::format_one;
    let args = ["public", "Trades", "it's"];
    let value = |i: usize| args.get(i).copied();
    assert_eq!(format_one("%I.%I", 3, value).unwrap(), "public.\"Trades\"");
    assert_eq!(
        format_one("%L and %s%%", 3, |i| value(i + 2)).unwrap(),
        "'it''s' and %"
    );
    assert!(format_one("%s %s", 3, |_| None).is_ok());
    assert_eq!(format_one("%2$s %1$s", 3, value).unwrap(), "Trades public");
    assert!(format_one("%s %s %s %s", 3, value).is_err());
}
