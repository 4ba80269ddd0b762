"""Real Python client drivers against a running FlowForge server.

Usage: pg_clients.py SCENARIO HOST PORT USER PASSWORD
Prints one JSON document with what the driver saw; the Rust test asserts on it.
"""
import asyncio
import datetime
import json
import sys
import threading
import time


def psycopg_scenario(host, port, user, password, binary):
    import psycopg

    out = {}
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="flowforge",
                         sslmode="disable", connect_timeout=10) as conn:
        out["server_version"] = conn.info.server_version
        with conn.cursor(binary=binary) as cur:
            cur.execute("SELECT symbol, trades, volume, avg_price FROM trades_by_symbol WHERE symbol = %s", ("AAPL",))
            rows = cur.fetchall()
            out["rows"] = [[r[0], r[1], r[2], r[3]] for r in rows]
            out["types"] = [type(v).__name__ for v in rows[0]] if rows else []
            out["columns"] = [d.name for d in cur.description]
            cur.execute("SELECT trade_id, price, event_time FROM market.fct_trades WHERE quantity > %s AND symbol = ANY(%s::text[]) ORDER BY trade_id LIMIT 3",
                        (100, ["MSFT", "TSLA"]))
            rows = cur.fetchall()
            out["trade_rows"] = len(rows)
            out["trade_types"] = [type(v).__name__ for v in rows[0]] if rows else []
            out["trade_symbols_ok"] = True
            cur.execute("SELECT DISTINCT symbol FROM market.fct_trades ORDER BY 1")
            out["symbols"] = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT %s::int + 1 AS n, %s::text AS t, NULL::float8 AS f", (41, "x"))
            out["params"] = list(cur.fetchone())
    return out


def cancel_scenario(host, port, user, password):
    import psycopg
    from psycopg import errors

    out = {}
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="flowforge",
                         sslmode="disable", connect_timeout=10) as conn:
        timer = threading.Timer(1.5, conn.cancel)
        timer.start()
        started = time.monotonic()
        try:
            conn.execute("SELECT count(*) FROM market.fct_trades a CROSS JOIN market.fct_trades b WHERE a.price * b.quantity > -1")
            out["cancelled"] = False
        except errors.QueryCanceled as e:
            out["cancelled"] = True
            out["sqlstate"] = e.sqlstate
        out["seconds"] = time.monotonic() - started
        timer.cancel()
        # Like PostgreSQL, the failed statement aborted the implicit transaction.
        try:
            conn.execute("SELECT 1")
            out["aborted_transaction"] = False
        except errors.InFailedSqlTransaction:
            out["aborted_transaction"] = True
        conn.rollback()
        out["after"] = conn.execute("SELECT 1 + 1").fetchone()[0]
    return out


async def asyncpg_scenario(host, port, user, password):
    import asyncpg

    wrong = {}
    for login, secret in ((user, password + "-wrong"), ("nobody@nowhere.test", password)):
        try:
            bad = await asyncpg.connect(host=host, port=port, user=login, password=secret, database="flowforge", ssl=False, timeout=10)
            await bad.close()
            wrong[login] = "accepted"
        except asyncpg.PostgresError as e:
            wrong[login] = e.sqlstate

    conn = await asyncpg.connect(host=host, port=port, user=user, password=password, database="flowforge", ssl=False, timeout=10)
    try:
        out = {"wrong_password_sqlstates": sorted(wrong.values())}
        stmt = await conn.prepare("SELECT symbol, volume, avg_price FROM trades_by_symbol WHERE volume > $1 ORDER BY symbol")
        out["param_types"] = [t.name for t in stmt.get_parameters()]
        out["columns"] = [a.name for a in stmt.get_attributes()]
        rows = await stmt.fetch(0)
        out["symbols"] = [r["symbol"] for r in rows]
        rows_again = await stmt.fetch(10**12)
        out["empty_again"] = len(rows_again)
        row = await conn.fetchrow("SELECT bucket, open, close, volume FROM hourly_ohlcv WHERE symbol = $1 ORDER BY bucket LIMIT 1", "TSLA")
        out["ohlcv_types"] = [type(row[k]).__name__ for k in ("bucket", "open", "close", "volume")]
        out["version"] = await conn.fetchval("SELECT version()")
        try:
            await conn.execute("DELETE FROM market.fct_trades")
            out["delete"] = "allowed"
        except asyncpg.PostgresError as e:
            out["delete"] = e.sqlstate
        return out
    finally:
        await conn.close()


