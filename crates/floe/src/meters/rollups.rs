//! Rollups: what each meter's matching events add up to, per customer key, source and
//! 15-minute UTC bucket (count, sum, min, max, first and last timestamp; for `unique`, the
//! distinct values). They are written in the transaction that stores the events, so they
//! always agree with them. Quantities and customer meters read them instead of the events,
//! added up by the database to the coarsest [`Grain`] that answers: a 31-day daily series
//! for one customer sums at most 31 × 96 rows into 31 × 24, whatever the number of events,
//! and a customer meter's consumption since its reset is one row per key.
//!
//! A new meter, or one whose filter or aggregation changed, starts with no rollups and
//! `rollups_ready = false`; readers use the events until it is ready. A background builder
//! ([`spawn_builder`]) walks the organization's events by ID in pages, each page in its own
//! short transaction, recording how far it got in `rollups_through`. Batches stored
//! meanwhile add their events only up to that ID, and the builder takes the ones after it:
//! every event is counted once, whichever comes first. (Building in the request that
//! created the meter took over 30 s for 1M events and held ingestion back all that time.)
//!
//! Every time zone's offset is a whole number of quarter hours today, so a local hour,
//! day, week, month or year is a whole number of buckets; readers still check each bucket
//! (a bucket whose first and last instant fall in different periods sends them back to the
//! events, e.g. for historical offsets like Amsterdam's +00:19:32 before 1937).
//!
//! Concurrency: on PostgreSQL a batch of events takes an organization-wide advisory lock in
//! shared mode before it reads the meters, and the builder (and a meter's start-over) takes
//! it exclusively, so a batch sees one `rollups_through` from its start to its commit and
//! the builder's next page starts exactly after it. SQLite has one writer at a time. Rows are
//! upserted in key order, so two
//! batches adding to the same rows lock them in the same order.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, Statement,
};
use uuid::Uuid;

use super::evaluate::{Accumulator, EventView};
use super::filter::{Aggregation, Filter};
use super::rollup_entity::{rollup, value};
use crate::db::ReadConnection;
use crate::events::entity as events;

/// The width of a bucket.
pub const BUCKET: TimeDelta = TimeDelta::minutes(15);
/// The customer key of the rows that add up every customer's events.
pub const ALL_CUSTOMERS: &str = "*";
/// Rows written per statement.
const UPSERT_CHUNK: usize = 400;

/// The least pause between two pages of a meter's build.
const BUILD_PAUSE: std::time::Duration = std::time::Duration::from_millis(150);

/// Bounds for "since ever" and "until ever" that both databases store and compare as
/// timestamps (chrono's own extremes are outside PostgreSQL's range and, as SQLite text,
/// would not sort).
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or_default() // 0001-01-01
}

pub fn latest() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or_default() // 9999-12-31T23:59:59
}

/// The bucket containing `at`.
pub fn bucket_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = BUCKET.num_seconds();
    let start = at.timestamp().div_euclid(seconds) * seconds;
    DateTime::from_timestamp(start, 0).unwrap_or(at)
}

/// Whose an event is, as rollups key it: the customer ID it was sent with, or its external
/// customer ID (resolved to a customer when read, so a customer created later owns it).
pub fn customer_key(customer_id: Option<Uuid>, external_customer_id: Option<&str>) -> String {
    match (customer_id, external_customer_id) {
        (Some(id), _) => id.to_string(),
        (None, Some(external)) => external_key(external),
        (None, None) => String::new(),
    }
}

pub fn external_key(external_customer_id: &str) -> String {
    format!("ext:{external_customer_id}")
}

/// A meter ready to evaluate, with how far its rollups are built.
#[derive(Clone)]
pub struct CompiledMeter {
    pub id: Uuid,
    pub filter: Filter,
    pub aggregation: Aggregation,
    /// Whether its rollups include every event (else readers use the events).
    pub rollups_ready: bool,
    /// While they are built: the last event the builder has added.
    pub rollups_through: Option<Uuid>,
}

impl CompiledMeter {
    pub fn from_row(row: &super::entity::Model) -> Option<Self> {
        Some(Self {
            id: row.id,
            filter: serde_json::from_str(&row.filter).ok()?,
            aggregation: Aggregation::from_json(&serde_json::from_str(&row.aggregation).ok()?),
            rollups_ready: row.rollups_ready,
            rollups_through: row.rollups_through,
        })
    }

    /// Whether reads of this meter may use its rollups: once they are built, and unless
    /// the process is told to recompute from the events (the reference path for tests).
    pub fn reads_rollups(&self, config: &crate::config::Config) -> bool {
        self.rollups_ready && !config.meter_reads_from_events
    }

