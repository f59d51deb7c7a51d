"""Products through the official Python SDK: every price type (including the SDK's newer
`unit_based` and `metered_tiers`), prices in several currencies with each currency's
minimum, decimal rates read exactly, updates that keep, add and archive prices, media
files, custom fields and benefits of the same organization in order, archiving, the list's
filters and sorting, deletion, `product.created` / `product.updated` accepted by the SDK's
`validate_event`, and a page of products read in a fixed number of statements. (Tenancy,
scopes and fuzzing of these operations come from the contract sweep.)"""

import uuid

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver
from test_files import PNG, upload_file


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def messages(error):
    return [d.msg for d in error.value.error.detail]


@pytest.fixture(scope="module")
def hooked():
    """A floe that may deliver to 127.0.0.1."""
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield server
    server.stop()


@pytest.fixture
def shop(hooked):
    organization = hooked.organization()
    return hooked.client(hooked.token(organization))


def meter(polar, name="tokens"):
    return polar.meters.create(name=f"{name} {uuid.uuid4().hex[:6]}", aggregation={"func": "sum", "property": "tokens"},
                               filter={"conjunction": "and", "clauses": []})


def fixed(amount, currency="usd"):
    return {"amount_type": "fixed", "price_amount": amount, "price_currency": currency}


def test_one_time_product_in_two_currencies_with_media_fields_and_benefits(shop):
    cover = upload_file(shop, PNG, name="cover.png", service="product_media", mime="image/png")
    back = upload_file(shop, PNG, name="back.png", service="product_media", mime="image/png")
    size = shop.custom_fields.create(type="select", slug=f"size-{uuid.uuid4().hex[:6]}", name="Size",
                                     properties={"options": [{"value": "s", "label": "S"}, {"value": "m", "label": "M"}]})
    note = shop.custom_fields.create(type="text", slug=f"note-{uuid.uuid4().hex[:6]}", name="Note", properties={})
    product = shop.products.create(
        name="  The Book  ", description="A good read", prices=[fixed(2500), fixed(2300, "eur")],
        medias=[back.id, cover.id], metadata={"sku": "book-1"},
        attached_custom_fields=[{"custom_field_id": note.id, "required": False}, {"custom_field_id": size.id, "required": True}],
    )
    assert product.name == "The Book" and product.description == "A good read"
    assert product.is_recurring is False and product.recurring_interval is None and product.is_archived is False
    assert product.visibility == "public" and product.metadata == {"sku": "book-1"} and product.is_deletable
    assert [(p.price_currency, p.price_amount, p.amount_type) for p in product.prices] == [("usd", 2500, "fixed"), ("eur", 2300, "fixed")]
    assert all(p.product_id == product.id and p.source == "catalog" and not p.is_archived for p in product.prices)
    assert [m.id for m in product.medias] == [back.id, cover.id]
    assert product.medias[0].service == "product_media" and product.medias[0].public_url
    assert [(f.custom_field_id, f.order, f.required) for f in product.attached_custom_fields] == [(note.id, 0, False), (size.id, 1, True)]
    assert product.attached_custom_fields[1].custom_field.slug == size.slug

    perks = [shop.benefits.create(type="custom", description=f"Perk {i}", properties={"note": str(i)}) for i in range(3)]
    updated = shop.products.update_benefits(product.id, benefits=[perks[2].id, perks[0].id])
    assert [b.id for b in updated.benefits] == [perks[2].id, perks[0].id]
    got = shop.products.get(product.id)
    assert [b.id for b in got.benefits] == [perks[2].id, perks[0].id] and got.modified_at is not None
    assert [p.id for p in got.prices] == [p.id for p in product.prices]

    # Deleting a benefit or a custom field takes it off the product.
    shop.benefits.delete(perks[2].id)
    shop.custom_fields.delete(note.id)
    got = shop.products.get(product.id)
    assert [b.id for b in got.benefits] == [perks[0].id]
    assert [f.custom_field_id for f in got.attached_custom_fields] == [size.id]


