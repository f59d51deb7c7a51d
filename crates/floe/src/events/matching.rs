//! `events:list` by a meter's rules (`meter_id`) or by a filter in the meters' language
//! (`filter`). The rules are evaluated by the evaluator meters themselves use
//! (`meters::evaluate`), so the events listed under a meter are exactly the events it
//! aggregates, with the same typed comparisons on both databases. The database narrows the
//! candidates to the event names the rules require (a meter's filter nearly always names
//! its event), and the candidates are read in the list's order, a chunk at a time, so
//! memory stays bounded however many events an organization has.

use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, Condition, DbErr, QueryFilter, QuerySelect, Select};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::entity::{Column, Entity, Model};
use crate::app::AppState;
use crate::db::ReadConnection;
use crate::http::pagination::Direction;
use crate::http::{ApiError, ApiResult, Loc, Pagination, QueryParams, ValidationIssue};
use crate::meters::evaluate::EventView;
use crate::meters::filter::{
    Aggregation, Clause, ClauseValue, Conjunction, Filter, Node, Operator, parse_filter,
};

/// Candidates read per query while walking a list by rules.
const CHUNK: u64 = 1000;

/// What an event must satisfy beyond the list's column filters.
#[derive(Default)]
pub struct Rules {
    filters: Vec<Filter>,
    /// A meter's aggregation takes only events that carry its property (as Polar lists a
    /// meter's events).
    aggregations: Vec<Aggregation>,
}

