"""The renewal engine under failure and concurrency.

- kill -9: floe is killed with SIGKILL again and again while its test clock advances many
  monthly subscriptions through a year of renewals. Afterwards every subscription has exactly
  one order per period (13), every order one succeeded charge, and each paid order reached
  the merchant as one `order.paid` event (a redelivery carries the same `webhook-id`).
- Two floe processes on one database renew the same subscriptions, due at the same moment,
  both advancing the clock at once: each renewal happens once (PostgreSQL; SQLite allows
  one writer, and the same lease decides there)."""

import collections
import concurrent.futures
import random
import threading
import time
from datetime import datetime, timedelta

import httpx
import pytest

from conftest import DB, Floe
from receiver import Receiver

FAST = {
    "FLOE_ALLOW_PRIVATE_WEBHOOKS": "1",
    "FLOE_SWEEP_INTERVAL": "1",
    "FLOE_WEBHOOK_RETRY_BASE_MS": "20",
    "FLOE_WEBHOOK_RETRY_CAP_MS": "100",
    "FLOE_WEBHOOK_TIMEOUT_MS": "2000",
    "FLOE_WEBHOOK_LEASE_MS": "3000",
}


def ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def subscribe_many(server, token, count, prefix, hook=None):
    """`count` monthly subscriptions bought through checkouts, on the test Visa (with `hook`
    receiving `order.paid` from the start)."""
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if hook:
        http.post("/v1/webhooks/endpoints", json={"url": hook, "format": "raw", "events": ["order.paid"]})
    product = http.post("/v1/products/", json={
        "name": "Monthly", "recurring_interval": "month",
        "prices": [{"amount_type": "fixed", "price_amount": 1000}]}).json()

    def buy(i):
        checkout = http.post("/v1/checkouts/", json={
            "products": [product["id"]], "customer_email": f"{prefix}-{i}@example.com",
            "customer_billing_address": {"country": "FR"}}).json()
        answer = httpx.post(f"{server.url}/v1/checkouts/client/{checkout['client_secret']}/confirm",
                            json={"confirmation_token_id": "pm_card_visa"}, timeout=60)
        assert answer.status_code == 200, answer.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(buy, range(count)))
    subscriptions = []
    page = 1
    while True:
        got = http.get("/v1/subscriptions/", params={"limit": 100, "page": page}).json()
        subscriptions += got["items"]
        if page >= got["pagination"]["max_page"]:
            break
        page += 1
    assert len(subscriptions) == count
    return http, subscriptions


def all_orders(http):
    orders, page = [], 1
    while True:
        got = http.get("/v1/orders/", params={"limit": 100, "page": page}).json()
        orders += got["items"]
        if page >= got["pagination"]["max_page"]:
            return orders
        page += 1


def all_payments(http):
    payments, page = [], 1
    while True:
        got = http.get("/v1/payments/", params={"limit": 100, "page": page}).json()
        payments += got["items"]
        if page >= got["pagination"]["max_page"]:
            return payments
        page += 1


SUBSCRIPTIONS = 30
KILLS = 4


def advance_through_kills(server, token, target, pause):
    """Advances the organization's clock to `target` while floe is killed with SIGKILL and
    restarted `KILLS` times, `pause` seconds apart (a random span); the advance is asked
    again until an answer arrives (the process may die under it)."""
    stop = threading.Event()

    def advance_until_done():
        while not stop.is_set():
            try:
                answer = httpx.post(f"{server.url}/v1/test-clock/advance", json={"to": target},
                                    headers={"Authorization": f"Bearer {token}"}, timeout=300)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    advancing = threading.Thread(target=advance_until_done)
    advancing.start()
    for _ in range(KILLS):
        time.sleep(random.uniform(*pause))
        server.kill()
        server.start()
    advancing.join(timeout=600)
    stop.set()
    assert not advancing.is_alive()


def test_kill_9_while_the_clock_advances_renews_each_period_once(own_floe):
    server = own_floe(env=FAST)
    receiver = Receiver()
    try:
        organization = server.organization()
        token = server.token(organization)
        http, subscriptions = subscribe_many(server, token, SUBSCRIPTIONS, "crash", hook=receiver.url)
        start = min(ts(s["current_period_start"]) for s in subscriptions)
        target = (start + timedelta(days=366)).isoformat()

        advance_through_kills(server, token, target, pause=(1.0, 3.0))

        orders = all_orders(http)
        by_subscription = collections.defaultdict(list)
        for order in orders:
            by_subscription[order["subscription_id"]].append(order)
        assert set(by_subscription) == {s["id"] for s in subscriptions}
        for subscription_id, its in by_subscription.items():
            periods = [o["items"][0]["start_timestamp"] for o in its]
            assert len(its) == 13, (subscription_id, sorted(periods))
            assert len(set(periods)) == 13, "a period was billed twice"
            assert all(o["status"] == "paid" for o in its)
        payments = all_payments(http)
        assert len(payments) == 13 * SUBSCRIPTIONS
        assert collections.Counter(p["order_id"] for p in payments).most_common(1)[0][1] == 1
        assert all(p["status"] == "succeeded" for p in payments)

        # Each paid order is told once (redeliveries after a kill carry the same id).
        deadline = time.time() + 60
        while time.time() < deadline:
            ids_by_order = collections.defaultdict(set)
            for delivery in receiver.accepted():
                ids_by_order[delivery.json["data"]["id"]].add(delivery.id)
            if len(ids_by_order) == len(orders):
                break
            time.sleep(0.5)
        assert len(ids_by_order) == len(orders)
        assert all(len(ids) == 1 for ids in ids_by_order.values())
    finally:
        receiver.stop()


