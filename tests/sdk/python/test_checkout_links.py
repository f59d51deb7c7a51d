"""Checkout links through the official Python SDK: products of the organization in the
merchant's order (with their prices, public benefits and media), a discount, a trial, seats
that seat-based prices allow, units that unit-based prices allow, URLs, the secret that names a link in its URL, updates that
stamp only a change, what was deleted or archived since, soft deletion, the list's filters
and sorting; raw HTTP for the 422 shapes, another organization's links and products, and
the fixed cost of a page. (Tenancy, scopes, pagination and fuzzing of the five operations
also come from the contract sweep; `by_client_secret` is in crates/floe/tests.)"""

import uuid

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def fixed(amount, currency="usd"):
    return {"amount_type": "fixed", "price_amount": amount, "price_currency": currency}


def product(polar, name="Plan", **kwargs):
    return polar.products.create(name=name, prices=[fixed(1000)], **kwargs)


def seat_product(polar, name="Team", minimum=2, maximum=10):
    return polar.products.create(name=name, recurring_interval="month", prices=[
        {"amount_type": "seat_based", "seat_tiers": {"tiers": [
            {"min_seats": minimum, "max_seats": maximum, "price_per_seat": 1200}]}}])


def raw(org, method, path, headers=None, **kwargs):
    headers = {"Authorization": f"Bearer {org.token}", **(headers or {})}
    return httpx.request(method, f"{org.url}{path}", headers=headers, timeout=30, **kwargs)


def test_create_read_update_delete(org):
    polar = org.polar
    perk = polar.benefits.create(type="custom", description="Priority support", properties={"note": "secret note"})
    monthly = polar.products.create(name="Monthly", recurring_interval="month", prices=[fixed(1500), fixed(1400, "eur")])
    polar.products.update_benefits(monthly.id, benefits=[perk.id])
    lifetime = product(polar, "Lifetime")
    sale = polar.discounts.create(type="percentage", name="Launch", duration="once", basis_points=2000)

    link = polar.checkout_links.create(
        payment_processor="stripe", products=[monthly.id, lifetime.id], label="Homepage",
        success_url="https://example.com/thanks?checkout_id={CHECKOUT_ID}", return_url="https://example.com/",
        allow_discount_codes=False, require_billing_address=True, discount_id=sale.id,
        trial_interval="week", trial_interval_count=2, metadata={"campaign": "spring", "rank": 3},
    )
    assert link.payment_processor == "stripe" and link.organization_id == org.id
    assert link.client_secret.startswith("polar_cl_") and len(link.client_secret) == len("polar_cl_") + 43
    assert link.url == f"{org.url}/v1/checkout-links/{link.client_secret}/redirect"
    assert link.label == "Homepage" and link.return_url == "https://example.com/"
    assert link.success_url == "https://example.com/thanks?checkout_id={CHECKOUT_ID}"
    assert (link.allow_discount_codes, link.require_billing_address) == (False, True)
    assert (link.trial_interval, link.trial_interval_count) == ("week", 2)
    assert link.metadata == {"campaign": "spring", "rank": 3}
    assert link.seats is None and link.units is None and link.modified_at is None
    assert link.discount_id == sale.id and link.discount.name == "Launch" and link.discount.basis_points == 2000
    assert [p.id for p in link.products] == [monthly.id, lifetime.id]
    first = link.products[0]
    assert first.name == "Monthly" and first.is_recurring and first.recurring_interval == "month"
    assert sorted(p.price_currency for p in first.prices) == ["eur", "usd"]
    assert [b.id for b in first.benefits] == [perk.id] and first.benefits[0].description == "Priority support"
    assert first.medias == [] and link.products[1].prices[0].price_amount == 1000

    # What the answer leaves out: a benefit's properties, a product's custom fields, a
    # discount's products.
    body = raw(org, "GET", f"/v1/checkout-links/{link.id}").json()
    assert "properties" not in body["products"][0]["benefits"][0]
    assert "attached_custom_fields" not in body["products"][0] and "is_deletable" not in body["products"][0]
    assert "products" not in body["discount"]

    got = polar.checkout_links.get(link.id)
    assert got == link

    updated = polar.checkout_links.update(link.id, label="Footer", products=[lifetime.id], discount_id=None,
                                          allow_discount_codes=True, trial_interval=None, trial_interval_count=None,
                                          success_url=None)
    assert updated.label == "Footer" and [p.id for p in updated.products] == [lifetime.id]
    assert updated.discount_id is None and updated.discount is None and updated.allow_discount_codes is True
    assert updated.trial_interval is None and updated.trial_interval_count is None and updated.success_url is None
    assert updated.require_billing_address is True and updated.return_url == "https://example.com/"
    assert updated.metadata == {"campaign": "spring", "rank": 3}
    assert updated.client_secret == link.client_secret and updated.modified_at is not None
    # `null` leaves the products, the switches and the metadata.
    kept = polar.checkout_links.update(link.id, products=None, allow_discount_codes=None, metadata=None)
    assert kept == updated
    # Nothing changed, nothing stamped.
    assert polar.checkout_links.update(link.id, label="Footer").modified_at == updated.modified_at
    # Only the count of a trial whose interval is kept.
    assert polar.checkout_links.update(link.id, trial_interval="day", trial_interval_count=7).trial_interval_count == 7
    assert polar.checkout_links.update(link.id, trial_interval_count=3).trial_interval == "day"

    polar.checkout_links.delete(link.id)
    with pytest.raises(ResourceNotFound):
        polar.checkout_links.get(link.id)
    with pytest.raises(ResourceNotFound):
        polar.checkout_links.update(link.id, label="Gone")
    with pytest.raises(ResourceNotFound):
        polar.checkout_links.delete(link.id)
    assert polar.checkout_links.list().pagination.total_count == 0


