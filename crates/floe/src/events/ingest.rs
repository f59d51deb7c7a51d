//! `POST /v1/events/ingest`: a batch of usage events, validated as a whole (one bad event
//! refuses the batch, with every problem indexed by position) and stored in one
//! transaction, deduplicated on the client's `external_id`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, QueryFilter, QuerySelect,
    QueryTrait, Set,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::entity::{self, Column, Entity, event_type};
use crate::http::{Loc, ValidationIssue};
use crate::meters::evaluate::EventView;
use crate::meters::rollups;

pub const MAX_NAME_CHARS: usize = 128;
/// Rows per INSERT statement: under SQLite's and PostgreSQL's bound-parameter limits.
const INSERT_CHUNK: usize = 500;
/// Values per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 500;

/// Whom an event is about.
#[derive(Clone, Debug)]
pub enum CustomerRef {
    Id(Uuid),
    External(String),
}

/// One valid event of a batch.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub name: String,
    pub timestamp: DateTime<Utc>,
    pub customer: CustomerRef,
    pub member_id: Option<Uuid>,
    pub external_member_id: Option<String>,
    pub external_id: Option<String>,
    pub parent_ref: Option<String>,
    pub metadata: Map<String, Value>,
}

/// What a batch did.
#[derive(Debug, serde::Serialize)]
pub struct IngestResult {
    pub inserted: u64,
    pub duplicates: u64,
}

struct Check<'a> {
    issues: &'a mut Vec<ValidationIssue>,
    loc: Loc,
}

impl Check<'_> {
    fn push(&mut self, field: &[&str], kind: &str, msg: impl Into<String>, input: Value) {
        let mut loc = self.loc.clone();
        for part in field {
            loc = loc.key(part);
        }
        self.issues
            .push(ValidationIssue::new(loc, kind, msg, input));
    }

    /// A string without NUL characters (PostgreSQL text cannot hold them).
    fn text(&mut self, event: &Map<String, Value>, field: &str) -> Option<String> {
        match event.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.contains('\0') => {
                self.push(
                    &[field],
                    "string_invalid_characters",
                    "This value contains invalid characters",
                    json!(s),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.push(
                    &[field],
                    "string_type",
                    "Input should be a valid string",
                    other.clone(),
                );
                None
            }
        }
    }

    fn uuid(&mut self, event: &Map<String, Value>, field: &str) -> Option<Uuid> {
        let raw = self.text(event, field)?;
        match crate::http::extract::parse_uuid(&raw) {
            Some(id) => Some(id),
            None => {
                self.push(
                    &[field],
                    "uuid_parsing",
                    "Input should be a valid UUID",
                    json!(raw),
                );
                None
            }
        }
    }
}

