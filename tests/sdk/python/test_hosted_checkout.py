"""The hosted checkout page (`{public_url}/checkout/{client_secret}`), driven end to end in
headless Chromium with Playwright: a buyer fills the form and pays with the test
processor's cards (a success with a verified `order.paid` webhook, a decline that leaves the
checkout open, the authentication step), a free product without a card form, inline errors,
the product choice, seats, discount codes and custom fields, accessibility (labels,
autocomplete tokens, a 375 px phone, the keyboard), expiry (410), unknown secrets (404) and
HTML escaping. The browser is Debian's `chromium`, never one Playwright downloads.

A Stripe checkout's page shows Stripe's Payment Element and pays with the confirmation
token Stripe.js makes. This machine cannot reach js.stripe.com (and tests never call
Stripe), so `https://js.stripe.com/v3/` is answered by Playwright's `page.route` with a
small stand-in written here (STRIPE_JS_STUB: `Stripe()`, `elements().create('payment')
.mount()`, `elements.submit()`, `createConfirmationToken()`, `handleNextAction()`), and
floe's Stripe calls go to the local fake Stripe (fake_stripe.py). What is tested is floe's
side: the page, its policy, its script, the POST and the sale; not Stripe.js itself.

FLOE_SCREENSHOTS_DIR=docs/screenshots (from the repository root, as an absolute path or
relative to this directory) refreshes the README's screenshots."""

import os
import re
import tempfile
import uuid

import pytest
from playwright.sync_api import expect
from polar.v2026_10.webhooks import validate_event

from conftest import Floe
from fake_stripe import FakeStripe
from receiver import Receiver

CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0025 0000 3155"


@pytest.fixture(scope="module")
def hooked():
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    yield server
    server.stop()


@pytest.fixture
def page(browser, hooked):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The page is self-contained: every request it makes goes to floe itself.
    page.outside = []
    page.on("request", lambda r: r.url.startswith(hooked.url) or page.outside.append(r.url))
    # A dialog would mean a script ran: the pages have none of their own.
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    assert page.outside == [] and page.dialogs == []
    context.close()


class Shop:
    def __init__(self, server, name=None):
        self.server = server
        self.organization = server.organization(name)
        self.polar = server.client(server.token(self.organization))

    def product(self, name="Pro plan", prices=None, **fields):
        prices = prices or [{"amount_type": "fixed", "price_amount": 1900}]
        return self.polar.products.create(name=name, prices=prices, **fields)

    def checkout(self, *products, **fields):
        products = products or (self.product(),)
        return self.polar.checkouts.create(products=[p.id for p in products], **fields)


@pytest.fixture
def shop(hooked):
    return Shop(hooked)


def fill_buyer(page, email="ada@example.com", country="FR"):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Country").select_option(country)


