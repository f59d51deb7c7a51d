"""The customer portal through the official Python SDK (polar-sdk 1.0.2): a merchant opens
a customer session (by ID or external ID) and the customer, with nothing but the session
token, reads who it is, its organization, and changes its billing details; an organization
token is refused on the portal, a session on the merchant API; bad input is a located 422."""

import datetime
import uuid

import httpx
import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def customer(org, **extra):
    tag = uuid.uuid4().hex[:8]
    return org.polar.customers.create(email=f"ada-{tag}@example.com", name="Ada", external_id=f"user-{tag}", **extra)


def session(org, floe, **body):
    opened = org.polar.customer_sessions.create(**body)
    return opened, floe.client(opened.token)


def test_a_session_is_opened_by_id_or_external_id(org, floe):
    ada = customer(org)
    opened, portal = session(org, floe, customer_id=ada.id, return_url="https://shop.example/account")
    assert opened.token.startswith("polar_cst_") and len(opened.token) == len("polar_cst_") + 43
    assert opened.customer_id == ada.id and opened.customer.email == ada.email
    assert opened.return_url == "https://shop.example/account"
    lifetime = datetime.datetime.fromisoformat(opened.expires_at) - datetime.datetime.fromisoformat(opened.created_at)
    assert lifetime == datetime.timedelta(hours=1), lifetime
    slug = org.organization["slug"]
    assert opened.customer_portal_url.startswith(f"{floe.url}/portal/{slug}?customer_session_token=polar_cst_")
    assert opened.token in opened.customer_portal_url

    by_external, _ = session(org, floe, external_customer_id=ada.external_id)
    assert by_external.customer_id == ada.id and by_external.token != opened.token

    introspected = portal.customer_portal.customer_session.introspect()
    assert (introspected.expires_at, introspected.return_url) == (opened.expires_at, "https://shop.example/account")
    user = portal.customer_portal.customer_session.get_authenticated_user()
    assert (user.type, user.email, user.name, user.customer_id, user.member_id) == ("customer", ada.email, "Ada", ada.id, None)
    me = portal.customer_portal.customers.get()
    assert (me.id, me.email, me.type, me.oauth_accounts) == (ada.id, ada.email, "individual", {})


def test_opening_a_session_checks_its_customer(org, floe):
    other = floe.client(floe.token(floe.organization()))
    tag = uuid.uuid4().hex[:8]
    foreign = other.customers.create(email=f"f-{tag}@example.com", external_id=f"user-{tag}")
    for body, loc in [
        ({"customer_id": str(uuid.uuid4())}, ["body", "customer_id"]),
        ({"customer_id": foreign.id}, ["body", "customer_id"]),
        ({"external_customer_id": foreign.external_id}, ["body", "external_customer_id"]),
    ]:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.customer_sessions.create(**body)
        assert locs(error) == [loc], body
    ada = customer(org)
    with pytest.raises(HTTPValidationError) as error:
        org.polar.customer_sessions.create(customer_id=ada.id, return_url="javascript:alert(1)")
    assert locs(error) == [["body", "return_url"]]
    raw = httpx.post(f"{floe.url}/v1/customer-sessions/", json={}, headers={"Authorization": f"Bearer {org.token}"})
    assert raw.status_code == 422 and raw.json()["detail"][0]["loc"] == ["body", "customer_id"], raw.text
    org.polar.customers.delete(ada.id)
    with pytest.raises(HTTPValidationError):
        org.polar.customer_sessions.create(customer_id=ada.id)
    # The scope is needed.
    reader = floe.client(floe.token(org.organization, "customers:read"))
    with pytest.raises(PolarClientError) as error:
        reader.customer_sessions.create(customer_id=customer(org).id)
    assert error.value.status_code == 403


def test_each_kind_of_token_stays_on_its_own_side(org, floe):
    ada = customer(org)
    opened, portal = session(org, floe, customer_id=ada.id)

    def status(token, path):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{floe.url}{path}", headers=headers).status_code

    assert status(opened.token, "/v1/customer-portal/customers/me") == 200
    assert status(org.token, "/v1/customer-portal/customers/me") == 401
    assert status(None, "/v1/customer-portal/customers/me") == 401
    assert status("polar_cst_" + "x" * 43, "/v1/customer-portal/customers/me") == 401
    for path in ["/v1/customers/", f"/v1/customers/{ada.id}", "/v1/orders/", "/v1/subscriptions/"]:
        assert status(opened.token, path) == 401, path
    with pytest.raises(PolarClientError) as error:
        org.polar.customer_portal.customers.get()
    assert error.value.status_code == 401


