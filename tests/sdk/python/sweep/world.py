"""Two organizations with one of each resource floe has, made over plain HTTP, and the
tables that tie the contract's path and query parameters to those resources. A new kind of
resource needs one entry in `KINDS` (how to make it, how its owner reads it) and the path
prefixes that name it in `PATH_IDS`; the sweep fails, naming the operation, until it has."""

import base64
import hashlib
import os
import re
import time
import uuid

import httpx

from receiver import Receiver

# (path up to the parameter, parameter) -> (kind, attribute of the resource).
PATH_IDS = {
    ("/v1/organizations/", "id"): ("organization", "id"),
    ("/v1/customers/", "id"): ("customer", "id"),
    ("/v1/customers/external/", "external_id"): ("customer", "external_id"),
    ("/v1/files/", "id"): ("file", "id"),
    ("/v1/webhooks/endpoints/", "id"): ("webhook_endpoint", "id"),
    ("/v1/webhooks/events/", "id"): ("webhook_event", "id"),
    ("/v1/events/", "id"): ("event", "id"),
    ("/v1/event-types/", "id"): ("event_type", "id"),
    ("/v1/meters/", "id"): ("meter", "id"),
    ("/v1/customer-meters/", "id"): ("customer_meter", "id"),
    ("/v1/custom-fields/", "id"): ("custom_field", "id"),
    ("/v1/benefits/", "id"): ("benefit", "id"),
    ("/v1/products/", "id"): ("product", "id"),
    ("/v1/discounts/", "id"): ("discount", "id"),
    ("/v1/checkouts/", "id"): ("checkout", "id"),
    ("/v1/checkouts/client/", "client_secret"): ("checkout", "client_secret"),
    ("/v1/orders/", "id"): ("order", "id"),
    ("/v1/payments/", "id"): ("payment", "id"),
    ("/v1/checkout-links/", "id"): ("checkout_link", "id"),
    ("/v1/license-keys/", "id"): ("license_key", "id"),
    ("/v1/license-keys/{id}/activations/", "activation_id"): ("license_key_activation", "id"),
    ("/v1/subscriptions/", "id"): ("subscription", "id"),
    ("/v1/customer-seats/", "seat_id"): ("seat", "id"),
    ("/v1/customer-seats/claim/", "invitation_token"): ("seat_invitation", "token"),
    ("/v1/customers/{id}/members/", "member_id"): ("member", "id"),
    ("/v1/customers/external/{external_id}/members/", "member_external_id"): ("member", "external_id"),
    ("/v1/wallets/", "id"): ("wallet", "id"),
    ("/v1/metrics/dashboards/", "id"): ("dashboard", "id"),
    ("/v1/disputes/", "id"): ("dispute", "id"),
    # No route takes a refund's ID, but the list is the refunds' own (for `id` filters).
    ("/v1/refunds/", "id"): ("refund", "id"),
}

# The customer portal's paths: (path up to the parameter, parameter) -> (kind, attribute).
PORTAL_PATH_IDS = {
    ("/v1/customer-portal/organizations/", "slug"): ("organization", "slug"),
    ("/v1/customer-portal/orders/", "id"): ("order", "id"),
    ("/v1/customer-portal/subscriptions/", "id"): ("subscription", "id"),
    ("/v1/customer-portal/license-keys/", "id"): ("license_key", "id"),
    ("/v1/customer-portal/meters/", "id"): ("customer_meter", "id"),
    ("/v1/customer-portal/seats/", "seat_id"): ("seat", "id"),
    ("/v1/customer-portal/benefit-grants/", "id"): ("benefit_grant", "id"),
    ("/v1/customer-portal/customers/me/payment-methods/", "id"): ("payment_method", "id"),
    ("/v1/customer-portal/members/", "id"): ("member", "id"),
    ("/v1/customer-portal/wallets/", "id"): ("wallet", "id"),
}

# Query parameters and body fields that name a resource -> (kind, attribute).
REFERENCES = {
    "customer_id": ("customer", "id"),
    "external_customer_id": ("customer", "external_id"),
    "meter_id": ("meter", "id"),
    "endpoint_id": ("webhook_endpoint", "id"),
    "parent_id": ("event", "id"),
    "benefit_id": ("benefit", "id"),
    "product_id": ("product", "id"),
    "discount_id": ("discount", "id"),
    "checkout_id": ("checkout", "id"),
    "order_id": ("order", "id"),
    "activation_id": ("license_key_activation", "id"),
    "subscription_id": ("subscription", "id"),
}

