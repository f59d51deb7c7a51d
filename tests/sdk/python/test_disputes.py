"""Disputes through the official Python SDK (`disputes:list`, `disputes:get`,
`disputes:accept`) on the test processor: Stripe's disputed test cards (0259 fraudulent,
2685 product not received) are disputed by the bank once paid; the merchant reads and
accepts them; a decided dispute ends the order's benefits or its subscription; a disputed
order cannot be refunded. (Stripe's `charge.dispute.*` events are in test_stripe.py;
tenancy, scopes and fuzzing come from the contract sweep.)"""

import time
import uuid

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError

from test_refunds import Shop


@pytest.fixture(scope="module")
def server():
    from conftest import Floe

    floe = Floe(env={"FLOE_SWEEP_INTERVAL": "1"})
    yield floe
    floe.stop()


@pytest.fixture
def shop(server):
    return Shop(server)


def granted(shop, benefit_id):
    for _ in range(200):
        grants = shop.polar.benefits.grants(benefit_id).items
        if grants and grants[0].is_granted:
            return grants[0]
        time.sleep(0.05)
    raise AssertionError("the benefit was not granted")


def test_a_disputed_card_opens_a_dispute_the_merchant_accepts(shop):
    benefit = shop.polar.benefits.create(type="custom", description="Support", properties={})
    product = shop.polar.products.create(name="Disputed", prices=[{"amount_type": "fixed", "price_amount": 4200}])
    shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    calm = shop.buy(product=product, email="calm@example.com")
    order = shop.buy(product=product, card="pm_card_createDispute", email="fraud@example.com")
    granted(shop, benefit.id)

    [dispute] = shop.polar.disputes.list().items
    assert dispute.order_id == order.id and dispute.status == "needs_response"
    assert dispute.reason == "fraudulent" and dispute.amount == order.net_amount
    assert dispute.tax_amount == order.tax_amount and dispute.currency == order.currency
    assert dispute.resolved is False and dispute.closed is False and dispute.past_due is False
    assert dispute.evidence_due_by is not None and dispute.evidence_due_by > dispute.created_at
    assert dispute.customer.id == order.customer_id and dispute.customer.email == "fraud@example.com"
    assert dispute.case_id is None
    assert shop.polar.disputes.get(dispute.id).id == dispute.id
    # The order is still paid: the bank holds the money, which a refund cannot move.
    assert shop.polar.orders.get(order.id).status == "paid"
    answer = shop.raw("POST", "/v1/refunds/", json={"order_id": order.id, "amount": 100, "reason": "other"})
    assert answer.status_code == 403 and answer.json()["error"] == "RefundDisputedPayment"
    assert shop.polar.refunds.list(order_id=order.id).pagination.total_count == 0
    # An order without a dispute refunds as before.
    assert shop.refund(calm.id, 100).status == "succeeded"

    # Filters.
    assert shop.polar.disputes.list(order_id=order.id).pagination.total_count == 1
    assert shop.polar.disputes.list(order_id=calm.id).pagination.total_count == 0
    assert shop.polar.disputes.list(status=["needs_response", "lost"]).pagination.total_count == 1
    assert shop.polar.disputes.list(status="won").pagination.total_count == 0
    with pytest.raises(HTTPValidationError) as refused:
        shop.polar.disputes.list(status="closed")
    assert refused.value.error.detail[0].loc == ["query", "status", 0]

    accepted = shop.polar.disputes.accept(dispute.id)
    assert accepted.status == "lost" and accepted.resolved is True and accepted.closed is True
    assert accepted.modified_at is not None
    # Lost: what the order gave is taken back; the order's amounts stay (no refund was made).
    [grant] = [g for g in shop.polar.benefits.grants(benefit.id).items if g.customer.id == order.customer_id]
    assert grant.is_revoked and not grant.is_granted
    [other] = [g for g in shop.polar.benefits.grants(benefit.id).items if g.customer.id == calm.customer_id]
    assert other.is_granted
    after = shop.polar.orders.get(order.id)
    assert after.status == "paid" and after.refunded_amount == 0

    # Only a dispute that awaits a response can be accepted.
    again = shop.raw("POST", f"/v1/disputes/{dispute.id}/accept")
    assert again.status_code == 409
    assert again.json() == {"error": "DisputeNotOpenError", "detail": f"Dispute {dispute.id} is not awaiting a response."}
    assert shop.polar.disputes.get(dispute.id).status == "lost"


def test_a_lost_dispute_revokes_the_subscription(shop):
    monthly = shop.polar.products.create(name="Monthly", recurring_interval="month",
                                         prices=[{"amount_type": "fixed", "price_amount": 1500}])
    order = shop.buy(product=monthly, card="pm_card_createDisputeProductNotReceived", email="sub@example.com")
    subscription = shop.polar.subscriptions.get(order.subscription_id)
    assert subscription.status == "active"
    [dispute] = shop.polar.disputes.list(order_id=order.id).items
    assert dispute.reason == "product_not_received" and dispute.amount == 1500

    assert shop.polar.disputes.accept(dispute.id).status == "lost"
    revoked = shop.polar.subscriptions.get(subscription.id)
    assert revoked.status == "canceled" and revoked.ended_at is not None
    # The lost dispute's order is not refundable either.
    answer = shop.raw("POST", "/v1/refunds/", json={"order_id": order.id, "amount": 100, "reason": "other"})
    assert answer.status_code == 403 and answer.json()["error"] == "RefundDisputedPayment"


def test_sorting_paging_and_another_organizations_dispute(shop, server):
    product = shop.polar.products.create(name="Pair", prices=[{"amount_type": "fixed", "price_amount": 1000}])
    small = shop.buy(product=product, card="pm_card_createDispute", email="a@example.com")
    big_product = shop.polar.products.create(name="Big", prices=[{"amount_type": "fixed", "price_amount": 9000}])
    big = shop.buy(product=big_product, card="pm_card_createDispute", email="b@example.com")
    newest_first = [d.order_id for d in shop.polar.disputes.list().items]
    assert newest_first == [big.id, small.id]
    assert [d.order_id for d in shop.polar.disputes.list(sorting=["amount"]).items] == [small.id, big.id]
    page = shop.polar.disputes.list(limit=1, page=2)
    assert [d.order_id for d in page.items] == [small.id] and page.pagination.max_page == 2

    other = Shop(server)
    dispute_id = shop.polar.disputes.list().items[0].id
    assert other.raw("GET", f"/v1/disputes/{dispute_id}").status_code == 404
    assert other.raw("POST", f"/v1/disputes/{dispute_id}/accept").status_code == 404
    assert other.polar.disputes.list().pagination.total_count == 0
    unknown = httpx.get(f"{server.url}/v1/disputes/{uuid.uuid4()}",
                        headers={"Authorization": f"Bearer {shop.token}"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "ResourceNotFound"
