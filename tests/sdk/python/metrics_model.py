"""An independent reference model of `GET /v1/metrics/`: the 55 metrics of docs/metrics.md
computed in plain Python from a plain history, for property tests that compare it with
floe's answer. Where docs/metrics.md is silent, it follows Polar's behaviour as described in
docs/research/polar-metrics.md.

`history` is a dict of lists of dicts (every datetime timezone-aware):

    products       {id, billing_type: "one_time" | "recurring"}
    customers      {id, external_id}
    orders         {id, created_at, status, net_amount, platform_fee_amount,
                    subscription_id, product_id, customer_id}
    refunds        {order_id, amount, status}
    disputes       {order_id, amount, status, closed_at}
    subscriptions  {id, created_at, started_at, ended_at, ends_at, canceled_at,
                    customer_cancellation_reason, amount, recurring_interval,
                    recurring_interval_count, trial_end, customer_id, product_id}
    checkouts      {id, created_at, status, product_ids, customer_id}
    events         {timestamp, customer_id, external_customer_id, cost}
    seats          {created_at, claimed_at, revoked_at, subscription_id, order_id}

Time is handled with instants only: a period is `[t, t_next)` where `t` is the local start
of the hour/day/week/month/year and `t_next` the next one, so Polar's comparisons of
truncated timestamps become plain comparisons (`trunc(x) <= t` is `x < t_next`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

SLUGS = [
    "active_subscriptions",
    "committed_subscriptions",
    "monthly_recurring_revenue",
    "trial_monthly_recurring_revenue",
    "committed_monthly_recurring_revenue",
    "trial_committed_monthly_recurring_revenue",
    "average_revenue_per_user",
    "checkouts",
    "succeeded_checkouts",
    "churned_subscriptions",
    "churn_rate",
    "seats_total",
    "seats_claimed",
    "seats_pending",
    "seat_customers",
    "new_seat_customers",
    "churned_seat_customers",
    "orders",
    "revenue",
    "net_revenue",
    "cumulative_revenue",
    "net_cumulative_revenue",
    "costs",
    "cumulative_costs",
    "average_order_value",
    "net_average_order_value",
    "cost_per_user",
    "active_user_by_event",
    "one_time_products",
    "one_time_products_revenue",
    "one_time_products_net_revenue",
    "new_subscriptions",
    "new_subscriptions_revenue",
    "new_subscriptions_net_revenue",
    "renewed_subscriptions",
    "renewed_subscriptions_revenue",
    "renewed_subscriptions_net_revenue",
    "canceled_subscriptions",
    "canceled_subscriptions_customer_service",
    "canceled_subscriptions_low_quality",
    "canceled_subscriptions_missing_features",
    "canceled_subscriptions_switched_service",
    "canceled_subscriptions_too_complex",
    "canceled_subscriptions_too_expensive",
    "canceled_subscriptions_unused",
    "canceled_subscriptions_other",
    "annual_recurring_revenue",
    "committed_annual_recurring_revenue",
    "checkouts_conversion",
    "ltv",
    "gross_margin",
    "gross_margin_percentage",
    "cashflow",
    "average_seats_per_customer",
    "seat_utilization_rate",
]

INTERVALS = ("year", "month", "week", "day", "hour")

# Cancellation reasons with a metric of their own; anything else (`other`, none) is "other".
REASONS = (
    "customer_service",
    "low_quality",
    "missing_features",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)

# Orders that were paid at some point; later refunds do not take them out of the counts.
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})


# ----------------------------------------------------------------------------------------
# Calendar: period starts, bounds, bucketing


def _zone(tz) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # fold=0: a midnight skipped by a DST jump resolves with the offset before the jump,
    # as Python's (and Postgres') local-time arithmetic does.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


class Calendar:
    """The periods of a request and its original bounds `[start, end)` (`end` is the first
    instant after `end_date`, local)."""

    def __init__(self, start_date, end_date, interval: str, tz="UTC"):
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r}")
        self.zone = _zone(tz)
        self.interval = interval
        start_date, end_date = _as_date(start_date), _as_date(end_date)
        self.start = _local_midnight(start_date, self.zone)
        self.end = _local_midnight(end_date + timedelta(days=1), self.zone)
        self.anchor = self._truncate(start_date)

        # Every period whose start falls before the end of `end_date`: the end date's own
        # period is always included, even when it runs past `end`.
        self.starts: list[datetime] = []
        k = 0
        while (t := self._nth(k)) < self.end:
            self.starts.append(t)
            k += 1
        self.ends = self.starts[1:] + [self._nth(k)]

    def _truncate(self, day: date) -> date:
        if self.interval == "week":  # weeks start on Monday
            return day - timedelta(days=day.weekday())
        if self.interval == "month":
            return day.replace(day=1)
        if self.interval == "year":
            return day.replace(month=1, day=1)
        return day

    def _nth(self, k: int) -> datetime:
        """Start of the k-th period, stepped in local calendar time."""
        if self.interval == "hour":
            # Hours are the same length everywhere, so absolute steps from a local midnight
            # are local hour starts (:30 in Asia/Kolkata), 23 or 25 of them on DST days.
            return _local_midnight(self.anchor, self.zone) + timedelta(hours=k)
        if self.interval == "day":
            day = self.anchor + timedelta(days=k)
        elif self.interval == "week":
            day = self.anchor + timedelta(weeks=k)
        elif self.interval == "month":
            years, month0 = divmod(self.anchor.month - 1 + k, 12)
            day = date(self.anchor.year + years, month0 + 1, 1)
        else:
            day = date(self.anchor.year + k, 1, 1)
        return _local_midnight(day, self.zone)

    def __len__(self) -> int:
        return len(self.starts)

    def period(self, x: datetime | None) -> int | None:
        """Index of the period holding `x`, ignoring the bounds; None outside the series."""
        if x is None:
            return None
        i = bisect_right(self.starts, x) - 1
        if i < 0 or x >= self.ends[i]:
            return None
        return i

    def in_bounds(self, x: datetime | None) -> bool:
        return x is not None and self.start <= x < self.end

    def bucket(self, x: datetime | None) -> int | None:
        """Index of the period holding `x` when `x` is inside the requested range."""
        return self.period(x) if self.in_bounds(x) else None

    def days_before(self, t: datetime, days: int) -> datetime:
        """`t` minus whole days of local calendar time (the same wall-clock time)."""
        local = t.astimezone(self.zone).replace(tzinfo=None) - timedelta(days=days)
        return local.replace(tzinfo=self.zone).astimezone(UTC)


def period_starts(start_date, end_date, interval: str, tz="UTC") -> list[datetime]:
    """Timestamps (UTC) of the periods `GET /v1/metrics/` answers for these parameters."""
    return list(Calendar(start_date, end_date, interval, tz).starts)


# ----------------------------------------------------------------------------------------
# Money helpers


def round_half_away(q: Fraction) -> int:
    whole = math.floor(abs(q) + Fraction(1, 2))
    return whole if q >= 0 else -whole


def ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def monthly(sub: dict) -> int:
    """The subscription's amount per month, rounded per subscription."""
    amount, n = Fraction(sub["amount"]), sub.get("recurring_interval_count") or 1
    per_month = {
        "month": amount / n,
        "year": amount / (12 * n),
        "week": amount * 52 / (12 * n),
        "day": amount * 365 / (12 * n),
    }[sub["recurring_interval"]]
    return round_half_away(per_month)


