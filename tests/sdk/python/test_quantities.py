"""Meter quantities through the official Python SDK, checked against an independent Python
model of the same rules over random events: every aggregation, filters, intervals, time
zones (DST included), customer filters and per-customer aggregation."""

import datetime
import json
import random
import uuid
from zoneinfo import ZoneInfo

import pytest
from polar.v2026_10.errors import HTTPValidationError

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)


# --- the model ------------------------------------------------------------------------------


def lookup(metadata, path):
    value = metadata
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def contribution(aggregation, event):
    func = aggregation["func"]
    if func == "count":
        return 1
    value = lookup(event["metadata"], aggregation["property"])
    if func == "unique":
        return None if value is None else json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def clause_matches(clause, event):
    prop, op, expected = clause["property"], clause["operator"], clause["value"]
    if prop == "name":
        actual = event["name"]
        if not isinstance(expected, str):
            return False
    else:
        actual = lookup(event["metadata"], prop)
        if actual is None or isinstance(actual, (dict, list)):
            return False
    if op in ("like", "not_like"):
        text = json.dumps(actual) if isinstance(actual, bool) else str(actual)
        needle = json.dumps(expected) if isinstance(expected, bool) else str(expected)
        return (needle in text) == (op == "like")
    if isinstance(actual, str):
        if isinstance(expected, bool):
            return False
        a, e = actual, str(expected)
    elif isinstance(actual, bool):
        if not isinstance(expected, bool):
            return False
        a, e = actual, expected
    else:
        if isinstance(expected, bool) or not isinstance(expected, int):
            return False
        a, e = float(actual), float(expected)
    return {"eq": a == e, "ne": a != e, "gt": a > e, "gte": a >= e, "lt": a < e, "lte": a <= e}[op]


def matches(filter_, event):
    results = [matches(c, event) if "clauses" in c else clause_matches(c, event) for c in filter_["clauses"]]
    if not results:
        return True
    return all(results) if filter_["conjunction"] == "and" else any(results)


def truncate(local, interval):
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def aggregate(func, values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    if func == "count":
        return float(len(values))
    if func == "sum":
        return float(sum(values))
    if func == "max":
        return max(values)
    if func == "min":
        return min(values)
    if func == "avg":
        return sum(values) / len(values)
    return float(len(set(values)))


def model(meter, events, start, end, interval, tz, per_customer=None):
    zone = ZoneInfo(tz)
    points, local = [], start.astimezone(zone).replace(tzinfo=None)
    step = 0
    while True:
        if interval == "hour":
            point = start + datetime.timedelta(hours=step)
        elif interval in ("month", "year"):
            months = local.month - 1 + step * (12 if interval == "year" else 1)
            year, month = local.year + months // 12, months % 12 + 1
            last_day = (datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
            naive = local.replace(year=year, month=month, day=min(local.day, last_day))
            point = naive.replace(tzinfo=zone).astimezone(UTC)
        else:
            naive = local + datetime.timedelta(days=step * (7 if interval == "week" else 1))
            point = naive.replace(tzinfo=zone).astimezone(UTC)
        if point > end:
            break
        points.append(point)
        step += 1
    bucket = lambda at: truncate(at.astimezone(zone).replace(tzinfo=None), interval)
    buckets = [bucket(p) for p in points]
    func = meter["aggregation"]["func"]
    grouped = {b: [] for b in buckets}
    for event in events:
        if not matches(meter["filter"], event):
            continue
        value = contribution(meter["aggregation"], event)
        if value is None:
            continue
        b = bucket(event["timestamp"])
        if b in grouped:
            grouped[b].append((event["owner"], value))
    quantities = []
    for b in buckets:
        rows = grouped[b]
        if per_customer is None:
            value = aggregate(func, [v for _, v in rows])
        else:
            owners = {}
            for owner, v in rows:
                owners.setdefault(owner, []).append(v)
            per = [aggregate(func, vs) for vs in owners.values()]
            per = [json.dumps(p) if per_customer == "unique" else p for p in per]
            value = aggregate(per_customer, per) if per_customer != "count" else (float(len(per)) if per else None)
        quantities.append(value)
    present = [q for q in quantities if q is not None]
    if func in ("count", "sum"):
        total = float(sum(present))
    elif func == "max":
        total = max(present, default=0.0)
    elif func == "min":
        total = min(present, default=0.0)
    else:
        total = aggregate(func, [v for b in buckets for _, v in grouped[b]]) or 0.0
    return [(p, q or 0.0) for p, q in zip(points, quantities)], total


# --- the test -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(floe):
    rng = random.Random(20261128)
    organization = floe.organization()
    polar = floe.client(floe.token(organization))
    alice = polar.customers.create(email=f"a-{uuid.uuid4().hex[:6]}@example.com", external_id="qa")
    bob = polar.customers.create(email=f"b-{uuid.uuid4().hex[:6]}@example.com")
    owners = [("customer_id", alice.id, alice.id), ("external_customer_id", "qa", alice.id),
              ("customer_id", bob.id, bob.id), ("external_customer_id", "stranger", "external:stranger")]
    events, batch = [], []
    for i in range(400):
        key, ref, owner = rng.choice(owners)
        at = NOW - datetime.timedelta(seconds=rng.randrange(1, 40 * 86400))
        metadata = {"tier": rng.choice(["gold", "silver"]), "user": rng.choice(["u1", "u2", "u3", 4, 5])}
        roll = rng.random()
        if roll < 0.7:
            metadata["tokens"] = rng.randrange(0, 1000)
        elif roll < 0.8:
            metadata["tokens"] = "lots"  # not a number: skipped by numeric aggregations
        elif roll < 0.9:
            metadata["tokens"] = rng.randrange(0, 100) + 0.25
        name = rng.choice(["llm.call", "api.call"])
        batch.append({"name": name, key: ref, "timestamp": at.isoformat(), "metadata": metadata})
        events.append({"name": name, "timestamp": at, "metadata": metadata, "owner": owner})
    for start in range(0, len(batch), 100):
        polar.events.ingest(events=batch[start:start + 100])
    llm = {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "llm.call"}]}
    gold_or_big = {"conjunction": "or", "clauses": [
        {"property": "tier", "operator": "eq", "value": "gold"},
        {"conjunction": "and", "clauses": [{"property": "tokens", "operator": "gte", "value": 900}]},
    ]}
    specs = [
        ("count", llm, {"func": "count"}),
        ("sum", gold_or_big, {"func": "sum", "property": "tokens"}),
        ("max", llm, {"func": "max", "property": "tokens"}),
        ("min", {"conjunction": "and", "clauses": []}, {"func": "min", "property": "tokens"}),
        ("avg", {"conjunction": "and", "clauses": [{"property": "tier", "operator": "like", "value": "ilv"}]}, {"func": "avg", "property": "tokens"}),
        ("unique", {"conjunction": "and", "clauses": [{"property": "tier", "operator": "ne", "value": "gold"}]}, {"func": "unique", "property": "user"}),
    ]
    meters = {}
    for name, filter_, aggregation in specs:
        created = polar.meters.create(name=f"meter {name}", filter=filter_, aggregation=aggregation)
        meters[name] = {"id": created.id, "filter": filter_, "aggregation": aggregation}
    return {"polar": polar, "events": events, "meters": meters, "alice": alice, "bob": bob}


