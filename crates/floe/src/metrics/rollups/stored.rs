//! The facts as rolled up, kept one row per order, subscription or dispute
//! (`metric_*_facts`): what a pass compares the rows' facts of now against, and what it
//! writes back. The helpers here run keyed statements in chunks inside a pass's
//! transaction.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, QueryResult, Value};
use uuid::Uuid;

use super::facts::{Deltas, DisputeFact, OrderFact, SubscriptionFact};
use crate::metrics::sql::{col, get, rows};

/// IDs per `IN (…)` list.
pub const CHUNK: usize = 500;

/// A fact as its table keeps it, keyed by its row's ID (the table's first column).
pub trait Stored: PartialEq + Sized {
    const TABLE: &'static str;
    /// The key first, then what `encode` gives, in its order.
    const COLUMNS: &'static [&'static str];
    fn decode(row: &QueryResult) -> Result<Self, DbErr>;
    fn encode(&self) -> Vec<Value>;
    /// Adds (sign 1) or takes back (-1) what it adds to the sums.
    fn add_to(&self, sign: i64, deltas: &mut Deltas);
}

impl Stored for OrderFact {
    const TABLE: &'static str = "metric_order_facts";
    const COLUMNS: &'static [&'static str] = &[
        "order_id",
        "organization_id",
        "subscription_id",
        "created_at",
        "revenue",
        "kept",
        "started_at",
        "previous_at",
        "ambiguity",
        "renews",
        "product_id",
        "mixed",
    ];

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(OrderFact {
            organization_id: get(row, "organization_id")?,
            subscription_id: get(row, "subscription_id")?,
            created_at: get(row, "created_at")?,
            revenue: get(row, "revenue")?,
            kept: get(row, "kept")?,
            started_at: get(row, "started_at")?,
            previous_at: get(row, "previous_at")?,
            product_id: get(row, "product_id")?,
            mixed: get(row, "mixed")?,
        })
    }

    fn encode(&self) -> Vec<Value> {
        vec![
            self.organization_id.into(),
            self.subscription_id.into(),
            self.created_at.into(),
            self.revenue.into(),
            self.kept.into(),
            self.started_at.into(),
            self.previous_at.into(),
            self.ambiguity().into(),
            self.renews().into(),
            self.product_id.into(),
            self.mixed.into(),
        ]
    }

    fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        OrderFact::add_to(self, sign, deltas)
    }
}

impl Stored for SubscriptionFact {
    const TABLE: &'static str = "metric_subscription_facts";
    const COLUMNS: &'static [&'static str] = &[
        "subscription_id",
        "organization_id",
        "customer_id",
        "created_at",
        "started_at",
        "end_at",
        "canceled_at",
        "reason",
        "monthly",
        "trial_end",
        "ambiguity",
        "product_id",
    ];

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        <Self as sea_orm::FromQueryResult>::from_query_result(row, "")
    }

    fn encode(&self) -> Vec<Value> {
        vec![
            self.organization_id.into(),
            self.customer_id.into(),
            self.created_at.into(),
            self.started_at.into(),
            self.end_at.into(),
            self.canceled_at.into(),
            self.reason.clone().into(),
            self.monthly.into(),
            self.trial_end.into(),
            self.ambiguity().into(),
            self.product_id.into(),
        ]
    }

    fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        SubscriptionFact::add_to(self, sign, deltas)
    }
}

impl Stored for DisputeFact {
    const TABLE: &'static str = "metric_dispute_facts";
    const COLUMNS: &'static [&'static str] = &[
        "dispute_id",
        "organization_id",
        "quarter",
        "amount",
        "product_id",
    ];

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(DisputeFact {
            organization_id: get(row, "organization_id")?,
            quarter: get(row, "quarter")?,
            amount: get(row, "amount")?,
            product_id: get(row, "product_id")?,
        })
    }

    fn encode(&self) -> Vec<Value> {
        vec![
            self.organization_id.into(),
            self.quarter.into(),
            self.amount.into(),
            self.product_id.into(),
        ]
    }

    fn add_to(&self, sign: i64, deltas: &mut Deltas) {
        DisputeFact::add_to(self, sign, deltas)
    }
}

/// A customer's active ranges as `metric_customer_ranges` and
/// `metric_customer_product_ranges` keep them (JSON `[[from, to], …]`, quarters).
pub type Ranges = Vec<(i64, Option<i64>)>;

pub fn decode_ranges(text: &str) -> Result<Ranges, DbErr> {
    serde_json::from_str(text).map_err(|e| DbErr::Custom(e.to_string()))
}

pub fn encode_ranges(ranges: &Ranges) -> Result<String, DbErr> {
    serde_json::to_string(ranges).map_err(|e| DbErr::Custom(e.to_string()))
}

