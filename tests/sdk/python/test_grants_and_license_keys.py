"""Benefit grants and license keys through the official Python SDK: a paid order grants
every benefit of its product (custom, feature flag, license keys, downloadables, meter
credits; the integrations floe cannot perform record their error), the customer's state
lists what it holds, `benefit_grant.created` and `customer.state_changed` are accepted by
the SDK's `validate_event`; license keys are validated, activated and deactivated within
their limits, with usage counted exactly under concurrency, expiry, revocation, other
organizations, and the per-key rate limit; and granting happens exactly once across
restarts, `kill -9` and two processes. (Tenancy, scopes and fuzzing of the license-key
operations come from the contract sweep.)"""

import concurrent.futures
import datetime
import time
import uuid

import httpx
import pytest
from polar.v2026_10.errors import (BadRequest, HTTPValidationError, NotPermitted, ResourceNotFound,
                                    RotateNotPermitted)
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver
from test_files import upload_file

ADDRESS = {"country": "FR"}


@pytest.fixture(scope="module")
def hooked():
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1", "FLOE_SWEEP_INTERVAL": "1"})
    yield server
    server.stop()


class Shop:
    def __init__(self, server):
        self.server = server
        self.organization = server.organization()
        self.id = self.organization["id"]
        self.token = server.token(self.organization)
        self.polar = server.client(self.token)

    def product(self, benefits, name="Pro", amount=1900):
        product = self.polar.products.create(name=name, prices=[{"amount_type": "fixed", "price_amount": amount}])
        if benefits:
            self.polar.products.update_benefits(product.id, benefits=[b.id for b in benefits])
        return product

    def buy(self, product, email=None):
        """Pays for `product` with Stripe's test Visa; returns the order. Over plain HTTP: the
        SDK cannot read a checkout whose product has a meter-credit benefit yet (floe's
        `BenefitPublic` lacks that type's `properties`; test_checkouts.py covers the SDK's
        path)."""
        email = email or f"buyer-{uuid.uuid4().hex[:10]}@example.com"
        made = httpx.post(f"{self.server.url}/v1/checkouts/", json={"products": [product.id], "customer_email": email},
                          headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        assert made.status_code == 201, made.text
        checkout = made.json()
        confirmed = httpx.post(f"{self.server.url}/v1/checkouts/client/{checkout['client_secret']}/confirm",
                               json={"confirmation_token_id": "pm_card_visa", "customer_billing_address": ADDRESS}, timeout=30)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
        return self.polar.orders.list(checkout_id=checkout["id"]).items[0]

    def grants(self, **filters):
        return self.polar.benefit_grants.list(limit=100, **filters).items

    def raw(self, path, **params):
        """A GET's JSON body over plain HTTP: the SDK reads a grant's `properties` as the
        first shape of its union that fits (every one of them does, all their fields being
        optional), so the license key's ID and the files are read from the JSON itself."""
        answer = httpx.get(f"{self.server.url}{path}", params=params, headers={"Authorization": f"Bearer {self.token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def properties(self, customer_id):
        """Each grant's `properties` for a customer, by benefit ID."""
        items = self.raw("/v1/benefit-grants/", customer_id=customer_id, limit=100)["items"]
        return {g["benefit_id"]: g["properties"] for g in items}

    def wait_for_grants(self, count, timeout=30, **filters):
        """The grants matching `filters` once there are `count` of them, granted or failed."""
        deadline = time.time() + timeout
        while True:
            got = self.grants(**filters)
            if len(got) >= count or time.time() > deadline:
                break
            time.sleep(0.05)
        assert len(got) == count, f"expected {count} grants, got {len(got)}"
        return got

    def license_key(self, *benefits, email=None):
        """A key issued by buying a product with `benefits` (a license-keys benefit first)."""
        order = self.buy(self.product(list(benefits)), email=email)
        self.wait_for_grants(len(benefits), customer_id=order.customer_id)
        return self.polar.license_keys.get(self.properties(order.customer_id)[benefits[0].id]["license_key_id"])

    def keys_benefit(self, **properties):
        return self.polar.benefits.create(type="license_keys", description="App license", properties=properties)


@pytest.fixture
def shop(hooked):
    return Shop(hooked)


def check(delivery, secret):
    headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    return validate_event(delivery.body, headers, secret)


def parse(at):
    return datetime.datetime.fromisoformat(at.replace("Z", "+00:00"))


# --- granting ----------------------------------------------------------------------------


def test_a_paid_order_grants_every_benefit_of_its_product(shop):
    polar = shop.polar
    manual = upload_file(polar, b"the manual", name="manual.pdf", mime="application/pdf")
    old = upload_file(polar, b"the old manual", name="old.pdf", mime="application/pdf")
    tokens = polar.meters.create(name=f"tokens {uuid.uuid4().hex[:6]}", aggregation={"func": "sum", "property": "tokens"},
                                 filter={"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "tokens"}]})
    perks = [
        polar.benefits.create(type="custom", description="Priority support", properties={"note": "Mail us"}),
        polar.benefits.create(type="feature_flag", description="Beta access", properties={}, metadata={"flag": "beta"}),
        shop.keys_benefit(prefix="acme", expires={"ttl": 1, "timeframe": "year"},
                          activations={"limit": 3, "enable_customer_admin": True}, limit_usage=100),
        polar.benefits.create(type="downloadables", description="The manual",
                              properties={"files": [manual.id, old.id], "archived": {old.id: True}}),
        polar.benefits.create(type="meter_credit", description="1,000 tokens",
                              properties={"units": 1000, "rollover": False, "meter_id": tokens.id}),
        polar.benefits.create(type="github_repository", description="Source access",
                              properties={"repository_owner": "acme", "repository_name": "engine", "permission": "pull"}),
    ]
    custom, flag, keys, downloads, credit, github = perks
    before = datetime.datetime.now(datetime.timezone.utc)
    order = shop.buy(shop.product(perks))
    grants = {g.benefit_id: g for g in shop.wait_for_grants(6, customer_id=order.customer_id)}

    for perk in (custom, flag, keys, downloads, credit):
        grant = grants[perk.id]
        assert grant.is_granted and not grant.is_revoked and grant.error is None, grant
        assert grant.order_id == order.id and grant.subscription_id is None
        assert grant.customer.id == order.customer_id and grant.benefit.id == perk.id
    assert grants[custom.id].benefit.properties.note == "Mail us"

    properties = shop.properties(order.customer_id)
    issued = properties[keys.id]
    assert set(issued) == {"license_key_id", "display_key"}
    key = polar.license_keys.get(issued["license_key_id"])
    assert key.key.startswith("ACME-") and key.key == key.key.upper() and len(key.key) == len("ACME-") + 36
    assert issued["display_key"] == key.display_key == f"****-{key.key[-6:]}"
    assert (key.status, key.usage, key.validations, key.limit_usage, key.limit_activations) == ("granted", 0, 0, 100, 3)
    assert key.customer_id == order.customer_id and key.customer.id == order.customer_id and key.benefit_id == keys.id
    expires = parse(key.expires_at)
    assert before + datetime.timedelta(days=364) < expires < before + datetime.timedelta(days=367)
    assert key.activations == [] and key.last_validated_at is None
    assert [k.id for k in polar.license_keys.list(benefit_id=keys.id).items] == [key.id]

    assert properties[downloads.id] == {"files": [manual.id]}  # the archived file is not granted
    assert properties[credit.id]["last_credited_units"] == 1000
    assert properties[credit.id]["last_credited_meter_id"] == tokens.id
    assert properties[custom.id] == properties[flag.id] == properties[github.id] == {}
    meters = polar.customer_meters.list(customer_id=order.customer_id).items
    assert [(m.meter_id, m.credited_units, m.balance) for m in meters] == [(tokens.id, 1000, 1000)]

    failed = grants[github.id]
    assert not failed.is_granted and failed.granted_at is None
    assert failed.error.type == "BenefitIntegrationUnavailable" and "GitHub" in failed.error.message

    state = polar.customers.get_state(order.customer_id)
    held = {g.benefit_id: g for g in state.granted_benefits}
    assert set(held) == {custom.id, flag.id, keys.id, downloads.id, credit.id}
    assert held[flag.id].benefit_type == "feature_flag" and held[flag.id].benefit_metadata == {"flag": "beta"}
    raw_state = {g["benefit_id"]: g for g in shop.raw(f"/v1/customers/{order.customer_id}/state")["granted_benefits"]}
    assert raw_state[keys.id]["properties"]["license_key_id"] == key.id
    assert [m.credited_units for m in state.active_meters] == [1000]

    # Every benefit handled: the order is done, and the lists filter as they should.
    assert [g.id for g in shop.grants(is_granted=False, customer_id=order.customer_id)] == [failed.id]
    assert len(polar.benefits.grants(keys.id).items) == 1
    done = shop.server.sql(f"SELECT grants_done_at FROM orders WHERE invoice_number = '{order.invoice_number}'")
    assert done and done[0][0] not in ("", "None")


def test_a_product_without_benefits_grants_nothing_and_another_customer_gets_its_own(shop):
    plain = shop.buy(shop.product([]))
    perk = shop.polar.benefits.create(type="custom", description="A perk", properties={"note": "n"})
    product = shop.product([perk])
    first = shop.buy(product, email="same@example.com")
    second = shop.buy(product, email="same@example.com")
    assert first.customer_id == second.customer_id
    grants = shop.wait_for_grants(2, customer_id=first.customer_id)
    assert sorted(g.order_id for g in grants) == sorted([first.id, second.id])  # one per order
    assert shop.grants(customer_id=plain.customer_id) == []
    state = shop.polar.customers.get_state(first.customer_id)
    assert [g.benefit_id for g in state.granted_benefits] == [perk.id, perk.id]


def test_grant_webhooks_are_typed_by_the_sdk(shop):
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw", events=["benefit_grant.created", "customer.state_changed"])
        keys = shop.keys_benefit(prefix="HOOK")
        note = shop.polar.benefits.create(type="custom", description="A note", properties={"note": "hello"})
        order = shop.buy(shop.product([keys, note]))
        deadline = time.time() + 30
        while time.time() < deadline:
            payloads = [check(d, endpoint.secret) for d in receiver.accepted()]
            grants = [p for p in payloads if p.type == "benefit_grant.created"]
            states = [p for p in payloads if p.type == "customer.state_changed"]
            if len(grants) == 2 and any(len(s.data.granted_benefits) == 2 for s in states):
                break
            time.sleep(0.05)
        assert [g.data.benefit_id for g in grants] == [keys.id, note.id]  # the product's order
        first = grants[0].data
        assert first.order_id == order.id and first.is_granted and first.customer.id == order.customer_id
        assert first.benefit.type == "license_keys" and first.properties.display_key.startswith("****-")
        assert grants[1].data.benefit.properties.note == "hello"
        final = states[-1].data
        assert final.id == order.customer_id
        assert sorted(g.benefit_id for g in final.granted_benefits) == sorted([keys.id, note.id])
        # One state per grant, each with what the customer held at that moment.
        assert [len(s.data.granted_benefits) for s in states][-2:] == [1, 2]
    finally:
        receiver.stop()


# --- license keys ------------------------------------------------------------------------


def test_validate_counts_usage_and_checks_what_it_is_given(shop):
    keys = shop.keys_benefit(prefix="VAL", limit_usage=3)
    key = shop.license_key(keys)
    polar = shop.polar
    validated = polar.license_keys.validate(key=key.key, organization_id=shop.id)
    assert validated.id == key.id and validated.activation is None and validated.status == "granted"
    assert validated.validations == 1 and validated.usage == 0 and validated.last_validated_at is not None
    assert polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=2).usage == 2
    with pytest.raises(BadRequest) as refused:
        polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=2)
    assert refused.value.error.detail == "License key only has 1 more usages."
    assert polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=1).usage == 3
    assert polar.license_keys.validate(key=key.key, organization_id=shop.id, benefit_id=keys.id,
                                       customer_id=key.customer_id).validations == 4

    for wrong, detail in (
        ({"benefit_id": str(uuid.uuid4())}, "License key does not match given benefit."),
        ({"customer_id": str(uuid.uuid4())}, "License key does not match given user."),
        ({"activation_id": str(uuid.uuid4())}, "Not found"),
    ):
        with pytest.raises(ResourceNotFound) as missing:
            polar.license_keys.validate(key=key.key, organization_id=shop.id, **wrong)
        assert missing.value.error.detail == detail
    for unknown in ({"key": "ACME-NOPE"}, {"key": key.key.lower()}):
        with pytest.raises(ResourceNotFound):
            polar.license_keys.validate(organization_id=shop.id, **unknown)
    # Text with a NUL character is refused wherever it is sent (floe's JSON reader).
    with pytest.raises(HTTPValidationError):
        polar.license_keys.validate(organization_id=shop.id, key=key.key + "\x00")
    with pytest.raises(HTTPValidationError) as invalid:
        polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=-1)
    assert [list(d.loc) for d in invalid.value.error.detail] == [["body", "increment_usage"]]
    after = polar.license_keys.get(key.id)
    assert (after.usage, after.validations) == (3, 4)


def test_another_organization_never_reaches_a_key(hooked, shop):
    key = shop.license_key(shop.keys_benefit(prefix="MINE"))
    other = Shop(hooked)
    for body in ({"organization_id": shop.id}, {"organization_id": other.id}):
        with pytest.raises(ResourceNotFound):
            other.polar.license_keys.validate(key=key.key, **body)
        with pytest.raises(ResourceNotFound):
            other.polar.license_keys.activate(key=key.key, label="stolen", **body)
    # The owner naming another organization does not find its own key either.
    with pytest.raises(ResourceNotFound):
        shop.polar.license_keys.validate(key=key.key, organization_id=other.id)
    with pytest.raises(ResourceNotFound):
        other.polar.license_keys.get(key.id)
    assert other.polar.license_keys.list().items == []
    assert shop.polar.license_keys.list(organization_id=other.id).items == []
    assert shop.polar.license_keys.get(key.id).validations == 0


def test_activations_up_to_the_limit_with_conditions(shop):
    key = shop.license_key(shop.keys_benefit(prefix="ACT", activations={"limit": 2, "enable_customer_admin": False}))
    polar = shop.polar
    laptop = polar.license_keys.activate(key=key.key, organization_id=shop.id, label="laptop",
                                         conditions={"major": 2, "os": "linux"}, meta={"host": "ada-laptop"})
    assert laptop.label == "laptop" and laptop.meta == {"host": "ada-laptop"} and laptop.license_key.id == key.id
    desktop = polar.license_keys.activate(key=key.key, organization_id=shop.id, label="desktop")
    with pytest.raises(NotPermitted) as full:
        polar.license_keys.activate(key=key.key, organization_id=shop.id, label="third")
    assert full.value.error.detail == "License key activation limit already reached"
    assert [a.id for a in polar.license_keys.get(key.id).activations] == [laptop.id, desktop.id]
    assert polar.license_keys.get_activation(key.id, laptop.id).meta == {"host": "ada-laptop"}

    # A validation naming an activation must present its conditions.
    validated = polar.license_keys.validate(key=key.key, organization_id=shop.id, activation_id=laptop.id,
                                            conditions={"os": "linux", "major": 2})
    assert validated.activation.id == laptop.id
    with pytest.raises(ResourceNotFound) as mismatch:
        polar.license_keys.validate(key=key.key, organization_id=shop.id, activation_id=laptop.id,
                                    conditions={"os": "linux", "major": 3})
    assert mismatch.value.error.detail == "License key does not match required conditions"
    # No conditions at activation: any validation matches.
    assert polar.license_keys.validate(key=key.key, organization_id=shop.id, activation_id=desktop.id,
                                       conditions={"anything": True}).activation.id == desktop.id

    polar.license_keys.deactivate(key=key.key, organization_id=shop.id, activation_id=desktop.id)
    with pytest.raises(ResourceNotFound):
        polar.license_keys.deactivate(key=key.key, organization_id=shop.id, activation_id=desktop.id)
    with pytest.raises(ResourceNotFound):
        polar.license_keys.get_activation(key.id, desktop.id)
    with pytest.raises(ResourceNotFound):
        polar.license_keys.validate(key=key.key, organization_id=shop.id, activation_id=desktop.id)
    again = polar.license_keys.activate(key=key.key, organization_id=shop.id, label="new desktop")
    assert [a.id for a in polar.license_keys.get(key.id).activations] == [laptop.id, again.id]

    no_seats = shop.license_key(shop.keys_benefit(prefix="NOACT"))
    with pytest.raises(NotPermitted) as unsupported:
        polar.license_keys.activate(key=no_seats.key, organization_id=shop.id, label="x")
    assert "does not support activations" in unsupported.value.error.detail
    with pytest.raises(HTTPValidationError):
        polar.license_keys.activate(key=key.key, organization_id=shop.id, label="x", meta={"": "empty key"})
    with pytest.raises(HTTPValidationError) as nul:
        polar.license_keys.activate(key=key.key, organization_id=shop.id, label="a\x00b")
    assert [list(d.loc) for d in nul.value.error.detail] == [["body", "label"]]
    with pytest.raises(ResourceNotFound):
        polar.license_keys.get_activation(no_seats.id, laptop.id)  # another key's activation


def test_revoked_disabled_and_expired_keys(shop):
    key = shop.license_key(shop.keys_benefit(prefix="LIFE", activations={"limit": 5, "enable_customer_admin": False}))
    polar = shop.polar
    for status in ("revoked", "disabled"):
        updated = polar.license_keys.update(key.id, status=status)
        assert updated.status == status and updated.modified_at is not None
        with pytest.raises(ResourceNotFound) as inactive:
            polar.license_keys.validate(key=key.key, organization_id=shop.id)
        assert inactive.value.error.detail == "License key is no longer active."
        with pytest.raises(NotPermitted) as refused:
            polar.license_keys.activate(key=key.key, organization_id=shop.id, label="x")
        assert "no longer active" in refused.value.error.detail
    assert [k.id for k in polar.license_keys.list(status="disabled").items] == [key.id]
    assert polar.license_keys.list(status="granted").items == []
    polar.license_keys.update(key.id, status="granted")
    assert polar.license_keys.validate(key=key.key, organization_id=shop.id).status == "granted"

    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).isoformat()
    assert polar.license_keys.update(key.id, expires_at=past).expires_at is not None
    with pytest.raises(ResourceNotFound) as expired:
        polar.license_keys.validate(key=key.key, organization_id=shop.id)
    assert expired.value.error.detail == "License key has expired."
    with pytest.raises(NotPermitted) as refused:
        polar.license_keys.activate(key=key.key, organization_id=shop.id, label="x")
    assert refused.value.error.detail == "License key has expired."
    cleared = polar.license_keys.update(key.id, expires_at=None, usage=7, limit_usage=10, limit_activations=1)
    assert (cleared.expires_at, cleared.usage, cleared.limit_usage, cleared.limit_activations) == (None, 7, 10, 1)
    assert polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=3).usage == 10

    with pytest.raises(HTTPValidationError) as invalid:
        polar.license_keys.update(key.id, limit_activations=0, limit_usage=-1)
    assert [list(d.loc) for d in invalid.value.error.detail] == [["body", "limit_activations"], ["body", "limit_usage"]]
    with pytest.raises(HTTPValidationError):
        polar.license_keys.update(key.id, status="lost")
    with pytest.raises(ResourceNotFound):
        polar.license_keys.update(str(uuid.uuid4()), usage=1)


