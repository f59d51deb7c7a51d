"""Organizations through the official Python SDK: read, update with every settings object,
validation, scopes and tenancy. (`organization.updated` deliveries are checked in
test_webhooks.py.)"""

import uuid

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def test_get_and_list(org):
    got = org.polar.organizations.get(org.id)
    assert got.slug == org.organization["slug"] and got.status == "active"
    assert [o.id for o in org.polar.organizations.list().items] == [org.id]


def test_update_changes_what_it_names_and_keeps_the_rest(org):
    updated = org.polar.organizations.update(
        org.id,
        name="Acme Billing",
        email="billing@acme.example",
        website="https://acme.example",
        socials=[{"platform": "github", "url": "https://github.com/acme"}],
        country="DE",
        subscription_settings={
            "allow_multiple_subscriptions": True,
            "proration_behavior": "invoice",
            "benefit_revocation_grace_period": 7,
            "prevent_trial_abuse": True,
            "allow_customer_updates": False,
        },
        customer_portal_settings={"usage": {"show": False}, "subscription": {"update_seats": False, "update_plan": True}},
        dispute_settings={"auto_accept_below_amount": 500},
        feature_settings={"checkout_localization_enabled": True, "overview_metrics": ["revenue"]},
        default_presentment_currency="eur",
        default_tax_behavior="inclusive",
        embed_hosts=["shop.acme.example"],
    )
    assert updated.name == "Acme Billing" and updated.country == "DE"
    assert updated.socials[0].platform == "github"
    assert updated.subscription_settings.proration_behavior == "invoice"
    assert updated.proration_behavior == "invoice" and updated.allow_customer_updates is False
    assert updated.customer_portal_settings.usage.show is False
    assert updated.dispute_settings.auto_accept_below_amount == 500
    assert updated.feature_settings.checkout_localization_enabled is True
    assert updated.feature_settings.overview_metrics == ["revenue"]
    assert updated.default_presentment_currency == "eur" and updated.default_tax_behavior == "inclusive"
    assert updated.modified_at is not None

    again = org.polar.organizations.update(org.id, website=None)
    assert again.website is None
    assert again.name == "Acme Billing" and again.subscription_settings.benefit_revocation_grace_period == 7
    assert org.polar.organizations.get(org.id).embed_hosts == ["shop.acme.example"]


def test_update_validation(org):
    cases = [
        (dict(name="ab"), ["body", "name"]),
        (dict(email="nope"), ["body", "email"]),
        (dict(website="ftp://acme.example"), ["body", "website"]),
        (dict(country="XX"), ["body", "country"]),
        (dict(socials=[{"platform": "myspace", "url": "https://myspace.com/a"}]), ["body", "socials", 0, "platform"]),
        (dict(dispute_settings={"auto_accept_below_amount": 0}), ["body", "dispute_settings", "auto_accept_below_amount"]),
        (dict(default_tax_behavior="sometimes"), ["body", "default_tax_behavior"]),
        (dict(default_presentment_currency="xyz"), ["body", "default_presentment_currency"]),
    ]
    for body, loc in cases:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.organizations.update(org.id, **body)
        assert loc in locs(error), (body, locs(error))


def test_update_needs_the_write_scope_and_its_own_organization(floe, org):
    # This operation declares its own 403 shapes, which the SDK tries to load the token
    # error into; the answer itself is checked over plain HTTP.
    reader = floe.token(org.organization, "organizations:read")
    response = httpx.patch(
        f"{org.url}/v1/organizations/{org.id}", json={"name": "Nope Inc"}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    other = floe.organization()
    with pytest.raises(ResourceNotFound):
        org.polar.organizations.update(other["id"], name="Taken Over")
    with pytest.raises(ResourceNotFound):
        org.polar.organizations.get(other["id"])
    with pytest.raises(ResourceNotFound):
        org.polar.organizations.update(str(uuid.uuid4()), name="Nobody")