def sub_end(sub: dict) -> datetime | None:
    """When the subscription ends: ended, or else scheduled to end."""
    return sub.get("ended_at") or sub.get("ends_at")


# ----------------------------------------------------------------------------------------
# The history as one request sees it: filtered, and bucketed per period


class Context:
    """The history narrowed by the request's filters, with the per-period sets several
    metrics share (counted orders in range, active subscriptions)."""

    def __init__(self, history: dict, cal: Calendar, product_id, billing_type, customer_id):
        self.cal = cal
        self.product_filter = set(product_id) if product_id is not None else None
        self.billing_filter = set(billing_type) if billing_type is not None else None
        self.customer_filter = set(customer_id) if customer_id is not None else None
        self.products = {p["id"]: p for p in history.get("products", [])}
        customers = {c["id"]: c for c in history.get("customers", [])}
        all_orders = {o["id"]: o for o in history.get("orders", [])}
        all_subs = {s["id"]: s for s in history.get("subscriptions", [])}
        self.all_subscriptions = all_subs

        self.orders = {
            o["id"]: o
            for o in all_orders.values()
            if self.product_ok(o.get("product_id")) and self.customer_ok(o.get("customer_id"))
        }
        self.counted_orders = [o for o in self.orders.values() if o["status"] in PAID_STATUSES]
        self.refunded = {}
        for r in history.get("refunds", []):
            if r["status"] == "succeeded":
                self.refunded[r["order_id"]] = self.refunded.get(r["order_id"], 0) + r["amount"]
        # Lost disputes, filtered through their order: (closed_at, amount).
        self.lost_disputes = [
            (d["closed_at"], d["amount"])
            for d in history.get("disputes", [])
            if d["status"] == "lost" and d.get("closed_at") and d["order_id"] in self.orders
        ]
        self.subscriptions = [
            s
            for s in all_subs.values()
            if self.product_ok(s.get("product_id")) and self.customer_ok(s.get("customer_id"))
        ]
        # A checkout is kept when one of its products passes the product filters.
        self.checkouts = [
            c
            for c in history.get("checkouts", [])
            if any(self.product_ok(p) for p in c.get("product_ids") or [])
            and self.customer_ok(c.get("customer_id"))
        ]
        self.seats = []  # (seat, billing customer)
        for seat in history.get("seats", []):
            owner = all_subs.get(seat.get("subscription_id")) or all_orders.get(seat.get("order_id"))
            if owner is None:
                continue
            if self.product_ok(owner.get("product_id")) and self.customer_ok(owner.get("customer_id")):
                self.seats.append((seat, owner["customer_id"]))
        # Events ignore the product filters; a customer matches by id or external id.
        external_ids = {
            customers[c]["external_id"]
            for c in self.customer_filter or ()
            if c in customers and customers[c].get("external_id")
        }
        self.events = [
            e
            for e in history.get("events", [])
            if self.customer_filter is None
            or e.get("customer_id") in self.customer_filter
            or (e.get("external_customer_id") is not None and e["external_customer_id"] in external_ids)
        ]

        n = len(cal)
        self.orders_in = [[] for _ in range(n)]
        for o in self.counted_orders:
            if (i := cal.bucket(o["created_at"])) is not None:
                self.orders_in[i].append(o)
        self.active = [
            [s for s in self.subscriptions if self.is_active(s, i)] for i in range(n)
        ]

    def product_ok(self, product_id) -> bool:
        if self.product_filter is not None and product_id not in self.product_filter:
            return False
        if self.billing_filter is not None:
            product = self.products.get(product_id)
            # Applied literally: a billing type no product has gives zeros.
            return product is not None and product["billing_type"] in self.billing_filter
        return True

    def customer_ok(self, customer_id) -> bool:
        return self.customer_filter is None or customer_id in self.customer_filter

    def order_net(self, order: dict) -> int:
        """What an order kept: net, less the platform fee and its succeeded refunds."""
        fee = order.get("platform_fee_amount") or 0
        return order["net_amount"] - fee - self.refunded.get(order["id"], 0)

    def is_active(self, sub: dict, i: int) -> bool:
        """Started by the end of period i, and not ending (or scheduled to end) in it."""
        t_next = self.cal.ends[i]
        started, end = sub.get("started_at"), sub_end(sub)
        # No start date counts as started (Polar's `started_at IS NULL OR ...`). Starting
        # after the range keeps it out even of a last period that runs past the range.
        if started is not None and (started >= t_next or started >= self.cal.end):
            return False
        return end is None or end >= t_next

    def in_trial(self, sub: dict, i: int) -> bool:
        trial_end = sub.get("trial_end")
        return trial_end is not None and trial_end >= self.cal.ends[i]

    def started_in(self, order: dict, i: int) -> bool | None:
        """Whether the order's subscription started in period i; None for one-time orders
        and for subscriptions without a start (they are neither new nor renewed)."""
        sub = self.all_subscriptions.get(order.get("subscription_id"))
        if order.get("subscription_id") is None or sub is None or sub.get("started_at") is None:
            return None
        return self.cal.starts[i] <= sub["started_at"] < self.cal.ends[i]

    def periods(self) -> range:
        return range(len(self.cal))