# List filters that name a resource or find one by its text; `ids` names the list's own kind.
QUERY_IDS = {
    **REFERENCES,
    "organization_id": ("organization", "id"),
    "slug": ("organization", "slug"),
    "email": ("customer", "email"),
    "query": ("customer", "external_id"),
}

EVENT_NAME = "sweep.tick"


def path_kind(path, parameter):
    """The kind and attribute a path parameter names, or None when no table entry has it."""
    prefix = path[: path.index("{" + parameter + "}")]
    return PATH_IDS.get((prefix, parameter)) or PORTAL_PATH_IDS.get((prefix, parameter))


def list_kind(path):
    """The kind a list returns, from its collection path (`/v1/files/` lists files)."""
    collection = path.rstrip("/") + "/"
    return next((kind for (prefix, param), (kind, attr) in PATH_IDS.items() if prefix == collection and attr == "id"), None)


class Tenant:
    """An organization, a token with every scope, and one of each resource."""

    def __init__(self, floe, receiver):
        self.floe = floe
        self.organization = floe.organization()
        self.slug = self.organization["slug"]
        self.token = floe.token(self.organization)
        self.http = client(floe.url, self.token)
        self.receiver = receiver
        self.resources = {"organization": self.organization}
        self.sessions = {}
        self.member_sessions = {}
        self.stranger = None
        for kind in KINDS:
            self.need(kind)

    def session_for(self, customer_id):
        """A customer session of one of this organization's customers (opened once)."""
        if customer_id not in self.sessions:
            opened = ok(self.http.post("/v1/customer-sessions/", json={"customer_id": customer_id}))
            self.sessions[customer_id] = opened["token"]
        return self.sessions[customer_id]

    def member_session_for(self, customer_id, role="owner"):
        """A member session of one of this organization's customers: its owner's, or a new
        member's with `role` (opened once each)."""
        key = (customer_id, role)
        if key not in self.member_sessions:
            customer = ok(self.http.get(f"/v1/customers/{customer_id}"))
            # The customer's own email is its owner (made on the first member operation).
            email = customer["email"] if role == "owner" else f"{role}-{uuid.uuid4().hex[:8]}@{self.slug}.example"
            member = ok(self.http.post(f"/v1/customers/{customer_id}/members", json={"email": email, "role": role}
                                       if role != "owner" else {"email": email}))
            assert member["role"] == role, member
            opened = ok(self.http.post("/v1/customer-sessions/", json={"customer_id": customer_id, "member_id": member["id"]}))
            assert opened["token"].startswith("polar_mst_"), opened
            self.member_sessions[key] = opened["token"]
        return self.member_sessions[key]

    def portal_session(self, op, customer_id):
        """The session `op` takes for a customer: its owner's member session where only
        members are served, else the customer's own."""
        if op is not None and op.member_session_only:
            return self.member_session_for(customer_id)
        return self.session_for(customer_id)

    def stranger_session(self, op=None):
        """A session of a customer of this organization that owns nothing: what it reaches
        of others' resources is a leak."""
        if self.stranger is None:
            self.stranger = make_customer(self)
        return self.portal_session(op, self.stranger["id"])

    def owner_of(self, kind, resource):
        """The customer that owns a resource, as the portal sees ownership (a seat is its
        subscription's customer's to manage), or None."""
        if kind == "customer":
            return resource["id"]
        if kind == "seat":
            return ok(self.http.get(f"/v1/subscriptions/{resource['subscription_id']}"))["customer_id"]
        return resource.get("customer_id")

    def make(self, kind):
        """Another resource of `kind`, for an operation that may change or delete it."""
        return KINDS[kind].make(self)

    def read(self, kind, resource):
        """How the owner sees a resource now (the comparison baseline)."""
        return KINDS[kind].read(self, resource)

    def snapshot(self):
        return {kind: self.read(kind, resource) for kind, resource in self.resources.items()}

    def value(self, kind, attribute):
        return self.resources[kind][attribute]

    def markers(self):
        """Strings that only this organization's data contains: any of them in another
        organization's response is a leak."""
        found = {self.slug, self.resources["customer"]["email"]}
        for resource in self.resources.values():
            for key in ("id", "external_id"):
                if isinstance(resource.get(key), str):
                    found.add(resource[key])
        return found

    def need(self, kind):
        """This tenant's resource of `kind`, made now if it is not there yet."""
        if kind not in self.resources:
            self.resources[kind] = KINDS[kind].make(self)
        return self.resources[kind]


