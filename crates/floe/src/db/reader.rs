//! The connection that reads outside a transaction go through: [`ReadConnection`].
//!
//! On PostgreSQL it is the shared pool. On SQLite, the statements SeaORM builds run on
//! rusqlite connections instead of sqlx's: sqlx-sqlite gives every connection a worker thread
//! and hands each statement and each row across a channel, a futex wake and a context switch
//! apiece, which was a third of a list request's CPU (docs/decisions/0005-sqlite-reads.md).
//! Queries are still built by SeaORM from the same `Select`, so an operation has one query
//! for both databases; rows are decoded by the model's serde `Deserialize` on SQLite and by
//! its `FromQueryResult` on PostgreSQL. The whole suite runs on both.
//!
//! A statement runs on the calling task's thread. A read in WAL mode never waits for the
//! writer and is answered from SQLite's page cache in microseconds, less than a hop to a
//! blocking thread would cost. Writes never come here: they can wait for the write lock.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::SecondsFormat;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use sea_orm::sea_query::{Expr, SelectStatement, Value};
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, FromQueryResult, IsolationLevel, PaginatorTrait, QuerySelect, QueryTrait,
    RuntimeErr, Select, Statement, TransactionTrait,
};
use serde::de::DeserializeOwned;

use super::sqlite_row::{Columns, SqliteRow};

/// Connections kept open between reads; more are opened while more tasks read at once.
const MAX_IDLE_CONNECTIONS: usize = 8;
/// Prepared statements kept per connection: one per distinct query text.
const STATEMENT_CACHE: usize = 128;
/// How long a read waits on a lock (only WAL recovery and checkpoint edge cases take one).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a model needs to be read through either executor.
pub trait ReadModel: FromQueryResult + DeserializeOwned + Send + Sync {}
impl<M: FromQueryResult + DeserializeOwned + Send + Sync> ReadModel for M {}

/// Where reads that need no transaction run; see the module documentation.
#[derive(Clone)]
pub enum ReadConnection {
    Sqlite(Arc<SqliteReader>),
    Pool(DatabaseConnection),
}

impl ReadConnection {
    /// The reader for `database_url`, next to the pool `db` opened for it.
    pub fn open(database_url: &str, db: &DatabaseConnection) -> Result<Self, DbErr> {
        if db.get_database_backend() != DbBackend::Sqlite
            || database_url.contains(":memory:")
            || database_url.contains("mode=memory")
        {
            // (A second connection to an in-memory database would open another, empty one.)
            return Ok(Self::Pool(db.clone()));
        }
        let options = SqliteConnectOptions::from_str(database_url)
            .map_err(|e| DbErr::Conn(RuntimeErr::Internal(e.to_string())))?;
        Ok(Self::Sqlite(Arc::new(SqliteReader::open(
            options.get_filename(),
        )?)))
    }

    /// The database the reads go to.
    pub fn backend(&self) -> DbBackend {
        match self {
            Self::Sqlite(_) => DbBackend::Sqlite,
            Self::Pool(db) => db.get_database_backend(),
        }
    }

