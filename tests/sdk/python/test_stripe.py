"""The Stripe adapter against a local fake of Stripe (fake_stripe.py): an organization
switched to Stripe by configuration pays through PaymentIntents confirmed with the buyer's
confirmation token, with a Stripe customer made once, an `Idempotency-Key` on every call
and only parameters the official `stripe` package knows; declines reopen the checkout with
Stripe's message; Stripe's webhooks are verified (`Stripe-Signature`, 300 s tolerance),
stored once, and complete a checkout whose answer was lost, without ever paying twice.
A checkout with nothing to pay now but a card to keep (a trial) confirms a SetupIntent
instead, which makes no payment, with the same records as the test processor. Draft
orders are charged off session on the saved Stripe method (`orders:finalize`), between two
transactions, and Stripe's webhook settles one whose answer was lost, once.
Stripe itself is never called."""

import time

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, PaymentError

from conftest import Floe
from fake_stripe import FakeStripe

ADDRESS = {"country": "FR"}


@pytest.fixture(scope="module")
def fake():
    stripe = FakeStripe()
    yield stripe
    stripe.stop()


@pytest.fixture(scope="module")
def server(fake):
    floe = Floe(env={"FLOE_STRIPE_API_BASE": fake.url})
    yield floe
    floe.stop()


class Shop:
    def __init__(self, server, fake):
        self.server = server
        self.organization = server.organization()
        self.fake = fake
        self.token = server.token(self.organization)
        self.polar = server.client(self.token)
        self.buyer = server.client("not-a-token")
        server.cli("organization", "processor", "--organization", self.organization["slug"], "--processor", "stripe",
                   "--stripe-secret-key", "sk_test_fake", "--stripe-webhook-secret", fake.webhook_secret)
        fake.webhook_url = f"{server.url}/v1/integrations/stripe/webhook/{self.organization['id']}"
        self.product = self.polar.products.create(name="Pro", prices=[{"amount_type": "fixed", "price_amount": 1900}])

    def checkout(self, email="stripe@example.com", product=None):
        return self.polar.checkouts.create(products=[(product or self.product).id], customer_email=email,
                                           customer_billing_address=ADDRESS)

    def trial_product(self):
        return self.polar.products.create(name="Team", recurring_interval="month", trial_interval="day",
                                          trial_interval_count=14,
                                          prices=[{"amount_type": "fixed", "price_amount": 2900}])

    def use(self, processor):
        if processor == "test":
            self.server.cli("organization", "processor", "--organization", self.organization["slug"],
                            "--processor", "test")
        else:
            self.server.cli("organization", "processor", "--organization", self.organization["slug"],
                            "--processor", "stripe", "--stripe-secret-key", "sk_test_fake",
                            "--stripe-webhook-secret", self.fake.webhook_secret)

    def enable_off_session(self):
        self.server.cli("organization", "feature", "--organization", self.organization["slug"],
                        "--name", "off_session_charges_enabled", "--enabled", "true")

    def subscriber(self, token="ctoken_visa", email="saved@example.com"):
        """A customer whose card Stripe keeps: they bought a monthly product."""
        monthly = self.polar.products.create(name="Monthly", recurring_interval="month",
                                             prices=[{"amount_type": "fixed", "price_amount": 900}])
        checkout = self.checkout(email=email, product=monthly)
        return self.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=token).customer_id

    def draft(self, customer_id, amount=2500):
        pack = self.polar.products.create(name="Pack", prices=[{"amount_type": "fixed", "price_amount": amount}])
        return self.polar.orders.create(customer_id=customer_id, product_id=pack.id)

    def finalize(self, order_id):
        return httpx.post(f"{self.server.url}/v1/orders/{order_id}/finalize", json={},
                          headers={"Authorization": f"Bearer {self.token}"}, timeout=30)


@pytest.fixture
def shop(server, fake):
    fake.violations.clear()
    fake.lose_next_answer = False
    fake.hold_events = False
    yield Shop(server, fake)
    fake.release()


def posts(fake, path, **metadata):
    """The forms floe POSTed to `path`, those whose metadata has `metadata`."""
    return [form for method, p, _, form in fake.requests if method == "POST" and p == path
            and all(form.get(f"metadata[{k}]") == v for k, v in metadata.items())]


