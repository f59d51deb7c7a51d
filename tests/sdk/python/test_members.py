"""Members of customers through the official Python SDK: a team's members with roles, made
by customer ID or external ID, the owner made from the customer's email, an existing email
answering the existing member, ownership moved by an update (the old owner becoming a
billing manager), the owner neither demoted nor removed, an individual customer keeping its
one member; lists across customers and per customer; `member.*` webhooks checked with the
SDK's validator."""

import uuid

import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import HTTPValidationError, NotPermitted, ResourceNotFound
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver


@pytest.fixture(scope="module")
def server():
    floe = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield floe
    floe.stop()


def tag():
    return uuid.uuid4().hex[:8]


def test_a_team_and_its_members(server):
    organization = server.organization()
    polar = server.client(server.token(organization))
    receiver = Receiver()
    try:
        endpoint = polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw", events=["member.created", "member.updated", "member.deleted"])
        team = polar.customers.create(type="team", email=f"boss-{tag()}@example.com", name="Acme", external_id=f"acme-{tag()}")
        grace = polar.customers.members.create(team.id, email=f"grace-{tag()}@example.com", name="Grace",
                                               external_id="grace", role="billing_manager")
        assert (grace.customer_id, grace.role, grace.external_id) == (team.id, "billing_manager", "grace")
        # The first member operation made the owner from the customer's email.
        members = polar.customers.members.list(team.id).items
        owner = next(m for m in members if m.role == "owner")
        assert owner.email == team.email and len(members) == 2
        # The same email again is the same member, by either key.
        again = polar.customers.members.create_external(team.external_id, email=grace.email.upper())
        assert again.id == grace.id
        linus = polar.customers.members.create(team.id, email=f"linus-{tag()}@example.com")
        assert linus.role == "member"
        assert polar.customers.members.get_external(team.external_id, "grace").id == grace.id

        # Updates: name and email; a taken email is refused; the owner moves.
        renamed = polar.customers.members.update(team.id, linus.id, name="Linus T.", email=f"lt-{tag()}@example.com")
        assert renamed.name == "Linus T."
        with pytest.raises(HTTPValidationError):
            polar.customers.members.update(team.id, linus.id, email=grace.email)
        with pytest.raises(HTTPValidationError):
            polar.customers.members.update(team.id, owner.id, role="member")
        promoted = polar.customers.members.update_external(team.external_id, "grace", role="owner")
        assert promoted.role == "owner"
        assert polar.customers.members.get(team.id, owner.id).role == "billing_manager"
        with pytest.raises(HTTPValidationError):
            polar.customers.members.delete(team.id, grace.id)

        polar.customers.members.delete(team.id, linus.id)
        with pytest.raises(ResourceNotFound):
            polar.customers.members.get(team.id, linus.id)
        assert sorted(m.role for m in polar.customers.members.list(team.id).items) == ["billing_manager", "owner"]
        assert [m.id for m in polar.customers.members.list(team.id, role="owner").items] == [grace.id]

        # An individual customer has one member, its owner.
        solo = polar.customers.create(email=f"solo-{tag()}@example.com")
        with pytest.raises(NotPermitted):
            polar.customers.members.create(solo.id, email=f"friend-{tag()}@example.com")
        own = polar.customers.members.create(solo.id, email=solo.email)
        assert own.role == "owner"

        # A deleted customer's members go with it.
        polar.customers.delete(solo.id)

        # Webhooks: owner, grace, linus, owner (solo) created; linus, grace, old owner updated
        # (rename, promotion, demotion); linus and solo's owner deleted.
        deliveries = receiver.wait_for(9)
        kinds = sorted(validate_event(d.body, {k: d.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")},
                                      endpoint.secret).type for d in deliveries)
        assert kinds == ["member.created"] * 4 + ["member.deleted"] * 2 + ["member.updated"] * 3, kinds
    finally:
        receiver.stop()


def test_lists_filters_and_refusals(server):
    organization = server.organization()
    polar = server.client(server.token(organization))
    team = polar.customers.create(type="team", email=f"t-{tag()}@example.com", external_id=f"t-{tag()}")
    other = polar.customers.create(type="team", email=f"o-{tag()}@example.com")
    polar.customers.members.create(team.id, email=f"a-{tag()}@example.com")
    polar.customers.members.create(other.id, email=f"b-{tag()}@example.com", role="billing_manager")
    import httpx
    token = server.token(organization)
    get = lambda **params: httpx.get(f"{server.url}/v1/members/", params=params,
                                     headers={"Authorization": f"Bearer {token}"}).json()
    assert get()["pagination"]["total_count"] == 4
    assert {m["customer_id"] for m in get(customer_id=team.id)["items"]} == {team.id}
    assert {m["customer_id"] for m in get(external_customer_id=team.external_id)["items"]} == {team.id}
    assert [m["role"] for m in get(role="billing_manager")["items"]] == ["billing_manager"]
    assert get(customer_id="not-an-id")["items"] == []
    # Owner cannot be created directly; unknown customers are 404; bad emails 422.
    with pytest.raises(HTTPValidationError):
        polar.customers.members.create(team.id, email=f"x-{tag()}@example.com", role="owner")
    with pytest.raises(ResourceNotFound):
        polar.customers.members.create(str(uuid.uuid4()), email=f"x-{tag()}@example.com")
    with pytest.raises(HTTPValidationError):
        polar.customers.members.create(team.id, email="not-an-email")
    # Without `members:write`: 403 `insufficient_scope`, read raw (the SDK parses this
    # operation's 403 as `NotPermitted` only, as Polar's auth layer answers it the same way).
    reader = server.token(organization, "members:read")
    refused = httpx.post(f"{server.url}/v1/customers/{team.id}/members", json={"email": f"y-{tag()}@example.com"},
                         headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope", refused.text


def portal_status(server, token, method, path, **kwargs):
    import httpx
    answer = httpx.request(method, f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return answer.status_code, (answer.json() if answer.content else None)


def test_member_sessions_and_the_teams_own_management(server):
    organization = server.organization()
    polar = server.client(server.token(organization))
    team = polar.customers.create(type="team", email=f"boss-{tag()}@example.com", name="Acme")
    grace = polar.customers.members.create(team.id, email=f"grace-{tag()}@example.com", name="Grace", role="billing_manager")
    mia = polar.customers.members.create(team.id, email=f"mia-{tag()}@example.com", external_id="mia")
    owner = next(m for m in polar.customers.members.list(team.id).items if m.role == "owner")

    # A member session, by member ID or external ID: a `polar_mst_` token in the portal link.
    graces = polar.customer_sessions.create(customer_id=team.id, member_id=grace.id)
    assert graces.token.startswith("polar_mst_") and "customer_session_token=polar_mst_" in graces.customer_portal_url
    mias = polar.customer_sessions.create(customer_id=team.id, external_member_id="mia")
    other = polar.customers.create(type="team", email=f"other-{tag()}@example.com")
    stranger = polar.customers.members.create(other.id, email=f"s-{tag()}@example.com")
    for body, loc in [({"member_id": str(uuid.uuid4())}, ["body", "member_id"]),
                      ({"member_id": stranger.id}, ["body", "member_id"]),
                      ({"external_member_id": "nobody"}, ["body", "external_member_id"])]:
        with pytest.raises(HTTPValidationError) as refused:
            polar.customer_sessions.create(customer_id=team.id, **body)
        assert [list(d.loc) for d in refused.value.error.detail] == [loc]

    as_grace = server.client(graces.token).customer_portal
    user = as_grace.customer_session.get_authenticated_user()
    assert (user.type, user.member_id, user.role, user.email, user.customer_id) == (
        "member", grace.id, "billing_manager", grace.email, team.id)

    # A billing manager manages the team: lists, adds (an existing email is that member),
    # changes roles; never its own role, never someone into the owner, never removes
    # itself or the owner.
    assert {m.id for m in as_grace.members.list_members().items} == {owner.id, grace.id, mia.id}
    ivy = as_grace.members.add_member(email=f"ivy-{tag()}@example.com", name="Ivy", role="billing_manager")
    assert as_grace.members.add_member(email=ivy.email.upper()).id == ivy.id
    assert polar.customers.members.get(team.id, ivy.id).role == "billing_manager"
    assert as_grace.members.update_member(ivy.id, role="member", name="Ivy L.").role == "member"
    refusals = [lambda: as_grace.members.add_member(email=f"x-{tag()}@example.com", role="owner"),
                lambda: as_grace.members.update_member(grace.id, role="member"),
                lambda: as_grace.members.update_member(ivy.id, role="owner"),
                lambda: as_grace.members.remove_member(grace.id),
                lambda: as_grace.members.remove_member(owner.id)]
    for refused in refusals:
        with pytest.raises(HTTPValidationError):
            refused()
    as_grace.members.remove_member(ivy.id)
    with pytest.raises(ResourceNotFound):
        polar.customers.members.get(team.id, ivy.id)
    with pytest.raises(PolarClientError):
        as_grace.members.update_member(stranger.id, name="not yours")
    assert polar.customers.members.get(other.id, stranger.id).name is None

    # The owner hands ownership on; the old owner becomes a billing manager.
    owners = server.client(polar.customer_sessions.create(customer_id=team.id, member_id=owner.id).token).customer_portal
    assert owners.members.update_member(grace.id, role="owner").role == "owner"
    assert polar.customers.members.get(team.id, owner.id).role == "billing_manager"

    # A plain member reads the team's subscriptions and itself, but not its billing nor
    # its members (403); the customer's own session has no members here (401).
    for method, path in [("GET", "/v1/customer-portal/orders/"), ("GET", "/v1/customer-portal/customers/me/payment-methods"),
                         ("PATCH", "/v1/customer-portal/customers/me"), ("GET", "/v1/customer-portal/members"),
                         ("POST", "/v1/customer-portal/members")]:
        status, body = portal_status(server, mias.token, method, path, json={})
        assert (status, body["error"]) == (403, "NotPermitted"), (method, path, body)
    for path in ["/v1/customer-portal/subscriptions/", "/v1/customer-portal/customers/me",
                 "/v1/customer-portal/benefit-grants/", "/v1/customer-portal/license-keys/"]:
        assert portal_status(server, mias.token, "GET", path)[0] == 200, path
    customers_own = polar.customer_sessions.create(customer_id=team.id).token
    assert portal_status(server, customers_own, "GET", "/v1/customer-portal/members")[0] == 401
    assert portal_status(server, customers_own, "GET", "/v1/customer-portal/orders/")[0] == 200
    # A role counts as it is now: promoted, the same session reaches billing.
    polar.customers.members.update(team.id, mia.id, role="billing_manager")
    assert portal_status(server, mias.token, "GET", "/v1/customer-portal/orders/")[0] == 200

    # An individual customer's owner has no team to manage (403).
    solo = polar.customers.create(email=f"solo-{tag()}@example.com")
    solo_owner = polar.customers.members.create(solo.id, email=solo.email)
    solos = polar.customer_sessions.create(customer_id=solo.id, member_id=solo_owner.id).token
    status, body = portal_status(server, solos, "GET", "/v1/customer-portal/members")
    assert (status, body["error"]) == (403, "NotPermitted")

    # A removed member's session stops at once.
    polar.customers.members.delete(team.id, mia.id)
    status, body = portal_status(server, mias.token, "GET", "/v1/customer-portal/customers/me")
    assert (status, body["error"]) == (401, "invalid_token")
