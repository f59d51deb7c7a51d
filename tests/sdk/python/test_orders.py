"""Orders through the official Python SDK beyond the checkout: draft orders charged
off-session to a saved payment method (`orders:create`, `orders:finalize`), with the
contract's 402/403/412 answers, and the billing details a merchant may correct. (Orders
from checkouts are in test_checkouts.py; tenancy, scopes and fuzzing come from the
contract sweep.)"""

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError

from conftest import Floe

ADDRESS = {"country": "FR"}


@pytest.fixture(scope="module")
def server():
    floe = Floe()
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
                             headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def enable_off_session(self):
        """An operator's switch (the API does not let an organization turn it on itself)."""
        self.server.cli("organization", "feature", "--organization", self.organization["slug"],
                        "--name", "off_session_charges_enabled", "--enabled", "true")

    def subscriber(self, card="pm_card_visa", email="saved@example.com"):
        """A customer with a saved card: bought a monthly product (which saves the card)."""
        monthly = self.polar.products.create(name="Monthly", recurring_interval="month",
                                             prices=[{"amount_type": "fixed", "price_amount": 900}])
        checkout = self.polar.checkouts.create(products=[monthly.id], customer_email=email,
                                               customer_billing_address=ADDRESS)
        confirmed = self.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=card)
        return confirmed.customer_id


@pytest.fixture
def shop(server):
    return Shop(server)


def test_a_draft_order_is_charged_to_the_saved_card(shop):
    customer_id = shop.subscriber()
    pack = shop.polar.products.create(name="Token pack", prices=[{"amount_type": "fixed", "price_amount": 2500}])
    answer = shop.raw("POST", "/v1/orders/", json={"customer_id": customer_id, "product_id": pack.id})
    assert answer.status_code == 403 and answer.json()["error"] == "OffSessionChargesNotEnabled"
    shop.enable_off_session()

    draft = shop.polar.orders.create(customer_id=customer_id, product_id=pack.id, amount=3000,
                                     description="5,000 tokens", metadata={"batch": 7})
    assert (draft.status, draft.invoice_number, draft.total_amount) == ("draft", None, 3000)
    assert draft.items[0].label == "5,000 tokens" and draft.metadata == {"batch": 7}
    paid = shop.polar.orders.finalize(draft.id)
    assert paid.status == "paid" and paid.invoice_number is not None
    payments = shop.polar.payments.list(order_id=draft.id).items
    assert [(p.status, p.amount) for p in payments] == [("succeeded", 3000)]
    assert payments[0].method_metadata.last4 == "4242"
    # A paid order is not a draft any more.
    again = shop.raw("POST", f"/v1/orders/{draft.id}/finalize", json={})
    assert again.status_code == 412 and again.json()["error"] == "OrderNotDraft"


def test_a_card_that_fails_later_charges_leaves_the_draft(shop):
    shop.enable_off_session()
    customer_id = shop.subscriber(card="pm_card_chargeCustomerFail", email="fails@example.com")
    pack = shop.polar.products.create(name="Pack", prices=[{"amount_type": "fixed", "price_amount": 1000}])
    draft = shop.polar.orders.create(customer_id=customer_id, product_id=pack.id)
    answer = shop.raw("POST", f"/v1/orders/{draft.id}/finalize")
    assert answer.status_code == 402 and answer.json()["error"] == "PaymentFailed"
    assert "declined" in answer.json()["detail"]
    assert shop.polar.orders.get(draft.id).status == "draft"
    failed = shop.polar.payments.list(order_id=draft.id).items
    assert [(p.status, p.decline_reason) for p in failed] == [("failed", "generic_decline")]

    # A customer without a saved card cannot be charged.
    walk_in = shop.polar.customers.create(email="walkin@example.com")
    other = shop.polar.orders.create(customer_id=walk_in.id, product_id=pack.id)
    answer = shop.raw("POST", f"/v1/orders/{other.id}/finalize")
    assert answer.status_code == 402 and answer.json()["error"] == "PaymentFailed"


def test_what_a_draft_order_takes(shop):
    shop.enable_off_session()
    customer = shop.polar.customers.create(email="drafts@example.com")
    monthly = shop.polar.products.create(name="Monthly", recurring_interval="month",
                                         prices=[{"amount_type": "fixed", "price_amount": 900}])
    tip = shop.polar.products.create(name="Tip", prices=[{"amount_type": "custom", "minimum_amount": 100}])
    fixed = shop.polar.products.create(name="Fixed", prices=[{"amount_type": "fixed", "price_amount": 500}])
    for product_id in (monthly.id, tip.id, "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(HTTPValidationError) as error:
            shop.polar.orders.create(customer_id=customer.id, product_id=product_id)
        assert [list(d.loc) for d in error.value.error.detail] == [["body", "product_id"]]
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.orders.create(customer_id="00000000-0000-4000-8000-000000000000", product_id=fixed.id)
    assert [list(d.loc) for d in error.value.error.detail] == [["body", "customer_id"]]
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.orders.create(customer_id=customer.id, product_id=fixed.id, amount=10)
    assert [list(d.loc) for d in error.value.error.detail] == [["body", "amount"]]
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.orders.create(customer_id=customer.id, product_id=fixed.id, currency="eur")
    assert [list(d.loc) for d in error.value.error.detail] == [["body", "currency"]]
    free = shop.polar.orders.create(customer_id=customer.id, product_id=fixed.id, amount=0)
    assert shop.polar.orders.finalize(free.id).status == "paid"


def test_billing_details_can_be_corrected(shop):
    customer_id = shop.subscriber(email="billing@example.com")
    order = shop.polar.orders.list(customer_id=customer_id).items[0]
    updated = shop.polar.orders.update(order.id, billing_name="Zoë Ğüneş SARL",
                                       billing_address={"country": "FR", "line1": "1 rue de la Paix",
                                                        "city": "Paris", "postal_code": "75002"})
    assert updated.billing_name == "Zoë Ğüneş SARL" and updated.billing_address.city == "Paris"
    with pytest.raises(HTTPValidationError):
        shop.polar.orders.update(order.id, billing_address={"country": "DE"})
