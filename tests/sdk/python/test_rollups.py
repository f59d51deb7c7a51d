"""Rollups against the events they summarise: random events, meters, filters, intervals,
time zones and customer selections, each quantities request answered twice on the same
database, by a floe reading the rollups (the default) and by a twin that recomputes from
the events (`FLOE_METER_READS_FROM_EVENTS`). Meters are created before the events (rollups
maintained at ingestion), after them (rebuilt from the events) and changed in between
(rebuilt again). The seed is printed on failure; `ROLLUP_SEED=n` replays one."""

import datetime
import math
import os
import random
import time
import uuid

import httpx
import pytest

from conftest import Floe

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
SEED = int(os.environ.get("ROLLUP_SEED", random.randrange(1 << 30)))
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"]
NAMES = ["llm.call", "api.call", "upload"]
PROPS = ["tokens", "cost", "tier", "user", "flag"]


def random_metadata(rng):
    metadata = {}
    if rng.random() < 0.8:
        metadata["tokens"] = rng.choice([rng.randrange(0, 5000), rng.randrange(0, 100) + rng.random(), "many"])
    if rng.random() < 0.5:
        metadata["cost"] = round(rng.uniform(-5, 50), rng.randrange(0, 6))
    metadata["tier"] = rng.choice(["gold", "silver", "bronze"])
    if rng.random() < 0.7:
        metadata["user"] = rng.choice(["u1", "u2", "u3", 7, 8, True])
    if rng.random() < 0.3:
        metadata["flag"] = rng.choice([True, False])
    return metadata


def random_clause(rng, depth=0):
    if depth < 2 and rng.random() < 0.2:
        return random_filter(rng, depth + 1)
    prop = rng.choice(["name"] + PROPS)
    operator = rng.choice(["eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"])
    if prop == "name":
        value = rng.choice(NAMES + ["call"])
    elif prop in ("tokens", "cost"):
        value = rng.choice([rng.randrange(0, 5000), rng.randrange(0, 50), "5"])
    elif prop == "flag":
        value = rng.choice([True, False])
    else:
        value = rng.choice(["gold", "u1", "il", 7])
    return {"property": prop, "operator": operator, "value": value}


def random_filter(rng, depth=0):
    return {"conjunction": rng.choice(["and", "or"]), "clauses": [random_clause(rng, depth) for _ in range(rng.randrange(0, 3))]}


def random_aggregation(rng):
    func = rng.choice(["count", "sum", "max", "min", "avg", "unique"])
    if func == "count":
        return {"func": "count"}
    if func == "unique":
        return {"func": "unique", "property": rng.choice(["user", "tier", "tokens", "flag"])}
    return {"func": func, "property": rng.choice(["tokens", "cost"])}