def _record(out, key, run, statements=None):
    """Stores run()'s result under key, or the error (and the last statement sent) if it raised."""
    if statements is not None:
        statements.clear()
    try:
        out[key] = run()
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        orig = getattr(e, "orig", e)
        err = {"error": str(orig).strip(), "type": type(orig).__name__,
               "sqlstate": getattr(orig, "sqlstate", None)}
        if statements:
            err["statement"] = statements[-1]
        out[key] = err


def sqlalchemy_scenario(host, port, user, password):
    """SQLAlchemy 2 reflection (the calls Superset and friends make) and pandas.read_sql."""
    import pandas as pd
    import sqlalchemy as sa

    url = sa.engine.URL.create("postgresql+psycopg", username=user, password=password, host=host,
                               port=port, database="flowforge",
                               query={"sslmode": "disable", "connect_timeout": "10"})
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    statements = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _log(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    @sa.event.listens_for(engine, "handle_error")
    def _log_failed(ctx):
        # The text psycopg sent ($n placeholders) and the parameters, for the report.
        cursor = getattr(ctx.execution_context, "cursor", None)
        query = getattr(cursor, "_query", None)
        if query is not None and query.query:
            params = [None if p is None else bytes(p).decode() if f == 0 else "0x" + bytes(p).hex()
                      for p, f in zip(query.params or [], query.formats or [])]
            statements.append(query.query.decode() + "\n-- parameters: " + repr(params))

    out = {}
    try:
        _record(out, "connect", lambda: engine.connect().close() or True, statements)
        insp = sa.inspect(engine)
        _record(out, "schemas", lambda: insp.get_schema_names(), statements)
        _record(out, "market_tables", lambda: insp.get_table_names(schema="market"), statements)
        _record(out, "public_views", lambda: insp.get_view_names(schema="public"), statements)
        _record(out, "columns", lambda: [
            {"name": c["name"], "type": str(c["type"]), "nullable": c["nullable"],
             "comment": c.get("comment")}
            for c in insp.get_columns("trades_by_symbol", schema="public")], statements)
        _record(out, "trade_columns", lambda: [
            {"name": c["name"], "type": str(c["type"])}
            for c in insp.get_columns("fct_trades", schema="market")], statements)
        _record(out, "view_definition",
                lambda: insp.get_view_definition("trades_by_symbol", schema="public"), statements)
        _record(out, "pk_constraint",
                lambda: insp.get_pk_constraint("fct_trades", schema="market"), statements)
        _record(out, "foreign_keys",
                lambda: insp.get_foreign_keys("fct_trades", schema="market"), statements)
        _record(out, "indexes", lambda: insp.get_indexes("fct_trades", schema="market"), statements)

        def read_view():
            with engine.connect() as conn:
                df = pd.read_sql(sa.text("SELECT symbol, trades, volume, avg_price FROM trades_by_symbol ORDER BY symbol"), conn)
            return {"rows": len(df), "columns": list(df.columns),
                    "dtypes": [str(t) for t in df.dtypes], "symbols": list(df["symbol"])}

        _record(out, "read_sql", read_view, statements)

        def read_table():
            with engine.connect() as conn:
                df = pd.read_sql_table("trades_by_symbol", conn, schema="public")
            return {"rows": len(df), "columns": list(df.columns)}

        _record(out, "read_sql_table", read_table, statements)
    finally:
        engine.dispose()
    return out


# The type-loading batch Npgsql 6-8 sends as one simple query right after it connects
# (PostgresDatabaseInfo: the version, the types query for a server with ranges and multiranges
# and without table composites, the composite fields query and the enum labels query).
NPGSQL_TYPES_QUERY = "\n".join([
    "SELECT version();",
    """
SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid
FROM (
    -- Arrays have typtype=b - this subquery identifies them by their typreceive and converts their typtype to a
    -- We first do this for the type (innerest-most subquery), and then for its element type
    -- This also returns the array element, range subtype and domain base type as elemtypoid
    SELECT
        typ.oid, typ.typnamespace, typ.typname, typ.typtype, typ.typrelid, typ.typnotnull, typ.relkind,
        elemtyp.oid AS elemtypoid, elemtyp.typname AS elemtypname, elemcls.relkind AS elemrelkind,
        CASE WHEN elemproc.proname='array_recv' THEN 'a' ELSE elemtyp.typtype END AS elemtyptype
    FROM (
        SELECT typ.oid, typnamespace, typname, typrelid, typnotnull, relkind, typelem AS elemoid,
            CASE WHEN proc.proname='array_recv' THEN 'a' ELSE typ.typtype END AS typtype,
            CASE
                WHEN proc.proname='array_recv' THEN typ.typelem
                WHEN typ.typtype='r' THEN rngsubtype
                WHEN typ.typtype='m' THEN (SELECT rngtypid FROM pg_range WHERE rngmultitypid = typ.oid)
                WHEN typ.typtype='d' THEN typ.typbasetype
            END AS elemtypoid
        FROM pg_type AS typ
        LEFT JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
        LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive
        LEFT JOIN pg_range ON (pg_range.rngtypid = typ.oid)
    ) AS typ
    LEFT JOIN pg_type AS elemtyp ON elemtyp.oid = elemtypoid
    LEFT JOIN pg_class AS elemcls ON (elemcls.oid = elemtyp.typrelid)
    LEFT JOIN pg_proc AS elemproc ON elemproc.oid = elemtyp.typreceive
) AS t
JOIN pg_namespace AS ns ON (ns.oid = typnamespace)
WHERE
    typtype IN ('b', 'r', 'm', 'e', 'd') OR -- Base, range, multirange, enum, domain
    (typtype = 'c' AND relkind='c') OR -- User-defined free-standing composites (not table composites) by default
    (typtype = 'p' AND typname IN ('record', 'void')) OR -- Some special supported pseudo-types
    (typtype = 'a' AND (  -- Array of...
        elemtyptype IN ('b', 'r', 'm', 'e', 'd') OR -- Array of base, range, multirange, enum, domain
        (elemtyptype = 'p' AND elemtypname IN ('record', 'void')) OR -- Arrays of special supported pseudo-types
        (elemtyptype = 'c' AND elemrelkind='c') -- Array of user-defined free-standing composites (not table composites) by default
    ))
ORDER BY CASE
       WHEN typtype IN ('b', 'e', 'p') THEN 0           -- First base types, enums, pseudo-types
       WHEN typtype = 'r' THEN 1                        -- Ranges after
       WHEN typtype = 'm' THEN 2                        -- Multiranges after
       WHEN typtype = 'c' THEN 3                        -- Composites after
       WHEN typtype = 'd' AND elemtyptype <> 'a' THEN 4 -- Domains over non-arrays after
       WHEN typtype = 'a' THEN 5                        -- Arrays after
       WHEN typtype = 'd' AND elemtyptype = 'a' THEN 6  -- Domains over arrays last
END;""",
    """
-- Load field definitions for (free-standing) composite types
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  attnum > 0 AND     -- Don't load system attributes
  NOT attisdropped
ORDER BY typ.oid, att.attnum;""",
    """
-- Load enum fields
SELECT pg_type.oid, enumlabel
FROM pg_enum
JOIN pg_type ON pg_type.oid=enumtypid
ORDER BY oid, enumsortorder;""",
    "",
])

# Npgsql 4 (still bundled by Power BI Desktop's PostgreSQL connector) loads types with these
# statements, each sent through the extended protocol with text results.
NPGSQL4_TYPES_STATEMENTS = [
    """
/*** Load all supported types ***/
SELECT ns.nspname, a.typname, a.oid, a.typrelid, a.typbasetype,
CASE WHEN pg_proc.proname='array_recv' THEN 'a' ELSE a.typtype END AS type,
CASE
  WHEN pg_proc.proname='array_recv' THEN a.typelem
  WHEN a.typtype='r' THEN rngsubtype
  ELSE 0
END AS elemoid,
CASE
  WHEN pg_proc.proname IN ('array_recv','oidvectorrecv') THEN 3    /* Arrays last */
  WHEN a.typtype='r' THEN 2                                        /* Ranges before */
  WHEN a.typtype='d' THEN 1                                        /* Domains before */
  ELSE 0                                                           /* Base types first */
END AS ord
FROM pg_type AS a
JOIN pg_namespace AS ns ON (ns.oid = a.typnamespace)
JOIN pg_proc ON pg_proc.oid = a.typreceive
LEFT OUTER JOIN pg_class AS cls ON (cls.oid = a.typrelid)
LEFT OUTER JOIN pg_type AS b ON (b.oid = a.typelem)
LEFT OUTER JOIN pg_class AS elemcls ON (elemcls.oid = b.typrelid)
LEFT OUTER JOIN pg_range ON (pg_range.rngtypid = a.oid)
WHERE
  a.typtype IN ('b', 'r', 'e', 'd') OR         /* Base, range, enum, domain */
  (a.typtype = 'c' AND cls.relkind='c') OR /* User-defined free-standing composites (not table composites) by default */
  (pg_proc.proname='array_recv' AND (
    b.typtype IN ('b', 'r', 'e', 'd') OR       /* Array of base, range, enum, domain */
    (b.typtype = 'p' AND b.typname IN ('record', 'void')) OR /* Arrays of special supported pseudo-types */
    (b.typtype = 'c' AND elemcls.relkind='c')  /* Array of user-defined free-standing composites (not table composites) */
  )) OR
  (a.typtype = 'p' AND a.typname IN ('record', 'void'))  /* Some special supported pseudo-types */
ORDER BY ord""",
    """
/*** Load field definitions for (free-standing) composite types ***/
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  attnum > 0 AND     /* Don't load system attributes */
  NOT attisdropped
ORDER BY typ.typname, att.attnum""",
    """
/*** Load enum fields ***/
SELECT pg_type.oid, enumlabel
FROM pg_enum
JOIN pg_type ON pg_type.oid=enumtypid
ORDER BY oid, enumsortorder""",
]


def _result_set(cur):
    return {"columns": [d.name for d in cur.description or []],
            "type_oids": [d.type_code for d in cur.description or []],
            "rows": [list(r) for r in cur.fetchall()] if cur.description else []}


def npgsql_scenario(host, port, user, password):
    """What Npgsql sends on connect (type loading) and on reusing a pooled connection."""
    import psycopg

    out = {}
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="flowforge",
                         sslmode="disable", connect_timeout=10, autocommit=True) as conn:
        def types_batch():
            # A text cursor without parameters sends the batch as one simple Query message.
            with conn.cursor() as cur:
                cur.execute(NPGSQL_TYPES_QUERY)
                sets = [_result_set(cur)]
                while cur.nextset():
                    sets.append(_result_set(cur))
            return sets

        _record(out, "types_batch", types_batch)

        def types_v4():
            sets = []
            with conn.cursor() as cur:
                for statement in NPGSQL4_TYPES_STATEMENTS:
                    cur.execute(statement, prepare=True)
                    sets.append(_result_set(cur))
            return sets

        _record(out, "types_v4", types_v4)

        view_query = "SELECT symbol, trades, volume, avg_price FROM trades_by_symbol WHERE symbol = %s"

        def discard():
            with conn.cursor() as cur:
                before = [list(r) for r in cur.execute(view_query, ("AAPL",)).fetchall()]
                cur.execute("DISCARD ALL")
                status = cur.statusmessage
                after = [list(r) for r in cur.execute(view_query, ("AAPL",)).fetchall()]
            return {"status": status, "before": before, "after": after}

        _record(out, "discard_all", discard)

        def discard_pipelined():
            # Npgsql resets a pooled connection by sending DISCARD ALL ahead of the next command,
            # both under one Sync.
            with conn.pipeline():
                with conn.cursor() as reset, conn.cursor() as cur:
                    reset.execute("DISCARD ALL")
                    cur.execute(view_query, ("MSFT",))
                    rows = [list(r) for r in cur.fetchall()]
            return {"rows": rows}

        _record(out, "discard_all_pipelined", discard_pipelined)
        _record(out, "after", lambda: conn.execute("SELECT 1 + 1").fetchone()[0])
    return out


def main():
    scenario, host, port, user, password = sys.argv[1:6]
    port = int(port)
    if scenario == "psycopg-text":
        result = psycopg_scenario(host, port, user, password, binary=False)
    elif scenario == "psycopg-binary":
        result = psycopg_scenario(host, port, user, password, binary=True)
    elif scenario == "cancel":
        result = cancel_scenario(host, port, user, password)
    elif scenario == "asyncpg":
        result = asyncio.run(asyncpg_scenario(host, port, user, password))
    elif scenario == "sqlalchemy":
        result = sqlalchemy_scenario(host, port, user, password)
    elif scenario == "npgsql":
        result = npgsql_scenario(host, port, user, password)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