def test_billing_details_are_the_customers_to_change(org, floe):
    ada = customer(org)
    _, portal = session(org, floe, customer_id=ada.id)
    updated = portal.customer_portal.customers.update(
        billing_name="Ada Lovelace Ltd",
        billing_address={"line1": "1 Main St", "city": "Paris", "postal_code": "75001", "country": "FR"},
        tax_id="FR61 954 506 077")
    assert updated.billing_name == "Ada Lovelace Ltd" and updated.billing_address.country == "FR"
    assert list(updated.tax_id) == ["FR61954506077", "eu_vat"]
    # The merchant sees the same customer.
    seen = org.polar.customers.get(ada.id)
    assert (seen.billing_name, list(seen.tax_id)) == ("Ada Lovelace Ltd", ["FR61954506077", "eu_vat"])

    for body, loc in [
        ({"billing_address": None}, ["body", "billing_address"]),
        ({"tax_id": "nonsense!"}, ["body", "tax_id"]),
        ({"default_payment_method_id": None}, ["body", "default_payment_method_id"]),
        ({"default_payment_method_id": str(uuid.uuid4())}, ["body", "default_payment_method_id"]),
    ]:
        with pytest.raises(HTTPValidationError) as error:
            portal.customer_portal.customers.update(**body)
        assert locs(error) == [loc], body
    assert portal.customer_portal.customers.get().billing_name == "Ada Lovelace Ltd"
    cleared = portal.customer_portal.customers.update(tax_id=None)
    assert cleared.tax_id is None

    # A tax ID needs a country to be checked against.
    bob = customer(org)
    _, bobs = session(org, floe, customer_id=bob.id)
    with pytest.raises(HTTPValidationError) as error:
        bobs.customer_portal.customers.update(tax_id="FR61954506077")
    assert locs(error) == [["body", "tax_id"]]


def test_the_organization_shows_its_public_products(org, floe):
    polar = org.polar
    shown = polar.products.create(name="Pro", recurring_interval="month", prices=[{"amount_type": "fixed", "price_amount": 900}])
    hidden = polar.products.create(name="Secret", visibility="private", prices=[{"amount_type": "fixed", "price_amount": 100}])
    archived = polar.products.create(name="Old", prices=[{"amount_type": "fixed", "price_amount": 100}])
    polar.products.update(archived.id, is_archived=True)
    anonymous = floe.client("not-a-token")
    data = anonymous.customer_portal.organizations.get(org.organization["slug"])
    assert data.organization.id == org.id and data.organization.slug == org.organization["slug"]
    assert data.organization.customer_portal_settings.subscription.update_plan is True
    names = [p.name for p in data.products]
    assert "Pro" in names and "Secret" not in names and "Old" not in names, names
    assert hidden.id not in [p.id for p in data.products]
    with pytest.raises(ResourceNotFound):
        anonymous.customer_portal.organizations.get("no-such-organization")


# ---- orders and subscriptions (slice 2) ----

from test_subscriptions import ADDRESS, Shop  # noqa: E402

MERCHANT_ONLY = ("metadata", "customer", "custom_field_data", "discount", "platform_fee_amount")


@pytest.fixture
def shop(floe):
    return Shop(floe)


def buy(shop, product, email):
    checkout = shop.polar.checkouts.create(products=[product.id], customer_email=email, customer_billing_address=ADDRESS)
    return shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")


def portal_of(shop, customer_id):
    opened = shop.polar.customer_sessions.create(customer_id=customer_id)
    return opened.token, shop.server.client(opened.token)


