"""Checkouts through the official Python SDK, from creation to a paid order: the merchant's
operations (create, get, list, update), the buyer's (client get, update, confirm) with the
built-in test processor and Stripe's test payment methods, the totals (pay-what-you-want,
seats, discounts by ID and by code), declines that leave the checkout open with the
processor's message, the authentication step, free products, expiry (410 and
`checkout.expired`), the per-checkout confirmation limit, and the orders and payments a
purchase leaves, with `order.created` / `order.paid` accepted by the SDK's
`validate_event`. (Tenancy, scopes and fuzzing come from the contract sweep.)"""

import time
import uuid

import httpx
import pytest
from polar.v2026_10.errors import (
    ExpiredCheckoutError,
    HTTPValidationError,
    PaymentError,
    ResourceNotFound,
)
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


@pytest.fixture(scope="module")
def hooked():
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1", "FLOE_SWEEP_INTERVAL": "1"})
    yield server
    server.stop()


class Shop:
    def __init__(self, server):
        self.server = server
        self.organization = server.organization()
        self.token = server.token(self.organization)
        self.polar = server.client(self.token)
        # The buyer's side needs no token.
        self.buyer = server.client("not-a-token")

    def product(self, name="Pro", prices=None, **fields):
        prices = prices or [{"amount_type": "fixed", "price_amount": 1900}]
        return self.polar.products.create(name=name, prices=prices, **fields)

    def raw(self, method, path, **kwargs):
        return httpx.request(method, f"{self.server.url}{path}", **kwargs)


@pytest.fixture
def shop(hooked):
    return Shop(hooked)


ADDRESS = {"country": "FR"}


def test_create_and_pay_with_a_test_card(shop):
    product = shop.product(metadata={"tier": "pro"})
    checkout = shop.polar.checkouts.create(
        products=[product.id], success_url="https://shop.example/thanks?checkout={CHECKOUT_ID}",
        metadata={"ref": "ad-42"}, customer_metadata={"plan": "pro"})
    assert checkout.client_secret.startswith("polar_c_")
    assert checkout.url == f"{shop.server.url}/checkout/{checkout.client_secret}"
    assert checkout.success_url == f"https://shop.example/thanks?checkout={checkout.id}"
    assert checkout.status == "open" and checkout.payment_processor == "stripe"
    assert (checkout.amount, checkout.discount_amount, checkout.net_amount, checkout.tax_amount,
            checkout.total_amount) == (1900, 0, 1900, 0, 1900)
    assert checkout.currency == "usd"
    assert checkout.is_payment_required and checkout.is_payment_form_required
    assert not checkout.is_payment_setup_required and not checkout.is_free_product_price
    assert checkout.product.id == product.id and [p.id for p in checkout.products] == [product.id]
    assert checkout.product_price.id == product.prices[0].id
    assert list(checkout.prices) == [product.id]
    assert checkout.metadata == {"ref": "ad-42"} and checkout.customer_metadata == {"plan": "pro"}
    assert checkout.billing_address_fields.country == "required"
    assert checkout.billing_address_fields.line1 == "disabled"

    seen = shop.buyer.checkouts.client_get(checkout.client_secret)
    assert seen.id == checkout.id and seen.organization.id == shop.organization["id"]
    updated = shop.buyer.checkouts.client_update(
        checkout.client_secret, customer_email="ada@example.com", customer_name="Ada Lovelace",
        customer_billing_address=ADDRESS)
    assert updated.customer_email == "ada@example.com" and updated.customer_billing_address.country == "FR"

    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    assert confirmed.status == "confirmed" and confirmed.customer_id is not None
    after = shop.polar.checkouts.get(checkout.id)
    assert after.status == "succeeded"

    orders = shop.polar.orders.list(checkout_id=checkout.id).items
    assert len(orders) == 1
    order = orders[0]
    assert order.status == "paid" and order.paid is True and order.billing_reason == "purchase"
    assert (order.subtotal_amount, order.net_amount, order.total_amount, order.currency) == (1900, 1900, 1900, "usd")
    assert order.customer.email == "ada@example.com" and order.customer_id == confirmed.customer_id
    assert order.product.id == product.id and order.items[0].amount == 1900
    assert order.items[0].product_price_id == product.prices[0].id
    slug = shop.organization["slug"].upper()
    assert order.invoice_number == f"{slug}-0001"
    assert order.billing_name == "Ada Lovelace" and order.billing_address.country == "FR"
    assert order.metadata == {"ref": "ad-42"}
    assert shop.polar.orders.get(order.id).id == order.id

    payments = shop.polar.payments.list(checkout_id=checkout.id).items
    assert len(payments) == 1
    payment = payments[0]
    assert (payment.status, payment.amount, payment.method, payment.order_id) == ("succeeded", 1900, "card", order.id)
    assert payment.method_metadata.brand == "visa" and payment.method_metadata.last4 == "4242"
    assert shop.polar.payments.get(payment.id).id == payment.id

    # The customer was created with the buyer's details and the merchant's metadata.
    customer = shop.polar.customers.get(confirmed.customer_id)
    assert customer.email == "ada@example.com" and customer.name == "Ada Lovelace"
    assert customer.metadata == {"plan": "pro"}

    # A confirmed checkout is not open any more.
    with pytest.raises(Exception) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    assert getattr(error.value, "status_code", None) == 403

    # A second purchase takes the next invoice number.
    again = shop.polar.checkouts.create(products=[product.id], customer_email="bob@example.com")
    shop.buyer.checkouts.client_confirm(again.client_secret, confirmation_token_id="pm_card_visa",
                                        customer_billing_address=ADDRESS)
    assert shop.polar.orders.list(checkout_id=again.id).items[0].invoice_number == f"{slug}-0002"