# ----------------------------------------------------------------------------------------
# Subscriptions and recurring revenue (state at each period)


def active_subscriptions(c: Context) -> list:
    return [len(active) for active in c.active]


def committed_subscriptions(c: Context) -> list:
    return [sum(1 for s in active if sub_end(s) is None) for active in c.active]


def _mrr(c: Context, trial: bool, committed: bool) -> list:
    return [
        sum(
            monthly(s)
            for s in c.active[i]
            if c.in_trial(s, i) == trial and (not committed or sub_end(s) is None)
        )
        for i in c.periods()
    ]


def monthly_recurring_revenue(c: Context) -> list:
    return _mrr(c, trial=False, committed=False)


def trial_monthly_recurring_revenue(c: Context) -> list:
    return _mrr(c, trial=True, committed=False)


def committed_monthly_recurring_revenue(c: Context) -> list:
    return _mrr(c, trial=False, committed=True)


def trial_committed_monthly_recurring_revenue(c: Context) -> list:
    return _mrr(c, trial=True, committed=True)


def average_revenue_per_user(c: Context) -> list:
    # MRR excludes trials, but the customers counted include trialing ones.
    mrr = monthly_recurring_revenue(c)
    out = []
    for i in c.periods():
        customers = {s["customer_id"] for s in c.active[i]}
        out.append(round_half_away(Fraction(mrr[i], len(customers))) if customers else 0)
    return out


