"""Random billing histories for the metrics property test: the same history as plain
dicts (what `metrics_model.compute` reads) and as rows written straight into floe's
tables (orders, refunds, disputes, subscriptions, checkouts, events, seats), since a year
of history cannot be made through the API in a test's time. Products and customers are
made through the API first; everything here refers to them.

Rows are written with every column floe requires (found from the database's own
catalogue), in the forms floe stores: UUIDs as blobs on SQLite, timestamps as RFC 3339
text with microseconds, booleans as 0/1 on SQLite."""

import json
import random
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

# Statuses of rows that no worker of floe picks up again (a pending refund or an open
# checkout would be settled or expired behind the test's back).
ORDER_STATUSES = ["paid", "paid", "paid", "partially_refunded", "refunded", "pending", "void"]
REFUND_STATUSES = ["succeeded", "succeeded", "succeeded", "failed", "canceled"]
DISPUTE_STATUSES = ["needs_response", "under_review", "won", "lost", "lost"]
CHECKOUT_STATUSES = ["succeeded", "expired", "failed"]
REASONS = ["customer_service", "low_quality", "missing_features", "switched_service", "too_complex",
           "too_expensive", "unused", "other", None]


class Database:
    """Writes rows into the database of a running floe (`conftest.Floe`)."""

    def __init__(self, server):
        self.server = server
        self.postgres = bool(server.env.get("FLOE_DATABASE_URL"))
        self._columns = {}

    def columns(self, table):
        """{column: (type, required)} of `table`."""
        if table not in self._columns:
            if self.postgres:
                rows = self.server.sql(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                    f"WHERE table_name = '{table}' AND table_schema = current_schema()")
                self._columns[table] = {name: (kind, nullable == "NO") for name, kind, nullable in rows}
            else:
                rows = self.server.sql(f"SELECT name, type, \"notnull\" FROM pragma_table_info('{table}')")
                self._columns[table] = {name: (kind, required == "1") for name, kind, required in rows}
        return self._columns[table]

    def literal(self, kind, value):
        kind = kind.lower()
        if value is None:
            return "NULL"
        if "uuid" in kind:
            return f"X'{uuid.UUID(str(value)).hex}'" if not self.postgres else f"'{value}'"
        if "timestamp" in kind:
            return "'" + value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00") + "'"
        if "bool" in kind:
            return ("TRUE" if value else "FALSE") if self.postgres else ("1" if value else "0")
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def default(self, kind, column):
        kind = kind.lower()
        if "uuid" in kind:
            return uuid.uuid4()
        if "timestamp" in kind:
            return datetime(2025, 1, 1, tzinfo=UTC)
        if "bool" in kind:
            return False
        if "int" in kind or "numeric" in kind or "double" in kind or "real" in kind:
            return 0
        if column in ("metadata", "custom_field_data", "customer_metadata", "flags",
                      "payment_processor_metadata"):
            return "{}"
        if column == "confirm_attempts":
            return "[]"
        return ""

    def statement(self, table, row):
        columns = self.columns(table)
        full = {name: self.default(kind, name) for name, (kind, required) in columns.items()
                if required and name not in row}
        full.update(row)
        names = ", ".join(f'"{name}"' for name in full)
        values = ", ".join(self.literal(columns[name][0], value) for name, value in full.items())
        return f'INSERT INTO "{table}" ({names}) VALUES ({values});'

    def write(self, tables):
        """Writes {table: [row, …]} in one transaction."""
        self.run("\n".join(self.statement(table, row) for table, rows in tables.items() for row in rows))

    def update(self, table, id, values):
        """Sets `values` ({column: value}) on the row `id` of `table`, in a transaction of its own."""
        columns = self.columns(table)
        sets = ", ".join(f'"{name}" = {self.literal(columns[name][0], value)}' for name, value in values.items())
        self.run(f'UPDATE "{table}" SET {sets} WHERE id = {self.literal(columns["id"][0], id)};')

    def run(self, statements):
        script = "BEGIN;\n" + statements + "\nCOMMIT;\n"
        if self.postgres:
            subprocess.run(["psql", self.server.env["FLOE_DATABASE_URL"], "-q", "-v", "ON_ERROR_STOP=1"],
                           input=script, check=True, capture_output=True, text=True)
        else:
            import os
            import sqlite3

            db = sqlite3.connect(os.path.join(self.server.dir, "floe.db"), timeout=30)
            try:
                db.executescript(script)
            finally:
                db.close()