def check(world, meter_name, start, end, interval, tz, per_customer=None, **filters):
    meter = world["meters"][meter_name]
    events = world["events"]
    if filters.get("customer_id"):
        events = [e for e in events if e["owner"] == filters["customer_id"]]
    got = world["polar"].meters.quantities(
        meter["id"], start_timestamp=start.isoformat(), end_timestamp=end.isoformat(), interval=interval,
        timezone=tz, customer_aggregation_function=per_customer, **filters,
    )
    expected, total = model(meter, events, start, end, interval, tz, per_customer)
    assert [datetime.datetime.fromisoformat(q.timestamp.replace("Z", "+00:00")) for q in got.quantities] == [p for p, _ in expected]
    assert [q.quantity for q in got.quantities] == pytest.approx([q for _, q in expected]), (meter_name, interval, tz)
    assert got.total == pytest.approx(total), (meter_name, interval, tz)


@pytest.mark.parametrize("meter_name", ["count", "sum", "max", "min", "avg", "unique"])
@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_daily_series_match_the_model(world, meter_name, tz):
    start = NOW - datetime.timedelta(days=31)
    check(world, meter_name, start, NOW, "day", tz)


@pytest.mark.parametrize("interval,days", [("hour", 2), ("week", 38), ("month", 39)])
def test_other_intervals_match_the_model(world, interval, days):
    start = NOW - datetime.timedelta(days=days)
    for meter_name in ["count", "sum", "unique"]:
        check(world, meter_name, start, NOW, interval, "Europe/Paris")


def test_customer_filters_and_per_customer_aggregation(world):
    start = NOW - datetime.timedelta(days=31)
    # Alice's events arrived both by her ID and by her external ID.
    check(world, "sum", start, NOW, "day", "UTC", customer_id=world["alice"].id)
    for function in ["count", "sum", "max", "avg"]:
        check(world, "sum", start, NOW, "week", "UTC", per_customer=function)


def test_bad_parameters_are_422(world):
    polar = world["polar"]
    meter = world["meters"]["count"]["id"]
    with pytest.raises(HTTPValidationError):
        polar.meters.quantities(meter, start_timestamp=NOW.isoformat(), end_timestamp=(NOW - datetime.timedelta(days=1)).isoformat(), interval="day")
    with pytest.raises(HTTPValidationError):
        polar.meters.quantities(meter, start_timestamp=(NOW - datetime.timedelta(days=30)).isoformat(), end_timestamp=NOW.isoformat(), interval="hour")
    with pytest.raises(HTTPValidationError) as error:
        polar.meters.quantities(meter, start_timestamp=NOW.isoformat(), end_timestamp=NOW.isoformat(), interval="day", timezone="Mars/Olympus")
    assert [list(d.loc) for d in error.value.error.detail] == [["query", "timezone"]]
