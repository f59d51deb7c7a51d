"""Usage charged in arrears, through the official Python SDK: a subscription's metered prices
are billed at the end of each period from what the customer used, minus its meter credits
(with rollover), capped, rounded once half away from zero.

The property: for random meters (count, sum, max, unique), rates, caps, credits and usage
over several periods, in random time zones, each renewal's usage line equals what
`GET /v1/meters/{id}/quantities` reports for the same customer and period, less the credits
of the period, priced by the model below. Time moves on floe's test clock."""

import random
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from test_mail import wait_for
from test_subscriptions import Shop, shop, server, ts  # noqa: F401 (fixtures)

AGGREGATIONS = [
    {"func": "count"},
    {"func": "sum", "property": "tokens"},
    {"func": "max", "property": "tokens"},
    {"func": "unique", "property": "user"},
]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]


def half_away(exact):
    """Python's ROUND_HALF_UP rounds half away from zero (floe's one rule)."""
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_of(unit_amount, cap, billable):
    amount = half_away(Decimal(unit_amount) * Decimal(repr(billable)))
    return min(amount, cap) if cap is not None else amount


def metered_product(shop, meter, unit_amount, cap, credit=None, **extra):
    metered = {"amount_type": "metered_unit", "meter_id": meter.id, "unit_amount": unit_amount}
    if cap is not None:
        metered["cap_amount"] = cap
    product = shop.polar.products.create(
        name=f"Metered {uuid.uuid4().hex[:6]}", recurring_interval="month",
        prices=[{"amount_type": "fixed", "price_amount": 1000}, metered], **extra)
    if credit is not None:
        units, rollover = credit
        benefit = shop.polar.benefits.create(
            type="meter_credit", description=f"{units} credits",
            properties={"meter_id": meter.id, "units": units, "rollover": rollover})
        shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    return product


