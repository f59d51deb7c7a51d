"""Unit tests of the metrics reference model (metrics_model.py) on its own, no server: the
worked examples of docs/research/polar-metrics.md and docs/metrics.md."""

from datetime import UTC, date, datetime

import pytest

import metrics_model as model


def ts(text: str) -> datetime:
    """A UTC instant from `YYYY-MM-DD[THH:MM]`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


PRODUCTS = [
    {"id": "p_rec", "billing_type": "recurring"},
    {"id": "p_one", "billing_type": "one_time"},
]


def subscription(id, customer_id, **fields):
    created = ts(fields.pop("created", "2024-01-01"))
    return {
        "id": id,
        "created_at": created,
        "started_at": created,
        "ended_at": None,
        "ends_at": None,
        "canceled_at": None,
        "customer_cancellation_reason": None,
        "amount": 1000,
        "recurring_interval": "month",
        "recurring_interval_count": 1,
        "trial_end": None,
        "customer_id": customer_id,
        "product_id": "p_rec",
        **fields,
    }


def order(id, created, net_amount, customer_id="c1", **fields):
    return {
        "id": id,
        "created_at": ts(created),
        "status": "paid",
        "net_amount": net_amount,
        "platform_fee_amount": 0,
        "subscription_id": None,
        "product_id": "p_one",
        "customer_id": customer_id,
        **fields,
    }


def event(when, cost=None, customer_id=None, external_customer_id=None):
    return {
        "timestamp": ts(when),
        "customer_id": customer_id,
        "external_customer_id": external_customer_id,
        "cost": cost,
    }


def history(**tables):
    return {"products": PRODUCTS, "customers": [], **tables}


def series(result, slug):
    return [p[slug] for p in result["periods"]]


# ----------------------------------------------------------------------------------------
# Periods


@pytest.mark.parametrize(
    ("interval", "count"), [("year", 1), ("month", 12), ("week", 53), ("day", 366), ("hour", 8784)]
)
def test_period_counts_over_2024(interval, count):
    assert len(model.period_starts(date(2024, 1, 1), date(2024, 12, 31), interval)) == count


def test_first_period_is_truncated_to_its_interval():
    starts = model.period_starts("2024-01-11", "2024-06-15", "month")
    assert len(starts) == 6
    assert starts[0] == ts("2024-01-01")
    # Weeks start on Monday: 2024-01-03 is a Wednesday.
    assert model.period_starts("2024-01-03", "2024-01-20", "week")[0] == ts("2024-01-01")
    assert model.period_starts("2024-05-05", "2025-01-01", "year") == [ts("2024-01-01"), ts("2025-01-01")]


def test_timestamps_are_local_starts_in_utc():
    assert model.period_starts("2024-01-01", "2024-01-02", "day", "Europe/Paris")[0] == ts("2023-12-31T23:00")
    hours = model.period_starts("2024-01-01", "2024-01-01", "hour", "Asia/Kolkata")
    assert len(hours) == 24
    assert hours[0] == ts("2023-12-31T18:30")
    assert {t.minute for t in hours} == {30}


def test_local_days_follow_daylight_saving_time():
    days = model.period_starts("2024-03-30", "2024-04-01", "day", "Europe/Paris")
    assert days == [ts("2024-03-29T23:00"), ts("2024-03-30T23:00"), ts("2024-03-31T22:00")]
    assert len(model.period_starts("2024-03-31", "2024-03-31", "hour", "Europe/Paris")) == 23
    assert len(model.period_starts("2024-10-27", "2024-10-27", "hour", "Europe/Paris")) == 25
    months = model.period_starts("2024-01-01", "2024-12-31", "month", "America/New_York")
    assert months[2] == ts("2024-03-01T05:00") and months[3] == ts("2024-04-01T04:00")


# ----------------------------------------------------------------------------------------
# Subscriptions and recurring revenue


def test_mrr_and_arpu_of_a_monthly_and_a_yearly_subscription():
    h = history(
        subscriptions=[
            subscription("s1", "c1", amount=10000),
            subscription("s2", "c2", amount=100000, recurring_interval="year"),
        ]
    )
    r = model.compute(h, "2024-01-01", "2024-03-31", "month")
    assert series(r, "monthly_recurring_revenue") == [18333] * 3
    assert series(r, "average_revenue_per_user") == [9167] * 3  # 9166.5 rounds away from zero
    assert series(r, "annual_recurring_revenue") == [219996] * 3
    assert series(r, "committed_monthly_recurring_revenue") == [18333] * 3
    assert series(r, "active_subscriptions") == [2] * 3
    assert r["totals"]["monthly_recurring_revenue"] == 18333
    assert r["totals"]["committed_annual_recurring_revenue"] == 219996


def test_monthly_amount_normalisation_and_rounding():
    def sub(amount, interval, count):
        return {"amount": amount, "recurring_interval": interval, "recurring_interval_count": count}

    assert model.monthly(sub(1000, "week", 2)) == 2167  # 1000 × 52 / 24
    assert model.monthly(sub(100, "day", 1)) == 3042  # 100 × 365 / 12 = 3041.67
    assert model.monthly(sub(30000, "month", 3)) == 10000
    assert model.monthly(sub(6, "year", 1)) == 1  # 0.5 rounds up
    assert model.monthly(sub(5, "year", 1)) == 0


def test_trial_counts_in_trial_mrr_until_the_period_it_ends_in():
    h = history(subscriptions=[subscription("s1", "c1", amount=5000, trial_end=ts("2024-03-01"))])
    r = model.compute(h, "2024-01-01", "2024-04-30", "month")
    assert series(r, "trial_monthly_recurring_revenue") == [5000, 5000, 0, 0]
    assert series(r, "trial_committed_monthly_recurring_revenue") == [5000, 5000, 0, 0]
    assert series(r, "monthly_recurring_revenue") == [0, 0, 5000, 5000]
    # ARPU divides MRR by every customer, trialing ones included.
    assert series(r, "average_revenue_per_user") == [0, 0, 5000, 5000]


def test_scheduled_end_drops_out_in_its_period_and_is_not_committed():
    h = history(subscriptions=[subscription("s1", "c1", ends_at=ts("2024-03-15"), canceled_at=ts("2024-01-20"))])
    r = model.compute(h, "2024-01-01", "2024-04-30", "month")
    assert series(r, "active_subscriptions") == [1, 1, 0, 0]
    assert series(r, "committed_subscriptions") == [0, 0, 0, 0]
    assert series(r, "committed_monthly_recurring_revenue") == [0, 0, 0, 0]
    assert series(r, "monthly_recurring_revenue") == [1000, 1000, 0, 0]
    assert series(r, "churned_subscriptions") == [0, 0, 1, 0]
    assert series(r, "canceled_subscriptions") == [1, 0, 0, 0]
    assert r["totals"]["churned_subscriptions"] == 1


def test_subscription_starting_after_the_range_is_not_active_in_its_last_period():
    h = history(subscriptions=[subscription("s1", "c1", created="2024-01-20")])
    r = model.compute(h, "2024-01-01", "2024-01-15", "month")
    assert series(r, "active_subscriptions") == [0]
    assert series(r, "new_subscriptions") == [0]


# ----------------------------------------------------------------------------------------
# Churn


def churn_history():
    subs = [subscription(f"s{i}", f"c{i}", created="2023-12-01") for i in range(4)]
    subs.append(
        subscription("s4", "c4", created="2023-12-01", canceled_at=ts("2024-02-01T10:00"), ends_at=ts("2024-03-01"))
    )
    return history(subscriptions=subs)


def test_churn_rate_over_the_30_days_before_each_day():
    r = model.compute(churn_history(), "2024-01-25", "2024-03-05", "day")
    by_day = {p["timestamp"].date(): p["churn_rate"] for p in r["periods"]}
    assert by_day[date(2024, 2, 1)] == 0
    assert by_day[date(2024, 2, 2)] == pytest.approx(0.2)
    assert by_day[date(2024, 3, 2)] == pytest.approx(0.2)
    assert by_day[date(2024, 3, 3)] == 0
    assert all(by_day[date(2024, 2, d)] == pytest.approx(0.2) for d in range(2, 30))
    assert r["totals"]["churn_rate"] == 0


def test_ltv_is_arpu_over_churn_truncated():
    r = model.compute(churn_history(), "2024-01-25", "2024-03-05", "day")
    by_day = {p["timestamp"].date(): p for p in r["periods"]}
    assert by_day[date(2024, 2, 2)]["average_revenue_per_user"] == 1000
    assert by_day[date(2024, 2, 2)]["ltv"] == 5000  # 1000 / 0.2
    assert by_day[date(2024, 3, 2)]["active_subscriptions"] == 4  # s4 ended on March 1
    assert by_day[date(2024, 3, 2)]["ltv"] == 5000
    assert by_day[date(2024, 3, 3)]["ltv"] == 0  # no churn, no ltv


def test_yearly_churn_window_is_the_year_itself():
    r = model.compute(churn_history(), "2024-01-01", "2024-12-31", "year")
    assert series(r, "churn_rate") == [pytest.approx(0.2)]


def test_cancellation_reasons_add_up():
    reasons = ["too_expensive", "too_expensive", "unused", "other", None, "customer_service"]
    subs = [
        subscription(f"s{i}", "c1", canceled_at=ts("2024-01-10"), customer_cancellation_reason=reason)
        for i, reason in enumerate(reasons)
    ]
    r = model.compute(history(subscriptions=subs), "2024-01-01", "2024-01-31", "month")
    totals = r["totals"]
    assert totals["canceled_subscriptions"] == 6
    assert totals["canceled_subscriptions_too_expensive"] == 2
    assert totals["canceled_subscriptions_unused"] == 1
    assert totals["canceled_subscriptions_customer_service"] == 1
    assert totals["canceled_subscriptions_other"] == 2
    assert sum(v for k, v in totals.items() if k.startswith("canceled_subscriptions_")) == 6


# ----------------------------------------------------------------------------------------
# Orders and revenue


def revenue_history():
    return history(
        subscriptions=[subscription("s1", "c1"), subscription("s2", "c2")],
        orders=[
            order("o0", "2023-06-01", 10000),
            order("o1", "2024-01-01T09:00", 20000),
            order("o2", "2024-01-01T10:00", 50000, subscription_id="s1", product_id="p_rec"),
            order("o3", "2024-01-01T11:00", 50000, "c2", subscription_id="s2", product_id="p_rec"),
            order("o4", "2024-02-01T10:00", 50000, subscription_id="s1", product_id="p_rec"),
            order("o5", "2024-01-01T12:00", 99999, status="pending"),
            order("o6", "2024-01-01T12:00", 99999, status="void"),
        ],
    )


def test_orders_revenue_new_and_renewed_by_day():
    r = model.compute(revenue_history(), "2024-01-01", "2024-02-01", "day")
    jan1, feb1 = r["periods"][0], r["periods"][31]
    assert (jan1["orders"], jan1["revenue"], jan1["cumulative_revenue"]) == (3, 120000, 130000)
    assert jan1["average_order_value"] == 40000
    assert jan1["one_time_products"] == 1 and jan1["one_time_products_revenue"] == 20000
    assert jan1["new_subscriptions"] == 2
    assert jan1["new_subscriptions_revenue"] == 100000
    assert jan1["renewed_subscriptions"] == 0
    assert (feb1["renewed_subscriptions"], feb1["renewed_subscriptions_revenue"]) == (1, 50000)
    assert feb1["new_subscriptions_revenue"] == 0
    assert feb1["cumulative_revenue"] == 180000
    assert r["totals"]["orders"] == 4
    assert r["totals"]["average_order_value"] == pytest.approx(170000 / 4)


def test_orders_before_start_date_are_only_in_the_cumulative_baseline():
    r = model.compute(revenue_history(), "2024-01-11", "2024-06-15", "month")
    jan = r["periods"][0]
    assert jan["timestamp"] == ts("2024-01-01")
    assert (jan["orders"], jan["revenue"], jan["cumulative_revenue"]) == (0, 0, 130000)
    # new_subscriptions alone counts from the truncated start of the series.
    assert jan["new_subscriptions"] == 2
    assert series(r, "cumulative_revenue") == [130000, 180000, 180000, 180000, 180000, 180000]
    assert r["totals"]["cumulative_revenue"] == 180000


def test_year_interval_counts_a_renewal_in_the_start_year_as_new():
    h = history(
        subscriptions=[subscription("s1", "c1", created="2024-01-10")],
        orders=[
            order("o1", "2024-01-10", 1000, subscription_id="s1", product_id="p_rec"),
            order("o2", "2024-02-10", 1000, subscription_id="s1", product_id="p_rec"),
        ],
    )
    yearly = model.compute(h, "2024-01-01", "2024-12-31", "year")
    assert series(yearly, "new_subscriptions_revenue") == [2000]
    assert series(yearly, "renewed_subscriptions") == [0]
    monthly = model.compute(h, "2024-01-01", "2024-02-29", "month")
    assert series(monthly, "renewed_subscriptions") == [0, 1]
    assert series(monthly, "renewed_subscriptions_revenue") == [0, 1000]


def test_refunds_fees_and_lost_disputes():
    h = history(
        orders=[
            order("o1", "2024-01-10", 10000, platform_fee_amount=100, status="partially_refunded"),
            order("o2", "2024-01-20", 10001),
        ],
        refunds=[
            {"order_id": "o1", "amount": 3000, "status": "succeeded"},
            {"order_id": "o1", "amount": 5000, "status": "failed"},
        ],
        disputes=[
            {"order_id": "o2", "amount": 10001, "status": "lost", "closed_at": ts("2024-02-05")},
            {"order_id": "o1", "amount": 500, "status": "won", "closed_at": ts("2024-02-06")},
        ],
    )
    r = model.compute(h, "2024-01-01", "2024-02-29", "month")
    assert series(r, "revenue") == [20001, 0]
    # Refunds in the order's period, the lost dispute in the period it was lost.
    assert series(r, "net_revenue") == [16901, -10001]
    assert series(r, "net_cumulative_revenue") == [16901, 6900]
    assert series(r, "cumulative_revenue") == [20001, 20001]
    assert series(r, "average_order_value") == [10001, 0]  # ceil(20001 / 2)
    assert series(r, "net_average_order_value") == [8451, 0]  # ceil(16901 / 2), no dispute
    assert series(r, "one_time_products_net_revenue") == [16901, 0]
    assert r["totals"]["net_revenue"] == 6900
    assert r["totals"]["net_average_order_value"] == pytest.approx(3450.0)


# ----------------------------------------------------------------------------------------
# Costs, margin and cashflow


def test_cost_per_user_and_active_users():
    h = history(
        events=[
            event("2024-01-05", 0.50, "c1"),
            event("2024-01-06", 0.30, "c2"),
            event("2024-02-05", 0.10, "c1"),
            event("2024-02-06", 0.10, "c2"),
        ]
    )
    r = model.compute(h, "2024-01-01", "2024-02-29", "month")
    assert series(r, "costs") == pytest.approx([0.8, 0.2])
    assert series(r, "cumulative_costs") == pytest.approx([0.8, 1.0])
    assert series(r, "active_user_by_event") == [2, 2]
    assert series(r, "cost_per_user") == pytest.approx([0.4, 0.1])
    assert r["totals"]["cost_per_user"] == pytest.approx(0.5)  # 1.0 over the last period's 2 users
    assert r["totals"]["active_user_by_event"] == 2


def test_active_users_count_ids_and_external_ids_apart():
    h = history(
        events=[
            event("2024-01-05", None, "c1", "ext-1"),  # counted once as each
            event("2024-01-06", None, "c1"),
            event("2024-01-07", None, None, "ext-2"),
            event("2024-01-08"),  # no customer at all
        ]
    )
    r = model.compute(h, "2024-01-01", "2024-01-31", "month")
    assert series(r, "active_user_by_event") == [3]
    assert series(r, "costs") == [0.0]


def test_gross_margin_uses_cumulative_revenue_and_costs():
    h = history(
        orders=[order("o1", "2024-01-15", 10000), order("o2", "2024-02-15", 10000)],
        events=[event("2024-01-16", 25.0, "c1"), event("2024-02-16", 15.0, "c1")],
    )
    r = model.compute(h, "2024-01-01", "2024-03-31", "month")
    assert series(r, "gross_margin") == pytest.approx([9975, 19960, 19960])
    assert series(r, "gross_margin_percentage") == pytest.approx([0.9975, 0.998, 0.998])
    assert series(r, "cashflow") == pytest.approx([9975, 9985, 0])
    assert r["totals"]["gross_margin"] == pytest.approx(19960)
    assert r["totals"]["cashflow"] == pytest.approx(19960)


# ----------------------------------------------------------------------------------------
# Seats


def seat(created, claimed=None, revoked=None, subscription_id=None, order_id=None):
    return {
        "created_at": ts(created),
        "claimed_at": ts(claimed) if claimed else None,
        "revoked_at": ts(revoked) if revoked else None,
        "subscription_id": subscription_id,
        "order_id": order_id,
    }


def test_seats_example():
    h = history(
        subscriptions=[subscription("s1", "c1")],
        orders=[order("o1", "2024-02-01", 5000, "c1")],
        seats=[
            seat("2024-01-01", claimed="2024-01-01", subscription_id="s1"),  # A
            seat("2024-01-15", claimed="2024-01-20", subscription_id="s1"),  # B
            seat("2024-01-01", subscription_id="s1"),  # C, pending
            seat("2024-01-01", claimed="2024-01-02", revoked="2024-02-15", subscription_id="s1"),  # D
            seat("2024-02-10", order_id="o1"),  # E, same billing customer through the order
        ],
    )
    r = model.compute(h, "2024-01-01", "2024-02-29", "month")
    jan, feb = r["periods"]
    assert [jan[k] for k in ("seats_total", "seats_claimed", "seats_pending", "seat_customers")] == [4, 3, 1, 1]
    assert jan["new_seat_customers"] == 1
    assert jan["average_seats_per_customer"] == 4.0
    assert jan["seat_utilization_rate"] == 0.75
    assert [feb[k] for k in ("seats_total", "seats_claimed", "seats_pending", "seat_customers")] == [4, 2, 2, 1]
    assert feb["new_seat_customers"] == 0
    assert r["totals"]["new_seat_customers"] == 1
    assert r["totals"]["seats_total"] == 4


def test_churned_seat_customer_when_the_last_seat_is_revoked():
    h = history(
        subscriptions=[subscription("s1", "c1"), subscription("s2", "c2")],
        seats=[
            seat("2024-01-01", revoked="2024-01-10", subscription_id="s1"),
            seat("2024-01-01", revoked="2024-02-20", subscription_id="s1"),
            seat("2024-01-01", revoked="2024-02-20", subscription_id="s2"),
            seat("2024-01-01", subscription_id="s2"),
        ],
    )
    r = model.compute(h, "2024-01-01", "2024-03-31", "month")
    assert series(r, "churned_seat_customers") == [0, 1, 0]
    # A seat is gone from the period it is revoked in, so c1 holds none in February.
    assert series(r, "seat_customers") == [2, 1, 1]
    assert r["totals"]["churned_seat_customers"] == 1


# ----------------------------------------------------------------------------------------
# Bounds, filters and selection


def test_rows_outside_the_range_count_in_no_period():
    h = history(
        checkouts=[
            {"id": "k1", "created_at": ts("2024-01-01"), "status": "open", "product_ids": ["p_one"], "customer_id": None},
            {"id": "k2", "created_at": ts("2024-01-03"), "status": "succeeded", "product_ids": ["p_one"], "customer_id": None},
            {"id": "k3", "created_at": ts("2024-01-04"), "status": "open", "product_ids": ["p_one"], "customer_id": None},
            {"id": "k4", "created_at": ts("2024-01-20"), "status": "open", "product_ids": ["p_one"], "customer_id": None},
            {"id": "k5", "created_at": ts("2024-01-10"), "status": "open", "product_ids": [], "customer_id": None},
        ]
    )
    # Weeks of Wednesday 2024-01-03 to Saturday 2024-01-13: k1 is before, k4 after.
    r = model.compute(h, "2024-01-03", "2024-01-13", "week")
    assert series(r, "checkouts") == [2, 0]
    assert series(r, "succeeded_checkouts") == [1, 0]
    assert series(r, "checkouts_conversion") == [0.5, 0.0]
    assert r["totals"]["checkouts_conversion"] == 0.5


def test_billing_type_filter_is_applied_literally():
    h = {
        "products": [{"id": "p_rec", "billing_type": "recurring"}],
        "customers": [],
        "subscriptions": [subscription("s1", "c1")],
        "orders": [order("o1", "2024-01-05", 1000, product_id="p_rec", subscription_id="s1")],
    }
    one_time = model.compute(h, "2024-01-01", "2024-01-31", "month", billing_type=["one_time"])
    assert one_time["totals"]["active_subscriptions"] == 0
    assert one_time["totals"]["orders"] == 0
    recurring = model.compute(h, "2024-01-01", "2024-01-31", "month", billing_type=["recurring"])
    assert recurring["totals"]["active_subscriptions"] == 1
    assert recurring["totals"]["orders"] == 1


def test_product_filter_narrows_orders_subscriptions_and_checkouts_not_costs():
    h = history(
        subscriptions=[subscription("s1", "c1")],
        orders=[order("o1", "2024-01-05", 1000), order("o2", "2024-01-05", 700, product_id="p_rec")],
        checkouts=[
            {"id": "k1", "created_at": ts("2024-01-05"), "status": "open", "product_ids": ["p_rec", "p_one"], "customer_id": None},
        ],
        events=[event("2024-01-05", 1.5, "c1")],
    )
    r = model.compute(h, "2024-01-01", "2024-01-31", "month", product_id=["p_one"])
    assert r["totals"]["revenue"] == 1000
    assert r["totals"]["active_subscriptions"] == 0
    assert r["totals"]["checkouts"] == 1  # one of its products matches
    assert r["totals"]["costs"] == pytest.approx(1.5)


def test_customer_filter_matches_events_by_external_id():
    h = history(
        customers=[{"id": "c1", "external_id": "ext-1"}, {"id": "c2", "external_id": None}],
        events=[
            event("2024-01-05", 1.0, "c1"),
            event("2024-01-06", 2.0, None, "ext-1"),
            event("2024-01-07", 4.0, "c2"),
        ],
        orders=[order("o1", "2024-01-05", 1000, "c1"), order("o2", "2024-01-05", 2000, "c2")],
    )
    r = model.compute(h, "2024-01-01", "2024-01-31", "month", customer_id=["c1"])
    assert r["totals"]["costs"] == pytest.approx(3.0)
    assert r["totals"]["active_user_by_event"] == 2
    assert r["totals"]["revenue"] == 1000


def test_metrics_selection_answers_only_what_was_asked():
    full = model.compute(churn_history(), "2024-01-25", "2024-03-05", "day")
    only = model.compute(churn_history(), "2024-01-25", "2024-03-05", "day", metrics=["ltv", "orders"])
    assert set(only["totals"]) == {"ltv", "orders"}
    assert all(set(p) == {"timestamp", "ltv", "orders"} for p in only["periods"])
    assert series(only, "ltv") == series(full, "ltv")
    with pytest.raises(ValueError, match="Invalid metric slugs: nope"):
        model.compute({}, "2024-01-01", "2024-01-01", "day", metrics=["nope"])


def test_every_answer_has_the_55_slugs_in_contract_order():
    r = model.compute({}, "2024-01-01", "2024-01-02", "day")
    assert len(model.SLUGS) == 55
    assert list(r["totals"]) == model.SLUGS
    assert list(r["periods"][0]) == ["timestamp", *model.SLUGS]
    assert all(v == 0 for v in r["totals"].values())


# ----------------------------------------------------------------------------------------
# compare()


def as_json(result):
    """The model's answer as a server would send it."""
    return {
        "periods": [{**p, "timestamp": p["timestamp"].isoformat().replace("+00:00", "Z")} for p in result["periods"]],
        "totals": dict(result["totals"]),
        "metrics": {slug: {"slug": slug} for slug in result["totals"]},
    }


def test_compare_accepts_the_same_answer_with_numeric_leeway():
    expected = model.compute(revenue_history(), "2024-01-01", "2024-01-03", "day")
    actual = as_json(expected)
    actual["periods"][0]["orders"] = 3.0  # an integer sent as a float
    actual["totals"]["average_order_value"] += 1e-9
    assert model.compare(expected, actual) == []


def test_compare_lists_each_difference():
    expected = model.compute(revenue_history(), "2024-01-01", "2024-01-03", "day")
    actual = as_json(expected)
    actual["periods"][0]["revenue"] += 1
    actual["periods"][1]["timestamp"] = "2024-01-02T01:00:00Z"
    del actual["periods"][2]["orders"]
    actual["totals"]["costs"] = 0.01
    actual["totals"]["surprise"] = 1
    problems = model.compare(expected, actual)
    assert len(problems) == 5, problems
    assert any("revenue expected 120000, got 120001" in p for p in problems)
    assert any("timestamp" in p for p in problems)
    assert any("orders missing" in p for p in problems)
    assert any("surprise not asked for" in p for p in problems)
    assert model.compare(expected, {**actual, "periods": actual["periods"][:2]})[0] == "periods: expected 3, got 2"
