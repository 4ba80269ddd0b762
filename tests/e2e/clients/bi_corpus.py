"""Runs the BI-tool introspection corpus (tests/fixtures/bi_corpus.json) against a server.

Usage: bi_corpus.py HOST PORT USER PASSWORD CORPUS_PATH [--values]

Every entry runs the way the tool sends it: over the simple-query protocol when its "protocol" is
"simple", otherwise over the extended protocol with its "params" bound as text of unspecified
type. "{{oid:schema.name}}" in the SQL or a parameter is first replaced by the oid the server's
pg_class gives that relation, as the tool itself would have looked it up. An entry that fails does
not stop the others; if the server drops the connection, the next entry reconnects.

Prints one JSON document: a list with, per entry, {name, tool, ok, error, sqlstate, columns:
[[name, type oid], ...], rows} and, with --values, the rows themselves as text ("values").
"""
import json
import re
import sys

import psycopg
from psycopg import pq

OID_PLACEHOLDER = re.compile(r"\{\{oid:([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}\}")
OID_LOOKUP = (b"SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
              b" ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2")


class EntryError(Exception):
    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


def failure(res, what):
    message = (res.error_message or b"").decode(errors="replace").strip()
    sqlstate = res.error_field(pq.DiagnosticField.SQLSTATE)
    return EntryError(f"{what}{message or 'status ' + res.status.name}",
                      sqlstate.decode() if sqlstate else None)


def resolve(pgconn, text):
    def oid_of(match):
        relation = f"{match.group(1)}.{match.group(2)}"
        res = pgconn.exec_params(OID_LOOKUP, [match.group(1).encode(), match.group(2).encode()])
        if res.status != pq.ExecStatus.TUPLES_OK:
            raise failure(res, f"looking up the oid of {relation}: ")
        if res.ntuples != 1:
            raise EntryError(f"looking up the oid of {relation}: pg_class returned {res.ntuples} rows")
        return res.get_value(0, 0).decode()
    return OID_PLACEHOLDER.sub(oid_of, text)


def execute(pgconn, entry, values):
    sql = resolve(pgconn, entry["sql"])
    params = [None if p is None else resolve(pgconn, p) for p in entry.get("params", [])]
    if entry.get("protocol") == "simple":
        res = pgconn.exec_(sql.encode())
    else:
        res = pgconn.exec_params(sql.encode(), [None if p is None else p.encode() for p in params])
    if res.status != pq.ExecStatus.TUPLES_OK:
        raise failure(res, "")
    out = {
        "columns": [[res.fname(i).decode(errors="replace"), res.ftype(i)] for i in range(res.nfields)],
        "rows": res.ntuples,
    }
    if values:
        out["values"] = [
            [None if res.get_value(r, c) is None else res.get_value(r, c).decode(errors="replace")
             for c in range(res.nfields)]
            for r in range(res.ntuples)
        ]
    return out


def main(host, port, user, password, corpus_path, values):
    with open(corpus_path) as f:
        entries = json.load(f)

    def connect():
        return psycopg.connect(host=host, port=port, user=user, password=password, dbname="flowforge",
                               sslmode="disable", connect_timeout=10, autocommit=True)

    conn = connect()
    results = []
    for entry in entries:
        if conn.pgconn.status != pq.ConnStatus.OK:
            conn.close()
            conn = connect()
        result = {"name": entry["name"], "tool": entry["tool"], "ok": False, "error": None,
                  "sqlstate": None, "columns": [], "rows": 0}
        try:
            result.update(execute(conn.pgconn, entry, values))
            result["ok"] = True
        except EntryError as e:
            result["error"] = str(e)
            result["sqlstate"] = e.sqlstate
        results.append(result)
    conn.close()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--values"]
    if len(args) != 5:
        sys.exit(__doc__)
    main(args[0], args[1], args[2], args[3], args[4], "--values" in sys.argv[1:])