def test_a_payment_through_stripe(shop, fake):
    checkout = shop.checkout()
    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    assert confirmed.status == "confirmed"
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    orders = shop.polar.orders.list(checkout_id=checkout.id).items
    assert len(orders) == 1 and orders[0].status == "paid" and orders[0].total_amount == 1900
    payments = shop.polar.payments.list(checkout_id=checkout.id).items
    assert len(payments) == 1 and payments[0].status == "succeeded" and payments[0].processor == "stripe"
    assert payments[0].method_metadata.brand == "visa" and payments[0].method_metadata.last4 == "4242"

    calls = [(method, path) for method, path, _, _ in fake.requests if method == "POST"]
    assert ("POST", "/v1/customers") in calls and ("POST", "/v1/payment_intents") in calls
    intent = next(form for method, path, _, form in reversed(fake.requests) if path == "/v1/payment_intents")
    assert intent["amount"] == "1900" and intent["currency"] == "usd" and intent["confirm"] == "true"
    assert intent["confirmation_token"] == "ctoken_visa" and intent["metadata[checkout_id]"] == checkout.id
    assert fake.violations == []

    # The same buyer again: the Stripe customer is reused.
    customers_before = sum(1 for _, path, _, _ in fake.requests if path == "/v1/customers")
    again = shop.checkout()
    shop.buyer.checkouts.client_confirm(again.client_secret, confirmation_token_id="ctoken_visa")
    assert sum(1 for _, path, _, _ in fake.requests if path == "/v1/customers") == customers_before


def test_stripe_events_count_once(shop, fake):
    checkout = shop.checkout()
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["metadata"].get("checkout_id") == checkout.id)
    # Redelivered twice: acknowledged, nothing more is made.
    for _ in range(2):
        assert fake.send(event).status_code == 200
    assert len(shop.polar.orders.list(checkout_id=checkout.id).items) == 1
    assert len(shop.polar.payments.list(checkout_id=checkout.id).items) == 1
    # Signatures are checked: another secret, or an old timestamp, is refused.
    assert fake.send(event, secret="whsec_other").status_code == 400
    assert fake.send(event, timestamp=int(time.time()) - 600).status_code == 400


def test_a_decline_through_stripe(shop, fake):
    checkout = shop.checkout(email="declined@example.com")
    with pytest.raises(PaymentError) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_declined")
    assert "Your card was declined." in error.value.error.detail
    assert shop.polar.checkouts.get(checkout.id).status == "open"
    assert [(p.status, p.decline_reason) for p in shop.polar.payments.list(checkout_id=checkout.id).items] == [
        ("failed", "generic_decline")]
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    assert fake.violations == []


def test_the_webhook_completes_a_checkout_whose_answer_was_lost(shop, fake):
    checkout = shop.checkout(email="lost@example.com")
    fake.lose_next_answer = True
    with pytest.raises(PaymentError):
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    # Stripe did charge, and its webhook (sent while floe waited) pays the order once.
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    orders = shop.polar.orders.list(checkout_id=checkout.id).items
    assert len(orders) == 1 and orders[0].status == "paid"
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["metadata"].get("checkout_id") == checkout.id)
    assert fake.send(event).status_code == 200
    assert len(shop.polar.orders.list(checkout_id=checkout.id).items) == 1


def test_switching_back_to_the_test_processor(shop, fake):
    shop.server.cli("organization", "processor", "--organization", shop.organization["slug"], "--processor", "test")
    checkout = shop.checkout(email="back@example.com")
    calls = len(fake.requests)
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    assert len(fake.requests) == calls  # Stripe was not asked


def test_a_trial_keeps_the_card_with_a_setup_intent(shop, fake):
    product = shop.trial_product()
    checkout = shop.checkout(email="trial@example.com", product=product)
    assert not checkout.is_payment_required and checkout.is_payment_setup_required
    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    assert confirmed.status == "confirmed"
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"

    setups = posts(fake, "/v1/setup_intents", checkout_id=checkout.id)
    assert len(setups) == 1 and posts(fake, "/v1/payment_intents", checkout_id=checkout.id) == []
    setup = setups[0]
    assert (setup["confirm"], setup["usage"], setup["confirmation_token"]) == ("true", "off_session", "ctoken_visa")
    assert setup["customer"].startswith("cus_") and setup["return_url"].endswith("/confirmation")
    assert fake.violations == []

    # Nothing was charged, so no payment; the card is kept and the order made.
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []
    orders = shop.polar.orders.list(checkout_id=checkout.id).items
    assert len(orders) == 1 and orders[0].status == "paid"
    seti = next(i for i in fake.intents.values() if i["metadata"].get("checkout_id") == checkout.id)
    method = seti["payment_method"]["id"]
    assert shop.server.sql(f"SELECT processor, type FROM payment_methods WHERE processor_id = '{method}'") == [
        ("stripe", "card")]

    # Stripe's webhook for the same SetupIntent, however often, changes nothing.
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["id"] == seti["id"])
    assert event["type"] == "setup_intent.succeeded"
    for _ in range(2):
        assert fake.send(event).status_code == 200
    assert len(shop.polar.orders.list(checkout_id=checkout.id).items) == 1
    assert shop.server.sql(f"SELECT count(*) FROM payment_methods WHERE processor_id = '{method}'") == [("1",)]


