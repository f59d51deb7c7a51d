"""Benefits through the official Python SDK: every type with its properties, what they
point at (downloadable files and meters of the same organization), visibility, updates
that keep the type, deletion, the list's filters and sorting, and `benefit.created` /
`benefit.updated` accepted by the SDK's `validate_event`. (Tenancy, scopes and fuzzing of
these operations come from the contract sweep.)"""

import base64
import json
import uuid

import httpx
import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver
from test_files import upload_file


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


@pytest.fixture(scope="module")
def hooked():
    """A floe that may deliver to 127.0.0.1."""
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield server
    server.stop()


@pytest.fixture
def shop(hooked):
    organization = hooked.organization()
    token = hooked.token(organization)
    return hooked.client(token)


def meter(polar):
    return polar.meters.create(name=f"tokens {uuid.uuid4().hex[:6]}", aggregation={"func": "sum", "property": "tokens"},
                               filter={"conjunction": "and", "clauses": []})


def guild_token(guild_id):
    claims = base64.urlsafe_b64encode(json.dumps({"guild_id": guild_id}).encode()).decode().rstrip("=")
    return f"e30.{claims}.signature"


def test_every_type_round_trips(shop):
    file = upload_file(shop, b"the manual", name="manual.pdf", mime="application/pdf")
    credits = meter(shop)
    made = [
        shop.benefits.create(type="custom", description="Priority support", properties={"note": "Mail us"}),
        shop.benefits.create(type="feature_flag", description="Beta access", properties={}, metadata={"flag": "beta"}),
        shop.benefits.create(type="license_keys", description="A license", properties={
            "prefix": "ACME", "expires": {"ttl": 1, "timeframe": "year"},
            "activations": {"limit": 3, "enable_customer_admin": True}, "limit_usage": 100}),
        shop.benefits.create(type="downloadables", description="The manual", properties={"files": [file.id]}),
        shop.benefits.create(type="meter_credit", description="1,000 tokens", properties={
            "units": 1000, "rollover": True, "meter_id": credits.id}),
        shop.benefits.create(type="github_repository", description="Source access", properties={
            "repository_owner": "acme", "repository_name": "engine", "permission": "pull"}),
        shop.benefits.create(type="discord", description="Discord role", properties={
            "guild_token": guild_token("4242"), "role_id": "77", "kick_member": False}),
    ]
    custom, flag, keys, downloads, meter_credit, github, discord = made
    assert custom.properties.note == "Mail us" and custom.visibility == "public"
    assert flag.visibility == "private" and flag.metadata == {"flag": "beta"}  # flags are for code
    assert keys.properties.prefix == "ACME" and keys.properties.activations.limit == 3
    assert keys.properties.expires.timeframe == "year" and keys.properties.limit_usage == 100
    assert downloads.properties.files == [file.id] and downloads.properties.archived == {}
    assert downloads.visibility_configurable is False
    assert meter_credit.properties.units == 1000 and meter_credit.properties.meter_id == credits.id
    assert github.properties.permission == "pull"
    assert discord.properties.guild_id == "4242"
    for benefit in made:
        assert benefit.selectable and benefit.deletable and not benefit.is_deleted
        assert shop.benefits.get(benefit.id).description == benefit.description


def test_what_properties_point_at_must_be_the_organizations(hooked, shop):
    other = hooked.client(hooked.token(hooked.organization()))
    theirs = upload_file(other, b"not yours", name="x.bin")
    their_meter = meter(other)
    media = upload_file(shop, b"\x89PNG\r\n\x1a\n" + b"\0" * 32, name="a.png", mime="image/png", service="product_media")
    with pytest.raises(HTTPValidationError) as refused:
        shop.benefits.create(type="downloadables", description="Files", properties={"files": [theirs.id, media.id, str(uuid.uuid4())]})
    assert locs(refused) == [["body", "properties", "files", 0], ["body", "properties", "files", 1], ["body", "properties", "files", 2]]
    with pytest.raises(HTTPValidationError) as refused:
        shop.benefits.create(type="meter_credit", description="Credits", properties={"units": 5, "rollover": False, "meter_id": their_meter.id})
    assert locs(refused) == [["body", "properties", "meter_id"]]
    assert shop.benefits.list().pagination.total_count == 0  # nothing half-made


def test_validation_names_the_field(shop):
    cases = [
        ({"type": "custom", "description": "ab", "properties": {}}, [["body", "custom", "description"]]),
        ({"type": "license_keys", "description": "Keys", "properties": {"expires": {"ttl": 0, "timeframe": "week"}}},
         [["body", "license_keys", "properties", "expires", "ttl"], ["body", "license_keys", "properties", "expires", "timeframe"]]),
        ({"type": "downloadables", "description": "Files", "properties": {"files": []}},
         [["body", "downloadables", "properties", "files"]]),
        ({"type": "meter_credit", "description": "Credits", "properties": {"units": 0, "rollover": True, "meter_id": "nope"}},
         [["body", "meter_credit", "properties", "units"], ["body", "meter_credit", "properties", "meter_id"]]),
        ({"type": "github_repository", "description": "Repo", "properties": {"repository_owner": "a", "repository_name": "b", "permission": "root"}},
         [["body", "github_repository", "properties", "permission"]]),
        ({"type": "custom", "description": "Note", "properties": {}, "organization_id": str(uuid.uuid4())},
         [["body", "organization_id"]]),
    ]
    for body, expected in cases:
        with pytest.raises(HTTPValidationError) as refused:
            shop.benefits.create(**body)
        assert locs(refused) == expected, body


