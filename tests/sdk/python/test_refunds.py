"""Refunds through the official Python SDK (`refunds:create`, `refunds:list`) on the test
processor: full and partial, tax back in proportion, the contract's refusals, benefits
revoked, a balance reduced, a refund that the bank refuses later, the webhooks in order,
and concurrent refunds of one order that can never add up to more than it. (Stripe's
refunds are in test_stripe.py; tenancy, scopes and fuzzing come from the contract sweep.)"""

import concurrent.futures
import time
import uuid

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, RefundedAlready
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver

ADDRESS = {"country": "US", "state": "NY", "line1": "1 Main St", "city": "New York", "postal_code": "10001"}


def sql_uuid(server, value):
    return f"X'{uuid.UUID(str(value)).hex}'" if server.pg_db is None else f"'{value}'"


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
                             headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def buy(self, amount=10000, card="pm_card_visa", email="buyer@example.com", product=None, **product_kwargs):
        product = product or self.polar.products.create(
            name="Pack", prices=[{"amount_type": "fixed", "price_amount": amount}], **product_kwargs)
        checkout = self.polar.checkouts.create(products=[product.id], customer_email=email,
                                               customer_billing_address=ADDRESS)
        confirmed = self.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id=card)
        assert confirmed.status in ("confirmed", "succeeded")
        for _ in range(200):
            orders = self.polar.orders.list(checkout_id=checkout.id).items
            if orders and orders[0].status == "paid":
                return orders[0]
            time.sleep(0.05)
        raise AssertionError("the order was not paid")

    def refund(self, order_id, amount, reason="customer_request", **kwargs):
        return self.polar.refunds.create(order_id=order_id, amount=amount, reason=reason, **kwargs)


@pytest.fixture
def shop(server):
    return Shop(server)


def test_partial_then_full_refund_with_tax_in_proportion(shop):
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw",
            events=["refund.created", "refund.updated", "order.refunded", "order.updated"])
        order = shop.buy(amount=10000)
        assert order.refundable_amount == order.net_amount
        # floe calculates no sales tax yet: the order is given the tax a tax service would
        # have charged (8.875%), as a stored order with tax would have it.
        tax = 888
        shop.server.sql(f"UPDATE orders SET tax_amount = {tax}, total_amount = net_amount + {tax} "
                        f"WHERE id = {sql_uuid(shop.server, order.id)}")
        order = shop.polar.orders.get(order.id)
        assert order.tax_amount == tax and order.refundable_tax_amount == tax

        first = shop.refund(order.id, 3333, comment="Half a month unused", metadata={"ticket": "T-1"})
        assert first.status == "succeeded" and first.amount == 3333
        assert first.tax_amount == (3333 * tax * 2 + order.net_amount) // (2 * order.net_amount)
        assert first.order_id == order.id and first.customer_id == order.customer_id
        assert first.metadata == {"ticket": "T-1"} and first.revoke_benefits is False and first.dispute is None
        after = shop.polar.orders.get(order.id)
        assert after.status == "partially_refunded"
        assert after.refunded_amount == 3333 and after.refunded_tax_amount == first.tax_amount
        assert after.refundable_amount == order.net_amount - 3333
        assert after.refundable_tax_amount == tax - first.tax_amount

        # More than is left is refused on `amount`, and nothing changes.
        with pytest.raises(HTTPValidationError) as refused:
            shop.refund(order.id, order.net_amount - 3333 + 1)
        assert refused.value.error.detail[0].loc == ["body", "amount"]
        assert shop.polar.orders.get(order.id).refunded_amount == 3333

        # The rest takes all the tax that is left.
        last = shop.refund(order.id, order.net_amount - 3333, reason="satisfaction_guarantee")
        assert last.tax_amount == tax - first.tax_amount
        done = shop.polar.orders.get(order.id)
        assert done.status == "refunded" and done.refundable_amount == 0 and done.refundable_tax_amount == 0
        assert done.refunded_amount == order.net_amount and done.refunded_tax_amount == tax

        with pytest.raises(RefundedAlready):
            shop.refund(order.id, 1)

        listed = shop.polar.refunds.list(order_id=order.id, limit=10)
        assert [r.id for r in listed.items] == [last.id, first.id]  # newest first
        assert listed.pagination.total_count == 2
        assert [r.id for r in shop.polar.refunds.list(sorting=["amount"], order_id=order.id).items] == [first.id, last.id]
        assert shop.polar.refunds.list(succeeded=False, order_id=order.id).pagination.total_count == 0
        assert shop.polar.refunds.list(customer_id=order.customer_id).pagination.total_count == 2

        # refund.created (pending), refund.updated (succeeded), order.updated, order.refunded: twice.
        got = receiver.wait_for(8)
        events = []
        for delivery in got:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            events.append(validate_event(delivery.body, headers, endpoint.secret))
        kinds = [e.type for e in events]
        assert kinds.count("refund.created") == 2 and kinds.count("refund.updated") == 2
        assert kinds.count("order.refunded") == 2 and kinds.count("order.updated") == 2
        refunded = [e for e in events if e.type == "order.refunded"]
        assert refunded[-1].data.status == "refunded"
    finally:
        receiver.stop()


