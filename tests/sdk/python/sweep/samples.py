"""Smallest valid values for a contract schema: what the sweep sends where a request needs a
body or a required query parameter but the value is beside the point (a tenancy or scope
check must reach the handler's lookup, not stop at validation)."""

import datetime
import uuid

from contract import SPEC


def resolve(schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SPEC["components"]["schemas"][name]
    return schema


def sample(schema):
    schema = resolve(schema)
    if "examples" in schema and schema["examples"]:
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            options = [o for o in schema[combinator] if resolve(o).get("type") != "null"]
            return sample(options[0]) if options else None
    if "allOf" in schema:
        return sample(schema["allOf"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: sample(properties.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return [sample(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1)
        high = schema.get("maximum")
        value = low if high is None else min(low, high)
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None


def _string(schema):
    fmt = schema.get("format")
    if fmt in ("uuid", "uuid4"):
        return str(uuid.uuid4())
    if fmt == "date-time":
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    if fmt == "date":
        return datetime.date.today().isoformat()
    if fmt == "email":
        return "sweep@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com/sweep"
    return "s" * max(schema.get("minLength", 1), 1)


def variants(schema):
    """The object shapes a schema allows (its `anyOf`/`oneOf` options, or itself)."""
    schema = resolve(schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [v for option in options for v in variants(option)]
    return [schema] if schema.get("type") != "null" else []


def array_items(schema):
    """The item schema of an array property (through a nullable `anyOf`), or None."""
    for variant in variants(schema):
        if variant.get("type") == "array" and "items" in variant:
            return variant["items"]
    return None