def test_every_price_type(shop):
    tokens, calls = meter(shop, "tokens"), meter(shop, "calls")
    seats = shop.products.create(name="Team plan", recurring_interval="month", prices=[
        fixed(1000),
        {"amount_type": "seat_based", "seat_tiers": {"seat_tier_type": "graduated", "tiers": [
            {"min_seats": 6, "max_seats": None, "price_per_seat": 800},
            {"min_seats": 1, "max_seats": 5, "price_per_seat": 1000}]}},
        {"amount_type": "metered_unit", "meter_id": tokens.id, "unit_amount": 0.000001, "cap_amount": 100000},
        {"amount_type": "metered_tiers", "meter_id": calls.id, "tiers": {"type": "graduated", "tiers": [
            {"bound": None, "unit_amount": "0.25"}, {"bound": 1000, "unit_amount": 0}]}},
    ], trial_interval="week", trial_interval_count=2)
    assert seats.is_recurring and seats.recurring_interval == "month" and seats.recurring_interval_count == 1
    assert (seats.trial_interval, seats.trial_interval_count) == ("week", 2)
    base, seat, metered, tiered = seats.prices
    assert base.price_amount == 1000
    assert seat.seat_tiers.seat_tier_type == "graduated" and seat.seat_tiers.minimum_seats == 1 and seat.seat_tiers.maximum_seats is None
    assert [(t.min_seats, t.max_seats, t.price_per_seat) for t in seat.seat_tiers.tiers] == [(1, 5, 1000), (6, None, 800)]
    # 0.000001 is read from the body's text, not through a float, and shown as a decimal string.
    assert metered.unit_amount == "0.000001" and metered.cap_amount == 100000
    assert metered.meter_id == tokens.id and metered.meter.name == tokens.name and metered.meter.unit == tokens.unit
    assert tiered.amount_type == "metered_tiers" and tiered.tiers.type == "graduated"
    assert [(t.bound, t.unit_amount) for t in tiered.tiers.tiers] == [(1000, "0"), (None, "0.25")]

    units = shop.products.create(name="Credits pack", recurring_interval="year", prices=[
        {"amount_type": "unit_based", "minimum_units": 5, "unit_label": {"en": {"=1": " credit ", "other": "credits"}},
         "tiers": {"type": "volume", "tiers": [{"bound": 100, "unit_amount": 50}, {"bound": None, "unit_amount": "40"}]}},
    ])
    unit = units.prices[0]
    assert unit.amount_type == "unit_based" and unit.minimum_units == 5 and unit.maximum_units is None
    assert unit.unit_label == {"en": {"=1": "credit", "other": "credits"}}
    assert [(t.bound, t.unit_amount) for t in unit.tiers.tiers] == [(100, "50"), (None, "40")]

    pwyw = shop.products.create(name="Donation", prices=[
        {"amount_type": "custom", "minimum_amount": 0, "maximum_amount": 100000, "preset_amount": 1500}])
    assert (pwyw.prices[0].minimum_amount, pwyw.prices[0].maximum_amount, pwyw.prices[0].preset_amount) == (0, 100000, 1500)
    default = shop.products.create(name="Tip jar", prices=[{"amount_type": "custom", "price_currency": "usd"}])
    assert default.prices[0].minimum_amount == 50  # the currency's minimum
    free = shop.products.create(name="Free sample", prices=[{"amount_type": "fixed", "price_amount": 0}])
    assert free.prices[0].price_amount == 0 and free.prices[0].price_currency == "usd"
    exact = shop.products.create(name="Exact rate", recurring_interval="month", prices=[
        {"amount_type": "metered_unit", "meter_id": tokens.id, "unit_amount": "00012.345678901200"}])
    assert exact.prices[0].unit_amount == "12.3456789012"


def refused(call, **kwargs):
    with pytest.raises(HTTPValidationError) as error:
        call(**kwargs)
    return error


