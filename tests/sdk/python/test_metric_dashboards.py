"""Metric dashboards through the official Python SDK: create, list, get, update, delete; the
contract's limits (a name, at most ten metrics) and floe's own (only the contract's metric
slugs); another organization sees none of them. (Scopes and fuzzing come from the sweep.)"""

import httpx
import pytest
from polar.v2026_10.errors import HTTPValidationError, PolarClientError

from conftest import Floe


@pytest.fixture(scope="module")
def server():
    floe = Floe()
    yield floe
    floe.stop()


def client(server):
    organization = server.organization()
    token = server.token(organization)
    return organization, token, server.client(token)


def test_a_dashboard_from_creation_to_deletion(server):
    organization, token, polar = client(server)
    made = polar.metrics.create_dashboard(name="Revenue", metrics=["revenue", "net_revenue", "monthly_recurring_revenue"])
    assert made.name == "Revenue" and made.organization_id == organization["id"]
    assert made.metrics == ["revenue", "net_revenue", "monthly_recurring_revenue"] and made.modified_at is None
    empty = polar.metrics.create_dashboard(name="Empty")
    assert empty.metrics == []
    assert [d.id for d in polar.metrics.list_dashboards()] == [made.id, empty.id]
    assert polar.metrics.get_dashboard(made.id).metrics == made.metrics

    renamed = polar.metrics.update_dashboard(made.id, name="Money")
    assert renamed.name == "Money" and renamed.metrics == made.metrics and renamed.modified_at is not None
    reordered = polar.metrics.update_dashboard(made.id, metrics=["churn_rate", "revenue"])
    assert reordered.name == "Money" and reordered.metrics == ["churn_rate", "revenue"]

    polar.metrics.delete_dashboard(empty.id)
    # The SDK's error map for dashboards has no 404: a PolarClientError with its status.
    with pytest.raises(PolarClientError) as gone:
        polar.metrics.get_dashboard(empty.id)
    assert gone.value.status_code == 404
    assert [d.id for d in polar.metrics.list_dashboards()] == [made.id]

    # Another organization neither sees nor touches it.
    _, other_token, other = client(server)
    assert other.metrics.list_dashboards() == []
    with pytest.raises(PolarClientError) as hidden:
        other.metrics.get_dashboard(made.id)
    assert hidden.value.status_code == 404
    answer = httpx.patch(f"{server.url}/v1/metrics/dashboards/{made.id}", json={"name": "Mine"},
                         headers={"Authorization": f"Bearer {other_token}"})
    assert answer.status_code == 404
    assert polar.metrics.get_dashboard(made.id).name == "Money"


def test_what_a_dashboard_may_hold(server):
    organization, token, polar = client(server)
    made = polar.metrics.create_dashboard(name="Ten", metrics=["orders"] * 10)
    refusals = [
        ({"name": ""}, ["body", "name"]),
        ({"name": "Eleven", "metrics": ["orders"] * 11}, ["body", "metrics"]),
        ({"name": "Typo", "metrics": ["revenue", "revenu"]}, ["body", "metrics", 1]),
        ({"name": "Org", "organization_id": organization["id"]}, ["body", "organization_id"]),
    ]
    for body, loc in refusals:
        with pytest.raises(HTTPValidationError) as refused:
            polar.metrics.create_dashboard(**body)
        assert refused.value.error.detail[0].loc == loc, body
    for body in ({"name": None}, {"metrics": None}, {"metrics": ["nope"]}, {"name": ""}):
        answer = httpx.patch(f"{server.url}/v1/metrics/dashboards/{made.id}", json=body,
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 422, body
    assert polar.metrics.get_dashboard(made.id).metrics == ["orders"] * 10
    assert len(polar.metrics.list_dashboards()) == 1
