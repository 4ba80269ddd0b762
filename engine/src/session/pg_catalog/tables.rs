//! The definitions of the `pg_catalog` relations: names, oids and PostgreSQL's columns.
//!
//! Each relation is data — its name, its PostgreSQL oid, whether it is a table or a view and
//! its columns — so `pg_class` and `pg_attribute` can describe the catalog itself (`\d
//! pg_class` works) and `information_schema` lists it. Column types follow PostgreSQL's; on the
//! Arrow side oids are `bigint` and `name`/`"char"` are text, with the PostgreSQL type kept in
//! the field's metadata ([`PG_TYPE_METADATA`]) so the wire layer can announce it. Rows come from
//! [`super::rows`]; relations FlowForge has nothing for (indexes, constraints, triggers, ...)
//! exist with their columns and no rows.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// Field metadata key carrying the PostgreSQL type name of a catalog column whose Arrow type
/// alone would be announced as something else (`oid`, `name`, `"char"`, `regproc`, ...).
pub const PG_TYPE_METADATA: &str = "flowforge.pg_type";

/// A catalog column's PostgreSQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Oid,
    Name,
    Text,
    Varchar,
    NodeTree,
    Char,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    RegProc,
    Timestamptz,
    TextArray,
    OidArray,
    Int2Array,
    CharArray,
    Int2Vector,
    OidVector,
}

impl ColumnType {
    /// The Arrow type values of this column have.
    pub(crate) fn data_type(self) -> DataType {
        use ColumnType::*;
        let list =
            |element: DataType| DataType::List(Arc::new(Field::new_list_field(element, true)));
        match self {
            Oid | RegProc | Int8 => DataType::Int64,
            Name | Text | Varchar | NodeTree | Char => DataType::Utf8,
            Bool => DataType::Boolean,
            Int2 => DataType::Int16,
            Int4 => DataType::Int32,
            Float4 => DataType::Float32,
            Timestamptz => DataType::Timestamp(
                datafusion::arrow::datatypes::TimeUnit::Microsecond,
                Some("+00:00".into()),
            ),
            TextArray | CharArray => list(DataType::Utf8),
            OidArray | OidVector => list(DataType::Int64),
            Int2Array | Int2Vector => list(DataType::Int16),
        }
    }

    /// The PostgreSQL type oid of this column.
    pub(crate) fn pg_oid(self) -> i64 {
        use ColumnType::*;
        match self {
            Oid => 26,
            Name => 19,
            Text => 25,
            Varchar => 1043,
            NodeTree => 194,
            Char => 18,
            Bool => 16,
            Int2 => 21,
            Int4 => 23,
            Int8 => 20,
            Float4 => 700,
            RegProc => 24,
            Timestamptz => 1184,
            TextArray => 1009,
            OidArray => 1028,
            Int2Array => 1005,
            CharArray => 1002,
            Int2Vector => 22,
            OidVector => 30,
        }
    }

    /// The PostgreSQL type name to record in field metadata, when the Arrow type would be
    /// announced as a different PostgreSQL type.
    fn metadata_name(self) -> Option<&'static str> {
        use ColumnType::*;
        match self {
            Oid => Some("oid"),
            Name => Some("name"),
            Varchar => Some("varchar"),
            NodeTree => Some("pg_node_tree"),
            Char => Some("char"),
            RegProc => Some("regproc"),
            OidArray => Some("_oid"),
            CharArray => Some("_char"),
            Int2Vector => Some("int2vector"),
            OidVector => Some("oidvector"),
            _ => None,
        }
    }

    /// The Arrow field for a column of this type.
    pub(crate) fn field(self, name: &str) -> Field {
        let field = Field::new(name, self.data_type(), true);
        match self.metadata_name() {
            Some(pg) => field.with_metadata(HashMap::from([(
                PG_TYPE_METADATA.to_string(),
                pg.to_string(),
            )])),
            None => field,
        }
    }
}

