"""A meter cycle apart from the billing cycle (a product's `meter_interval`), through the
official Python SDK: a yearly plan whose usage is billed, and whose meter credits renew,
every month, in `subscription_meter_cycle` orders; the last meter period is billed with the
renewal; a meter period's failed charge is dunned alone; while the subscription is past due
the meter periods pass without billing, and the usage waits for the first one after it
recovers. Time moves on floe's test clock."""

import uuid
from datetime import timedelta

import pytest
from polar.v2026_10.errors import HTTPValidationError

from test_mail import wait_for
from test_subscription_usage import api_meter
from test_subscriptions import Shop, shop, server, ts  # noqa: F401 (fixtures)

METER_CYCLE = "subscription_meter_cycle"


def enable_meter_cycles(shop):
    shop.server.cli("organization", "feature", "--organization", shop.organization["slug"],
                    "--name", "meter_cycling_enabled", "--enabled", "true")


def product_with_meter_cycle(shop, meter, *, interval, count, meter_interval, fixed, unit_amount, credit=None):
    product = shop.polar.products.create(
        name=f"Cycled {uuid.uuid4().hex[:6]}", recurring_interval=interval, recurring_interval_count=count,
        meter_interval=meter_interval,
        prices=[{"amount_type": "fixed", "price_amount": fixed},
                {"amount_type": "metered_unit", "meter_id": meter.id, "unit_amount": unit_amount}])
    if credit is not None:
        benefit = shop.polar.benefits.create(
            type="meter_credit", description=f"{credit} credits",
            properties={"meter_id": meter.id, "units": credit, "rollover": False})
        shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    return product


def calls(shop, customer_id, count):
    if count:
        shop.polar.events.ingest(events=[{"name": "api.call", "customer_id": customer_id} for _ in range(count)])


def near(at, expected):
    """A charge is made a moment after the clock reached its time."""
    return abs(ts(at) - expected) < timedelta(minutes=1)


def by_reason(shop, subscription_id, reason):
    return [o for o in shop.orders(subscription_id) if o.billing_reason == reason]


def test_a_meter_cycle_is_the_operators_to_allow_and_divides_the_billing_period(shop):
    meter = api_meter(shop, {"func": "count"})
    prices = [{"amount_type": "metered_unit", "meter_id": meter.id, "unit_amount": "1"}]
    with pytest.raises(HTTPValidationError) as refused:
        shop.polar.products.create(name="Yearly", recurring_interval="year", meter_interval="month", prices=prices)
    [error] = refused.value.error.detail
    assert list(error.loc) == ["body", "meter_interval"] and "not enabled" in error.msg

    enable_meter_cycles(shop)
    product = shop.polar.products.create(name="Yearly", recurring_interval="year", meter_interval="month",
                                         prices=prices)
    assert (product.meter_interval, product.meter_interval_count) == ("month", 1)
    # A week does not divide a month: the meter cycle would not meet the renewal.
    with pytest.raises(HTTPValidationError):
        shop.polar.products.create(name="Monthly", recurring_interval="month", meter_interval="week",
                                   prices=prices)
    # Without a meter cycle nothing changes: the meter period is the billing period.
    plain = shop.subscribe(shop.monthly(), email=f"plain-{uuid.uuid4().hex[:4]}@example.com")
    assert plain.current_meter_period_start is None and plain.current_meter_period_end is None