def test_the_contract_refusals(shop):
    order = shop.buy(amount=2000)
    with pytest.raises(HTTPValidationError) as missing:
        shop.refund("00000000-0000-4000-8000-000000000000", 100)
    assert missing.value.error.detail[0].loc == ["body", "order_id"]
    for bad in ({"amount": 0}, {"amount": -5}, {"reason": "dispute_prevention"}, {"reason": "whim"}):
        body = {"order_id": order.id, "amount": 100, "reason": "other", **bad}
        answer = shop.raw("POST", "/v1/refunds/", json=body)
        assert answer.status_code == 422, (bad, answer.text)
    # Another organization's order is not found.
    other = Shop(shop.server)
    answer = other.raw("POST", "/v1/refunds/", json={"order_id": order.id, "amount": 100, "reason": "other"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "order_id"]
    assert shop.polar.orders.get(order.id).status == "paid"
    assert other.polar.refunds.list().pagination.total_count == 0


def test_revoke_benefits_takes_back_the_orders_grants(shop):
    benefit = shop.polar.benefits.create(type="custom", description="Support", properties={})
    product = shop.polar.products.create(name="With support", prices=[{"amount_type": "fixed", "price_amount": 5000}])
    shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    order = shop.buy(product=product, email="grants@example.com")
    for _ in range(200):
        grants = shop.polar.benefits.grants(benefit.id).items
        if grants and grants[0].is_granted:
            break
        time.sleep(0.05)
    refund = shop.refund(order.id, 1000, revoke_benefits=True)
    assert refund.revoke_benefits is True
    [grant] = shop.polar.benefits.grants(benefit.id).items
    assert grant.is_revoked and not grant.is_granted
    assert shop.polar.orders.get(order.id).status == "partially_refunded"


def test_a_refund_the_bank_refuses_later_stays_pending_then_fails(shop):
    order = shop.buy(amount=4000, card="pm_card_refundFail", email="late@example.com")
    refund = shop.refund(order.id, 4000)
    assert refund.status == "pending"
    # What a pending refund holds back cannot be refunded twice meanwhile.
    with pytest.raises(HTTPValidationError):
        shop.refund(order.id, 1)
    held = shop.polar.orders.get(order.id)
    assert held.status == "paid" and held.refunded_amount == 0
    for _ in range(300):
        now = shop.polar.refunds.list(order_id=order.id).items[0]
        if now.status != "pending":
            break
        time.sleep(0.05)
    assert now.status == "failed"
    # Nothing went back: the order is as it was, and can be refunded again.
    after = shop.polar.orders.get(order.id)
    assert after.status == "paid" and after.refundable_amount == order.net_amount


def test_concurrent_refunds_never_exceed_the_order(shop):
    order = shop.buy(amount=1000, email="race@example.com")

    def attempt(_):
        answer = shop.raw("POST", "/v1/refunds/", json={"order_id": order.id, "amount": 300, "reason": "other"})
        return answer.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(attempt, range(8)))
    assert sorted(codes) == [201] * 3 + [403] * 0 + [422] * 5, codes
    refunds = shop.polar.refunds.list(order_id=order.id, limit=100).items
    assert sum(r.amount for r in refunds) == 900
    after = shop.polar.orders.get(order.id)
    assert after.refunded_amount == 900 and after.refundable_amount == order.net_amount - 900