def test_update_keeps_the_type_and_delete_hides(shop):
    benefit = shop.benefits.create(type="license_keys", description="Keys", properties={"prefix": "A"})
    updated = shop.benefits.update(benefit.id, type="license_keys", description="Better keys",
                                   properties={"prefix": "B", "limit_usage": 5}, visibility="draft")
    assert updated.description == "Better keys" and updated.properties.prefix == "B" and updated.visibility == "draft"
    assert updated.modified_at is not None
    with pytest.raises(PolarClientError) as refused:
        shop.benefits.update(benefit.id, type="custom", description="Note")
    assert refused.value.status_code == 400 and "can't be changed" in str(refused.value.error)
    # A type whose visibility is fixed keeps it.
    file = upload_file(shop, b"x", name="x.bin")
    files = shop.benefits.create(type="downloadables", description="Files", properties={"files": [file.id]}, visibility="draft")
    assert files.visibility == "public"
    shop.benefits.delete(benefit.id)
    with pytest.raises(ResourceNotFound):
        shop.benefits.get(benefit.id)
    with pytest.raises(ResourceNotFound):
        shop.benefits.update(benefit.id, type="license_keys", description="Again")
    assert benefit.id not in [b.id for b in shop.benefits.list(limit=100).items]


def test_list_filters_and_sorting(shop):
    tag = uuid.uuid4().hex[:6]
    first = shop.benefits.create(type="custom", description=f"Alpha {tag}", properties={}, metadata={"tier": "gold"})
    second = shop.benefits.create(type="feature_flag", description=f"Beta {tag}", properties={})
    third = shop.benefits.create(type="custom", description=f"Gamma {tag}", properties={})
    assert [b.id for b in shop.benefits.list(query=tag).items] == [third.id, second.id, first.id]  # newest first
    assert [b.id for b in shop.benefits.list(query=tag, sorting=["user_order"]).items] == [first.id, second.id, third.id]
    assert [b.id for b in shop.benefits.list(query=tag, sorting=["-description"]).items] == [third.id, second.id, first.id]
    assert [b.id for b in shop.benefits.list(query=tag, type="feature_flag").items] == [second.id]
    assert [b.id for b in shop.benefits.list(id=[first.id, third.id], sorting=["created_at"]).items] == [first.id, third.id]
    assert [b.id for b in shop.benefits.list(query=tag, exclude_id=second.id, sorting=["created_at"]).items] == [first.id, third.id]
    assert [b.id for b in shop.benefits.list(metadata={"tier": "gold"}).items] == [first.id]
    with pytest.raises(HTTPValidationError) as refused:
        shop.benefits.list(type="colour")
    assert locs(refused) == [["query", "type", 0]]


def test_webhooks_are_typed_by_the_sdk(hooked):
    organization = hooked.organization()
    polar = hooked.client(hooked.token(organization))
    receiver = Receiver()
    try:
        endpoint = polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw", events=["benefit.created", "benefit.updated"])
        benefit = polar.benefits.create(type="license_keys", description="Keys", properties={"prefix": "K"})
        polar.benefits.update(benefit.id, type="license_keys", description="New keys")
        polar.benefits.update(benefit.id, type="license_keys")  # nothing changes: no event
        got = receiver.wait_for(2)
        payloads = []
        for delivery in got:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            payloads.append(validate_event(delivery.body, headers, endpoint.secret))
        assert [p.type for p in payloads] == ["benefit.created", "benefit.updated"]
        assert payloads[0].data.id == benefit.id and payloads[0].data.properties.prefix == "K"
        assert payloads[1].data.description == "New keys"
    finally:
        receiver.stop()


def test_downloadables_list_their_files_in_order(hooked, shop):
    first = upload_file(shop, b"part one", name="one.txt", mime="text/plain")
    second = upload_file(shop, b"part two", name="two.txt", mime="text/plain")
    benefit = shop.benefits.create(type="downloadables", description="Two parts", properties={"files": [second.id, first.id]})
    listed = shop.benefits.files(benefit.id)
    assert [f.id for f in listed.items] == [second.id, first.id]
    assert listed.items[0].name == "two.txt" and listed.items[0].downloads == 0
    assert [f.id for f in shop.benefits.files(benefit.id, limit=1, page=2).items] == [first.id]
    other = shop.benefits.create(type="custom", description="No files", properties={})
    assert shop.benefits.files(other.id).pagination.total_count == 0
    with pytest.raises(ResourceNotFound):
        shop.benefits.files(str(uuid.uuid4()))