    /// Every row `select` matches.
    pub async fn all<E>(&self, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::Model: ReadModel,
    {
        match self {
            Self::Pool(db) => select.all(db).await,
            Self::Sqlite(reader) => {
                reader.query(&select.build(DbBackend::Sqlite), |row| row.decode())
            }
        }
    }

    /// The first row `select` matches.
    pub async fn one<E>(&self, select: Select<E>) -> Result<Option<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::Model: ReadModel,
    {
        match self {
            Self::Pool(db) => select.one(db).await,
            Self::Sqlite(_) => Ok(self.all(select.limit(1)).await?.pop()),
        }
    }

    /// Every row a hand-built `query` answers, as `T` (its fields named as the columns).
    pub async fn rows<T: ReadModel>(&self, query: &SelectStatement) -> Result<Vec<T>, DbErr> {
        let stmt = self.backend().build(query);
        match self {
            Self::Pool(db) => T::find_by_statement(stmt).all(db).await,
            Self::Sqlite(reader) => reader.query(&stmt, |row| row.decode()),
        }
    }

    /// How many rows `select` matches.
    pub async fn count<E>(&self, select: Select<E>) -> Result<u64, DbErr>
    where
        E: EntityTrait,
        E::Model: ReadModel,
    {
        match self {
            Self::Pool(db) => select.count(db).await,
            Self::Sqlite(reader) => {
                let stmt = DbBackend::Sqlite.build(&count_of(select));
                let counts = reader.query(&stmt, |row| row.get_i64(0))?;
                Ok(counts.first().map_or(0, |&n| u64::try_from(n).unwrap_or(0)))
            }
        }
    }
}

/// One committed state of the database, read by several statements: an answer assembled
/// from them (metric sums, and the facts read one by one beside them) never mixes the
/// states before and after a commit. On SQLite a reader connection inside `BEGIN … COMMIT`
/// (in WAL mode its first read fixes what it sees); on PostgreSQL a `REPEATABLE READ READ
/// ONLY` transaction.
pub enum Snapshot {
    Sqlite(SqliteSnapshot),
    Transaction(DatabaseTransaction),
}

impl ReadConnection {
    /// A snapshot to read from; `end` it when done.
    pub async fn snapshot(&self) -> Result<Snapshot, DbErr> {
        match self {
            Self::Sqlite(reader) => Ok(Snapshot::Sqlite(SqliteSnapshot::begin(reader.clone())?)),
            Self::Pool(db) if db.get_database_backend() == DbBackend::Postgres => {
                let txn = db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?;
                Ok(Snapshot::Transaction(txn))
            }
            // An in-memory SQLite database: one sqlx connection's transaction.
            Self::Pool(db) => Ok(Snapshot::Transaction(db.begin().await?)),
        }
    }
}

impl Snapshot {
    pub fn backend(&self) -> DbBackend {
        match self {
            Self::Sqlite(_) => DbBackend::Sqlite,
            Self::Transaction(txn) => txn.get_database_backend(),
        }
    }

    /// Every row a hand-built `query` answers, as `T` (its fields named as the columns).
    pub async fn rows<T: ReadModel>(&self, query: &SelectStatement) -> Result<Vec<T>, DbErr> {
        let stmt = self.backend().build(query);
        match self {
            Self::Sqlite(snapshot) => snapshot.query(&stmt, |row| row.decode()),
            Self::Transaction(txn) => T::find_by_statement(stmt).all(txn).await,
        }
    }

    /// Every row of `stmt`, as its first `width` columns' integers (none for null).
    pub async fn integers(
        &self,
        stmt: Statement,
        width: usize,
    ) -> Result<Vec<Vec<Option<i64>>>, DbErr> {
        match self {
            Self::Sqlite(snapshot) => snapshot.query(&stmt, |row| {
                (0..width).map(|i| row.get_optional_i64(i)).collect()
            }),
            Self::Transaction(txn) => txn
                .query_all_raw(stmt)
                .await?
                .iter()
                .map(|row| {
                    (0..width)
                        .map(|i| row.try_get_by_index::<Option<i64>>(i))
                        .collect()
                })
                .collect(),
        }
    }

    /// Ends the snapshot (it wrote nothing: there is nothing to keep or undo).
    pub async fn end(self) -> Result<(), DbErr> {
        match self {
            Self::Sqlite(snapshot) => snapshot.end(),
            Self::Transaction(txn) => txn.commit().await,
        }
    }
}

/// A reader connection inside a read transaction; back to the idle ones when it ends.
/// (Behind a mutex, never contended, so that a task may hold the snapshot across awaits.)
pub struct SqliteSnapshot {
    reader: Arc<SqliteReader>,
    connection: Mutex<Option<Connection>>,
}

impl SqliteSnapshot {
    fn begin(reader: Arc<SqliteReader>) -> Result<Self, DbErr> {
        let connection = reader.acquire()?;
        connection.execute_batch("BEGIN").map_err(query_error)?;
        Ok(Self {
            reader,
            connection: Mutex::new(Some(connection)),
        })
    }

    fn query<T>(
        &self,
        stmt: &Statement,
        map: impl FnMut(&SqliteRow<'_>) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, DbErr> {
        super::query_count::record();
        match &*self.connection.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(connection) => run(connection, stmt, map),
            None => Err(DbErr::Custom("the snapshot has ended".to_owned())),
        }
    }

