"""Subscriptions through the official Python SDK: created by a checkout of a recurring
product (or the API for a free one), renewed by the durable scheduler on the organization's
test clock, canceled, uncanceled and revoked, and dunning with a card that fails every later
charge. Time moves with floe's test clock (`POST /v1/test-clock/advance`, floe's extension,
and `floe clock advance`), so a year of renewals runs in seconds."""

import csv
import io
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound, SubscriptionsUpdate409Error
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from contract import check_response
from receiver import Receiver

ADDRESS = {"country": "FR"}


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


@pytest.fixture(scope="module")
def server():
    floe = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1", "FLOE_SWEEP_INTERVAL": "1"})
    yield floe
    floe.stop()


class Shop:
    def __init__(self, server):
        self.server = server
        self.organization = server.organization()
        self.token = server.token(self.organization)
        self.polar = server.client(self.token)
        self.buyer = server.client("not-a-token")

    def raw(self, method, path, **kwargs):
        return httpx.request(method, f"{self.server.url}{path}",
                             headers={"Authorization": f"Bearer {self.token}"}, timeout=120, **kwargs)

    def monthly(self, amount=900, **extra):
        return self.polar.products.create(name="Monthly", recurring_interval="month",
                                          prices=[{"amount_type": "fixed", "price_amount": amount}], **extra)

    def subscribe(self, product, card="pm_card_visa", email="sub@example.com"):
        checkout = self.polar.checkouts.create(products=[product.id], customer_email=email,
                                               customer_billing_address=ADDRESS)
        confirmed = self.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=card)
        subscriptions = self.polar.subscriptions.list(customer_id=confirmed.customer_id).items
        assert len(subscriptions) == 1
        return subscriptions[0]

    def advance(self, to):
        if isinstance(to, str):
            to = ts(to)
        answer = self.raw("POST", "/v1/test-clock/advance", json={"to": to.isoformat()})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def state(self, customer_id):
        """The customer's state, read raw: polar-sdk 1.0.2 types a state subscription's
        `status` with the license keys' enum (`granted`/`disabled`), so it cannot read the
        contract's `active`/`trialing` from any server (see the note in 0019)."""
        answer = self.raw("GET", f"/v1/customers/{customer_id}/state")
        assert answer.status_code == 200
        check_response(answer)
        return answer.json()

    def orders(self, subscription_id):
        return sorted(self.polar.orders.list(subscription_id=subscription_id, limit=100).items,
                      key=lambda o: o.created_at)


@pytest.fixture
def shop(server):
    return Shop(server)


