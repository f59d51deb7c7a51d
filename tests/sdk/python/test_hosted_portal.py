"""The hosted portal page (`{public_url}/portal/{slug}`), end to end in headless Chromium
with Playwright: a customer signs in with the code from the mail sink, downloads a file,
cancels and keeps the subscription, and changes plan after reading what it costs; the
merchant's receiver gets the matching webhooks, verified with the SDK. Also: the merchant's
link is traded for a cookie and leaves the address bar, an expired link asks to sign in,
forms posted without the session's form token are refused, a plain member sees no billing,
the page fits a 375 px phone and works from the keyboard. The browser is Debian's
`chromium`, never one Playwright downloads.

FLOE_SCREENSHOTS_DIR=docs/screenshots refreshes the README's portal screenshots."""

import os
import re
import tempfile
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from receiver import Receiver
from test_files import upload_file


@pytest.fixture(scope="module")
def floe():
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield server
    server.stop()


def new_page(browser, floe, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.outside = []
    page.on("request", lambda r: r.url.startswith(floe.url) or page.outside.append(r.url))
    return context, page


class Shop:
    def __init__(self, floe, name=None):
        self.floe = floe
        self.organization = floe.organization(name)
        self.slug = self.organization["slug"]
        self.token = floe.token(self.organization)
        self.polar = floe.client(self.token)

    def plan(self, name, amount, benefits=()):
        product = self.polar.products.create(name=name, recurring_interval="month",
                                             prices=[{"amount_type": "fixed", "price_amount": amount}])
        if benefits:
            self.polar.products.update_benefits(product.id, benefits=[b.id for b in benefits])
        return product

    def subscribe(self, product, email):
        checkout = self.polar.checkouts.create(products=[product.id], customer_email=email,
                                               customer_billing_address={"country": "FR"})
        confirmed = httpx.post(f"{self.floe.url}/v1/checkouts/client/{checkout.client_secret}/confirm",
                               json={"confirmation_token_id": "pm_card_visa"}, timeout=30)
        assert confirmed.status_code == 200, confirmed.text
        return self.polar.subscriptions.list(customer_id=confirmed.json()["customer_id"]).items[0]


def mailed_code(floe, address, used=()):
    deadline = time.time() + 20
    directory = os.path.join(floe.dir, "mail")
    while time.time() < deadline:
        for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            text = open(os.path.join(directory, name), encoding="utf-8", errors="replace").read()
            if address.lower() in text.lower():
                for code in re.findall(r"\n\n([A-Z0-9]{6})\n\n", text):
                    if code not in used:
                        return code
        time.sleep(0.05)
    raise AssertionError(f"no code mailed to {address}")


def sign_in(page, floe, shop, email):
    page.goto(f"{floe.url}/portal/{shop.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your purchases")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.get_by_label("Code").fill(mailed_code(floe, email))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()


def test_a_customer_signs_in_downloads_cancels_keeps_and_changes_plan(floe, browser):
    shop = Shop(floe)
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(
            url=receiver.url, format="raw",
            events=["subscription.canceled", "subscription.uncanceled", "subscription.updated"])
        manual = upload_file(shop.polar, b"the manual, chapter one", name="manual.txt", mime="text/plain")
        files = shop.polar.benefits.create(type="downloadables", description="The manual",
                                           properties={"files": [manual.id]})
        basic = shop.plan("Basic", 1000, [files])
        shop.plan("Pro", 3000, [files])
        email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        subscription = shop.subscribe(basic, email)

        deadline = time.time() + 30
        while not shop.polar.benefit_grants.list(customer_id=subscription.customer_id, is_granted=True).items:
            assert time.time() < deadline, "the manual was never granted"
            time.sleep(0.1)

        context, page = new_page(browser, floe)
        sign_in(page, floe, shop, email)
        expect(page.get_by_role("heading", name="Basic")).to_be_visible()

        # The file, downloaded through its signed link.
        with page.expect_download() as download:
            page.get_by_role("link", name="manual.txt").click()
        assert open(download.value.path(), "rb").read() == b"the manual, chapter one"

        # Cancel: a page says what changes before anything does.
        page.get_by_role("link", name="Cancel subscription").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Cancel Basic?")
        expect(page.get_by_text("You keep access until then")).to_be_visible()
        page.get_by_role("button", name="Cancel at period end").click()
        expect(page.get_by_role("status")).to_have_text("Your subscription will end at the end of the current period.")
        assert shop.polar.subscriptions.get(subscription.id).cancel_at_period_end
        page.get_by_role("button", name="Keep my subscription").click()
        expect(page.get_by_role("status")).to_have_text("Your subscription will renew as before.")
        assert not shop.polar.subscriptions.get(subscription.id).cancel_at_period_end

        # Change plan: what it costs now, then the change.
        page.get_by_label("Change plan").select_option(label="Pro")
        page.get_by_role("button", name="Review change").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Change Basic to Pro")
        # The seller prorates (the default): the credit and the debit wait for the next
        # invoice, as the change will compute them; reviewing changes nothing.
        expect(page.locator("body")).to_contain_text("Your next invoice will include")
        expect(page.get_by_text("Unused time on Basic")).to_be_visible()
        expect(page.get_by_text("Remaining time on Pro")).to_be_visible()
        assert shop.polar.subscriptions.get(subscription.id).product.id == basic.id
        page.get_by_role("button", name="Confirm change").click()
        expect(page.get_by_role("status")).to_have_text("Your plan was changed.")
        assert shop.polar.subscriptions.get(subscription.id).product.id != basic.id
        expect(page.get_by_role("heading", name="Pro")).to_be_visible()

        # Orders with their invoice: the customer gives the name it is made out to, then the
        # link leads to the PDF once it is drawn.
        invoice = page.get_by_role("link", name=re.compile("Invoice for the order")).first
        href = invoice.get_attribute("href")
        invoice.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Who is the invoice for?")
        page.get_by_label("Billing name").fill("Ada Lovelace Ltd")
        page.get_by_label("Address").fill("1 Rue de la Paix")
        page.get_by_label("Postal code").fill("75002")
        page.get_by_label("City").fill("Paris")
        page.get_by_role("button", name="Get the invoice").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your invoice is being prepared")
        deadline = time.time() + 30
        while True:
            answer = context.request.get(f"{floe.url}{href}")
            if answer.headers.get("content-type", "").startswith("application/pdf"):
                assert answer.body().startswith(b"%PDF")
                break
            assert answer.status == 202, (answer.status, answer.text()[:500])
            assert time.time() < deadline, "the invoice was never drawn"
            time.sleep(0.2)
        assert page.outside == []
        context.close()

        deliveries = receiver.wait_for(3)
        kinds = []
        for delivery in deliveries:
            headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
            event = validate_event(delivery.body, headers, endpoint.secret)
            assert event.data.id == subscription.id
            kinds.append(event.type)
        assert {"subscription.canceled", "subscription.uncanceled", "subscription.updated"} <= set(kinds), kinds
    finally:
        receiver.stop()


def test_the_merchants_link_becomes_a_cookie_and_leaves_the_address_bar(floe, browser):
    shop = Shop(floe)
    subscription = shop.subscribe(shop.plan("Basic", 1000), f"link-{uuid.uuid4().hex[:6]}@example.com")
    opened = shop.polar.customer_sessions.create(customer_id=subscription.customer_id)
    context, page = new_page(browser, floe)
    response = page.goto(opened.customer_portal_url)
    assert "customer_session_token" not in page.url and page.url.endswith(f"/portal/{shop.slug}")
    cookie = next(c for c in context.cookies() if c["name"] == "floe_portal_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == f"/portal/{shop.slug}"
    assert response.headers["cache-control"] == "no-store" and response.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", name="Basic")).to_be_visible()

    # A form posted without this session's form token (another site's) changes nothing.
    forged = context.request.post(f"{floe.url}/portal/{shop.slug}/subscriptions/{subscription.id}/cancel",
                                  form={"form_token": "x"})
    assert forged.status == 403
    assert not shop.polar.subscriptions.get(subscription.id).cancel_at_period_end

    # Signed out, the cookie is gone; an expired or foreign link asks to sign in.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email")).to_be_visible()
    other = Shop(floe)
    foreign = other.polar.customer_sessions.create(customer_id=other.polar.customers.create(email=f"o-{uuid.uuid4().hex[:6]}@example.com").id)
    page.goto(f"{floe.url}/portal/{shop.slug}?customer_session_token={foreign.token}")
    expect(page.get_by_role("status")).to_have_text("That link has expired. Sign in with your email instead.")
    context.close()


def test_a_plain_member_sees_no_billing(floe, browser):
    shop = Shop(floe)
    team = shop.polar.customers.create(type="team", email=f"team-{uuid.uuid4().hex[:6]}@example.com")
    member = shop.polar.customers.members.create(team.id, email=f"m-{uuid.uuid4().hex[:6]}@example.com")
    opened = shop.polar.customer_sessions.create(customer_id=team.id, member_id=member.id)
    context, page = new_page(browser, floe)
    page.goto(opened.customer_portal_url)
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
    expect(page.get_by_role("heading", name="Orders")).to_have_count(0)
    expect(page.get_by_role("heading", name="Payment methods")).to_have_count(0)
    # Nor may it reach the billing pages by their address.
    response = page.goto(f"{floe.url}/portal/{shop.slug}/subscriptions/{uuid.uuid4()}/cancel")
    assert response.status == 403
    context.close()


def test_a_phone_and_the_keyboard(floe, browser):
    shop = Shop(floe)
    email = f"kb-{uuid.uuid4().hex[:6]}@example.com"
    shop.subscribe(shop.plan("Basic", 1000), email)
    context, page = new_page(browser, floe, width=375, height=740)
    page.goto(f"{floe.url}/portal/{shop.slug}")
    # The keyboard alone: the first Tab reaches the email field, Enter sends the form.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Code")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "code"
    page.keyboard.type(mailed_code(floe, email))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Basic")).to_be_visible()
    # Every control has a name; nothing is wider than the phone.
    unnamed = page.evaluate("""[...document.querySelectorAll('input:not([type=hidden]),select,button,a')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.outerHTML)""")
    assert unnamed == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


def test_screenshots(floe, browser):
    out = os.environ.get("FLOE_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="floe-shots-")
    os.makedirs(out, exist_ok=True)
    shop = Shop(floe, name="Acme Studio")
    manual = upload_file(shop.polar, b"guide", name="user-guide.pdf", mime="application/pdf")
    files = shop.polar.benefits.create(type="downloadables", description="Guide", properties={"files": [manual.id]})
    keys = shop.polar.benefits.create(type="license_keys", description="License", properties={"prefix": "ACME"})
    basic = shop.plan("Studio", 1900, [files, keys])
    shop.plan("Studio Pro", 4900)
    email = f"grace-{uuid.uuid4().hex[:6]}@example.com"
    subscription = shop.subscribe(basic, email)
    opened = shop.polar.customer_sessions.create(customer_id=subscription.customer_id)
    deadline = time.time() + 30
    while time.time() < deadline and len(shop.polar.benefit_grants.list(customer_id=subscription.customer_id).items) < 2:
        time.sleep(0.1)
    for name, width, height in (("desktop", 1100, 900), ("phone", 375, 812)):
        context, page = new_page(browser, floe, width, height)
        page.goto(opened.customer_portal_url)
        expect(page.get_by_role("heading", name="Studio", exact=True)).to_be_visible()
        path = os.path.join(out, f"hosted-portal-{name}.png")
        page.screenshot(path=path, full_page=True)
        assert os.path.getsize(path) > 10_000
        context.close()


def test_a_customer_adds_a_card_and_it_becomes_the_default(floe, browser):
    shop = Shop(floe)
    subscription = shop.subscribe(shop.plan("Basic", 1000), f"card-{uuid.uuid4().hex[:6]}@example.com")
    opened = shop.polar.customer_sessions.create(customer_id=subscription.customer_id)
    context, page = new_page(browser, floe)
    page.goto(opened.customer_portal_url)
    page.get_by_role("link", name="Add a card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a card")
    # A card that is not a test card is refused, and said so beside the form.
    page.get_by_label("Card number").fill("4111 1111 1111 1112")
    page.get_by_label("Expiry date").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid")
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_label("Expiry date").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("status")).to_contain_text("Your card was saved")
    expect(page.get_by_text("Mastercard ending in 4444")).to_be_visible()
    customer = shop.polar.customers.get(subscription.customer_id)
    methods = httpx.get(f"{floe.url}/v1/customer-portal/customers/me/payment-methods",
                        headers={"Authorization": f"Bearer {opened.token}"}).json()["items"]
    default = next(m for m in methods if m["id"] == customer.default_payment_method_id)
    assert default["method_metadata"]["last4"] == "4444"

    # A card whose bank asks for a step: confirmed on the next page.
    page.get_by_role("link", name="Add a card").click()
    page.get_by_label("Card number").fill("4000 0025 0000 3155")
    page.get_by_label("Expiry date").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your card")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Your card was saved")
    expect(page.get_by_text("Visa ending in 3155")).to_be_visible()
    assert page.outside == []
    context.close()
