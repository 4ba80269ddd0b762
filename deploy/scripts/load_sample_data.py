#!/usr/bin/env python3
"""Loads the sample market data (the Parquet files `flowforge seed` writes) into the test backends.

Every `*.parquet` file of the data folder becomes one table named after the file, in schema
`market` of a PostgreSQL database and in database `market` of a ClickHouse (chdb) data path.
Column types follow the Parquet schema exactly, so the same query returns the same values on the
embedded engine, PostgreSQL and ClickHouse:

    Arrow type               PostgreSQL            ClickHouse
    int8/int16               smallint              Int8/Int16
    int32                    integer               Int32
    int64                    bigint                Int64
    float32/float64          real/double prec.     Float32/Float64
    bool                     boolean               Bool
    utf8/large_utf8          text                  String
    timestamp[us] (no zone)  timestamp             DateTime64(6)   (server time zone is UTC)
    timestamp[us, tz]        timestamptz           DateTime64(6, tz)
    date32                   date                  Date32
    decimal128(p, s)         numeric(p, s)         Decimal(p, s)

Non-nullable fields become NOT NULL / non-Nullable columns. After loading, row counts are
compared with the Parquet files and any difference is an error.

With --redis-url, the latest quote of each symbol (`live_quotes.parquet`) is written to Redis as
one hash per symbol, `<prefix><SYMBOL>` with fields bid, ask, bid_size, ask_size and event_time
(microseconds since the epoch): the layout FlowForge's Redis point lookups read.

Usage:
    load_sample_data.py --parquet-dir DIR [--pg-url URL --grant-select ROLE] [--chdb-path PATH]
                        [--redis-url redis://127.0.0.1:PORT --redis-quote-prefix quote:]

The ClickHouse part opens the chdb data path in-process, so no other process may hold it.
"""

import argparse
import os
import socket
import sys
from urllib.parse import urlparse
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = "market"

# Sorting keys for the ClickHouse MergeTree tables, the way production tables are keyed. Tables
# not listed keep insertion order (ORDER BY tuple()).
CLICKHOUSE_ORDER_BY = {
    "fct_trades": ["symbol", "event_time", "trade_id"],
    "fct_quotes": ["symbol", "event_time"],
    "agg_ohlcv_1h": ["symbol", "bucket"],
    "agg_ohlcv_1d": ["symbol", "bucket"],
    "dim_instruments": ["symbol"],
    "live_positions": ["account", "symbol"],
    "live_pnl": ["account", "symbol"],
    "live_quotes": ["symbol"],
}


def fail(message):
    print(f"load_sample_data: {message}", file=sys.stderr)
    sys.exit(1)


def pg_type(field):
    t = field.type
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric(20, 0)"
    if pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_timestamp(t):
        if t.unit == "ns":
            fail(f"column {field.name}: nanosecond timestamps do not fit PostgreSQL's microseconds")
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    fail(f"column {field.name}: no PostgreSQL type for Arrow type {t}")


