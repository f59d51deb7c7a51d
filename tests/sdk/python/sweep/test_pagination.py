"""Big and odd numbers in `page` and `limit`, for every routed page list: values beyond 64
bits, zero, negative, fractions and repeats are a 422 naming the parameter or are read as
Polar reads them (a huge `limit` is clamped to 100, a page past the end is empty, the last
of repeated values counts); never a 5xx."""

import pytest

from calls import call, fill_path
from contract import schema_ref, validate
from operations import coverage

LISTS = [op for op in coverage().swept if op.is_page_list and op.organization_token_accepted]
HUGE = ["18446744073709551616", "21971857824477790339072", "9" * 400, "9223372036854775807", "9223372036854775808"]
REFUSED = {
    "0": "greater_than", "-1": "greater_than", "-0": "greater_than", "-99999999999999999999999": "greater_than",
    "1.5": "int_parsing", "1e3": "int_parsing", "0x10": "int_parsing", "": "int_parsing", "one": "int_parsing",
    "NaN": "int_parsing", "Infinity": "int_parsing", " ": "int_parsing",
}


def ids(ops):
    return [op.operation_id for op in ops]


def get(world, op, query):
    """The list with a raw query (a list of pairs, so that repeats are sent as given)."""
    response = call(world.a.http, op, fill_path(op, world.a), params=query)
    assert response.status_code < 500, f"{op.operation_id}?{query}: {response.status_code} {response.text}"
    return response


@pytest.mark.parametrize("op", LISTS, ids=ids(LISTS))
def test_big_and_odd_page_numbers(world, op):
    first = get(world, op, [("limit", "1")])
    assert first.status_code == 200, first.text
    total = first.json()["pagination"].get("total_count")
    for huge in HUGE:
        response = get(world, op, [("page", huge)])
        assert response.status_code == 200, f"page={huge[:30]}: {response.status_code} {response.text}"
        body = response.json()
        assert body["items"] == [], f"page={huge[:30]} is past the end but has items"
        if total is not None:
            assert body["pagination"]["total_count"] == total
    # The largest offset SQL takes, and one past it.
    for page, limit in (("9223372036854775807", "1"), ("9223372036854775808", "1"), ("922337203685477581", "10")):
        response = get(world, op, [("page", page), ("limit", limit)])
        assert response.status_code == 200 and response.json()["items"] == [], f"page={page} limit={limit}: {response.text}"
    for value, error in REFUSED.items():
        response = get(world, op, [("page", value)])
        assert response.status_code == 422, f"page={value!r}: {response.status_code} {response.text}"
        validate(response.json(), schema_ref("HTTPValidationError"))
        (issue,) = response.json()["detail"]
        assert issue["loc"] == ["query", "page"] and issue["type"] == error, issue
    # Polar's server reads these as integers.
    for value in ("2.0", " 1 ", "+1", "1_0"):
        assert get(world, op, [("page", value)]).status_code == 200, value
    # A repeated parameter: the last value counts, as in Polar.
    repeated = get(world, op, [("page", "-5"), ("page", "1")])
    assert repeated.status_code == 200, repeated.text
    assert get(world, op, [("page", "1"), ("page", "0")]).status_code == 422


@pytest.mark.parametrize("op", LISTS, ids=ids(LISTS))
def test_big_and_odd_limits(world, op):
    for huge in HUGE + ["101", "1000"]:
        response = get(world, op, [("limit", huge)])
        assert response.status_code == 200, f"limit={huge[:30]}: {response.status_code} {response.text}"
        body = response.json()
        assert len(body["items"]) <= 100
        pagination = body["pagination"]
        if "max_page" in pagination:
            # Clamped to 100 a page, so the page count is the one of 100-item pages.
            assert pagination["max_page"] == -(-pagination["total_count"] // 100), pagination
    for value, error in REFUSED.items():
        response = get(world, op, [("limit", value)])
        assert response.status_code == 422, f"limit={value!r}: {response.status_code} {response.text}"
        (issue,) = response.json()["detail"]
        assert issue["loc"] == ["query", "limit"] and issue["type"] == error, issue
    both = get(world, op, [("page", "0"), ("limit", "0")])
    assert both.status_code == 422
    assert sorted(tuple(i["loc"]) for i in both.json()["detail"]) == [("query", "limit"), ("query", "page")]


@pytest.mark.parametrize("op", LISTS, ids=ids(LISTS))
def test_a_page_past_the_end_is_empty(world, op):
    first = get(world, op, [("limit", "1")]).json()
    pagination = first["pagination"]
    past = get(world, op, [("limit", "1"), ("page", str(pagination["max_page"] + 1))])
    assert past.status_code == 200, past.text
    assert past.json()["items"] == []
    assert past.json()["pagination"] == pagination