def test_the_deprecated_single_product_and_defaults(org):
    plan = product(org.polar)
    link = org.polar.checkout_links.create(payment_processor="stripe", product_id=plan.id)
    assert [p.id for p in link.products] == [plan.id]
    assert (link.allow_discount_codes, link.require_billing_address) == (True, False)
    assert link.label is None and link.discount is None and link.metadata == {} and link.trial_interval is None
    # Each link has its own secret.
    other = org.polar.checkout_links.create(payment_processor="stripe", products=[plan.id])
    assert other.client_secret != link.client_secret


def test_products_deleted_or_archived_since(org):
    polar = org.polar
    kept, archived, deleted = product(polar, "Kept"), product(polar, "Archived"), product(polar, "Deleted")
    link = polar.checkout_links.create(payment_processor="stripe", products=[kept.id, archived.id, deleted.id])
    polar.products.update(archived.id, is_archived=True)
    polar.products.delete(deleted.id)
    shown = polar.checkout_links.get(link.id)
    assert [p.id for p in shown.products] == [kept.id, archived.id] and shown.products[1].is_archived
    # An update that leaves the products is not refused for what happened to them since...
    assert polar.checkout_links.update(link.id, label="Still").label == "Still"
    # ...but an archived or deleted product cannot be offered anew.
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.update(link.id, products=[kept.id, archived.id, deleted.id])
    assert locs(error) == [["body", "products", 1], ["body", "products", 2]]
    assert [d.msg for d in error.value.error.detail] == ["Product is archived.", "Product not found."]
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.create(payment_processor="stripe", products=[archived.id])
    assert locs(error) == [["body", "products", 0]]


def test_a_discount_deleted_since(org):
    polar = org.polar
    plan = product(polar)
    sale = polar.discounts.create(type="fixed", name="Gone soon", duration="repeating", duration_in_months=3,
                                  amounts={"usd": 300}, products=[plan.id])
    link = polar.checkout_links.create(payment_processor="stripe", products=[plan.id], discount_id=sale.id)
    body = raw(org, "GET", f"/v1/checkout-links/{link.id}").json()["discount"]
    assert body["duration_in_months"] == 3 and body["amounts"] == {"usd": 300} and "products" not in body
    polar.discounts.delete(sale.id)
    # The link still names it (the checkout it opens ignores it), and other edits go on...
    shown = polar.checkout_links.update(link.id, label="Later")
    assert shown.discount_id == sale.id and shown.discount.name == "Gone soon"
    # ...but it cannot be named anew.
    polar.checkout_links.update(link.id, discount_id=None)
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.update(link.id, discount_id=sale.id)
    assert locs(error) == [["body", "discount_id"]]


