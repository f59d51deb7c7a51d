"""Metrics (`GET /v1/metrics/`, `/export`, `/limits`) through the official Python SDK and
over HTTP, and the property test: random histories (orders, refunds, disputes,
subscriptions, checkouts, events with costs, seats) written into floe's tables, then every
metric of random requests (interval, time zone, filters, a choice of metrics) compared with
a plain model of the definitions (metrics_model.py, docs/metrics.md)."""

import csv
import io
import random
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError

import metrics_model
from conftest import Floe
from metrics_history import Database, change, history

UTC = timezone.utc
# Among them the extreme offsets (+14, -11) and a 45-minute one.
ZONES = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney", "Asia/Kathmandu",
         "America/Sao_Paulo", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Chatham"]
SEEDS = [20261205, 7, 42, 1999, 3, 11, 2024, 86]


@pytest.fixture(scope="module")
def server():
    floe = Floe()
    yield floe
    floe.stop()


class Shop:
    """An organization with a few products and customers, made through the API."""

    def __init__(self, server):
        self.server = server
        self.organization = server.organization()
        self.token = server.token(self.organization)
        self.polar = server.client(self.token)
        self.products = []
        for name, interval in [("Pack", None), ("Kit", None), ("Monthly", "month"), ("Yearly", "year"),
                               ("Weekly", "week")]:
            kwargs = {"recurring_interval": interval} if interval else {}
            product = self.polar.products.create(
                name=name, prices=[{"amount_type": "fixed", "price_amount": 1000}], **kwargs)
            self.products.append({"id": product.id, "billing_type": "recurring" if interval else "one_time",
                                  "recurring_interval": interval})
        self.customers = []
        for i in range(5):
            external = f"user-{i}" if i % 2 == 0 else None
            customer = self.polar.customers.create(email=f"c{i}@example.com", external_id=external)
            self.customers.append({"id": customer.id, "external_id": external})

    def get(self, path, **params):
        return httpx.get(f"{self.server.url}{path}", params=params,
                         headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


def random_request(rng, shop):
    interval = rng.choice(["hour", "day", "day", "week", "month", "month", "year"])
    span = {"hour": 3, "day": 120, "week": 200, "month": 500, "year": 800}[interval]
    start = date(2025, 1, 1) + timedelta(days=rng.randrange(330))
    end = start + timedelta(days=rng.randrange(span))
    params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "interval": interval,
              "timezone": rng.choice(ZONES)}
    choice = rng.random()
    if choice < 0.25:
        params["product_id"] = [p["id"] for p in rng.sample(shop.products, rng.choice([1, 2, 3]))]
    elif choice < 0.35:
        params["billing_type"] = rng.choice(["one_time", "recurring"])
    elif choice < 0.5:
        params["customer_id"] = [rng.choice(shop.customers)["id"]]
    if rng.random() < 0.2:
        params["metrics"] = rng.sample(metrics_model.SLUGS, 5)
    return params