def raw(shop, token, method, path, **kwargs):
    return httpx.request(method, f"{shop.server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs)


def test_a_customer_reads_its_orders_and_only_its_own(shop):
    pack = shop.polar.products.create(name="Icon pack", prices=[{"amount_type": "fixed", "price_amount": 500}],
                                      metadata={"internal": "merchant-only"})
    monthly = shop.monthly()
    ada = buy(shop, pack, "ada@example.com").customer_id
    buy(shop, monthly, "ada@example.com")
    bob_order = shop.polar.orders.list(customer_id=buy(shop, pack, "bob@example.com").customer_id).items[0]

    token, portal = portal_of(shop, ada)
    orders = portal.customer_portal.orders.list().items
    assert sorted(o.total_amount for o in orders) == [500, 900], orders
    assert bob_order.id not in [o.id for o in orders]
    one_time = portal.customer_portal.orders.list(product_billing_type="one_time").items
    assert [o.product.name for o in one_time] == ["Icon pack"]
    assert [o.product.name for o in portal.customer_portal.orders.list(query="month").items] == ["Monthly"]
    assert [o.total_amount for o in portal.customer_portal.orders.list(sorting=["-amount"]).items] == [900, 500]

    # What only the merchant sees stays out of the customer's view.
    listed = raw(shop, token, "GET", "/v1/customer-portal/orders/").json()["items"]
    for order in listed:
        assert not [key for key in MERCHANT_ONLY if key in order], order.keys()
        assert "metadata" not in order["product"] and order["product"]["organization"]["slug"] == shop.organization["slug"]
    assert "merchant-only" not in str(listed)

    mine = next(o for o in orders if o.product.name == "Icon pack")
    assert portal.customer_portal.orders.get(mine.id).id == mine.id
    with pytest.raises(ResourceNotFound):
        portal.customer_portal.orders.get(bob_order.id)
    assert portal.customer_portal.orders.get_payment_status(mine.id).status == "succeeded"

    # Billing details for the invoice, then the invoice and the receipt.
    updated = portal.customer_portal.orders.update(mine.id, billing_name="Ada Lovelace Ltd")
    assert updated.billing_name == "Ada Lovelace Ltd"
    assert shop.polar.orders.get(mine.id).billing_name == "Ada Lovelace Ltd"
    with pytest.raises(HTTPValidationError):
        portal.customer_portal.orders.update(mine.id, billing_address={"country": "US", "state": "US-NY"})
    assert raw(shop, token, "POST", f"/v1/customer-portal/orders/{mine.id}/invoice").status_code == 202
    invoice = wait(lambda: raw(shop, token, "GET", f"/v1/customer-portal/orders/{mine.id}/invoice"), 200)
    assert httpx.get(invoice.json()["url"]).content.startswith(b"%PDF")
    receipt = wait(lambda: raw(shop, token, "GET", f"/v1/customer-portal/orders/{mine.id}/receipt"), 200)
    assert httpx.get(receipt.json()["url"]).content.startswith(b"%PDF")
    # Bob reaches none of it.
    _, bobs = portal_of(shop, bob_order.customer_id)
    for call in (lambda: bobs.customer_portal.orders.get(mine.id),
                 lambda: bobs.customer_portal.orders.invoice(mine.id),
                 lambda: bobs.customer_portal.orders.update(mine.id, billing_name="Mallory")):
        with pytest.raises(ResourceNotFound):
            call()
    assert shop.polar.orders.get(mine.id).billing_name == "Ada Lovelace Ltd"


def wait(request, status, timeout=30):
    import time
    deadline = time.time() + timeout
    while True:
        response = request()
        if response.status_code == status or time.time() > deadline:
            assert response.status_code == status, response.text
            return response
        time.sleep(0.2)


def test_a_customer_changes_cancels_and_uncancels_its_subscription(shop):
    monthly = shop.monthly()
    pro = shop.polar.products.create(name="Pro", recurring_interval="month", prices=[{"amount_type": "fixed", "price_amount": 1900}])
    hidden = shop.polar.products.create(name="Hidden", recurring_interval="month", visibility="private",
                                        prices=[{"amount_type": "fixed", "price_amount": 100}])
    subscription = shop.subscribe(monthly, email="ada@example.com")
    other = shop.subscribe(shop.monthly(), email="bob@example.com")
    token, portal = portal_of(shop, subscription.customer_id)

    [listed] = portal.customer_portal.subscriptions.list().items
    assert listed.id == subscription.id and listed.product.organization.slug == shop.organization["slug"]
    assert portal.customer_portal.subscriptions.list(active=False).items == []
    with pytest.raises(ResourceNotFound):
        portal.customer_portal.subscriptions.get(other.id)
    with pytest.raises(ResourceNotFound):
        portal.customer_portal.subscriptions.cancel(other.id)
    assert shop.polar.subscriptions.get(other.id).cancel_at_period_end is False

    # A plan change uses the seller's proration (prorate by default): billed with the renewal.
    changed = portal.customer_portal.subscriptions.update(subscription.id, product_id=pro.id)
    assert changed.product.id == pro.id and changed.amount == 1900
    with pytest.raises(HTTPValidationError) as error:
        portal.customer_portal.subscriptions.update(subscription.id, product_id=hidden.id)
    assert locs(error) == [["body", "product_id"]]

    canceled = portal.customer_portal.subscriptions.update(subscription.id, cancel_at_period_end=True,
                                                          cancellation_reason="too_expensive", cancellation_comment="Pricey")
    assert canceled.cancel_at_period_end is True and canceled.customer_cancellation_reason == "too_expensive"
    assert shop.polar.subscriptions.get(subscription.id).customer_cancellation_comment == "Pricey"
    uncanceled = portal.customer_portal.subscriptions.update(subscription.id, cancel_at_period_end=False)
    assert uncanceled.cancel_at_period_end is False
    ended = portal.customer_portal.subscriptions.cancel(subscription.id)
    assert ended.cancel_at_period_end is True and ended.status == "active"
    with pytest.raises(PolarClientError) as error:
        portal.customer_portal.subscriptions.cancel(subscription.id)
    assert error.value.status_code == 403
    # Pausing is off unless the seller turns it on; an unknown field is refused.
    with pytest.raises(PolarClientError) as error:
        portal.customer_portal.subscriptions.update(subscription.id, pause_at_period_end=True)
    assert error.value.status_code == 403
    answer = raw(shop, token, "PATCH", f"/v1/customer-portal/subscriptions/{subscription.id}",
                 json={"cancel_at_period_end": False, "metadata": {"x": 1}})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "metadata"], answer.text

    # The seller can turn plan changes off.
    settings = shop.polar.organizations.get(shop.organization["id"]).customer_portal_settings
    shop.polar.organizations.update(shop.organization["id"], customer_portal_settings={
        "usage": {"show": settings.usage.show},
        "subscription": {"update_seats": True, "update_plan": False, "pause": False}})
    portal.customer_portal.subscriptions.update(subscription.id, cancel_at_period_end=False)
    with pytest.raises(HTTPValidationError) as error:
        portal.customer_portal.subscriptions.update(subscription.id, product_id=monthly.id)
    assert locs(error) == [["body", "product_id"]]