def test_a_setup_makes_the_same_records_with_either_processor(shop, fake):
    product = shop.trial_product()
    records = {}
    for processor, token in (("test", "pm_card_visa"), ("stripe", "ctoken_visa")):
        shop.use(processor)
        checkout = shop.checkout(email=f"same-{processor}@example.com", product=product)
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=token)
        orders = shop.polar.orders.list(checkout_id=checkout.id).items
        records[processor] = (
            shop.polar.checkouts.get(checkout.id).status,
            [(o.status, o.total_amount) for o in orders],
            len(shop.polar.payments.list(checkout_id=checkout.id).items),
            shop.server.sql("SELECT count(*) FROM payment_methods m JOIN customers c ON c.id = m.customer_id"
                            f" WHERE c.email = 'same-{processor}@example.com' AND m.processor = '{processor}'"),
        )
    assert records["test"] == records["stripe"]
    assert records["stripe"][2] == 0 and records["stripe"][3] == [("1",)]


def test_a_declined_setup_reopens_the_checkout(shop, fake):
    checkout = shop.checkout(email="setup-declined@example.com", product=shop.trial_product())
    with pytest.raises(PaymentError) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_declined")
    assert "Your card was declined." in error.value.error.detail
    assert shop.polar.checkouts.get(checkout.id).status == "open"
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []
    # Stripe's setup_intent.setup_failed for it was applied once, with the answer.
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["metadata"].get("checkout_id") == checkout.id)
    assert event["type"] == "setup_intent.setup_failed" and fake.send(event).status_code == 200
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    assert fake.violations == []


def test_a_setup_that_asks_for_authentication_is_completed_by_its_webhook(shop, fake):
    checkout = shop.checkout(email="setup-3ds@example.com", product=shop.trial_product())
    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_3ds")
    metadata = confirmed.payment_processor_metadata
    assert metadata["intent_status"] == "requires_action" and metadata["intent_client_secret"].startswith("seti_")
    assert shop.polar.checkouts.get(checkout.id).status == "confirmed"
    # The buyer answers the bank in Stripe.js; Stripe's webhook tells floe.
    seti = metadata["intent_client_secret"].split("_secret_")[0]
    assert fake.complete_action(seti).status_code == 200
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    assert len(shop.polar.orders.list(checkout_id=checkout.id).items) == 1
    # The test processor's authentication step cannot complete a Stripe intent.
    page = httpx.post(f"{checkout.url}/authenticate", data={"action": "complete"})
    assert page.status_code == 303


def test_a_setup_whose_answer_was_lost(shop, fake):
    checkout = shop.checkout(email="setup-lost@example.com", product=shop.trial_product())
    fake.lose_next_answer = True
    with pytest.raises(PaymentError):
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    assert len(shop.polar.orders.list(checkout_id=checkout.id).items) == 1


def test_a_draft_order_is_charged_off_session_with_stripe(shop, fake):
    shop.enable_off_session()
    customer_id = shop.subscriber(email="off-session@example.com")
    draft = shop.draft(customer_id, amount=2500)
    answer = shop.finalize(draft.id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "paid" and answer.json()["invoice_number"]

    charges = posts(fake, "/v1/payment_intents", order_id=draft.id)
    assert len(charges) == 1
    charge = charges[0]
    saved = next(f for f in posts(fake, "/v1/payment_intents") if f.get("setup_future_usage") == "off_session"
                 and f["customer"] == charge["customer"])
    assert (charge["off_session"], charge["confirm"], charge["amount"]) == ("true", "true", "2500")
    assert charge["payment_method"].startswith("pm_") and charge["customer"] == saved["customer"]
    key = next(h["idempotency-key"] for m, p, h, f in fake.requests if f is charge)
    assert key.startswith(f"floe-order-{draft.id}-")
    assert fake.violations == []

    payments = shop.polar.payments.list(order_id=draft.id).items
    assert [(p.status, p.amount, p.processor) for p in payments] == [("succeeded", 2500, "stripe")]
    assert payments[0].processor_metadata["charge_id"].startswith("pi_")
    # Stripe's webhook for it changes nothing more.
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["metadata"].get("order_id") == draft.id)
    assert fake.send(event).status_code == 200
    assert len(shop.polar.payments.list(order_id=draft.id).items) == 1
    assert shop.polar.orders.get(draft.id).status == "paid"


