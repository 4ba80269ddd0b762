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
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
