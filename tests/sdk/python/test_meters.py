"""Meters through the official Python SDK: create, list, get, update and archive, with
filter and aggregation validation, scopes and tenancy."""

import uuid

import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound

FILTER = {"conjunction": "and", "clauses": [
    {"property": "name", "operator": "eq", "value": "llm.completion"},
    {"conjunction": "or", "clauses": [
        {"property": "metadata.tier", "operator": "eq", "value": "gold"},
        {"property": "_llm.total_tokens", "operator": "gte", "value": 10},
    ]},
]}


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def test_create_get_list_update_archive(org):
    meter = org.polar.meters.create(
        name="Tokens", filter=FILTER, aggregation={"func": "sum", "property": "_llm.total_tokens"}, metadata={"team": "ai"}
    )
    assert meter.unit == "scalar" and meter.archived_at is None and meter.metadata == {"team": "ai"}
    assert meter.aggregation.func == "sum" and meter.aggregation.property == "_llm.total_tokens"
    assert meter.filter.clauses[1].clauses[0].property == "tier"  # `metadata.` is implied
    assert org.polar.meters.get(meter.id).name == "Tokens"
    calls = org.polar.meters.create(name="API calls", filter={"conjunction": "and", "clauses": []}, aggregation={"func": "count"})
    custom = org.polar.meters.create(
        name="Seconds", unit="custom", custom_label="seconds", custom_multiplier=60,
        filter={"conjunction": "or", "clauses": [{"property": "name", "operator": "like", "value": "video"}]},
        aggregation={"func": "unique", "property": "user"},
    )
    assert custom.custom_label == "seconds" and custom.custom_multiplier == 60 and custom.aggregation.func == "unique"

    assert [m.name for m in org.polar.meters.list().items] == ["API calls", "Seconds", "Tokens"]
    assert [m.name for m in org.polar.meters.list(sorting=["-created_at"]).items] == ["Seconds", "API calls", "Tokens"]
    assert [m.name for m in org.polar.meters.list(query="tok").items] == ["Tokens"]
    assert [m.name for m in org.polar.meters.list(metadata={"team": "ai"}).items] == ["Tokens"]

    updated = org.polar.meters.update(calls.id, name="Requests", aggregation={"func": "max", "property": "ms"})
    assert updated.name == "Requests" and updated.aggregation.func == "max" and updated.modified_at is not None
    archived = org.polar.meters.update(calls.id, is_archived=True)
    assert archived.archived_at is not None
    assert [m.name for m in org.polar.meters.list(is_archived=False).items] == ["Seconds", "Tokens"]
    assert [m.name for m in org.polar.meters.list(is_archived=True).items] == ["Requests"]
    assert org.polar.meters.update(calls.id, is_archived=False).archived_at is None
    scalar = org.polar.meters.update(custom.id, unit="scalar")
    assert scalar.unit == "scalar" and scalar.custom_label is None and scalar.custom_multiplier is None


def test_validation(org):
    good_filter = {"conjunction": "and", "clauses": []}
    cases = [
        (dict(name="ab", filter=good_filter, aggregation={"func": "count"}), ["body", "name"]),
        (dict(name="Meter", filter={"conjunction": "xor", "clauses": []}, aggregation={"func": "count"}), ["body", "filter", "conjunction"]),
        (dict(name="Meter", filter={"conjunction": "and", "clauses": [{"property": "x", "operator": "contains", "value": 1}]}, aggregation={"func": "count"}), ["body", "filter", "clauses", 0, "operator"]),
        (dict(name="Meter", filter={"conjunction": "and", "clauses": [{"property": "x", "operator": "eq", "value": 1.5}]}, aggregation={"func": "count"}), ["body", "filter", "clauses", 0, "value"]),
        (dict(name="Meter", filter={"conjunction": "and", "clauses": [{"conjunction": "or", "clauses": [{"property": "", "operator": "eq", "value": 1}]}]}, aggregation={"func": "count"}), ["body", "filter", "clauses", 0, "clauses", 0, "property"]),
        (dict(name="Meter", filter=good_filter, aggregation={"func": "sum"}), ["body", "aggregation", "sum", "property"]),
        (dict(name="Meter", filter=good_filter, aggregation={"func": "median", "property": "x"}), ["body", "aggregation", "func"]),
        (dict(name="Meter", filter=good_filter, aggregation={"func": "count"}, unit="custom"), ["body"]),
        (dict(name="Meter", filter=good_filter, aggregation={"func": "count"}, custom_label="x"), ["body"]),
        (dict(name="Meter", filter=good_filter, aggregation={"func": "count"}, unit="bytes"), ["body", "unit"]),
        (dict(name="Meter", filter=good_filter, aggregation={"func": "count"}, organization_id=str(uuid.uuid4())), ["body", "organization_id"]),
        (dict(name="Meter", aggregation={"func": "count"}), ["body", "filter"]),
    ]
    for body, loc in cases:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.meters.create(**body)
        assert loc in locs(error), (body, locs(error))


def test_scopes_and_tenancy(floe, org):
    meter = org.polar.meters.create(name="Mine", filter={"conjunction": "and", "clauses": []}, aggregation={"func": "count"})
    reader = floe.client(floe.token(org.organization, "meters:read"))
    assert reader.meters.get(meter.id).id == meter.id
    with pytest.raises(PolarClientError) as error:
        reader.meters.create(name="Nope", filter={"conjunction": "and", "clauses": []}, aggregation={"func": "count"})
    assert error.value.status_code == 403
    other = floe.client(floe.token(floe.organization()))
    assert other.meters.list().items == []
    with pytest.raises(ResourceNotFound):
        other.meters.get(meter.id)
    with pytest.raises(ResourceNotFound):
        other.meters.update(meter.id, name="Stolen")