/// The stored facts whose `key` column is one of `ids`, by their own ID.
pub async fn stored_where<F: Stored>(
    txn: &DatabaseTransaction,
    key: &str,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, F>, DbErr> {
    rows_where(txn, F::TABLE, F::COLUMNS, key, ids)
        .await?
        .iter()
        .map(|row| Ok((get(row, F::COLUMNS[0])?, F::decode(row)?)))
        .collect()
}

/// What a replacement did: the facts gone, and the ones new or changed.
pub struct Replaced {
    pub gone: Vec<Uuid>,
    pub changed: Vec<Uuid>,
}

/// Stores the facts `new` in place of `old` (the same IDs' stored facts), moving `deltas`
/// by the difference: each changed fact is taken back as it was and added as it is.
pub async fn replace<F: Stored>(
    txn: &DatabaseTransaction,
    old: &HashMap<Uuid, F>,
    new: &HashMap<Uuid, F>,
    deltas: &mut Deltas,
) -> Result<Replaced, DbErr> {
    let (gone, changed) = difference(old, new, |fact, sign| fact.add_to(sign, deltas));
    delete_where(txn, F::TABLE, F::COLUMNS[0], &gone).await?;
    let values = changed
        .iter()
        .map(|id| {
            let mut row = vec![Value::from(*id)];
            row.extend(new[id].encode());
            row
        })
        .collect();
    upsert(txn, F::TABLE, F::COLUMNS, 1, values).await?;
    Ok(Replaced { gone, changed })
}

/// Applies the difference between `old` and `new` facts to `deltas` (through `add`), and
/// answers the facts gone and the ones to write.
pub fn difference<F: PartialEq>(
    old: &HashMap<Uuid, F>,
    new: &HashMap<Uuid, F>,
    mut add: impl FnMut(&F, i64),
) -> (Vec<Uuid>, Vec<Uuid>) {
    let (mut gone, mut changed) = (Vec::new(), Vec::new());
    for (id, fact) in old {
        match new.get(id) {
            Some(now) if now == fact => {}
            Some(_) => add(fact, -1),
            None => {
                add(fact, -1);
                gone.push(*id);
            }
        }
    }
    for (id, fact) in new {
        if old.get(id) != Some(fact) {
            add(fact, 1);
            changed.push(*id);
        }
    }
    (gone, changed)
}

fn select(table: &str, columns: &[&str]) -> SelectStatement {
    let mut query = Query::select();
    query
        .from(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)));
    query
}

/// The rows of `table` whose `key` is one of `ids`, in chunks.
pub async fn rows_where(
    txn: &DatabaseTransaction,
    table: &str,
    columns: &[&str],
    key: &str,
    ids: &[Uuid],
) -> Result<Vec<QueryResult>, DbErr> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut query = select(table, columns);
        query.and_where(col(key).is_in(chunk.iter().copied()));
        found.extend(rows(txn, &query).await?);
    }
    Ok(found)
}

pub async fn delete_where(
    txn: &DatabaseTransaction,
    table: &str,
    key: &str,
    ids: &[Uuid],
) -> Result<(), DbErr> {
    for chunk in ids.chunks(CHUNK) {
        let delete = Query::delete()
            .from_table(Alias::new(table))
            .and_where(col(key).is_in(chunk.iter().copied()))
            .to_owned();
        txn.execute(&delete).await?;
    }
    Ok(())
}

/// Writes rows of `table` keyed by its first `keys` columns, replacing what is there.
pub async fn upsert(
    txn: &DatabaseTransaction,
    table: &str,
    columns: &[&str],
    keys: usize,
    values: Vec<Vec<Value>>,
) -> Result<(), DbErr> {
    let per_statement = (30_000 / columns.len()).max(1);
    let mut values = values.into_iter().peekable();
    while values.peek().is_some() {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .on_conflict(
                OnConflict::columns(columns[..keys].iter().map(|c| Alias::new(*c)))
                    .update_columns(columns[keys..].iter().map(|c| Alias::new(*c)))
                    .to_owned(),
            );
        for row in values.by_ref().take(per_statement) {
            insert.values_panic(row.into_iter().map(Expr::val));
        }
        txn.execute(&insert).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::difference;
    use std::collections::HashMap;
    use uuid::Uuid;

    #[test]
    fn a_difference_takes_back_what_changed_and_adds_what_is_new() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let old = HashMap::from([(a, 1), (b, 2)]);
        let new = HashMap::from([(b, 5), (c, 3)]);
        let mut total = 0;
        let (gone, mut changed) = difference(&old, &new, |v, sign| total += v * sign);
        changed.sort();
        assert_eq!(gone, vec![a]);
        assert_eq!(changed, vec![b, c]);
        assert_eq!(total, -1 - 2 + 5 + 3);
    }
}