def fill_card(page, number=CARD_OK, expiry="12/34", cvc="123"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry date").fill(expiry)
    page.get_by_label("Security code (CVC)").fill(cvc)


def pay(page):
    page.locator("#pay").click()
    page.wait_for_load_state()


def test_a_buyer_pays_with_a_test_card(shop, page):
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw", events=["order.paid"])
        product = shop.product(description="Everything in Pro.")
        checkout = shop.checkout(product)
        response = page.goto(checkout.url)
        assert response.status == 200 and response.headers["content-type"].startswith("text/html")
        assert response.headers["referrer-policy"] == "no-referrer" and response.headers["cache-control"] == "no-store"
        expect(page.get_by_role("heading", level=1)).to_have_text("Pro plan")
        expect(page.locator("header")).to_have_text(shop.organization["name"])
        expect(page.get_by_text("Everything in Pro.")).to_be_visible()
        expect(page.locator("#total")).to_have_text("19.00 USD")

        fill_buyer(page)
        page.get_by_label("Name", exact=True).fill("Ada Lovelace")
        fill_card(page)
        expect(page.locator("#pay")).to_have_text("Pay 19.00 USD")
        pay(page)
        assert page.url == checkout.success_url == f"{checkout.url}/confirmation"
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Payment received")
        expect(page.get_by_text("A receipt goes to ada@example.com.")).to_be_visible()

        orders = shop.polar.orders.list(checkout_id=checkout.id).items
        assert [(o.status, o.paid, o.total_amount) for o in orders] == [("paid", True, 1900)]
        assert orders[0].customer.email == "ada@example.com" and orders[0].billing_name == "Ada Lovelace"
        assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
        payment = shop.polar.payments.list(checkout_id=checkout.id).items[0]
        assert (payment.status, payment.method_metadata.last4) == ("succeeded", "4242")

        delivery = receiver.wait_for(1)[0]
        headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        event = validate_event(delivery.body, headers, endpoint.secret)
        assert event.type == "order.paid" and event.data.checkout_id == checkout.id and event.data.status == "paid"

        # The checkout's page now shows the outcome instead of a form.
        page.goto(checkout.url)
        assert page.url == f"{checkout.url}/confirmation"
    finally:
        receiver.stop()


def test_a_declined_card_leaves_the_checkout_open(shop, page):
    checkout = shop.checkout()
    page.goto(checkout.url)
    fill_buyer(page)
    fill_card(page, CARD_DECLINED)
    pay(page)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    assert page.url == checkout.url
    assert shop.polar.checkouts.get(checkout.id).status == "open"
    assert shop.polar.orders.list(checkout_id=checkout.id).items == []
    # What the buyer typed is kept, but the security code never comes back; the attempt
    # made the checkout's customer, whose email the order keeps.
    expect(page.get_by_label("Email")).to_have_value("ada@example.com")
    expect(page.get_by_label("Email")).to_have_attribute("readonly", "")
    expect(page.get_by_label("Security code (CVC)")).to_have_value("")

    # Reloaded, the page still says what happened last.
    page.goto(checkout.url)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")

    fill_card(page, CARD_OK)
    pay(page)
    assert page.url == checkout.success_url
    assert shop.polar.checkouts.get(checkout.id).status == "succeeded"
    statuses = sorted(p.status for p in shop.polar.payments.list(checkout_id=checkout.id).items)
    assert statuses == ["failed", "succeeded"]


def test_a_card_that_asks_for_authentication(shop, page):
    success_url = f"{shop.server.url}/healthz?checkout={{CHECKOUT_ID}}"
    checkout = shop.checkout(success_url=success_url)
    page.goto(checkout.url)
    fill_buyer(page)
    fill_card(page, CARD_3DS)
    pay(page)
    assert page.url == f"{checkout.url}/authenticate"
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your payment")
    assert shop.polar.checkouts.get(checkout.id).status == "confirmed"

    # The buyer fails the step: back to the form, with the processor's message.
    page.get_by_role("button", name="Fail").click()
    page.wait_for_load_state()
    assert page.url == checkout.url
    expect(page.get_by_role("alert")).to_contain_text("unable to authenticate")
    assert shop.polar.orders.list(checkout_id=checkout.id).items == []

    fill_card(page, CARD_3DS)
    pay(page)
    assert page.url == f"{checkout.url}/authenticate"
    page.get_by_role("button", name="Complete").click()
    page.wait_for_load_state()
    # The merchant's success URL, with the checkout's ID filled in.
    assert page.url == f"{shop.server.url}/healthz?checkout={checkout.id}"
    orders = shop.polar.orders.list(checkout_id=checkout.id).items
    assert [(o.status, o.total_amount) for o in orders] == [("paid", 1900)]
    # Answered once: the step is gone.
    page.goto(f"{checkout.url}/authenticate")
    assert page.url == f"{checkout.url}/confirmation"


def test_a_free_product_needs_no_card(shop, page):
    product = shop.product(name="Free tier", prices=[{"amount_type": "fixed", "price_amount": 0}])
    checkout = shop.checkout(product)
    page.goto(checkout.url)
    expect(page.locator("#total")).to_have_text("0.00 USD")
    expect(page.locator("input[name^=card_]")).to_have_count(0)
    expect(page.get_by_text("No payment details are needed.")).to_be_visible()
    page.get_by_label("Email").fill("free@example.com")
    page.get_by_role("button", name="Complete order").click()
    page.wait_for_load_state()
    assert page.url == checkout.success_url
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Payment received")
    order = shop.polar.orders.list(checkout_id=checkout.id).items[0]
    assert (order.status, order.total_amount) == ("paid", 0)
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []


def test_pay_what_you_want_amounts(shop, page):
    product = shop.product(name="Tip jar", prices=[
        {"amount_type": "custom", "minimum_amount": 500, "maximum_amount": 10000, "preset_amount": 1500}])
    checkout = shop.checkout(product)
    page.goto(checkout.url)
    amount = page.get_by_label("Amount you pay (USD)")
    expect(amount).to_have_value("15.00")
    expect(page.locator("#total")).to_have_text("15.00 USD")

    amount.fill("2")
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(page.locator("#f-amount-error")).to_contain_text("Amount must be at least 5.00 USD.")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("2")
    expect(page.get_by_role("alert").get_by_role("link")).to_have_text("Amount must be at least 5.00 USD.")
    assert shop.polar.checkouts.get(checkout.id).amount == 1500

    amount.fill("abc")
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(page.locator("#f-amount-error")).to_contain_text("Enter an amount such as 25.00.")

    amount.fill("25")
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_have_text("Your order was updated.")
    expect(page.locator("#total")).to_have_text("25.00 USD")

    # A changed amount is shown before it is charged: Pay first says the total changed.
    amount.fill("30")
    fill_buyer(page)
    fill_card(page)
    pay(page)
    expect(page.get_by_role("status")).to_contain_text("The total changed")
    expect(page.locator("#total")).to_have_text("30.00 USD")
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []
    fill_card(page)
    pay(page)
    assert page.url == checkout.success_url
    assert shop.polar.orders.list(checkout_id=checkout.id).items[0].total_amount == 3000


def test_products_seats_discount_codes_and_custom_fields(shop, page):
    company = shop.polar.custom_fields.create(type="text", slug=f"company-{uuid.uuid4().hex[:6]}", name="Company",
                                              properties={"form_label": "Company <name>",
                                                          "form_help_text": "As on your invoices."})
    terms = shop.polar.custom_fields.create(type="checkbox", slug=f"terms-{uuid.uuid4().hex[:6]}", name="Terms",
                                            properties={"form_label": "I accept the terms"})
    size = shop.polar.custom_fields.create(type="select", slug=f"size-{uuid.uuid4().hex[:6]}", name="Size",
                                           properties={"options": [{"value": "s", "label": "Small"},
                                                                   {"value": "m", "label": "Medium"}]})
    solo = shop.product(name="Solo", attached_custom_fields=[
        {"custom_field_id": company.id, "required": True}, {"custom_field_id": terms.id, "required": True},
        {"custom_field_id": size.id, "required": False}])
    team = shop.product(name="Team", prices=[{"amount_type": "seat_based", "seat_tiers": {
        "seat_tier_type": "volume", "tiers": [{"min_seats": 1, "max_seats": None, "price_per_seat": 1000}]}}])
    shop.polar.discounts.create(type="percentage", name="Tenth", duration="once", basis_points=1000, code="TENTH")
    checkout = shop.checkout(solo, team, allow_discount_codes=True)
    page.goto(checkout.url)
    choice = page.get_by_role("group", name="Choose a product")
    expect(choice.get_by_role("radio")).to_have_count(2)
    expect(choice.get_by_label("Solo")).to_be_checked()
    expect(page.get_by_text("Company <name>")).to_be_visible()
    expect(page.get_by_text("As on your invoices.")).to_be_visible()

    # A code that does not exist, then one that does.
    page.get_by_label("Discount code").fill("NOPE")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    expect(page.locator("#f-discount_code-error")).to_contain_text("This discount code is not valid.")
    page.get_by_label("Discount code").fill("tenth")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    expect(page.locator("dl.totals")).to_contain_text("Discount (Tenth)")
    expect(page.locator("#total")).to_have_text("17.10 USD")

    # Required custom fields are asked for at payment, beside their inputs.
    fill_buyer(page)
    fill_card(page)
    pay(page)
    expect(page.locator(f"#f-custom_field_data-{company.slug}-error")).to_contain_text("This field is required.")
    expect(page.locator(f"#f-custom_field_data-{terms.slug}-error")).to_be_visible()
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []

    # Another product, with seats.
    choice.get_by_label("Team").check()
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    seats = page.get_by_label("Seats")
    expect(seats).to_have_value("1")
    seats.fill("3")
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(page.locator("#total")).to_have_text("27.00 USD")
    seats.fill("0")
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(page.locator("#f-seats-error")).to_be_visible()

    # Back to Solo, answering the custom fields, and pay.
    page.goto(checkout.url)
    choice.get_by_label("Solo").check()
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    page.get_by_label("Company <name>").fill("Analytical Engines Ltd")
    page.get_by_label("I accept the terms").check()
    page.get_by_label("Size").select_option("m")
    fill_card(page)
    pay(page)
    assert page.url == checkout.success_url
    order = shop.polar.orders.list(checkout_id=checkout.id).items[0]
    assert (order.product.id, order.total_amount) == (solo.id, 1710)
    assert order.custom_field_data[company.slug] == "Analytical Engines Ltd"
    assert order.custom_field_data[terms.slug] is True and order.custom_field_data[size.slug] == "m"


def test_a_full_billing_address_when_the_country_needs_one(shop, page):
    checkout = shop.checkout()
    page.goto(checkout.url)
    expect(page.get_by_label("City")).to_have_count(0)
    fill_buyer(page, country="US")
    fill_card(page)
    pay(page)
    # A US buyer gives the full address: its fields appear, each saying what is missing.
    expect(page.locator("#f-line1-error")).to_contain_text("Enter your street address.")
    expect(page.locator("#f-city-error")).to_be_visible()
    page.get_by_label("Address line 1").fill("1 Main St")
    page.get_by_label("City").fill("New York")
    page.get_by_label("State / Province").fill("US-NY")
    page.get_by_label("Postal code").fill("10001")
    fill_card(page)
    pay(page)
    assert page.url == checkout.success_url
    address = shop.polar.orders.list(checkout_id=checkout.id).items[0].billing_address
    assert (address.country, address.city, address.postal_code) == ("US", "New York", "10001")


AUTOCOMPLETE = {
    "customer_email": "email", "customer_name": "name", "country": "country", "line1": "address-line1",
    "line2": "address-line2", "city": "address-level2", "state": "address-level1", "postal_code": "postal-code",
    "card_number": "cc-number", "card_expiry": "cc-exp", "card_cvc": "cc-csc",
}

VISIBLE_FIELDS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden' && e.getClientRects().length > 0)
    .map(e => ({name: e.name, labels: e.labels ? e.labels.length : 0,
                autocomplete: e.getAttribute('autocomplete'), inputmode: e.getAttribute('inputmode')}))"""


def test_labels_autocomplete_phone_and_keyboard(shop, browser, page):
    checkout = shop.checkout(require_billing_address=True, allow_discount_codes=True)
    page.goto(checkout.url)
    assert page.evaluate("document.documentElement.lang") == "en"
    fields = {f["name"]: f for f in page.evaluate(VISIBLE_FIELDS)}
    assert set(AUTOCOMPLETE) <= set(fields)
    assert [name for name, f in fields.items() if f["labels"] < 1] == []
    assert {name: fields[name]["autocomplete"] for name in AUTOCOMPLETE} == AUTOCOMPLETE
    assert all(fields[name]["inputmode"] == "numeric" for name in ("card_number", "card_expiry", "card_cvc"))
    assert page.evaluate("document.querySelectorAll('script').length") == 0

    # Keyboard only: Tab reaches Pay, its focus is visible, Enter presses it.
    page.locator("body").click(position={"x": 1, "y": 1})
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "pay":
            break
    assert page.evaluate("document.activeElement.id") == "pay"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    summary = page.get_by_role("alert")
    for fault in ("Enter your email address.", "Select your country.", "Enter your street address.",
                  "Enter your card number."):
        expect(summary).to_contain_text(fault)
    # The summary links each fault to its field.
    summary.get_by_role("link", name="Enter your email address.").click()
    assert page.evaluate("document.activeElement.name") == "customer_email"

    # Enter in a field pays too (not the "Apply" button that comes first).
    fill_buyer(page)
    for name, value in (("line1", "1 Rue de Rivoli"), ("city", "Paris"), ("postal_code", "75001")):
        page.locator(f"[name={name}]").fill(value)
    fill_card(page)
    page.get_by_label("Security code (CVC)").press("Enter")
    # (The fragment of the summary's link stays on the URL through the redirect.)
    page.wait_for_url(re.compile(re.escape(checkout.success_url) + "(#.*)?$"))

    # A phone: everything fits without scrolling sideways.
    phone = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    try:
        small = phone.new_page()
        other = shop.checkout(shop.product(name="A product with a rather long name that has to wrap somewhere"),
                              require_billing_address=True, allow_discount_codes=True)
        small.goto(other.url)
        assert small.evaluate("document.documentElement.scrollWidth") <= 375
        small.goto(other.url)
        small.locator("#pay").click()
        small.wait_for_load_state()
        expect(small.get_by_role("alert")).to_be_visible()
        assert small.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        phone.close()


def test_expired_and_unknown_checkouts(shop, page):
    checkout = shop.checkout()
    shop.server.sql("UPDATE checkouts SET expires_at = '2020-01-01T00:00:00+00:00' "
                    f"WHERE client_secret = '{checkout.client_secret}'")
    response = page.goto(checkout.url)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This checkout has expired")
    response = page.request.post(checkout.url, form={"action": "pay"}, max_redirects=0)
    assert response.status == 410

    response = page.goto(f"{shop.server.url}/checkout/polar_c_{'x' * 43}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout not found")
    assert page.request.post(f"{shop.server.url}/checkout/nope", data=b"\xff\x00=&&==",
                             max_redirects=0).status == 404


def test_names_are_shown_as_text(shop, page):
    product = shop.product(name="<script>alert(1)</script>", description='<img src=x onerror="alert(2)"> & more')
    checkout = shop.checkout(product)
    page.goto(checkout.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("<script>alert(1)</script>")
    expect(page.get_by_text('<img src=x onerror="alert(2)"> & more')).to_be_visible()
    assert page.evaluate("document.querySelectorAll('script, img').length") == 0
    assert "<script>alert(1)</script>" in page.title()
    # Odd form input is a page, never a server error.
    for body in (b"action=pay&total=%ff%fe", b"seats=99999999999999999999999&amount=1e9&action=update",
                 b"product_id=not-a-uuid&country=ZZ&action=pay", b"\x00\x01\x02"):
        response = page.request.post(checkout.url, data=body, max_redirects=0,
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status < 500, (body, response.status)


def test_screenshots(hooked, browser):
    """The README's pictures of the page, on a desktop and on a phone."""
    out = os.environ.get("FLOE_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="floe-shots-")
    os.makedirs(out, exist_ok=True)
    shop = Shop(hooked, name="Acme Inc.")
    product = shop.product(name="Acme Pro", description="Every feature, unlimited projects and priority support.",
                           prices=[{"amount_type": "fixed", "price_amount": 4900}])
    launch = shop.polar.discounts.create(type="percentage", name="Launch", duration="once", basis_points=2000,
                                         code="LAUNCH20")
    checkout = shop.checkout(product, allow_discount_codes=True, discount_id=launch.id)
    for name, viewport in (("hosted-checkout-desktop", {"width": 1200, "height": 900}),
                           ("hosted-checkout-phone", {"width": 375, "height": 667})):
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        try:
            page = context.new_page()
            page.goto(checkout.url)
            page.get_by_label("Email").fill("ada@example.com")
            page.get_by_label("Country").select_option("GB")
            page.evaluate("document.activeElement.blur()")
            path = os.path.join(out, f"{name}.png")
            page.screenshot(path=path, full_page=True)
            assert os.path.getsize(path) > 10_000
        finally:
            context.close()


# A stand-in for Stripe.js (see the module's docstring): the Payment Element is one text
# input whose value is the confirmation token the fake Stripe knows (`ctoken_visa`, …).
STRIPE_JS_STUB = """
window.Stripe = function (key) {
  var seen = window.stripeStub = { key: key, calls: [] };
  return {
    elements: function (options) {
      seen.calls.push(["elements", options]);
      return {
        create: function (type) {
          seen.calls.push(["create", type]);
          return { mount: function (selector) {
            var input = document.createElement("input");
            input.id = "stub-card"; input.setAttribute("aria-label", "Stub card"); input.value = "ctoken_visa";
            document.querySelector(selector).appendChild(input);
            seen.calls.push(["mount", selector]);
          } };
        },
        submit: function () { seen.calls.push(["submit"]); return Promise.resolve({}); }
      };
    },
    createConfirmationToken: function (args) {
      seen.calls.push(["createConfirmationToken", !!args.elements]);
      return Promise.resolve({ confirmationToken: { id: document.getElementById("stub-card").value } });
    },
    handleNextAction: function (args) {
      seen.calls.push(["handleNextAction", args.clientSecret]);
      return new Promise(function (resolve) { window.finishNextAction = function () { resolve({}); }; });
    }
  };
};
"""


def pay_with_stripe(page):
    """Pay, then wait for the form's second submission: floe's script stops the first one
    to ask Stripe.js for a confirmation token."""
    with page.expect_navigation():
        page.locator("#pay").click()
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def stripe_fake():
    fake = FakeStripe()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stripe_server(stripe_fake):
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1", "FLOE_STRIPE_API_BASE": stripe_fake.url})
    yield server
    server.stop()


@pytest.fixture
def stripe_shop(stripe_server, stripe_fake):
    shop = Shop(stripe_server)
    stripe_server.cli("organization", "processor", "--organization", shop.organization["slug"],
                      "--processor", "stripe", "--stripe-secret-key", "sk_test_fake",
                      "--stripe-webhook-secret", stripe_fake.webhook_secret,
                      "--stripe-publishable-key", "pk_test_floe")
    stripe_fake.webhook_url = (f"{stripe_server.url}/v1/integrations/stripe/webhook/"
                               f"{shop.organization['id']}")
    stripe_fake.violations.clear()
    return shop


@pytest.fixture
def stripe_page(browser, stripe_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=STRIPE_JS_STUB))
    # Stripe.js (the stand-in) is the one request that leaves floe.
    page.outside = []
    page.on("request", lambda r: r.url.startswith(stripe_server.url) or r.url == "https://js.stripe.com/v3/"
            or page.outside.append(r.url))
    page.console_errors = []
    # A script error would show here; a form answered 402 or 422 is not one.
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and page.console_errors.append(m.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    assert page.outside == [] and page.console_errors == []
    context.close()


def test_a_buyer_pays_with_stripe_elements(stripe_shop, stripe_page, stripe_fake):
    page, shop, fake = stripe_page, stripe_shop, stripe_fake
    receiver = Receiver()
    try:
        endpoint = shop.polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw", events=["order.paid"])
        checkout = shop.checkout()
        response = page.goto(checkout.url)
        policy = response.headers["content-security-policy"]
        assert "script-src 'sha256-" in policy and "https://js.stripe.com" in policy
        assert "default-src 'none'" in policy
        # No test card inputs: Stripe's element, mounted by floe's script.
        expect(page.get_by_label("Card number")).to_have_count(0)
        expect(page.get_by_label("Stub card")).to_be_visible()
        stub = page.evaluate("window.stripeStub")
        assert stub["key"] == "pk_test_floe"
        assert stub["calls"][0] == ["elements", {"mode": "payment", "currency": "usd", "amount": 1900}]
        assert ["mount", "#stripe-element"] in stub["calls"]

        fill_buyer(page)
        pay_with_stripe(page)
        assert page.url == checkout.success_url
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Payment received")

        # The fake Stripe was asked to confirm the token the element made.
        intent = next(f for m, p, _, f in fake.requests if p == "/v1/payment_intents"
                      and f.get("metadata[checkout_id]") == checkout.id)
        assert intent["confirmation_token"] == "ctoken_visa" and intent["amount"] == "1900"
        assert fake.violations == []
        orders = shop.polar.orders.list(checkout_id=checkout.id).items
        assert [(o.status, o.total_amount) for o in orders] == [("paid", 1900)]
        delivery = receiver.wait_for(1)[0]
        headers = {k: delivery.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        event = validate_event(delivery.body, headers, endpoint.secret)
        assert event.type == "order.paid" and event.data.checkout_id == checkout.id
    finally:
        receiver.stop()


def test_stripe_elements_decline_and_authentication(stripe_shop, stripe_page, stripe_fake):
    page, shop, fake = stripe_page, stripe_shop, stripe_fake
    checkout = shop.checkout()
    page.goto(checkout.url)
    fill_buyer(page)
    page.get_by_label("Stub card").fill("ctoken_declined")
    pay_with_stripe(page)
    expect(page.get_by_role("alert").first).to_contain_text("Your card was declined.")
    assert shop.polar.checkouts.get(checkout.id).status == "open"

    # A card whose bank asks: Stripe.js's step, then the webhook's outcome.
    page.get_by_label("Stub card").fill("ctoken_3ds")
    pay_with_stripe(page)
    assert page.url == f"{checkout.url}/authenticate"
    page.wait_for_function("window.finishNextAction !== undefined")
    secret = page.evaluate("window.stripeStub.calls.find(c => c[0] === 'handleNextAction')[1]")
    assert fake.complete_action(secret.split("_secret_")[0]).status_code == 200
    page.evaluate("window.finishNextAction()")
    page.wait_for_url(f"{checkout.url}/confirmation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Payment received")
    assert [o.status for o in shop.polar.orders.list(checkout_id=checkout.id).items] == ["paid"]


def test_a_stripe_trial_uses_a_setup_element(stripe_shop, stripe_page, stripe_fake):
    page, shop, fake = stripe_page, stripe_shop, stripe_fake
    trial = shop.product(name="Team", recurring_interval="month", trial_interval="day", trial_interval_count=7)
    checkout = shop.checkout(trial)
    page.goto(checkout.url)
    assert page.evaluate("window.stripeStub.calls[0]") == ["elements", {"mode": "setup", "currency": "usd"}]
    fill_buyer(page)
    expect(page.locator("#pay")).to_have_text("Start trial")
    pay_with_stripe(page)
    assert page.url == checkout.success_url
    assert [f["confirmation_token"] for m, p, _, f in fake.requests if p == "/v1/setup_intents"
            and f.get("metadata[checkout_id]") == checkout.id] == ["ctoken_visa"]
    assert shop.polar.payments.list(checkout_id=checkout.id).items == []
    assert fake.violations == []