# ----------------------------------------------------------------------------------------
# Checkouts


def _checkouts(c: Context, succeeded_only: bool) -> list:
    counts = [0] * len(c.cal)
    for checkout in c.checkouts:
        if succeeded_only and checkout["status"] != "succeeded":
            continue
        if (i := c.cal.bucket(checkout["created_at"])) is not None:
            counts[i] += 1
    return counts


def checkouts(c: Context) -> list:
    return _checkouts(c, succeeded_only=False)


def succeeded_checkouts(c: Context) -> list:
    return _checkouts(c, succeeded_only=True)


# ----------------------------------------------------------------------------------------
# Churn and cancellations


def churned_subscriptions(c: Context) -> list:
    counts = [0] * len(c.cal)
    for s in c.subscriptions:
        if (i := c.cal.bucket(sub_end(s))) is not None:
            counts[i] += 1
    return counts


def churn_rate(c: Context) -> list:
    """Cancellations in a window over the subscriptions active at its start. The window is
    the 30 local days before the period (the period itself for years); it looks outside the
    requested range by design, so the range does not bound it."""
    out = []
    for i in c.periods():
        t = c.cal.starts[i]
        if c.cal.interval == "year":
            window_start, window_end = t, c.cal.ends[i]
        else:
            window_start, window_end = c.cal.days_before(t, 30), t
        canceled = sum(
            1
            for s in c.subscriptions
            if s.get("canceled_at") is not None and window_start <= s["canceled_at"] < window_end
        )
        active = sum(
            1
            for s in c.subscriptions
            if (s.get("started_at") is None or s["started_at"] <= window_start)
            and (sub_end(s) is None or sub_end(s) > window_start)
        )
        out.append(canceled / active if active else 0.0)
    return out


def _canceled(c: Context, reason: str | None) -> list:
    """Subscriptions canceled in each period; with a reason, only those of that reason
    (`other` also takes the ones without a reason)."""
    counts = [0] * len(c.cal)
    for s in c.subscriptions:
        own = s.get("customer_cancellation_reason")
        own = own if own in REASONS else "other"
        if reason is not None and own != reason:
            continue
        if (i := c.cal.bucket(s.get("canceled_at"))) is not None:
            counts[i] += 1
    return counts


def canceled_subscriptions(c: Context) -> list:
    return _canceled(c, None)


# ----------------------------------------------------------------------------------------
# Seats


def _seats_held(c: Context, i: int) -> list:
    """Seats created by the end of period i (and inside the range) and not revoked in it
    or before."""
    t_next = c.cal.ends[i]
    return [
        (seat, customer)
        for seat, customer in c.seats
        if seat["created_at"] < min(t_next, c.cal.end)
        and (seat.get("revoked_at") is None or seat["revoked_at"] >= t_next)
    ]


def seats_total(c: Context) -> list:
    return [len(_seats_held(c, i)) for i in c.periods()]


