"""A manual smoke test of the Stripe adapter against Stripe's real test mode. Skipped unless
STRIPE_TEST_SECRET_KEY (an `sk_test_…` key) is set: CI never calls Stripe.

    STRIPE_TEST_SECRET_KEY=sk_test_… FLOE_BIN=… python -m pytest -q test_stripe_live.py

Confirmation tokens are made with Stripe's test helper (`/v1/test_helpers/confirmation_tokens`
with `pm_card_visa`), standing in for what Stripe.js makes in a browser. Stripe's webhooks
cannot reach this machine, so only the confirmation's own answers are checked: a payment
(PaymentIntent, card saved), a trial (SetupIntent, nothing charged), a draft order charged
off session on the saved card, and a decline."""

import os

import httpx
import pytest

from conftest import Floe

KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")

pytestmark = pytest.mark.skipif(not KEY.startswith("sk_test_"),
                                reason="set STRIPE_TEST_SECRET_KEY=sk_test_… to call Stripe's test mode")

ADDRESS = {"country": "FR"}


def confirmation_token(payment_method="pm_card_visa", keep=False):
    """A test ConfirmationToken, as Stripe.js would make one in the buyer's browser (`keep`:
    for a card kept for later charges, as floe's page tells Elements for a recurring
    product)."""
    data = {"payment_method": payment_method}
    if keep:
        data["setup_future_usage"] = "off_session"
    answer = httpx.post("https://api.stripe.com/v1/test_helpers/confirmation_tokens", auth=(KEY, ""),
                        data=data, timeout=30)
    answer.raise_for_status()
    return answer.json()["id"]


@pytest.fixture(scope="module")
def shop():
    server = Floe()
    organization = server.organization()
    token = server.token(organization)
    server.cli("organization", "processor", "--organization", organization["slug"], "--processor", "stripe",
               "--stripe-secret-key", KEY, "--stripe-webhook-secret", "whsec_unused_here")
    server.cli("organization", "feature", "--organization", organization["slug"],
               "--name", "off_session_charges_enabled", "--enabled", "true")
    yield server, server.client(token), server.client("not-a-token"), token
    server.stop()


def test_payment_trial_and_off_session_charge(shop):
    server, polar, buyer, token = shop
    monthly = polar.products.create(name="Live monthly", recurring_interval="month",
                                    prices=[{"amount_type": "fixed", "price_amount": 900}])
    checkout = polar.checkouts.create(products=[monthly.id], customer_email="live@example.com",
                                      customer_billing_address=ADDRESS)
    confirmed = buyer.checkouts.client_confirm(checkout.client_secret,
                                               confirmation_token_id=confirmation_token(keep=True))
    assert polar.checkouts.get(checkout.id).status == "succeeded"
    payment = polar.payments.list(checkout_id=checkout.id).items[0]
    assert payment.status == "succeeded" and payment.processor_metadata["charge_id"].startswith("pi_")

    trial = polar.products.create(name="Live trial", recurring_interval="month", trial_interval="day",
                                  trial_interval_count=7, prices=[{"amount_type": "fixed", "price_amount": 900}])
    checkout = polar.checkouts.create(products=[trial.id], customer_email="live-trial@example.com",
                                      customer_billing_address=ADDRESS)
    buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=confirmation_token())
    assert polar.checkouts.get(checkout.id).status == "succeeded"
    assert polar.payments.list(checkout_id=checkout.id).items == []

    pack = polar.products.create(name="Live pack", prices=[{"amount_type": "fixed", "price_amount": 1500}])
    draft = polar.orders.create(customer_id=confirmed.customer_id, product_id=pack.id)
    answer = httpx.post(f"{server.url}/v1/orders/{draft.id}/finalize", json={},
                        headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert answer.status_code == 200 and answer.json()["status"] == "paid", answer.text


def test_a_decline(shop):
    _, polar, buyer, _ = shop
    product = polar.products.create(name="Live one-off", prices=[{"amount_type": "fixed", "price_amount": 700}])
    checkout = polar.checkouts.create(products=[product.id], customer_email="live-decline@example.com",
                                      customer_billing_address=ADDRESS)
    from polar.v2026_10.errors import PaymentError

    with pytest.raises(PaymentError):
        buyer.checkouts.client_confirm(checkout.client_secret,
                                       confirmation_token_id=confirmation_token("pm_card_chargeDeclined"))
    assert polar.checkouts.get(checkout.id).status == "open"
