// The PostgreSQL JDBC driver (pgjdbc) against a running FlowForge server: the
// DatabaseMetaData calls BI tools (DBeaver, Tableau, Metabase, ...) make to browse a database,
// and a prepared statement on a view.
//
// Usage: java -cp postgresql.jar JdbcMetadata.java HOST PORT USER PASSWORD
// Prints one JSON document with what the driver saw; each call that threw is recorded as
// {"error": ..., "sqlstate": ..., "statement": <the last SQL the driver sent>} under its own
// key so one failure does not hide the others.

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

public class JdbcMetadata {
    /** One metadata call whose result set becomes a JSON value. */
    interface Call {
        Object run() throws SQLException;
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        String port = args[1];
        Properties props = new Properties();
        props.setProperty("user", args[2]);
        props.setProperty("password", args[3]);
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "120");
        LAST.setLevel(Level.ALL);
        DRIVER_LOG.setLevel(Level.FINEST);
        DRIVER_LOG.setUseParentHandlers(false);
        DRIVER_LOG.addHandler(LAST);
        String url = "jdbc:postgresql://" + host + ":" + port + "/flowforge";

        Map<String, Object> out = new LinkedHashMap<>();
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData md = conn.getMetaData();
            out.put("product", md.getDatabaseProductName());
            out.put("product_version", md.getDatabaseProductVersion());
            out.put("driver_version", md.getDriverVersion());

            record(out, "schemas", () -> rows(md.getSchemas(), "TABLE_SCHEM"));
            record(out, "market_tables", () -> rows(md.getTables(null, "market", "%", null),
                    "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"));
            record(out, "public_views", () -> rows(md.getTables(null, "public", "%", new String[] {"VIEW"}),
                    "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"));
            record(out, "table_types", () -> rows(md.getTableTypes(), "TABLE_TYPE"));
            record(out, "view_columns", () -> rows(md.getColumns(null, "public", "trades_by_symbol", "%"),
                    "COLUMN_NAME", "TYPE_NAME", "DATA_TYPE", "ORDINAL_POSITION", "REMARKS", "NULLABLE"));
            record(out, "trade_columns", () -> rows(md.getColumns(null, "market", "fct_trades", "%"),
                    "COLUMN_NAME", "TYPE_NAME", "DATA_TYPE", "ORDINAL_POSITION"));
            record(out, "primary_keys", () -> rows(md.getPrimaryKeys(null, "market", "fct_trades"),
                    "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ"));
            record(out, "imported_keys", () -> rows(md.getImportedKeys(null, "market", "fct_trades"),
                    "PKTABLE_NAME", "PKCOLUMN_NAME", "FKTABLE_NAME", "FKCOLUMN_NAME"));

            record(out, "prepared", () -> {
                Map<String, Object> p = new LinkedHashMap<>();
                try (PreparedStatement ps = conn.prepareStatement(
                        "SELECT symbol, trades, volume, avg_price FROM trades_by_symbol WHERE symbol = ?")) {
                    p.put("rows", runPrepared(ps, "AAPL"));
                    // The sixth execution switches pgjdbc to a named server-side statement
                    // (prepareThreshold 5): the result must not change.
                    List<Object> again = null;
                    for (int i = 0; i < 5; i++) {
                        again = runPrepared(ps, "MSFT");
                    }
                    p.put("rows_named_statement", again);
                    ResultSetMetaData rsmd = ps.getMetaData();
                    List<Object> cols = new ArrayList<>();
                    for (int i = 1; rsmd != null && i <= rsmd.getColumnCount(); i++) {
                        Map<String, Object> c = new LinkedHashMap<>();
                        c.put("name", rsmd.getColumnName(i));
                        c.put("label", rsmd.getColumnLabel(i));
                        c.put("type_name", rsmd.getColumnTypeName(i));
                        c.put("type", rsmd.getColumnType(i));
                        c.put("class", rsmd.getColumnClassName(i));
                        cols.add(c);
                    }
                    p.put("columns", cols);
                }
                return p;
            });

            record(out, "after", () -> {
                try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 + 1")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
        }
        System.out.println(json(out));
    }

    /** Remembers the text of the last statement the driver sent (from its finest log). */
    static final class LastStatement extends Handler {
        static final SimpleFormatter FORMAT = new SimpleFormatter();
        volatile String text;

        @Override
        public void publish(LogRecord r) {
            // " FE=> Parse(stmt=S_1,query=\"...\",oids={...})" or " FE=> SimpleQuery(query=\"...\")"
            String msg = FORMAT.formatMessage(r);
            if (msg == null || !(msg.contains("FE=> Parse(") || msg.contains("FE=> SimpleQuery("))) {
                return;
            }
            int start = msg.indexOf("query=\"");
            int end = msg.contains(",oids=") ? msg.lastIndexOf("\",oids=") : msg.lastIndexOf('"');
            if (start >= 0 && end > start) {
                text = msg.substring(start + "query=\"".length(), end);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    static final LastStatement LAST = new LastStatement();

    /** The driver's logger, held here so its configuration is not garbage-collected. */
    static final Logger DRIVER_LOG = Logger.getLogger("org.postgresql");

    static List<Object> runPrepared(PreparedStatement ps, String symbol) throws SQLException {
        ps.setString(1, symbol);
        List<Object> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                row.add(rs.getString(1));
                row.add(rs.getLong(2));
                row.add(rs.getLong(3));
                row.add(rs.getDouble(4));
                rows.add(row);
            }
        }
        return rows;
    }

    static void record(Map<String, Object> out, String key, Call call) {
        try {
            out.put(key, call.run());
        } catch (SQLException e) {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("error", e.getMessage());
            err.put("sqlstate", e.getSQLState());
            err.put("statement", LAST.text);
            out.put(key, err);
        } catch (RuntimeException e) {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("error", e.toString());
            err.put("statement", LAST.text);
            out.put(key, err);
        }
    }

    /** Reads the named columns of every row (as strings, or null). */
    static List<Object> rows(ResultSet rs, String... columns) throws SQLException {
        List<Object> rows = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (String c : columns) {
                    row.put(c, rs.getString(c));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    static String json(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List) {
            sb.append('[');
            boolean first = true;
            for (Object item : (List<?>) v) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, item);
            }
            sb.append(']');
        } else if (v instanceof Number && !(v instanceof Double d && (d.isNaN() || d.isInfinite()))) {
            sb.append(v);
        } else if (v instanceof Boolean) {
            sb.append(v);
        } else {
            String s = String.valueOf(v);
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        }
    }
}