    /// Whether a batch adds `event_id` to this meter's rollups (the builder adds the rest).
    fn takes(&self, event_id: Uuid) -> bool {
        self.rollups_ready
            || self
                .rollups_through
                .is_some_and(|through| event_id <= through)
    }
}

/// Takes the organization's meter lock until the transaction ends: shared to add events,
/// exclusive to build or start over a meter. PostgreSQL only (SQLite has one writer at a time).
pub async fn lock(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    exclusive: bool,
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let mut key = [0u8; 8];
    key.copy_from_slice(&organization_id.as_bytes()[..8]);
    // A collision with another organization only makes the two wait for each other.
    let key = i64::from_be_bytes(key) ^ 0x6d65_7465_7273; // "meters"
    let function = if exclusive {
        "pg_advisory_xact_lock"
    } else {
        "pg_advisory_xact_lock_shared"
    };
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT {function}($1)::text"),
        [key.into()],
    ))
    .await?;
    Ok(())
}

/// Every meter of the organization, archived ones included (they can still be queried).
pub async fn meters_of(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> Result<Vec<CompiledMeter>, DbErr> {
    let rows = super::entity::Entity::find()
        .filter(super::entity::Column::OrganizationId.eq(organization_id))
        .all(txn)
        .await?;
    Ok(rows.iter().filter_map(CompiledMeter::from_row).collect())
}

#[derive(Default)]
struct Cell {
    matched: i64,
    acc: Accumulator,
    first_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
}

type Key = (Uuid, String, bool, DateTime<Utc>);

/// Additions to rollups, gathered in memory and written in key order.
#[derive(Default)]
pub struct Deltas {
    cells: BTreeMap<Key, Cell>,
}

impl Deltas {
    /// Adds `event` to `meter`'s rollups if it matches.
    pub fn add(&mut self, meter: &CompiledMeter, event: &EventView<'_>, customer_key: &str) {
        if !meter.filter.matches(event) {
            return;
        }
        let contribution = meter.aggregation.contribution(event);
        let system = event.source == "system";
        let bucket = bucket_of(event.timestamp);
        for key in [customer_key, ALL_CUSTOMERS] {
            let cell = self
                .cells
                .entry((meter.id, key.to_owned(), system, bucket))
                .or_default();
            cell.matched += 1;
            cell.first_at = Some(
                cell.first_at
                    .map_or(event.timestamp, |f| f.min(event.timestamp)),
            );
            cell.last_at = Some(
                cell.last_at
                    .map_or(event.timestamp, |l| l.max(event.timestamp)),
            );
            if let Some(contribution) = &contribution {
                cell.acc.add(contribution);
            }
        }
    }

    /// Writes the additions and empties `self`.
    pub async fn flush(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        let cells = std::mem::take(&mut self.cells);
        let mut rows = Vec::with_capacity(cells.len());
        let mut values = Vec::new();
        for ((meter_id, customer_key, system, bucket_start), cell) in cells {
            let (Some(first_at), Some(last_at)) = (cell.first_at, cell.last_at) else {
                continue;
            };
            for value in &cell.acc.distinct {
                values.push(value::ActiveModel {
                    meter_id: Set(meter_id),
                    customer_key: Set(customer_key.clone()),
                    system: Set(system),
                    bucket_start: Set(bucket_start),
                    value: Set(value.clone()),
                });
            }
            rows.push(rollup::ActiveModel {
                meter_id: Set(meter_id),
                customer_key: Set(customer_key),
                system: Set(system),
                bucket_start: Set(bucket_start),
                matched: Set(cell.matched),
                count: Set(i64::try_from(cell.acc.count).unwrap_or(i64::MAX)),
                sum: Set(cell.acc.sum),
                min: Set(cell.acc.min),
                max: Set(cell.acc.max),
                first_at: Set(first_at),
                last_at: Set(last_at),
            });
        }
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(UPSERT_CHUNK).collect();
            rollup::Entity::insert_many(chunk)
                .on_conflict(add_to_existing())
                .exec_without_returning(txn)
                .await?;
        }
        let mut values = values.into_iter().peekable();
        while values.peek().is_some() {
            let chunk: Vec<_> = values.by_ref().take(UPSERT_CHUNK * 2).collect();
            value::Entity::insert_many(chunk)
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }
}

/// `ON CONFLICT` of a rollup row: the new events are added to the stored ones.
fn add_to_existing() -> OnConflict {
    use rollup::Column as C;
    let smaller = |column: &str| {
        Expr::cust(format!(
            "CASE WHEN meter_rollups.{column} IS NULL OR excluded.{column} < meter_rollups.{column} \
             THEN excluded.{column} ELSE meter_rollups.{column} END"
        ))
    };
    let larger = |column: &str| {
        Expr::cust(format!(
            "CASE WHEN meter_rollups.{column} IS NULL OR excluded.{column} > meter_rollups.{column} \
             THEN excluded.{column} ELSE meter_rollups.{column} END"
        ))
    };
    let added = |column: &str| Expr::cust(format!("meter_rollups.{column} + excluded.{column}"));
    OnConflict::columns([C::MeterId, C::CustomerKey, C::System, C::BucketStart])
        .value(C::Matched, added("matched"))
        .value(C::Count, added("count"))
        .value(C::Sum, added("sum"))
        .value(C::Min, smaller("min"))
        .value(C::Max, larger("max"))
        .value(C::FirstAt, smaller("first_at"))
        .value(C::LastAt, larger("last_at"))
        .to_owned()
}

/// Adds freshly stored events to the rollups of every meter of the organization. The
/// caller holds [`lock`] (shared) since before it stored them.
pub async fn add_events<'a>(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    events: impl IntoIterator<Item = (Uuid, EventView<'a>, String)>,
) -> Result<(), DbErr> {
    let meters = meters_of(txn, organization_id).await?;
    if meters.is_empty() {
        return Ok(());
    }
    let mut deltas = Deltas::default();
    for (id, event, customer_key) in events {
        for meter in meters.iter().filter(|m| m.takes(id)) {
            deltas.add(meter, &event, &customer_key);
        }
    }
    deltas.flush(txn).await
}

