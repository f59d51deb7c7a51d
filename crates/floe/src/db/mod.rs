//! The database: one code path for SQLite (embedded) and PostgreSQL (scale), chosen by the
//! URL at run time. Migrations run on every connect, so a fresh data dir or an empty
//! PostgreSQL database is ready as soon as floe starts.

mod migrations;
mod paginate;
pub mod query_count;
mod reader;
pub mod rows;
mod sqlite_row;
pub mod wal;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use migrations::Migrator;
pub use paginate::{paginate, paginate_without_count};
pub use reader::{ReadConnection, ReadModel, Reads, Snapshot};

/// Opens a pool to `url` and applies pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the one writer; synchronous=NORMAL keeps every
        // committed transaction across a process crash (kill -9). See
        // docs/decisions/0002-sqlite-settings.md.
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
    } else {
        options.max_connections(16).min_connections(1);
        let plain = tls_is_pointless(url);
        // JIT compiling a plan costs tens of milliseconds, paid by every statement whose
        // estimate passes `jit_above_cost` (a metrics request's, say) and never won back by
        // floe's short queries (docs/decisions/0024-postgres-jit-off.md). A URL that sets
        // `jit` itself (in `options`) is obeyed.
        let jit_off = !url.contains("jit");
        options.map_sqlx_postgres_opts(move |mut opts| {
            if plain {
                // See `tls_is_pointless`: on loopback, TLS only costs CPU on both ends.
                opts = opts.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable);
            }
            if jit_off {
                opts = opts.options([("jit", "off")]);
            }
            opts
        });
    }
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Whether a PostgreSQL URL leaves TLS to the default (`sslmode` not given) and names a
/// loopback host. The default, `prefer`, encrypts without verifying the server, so it
/// protects nothing against an active attacker; on loopback there is no wire to protect at
/// all, and encrypting every statement and row was the largest single cost of a local
/// database (ingesting usage events directly ran 3x faster without it; see
/// docs/decisions/0009-postgres-loopback-tls.md). An explicit `sslmode` is always obeyed.
fn tls_is_pointless(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if parsed.query_pairs().any(|(key, _)| key == "sslmode") {
        return false;
    }
    // `postgres:` is not a scheme the URL standard knows, so its host comes back as opaque
    // text even when it is an IP address.
    match parsed.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Starts a transaction that will write.
///
/// On SQLite this is `BEGIN IMMEDIATE`, which takes the write lock up front (waiting on
/// the busy timeout); a deferred transaction that reads first and writes later can
/// otherwise fail with `SQLITE_BUSY` when another writer got in between.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// Whether the database answers a trivial query.
/// Each ID once, sorted: the list an `IN (…)` read of related rows takes.
pub fn unique(ids: impl Iterator<Item = uuid::Uuid>) -> Vec<uuid::Uuid> {
    let mut ids: Vec<uuid::Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Orders `select` by `column` in `direction`. A `nullable` column's NULLs come last either
/// way, on both databases (which otherwise disagree on where NULL goes).
pub fn order_by<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    column: impl sea_orm::ColumnTrait,
    direction: crate::http::pagination::Direction,
    nullable: bool,
) -> sea_orm::Select<E> {
    use sea_orm::QueryOrder;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let select = if nullable {
        select.order_by(Expr::col(column).is_null(), sea_orm::Order::Asc)
    } else {
        select
    };
    let order = match direction {
        crate::http::pagination::Direction::Ascending => sea_orm::Order::Asc,
        crate::http::pagination::Direction::Descending => sea_orm::Order::Desc,
    };
    select.order_by(column, order)
}

/// `lower(column) LIKE '%text%'`: a case-insensitive substring match, with `%`, `_` and `\`
/// in `text` taken literally. The same on both databases.
pub fn contains(
    column: impl sea_orm::sea_query::IntoColumnRef,
    text: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern).escape('\\'))
}

#[cfg(test)]
mod tests {
    use super::tls_is_pointless;

    #[test]
    fn tls_is_left_off_only_on_loopback_without_an_explicit_sslmode() {
        assert!(tls_is_pointless("postgres://postgres@127.0.0.1:5432/floe"));
        assert!(tls_is_pointless("postgres://u:p@localhost/floe"));
        assert!(tls_is_pointless("postgresql://u@[::1]:5432/floe"));
        assert!(tls_is_pointless(
            "postgres://u@127.0.0.2/floe?application_name=x"
        ));
        assert!(!tls_is_pointless(
            "postgres://u@127.0.0.1/floe?sslmode=require"
        ));
        assert!(!tls_is_pointless(
            "postgres://u@127.0.0.1/floe?sslmode=prefer"
        ));
        assert!(!tls_is_pointless("postgres://u@db.example.com/floe"));
        assert!(!tls_is_pointless("postgres://u@10.0.0.5/floe"));
        assert!(!tls_is_pointless("not a url"));
    }
}