def test_seats_must_fit_every_products_seat_based_price(org):
    polar = org.polar
    team, crew = seat_product(polar, "Team", 2, 10), seat_product(polar, "Crew", 5, 50)
    link = polar.checkout_links.create(payment_processor="stripe", products=[team.id, crew.id], seats=6)
    assert link.seats == 6
    for seats in (1, 11):
        with pytest.raises(HTTPValidationError) as error:
            polar.checkout_links.update(link.id, seats=seats)
        assert locs(error) == [["body", "seats"]], seats
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.create(payment_processor="stripe", products=[team.id, product(polar).id], seats=3)
    assert locs(error) == [["body", "seats"]]
    # Adding a product that does not take the seats is refused too.
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.update(link.id, products=[team.id, product(polar, "Solo").id])
    assert locs(error) == [["body", "seats"]]
    assert polar.checkout_links.update(link.id, seats=None).seats is None


def unit_product(polar, name="Credits", minimum=5):
    return polar.products.create(name=name, recurring_interval="month", prices=[
        {"amount_type": "unit_based", "minimum_units": minimum,
         "tiers": {"type": "volume", "tiers": [{"bound": None, "unit_amount": 50}]}}])


def test_units_must_fit_every_products_unit_based_price_and_reach_the_checkout(org):
    polar = org.polar
    credits, tokens = unit_product(polar), unit_product(polar, "Tokens", 10)
    link = polar.checkout_links.create(payment_processor="stripe", products=[credits.id, tokens.id], units=20)
    assert link.units == 20 and polar.checkout_links.get(link.id).units == 20
    for units in (4, 9):
        with pytest.raises(HTTPValidationError) as error:
            polar.checkout_links.update(link.id, units=units)
        assert locs(error) == [["body", "units"]], units
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.create(payment_processor="stripe", products=[credits.id, product(polar).id], units=20)
    assert locs(error) == [["body", "units"]]
    # Opening the link presets the units, and the total counts them (20 x 0.50).
    opened = httpx.get(link.url, follow_redirects=False)
    assert opened.status_code == 307
    checkout = polar.checkouts.client_get(opened.headers["location"].rsplit("/", 1)[1])
    assert checkout.units == 20 and checkout.total_amount == 1000, (checkout.units, checkout.total_amount)
    assert polar.checkout_links.update(link.id, units=None).units is None


def test_list_filters_and_sorting(org):
    polar = org.polar
    alpha, beta = product(polar, "Alpha"), product(polar, "Beta")
    a = polar.checkout_links.create(payment_processor="stripe", products=[alpha.id], label="b-link",
                                    success_url="https://example.com/z")
    b = polar.checkout_links.create(payment_processor="stripe", products=[beta.id, alpha.id], label="a-link",
                                    allow_discount_codes=False)
    c = polar.checkout_links.create(payment_processor="stripe", products=[beta.id], success_url="https://example.com/a")

    def ids(**kwargs):
        return [link.id for link in polar.checkout_links.list(**kwargs).items]

    assert ids() == [a.id, b.id, c.id]
    assert ids(sorting=["-created_at"]) == [c.id, b.id, a.id]
    # Links without a label or success URL come last either way.
    assert ids(sorting=["label"]) == [b.id, a.id, c.id]
    assert ids(sorting=["-label"]) == [a.id, b.id, c.id]
    assert ids(sorting=["success_url"]) == [c.id, a.id, b.id]
    assert ids(sorting=["allow_discount_codes", "created_at"]) == [b.id, a.id, c.id]
    assert ids(product_id=alpha.id) == [a.id, b.id]
    assert ids(product_id=[alpha.id, beta.id]) == [a.id, b.id, c.id]
    assert ids(product_id=str(uuid.uuid4())) == []
    assert ids(organization_id=org.id) == [a.id, b.id, c.id]
    assert ids(organization_id=str(uuid.uuid4())) == []
    page = polar.checkout_links.list(limit=2, page=2)
    assert [link.id for link in page.items] == [c.id]
    assert (page.pagination.total_count, page.pagination.max_page) == (3, 2)
    with pytest.raises(HTTPValidationError) as error:
        polar.checkout_links.list(sorting=["name"])
    assert locs(error) == [["query", "sorting", 0]]