def test_a_yearly_plan_bills_its_usage_and_renews_its_credits_every_month(shop):
    enable_meter_cycles(shop)
    meter = api_meter(shop, {"func": "count"})
    product = product_with_meter_cycle(shop, meter, interval="year", count=1, meter_interval="month",
                                       fixed=12000, unit_amount="5", credit=3)
    subscription = shop.subscribe(product, email=f"yearly-{uuid.uuid4().hex[:4]}@example.com")
    customer_id = subscription.customer_id
    period_start, period_end = ts(subscription.current_period_start), ts(subscription.current_period_end)
    assert ts(subscription.current_meter_period_start) == period_start
    first_end = ts(subscription.current_meter_period_end)
    assert (first_end.year * 12 + first_end.month) - (period_start.year * 12 + period_start.month) == 1
    wait_for(lambda: shop.polar.benefit_grants.list(customer_id=customer_id, is_granted=True).items,
             "the meter credit's grant")

    used_each_month = [7, 2, 0, 4]
    expected_orders = []
    for used in used_each_month:
        current = shop.polar.subscriptions.get(subscription.id)
        start, end = ts(current.current_meter_period_start), ts(current.current_meter_period_end)
        # The billing period stays a year; only the meter clock moves.
        assert (ts(current.current_period_start), ts(current.current_period_end)) == (period_start, period_end)
        shop.advance(start + timedelta(days=3))
        calls(shop, customer_id, used)
        [shown] = shop.polar.subscriptions.get(subscription.id).meters
        assert (shown.consumed_units, shown.credited_units, shown.amount) == (used, 3, 5 * max(0, used - 3))

        shop.advance(end + timedelta(minutes=1))
        if used > 3:
            expected_orders.append((5 * (used - 3), start, end))
        orders = by_reason(shop, subscription.id, METER_CYCLE)
        assert [(o.total_amount, ts(o.items[0].start_timestamp), ts(o.items[0].end_timestamp)) for o in orders] \
            == expected_orders
        assert all(o.status == "paid" and len(o.items) == 1 for o in orders)
        after = shop.polar.subscriptions.get(subscription.id)
        assert ts(after.current_meter_period_start) == end and ts(after.current_meter_period_end) > end
        # The credit renewed with the meter period: 3 again, nothing used yet.
        [shown] = after.meters
        assert (shown.consumed_units, shown.credited_units) == (0, 3)

    # The last meter period is the renewal's: billed with the next year, dated with its month.
    shop.advance(period_end - timedelta(days=5))
    calls(shop, customer_id, 9)
    last_start = ts(shop.polar.subscriptions.get(subscription.id).current_meter_period_start)
    shop.advance(period_end + timedelta(minutes=1))
    [renewal] = by_reason(shop, subscription.id, "subscription_cycle")
    usage = [i for i in renewal.items if "units used" in i.label]
    assert [(i.amount, ts(i.start_timestamp), ts(i.end_timestamp)) for i in usage] == [(30, last_start, period_end)]
    assert renewal.total_amount == 12000 + 30 and renewal.status == "paid"
    # Eleven meter periods of the year were settled on their own (those with usage to charge).
    assert len(by_reason(shop, subscription.id, METER_CYCLE)) == len(expected_orders)
    renewed = shop.polar.subscriptions.get(subscription.id)
    assert ts(renewed.current_period_start) == period_end
    assert ts(renewed.current_meter_period_start) == period_end


def test_a_meter_periods_failed_charge_is_dunned_alone_and_usage_waits_while_past_due(shop):
    enable_meter_cycles(shop)
    # Retries ten days after each failure, twice: the dates below stay apart.
    shop.server.cli("organization", "dunning", "--organization", shop.organization["slug"], "--retry-days", "10,10")
    meter = api_meter(shop, {"func": "count"})
    # Two-week billing, weekly meter periods, a card that fails every charge after the first.
    product = product_with_meter_cycle(shop, meter, interval="week", count=2, meter_interval="week",
                                       fixed=1000, unit_amount="100")
    email = f"meter-dunning-{uuid.uuid4().hex[:4]}@example.com"
    subscription = shop.subscribe(product, card="pm_card_chargeCustomerFail", email=email)
    customer_id = subscription.customer_id
    start = ts(subscription.current_period_start)
    day = timedelta(days=1)

    shop.advance(start + day)
    calls(shop, customer_id, 4)
    shop.advance(start + 7 * day + timedelta(hours=1))
    [usage_order] = by_reason(shop, subscription.id, METER_CYCLE)
    assert (usage_order.total_amount, usage_order.status) == (400, "pending")
    assert near(usage_order.next_payment_attempt_at, start + 17 * day)
    # Its failure does not make the subscription past due: the period itself was paid.
    assert shop.polar.subscriptions.get(subscription.id).status == "active"

    # The renewal's charge fails too: now it is past due.
    shop.advance(start + 14 * day + timedelta(hours=1))
    assert shop.polar.subscriptions.get(subscription.id).status == "past_due"
    calls(shop, customer_id, 2)
    # A meter period ends while past due: no order, no reset; the usage waits.
    shop.advance(start + 21 * day + timedelta(hours=1))
    waiting = shop.polar.subscriptions.get(subscription.id)
    assert waiting.status == "past_due"
    assert ts(waiting.current_meter_period_start) == start + 21 * day
    assert len(by_reason(shop, subscription.id, METER_CYCLE)) == 1
    [shown] = waiting.meters
    assert (shown.consumed_units, shown.amount) == (2, 200)
    # The usage order's second failure (day 17) left the subscription as it was.
    assert near(shop.polar.orders.get(usage_order.id).next_payment_attempt_at, start + 27 * day)

    # The customer's card is replaced by one that works: the renewal's retry (day 24) makes
    # it active again, the usage order's (day 27) is paid.
    shop.server.sql(f"UPDATE payment_methods SET processor_id = 'pm_card_visa_{uuid.uuid4().hex[:16]}' "
                    f"WHERE customer_id IN (SELECT id FROM customers WHERE email = '{email}')")
    shop.advance(start + 24 * day + timedelta(hours=1))
    assert shop.polar.subscriptions.get(subscription.id).status == "active"
    calls(shop, customer_id, 1)
    shop.advance(start + 27 * day + timedelta(hours=1))
    assert shop.polar.orders.get(usage_order.id).status == "paid"
    # The period's end bills the usage that waited through the past-due week with the week
    # after, from the period's start.
    shop.advance(start + 28 * day + timedelta(hours=1))
    renewal = by_reason(shop, subscription.id, "subscription_cycle")[-1]
    usage = [i for i in renewal.items if "units used" in i.label]
    assert [(i.amount, ts(i.start_timestamp), ts(i.end_timestamp)) for i in usage] == \
        [(300, start + 14 * day, start + 28 * day)]
    assert len(by_reason(shop, subscription.id, METER_CYCLE)) == 1


