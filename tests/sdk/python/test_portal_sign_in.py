"""Signing in to the portal with a code mailed to the customer: the code becomes a session
(a member's for a member's email), works once, and marks the email verified; an unknown
email gets the same 202 after the same time and no mail; misses burn an email's codes at
the fifth; codes per email and calls per IP are limited (429 with Retry-After)."""

import os
import re
import statistics
import time
import uuid

import httpx
import pytest

from conftest import Floe


@pytest.fixture
def floe():
    server = Floe()
    yield server
    server.stop()


def shop(floe):
    organization = floe.organization()
    return organization, floe.client(floe.token(organization))


def ask(floe, organization, email):
    return httpx.post(f"{floe.url}/v1/customer-portal/customer-session/request",
                      json={"email": email, "organization_id": organization["id"]})


def trade(floe, code, organization=None, email=None):
    body = {"code": code}
    if organization:
        body |= {"organization_id": organization["id"], "email": email}
    return httpx.post(f"{floe.url}/v1/customer-portal/customer-session/authenticate", json=body)


def mails_to(floe, address):
    directory = os.path.join(floe.dir, "mail")
    texts = [open(os.path.join(directory, name), encoding="utf-8", errors="replace").read()
             for name in sorted(os.listdir(directory))] if os.path.isdir(directory) else []
    return [t for t in texts if address.lower() in t.lower()]


def mailed_code(floe, address, used=()):
    """A code mailed to `address` that is not one of `used` (mail files are named by ID,
    not in the order they were sent)."""
    deadline = time.time() + 20
    while time.time() < deadline:
        codes = [c for text in mails_to(floe, address) for c in re.findall(r"\n\n([A-Z0-9]{6})\n\n", text)
                 if c not in used]
        if codes:
            return codes[0]
        time.sleep(0.05)
    raise AssertionError(f"no code mailed to {address}")


def email():
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def test_a_code_signs_the_customer_in_once(floe):
    organization, polar = shop(floe)
    address = email()
    ada = polar.customers.create(email=address, name="Ada")
    assert not ada.email_verified
    answer = ask(floe, organization, address.upper())
    assert (answer.status_code, answer.content) == (202, b"")
    code = mailed_code(floe, address)
    signed_in = trade(floe, code.lower(), organization, address)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["token"]
    assert token.startswith("polar_cst_")
    me = floe.client(token).customer_portal.customers.get()
    assert (me.id, me.email_verified) == (ada.id, True)
    again = trade(floe, code, organization, address)
    assert (again.status_code, again.json()["error"]) == (401, "CustomerSessionCodeInvalidOrExpired")

    # Polar's own shape, the code alone, works too.
    ask(floe, organization, address)
    assert trade(floe, mailed_code(floe, address, used={code})).status_code == 200


def test_a_members_email_signs_the_member_in(floe):
    organization, polar = shop(floe)
    team = polar.customers.create(type="team", email=email())
    grace = polar.customers.members.create(team.id, email=email(), role="billing_manager")
    assert ask(floe, organization, grace.email).status_code == 202
    token = trade(floe, mailed_code(floe, grace.email), organization, grace.email).json()["token"]
    assert token.startswith("polar_mst_")
    user = floe.client(token).customer_portal.customer_session.get_authenticated_user()
    assert (user.type, user.member_id, user.customer_id) == ("member", grace.id, team.id)


def test_an_unknown_email_looks_the_same(floe):
    organization, polar = shop(floe)
    known = email()
    polar.customers.create(email=known)
    timings = {"known": [], "unknown": []}
    for _ in range(3):
        for kind, address in (("known", known), ("unknown", email())):
            started = time.perf_counter()
            answer = ask(floe, organization, address)
            timings[kind].append(time.perf_counter() - started)
            assert (answer.status_code, answer.content) == (202, b"")
        # A fresh address each round for the known kind would need a customer each: wait
        # out nothing, the per-email window allows three.
    assert min(timings["known"] + timings["unknown"]) >= 0.4, timings
    gap = abs(statistics.median(timings["known"]) - statistics.median(timings["unknown"]))
    assert gap < 0.15, timings
    # An organization that does not exist is answered the same way.
    assert httpx.post(f"{floe.url}/v1/customer-portal/customer-session/request",
                      json={"email": known, "organization_id": str(uuid.uuid4())}).status_code == 202
    # A malformed email is the caller's mistake, said as such.
    bad = ask(floe, organization, "not-an-email")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "email"]


def test_misses_burn_the_emails_codes(floe):
    organization, polar = shop(floe)
    address = email()
    polar.customers.create(email=address)
    ask(floe, organization, address)
    code = mailed_code(floe, address)
    wrong = "".join("A" if c != "A" else "B" for c in code)
    for _ in range(5):
        assert trade(floe, wrong, organization, address).status_code == 401
    burned = trade(floe, code, organization, address)
    assert (burned.status_code, burned.json()["error"]) == (401, "CustomerSessionCodeInvalidOrExpired")


def test_codes_per_email_and_calls_per_ip_are_limited(floe):
    organization, polar = shop(floe)
    address = email()
    polar.customers.create(email=address)
    for _ in range(3):
        assert ask(floe, organization, address).status_code == 202
    limited = ask(floe, organization, address)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0, limited.text
    assert len(mails_to(floe, address)) <= 3
    # Tries from one IP: 20 calls per window, requests and tries together (the three
    # requests above count; the refused one does not).
    answers = [trade(floe, "ZZZZZZ").status_code for _ in range(18)]
    assert answers[:17] == [401] * 17 and answers[17] == 429, answers


def test_behind_a_trusted_proxy_each_client_has_its_own_window():
    """With `FLOE_TRUSTED_PROXIES`, the per-IP window is the forwarded client's; without
    it, `X-Forwarded-For` is the caller's own claim and changes nothing."""
    proxied = Floe(env={"FLOE_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        def tries(server, client):
            return [httpx.post(f"{server.url}/v1/customer-portal/customer-session/authenticate",
                               json={"code": "ZZZZZZ"}, headers={"X-Forwarded-For": client}).status_code
                    for _ in range(21)]
        assert tries(proxied, "203.0.113.1")[-2:] == [401, 429]
        assert tries(proxied, "203.0.113.2")[0] == 401
    finally:
        proxied.stop()
    direct = Floe()
    try:
        assert tries(direct, "203.0.113.1")[-1] == 429
        spoofed = httpx.post(f"{direct.url}/v1/customer-portal/customer-session/authenticate",
                             json={"code": "ZZZZZZ"}, headers={"X-Forwarded-For": "203.0.113.9"})
        assert spoofed.status_code == 429
    finally:
        direct.stop()