def test_validation_names_the_field(floe, org):
    plan = product(org.polar)
    other = floe.organization()
    foreign_polar = floe.client(floe.token(other))
    foreign = product(foreign_polar, "Foreign")
    foreign_sale = foreign_polar.discounts.create(type="percentage", name="Theirs", duration="once", basis_points=100)
    base = {"payment_processor": "stripe", "products": [plan.id]}
    cases = [
        ({"payment_processor": "stripe"}, [["body", "products"]]),
        ({"products": [plan.id]}, [["body", "payment_processor"]]),
        ({**base, "payment_processor": "paypal"}, [["body", "payment_processor"]]),
        ({**base, "products": []}, [["body", "products"]]),
        ({**base, "products": [plan.id, plan.id]}, [["body", "products", 1]]),
        ({**base, "products": ["not-a-uuid"]}, [["body", "products", 0]]),
        ({**base, "products": [str(uuid.uuid4())]}, [["body", "products", 0]]),
        ({**base, "products": [plan.id, foreign.id]}, [["body", "products", 1]]),
        ({"payment_processor": "stripe", "product_id": foreign.id}, [["body", "product_id"]]),
        ({"payment_processor": "stripe", "product_price_id": str(uuid.uuid4())}, [["body", "product_price_id"]]),
        ({**base, "discount_id": foreign_sale.id}, [["body", "discount_id"]]),
        ({**base, "discount_id": str(uuid.uuid4())}, [["body", "discount_id"]]),
        ({**base, "success_url": "not a url"}, [["body", "success_url"]]),
        ({**base, "return_url": "ftp://example.com/"}, [["body", "return_url"]]),
        ({**base, "success_url": "https://example.com/" + "a" * 2100}, [["body", "success_url"]]),
        ({**base, "success_url": 5}, [["body", "success_url"]]),
        ({**base, "seats": 0}, [["body", "seats"]]),
        ({**base, "seats": 10001}, [["body", "seats"]]),
        ({**base, "seats": 1.5}, [["body", "seats"]]),
        ({**base, "units": 3}, [["body", "units"]]),
        ({**base, "trial_interval": "week"}, [["body"]]),
        ({**base, "trial_interval": "fortnight", "trial_interval_count": 1}, [["body", "trial_interval"]]),
        ({**base, "trial_interval": "day", "trial_interval_count": 1001}, [["body", "trial_interval_count"]]),
        ({**base, "allow_discount_codes": None}, [["body", "allow_discount_codes"]]),
        ({**base, "metadata": {"": "empty key"}}, [["body", "metadata"]]),
        ({**base, "label": ["a"]}, [["body", "label"]]),
    ]
    for payload, expected in cases:
        answer = raw(org, "POST", "/v1/checkout-links/", json=payload)
        assert answer.status_code == 422, (payload, answer.status_code, answer.text)
        body = answer.json()
        assert body["error"] == "RequestValidationError", body
        assert [issue["loc"][:len(expected[0])] for issue in body["detail"]][:1] == expected[:1], (payload, body)
        for issue in body["detail"]:
            assert set(issue) >= {"loc", "msg", "type", "input"}, issue
    assert raw(org, "POST", "/v1/checkout-links/", content=b"{", headers={"Content-Type": "application/json"}).status_code == 422
    assert org.polar.checkout_links.list().pagination.total_count == 0

    link = org.polar.checkout_links.create(payment_processor="stripe", products=[plan.id])
    updates = [
        ({"products": []}, [["body", "products"]]),
        ({"products": [foreign.id]}, [["body", "products", 0]]),
        ({"discount_id": foreign_sale.id}, [["body", "discount_id"]]),
        ({"seats": 0}, [["body", "seats"]]),
        ({"success_url": "mailto:a@example.com"}, [["body", "success_url"]]),
        ({"trial_interval_count": 3}, [["body"]]),
        ({"units": 2}, [["body", "units"]]),
        ({"allow_discount_codes": "perhaps"}, [["body", "allow_discount_codes"]]),
    ]
    for payload, expected in updates:
        answer = raw(org, "PATCH", f"/v1/checkout-links/{link.id}", json=payload)
        assert answer.status_code == 422, (payload, answer.status_code, answer.text)
        assert [issue["loc"] for issue in answer.json()["detail"]] == expected, (payload, answer.text)
    assert org.polar.checkout_links.get(link.id) == link
    assert raw(org, "GET", "/v1/checkout-links/not-a-uuid").json()["detail"][0]["loc"] == ["path", "id"]