def test_off_session_declines_and_authentication_with_stripe(shop, fake):
    shop.enable_off_session()
    failing = shop.draft(shop.subscriber(token="ctoken_customer_fail", email="fail-later@example.com"))
    answer = shop.finalize(failing.id)
    assert answer.status_code == 402 and answer.json() == {"error": "PaymentFailed",
                                                           "detail": "Your card was declined."}
    assert shop.polar.orders.get(failing.id).status == "draft"
    assert [(p.status, p.decline_reason) for p in shop.polar.payments.list(order_id=failing.id).items] == [
        ("failed", "generic_decline")]

    asking = shop.draft(shop.subscriber(token="ctoken_auth_later", email="auth-later@example.com"))
    answer = shop.finalize(asking.id)
    assert answer.status_code == 402 and answer.json()["error"] == "PaymentActionRequired"
    assert shop.polar.orders.get(asking.id).status == "draft"

    # A card saved with the test processor cannot be charged by Stripe.
    shop.use("test")
    tested = shop.subscriber(token="pm_card_visa", email="test-card@example.com")
    shop.use("stripe")
    answer = shop.finalize(shop.draft(tested).id)
    assert answer.status_code == 402 and answer.json()["error"] == "PaymentFailed"
    assert fake.violations == []


def test_the_webhook_settles_a_finalize_whose_answer_was_lost(shop, fake):
    shop.enable_off_session()
    draft = shop.draft(shop.subscriber(email="lost-order@example.com"))
    fake.lose_next_answer = True
    answer = shop.finalize(draft.id)
    # The webhook came while floe waited: the order is paid, and the answer says so.
    assert answer.status_code == 200 and answer.json()["status"] == "paid", answer.text
    assert [p.status for p in shop.polar.payments.list(order_id=draft.id).items] == ["succeeded"]


def test_a_crash_during_finalize_is_settled_by_the_webhook_once(shop, fake):
    shop.enable_off_session()
    draft = shop.draft(shop.subscriber(email="crash-order@example.com"))
    # Stripe charges, but neither its answer nor (yet) its webhook reaches floe.
    fake.lose_next_answer = True
    fake.hold_events = True
    answer = shop.finalize(draft.id)
    assert answer.status_code == 402 and answer.json()["error"] == "PaymentFailed"
    assert shop.polar.orders.get(draft.id).status == "pending"
    assert [p.status for p in shop.polar.payments.list(order_id=draft.id).items] == ["pending"]
    # Not finalized twice while the charge may be under way.
    again = shop.finalize(draft.id)
    assert again.status_code == 412 and again.json()["error"] == "OrderNotDraft"
    assert len(posts(fake, "/v1/payment_intents", order_id=draft.id)) == 1

    assert [r.status_code for r in fake.release()] == [200]
    order = shop.polar.orders.get(draft.id)
    assert order.status == "paid" and order.invoice_number
    payments = shop.polar.payments.list(order_id=draft.id).items
    assert [(p.status, p.amount) for p in payments] == [("succeeded", 2500)]
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["metadata"].get("order_id") == draft.id)
    assert fake.send(event).status_code == 200
    assert len(shop.polar.payments.list(order_id=draft.id).items) == 1


def subscription_of(shop, customer_id):
    [subscription] = shop.polar.subscriptions.list(customer_id=customer_id).items
    return subscription


def advance(shop, to):
    answer = httpx.post(f"{shop.server.url}/v1/test-clock/advance", json={"to": to},
                        headers={"Authorization": f"Bearer {shop.token}"}, timeout=120)
    assert answer.status_code == 200, answer.text


def after(text, **delta):
    from datetime import datetime, timedelta
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) + timedelta(**delta)).isoformat()