def seats_claimed(c: Context) -> list:
    return [
        sum(
            1
            for seat, _ in _seats_held(c, i)
            if seat.get("claimed_at") is not None and seat["claimed_at"] < c.cal.ends[i]
        )
        for i in c.periods()
    ]


def seats_pending(c: Context) -> list:
    return [total - claimed for total, claimed in zip(seats_total(c), seats_claimed(c))]


def seat_customers(c: Context) -> list:
    return [len({customer for _, customer in _seats_held(c, i)}) for i in c.periods()]


def new_seat_customers(c: Context) -> list:
    """Billing customers whose first seat was created in the period (inside the range)."""
    first: dict = {}
    for seat, customer in c.seats:
        if customer not in first or seat["created_at"] < first[customer]:
            first[customer] = seat["created_at"]
    counts = [0] * len(c.cal)
    for created in first.values():
        if (i := c.cal.bucket(created)) is not None:
            counts[i] += 1
    return counts


def churned_seat_customers(c: Context) -> list:
    """Billing customers with every seat revoked, the last revocation in the period."""
    by_customer: dict = {}
    for seat, customer in c.seats:
        by_customer.setdefault(customer, []).append(seat.get("revoked_at"))
    counts = [0] * len(c.cal)
    for revocations in by_customer.values():
        if any(r is None for r in revocations):
            continue
        if (i := c.cal.bucket(max(revocations))) is not None:
            counts[i] += 1
    return counts


# ----------------------------------------------------------------------------------------
# Orders and revenue


def orders(c: Context) -> list:
    return [len(os) for os in c.orders_in]


def revenue(c: Context) -> list:
    return [sum(o["net_amount"] for o in os) for os in c.orders_in]


def _disputes_lost(c: Context) -> list:
    """Amounts lost to disputes, in the period they were lost."""
    lost = [0] * len(c.cal)
    for closed_at, amount in c.lost_disputes:
        if (i := c.cal.bucket(closed_at)) is not None:
            lost[i] += amount
    return lost


def net_revenue(c: Context) -> list:
    # Refunds go to the order's period (through order_net); lost disputes to their own.
    lost = _disputes_lost(c)
    return [sum(c.order_net(o) for o in os) - lost[i] for i, os in enumerate(c.orders_in)]


def _running(baseline, values: list) -> list:
    out, total = [], baseline
    for value in values:
        total += value
        out.append(total)
    return out


def cumulative_revenue(c: Context) -> list:
    # Everything before the range is the baseline; orders after it never count.
    before = sum(o["net_amount"] for o in c.counted_orders if o["created_at"] < c.cal.start)
    return _running(before, revenue(c))


def net_cumulative_revenue(c: Context) -> list:
    before = sum(c.order_net(o) for o in c.counted_orders if o["created_at"] < c.cal.start)
    before -= sum(amount for closed_at, amount in c.lost_disputes if closed_at < c.cal.start)
    return _running(before, net_revenue(c))


def average_order_value(c: Context) -> list:
    return [ceil_div(sum(o["net_amount"] for o in os), len(os)) if os else 0 for os in c.orders_in]


def net_average_order_value(c: Context) -> list:
    # Per order, so disputes (which belong to no order's period) are not in it.
    return [ceil_div(sum(c.order_net(o) for o in os), len(os)) if os else 0 for os in c.orders_in]


def _one_time(os: list) -> list:
    return [o for o in os if o.get("subscription_id") is None]


def one_time_products(c: Context) -> list:
    return [len(_one_time(os)) for os in c.orders_in]


def one_time_products_revenue(c: Context) -> list:
    return [sum(o["net_amount"] for o in _one_time(os)) for os in c.orders_in]


def one_time_products_net_revenue(c: Context) -> list:
    return [sum(c.order_net(o) for o in _one_time(os)) for os in c.orders_in]


def new_subscriptions(c: Context) -> list:
    """Subscriptions created in the period and not ending in it. Unlike everything else,
    this counts from the start of the first period, not from `start_date`."""
    counts = [0] * len(c.cal)
    for s in c.subscriptions:
        if s["created_at"] >= c.cal.end or (i := c.cal.period(s["created_at"])) is None:
            continue
        end = sub_end(s)
        if end is None or end >= c.cal.ends[i]:
            counts[i] += 1
    return counts