def test_a_decline_leaves_the_checkout_open(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id], customer_email="eve@example.com")
    with pytest.raises(PaymentError) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_chargeDeclined",
                                            customer_billing_address=ADDRESS)
    assert "Your card was declined." in error.value.error.detail
    assert shop.polar.checkouts.get(checkout.id).status == "open"
    failed = shop.polar.payments.list(checkout_id=checkout.id).items
    assert [(p.status, p.decline_reason) for p in failed] == [("failed", "generic_decline")]
    assert failed[0].decline_message == "Your card was declined."
    assert shop.polar.orders.list(checkout_id=checkout.id).items == []

    with pytest.raises(PaymentError) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret,
                                            confirmation_token_id="pm_card_chargeDeclinedInsufficientFunds")
    assert "insufficient funds" in error.value.error.detail

    # Another card then pays.
    shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    statuses = sorted(p.status for p in shop.polar.payments.list(checkout_id=checkout.id).items)
    assert statuses == ["failed", "failed", "succeeded"]
    assert len(shop.polar.orders.list(checkout_id=checkout.id).items) == 1


def test_an_unknown_token_is_a_payment_error_and_charges_nothing(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id], customer_email="eve@example.com")
    with pytest.raises(PaymentError):
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="tok_made_up",
                                            customer_billing_address=ADDRESS)
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []
    assert shop.polar.checkouts.get(checkout.id).status == "open"


def test_authentication_required_waits_for_the_buyer(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id], customer_email="sca@example.com")
    confirmed = shop.buyer.checkouts.client_confirm(
        checkout.client_secret, confirmation_token_id="pm_card_authenticationRequired",
        customer_billing_address=ADDRESS)
    assert confirmed.status == "confirmed"
    assert confirmed.payment_processor_metadata["intent_status"] == "requires_action"
    assert shop.polar.checkouts.get(checkout.id).status == "confirmed"
    assert [p.status for p in shop.polar.payments.list(checkout_id=checkout.id).items] == ["pending"]
    assert shop.polar.orders.list(checkout_id=checkout.id).items == []


def test_what_the_confirmation_requires(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id])
    with pytest.raises(HTTPValidationError) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret)
    assert sorted(locs(error)) == [["body", "confirmation_token_id"], ["body", "customer_billing_address"],
                                   ["body", "customer_email"]]
    # A US buyer gives the full address.
    with pytest.raises(HTTPValidationError) as error:
        shop.buyer.checkouts.client_confirm(checkout.client_secret, customer_email="us@example.com",
                                            customer_billing_address={"country": "US"},
                                            confirmation_token_id="pm_card_visa")
    assert locs(error) == [["body", "customer_billing_address"]]
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []
    full = {"country": "US", "state": "US-NY", "line1": "1 Main St", "city": "New York", "postal_code": "10001"}
    # A refused confirmation kept nothing it was sent: the email is given again.
    shop.buyer.checkouts.client_confirm(checkout.client_secret, customer_email="us@example.com",
                                        customer_billing_address=full, confirmation_token_id="pm_card_visa")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"


def test_a_free_product_needs_no_card(shop):
    product = shop.product(name="Free tier", prices=[{"amount_type": "fixed", "price_amount": 0}])
    checkout = shop.polar.checkouts.create(products=[product.id])
    assert checkout.is_free_product_price and not checkout.is_payment_form_required
    assert checkout.total_amount == 0
    shop.buyer.checkouts.client_confirm(checkout.client_secret, customer_email="free@example.com")
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    order = shop.polar.orders.list(checkout_id=checkout.id).items[0]
    assert (order.status, order.total_amount) == ("paid", 0)
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []


def test_pay_what_you_want_and_seats(shop):
    pwyw = shop.product(name="Tip jar", prices=[
        {"amount_type": "custom", "minimum_amount": 500, "maximum_amount": 10000, "preset_amount": 1500}])
    checkout = shop.polar.checkouts.create(products=[pwyw.id])
    assert checkout.amount == 1500
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.checkouts.create(products=[pwyw.id], amount=100)
    assert locs(error) == [["body", "amount"]]
    chosen = shop.buyer.checkouts.client_update(checkout.client_secret, amount=2500)
    assert (chosen.amount, chosen.total_amount) == (2500, 2500)
    with pytest.raises(HTTPValidationError) as error:
        shop.buyer.checkouts.client_update(checkout.client_secret, amount=20000)
    assert locs(error) == [["body", "amount"]]
    with pytest.raises(HTTPValidationError):
        shop.buyer.checkouts.client_update(checkout.client_secret, amount=-5)
    assert shop.polar.checkouts.get(checkout.id).amount == 2500

    seats = shop.product(name="Team", prices=[{"amount_type": "seat_based", "seat_tiers": {
        "seat_tier_type": "volume", "tiers": [{"min_seats": 1, "max_seats": None, "price_per_seat": 1000}]}}])
    team = shop.polar.checkouts.create(products=[seats.id], seats=3)
    assert (team.seats, team.amount) == (3, 3000)
    more = shop.buyer.checkouts.client_update(team.client_secret, seats=5)
    assert (more.seats, more.amount) == (5, 5000)
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.checkouts.create(products=[pwyw.id], seats=2)
    assert locs(error) == [["body", "seats"]]


def test_discounts_by_id_and_by_code(shop):
    product = shop.product()
    tenth = shop.polar.discounts.create(type="percentage", name="Tenth", duration="once", basis_points=1000,
                                        code="TENTH", max_redemptions=1)
    checkout = shop.polar.checkouts.create(products=[product.id], discount_id=tenth.id)
    assert (checkout.discount_amount, checkout.net_amount, checkout.total_amount) == (190, 1710, 1710)
    assert checkout.discount.id == tenth.id

    other = shop.polar.checkouts.create(products=[product.id])
    with pytest.raises(HTTPValidationError) as error:
        shop.buyer.checkouts.client_update(other.client_secret, discount_code="NOPE")
    assert locs(error) == [["body", "discount_code"]]
    coded = shop.buyer.checkouts.client_update(other.client_secret, discount_code="tenth")
    assert coded.discount_id == tenth.id and coded.total_amount == 1710
    removed = shop.buyer.checkouts.client_update(other.client_secret, discount_code=None)
    assert removed.discount_id is None and removed.total_amount == 1900

    # The one redemption goes to the first confirmation; the second is told.
    shop.buyer.checkouts.client_confirm(checkout.client_secret, customer_email="first@example.com",
                                        customer_billing_address=ADDRESS, confirmation_token_id="pm_card_visa")
    assert shop.polar.discounts.get(tenth.id).redemptions_count == 1
    order = shop.polar.orders.list(checkout_id=checkout.id).items[0]
    assert (order.discount_amount, order.total_amount, order.discount_id) == (190, 1710, tenth.id)
    late = shop.polar.checkouts.create(products=[product.id])
    with pytest.raises(HTTPValidationError):
        shop.polar.checkouts.update(late.id, discount_id=tenth.id)

    # A declined payment gives the redemption back.
    fixed = shop.polar.discounts.create(type="fixed", name="Two off", duration="once", amounts={"usd": 200},
                                        max_redemptions=1)
    declined = shop.polar.checkouts.create(products=[product.id], discount_id=fixed.id)
    with pytest.raises(PaymentError):
        shop.buyer.checkouts.client_confirm(declined.client_secret, customer_email="d@example.com",
                                            customer_billing_address=ADDRESS,
                                            confirmation_token_id="pm_card_chargeDeclined")
    assert shop.polar.discounts.get(fixed.id).redemptions_count == 0