# ---- benefit grants, license keys, downloadables, meters (slice 2) ----

from test_files import upload_file  # noqa: E402
from test_grants_and_license_keys import Shop as GrantShop  # noqa: E402


def test_a_customer_reaches_its_grants_keys_and_files(floe):
    shop = GrantShop(floe)
    keys = shop.keys_benefit(prefix="APP", activations={"limit": 3, "enable_customer_admin": True})
    note = shop.polar.benefits.create(type="custom", description="Support", properties={"note": "Write to us"},
                                      metadata={"cost_center": "merchant-only"})
    manual = upload_file(shop.polar, b"the manual", name="manual.pdf", mime="application/pdf")
    files = shop.polar.benefits.create(type="downloadables", description="Manual", properties={"files": [manual.id]})
    order = shop.buy(shop.product([keys, note, files]), email="ada@example.com")
    shop.wait_for_grants(3, customer_id=order.customer_id)
    other = shop.buy(shop.product([note], name="Other"), email="bob@example.com")
    shop.wait_for_grants(1, customer_id=other.customer_id)

    token = shop.polar.customer_sessions.create(customer_id=order.customer_id).token
    portal = floe.client(token)
    grants = portal.customer_portal.benefit_grants.list().items
    assert sorted(g.benefit_id for g in grants) == sorted([keys.id, note.id, files.id])
    raw = httpx.get(f"{floe.url}/v1/customer-portal/benefit-grants/", headers={"Authorization": f"Bearer {token}"}).json()
    for grant in raw["items"]:
        assert "metadata" not in grant["benefit"] and "metadata" not in grant["customer"], grant
        assert grant["benefit"]["organization"]["slug"] == shop.organization["slug"]
    by_benefit = {g["benefit_id"]: g for g in raw["items"]}
    assert by_benefit[note.id]["benefit"]["properties"] == {"note": "Write to us"}
    assert by_benefit[files.id]["benefit"]["properties"] == {"active_files": [manual.id]}
    assert "merchant-only" not in str(raw)
    assert [g.benefit_id for g in portal.customer_portal.benefit_grants.list(type="custom").items] == [note.id]
    assert [g.benefit_id for g in portal.customer_portal.benefit_grants.list(query="manu").items] == [files.id]
    note_grant = next(g for g in grants if g.benefit_id == note.id)
    assert portal.customer_portal.benefit_grants.get(note_grant.id).id == note_grant.id
    assert portal.customer_portal.benefit_grants.update(note_grant.id, benefit_type="custom").id == note_grant.id
    with pytest.raises(HTTPValidationError) as error:
        portal.customer_portal.benefit_grants.update(note_grant.id, benefit_type="feature_flag")
    assert locs(error) == [["body", "benefit_type"]]

    # Downloads through signed, expiring URLs.
    [download] = portal.customer_portal.downloadables.list().items
    assert download.benefit_id == files.id and download.file.id == manual.id
    assert httpx.get(download.file.download.url).content == b"the manual"

    # The key, activated and deactivated with the key alone (no session), and its
    # activations shown because the benefit lets customers manage them.
    [key] = portal.customer_portal.license_keys.list().items
    anonymous = floe.client("not-a-token")
    activation = anonymous.customer_portal.license_keys.activate(key=key.key, organization_id=shop.id, label="laptop")
    assert [a.id for a in portal.customer_portal.license_keys.get(key.id).activations] == [activation.id]
    validated = anonymous.customer_portal.license_keys.validate(key=key.key, organization_id=shop.id)
    assert validated.id == key.id and validated.validations == 1
    anonymous.customer_portal.license_keys.deactivate(key=key.key, organization_id=shop.id, activation_id=activation.id)
    assert portal.customer_portal.license_keys.get(key.id).activations == []
    with pytest.raises(ResourceNotFound):
        anonymous.customer_portal.license_keys.validate(key=key.key, organization_id=str(uuid.uuid4()))
    assert portal.customer_portal.customer_meters.list().items == []

    # Another customer reaches none of it.
    bobs = floe.client(shop.polar.customer_sessions.create(customer_id=other.customer_id).token)
    assert [g.benefit_id for g in bobs.customer_portal.benefit_grants.list().items] == [note.id]
    assert bobs.customer_portal.downloadables.list().items == []
    assert bobs.customer_portal.license_keys.list().items == []
    for call in (lambda: bobs.customer_portal.benefit_grants.get(note_grant.id),
                 lambda: bobs.customer_portal.license_keys.get(key.id),
                 lambda: bobs.customer_portal.benefit_grants.update(note_grant.id, benefit_type="custom")):
        with pytest.raises(ResourceNotFound):
            call()


