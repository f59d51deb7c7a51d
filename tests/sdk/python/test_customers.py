"""Every customers operation through the official Python SDK (polar-sdk 1.0.2): create,
list with its filters, get, update and delete by ID and by external ID, state, export,
payment methods; conflicts, validation, auth, scopes and tenancy."""

import csv
import io
import uuid

import httpx
import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound


def email():
    return f"c-{uuid.uuid4().hex[:10]}@example.com"


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def test_create_get_update_delete(org):
    address = {"line1": "1 Main St", "city": "Paris", "postal_code": "75001", "country": "FR"}
    created = org.polar.customers.create(
        email="Ada@Example.com".replace("Ada", f"Ada{uuid.uuid4().hex[:6]}"),
        name="Ada Lovelace",
        external_id=f"user-{uuid.uuid4().hex[:8]}",
        metadata={"plan": "pro", "seats": 3, "ratio": 0.5, "beta": True},
        billing_address=address,
        tax_id="FR61 954 506 077",
        locale="fr",
    )
    assert created.type == "individual"
    assert created.organization_id == org.id
    assert created.metadata == {"plan": "pro", "seats": 3, "ratio": 0.5, "beta": True}
    assert list(created.tax_id) == ["FR61954506077", "eu_vat"]
    assert created.billing_address.country == "FR"
    assert created.deleted_at is None and created.email_verified is False

    assert org.polar.customers.get(created.id).email == created.email
    assert org.polar.customers.get_external(created.external_id).id == created.id

    updated = org.polar.customers.update(created.id, name="Ada King", metadata={"plan": "team"})
    assert updated.name == "Ada King" and updated.metadata == {"plan": "team"}
    assert updated.modified_at is not None
    updated = org.polar.customers.update_external(created.external_id, locale="en")
    assert updated.locale == "en" and updated.name == "Ada King"

    org.polar.customers.delete(created.id)
    with pytest.raises(ResourceNotFound):
        org.polar.customers.get(created.id)
    with pytest.raises(ResourceNotFound):
        org.polar.customers.get_external(created.external_id)
    # A deleted customer frees its email and external ID.
    again = org.polar.customers.create(email=created.email, external_id=created.external_id)
    assert again.id != created.id


def test_team_customers_may_have_no_email(org):
    team = org.polar.customers.create(type="team", name="Acme Team")
    assert team.type == "team" and team.email is None
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.update(team.id, type="individual")
    assert ["body", "type"] in locs(error)


def test_delete_by_external_id_and_anonymize(org):
    customer = org.polar.customers.create(email=email(), name="Grace", external_id="ext-anon-" + uuid.uuid4().hex[:6])
    org.polar.customers.delete_external(customer.external_id, anonymize=True)
    with pytest.raises(ResourceNotFound):
        org.polar.customers.get(customer.id)
    assert org.polar.customers.list(email=customer.email).items == []


def test_email_and_external_id_are_unique_per_organization(floe, org):
    first = org.polar.customers.create(email=email(), external_id="dup-" + uuid.uuid4().hex[:6])
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.create(email=first.email.upper())
    assert ["body", "email"] in locs(error)
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.create(email=email(), external_id=first.external_id)
    assert ["body", "external_id"] in locs(error)
    second = org.polar.customers.create(email=email())
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.update(second.id, email=first.email.title())
    assert ["body", "email"] in locs(error)
    # Another organization may use the same email and external ID.
    other = floe.client(floe.token(floe.organization()))
    assert other.customers.create(email=first.email, external_id=first.external_id).email == first.email


def test_external_id_cannot_change_once_set(org):
    customer = org.polar.customers.create(email=email())
    set_now = org.polar.customers.update(customer.id, external_id="late-" + uuid.uuid4().hex[:6])
    assert set_now.external_id.startswith("late-")
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.update(customer.id, external_id="other")
    assert ["body", "external_id"] in locs(error)


def test_list_filters_sorting_and_pages(org):
    tag = uuid.uuid4().hex[:8]
    made = [
        org.polar.customers.create(email=f"{tag}-{i}@example.com", name=f"{tag} person {i}", metadata={"tier": "gold" if i % 2 else "free", "n": i})
        for i in range(5)
    ]
    everyone = org.polar.customers.list(query=tag, limit=100)
    assert everyone.pagination.total_count == 5
    assert [c.id for c in everyone.items] == [c.id for c in reversed(made)]  # newest first
    by_email = org.polar.customers.list(query=tag, sorting=["email"])
    assert [c.email for c in by_email.items] == sorted(c.email for c in made)
    assert org.polar.customers.list(email=made[2].email.upper()).items[0].id == made[2].id
    gold = org.polar.customers.list(query=tag, metadata={"tier": "gold"})
    assert {c.id for c in gold.items} == {made[1].id, made[3].id}
    either = org.polar.customers.list(query=tag, metadata={"n": [0, 4]})
    assert {c.id for c in either.items} == {made[0].id, made[4].id}
    nameless = org.polar.customers.create(email=f"{tag}-zz@example.com")
    by_name = org.polar.customers.list(query=tag, sorting=["name"], limit=100).items
    assert by_name[-1].id == nameless.id  # no name sorts last going up, on both databases
    assert org.polar.customers.list(query=tag, sorting=["-name"], limit=100).items[0].id == nameless.id
    org.polar.customers.delete(nameless.id)
    page = org.polar.customers.list(query=tag, limit=2, page=3)
    assert len(page.items) == 1 and page.pagination.max_page == 3
    assert org.polar.customers.list(query=tag, active=True).items == []
    assert org.polar.customers.list(query=tag, active=False).pagination.total_count == 5
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.list(sorting=["age"])
    assert ["query", "sorting", 0] in locs(error)