def test_a_renewal_is_charged_off_session_with_stripe(shop, fake):
    subscription = subscription_of(shop, shop.subscriber(email="renews@example.com"))
    advance(shop, after(subscription.current_period_end, hours=1))
    orders = shop.polar.orders.list(subscription_id=subscription.id).items
    renewal = next(o for o in orders if o.billing_reason == "subscription_cycle")
    assert renewal.status == "paid" and renewal.total_amount == 900 and renewal.invoice_number
    [charge] = posts(fake, "/v1/payment_intents", order_id=renewal.id)
    assert (charge["off_session"], charge["confirm"], charge["amount"]) == ("true", "true", "900")
    key = next(h["idempotency-key"] for m, p, h, f in fake.requests if f is charge)
    assert key == f"floe-subscription-{subscription.id}-order-{renewal.id}-attempt-1"
    assert [(p.status, p.processor) for p in shop.polar.payments.list(order_id=renewal.id).items] == [
        ("succeeded", "stripe")]
    # Stripe's webhook for it changes nothing more.
    event = next(e for e in reversed(fake.events) if e["data"]["object"]["metadata"].get("order_id") == renewal.id)
    assert fake.send(event).status_code == 200
    assert len(shop.polar.payments.list(order_id=renewal.id).items) == 1
    assert fake.violations == []


def test_a_declined_renewal_with_stripe_is_past_due_then_retried(shop, fake):
    subscription = subscription_of(shop, shop.subscriber(token="ctoken_customer_fail", email="late@example.com"))
    advance(shop, after(subscription.current_period_end, hours=1))
    assert shop.polar.subscriptions.get(subscription.id).status == "past_due"
    renewal = next(o for o in shop.polar.orders.list(subscription_id=subscription.id).items
                   if o.billing_reason == "subscription_cycle")
    assert renewal.status == "pending"
    advance(shop, after(subscription.current_period_end, days=3))
    failed = shop.polar.payments.list(order_id=renewal.id).items
    assert sorted(p.status for p in failed) == ["failed", "failed"]
    keys = {h["idempotency-key"] for m, p, h, f in fake.requests
            if p == "/v1/payment_intents" and f.get("metadata[order_id]") == renewal.id}
    assert len(keys) == 2, "one key per attempt"
    assert fake.violations == []


def test_a_renewal_whose_answer_was_lost_is_settled_by_the_webhook(shop, fake):
    subscription = subscription_of(shop, shop.subscriber(email="renewal-lost@example.com"))
    fake.lose_next_answer = True
    fake.hold_events = True
    advance(shop, after(subscription.current_period_end, minutes=1))
    renewal = next(o for o in shop.polar.orders.list(subscription_id=subscription.id).items
                   if o.billing_reason == "subscription_cycle")
    assert renewal.status == "pending"
    assert [p.status for p in shop.polar.payments.list(order_id=renewal.id).items] == ["pending"]
    assert [r.status_code for r in fake.release()] == [200]
    assert shop.polar.orders.get(renewal.id).status == "paid"
    assert shop.polar.subscriptions.get(subscription.id).status == "active"
    advance(shop, after(subscription.current_period_end, hours=2))
    assert len(posts(fake, "/v1/payment_intents", order_id=renewal.id)) == 1
    assert [p.status for p in shop.polar.payments.list(order_id=renewal.id).items] == ["succeeded"]


def test_an_unanswered_renewal_is_asked_again_with_the_same_key(shop, fake):
    subscription = subscription_of(shop, shop.subscriber(email="renewal-again@example.com"))
    fake.lose_next_answer = True
    fake.hold_events = True
    advance(shop, after(subscription.current_period_end, minutes=1))
    # After two minutes without an answer, the same attempt is sent again: Stripe answers
    # the first one's outcome, and nothing is charged twice.
    advance(shop, after(subscription.current_period_end, minutes=10))
    renewal = next(o for o in shop.polar.orders.list(subscription_id=subscription.id).items
                   if o.billing_reason == "subscription_cycle")
    assert shop.polar.orders.get(renewal.id).status == "paid"
    sent = [h["idempotency-key"] for m, p, h, f in fake.requests
            if p == "/v1/payment_intents" and f.get("metadata[order_id]") == renewal.id]
    assert len(sent) == 2 and len(set(sent)) == 1
    fake.release()
    assert [p.status for p in shop.polar.payments.list(order_id=renewal.id).items] == ["succeeded"]
    assert fake.violations == []


