"""Webhooks through the official Python SDK: every endpoint and delivery operation, and
delivery itself against a real receiver on 127.0.0.1 that checks each request with the
SDK's `validate_event`: signatures, order, retries, auto-disable, redelivery, chat
formats, rollbacks, restarts, `kill -9` and two floe processes on one database."""

import time
import uuid

import httpx
import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver

CUSTOMER_EVENTS = ["customer.created", "customer.updated", "customer.deleted", "customer.state_changed"]
# Fast retries, a short timeout and lease: the schedule's shape, not its production length.
FAST = {
    "FLOE_ALLOW_PRIVATE_WEBHOOKS": "1",
    "FLOE_WEBHOOK_RETRY_BASE_MS": "20",
    "FLOE_WEBHOOK_RETRY_CAP_MS": "100",
    "FLOE_WEBHOOK_TIMEOUT_MS": "2000",
    "FLOE_WEBHOOK_LEASE_MS": "3000",
}


def email():
    return f"w-{uuid.uuid4().hex[:10]}@example.com"


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


@pytest.fixture(scope="module")
def hooked():
    """A floe that may deliver to 127.0.0.1, with fast retries."""
    server = Floe(env=FAST)
    yield server
    server.stop()


class Tenant:
    def __init__(self, floe):
        self.floe = floe
        self.organization = floe.organization()
        self.token = floe.token(self.organization)
        self.polar = floe.client(self.token)
        self.receiver = Receiver()

    def endpoint(self, events=CUSTOMER_EVENTS, format="raw", url=None):
        return self.polar.webhooks.create_webhook_endpoint(url=url or self.receiver.url, format=format, events=events)


@pytest.fixture
def tenant(hooked):
    t = Tenant(hooked)
    yield t
    t.receiver.stop()


def recorded(tenant, endpoint_id, count):
    """The endpoint's deliveries once `count` are recorded: floe records a run of sends just
    after it ends, so the receiver can see a request a moment before the log shows it."""
    deadline = time.time() + 10
    while True:
        deliveries = tenant.polar.webhooks.list_webhook_deliveries(endpoint_id=endpoint_id, limit=100)
        if deliveries.pagination.total_count >= count or time.time() > deadline:
            return deliveries
        time.sleep(0.05)


def check(delivery, secret):
    """The SDK accepts the delivery; returns the typed payload."""
    headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    return validate_event(delivery.body, headers, secret)


# --- endpoints ---------------------------------------------------------------------------


def test_endpoint_crud(org):
    polar = org.polar
    created = polar.webhooks.create_webhook_endpoint(
        url="https://hooks.example.com/polar", name="main", format="raw", events=["customer.created", "customer.created"]
    )
    assert created.secret.startswith("whsec_")
    assert created.events == ["customer.created"]
    assert created.enabled is True and created.name == "main"
    assert created.api_version == "2026-10"
    assert created.uses_standard_webhook_signature is False
    older = polar.webhooks.create_webhook_endpoint(url="https://hooks.example.com/old", format="slack", events=[], api_version="2026-04")
    assert older.api_version == "2026-04" and older.format == "slack"

    listed = polar.webhooks.list_webhook_endpoints()
    assert [e.id for e in listed.items] == [created.id, older.id]
    assert polar.webhooks.get_webhook_endpoint(created.id).secret == created.secret

    updated = polar.webhooks.update_webhook_endpoint(
        created.id, url="https://hooks.example.com/v2", events=["organization.updated"], format="discord", name="renamed", enabled=False
    )
    assert (updated.url, updated.events, updated.format, updated.name, updated.enabled) == (
        "https://hooks.example.com/v2", ["organization.updated"], "discord", "renamed", False
    )
    reset = polar.webhooks.reset_webhook_endpoint_secret(created.id)
    assert reset.secret.startswith("whsec_") and reset.secret != created.secret
    assert polar.webhooks.get_webhook_endpoint(created.id).secret == reset.secret

    polar.webhooks.delete_webhook_endpoint(created.id)
    with pytest.raises(ResourceNotFound):
        polar.webhooks.get_webhook_endpoint(created.id)
    assert [e.id for e in polar.webhooks.list_webhook_endpoints().items] == [older.id]