def test_prices_are_checked_field_by_field(shop):
    create = shop.products.create
    cases = [
        (dict(name="Cheap", prices=[fixed(49)]), [["body", "prices", 0, "fixed", "price_amount"]]),
        (dict(name="Cheap yen", prices=[fixed(79, "jpy"), fixed(100)]), [["body", "prices", 0, "fixed", "price_amount"]]),
        (dict(name="Too dear", prices=[fixed(100_000_000)]), [["body", "prices", 0, "fixed", "price_amount"]]),
        (dict(name="Negative", prices=[fixed(-1)]), [["body", "prices", 0, "fixed", "price_amount"]]),
        (dict(name="Bad currency", prices=[fixed(100, "USD")]), [["body", "prices", 0, "fixed", "price_currency"]]),
        (dict(name="No amount", prices=[{"amount_type": "fixed"}]), [["body", "prices", 0, "fixed", "price_amount"]]),
        (dict(name="No type", prices=[{"price_amount": 100}]), [["body", "prices", 0]]),
        (dict(name="Odd type", prices=[{"amount_type": "gratis"}]), [["body", "prices", 0, "amount_type"]]),
        (dict(name="No prices", prices=[]), [["body", "prices"]]),
        (dict(name="ab", prices=[fixed(100)]), [["body", "name"]]),
        (dict(name="Custom gap", prices=[{"amount_type": "custom", "minimum_amount": 10}]), [["body", "prices", 0, "custom", "minimum_amount"]]),
        (dict(name="Custom range", prices=[{"amount_type": "custom", "minimum_amount": 1000, "maximum_amount": 500}]),
         [["body", "prices", 0, "custom", "maximum_amount"]]),
        (dict(name="Seat gap", recurring_interval="month", prices=[{"amount_type": "seat_based", "seat_tiers": {"tiers": [
            {"min_seats": 1, "max_seats": 5, "price_per_seat": 100}, {"min_seats": 7, "price_per_seat": 90}]}}]),
         [["body", "prices", 0, "seat_based", "seat_tiers", "tiers"]]),
        (dict(name="Two unbounded", recurring_interval="month", prices=[{"amount_type": "unit_based", "tiers": {"type": "volume", "tiers": [
            {"unit_amount": 5}, {"unit_amount": 4}]}}]),
         [["body", "prices", 0, "unit_based", "tiers", "tiers"]]),
        (dict(name="Fractional unit", recurring_interval="month", prices=[{"amount_type": "unit_based", "tiers": {"type": "volume", "tiers": [
            {"unit_amount": "4.5"}]}}]),
         [["body", "prices", 0, "unit_based", "tiers", "tiers", 0, "unit_amount"]]),
        (dict(name="Too fine", recurring_interval="month", prices=[{"amount_type": "metered_unit", "meter_id": str(uuid.uuid4()),
                                                                     "unit_amount": "0.0000000000001"}]),
         [["body", "prices", 0, "metered_unit", "unit_amount"]]),
        (dict(name="Zero rate", recurring_interval="month", prices=[{"amount_type": "metered_unit", "meter_id": str(uuid.uuid4()),
                                                                      "unit_amount": 0}]),
         [["body", "prices", 0, "metered_unit", "unit_amount"]]),
        (dict(name="No meter", recurring_interval="month", prices=[{"amount_type": "metered_unit", "unit_amount": 1}]),
         [["body", "prices", 0, "metered_unit", "meter_id"]]),
        (dict(name="Long interval", recurring_interval="month", recurring_interval_count=1000, prices=[fixed(100)]),
         [["body", "recurring_interval_count"]]),
        (dict(name="Half a trial", recurring_interval="month", trial_interval="day", prices=[fixed(100)]), [["body"]]),
    ]
    for kwargs, expected in cases:
        assert locs(refused(create, **kwargs)) == expected, kwargs

    # The rules of the set, reported at the list.
    sets = [
        (dict(name="Two fixed", prices=[fixed(100), fixed(200)]), "Only one fixed price is allowed."),
        (dict(name="No default", prices=[fixed(100, "eur")]),
         "The organization's default presentment currency must be present in the prices."),
        (dict(name="Custom and fixed", prices=[fixed(100), {"amount_type": "custom"}]),
         "A custom price cannot be combined with a fixed, seat-based or unit-based price."),
        (dict(name="Mismatched", prices=[fixed(100), {"amount_type": "custom", "price_currency": "eur"}]),
         "All price currencies must define the same set of price types."),
    ]
    for kwargs, message in sets:
        error = refused(create, **kwargs)
        assert locs(error) == [["body", "prices"]] and messages(error) == [message], kwargs

    meters = meter(shop)
    error = refused(create, name="Metered once", prices=[fixed(100), {"amount_type": "metered_unit", "meter_id": meters.id, "unit_amount": 1}])
    assert locs(error) == [["body", "prices", 1]] and messages(error) == ["Metered pricing is not supported on one-time products."]
    error = refused(create, name="Same meter", recurring_interval="month", prices=[
        {"amount_type": "metered_unit", "meter_id": meters.id, "unit_amount": 1},
        {"amount_type": "metered_unit", "meter_id": meters.id, "unit_amount": 2}])
    assert locs(error) == [["body", "prices", 1, "meter_id"]]
    error = refused(create, name="Taxes", recurring_interval="month", prices=[
        {**fixed(100), "tax_behavior": "exclusive"}, {"amount_type": "metered_unit", "meter_id": meters.id, "unit_amount": 1}])
    assert messages(error) == ["All prices for the same currency must have the same tax behavior."]
    assert shop.products.list().pagination.total_count == 0  # nothing was half-written