def ts(text):
    """The SDK keeps datetimes as the strings the API sent."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def months_after(start, months):
    year, month = start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, 28))


def test_a_checkout_of_a_recurring_product_starts_a_subscription(shop):
    product = shop.monthly()
    benefit = shop.polar.benefits.create(type="custom", description="Support", properties={"note": "Hi"})
    shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    subscription = shop.subscribe(product)
    assert subscription.status == "active" and subscription.amount == 900
    assert subscription.currency == "usd" and subscription.recurring_interval == "month"
    assert subscription.product.id == product.id and subscription.customer.email == "sub@example.com"
    assert [p.id for p in subscription.prices] == [product.prices[0].id]
    assert ts(subscription.current_period_end) > ts(subscription.current_period_start)
    assert subscription.started_at == subscription.current_period_start
    assert shop.polar.subscriptions.get(subscription.id).id == subscription.id

    [order] = shop.orders(subscription.id)
    assert (order.billing_reason, order.status, order.total_amount) == ("subscription_create", "paid", 900)
    assert order.subscription.id == subscription.id and order.subscription.status == "active"
    assert order.items[0].start_timestamp == subscription.current_period_start

    # The benefit is granted once, for the subscription.
    for _ in range(100):
        state = shop.state(subscription.customer_id)
        if state["granted_benefits"]:
            break
        time.sleep(0.05)
    assert [s["id"] for s in state["active_subscriptions"]] == [subscription.id]
    assert state["active_subscriptions"][0]["status"] == "active"
    assert [g["benefit_id"] for g in state["granted_benefits"]] == [benefit.id]
    # Active customers are those with a live subscription.
    active = shop.polar.customers.list(active=True).items
    assert [c.id for c in active] == [subscription.customer_id]


def test_a_year_of_monthly_renewals(shop):
    product = shop.monthly(amount=1500)
    subscription = shop.subscribe(product, email="year@example.com")
    start = ts(subscription.current_period_start)
    shop.advance(months_after(start, 12) + timedelta(hours=1))

    orders = shop.orders(subscription.id)
    assert len(orders) == 13
    assert [o.billing_reason for o in orders] == ["subscription_create"] + ["subscription_cycle"] * 12
    assert all(o.status == "paid" and o.total_amount == 1500 for o in orders)
    periods = [o.items[0].start_timestamp for o in orders]
    assert periods == sorted(set(periods)), "one order per period"
    renewed = shop.polar.subscriptions.get(subscription.id)
    assert renewed.status == "active"
    assert ts(renewed.current_period_start).date() == months_after(start, 12).date()
    payments = shop.polar.payments.list(customer_id=subscription.customer_id, limit=100).items
    assert sorted(p.status for p in payments) == ["succeeded"] * 13
    # Advancing again within the same period runs nothing twice.
    shop.advance(months_after(start, 12) + timedelta(hours=2))
    assert len(shop.orders(subscription.id)) == 13


def test_cancel_at_period_end_then_uncancel_then_end(shop):
    product = shop.monthly()
    subscription = shop.subscribe(product, email="cancel@example.com")
    canceled = shop.polar.subscriptions.update(subscription.id, **{
        "cancel_at_period_end": True, "customer_cancellation_reason": "too_expensive",
        "customer_cancellation_comment": "Later"})
    assert canceled.cancel_at_period_end and canceled.status == "active"
    assert canceled.ends_at == canceled.current_period_end and canceled.canceled_at is not None
    assert canceled.customer_cancellation_reason == "too_expensive"
    again = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"cancel_at_period_end": True})
    assert again.status_code == 403 and again.json()["error"] == "AlreadyCanceledSubscription"
    listed = shop.polar.subscriptions.list(cancel_at_period_end=True).items
    assert [s.id for s in listed] == [subscription.id]

    uncanceled = shop.polar.subscriptions.update(subscription.id, **{"cancel_at_period_end": False})
    assert not uncanceled.cancel_at_period_end and uncanceled.ends_at is None
    assert uncanceled.customer_cancellation_reason is None
    # The SDK's typed 409 for an uncancel with nothing to undo.
    with pytest.raises(SubscriptionsUpdate409Error) as refused:
        shop.polar.subscriptions.update(subscription.id, **{"cancel_at_period_end": False})
    assert refused.value.status_code == 409
    assert type(refused.value.error).__name__ == "SubscriptionNotScheduledToCancel"

    shop.polar.subscriptions.update(subscription.id, **{"cancel_at_period_end": True})
    shop.advance(ts(subscription.current_period_end) + timedelta(minutes=1))
    ended = shop.polar.subscriptions.get(subscription.id)
    assert ended.status == "canceled" and ended.ended_at is not None
    assert [o.billing_reason for o in shop.orders(subscription.id)] == ["subscription_create"]
    assert shop.state(subscription.customer_id)["active_subscriptions"] == []
    gone = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"cancel_at_period_end": False})
    assert gone.status_code == 410


def test_revoke_now(shop):
    product = shop.monthly()
    subscription = shop.subscribe(product, email="revoke@example.com")
    revoked = shop.polar.subscriptions.revoke(subscription.id)
    assert revoked.status == "canceled" and revoked.ended_at is not None and revoked.ends_at is not None
    answer = shop.raw("DELETE", f"/v1/subscriptions/{subscription.id}")
    assert answer.status_code == 403 and answer.json()["error"] == "AlreadyCanceledSubscription"
    # Nothing renews after it.
    shop.advance(ts(subscription.current_period_end) + timedelta(days=40))
    assert len(shop.orders(subscription.id)) == 1
    other = shop.subscribe(shop.monthly(), email="revoke2@example.com")
    patched = shop.polar.subscriptions.update(other.id, **{
        "revoke": True, "customer_cancellation_reason": "unused"})
    assert patched.status == "canceled" and patched.customer_cancellation_reason == "unused"


def test_a_failing_card_goes_through_dunning_to_revocation(shop):
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw",
            events=["subscription.past_due", "subscription.revoked", "subscription.canceled",
                    "subscription.cycled", "order.updated"])
        product = shop.monthly(amount=2000)
        subscription = shop.subscribe(product, card="pm_card_chargeCustomerFail", email="dunning@example.com")
        end = ts(subscription.current_period_end)
        shop.advance(end + timedelta(hours=1))
        late = shop.polar.subscriptions.get(subscription.id)
        assert late.status == "past_due" and late.past_due_at is not None
        [_, renewal] = shop.orders(subscription.id)
        assert renewal.status == "pending" and renewal.next_payment_attempt_at is not None
        assert (ts(renewal.next_payment_attempt_at) - ts(late.past_due_at)).days == 2

        # The retries come 2, 5, 7 and 7 days apart; the fourth failed retry revokes.
        shop.advance(end + timedelta(days=22))
        revoked = shop.polar.subscriptions.get(subscription.id)
        assert revoked.status == "canceled" and revoked.ended_at is not None
        failed = shop.polar.payments.list(order_id=renewal.id, limit=100).items
        assert [p.status for p in failed] == ["failed"] * 5
        assert shop.polar.orders.get(renewal.id).status == "void"

        # cycled, past_due, 5 order.updated (4 retries scheduled, then void), canceled, revoked.
        got = receiver.wait_for(9)
        payloads = []
        for delivery in got:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            payloads.append(validate_event(delivery.body, headers, endpoint.secret))
        kinds = [p.type for p in payloads]
        assert {"subscription.cycled", "subscription.past_due", "subscription.canceled",
                "subscription.revoked"} <= set(kinds)
    finally:
        receiver.stop()


def test_an_organization_dunning_schedule(shop):
    slug = shop.organization["slug"]
    shop.server.cli("organization", "dunning", "--organization", slug, "--retry-days", "1,1")
    try:
        subscription = shop.subscribe(shop.monthly(), card="pm_card_chargeCustomerFail", email="dun2@example.com")
        end = ts(subscription.current_period_end)
        shop.advance(end + timedelta(hours=1))
        [_, renewal] = shop.orders(subscription.id)
        assert (ts(renewal.next_payment_attempt_at) - end).days == 1
        shop.advance(end + timedelta(days=2, hours=2))
        assert shop.polar.subscriptions.get(subscription.id).status == "canceled"
        assert len(shop.polar.payments.list(order_id=renewal.id).items) == 3
    finally:
        shop.server.cli("organization", "dunning", "--organization", slug, "--default")
    bad = shop.server.run_cli("organization", "dunning", "--organization", slug, "--retry-days", "0")
    assert bad.returncode != 0


def test_a_retry_that_succeeds_makes_it_active_again(shop):
    product = shop.monthly()
    subscription = shop.subscribe(product, card="pm_card_chargeCustomerFail", email="recover@example.com")
    shop.advance(ts(subscription.current_period_end) + timedelta(hours=1))
    assert shop.polar.subscriptions.get(subscription.id).status == "past_due"
    # The customer's card is replaced by one that works (as the portal will let them).
    shop.server.sql(f"UPDATE payment_methods SET processor_id = 'pm_card_visa_{uuid.uuid4().hex[:16]}' "
                    "WHERE customer_id IN (SELECT id FROM customers WHERE email = 'recover@example.com')")
    shop.advance(ts(subscription.current_period_end) + timedelta(days=3))
    recovered = shop.polar.subscriptions.get(subscription.id)
    assert recovered.status == "active" and recovered.past_due_at is None
    assert [o.status for o in shop.orders(subscription.id)] == ["paid", "paid"]


def test_a_trial_charges_nothing_until_it_ends(shop):
    product = shop.monthly(amount=1200, trial_interval="day", trial_interval_count=14)
    subscription = shop.subscribe(product, email="trial@example.com")
    assert subscription.status == "trialing"
    assert subscription.trial_end == subscription.current_period_end
    # Fourteen days from the checkout's creation (the trial's end is fixed then).
    trial = ts(subscription.trial_end) - ts(subscription.trial_start)
    assert timedelta(days=14) - timedelta(minutes=1) < trial <= timedelta(days=14)
    [first] = shop.orders(subscription.id)
    assert (first.billing_reason, first.total_amount, first.status) == ("subscription_create", 0, "paid")
    assert first.items[0].label.startswith("Trial period for Monthly")
    assert shop.polar.payments.list(customer_id=subscription.customer_id).items == []

    shop.advance(ts(subscription.trial_end) + timedelta(minutes=5))
    active = shop.polar.subscriptions.get(subscription.id)
    assert active.status == "active" and active.current_period_start == subscription.trial_end
    orders = shop.orders(subscription.id)
    assert [(o.billing_reason, o.total_amount, o.status) for o in orders] == [
        ("subscription_create", 0, "paid"), ("subscription_cycle", 1200, "paid")]


def test_one_trial_per_customer_and_product(shop):
    product = shop.monthly(amount=1200, trial_interval="day", trial_interval_count=7)
    first = shop.subscribe(product, email="Once@Example.com")
    assert first.status == "trialing"
    shop.polar.subscriptions.update(first.id, revoke=True)
    # The same person again, with an alias and other letter case: no second trial.
    for email in ("once+again@example.com", "ONCE@example.com"):
        checkout = shop.polar.checkouts.create(products=[product.id], customer_email=email,
                                               customer_billing_address=ADDRESS)
        assert checkout.trial_end is not None
        with pytest.raises(Exception) as refused:
            shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
        assert refused.value.status_code == 403
        assert type(refused.value.error).__name__ == "TrialAlreadyRedeemed"
        assert shop.polar.checkouts.get(checkout.id).status == "open"
    # Someone else, and another product, still get theirs.
    assert shop.subscribe(product, email="someone@example.com").status == "trialing"
    other = shop.monthly(amount=1200, trial_interval="day", trial_interval_count=7)
    checkout = shop.polar.checkouts.create(products=[other.id], customer_email="once@example.com",
                                           customer_billing_address=ADDRESS)
    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    assert confirmed.status in ("confirmed", "succeeded")


def test_a_free_subscription_by_the_api(shop):
    customer = shop.polar.customers.create(email="free@example.com", external_id="free-1")
    free = shop.polar.products.create(name="Free tier", recurring_interval="month",
                                      prices=[{"amount_type": "fixed", "price_amount": 0}])
    made = shop.polar.subscriptions.create(**{"product_id": free.id, "customer_id": customer.id,
                                                    "metadata": {"plan": "free"}})
    assert made.status == "active" and made.amount == 0 and made.metadata == {"plan": "free"}
    by_external = shop.polar.subscriptions.create(**{"product_id": free.id,
                                                           "external_customer_id": "free-1"})
    assert by_external.customer_id == customer.id

    paid = shop.monthly()
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.subscriptions.create(**{"product_id": paid.id, "customer_id": customer.id})
    assert locs(error) == [["body", "product_id"]]
    one_time = shop.polar.products.create(name="Once", prices=[{"amount_type": "fixed", "price_amount": 0}])
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.subscriptions.create(**{"product_id": one_time.id, "customer_id": customer.id})
    assert locs(error) == [["body", "product_id"]]
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.subscriptions.create(**{"product_id": free.id,
                                                 "customer_id": "00000000-0000-4000-8000-000000000000"})
    assert locs(error) == [["body", "customer_id"]]
    # No order is made for it (as at Polar); it renews into free orders.
    assert shop.orders(made.id) == []
    shop.advance(ts(made.current_period_end) + timedelta(minutes=1))
    orders = shop.orders(made.id)
    assert [(o.billing_reason, o.status, o.total_amount) for o in orders] == [("subscription_cycle", "paid", 0)]


def test_list_filters_sorting_and_export(shop):
    cheap = shop.subscribe(shop.monthly(amount=500), email="a@example.com")
    dear = shop.subscribe(shop.polar.products.create(
        name="Yearly", recurring_interval="year",
        prices=[{"amount_type": "fixed", "price_amount": 24000}]), email="b@example.com")
    by_amount = shop.polar.subscriptions.list(sorting=["-amount"]).items
    assert [s.id for s in by_amount] == [dear.id, cheap.id]  # 24000/12 per month > 500
    assert [s.id for s in shop.polar.subscriptions.list(sorting=["customer"]).items] == [cheap.id, dear.id]
    assert [s.id for s in shop.polar.subscriptions.list(product_id=cheap.product_id).items] == [cheap.id]
    assert shop.polar.subscriptions.list(status=["canceled"]).items == []
    shop.polar.subscriptions.revoke(cheap.id)
    assert [s.id for s in shop.polar.subscriptions.list(active=False).items] == [cheap.id]
    assert [s.id for s in shop.polar.subscriptions.list(status="active").items] == [dear.id]
    with pytest.raises(ResourceNotFound):
        shop.polar.subscriptions.get("00000000-0000-4000-8000-000000000000")

    answer = shop.raw("GET", "/v1/subscriptions/export",
                      params=[("columns", "email"), ("columns", "amount"), ("columns", "status"),
                              ("columns", "recurring_interval"), ("timezone", "Asia/Tokyo")])
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="polar-subscriptions.csv"'
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["Email", "Amount", "Status", "Billing Interval"]
    assert sorted(rows[1:]) == [["a@example.com", "5.0", "canceled", "month"],
                                ["b@example.com", "240.0", "active", "year"]]


def test_the_test_clock_is_for_test_mode_only(shop, server):
    answer = shop.raw("POST", "/v1/test-clock/advance", json={"to": "2000-01-01T00:00:00Z"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "to"]
    # From the command line, for an operator.
    product = shop.monthly()
    subscription = shop.subscribe(product, email="cli@example.com")
    target = (ts(subscription.current_period_end) + timedelta(hours=2)).isoformat()
    out = server.cli("clock", "advance", "--organization", shop.organization["slug"], "--to", target)
    assert json.loads(out.strip().splitlines()[-1])["now"] >= target[:19]
    assert len(shop.orders(subscription.id)) == 2

    live = Shop(server)
    server.cli("organization", "processor", "--organization", live.organization["slug"],
               "--processor", "stripe", "--stripe-secret-key", "sk_live_123",
               "--stripe-webhook-secret", "whsec_123")
    refused = live.raw("POST", "/v1/test-clock/advance", json={"to": "2099-01-01T00:00:00Z"})
    assert refused.status_code == 403


def test_odd_changes_answer_clearly(shop):
    subscription = shop.subscribe(shop.monthly(), email="later@example.com")
    # Seats for a subscription without them; its own product again is no change at all.
    answer = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"seats": 3})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "seats"]
    same = shop.polar.subscriptions.update(subscription.id, product_id=subscription.product_id)
    assert same.product.id == subscription.product_id and len(shop.orders(subscription.id)) == 1
    assert shop.polar.subscriptions.update(subscription.id, discount_id=None).discount is None
    answer = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"cancel_at_period_end": True, "x": 1})
    assert answer.status_code == 422 and answer.json()["detail"][0]["type"] == "extra_forbidden"
    updated = shop.polar.subscriptions.update(subscription.id, **{"metadata": {"team": "a"}})
    assert updated.metadata == {"team": "a"}


def test_pause_at_period_end_then_resume(shop):
    product = shop.monthly(amount=1100)
    benefit = shop.polar.benefits.create(type="custom", description="Pause perk", properties={"note": "Hi"})
    shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    subscription = shop.subscribe(product, email="pause@example.com")
    for _ in range(100):
        if shop.state(subscription.customer_id)["granted_benefits"]:
            break
        time.sleep(0.05)
    end = ts(subscription.current_period_end)
    answer = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}",
                      json={"pause_at_period_end": True, "resumes_at": (end - timedelta(days=1)).isoformat()})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "resumes_at"]
    resumes_at = end + timedelta(days=10)
    scheduled = shop.polar.subscriptions.update(subscription.id, pause_at_period_end=True,
                                                resumes_at=resumes_at.isoformat())
    assert scheduled.pause_at_period_end and ts(scheduled.resumes_at) == resumes_at
    again = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"pause_at_period_end": True})
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "pause_at_period_end"]
    not_paused = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"resume": True})
    assert not_paused.status_code == 422 and not_paused.json()["detail"][0]["msg"] == "This subscription is not paused."

    shop.advance(end + timedelta(hours=1))
    paused = shop.polar.subscriptions.get(subscription.id)
    assert paused.status == "paused" and paused.paused_at is not None and not paused.pause_at_period_end
    assert [o.billing_reason for o in shop.orders(subscription.id)] == ["subscription_create"]
    state = shop.state(subscription.customer_id)
    assert state["active_subscriptions"] == [] and state["granted_benefits"] == []

    # It resumes on its own at `resumes_at`: a new period from then, charged at once.
    shop.advance(resumes_at + timedelta(minutes=1))
    resumed = shop.polar.subscriptions.get(subscription.id)
    assert resumed.status == "active" and resumed.paused_at is None
    assert ts(resumed.current_period_start) >= resumes_at
    orders = shop.orders(subscription.id)
    assert [(o.billing_reason, o.status, o.total_amount) for o in orders] == [
        ("subscription_create", "paid", 1100), ("subscription_cycle", "paid", 1100)]
    assert [g["benefit_id"] for g in shop.state(subscription.customer_id)["granted_benefits"]] == [benefit.id]


def test_a_paused_subscription_resumed_by_the_merchant(shop):
    subscription = shop.subscribe(shop.monthly(amount=700), email="resume@example.com")
    shop.polar.subscriptions.update(subscription.id, pause_at_period_end=True)
    taken_back = shop.polar.subscriptions.update(subscription.id, pause_at_period_end=False)
    assert not taken_back.pause_at_period_end
    none = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"pause_at_period_end": False})
    assert none.status_code == 422 and "not scheduled" in none.json()["detail"][0]["msg"]
    shop.polar.subscriptions.update(subscription.id, pause_at_period_end=True)
    shop.advance(ts(subscription.current_period_end) + timedelta(days=3))
    assert shop.polar.subscriptions.get(subscription.id).status == "paused"
    resumed = shop.polar.subscriptions.update(subscription.id, resume=True)
    assert resumed.status == "active" and resumed.resumes_at is None
    orders = shop.orders(subscription.id)
    assert [(o.billing_reason, o.status) for o in orders] == [
        ("subscription_create", "paid"), ("subscription_cycle", "paid")]


def test_trial_end_moves_and_ends_now(shop):
    product = shop.monthly(amount=1300, trial_interval="day", trial_interval_count=7)
    subscription = shop.subscribe(product, email="trial-moves@example.com")
    later = ts(subscription.trial_end) + timedelta(days=3)
    moved = shop.polar.subscriptions.update(subscription.id, trial_end=later.isoformat())
    assert ts(moved.trial_end) == later and ts(moved.current_period_end) == later
    assert moved.status == "trialing"
    ended = shop.polar.subscriptions.update(subscription.id, trial_end="now", metadata={"converted": True})
    assert ended.status == "active" and ended.metadata == {"converted": True}
    orders = shop.orders(subscription.id)
    assert [(o.billing_reason, o.total_amount, o.status) for o in orders] == [
        ("subscription_create", 0, "paid"), ("subscription_cycle", 1300, "paid")]
    # An active subscription cannot end a trial it does not have, but may be given one.
    answer = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"trial_end": "now"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "trial_end"]
    too_soon = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}",
                        json={"trial_end": ended.current_period_start})
    assert too_soon.status_code == 422
    gift = ts(ended.current_period_end) + timedelta(days=14)
    trialing = shop.polar.subscriptions.update(subscription.id, trial_end=gift.isoformat())
    assert trialing.status == "trialing" and ts(trialing.current_period_end) == gift
    events = shop.polar.events.list(name="subscription.updated", customer_id=subscription.customer_id).items
    assert any(e.metadata.trial_end for e in events)


def test_the_billing_period_end_moves(shop):
    subscription = shop.subscribe(shop.monthly(amount=800), email="period@example.com")
    sooner = ts(subscription.current_period_end) - timedelta(days=10)
    moved = shop.polar.subscriptions.update(subscription.id, current_billing_period_end=sooner.isoformat())
    assert ts(moved.current_period_end) == sooner
    past = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}",
                    json={"current_billing_period_end": "2001-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json()["detail"][0]["type"] == "datetime_future"
    shop.advance(sooner + timedelta(minutes=1))
    orders = shop.orders(subscription.id)
    assert [o.billing_reason for o in orders] == ["subscription_create", "subscription_cycle"]
    renewed = shop.polar.subscriptions.get(subscription.id)
    assert ts(renewed.current_period_start) == sooner and ts(renewed.current_period_end).day == sooner.day
    shop.polar.subscriptions.update(subscription.id, cancel_at_period_end=True)
    canceled = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}",
                        json={"current_billing_period_end": (sooner + timedelta(days=60)).isoformat()})
    assert canceled.status_code == 403 and canceled.json()["error"] == "AlreadyCanceledSubscription"
