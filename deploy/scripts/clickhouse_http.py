#!/usr/bin/env python3
"""A ClickHouse HTTP endpoint for tests, backed by the real ClickHouse engine of PyPI `chdb`.

It speaks the part of ClickHouse's HTTP interface that clients use:

* `GET /ping` (and `GET /` without a query) answer `Ok.`.
* `GET /?query=...` and `POST /` run a query. The query is the `query` URL parameter followed by
  a newline and the request body, as in ClickHouse. GET requests run with `readonly=2`.
* `default_format` (URL parameter or `X-ClickHouse-Format` header) is the output format when the
  query has no `FORMAT` clause; TabSeparated otherwise. The bytes are chdb's own output, so every
  format ClickHouse writes (TabSeparated*, JSON*, Arrow, ArrowStream, Parquet, RowBinary*, ...)
  is available.
* `database` (URL parameter or `X-ClickHouse-Database` header) is the current database.
* `query_id` (URL parameter or `X-ClickHouse-Query-Id` header) names the query; it is returned in
  `X-ClickHouse-Query-Id` (a UUID is generated when none is given).
* `param_NAME=value` are query parameters for `{NAME:Type}` placeholders.
* Every other URL parameter is a setting for this query only (max_execution_time,
  max_result_rows, result_overflow_mode, readonly, ...). Transport parameters that ClickHouse
  reserves (user, password, session_id, buffer_size, wait_end_of_query, ...) are accepted and
  ignored; `compress=1`/`decompress=1` (ClickHouse's internal block compression) are refused
  with NOT_IMPLEMENTED. `enable_http_compression=1` with `Accept-Encoding: gzip|deflate`
  compresses the response; a gzip/deflate `Content-Encoding` request body is decompressed.
* Errors answer with ClickHouse's HTTP status for the error code (400 for syntax errors, 404 for
  unknown tables, 500 by default, ...), the header `X-ClickHouse-Exception-Code: N` and the body
  `Code: N. DB::Exception: ... (NAME) (version V)`.
* `KILL QUERY WHERE query_id = '...'` cancels a running query by the id its client gave. chdb
  gives each query its own internal id, so every query runs with `log_comment` set to its HTTP
  query id and `query_id` inside a `KILL QUERY` condition is read from that setting. A client
  that sets `log_comment` itself keeps it, and its query can then not be killed by query id.

Each request runs on its own chdb connection in its own thread, all sharing one embedded
ClickHouse server over the data path, so queries run concurrently and a running query can be
killed from another request. Each query request is appended, when it arrives, to a JSON-lines
query log (`--query-log`); `GET /flowforge/query_log` returns it.

Usage:
    clickhouse_http.py --data-path DIR --query-log FILE [--host 127.0.0.1] [--port 0]
                       [--port-file FILE] [--pid-file FILE] [--load-parquet-dir DIR]

test-services.sh starts one over loaded data. A test that needs an endpoint of its own (to kill
it, say) starts another over a new data path with `--load-parquet-dir $FLOWFORGE_TEST_SAMPLE_DIR`
(about a second) and reads the port from `--port-file`.
"""

import argparse
import gzip
import json
import os
import re
import signal
import socket
import sys
import threading
import uuid
import zlib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# The server's time zone decides how DateTime columns without a zone are read and written; the
# sample data holds UTC wall-clock times.
os.environ["TZ"] = "UTC"

import chdb  # noqa: E402  (imported after TZ is fixed)
from chdb import session as chdb_session  # noqa: E402

# URL parameters that are not settings (ClickHouse's reserved names, HTTPHandler.cpp).
TRANSPORT_PARAMS = {
    "query",
    "database",
    "default_format",
    "query_id",
    "compress",
    "decompress",
    "user",
    "password",
    "quota_key",
    "stacktrace",
    "buffer_size",
    "wait_end_of_query",
    "session_id",
    "session_timeout",
    "session_check",
    "client_protocol_version",
    "close_session",
    "role",
}

# chdb's own result post-processing modes, which are not ClickHouse formats.
CHDB_PSEUDO_FORMATS = {"dataframe", "arrowtable", "datastore", "debug"}