def close(a, b):
    # Sums and averages add the same numbers in another order (per bucket, then buckets),
    # which can differ in the last bits; everything else must be identical.
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def wait_until_built(server):
    """Rollups of new or changed meters are built in the background; until then both floes
    read the events, which would compare nothing."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.sql("SELECT COUNT(*) FROM meters WHERE NOT rollups_ready") == [("0",)]:
            return
        time.sleep(0.1)
    raise AssertionError("meter rollups were not built within 60 s")


@pytest.fixture(scope="module")
def pair():
    # Small build pages: a meter's rollups are built over many transactions, while the test
    # keeps ingesting, so batches and the builder share the work.
    fast = Floe(env={"FLOE_METER_BUILD_PAGE": "37"})
    slow = Floe(env={"FLOE_METER_READS_FROM_EVENTS": "1"}, twin_of=fast)
    yield fast, slow
    slow.stop()
    fast.stop()


def test_rollups_answer_what_the_events_answer(pair):
    fast, slow = pair
    rng = random.Random(SEED)
    print(f"ROLLUP_SEED={SEED}")
    organization = fast.organization()
    token = fast.token(organization)
    headers = {"Authorization": f"Bearer {token}"}
    polar = fast.client(token)
    alice = polar.customers.create(email=f"a-{uuid.uuid4().hex[:6]}@example.com", external_id="ra")
    bob = polar.customers.create(email=f"b-{uuid.uuid4().hex[:6]}@example.com")
    refs = [("customer_id", alice.id), ("external_customer_id", "ra"), ("customer_id", bob.id),
            ("external_customer_id", "later"), ("external_customer_id", "never")]

    def meter(filter_, aggregation):
        return polar.meters.create(name=f"m-{uuid.uuid4().hex[:6]}", filter=filter_, aggregation=aggregation).id

    # Meters that see the events arrive, then the events, then meters built from them.
    meters = [meter(random_filter(rng), random_aggregation(rng)) for _ in range(4)]
    # Around DST changes of several zones, and around this moment.
    anchors = [NOW - datetime.timedelta(days=d) for d in (1, 20, 45)] + [
        datetime.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime.datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime.datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime.datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
        datetime.datetime(2026, 4, 5, 15, 0, tzinfo=UTC)]
    for _ in range(6):
        batch = []
        for _ in range(150):
            key, ref = rng.choice(refs)
            at = rng.choice(anchors) + datetime.timedelta(seconds=rng.randrange(-4 * 86400, 4 * 86400))
            at = min(at, NOW - datetime.timedelta(seconds=1))
            batch.append({"name": rng.choice(NAMES), key: ref, "timestamp": at.isoformat(), "metadata": random_metadata(rng)})
        polar.events.ingest(events=batch)
        if rng.random() < 0.5:
            # Changing what a meter counts rebuilds its rollups between two batches.
            changed = rng.choice(meters)
            polar.meters.update(changed, filter=random_filter(rng), aggregation=random_aggregation(rng))
    polar.customers.create(email=f"l-{uuid.uuid4().hex[:6]}@example.com", external_id="later")
    meters += [meter(random_filter(rng), random_aggregation(rng)) for _ in range(4)]
    # A meter matching everything, so that no comparison is between two empty answers.
    meters.append(meter({"conjunction": "and", "clauses": []}, {"func": "sum", "property": "tokens"}))

    wait_until_built(fast)
    check_customer_meters(fast, slow, rng, organization, headers, polar, meters, alice)

    compared = nonzero = 0
    for _ in range(60):
        meter_id = rng.choice(meters)
        interval, days = rng.choice([("hour", 3), ("day", 40), ("week", 120), ("month", 300), ("year", 800)])
        end = rng.choice(anchors) + datetime.timedelta(days=rng.uniform(0, 3))
        start = end - datetime.timedelta(days=rng.uniform(0.5, days))
        params = {
            "start_timestamp": start.isoformat(), "end_timestamp": min(end, NOW).isoformat(),
            "interval": interval, "timezone": rng.choice(ZONES),
        }
        who = rng.random()
        if who < 0.3:
            params["customer_id"] = rng.sample([alice.id, bob.id], rng.randrange(1, 3))
        elif who < 0.5:
            params["external_customer_id"] = rng.sample(["ra", "later", "never"], rng.randrange(1, 3))
        if rng.random() < 0.4:
            params["customer_aggregation_function"] = rng.choice(["count", "sum", "max", "min", "avg", "unique"])
        if start >= min(end, NOW):
            continue
        answers = [httpx.get(f"{server.url}/v1/meters/{meter_id}/quantities", params=params, headers=headers) for server in (fast, slow)]
        assert [a.status_code for a in answers] == [200, 200], (params, [a.text for a in answers])
        got, want = (a.json() for a in answers)
        context = f"seed {SEED}, meter {meter_id}, {params}"
        assert [q["timestamp"] for q in got["quantities"]] == [q["timestamp"] for q in want["quantities"]], context
        for g, w in zip(got["quantities"], want["quantities"]):
            assert close(g["quantity"], w["quantity"]), (context, g, w)
        assert close(got["total"], want["total"]), (context, got["total"], want["total"])
        compared += 1
        nonzero += any(q["quantity"] for q in want["quantities"])
    assert compared >= 40 and nonzero >= 10, (compared, nonzero)
    # The rollups exist, so the default floe answered from them.
    rows = fast.sql("SELECT count(*) FROM meter_rollups")
    assert int(rows[0][0]) > 0


def check_customer_meters(fast, slow, rng, organization, headers, polar, meters, alice):
    """Credits, resets, and events right after a reset (inside its bucket): the customer
    meters and the customer's state agree between rollups and events."""
    slug = organization["slug"]
    customers = [c["id"] for c in httpx.get(f"{fast.url}/v1/customers/", params={"limit": 100}, headers=headers).json()["items"]]
    for customer in customers:
        for meter_id in rng.sample(meters, 3):
            fast.cli("meter", "credit", "--organization", slug, "--customer", customer, "--meter", meter_id, "--units", str(rng.randrange(-5, 50)))
    for meter_id in rng.sample(meters, 4):
        fast.cli("meter", "reset", "--organization", slug, "--customer", alice.id, "--meter", meter_id)
    after_reset = [{"name": rng.choice(NAMES), key: ref, "metadata": random_metadata(rng)}
                   for key, ref in [("customer_id", alice.id), ("external_customer_id", "ra")] * 20]
    polar.events.ingest(events=after_reset)
    wait_until_built(fast)

    def customer_meters(server):
        answer = httpx.get(f"{server.url}/v1/customer-meters/", params={"limit": 100}, headers=headers)
        assert answer.status_code == 200, answer.text
        return sorted(answer.json()["items"], key=lambda i: i["id"])

    def state(server):
        answer = httpx.get(f"{server.url}/v1/customers/{alice.id}/state", headers=headers)
        assert answer.status_code == 200, answer.text
        return sorted(answer.json()["active_meters"], key=lambda i: i["id"])

    for got, want in [(customer_meters(fast), customer_meters(slow)), (state(fast), state(slow))]:
        assert want and [i["id"] for i in got] == [i["id"] for i in want], (SEED, got, want)
        for g, w in zip(got, want):
            for field in ("created_at", "modified_at", "credited_units", "meter_id"):
                assert g[field] == w[field], (SEED, field, g, w)
            for field in ("consumed_units", "balance"):
                assert close(g[field], w[field]), (SEED, field, g, w)