def test_merchant_update_list_and_products_of_the_checkout(shop):
    first = shop.product(name="First")
    second = shop.product(name="Second", prices=[{"amount_type": "fixed", "price_amount": 4900},
                                                 {"amount_type": "fixed", "price_amount": 4500,
                                                  "price_currency": "eur"}])
    checkout = shop.polar.checkouts.create(products=[first.id, second.id])
    assert [p.id for p in checkout.products] == [first.id, second.id] and checkout.product.id == first.id
    switched = shop.buyer.checkouts.client_update(checkout.client_secret, product_id=second.id)
    assert (switched.product_id, switched.amount) == (second.id, 4900)
    in_euros = shop.polar.checkouts.update(checkout.id, currency="eur", metadata={"k": "v"})
    assert (in_euros.currency, in_euros.amount, in_euros.metadata) == ("eur", 4500, {"k": "v"})
    with pytest.raises(HTTPValidationError) as error:
        shop.buyer.checkouts.client_update(checkout.client_secret, product_id=str(uuid.uuid4()))
    assert locs(error) == [["body", "product_id"]]

    with pytest.raises(HTTPValidationError) as error:
        shop.polar.checkouts.create(products=[str(uuid.uuid4())])
    assert locs(error) == [["body", "products", 0]]
    shop.polar.products.update(first.id, is_archived=True)
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.checkouts.create(products=[first.id])
    assert locs(error) == [["body", "products", 0]]

    listed = shop.polar.checkouts.list(product_id=second.id).items
    assert [c.id for c in listed] == [checkout.id]
    assert shop.polar.checkouts.list(status="succeeded").items == []
    with pytest.raises(ResourceNotFound):
        shop.polar.checkouts.get(str(uuid.uuid4()))


def test_ad_hoc_prices(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id], prices={
        product.id: [{"amount_type": "fixed", "price_amount": 999}]})
    assert checkout.amount == 999
    assert checkout.prices[product.id][0].source == "ad_hoc"
    # The product's own prices are unchanged.
    assert [p.price_amount for p in shop.polar.products.get(product.id).prices] == [1900]
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.checkouts.create(products=[product.id], prices={
            str(uuid.uuid4()): [{"amount_type": "fixed", "price_amount": 999}]})
    assert locs(error)[0][:2] == ["body", "prices"]


def test_expiry(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id])
    shop.server.sql("UPDATE checkouts SET expires_at = '2020-01-01T00:00:00+00:00' "
                    f"WHERE client_secret = '{checkout.client_secret}'")
    with pytest.raises(ExpiredCheckoutError):
        shop.buyer.checkouts.client_get(checkout.client_secret)
    with pytest.raises(ExpiredCheckoutError):
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    deadline = time.time() + 20
    while shop.polar.checkouts.get(checkout.id).status != "expired" and time.time() < deadline:
        time.sleep(0.2)
    assert shop.polar.checkouts.get(checkout.id).status == "expired"
    with pytest.raises(ResourceNotFound):
        shop.buyer.checkouts.client_get("polar_c_" + "x" * 43)


def test_confirmations_are_rate_limited_per_checkout(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id])
    path = f"/v1/checkouts/client/{checkout.client_secret}/confirm"
    statuses = [shop.raw("POST", path, json={}).status_code for _ in range(7)]
    assert statuses == [422] * 6 + [429]
    # Another checkout is not affected.
    other = shop.polar.checkouts.create(products=[product.id])
    assert shop.raw("POST", f"/v1/checkouts/client/{other.client_secret}/confirm", json={}).status_code == 422


def test_webhooks_are_typed_by_the_sdk(hooked):
    shop = Shop(hooked)
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw",
            events=["checkout.created", "checkout.updated", "order.created", "order.paid"])
        product = shop.product()
        checkout = shop.polar.checkouts.create(products=[product.id], customer_email="hook@example.com")
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa",
                                            customer_billing_address=ADDRESS)
        got = receiver.wait_for(4)
        payloads = []
        for delivery in got:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            payloads.append(validate_event(delivery.body, headers, endpoint.secret))
        kinds = [p.type for p in payloads]
        assert kinds[0] == "checkout.created"
        assert {"order.created", "order.paid", "checkout.updated"} <= set(kinds)
        paid = next(p for p in payloads if p.type == "order.paid")
        assert paid.data.checkout_id == checkout.id and paid.data.total_amount == 1900
        assert paid.data.status == "paid"
    finally:
        receiver.stop()


