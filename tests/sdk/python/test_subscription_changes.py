"""Changes of a subscription's plan through the official Python SDK: another product, seats,
a discount, with each proration behaviour (`invoice`, `prorate`, `next_period`, `reset`), a
scheduled change (`pending_update`) and clearing it. Amounts are checked against the rule of
decision 0019, computed here independently: the unused part of the period credited
(`−old × remaining / period`), the new plan's part debited (`new × remaining / period`),
seconds, each line rounded once half away from zero."""

import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError

from contract import check_response
from test_subscriptions import ADDRESS, Shop, shop, server, ts  # noqa: F401 (fixtures)


def prorated(amount, remaining, period):
    return int((Decimal(amount) * Decimal(remaining) / Decimal(period)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def seconds(delta):
    return int(delta.total_seconds())


def plans(shop):
    small = shop.monthly(amount=3000)
    large = shop.monthly(amount=5000)
    return small, large


def patch(shop, subscription_id, body):
    answer = shop.raw("PATCH", f"/v1/subscriptions/{subscription_id}", json=body)
    check_response(answer)
    return answer


def proration_lines(order):
    return [item for item in order.items if item.proration]


def expected_lines(subscription, at, old, new):
    start, end = ts(subscription.current_period_start), ts(subscription.current_period_end)
    period, remaining = seconds(end - start), seconds(end - at)
    return prorated(-old, remaining, period), prorated(new, remaining, period)


def test_an_upgrade_invoiced_now(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, email=f"up-{uuid.uuid4().hex[:4]}@example.com")
    shop.advance(ts(subscription.current_period_start) + timedelta(days=11, hours=5))
    changed = shop.polar.subscriptions.update(subscription.id, product_id=large.id, proration_behavior="invoice")
    assert changed.product.id == large.id and changed.amount == 5000
    assert [p.id for p in changed.prices] == [large.prices[0].id]
    assert changed.current_period_end == subscription.current_period_end

    update = [o for o in shop.orders(subscription.id) if o.billing_reason == "subscription_update"]
    assert len(update) == 1 and update[0].status == "paid"
    credit, debit = proration_lines(update[0])
    at = ts(credit.start_timestamp)
    assert (credit.amount, debit.amount) == expected_lines(subscription, at, 3000, 5000)
    assert credit.amount < 0 < debit.amount and update[0].total_amount == credit.amount + debit.amount
    assert ts(credit.end_timestamp) == ts(subscription.current_period_end)
    payments = shop.polar.payments.list(order_id=update[0].id).items
    assert [(p.status, p.amount) for p in payments] == [("succeeded", update[0].total_amount)]

    # The next period is the new plan's, in full.
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    renewal = shop.orders(subscription.id)[-1]
    assert (renewal.billing_reason, renewal.total_amount, proration_lines(renewal)) == ("subscription_cycle", 5000, [])


def test_a_prorated_change_waits_for_the_next_renewal(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, email=f"pr-{uuid.uuid4().hex[:4]}@example.com")
    shop.advance(ts(subscription.current_period_start) + timedelta(days=7))
    changed = shop.polar.subscriptions.update(subscription.id, product_id=large.id, proration_behavior="prorate")
    assert changed.product.id == large.id
    assert [o.billing_reason for o in shop.orders(subscription.id)] == ["subscription_create"]

    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    renewal = shop.orders(subscription.id)[-1]
    credit, debit = proration_lines(renewal)
    assert (credit.amount, debit.amount) == expected_lines(subscription, ts(credit.start_timestamp), 3000, 5000)
    assert renewal.total_amount == 5000 + credit.amount + debit.amount and renewal.status == "paid"
    # Billed once: the renewal after has no proration left.
    shop.advance(ts(shop.polar.subscriptions.get(subscription.id).current_period_end) + timedelta(minutes=1))
    assert proration_lines(shop.orders(subscription.id)[-1]) == []


def test_the_organization_setting_is_the_default_behaviour(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, email=f"df-{uuid.uuid4().hex[:4]}@example.com")
    shop.polar.subscriptions.update(subscription.id, product_id=large.id)
    # `prorate` by default: nothing billed now.
    assert [o.billing_reason for o in shop.orders(subscription.id)] == ["subscription_create"]


def test_a_change_for_the_next_period_and_clearing_it(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, email=f"np-{uuid.uuid4().hex[:4]}@example.com")
    scheduled = shop.polar.subscriptions.update(subscription.id, product_id=large.id, proration_behavior="next_period")
    assert scheduled.product.id == small.id
    assert scheduled.pending_update.product_id == large.id
    assert scheduled.pending_update.applies_at == subscription.current_period_end
    cleared = shop.polar.subscriptions.update(subscription.id, pending_update=None)
    assert cleared.pending_update is None
    with pytest.raises(HTTPValidationError):
        shop.polar.subscriptions.update(subscription.id, pending_update=None)

    shop.polar.subscriptions.update(subscription.id, product_id=large.id, proration_behavior="next_period")
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    renewed = shop.polar.subscriptions.get(subscription.id)
    assert renewed.product.id == large.id and renewed.pending_update is None and renewed.amount == 5000
    renewal = shop.orders(subscription.id)[-1]
    assert (renewal.total_amount, proration_lines(renewal)) == (5000, [])


def test_a_reset_starts_a_new_period_now(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, email=f"rs-{uuid.uuid4().hex[:4]}@example.com")
    shop.advance(ts(subscription.current_period_start) + timedelta(days=10))
    changed = shop.polar.subscriptions.update(subscription.id, product_id=large.id, proration_behavior="reset")
    [update] = [o for o in shop.orders(subscription.id) if o.billing_reason == "subscription_update"]
    [credit] = proration_lines(update)
    at = ts(credit.start_timestamp)
    assert ts(changed.current_period_start) == at and ts(changed.current_period_end) > at + timedelta(days=27)
    assert credit.amount == expected_lines(subscription, at, 3000, 5000)[0]
    full = [i for i in update.items if not i.proration]
    assert [i.amount for i in full] == [5000] and update.total_amount == 5000 + credit.amount


def test_a_downgrade_credit_is_never_paid_out_but_carried(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(large, email=f"dn-{uuid.uuid4().hex[:4]}@example.com")
    shop.advance(ts(subscription.current_period_start) + timedelta(days=2))
    shop.polar.subscriptions.update(subscription.id, product_id=small.id, proration_behavior="invoice")
    # A change that nets a credit invoices nothing now.
    assert [o.billing_reason for o in shop.orders(subscription.id)] == ["subscription_create"]
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    renewal = shop.orders(subscription.id)[-1]
    credit, debit = proration_lines(renewal)[:2]
    net = credit.amount + debit.amount
    assert net < 0 and renewal.total_amount == max(0, 3000 + net)


def test_a_declined_upgrade_changes_nothing(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, card="pm_card_chargeCustomerFail", email=f"dc-{uuid.uuid4().hex[:4]}@example.com")
    answer = patch(shop, subscription.id, {"product_id": large.id, "proration_behavior": "invoice"})
    assert answer.status_code == 402 and answer.json()["error"] == "PaymentFailed"
    still = shop.polar.subscriptions.get(subscription.id)
    assert still.product.id == small.id and still.amount == 3000
    assert [o.billing_reason for o in shop.orders(subscription.id)] == ["subscription_create"]


def test_seats_up_and_down(shop):
    team = shop.polar.products.create(name="Team", recurring_interval="month", prices=[{
        "amount_type": "seat_based", "seat_tiers": {"seat_tier_type": "volume", "tiers": [
            {"min_seats": 1, "max_seats": 10, "price_per_seat": 1000}]}}])
    checkout = shop.polar.checkouts.create(products=[team.id], seats=3, customer_email=f"seats-{uuid.uuid4().hex[:4]}@example.com",
                                           customer_billing_address=ADDRESS)
    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    [subscription] = shop.polar.subscriptions.list(customer_id=confirmed.customer_id).items
    assert subscription.seats == 3 and subscription.amount == 3000
    shop.advance(ts(subscription.current_period_start) + timedelta(days=15))
    more = shop.polar.subscriptions.update(subscription.id, seats=5, proration_behavior="invoice")
    assert (more.seats, more.amount) == (5, 5000)
    [update] = [o for o in shop.orders(subscription.id) if o.billing_reason == "subscription_update"]
    credit, debit = proration_lines(update)
    assert (credit.amount, debit.amount) == expected_lines(subscription, ts(credit.start_timestamp), 3000, 5000)

    with pytest.raises(HTTPValidationError):
        shop.polar.subscriptions.update(subscription.id, seats=11)
    fewer = shop.polar.subscriptions.update(subscription.id, seats=2, proration_behavior="next_period")
    assert fewer.seats == 5 and fewer.pending_update.seats == 2
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    renewed = shop.polar.subscriptions.get(subscription.id)
    assert (renewed.seats, renewed.amount, renewed.pending_update) == (2, 2000, None)
    assert shop.orders(subscription.id)[-1].total_amount == 2000

    # Seats on a subscription that has none.
    plain = shop.subscribe(shop.monthly(), email=f"plain-{uuid.uuid4().hex[:4]}@example.com")
    answer = patch(shop, plain.id, {"seats": 2})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "seats"]


def test_a_discount_applies_from_the_next_period(shop):
    small, _ = plans(shop)
    subscription = shop.subscribe(small, email=f"dsc-{uuid.uuid4().hex[:4]}@example.com")
    half = shop.polar.discounts.create(type="percentage", name="Half", duration="forever", basis_points=5000)
    changed = shop.polar.subscriptions.update(subscription.id, discount_id=half.id)
    assert changed.discount.id == half.id
    with pytest.raises(HTTPValidationError):
        shop.polar.subscriptions.update(subscription.id, discount_id=half.id)
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    renewal = shop.orders(subscription.id)[-1]
    assert (renewal.discount_amount, renewal.total_amount) == (1500, 1500)
    removed = shop.polar.subscriptions.update(subscription.id, discount_id=None)
    assert removed.discount is None


def test_changes_that_are_refused(shop):
    small, large = plans(shop)
    subscription = shop.subscribe(small, email=f"rf-{uuid.uuid4().hex[:4]}@example.com")
    once = shop.polar.products.create(name="Once", prices=[{"amount_type": "fixed", "price_amount": 100}])
    for body, loc in [({"product_id": once.id}, ["body", "product_id"]),
                      ({"product_id": str(uuid.uuid4())}, ["body", "product_id"]),
                      ({"product_id": large.id, "proration_behavior": "sometimes"}, ["body", "proration_behavior"]),
                      ({"discount_id": str(uuid.uuid4())}, ["body", "discount_id"])]:
        answer = patch(shop, subscription.id, body)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == loc, body
    other = Shop(shop.server)
    foreign = other.monthly()
    answer = patch(shop, subscription.id, {"product_id": foreign.id})
    assert answer.status_code == 422
    shop.polar.subscriptions.update(subscription.id, cancel_at_period_end=True)
    answer = patch(shop, subscription.id, {"product_id": large.id})
    assert answer.status_code == 403 and answer.json()["error"] == "AlreadyCanceledSubscription"
    assert shop.polar.subscriptions.get(subscription.id).product.id == small.id


def test_a_credit_larger_than_the_next_invoice_goes_to_the_balance(shop):
    """A downgrade's credit beyond its order is booked on the customer's billing wallet;
    the next subscription orders are paid from it first (`applied_balance_amount`), and the
    merchant and the customer read the same balance."""
    large = shop.monthly(amount=5000)
    tiny = shop.monthly(amount=500)
    subscription = shop.subscribe(large, email=f"cr-{uuid.uuid4().hex[:4]}@example.com")
    shop.advance(ts(subscription.current_period_start) + timedelta(days=1))
    shop.polar.subscriptions.update(subscription.id, product_id=tiny.id, proration_behavior="prorate")
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    first = shop.orders(subscription.id)[-1]
    credit, debit = proration_lines(first)[:2]
    owed = 500 + credit.amount + debit.amount
    assert owed < 0
    carried = [i for i in first.items if i.label == "Credit added to your balance"]
    assert [i.amount for i in carried] == [-owed]
    assert (first.total_amount, first.status, sum(i.amount for i in first.items)) == (0, "paid", 0)

    def wallets():
        answer = shop.raw("GET", "/v1/wallets/", params={"customer_id": subscription.customer_id})
        assert answer.status_code == 200, answer.text
        check_response(answer)
        return answer.json()["items"]

    [wallet] = wallets()
    assert (wallet["balance"], wallet["currency"], wallet["customer_id"]) == (-owed, "usd", subscription.customer_id)
    portal = shop.polar.customer_sessions.create(customer_id=subscription.customer_id).token
    seen = httpx.get(f"{shop.server.url}/v1/customer-portal/wallets/", headers={"Authorization": f"Bearer {portal}"})
    assert [(w["id"], w["balance"]) for w in seen.json()["items"]] == [(wallet["id"], -owed)]

    # Each next invoice is paid from the balance first; what is left is charged.
    left = -owed
    while left > 0:
        shop.advance(ts(shop.polar.subscriptions.get(subscription.id).current_period_end) + timedelta(minutes=1))
        order = shop.orders(subscription.id)[-1]
        used = min(left, 500)
        assert (order.total_amount, order.applied_balance_amount, order.due_amount) == (500, -used, 500 - used)
        assert order.status == "paid"
        assert not [i for i in order.items if i.proration]
        left -= used
        [wallet] = wallets()
        assert wallet["balance"] == left
    shop.advance(ts(shop.polar.subscriptions.get(subscription.id).current_period_end) + timedelta(minutes=1))
    last = shop.orders(subscription.id)[-1]
    assert (last.applied_balance_amount, last.due_amount) == (0, 500)


def test_a_voided_order_gives_its_balance_back(shop):
    """The balance pays part of a renewal whose card then fails through dunning: the charges
    ask only for the rest, and the voided order gives back what it took."""
    large = shop.monthly(amount=5000)
    small = shop.monthly(amount=2000)
    subscription = shop.subscribe(large, card="pm_card_chargeCustomerFail", email=f"vb-{uuid.uuid4().hex[:4]}@example.com")
    shop.advance(ts(subscription.current_period_start) + timedelta(days=1))
    shop.polar.subscriptions.update(subscription.id, product_id=small.id, proration_behavior="prorate")
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    credited = shop.orders(subscription.id)[-1]
    assert (credited.total_amount, credited.status) == (0, "paid")
    balance = shop.raw("GET", "/v1/wallets/", params={"customer_id": subscription.customer_id}).json()["items"][0]["balance"]
    assert 0 < balance < 2000

    end = ts(shop.polar.subscriptions.get(subscription.id).current_period_end)
    shop.advance(end + timedelta(hours=1))
    renewal = shop.orders(subscription.id)[-1]
    assert (renewal.total_amount, renewal.applied_balance_amount, renewal.due_amount, renewal.status) == (
        2000, -balance, 2000 - balance, "pending")
    wallet = shop.raw("GET", "/v1/wallets/", params={"customer_id": subscription.customer_id}).json()["items"][0]
    assert wallet["balance"] == 0
    shop.advance(end + timedelta(days=22))
    assert shop.polar.orders.get(renewal.id).status == "void"
    failed = shop.polar.payments.list(order_id=renewal.id, limit=100).items
    assert {p.amount for p in failed} == {2000 - balance} and len(failed) == 5
    wallet = shop.raw("GET", f"/v1/wallets/{wallet['id']}").json()
    assert wallet["balance"] == balance
