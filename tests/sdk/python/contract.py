"""Checks responses against the contract (openapi-2026-10.json): each JSON body must
validate against the schema the spec gives for its operation and status, with formats
(date-time, UUID) checked too."""

import datetime
import json
import pathlib
import re
import uuid

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = pathlib.Path(__file__).resolve().parents[3] / "crates" / "floe" / "openapi" / "polar-2026-10.json"
SPEC = json.loads(SPEC_PATH.read_text())


def _sdk_additions(spec):
    """The SDK (polar-sdk 1.0.2) is newer than the contract in places, and what users run
    is the SDK: its newer response shapes, written here from its typed models, are added to
    the contract as the checks read it (the vendored file itself stays as published)."""
    schemas = spec["components"]["schemas"]
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    nullable = lambda schema: {"anyOf": [schema, {"type": "null"}]}  # noqa: E731
    price_common = {
        "created_at": {"type": "string", "format": "date-time"},
        "modified_at": nullable({"type": "string", "format": "date-time"}),
        "id": {"type": "string", "format": "uuid4"},
        "source": ref("ProductPriceSource"),
        "price_currency": {"type": "string"},
        "tax_behavior": nullable(ref("TaxBehaviorOption")),
        "is_archived": {"type": "boolean"},
        "product_id": {"type": "string", "format": "uuid4"},
    }
    schemas["Tier"] = {
        "type": "object",
        "properties": {"bound": nullable({"type": "integer"}), "unit_amount": {"type": "string"}},
        "required": ["unit_amount"],
    }
    schemas["Tiers"] = {
        "type": "object",
        "properties": {"type": {"enum": ["volume", "graduated"]}, "tiers": {"type": "array", "items": ref("Tier")}},
        "required": ["type", "tiers"],
    }
    schemas["ProductPriceUnitBased"] = {
        "type": "object",
        "properties": {
            **price_common,
            "amount_type": {"const": "unit_based"},
            "tiers": ref("Tiers"),
            "minimum_units": nullable({"type": "integer"}),
            "unit_label": nullable({"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}}}),
            "maximum_units": nullable({"type": "integer"}),
        },
        "required": [*price_common, "amount_type", "tiers", "minimum_units", "unit_label", "maximum_units"],
    }
    schemas["ProductPriceMeteredTiers"] = {
        "type": "object",
        "properties": {
            **price_common,
            "amount_type": {"const": "metered_tiers"},
            "cap_amount": nullable({"type": "integer"}),
            "meter_id": {"type": "string", "format": "uuid4"},
            "meter": ref("ProductPriceMeter"),
            "tiers": ref("Tiers"),
        },
        "required": [*price_common, "amount_type", "cap_amount", "meter_id", "meter", "tiers"],
    }
    price = schemas["ProductPrice"]
    for name, tag in (("ProductPriceUnitBased", "unit_based"), ("ProductPriceMeteredTiers", "metered_tiers")):
        price["oneOf"].append(ref(name))
        price["discriminator"]["mapping"][tag] = f"#/components/schemas/{name}"
    # `Discount` is a `oneOf` of four shapes that do not exclude each other: a repeating
    # discount (with `duration_in_months`) also matches the once/forever shape, so no
    # server could satisfy it. The SDK reads it as a union (the first shape that fits).
    discount = schemas["Discount"]
    discount["anyOf"] = discount.pop("oneOf")
    # The same four shapes, as a checkout link shows its discount.
    link_discount = schemas["CheckoutLink"]["properties"]["discount"]["anyOf"][0]
    link_discount["anyOf"] = link_discount.pop("oneOf")
    # `units` (preset units for unit-based prices) is required in the SDK's `CheckoutLink`.
    link = schemas["CheckoutLink"]
    link["properties"]["units"] = nullable({"type": "integer"})
    link["required"].append("units")
    # `is_deletable` is required in the SDK's `Product`.
    product = schemas["Product"]
    product["properties"]["is_deletable"] = {"type": "boolean"}
    product["required"].append("is_deletable")
    # The SDK's `PATCH /v1/subscriptions/{id}` also answers 409 when an uncancel finds no
    # cancellation scheduled (`SubscriptionNotScheduledToCancel`).
    schemas["SubscriptionNotScheduledToCancel"] = {
        "type": "object",
        "properties": {"error": {"type": "string", "const": "SubscriptionNotScheduledToCancel"},
                       "detail": {"type": "string"}},
        "required": ["error", "detail"],
    }
    conflict = spec["paths"]["/v1/subscriptions/{id}"]["patch"]["responses"]["409"]["content"]["application/json"]
    conflict["schema"] = {"anyOf": [conflict["schema"], ref("SubscriptionNotScheduledToCancel")]}
    return spec


SPEC = _sdk_additions(SPEC)
REGISTRY = Registry().with_resource("urn:polar-spec", Resource.from_contents(SPEC, default_specification=DRAFT202012))

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise ValueError(f"not RFC 3339: {value!r}")
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uuid4", raises=ValueError)
def _uuid4(value):
    if isinstance(value, str):
        uuid.UUID(value)
    return True


def _compile(template):
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return re.compile(f"^{pattern}$")


OPERATIONS = [
    (_compile(path), method.upper(), operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]


def schema_ref(name):
    return {"$ref": f"urn:polar-spec#/components/schemas/{name}"}


def in_registry(schema):
    """A schema taken out of the spec, with its references resolvable by `validate`."""
    return json.loads(json.dumps(schema).replace('"#/components', '"urn:polar-spec#/components'))


def validate(instance, schema):
    validator = jsonschema.Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        raise AssertionError(f"response does not match the contract: {details}")


def response_schema(method, path, status):
    """The contract's schema for this response, or None when the spec has none."""
    for pattern, op_method, operation in OPERATIONS:
        if op_method == method and pattern.match(path):
            response = operation.get("responses", {}).get(str(status))
            if not response:
                return None
            content = response.get("content", {}).get("application/json")
            if not content:
                return None
            return in_registry(content["schema"])
    return None


def check_response(response: httpx.Response):
    response.read()
    request = response.request
    path = request.url.path
    if not path.startswith("/v1/"):
        return
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if path.endswith("/download") and response.status_code == 200:
            validate(body, schema_ref("FileDownload"))
            return
        schema = response_schema(request.method, path, response.status_code)
        # Bearer-token failures come from the auth layer in RFC 6750's shape
        # (`{"error": "invalid_token" | "insufficient_scope", "error_description"}`), as
        # Polar answers them, whatever error schema the operation itself declares.
        if response.status_code in (401, 403) and body.get("error") in ("invalid_token", "insufficient_scope"):
            schema = None
        if schema is not None:
            validate(body, schema)
    # Every API response says which version answered.
    assert response.headers.get("polar-version") == request.headers.get("polar-version", "2026-04")