def test_a_revoked_key_revokes_its_grant_and_a_restored_one_grants_it_again(shop):
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw",
            events=["benefit_grant.revoked", "benefit_grant.updated", "customer.state_changed"])
        benefit = shop.keys_benefit(prefix="SYNC")
        key = shop.license_key(benefit)
        (grant,) = shop.grants(customer_id=key.customer_id)
        assert grant.is_granted and not grant.is_revoked

        # Disabling keeps the grant; revoking revokes it (and the state no longer lists it).
        shop.polar.license_keys.update(key.id, status="disabled")
        assert not shop.grants(customer_id=key.customer_id)[0].is_revoked
        shop.polar.license_keys.update(key.id, status="revoked")
        revoked = shop.grants(customer_id=key.customer_id)[0]
        assert revoked.is_revoked and revoked.revoked_at is not None
        assert shop.polar.customers.get_state(key.customer_id).granted_benefits == []
        shop.polar.license_keys.update(key.id, status="revoked")  # no change, no event
        restored = shop.polar.license_keys.update(key.id, status="granted")
        assert restored.status == "granted"
        again = shop.grants(customer_id=key.customer_id)[0]
        assert again.is_granted and not again.is_revoked
        assert [g.benefit_id for g in shop.polar.customers.get_state(key.customer_id).granted_benefits] == [benefit.id]

        deadline = time.time() + 30
        while time.time() < deadline:
            payloads = [check(d, endpoint.secret) for d in receiver.accepted()]
            kinds = [p.type for p in payloads if p.type != "customer.state_changed"]
            counts = [len(p.data.granted_benefits) for p in payloads if p.type == "customer.state_changed"]
            if len(kinds) >= 2 and counts[-2:] == [0, 1]:
                break
            time.sleep(0.05)
        assert kinds == ["benefit_grant.revoked", "benefit_grant.updated"]
        grant_events = [p for p in payloads if p.type != "customer.state_changed"]
        assert grant_events[0].data.id == grant.id and grant_events[0].data.is_revoked
        assert grant_events[1].data.is_granted and not grant_events[1].data.is_revoked
        states = [p for p in payloads if p.type == "customer.state_changed"]
        # After the purchase's own states (bought, granted): revoked, then granted again.
        assert [len(s.data.granted_benefits) for s in states][-2:] == [0, 1]
    finally:
        receiver.stop()


