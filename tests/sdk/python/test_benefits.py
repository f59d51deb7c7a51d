"""Benefits through the official Python SDK: every type with its properties, what they
point at (downloadable files and meters of the same organization), visibility, updates
that keep the type, deletion, the list's filters and sorting, and `benefit.created` /
`benefit.updated` accepted by the SDK's `validate_event`. (Tenancy, scopes and fuzzing of
these operations come from the contract sweep.)"""

import base64
import json
import uuid

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