def test_endpoint_validation(org):
    cases = [
        (dict(url="https://hooks.example.com", format="raw", events=["customer.created", "nope"]), ["body", "events", 1]),
        (dict(url="https://hooks.example.com", format="xml", events=[]), ["body", "format"]),
        (dict(url="http://hooks.example.com", format="raw", events=[]), ["body", "url"]),
        (dict(url="not a url", format="raw", events=[]), ["body", "url"]),
        (dict(url="https://hooks.example.com", format="raw", events=[], organization_id=str(uuid.uuid4())), ["body", "organization_id"]),
        (dict(url="https://hooks.example.com", format="raw", events=[], api_version="1999-01"), ["body", "api_version"]),
    ]
    for body, loc in cases:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.webhooks.create_webhook_endpoint(**body)
        assert loc in locs(error), (body, locs(error))


def test_private_addresses_are_refused_by_default(org):
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://10.0.0.1/hook",
        "https://192.168.1.20/hook",
        "https://metadata.google.internal/",
        "https://vm/hook",  # this machine's own name, which resolves to 127.0.0.1
    ]:
        with pytest.raises(HTTPValidationError) as error:
            org.polar.webhooks.create_webhook_endpoint(url=url, format="raw", events=[])
        assert ["body", "url"] in locs(error), url
    endpoint = org.polar.webhooks.create_webhook_endpoint(url="https://hooks.example.com/a", format="raw", events=[])
    with pytest.raises(HTTPValidationError):
        org.polar.webhooks.update_webhook_endpoint(endpoint.id, url="https://127.0.0.1/")


def test_scopes_and_tenancy(floe, org):
    endpoint = org.polar.webhooks.create_webhook_endpoint(url="https://hooks.example.com/t", format="raw", events=[])
    reader = floe.client(floe.token(org.organization, "webhooks:read"))
    assert reader.webhooks.get_webhook_endpoint(endpoint.id).id == endpoint.id
    with pytest.raises(PolarClientError) as error:
        reader.webhooks.create_webhook_endpoint(url="https://hooks.example.com", format="raw", events=[])
    assert error.value.status_code == 403
    with pytest.raises(PolarClientError) as error:
        reader.webhooks.redeliver_webhook_event(str(uuid.uuid4()))
    assert error.value.status_code == 403
    nobody = floe.client(floe.token(org.organization, "customers:read"))
    with pytest.raises(PolarClientError) as error:
        nobody.webhooks.list_webhook_deliveries()
    assert error.value.status_code == 403
    assert httpx.get(f"{org.url}/v1/webhooks/endpoints").status_code == 401

    other = floe.client(floe.token(floe.organization()))
    assert other.webhooks.list_webhook_endpoints().items == []
    for call in (
        lambda: other.webhooks.get_webhook_endpoint(endpoint.id),
        lambda: other.webhooks.update_webhook_endpoint(endpoint.id, name="x"),
        lambda: other.webhooks.reset_webhook_endpoint_secret(endpoint.id),
        lambda: other.webhooks.delete_webhook_endpoint(endpoint.id),
        lambda: other.webhooks.redeliver_webhook_event(str(uuid.uuid4())),
    ):
        with pytest.raises(ResourceNotFound):
            call()


# --- delivery ----------------------------------------------------------------------------