@pytest.mark.skipif(DB != "postgres", reason="two processes writing at once need PostgreSQL")
def test_two_processes_renew_a_thousand_due_subscriptions_once_each(own_floe):
    first = own_floe(env=FAST)
    second = Floe(twin_of=first)
    try:
        organization = first.organization()
        token = first.token(organization)
        http, subscriptions = subscribe_many(first, token, 1000, "twin")
        # All fall due within the same second or so; both processes advance past it at once.
        target = (max(ts(s["current_period_end"]) for s in subscriptions) + timedelta(minutes=1)).isoformat()

        def advance(server):
            answer = httpx.post(f"{server.url}/v1/test-clock/advance", json={"to": target},
                                headers={"Authorization": f"Bearer {token}"}, timeout=600)
            assert answer.status_code == 200, answer.text
            return answer.json()["renewals"]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            renewals = list(pool.map(advance, [first, second]))
        # Each renewal was made by one of them (the background workers may have taken some).
        assert sum(renewals) <= 1000
        orders = all_orders(http)
        cycles = [o for o in orders if o["billing_reason"] == "subscription_cycle"]
        assert len(cycles) == 1000
        assert len({o["subscription_id"] for o in cycles}) == 1000
        assert all(o["status"] == "paid" for o in cycles)
        payments = all_payments(http)
        assert len(payments) == 2000 and all(p["status"] == "succeeded" for p in payments)
    finally:
        second.stop()


def test_kill_9_while_meter_periods_pass_settles_each_once(own_floe):
    """A yearly plan billed for usage monthly: killed again and again while a year passes,
    each subscription still gets one usage order for its first month (the only one with
    usage), one renewal, and its meter credit renewed once per meter period (12 cycles of the
    grant: 11 meter periods and the renewal)."""
    server = own_floe(env=FAST)
    organization = server.organization()
    token = server.token(organization)
    server.cli("organization", "feature", "--organization", organization["slug"],
               "--name", "meter_cycling_enabled", "--enabled", "true")
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    meter = http.post("/v1/meters/", json={
        "name": "calls", "aggregation": {"func": "count"},
        "filter": {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "call"}]}}).json()
    product = http.post("/v1/products/", json={
        "name": "Yearly", "recurring_interval": "year", "meter_interval": "month",
        "prices": [{"amount_type": "fixed", "price_amount": 12000},
                   {"amount_type": "metered_unit", "meter_id": meter["id"], "unit_amount": "10"}]}).json()
    benefit = http.post("/v1/benefits/", json={
        "type": "meter_credit", "description": "Two calls",
        "properties": {"meter_id": meter["id"], "units": 2, "rollover": False}}).json()
    http.post(f"/v1/products/{product['id']}/benefits", json={"benefits": [benefit["id"]]})
    count = 30
    customers = []
    for i in range(count):
        checkout = http.post("/v1/checkouts/", json={
            "products": [product["id"]], "customer_email": f"metered-{i}@example.com",
            "customer_billing_address": {"country": "FR"}}).json()
        answer = httpx.post(f"{server.url}/v1/checkouts/client/{checkout['client_secret']}/confirm",
                            json={"confirmation_token_id": "pm_card_visa"}, timeout=60)
        assert answer.status_code == 200, answer.text
        customers.append(answer.json()["customer_id"])
    # Five calls each in the first month: three over the credit, billed at its end.
    assert http.post("/v1/events/ingest", json={"events": [
        {"name": "call", "customer_id": c} for c in customers for _ in range(5)]}).status_code == 200
    subscriptions = http.get("/v1/subscriptions/", params={"limit": 100}).json()["items"]
    start = min(ts(s["current_period_start"]) for s in subscriptions)
    target = (start + timedelta(days=366)).isoformat()

    advance_through_kills(server, token, target, pause=(0.3, 1.0))

    orders = all_orders(http)
    for subscription in subscriptions:
        its = [o for o in orders if o["subscription_id"] == subscription["id"]]
        reasons = collections.Counter(o["billing_reason"] for o in its)
        assert reasons == {"subscription_create": 1, "subscription_meter_cycle": 1, "subscription_cycle": 1}, reasons
        [usage] = [o for o in its if o["billing_reason"] == "subscription_meter_cycle"]
        assert (usage["total_amount"], usage["status"]) == (30, "paid")
    payments = all_payments(http)
    assert collections.Counter(p["order_id"] for p in payments).most_common(1)[0][1] == 1
    # The credit was granted once and renewed at each of the 12 boundaries, once each.
    for customer_id in customers:
        credited = http.get("/v1/events/", params={
            "customer_id": customer_id, "name": "meter.credited", "limit": 100}).json()["items"]
        assert len(credited) == 13, (customer_id, len(credited))
