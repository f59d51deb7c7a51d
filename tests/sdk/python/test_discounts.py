"""Discounts through the official Python SDK: percentage and fixed (amounts per currency,
and the deprecated single amount), the three durations, codes unique per organization
whatever their case, windows and caps, products of the same organization (which then
cannot be deleted), the rules on updates, deletion, the list's search and sorting, and
`discount.created` / `.updated` / `.deleted` accepted by the SDK's `validate_event`. (The
redemption race is in crates/floe/tests/discounts.rs; tenancy, scopes and fuzzing come from
the contract sweep.)"""

import uuid

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, ProductNotDeletable, ResourceNotFound
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def messages(error):
    return [d.msg for d in error.value.error.detail]


@pytest.fixture(scope="module")
def hooked():
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield server
    server.stop()


@pytest.fixture
def shop(hooked):
    return hooked.client(hooked.token(hooked.organization()))


def product(polar, name="Plan"):
    return polar.products.create(name=name, prices=[{"amount_type": "fixed", "price_amount": 1000}])


def test_types_durations_and_products(hooked):
    token = hooked.token(hooked.organization())
    shop = hooked.client(token)
    plan = product(shop)
    tenth = shop.discounts.create(type="percentage", name="Ten off", duration="repeating", duration_in_months=3,
                                  basis_points=1000, code="TEN", max_redemptions=100, products=[plan.id],
                                  metadata={"campaign": "spring"})
    assert (tenth.type, tenth.duration, tenth.basis_points) == ("percentage", "repeating", 1000)
    # The SDK reads the first of the contract's shapes that fits, which has no
    # `duration_in_months`; the answer has it.
    raw = httpx.get(f"{hooked.url}/v1/discounts/{tenth.id}", headers={"Authorization": f"Bearer {token}"}).json()
    assert raw["duration_in_months"] == 3
    assert tenth.code == "TEN" and tenth.max_redemptions == 100 and tenth.redemptions_count == 0
    assert [p.id for p in tenth.products] == [plan.id] and tenth.products[0].name == "Plan"
    assert tenth.metadata == {"campaign": "spring"}
    fiver = shop.discounts.create(type="fixed", name="Five off", duration="once", amounts={"usd": 500, "eur": 450})
    assert fiver.amounts == {"eur": 450, "usd": 500} and (fiver.amount, fiver.currency) == (500, "usd")
    assert fiver.products == [] and fiver.code is None
    legacy = shop.discounts.create(type="fixed", name="Legacy", duration="forever", amount=300, currency="eur")
    assert legacy.amounts == {"eur": 300}
    assert shop.discounts.get(tenth.id).name == "Ten off"

    # A product a discount is limited to can be archived, not deleted.
    assert shop.products.get(plan.id).is_deletable is False
    with pytest.raises(ProductNotDeletable):
        shop.products.delete(plan.id)
    shop.discounts.delete(tenth.id)
    with pytest.raises(ResourceNotFound):
        shop.discounts.get(tenth.id)
    assert shop.products.get(plan.id).is_deletable is True
    shop.products.delete(plan.id)


def test_codes_are_unique_whatever_their_case(shop):
    shop.discounts.create(type="percentage", name="Summer", duration="once", basis_points=500, code="Summer24")
    with pytest.raises(HTTPValidationError) as error:
        shop.discounts.create(type="percentage", name="Again", duration="once", basis_points=500, code="SUMMER24")
    assert locs(error) == [["body", "code"]] and messages(error) == ["Discount with this code already exists."]
    other = shop.discounts.create(type="percentage", name="Other", duration="once", basis_points=500, code="OTHER1")
    with pytest.raises(HTTPValidationError):
        shop.discounts.update(other.id, code="summer24")
    # Deleting frees the code.
    shop.discounts.delete(other.id)
    assert shop.discounts.create(type="percentage", name="Reuse", duration="once", basis_points=500, code="other1").code == "other1"


