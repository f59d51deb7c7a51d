"""Tenancy, generated from the route table: for every routed operation that names a
resource in its path, another organization's token gets the contract's 404 and the
resource is unchanged; every list and read without a path ID shows another organization
nothing, and counts nothing of it."""

import json

import pytest

from calls import call, fill_path
from contract import schema_ref, validate
from operations import coverage
from samples import array_items, sample, variants
from world import QUERY_IDS, REFERENCES, list_kind, path_kind

ROUTED = coverage().swept
WITH_PATH_ID = [op for op in ROUTED if op.path_parameters and op.organization_token_accepted]
READS_WITHOUT_ID = [op for op in ROUTED if op.method == "GET" and not op.path_parameters and op.organization_token_accepted]


def ids(ops):
    return [op.operation_id for op in ops]


def differences(before, after, where=""):
    """Field-by-field differences between two readings."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            found += differences(before.get(key, "<absent>"), after.get(key, "<absent>"), f"{where}.{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (x, y) in enumerate(zip(before, after)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if before == after else [f"{where or '.'}: {json.dumps(before)[:200]} -> {json.dumps(after)[:200]}"]


def test_the_contract_is_polars_own():
    """The sweep reads the contract vendored beside floe's sources; where the workplace's
    copy of Polar's file is at hand, the two must be the same bytes."""
    from contract import SPEC_PATH

    shared = SPEC_PATH.parents[4] / "shared" / "polar-api" / "openapi-2026-10.json"
    if not shared.exists():
        pytest.skip(f"no workplace copy of the contract at {shared}")
    assert shared.read_bytes() == SPEC_PATH.read_bytes(), f"{SPEC_PATH} differs from {shared}"


def test_the_sweep_covers_every_routed_operation():
    report = coverage().report()
    print(report)
    assert not coverage().undescribed, (
        "routes that are not contract operations; fix the path or describe them in sweep/operations.py: "
        f"{coverage().undescribed}"
    )
    missing = [
        f"{op.operation_id} ({name})" for op in WITH_PATH_ID for name in op.path_parameters if path_kind(op.path, name) is None
    ]
    assert not missing, "path parameters the sweep cannot fill; add their kind to sweep/world.py: " + ", ".join(missing)
    assert ROUTED, "floe routes no contract operation: is FLOE_BIN right?"


@pytest.mark.parametrize("op", WITH_PATH_ID, ids=ids(WITH_PATH_ID))
def test_another_organizations_resource_is_404_and_unchanged(world, op):
    owner, other = world.a, world.b
    path = fill_path(op, owner)
    before = owner.snapshot()
    response = call(other.http, op, path)
    assert response.status_code == 404, f"{op.method} {path} with another organization's token: {response.status_code} {response.text}"
    body = response.json()
    validate(body, op.response_schema(404) or schema_ref("ResourceNotFound"))
    assert body["error"] == "ResourceNotFound", body
    after = owner.snapshot()
    changed = differences(before, after)
    assert not changed, f"{op.operation_id} by another organization changed the owner's resources: " + "; ".join(changed)


def walk(http, op, params):
    """Every page of a list: the items and the total the first page announced."""
    items, page, total, texts = [], 1, None, []
    while True:
        response = call(http, op, op.path, params={**params, "page": page, "limit": 100})
        assert response.status_code == 200, f"{op.method} {op.path} {params}: {response.status_code} {response.text}"
        texts.append(response.text)
        body = response.json()
        items += body["items"]
        pagination = body["pagination"]
        if total is None and "total_count" in pagination:
            total = pagination["total_count"]
        more = pagination.get("has_next_page") if "has_next_page" in pagination else page < pagination["max_page"]
        if not more:
            return items, total, "".join(texts)
        page += 1


