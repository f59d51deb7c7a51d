"""The customer portal's boundaries, generated from the route table and the contract: every
portal operation floe routes is refused (401) to an organization token and to no token, every
merchant operation is refused (401) to a customer session and to a member session, and every
portal operation that names a resource in its path answers 404, changing nothing, to another
customer of the same organization and to a customer of another organization, while the
resource's own customer reaches it. Portal lists show a customer nothing of another's. A
plain member's session is refused (403) exactly the billing and member operations."""

import pytest

from calls import call
from operations import coverage
from test_tenancy import differences
from world import client, path_kind

PORTAL = [op for op in coverage().swept if op.path.startswith("/v1/customer-portal/")]
# Operations for customer (and member) sessions; the others need no token at all.
SESSION_OPS = [op for op in PORTAL if op.customer_session_accepted]
WITH_PATH_ID = [op for op in SESSION_OPS if op.path_parameters]
LISTS_AND_READS = [op for op in SESSION_OPS if op.method == "GET" and not op.path_parameters]
MERCHANT = [op for op in coverage().swept if op.organization_token_accepted]
# What only the customer itself, its owner and its billing managers may do (as at Polar):
# money, billing details, seat assignment, email change and the team's members.
BILLING = {
    "customer_portal:customers:update", "customer_portal:customers:list_payment_methods",
    "customer_portal:customers:add_payment_method", "customer_portal:customers:confirm_payment_method",
    "customer_portal:customers:delete_payment_method", "customer_portal:customers:request_email_update",
    "customer_portal:seats:assign_seat", "customer_portal:seats:revoke_seat", "customer_portal:seats:resend_invitation",
    "customer_portal:subscriptions:update", "customer_portal:subscriptions:cancel",
    "customer_portal:wallets:list", "customer_portal:wallets:get",
    "customer_portal:members:list_members", "customer_portal:members:add_member",
    "customer_portal:members:update_member", "customer_portal:members:remove_member",
} | {op.operation_id for op in SESSION_OPS if op.operation_id.startswith("customer_portal:orders:")}


def ids(ops):
    return [op.operation_id for op in ops]


def fill_portal_path(op, tenant, fresh=False):
    """The operation's path with each parameter a resource of `tenant`, and the customer
    that owns it (None when the path names nothing a customer owns)."""
    path, owner = op.path, None
    for name in op.path_parameters:
        kind, attribute = path_kind(op.path, name)
        resource = tenant.make(kind) if fresh else tenant.need(kind)
        owner = tenant.owner_of(kind, resource)
        path = path.replace("{" + name + "}", str(resource[attribute]))
    return path, owner


def test_every_portal_operation_is_described():
    missing = [f"{op.operation_id} ({name})" for op in PORTAL for name in op.path_parameters
               if path_kind(op.path, name) is None]
    assert not missing, "portal path parameters the sweep cannot fill; add them to sweep/world.py: " + ", ".join(missing)
    assert any(op.operation_id == "customer_portal:customers:get" for op in SESSION_OPS), "no portal operation routed"


@pytest.mark.parametrize("op", SESSION_OPS, ids=ids(SESSION_OPS))
def test_portal_operations_refuse_organization_tokens_and_no_token(world, op):
    owner = world.a
    path, _ = fill_portal_path(op, owner)
    before = owner.snapshot()
    response = call(owner.http, op, path)
    assert response.status_code == 401, f"{op.method} {path} with an organization token: {response.status_code} {response.text}"
    anonymous = client(world.floe.url, "")
    anonymous.headers.pop("Authorization")
    response = call(anonymous, op, path)
    assert response.status_code == 401, f"{op.method} {path} without a token: {response.status_code} {response.text}"
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers
    changed = differences(before, owner.snapshot())
    assert not changed, f"{op.operation_id} refused still changed: " + "; ".join(changed)