def test_an_invoiced_change_with_stripe_waits_for_its_payment(shop, fake):
    """As at Polar (which charges before it commits): a declined invoice answers 402 and
    changes nothing, without dunning; a paid one makes the change; one whose answer is lost
    is made when Stripe's webhook tells."""
    large = shop.polar.products.create(name="Large", recurring_interval="month",
                                       prices=[{"amount_type": "fixed", "price_amount": 2900}])
    failing = subscription_of(shop, shop.subscriber(token="ctoken_customer_fail", email="upgrade-fails@example.com"))
    answer = httpx.patch(f"{shop.server.url}/v1/subscriptions/{failing.id}",
                         json={"product_id": large.id, "proration_behavior": "invoice"},
                         headers={"Authorization": f"Bearer {shop.token}"}, timeout=30)
    assert answer.status_code == 402, answer.text
    assert answer.json() == {"error": "PaymentFailed", "detail": "Your card was declined."}
    unchanged = shop.polar.subscriptions.get(failing.id)
    assert (unchanged.product.id, unchanged.status, unchanged.amount) == (failing.product.id, "active", 900)
    [invoice] = [o for o in shop.polar.orders.list(subscription_id=failing.id).items
                 if o.billing_reason == "subscription_update"]
    assert invoice.status == "void" and invoice.next_payment_attempt_at is None
    # Nothing waits: another change may be asked at once.
    again = httpx.patch(f"{shop.server.url}/v1/subscriptions/{failing.id}",
                        json={"product_id": large.id, "proration_behavior": "prorate"},
                        headers={"Authorization": f"Bearer {shop.token}"}, timeout=30)
    assert again.status_code == 200 and again.json()["product"]["id"] == large.id

    paying = subscription_of(shop, shop.subscriber(email="upgrade-pays@example.com"))
    upgraded = shop.polar.subscriptions.update(paying.id, product_id=large.id, proration_behavior="invoice")
    assert (upgraded.product.id, upgraded.amount) == (large.id, 2900)
    [invoice] = [o for o in shop.polar.orders.list(subscription_id=paying.id).items
                 if o.billing_reason == "subscription_update"]
    assert invoice.status == "paid" and invoice.total_amount > 0
    assert [p.status for p in shop.polar.payments.list(order_id=invoice.id).items] == ["succeeded"]

    lost = subscription_of(shop, shop.subscriber(email="upgrade-lost@example.com"))
    fake.lose_next_answer = True
    fake.hold_events = True
    waiting = shop.polar.subscriptions.update(lost.id, product_id=large.id, proration_behavior="invoice")
    assert waiting.product.id == lost.product.id
    # While its invoice is unanswered, another change is refused.
    locked = httpx.patch(f"{shop.server.url}/v1/subscriptions/{lost.id}", json={"product_id": large.id, "proration_behavior": "prorate"},
                         headers={"Authorization": f"Bearer {shop.token}"}, timeout=30)
    assert locked.status_code == 409 and locked.json()["error"] == "SubscriptionLocked"
    assert [r.status_code for r in fake.release()] == [200]
    made = shop.polar.subscriptions.get(lost.id)
    assert (made.product.id, made.amount) == (large.id, 2900)
    assert fake.violations == []


def test_a_customer_saves_a_card_in_the_portal_through_stripe(shop, fake):
    customer_id = shop.subscriber(email="portal-stripe@example.com")
    session = shop.polar.customer_sessions.create(customer_id=customer_id)
    portal = shop.server.client(session.token)
    methods = portal.customer_portal.customers
    added = methods.add_payment_method(confirmation_token_id="ctoken_mastercard", set_default=True,
                                       return_url="https://shop.example/portal")
    assert added.status == "succeeded" and methods.get().default_payment_method_id == added.payment_method.id
    [setup] = posts(fake, "/v1/setup_intents", type="customer_portal_payment_method")
    assert (setup["confirm"], setup["usage"], setup["return_url"]) == ("true", "off_session", "https://shop.example/portal")
    assert setup["customer"].startswith("cus_") and setup["metadata[customer_id]"] == customer_id
    assert len(methods.list_payment_methods().items) == 2

    # A card that asks for authentication: the customer's bank step in Stripe.js, then the
    # confirmation (Stripe's webhook for the portal's SetupIntent is acknowledged).
    waiting = methods.add_payment_method(confirmation_token_id="ctoken_3ds", set_default=False,
                                         return_url="https://shop.example/portal")
    assert waiting.status == "requires_action" and waiting.client_secret.startswith("seti_")
    setup_id = waiting.client_secret.split("_secret_")[0]
    assert fake.complete_action(setup_id).status_code == 200
    confirmed = methods.confirm_payment_method(setup_intent_id=setup_id, set_default=False)
    assert confirmed.status == "succeeded"
    assert len(methods.list_payment_methods().items) == 3
    with pytest.raises(HTTPValidationError):
        methods.confirm_payment_method(setup_intent_id="seti_doesnotexist", set_default=False)
    declined = httpx.post(f"{shop.server.url}/v1/customer-portal/customers/me/payment-methods",
                          headers={"Authorization": f"Bearer {session.token}"},
                          json={"confirmation_token_id": "ctoken_declined", "set_default": True, "return_url": "https://x.example/"})
    assert declined.status_code == 400 and declined.json()["error"] == "PaymentMethodSetupFailed", declined.text
    assert fake.violations == []