# ClickHouse's exceptionCodeToHTTPStatus, by error name (chdb's messages end with the name).
HTTP_STATUS_BY_ERROR = {
    "REQUIRED_PASSWORD": 401,
    **{
        name: 403
        for name in (
            "UNKNOWN_USER",
            "WRONG_PASSWORD",
            "AUTHENTICATION_FAILED",
            "SET_NON_GRANTED_ROLE",
            "ACCESS_DENIED",
        )
    },
    **{
        name: 400
        for name in (
            "BAD_ARGUMENTS",
            "CANNOT_COMPILE_REGEXP",
            "CANNOT_PARSE_TEXT",
            "CANNOT_PARSE_ESCAPE_SEQUENCE",
            "CANNOT_PARSE_QUOTED_STRING",
            "CANNOT_PARSE_DATE",
            "CANNOT_PARSE_DATETIME",
            "CANNOT_PARSE_NUMBER",
            "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING",
            "CANNOT_PARSE_IPV4",
            "CANNOT_PARSE_IPV6",
            "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
            "CANNOT_PARSE_UUID",
            "DUPLICATE_COLUMN",
            "ILLEGAL_COLUMN",
            "UNKNOWN_ELEMENT_IN_AST",
            "UNKNOWN_TYPE_OF_AST_NODE",
            "THERE_IS_NO_COLUMN",
            "TOO_DEEP_AST",
            "TOO_BIG_AST",
            "UNEXPECTED_AST_STRUCTURE",
            "SYNTAX_ERROR",
            "INCORRECT_DATA",
            "TYPE_MISMATCH",
            "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
        )
    },
    **{
        name: 404
        for name in (
            "UNKNOWN_TABLE",
            "UNKNOWN_FUNCTION",
            "UNKNOWN_IDENTIFIER",
            "UNKNOWN_TYPE",
            "UNKNOWN_STORAGE",
            "UNKNOWN_DATABASE",
            "UNKNOWN_SETTING",
            "UNKNOWN_DIRECTION_OF_SORTING",
            "UNKNOWN_AGGREGATE_FUNCTION",
            "UNKNOWN_FORMAT",
            "UNKNOWN_DATABASE_ENGINE",
            "UNKNOWN_TYPE_OF_QUERY",
            "UNKNOWN_ROLE",
        )
    },
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "SOCKET_TIMEOUT": 503,
    "CANNOT_OPEN_FILE": 503,
    "CANNOT_SCHEDULE_TASK": 503,
    "HTTP_LENGTH_REQUIRED": 411,
    "TIMEOUT_EXCEEDED": 408,
    "UNSUPPORTED_MEDIA_TYPE": 415,
}

CONTENT_TYPES = [
    (re.compile(r"^TabSeparated|^TSV", re.I), "text/tab-separated-values; charset=UTF-8"),
    (re.compile(r"^CSV", re.I), "text/csv; charset=UTF-8; header=absent"),
    (re.compile(r"^(JSONEachRow|JSONLines|NDJSON|JSONCompactEachRow)", re.I), "application/x-ndjson; charset=UTF-8"),
    (re.compile(r"^JSON", re.I), "application/json; charset=UTF-8"),
    (re.compile(r"^(Arrow|ArrowStream|Parquet|ORC|Native|RowBinary|Avro)", re.I), "application/octet-stream"),
]

FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$", re.I)
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ERROR_CODE = re.compile(r"Code:\s*(\d+)\.")
ERROR_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)(?:\s*\(version [^)]*\))?\s*$")


class QueryError(Exception):
    """A ClickHouse error to send to the client."""

    def __init__(self, code, name, message):
        super().__init__(message)
        self.code = code
        self.name = name
        self.message = message


def error_from_engine(exc):
    text = str(exc).strip()
    code_match = ERROR_CODE.search(text)
    name_match = ERROR_NAME.search(text)
    if code_match is None:
        return QueryError(1002, "UNKNOWN_EXCEPTION", f"Code: 1002. DB::Exception: {text}. (UNKNOWN_EXCEPTION)")
    code = code_match.group(1)
    name = name_match.group(1) if name_match else ""
    # chdb sometimes wraps an exception in copies of itself ("Code: 73. DB::Exception: Code: 73.
    # DB::Exception: Unknown format X. (UNKNOWN_FORMAT) (version ...). (UNKNOWN_FORMAT)"); the
    # client gets the innermost message, as ClickHouse sends it.
    start = text.rfind(f"Code: {code}. DB::Exception: ")
    inner = text[start:] if start > 0 else text
    if name:
        end = inner.find(f"({name})")
        if end >= 0:
            inner = inner[: end + len(name) + 2]
    return QueryError(int(code), name, inner)