def test_rotating_a_key_keeps_everything_but_its_text(shop):
    benefit = shop.keys_benefit(prefix="ROT", activations={"limit": 3, "enable_customer_admin": False})
    key = shop.license_key(benefit)
    polar = shop.polar
    activation = polar.license_keys.activate(key=key.key, organization_id=shop.id, label="laptop")
    polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=2)
    shop.polar.benefits.update(benefit.id, type="license_keys", properties={"prefix": "NEWROT"})

    rotated = polar.license_keys.rotate(key.id)
    assert rotated.id == key.id and rotated.key != key.key and rotated.key.startswith("NEWROT-")
    assert rotated.display_key == "****-" + rotated.key[-6:] and rotated.usage == 2
    assert (rotated.status, rotated.limit_activations) == ("granted", 3)
    # The old text stops working at once; the new one has the activation.
    with pytest.raises(ResourceNotFound):
        polar.license_keys.validate(key=key.key, organization_id=shop.id)
    assert polar.license_keys.validate(key=rotated.key, organization_id=shop.id,
                                       activation_id=activation.id).activation.id == activation.id
    # The grant shows the new key's display key.
    assert shop.properties(key.customer_id)[benefit.id]["display_key"] == rotated.display_key

    polar.license_keys.update(key.id, status="disabled")
    assert polar.license_keys.rotate(key.id).status == "disabled"
    polar.license_keys.update(key.id, status="revoked")
    with pytest.raises(RotateNotPermitted) as refused:
        polar.license_keys.rotate(key.id)
    assert "Current status: revoked" in refused.value.error.detail
    with pytest.raises(ResourceNotFound):
        polar.license_keys.rotate(str(uuid.uuid4()))
    other = shop.server.client(shop.server.token(shop.server.organization()))
    with pytest.raises(ResourceNotFound):
        other.license_keys.rotate(key.id)
    reader = shop.server.token(shop.organization, "license_keys:read")
    answer = httpx.post(f"{shop.server.url}/v1/license-keys/{key.id}/rotate",
                        headers={"Authorization": f"Bearer {reader}"})
    assert answer.status_code == 403 and answer.json()["error"] == "insufficient_scope", answer.text