def sql_uuid(server, value):
    return f"X'{uuid.UUID(str(value)).hex}'" if server.pg_db is None else f"'{value}'"


def grant(server, organization_id, benefit_id, customer_id, scope, granted=True, revoked=False, at="2026-12-01T10:00:00+00:00"):
    """A grant row as purchases will write them (floe grants nothing by itself yet)."""
    u = lambda v: sql_uuid(server, v)  # noqa: E731
    granted_at = f"'{at}'" if granted and not revoked else "NULL"
    revoked_at = f"'{at}'" if revoked else "NULL"
    grant_id = uuid.uuid4()
    server.sql(
        "INSERT INTO benefit_grants (id, created_at, modified_at, organization_id, benefit_id, customer_id, member_id, "
        "subscription_id, order_id, scope_key, granted_at, revoked_at, properties, error) VALUES "
        f"({u(grant_id)}, '{at}', NULL, {u(organization_id)}, {u(benefit_id)}, {u(customer_id)}, NULL, NULL, NULL, "
        f"'{scope}', {granted_at}, {revoked_at}, '{{}}', NULL)"
    )
    return str(grant_id)


def test_grants_are_listed_with_their_customer_and_benefit(hooked):
    organization = hooked.organization()
    polar = hooked.client(hooked.token(organization))
    alice = polar.customers.create(email=f"a-{uuid.uuid4().hex[:6]}@example.com", external_id=f"alice-{uuid.uuid4().hex[:6]}")
    bob = polar.customers.create(email=f"b-{uuid.uuid4().hex[:6]}@example.com")
    perk = polar.benefits.create(type="custom", description="Priority support", properties={"note": "hi"})
    flag = polar.benefits.create(type="feature_flag", description="Beta", properties={})
    assert polar.benefits.grants(perk.id).pagination.total_count == 0
    assert polar.benefit_grants.list().pagination.total_count == 0

    granted = grant(hooked, organization["id"], perk.id, alice.id, "order:1", at="2026-12-01T10:00:00+00:00")
    revoked = grant(hooked, organization["id"], perk.id, bob.id, "order:2", revoked=True, at="2026-12-01T11:00:00+00:00")
    other = grant(hooked, organization["id"], flag.id, alice.id, "order:1", at="2026-12-01T12:00:00+00:00")

    of_perk = polar.benefits.grants(perk.id)
    assert [g.id for g in of_perk.items] == [revoked, granted]  # newest first
    first = of_perk.items[1]
    assert first.customer.id == alice.id and first.benefit.id == perk.id and first.benefit.properties.note == "hi"
    assert first.is_granted and not first.is_revoked and of_perk.items[0].is_revoked and not of_perk.items[0].is_granted
    assert [g.id for g in polar.benefits.grants(perk.id, is_granted=True).items] == [granted]
    assert [g.id for g in polar.benefits.grants(perk.id, is_granted=False).items] == [revoked]
    assert [g.id for g in polar.benefits.grants(perk.id, customer_id=bob.id).items] == [revoked]

    everything = polar.benefit_grants.list()
    assert [g.id for g in everything.items] == [other, revoked, granted]
    assert [g.id for g in polar.benefit_grants.list(external_customer_id=alice.external_id).items] == [other, granted]
    assert [g.id for g in polar.benefit_grants.list(customer_id=bob.id).items] == [revoked]
    assert [g.id for g in polar.benefit_grants.list(sorting=["created_at"]).items] == [granted, revoked, other]
    assert polar.benefit_grants.list(external_customer_id="nobody").pagination.total_count == 0

    # A deleted benefit's grants keep naming it.
    polar.benefits.delete(flag.id)
    assert polar.benefit_grants.list(customer_id=alice.id).items[0].benefit.is_deleted is True


def test_lists_do_not_query_per_row(own_floe):
    """`x-floe-queries` (floe's `--count-queries`) is the number of statements a request
    ran: a page of 12 grants, each with its customer and benefit, costs what a page of 1
    does; so does a page of benefits."""
    server = own_floe(env={"FLOE_COUNT_QUERIES": "1"})
    organization = server.organization()
    token = server.token(organization)
    polar = server.client(token)
    for i in range(12):
        customer = polar.customers.create(email=f"q{i}-{uuid.uuid4().hex[:6]}@example.com")
        benefit = polar.benefits.create(type="custom", description=f"Perk number {i}", properties={"note": str(i)})
        grant(server, organization["id"], benefit.id, customer.id, f"order:{i}")
    headers = {"Authorization": f"Bearer {token}"}

    def statements(path, limit):
        answer = httpx.get(f"{server.url}{path}", params={"limit": limit}, headers=headers)
        assert answer.status_code == 200 and len(answer.json()["items"]) == limit, answer.text
        return int(answer.headers["x-floe-queries"])

    for path in ("/v1/benefit-grants/", "/v1/benefits/"):
        one, twelve = statements(path, 1), statements(path, 12)
        assert one == twelve, f"{path}: {one} statements for 1 row, {twelve} for 12"
        assert 1 <= twelve <= 4, f"{path}: {twelve} statements"