def change(rng, db, model, rows, start, end):
    """Changes a random part of a history already written (and rolled up): orders paid or
    voided, subscriptions ended, resumed, started later or moved to another product,
    disputes lost; in the database and in the model alike."""
    disputed = {d["order_id"] for d in model["disputes"]}  # (a disputed payment stays paid)
    for order, row in zip(model["orders"], rows["orders"]):
        if rng.random() < 0.1 and order["status"] in ("paid", "pending", "void") and order["id"] not in disputed:
            status = "void" if order["status"] == "paid" else "paid"
            order["status"] = row["status"] = status
            db.update("orders", order["id"], {"status": status})
    for sub, row in zip(model["subscriptions"], rows["subscriptions"]):
        fate = rng.random()
        if fate < 0.15 and sub["ended_at"] is None:
            at = moment(rng, sub["started_at"], end)
            values = {"ended_at": at, "ends_at": at, "canceled_at": at,
                      "customer_cancellation_reason": rng.choice(REASONS)}
        elif fate < 0.3 and sub["ended_at"] is not None:
            values = {"ended_at": None, "ends_at": None, "canceled_at": None, "customer_cancellation_reason": None}
        elif fate < 0.4:
            values = {"started_at": sub["started_at"] + timedelta(hours=rng.choice([1, 30, 24 * 40]))}
        elif fate < 0.5:
            # Moved to another product: its later metrics count under that one.
            recurring = [p["id"] for p in model["products"] if p["billing_type"] == "recurring"]
            values = {"product_id": rng.choice(recurring)}
        else:
            continue
        sub.update(values)
        row.update(values)
        db.update("subscriptions", sub["id"], values)
    for dispute, row in zip(model["disputes"], rows["disputes"]):
        if dispute["status"] in ("needs_response", "under_review") and rng.random() < 0.5:
            values = {"status": "lost", "closed_at": moment(rng, start, end)}
            dispute.update(values)
            db.update("disputes", row["id"], values)


def moment(rng, start, end):
    """A random instant in [start, end), to the second."""
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