def client(url, token):
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def ok(response, status=(200, 201)):
    assert response.status_code in status, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def wait_for(what, produce, timeout=20):
    deadline = time.time() + timeout
    while True:
        value = produce()
        if value is not None:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def find(http, path, id, **params):
    """An item of a list by ID, walking its pages."""
    page = 1
    while True:
        body = ok(http.get(path, params={**params, "limit": 100, "page": page}))
        for item in body["items"]:
            if item["id"] == id:
                return item
        if page >= body["pagination"]["max_page"]:
            return None
        page += 1


class Kind:
    def __init__(self, make, read):
        self.make = make
        self.read = read


def make_customer(t):
    """A team customer (so that it can have members besides its owner)."""
    tag = f"{t.slug}-{uuid.uuid4().hex[:8]}"
    return ok(t.http.post("/v1/customers/", json={"type": "team", "email": f"{tag}@example.com", "external_id": f"ext-{tag}",
                                                  "name": tag, "metadata": {"sweep": tag}}))


def make_file(t):
    data = f"sweep {t.slug} {uuid.uuid4()}".encode()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    upload = ok(t.http.post("/v1/files/", json={
        "service": "downloadable", "name": f"{t.slug}.txt", "mime_type": "text/plain", "size": len(data),
        "checksum_sha256_base64": sha,
        "upload": {"parts": [{"number": 1, "chunk_start": 0, "chunk_end": len(data), "checksum_sha256_base64": sha}]},
    }))
    part = upload["upload"]["parts"][0]
    put = httpx.put(part["url"], content=data, headers=part["headers"])
    assert put.status_code == 200, put.text
    return ok(t.http.post(f"/v1/files/{upload['id']}/uploaded", json={
        "id": upload["upload"]["id"], "path": upload["upload"]["path"],
        "parts": [{"number": 1, "checksum_etag": put.headers["etag"], "checksum_sha256_base64": sha}],
    }))


def make_meter(t):
    return ok(t.http.post("/v1/meters/", json={
        "name": f"{t.slug} ticks {uuid.uuid4().hex[:6]}",
        "filter": {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": EVENT_NAME}]},
        "aggregation": {"func": "count"},
    }))


def make_event(t):
    customer = t.need("customer")
    marker = uuid.uuid4().hex
    ok(t.http.post("/v1/events/ingest", json={"events": [
        {"name": EVENT_NAME, "external_customer_id": customer["external_id"], "external_id": marker, "metadata": {"sweep": marker}},
    ]}))
    return wait_for("the ingested event", lambda: next(
        (e for e in ok(t.http.get("/v1/events/", params={"limit": 100, "metadata[sweep]": marker}))["items"]
         if e["metadata"].get("sweep") == marker),
        None,
    ))


def make_event_type(t):
    t.need("event")
    return wait_for("the event type", lambda: next(
        (e for e in ok(t.http.get("/v1/event-types/", params={"limit": 100}))["items"] if e["name"] == EVENT_NAME), None
    ))


def make_customer_meter(t):
    t.need("event")
    meter, customer = t.need("meter"), t.need("customer")
    return wait_for("the customer meter", lambda: next(
        iter(ok(t.http.get("/v1/customer-meters/", params={"meter_id": meter["id"], "customer_id": customer["id"]}))["items"]), None
    ))


def make_webhook_endpoint(t):
    return ok(t.http.post("/v1/webhooks/endpoints", json={
        "url": t.receiver.url, "format": "raw", "events": ["customer.created", "customer.updated"],
    }))


def make_webhook_event(t):
    """A webhook event delivered to this organization's endpoint: a customer update."""
    endpoint = t.need("webhook_endpoint")
    customer = make_customer(t)
    ok(t.http.patch(f"/v1/customers/{customer['id']}", json={"name": f"{t.slug} renamed"}))
    delivery = wait_for("a delivered webhook", lambda: next(
        (d for d in ok(t.http.get("/v1/webhooks/deliveries", params={"endpoint_id": endpoint["id"], "limit": 100}))["items"]
         if d["succeeded"]), None,
    ))
    return delivery["webhook_event"]


def make_custom_field(t):
    return ok(t.http.post("/v1/custom-fields/", json={
        "type": "select", "slug": f"size-{uuid.uuid4().hex[:8]}", "name": f"{t.slug} size",
        "properties": {"options": [{"value": "s", "label": "Small"}, {"value": "m", "label": "Medium"}]},
    }))


def make_benefit(t):
    return ok(t.http.post("/v1/benefits/", json={
        "type": "custom", "description": f"{t.slug[:20]} perk", "properties": {"note": f"for {t.slug}"},
    }))


def make_product(t):
    return ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} plan", "recurring_interval": "month",
        "prices": [{"amount_type": "fixed", "price_amount": 1000}],
    }))