def _sub_orders(c: Context, new: bool) -> list:
    """Per period, the subscription orders whose subscription started in that same period
    (new) or in another one (renewed)."""
    return [[o for o in os if c.started_in(o, i) is new] for i, os in enumerate(c.orders_in)]


def new_subscriptions_revenue(c: Context) -> list:
    return [sum(o["net_amount"] for o in os) for os in _sub_orders(c, new=True)]


def new_subscriptions_net_revenue(c: Context) -> list:
    return [sum(c.order_net(o) for o in os) for os in _sub_orders(c, new=True)]


def renewed_subscriptions(c: Context) -> list:
    return [len({o["subscription_id"] for o in os}) for os in _sub_orders(c, new=False)]


def renewed_subscriptions_revenue(c: Context) -> list:
    return [sum(o["net_amount"] for o in os) for os in _sub_orders(c, new=False)]


def renewed_subscriptions_net_revenue(c: Context) -> list:
    return [sum(c.order_net(o) for o in os) for os in _sub_orders(c, new=False)]


# ----------------------------------------------------------------------------------------
# Costs and usage


def costs(c: Context) -> list:
    per_period = [[] for _ in c.periods()]
    for e in c.events:
        if (i := c.cal.bucket(e["timestamp"])) is not None:
            per_period[i].append(e.get("cost") or 0.0)
    return [math.fsum(values) for values in per_period]


def cumulative_costs(c: Context) -> list:
    before = math.fsum(e.get("cost") or 0.0 for e in c.events if e["timestamp"] < c.cal.start)
    return _running(before, costs(c))


def active_user_by_event(c: Context) -> list:
    # Customer ids and external ids are counted separately: an event with both counts twice.
    ids = [set() for _ in c.periods()]
    external = [set() for _ in c.periods()]
    for e in c.events:
        if (i := c.cal.bucket(e["timestamp"])) is None:
            continue
        if e.get("customer_id") is not None:
            ids[i].add(e["customer_id"])
        if e.get("external_customer_id") is not None:
            external[i].add(e["external_customer_id"])
    return [len(a) + len(b) for a, b in zip(ids, external)]


def cost_per_user(c: Context) -> list:
    return [cost / users if users else 0.0 for cost, users in zip(costs(c), active_user_by_event(c))]


# ----------------------------------------------------------------------------------------
# Meta metrics: computed from other metrics of the same period


def annual_recurring_revenue(v: dict) -> list:
    return [12 * mrr for mrr in v["monthly_recurring_revenue"]]


def committed_annual_recurring_revenue(v: dict) -> list:
    return [12 * mrr for mrr in v["committed_monthly_recurring_revenue"]]


def checkouts_conversion(v: dict) -> list:
    return [s / n if n else 0.0 for s, n in zip(v["succeeded_checkouts"], v["checkouts"])]


def ltv(v: dict) -> list:
    # Float arithmetic truncated toward zero, as Polar does (int() of a float quotient).
    out = []
    for arpu, cpu, churn in zip(v["average_revenue_per_user"], v["cost_per_user"], v["churn_rate"]):
        out.append(max(0, int((arpu - cpu) / churn)) if churn else 0)
    return out


def gross_margin(v: dict) -> list:
    return [float(r - k) for r, k in zip(v["cumulative_revenue"], v["cumulative_costs"])]


def gross_margin_percentage(v: dict) -> list:
    return [(r - k) / r if r > 0 else 0.0 for r, k in zip(v["cumulative_revenue"], v["cumulative_costs"])]


def cashflow(v: dict) -> list:
    return [float(r - k) for r, k in zip(v["revenue"], v["costs"])]


def average_seats_per_customer(v: dict) -> list:
    return [t / n if n else 0.0 for t, n in zip(v["seats_total"], v["seat_customers"])]


def seat_utilization_rate(v: dict) -> list:
    return [claimed / t if t else 0.0 for claimed, t in zip(v["seats_claimed"], v["seats_total"])]


# ----------------------------------------------------------------------------------------
# Registry and totals

