//! The metrics the contract's `MetricPeriod` has, by slug, in its order (which is also the
//! order of the export's columns), with the name and unit the answer gives each, and how
//! its total over the periods is made. Definitions: docs/metrics.md.

/// The contract's `MetricType`: how a value is meant to be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Scalar,
    /// Minor units of the currency.
    Currency,
    /// Cents with fractions (costs reported by events).
    CurrencySubCent,
    /// A fraction (0.75), never ×100.
    Percentage,
}

/// How a metric's total over the periods is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// The last period's value (a state: subscriptions active, a running sum).
    Last,
    /// The sum of the periods' values (a flow: orders, revenue).
    Sum,
    /// A ratio recomputed from the totals of what it divides.
    Own,
}

pub struct Metric {
    pub slug: &'static str,
    pub display_name: &'static str,
    pub unit: Unit,
    pub total: Total,
}

const fn metric(
    slug: &'static str,
    display_name: &'static str,
    unit: Unit,
    total: Total,
) -> Metric {
    Metric {
        slug,
        display_name,
        unit,
        total,
    }
}

/// Every metric, in the contract's order.
pub const METRICS: [Metric; 55] = [
    metric(
        "active_subscriptions",
        "Active Subscriptions",
        Unit::Scalar,
        Total::Last,
    ),
    metric(
        "committed_subscriptions",
        "Committed Subscriptions",
        Unit::Scalar,
        Total::Last,
    ),
    metric(
        "monthly_recurring_revenue",
        "Monthly Recurring Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "trial_monthly_recurring_revenue",
        "Trialing MRR Including Cancelations",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "committed_monthly_recurring_revenue",
        "Committed Monthly Recurring Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "trial_committed_monthly_recurring_revenue",
        "Trialing Monthly Recurring Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "average_revenue_per_user",
        "Average Revenue Per User",
        Unit::Currency,
        Total::Last,
    ),
    metric("checkouts", "Checkouts", Unit::Scalar, Total::Sum),
    metric(
        "succeeded_checkouts",
        "Succeeded Checkouts",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "churned_subscriptions",
        "Churned Subscriptions",
        Unit::Scalar,
        Total::Sum,
    ),
    metric("churn_rate", "Churn Rate", Unit::Percentage, Total::Last),
    metric("seats_total", "Seat Count", Unit::Scalar, Total::Last),
    metric("seats_claimed", "Claimed Seats", Unit::Scalar, Total::Last),
    metric("seats_pending", "Pending Seats", Unit::Scalar, Total::Last),
    metric(
        "seat_customers",
        "Active Customers",
        Unit::Scalar,
        Total::Last,
    ),
    metric(
        "new_seat_customers",
        "New Customers",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "churned_seat_customers",
        "Churned Customers",
        Unit::Scalar,
        Total::Sum,
    ),
    metric("orders", "Orders", Unit::Scalar, Total::Sum),
    metric("revenue", "Revenue", Unit::Currency, Total::Sum),
    metric("net_revenue", "Net Revenue", Unit::Currency, Total::Sum),
    metric(
        "cumulative_revenue",
        "Cumulative Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "net_cumulative_revenue",
        "Net Cumulative Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric("costs", "Costs", Unit::CurrencySubCent, Total::Sum),
    metric(
        "cumulative_costs",
        "Cumulative Costs",
        Unit::CurrencySubCent,
        Total::Last,
    ),
    metric(
        "average_order_value",
        "Average Order Value",
        Unit::Currency,
        Total::Own,
    ),
    metric(
        "net_average_order_value",
        "Net Average Order Value",
        Unit::Currency,
        Total::Own,
    ),
    metric(
        "cost_per_user",
        "Cost Per User",
        Unit::CurrencySubCent,
        Total::Own,
    ),
    metric(
        "active_user_by_event",
        "Active User (By event)",
        Unit::Scalar,
        Total::Last,
    ),
    metric(
        "one_time_products",
        "One-Time Products",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "one_time_products_revenue",
        "One-Time Products Revenue",
        Unit::Currency,
        Total::Sum,
    ),
    metric(
        "one_time_products_net_revenue",
        "One-Time Products Net Revenue",
        Unit::Currency,
        Total::Sum,
    ),
    metric(
        "new_subscriptions",
        "New Subscriptions",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "new_subscriptions_revenue",
        "New Subscriptions Revenue",
        Unit::Currency,
        Total::Sum,
    ),
    metric(
        "new_subscriptions_net_revenue",
        "New Subscriptions Net Revenue",
        Unit::Currency,
        Total::Sum,
    ),
    metric(
        "renewed_subscriptions",
        "Renewed Subscriptions",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "renewed_subscriptions_revenue",
        "Renewed Subscriptions Revenue",
        Unit::Currency,
        Total::Sum,
    ),
    metric(
        "renewed_subscriptions_net_revenue",
        "Renewed Subscriptions Net Revenue",
        Unit::Currency,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions",
        "Canceled Subscriptions",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_customer_service",
        "Canceled Subscriptions - Customer Service",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_low_quality",
        "Canceled Subscriptions - Low Quality",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_missing_features",
        "Canceled Subscriptions - Missing Features",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_switched_service",
        "Canceled Subscriptions - Switched Service",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_too_complex",
        "Canceled Subscriptions - Too Complex",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_too_expensive",
        "Canceled Subscriptions - Too Expensive",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_unused",
        "Canceled Subscriptions - Unused",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "canceled_subscriptions_other",
        "Canceled Subscriptions - Other",
        Unit::Scalar,
        Total::Sum,
    ),
    metric(
        "annual_recurring_revenue",
        "Annual Recurring Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "committed_annual_recurring_revenue",
        "Committed Annual Recurring Revenue",
        Unit::Currency,
        Total::Last,
    ),
    metric(
        "checkouts_conversion",
        "Checkouts Conversion Rate",
        Unit::Percentage,
        Total::Own,
    ),
    metric("ltv", "Lifetime Value", Unit::Currency, Total::Last),
    metric("gross_margin", "Gross Margin", Unit::Currency, Total::Last),
    metric(
        "gross_margin_percentage",
        "Gross Margin %",
        Unit::Percentage,
        Total::Last,
    ),
    metric("cashflow", "Cashflow", Unit::Currency, Total::Sum),
    metric(
        "average_seats_per_customer",
        "Average Seats per Customer",
        Unit::Scalar,
        Total::Last,
    ),
    metric(
        "seat_utilization_rate",
        "Seat Utilization Rate",
        Unit::Percentage,
        Total::Last,
    ),
];

/// The metric named `slug`, with its place in [`METRICS`].
pub fn find(slug: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.slug == slug)
}

/// Whether `slug` names one of the contract's metrics.
pub fn known(slug: &str) -> bool {
    find(slug).is_some()
}
