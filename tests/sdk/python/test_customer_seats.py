"""Seats of a seat-based subscription through the official Python SDK: assign by email
(an invitation mailed through a local SMTP server, with a single-use token), claim it
without authentication, the holder's benefits, resend, revoke, and the seats going with
the subscription. Webhooks `customer_seat.*` are checked with the SDK's validator."""

import re
import uuid

import pytest
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver
from test_mail import smtp_sink, wait_for
from test_subscriptions import ADDRESS, Shop


@pytest.fixture(scope="module")
def world():
    controller, sink, port = smtp_sink()
    server = Floe(env={"FLOE_SMTP_URL": f"smtp://127.0.0.1:{port}", "FLOE_SWEEP_INTERVAL": "1",
                       "FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield server, sink
    server.stop()
    controller.stop()


def team_subscription(shop, seats=3, success_url=None):
    product = shop.polar.products.create(name="Team plan", recurring_interval="month", prices=[{
        "amount_type": "seat_based", "seat_tiers": {"seat_tier_type": "volume", "tiers": [
            {"min_seats": 1, "max_seats": None, "price_per_seat": 1000}]}}])
    benefit = shop.polar.benefits.create(type="custom", description="Team perk", properties={"note": "Welcome"})
    shop.polar.products.update_benefits(product.id, benefits=[benefit.id])
    checkout = shop.polar.checkouts.create(products=[product.id], seats=seats,
                                           customer_email=f"owner-{uuid.uuid4().hex[:6]}@example.com",
                                           customer_billing_address=ADDRESS, success_url=success_url)
    confirmed = shop.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa")
    [subscription] = shop.polar.subscriptions.list(customer_id=confirmed.customer_id).items
    return subscription, benefit


def invitations(sink, address):
    """The invitations mailed to `address` so far: (token, message), oldest first."""
    found = []
    for recipients, message in list(sink.messages):
        match = re.search(r"(polar_cst_seat_\w+)", message.get_content())
        if recipients == [address] and match:
            found.append((match.group(1), message))
    return found


def invitation_token(sink, address, count=1):
    return wait_for(lambda: invitations(sink, address)[count - 1:], f"invitation {count} to {address}")[0]


def test_assign_claim_resend_and_revoke(world):
    server, sink = world
    shop = Shop(server)
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw",
            events=["customer_seat.assigned", "customer_seat.claimed", "customer_seat.revoked"])
        subscription, benefit = team_subscription(shop, seats=3)
        # Through floe's checkout page the buyer took a seat: they have the benefits by it.
        listed = shop.polar.customer_seats.list_seats(subscription_id=subscription.id)
        [own] = listed.seats
        assert (listed.total_seats, listed.available_seats) == (3, 2)
        assert (own.status, own.customer_id) == ("claimed", subscription.customer_id)
        [owned] = wait_for(lambda: shop.polar.benefit_grants.list(customer_id=subscription.customer_id,
                                                                    is_granted=True).items, "the buyer's grant")
        assert owned.benefit.id == benefit.id

        address = f"member-{uuid.uuid4().hex[:6]}@example.com"
        seat = shop.polar.customer_seats.assign_seat(subscription_id=subscription.id, email=address,
                                                     metadata={"team": "blue"})
        assert (seat.status, seat.email, seat.customer_email, seat.subscription_id) == (
            "pending", address, address, subscription.id)
        assert seat.seat_metadata == {"team": "blue"} and seat.invitation_token_expires_at is not None
        token, message = invitation_token(sink, address)
        assert message["Subject"] == "You've been invited to access Team plan"

        # The same person twice, or past the seats bought, is refused.
        with pytest.raises(Exception) as twice:
            shop.polar.customer_seats.assign_seat(subscription_id=subscription.id, email=address)
        assert twice.value.status_code == 400
        second = shop.polar.customer_seats.assign_seat(subscription_id=subscription.id,
                                                       email=f"two-{uuid.uuid4().hex[:6]}@example.com",
                                                       immediate_claim=True)
        assert second.status == "claimed" and second.claimed_at is not None
        with pytest.raises(Exception) as full:
            shop.polar.customer_seats.assign_seat(subscription_id=subscription.id,
                                                  email=f"three-{uuid.uuid4().hex[:6]}@example.com")
        assert full.value.status_code == 400

        # Anyone with the token sees what it is for, and claims it once.
        info = shop.buyer.customer_seats.get_claim_info(token)
        assert (info.product_name, info.customer_email, info.can_claim) == ("Team plan", address, True)
        # A resend replaces the token: the first one no longer works.
        shop.polar.customer_seats.resend_invitation(seat.id)
        new_token, _ = invitation_token(sink, address, count=2)
        assert new_token != token
        with pytest.raises(Exception) as stale:
            shop.buyer.customer_seats.claim_seat(invitation_token=token)
        assert stale.value.status_code == 400
        claimed = shop.buyer.customer_seats.claim_seat(invitation_token=new_token)
        assert claimed.seat.status == "claimed" and claimed.customer_session_token.startswith("polar_cst_")
        with pytest.raises(Exception) as again:
            shop.buyer.customer_seats.claim_seat(invitation_token=new_token)
        assert again.value.status_code == 400

        # The holder has the product's benefits.
        holder = claimed.seat.customer_id
        grants = wait_for(lambda: shop.polar.benefit_grants.list(customer_id=holder, is_granted=True).items, "the grant")
        assert [g.benefit.id for g in grants] == [benefit.id]
        listed = shop.polar.customer_seats.list_seats(subscription_id=subscription.id)
        assert (listed.available_seats, sorted(s.status for s in listed.seats)) == (0, ["claimed"] * 3)

        # Revoked: the benefits go, the seat is free again.
        revoked = shop.polar.customer_seats.revoke_seat(seat.id)
        assert revoked.status == "revoked" and revoked.customer_id is None and revoked.revoked_at is not None
        assert shop.polar.benefit_grants.list(customer_id=holder, is_granted=True).items == []
        assert shop.polar.customer_seats.list_seats(subscription_id=subscription.id).available_seats == 1
        assert shop.polar.customer_seats.revoke_seat(seat.id).status == "revoked"

        deliveries = receiver.wait_for(5)
        kinds = []
        for delivery in deliveries:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            kinds.append(validate_event(delivery.body, headers, endpoint.secret).type)
        assert sorted(kinds) == ["customer_seat.assigned"] + ["customer_seat.claimed"] * 3 + [
            "customer_seat.revoked"]
        # A merchant with its own success page assigns the seats itself: the buyer has none,
        # and no benefits for buying them.
        theirs, _ = team_subscription(shop, seats=2, success_url="https://example.com/thanks")
        assert shop.polar.customer_seats.list_seats(subscription_id=theirs.id).available_seats == 2
        wait_for(lambda: shop.server.sql(
            "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
            f"WHERE o.grants_done_at IS NOT NULL AND c.email = '{theirs.customer.email}'"),
            "the grant worker's pass over the order")
        assert shop.polar.benefit_grants.list(customer_id=theirs.customer_id).items == []
    finally:
        receiver.stop()


def test_seats_end_with_their_subscription_and_stay_in_their_organization(world):
    server, _ = world
    shop = Shop(server)
    subscription, _ = team_subscription(shop, seats=3)
    seat = shop.polar.customer_seats.assign_seat(subscription_id=subscription.id,
                                                 email=f"s-{uuid.uuid4().hex[:6]}@example.com", immediate_claim=True)
    # Fewer seats than are assigned is refused.
    shop.polar.customer_seats.assign_seat(subscription_id=subscription.id, email=f"t-{uuid.uuid4().hex[:6]}@example.com")
    answer = shop.raw("PATCH", f"/v1/subscriptions/{subscription.id}", json={"seats": 1})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "seats"]
    other = Shop(server)
    with pytest.raises(Exception) as hidden:
        other.polar.customer_seats.revoke_seat(seat.id)
    assert hidden.value.status_code == 404
    with pytest.raises(Exception) as hidden:
        other.polar.customer_seats.list_seats(subscription_id=subscription.id)
    assert hidden.value.status_code == 404
    plain = shop.subscribe(shop.monthly(), email=f"plain-{uuid.uuid4().hex[:6]}@example.com")
    with pytest.raises(Exception) as not_seats:
        shop.polar.customer_seats.assign_seat(subscription_id=plain.id, email="x@example.com")
    assert not_seats.value.status_code == 400

    shop.polar.subscriptions.update(subscription.id, revoke=True)
    after = shop.polar.customer_seats.list_seats(subscription_id=subscription.id)
    assert [s.status for s in after.seats] == ["revoked"] * 3
    assert shop.polar.benefit_grants.list(customer_id=seat.customer_id, is_granted=True).items == []