def test_deliveries_are_signed_typed_and_in_order(tenant):
    endpoint = tenant.endpoint(events=CUSTOMER_EVENTS + ["organization.updated"])
    customer = tenant.polar.customers.create(email=email(), name="Ada")
    tenant.polar.customers.update(customer.id, name="Ada L.")
    tenant.polar.customers.delete(customer.id)
    tenant.polar.organizations.update(tenant.organization["id"])  # no change, no event
    tenant.polar.organizations.update(tenant.organization["id"], name="Renamed Org")
    got = tenant.receiver.wait_for(7)
    payloads = [check(d, endpoint.secret) for d in got]
    assert [p.type for p in payloads] == [
        "customer.created", "customer.state_changed",
        "customer.updated", "customer.state_changed",
        "customer.deleted", "customer.state_changed",
        "organization.updated",
    ]
    assert [type(p).__name__ for p in payloads[:2]] == ["WebhookCustomerCreatedPayload", "WebhookCustomerStateChangedPayload"]
    assert all(p.data.id == customer.id for p in payloads[:6])
    assert payloads[2].data.name == "Ada L."
    assert payloads[4].data.deleted_at is not None
    assert payloads[1].data.active_subscriptions == []
    assert payloads[6].data.name == "Renamed Org"
    assert all(p.api_version == "2026-10" for p in payloads)
    assert len({d.id for d in got}) == 7
    time.sleep(0.3)
    assert len(tenant.receiver.all()) == 7
    assert all(d.headers["user-agent"] == "floe webhooks" for d in got)
    # A wrong secret does not verify.
    with pytest.raises(Exception):
        check(got[0], "whsec_wrong")


def test_many_events_arrive_in_the_order_they_happened(tenant):
    tenant.endpoint(events=["customer.created"])
    made = [tenant.polar.customers.create(email=email()).id for _ in range(15)]
    got = tenant.receiver.wait_for(15)
    assert [d.json["data"]["id"] for d in got] == made


def test_failures_are_retried_with_the_same_id_and_recorded(tenant):
    endpoint = tenant.endpoint(events=["customer.created"])
    tenant.receiver.fail_first = 3
    customer = tenant.polar.customers.create(email=email())
    tenant.receiver.wait_for(1)
    attempts = tenant.receiver.all()
    assert len(attempts) == 4 and len({d.id for d in attempts}) == 1
    assert check(attempts[-1], endpoint.secret).data.id == customer.id

    deliveries = recorded(tenant, endpoint.id, 4)
    assert deliveries.pagination.total_count == 4
    newest = deliveries.items[0]
    assert newest.succeeded is True and newest.http_code == 200 and newest.response == "ok"
    assert newest.webhook_event.succeeded is True and newest.webhook_event.type == "customer.created"
    assert newest.webhook_event.id == attempts[0].id
    failed = tenant.polar.webhooks.list_webhook_deliveries(endpoint_id=endpoint.id, succeeded=False)
    assert failed.pagination.total_count == 3
    assert all(d.http_code == 500 and "receiver told to fail" in d.response for d in failed.items)
    assert tenant.polar.webhooks.list_webhook_deliveries(http_code_class="5xx").pagination.total_count == 3
    assert tenant.polar.webhooks.list_webhook_deliveries(http_code_class="2xx").pagination.total_count == 1
    assert tenant.polar.webhooks.list_webhook_deliveries(event_type="customer.created").pagination.total_count == 4
    assert tenant.polar.webhooks.list_webhook_deliveries(event_type=["customer.updated"]).pagination.total_count == 0
    assert tenant.polar.webhooks.list_webhook_deliveries(query=attempts[0].id).pagination.total_count == 4
    future = "2100-01-01T00:00:00Z"
    assert tenant.polar.webhooks.list_webhook_deliveries(start_timestamp=future).pagination.total_count == 0
    assert tenant.polar.webhooks.list_webhook_deliveries(end_timestamp=future).pagination.total_count == 4
    raw = httpx.get(f"{tenant.floe.url}/v1/webhooks/deliveries?limit=1", headers={"Authorization": f"Bearer {tenant.token}"}).json()
    assert raw["items"][0]["duration_ms"] >= 0
    with pytest.raises(HTTPValidationError):
        tenant.polar.webhooks.list_webhook_deliveries(start_timestamp="yesterday")