# ---- payment methods (slice 3) ----

def test_a_customer_adds_confirms_and_deletes_payment_methods(shop):
    subscription = shop.subscribe(shop.monthly(), email="ada@example.com")
    token, portal = portal_of(shop, subscription.customer_id)
    methods = portal.customer_portal.customers
    [visa] = methods.list_payment_methods().items
    assert visa.method_metadata.last4 == "4242" and methods.get().default_payment_method_id == visa.id

    added = methods.add_payment_method(confirmation_token_id="pm_card_mastercard", set_default=False,
                                       return_url="https://shop.example/portal")
    assert added.status == "succeeded"
    assert added.payment_method.method_metadata.brand == "mastercard"
    assert len(methods.list_payment_methods().items) == 2
    assert methods.get().default_payment_method_id == visa.id

    # A declined card is not saved; one that asks for authentication waits for the
    # confirmation, then is saved (and made the default when asked).
    declined = raw(shop, token, "POST", "/v1/customer-portal/customers/me/payment-methods", json={
        "confirmation_token_id": "pm_card_chargeDeclined", "set_default": True, "return_url": "https://shop.example/"})
    assert declined.status_code == 400 and declined.json()["error"] == "PaymentMethodSetupFailed", declined.text
    waiting = methods.add_payment_method(confirmation_token_id="pm_card_authenticationRequired", set_default=True,
                                         return_url="https://shop.example/portal")
    assert waiting.status == "requires_action" and waiting.client_secret
    setup_id = waiting.client_secret.removesuffix("_secret")
    # Not another customer's to confirm.
    _, bobs = portal_of(shop, shop.polar.customers.create(email="bob-pm@example.com").id)
    with pytest.raises(HTTPValidationError):
        bobs.customer_portal.customers.confirm_payment_method(setup_intent_id=setup_id, set_default=True)
    confirmed = methods.confirm_payment_method(setup_intent_id=setup_id, set_default=True)
    assert confirmed.status == "succeeded" and methods.get().default_payment_method_id == confirmed.payment_method.id
    assert len(methods.list_payment_methods().items) == 3

    # Deleting the subscription's card moves the subscription to another one; the last card
    # a live subscription could charge cannot go.
    with pytest.raises(ResourceNotFound):
        bobs.customer_portal.customers.delete_payment_method(visa.id)
    methods.delete_payment_method(visa.id)
    methods.delete_payment_method(confirmed.payment_method.id)
    [left] = methods.list_payment_methods().items
    assert left.id == added.payment_method.id and methods.get().default_payment_method_id == left.id
    refused = raw(shop, token, "DELETE", f"/v1/customer-portal/customers/me/payment-methods/{left.id}")
    assert refused.status_code == 400 and refused.json()["error"] == "PaymentMethodInUseByActiveSubscription", refused.text
    # The renewal charges the card that is left.
    shop.advance(subscription.current_period_end)
    renewal = shop.orders(subscription.id)[-1]
    assert (renewal.billing_reason, renewal.status) == ("subscription_cycle", "paid")
    [payment] = shop.polar.payments.list(order_id=renewal.id).items
    assert payment.method_metadata.last4 == "4444"


