"""The operations the sweep covers: the contract's operations that this floe build routes,
matched by method and path against `floe routes` (floe's own route table), so an operation
is swept the day its route lands. Scopes come from each operation's contract description."""

import json
import os
import re
import subprocess
from dataclasses import dataclass, field

from contract import SPEC, in_registry

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Operation:
    method: str
    path: str  # the contract's template, e.g. /v1/customers/{id}
    operation_id: str
    spec: dict = field(repr=False)

    @property
    def key(self):
        return route_key(self.method, self.path)

    @property
    def scopes(self):
        """The scopes the description names; any one of them is enough."""
        match = re.search(r"\*\*Scopes\*\*:(.*)", self.spec.get("description", ""))
        return sorted(re.findall(r"`([^`]+)`", match.group(1))) if match else []

    @property
    def organization_token_accepted(self):
        """Whether an organization access token may call it at all (portal and public
        operations are for other kinds of callers)."""
        return any("oat" in entry for entry in self.spec.get("security") or [])

    @property
    def customer_session_accepted(self):
        """Whether a customer (or member) session may call it: the portal's operations."""
        return any("customer_session" in entry or "member_session" in entry for entry in self.spec.get("security") or [])

    @property
    def member_session_only(self):
        """Whether only a member session may call it (the portal's member management)."""
        security = self.spec.get("security") or []
        return bool(security) and all("member_session" in e and "customer_session" not in e for e in security)

    def parameters(self, location):
        return [p for p in self.spec.get("parameters", []) if p["in"] == location]

    @property
    def path_parameters(self):
        return [p["name"] for p in self.parameters("path")]

    @property
    def body_schema(self):
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return media["schema"] if media else None

    @property
    def body_required(self):
        return bool(self.spec.get("requestBody", {}).get("required"))

    def response_schema(self, status):
        """The contract's schema for a JSON answer with `status`, ready for
        `contract.validate`, or None when the contract has none."""
        response = self.spec.get("responses", {}).get(str(status), {})
        media = response.get("content", {}).get("application/json")
        if not media:
            return None
        return in_registry(media["schema"])

    @property
    def is_page_list(self):
        """A `GET` answering the contract's `ListResource_*` (page and limit)."""
        names = {p["name"] for p in self.parameters("query")}
        return self.method == "GET" and {"page", "limit"} <= names

    @property
    def is_write(self):
        return self.method != "GET"


def route_key(method, path):
    """Method and path with parameter names and the trailing slash dropped: floe's
    `/v1/customers/{id}` and the contract's `/v1/customers/{id}/` are one operation."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")


def contract_operations():
    return [
        Operation(method.upper(), path, spec["operationId"], spec)
        for path, item in SPEC["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


def _beyond(method, path, operation_id, scopes, why):
    """An operation the contract file lacks, described the way the contract would; `scopes`
    None for one anyone may call (no token)."""
    named = " ".join(f"`{scope}`" for scope in scopes or [])
    return Operation(method, path, operation_id, {
        "operationId": operation_id,
        "description": f"{why}\n\n**Scopes**: {named}" if scopes is not None else why,
        "security": [{"oat": list(scopes)}] if scopes is not None else None,
        "parameters": [{"name": name[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in re.findall(r"\{[^}]+\}", path)],
        "responses": {},
    })


# Operations floe serves beyond the contract file: each says why, and takes part in the
# tenancy and scope sweeps (not in fuzzing, which only knows the contract). A route that
# is neither a contract operation nor listed here fails the sweep: it is a path typo, or an
# operation nobody described.
BEYOND_THE_CONTRACT = [
    _beyond("GET", "/v1/files/{id}/download", "files:download", ["files:read", "files:write"],
            "Polar serves it but keeps it out of its published contract."),
    _beyond("DELETE", "/v1/products/{id}", "products:delete", ["products:write"],
            "In the official SDKs, which are newer than the contract."),
    _beyond("POST", "/v1/license-keys/{id}/rotate", "license_keys:rotate", ["license_keys:write"],
            "In the official SDKs, which are newer than the contract."),
    _beyond("POST", "/v1/test-clock/advance", "test_clock:advance", ["subscriptions:write"],
            "floe's own test clock (test-mode organizations only)."),
    _beyond("GET", "/v1/customers/{id}/members", "customers:members:list", ["members:read", "members:write"],
            "In the official SDKs, which are newer than the contract."),
    _beyond("GET", "/v1/customers/external/{external_id}/members", "customers:members:list_external",
            ["members:read", "members:write"], "In the official SDKs, which are newer than the contract."),
    _beyond("POST", "/v1/customer-portal/customer-session/request", "customer_portal:customer-session:request", None,
            "Polar's portal sign-in, kept out of its published contract: a code mailed to a customer."),
    _beyond("POST", "/v1/customer-portal/customer-session/authenticate", "customer_portal:customer-session:authenticate",
            None, "Polar's portal sign-in, kept out of its published contract: a mailed code for a session."),
    _beyond("GET", "/v1/wallets/", "wallets:list", ["wallets:read", "wallets:write"],
            "Polar serves it but keeps it out of its published contract (the merchant's view of balances)."),
    _beyond("GET", "/v1/wallets/{id}", "wallets:get", ["wallets:read", "wallets:write"],
            "Polar serves it but keeps it out of its published contract (the merchant's view of balances)."),
]


def floe_routes():
    """`floe routes`: what this build serves, as (method, path) pairs."""
    out = subprocess.run([os.environ["FLOE_BIN"], "routes"], check=True, capture_output=True, text=True).stdout
    return [(r["method"], r["path"]) for r in map(json.loads, out.splitlines())]


class Coverage:
    """The contract's operations split by whether floe routes them."""

    def __init__(self):
        served = {route_key(method, path): (method, path) for method, path in floe_routes()}
        operations = contract_operations()
        # Contract operations floe routes: fuzzed, and swept for tenancy and scopes.
        self.routed = [op for op in operations if op.key in served]
        self.unrouted = [op for op in operations if op.key not in served]
        # Declared operations beyond the contract: swept for tenancy and scopes.
        self.beyond = [op for op in BEYOND_THE_CONTRACT if op.key in served]
        known = {op.key for op in operations} | {op.key for op in BEYOND_THE_CONTRACT}
        # Routes that are neither: nothing describes them, so nothing can sweep them.
        self.undescribed = sorted(route for key, route in served.items() if key not in known)

    def report(self):
        lines = [
            f"{len(self.routed)} contract operations routed and swept, {len(self.unrouted)} not routed yet (skipped), "
            f"{len(self.beyond)} beyond the contract swept for tenancy and scopes ({', '.join(op.operation_id for op in self.beyond)})"
        ]
        lines.append("not routed yet: " + ", ".join(sorted(op.operation_id for op in self.unrouted)))
        if self.undescribed:
            lines.append("routes nothing describes: " + ", ".join(f"{m} {p}" for m, p in self.undescribed))
        return "\n".join(lines)

    @property
    def swept(self):
        """Every operation the tenancy and scope sweeps take."""
        return self.routed + self.beyond


_COVERAGE = None


def coverage():
    global _COVERAGE
    if _COVERAGE is None:
        _COVERAGE = Coverage()
    return _COVERAGE