def test_state_and_payment_methods(org):
    customer = org.polar.customers.create(email=email(), external_id="st-" + uuid.uuid4().hex[:6])
    state = org.polar.customers.get_state(customer.id)
    assert state.id == customer.id
    assert state.active_subscriptions == [] and state.granted_benefits == [] and state.active_meters == []
    assert org.polar.customers.get_state_external(customer.external_id).id == customer.id
    assert org.polar.customers.list_payment_methods(customer.id).items == []
    assert org.polar.customers.list_payment_methods_external(customer.external_id).items == []
    with pytest.raises(ResourceNotFound):
        org.polar.customers.list_payment_methods(str(uuid.uuid4()))


def test_export_is_csv(org):
    org.polar.customers.create(email=email(), name="=HYPERLINK(\"http://evil\")", metadata={"k": "v"})
    text = org.polar.customers.export()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["ID", "External ID", "Created At", "Email"]
    assert len(rows) >= 2
    # A cell that a spreadsheet would run as a formula is neutralised.
    assert any(r[4].startswith("'=") for r in rows[1:])
    response = httpx.get(f"{org.url}/v1/customers/export", headers={"Authorization": f"Bearer {org.token}"})
    assert response.headers["content-type"].startswith("text/csv")


def test_validation_errors_are_422_with_locations(org):
    cases = [
        (dict(email="not-an-email"), ["body", "email"]),
        (dict(name="no email"), ["body", "email"]),
        (dict(email=email(), metadata={"k" * 41: "v"}), ["body", "metadata"]),
        (dict(email=email(), metadata={"k": "v" * 501}), ["body", "metadata", "k"]),
        (dict(email=email(), metadata={f"k{i}": i for i in range(51)}), ["body", "metadata"]),
        (dict(email=email(), tax_id="911144442"), ["body", "tax_id"]),
        (dict(email=email(), billing_address={"country": "XX"}), ["body", "billing_address", "country"]),
        (dict(email=email(), organization_id=str(uuid.uuid4())), ["body", "organization_id"]),
        (dict(email=email(), name="x" * 257), ["body", "name"]),
        (dict(email=email(), type="company"), ["body", "type"]),
    ]
    for body, loc in cases:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.customers.create(**body)
        found = locs(error)
        assert any(l[: len(loc)] == loc for l in found), (body, found)
    customer = org.polar.customers.create(email=email(), billing_address={"country": "US"})
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.update(customer.id, billing_address=None)
    assert ["body", "billing_address"] in locs(error)
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customers.update(customer.id, email=None)
    assert ["body", "email"] in locs(error)


def test_auth_scopes_and_tenancy(floe, org):
    customer = org.polar.customers.create(email=email(), external_id="iso-" + uuid.uuid4().hex[:6])
    anonymous = httpx.get(f"{org.url}/v1/customers/")
    assert anonymous.status_code == 401
    files_only = floe.client(floe.token(org.organization, "files:read"))
    with pytest.raises(PolarClientError) as error:
        files_only.customers.list()
    assert error.value.status_code == 403
    reader = floe.client(floe.token(org.organization, "customers:read"))
    assert reader.customers.get(customer.id).id == customer.id
    with pytest.raises(PolarClientError) as error:
        reader.customers.create(email=email())
    assert error.value.status_code == 403
    with pytest.raises(PolarClientError) as error:
        reader.customers.delete(customer.id)
    assert error.value.status_code == 403

    other = floe.client(floe.token(floe.organization()))
    assert other.customers.list(limit=100).items == []
    assert other.customers.list(organization_id=org.id).pagination.total_count == 0
    for call in (
        lambda: other.customers.get(customer.id),
        lambda: other.customers.get_external(customer.external_id),
        lambda: other.customers.update(customer.id, name="stolen"),
        lambda: other.customers.update_external(customer.external_id, name="stolen"),
        lambda: other.customers.delete(customer.id),
        lambda: other.customers.delete_external(customer.external_id),
        lambda: other.customers.get_state(customer.id),
        lambda: other.customers.list_payment_methods(customer.id),
    ):
        with pytest.raises(ResourceNotFound):
            call()
    assert customer.id not in other.customers.export()
    assert org.polar.customers.get(customer.id).name is None


def test_idempotency_key_replays_the_first_response(floe, org):
    headers = {"Authorization": f"Bearer {org.token}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"email": email(), "name": "Once"}
    first = httpx.post(f"{org.url}/v1/customers/", json=body, headers=headers)
    assert first.status_code == 201
    again = httpx.post(f"{org.url}/v1/customers/", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert org.polar.customers.list(email=body["email"]).pagination.total_count == 1
    different = httpx.post(f"{org.url}/v1/customers/", json={**body, "name": "Twice"}, headers=headers)
    assert different.status_code == 422
    assert different.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    # A failed request is replayed too (it changed nothing either way).
    bad_headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    bad = httpx.post(f"{org.url}/v1/customers/", json={"email": "nope"}, headers=bad_headers)
    assert bad.status_code == 422
    assert httpx.post(f"{org.url}/v1/customers/", json={"email": "nope"}, headers=bad_headers).json() == bad.json()
    # Keys belong to an organization: another one may use the same key.
    other_token = floe.token(floe.organization())
    other_headers = {**headers, "Authorization": f"Bearer {other_token}"}
    assert httpx.post(f"{org.url}/v1/customers/", json=body, headers=other_headers).status_code == 201