def test_a_failure_in_a_run_of_queued_events_holds_back_the_rest(tenant):
    """The worker sends a queue in runs and records each run at once: a failure in the
    middle of one is recorded with the successes before it, and the events behind it wait
    for its retry."""
    endpoint = tenant.endpoint(events=["customer.created"])
    # The first attempt fails, so the others queue up behind its retry; the 5th fails too.
    tenant.receiver.fail_on = {1, 5}
    made = [tenant.polar.customers.create(email=email()).id for _ in range(10)]
    got = tenant.receiver.wait_for(10)
    assert [d.json["data"]["id"] for d in got] == made
    attempts = [d.json["data"]["id"] for d in tenant.receiver.all()]
    assert len(attempts) == 12
    assert attempts[0] == attempts[1] == made[0]
    # The 5th attempt failed; the same event is the 6th, and nothing overtook it.
    assert attempts[4] == attempts[5]
    log = recorded(tenant, endpoint.id, 12)
    assert log.pagination.total_count == 12
    assert sum(1 for d in log.items if not d.succeeded) == 2
    assert {d.webhook_event.id for d in log.items if d.succeeded} == {d.id for d in got}
    assert all(d.webhook_event.succeeded for d in log.items)


def test_redirects_are_not_followed(tenant):
    endpoint = tenant.endpoint(events=["customer.created"])
    tenant.receiver.fail_first = 1
    tenant.receiver.status_on_failure = 307
    tenant.polar.customers.create(email=email())
    tenant.receiver.wait_for(1)
    attempts = tenant.receiver.all()
    # The 307 was one failed attempt, retried at the same URL, not a hop to its Location.
    assert len(attempts) == 2 and len({d.id for d in attempts}) == 1
    assert [d.path for d in attempts] == ["/hook", "/hook"]
    first = tenant.polar.webhooks.list_webhook_deliveries(endpoint_id=endpoint.id, succeeded=False).items
    assert [d.http_code for d in first] == [307]


def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_reenabled(tenant):
    endpoint = tenant.endpoint(events=["customer.created"])
    tenant.receiver.always_fail = True
    for _ in range(12):
        tenant.polar.customers.create(email=email())
    deadline = time.time() + 60
    while tenant.polar.webhooks.get_webhook_endpoint(endpoint.id).enabled and time.time() < deadline:
        time.sleep(0.2)
    assert tenant.polar.webhooks.get_webhook_endpoint(endpoint.id).enabled is False
    attempts = tenant.receiver.all()
    assert len({d.id for d in attempts}) == 10  # ten events failed for good
    assert len(attempts) == 100  # ten attempts each
    # The two events still queued were skipped, not sent.
    skipped = tenant.floe.sql(f"SELECT COUNT(*) FROM webhook_events WHERE endpoint_id = '{endpoint.id}' AND skipped")
    if skipped == [("0",)]:  # SQLite stores UUIDs as blobs
        skipped = tenant.floe.sql(
            f"SELECT COUNT(*) FROM webhook_events WHERE hex(endpoint_id) = '{endpoint.id.replace('-', '').upper()}' AND skipped"
        )
    assert skipped == [("2",)]
    tenant.polar.customers.create(email=email())
    time.sleep(1)
    assert len(tenant.receiver.all()) == 100  # nothing goes to a disabled endpoint

    tenant.receiver.always_fail = False
    tenant.polar.webhooks.update_webhook_endpoint(endpoint.id, enabled=True)
    customer = tenant.polar.customers.create(email=email())
    got = tenant.receiver.wait_for(1)
    assert got[0].json["data"]["id"] == customer.id


def test_redelivery_sends_the_same_event_again(tenant):
    endpoint = tenant.endpoint(events=["customer.created"])
    tenant.polar.customers.create(email=email())
    first = tenant.receiver.wait_for(1)[0]
    assert tenant.polar.webhooks.redeliver_webhook_event(first.id) is None
    second = tenant.receiver.wait_for(2)[1]
    assert second.id == first.id and second.body == first.body
    check(second, endpoint.secret)
    with pytest.raises(ResourceNotFound):
        tenant.polar.webhooks.redeliver_webhook_event(str(uuid.uuid4()))