BASE = {
    "active_subscriptions": active_subscriptions,
    "committed_subscriptions": committed_subscriptions,
    "monthly_recurring_revenue": monthly_recurring_revenue,
    "trial_monthly_recurring_revenue": trial_monthly_recurring_revenue,
    "committed_monthly_recurring_revenue": committed_monthly_recurring_revenue,
    "trial_committed_monthly_recurring_revenue": trial_committed_monthly_recurring_revenue,
    "average_revenue_per_user": average_revenue_per_user,
    "checkouts": checkouts,
    "succeeded_checkouts": succeeded_checkouts,
    "churned_subscriptions": churned_subscriptions,
    "churn_rate": churn_rate,
    "seats_total": seats_total,
    "seats_claimed": seats_claimed,
    "seats_pending": seats_pending,
    "seat_customers": seat_customers,
    "new_seat_customers": new_seat_customers,
    "churned_seat_customers": churned_seat_customers,
    "orders": orders,
    "revenue": revenue,
    "net_revenue": net_revenue,
    "cumulative_revenue": cumulative_revenue,
    "net_cumulative_revenue": net_cumulative_revenue,
    "costs": costs,
    "cumulative_costs": cumulative_costs,
    "average_order_value": average_order_value,
    "net_average_order_value": net_average_order_value,
    "cost_per_user": cost_per_user,
    "active_user_by_event": active_user_by_event,
    "one_time_products": one_time_products,
    "one_time_products_revenue": one_time_products_revenue,
    "one_time_products_net_revenue": one_time_products_net_revenue,
    "new_subscriptions": new_subscriptions,
    "new_subscriptions_revenue": new_subscriptions_revenue,
    "new_subscriptions_net_revenue": new_subscriptions_net_revenue,
    "renewed_subscriptions": renewed_subscriptions,
    "renewed_subscriptions_revenue": renewed_subscriptions_revenue,
    "renewed_subscriptions_net_revenue": renewed_subscriptions_net_revenue,
    "canceled_subscriptions": canceled_subscriptions,
    **{
        f"canceled_subscriptions_{reason}": (lambda c, reason=reason: _canceled(c, reason))
        for reason in (*REASONS, "other")
    },
}

META = {
    "annual_recurring_revenue": annual_recurring_revenue,
    "committed_annual_recurring_revenue": committed_annual_recurring_revenue,
    "checkouts_conversion": checkouts_conversion,
    "ltv": ltv,
    "gross_margin": gross_margin,
    "gross_margin_percentage": gross_margin_percentage,
    "cashflow": cashflow,
    "average_seats_per_customer": average_seats_per_customer,
    "seat_utilization_rate": seat_utilization_rate,
}

assert [*BASE, *META] == SLUGS


def _last(values: list):
    return values[-1] if values else 0


def _ratio(numerator, denominator) -> float:
    return numerator / denominator if denominator else 0.0


# Totals other than "the last period's value" (state, cumulative and meta values) and
# "the sum over periods" (counts and amounts).
SUMMED = {
    "checkouts",
    "succeeded_checkouts",
    "churned_subscriptions",
    "new_seat_customers",
    "churned_seat_customers",
    "orders",
    "revenue",
    "net_revenue",
    "costs",
    "one_time_products",
    "one_time_products_revenue",
    "one_time_products_net_revenue",
    "new_subscriptions",
    "new_subscriptions_revenue",
    "new_subscriptions_net_revenue",
    "renewed_subscriptions",
    "renewed_subscriptions_revenue",
    "renewed_subscriptions_net_revenue",
    "cashflow",
    *(s for s in SLUGS if s.startswith("canceled_subscriptions")),
}

RECOMPUTED = {
    "checkouts_conversion": lambda v: _ratio(sum(v["succeeded_checkouts"]), sum(v["checkouts"])),
    "average_order_value": lambda v: _ratio(sum(v["revenue"]), sum(v["orders"])),
    "net_average_order_value": lambda v: _ratio(sum(v["net_revenue"]), sum(v["orders"])),
    # floe reads the metric's own periods here, where Polar reads active_subscriptions.
    "cost_per_user": lambda v: _ratio(math.fsum(v["costs"]), _last(v["active_user_by_event"])),
    "average_seats_per_customer": lambda v: float(_last(v["average_seats_per_customer"])),
    "seat_utilization_rate": lambda v: float(_last(v["seat_utilization_rate"])),
}


