"""The crash test of the sale: many checkouts are confirmed concurrently while floe is
killed with SIGKILL several times. Afterwards every confirmation that was answered with a
2xx has exactly one paid order and one succeeded payment, no checkout is paid twice
(buyers whose answer was lost retry, as a browser would), and each paid order reaches the
merchant as one `order.paid` event (a redelivery carries the same `webhook-id`)."""

import concurrent.futures
import threading
import time

import httpx

from receiver import Receiver

FAST = {
    "FLOE_ALLOW_PRIVATE_WEBHOOKS": "1",
    "FLOE_WEBHOOK_RETRY_BASE_MS": "20",
    "FLOE_WEBHOOK_RETRY_CAP_MS": "100",
    "FLOE_WEBHOOK_TIMEOUT_MS": "2000",
    "FLOE_WEBHOOK_LEASE_MS": "3000",
}
CHECKOUTS = 150
KILLS = 3


def test_kill_9_while_confirming_loses_no_payment_and_pays_nothing_twice(own_floe):
    server = own_floe(env=FAST)
    receiver = Receiver()
    try:
        organization = server.organization()
        polar = server.client(server.token(organization))
        polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw", events=["order.paid"])
        product = polar.products.create(name="Crash-proof", prices=[{"amount_type": "fixed", "price_amount": 700}])
        checkouts = [
            polar.checkouts.create(products=[product.id], customer_email=f"crash-{i}@example.com",
                                   customer_billing_address={"country": "FR"})
            for i in range(CHECKOUTS)
        ]
        answered = {}  # checkout id -> status code of the answer that arrived
        lost = []  # confirmations whose answer never came (the process died)
        lock = threading.Lock()
        done = threading.Event()

        def confirm(checkout):
            """Confirms until an answer arrives, like a buyer pressing Pay again after an
            error page."""
            for _ in range(200):
                try:
                    response = httpx.post(
                        f"{server.url}/v1/checkouts/client/{checkout.client_secret}/confirm",
                        json={"confirmation_token_id": "pm_card_visa"}, timeout=10)
                except httpx.TransportError:
                    with lock:
                        lost.append(checkout.id)
                    time.sleep(0.05)
                    continue
                if response.status_code >= 500:
                    time.sleep(0.05)
                    continue
                with lock:
                    answered[checkout.id] = response.status_code
                return

        def killer():
            for _ in range(KILLS):
                time.sleep(0.3)
                if done.is_set():
                    return
                server.kill()
                time.sleep(0.1)
                server.start()

        chaos = threading.Thread(target=killer)
        chaos.start()
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(confirm, checkouts))
        done.set()
        chaos.join()

        # The kills hit confirmations in flight (else this test proves nothing).
        assert lost, "no confirmation was interrupted: kill sooner or confirm more"
        print(f"{len(lost)} confirmations interrupted by {KILLS} kills; "
              f"{sum(1 for s in answered.values() if s == 403)} retries found their checkout already paid")
        # Every buyer got an answer: 200 for the confirmation that paid, or 403 (not open
        # any more) for a retry whose first attempt had committed before the kill.
        assert set(answered) == {c.id for c in checkouts}
        assert set(answered.values()) <= {200, 403}, answered
        for checkout in checkouts:
            seen = polar.checkouts.get(checkout.id)
            orders = polar.orders.list(checkout_id=checkout.id).items
            payments = polar.payments.list(checkout_id=checkout.id).items
            assert seen.status == "succeeded", (checkout.id, seen.status, answered[checkout.id])
            assert len(orders) == 1 and orders[0].status == "paid", (checkout.id, orders)
            assert [p.status for p in payments] == ["succeeded"], (checkout.id, payments)
            assert payments[0].order_id == orders[0].id

        order_ids = {polar.orders.list(checkout_id=c.id).items[0].id for c in checkouts}
        deadline = time.time() + 60
        while time.time() < deadline:
            delivered = {d.json["data"]["id"] for d in receiver.accepted()}
            if delivered >= order_ids:
                break
            time.sleep(0.1)
        by_order = {}
        for delivery in receiver.accepted():
            by_order.setdefault(delivery.json["data"]["id"], set()).add(delivery.id)
        assert set(by_order) == order_ids
        assert all(len(ids) == 1 for ids in by_order.values()), "an order.paid was sent as two events"
    finally:
        receiver.stop()
