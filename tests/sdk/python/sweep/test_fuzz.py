"""Fuzzing with Polar's own contract (schemathesis): every operation floe routes, through
the examples, coverage and fuzzing phases, with a fixed seed and a bounded number of cases
per operation, checking that floe never answers 5xx, that every answer the contract
describes matches its schema, and that content types are the contract's. ID-taking
operations get real resources of the fuzzing organization (fresh ones for operations that
change or delete them). Any failure fails the test with schemathesis's reproduction."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

from calls import fill_path
from conftest import Floe
from contract import SPEC
from operations import coverage
from receiver import Receiver
from world import Tenant

SEED = int(os.environ.get("FLOE_FUZZ_SEED", "20261204"))
# Cases per operation and phase; the run's length grows with it and the routed operations.
EXAMPLES = int(os.environ.get("FLOE_FUZZ_EXAMPLES", "100"))
CHECKS = ["not_a_server_error", "response_schema_conformance", "content_type_conformance"]
# A ceiling, not a target: a run that takes this long has a problem of its own.
TIMEOUT = int(os.environ.get("FLOE_FUZZ_TIMEOUT", "1200"))


def toml_string(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def config(floe, tenant, operations, token):
    lines = [
        f"seed = {SEED}",
        f"base-url = {toml_string(floe.url)}",
        "continue-on-failure = true",
        "request-timeout = 30",
        # Every run starts from nothing: no replay of an earlier run's requests.
        "[cache]",
        "enabled = false",
        "[headers]",
        f"Authorization = {toml_string('Bearer ' + token)}",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        "database = \"none\"",
        "[phases.examples]",
        "enabled = true",
        "[phases.coverage]",
        "enabled = true",
        "[phases.fuzzing]",
        "enabled = true",
        "[phases.stateful]",
        "enabled = false",
        "[checks]",
        "enabled = false",
    ]
    for check in CHECKS:
        lines += [f"[checks.{check}]", "enabled = true"]
    for op in operations:
        if not op.path_parameters:
            continue
        # Operations that change or delete what they name get resources of their own.
        path = fill_path(op, tenant, fresh=op.is_write)
        values = dict(zip(op.path.strip("/").split("/"), path.strip("/").split("/")))
        lines += ["[[operations]]", f"include-operation-id = {toml_string(op.operation_id)}", "[operations.parameters]"]
        for name in op.path_parameters:
            lines.append(f"{toml_string('path.' + name)} = {toml_string(values['{' + name + '}'])}")
    return "\n".join(lines) + "\n"


def prepare(floe, tenant, operations, token, name):
    """One schemathesis run over `operations`, each request carrying `token`, ready to start:
    the resources its paths name are made now (before any run changes the tenant)."""
    workdir = tempfile.mkdtemp(prefix=f"floe-fuzz-{name}-")
    # The contract as the checks read it: with the SDK's newer shapes (contract.py).
    spec_path = os.path.join(workdir, "polar-with-sdk.json")
    with open(spec_path, "w") as f:
        json.dump(SPEC, f)
    config_path = os.path.join(workdir, "schemathesis.toml")
    with open(config_path, "w") as f:
        f.write(config(floe, tenant, operations, token))
    command = [
        os.path.join(os.path.dirname(sys.executable), "st"), "--config-file", config_path, "run", spec_path,
        # One worker: CPython 3.11.7 breaks ("AST constructor recursion depth mismatch")
        # when hypothesis describes lambdas in two threads at once.
        "--no-color", "--workers", "1",
        "--phases", "examples,coverage,fuzzing",
    ]
    for op in operations:
        command += ["--include-operation-id", op.operation_id]
    return lambda: run(command, workdir, operations, name)


def run(command, workdir, operations, name):
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=workdir)
    elapsed = time.time() - started
    print(result.stdout[-20000:])
    generated = re.search(r"(\d+) generated", result.stdout)
    print(f"fuzzing {name}: {len(operations)} operations, {generated.group(1) if generated else '?'} cases, {elapsed:.0f} s, seed {SEED}")
    assert result.returncode == 0, (
        f"schemathesis found failures in {name} (seed {SEED}); reproduction above.\n{result.stdout[-20000:]}\n{result.stderr[-5000:]}"
    )
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert tested and int(tested.group(1)) == len(operations), f"schemathesis tested {tested and tested.group(1)} of {len(operations)} operations"


def test_fuzzing_with_the_contract_finds_nothing():
    swept = coverage()
    print(swept.report())
    # The portal's operations are called as a customer (a member session of the tenant's customer),
    # everything else with the organization's token.
    portal = [op for op in swept.routed if op.customer_session_accepted]
    merchant = [op for op in swept.routed if not op.customer_session_accepted]
    floe = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    receiver = Receiver()
    try:
        tenant = Tenant(floe, receiver)
        runs = [prepare(floe, tenant, merchant, tenant.token, "merchant")]
        if portal:
            # The owner's member session: it reaches everything a customer session does,
            # and the team's members too.
            runs.append(prepare(floe, tenant, portal, tenant.member_session_for(tenant.need("customer")["id"]), "portal"))
        for fuzz in runs:
            fuzz()
    finally:
        receiver.stop()
        floe.stop()
