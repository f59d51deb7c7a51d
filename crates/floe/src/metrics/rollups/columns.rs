//! The sums kept per organization and quarter hour, hour and day (`metric_sums`), by place.
//!
//! Flows (orders, revenue, cancellations) are added in the quarter they happen in; states
//! (active subscriptions, MRR, customers) as deltas, so a state at an instant is the sum of
//! every delta before it.

/// How many sums a quarter holds.
pub const COUNT: usize = 44;

/// One quarter's sums (or a range's), in `NAMES` order.
pub type Sums = [i64; COUNT];

pub const ORDERS: usize = 0;
pub const REVENUE: usize = 1;
/// What the merchant kept: net − fee − refunded, before tax.
pub const KEPT: usize = 2;
pub const ONE_TIME_ORDERS: usize = 3;
pub const ONE_TIME_REVENUE: usize = 4;
pub const ONE_TIME_KEPT: usize = 5;
/// Subscription orders made in the quarter their subscription started: new in any period.
pub const NEW_REVENUE: usize = 6;
pub const NEW_KEPT: usize = 7;
/// `+ interval place`: subscription orders certainly renewals for that interval (their
/// subscription started at least one of its longest periods before or after them).
pub const OLD_REVENUE: usize = 8;
pub const OLD_KEPT: usize = 13;
/// `+ interval place`: of those, the ones that are certainly their subscription's first
/// renewal order in the period (counts distinct renewed subscriptions).
pub const RENEWED: usize = 18;
/// What lost disputes took back, in the quarter they were lost.
pub const DISPUTES_LOST: usize = 23;
pub const ACTIVE: usize = 24;
pub const COMMITTED: usize = 25;
pub const MRR: usize = 26;
pub const TRIAL_MRR: usize = 27;
pub const COMMITTED_MRR: usize = 28;
pub const TRIAL_COMMITTED_MRR: usize = 29;
/// Customers with an active subscription.
pub const CUSTOMERS: usize = 30;
/// Started minus ended subscriptions, for the churn rate's "active at": `ALIVE_EXACT` is
/// the part that happened at the quarter's very first instant (an inclusive bound).
pub const ALIVE: usize = 31;
pub const ALIVE_EXACT: usize = 32;
pub const CHURNED: usize = 33;
/// `+ reason place` (`REASONS`, then other).
pub const CANCELED: usize = 34;
/// Subscriptions created, and those of them that also end in the same quarter.
pub const CREATED: usize = 42;
pub const CREATED_GONE: usize = 43;

/// The column of each sum.
pub const NAMES: [&str; COUNT] = [
    "orders",
    "revenue",
    "kept",
    "one_time_orders",
    "one_time_revenue",
    "one_time_kept",
    "new_revenue",
    "new_kept",
    "old_revenue_hour",
    "old_revenue_day",
    "old_revenue_week",
    "old_revenue_month",
    "old_revenue_year",
    "old_kept_hour",
    "old_kept_day",
    "old_kept_week",
    "old_kept_month",
    "old_kept_year",
    "renewed_hour",
    "renewed_day",
    "renewed_week",
    "renewed_month",
    "renewed_year",
    "disputes_lost",
    "active_delta",
    "committed_delta",
    "mrr_delta",
    "trial_mrr_delta",
    "committed_mrr_delta",
    "trial_committed_mrr_delta",
    "customers_delta",
    "alive_delta",
    "alive_exact",
    "churned",
    "canceled_customer_service",
    "canceled_low_quality",
    "canceled_missing_features",
    "canceled_switched_service",
    "canceled_too_complex",
    "canceled_too_expensive",
    "canceled_unused",
    "canceled_other",
    "created",
    "created_gone",
];

/// Cancellation reasons with a metric of their own; any other counts as "other".
pub const REASONS: [&str; 7] = [
    "customer_service",
    "low_quality",
    "missing_features",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
];

/// The place of a cancellation's reason among the `CANCELED` sums.
pub fn reason_place(reason: Option<&str>) -> usize {
    reason
        .and_then(|r| REASONS.iter().position(|known| *known == r))
        .unwrap_or(REASONS.len())
}

pub fn add(into: &mut Sums, other: &Sums) {
    for (a, b) in into.iter_mut().zip(other) {
        *a += b;
    }
}

pub fn sub(into: &mut Sums, other: &Sums) {
    for (a, b) in into.iter_mut().zip(other) {
        *a -= b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_match_names() {
        assert_eq!(NAMES[OLD_KEPT], "old_kept_hour");
        assert_eq!(NAMES[RENEWED + 4], "renewed_year");
        assert_eq!(NAMES[CANCELED + REASONS.len()], "canceled_other");
        assert_eq!(NAMES[CREATED_GONE], "created_gone");
        assert_eq!(NAMES[CUSTOMERS], "customers_delta");
    }
}