# ---- email change (slice 3) ----

def mailed_token(floe, address, prefix="polar_cev_"):
    """The newest token mailed to `address` (this floe writes mail as .eml files)."""
    import os
    import re
    import time
    deadline = time.time() + 20
    while time.time() < deadline:
        found = []
        directory = os.path.join(floe.dir, "mail")
        for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            text = open(os.path.join(directory, name), encoding="utf-8", errors="replace").read()
            if address in text:
                found += re.findall(prefix + r"\w+", text)
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no mail to {address}")


def test_a_customer_changes_its_email_by_proving_it_owns_the_new_one(org, floe):
    ada = customer(org)
    opened, portal = session(org, floe, customer_id=ada.id)
    new = f"ada-new-{uuid.uuid4().hex[:6]}@example.com"
    answer = httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/request", json={"email": new},
                        headers={"Authorization": f"Bearer {opened.token}"})
    assert answer.status_code == 202, answer.text
    token = mailed_token(floe, new)
    # Nothing changes until the new address is proved.
    assert org.polar.customers.get(ada.id).email == ada.email
    check = lambda t: httpx.get(f"{floe.url}/v1/customer-portal/customers/me/email-update/check", params={"token": t})
    assert check(token).status_code == 204
    assert check("polar_cev_" + "x" * 43).status_code == 401
    verified = httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/verify", json={"token": token})
    assert verified.status_code == 200, verified.text
    changed = org.polar.customers.get(ada.id)
    assert (changed.email, changed.email_verified) == (new, True)
    # The answer is a new session; the token is used up.
    assert floe.client(verified.json()["token"]).customer_portal.customers.get().email == new
    assert check(token).status_code == 401
    again = httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/verify", json={"token": token})
    assert again.status_code == 401

    # Another customer's address is refused when verified; the same address, and a bad one,
    # at once.
    bob = customer(org)
    answer = httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/request", json={"email": bob.email},
                        headers={"Authorization": f"Bearer {opened.token}"})
    assert answer.status_code == 202
    refused = httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/verify",
                         json={"token": mailed_token(floe, bob.email)})
    assert refused.status_code == 422, refused.text
    assert org.polar.customers.get(ada.id).email == new
    for email in (new, "not-an-email"):
        answer = httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/request", json={"email": email},
                            headers={"Authorization": f"Bearer {opened.token}"})
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "email"], answer.text
    # Each request mails someone: three per customer per quarter hour (two made above).
    asked = [httpx.post(f"{floe.url}/v1/customer-portal/customers/me/email-update/request",
                        json={"email": f"ada-{n}-{uuid.uuid4().hex[:6]}@example.com"},
                        headers={"Authorization": f"Bearer {opened.token}"}).status_code for n in range(2)]
    assert asked == [202, 429], asked