def test_a_checkout_link_opens_a_checkout(shop):
    product = shop.product()
    tenth = shop.polar.discounts.create(type="percentage", name="Tenth", duration="once", basis_points=1000)
    link = shop.polar.checkout_links.create(payment_processor="stripe", products=[product.id], discount_id=tenth.id,
                                            success_url="https://shop.example/done", metadata={"from": "link"})
    assert link.url == f"{shop.server.url}/v1/checkout-links/{link.client_secret}/redirect"
    opened = httpx.get(link.url + "?customer_email=link@example.com", follow_redirects=False)
    assert opened.status_code == 307
    client_secret = opened.headers["location"].rsplit("/", 1)[1]
    assert opened.headers["location"] == f"{shop.server.url}/checkout/{client_secret}"
    checkout = shop.buyer.checkouts.client_get(client_secret)
    assert (checkout.product_id, checkout.discount_id, checkout.total_amount) == (product.id, tenth.id, 1710)
    assert checkout.customer_email == "link@example.com" and checkout.success_url == "https://shop.example/done"
    assert shop.polar.checkouts.get(checkout.id).metadata == {"from": "link"}
    # Each opening is a new checkout; a discount gone since is dropped, not refused.
    shop.polar.discounts.delete(tenth.id)
    again = httpx.get(link.url, follow_redirects=False)
    assert again.status_code == 307 and again.headers["location"] != opened.headers["location"]
    second = shop.buyer.checkouts.client_get(again.headers["location"].rsplit("/", 1)[1])
    assert second.discount_id is None and second.total_amount == 1900
    assert httpx.get(f"{shop.server.url}/v1/checkout-links/polar_cl_nope/redirect").status_code == 404


def test_text_with_a_nul_character_is_refused(shop):
    product = shop.product()
    checkout = shop.polar.checkouts.create(products=[product.id])
    answer = shop.raw("PATCH", f"/v1/checkouts/client/{checkout.client_secret}",
                      json={"customer_name": "Ada\u0000Lovelace"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "customer_name"]
    answer = shop.raw("POST", "/v1/customers/", json={"email": "nul@example.com", "metadata": {"k\u0000": "v"}},
                      headers={"Authorization": f"Bearer {shop.token}"})
    assert answer.status_code == 422


def test_a_product_granting_meter_credits_reads_through_the_sdk(shop):
    meter = shop.polar.meters.create(name="Tokens", filter={"conjunction": "and", "clauses": []},
                                     aggregation={"func": "count"})
    credit = shop.polar.benefits.create(type="meter_credit", description="1,000 tokens",
                                        properties={"units": 1000, "rollover": False, "meter_id": meter.id})
    product = shop.product(name="Token pack")
    shop.polar.products.update_benefits(product.id, benefits=[credit.id])
    checkout = shop.polar.checkouts.create(products=[product.id])
    shown = checkout.product.benefits[0]
    assert (shown.type, shown.properties.units, shown.properties.meter_id) == ("meter_credit", 1000, meter.id)
    assert shop.buyer.checkouts.client_get(checkout.client_secret).product.benefits[0].properties.units == 1000


def test_a_card_saved_for_later_is_the_customers_default_payment_method(shop):
    monthly = shop.product("Monthly", recurring_interval="month")
    one_off = shop.product("Once")
    checkout = shop.polar.checkouts.create(products=[one_off.id], customer_email="cards@example.com",
                                           customer_billing_address=ADDRESS)
    customer_id = shop.buyer.checkouts.client_confirm(
        checkout.client_secret, confirmation_token_id="pm_card_visa").customer_id
    # A one-off purchase keeps no card.
    assert shop.polar.customers.list_payment_methods(id=customer_id).items == []
    assert shop.polar.customers.get(customer_id).default_payment_method_id is None

    for card in ("pm_card_visa", "pm_card_mastercard"):
        checkout = shop.polar.checkouts.create(products=[monthly.id], customer_id=customer_id,
                                               customer_billing_address=ADDRESS)
        shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=card)
    methods = shop.polar.customers.list_payment_methods(id=customer_id)
    assert methods.pagination.total_count == 2
    newest, first = methods.items
    assert (newest.method_metadata.brand, newest.method_metadata.last4, newest.is_default) == ("mastercard", "4444", True)
    assert (first.method_metadata.brand, first.method_metadata.last4, first.is_default) == ("visa", "4242", False)
    assert all(m.type == "card" and m.processor == "stripe" and m.customer_id == customer_id for m in methods.items)
    assert shop.polar.customers.get(customer_id).default_payment_method_id == newest.id
    # The same list by external ID, paged; another organization's customer is not found.
    shop.polar.customers.update(customer_id, external_id="cards-1")
    paged = shop.polar.customers.list_payment_methods_external(external_id="cards-1", limit=1, page=2)
    assert [m.id for m in paged.items] == [first.id] and paged.pagination.max_page == 2
    stranger = shop.raw("GET", f"/v1/customers/{uuid.uuid4()}/payment-methods",
                        headers={"Authorization": f"Bearer {shop.token}"})
    assert stranger.status_code == 404