def test_a_customer_pays_its_past_due_renewal_through_stripe(shop, fake):
    subscription = subscription_of(shop, shop.subscriber(token="ctoken_customer_fail", email="self-pay@example.com"))
    advance(shop, after(subscription.current_period_end, hours=1))
    renewal = next(o for o in shop.polar.orders.list(subscription_id=subscription.id).items
                   if o.billing_reason == "subscription_cycle")
    assert renewal.status == "pending"
    portal = shop.server.client(shop.polar.customer_sessions.create(customer_id=subscription.customer_id).token)
    [card] = portal.customer_portal.customers.list_payment_methods().items
    failed = portal.customer_portal.orders.confirm_retry_payment(renewal.id, payment_method_id=card.id)
    assert failed.status == "failed" and "declined" in failed.error
    assert shop.polar.orders.get(renewal.id).next_payment_attempt_at == renewal.next_payment_attempt_at
    paid = portal.customer_portal.orders.confirm_retry_payment(renewal.id, confirmation_token_id="ctoken_visa")
    assert paid.status == "succeeded", paid
    assert shop.polar.orders.get(renewal.id).status == "paid"
    assert shop.polar.subscriptions.get(subscription.id).status == "active"
    retries = posts(fake, "/v1/payment_intents", order_id=renewal.id)
    keys = [next(h["idempotency-key"] for m, p, h, f in fake.requests if f is form) for form in retries]
    assert [k.rsplit("-", 2)[-2:] for k in keys if "customer-retry" in k] == [["retry", "1"], ["retry", "2"]]
    assert sorted(p.trigger for p in shop.polar.payments.list(order_id=renewal.id).items) == [
        "retry_customer", "retry_customer", "subscription_cycle"]
    assert fake.violations == []


def stripe_order(shop, fake, email):
    checkout = shop.checkout(email=email)
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    [order] = shop.polar.orders.list(checkout_id=checkout.id).items
    assert order.status == "paid"
    [intent] = [i["id"] for i in fake.intents.values()
                if i["object"] == "payment_intent" and i["metadata"].get("checkout_id") == checkout.id]
    return order, intent


def test_a_refund_through_stripe(shop, fake):
    fake.refund_status = "succeeded"
    order, intent = stripe_order(shop, fake, "refund@example.com")
    refund = shop.polar.refunds.create(order_id=order.id, amount=500, reason="customer_request")
    assert refund.status == "succeeded" and refund.amount == 500
    [form] = posts(fake, "/v1/refunds", refund_id=refund.id)
    assert form["payment_intent"] == intent and form["amount"] == "500"
    assert form["reason"] == "requested_by_customer" and form["metadata[order_id]"] == order.id
    assert fake.violations == []
    after = shop.polar.orders.get(order.id)
    assert after.status == "partially_refunded" and after.refunded_amount == 500
    # Stripe's own `refund.created` for it changes nothing more.
    assert shop.polar.orders.get(order.id).refunded_amount == 500
    assert len(shop.polar.refunds.list(order_id=order.id).items) == 1


def test_a_pending_stripe_refund_settles_by_webhook_and_a_later_failure_gives_the_amount_back(shop, fake):
    fake.refund_status = "pending"
    try:
        order, _ = stripe_order(shop, fake, "pending-refund@example.com")
        refund = shop.polar.refunds.create(order_id=order.id, amount=1900, reason="duplicate")
        assert refund.status == "pending"
        assert shop.polar.orders.get(order.id).status == "paid"
        [stripe_id] = [r["id"] for r in fake.refunds.values() if r["metadata"].get("refund_id") == refund.id]

        answers = fake.settle_refund(stripe_id, "succeeded")
        assert all(a.status_code == 200 for a in answers)
        assert shop.polar.refunds.list(order_id=order.id).items[0].status == "succeeded"
        refunded = shop.polar.orders.get(order.id)
        assert refunded.status == "refunded" and refunded.refunded_amount == 1900
        # A redelivery changes nothing.
        fake.send(fake.events[-1])
        assert shop.polar.orders.get(order.id).refunded_amount == 1900

        # The bank refused it after all: the order gets its amount back.
        fake.settle_refund(stripe_id, "failed", failure_reason="expired_or_canceled_card")
        assert shop.polar.refunds.list(order_id=order.id).items[0].status == "failed"
        back = shop.polar.orders.get(order.id)
        assert back.status == "paid" and back.refunded_amount == 0 and back.refundable_amount == 1900
    finally:
        fake.refund_status = "succeeded"