/// Validates a batch body; every problem is reported, at `body.events[i].field`.
pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Vec<NewEvent>, Vec<ValidationIssue>> {
    let mut issues = Vec::new();
    let Some(events) = body.get("events") else {
        return Err(vec![ValidationIssue::new(
            Loc::body().key("events"),
            "missing",
            "Field required",
            Value::Null,
        )]);
    };
    let Some(events) = events.as_array() else {
        return Err(vec![ValidationIssue::new(
            Loc::body().key("events"),
            "list_type",
            "Input should be a valid list",
            events.clone(),
        )]);
    };
    let mut parsed = Vec::with_capacity(events.len());
    for (index, raw) in events.iter().enumerate() {
        let loc = Loc::body().key("events").index(index);
        let Some(event) = raw.as_object() else {
            issues.push(ValidationIssue::new(
                loc,
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
                raw.clone(),
            ));
            continue;
        };
        let before = issues.len();
        let mut check = Check {
            issues: &mut issues,
            loc,
        };
        if let Some(given) = event.get("organization_id").filter(|v| !v.is_null()) {
            check.push(
                &["organization_id"],
                "organization_token",
                "Setting organization_id is disallowed when using an organization token.",
                given.clone(),
            );
        }
        let name = match event.get("name") {
            None => {
                check.push(&["name"], "missing", "Field required", Value::Null);
                None
            }
            Some(_) => check.text(event, "name"),
        };
        if let Some(name) = &name
            && name.chars().count() > MAX_NAME_CHARS
        {
            check.push(
                &["name"],
                "string_too_long",
                format!("String should have at most {MAX_NAME_CHARS} characters"),
                json!(name),
            );
        }
        // Like Polar, a `customer_id` wins when both are given.
        let customer = if event.get("customer_id").is_some_and(|v| !v.is_null()) {
            check.uuid(event, "customer_id").map(CustomerRef::Id)
        } else if event
            .get("external_customer_id")
            .is_some_and(|v| !v.is_null())
        {
            check
                .text(event, "external_customer_id")
                .map(CustomerRef::External)
        } else {
            check.push(
                &["customer_id"],
                "missing",
                "Field required: customer_id or external_customer_id",
                Value::Null,
            );
            None
        };
        let member_id = check.uuid(event, "member_id");
        let external_member_id = check.text(event, "external_member_id");
        let external_id = check.text(event, "external_id");
        let parent_ref = check.text(event, "parent_id");
        let timestamp = match event.get("timestamp") {
            None | Some(Value::Null) => Some(now),
            Some(Value::String(raw)) => match DateTime::parse_from_rfc3339(raw) {
                Ok(at) if at.with_timezone(&Utc) > now => {
                    check.push(
                        &["timestamp"],
                        "value_error",
                        "Timestamp must be in the past.",
                        json!(raw),
                    );
                    None
                }
                Ok(at) => Some(at.with_timezone(&Utc)),
                Err(_)
                    if raw.len() >= 19
                        && chrono::NaiveDateTime::parse_from_str(
                            &raw[..19],
                            "%Y-%m-%dT%H:%M:%S",
                        )
                        .is_ok() =>
                {
                    check.push(
                        &["timestamp"],
                        "timezone_aware",
                        "Input should have timezone info",
                        json!(raw),
                    );
                    None
                }
                Err(_) => {
                    check.push(
                        &["timestamp"],
                        "datetime_from_date_parsing",
                        "Input should be a valid datetime",
                        json!(raw),
                    );
                    None
                }
            },
            Some(other) => {
                check.push(
                    &["timestamp"],
                    "datetime_type",
                    "Input should be a valid datetime",
                    other.clone(),
                );
                None
            }
        };
        let metadata = match event.get("metadata") {
            None | Some(Value::Null) => Some(Map::new()),
            Some(Value::Object(map)) => check_metadata(map, &mut check),
            Some(other) => {
                check.push(
                    &["metadata"],
                    "dict_type",
                    "Input should be a valid dictionary",
                    other.clone(),
                );
                None
            }
        };
        if issues.len() > before {
            continue;
        }
        if let (Some(name), Some(customer), Some(timestamp), Some(metadata)) =
            (name, customer, timestamp, metadata)
        {
            parsed.push(NewEvent {
                name,
                timestamp,
                customer,
                member_id,
                external_member_id,
                external_id,
                parent_ref,
                metadata,
            });
        }
    }
    if issues.is_empty() {
        Ok(parsed)
    } else {
        Err(issues)
    }
}

/// Event metadata: the spec's rules (≤ 50 pairs, keys ≤ 40 characters, values strings of
/// 1–500 characters, integers, numbers or booleans), plus the structured `_cost` and `_llm`.
/// Returns the form stored: `_cost.amount` as a JSON number, so meters can sum it.
fn check_metadata(map: &Map<String, Value>, check: &mut Check<'_>) -> Option<Map<String, Value>> {
    let before = check.issues.len();
    if map.len() > crate::metadata::MAX_PAIRS {
        check.push(
            &["metadata"],
            "too_long",
            format!("At most {} key-value pairs", crate::metadata::MAX_PAIRS),
            Value::Null,
        );
    }
    let mut stored = Map::new();
    for (key, value) in map {
        if key.is_empty()
            || key.chars().count() > crate::metadata::MAX_KEY_CHARS
            || key.contains('\0')
        {
            check.push(
                &["metadata", key],
                "string_too_long",
                format!(
                    "Keys are 1 to {} characters",
                    crate::metadata::MAX_KEY_CHARS
                ),
                json!(key),
            );
            continue;
        }
        match key.as_str() {
            "_cost" => {
                if let Some(cost) = check_cost(value, check) {
                    stored.insert(key.clone(), cost);
                }
            }
            "_llm" => {
                if let Some(llm) = check_llm(value, check) {
                    stored.insert(key.clone(), llm);
                }
            }
            _ => match value {
                Value::String(text) => {
                    let chars = text.chars().count();
                    if chars == 0 || chars > crate::metadata::MAX_VALUE_CHARS || text.contains('\0')
                    {
                        check.push(
                            &["metadata", key],
                            "string_too_long",
                            format!(
                                "Strings are 1 to {} characters",
                                crate::metadata::MAX_VALUE_CHARS
                            ),
                            value.clone(),
                        );
                    } else {
                        stored.insert(key.clone(), value.clone());
                    }
                }
                Value::Number(_) | Value::Bool(_) => {
                    stored.insert(key.clone(), value.clone());
                }
                _ => check.push(
                    &["metadata", key],
                    "string_type",
                    "Input should be a string, an integer, a number or a boolean",
                    value.clone(),
                ),
            },
        }
    }
    (check.issues.len() == before).then_some(stored)
}

