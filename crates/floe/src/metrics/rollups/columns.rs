//! The sums kept per organization and quarter hour, hour and day (`metric_sums`), by place.
//!
//! Flows (orders, revenue, cancellations) are added in the quarter they happen in; states
//! (active subscriptions, MRR, customers) as deltas, so a state at an instant is the sum of
//! every delta before it.

/// How many sums a quarter holds.
pub const COUNT: usize = 56;

/// One quarter's sums (or a range's), in `NAMES` order.
pub type Sums = [i64; COUNT];

pub const ORDERS: usize = 0;
pub const REVENUE: usize = 1;
/// What the merchant kept: net − fee − refunded, before tax.
pub const KEPT: usize = 2;
pub const ONE_TIME_ORDERS: usize = 3;
pub const ONE_TIME_REVENUE: usize = 4;
pub const ONE_TIME_KEPT: usize = 5;
/// `+ interval place`: subscription orders made, in every time zone, in the period their
/// subscription started (new subscriptions' revenue).
pub const NEW_REVENUE: usize = 6;
pub const NEW_KEPT: usize = 11;
/// `+ interval place`: subscription orders certainly renewals for that interval (their
/// subscription started in another period, in every time zone).
pub const OLD_REVENUE: usize = 16;
pub const OLD_KEPT: usize = 21;
/// `+ interval place`: of those, the ones that are certainly their subscription's first
/// renewal order in the period (counts distinct renewed subscriptions).
pub const RENEWED: usize = 26;
/// What lost disputes took back, in the quarter they were lost.
pub const DISPUTES_LOST: usize = 31;
pub const ACTIVE: usize = 32;
pub const COMMITTED: usize = 33;
pub const MRR: usize = 34;
pub const TRIAL_MRR: usize = 35;
pub const COMMITTED_MRR: usize = 36;
pub const TRIAL_COMMITTED_MRR: usize = 37;
/// Customers with an active subscription.
pub const CUSTOMERS: usize = 38;
/// Started minus ended subscriptions, for the churn rate's "active at": `ALIVE_EXACT` is
/// the part that happened at the quarter's very first instant (an inclusive bound).
pub const ALIVE: usize = 39;
pub const ALIVE_EXACT: usize = 40;
pub const CHURNED: usize = 41;
/// `+ reason place` (`REASONS`, then other).
pub const CANCELED: usize = 42;
/// Subscriptions created, and (`+ interval place`) those of them that certainly end in the
/// period they were created in.
pub const CREATED: usize = 50;
pub const CREATED_GONE: usize = 51;

/// The column of each sum.
pub const NAMES: [&str; COUNT] = [
    "orders",
    "revenue",
    "kept",
    "one_time_orders",
    "one_time_revenue",
    "one_time_kept",
    "new_revenue_hour",
    "new_revenue_day",
    "new_revenue_week",
    "new_revenue_month",
    "new_revenue_year",
    "new_kept_hour",
    "new_kept_day",
    "new_kept_week",
    "new_kept_month",
    "new_kept_year",
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
    "created_gone_hour",
    "created_gone_day",
    "created_gone_week",
    "created_gone_month",
    "created_gone_year",
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
        assert_eq!(NAMES[CREATED_GONE + 4], "created_gone_year");
        assert_eq!(NAMES[CUSTOMERS], "customers_delta");
        for (k, interval) in crate::calendar::Interval::NAMES.iter().enumerate() {
            for (first, kind) in [
                (NEW_REVENUE, "new_revenue"),
                (NEW_KEPT, "new_kept"),
                (OLD_REVENUE, "old_revenue"),
                (OLD_KEPT, "old_kept"),
                (RENEWED, "renewed"),
                (CREATED_GONE, "created_gone"),
            ] {
                assert_eq!(NAMES[first + k], format!("{kind}_{interval}"));
            }
        }
    }
}