def test_validation_names_the_field(hooked, shop):
    foreign = product(hooked.client(hooked.token(hooked.organization())))
    create = shop.discounts.create
    cases = [
        (dict(type="percentage", name="x", duration="once", basis_points=0), [["body", "basis_points"]]),
        (dict(type="percentage", name="x", duration="once", basis_points=10001), [["body", "basis_points"]]),
        (dict(type="percentage", name="x", duration="once"), [["body", "basis_points"]]),
        (dict(type="percentage", name="x", duration="repeating", basis_points=10), [["body", "duration_in_months"]]),
        (dict(type="percentage", name="x", duration="once", duration_in_months=2, basis_points=10), [["body", "duration_in_months"]]),
        (dict(type="percentage", name="x", duration="once", basis_points=10, code="a b"), [["body", "code"]]),
        (dict(type="percentage", name="x", duration="once", basis_points=10, code="ab"), [["body", "code"]]),
        (dict(type="percentage", name="x", duration="once", basis_points=10, max_redemptions=0), [["body", "max_redemptions"]]),
        (dict(type="percentage", name="x", duration="once", basis_points=10, starts_at="2027-01-02T00:00:00Z",
              ends_at="2027-01-01T00:00:00Z"), [["body"]]),
        (dict(type="fixed", name="x", duration="once"), [["body"]]),
        (dict(type="fixed", name="x", duration="once", amount=100, amounts={"usd": 100}), [["body"]]),
        (dict(type="fixed", name="x", duration="once", amounts={"usd": -1}), [["body", "amounts", "usd"]]),
        (dict(type="fixed", name="x", duration="once", amounts={}), [["body", "amounts"]]),
        (dict(type="percentage", name="x", duration="once", basis_points=10, products=[foreign.id]), [["body", "products", 0]]),
    ]
    for kwargs, expected in cases:
        with pytest.raises(HTTPValidationError) as error:
            create(**kwargs)
        assert locs(error) == expected, kwargs
    assert shop.discounts.list().pagination.total_count == 0


def test_updates_keep_type_and_duration(hooked, shop):
    made = shop.discounts.create(type="percentage", name="Spring", duration="once", basis_points=1000)
    with pytest.raises(HTTPValidationError) as error:
        shop.discounts.update(made.id, duration="forever")
    assert locs(error) == [["body", "duration"]]
    with pytest.raises(HTTPValidationError) as error:
        shop.discounts.update(made.id, type="fixed")
    assert locs(error) == [["body", "type"]]
    plan = product(shop, "Annual")
    updated = shop.discounts.update(made.id, name="Spring sale", basis_points=1500, code="SPRING", products=[plan.id])
    assert (updated.name, updated.basis_points, updated.code) == ("Spring sale", 1500, "SPRING")
    assert [p.id for p in updated.products] == [plan.id] and updated.modified_at is not None
    cleared = shop.discounts.update(made.id, code=None, products=[])
    assert cleared.code is None and cleared.products == []
    same = shop.discounts.update(made.id, name="Spring sale")
    assert same.modified_at == cleared.modified_at

    # Once redeemed, what a buyer got cannot change.
    hooked.sql(f"UPDATE discounts SET redemptions_count = 1 WHERE id = {sql_id(hooked, made.id)}")
    with pytest.raises(HTTPValidationError) as error:
        shop.discounts.update(made.id, basis_points=2000)
    assert locs(error) == [["body", "basis_points"]]
    assert shop.discounts.update(made.id, name="Renamed").name == "Renamed"


def sql_id(server, value):
    return f"X'{uuid.UUID(str(value)).hex}'" if server.pg_db is None else f"'{value}'"


def test_list_search_and_sorting(shop):
    a = shop.discounts.create(type="percentage", name="Alpha", duration="once", basis_points=100, code="ZED")
    b = shop.discounts.create(type="percentage", name="Beta", duration="once", basis_points=100, code="ALPHA2")
    c = shop.discounts.create(type="percentage", name="Gamma", duration="once", basis_points=100)

    def ids(**kwargs):
        return [d.id for d in shop.discounts.list(**kwargs).items]

    assert ids() == [c.id, b.id, a.id]
    assert ids(query="alpha") == [b.id, a.id]
    assert ids(sorting=["name"]) == [a.id, b.id, c.id]
    assert ids(sorting=["code"]) == [b.id, a.id, c.id]
    assert ids(sorting=["-code"]) == [a.id, b.id, c.id]


def test_webhooks_are_typed_by_the_sdk(hooked):
    polar = hooked.client(hooked.token(hooked.organization()))
    receiver = Receiver()
    try:
        endpoint = polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw", events=["discount.created", "discount.updated", "discount.deleted"])
        made = polar.discounts.create(type="fixed", name="Welcome", duration="once", amounts={"usd": 200})
        polar.discounts.update(made.id, name="Welcome back")
        polar.discounts.delete(made.id)
        got = receiver.wait_for(3)
        payloads = []
        for delivery in got:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            payloads.append(validate_event(delivery.body, headers, endpoint.secret))
        assert [p.type for p in payloads] == ["discount.created", "discount.updated", "discount.deleted"]
        assert payloads[0].data.id == made.id and payloads[0].data.amounts == {"usd": 200}
        assert payloads[1].data.name == "Welcome back"
    finally:
        receiver.stop()