def test_concurrent_validations_lose_no_usage_and_activations_keep_their_limit(shop):
    key = shop.license_key(shop.keys_benefit(prefix="RACE", activations={"limit": 3, "enable_customer_admin": False}))
    polar = shop.polar

    def validate(_):
        return polar.license_keys.validate(key=key.key, organization_id=shop.id, increment_usage=1)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(validate, range(24)))
    after = polar.license_keys.get(key.id)
    assert (after.usage, after.validations) == (24, 24)

    def activate(i):
        try:
            return polar.license_keys.activate(key=key.key, organization_id=shop.id, label=f"host {i}").id
        except NotPermitted:
            return None

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        made = [a for a in pool.map(activate, range(10)) if a]
    assert len(made) == 3 and len(polar.license_keys.get(key.id).activations) == 3


def test_calls_on_one_key_are_rate_limited(shop):
    key = shop.license_key(shop.keys_benefit(prefix="RATE"))
    headers = {"Authorization": f"Bearer {shop.token}"}
    body = {"key": key.key, "organization_id": shop.id}
    url = f"{shop.server.url}/v1/license-keys/validate"
    with httpx.Client(headers=headers) as client:
        answers = [client.post(url, json=body) for _ in range(60)]
        assert {a.status_code for a in answers} == {200}
        limited = client.post(url, json=body)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"] == "TooManyRequests"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Refused calls change nothing; other keys have their own window.
        assert shop.polar.license_keys.get(key.id).validations == 60
        deactivate = client.post(f"{shop.server.url}/v1/license-keys/deactivate",
                                 json={**body, "activation_id": str(uuid.uuid4())})
        assert deactivate.status_code == 429
    other = shop.license_key(shop.keys_benefit(prefix="FREE"))
    assert shop.polar.license_keys.validate(key=other.key, organization_id=shop.id).validations == 1