def test_another_organizations_links_are_not_found(floe, org):
    plan = product(org.polar)
    link = org.polar.checkout_links.create(payment_processor="stripe", products=[plan.id], label="Mine")
    other = floe.organization()
    theirs = floe.client(floe.token(other))
    with pytest.raises(ResourceNotFound):
        theirs.checkout_links.get(link.id)
    with pytest.raises(ResourceNotFound):
        theirs.checkout_links.update(link.id, label="Stolen")
    with pytest.raises(ResourceNotFound):
        theirs.checkout_links.delete(link.id)
    assert theirs.checkout_links.list().pagination.total_count == 0
    assert theirs.checkout_links.list(product_id=plan.id).items == []
    assert theirs.checkout_links.list(organization_id=org.id).items == []
    # A link of theirs cannot offer our product.
    with pytest.raises(HTTPValidationError) as error:
        theirs.checkout_links.create(payment_processor="stripe", products=[plan.id])
    assert locs(error) == [["body", "products", 0]]
    assert org.polar.checkout_links.get(link.id) == link


def test_scopes(floe):
    organization = floe.organization()
    owner = floe.client(floe.token(organization))
    link = owner.checkout_links.create(payment_processor="stripe", products=[product(owner).id])
    reader = floe.token(organization, "checkout_links:read")
    headers = {"Authorization": f"Bearer {reader}"}
    assert httpx.get(f"{floe.url}/v1/checkout-links/{link.id}", headers=headers).status_code == 200
    refused = httpx.patch(f"{floe.url}/v1/checkout-links/{link.id}", headers=headers, json={"label": "x"})
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"


def test_a_page_of_links_costs_a_fixed_number_of_statements(own_floe):
    """`x-floe-queries`: a page of 12 links, each with two products (prices, benefits) and a
    discount, costs what a page of 1 does."""
    server = own_floe(env={"FLOE_COUNT_QUERIES": "1"})
    organization = server.organization()
    token = server.token(organization)
    polar = server.client(token)
    perk = polar.benefits.create(type="custom", description="Perk", properties={})
    for i in range(12):
        first = polar.products.create(name=f"Product {i}", prices=[fixed(1000 + i), fixed(900 + i, "eur")])
        polar.products.update_benefits(first.id, benefits=[perk.id])
        second = product(polar, f"Extra {i}")
        sale = polar.discounts.create(type="fixed", name=f"Sale {i}", duration="once", amounts={"usd": 100})
        polar.checkout_links.create(payment_processor="stripe", products=[first.id, second.id], discount_id=sale.id)
    headers = {"Authorization": f"Bearer {token}"}

    def statements(limit):
        answer = httpx.get(f"{server.url}/v1/checkout-links/", params={"limit": limit}, headers=headers)
        assert answer.status_code == 200 and len(answer.json()["items"]) == limit, answer.text
        first = answer.json()["items"][0]
        assert len(first["products"]) == 2 and len(first["products"][0]["benefits"]) == 1 and first["discount"]
        return int(answer.headers["x-floe-queries"])

    one, twelve = statements(1), statements(12)
    print(f"statements for a page of checkout links: {one} for 1, {twelve} for 12")
    assert one == twelve, f"{one} statements for 1 link, {twelve} for 12"