    /// Takes the connection out, for ending the transaction.
    fn take(&mut self) -> Option<Connection> {
        self.connection
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    fn end(mut self) -> Result<(), DbErr> {
        match self.take() {
            Some(connection) => {
                connection.execute_batch("COMMIT").map_err(query_error)?;
                self.reader.release(connection);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Drop for SqliteSnapshot {
    fn drop(&mut self) {
        // Ended early (an error on the way): a connection still in its transaction is not
        // reused unless the transaction ends cleanly.
        if let Some(connection) = self.take()
            && connection.execute_batch("ROLLBACK").is_ok()
        {
            self.reader.release(connection);
        }
    }
}

/// Where a read that serves a response runs: on the reader, or inside the write
/// transaction whose changes it shows (a webhook payload is built before the commit).
#[derive(Clone, Copy)]
pub enum Reads<'a> {
    Reader(&'a ReadConnection),
    Transaction(&'a DatabaseTransaction),
}

impl<'a> From<&'a ReadConnection> for Reads<'a> {
    fn from(reader: &'a ReadConnection) -> Self {
        Self::Reader(reader)
    }
}

impl<'a> From<&'a DatabaseTransaction> for Reads<'a> {
    fn from(txn: &'a DatabaseTransaction) -> Self {
        Self::Transaction(txn)
    }
}

impl Reads<'_> {
    /// Every row `select` matches.
    pub async fn all<E>(self, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::Model: ReadModel,
    {
        match self {
            Self::Reader(reader) => reader.all(select).await,
            Self::Transaction(txn) => select.all(txn).await,
        }
    }

    /// The first row `select` matches.
    pub async fn one<E>(self, select: Select<E>) -> Result<Option<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::Model: ReadModel,
    {
        match self {
            Self::Reader(reader) => reader.one(select).await,
            Self::Transaction(txn) => select.one(txn).await,
        }
    }

    /// The rows `select` matches whose `column` is one of `ids` (none for no IDs, without
    /// asking the database).
    pub async fn among<E>(
        self,
        select: Select<E>,
        column: impl sea_orm::ColumnTrait,
        ids: &[uuid::Uuid],
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::Model: ReadModel,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.all(sea_orm::QueryFilter::filter(
            select,
            column.is_in(ids.iter().copied()),
        ))
        .await
    }
}

/// `SELECT COUNT(*)` over what `select` filters, without its columns or order.
pub(crate) fn count_of<E: EntityTrait>(select: Select<E>) -> SelectStatement {
    let mut count = select.into_query();
    count
        .clear_selects()
        .clear_order_by()
        .expr(Expr::cust("COUNT(*)"));
    count
}

/// A small pool of rusqlite connections to one SQLite file, used only for reading.
pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReader {
    fn open(path: &Path) -> Result<Self, DbErr> {
        let reader = Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        // Fail at start, not at the first request, when the file cannot be opened.
        let first = reader.connect().map_err(connection_error)?;
        reader.release(first);
        Ok(reader)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        // Same library, same file as sqlx's connections (rusqlite is pinned to the
        // libsqlite3-sys that sqlx-sqlite links), so both see every committed write and
        // share SQLite's per-process lock bookkeeping.
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "query_only", true)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }

    fn acquire(&self) -> Result<Connection, DbErr> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(connection) => Ok(connection),
            None => self.connect().map_err(connection_error),
        }
    }

    fn release(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(connection);
        }
    }