def make_discount(t):
    return ok(t.http.post("/v1/discounts/", json={
        "type": "percentage", "name": f"{t.slug[:40]} sale", "duration": "once", "basis_points": 1000,
        "code": f"SALE{uuid.uuid4().hex[:8]}",
    }))


def make_checkout(t):
    return ok(t.http.post("/v1/checkouts/", json={"products": [t.need("product")["id"]]}))


def make_order(t):
    """A one-time purchase paid with Stripe's test Visa."""
    product = ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} pack", "prices": [{"amount_type": "fixed", "price_amount": 500}]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [product["id"]]}))
    ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"buyer@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_visa"}))
    return ok(t.http.get("/v1/orders/", params={"checkout_id": checkout["id"]}))["items"][0]


def make_refund(t):
    """A partial refund of an order bought for it (the sweep's own order stays paid)."""
    order = make_order(t)
    return ok(t.http.post("/v1/refunds/", json={"order_id": order["id"], "amount": 100, "reason": "other",
                                                "metadata": {"sweep": t.slug}}))


def make_dispute(t):
    """A purchase with Stripe's 0259 test card, which the bank disputes once it is paid."""
    product = ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} disputed", "prices": [{"amount_type": "fixed", "price_amount": 800}]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [product["id"]]}))
    ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"disputer@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_createDispute"}))
    order = ok(t.http.get("/v1/orders/", params={"checkout_id": checkout["id"]}))["items"][0]
    return ok(t.http.get("/v1/disputes/", params={"order_id": order["id"]}))["items"][0]


def make_dashboard(t):
    return ok(t.http.post("/v1/metrics/dashboards/", json={"name": f"{t.slug} board", "metrics": ["revenue"]}))


def make_subscription(t):
    """A monthly subscription bought with Stripe's test Visa."""
    product = ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} monthly", "recurring_interval": "month",
        "prices": [{"amount_type": "fixed", "price_amount": 700}]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [product["id"]]}))
    ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"subscriber@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_visa"}))
    return ok(t.http.get("/v1/subscriptions/", params={"product_id": product["id"]}))["items"][0]


def make_wallet(t):
    """A customer's balance: a subscription moved at once (`reset`) to a much cheaper plan,
    whose unused part outweighs the new period's price."""
    prices = {}
    for amount in (5000, 300):
        prices[amount] = ok(t.http.post("/v1/products/", json={
            "name": f"{t.slug[:40]} {amount}", "recurring_interval": "month",
            "prices": [{"amount_type": "fixed", "price_amount": amount}]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [prices[5000]["id"]]}))
    ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"wallet@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_visa"}))
    subscription = ok(t.http.get("/v1/subscriptions/", params={"product_id": prices[5000]["id"]}))["items"][0]
    ok(t.http.patch(f"/v1/subscriptions/{subscription['id']}", json={
        "product_id": prices[300]["id"], "proration_behavior": "reset"}))
    [wallet] = ok(t.http.get("/v1/wallets/", params={"customer_id": subscription["customer_id"]}))["items"]
    assert wallet["balance"] > 0, wallet
    return wallet


def make_seat(t):
    """A pending seat of a seat-based subscription, assigned by email."""
    product = ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} team", "recurring_interval": "month",
        "prices": [{"amount_type": "seat_based", "seat_tiers": {"seat_tier_type": "volume", "tiers": [
            {"min_seats": 1, "max_seats": None, "price_per_seat": 300}]}}]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [product["id"]], "seats": 5}))
    ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"team@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_visa"}))
    subscription = ok(t.http.get("/v1/subscriptions/", params={"product_id": product["id"]}))["items"][0]
    return ok(t.http.post("/v1/customer-seats/", json={
        "subscription_id": subscription["id"], "email": f"seat-{uuid.uuid4().hex[:8]}@{t.slug}.example"}))