def test_changing_plan_keeps_the_usage_not_billed_yet(shop):
    enable_meter_cycles(shop)
    meter = api_meter(shop, {"func": "count"})
    metered = {"amount_type": "metered_unit", "meter_id": meter.id, "unit_amount": "10"}
    plain = shop.polar.products.create(name="Plain", recurring_interval="month",
                                       prices=[{"amount_type": "fixed", "price_amount": 1000}, metered])
    daily = shop.polar.products.create(name="Daily", recurring_interval="month", meter_interval="day",
                                       prices=[{"amount_type": "fixed", "price_amount": 1000}, metered])
    yearly = shop.polar.products.create(name="Yearly", recurring_interval="year", meter_interval="month",
                                        prices=[{"amount_type": "fixed", "price_amount": 10000}, metered])
    subscription = shop.subscribe(plain, email=f"switch-{uuid.uuid4().hex[:4]}@example.com")
    customer_id = subscription.customer_id
    start = ts(subscription.current_period_start)
    day = timedelta(days=1)

    shop.advance(start + 2 * day)
    calls(shop, customer_id, 3)
    # To daily meter periods in the middle of the month: the clock starts on the day it is
    # in, and its first boundary bills the usage since the period's start.
    shop.advance(start + 9 * day + timedelta(hours=1))
    changed = shop.polar.subscriptions.update(subscription.id, product_id=daily.id, proration_behavior="prorate")
    assert ts(changed.current_meter_period_start) == start + 9 * day
    assert ts(changed.current_meter_period_end) == start + 10 * day
    shop.advance(start + 10 * day + timedelta(hours=1))
    [usage_order] = by_reason(shop, subscription.id, METER_CYCLE)
    [line] = usage_order.items
    assert (line.amount, ts(line.start_timestamp), ts(line.end_timestamp)) == (30, start, start + 10 * day)
    calls(shop, customer_id, 2)

    # A new interval starts a new period now (a reset): the usage since the last meter
    # boundary is not dropped, it is billed at the next boundary with what follows.
    shop.advance(start + 10 * day + timedelta(hours=5))
    reset = shop.polar.subscriptions.update(subscription.id, product_id=yearly.id, proration_behavior="invoice")
    reset_at = ts(reset.current_period_start)
    assert reset.recurring_interval == "year" and reset_at > start + 10 * day
    assert ts(reset.current_meter_period_start) == reset_at
    [shown] = reset.meters
    assert shown.consumed_units == 2
    calls(shop, customer_id, 1)
    shop.advance(ts(reset.current_meter_period_end) + timedelta(minutes=1))
    orders = by_reason(shop, subscription.id, METER_CYCLE)
    assert len(orders) == 2
    [line] = orders[-1].items
    assert (line.amount, ts(line.start_timestamp)) == (30, start + 10 * day)