def ch_type(field):
    t = field.type
    simple = {
        pa.int8(): "Int8",
        pa.int16(): "Int16",
        pa.int32(): "Int32",
        pa.int64(): "Int64",
        pa.uint8(): "UInt8",
        pa.uint16(): "UInt16",
        pa.uint32(): "UInt32",
        pa.uint64(): "UInt64",
        pa.float32(): "Float32",
        pa.float64(): "Float64",
        pa.bool_(): "Bool",
        pa.string(): "String",
        pa.large_string(): "String",
        pa.date32(): "Date32",
    }
    if t in simple:
        name = simple[t]
    elif pa.types.is_timestamp(t):
        precision = {"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit]
        name = f"DateTime64({precision}, {ch_literal(t.tz)})" if t.tz else f"DateTime64({precision})"
    elif pa.types.is_decimal(t):
        name = f"Decimal({t.precision}, {t.scale})"
    else:
        fail(f"column {field.name}: no ClickHouse type for Arrow type {t}")
    return f"Nullable({name})" if field.nullable else name


def pg_ident(name):
    return '"' + name.replace('"', '""') + '"'


def ch_ident(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def ch_literal(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def read_tables(parquet_dir):
    files = sorted(Path(parquet_dir).glob("*.parquet"))
    if not files:
        fail(f"no Parquet files in {parquet_dir} (run `flowforge seed --data-dir {parquet_dir}`)")
    return [(f.stem, f.resolve(), pq.read_table(f)) for f in files]


def load_postgres(url, tables, reader_role):
    import psycopg

    with psycopg.connect(url, autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {pg_ident(SCHEMA)}")
            for name, _path, table in tables:
                qualified = f"{pg_ident(SCHEMA)}.{pg_ident(name)}"
                columns = ", ".join(
                    f"{pg_ident(f.name)} {pg_type(f)}{'' if f.nullable else ' NOT NULL'}"
                    for f in table.schema
                )
                cur.execute(f"DROP TABLE IF EXISTS {qualified}")
                cur.execute(f"CREATE TABLE {qualified} ({columns})")
                names = ", ".join(pg_ident(f.name) for f in table.schema)
                column_values = [table.column(i).to_pylist() for i in range(table.num_columns)]
                with cur.copy(f"COPY {qualified} ({names}) FROM STDIN") as copy:
                    for row in zip(*column_values):
                        copy.write_row(row)
                cur.execute(f"SELECT count(*) FROM {qualified}")
                loaded = cur.fetchone()[0]
                if loaded != table.num_rows:
                    fail(f"PostgreSQL {qualified}: {loaded} rows loaded, Parquet has {table.num_rows}")
            if reader_role:
                role = pg_ident(reader_role)
                cur.execute(f"GRANT USAGE ON SCHEMA {pg_ident(SCHEMA)} TO {role}")
                cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {pg_ident(SCHEMA)} TO {role}")
        conn.commit()
        # Fresh statistics, so plans are the ones a loaded production database would choose.
        conn.autocommit = True
        conn.execute("ANALYZE")
    for name, _path, table in tables:
        print(f"  postgres   {SCHEMA}.{name:<18} {table.num_rows:>8} rows")


def load_clickhouse(path, tables):
    from chdb import session as chdb_session

    session = chdb_session.Session(str(path))
    try:
        session.query(f"CREATE DATABASE IF NOT EXISTS {ch_ident(SCHEMA)}")
        for name, parquet_path, table in tables:
            qualified = f"{ch_ident(SCHEMA)}.{ch_ident(name)}"
            columns = ", ".join(f"{ch_ident(f.name)} {ch_type(f)}" for f in table.schema)
            key = [c for c in CLICKHOUSE_ORDER_BY.get(name, []) if c in table.schema.names]
            order_by = "(" + ", ".join(ch_ident(c) for c in key) + ")" if key else "tuple()"
            names = ", ".join(ch_ident(f.name) for f in table.schema)
            structure = ch_literal(", ".join(f"{ch_ident(f.name)} {ch_type(f)}" for f in table.schema))
            session.query(f"DROP TABLE IF EXISTS {qualified} SYNC")
            session.query(
                f"CREATE TABLE {qualified} ({columns}) ENGINE = MergeTree ORDER BY {order_by}"
            )
            session.query(
                f"INSERT INTO {qualified} ({names}) SELECT {names} "
                f"FROM file({ch_literal(str(parquet_path))}, 'Parquet', {structure})"
            )
            session.query(f"OPTIMIZE TABLE {qualified} FINAL")
            loaded = int(
                session.query(f"SELECT count() FROM {qualified}", "TabSeparated").bytes().strip()
            )
            if loaded != table.num_rows:
                fail(f"ClickHouse {qualified}: {loaded} rows loaded, Parquet has {table.num_rows}")
            print(f"  clickhouse {SCHEMA}.{name:<18} {table.num_rows:>8} rows")
    finally:
        session.close()


def resp_command(*parts):
    """One Redis command in the RESP protocol."""
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


def read_reply(stream):
    """Reads one RESP reply; errors raise."""
    line = stream.readline()
    if not line:
        fail("Redis closed the connection")
    kind, rest = line[:1], line[1:].strip()
    if kind == b"-":
        fail(f"Redis: {rest.decode()}")
    if kind == b"$":
        length = int(rest)
        return None if length < 0 else stream.read(length + 2)[:-2]
    if kind == b"*":
        return [read_reply(stream) for _ in range(max(int(rest), 0))]
    return rest


def load_redis(url, prefix, tables):
    quotes = next((table for name, _, table in tables if name == "live_quotes"), None)
    if quotes is None:
        fail("no live_quotes.parquet to load into Redis")
    target = urlparse(url)
    with socket.create_connection((target.hostname, target.port or 6379), timeout=10) as sock:
        stream = sock.makefile("rb")
        commands = []
        if target.password:
            commands.append(resp_command("AUTH", target.password))
        rows = quotes.to_pylist()
        times = quotes.column("event_time").cast(pa.int64()).to_pylist()
        for row, micros in zip(rows, times):
            key = f"{prefix}{row['symbol']}"
            commands.append(resp_command("DEL", key))
            commands.append(
                resp_command(
                    "HSET", key,
                    "bid", repr(float(row["bid"])), "ask", repr(float(row["ask"])),
                    "bid_size", int(row["bid_size"]), "ask_size", int(row["ask_size"]),
                    "event_time", int(micros),
                )
            )
        sock.sendall(b"".join(commands))
        for _ in commands:
            read_reply(stream)
    print(f"  redis      {prefix}<symbol>       {len(rows):>8} hashes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parquet-dir", required=True, help="folder written by `flowforge seed`")
    parser.add_argument("--pg-url", help="PostgreSQL URL of the target database (owner rights)")
    parser.add_argument("--grant-select", help="PostgreSQL role that gets read-only access")
    parser.add_argument("--chdb-path", help="chdb data path to load into")
    parser.add_argument("--redis-url", help="Redis to write the latest quotes to")
    parser.add_argument("--redis-quote-prefix", default="quote:", help="key prefix of quote hashes")
    args = parser.parse_args()
    if not args.pg_url and not args.chdb_path and not args.redis_url:
        parser.error("give --pg-url, --chdb-path, --redis-url or several")

    os.environ.setdefault("TZ", "UTC")
    tables = read_tables(args.parquet_dir)
    if args.pg_url:
        load_postgres(args.pg_url, tables, args.grant_select)
    if args.chdb_path:
        load_clickhouse(args.chdb_path, tables)
    if args.redis_url:
        load_redis(args.redis_url, args.redis_quote_prefix, tables)


if __name__ == "__main__":
    main()