def ch_literal(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ch_ident(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def strip_leading_comments(sql):
    position = 0
    while True:
        while position < len(sql) and sql[position].isspace():
            position += 1
        if sql.startswith("--", position) or sql.startswith("#", position):
            end = sql.find("\n", position)
            position = len(sql) if end < 0 else end + 1
        elif sql.startswith("/*", position):
            end = sql.find("*/", position + 2)
            position = len(sql) if end < 0 else end + 2
        else:
            return sql[position:]


KILL_QUERY = re.compile(r"^KILL\s+QUERY\b", re.I)


def rewrite_kill_query(sql):
    """`query_id` in a KILL QUERY condition means the HTTP query id, carried by log_comment."""
    if not KILL_QUERY.match(strip_leading_comments(sql)):
        return sql
    out = []
    i = 0
    n = len(sql)
    replacement = "Settings['log_comment']"
    while i < n:
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < n:
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1])
            i = j + 1
        elif c in "`\"":
            j = sql.find(c, i + 1)
            j = n - 1 if j < 0 else j
            token = sql[i : j + 1]
            out.append(replacement if token[1:-1] == "query_id" else token)
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            word = sql[i:j]
            out.append(replacement if word == "query_id" else word)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def output_format(sql, default_format):
    match = FORMAT_CLAUSE.search(sql)
    return match.group(1) if match else default_format


def content_type(fmt):
    for pattern, value in CONTENT_TYPES:
        if pattern.search(fmt):
            return value
    return "text/plain; charset=UTF-8"