def near_period_start(rng, at):
    """An instant within 20 hours of the UTC start of `at`'s month or week, where time
    zones disagree about the period it is in (floe decides such orders one by one)."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    start = day.replace(day=1) if rng.random() < 0.5 else day - timedelta(days=day.weekday())
    return start + timedelta(seconds=rng.randrange(-20 * 3600, 20 * 3600))


def history(rng, organization_id, products, customers, start, end):
    """A random history between `start` and `end` (aware datetimes) over `products`
    ([{id, billing_type, recurring_interval}]) and `customers` ([{id, external_id}]).
    Returns (history for the model, {table: rows} for the database)."""
    org = organization_id
    recurring = [p for p in products if p["billing_type"] == "recurring"]
    one_time = [p for p in products if p["billing_type"] == "one_time"]
    model = {"products": products, "customers": customers, "orders": [], "refunds": [], "disputes": [],
             "subscriptions": [], "checkouts": [], "events": [], "seats": []}
    rows = {"subscriptions": [], "orders": [], "refunds": [], "disputes": [], "checkouts": [],
            "checkout_products": [], "events": [], "customer_seats": []}

    def add_order(created_at, product, customer, subscription_id=None, seats=None):
        status = rng.choice(ORDER_STATUSES)
        net = rng.choice([0, 500, 999, 1500, 4900, 12000])
        fee = rng.choice([0, 0, 0, 30])
        order = {"id": str(uuid.uuid4()), "created_at": created_at, "status": status, "net_amount": net,
                 "platform_fee_amount": fee, "subscription_id": subscription_id, "product_id": product["id"],
                 "customer_id": customer["id"]}
        model["orders"].append(order)
        rows["orders"].append({
            "id": order["id"], "created_at": created_at, "organization_id": org, "status": status,
            "subtotal_amount": net, "discount_amount": 0, "net_amount": net, "tax_amount": 0,
            "total_amount": net, "platform_fee_amount": fee, "currency": "usd", "billing_reason": "purchase",
            "customer_id": customer["id"], "product_id": product["id"], "subscription_id": subscription_id,
            "seats": seats, "paid_at": created_at if status != "pending" else None,
            "grants_done_at": created_at})
        if status in ("paid", "partially_refunded", "refunded") and net > 0:
            refunded = 0
            for _ in range(rng.choice([0, 0, 1, 2])):
                refund = {"order_id": order["id"], "amount": rng.randint(1, net),
                          "status": rng.choice(REFUND_STATUSES)}
                model["refunds"].append(refund)
                rows["refunds"].append({
                    "id": str(uuid.uuid4()), "created_at": created_at + timedelta(days=1), "organization_id": org,
                    "order_id": order["id"], "customer_id": customer["id"], "status": refund["status"],
                    "reason": "other", "amount": refund["amount"], "tax_amount": 0, "currency": "usd",
                    "revoke_benefits": False, "processor": "test", "processor_id": f"re_{uuid.uuid4().hex}"})
                if refund["status"] == "succeeded":
                    refunded += refund["amount"]
            # As floe keeps it: what succeeded refunds gave back, on the order.
            rows["orders"][-1]["refunded_amount"] = refunded
            if rng.random() < 0.15:
                status = rng.choice(DISPUTE_STATUSES)
                closed_at = (moment(rng, created_at, end + timedelta(days=30))
                             if status in ("won", "lost") else None)
                dispute = {"order_id": order["id"], "amount": net, "status": status, "closed_at": closed_at}
                model["disputes"].append(dispute)
                rows["disputes"].append({
                    "id": str(uuid.uuid4()), "created_at": created_at, "organization_id": org,
                    "order_id": order["id"], "payment_id": str(uuid.uuid4()), "customer_id": customer["id"],
                    "status": status, "amount": net, "tax_amount": 0, "currency": "usd", "past_due": False,
                    "processor": "test", "processor_id": f"dp_{uuid.uuid4().hex}", "closed_at": closed_at})
        return order

    # Subscriptions, each with its orders.
    for _ in range(rng.randint(4, 14)):
        product = rng.choice(recurring)
        customer = rng.choice(customers)
        created_at = moment(rng, start - timedelta(days=60), end)
        if rng.random() < 0.3:
            created_at = min(near_period_start(rng, created_at), end - timedelta(seconds=1))
        started_at = created_at + timedelta(minutes=rng.choice([0, 0, 5]))
        trial_end = started_at + timedelta(days=rng.choice([7, 14, 40])) if rng.random() < 0.3 else None
        ended_at = ends_at = canceled_at = reason = None
        fate = rng.random()
        if fate < 0.25:
            canceled_at = moment(rng, started_at, end + timedelta(days=20))
            ended_at = canceled_at
        elif fate < 0.45:
            canceled_at = moment(rng, started_at, end + timedelta(days=20))
            ends_at = canceled_at + timedelta(days=rng.randint(1, 40))
        if canceled_at is not None:
            reason = rng.choice(REASONS)
        interval = product["recurring_interval"]
        count = rng.choice([1, 1, 2])
        amount = rng.choice([900, 1999, 4900, 12000])
        seats = rng.choice([None, None, 3])
        subscription = {"id": str(uuid.uuid4()), "created_at": created_at, "started_at": started_at,
                        "ended_at": ended_at, "ends_at": ends_at, "canceled_at": canceled_at,
                        "customer_cancellation_reason": reason, "amount": amount, "recurring_interval": interval,
                        "recurring_interval_count": count, "trial_end": trial_end, "customer_id": customer["id"],
                        "product_id": product["id"]}
        model["subscriptions"].append(subscription)
        rows["subscriptions"].append({
            "id": subscription["id"], "created_at": created_at, "organization_id": org,
            "customer_id": customer["id"], "product_id": product["id"],
            "status": "canceled" if ended_at else ("trialing" if trial_end else "active"), "amount": amount,
            "currency": "usd", "recurring_interval": interval, "recurring_interval_count": count,
            "current_period_start": started_at, "current_period_end": started_at + timedelta(days=30),
            "trial_start": started_at if trial_end else None, "trial_end": trial_end,
            "cancel_at_period_end": ends_at is not None, "canceled_at": canceled_at, "started_at": started_at,
            "ends_at": ends_at or ended_at, "ended_at": ended_at, "anchor_day": started_at.day,
            "customer_cancellation_reason": reason, "seats": seats, "grants_done_at": started_at})
        stop = min(end, ended_at or ends_at or end)
        # Some change product on the way: their earlier orders are of another product.
        earlier, switched_at = product, None
        if rng.random() < 0.4:
            earlier = rng.choice([p for p in recurring if p is not product])
            switched_at = moment(rng, started_at, max(stop, started_at + timedelta(days=1)))
        at = started_at
        while at < stop:
            paid_for = earlier if switched_at and at < switched_at else product
            add_order(at, paid_for, customer, subscription["id"], seats)
            days = {"day": 1, "week": 7, "month": 30, "year": 365}[paid_for["recurring_interval"]]
            at += timedelta(days=days * count)
        if seats:
            for _ in range(rng.randint(1, 3)):
                add_seat(rng, model, rows, org, started_at, end, subscription_id=subscription["id"], owner=customer)

    # One-time purchases.
    for _ in range(rng.randint(5, 25)):
        product = rng.choice(one_time)
        customer = rng.choice(customers)
        seats = rng.choice([None, None, None, 2])
        order = add_order(moment(rng, start - timedelta(days=60), end), product, customer, seats=seats)
        if seats:
            add_seat(rng, model, rows, org, order["created_at"], end, order_id=order["id"], owner=customer)

    # Checkouts.
    for _ in range(rng.randint(3, 15)):
        created_at = moment(rng, start - timedelta(days=10), end)
        chosen = rng.sample(products, rng.choice([1, 1, 2]))
        customer = rng.choice(customers + [None])
        checkout = {"id": str(uuid.uuid4()), "created_at": created_at, "status": rng.choice(CHECKOUT_STATUSES),
                    "product_ids": [p["id"] for p in chosen], "customer_id": customer and customer["id"]}
        model["checkouts"].append(checkout)
        rows["checkouts"].append({
            "id": checkout["id"], "created_at": created_at, "organization_id": org, "status": checkout["status"],
            "client_secret": f"polar_c_{uuid.uuid4().hex}", "processor": "test",
            "expires_at": created_at + timedelta(hours=1), "currency": "usd",
            "customer_id": checkout["customer_id"], "product_id": chosen[0]["id"]})
        for position, product in enumerate(chosen):
            rows["checkout_products"].append({"checkout_id": checkout["id"], "product_id": product["id"],
                                              "position": position})

    # Events, some with a cost.
    externals = [c["external_id"] for c in customers if c["external_id"]] + ["stranger-1", "stranger-2"]
    for _ in range(rng.randint(5, 40)):
        timestamp = moment(rng, start - timedelta(days=20), end)
        who = rng.random()
        customer_id = rng.choice(customers)["id"] if who < 0.5 else None
        external = rng.choice(externals) if who >= 0.4 else None
        cost = rng.choice([None, None, 0.5, 12.25, 0.000123456789, 3])
        metadata = {"_cost": {"amount": cost, "currency": "usd"}} if cost is not None else {"k": "v"}
        if cost is not None and rng.random() < 0.1:
            metadata["_cost"]["currency"] = "eur"
            cost = None
        model["events"].append({"timestamp": timestamp, "customer_id": customer_id,
                                "external_customer_id": external, "cost": cost})
        rows["events"].append({"id": str(uuid.uuid4()), "organization_id": org, "timestamp": timestamp,
                               "ingested_at": timestamp, "name": "usage", "source": "user",
                               "customer_id": customer_id, "external_customer_id": external,
                               "metadata": json.dumps(metadata)})
    return model, rows


def add_seat(rng, model, rows, org, after, end, owner, subscription_id=None, order_id=None):
    created_at = moment(rng, after, end + timedelta(days=5))
    claimed_at = created_at + timedelta(days=rng.randint(0, 20)) if rng.random() < 0.6 else None
    revoked_at = created_at + timedelta(days=rng.randint(1, 90)) if rng.random() < 0.3 else None
    model["seats"].append({"created_at": created_at, "claimed_at": claimed_at, "revoked_at": revoked_at,
                           "subscription_id": subscription_id, "order_id": order_id})
    rows["customer_seats"].append({
        "id": str(uuid.uuid4()), "created_at": created_at, "organization_id": org,
        "status": "revoked" if revoked_at else ("claimed" if claimed_at else "pending"),
        "subscription_id": subscription_id, "order_id": order_id, "claimed_at": claimed_at,
        "revoked_at": revoked_at, "customer_id": owner["id"] if claimed_at else None})