/// `_cost`: `{amount, currency}`; the amount in cents, at most 5 integer digits and 12
/// decimals (a number or a decimal string); the currency `usd`.
fn check_cost(value: &Value, check: &mut Check<'_>) -> Option<Value> {
    let Some(cost) = value.as_object() else {
        check.push(
            &["metadata", "_cost"],
            "model_type",
            "Input should be an object",
            value.clone(),
        );
        return None;
    };
    let amount = match cost.get("amount") {
        Some(Value::Number(n)) => n.as_f64().map(|f| (f, n.to_string())),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| (f, s.trim().to_owned())),
        _ => None,
    };
    let amount = amount.filter(|(_, text)| decimal_fits(text));
    if amount.is_none() {
        check.push(
            &["metadata", "_cost", "amount"],
            "decimal_parsing",
            "Input should be a number with at most 5 integer digits and 12 decimals",
            cost.get("amount").cloned().unwrap_or(Value::Null),
        );
    }
    let currency_ok = cost
        .get("currency")
        .and_then(Value::as_str)
        .is_some_and(|c| c.contains("usd"));
    if !currency_ok {
        check.push(
            &["metadata", "_cost", "currency"],
            "string_pattern_mismatch",
            "Only `usd` is supported",
            cost.get("currency").cloned().unwrap_or(Value::Null),
        );
    }
    let (amount, _) = amount?;
    currency_ok.then(|| json!({"amount": amount, "currency": "usd"}))
}

/// Whether a decimal's text has at most 5 integer digits and 12 decimals.
fn decimal_fits(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']);
    if unsigned.contains(['e', 'E']) {
        // serde writes small and large floats with exponents; judge by value instead.
        return unsigned.parse::<f64>().is_ok_and(|f| f.abs() < 100_000.0);
    }
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    whole.len() <= 5
        && fraction.len() <= 12
        && whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
}

/// `_llm`: vendor, model and the token counts are required; prompt and response optional.
fn check_llm(value: &Value, check: &mut Check<'_>) -> Option<Value> {
    let Some(llm) = value.as_object() else {
        check.push(
            &["metadata", "_llm"],
            "model_type",
            "Input should be an object",
            value.clone(),
        );
        return None;
    };
    let before = check.issues.len();
    let mut stored = Map::new();
    for field in ["vendor", "model"] {
        match llm.get(field) {
            Some(Value::String(s)) => {
                stored.insert(field.to_owned(), json!(s));
            }
            other => check.push(
                &["metadata", "_llm", field],
                "string_type",
                "Input should be a valid string",
                other.cloned().unwrap_or(Value::Null),
            ),
        }
    }
    for field in [
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "cached_input_tokens",
    ] {
        match llm.get(field) {
            Some(v @ Value::Number(n)) if n.is_i64() => {
                stored.insert(field.to_owned(), v.clone());
            }
            None if field == "cached_input_tokens" => {}
            other => check.push(
                &["metadata", "_llm", field],
                "int_type",
                "Input should be a valid integer",
                other.cloned().unwrap_or(Value::Null),
            ),
        }
    }
    for field in ["prompt", "response"] {
        match llm.get(field) {
            None | Some(Value::Null) => {
                stored.insert(field.to_owned(), Value::Null);
            }
            Some(v @ Value::String(_)) => {
                stored.insert(field.to_owned(), v.clone());
            }
            Some(other) => check.push(
                &["metadata", "_llm", field],
                "string_type",
                "Input should be a valid string",
                other.clone(),
            ),
        }
    }
    (check.issues.len() == before).then_some(Value::Object(stored))
}

