"""Scopes, generated from the route table and the contract: for every routed operation, a
token holding every scope but the ones its contract description names gets 403
`insufficient_scope` (naming exactly those scopes), nothing changes, and no token at all is
401; a token with only read scopes changes nothing whatever it calls."""

import pytest

from calls import call, fill_path
from operations import coverage
from test_tenancy import differences
from world import client

from contract import SPEC

ROUTED = [op for op in coverage().swept if op.organization_token_accepted]
SCOPED = [op for op in ROUTED if op.scopes]
# Every scope an organization token can hold: the contract's, but a user's own identity.
USER_ONLY = {"openid", "profile", "email", "user:read", "user:write"}
ORGANIZATION_SCOPES = sorted(set(SPEC["components"]["schemas"]["Scope"]["enum"]) - USER_ONLY)
READ_SCOPES = [s for s in ORGANIZATION_SCOPES if s.endswith(":read")]


def ids(ops):
    return [op.operation_id for op in ops]


_TOKENS = {}


def token_with(world, scopes):
    """A token of the owner's organization with exactly `scopes` (made once per set)."""
    key = tuple(sorted(scopes))
    if key not in _TOKENS:
        _TOKENS[key] = world.floe.token(world.a.organization, *key)
    return client(world.floe.url, _TOKENS[key])


def test_every_routed_operation_names_its_scopes():
    unscoped = [op.operation_id for op in ROUTED if not op.scopes]
    assert not unscoped, f"routed operations whose contract names no scope: {unscoped}"


@pytest.mark.parametrize("op", SCOPED, ids=ids(SCOPED))
def test_a_token_without_the_operations_scopes_is_403(world, op):
    owner = world.a
    http = token_with(world, set(ORGANIZATION_SCOPES) - set(op.scopes))
    path = fill_path(op, owner)
    before = owner.snapshot()
    response = call(http, op, path)
    assert response.status_code == 403, f"{op.method} {path} without {op.scopes}: {response.status_code} {response.text}"
    assert response.json()["error"] == "insufficient_scope", response.text
    challenge = response.headers.get("www-authenticate", "")
    named = challenge.split('scope="', 1)[1].split('"', 1)[0].split() if 'scope="' in challenge else None
    assert named is not None and sorted(named) == op.scopes, f"{op.operation_id}: challenge names {named}, contract {op.scopes}"
    changed = differences(before, owner.snapshot())
    assert not changed, f"{op.operation_id} refused with 403 still changed: " + "; ".join(changed)


@pytest.mark.parametrize("op", ROUTED, ids=ids(ROUTED))
def test_no_token_is_401(world, op):
    anonymous = client(world.floe.url, "")
    anonymous.headers.pop("Authorization")
    response = call(anonymous, op, fill_path(op, world.a))
    assert response.status_code == 401, f"{op.operation_id} without a token: {response.status_code} {response.text}"
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers


def list_totals(world):
    """The owner's count of every list, as far as the full-scope token sees it."""
    totals = {}
    for op in coverage().swept:
        if op.is_page_list and op.organization_token_accepted:
            response = call(world.a.http, op, fill_path(op, world.a), params={"limit": 1})
            assert response.status_code == 200, f"{op.operation_id}: {response.status_code} {response.text}"
            totals[op.operation_id] = response.json()["pagination"].get("total_count")
    return totals


def test_a_read_only_token_changes_nothing(world):
    owner = world.a
    http = token_with(world, READ_SCOPES)
    before = {"resources": owner.snapshot(), "list totals": list_totals(world)}
    wrong = []
    for op in ROUTED:
        reads = any(scope.endswith(":read") for scope in op.scopes)
        response = call(http, op, fill_path(op, owner))
        if reads and response.status_code in (401, 403):
            wrong.append(f"{op.operation_id} refused a read scope: {response.status_code}")
        if not reads and response.status_code != 403:
            wrong.append(f"{op.operation_id} (needs {op.scopes}) answered a read-only token {response.status_code}")
    after = {"resources": owner.snapshot(), "list totals": list_totals(world)}
    assert not wrong, "; ".join(wrong)
    changed = differences(before, after)
    assert not changed, "a read-only token changed: " + "; ".join(changed)
