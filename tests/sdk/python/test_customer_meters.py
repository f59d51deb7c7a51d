"""Customer meters and the system events behind them, through the official Python SDK: the
SDK must load `CustomerMeter`, `CustomerState.active_meters` and typed `meter.credited` /
`meter.reset` events. Credits and resets are made with floe's admin command."""

import uuid

import pytest
from polar.base import PolarClientError
from polar.v2026_10.errors import ResourceNotFound


def test_customer_meters_credits_and_resets(floe, org):
    customer = org.polar.customers.create(email=f"m-{uuid.uuid4().hex[:8]}@example.com", external_id="cm-" + uuid.uuid4().hex[:6])
    meter = org.polar.meters.create(
        name="Requests", filter={"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "request"}]},
        aggregation={"func": "count"},
    )
    org.polar.events.ingest(events=[{"name": "request", "external_customer_id": customer.external_id} for _ in range(3)])
    listed = org.polar.customer_meters.list()
    assert listed.pagination.total_count == 1
    item = listed.items[0]
    assert (item.consumed_units, item.credited_units, item.balance) == (3, 0, -3)
    assert item.customer.id == customer.id and item.meter.id == meter.id

    admin = ["--organization", org.organization["slug"], "--customer", customer.id, "--meter", meter.id]
    floe.cli("meter", "credit", *admin, "--units", "10")
    got = org.polar.customer_meters.get(item.id)
    assert (got.consumed_units, got.credited_units, got.balance) == (3, 10, 7)
    floe.cli("meter", "reset", *admin)
    floe.cli("meter", "credit", *admin, "--units", "5", "--rollover")
    org.polar.events.ingest(events=[{"name": "request", "customer_id": customer.id}])
    got = org.polar.customer_meters.get(item.id)
    assert (got.consumed_units, got.credited_units, got.balance) == (1, 5, 4)

    state = org.polar.customers.get_state(customer.id)
    assert [(m.meter_id, m.balance) for m in state.active_meters] == [(meter.id, 4)]
    system = org.polar.events.list(source="system", sorting=["timestamp"], limit=10).items
    assert [(e.name, e.label) for e in system] == [
        ("meter.credited", "Meter Credited"), ("meter.reset", "Meter Reset"), ("meter.credited", "Meter Credited"),
    ]
    assert type(system[0]).__name__ == "MeterCreditEvent"
    assert system[0].metadata.units == 10 and system[2].metadata.rollover is True
    assert system[1].metadata.meter_id == meter.id
    assert system[0].customer.id == customer.id

    assert org.polar.customer_meters.list(customer_id=customer.id, meter_id=meter.id).pagination.total_count == 1
    assert org.polar.customer_meters.list(sorting=["-balance"]).items[0].id == item.id
    other = floe.client(floe.token(floe.organization()))
    assert other.customer_meters.list().items == []
    with pytest.raises(ResourceNotFound):
        other.customer_meters.get(item.id)
    no_scope = floe.client(floe.token(org.organization, "meters:read"))
    with pytest.raises(PolarClientError) as error:
        no_scope.customer_meters.list()
    assert error.value.status_code == 403


def test_admin_command_checks_what_it_is_given(floe, org):
    result = floe.run_cli("meter", "credit", "--organization", org.organization["slug"], "--customer", str(uuid.uuid4()),
                          "--meter", str(uuid.uuid4()), "--units", "1")
    assert result.returncode != 0 and "no customer" in result.stderr