@pytest.mark.parametrize("kind", ["customer", "member"])
def test_merchant_operations_refuse_sessions(world, kind):
    """One customer session, and one session of the customer's owner, try every merchant
    operation: each is 401 and nothing of the organization changes."""
    from calls import fill_path

    owner = world.a
    customer_id = owner.need("customer")["id"]
    token = owner.session_for(customer_id) if kind == "customer" else owner.member_session_for(customer_id)
    session = client(world.floe.url, token)
    before = owner.snapshot()
    wrong = []
    for op in MERCHANT:
        response = call(session, op, fill_path(op, owner))
        if response.status_code != 401:
            wrong.append(f"{op.operation_id}: {response.status_code}")
    assert not wrong, f"merchant operations that took a {kind} session: " + ", ".join(wrong)
    changed = differences(before, owner.snapshot())
    assert not changed, f"{kind} session changed the organization's resources: " + "; ".join(changed)


@pytest.mark.parametrize("op", SESSION_OPS, ids=ids(SESSION_OPS))
def test_a_plain_member_is_kept_out_of_billing(world, op):
    """A plain member's session is 403 `NotPermitted` on the billing and member operations,
    changing nothing, and gets past that check on every other one."""
    owner = world.a
    customer_id = owner.need("customer")["id"]
    plain = client(world.floe.url, owner.member_session_for(customer_id, role="member"))
    path, _ = fill_portal_path(op, owner, fresh=op.is_write)
    before = owner.snapshot()
    response = call(plain, op, path)
    assert response.status_code < 500, response.text
    if op.operation_id in BILLING:
        assert response.status_code == 403 and response.json()["error"] == "NotPermitted", f"{op.method} {path}: {response.status_code} {response.text}"
        changed = differences(before, owner.snapshot())
        assert not changed, f"{op.operation_id} refused still changed: " + "; ".join(changed)
    else:
        refused = response.status_code in (401, 403) and "NotPermitted" in response.text
        assert not refused, f"{op.method} {path} refused a plain member: {response.status_code} {response.text}"


@pytest.mark.parametrize("op", WITH_PATH_ID, ids=ids(WITH_PATH_ID))
def test_another_customers_resource_is_404_and_unchanged(world, op):
    owner = world.a
    path, owning_customer = fill_portal_path(op, owner, fresh=op.is_write)
    refusals = []
    for who, token in [
        ("another customer of the organization", owner.stranger_session(op)),
        ("a customer of another organization", world.b.stranger_session(op)),
    ]:
        before = owner.snapshot()
        response = call(client(world.floe.url, token), op, path)
        assert response.status_code == 404, f"{op.method} {path} by {who}: {response.status_code} {response.text}"
        assert response.json()["error"] == "ResourceNotFound", response.text
        refusals.append(response.json())
        changed = differences(before, owner.snapshot())
        assert not changed, f"{op.operation_id} by {who} changed the owner's resources: " + "; ".join(changed)
    if op.method == "GET" and owning_customer:
        # Its own customer gets past the ownership check (an invoice not drawn yet may
        # still be a 404 of its own, saying so).
        response = call(client(world.floe.url, owner.portal_session(op, owning_customer)), op, path)
        assert response.status_code < 500, response.text
        refused = response.status_code == 404 and response.json() in refusals
        assert not refused, f"{op.method} {path} by its own customer: {response.status_code} {response.text}"


@pytest.mark.parametrize("op", LISTS_AND_READS, ids=ids(LISTS_AND_READS))
def test_portal_reads_show_nothing_of_another_customer(world, op):
    owner = world.a
    markers = owner.markers() - {owner.slug}
    # The stranger's own customer record and its organization are its to see.
    response = call(client(world.floe.url, owner.stranger_session(op)), op, op.path)
    assert response.status_code == 200, f"{op.operation_id}: {response.status_code} {response.text}"
    text = response.text
    for own in (owner.stranger["id"], owner.stranger["email"], owner.stranger["external_id"], owner.organization["id"]):
        text = text.replace(own, "")
    leaked = sorted(m for m in markers if m in text)
    assert not leaked, f"{op.operation_id} shows another customer's data: {leaked}"
