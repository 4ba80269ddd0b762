// node-postgres (`pg`) against a running FlowForge server: parameterized queries ($1, sent with
// unspecified parameter types as node-postgres does) on a view and on a serving table, through
// the unnamed and a named prepared statement.
//
// Usage: NODE_PATH=<dir with pg> node node_pg.js HOST PORT USER PASSWORD
// Prints one JSON document with what the driver saw; a query that failed is recorded as
// {"error": ..., "code": ...} under its own key so one failure does not hide the others.
'use strict';

const { Client } = require('pg');

async function record(out, key, run) {
  try {
    out[key] = await run();
  } catch (e) {
    out[key] = { error: e.message, code: e.code ?? null };
  }
}

function describe(result) {
  return {
    rows: result.rows,
    fields: result.fields.map((f) => f.name),
    dataTypeIDs: result.fields.map((f) => f.dataTypeID),
  };
}

async function main() {
  const [host, port, user, password] = process.argv.slice(2, 6);
  const client = new Client({
    host,
    port: Number(port),
    user,
    password,
    database: 'flowforge',
    ssl: false,
    connectionTimeoutMillis: 10000,
  });
  await client.connect();
  const out = {};
  try {
    await record(out, 'server_version', async () =>
      (await client.query('SHOW server_version_num')).rows[0].server_version_num);
    await record(out, 'view', async () =>
      describe(await client.query({
        text: 'SELECT symbol, trades, volume, avg_price FROM trades_by_symbol WHERE symbol = $1',
        values: ['AAPL'],
        rowMode: 'array',
      })));
    await record(out, 'view_named', async () => {
      const query = {
        name: 'flowforge-view-by-symbol',
        text: 'SELECT symbol, trades, volume, avg_price FROM trades_by_symbol WHERE symbol = $1',
        rowMode: 'array',
      };
      await client.query({ ...query, values: ['AAPL'] });
      return describe(await client.query({ ...query, values: ['MSFT'] }));
    });
    await record(out, 'trades', async () =>
      describe(await client.query({
        text: 'SELECT trade_id, symbol, price, quantity, event_time FROM market.fct_trades '
          + 'WHERE symbol = $1 AND quantity > $2 ORDER BY trade_id LIMIT 5',
        values: ['MSFT', 100],
        rowMode: 'array',
      })));
    await record(out, 'after', async () =>
      String((await client.query('SELECT 1 + 1 AS two')).rows[0].two));
  } finally {
    await client.end();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