def test_a_refund_made_in_stripes_dashboard_is_recorded(shop, fake):
    order, intent = stripe_order(shop, fake, "dashboard@example.com")
    refund, answer = fake.dashboard_refund(intent, 700)
    assert answer.status_code == 200
    [recorded] = shop.polar.refunds.list(order_id=order.id).items
    assert recorded.amount == 700 and recorded.status == "succeeded" and recorded.reason == "customer_request"
    assert shop.polar.orders.get(order.id).refunded_amount == 700


def test_stripe_disputes_move_with_their_events_and_a_decided_one_revokes_the_subscription(shop, fake):
    monthly = shop.polar.products.create(name="Disputed monthly", recurring_interval="month",
                                         prices=[{"amount_type": "fixed", "price_amount": 2400}])
    checkout = shop.checkout(email="stripe-dispute@example.com", product=monthly)
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="ctoken_visa")
    [order] = shop.polar.orders.list(checkout_id=checkout.id).items
    [intent] = [i["id"] for i in fake.intents.values()
                if i["object"] == "payment_intent" and i["metadata"].get("checkout_id") == checkout.id]

    stripe_dispute, answer = fake.dispute(intent, status="warning_needs_response", reason="general")
    assert answer.status_code == 200
    [dispute] = shop.polar.disputes.list(order_id=order.id).items
    assert dispute.status == "needs_response" and dispute.reason == "general" and dispute.amount == 2400
    assert str(dispute.evidence_due_by).startswith("2030-01-01T00:00:00")
    # A redelivery changes nothing.
    assert fake.send(fake.events[-1]).status_code == 200
    assert shop.polar.disputes.list(order_id=order.id).pagination.total_count == 1
    refused = httpx.post(f"{shop.server.url}/v1/refunds/", json={"order_id": order.id, "amount": 100, "reason": "other"},
                         headers={"Authorization": f"Bearer {shop.token}"})
    assert refused.status_code == 403 and refused.json()["error"] == "RefundDisputedPayment"

    fake.dispute(intent, status="under_review", reason="fraudulent", dispute_id=stripe_dispute["id"])
    under_review = shop.polar.disputes.get(dispute.id)
    assert under_review.status == "under_review" and under_review.reason == "fraudulent"
    answer = httpx.post(f"{shop.server.url}/v1/disputes/{dispute.id}/accept",
                        headers={"Authorization": f"Bearer {shop.token}"})
    assert answer.status_code == 409 and answer.json()["error"] == "DisputeNotOpenError"
    assert shop.polar.subscriptions.get(order.subscription_id).status == "active"

    # Won, as Polar does it, still ends the subscription: the buyer disputed it.
    fake.dispute(intent, status="won", dispute_id=stripe_dispute["id"])
    won = shop.polar.disputes.get(dispute.id)
    assert won.status == "won" and won.resolved and won.closed
    assert shop.polar.subscriptions.get(order.subscription_id).status == "canceled"
    # Closed is final: a late event does not reopen it.
    fake.dispute(intent, status="under_review", dispute_id=stripe_dispute["id"])
    assert shop.polar.disputes.get(dispute.id).status == "won"
    assert fake.violations == []


def test_accepting_a_stripe_dispute_closes_it_at_stripe(shop, fake):
    order, intent = stripe_order(shop, fake, "accept@example.com")
    stripe_dispute, _ = fake.dispute(intent)
    [dispute] = shop.polar.disputes.list(order_id=order.id).items
    accepted = shop.polar.disputes.accept(dispute.id)
    assert accepted.status == "lost" and accepted.closed
    assert fake.disputes[stripe_dispute["id"]]["status"] == "lost"
    assert [p for m, p, _, _ in fake.requests if m == "POST" and p.startswith("/v1/disputes/")] == [
        f"/v1/disputes/{stripe_dispute['id']}/close"]
    assert fake.violations == []