/// Customers named by ID that are not live customers of the organization.
pub async fn unknown_customers(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    events: &[NewEvent],
) -> Result<Vec<ValidationIssue>, DbErr> {
    let ids: HashSet<Uuid> = events
        .iter()
        .filter_map(|e| match e.customer {
            CustomerRef::Id(id) => Some(id),
            CustomerRef::External(_) => None,
        })
        .collect();
    let mut known = HashSet::new();
    let ids: Vec<Uuid> = ids.into_iter().collect();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        known.extend(crate::customers::live_ids(txn, organization_id, chunk).await?);
    }
    let mut issues = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let loc = Loc::body().key("events").index(index);
        if let CustomerRef::Id(id) = event.customer
            && !known.contains(&id)
        {
            issues.push(ValidationIssue::new(
                loc.key("customer_id"),
                "customer_id",
                "Customer not found.",
                json!(id),
            ));
        }
        // floe has no members yet, so no member ID can name one.
        if let Some(member_id) = event.member_id {
            issues.push(ValidationIssue::new(
                loc.key("member_id"),
                "member_id",
                "Member not found.",
                json!(member_id),
            ));
        }
    }
    Ok(issues)
}

/// Stores a validated batch in `txn`; returns how many were new.
pub async fn store(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> Result<IngestResult, DbErr> {
    // Before anything is read: a meter rebuilt meanwhile must see this batch or be seen.
    crate::meters::rollups::lock(txn, organization_id, false).await?;
    let total = events.len() as u64;
    // Duplicates of stored events are found by the insert itself (the unique index on the
    // external ID decides, and only the rows really inserted come back). Looked up first
    // are only the external IDs that another event of the batch names as its parent, whose
    // stored ID that event then points to.
    let named_as_parent: HashSet<&str> = events
        .iter()
        .filter_map(|e| e.parent_ref.as_deref())
        .collect();
    let external_parents: Vec<String> = events
        .iter()
        .filter_map(|e| e.external_id.clone())
        .filter(|ext| named_as_parent.contains(ext.as_str()))
        .collect();
    let mut known_by_external: HashMap<String, Uuid> = HashMap::new();
    if !named_as_parent.is_empty() {
        plan_each_lookup(txn).await?;
    }
    for chunk in external_parents.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(Uuid, Option<String>)> = Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::ExternalId)
            .filter(Column::OrganizationId.eq(organization_id))
            // Spelled out so PostgreSQL sees that the partial unique index applies.
            .filter(Column::ExternalId.is_not_null())
            .filter(Column::ExternalId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(txn)
            .await?;
        known_by_external.extend(rows.into_iter().filter_map(|(id, ext)| Some((ext?, id))));
    }
    let mut rows = Vec::with_capacity(events.len());
    let mut batch_ids: HashMap<String, Uuid> = HashMap::new();
    for event in events {
        if let Some(ext) = &event.external_id
            && (known_by_external.contains_key(ext) || batch_ids.contains_key(ext))
        {
            continue;
        }
        let id = super::new_event_id();
        if let Some(ext) = &event.external_id {
            batch_ids.insert(ext.clone(), id);
        }
        batch_ids.insert(id.to_string(), id);
        rows.push((id, event));
    }
    // Parents: in this batch, or already stored (by external ID or by ID).
    let wanted: Vec<String> = rows
        .iter()
        .filter_map(|(_, e)| e.parent_ref.clone())
        .filter(|r| !batch_ids.contains_key(r) && !known_by_external.contains_key(r))
        .collect();
    let mut stored_parents: HashMap<String, Uuid> = HashMap::new();
    for chunk in wanted.chunks(LOOKUP_CHUNK) {
        let uuids: Vec<Uuid> = chunk
            .iter()
            .filter_map(|r| Uuid::try_parse(r).ok())
            .collect();
        let found: Vec<(Uuid, Option<String>)> = Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::ExternalId)
            .filter(Column::OrganizationId.eq(organization_id))
            .filter(
                sea_orm::Condition::any()
                    .add(Column::ExternalId.is_in(chunk.iter().cloned()))
                    .add(Column::Id.is_in(uuids)),
            )
            .into_tuple()
            .all(txn)
            .await?;
        for (id, ext) in found {
            stored_parents.insert(id.to_string(), id);
            if let Some(ext) = ext {
                stored_parents.insert(ext, id);
            }
        }
    }
    let resolve = |r: &str| {
        batch_ids
            .get(r)
            .or_else(|| known_by_external.get(r))
            .or_else(|| stored_parents.get(r))
            .copied()
    };
    let mut models = Vec::with_capacity(rows.len());
    let mut names: HashSet<String> = HashSet::new();
    for (id, event) in &rows {
        let parent_id = event.parent_ref.as_deref().and_then(&resolve);
        names.insert(event.name.clone());
        let (customer_id, external_customer_id) = match &event.customer {
            CustomerRef::Id(id) => (Some(*id), None),
            CustomerRef::External(ext) => (None, Some(ext.clone())),
        };
        models.push(entity::ActiveModel {
            id: Set(*id),
            organization_id: Set(organization_id),
            timestamp: Set(event.timestamp),
            ingested_at: Set(now),
            name: Set(event.name.clone()),
            source: Set("user".to_owned()),
            customer_id: Set(customer_id),
            external_customer_id: Set(external_customer_id),
            member_id: Set(event.member_id),
            external_member_id: Set(event.external_member_id.clone()),
            external_id: Set(event.external_id.clone()),
            parent_ref: Set(if parent_id.is_some() {
                None
            } else {
                event.parent_ref.clone()
            }),
            parent_id: Set(parent_id),
            metadata: Set(Value::Object(event.metadata.clone()).to_string()),
        });
    }
    let mut inserted = 0;
    let mut stored: Vec<&(Uuid, NewEvent)> = Vec::with_capacity(rows.len());
    let mut chunks = models.into_iter().zip(&rows).peekable();
    while chunks.peek().is_some() {
        let (chunk, chunk_rows): (Vec<_>, Vec<_>) = chunks.by_ref().take(INSERT_CHUNK).unzip();
        // An event whose external ID is already stored (a resent batch, or a concurrent
        // batch that took it first) is not inserted and counts as a duplicate.
        let mut insert = Entity::insert_many(chunk)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .into_query();
        insert.returning_col(Column::Id);
        let ids: HashSet<Uuid> = txn
            .query_all(&insert)
            .await?
            .iter()
            .map(|row| row.try_get::<Uuid>("", Column::Id.as_str()))
            .collect::<Result<_, _>>()?;
        inserted += ids.len() as u64;
        stored.extend(chunk_rows.into_iter().filter(|(id, _)| ids.contains(id)));
    }
    // The statements that follow look rows up in tables that grow.
    plan_each_lookup(txn).await?;
    // What the stored events add to the meters.
    let keys: Vec<String> = stored
        .iter()
        .map(|(_, event)| match &event.customer {
            CustomerRef::Id(id) => rollups::customer_key(Some(*id), None),
            CustomerRef::External(ext) => rollups::customer_key(None, Some(ext)),
        })
        .collect();
    rollups::add_events(
        txn,
        organization_id,
        stored.iter().zip(keys).map(|((id, event), key)| {
            (
                *id,
                EventView {
                    name: &event.name,
                    source: "user",
                    timestamp: event.timestamp,
                    metadata: &event.metadata,
                },
                key,
            )
        }),
    )
    .await?;
    adopt_orphans(txn, organization_id, &stored).await?;
    ensure_event_types(txn, organization_id, names, now).await?;
    Ok(IngestResult {
        inserted,
        duplicates: total - inserted,
    })
}

