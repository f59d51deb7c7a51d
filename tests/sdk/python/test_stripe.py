"""The Stripe adapter against a local fake of Stripe (fake_stripe.py): an organization
switched to Stripe by configuration pays through PaymentIntents confirmed with the buyer's
confirmation token, with a Stripe customer made once, an `Idempotency-Key` on every call
and only parameters the official `stripe` package knows; declines reopen the checkout with
Stripe's message; Stripe's webhooks are verified (`Stripe-Signature`, 300 s tolerance),
stored once, and complete a checkout whose answer was lost, without ever paying twice.
Stripe itself is never called."""

import time

import pytest
from polar.v2026_10.errors import PaymentError

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
        self.polar = server.client(server.token(self.organization))
        self.buyer = server.client("not-a-token")
        server.cli("organization", "processor", "--organization", self.organization["slug"], "--processor", "stripe",
                   "--stripe-secret-key", "sk_test_fake", "--stripe-webhook-secret", fake.webhook_secret)
        fake.webhook_url = f"{server.url}/v1/integrations/stripe/webhook/{self.organization['id']}"
        self.product = self.polar.products.create(name="Pro", prices=[{"amount_type": "fixed", "price_amount": 1900}])

    def checkout(self, email="stripe@example.com"):
        return self.polar.checkouts.create(products=[self.product.id], customer_email=email,
                                           customer_billing_address=ADDRESS)


@pytest.fixture
def shop(server, fake):
    fake.violations.clear()
    return Shop(server, fake)


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