def test_references_must_be_the_organizations(hooked, shop):
    other = hooked.client(hooked.token(hooked.organization()))
    foreign_meter = meter(other)
    foreign_media = upload_file(other, PNG, name="x.png", service="product_media", mime="image/png")
    downloadable = upload_file(shop, b"not media", name="x.txt", mime="text/plain")
    foreign_field = other.custom_fields.create(type="text", slug="theirs", name="Theirs", properties={})
    foreign_benefit = other.benefits.create(type="custom", description="Theirs", properties={})
    error = refused(shop.products.create, name="Borrowing", recurring_interval="month", prices=[
        {"amount_type": "metered_unit", "meter_id": foreign_meter.id, "unit_amount": 1}],
        medias=[foreign_media.id, downloadable.id],
        attached_custom_fields=[{"custom_field_id": foreign_field.id, "required": True}])
    assert locs(error) == [["body", "prices", 0, "meter_id"], ["body", "medias", 0], ["body", "medias", 1],
                           ["body", "attached_custom_fields", 0]]
    product = shop.products.create(name="Mine", prices=[fixed(100)])
    error = refused(shop.products.update_benefits, id=product.id, benefits=[foreign_benefit.id])
    assert locs(error) == [["body", "benefits", 0]] and messages(error) == ["Benefit does not exist."]
    # An organization ID in the body (an organization token decides it) is refused.
    error = refused(shop.products.create, name="Elsewhere", prices=[fixed(100)], organization_id=str(uuid.uuid4()))
    assert locs(error) == [["body", "organization_id"]]
    with pytest.raises(ResourceNotFound):
        other.products.get(product.id)


def test_updating_prices_keeps_adds_and_archives(shop):
    product = shop.products.create(name="Plan", recurring_interval="month", prices=[fixed(1000), fixed(900, "eur")])
    usd, eur = product.prices
    updated = shop.products.update(product.id, prices=[{"id": usd.id}, fixed(950, "eur")])
    assert updated.prices[0].id == usd.id and updated.prices[1].price_amount == 950 and updated.prices[1].id != eur.id
    assert eur.id not in [p.id for p in updated.prices]  # archived, not sold any more
    error = refused(shop.products.update, id=product.id, prices=[{"id": eur.id}])
    assert locs(error) == [["body", "prices", 0]] and messages(error) == ["Price does not exist."]
    error = refused(shop.products.update, id=product.id, prices=[{"id": str(uuid.uuid4())}])
    assert messages(error) == ["Price does not exist."]
    same = shop.products.update(product.id, name="Plan")  # nothing changes
    assert same.modified_at == updated.modified_at
    renamed = shop.products.update(product.id, name="Better plan", description="", visibility="private", trial_interval="day",
                                   trial_interval_count=7)
    assert renamed.name == "Better plan" and renamed.description is None and renamed.visibility == "private"
    assert (renamed.trial_interval, renamed.trial_interval_count) == ("day", 7)
    assert [p.id for p in renamed.prices] == [p.id for p in updated.prices]
    error = refused(shop.products.update, id=product.id, recurring_interval="year")
    assert locs(error) == [["body", "recurring_interval"]]
    once = shop.products.create(name="Once", prices=[fixed(100)])
    error = refused(shop.products.update, id=once.id, trial_interval="day", trial_interval_count=1)
    assert locs(error) == [["body", "trial_interval"], ["body", "trial_interval_count"]]

    archived = shop.products.update(product.id, is_archived=True)
    assert archived.is_archived
    assert shop.products.update(product.id, is_archived=False).is_archived is False