def test_integer_sums_are_exact(pair):
    """Whole numbers add up exactly in any order: no tolerance."""
    fast, slow = pair
    organization = fast.organization()
    token = fast.token(organization)
    headers = {"Authorization": f"Bearer {token}"}
    polar = fast.client(token)
    rng = random.Random(SEED + 1)
    meter_id = polar.meters.create(name="ints", filter={"conjunction": "and", "clauses": []}, aggregation={"func": "sum", "property": "n"}).id
    start = NOW - datetime.timedelta(days=10)
    events = [{"name": "x", "external_customer_id": "c", "timestamp": (start + datetime.timedelta(seconds=rng.randrange(0, 9 * 86400))).isoformat(),
               "metadata": {"n": rng.randrange(-10**12, 10**12)}} for _ in range(500)]
    polar.events.ingest(events=events)
    wait_until_built(fast)
    params = {"start_timestamp": start.isoformat(), "end_timestamp": NOW.isoformat(), "interval": "day", "timezone": "Asia/Kolkata"}
    got, want = (httpx.get(f"{s.url}/v1/meters/{meter_id}/quantities", params=params, headers=headers).json() for s in (fast, slow))
    assert got == want
    assert got["total"] == sum(e["metadata"]["n"] for e in events)


def test_a_period_that_is_not_whole_buckets_is_answered_from_the_events(pair):
    """Amsterdam was 19 min 32 s ahead of UTC until 1937: its days then did not start on a
    quarter hour, so rollups cannot answer, and the events do."""
    fast, slow = pair
    organization = fast.organization()
    token = fast.token(organization)
    headers = {"Authorization": f"Bearer {token}"}
    polar = fast.client(token)
    meter_id = polar.meters.create(name="old", filter={"conjunction": "and", "clauses": []}, aggregation={"func": "count"}).id
    # 23:50 UTC on 1930-06-01 is 00:09:32 on June 2nd in Amsterdam.
    at = datetime.datetime(1930, 6, 1, 23, 50, tzinfo=UTC)
    polar.events.ingest(events=[{"name": "x", "external_customer_id": "c", "timestamp": at.isoformat()}])
    params = {"start_timestamp": "1930-06-01T12:00:00Z", "end_timestamp": "1930-06-03T12:00:00Z", "interval": "day", "timezone": "Europe/Amsterdam"}
    got, want = (httpx.get(f"{s.url}/v1/meters/{meter_id}/quantities", params=params, headers=headers).json() for s in (fast, slow))
    assert got == want
    assert [q["quantity"] for q in got["quantities"]] == [0.0, 1.0, 0.0]