/// One `pg_catalog` relation.
#[derive(Debug)]
pub(crate) struct TableDef {
    /// The relation's name.
    pub name: &'static str,
    /// Its oid (PostgreSQL's own where it has a fixed one).
    pub oid: i64,
    /// `r` for a system table, `v` for a system view.
    pub kind: &'static str,
    /// Its columns, in order.
    pub columns: &'static [(&'static str, ColumnType)],
}

impl TableDef {
    /// The Arrow schema of the relation.
    pub(crate) fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|(name, t)| t.field(name))
                .collect::<Vec<_>>(),
        ))
    }
}

use ColumnType::*;

const fn table(
    name: &'static str,
    oid: i64,
    columns: &'static [(&'static str, ColumnType)],
) -> TableDef {
    TableDef {
        name,
        oid,
        kind: "r",
        columns,
    }
}

const fn view(
    name: &'static str,
    oid: i64,
    columns: &'static [(&'static str, ColumnType)],
) -> TableDef {
    TableDef {
        name,
        oid,
        kind: "v",
        columns,
    }
}

/// Every relation of `pg_catalog`, with PostgreSQL 16's columns.
pub(crate) const TABLES: &[TableDef] = &[
    table(
        "pg_namespace",
        2615,
        &[
            ("oid", Oid),
            ("nspname", Name),
            ("nspowner", Oid),
            ("nspacl", TextArray),
        ],
    ),
    table(
        "pg_class",
        1259,
        &[
            ("oid", Oid),
            ("relname", Name),
            ("relnamespace", Oid),
            ("reltype", Oid),
            ("reloftype", Oid),
            ("relowner", Oid),
            ("relam", Oid),
            ("relfilenode", Oid),
            ("reltablespace", Oid),
            ("relpages", Int4),
            ("reltuples", Float4),
            ("relallvisible", Int4),
            ("reltoastrelid", Oid),
            ("relhasindex", Bool),
            ("relisshared", Bool),
            ("relpersistence", Char),
            ("relkind", Char),
            ("relnatts", Int2),
            ("relchecks", Int2),
            ("relhasrules", Bool),
            ("relhastriggers", Bool),
            ("relhassubclass", Bool),
            ("relrowsecurity", Bool),
            ("relforcerowsecurity", Bool),
            ("relispopulated", Bool),
            ("relreplident", Char),
            ("relispartition", Bool),
            ("relrewrite", Oid),
            ("relfrozenxid", Int8),
            ("relminmxid", Int8),
            ("relacl", TextArray),
            ("reloptions", TextArray),
            ("relpartbound", NodeTree),
        ],
    ),
    table(
        "pg_attribute",
        1249,
        &[
            ("attrelid", Oid),
            ("attname", Name),
            ("atttypid", Oid),
            ("attstattarget", Int4),
            ("attlen", Int2),
            ("attnum", Int2),
            ("attndims", Int4),
            ("attcacheoff", Int4),
            ("atttypmod", Int4),
            ("attbyval", Bool),
            ("attalign", Char),
            ("attstorage", Char),
            ("attcompression", Char),
            ("attnotnull", Bool),
            ("atthasdef", Bool),
            ("atthasmissing", Bool),
            ("attidentity", Char),
            ("attgenerated", Char),
            ("attisdropped", Bool),
            ("attislocal", Bool),
            ("attinhcount", Int4),
            ("attcollation", Oid),
            ("attacl", TextArray),
            ("attoptions", TextArray),
            ("attfdwoptions", TextArray),
            ("attmissingval", Text),
        ],
    ),
    table(
        "pg_type",
        1247,
        &[
            ("oid", Oid),
            ("typname", Name),
            ("typnamespace", Oid),
            ("typowner", Oid),
            ("typlen", Int2),
            ("typbyval", Bool),
            ("typtype", Char),
            ("typcategory", Char),
            ("typispreferred", Bool),
            ("typisdefined", Bool),
            ("typdelim", Char),
            ("typrelid", Oid),
            ("typsubscript", RegProc),
            ("typelem", Oid),
            ("typarray", Oid),
            ("typinput", RegProc),
            ("typoutput", RegProc),
            ("typreceive", RegProc),
            ("typsend", RegProc),
            ("typmodin", RegProc),
            ("typmodout", RegProc),
            ("typanalyze", RegProc),
            ("typalign", Char),
            ("typstorage", Char),
            ("typnotnull", Bool),
            ("typbasetype", Oid),
            ("typtypmod", Int4),
            ("typndims", Int4),
            ("typcollation", Oid),
            ("typdefaultbin", NodeTree),
            ("typdefault", Text),
            ("typacl", TextArray),
        ],
    ),
    table(
        "pg_proc",
        1255,
        &[
            ("oid", Oid),
            ("proname", Name),
            ("pronamespace", Oid),
            ("proowner", Oid),
            ("prolang", Oid),
            ("procost", Float4),
            ("prorows", Float4),
            ("provariadic", Oid),
            ("prosupport", RegProc),
            ("prokind", Char),
            ("prosecdef", Bool),
            ("proleakproof", Bool),
            ("proisstrict", Bool),
            ("proretset", Bool),
            ("provolatile", Char),
            ("proparallel", Char),
            ("pronargs", Int2),
            ("pronargdefaults", Int2),
            ("prorettype", Oid),
            ("proargtypes", OidVector),
            ("proallargtypes", OidArray),
            ("proargmodes", CharArray),
            ("proargnames", TextArray),
            ("proargdefaults", NodeTree),
            ("protrftypes", OidArray),
            ("prosrc", Text),
            ("probin", Text),
            ("prosqlbody", NodeTree),
            ("proconfig", TextArray),
            ("proacl", TextArray),
        ],
    ),
    table(
        "pg_range",
        3541,
        &[
            ("rngtypid", Oid),
            ("rngsubtype", Oid),
            ("rngmultitypid", Oid),
            ("rngcollation", Oid),
            ("rngsubopc", Oid),
            ("rngcanonical", RegProc),
            ("rngsubdiff", RegProc),
        ],
    ),
    table(
        "pg_enum",
        3501,
        &[
            ("oid", Oid),
            ("enumtypid", Oid),
            ("enumsortorder", Float4),
            ("enumlabel", Name),
        ],
    ),
    table(
        "pg_database",
        1262,
        &[
            ("oid", Oid),
            ("datname", Name),
            ("datdba", Oid),
            ("encoding", Int4),
            ("datlocprovider", Char),
            ("datistemplate", Bool),
            ("datallowconn", Bool),
            ("datconnlimit", Int4),
            ("datfrozenxid", Int8),
            ("datminmxid", Int8),
            ("dattablespace", Oid),
            ("datcollate", Text),
            ("datctype", Text),
            ("daticulocale", Text),
            ("daticurules", Text),
            ("datcollversion", Text),
            ("datacl", TextArray),
        ],
    ),
    view(
        "pg_roles",
        12001,
        &[
            ("rolname", Name),
            ("rolsuper", Bool),
            ("rolinherit", Bool),
            ("rolcreaterole", Bool),
            ("rolcreatedb", Bool),
            ("rolcanlogin", Bool),
            ("rolreplication", Bool),
            ("rolconnlimit", Int4),
            ("rolpassword", Text),
            ("rolvaliduntil", Timestamptz),
            ("rolbypassrls", Bool),
            ("rolconfig", TextArray),
            ("oid", Oid),
        ],
    ),
    view(
        "pg_user",
        12002,
        &[
            ("usename", Name),
            ("usesysid", Oid),
            ("usecreatedb", Bool),
            ("usesuper", Bool),
            ("userepl", Bool),
            ("usebypassrls", Bool),
            ("passwd", Text),
            ("valuntil", Timestamptz),
            ("useconfig", TextArray),
        ],
    ),
    table(
        "pg_authid",
        1260,
        &[
            ("oid", Oid),
            ("rolname", Name),
            ("rolsuper", Bool),
            ("rolinherit", Bool),
            ("rolcreaterole", Bool),
            ("rolcreatedb", Bool),
            ("rolcanlogin", Bool),
            ("rolreplication", Bool),
            ("rolbypassrls", Bool),
            ("rolconnlimit", Int4),
            ("rolpassword", Text),
            ("rolvaliduntil", Timestamptz),
        ],
    ),
    table(
        "pg_auth_members",
        1261,
        &[
            ("oid", Oid),
            ("roleid", Oid),
            ("member", Oid),
            ("grantor", Oid),
            ("admin_option", Bool),
            ("inherit_option", Bool),
            ("set_option", Bool),
        ],
    ),
    table(
        "pg_description",
        2609,
        &[
            ("objoid", Oid),
            ("classoid", Oid),
            ("objsubid", Int4),
            ("description", Text),
        ],
    ),
    table(
        "pg_shdescription",
        2396,
        &[("objoid", Oid), ("classoid", Oid), ("description", Text)],
    ),
    view(
        "pg_views",
        12003,
        &[
            ("schemaname", Name),
            ("viewname", Name),
            ("viewowner", Name),
            ("definition", Text),
        ],
    ),
    view(
        "pg_tables",
        12004,
        &[
            ("schemaname", Name),
            ("tablename", Name),
            ("tableowner", Name),
            ("tablespace", Name),
            ("hasindexes", Bool),
            ("hasrules", Bool),
            ("hastriggers", Bool),
            ("rowsecurity", Bool),
        ],
    ),
    view(
        "pg_matviews",
        12005,
        &[
            ("schemaname", Name),
            ("matviewname", Name),
            ("matviewowner", Name),
            ("tablespace", Name),
            ("hasindexes", Bool),
            ("ispopulated", Bool),
            ("definition", Text),
        ],
    ),
    view(
        "pg_settings",
        12006,
        &[
            ("name", Text),
            ("setting", Text),
            ("unit", Text),
            ("category", Text),
            ("short_desc", Text),
            ("extra_desc", Text),
            ("context", Text),
            ("vartype", Text),
            ("source", Text),
            ("min_val", Text),
            ("max_val", Text),
            ("enumvals", TextArray),
            ("boot_val", Text),
            ("reset_val", Text),
            ("sourcefile", Text),
            ("sourceline", Int4),
            ("pending_restart", Bool),
        ],
    ),
    view(
        "pg_stat_user_tables",
        12007,
        &[
            ("relid", Oid),
            ("schemaname", Name),
            ("relname", Name),
            ("seq_scan", Int8),
            ("seq_tup_read", Int8),
            ("idx_scan", Int8),
            ("idx_tup_fetch", Int8),
            ("n_tup_ins", Int8),
            ("n_tup_upd", Int8),
            ("n_tup_del", Int8),
            ("n_tup_hot_upd", Int8),
            ("n_live_tup", Int8),
            ("n_dead_tup", Int8),
            ("n_mod_since_analyze", Int8),
            ("n_ins_since_vacuum", Int8),
            ("last_vacuum", Timestamptz),
            ("last_autovacuum", Timestamptz),
            ("last_analyze", Timestamptz),
            ("last_autoanalyze", Timestamptz),
            ("vacuum_count", Int8),
            ("autovacuum_count", Int8),
            ("analyze_count", Int8),
            ("autoanalyze_count", Int8),
        ],
    ),
    view(
        "pg_indexes",
        12008,
        &[
            ("schemaname", Name),
            ("tablename", Name),
            ("indexname", Name),
            ("tablespace", Name),
            ("indexdef", Text),
        ],
    ),
    table(
        "pg_am",
        2601,
        &[
            ("oid", Oid),
            ("amname", Name),
            ("amhandler", RegProc),
            ("amtype", Char),
        ],
    ),
    table(
        "pg_extension",
        3079,
        &[
            ("oid", Oid),
            ("extname", Name),
            ("extowner", Oid),
            ("extnamespace", Oid),
            ("extrelocatable", Bool),
            ("extversion", Text),
            ("extconfig", OidArray),
            ("extcondition", TextArray),
        ],
    ),
    table(
        "pg_tablespace",
        1213,
        &[
            ("oid", Oid),
            ("spcname", Name),
            ("spcowner", Oid),
            ("spcacl", TextArray),
            ("spcoptions", TextArray),
        ],
    ),
    table(
        "pg_collation",
        3456,
        &[
            ("oid", Oid),
            ("collname", Name),
            ("collnamespace", Oid),
            ("collowner", Oid),
            ("collprovider", Char),
            ("collisdeterministic", Bool),
            ("collencoding", Int4),
            ("collcollate", Text),
            ("collctype", Text),
            ("colliculocale", Text),
            ("collicurules", Text),
            ("collversion", Text),
        ],
    ),
    table(
        "pg_index",
        2610,
        &[
            ("indexrelid", Oid),
            ("indrelid", Oid),
            ("indnatts", Int2),
            ("indnkeyatts", Int2),
            ("indisunique", Bool),
            ("indnullsnotdistinct", Bool),
            ("indisprimary", Bool),
            ("indisexclusion", Bool),
            ("indimmediate", Bool),
            ("indisclustered", Bool),
            ("indisvalid", Bool),
            ("indcheckxmin", Bool),
            ("indisready", Bool),
            ("indislive", Bool),
            ("indisreplident", Bool),
            ("indkey", Int2Vector),
            ("indcollation", OidVector),
            ("indclass", OidVector),
            ("indoption", Int2Vector),
            ("indexprs", NodeTree),
            ("indpred", NodeTree),
        ],
    ),
    table(
        "pg_constraint",
        2606,
        &[
            ("oid", Oid),
            ("conname", Name),
            ("connamespace", Oid),
            ("contype", Char),
            ("condeferrable", Bool),
            ("condeferred", Bool),
            ("convalidated", Bool),
            ("conrelid", Oid),
            ("contypid", Oid),
            ("conindid", Oid),
            ("conparentid", Oid),
            ("confrelid", Oid),
            ("confupdtype", Char),
            ("confdeltype", Char),
            ("confmatchtype", Char),
            ("conislocal", Bool),
            ("coninhcount", Int4),
            ("connoinherit", Bool),
            ("conkey", Int2Array),
            ("confkey", Int2Array),
            ("conpfeqop", OidArray),
            ("conppeqop", OidArray),
            ("conffeqop", OidArray),
            ("confdelsetcols", Int2Array),
            ("conexclop", OidArray),
            ("conbin", NodeTree),
        ],
    ),
    table(
        "pg_attrdef",
        2604,
        &[
            ("oid", Oid),
            ("adrelid", Oid),
            ("adnum", Int2),
            ("adbin", NodeTree),
        ],
    ),
    table(
        "pg_sequence",
        2224,
        &[
            ("seqrelid", Oid),
            ("seqtypid", Oid),
            ("seqstart", Int8),
            ("seqincrement", Int8),
            ("seqmax", Int8),
            ("seqmin", Int8),
            ("seqcache", Int8),
            ("seqcycle", Bool),
        ],
    ),
    table(
        "pg_inherits",
        2611,
        &[
            ("inhrelid", Oid),
            ("inhparent", Oid),
            ("inhseqno", Int4),
            ("inhdetachpending", Bool),
        ],
    ),
    table(
        "pg_depend",
        2608,
        &[
            ("classid", Oid),
            ("objid", Oid),
            ("objsubid", Int4),
            ("refclassid", Oid),
            ("refobjid", Oid),
            ("refobjsubid", Int4),
            ("deptype", Char),
        ],
    ),
    table(
        "pg_policy",
        3256,
        &[
            ("oid", Oid),
            ("polname", Name),
            ("polrelid", Oid),
            ("polcmd", Char),
            ("polpermissive", Bool),
            ("polroles", OidArray),
            ("polqual", NodeTree),
            ("polwithcheck", NodeTree),
        ],
    ),
    table(
        "pg_statistic_ext",
        3381,
        &[
            ("oid", Oid),
            ("stxrelid", Oid),
            ("stxname", Name),
            ("stxnamespace", Oid),
            ("stxowner", Oid),
            ("stxstattarget", Int4),
            ("stxkeys", Int2Vector),
            ("stxkind", CharArray),
            ("stxexprs", NodeTree),
        ],
    ),
    table(
        "pg_publication",
        6104,
        &[
            ("oid", Oid),
            ("pubname", Name),
            ("pubowner", Oid),
            ("puballtables", Bool),
            ("pubinsert", Bool),
            ("pubupdate", Bool),
            ("pubdelete", Bool),
            ("pubtruncate", Bool),
            ("pubviaroot", Bool),
        ],
    ),
    table(
        "pg_publication_rel",
        6106,
        &[
            ("oid", Oid),
            ("prpubid", Oid),
            ("prrelid", Oid),
            ("prqual", NodeTree),
            ("prattrs", Int2Vector),
        ],
    ),
    table(
        "pg_publication_namespace",
        6237,
        &[("oid", Oid), ("pnpubid", Oid), ("pnnspid", Oid)],
    ),
    table(
        "pg_trigger",
        2620,
        &[
            ("oid", Oid),
            ("tgrelid", Oid),
            ("tgparentid", Oid),
            ("tgname", Name),
            ("tgfoid", Oid),
            ("tgtype", Int2),
            ("tgenabled", Char),
            ("tgisinternal", Bool),
            ("tgconstrrelid", Oid),
            ("tgconstrindid", Oid),
            ("tgconstraint", Oid),
            ("tgdeferrable", Bool),
            ("tginitdeferred", Bool),
            ("tgnargs", Int2),
            ("tgattr", Int2Vector),
            ("tgargs", Text),
            ("tgqual", NodeTree),
            ("tgoldtable", Name),
            ("tgnewtable", Name),
        ],
    ),
    table(
        "pg_rewrite",
        2618,
        &[
            ("oid", Oid),
            ("rulename", Name),
            ("ev_class", Oid),
            ("ev_type", Char),
            ("ev_enabled", Char),
            ("is_instead", Bool),
            ("ev_qual", NodeTree),
            ("ev_action", NodeTree),
        ],
    ),
    table(
        "pg_foreign_table",
        3118,
        &[
            ("ftrelid", Oid),
            ("ftserver", Oid),
            ("ftoptions", TextArray),
        ],
    ),
    table(
        "pg_foreign_server",
        1417,
        &[
            ("oid", Oid),
            ("srvname", Name),
            ("srvowner", Oid),
            ("srvfdw", Oid),
            ("srvtype", Text),
            ("srvversion", Text),
            ("srvacl", TextArray),
            ("srvoptions", TextArray),
        ],
    ),
    table(
        "pg_foreign_data_wrapper",
        2328,
        &[
            ("oid", Oid),
            ("fdwname", Name),
            ("fdwowner", Oid),
            ("fdwhandler", Oid),
            ("fdwvalidator", Oid),
            ("fdwacl", TextArray),
            ("fdwoptions", TextArray),
        ],
    ),
    table(
        "pg_partitioned_table",
        3350,
        &[
            ("partrelid", Oid),
            ("partstrat", Char),
            ("partnatts", Int2),
            ("partdefid", Oid),
            ("partattrs", Int2Vector),
        ],
    ),
    table(
        "pg_event_trigger",
        3466,
        &[
            ("oid", Oid),
            ("evtname", Name),
            ("evtevent", Name),
            ("evtowner", Oid),
            ("evtfoid", Oid),
            ("evtenabled", Char),
            ("evttags", TextArray),
        ],
    ),
    table(
        "pg_operator",
        2617,
        &[
            ("oid", Oid),
            ("oprname", Name),
            ("oprnamespace", Oid),
            ("oprowner", Oid),
            ("oprkind", Char),
            ("oprcanmerge", Bool),
            ("oprcanhash", Bool),
            ("oprleft", Oid),
            ("oprright", Oid),
            ("oprresult", Oid),
            ("oprcom", Oid),
            ("oprnegate", Oid),
            ("oprcode", RegProc),
        ],
    ),
    table(
        "pg_opclass",
        2616,
        &[
            ("oid", Oid),
            ("opcmethod", Oid),
            ("opcname", Name),
            ("opcnamespace", Oid),
            ("opcowner", Oid),
            ("opcfamily", Oid),
            ("opcintype", Oid),
            ("opcdefault", Bool),
            ("opckeytype", Oid),
        ],
    ),
    table(
        "pg_cast",
        2605,
        &[
            ("oid", Oid),
            ("castsource", Oid),
            ("casttarget", Oid),
            ("castfunc", Oid),
            ("castcontext", Char),
            ("castmethod", Char),
        ],
    ),
    table(
        "pg_language",
        2612,
        &[
            ("oid", Oid),
            ("lanname", Name),
            ("lanowner", Oid),
            ("lanispl", Bool),
            ("lanpltrusted", Bool),
            ("lanplcallfoid", Oid),
            ("laninline", Oid),
            ("lanvalidator", Oid),
            ("lanacl", TextArray),
        ],
    ),
    table(
        "pg_conversion",
        2607,
        &[
            ("oid", Oid),
            ("conname", Name),
            ("connamespace", Oid),
            ("conowner", Oid),
            ("conforencoding", Int4),
            ("contoencoding", Int4),
            ("conproc", RegProc),
            ("condefault", Bool),
        ],
    ),
    table(
        "pg_default_acl",
        826,
        &[
            ("oid", Oid),
            ("defaclrole", Oid),
            ("defaclnamespace", Oid),
            ("defaclobjtype", Char),
            ("defaclacl", TextArray),
        ],
    ),
    table(
        "pg_init_privs",
        3394,
        &[
            ("objoid", Oid),
            ("classoid", Oid),
            ("objsubid", Int4),
            ("privtype", Char),
            ("initprivs", TextArray),
        ],
    ),
    table(
        "pg_seclabel",
        3596,
        &[
            ("objoid", Oid),
            ("classoid", Oid),
            ("objsubid", Int4),
            ("provider", Text),
            ("label", Text),
        ],
    ),
    table(
        "pg_aggregate",
        2600,
        &[
            ("aggfnoid", RegProc),
            ("aggkind", Char),
            ("aggnumdirectargs", Int2),
            ("aggtransfn", RegProc),
            ("aggfinalfn", RegProc),
            ("aggtranstype", Oid),
            ("agginitval", Text),
        ],
    ),
    view(
        "pg_stat_activity",
        12009,
        &[
            ("datid", Oid),
            ("datname", Name),
            ("pid", Int4),
            ("usesysid", Oid),
            ("usename", Name),
            ("application_name", Text),
            ("client_addr", Text),
            ("client_port", Int4),
            ("backend_start", Timestamptz),
            ("query_start", Timestamptz),
            ("state", Text),
            ("query", Text),
        ],
    ),
    view(
        "pg_locks",
        12010,
        &[
            ("locktype", Text),
            ("database", Oid),
            ("relation", Oid),
            ("pid", Int4),
            ("mode", Text),
            ("granted", Bool),
        ],
    ),
    view(
        "pg_timezone_names",
        12011,
        &[
            ("name", Text),
            ("abbrev", Text),
            ("utc_offset", Text),
            ("is_dst", Bool),
        ],
    ),
];

/// The definition of `pg_catalog` relation `name`.
pub(crate) fn table_def(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// Whether `name` is a relation of `pg_catalog`.
pub(crate) fn is_catalog_table(name: &str) -> bool {
    table_def(name).is_some()
}

/// `text[]`.
pub(crate) fn text_array() -> DataType {
    TextArray.data_type()
}