def api_meter(shop, aggregation):
    return shop.polar.meters.create(
        name=f"usage {uuid.uuid4().hex[:6]}",
        filter={"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "api.call"}]},
        aggregation=aggregation)


def usage_lines(order):
    return [item for item in order.items if "units used" in item.label]


CREDITS = [(0, False), (30, True), (5, False), (8, True)]


@pytest.mark.parametrize("seed", range(8))
def test_usage_charged_in_arrears_equals_the_meter_quantities(shop, seed):
    rng = random.Random(seed)
    aggregation = AGGREGATIONS[seed % len(AGGREGATIONS)]
    unit_amount = rng.choice(["0.5", "1", "2.25", "13", "0.001"])
    cap = rng.choice([None, 100, 2000])
    # Each aggregation meets two kinds of credit: none or plain, rollover small or large.
    units, rollover = CREDITS[(seed * 3) % len(CREDITS)]
    zone = rng.choice(ZONES)
    meter = api_meter(shop, aggregation)
    product = metered_product(shop, meter, unit_amount, cap, (units, rollover) if units else None)
    subscription = shop.subscribe(product, email=f"usage-{seed}-{uuid.uuid4().hex[:4]}@example.com")
    customer_id = subscription.customer_id
    other = shop.polar.customers.create(email=f"other-{uuid.uuid4().hex[:6]}@example.com")
    if units:
        # The first credit is granted with the subscription, in its first period.
        wait_for(lambda: shop.polar.benefit_grants.list(customer_id=customer_id, is_granted=True).items,
                 "the meter credit's grant")

    carried = 0
    for period in range(3):
        current = shop.polar.subscriptions.get(subscription.id)
        start, end = ts(current.current_period_start), ts(current.current_period_end)
        # Usage well inside the period (a day's margin from each end in any time zone, so
        # that the daily series below has the period's events and only them).
        shop.advance(end - timedelta(days=2))
        span = (end - timedelta(days=2, minutes=1)) - (start + timedelta(hours=26))
        events = []
        for _ in range(rng.randint(0, 25)):
            at = start + timedelta(hours=26) + span * rng.random()
            events.append({"name": "api.call", "customer_id": customer_id, "timestamp": at.isoformat(),
                           "metadata": {"tokens": rng.randint(1, 40), "user": f"u{rng.randint(1, 6)}"}})
        # Noise: another event name, and another customer's use of the same meter.
        events.append({"name": "other.call", "customer_id": customer_id, "timestamp": (start + timedelta(days=1, hours=3)).isoformat(),
                       "metadata": {"tokens": 1000, "user": "x"}})
        events.append({"name": "api.call", "customer_id": other.id, "timestamp": (start + timedelta(days=1, hours=3)).isoformat(),
                       "metadata": {"tokens": 1000, "user": "y"}})
        shop.polar.events.ingest(events=events)

        quantities = shop.polar.meters.quantities(
            meter.id, start_timestamp=start.isoformat(), end_timestamp=(end - timedelta(microseconds=1)).isoformat(),
            interval="day", timezone=zone, customer_id=customer_id)
        used = quantities.total
        credited = units + carried
        billable = max(0.0, used - credited)
        expected = price_of(unit_amount, cap, billable)

        # The subscription shows the period's use so far.
        shown = shop.polar.subscriptions.get(subscription.id)
        [meter_shown] = shown.meters
        assert (meter_shown.meter_id, meter_shown.consumed_units) == (meter.id, pytest.approx(used))
        assert (meter_shown.credited_units, meter_shown.amount) == (credited, expected), (seed, period)

        shop.advance(end + timedelta(minutes=1))
        orders = shop.orders(subscription.id)
        renewal = [o for o in orders if o.billing_reason == "subscription_cycle"][-1]
        [line] = usage_lines(renewal)
        assert line.amount == expected, (seed, period, used, credited, unit_amount, cap)
        assert line.product_price_id == [p.id for p in product.prices if p.amount_type == "metered_unit"][0]
        assert ts(line.start_timestamp) == start and ts(line.end_timestamp) == end
        fixed = [i for i in renewal.items if i not in usage_lines(renewal)]
        assert [i.amount for i in fixed] == [1000] and ts(fixed[0].start_timestamp) == end
        assert renewal.total_amount == 1000 + expected and renewal.status == "paid"

        rollover_credits = (units if rollover else 0) + carried
        balance = credited - used
        carried = max(0, min(int(balance // 1), rollover_credits)) if balance > 0 else 0

    # The customer meter starts each period afresh: this period's credits, nothing used.
    if units:
        wait_for(lambda: [m for m in shop.polar.customer_meters.list(customer_id=customer_id).items
                          if m.meter.id == meter.id and m.credited_units == units + carried],
                 "the renewed credit")


def test_the_last_period_of_a_canceled_subscription_is_billed_for_its_usage(shop):
    meter = api_meter(shop, {"func": "sum", "property": "tokens"})
    product = metered_product(shop, meter, "2", None)
    used = shop.subscribe(product, email=f"last-{uuid.uuid4().hex[:4]}@example.com")
    idle = shop.subscribe(product, email=f"idle-{uuid.uuid4().hex[:4]}@example.com")
    for subscription in (used, idle):
        shop.polar.subscriptions.update(subscription.id, cancel_at_period_end=True)
    start, end = ts(used.current_period_start), ts(used.current_period_end)
    shop.advance(start + timedelta(days=3))
    shop.polar.events.ingest(events=[{"name": "api.call", "customer_id": used.customer_id, "metadata": {"tokens": 21}}])
    shop.advance(end + timedelta(days=1))

    ended = shop.polar.subscriptions.get(used.id)
    assert ended.status == "canceled" and ended.ended_at is not None
    orders = shop.orders(used.id)
    assert [o.billing_reason for o in orders] == ["subscription_create", "subscription_cycle"]
    last = orders[-1]
    assert (last.status, last.total_amount) == ("paid", 42)
    [line] = last.items
    assert line.amount == 42 and ts(line.start_timestamp) == start and ts(line.end_timestamp) == end
    # Without usage there is nothing to bill: no last order.
    assert [o.billing_reason for o in shop.orders(idle.id)] == ["subscription_create"]


def test_usage_during_a_trial_is_free(shop):
    meter = api_meter(shop, {"func": "count"})
    product = metered_product(shop, meter, "100", None, trial_interval="day", trial_interval_count=7)
    subscription = shop.subscribe(product, email=f"trial-{uuid.uuid4().hex[:4]}@example.com")
    assert subscription.status == "trialing"
    trial_end = ts(subscription.trial_end)
    shop.advance(trial_end - timedelta(days=1))
    shop.polar.events.ingest(events=[{"name": "api.call", "customer_id": subscription.customer_id} for _ in range(3)])
    shown = shop.polar.subscriptions.get(subscription.id)
    assert (shown.meters[0].consumed_units, shown.meters[0].amount) == (3, 0)
    shop.advance(trial_end + timedelta(minutes=1))
    orders = shop.orders(subscription.id)
    first_paid = orders[-1]
    assert first_paid.billing_reason == "subscription_cycle"
    assert usage_lines(first_paid) == [] and first_paid.total_amount == 1000
    # The meter starts afresh when the trial ends.
    shown = shop.polar.subscriptions.get(subscription.id)
    assert shown.meters[0].consumed_units == 0


def test_paid_renewals_cycle_the_grants_with_their_webhooks(shop):
    from polar.v2026_10.webhooks import validate_event
    from receiver import Receiver

    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw", events=["benefit_grant.cycled", "subscription.updated"])
        meter = api_meter(shop, {"func": "count"})
        product = metered_product(shop, meter, "10", None, credit=(4, False))
        subscription = shop.subscribe(product, email=f"cycled-{uuid.uuid4().hex[:4]}@example.com")
        [grant] = wait_for(lambda: shop.polar.benefit_grants.list(customer_id=subscription.customer_id, is_granted=True).items,
                           "the grant")
        end = ts(subscription.current_period_end)
        shop.advance(end + timedelta(days=40))  # two renewals

        def cycled_deliveries():
            return [d for d in receiver.accepted() if d.json.get("type") == "benefit_grant.cycled"]

        wait_for(lambda: len(cycled_deliveries()) >= 2, "two benefit_grant.cycled deliveries")
        cycled = []
        for delivery in cycled_deliveries():
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            cycled.append(validate_event(delivery.body, headers, endpoint.secret))
        assert len(cycled) == 2 and {c.data.id for c in cycled} == {grant.id}
        assert all(c.data.is_granted for c in cycled)
        # Each renewal credited the meter again: 4 units in the current period.
        meters = shop.polar.customer_meters.list(customer_id=subscription.customer_id).items
        assert [(m.meter.id, m.credited_units, m.consumed_units) for m in meters] == [(meter.id, 4, 0)]
    finally:
        receiver.stop()


def test_a_year_of_monthly_renewals_bills_each_months_usage(shop):
    """The issue's year on the test clock: a monthly subscription with a metered price has 13
    paid orders after 12 months, and each renewal bills the month that ended."""
    meter = api_meter(shop, {"func": "count"})
    product = metered_product(shop, meter, "10", None)
    subscription = shop.subscribe(product, email=f"year-usage-{uuid.uuid4().hex[:4]}@example.com")
    used_each_month = [(month * 7) % 5 + 1 for month in range(12)]
    for used in used_each_month:
        current = shop.polar.subscriptions.get(subscription.id)
        shop.advance(ts(current.current_period_start) + timedelta(days=2))
        shop.polar.events.ingest(events=[{"name": "api.call", "customer_id": subscription.customer_id}
                                         for _ in range(used)])
        shop.advance(ts(current.current_period_end) + timedelta(minutes=1))
    orders = shop.orders(subscription.id)
    assert [o.billing_reason for o in orders] == ["subscription_create"] + ["subscription_cycle"] * 12
    assert all(o.status == "paid" for o in orders)
    assert [[line.amount for line in usage_lines(o)] for o in orders[1:]] == [[10 * u] for u in used_each_month]
    assert [o.total_amount for o in orders[1:]] == [1000 + 10 * u for u in used_each_month]