/// Starts a meter's rollups over (new meter, or new filter or aggregation): they are
/// dropped and the builder will build them from the events. An organization without events
/// is ready at once. The caller holds [`lock`] (exclusive).
pub async fn start_over(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    meter_id: Uuid,
) -> Result<(), DbErr> {
    rollup::Entity::delete_many()
        .filter(rollup::Column::MeterId.eq(meter_id))
        .exec(txn)
        .await?;
    value::Entity::delete_many()
        .filter(value::Column::MeterId.eq(meter_id))
        .exec(txn)
        .await?;
    let any_event = events::Entity::find()
        .select_only()
        .column(events::Column::Id)
        .filter(events::Column::OrganizationId.eq(organization_id))
        .into_tuple::<Uuid>()
        .one(txn)
        .await?
        .is_some();
    super::entity::Entity::update_many()
        .col_expr(super::entity::Column::RollupsReady, Expr::value(!any_event))
        .col_expr(
            super::entity::Column::RollupsThrough,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(super::entity::Column::Id.eq(meter_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Adds the next page of stored events to a meter that is being built, in one transaction;
/// returns whether the meter is ready (nothing was left).
pub async fn build_step(
    db: &DatabaseConnection,
    meter_id: Uuid,
    page_size: u64,
) -> Result<bool, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let Some(organization_id) = super::entity::Entity::find_by_id(meter_id)
        .one(&txn)
        .await?
        .map(|m| m.organization_id)
    else {
        return Ok(true);
    };
    // Batches of this organization wait while the page is added (PostgreSQL; SQLite has
    // one writer anyway), so none can commit events around the recorded position.
    lock(&txn, organization_id, true).await?;
    // Read again under the lock: another process may have added a page meanwhile (reading
    // `rollups_through` before the lock counted that page twice).
    let Some(row) = super::entity::Entity::find_by_id(meter_id)
        .one(&txn)
        .await?
    else {
        return Ok(true);
    };
    if row.rollups_ready {
        return Ok(true);
    }
    let Some(meter) = CompiledMeter::from_row(&row) else {
        return Err(DbErr::Custom(format!(
            "meter {meter_id} cannot be read back"
        )));
    };
    let mut page = events::Entity::find()
        .filter(events::Column::OrganizationId.eq(row.organization_id))
        .order_by_asc(events::Column::Id)
        .limit(page_size);
    if let Some(through) = row.rollups_through {
        page = page.filter(events::Column::Id.gt(through));
    }
    let rows = page.all(&txn).await?;
    let mut deltas = Deltas::default();
    for event in &rows {
        let metadata = crate::metadata::from_text(&event.metadata);
        let key = customer_key(event.customer_id, event.external_customer_id.as_deref());
        deltas.add(&meter, &EventView::of_row(event, &metadata), &key);
    }
    deltas.flush(&txn).await?;
    let done = (rows.len() as u64) < page_size;
    super::entity::Entity::update_many()
        .col_expr(super::entity::Column::RollupsReady, Expr::value(done))
        .col_expr(
            super::entity::Column::RollupsThrough,
            Expr::value(rows.last().map(|e| e.id).or(row.rollups_through)),
        )
        .filter(super::entity::Column::Id.eq(meter_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(done)
}

/// Builds the rollups of meters that are not ready, in every organization, until
/// `shutdown`. Several floe processes may run it: each page is taken under the lock.
pub fn spawn_builder(
    db: DatabaseConnection,
    page_size: u64,
    nudge: std::sync::Arc<tokio::sync::Notify>,
    shutdown: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let pending: Result<Vec<Uuid>, DbErr> = super::entity::Entity::find()
                .select_only()
                .column(super::entity::Column::Id)
                .filter(super::entity::Column::RollupsReady.eq(false))
                .into_tuple()
                .all(&db)
                .await;
            match pending {
                Ok(pending) => {
                    for meter_id in pending {
                        loop {
                            if shutdown.is_cancelled() {
                                return;
                            }
                            let started = std::time::Instant::now();
                            match build_step(&db, meter_id, page_size).await {
                                Ok(true) => break,
                                // Other writers get at least as long as the page took: on
                                // SQLite they wait by polling, and back-to-back pages kept
                                // event batches out past their 10 s busy timeout.
                                Ok(false) => {
                                    tokio::time::sleep(started.elapsed().max(BUILD_PAUSE)).await
                                }
                                Err(error) => {
                                    tracing::warn!(meter_id = %meter_id, error = %error, "building meter rollups failed");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(error = %error, "looking for meters to build failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = nudge.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    })
}

/// Whose rollups a reader wants.
#[derive(Clone, Copy)]
pub enum Whose<'a> {
    /// The rows of all customers together.
    All,
    /// The rows of these keys.
    Keys(&'a [String]),
    /// Every customer's own rows.
    EachCustomer,
}

/// How finely a read returns a meter's rollups: the stored 15-minute buckets, or added up
/// by the database into coarser ones, so that fewer rows cross into floe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    /// The stored buckets.
    Bucket,
    /// One row per UTC hour: a quarter of the rows, for series whose periods start on whole
    /// UTC hours (every zone whose offset is whole hours, for every interval).
    Hour,
    /// One row per customer key and source over the whole range, dated `from`.
    Whole,
}

impl Grain {
    /// The time a row of this grain covers, `None` for [`Grain::Whole`].
    pub fn width(self) -> Option<TimeDelta> {
        match self {
            Grain::Bucket => Some(BUCKET),
            Grain::Hour => Some(TimeDelta::hours(1)),
            Grain::Whole => None,
        }
    }

    /// The start of a row's time: truncated by the database to the grain; for
    /// [`Grain::Whole`], `from` itself, so that [`fold`] puts each key's values with its row.
    fn start(self, backend: DbBackend, from: DateTime<Utc>) -> Expr {
        match (self, backend) {
            (Grain::Bucket, _) => Expr::cust(r#""bucket_start""#),
            // Stored as RFC 3339 text in UTC ("2026-11-29T06:45:00+00:00"; see db/reader.rs),
            // so the hour is its first 13 characters.
            (Grain::Hour, DbBackend::Sqlite) => {
                Expr::cust(r#"substr("bucket_start", 1, 13) || ':00:00+00:00'"#)
            }
            (Grain::Hour, _) => Expr::cust(
                r#"date_trunc('hour', "bucket_start" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#,
            ),
            (Grain::Whole, _) => Expr::val(from),
        }
    }

    /// Selects a read's key (meter, customer key, source) and the grain's start, grouped by
    /// them, for the database to add up what else is selected.
    fn group<E: EntityTrait>(
        self,
        select: Select<E>,
        key: [E::Column; 3],
        backend: DbBackend,
        from: DateTime<Utc>,
    ) -> Select<E> {
        let start = self.start(backend, from);
        let mut select = select.select_only();
        for column in key {
            select = select.column(column).group_by(column);
        }
        select = select.column_as(start.clone(), "bucket_start");
        if self == Grain::Hour {
            select = select.group_by(start);
        }
        select
    }
}

/// What a reader asks of a meter's rollups.
pub struct Read<'a> {
    pub meter_id: Uuid,
    pub whose: Whose<'a>,
    /// Leave out system events (customer meters count user events only).
    pub user_only: bool,
    pub aggregation: &'a Aggregation,
    /// Rows with `bucket_start` in `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub grain: Grain,
}

/// A meter's rollup rows and, for `unique` meters, their distinct values, as `read` asks.
pub async fn read(
    db: &ReadConnection,
    read: &Read<'_>,
) -> Result<(Vec<rollup::Model>, Vec<value::Model>), DbErr> {
    let Read {
        meter_id,
        whose,
        user_only,
        aggregation,
        from,
        to,
        grain,
    } = *read;
    let backend = db.backend();
    let mut rows = rollup::Entity::find()
        .filter(rollup::Column::MeterId.eq(meter_id))
        .filter(whose.condition(rollup::Column::CustomerKey))
        .filter(rollup::Column::BucketStart.gte(from))
        .filter(rollup::Column::BucketStart.lt(to));
    if user_only {
        rows = rows.filter(rollup::Column::System.eq(false));
    }
    if grain != Grain::Bucket {
        use rollup::Column as C;
        rows = grain
            .group(rows, [C::MeterId, C::CustomerKey, C::System], backend, from)
            // PostgreSQL sums integers into numerics.
            .column_as(Expr::cust(r#"CAST(SUM("matched") AS BIGINT)"#), "matched")
            .column_as(Expr::cust(r#"CAST(SUM("count") AS BIGINT)"#), "count")
            .column_as(Expr::cust(r#"SUM("sum")"#), "sum")
            .column_as(Expr::cust(r#"MIN("min")"#), "min")
            .column_as(Expr::cust(r#"MAX("max")"#), "max")
            .column_as(Expr::cust(r#"MIN("first_at")"#), "first_at")
            .column_as(Expr::cust(r#"MAX("last_at")"#), "last_at");
    }
    let rows = db.all(rows).await?;
    // Distinct values are kept (and needed) for `unique` meters only.
    let mut values = Vec::new();
    if matches!(aggregation, Aggregation::Unique(_)) && !rows.is_empty() {
        let mut query = value::Entity::find()
            .filter(value::Column::MeterId.eq(meter_id))
            .filter(whose.condition(value::Column::CustomerKey))
            .filter(value::Column::BucketStart.gte(from))
            .filter(value::Column::BucketStart.lt(to));
        if user_only {
            query = query.filter(value::Column::System.eq(false));
        }
        if grain != Grain::Bucket {
            use value::Column as C;
            query = grain
                .group(
                    query,
                    [C::MeterId, C::CustomerKey, C::System],
                    backend,
                    from,
                )
                .column(C::Value)
                .group_by(C::Value);
        }
        values = db.all(query).await?;
    }
    Ok((rows, values))
}

impl Whose<'_> {
    /// The condition on a table's `customer_key` column.
    fn condition(&self, column: impl ColumnTrait) -> sea_orm::sea_query::SimpleExpr {
        match self {
            Whose::All => column.eq(ALL_CUSTOMERS),
            Whose::Keys(keys) => column.is_in(keys.iter().cloned()),
            Whose::EachCustomer => column.ne(ALL_CUSTOMERS),
        }
    }
}

/// The first and last matching user event of one customer key, ever.
pub async fn first_and_last(
    db: &ReadConnection,
    meter_id: Uuid,
    customer_key: &str,
) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), DbErr> {
    let rows = || {
        rollup::Entity::find()
            .filter(rollup::Column::MeterId.eq(meter_id))
            .filter(rollup::Column::CustomerKey.eq(customer_key))
            .filter(rollup::Column::System.eq(false))
    };
    let first = db
        .one(rows().order_by_asc(rollup::Column::BucketStart))
        .await?;
    let last = db
        .one(rows().order_by_desc(rollup::Column::BucketStart))
        .await?;
    Ok((first.map(|r| r.first_at), last.map(|r| r.last_at)))
}

/// A rollup row as an accumulator (its distinct values are added by the caller).
fn accumulator(row: &rollup::Model) -> Accumulator {
    Accumulator {
        count: u64::try_from(row.count).unwrap_or(0),
        sum: row.sum,
        min: row.min,
        max: row.max,
        distinct: Default::default(),
    }
}

/// Rows and values folded per (customer key, bucket), system and user together.
pub fn fold(
    rows: Vec<rollup::Model>,
    values: Vec<value::Model>,
) -> BTreeMap<(String, DateTime<Utc>), Accumulator> {
    let mut folded: BTreeMap<(String, DateTime<Utc>), Accumulator> = BTreeMap::new();
    for row in &rows {
        folded
            .entry((row.customer_key.clone(), row.bucket_start))
            .or_default()
            .merge(&accumulator(row));
    }
    for value in values {
        if let Some(acc) = folded.get_mut(&(value.customer_key, value.bucket_start)) {
            acc.add_distinct(value.value);
        }
    }
    folded
}