# --- exactly once ------------------------------------------------------------------------


def counts(server, shop):
    grants, page = [], 1
    while True:
        listed = shop.polar.benefit_grants.list(limit=100, page=page)
        grants += listed.items
        if page >= listed.pagination.max_page:
            break
        page += 1
    per_benefit_and_order = {}
    for g in grants:
        per_benefit_and_order[(g.benefit_id, g.order_id)] = per_benefit_and_order.get((g.benefit_id, g.order_id), 0) + 1
    keys = shop.polar.license_keys.list(limit=100).pagination.total_count
    return len(grants), per_benefit_and_order, keys


def perks_for(shop):
    meter = shop.polar.meters.create(name=f"credits {uuid.uuid4().hex[:6]}", aggregation={"func": "count"},
                                     filter={"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "x"}]})
    return meter, [
        shop.polar.benefits.create(type="custom", description="A note", properties={"note": "n"}),
        shop.keys_benefit(prefix="ONCE"),
        shop.polar.benefits.create(type="meter_credit", description="Credits",
                                   properties={"units": 5, "rollover": False, "meter_id": meter.id}),
    ]


def wait_until(what, condition, timeout=60):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def assert_granted_once(server, shop, orders, perks, meter):
    total, per, keys = counts(server, shop)
    assert total == len(orders) * len(perks)
    assert set(per.values()) == {1}
    assert keys == len(orders)
    for order in orders:
        credited = shop.polar.customer_meters.list(customer_id=order.customer_id, meter_id=meter.id).items
        assert [m.credited_units for m in credited] == [5]


def test_orders_paid_while_no_worker_runs_are_granted_once_after_restarts(own_floe):
    server = own_floe(env={"FLOE_NO_WORKERS": "1"})
    shop = Shop(server)
    meter, perks = perks_for(shop)
    product = shop.product(perks)
    orders = [shop.buy(product) for _ in range(3)]
    time.sleep(1)
    assert shop.grants() == []  # nobody grants
    server.restart(unset=["FLOE_NO_WORKERS"])
    shop.polar = server.client(shop.token)
    wait_until("every grant", lambda: len(shop.grants()) == 9)
    assert_granted_once(server, shop, orders, perks, meter)
    server.restart()
    shop.polar = server.client(shop.token)
    another = shop.buy(product)
    wait_until("the new order's grants", lambda: len(shop.grants()) == 12)
    time.sleep(1)
    assert_granted_once(server, shop, orders + [another], perks, meter)


def granted_rows(server):
    return int(server.sql("SELECT COUNT(*) FROM benefit_grants")[0][0])


def test_kill_9_while_granting_leaves_exactly_one_grant_per_benefit(own_floe):
    server = own_floe(env={"FLOE_NO_WORKERS": "1", "FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    shop = Shop(server)
    receiver = Receiver()
    # Each grant also builds the customer's state for the endpoint: granting takes long
    # enough for the kill to land halfway.
    shop.polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw",
                                                events=["benefit_grant.created", "customer.state_changed"])
    meter, perks = perks_for(shop)
    product = shop.product(perks)
    orders = [shop.buy(product) for _ in range(40)]
    server.restart(unset=["FLOE_NO_WORKERS"])
    wait_until("the first grants", lambda: granted_rows(server) > 0, timeout=30)
    server.kill()
    # How far it got (printed: on a fast machine granting may finish before the kill lands).
    print("grants when killed:", server.sql("SELECT COUNT(*) FROM benefit_grants"))
    server.start()
    shop.polar = server.client(shop.token)
    try:
        wait_until("every grant", lambda: granted_rows(server) == 120)
        time.sleep(1)
        assert_granted_once(server, shop, orders, perks, meter)
        pending = server.sql("SELECT COUNT(*) FROM orders WHERE grants_done_at IS NULL")
        assert pending == [("0",)]
    finally:
        receiver.stop()


def test_two_processes_grant_each_benefit_once(own_floe):
    first = own_floe(env={"FLOE_SWEEP_INTERVAL": "1"})
    second = own_floe(twin_of=first)
    shop = Shop(first)
    meter, perks = perks_for(shop)
    product = shop.product(perks)
    orders = [shop.buy(product) for _ in range(12)]
    # The second process buys too: each process is woken by its own sales, and sees the
    # other's on its interval.
    twin = Shop.__new__(Shop)
    twin.__dict__.update(shop.__dict__, server=second, polar=second.client(shop.token))
    orders += [twin.buy(product) for _ in range(4)]
    wait_until("every grant", lambda: len(shop.grants()) == 48)
    time.sleep(2)
    assert_granted_once(first, shop, orders, perks, meter)