def test_list_filters_sorting_and_deletion(shop):
    perk = shop.benefits.create(type="custom", description="Perk", properties={})
    book = shop.products.create(name="Book", prices=[fixed(2500)], metadata={"kind": "paper"})
    plan = shop.products.create(name="Annual plan", recurring_interval="year", prices=[fixed(9900)], visibility="private")
    tip = shop.products.create(name="Tip", prices=[{"amount_type": "custom", "minimum_amount": 100}], visibility="draft")
    shop.products.update_benefits(plan.id, benefits=[perk.id])
    shop.products.update(tip.id, is_archived=True)

    def ids(**filters):
        return [p.id for p in shop.products.list(**filters).items]

    assert ids() == [tip.id, plan.id, book.id]
    assert ids(is_archived=False) == [plan.id, book.id]
    assert ids(is_recurring=True) == [plan.id]
    assert ids(is_recurring=False) == [tip.id, book.id]
    assert ids(benefit_id=perk.id) == [plan.id]
    assert ids(visibility=["draft", "private"]) == [tip.id, plan.id]
    assert ids(query="PLAN") == [plan.id]
    assert ids(id=[book.id, tip.id]) == [tip.id, book.id]
    assert ids(metadata={"kind": "paper"}) == [book.id]
    assert ids(sorting=["name"]) == [plan.id, book.id, tip.id]
    assert ids(sorting=["price_amount"]) == [tip.id, book.id, plan.id]
    assert ids(sorting=["-price_amount"]) == [plan.id, book.id, tip.id]
    assert ids(sorting=["price_amount_type", "name"]) == [tip.id, plan.id, book.id]
    with pytest.raises(HTTPValidationError) as error:
        shop.products.list(visibility=["hidden"])
    assert locs(error) == [["query", "visibility", 0]]

    shop.products.delete(book.id)
    with pytest.raises(ResourceNotFound):
        shop.products.get(book.id)
    with pytest.raises(ResourceNotFound):
        shop.products.delete(book.id)
    assert ids() == [tip.id, plan.id]


def test_webhooks_are_typed_by_the_sdk(hooked):
    organization = hooked.organization()
    polar = hooked.client(hooked.token(organization))
    receiver = Receiver()
    try:
        endpoint = polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw", events=["product.created", "product.updated"])
        tokens = meter(polar)
        product = polar.products.create(name="Metered plan", recurring_interval="month", prices=[
            fixed(500), {"amount_type": "metered_unit", "meter_id": tokens.id, "unit_amount": "0.5"}])
        polar.products.update(product.id, name="Metered plan 2")
        polar.products.update(product.id, name="Metered plan 2")  # nothing changes: no event
        perk = polar.benefits.create(type="custom", description="Perk", properties={})
        polar.products.update_benefits(product.id, benefits=[perk.id])
        got = receiver.wait_for(3)
        payloads = []
        for delivery in got:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            payloads.append(validate_event(delivery.body, headers, endpoint.secret))
        assert [p.type for p in payloads] == ["product.created", "product.updated", "product.updated"]
        assert payloads[0].data.id == product.id and payloads[0].data.prices[1].unit_amount == "0.5"
        assert payloads[1].data.name == "Metered plan 2"
        assert [b.id for b in payloads[2].data.benefits] == [perk.id]
    finally:
        receiver.stop()