@pytest.mark.parametrize("op", READS_WITHOUT_ID, ids=ids(READS_WITHOUT_ID))
def test_reads_show_nothing_of_another_organization(world, op):
    owner, other = world.a, world.b
    markers = owner.markers()
    if op.is_page_list:
        items, total, text = walk(other.http, op, {})
        if total is not None:
            assert total == len(items), f"{op.operation_id}: total_count {total} but {len(items)} items visible"
    else:
        response = call(other.http, op, op.path)
        assert response.status_code == 200, f"{op.operation_id}: {response.status_code} {response.text}"
        text = response.text
    leaked = sorted(m for m in markers if m in text)
    assert not leaked, f"{op.operation_id} shows another organization's data: {leaked}"


def filters_naming_the_owner(op, owner):
    """Each query filter of the list that names a resource, set to the owner's."""
    own_kind = list_kind(op.path)
    for parameter in op.parameters("query"):
        name = parameter["name"]
        target = QUERY_IDS.get(name) or ((own_kind, "id") if name == "ids" and own_kind else None)
        if target:
            kind, attribute = target
            yield name, owner.need(kind)[attribute]


LISTS = [op for op in READS_WITHOUT_ID if op.is_page_list]


@pytest.mark.parametrize("op", LISTS, ids=ids(LISTS))
def test_filtering_on_another_organizations_ids_finds_nothing(world, op):
    owner, other = world.a, world.b
    markers = owner.markers()
    filters = list(filters_naming_the_owner(op, owner))
    for name, value in filters:
        first = call(other.http, op, op.path, params={name: value})
        if first.status_code == 422:
            # Refusing to filter on what the caller cannot see is fine too (Polar answers a
            # meter of another organization so), as long as it names the filter.
            assert [issue["loc"] for issue in first.json()["detail"]] == [["query", name]], first.text
            assert not sorted(m for m in markers if m in first.text.replace(str(value), "")), first.text
            continue
        items, total, text = walk(other.http, op, {name: value})
        assert items == [] and total in (None, 0), f"{op.operation_id}?{name}=<owner's>: {total} rows, {len(items)} items"
        leaked = sorted(m for m in markers if m in text)
        assert not leaked, f"{op.operation_id}?{name}=<owner's> shows {leaked}"


def bodies_naming_the_owner(op, owner):
    """The operation's smallest body with one field that names a resource set to the
    owner's: a top-level field, or a field of the items of a top-level array (an event of
    a batch). Yields (where, value, body)."""
    if op.body_schema is None:
        return
    base = sample(op.body_schema)
    for shape in variants(op.body_schema):
        for name, field in shape.get("properties", {}).items():
            if name in REFERENCES:
                kind, attribute = REFERENCES[name]
                value = owner.need(kind)[attribute]
                yield name, value, {**base, name: value}
            items = array_items(field)
            for item_shape in variants(items) if items else []:
                for inner in item_shape.get("properties", {}):
                    if inner in REFERENCES:
                        kind, attribute = REFERENCES[inner]
                        value = owner.need(kind)[attribute]
                        item = {**sample(item_shape), inner: value}
                        yield f"{name}[].{inner}", value, {**base, name: [item]}


WRITES = [op for op in ROUTED if op.is_write and op.body_schema is not None and op.organization_token_accepted]


@pytest.mark.parametrize("op", WRITES, ids=ids(WRITES))
def test_writes_naming_another_organizations_resources_change_nothing_of_it(world, op):
    """A body that names the owner's resource, sent by another organization: no 5xx, the
    owner's resources unchanged, and the answer shows nothing of the owner's but what the
    caller sent."""
    owner, other = world.a, world.b
    markers = owner.markers()
    for where, value, payload in bodies_naming_the_owner(op, owner):
        path = fill_path(op, other, fresh=True)
        before = owner.snapshot()
        response = call(other.http, op, path, json=payload)
        assert response.status_code < 500, f"{op.operation_id} with {where}=<owner's>: {response.status_code} {response.text}"
        leaked = sorted(m for m in markers if m in response.text.replace(str(value), ""))
        assert not leaked, f"{op.operation_id} with {where}=<owner's> shows {leaked}: {response.text[:500]}"
        changed = differences(before, owner.snapshot())
        assert not changed, f"{op.operation_id} with {where}=<owner's> changed the owner's: " + "; ".join(changed)
        print(f"{op.operation_id}: {where}=<owner's> answered {response.status_code}")