def _total(slug: str, values: dict):
    if slug in RECOMPUTED:
        return RECOMPUTED[slug](values)
    if slug in SUMMED:
        return sum(values[slug])
    return _last(values[slug])


def compute(
    history: dict,
    start_date,
    end_date,
    interval: str,
    timezone="UTC",
    product_id=None,
    billing_type=None,
    customer_id=None,
    metrics=None,
) -> dict:
    """What `GET /v1/metrics/` should answer: {"periods": [{"timestamp", slug...}],
    "totals": {slug...}}, with only the `metrics` asked for when given."""
    if metrics is not None:
        unknown = sorted(set(metrics) - set(SLUGS))
        if unknown:
            raise ValueError(f"Invalid metric slugs: {', '.join(unknown)}")
    selected = [s for s in SLUGS if metrics is None or s in metrics]

    cal = Calendar(start_date, end_date, interval, timezone)
    context = Context(history, cal, product_id, billing_type, customer_id)
    # Everything is computed (dependencies included); only the selection is answered.
    values = {slug: fn(context) for slug, fn in BASE.items()}
    for slug, fn in META.items():
        values[slug] = fn(values)

    periods = [
        {"timestamp": t, **{slug: values[slug][i] for slug in selected}}
        for i, t in enumerate(cal.starts)
    ]
    totals = {slug: _total(slug, values) for slug in selected}
    return {"periods": periods, "totals": totals}


# ----------------------------------------------------------------------------------------
# Comparing with a server's answer

# Integer metrics computed by truncating a float quotient may land either side of an
# integer depending on the order of float operations.
INTEGER_SLACK = {"ltv": 1}


def _parse_timestamp(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _same(slug: str, expected, actual, rel: float, abs_tol: float) -> bool:
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    if isinstance(expected, int):
        return abs(actual - expected) <= INTEGER_SLACK.get(slug, 0)
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol)


def _compare_values(where: str, expected: dict, actual, rel: float, abs_tol: float) -> list[str]:
    if not isinstance(actual, dict):
        return [f"{where}: expected an object, got {actual!r}"]
    problems = []
    wanted = {k for k in expected if k != "timestamp"}
    given = {k for k in actual if k != "timestamp"}
    for slug in sorted(wanted - given):
        problems.append(f"{where}: {slug} missing (expected {expected[slug]!r})")
    for slug in sorted(given - wanted):
        problems.append(f"{where}: {slug} not asked for but answered ({actual[slug]!r})")
    for slug in (s for s in SLUGS if s in wanted and s in given):
        if not _same(slug, expected[slug], actual[slug], rel, abs_tol):
            problems.append(f"{where}: {slug} expected {expected[slug]!r}, got {actual[slug]!r}")
    return problems


def compare(expected: dict, actual_json: dict, rel: float = 1e-9, abs_tol: float = 1e-6) -> list[str]:
    """Differences between the model's answer and a server's parsed JSON answer; empty when
    they agree. Integers must match exactly; floats within `rel`/`abs_tol`."""
    problems = []
    exp_periods, act_periods = expected["periods"], actual_json.get("periods")
    if not isinstance(act_periods, list):
        return [f"periods: expected a list, got {act_periods!r}"]
    if len(exp_periods) != len(act_periods):
        problems.append(f"periods: expected {len(exp_periods)}, got {len(act_periods)}")
    for i, (e, a) in enumerate(zip(exp_periods, act_periods)):
        where = f"periods[{i}] {e['timestamp'].isoformat()}"
        stamp = _parse_timestamp(a.get("timestamp")) if isinstance(a, dict) else None
        if stamp != e["timestamp"]:
            got = a.get("timestamp") if isinstance(a, dict) else a
            problems.append(f"{where}: timestamp got {got!r}")
        problems += _compare_values(where, e, a, rel, abs_tol)
    problems += _compare_values("totals", expected["totals"], actual_json.get("totals"), rel, abs_tol)
    described = actual_json.get("metrics")
    if isinstance(described, dict) and set(described) != set(expected["totals"]):
        problems.append(
            f"metrics: describes {sorted(set(described) ^ set(expected['totals']))} differently "
            "from the slugs answered"
        )
    return problems
