//! PostgreSQL's keyword categories, for `quote_ident` and `pg_get_keywords()`.
//!
//! Clients quote identifiers with `quote_ident` and syntax highlighters (DBeaver, DataGrip)
//! read `pg_get_keywords()`; both must agree with PostgreSQL about which words are keywords.

/// Reserved keywords (`catcode` `R`).
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// Keywords that may be function or type names (`catcode` `T`).
const TYPE_FUNC_NAME: &[&str] = &[
    "authorization",
    "binary",
    "collation",
    "concurrently",
    "cross",
    "current_schema",
    "freeze",
    "full",
    "ilike",
    "inner",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "natural",
    "notnull",
    "outer",
    "overlaps",
    "right",
    "similar",
    "tablesample",
    "verbose",
];

/// Keywords that may be column names (`catcode` `C`).
const COL_NAME: &[&str] = &[
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "grouping",
    "inout",
    "int",
    "integer",
    "interval",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "least",
    "merge_action",
    "national",
    "nchar",
    "none",
    "normalize",
    "nullif",
    "numeric",
    "out",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// A keyword's category: `(catcode, catdesc)`.
pub(crate) fn category(word: &str) -> (&'static str, &'static str) {
    if RESERVED.contains(&word) {
        ("R", "reserved")
    } else if TYPE_FUNC_NAME.contains(&word) {
        ("T", "reserved (can be function or type name)")
    } else if COL_NAME.contains(&word) {
        ("C", "unreserved (cannot be function or type name)")
    } else {
        ("U", "unreserved")
    }
}

/// Whether `word` must be quoted to be used as an identifier.
pub(crate) fn is_reserved(word: &str) -> bool {
    category(word).0 != "U"
}

/// Every keyword `pg_get_keywords()` lists, sorted: PostgreSQL's categorised keywords plus
/// the unreserved words the SQL parser knows.
pub(crate) fn all_keywords() -> Vec<String> {
    let mut words: Vec<String> = RESERVED
        .iter()
        .chain(TYPE_FUNC_NAME)
        .chain(COL_NAME)
        .map(|w| w.to_string())
        .chain(
            datafusion::sql::sqlparser::keywords::ALL_KEYWORDS
                .iter()
                .map(|w| w.to_lowercase()),
        )
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    words.sort();
    words.dedup();
    words
}