@pytest.mark.parametrize("seed", SEEDS)
def test_every_metric_matches_the_model_over_random_histories(server, seed):
    rng = random.Random(seed)
    shop = Shop(server)
    model_history, rows = history(rng, shop.organization["id"], shop.products, shop.customers,
                                  datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    db = Database(server)
    db.write(rows)
    served_before = served_from_rollups(server)
    rolled = 0
    for round in range(2):
        if round == 1:
            # Changes to rows already rolled up must move the rollups exactly.
            change(rng, db, model_history, rows, datetime(2025, 1, 1, tzinfo=UTC),
                   datetime(2026, 1, 1, tzinfo=UTC))
        for _ in range(12):
            params = random_request(rng, shop)
            rolled += "customer_id" not in params
            answer = shop.get("/v1/metrics/", **params)
            assert answer.status_code == 200, (params, answer.text)
            expected = metrics_model.compute(
                model_history, params["start_date"], params["end_date"], params["interval"], params["timezone"],
                product_id=params.get("product_id"),
                billing_type=[params["billing_type"]] if "billing_type" in params else None,
                customer_id=params.get("customer_id"), metrics=params.get("metrics"))
            mismatches = metrics_model.compare(expected, answer.json())
            assert mismatches == [], (round, params, mismatches[:10])
    # Every request without a customer filter was served from the rollups (the others from
    # the rows).
    assert served_from_rollups(server) - served_before == rolled > 0


def test_a_subscription_that_changed_product_renews_once_per_period_under_each_filter(server):
    """Weekly subscriptions whose first orders were of the monthly product: in the period of
    the change, their first renewal under the weekly product follows monthly orders, and a
    filter on either product (or both) counts each subscription once (read one by one)."""
    shop = Shop(server)
    weekly = next(p for p in shop.products if p["recurring_interval"] == "week")
    monthly = next(p for p in shop.products if p["recurring_interval"] == "month")
    def orders_of(subscription):
        return sorted((o for o in model_history["orders"] if o["subscription_id"] == subscription),
                      key=lambda o: o["created_at"])

    # A history with weekly renewals (eight orders a week apart, at least).
    for seed in range(100):
        rng = random.Random(seed)
        model_history, rows = history(rng, shop.organization["id"], shop.products, shop.customers,
                                      datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
        changed = [s["id"] for s in model_history["subscriptions"] if len(orders_of(s["id"])) >= 8
                   and orders_of(s["id"])[1]["created_at"] - orders_of(s["id"])[0]["created_at"] == timedelta(days=7)]
        if changed:
            break
    assert changed
    row_of = {row["id"]: row for row in rows["orders"]}
    for subscription, row in zip(model_history["subscriptions"], rows["subscriptions"]):
        if subscription["id"] in changed:
            subscription["product_id"] = row["product_id"] = weekly["id"]
    for subscription in changed:
        orders = orders_of(subscription)
        for position, order in enumerate(orders):
            values = {"status": "paid", "product_id": monthly["id"] if position < len(orders) // 2 else weekly["id"]}
            order.update(values)
            row_of[order["id"]].update(values)
    Database(server).write(rows)
    served_before = served_from_rollups(server)
    asked = 0
    for interval in ["week", "month", "year"]:
        for products in [[weekly], [monthly], [weekly, monthly]]:
            for zone in ["UTC", "Asia/Kolkata"]:
                params = {"start_date": "2025-01-01", "end_date": "2025-12-31", "interval": interval,
                          "timezone": zone, "product_id": [p["id"] for p in products]}
                answer = shop.get("/v1/metrics/", **params)
                assert answer.status_code == 200, answer.text
                expected = metrics_model.compute(model_history, "2025-01-01", "2025-12-31", interval, zone,
                                                 product_id=params["product_id"])
                assert metrics_model.compare(expected, answer.json()) == [], params
                asked += 1
    assert served_from_rollups(server) - served_before == asked


def served_from_rollups(server):
    """How many metrics requests floe answered from its rollups so far (from its log)."""
    return server._log_text().count('"from_rollups":true')


def test_the_sdk_reads_metrics_limits_and_the_export(server):
    shop = Shop(server)
    rng = random.Random(5)
    model_history, rows = history(rng, shop.organization["id"], shop.products, shop.customers,
                                  datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    Database(server).write(rows)

    metrics = shop.polar.metrics.get(start_date=date(2025, 1, 1), end_date=date(2025, 12, 31), interval="month",
                                     timezone="Europe/Paris")
    assert len(metrics.periods) == 12
    assert str(metrics.periods[0].timestamp) in ("2024-12-31T23:00:00Z", "2024-12-31 23:00:00+00:00")
    assert metrics.metrics.monthly_recurring_revenue.type == "currency"
    assert metrics.metrics.orders.display_name == "Orders"
    expected = metrics_model.compute(model_history, "2025-01-01", "2025-12-31", "month", "Europe/Paris")
    assert metrics.totals.orders == expected["totals"]["orders"]
    assert [p.revenue for p in metrics.periods] == [p["revenue"] for p in expected["periods"]]

    limits = shop.polar.metrics.limits()
    assert str(limits.min_date) == "2023-01-01"
    assert (limits.intervals.day.min_days, limits.intervals.day.max_days) == (0, 366)
    assert (limits.intervals.hour.max_days, limits.intervals.month.max_days) == (7, 1460)

    export = shop.get("/v1/metrics/export", start_date="2025-03-01", end_date="2025-03-31", interval="week",
                      metrics=["orders", "revenue", "checkouts_conversion"])
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert 'filename="polar-metrics.csv"' in export.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(export.text)))
    assert table[0] == ["Timestamp", "Orders", "Revenue", "Checkouts Conversion Rate"]
    weekly = metrics_model.compute(model_history, "2025-03-01", "2025-03-31", "week",
                                   metrics=["orders", "revenue", "checkouts_conversion"])
    assert len(table) == 1 + len(weekly["periods"]) == 1 + 6
    assert table[1][0] == "2025-02-24T00:00:00+00:00"
    for line, period in zip(table[1:], weekly["periods"]):
        assert int(line[1]) == period["orders"] and int(line[2]) == period["revenue"]
        assert float(line[3]) == pytest.approx(period["checkouts_conversion"])


def test_bad_requests_are_422_in_the_contracts_shape(server):
    shop = Shop(server)
    with pytest.raises(HTTPValidationError) as refused:
        shop.polar.metrics.get(start_date=date(2024, 1, 1), end_date=date(2025, 6, 1), interval="day")
    [issue] = refused.value.error.detail
    assert issue.loc == ["query"] and issue.msg.startswith("The interval is too small")
    reversed_range = shop.get("/v1/metrics/", start_date="2025-02-01", end_date="2025-01-01", interval="day")
    assert reversed_range.status_code == 422
    unknown = shop.get("/v1/metrics/", start_date="2025-01-01", end_date="2025-01-31", interval="day",
                       metrics=["revenue", "vibes", "aura"])
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "metrics"]
    assert unknown.json()["detail"][0]["msg"] == "Invalid metric slugs: aura, vibes"
    missing = shop.get("/v1/metrics/", interval="fortnight", timezone="Mars/Olympus")
    assert missing.status_code == 422
    assert {tuple(i["loc"]) for i in missing.json()["detail"]} == {
        ("query", "start_date"), ("query", "end_date"), ("query", "interval"), ("query", "timezone")}
    # Another organization's ID filters everything out.
    other = shop.get("/v1/metrics/", start_date="2025-01-01", end_date="2025-01-02", interval="day",
                     organization_id="00000000-0000-4000-8000-000000000000", metrics=["orders"])
    assert other.status_code == 200 and other.json()["totals"] == {"orders": 0}


def test_sales_made_through_the_api_show_in_the_metrics(server):
    """Orders, a refund and a lost dispute made through the API, not written directly:
    revenue counts what was charged, net revenue what was kept."""
    from test_refunds import Shop as Seller

    seller = Seller(server)
    product = seller.polar.products.create(name="Counted", prices=[{"amount_type": "fixed", "price_amount": 4000}])
    kept = seller.buy(product=product, email="kept@example.com")
    refunded = seller.buy(product=product, email="refunded@example.com")
    seller.buy(product=product, card="pm_card_createDispute", email="disputed@example.com")
    seller.refund(refunded.id, 1500)
    [dispute] = seller.polar.disputes.list().items
    seller.polar.disputes.accept(dispute.id)
    assert kept.status == "paid"

    today = datetime.now(UTC).date()
    answer = seller.polar.metrics.get(start_date=today - timedelta(days=1), end_date=today + timedelta(days=1),
                                      interval="day", metrics=["orders", "revenue", "net_revenue",
                                                               "one_time_products_net_revenue"])
    assert answer.totals.orders == 3 and answer.totals.revenue == 12000
    # The refund in its order's period; the lost dispute when it was lost.
    assert answer.totals.net_revenue == 12000 - 1500 - 4000
    assert answer.totals.one_time_products_net_revenue == 12000 - 1500
