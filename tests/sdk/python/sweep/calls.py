"""Requests for an operation with its parameters filled: path IDs from a tenant's resources,
required query parameters and bodies from the contract's smallest valid values."""

from samples import sample
from world import path_kind


class MissingKind(AssertionError):
    pass


def fill_path(op, tenant, fresh=False):
    """The operation's path with each ID of `tenant`'s resources; `fresh` makes new ones
    for operations that change or delete what they name."""
    path = op.path
    made = {}
    for name in op.path_parameters:
        target = path_kind(op.path, name)
        if target is None:
            raise MissingKind(f"{op.operation_id}: no resource kind for path parameter {name!r} of {op.path}; add it to sweep/world.py")
        kind, attribute = target
        if fresh and kind != "organization":
            resource = made.setdefault(kind, tenant.make(kind))
        else:
            resource = tenant.need(kind)
        path = path.replace("{" + name + "}", str(resource[attribute]))
    return path


def required_query(op):
    return {p["name"]: sample(p["schema"]) for p in op.parameters("query") if p.get("required")}


def body(op):
    schema = op.body_schema
    return sample(schema) if schema is not None else None


def call(http, op, path, params=None, **kwargs):
    """Sends the operation with `http` (an httpx client carrying the caller's token);
    `params` is a dict, or a list of pairs to send repeats as given."""
    required = required_query(op)
    if isinstance(params, list):
        given = {name for name, _ in params}
        query = [(k, v) for k, v in required.items() if k not in given] + params
    else:
        query = {**required, **(params or {})}
    payload = body(op)
    if payload is not None:
        kwargs.setdefault("json", payload)
    return http.request(op.method, path, params=query, **kwargs)