def read_seat(t, seat):
    listed = ok(t.http.get("/v1/customer-seats/", params={"subscription_id": seat["subscription_id"]}))
    return next((s for s in listed["seats"] if s["id"] == seat["id"]), None)


def make_seat_invitation(t):
    """A pending seat's invitation token, read from the mail floe wrote under its data dir
    (the sweep's floe has no SMTP server)."""
    seat = t.make("seat")
    mail_dir = os.path.join(t.floe.dir, "mail")
    deadline = time.time() + 20
    while time.time() < deadline:
        for name in sorted(os.listdir(mail_dir)) if os.path.isdir(mail_dir) else []:
            text = open(os.path.join(mail_dir, name), encoding="utf-8", errors="replace").read()
            if seat["email"] in text:
                match = re.search(r"(polar_cst_seat_\w+)", text)
                if match:
                    return {"id": seat["id"], "token": match.group(1), "seat": seat}
        time.sleep(0.05)
    raise AssertionError("no invitation mail for the sweep's seat")


def read_seat_invitation(t, invitation):
    found = t.http.get(f"/v1/customer-seats/claim/{invitation['token']}")
    return None if found.status_code != 200 else found.json()


def make_payment(t):
    return ok(t.http.get("/v1/payments/", params={"order_id": t.need("order")["id"]}))["items"][0]


def make_checkout_link(t):
    """A link offering the tenant's product with its discount: what another organization
    must not reach through it."""
    return ok(t.http.post("/v1/checkout-links/", json={
        "payment_processor": "stripe", "products": [t.need("product")["id"]], "discount_id": t.need("discount")["id"],
        "label": f"{t.slug[:40]} link", "success_url": "https://example.com/thanks", "metadata": {"sweep": t.slug},
    }))


def make_license_key(t):
    """A key issued by a paid order of a product with a license-keys benefit (granted by the
    worker after the payment), with room for the activations the sweep makes."""
    benefit = ok(t.http.post("/v1/benefits/", json={
        "type": "license_keys", "description": f"{t.slug[:20]} license",
        "properties": {"prefix": "SWEEP", "activations": {"limit": 50, "enable_customer_admin": False}}}))
    product = ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} app", "prices": [{"amount_type": "fixed", "price_amount": 900}]}))
    ok(t.http.post(f"/v1/products/{product['id']}/benefits", json={"benefits": [benefit["id"]]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [product["id"]]}))
    ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"licensee@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_visa"}))
    return wait_for("the issued license key", lambda: next(
        iter(ok(t.http.get("/v1/license-keys/", params={"benefit_id": benefit["id"]}))["items"]), None))


def make_license_key_activation(t):
    key = t.need("license_key")
    return ok(t.http.post("/v1/license-keys/activate", json={
        "key": key["key"], "organization_id": t.organization["id"], "label": f"{t.slug} host", "meta": {"sweep": t.slug}}))


def read_license_key_activation(t, activation):
    found = t.http.get(f"/v1/license-keys/{activation['license_key_id']}/activations/{activation['id']}")
    return None if found.status_code == 404 else ok(found)


def make_member(t):
    """A member of the tenant's (team) customer, with an external ID."""
    customer = t.need("customer")
    tag = uuid.uuid4().hex[:8]
    return ok(t.http.post(f"/v1/customers/{customer['id']}/members", json={
        "email": f"member-{tag}@{t.slug}.example", "name": f"{t.slug} member", "external_id": f"mem-{tag}",
        "role": "billing_manager"}))


def read_member(t, member):
    return find(t.http, "/v1/members/", member["id"], customer_id=member["customer_id"])


def make_benefit_grant(t):
    """The license key's grant (its customer's)."""
    key = t.need("license_key")
    return wait_for("the license key's grant", lambda: next(
        iter(ok(t.http.get("/v1/benefit-grants/", params={"customer_id": key["customer_id"]}))["items"]), None))