/// On PostgreSQL, plans every statement that follows in the transaction with its real
/// values. A batch's lookups are prepared statements, and a generic plan cached while a
/// table was small (a sequential scan) would otherwise be kept as the table grows. The
/// batch's INSERTs run before this: planning a 500-row INSERT afresh each time cost a
/// fifth of the direct ingestion rate, and an INSERT's plan does not depend on table size.
async fn plan_each_lookup(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    Ok(())
}

/// Points events stored earlier without their parent (an orphan names its parent by an
/// external ID not stored yet) at the parents this batch stored. Only external IDs can be
/// named before they exist: the batch's own event IDs were made just now.
async fn adopt_orphans(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    stored: &[&(Uuid, NewEvent)],
) -> Result<(), DbErr> {
    let parents: HashMap<&str, Uuid> = stored
        .iter()
        .filter_map(|(id, event)| Some((event.external_id.as_deref()?, *id)))
        .collect();
    if parents.is_empty() {
        return Ok(());
    }
    let orphans_of_organization = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::ParentId.is_null())
        .filter(Column::ParentRef.is_not_null());
    // Orphans are rare; most batches stop at this one-row probe of a partial index.
    if orphans_of_organization
        .clone()
        .into_tuple::<Uuid>()
        .one(txn)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let refs: Vec<&str> = parents.keys().copied().collect();
    for chunk in refs.chunks(LOOKUP_CHUNK) {
        let orphans: Vec<(Uuid, Option<String>)> = orphans_of_organization
            .clone()
            .column(Column::ParentRef)
            .filter(Column::ParentRef.is_in(chunk.iter().map(|r| r.to_string())))
            .into_tuple()
            .all(txn)
            .await?;
        for (orphan, parent_ref) in orphans {
            let Some(parent) = parent_ref.as_deref().and_then(|r| parents.get(r)) else {
                continue;
            };
            Entity::update_many()
                .col_expr(Column::ParentId, sea_orm::sea_query::Expr::value(*parent))
                .col_expr(
                    Column::ParentRef,
                    sea_orm::sea_query::Expr::value(Option::<String>::None),
                )
                .filter(Column::Id.eq(orphan))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// Every event name gets an event type (labelled with the name) the first time it is seen.
pub async fn ensure_event_types(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    names: HashSet<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if names.is_empty() {
        return Ok(());
    }
    let rows: Vec<event_type::ActiveModel> = names
        .into_iter()
        .map(|name| event_type::ActiveModel {
            id: Set(Uuid::new_v4()),
            created_at: Set(now),
            modified_at: Set(None),
            organization_id: Set(organization_id),
            label: Set(name.clone()),
            name: Set(name),
            label_property_selector: Set(None),
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        event_type::Entity::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn locs(result: Result<Vec<NewEvent>, Vec<ValidationIssue>>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .iter()
                .map(|i| serde_json::to_string(&i.loc).unwrap_or_default())
                .collect(),
        }
    }

    #[test]
    fn a_valid_batch_parses() {
        let body = json!({"events": [
            {"name": "api.call", "external_customer_id": "u1", "metadata": {"tokens": 12, "_cost": {"amount": "1.5", "currency": "usd"},
              "_llm": {"vendor": "openai", "model": "gpt", "input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}},
            {"name": "api.call", "customer_id": "7f1c2f43-5a54-4f0c-9a5e-2f1a4e0c9b11", "timestamp": "2026-11-28T11:00:00+01:00", "external_id": "e1"},
        ]});
        let events = parse(&body, now()).unwrap_or_default();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].metadata["_cost"]["amount"], json!(1.5));
        assert_eq!(
            events[1].timestamp.to_rfc3339(),
            "2026-11-28T10:00:00+00:00"
        );
    }

    #[test]
    fn every_problem_is_reported_by_position() {
        let body = json!({"events": [
            {"name": "ok", "external_customer_id": "u1"},
            {"external_customer_id": "u1"},
            {"name": "x".repeat(129), "customer_id": "nope"},
            {"name": "later", "external_customer_id": "u1", "timestamp": "2026-11-28T13:00:00Z"},
            {"name": "naive", "external_customer_id": "u1", "timestamp": "2026-11-28T10:00:00"},
            {"name": "meta", "external_customer_id": "u1", "metadata": {"k": {"nested": 1}, "_cost": {"amount": 123456, "currency": "eur"}}},
            {"name": "who"},
            {"name": "org", "external_customer_id": "u1", "organization_id": "7f1c2f43-5a54-4f0c-9a5e-2f1a4e0c9b11"},
        ]});
        let found = locs(parse(&body, now()));
        for expected in [
            r#"["body","events",1,"name"]"#,
            r#"["body","events",2,"name"]"#,
            r#"["body","events",2,"customer_id"]"#,
            r#"["body","events",3,"timestamp"]"#,
            r#"["body","events",4,"timestamp"]"#,
            r#"["body","events",5,"metadata","k"]"#,
            r#"["body","events",5,"metadata","_cost","amount"]"#,
            r#"["body","events",5,"metadata","_cost","currency"]"#,
            r#"["body","events",6,"customer_id"]"#,
            r#"["body","events",7,"organization_id"]"#,
        ] {
            assert!(
                found.iter().any(|l| l == expected),
                "{expected} not in {found:?}"
            );
        }
        assert!(!found.iter().any(|l| l.contains(",0,")), "{found:?}");
    }

    #[test]
    fn decimals() {
        assert!(decimal_fits("99999.999999999999"));
        assert!(decimal_fits("0.5"));
        assert!(!decimal_fits("100000"));
        assert!(!decimal_fits("1.0000000000001"));
    }
}