class Endpoint:
    """The shared state: the chdb data path, the query log and the running query ids."""

    def __init__(self, data_path, query_log):
        self.data_path = data_path
        self.query_log = query_log
        # Holding one session keeps the embedded server (and its data) up between requests.
        self.session = chdb_session.Session(data_path)
        self.version = self.session.query("SELECT version()", "TabSeparated").bytes().decode().strip()
        self.timezone = self.session.query("SELECT timezone()", "TabSeparated").bytes().decode().strip()
        self.log_lock = threading.Lock()
        self.seq = 0
        self.running = set()
        self.running_lock = threading.Lock()
        os.makedirs(os.path.dirname(os.path.abspath(query_log)), exist_ok=True)
        if os.path.exists(query_log):
            with open(query_log, "rb") as f:
                self.seq = sum(1 for _ in f)

    def log(self, entry):
        with self.log_lock:
            self.seq += 1
            entry = {"seq": self.seq, **entry}
            with open(self.query_log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def run(self, sql, query_id, database, default_format, settings, params, method):
        fmt_lower = output_format(sql, default_format).lower()
        if fmt_lower in CHDB_PSEUDO_FORMATS:
            raise QueryError(
                73,
                "UNKNOWN_FORMAT",
                f"Code: 73. DB::Exception: Unknown format {output_format(sql, default_format)}. (UNKNOWN_FORMAT)",
            )
        with self.running_lock:
            if query_id in self.running:
                raise QueryError(
                    216,
                    "QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING",
                    f"Code: 216. DB::Exception: Query with id = {query_id} is already running. "
                    "(QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING)",
                )
            self.running.add(query_id)
        conn = None
        try:
            conn = chdb.connect(self.data_path)
            statements = []
            if database:
                statements.append(f"USE {ch_ident(database)}")
            if "log_comment" not in settings:
                statements.append(f"SET log_comment = {ch_literal(query_id)}")
            if method != "POST" and "readonly" not in settings:
                statements.append("SET readonly = 2")
            # readonly last: readonly=1 forbids changing settings afterwards.
            for name in sorted(settings, key=lambda s: s == "readonly"):
                if not SETTING_NAME.match(name):
                    raise QueryError(115, "UNKNOWN_SETTING", f"Code: 115. DB::Exception: Unknown setting '{name}'. (UNKNOWN_SETTING)")
                statements.append(f"SET {name} = {ch_literal(settings[name])}")
            for statement in statements:
                conn.query(statement, "TabSeparated")
            result = conn.query(rewrite_kill_query(sql), default_format, params=params or None)
            return result
        except QueryError:
            raise
        except Exception as exc:  # chdb raises RuntimeError/ChdbError with ClickHouse's text
            raise error_from_engine(exc) from None
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass
            with self.running_lock:
                self.running.discard(query_id)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FlowForgeTestClickHouse"
    endpoint = None  # set in main()

    def setup(self):
        super().setup()
        # Headers and body leave as separate writes: with Nagle's algorithm on, the body would
        # wait for the client's delayed ACK (~40 ms on every response).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (datetime.now(timezone.utc).isoformat(), fmt % args))

    def send_body(self, status, body, content_type_value="text/plain; charset=UTF-8", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        encoding = None
        if headers is not None and headers.pop("_compress", None):
            accept = self.headers.get("Accept-Encoding", "")
            if "gzip" in accept:
                encoding, body = "gzip", gzip.compress(body)
            elif "deflate" in accept:
                encoding, body = "deflate", zlib.compress(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type_value)
        self.send_header("Content-Length", str(len(body)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_response(self, error, query_id):
        text = error.message
        if "(version " not in text[-40:]:
            text = f"{text} (version {self.endpoint.version})"
        status = HTTP_STATUS_BY_ERROR.get(error.name, 500)
        headers = {"X-ClickHouse-Exception-Code": str(error.code)}
        if query_id:
            headers["X-ClickHouse-Query-Id"] = query_id
        self.send_body(status, text + "\n", headers=headers)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding not in ("", "identity"):
            raise QueryError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Code: 415. DB::Exception: Content-Encoding {encoding} is not supported by this endpoint. "
                "(UNSUPPORTED_MEDIA_TYPE)",
            )
        return body

    def do_GET(self):
        self.handle_request()

    def do_POST(self):
        self.handle_request()

    def handle_request(self):
        url = urlsplit(self.path)
        path = url.path
        if path == "/ping" or path == "/replicas_status":
            self.send_body(200, "Ok.\n")
            return
        if path == "/flowforge/query_log":
            try:
                with open(self.endpoint.query_log, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                data = b""
            self.send_body(200, data, "application/x-ndjson; charset=UTF-8")
            return
        if path != "/":
            self.send_body(404, f"There is no handle {path}\n\nUse / or /ping for health checks.\n")
            return

        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
        try:
            body = self.read_body()
        except QueryError as error:
            self.send_error_response(error, query_id)
            return
        url_query = params.get("query", "")
        sql = (url_query + "\n" if url_query else "") + body.decode("utf-8", errors="replace")
        if self.command == "GET" and not sql.strip():
            self.send_body(200, "Ok.\n")
            return

        database = self.headers.get("X-ClickHouse-Database") or params.get("database", "")
        default_format = self.headers.get("X-ClickHouse-Format") or params.get("default_format") or "TabSeparated"
        query_params = {k[len("param_") :]: v for k, v in params.items() if k.startswith("param_")}
        settings = {
            k: v
            for k, v in params.items()
            if k and k not in TRANSPORT_PARAMS and not k.startswith("param_") and k != "enable_http_compression"
        }
        self.endpoint.log(
            {
                "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                "query_id": query_id,
                "query": sql,
                "method": self.command,
                "database": database,
                "default_format": default_format,
                "settings": settings,
                "params": query_params,
            }
        )
        try:
            if params.get("compress") in ("1", "true") or params.get("decompress") in ("1", "true"):
                raise QueryError(
                    48,
                    "NOT_IMPLEMENTED",
                    "Code: 48. DB::Exception: ClickHouse's internal block compression (compress/decompress=1) "
                    "is not implemented by this test endpoint; use HTTP compression instead. (NOT_IMPLEMENTED)",
                )
            if not sql.strip():
                raise QueryError(62, "SYNTAX_ERROR", "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
            result = self.endpoint.run(sql, query_id, database, default_format, settings, query_params, self.command)
        except QueryError as error:
            self.send_error_response(error, query_id)
            return
        fmt = output_format(sql, default_format)
        data = result.bytes()
        # chdb's rows_read/bytes_read count the result; storage_* count what the query read.
        summary = {
            "read_rows": str(result.storage_rows_read()),
            "read_bytes": str(result.storage_bytes_read()),
            "written_rows": str(result.rows_written()),
            "written_bytes": str(result.bytes_written()),
            "total_rows_to_read": str(result.storage_rows_read()),
            "result_rows": str(result.rows_read()),
            "result_bytes": str(len(data)),
            "elapsed_ns": str(int(result.elapsed() * 1e9)),
        }
        headers = {
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Timezone": self.endpoint.timezone,
            "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":")),
        }
        if params.get("enable_http_compression") in ("1", "true"):
            headers["_compress"] = True
        self.send_body(200, data, content_type(fmt), headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-path", required=True, help="chdb data path (holds database market)")
    parser.add_argument("--query-log", required=True, help="JSON-lines file every query is appended to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="file to write the bound port to")
    parser.add_argument("--pid-file", help="file to write this process id to")
    parser.add_argument(
        "--load-parquet-dir",
        help="first load every Parquet file of this folder into database market (a private endpoint)",
    )
    args = parser.parse_args()

    if args.load_parquet_dir:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import load_sample_data

        load_sample_data.load_clickhouse(args.data_path, load_sample_data.read_tables(args.load_parquet_dir))

    Handler.endpoint = Endpoint(args.data_path, args.query_log)
    ThreadingHTTPServer.daemon_threads = True
    # Test suites open many connections at once; the default backlog of 5 would stall them.
    ThreadingHTTPServer.request_queue_size = 256
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    port = server.server_address[1]

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(
        f"clickhouse endpoint on http://{args.host}:{port} (ClickHouse {Handler.endpoint.version}, "
        f"data {args.data_path}, pid {os.getpid()})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        # Close the engine cleanly when it is idle; queries still running end with the process.
        closer = threading.Thread(target=Handler.endpoint.session.close, daemon=True)
        closer.start()
        closer.join(timeout=5)
        os._exit(0)


if __name__ == "__main__":
    main()