def make_payment_method(t):
    """A card saved by a new customer's monthly purchase."""
    product = ok(t.http.post("/v1/products/", json={
        "name": f"{t.slug[:40]} card plan", "recurring_interval": "month",
        "prices": [{"amount_type": "fixed", "price_amount": 300}]}))
    checkout = ok(t.http.post("/v1/checkouts/", json={"products": [product["id"]]}))
    confirmed = ok(t.http.post(f"/v1/checkouts/client/{checkout['client_secret']}/confirm", json={
        "customer_email": f"card-{uuid.uuid4().hex[:8]}@{t.slug}.example", "customer_billing_address": {"country": "FR"},
        "confirmation_token_id": "pm_card_visa"}))
    return ok(t.http.get(f"/v1/customers/{confirmed['customer_id']}/payment-methods"))["items"][0]


def read_payment_method(t, method):
    return find(t.http, f"/v1/customers/{method['customer_id']}/payment-methods", method["id"])


def read_webhook_event(t, event):
    """The event's deliveries (a redelivery adds one)."""
    deliveries = ok(t.http.get("/v1/webhooks/deliveries", params={"limit": 100}))["items"]
    return sorted((d for d in deliveries if d["webhook_event"]["id"] == event["id"]), key=lambda d: d["id"])


def read_customer(t, customer):
    found = t.http.get(f"/v1/customers/{customer['id']}")
    if found.status_code == 404:
        return None
    return {"customer": ok(found), "state": ok(t.http.get(f"/v1/customers/{customer['id']}/state"))}


def getter(path):
    def read(t, resource):
        found = t.http.get(path.format(id=resource["id"]))
        return None if found.status_code == 404 else ok(found)

    return read


def lister(path):
    return lambda t, resource: find(t.http, path, resource["id"])


# Order matters only where one kind needs another made first (the meter before the event
# it counts).
KINDS = {
    "customer": Kind(make_customer, read_customer),
    "file": Kind(make_file, lambda t, f: find(t.http, "/v1/files/", f["id"], ids=f["id"])),
    "meter": Kind(make_meter, getter("/v1/meters/{id}")),
    "event": Kind(make_event, getter("/v1/events/{id}")),
    "event_type": Kind(make_event_type, lister("/v1/event-types/")),
    "customer_meter": Kind(make_customer_meter, getter("/v1/customer-meters/{id}")),
    "webhook_endpoint": Kind(make_webhook_endpoint, getter("/v1/webhooks/endpoints/{id}")),
    "webhook_event": Kind(make_webhook_event, read_webhook_event),
    "custom_field": Kind(make_custom_field, getter("/v1/custom-fields/{id}")),
    "benefit": Kind(make_benefit, getter("/v1/benefits/{id}")),
    "product": Kind(make_product, getter("/v1/products/{id}")),
    "discount": Kind(make_discount, getter("/v1/discounts/{id}")),
    "checkout": Kind(make_checkout, getter("/v1/checkouts/{id}")),
    "order": Kind(make_order, getter("/v1/orders/{id}")),
    "subscription": Kind(make_subscription, getter("/v1/subscriptions/{id}")),
    "seat": Kind(make_seat, read_seat),
    "seat_invitation": Kind(make_seat_invitation, read_seat_invitation),
    "payment": Kind(make_payment, getter("/v1/payments/{id}")),
    "checkout_link": Kind(make_checkout_link, getter("/v1/checkout-links/{id}")),
    "license_key": Kind(make_license_key, getter("/v1/license-keys/{id}")),
    "license_key_activation": Kind(make_license_key_activation, read_license_key_activation),
    "benefit_grant": Kind(make_benefit_grant, lister("/v1/benefit-grants/")),
    "member": Kind(make_member, read_member),
    "payment_method": Kind(make_payment_method, read_payment_method),
    "wallet": Kind(make_wallet, getter("/v1/wallets/{id}")),
    "refund": Kind(make_refund, lister("/v1/refunds/")),
    "dispute": Kind(make_dispute, getter("/v1/disputes/{id}")),
    "dashboard": Kind(make_dashboard, getter("/v1/metrics/dashboards/{id}")),
    "organization": Kind(lambda t: t.organization, getter("/v1/organizations/{id}")),
}


class World:
    """Two tenants on one floe: `a` owns what `b` must not reach."""

    def __init__(self, floe):
        self.floe = floe
        self.receiver = Receiver()
        self.a = Tenant(floe, self.receiver)
        self.b = Tenant(floe, self.receiver)

    def close(self):
        self.receiver.stop()