# ---- the customer's own retry of a failed payment (slice 3) ----

def test_a_customer_pays_a_past_due_subscription_itself(shop):
    from datetime import timedelta

    from test_subscriptions import ts
    subscription = shop.subscribe(shop.monthly(), card="pm_card_chargeCustomerFail", email="late@example.com")
    shop.advance(ts(subscription.current_period_end) + timedelta(hours=1))
    late = shop.polar.subscriptions.get(subscription.id)
    assert late.status == "past_due"
    renewal = shop.orders(subscription.id)[-1]
    assert renewal.status == "pending" and renewal.next_payment_attempt_at is not None
    token, portal = portal_of(shop, subscription.customer_id)
    orders = portal.customer_portal.orders
    status = orders.get_payment_status(renewal.id)
    assert status.status == "failed" and status.error

    # The failing card again: failed, and the dunning's next retry stays where it was.
    [card] = portal.customer_portal.customers.list_payment_methods().items
    again = orders.confirm_retry_payment(renewal.id, payment_method_id=card.id)
    assert again.status == "failed" and again.error
    assert shop.polar.orders.get(renewal.id).next_payment_attempt_at == renewal.next_payment_attempt_at
    assert shop.polar.subscriptions.get(subscription.id).status == "past_due"
    # Neither or both ways to pay is a 422; another customer's order is not found.
    both = raw(shop, token, "POST", f"/v1/customer-portal/orders/{renewal.id}/confirm-payment",
               json={"payment_method_id": card.id, "confirmation_token_id": "pm_card_visa"})
    assert both.status_code == 422, both.text
    other = shop.subscribe(shop.monthly(), email="punctual@example.com")
    _, others = portal_of(shop, other.customer_id)
    with pytest.raises(ResourceNotFound):
        others.customer_portal.orders.confirm_retry_payment(renewal.id, payment_method_id=card.id)
    # A paid order is not retried.
    [paid] = [o for o in portal.customer_portal.orders.list().items if o.status == "paid"]
    not_due = raw(shop, token, "POST", f"/v1/customer-portal/orders/{paid.id}/confirm-payment",
                  json={"payment_method_id": card.id})
    assert not_due.status_code == 422 and not_due.json()["error"] == "OrderNotEligibleForRetry", not_due.text

    # A new card pays it: the order is paid and the subscription active again, charging the
    # new card from now on.
    paid_now = orders.confirm_retry_payment(renewal.id, confirmation_token_id="pm_card_mastercard")
    assert paid_now.status == "succeeded", paid_now
    assert shop.polar.orders.get(renewal.id).status == "paid"
    recovered = shop.polar.subscriptions.get(subscription.id)
    assert recovered.status == "active" and recovered.past_due_at is None
    payments = shop.polar.payments.list(order_id=renewal.id, limit=100).items
    assert sorted(p.trigger for p in payments) == ["retry_customer", "retry_customer", "subscription_cycle"]
    shop.advance(ts(recovered.current_period_end) + timedelta(hours=1))
    assert shop.orders(subscription.id)[-1].status == "paid"


def test_a_customer_has_five_tries(shop):
    from datetime import timedelta

    from test_subscriptions import ts
    subscription = shop.subscribe(shop.monthly(), card="pm_card_chargeCustomerFail", email="tries@example.com")
    shop.advance(ts(subscription.current_period_end) + timedelta(hours=1))
    renewal = shop.orders(subscription.id)[-1]
    token, portal = portal_of(shop, subscription.customer_id)
    [card] = portal.customer_portal.customers.list_payment_methods().items
    for _ in range(5):
        assert portal.customer_portal.orders.confirm_retry_payment(renewal.id, payment_method_id=card.id).status == "failed"
    refused = raw(shop, token, "POST", f"/v1/customer-portal/orders/{renewal.id}/confirm-payment",
                  json={"payment_method_id": card.id})
    assert refused.status_code == 429 and refused.json()["error"] == "ManualRetryLimitExceeded", refused.text
    # The dunning goes on as scheduled: its own retry still happens.
    assert shop.polar.subscriptions.get(subscription.id).status == "past_due"