def test_the_buyer_manages_seats_in_the_portal(world):
    """The billing customer assigns, re-invites and revokes seats of its own subscription
    with a customer session; another customer reaches none of it; the holder sees the
    subscription among those it holds a seat in."""
    server, sink = world
    shop = Shop(server)
    subscription, _ = team_subscription(shop, seats=3)
    portal = server.client(shop.polar.customer_sessions.create(customer_id=subscription.customer_id).token)
    listed = portal.customer_portal.seats.list_seats(subscription_id=subscription.id)
    assert (listed.total_seats, listed.available_seats) == (3, 2)

    address = f"mate-{uuid.uuid4().hex[:6]}@example.com"
    seat = portal.customer_portal.seats.assign_seat(subscription_id=subscription.id, email=address)
    assert (seat.status, seat.email) == ("pending", address)
    first, _ = invitation_token(sink, address)
    assert portal.customer_portal.seats.resend_invitation(seat.id).status == "pending"
    token, _ = invitation_token(sink, address, count=2)
    assert token != first
    claimed = shop.buyer.customer_seats.claim_seat(invitation_token=token)

    # The holder, with its own session, sees the subscription it holds a seat in, but cannot
    # manage its seats (the buyer's).
    holder = server.client(claimed.customer_session_token)
    held = holder.customer_portal.seats.list_claimed_subscriptions().items
    assert [s.id for s in held] == [subscription.id]
    stranger = server.client(shop.polar.customer_sessions.create(
        customer_id=shop.polar.customers.create(email=f"x-{uuid.uuid4().hex[:6]}@example.com").id).token)
    for who in (holder, stranger):
        for call in (lambda: who.customer_portal.seats.list_seats(subscription_id=subscription.id),
                     lambda: who.customer_portal.seats.revoke_seat(seat.id),
                     lambda: who.customer_portal.seats.resend_invitation(seat.id),
                     lambda: who.customer_portal.seats.assign_seat(subscription_id=subscription.id, email="m@example.com")):
            with pytest.raises(Exception) as refused:
                call()
            assert refused.value.status_code == 404
    assert stranger.customer_portal.seats.list_claimed_subscriptions().items == []

    revoked = portal.customer_portal.seats.revoke_seat(seat.id)
    assert revoked.status == "revoked"
    assert portal.customer_portal.seats.list_seats(subscription_id=subscription.id).available_seats == 2
    assert holder.customer_portal.seats.list_claimed_subscriptions().items == []