impl Rules {
    /// The rules `filter` and `meter_id` ask for; a meter of another organization is "not
    /// found", as Polar answers it.
    pub async fn from_query(
        app: &AppState,
        organization_id: Uuid,
        query: &QueryParams,
    ) -> ApiResult<Self> {
        let mut rules = Self::default();
        let mut issues = Vec::new();
        if let Some(raw) = query.last("filter") {
            match serde_json::from_str::<Value>(raw) {
                Ok(value) => {
                    if let Some(filter) = parse_filter(&value, &Loc::query("filter"), &mut issues) {
                        rules.filters.push(filter);
                    }
                }
                Err(error) => issues.push(ValidationIssue::new(
                    Loc::query("filter"),
                    "json_invalid",
                    format!("Invalid JSON: {error}"),
                    Value::String(raw.to_owned()),
                )),
            }
        }
        let meter_id = match query.uuids("meter_id") {
            Ok(ids) => ids.and_then(|ids| ids.last().copied()),
            Err(ApiError::Validation(more)) => {
                issues.extend(more);
                None
            }
            Err(other) => return Err(other),
        };
        if let Some(meter_id) = meter_id {
            let meter = crate::meters::records(&app.reader, organization_id, Some(&[meter_id]))
                .await?
                .pop();
            match meter {
                Some(meter) => {
                    rules.filters.push(meter.compiled.filter);
                    rules.aggregations.push(meter.compiled.aggregation);
                }
                None => issues.push(ValidationIssue::new(
                    Loc::query("meter_id"),
                    "meter_id",
                    "Meter not found.",
                    Value::String(meter_id.to_string()),
                )),
            }
        }
        if issues.is_empty() {
            Ok(rules)
        } else {
            Err(ApiError::Validation(issues))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty() && self.aggregations.is_empty()
    }

    fn matches(&self, row: &Model) -> bool {
        let metadata: Map<String, Value> = serde_json::from_str(&row.metadata).unwrap_or_default();
        let event = EventView::of_row(row, &metadata);
        self.filters.iter().all(|filter| filter.matches(&event))
            && self
                .aggregations
                .iter()
                .all(|aggregation| aggregation.contribution(&event).is_some())
    }

    /// The narrowing the database can do: the event names every matching event has,
    /// when the rules require some.
    fn narrowing(&self) -> Condition {
        let mut names: Option<BTreeSet<String>> = None;
        for filter in &self.filters {
            if let Some(required) = required_names(filter) {
                names = Some(match names {
                    Some(known) => known.intersection(&required).cloned().collect(),
                    None => required,
                });
            }
        }
        match names {
            Some(names) => Condition::all().add(Column::Name.is_in(names)),
            None => Condition::all(),
        }
    }
}

/// The names an event must have to match `filter`, or `None` when any name may match.
fn required_names(filter: &Filter) -> Option<BTreeSet<String>> {
    let of_node = |node: &Node| match node {
        Node::Clause(Clause {
            property,
            operator: Operator::Eq,
            value: ClauseValue::Text(name),
        }) if property == "name" => Some(BTreeSet::from([name.clone()])),
        Node::Clause(_) => None,
        Node::Filter(inner) => required_names(inner),
    };
    match filter.conjunction {
        // Every clause must hold: any clause that requires names narrows.
        Conjunction::And => filter
            .clauses
            .iter()
            .filter_map(of_node)
            .reduce(|a, b| a.intersection(&b).cloned().collect()),
        // One clause is enough: names narrow only when every clause requires some.
        Conjunction::Or if filter.clauses.is_empty() => None,
        Conjunction::Or => filter
            .clauses
            .iter()
            .map(of_node)
            .collect::<Option<Vec<_>>>()
            .map(|sets| sets.into_iter().flatten().collect()),
    }
}

/// How far a walk goes.
pub enum Want {
    /// Every match, to count them all.
    Total,
    /// Just past the page, to tell whether another follows.
    NextPage,
}

/// A page of the events of `query` (ordered by `direction`) that satisfy `rules`, and how
/// many match in all (`Want::Total`) or whether more follow (`Want::NextPage`, as 0 or 1).
pub async fn page(
    db: &ReadConnection,
    query: Select<Entity>,
    direction: Direction,
    rules: &Rules,
    pagination: Pagination,
    want: Want,
) -> Result<(Vec<Model>, u64), DbErr> {
    let query = query.filter(rules.narrowing());
    let offset = pagination.offset();
    let wanted_end = offset.map(|offset| offset.saturating_add(pagination.limit));
    let mut items = Vec::new();
    let mut matched: u64 = 0;
    let mut last: Option<(chrono::DateTime<chrono::Utc>, Uuid)> = None;
    loop {
        let mut chunk_query = query.clone();
        if let Some((timestamp, id)) = last {
            chunk_query = chunk_query.filter(after(direction, timestamp, id));
        }
        let chunk = db.all(chunk_query.limit(CHUNK)).await?;
        let exhausted = (chunk.len() as u64) < CHUNK;
        last = chunk.last().map(|row| (row.timestamp, row.id));
        for row in chunk {
            if !rules.matches(&row) {
                continue;
            }
            if let (Some(start), Some(end)) = (offset, wanted_end)
                && matched >= start
                && matched < end
            {
                items.push(row);
            }
            matched += 1;
            if let (Want::NextPage, Some(end)) = (&want, wanted_end)
                && matched > end
            {
                return Ok((items, 1));
            }
        }
        if exhausted {
            break;
        }
        // A page past any row there can be: nothing to show, and no next page.
        if matches!(want, Want::NextPage) && offset.is_none() {
            break;
        }
    }
    Ok(match want {
        Want::Total => (items, matched),
        Want::NextPage => (items, 0),
    })
}

/// Rows after `(timestamp, id)` in the list's order.
fn after(direction: Direction, timestamp: chrono::DateTime<chrono::Utc>, id: Uuid) -> Condition {
    let (later, later_id) = match direction {
        Direction::Descending => (Column::Timestamp.lt(timestamp), Column::Id.lt(id)),
        Direction::Ascending => (Column::Timestamp.gt(timestamp), Column::Id.gt(id)),
    };
    Condition::any().add(later).add(
        Condition::all()
            .add(Column::Timestamp.eq(timestamp))
            .add(later_id),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(value: Value) -> Filter {
        let mut issues = Vec::new();
        let parsed = parse_filter(&value, &Loc::query("filter"), &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        parsed.expect("a filter")
    }

    fn names(value: Value) -> Option<Vec<String>> {
        required_names(&filter(value)).map(|set| set.into_iter().collect())
    }

    fn name_is(name: &str) -> Value {
        json!({"property": "name", "operator": "eq", "value": name})
    }

    #[test]
    fn names_a_filter_requires() {
        let other = json!({"property": "tokens", "operator": "gt", "value": 3});
        assert_eq!(
            names(json!({"conjunction": "and", "clauses": [name_is("a"), other]})),
            Some(vec!["a".into()])
        );
        assert_eq!(
            names(json!({"conjunction": "or", "clauses": [name_is("a"), name_is("b")]})),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            names(json!({"conjunction": "or", "clauses": [name_is("a"), other]})),
            None
        );
        assert_eq!(
            names(json!({"conjunction": "and", "clauses": [name_is("a"), name_is("b")]})),
            Some(vec![])
        );
        assert_eq!(names(json!({"conjunction": "and", "clauses": []})), None);
        assert_eq!(names(json!({"conjunction": "or", "clauses": []})), None);
        let nested = json!({"conjunction": "and", "clauses": [
            {"conjunction": "or", "clauses": [name_is("a"), name_is("b")]},
            {"property": "name", "operator": "ne", "value": "a"},
        ]});
        assert_eq!(names(nested), Some(vec!["a".into(), "b".into()]));
    }
}