def test_a_rolled_back_change_sends_nothing(tenant):
    tenant.endpoint(events=["customer.created"])
    first = tenant.polar.customers.create(email=email())
    with pytest.raises(HTTPValidationError):
        tenant.polar.customers.create(email=first.email)  # the insert fails; the transaction rolls back
    second = tenant.polar.customers.create(email=email())
    got = tenant.receiver.wait_for(2)
    time.sleep(0.5)
    assert [d.json["data"]["id"] for d in tenant.receiver.all()] == [first.id, second.id]


def test_chat_formats_get_short_messages_and_skip_the_rest(tenant):
    slack = Receiver()
    try:
        tenant.endpoint(format="discord")
        tenant.endpoint(format="slack", url=slack.url)
        tenant.polar.customers.create(email=email(), name="Grace Hopper")
        discord_got = tenant.receiver.wait_for(1)
        slack_got = slack.wait_for(1)
        time.sleep(0.5)
        assert len(tenant.receiver.all()) == 1 and len(slack.all()) == 1  # no state_changed
        assert "Grace Hopper" in discord_got[0].json["embeds"][0]["description"]
        assert slack_got[0].json["text"] == "New customer"
        assert slack_got[0].json["blocks"][0]["type"] == "section"
    finally:
        slack.stop()


def test_pending_events_are_delivered_after_a_restart(own_floe):
    server = own_floe(env={**FAST, "FLOE_NO_WORKERS": "1"})
    tenant = Tenant(server)
    try:
        tenant.endpoint(events=["customer.created"])
        made = [tenant.polar.customers.create(email=email()).id for _ in range(3)]
        time.sleep(1)
        assert tenant.receiver.all() == []  # nobody delivers
        server.restart(unset=["FLOE_NO_WORKERS"])
        got = tenant.receiver.wait_for(3)
        assert [d.json["data"]["id"] for d in got] == made
    finally:
        tenant.receiver.stop()


def test_kill_9_during_a_delivery_loses_no_event(own_floe):
    server = own_floe(env=FAST)
    tenant = Tenant(server)
    try:
        tenant.endpoint(events=["customer.created"])
        tenant.receiver.hang_seconds = 1.0
        made = [tenant.polar.customers.create(email=email()).id for _ in range(3)]
        tenant.receiver.wait_for(1, accepted=False)  # the first send is in flight
        server.kill()
        tenant.receiver.hang_seconds = 0
        server.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            ids = {d.json["data"]["id"] for d in tenant.receiver.accepted()}
            if ids >= set(made):
                break
            time.sleep(0.1)
        got = tenant.receiver.accepted()
        assert {d.json["data"]["id"] for d in got} == set(made)
        first_seen = []
        for d in got:
            if d.json["data"]["id"] not in first_seen:
                first_seen.append(d.json["data"]["id"])
        assert first_seen == made  # still in order
        # At least once: a repeat carries the same webhook-id as the original.
        by_customer = {}
        for d in got:
            by_customer.setdefault(d.json["data"]["id"], set()).add(d.id)
        assert all(len(ids) == 1 for ids in by_customer.values())
    finally:
        tenant.receiver.stop()


def test_two_processes_deliver_each_event_once(own_floe):
    first = own_floe(env=FAST)
    own_floe(env=FAST, twin_of=first)
    tenant = Tenant(first)
    try:
        tenant.endpoint(events=["customer.created"])
        made = [tenant.polar.customers.create(email=email()).id for _ in range(20)]
        got = tenant.receiver.wait_for(20)
        time.sleep(1.5)
        got = tenant.receiver.all()
        assert len(got) == 20 and len({d.id for d in got}) == 20
        assert [d.json["data"]["id"] for d in got] == made
    finally:
        tenant.receiver.stop()


def test_idempotent_endpoint_creation(org):
    headers = {"Authorization": f"Bearer {org.token}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"url": "https://hooks.example.com/once", "format": "raw", "events": ["customer.created"]}
    first = httpx.post(f"{org.url}/v1/webhooks/endpoints", json=body, headers=headers)
    again = httpx.post(f"{org.url}/v1/webhooks/endpoints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # same endpoint, same secret
    urls = [e.url for e in org.polar.webhooks.list_webhook_endpoints(limit=100).items]
    assert urls.count("https://hooks.example.com/once") == 1
