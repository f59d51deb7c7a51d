"""Usage events through the official Python SDK: ingestion (all-or-nothing batches, dedupe,
parents, `_cost` and `_llm`), the events list and its filters, get, names and event types."""

import datetime
import uuid

import httpx
import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound

from contract import schema_ref, validate


def ago(**delta):
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta)).isoformat()


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def test_ingest_list_get(org):
    customer = org.polar.customers.create(email=f"e-{uuid.uuid4().hex[:8]}@example.com", external_id="ev-" + uuid.uuid4().hex[:6])
    result = org.polar.events.ingest(events=[
        {"name": "api.call", "customer_id": customer.id, "timestamp": ago(minutes=3), "metadata": {"route": "/a", "ms": 12}},
        {"name": "api.call", "external_customer_id": customer.external_id, "timestamp": ago(minutes=2), "metadata": {"route": "/b", "ms": 30}},
        {"name": "llm.completion", "external_customer_id": "not-yet-a-customer", "timestamp": ago(minutes=1),
         "metadata": {"_llm": {"vendor": "openai", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
                      "_cost": {"amount": 150, "currency": "usd"}}},
    ])
    assert (result.inserted, result.duplicates) == (3, 0)
    listed = org.polar.events.list(limit=10)
    assert listed.pagination.total_count == 3
    newest = listed.items[0]
    assert newest.name == "llm.completion" and newest.source == "user" and newest.label == "llm.completion"
    assert newest.metadata["_cost"].amount == "150.0"
    assert newest.metadata["_llm"].total_tokens == 15
    assert newest.customer is None and newest.external_customer_id == "not-yet-a-customer"
    by_external = listed.items[1]
    assert by_external.customer.id == customer.id  # attributed through the external ID
    assert org.polar.events.get(by_external.id).metadata["route"] == "/b"

    # A customer created later is the owner of its earlier events.
    later = org.polar.customers.create(email=f"l-{uuid.uuid4().hex[:8]}@example.com", external_id="not-yet-a-customer")
    assert org.polar.events.get(newest.id).customer.id == later.id

    assert [e.name for e in org.polar.events.list(customer_id=customer.id).items] == ["api.call", "api.call"]
    assert [e.name for e in org.polar.events.list(external_customer_id="not-yet-a-customer").items] == ["llm.completion"]
    assert org.polar.events.list(name="api.call").pagination.total_count == 2
    assert org.polar.events.list(metadata={"route": "/a"}).pagination.total_count == 1
    assert org.polar.events.list(start_timestamp=ago(minutes=2, seconds=30)).pagination.total_count == 2
    assert org.polar.events.list(end_timestamp=ago(minutes=2, seconds=30)).pagination.total_count == 1
    oldest_first = org.polar.events.list(sorting=["timestamp"]).items
    assert [e.metadata.get("route") for e in oldest_first[:2]] == ["/a", "/b"]
    assert org.polar.events.list(source="system").pagination.total_count == 0
    assert org.polar.events.list(query="gpt-4o").pagination.total_count == 1


def test_cursor_pagination_says_whether_a_page_follows(org):
    """Polar's `cursor_pagination=true`: `has_next_page` instead of a total that every page
    would have to count."""
    external = "cp-" + uuid.uuid4().hex[:6]
    org.polar.events.ingest(events=[{"name": "page.test", "external_customer_id": external, "timestamp": ago(seconds=i + 1)} for i in range(5)])
    headers = {"Authorization": f"Bearer {org.token}"}
    seen = []
    for page in (1, 2, 3):
        answer = httpx.get(f"{org.url}/v1/events/", headers=headers, params={
            "cursor_pagination": "true", "external_customer_id": external, "limit": 2, "page": page})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        validate(body, schema_ref("ListResourceWithCursorPagination_Event_"))
        assert body["pagination"] == {"has_next_page": page < 3}
        seen += [e["id"] for e in body["items"]]
    everything = org.polar.events.list(external_customer_id=external, limit=10).items
    assert seen == [e.id for e in everything] and len(seen) == 5
    bad = httpx.get(f"{org.url}/v1/events/", headers=headers, params={"cursor_pagination": "maybe"})
    assert bad.status_code == 422


def test_dedupe_by_external_id(org):
    batch = [{"name": "tick", "external_customer_id": "d1", "external_id": f"tick-{i}"} for i in range(5)]
    assert org.polar.events.ingest(events=batch).inserted == 5
    again = org.polar.events.ingest(events=batch[2:] + [{"name": "tick", "external_customer_id": "d1", "external_id": "tick-5"}])
    assert (again.inserted, again.duplicates) == (1, 3)
    within = org.polar.events.ingest(events=[{"name": "tick", "external_customer_id": "d1", "external_id": "same"}] * 3)
    assert (within.inserted, within.duplicates) == (1, 2)
    assert org.polar.events.list(name="tick").pagination.total_count == 7


def test_a_bad_event_refuses_the_whole_batch(org):
    with pytest.raises(HTTPValidationError) as error:
        org.polar.events.ingest(events=[
            {"name": "fine", "external_customer_id": "u"},
            {"name": "x" * 129, "external_customer_id": "u"},
            {"name": "future", "external_customer_id": "u", "timestamp": "2999-01-01T00:00:00Z"},
            {"name": "who"},
            {"name": "ghost", "customer_id": str(uuid.uuid4())},
        ])
    found = locs(error)
    assert ["body", "events", 1, "name"] in found
    assert ["body", "events", 2, "timestamp"] in found
    assert ["body", "events", 3, "customer_id"] in found
    assert not any(l[:3] == ["body", "events", 0] for l in found)
    assert org.polar.events.list().pagination.total_count == 0  # nothing stored
    # The customer check runs too, once the batch is otherwise valid.
    with pytest.raises(HTTPValidationError) as error:
        org.polar.events.ingest(events=[{"name": "ok", "external_customer_id": "u"}, {"name": "ghost", "customer_id": str(uuid.uuid4())}])
    assert locs(error) == [["body", "events", 1, "customer_id"]]
    assert org.polar.events.list().pagination.total_count == 0


def test_metadata_rules(org):
    cases = [
        ({"k": {"nested": True}}, ["body", "events", 0, "metadata", "k"]),
        ({"k": ""}, ["body", "events", 0, "metadata", "k"]),
        ({"k" * 41: 1}, ["body", "events", 0, "metadata", "k" * 41]),
        ({"_cost": {"amount": 100000, "currency": "usd"}}, ["body", "events", 0, "metadata", "_cost", "amount"]),
        ({"_cost": {"amount": 1, "currency": "eur"}}, ["body", "events", 0, "metadata", "_cost", "currency"]),
        ({"_llm": {"vendor": "x", "model": "y", "input_tokens": 1, "output_tokens": 1}}, ["body", "events", 0, "metadata", "_llm", "total_tokens"]),
    ]
    for metadata, loc in cases:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.events.ingest(events=[{"name": "m", "external_customer_id": "u", "metadata": metadata}])
        assert loc in locs(error), (metadata, locs(error))


def test_parents_children_and_depth(org):
    org.polar.events.ingest(events=[
        {"name": "request", "external_customer_id": "p", "external_id": "req-1", "timestamp": ago(seconds=30)},
        {"name": "step", "external_customer_id": "p", "parent_id": "req-1", "timestamp": ago(seconds=20)},
    ])
    # A child may arrive before its parent; it is adopted when the parent comes.
    org.polar.events.ingest(events=[{"name": "step", "external_customer_id": "p", "parent_id": "req-2", "timestamp": ago(seconds=15)}])
    org.polar.events.ingest(events=[{"name": "request", "external_customer_id": "p", "external_id": "req-2", "timestamp": ago(seconds=40)}])
    roots = org.polar.events.list(depth=0).items
    assert [e.name for e in roots] == ["request", "request"]
    assert all(e.child_count == 1 for e in roots)
    for root in roots:
        children = org.polar.events.list(parent_id=root.id).items
        assert len(children) == 1 and children[0].parent_id == root.id
    by_id = org.polar.events.ingest(events=[{"name": "step", "external_customer_id": "p", "parent_id": roots[0].id}])
    assert by_id.inserted == 1
    assert org.polar.events.list(parent_id=roots[0].id).pagination.total_count == 2
    # A resent batch whose parent is stored already: its new child points at the stored
    # parent, not at the copy that the resend did not store.
    # (req-1 is the newer of the two roots: it happened 30 s ago, req-2 40 s ago.)
    req1 = max(roots, key=lambda e: e.timestamp)
    before = [c.name for c in org.polar.events.list(parent_id=req1.id).items]
    resent = org.polar.events.ingest(events=[
        {"name": "request", "external_customer_id": "p", "external_id": "req-1", "timestamp": ago(seconds=30)},
        {"name": "step-2", "external_customer_id": "p", "external_id": "req-1-step-2", "parent_id": "req-1", "timestamp": ago(seconds=10)},
    ])
    assert (resent.inserted, resent.duplicates) == (1, 1)
    children = org.polar.events.list(parent_id=req1.id).items
    assert sorted(c.name for c in children) == sorted(before + ["step-2"])
    assert all(c.parent_id == req1.id for c in children)


def test_names_and_event_types(org):
    org.polar.events.ingest(events=[
        {"name": "a.one", "external_customer_id": "n", "timestamp": ago(minutes=5)},
        {"name": "a.one", "external_customer_id": "n", "timestamp": ago(minutes=1), "metadata": {"kind": "fancy"}},
        {"name": "b.two", "external_customer_id": "n", "timestamp": ago(minutes=3)},
    ])
    names = org.polar.events.list_names().items
    assert [(n.name, n.occurrences) for n in names] == [("a.one", 2), ("b.two", 1)]
    assert org.polar.events.list_names(sorting=["occurrences"]).items[0].name == "b.two"
    assert [n.name for n in org.polar.events.list_names(query="TWO").items] == ["b.two"]
    types = org.polar.event_types.list().items
    assert {(t.name, t.occurrences) for t in types} == {("a.one", 2), ("b.two", 1)}
    a_one = next(t for t in types if t.name == "a.one")
    renamed = org.polar.event_types.update(a_one.id, label="  Premium call ", label_property_selector="kind")
    assert renamed.label == "Premium call" and renamed.label_property_selector == "kind"
    labels = {e.metadata.get("kind"): e.label for e in org.polar.events.list(name="a.one").items}
    assert labels == {"fancy": "fancy", None: "Premium call"}
    assert org.polar.event_types.list(query="premium").items[0].id == a_one.id
    with pytest.raises(HTTPValidationError):
        org.polar.event_types.update(a_one.id, label="   ")


def test_scopes_and_tenancy(floe, org):
    org.polar.events.ingest(events=[{"name": "mine", "external_customer_id": "t"}])
    event = org.polar.events.list().items[0]
    reader = floe.client(floe.token(org.organization, "events:read"))
    assert reader.events.list().pagination.total_count == 1
    with pytest.raises(PolarClientError) as error:
        reader.events.ingest(events=[{"name": "x", "external_customer_id": "t"}])
    assert error.value.status_code == 403
    assert httpx.post(f"{org.url}/v1/events/ingest", json={"events": []}).status_code == 401
    other = floe.client(floe.token(floe.organization()))
    assert other.events.list().pagination.total_count == 0
    assert other.events.list_names().items == []
    assert other.event_types.list().items == []
    with pytest.raises(ResourceNotFound):
        other.events.get(event.id)
    a_type = org.polar.event_types.list().items[0]
    with pytest.raises(PolarClientError) as error:
        other.event_types.update(a_type.id, label="stolen")
    assert error.value.status_code == 404
    # Another organization's customer cannot be named.
    with pytest.raises(HTTPValidationError):
        other.events.ingest(events=[{"name": "x", "customer_id": org.polar.customers.create(email=f"t-{uuid.uuid4().hex[:6]}@example.com").id}])


def test_kill_9_mid_batch_stores_all_or_nothing_and_a_resend_completes_it(own_floe):
    import threading

    server = own_floe()
    organization = server.organization()
    token = server.token(organization)
    batch = [
        {"name": "bulk", "external_customer_id": f"k{i % 10}", "external_id": f"bulk-{i}", "metadata": {"i": i, "pad": "x" * 200}}
        for i in range(20_000)
    ]
    outcome = {}

    def send():
        try:
            outcome["response"] = httpx.post(f"{server.url}/v1/events/ingest", json={"events": batch},
                                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
        except httpx.HTTPError as error:
            outcome["error"] = error

    sender = threading.Thread(target=send)
    sender.start()
    import time as _time
    _time.sleep(0.3)
    server.kill()
    sender.join()
    server.start()
    polar = server.client(token)
    stored = polar.events.list(name="bulk", limit=1).pagination.total_count
    assert stored in (0, 20_000), stored  # one transaction: never half a batch
    if "response" in outcome:
        assert outcome["response"].status_code == 200 and stored == 20_000  # acknowledged means stored
    again = polar.events.ingest(events=batch)
    assert again.inserted + again.duplicates == 20_000
    assert again.duplicates == stored
    assert polar.events.list(name="bulk", limit=1).pagination.total_count == 20_000


def test_list_by_meter_and_by_filter(floe, org):
    """`meter_id` lists exactly the events the meter aggregates (its filter, and its
    property present as a number), `filter` takes the meters' filter language; both walk
    more events than one read of the database holds (1,000), pages and cursors alike."""
    now = datetime.datetime.now(datetime.timezone.utc)
    events = []
    for i in range(2600):
        event = {"name": ["llm", "api", "llm"][i % 3], "timestamp": (now - datetime.timedelta(seconds=3000 - i)).isoformat(),
                 "external_customer_id": f"c{i % 4}", "metadata": {"i": i}}
        if i % 5:
            event["metadata"]["tokens"] = i % 7 if i % 11 else "many"
        events.append(event)
    for start in range(0, len(events), 1000):
        org.polar.events.ingest(events=events[start : start + 1000])
    meter = org.polar.meters.create(
        name="tokens", aggregation={"func": "sum", "property": "tokens"},
        filter={"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "llm"}]},
    )

    headers = {"Authorization": f"Bearer {org.token}"}

    def walk(**params):
        """Every page, over plain HTTP: the SDK and the schema check of every event would
        take seconds a page; one page goes through the SDK below."""
        seen, page = [], 1
        while True:
            listed = httpx.get(f"{org.url}/v1/events/", headers=headers, params={"limit": 100, "page": page, **params})
            assert listed.status_code == 200, listed.text
            body = listed.json()
            seen += [e["metadata"]["i"] for e in body["items"]]
            if page >= body["pagination"]["max_page"]:
                assert body["pagination"]["total_count"] == len(seen)
                return seen
            page += 1

    def numeric_tokens(e):
        return isinstance(e["metadata"].get("tokens"), int)

    expected = sorted((e["metadata"]["i"] for e in events if e["name"] == "llm" and numeric_tokens(e)), reverse=True)
    assert walk(meter_id=meter.id) == expected
    assert [e.metadata["i"] for e in org.polar.events.list(meter_id=meter.id, limit=5).items] == expected[:5]
    assert walk(meter_id=meter.id, sorting="timestamp") == sorted(expected)
    assert walk(meter_id=meter.id, external_customer_id="c1") == [i for i in expected if i % 4 == 1]

    # Cursor pages: a next page exactly while matches remain.
    assert len(expected) > 1000
    first = httpx.get(f"{org.url}/v1/events/", params={"meter_id": meter.id, "cursor_pagination": "true", "limit": 100, "page": 11},
                      headers=headers).json()
    assert [e["metadata"]["i"] for e in first["items"]] == expected[1000:1100] and first["pagination"]["has_next_page"] is True
    last_page = -(-len(expected) // 100)
    final = httpx.get(f"{org.url}/v1/events/", params={"meter_id": meter.id, "cursor_pagination": "true", "limit": 100, "page": last_page},
                      headers=headers).json()
    assert final["pagination"]["has_next_page"] is False and len(final["items"]) == len(expected) - 100 * (last_page - 1)

    tokens_over_4 = '{"conjunction": "or", "clauses": [{"property": "tokens", "operator": "gt", "value": 4}, {"property": "i", "operator": "eq", "value": 7}]}'
    # Typed as meters compare: a number with a number, a string with the value's text.
    def over_4(tokens):
        return tokens > 4 if isinstance(tokens, int) else isinstance(tokens, str) and tokens > "4"

    expected = sorted((e["metadata"]["i"] for e in events if over_4(e["metadata"].get("tokens")) or e["metadata"]["i"] == 7), reverse=True)
    assert walk(filter=tokens_over_4) == expected

    # Another organization's meter is not found; a filter that is not one is refused.
    other = floe.organization()
    foreign = floe.client(floe.token(other)).meters.create(
        name="theirs", aggregation={"func": "count"}, filter={"conjunction": "and", "clauses": []})
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.events.list(meter_id=foreign.id)
    assert locs(refused) == [["query", "meter_id"]] and refused.value.error.detail[0].type == "meter_id"
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.events.list(filter="{not json")
    assert locs(refused) == [["query", "filter"]]
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.events.list(filter='{"conjunction": "and", "clauses": [{"property": "", "operator": "eq", "value": 1}]}')
    assert locs(refused)[0][:2] == ["query", "filter"]