def test_a_page_of_products_costs_a_fixed_number_of_statements(own_floe):
    """`x-floe-queries` (floe's `--count-queries`): a page of 12 products, each with prices in
    two currencies, a metered price, benefits, media and custom fields, costs what a page of 1
    does."""
    server = own_floe(env={"FLOE_COUNT_QUERIES": "1"})
    organization = server.organization()
    token = server.token(organization)
    polar = server.client(token)
    tokens = meter(polar)
    cover = upload_file(polar, PNG, name="cover.png", service="product_media", mime="image/png")
    field = polar.custom_fields.create(type="text", slug="note", name="Note", properties={})
    perks = [polar.benefits.create(type="custom", description=f"Perk {i}", properties={}) for i in range(2)]
    for i in range(12):
        product = polar.products.create(name=f"Product {i}", recurring_interval="month", medias=[cover.id],
                                        attached_custom_fields=[{"custom_field_id": field.id, "required": False}],
                                        prices=[fixed(1000 + i), fixed(900 + i, "eur"),
                                                {"amount_type": "metered_unit", "meter_id": tokens.id, "unit_amount": "0.1"},
                                                {"amount_type": "metered_unit", "meter_id": tokens.id, "unit_amount": "0.1",
                                                 "price_currency": "eur"}])
        polar.products.update_benefits(product.id, benefits=[p.id for p in perks])
    headers = {"Authorization": f"Bearer {token}"}

    def statements(limit):
        answer = httpx.get(f"{server.url}/v1/products/", params={"limit": limit}, headers=headers)
        assert answer.status_code == 200 and len(answer.json()["items"]) == limit, answer.text
        first = answer.json()["items"][0]
        assert len(first["prices"]) == 4 and len(first["benefits"]) == 2 and len(first["medias"]) == 1
        return int(answer.headers["x-floe-queries"])

    one, twelve = statements(1), statements(12)
    print(f"statements for a page of products: {one} for 1, {twelve} for 12")
    assert one == twelve, f"{one} statements for 1 product, {twelve} for 12"
    assert twelve <= 10, twelve


def test_what_a_client_may_not_set_is_ignored(hooked):
    """Mass assignment: IDs, timestamps, `is_archived` on create (and a discount's redemption
    count) in a body are not applied."""
    token = hooked.token(hooked.organization())
    headers = {"Authorization": f"Bearer {token}"}
    forged = str(uuid.uuid4())
    made = httpx.post(f"{hooked.url}/v1/products/", headers=headers, json={
        "name": "Forged", "prices": [fixed(100)], "id": forged, "is_archived": True,
        "created_at": "2001-01-01T00:00:00Z", "modified_at": "2001-01-01T00:00:00Z", "is_deletable": False,
    })
    assert made.status_code == 201, made.text
    product = made.json()
    assert product["id"] != forged and product["is_archived"] is False and product["modified_at"] is None
    assert not product["created_at"].startswith("2001") and product["is_deletable"] is True
    assert product["prices"][0]["id"] != forged
    discount = httpx.post(f"{hooked.url}/v1/discounts/", headers=headers, json={
        "type": "percentage", "name": "Forged", "duration": "once", "basis_points": 100,
        "id": forged, "redemptions_count": 99,
    })
    assert discount.status_code == 201, discount.text
    assert discount.json()["id"] != forged and discount.json()["redemptions_count"] == 0


def test_seat_ranges_bound_the_seats(shop):
    team = shop.products.create(name="Team", recurring_interval="month", prices=[
        {"amount_type": "seat_based", "seat_tiers": {"tiers": [
            {"min_seats": 2, "max_seats": 4, "price_per_seat": 1200},
            {"min_seats": 5, "max_seats": 10, "price_per_seat": 1000}]}}])
    tiers = team.prices[0].seat_tiers
    assert (tiers.seat_tier_type, tiers.minimum_seats, tiers.maximum_seats) == ("volume", 2, 10)
    assert [(t.min_seats, t.max_seats, t.price_per_seat) for t in tiers.tiers] == [(2, 4, 1200), (5, 10, 1000)]