    /// Runs `stmt`, mapping each row with `map`.
    pub(crate) fn query<T>(
        &self,
        stmt: &Statement,
        map: impl FnMut(&SqliteRow<'_>) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, DbErr> {
        super::query_count::record();
        let connection = self.acquire()?;
        let rows = run(&connection, stmt, map);
        self.release(connection);
        rows
    }
}

fn run<T>(
    connection: &Connection,
    stmt: &Statement,
    mut map: impl FnMut(&SqliteRow<'_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, DbErr> {
    let mut prepared = connection.prepare_cached(&stmt.sql).map_err(query_error)?;
    let columns = Columns::of(&prepared);
    let params = stmt.values.as_ref().map_or(&[][..], |v| v.0.as_slice());
    let mut rows = prepared
        .query(rusqlite::params_from_iter(params.iter().map(Param)))
        .map_err(query_error)?;
    let mut results = Vec::new();
    while let Some(row) = rows.next().map_err(query_error)? {
        results.push(map(&SqliteRow::new(row, &columns))?);
    }
    Ok(results)
}

fn connection_error(e: rusqlite::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(format!(
        "opening SQLite for reading: {e}"
    )))
}

pub(super) fn query_error(e: rusqlite::Error) -> DbErr {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
        return DbErr::Conn(RuntimeErr::Internal(e.to_string()));
    }
    DbErr::Query(RuntimeErr::Internal(e.to_string()))
}

/// A SeaORM value bound the way sqlx-sqlite encodes it, so that comparisons in `WHERE`
/// meet the stored representation: UUIDs as 16-byte blobs, timestamps as RFC 3339 text.
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use ToSqlOutput::{Borrowed, Owned};
        use rusqlite::types::Value as Sql;
        Ok(match self.0 {
            Value::Bool(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::TinyInt(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::SmallInt(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::Int(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::BigInt(Some(v)) => Owned(Sql::Integer(*v)),
            Value::TinyUnsigned(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::SmallUnsigned(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::Unsigned(Some(v)) => Owned(Sql::Integer(i64::from(*v))),
            Value::BigUnsigned(Some(v)) => {
                Owned(Sql::Integer(i64::try_from(*v).map_err(|e| {
                    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
                })?))
            }
            Value::Float(Some(v)) => Owned(Sql::Real(f64::from(*v))),
            Value::Double(Some(v)) => Owned(Sql::Real(*v)),
            Value::String(Some(v)) => Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Char(Some(v)) => Owned(Sql::Text(v.to_string())),
            Value::Bytes(Some(v)) => Borrowed(ValueRef::Blob(v)),
            Value::Json(Some(v)) => Owned(Sql::Text(v.to_string())),
            Value::Uuid(Some(v)) => Borrowed(ValueRef::Blob(v.as_bytes())),
            Value::ChronoDateTimeUtc(Some(v)) => {
                Owned(Sql::Text(v.to_rfc3339_opts(SecondsFormat::AutoSi, false)))
            }
            value if is_null(value) => Owned(Sql::Null),
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("no SQLite binding for {other:?}").into(),
                ));
            }
        })
    }
}

fn is_null(value: &Value) -> bool {
    matches!(
        value,
        Value::Bool(None)
            | Value::TinyInt(None)
            | Value::SmallInt(None)
            | Value::Int(None)
            | Value::BigInt(None)
            | Value::TinyUnsigned(None)
            | Value::SmallUnsigned(None)
            | Value::Unsigned(None)
            | Value::BigUnsigned(None)
            | Value::Float(None)
            | Value::Double(None)
            | Value::String(None)
            | Value::Char(None)
            | Value::Bytes(None)
            | Value::Json(None)
            | Value::Uuid(None)
            | Value::ChronoDateTimeUtc(None)
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde::Deserialize;
    use uuid::Uuid;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Row {
        id: Uuid,
        at: DateTime<Utc>,
        ok: bool,
        n: i64,
        s: Option<String>,
        plan: serde_json::Value,
    }

    #[test]
    fn values_round_trip_in_sqlx_encoding() {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE t (id uuid_text, at timestamp_with_timezone_text, ok boolean, \
                 n integer, s text, plan json_text)",
            )
            .unwrap();
        let id = Uuid::new_v4();
        let at = DateTime::parse_from_rfc3339("2026-11-28T18:11:33.293744+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let params = [
            Value::Uuid(Some(id)),
            Value::ChronoDateTimeUtc(Some(at)),
            Value::Bool(Some(true)),
            Value::BigInt(Some(7)),
            Value::String(None),
            Value::Json(Some(Box::new(serde_json::json!({"parts": [1, 2]})))),
        ];
        connection
            .execute(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                rusqlite::params_from_iter(params.iter().map(Param)),
            )
            .unwrap();
        // Stored exactly as sqlx-sqlite stores them.
        let (blob, text): (Vec<u8>, String) = connection
            .query_row("SELECT id, at FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(blob, id.as_bytes());
        assert_eq!(text, "2026-11-28T18:11:33.293744+00:00");

        let stmt = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT *, (SELECT COUNT(*) FROM t) AS total FROM t WHERE id = ? AND at = ?",
            [Value::Uuid(Some(id)), Value::ChronoDateTimeUtc(Some(at))],
        );
        let rows = run(&connection, &stmt, |row| {
            Ok((row.decode::<Row>()?, row.get_i64_named("total")?))
        })
        .unwrap();
        let expected = Row {
            id,
            at,
            ok: true,
            n: 7,
            s: None,
            plan: serde_json::json!({"parts": [1, 2]}),
        };
        assert_eq!(rows, vec![(expected, 1)]);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_naming_the_column() {
        let connection = Connection::open_in_memory().unwrap();
        let stmt = Statement::from_string(DbBackend::Sqlite, "SELECT 'x' AS n");
        #[derive(Debug, Deserialize)]
        struct N {
            #[allow(dead_code)]
            n: i64,
        }
        let error = run(&connection, &stmt, |row| row.decode::<N>()).unwrap_err();
        assert!(error.to_string().contains("column n"), "{error}");
    }
}
