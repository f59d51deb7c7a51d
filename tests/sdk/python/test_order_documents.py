"""Order documents through the official Python SDK: the CSV export (default and chosen
columns, filters, time zones, another organization's orders), the invoice PDF (202, then
its URL once drawn, `is_invoice_generated` and `order.updated`; 409 for a voided order, 422
without billing details; drawn again only when the billing details changed), the receipt
(202 while drawn, then its URL), and the PDFs' text read back with pypdf, so that names,
addresses and amounts in any script come out exactly as they went in. Paid orders are
made the way a buyer makes them: a checkout confirmed with Stripe's test Visa."""

import csv
import io
import re
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from polar.v2026_10.errors import (
    HTTPValidationError,
    MissingInvoiceBillingDetails,
    OrderNotEligibleForInvoice,
    ResourceNotFound,
)
from polar.v2026_10.webhooks import validate_event
from pypdf import PdfReader

from conftest import Floe
from receiver import Receiver

NAME = "Zoë Ğüneş"
ADDRESS = {"country": "JP", "line1": "東京都千代田区", "line2": "Ελληνικά Привет", "postal_code": "100-0005",
           "city": "Tōkyō"}
DEFAULT_HEADINGS = ["Email", "Created At", "Product", "Net Amount", "Currency", "Status", "Invoice number"]


@pytest.fixture(scope="module")
def server():
    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1", "FLOE_SWEEP_INTERVAL": "1"})
    yield server
    server.stop()


class Shop:
    def __init__(self, server):
        self.server = server
        self.organization = server.organization(name=f"Ünïcode Shop {uuid.uuid4().hex[:6]}")
        self.token = server.token(self.organization)
        self.polar = server.client(self.token)
        self.buyer = server.client("not-a-token")

    def product(self, name="Pro", amount=1900):
        return self.polar.products.create(name=name, prices=[{"amount_type": "fixed", "price_amount": amount}])

    def paid_order(self, product=None, email=None, name=NAME, address=None):
        """A purchase paid with the test Visa; the order as the API shows it."""
        product = product or self.product()
        fields = {"customer_email": email or f"{uuid.uuid4().hex[:8]}@example.com"}
        if name:
            fields["customer_name"] = name
        checkout = self.polar.checkouts.create(products=[product.id], **fields)
        self.buyer.checkouts.client_confirm(checkout.client_secret, confirmation_token_id="pm_card_visa",
                                            customer_billing_address=address or {"country": "JP"})
        return self.polar.orders.list(checkout_id=checkout.id).items[0]

    def raw(self, method, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.request(method, f"{self.server.url}{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture
def shop(server):
    return Shop(server)


def sql_id(server, value):
    """A UUID as the database holds it: a blob on SQLite, a uuid on PostgreSQL."""
    return f"X'{uuid.UUID(str(value)).hex}'" if server.pg_db is None else f"'{value}'"


def document_rows(server, order_id, columns):
    return server.sql(f"SELECT {columns} FROM order_documents WHERE order_id = {sql_id(server, order_id)}")


def wait_for(check, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def pdf_text(url):
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def with_billing(shop, order):
    """The order with the full Unicode billing details (the country stays JP, as bought)."""
    updated = shop.polar.orders.update(order.id, billing_name=NAME, billing_address=ADDRESS)
    assert updated.billing_name == NAME and updated.billing_address.line1 == "東京都千代田区"
    return updated


def invoice_url(shop, order_id):
    def ready():
        try:
            return shop.polar.orders.invoice(order_id).url
        except ResourceNotFound:
            return None

    return wait_for(ready, "the invoice")


def test_invoice_is_generated_in_the_background_with_every_script_intact(shop):
    receiver = Receiver()
    try:
        shop.polar.webhooks.create_webhook_endpoint(url=receiver.url, format="raw", events=["order.updated"])
        product = shop.product(name="Pro Plan ✓ — 東京", amount=1999)
        order = with_billing(shop, shop.paid_order(product=product))
        assert order.is_invoice_generated is False
        receiver.deliveries.clear()

        # Before it was asked for there is no invoice: Polar's 404.
        with pytest.raises(ResourceNotFound) as missing:
            shop.polar.orders.invoice(order.id)
        assert missing.value.error.detail == f"No invoice exists for order {order.id}."

        raw = shop.raw("POST", f"/v1/orders/{order.id}/invoice")
        assert raw.status_code == 202 and raw.json() is None
        url = invoice_url(shop, order.id)
        assert shop.polar.orders.get(order.id).is_invoice_generated is True

        text = pdf_text(url)
        for expected in ["Invoice", shop.organization["name"], NAME, "東京都千代田区", "Ελληνικά Привет",
                         "100-0005 Tōkyō", "JP", order.invoice_number, "Pro Plan ✓ — 東京",
                         "Subtotal", "19.99 USD", "Tax", "0.00 USD", "Total"]:
            assert expected in text, f"{expected!r} not in {text!r}"
        assert "Paid" not in text

        # `order.updated` says the invoice is there, and the SDK accepts it.
        updated = wait_for(lambda: [d for d, ok in receiver.deliveries
                                    if d.json["type"] == "order.updated"
                                    and d.json["data"]["is_invoice_generated"]], "order.updated")
        assert updated[0].json["data"]["id"] == order.id

        # The URL is signed: altered, it is refused (floe's own signature on local storage,
        # SigV4's on S3).
        tampered = re.sub(r"((?:X-Floe|X-Amz)-Signature=)(.)", lambda m: m.group(1) + ("1" if m.group(2) != "1" else "2"), url)
        assert tampered != url
        assert httpx.get(tampered).status_code == 403
        # A fresh URL each time, to the same file.
        assert pdf_text(shop.polar.orders.invoice(order.id).url) == text
    finally:
        receiver.stop()


def test_an_invoice_is_drawn_again_only_when_the_billing_details_changed(shop):
    order = with_billing(shop, shop.paid_order())
    assert shop.polar.orders.generate_invoice(order.id) is None
    first = pdf_text(invoice_url(shop, order.id))
    generated = document_rows(shop.server, order.id, "generated_at, requested")
    assert len(generated) == 1 and generated[0][1] == "1"

    # Same details: nothing is scheduled again.
    shop.polar.orders.generate_invoice(order.id)
    time.sleep(0.5)
    assert document_rows(shop.server, order.id, "generated_at, requested") == generated

    shop.polar.orders.update(order.id, billing_name="Ada Lovelace")
    # Until it is asked for again, the stored invoice stays as it was.
    old_url = shop.polar.orders.invoice(order.id).url
    assert pdf_text(old_url) == first
    shop.polar.orders.generate_invoice(order.id)
    second = wait_for(lambda: (t := pdf_text(shop.polar.orders.invoice(order.id).url)) != first and t,
                      "the new invoice")
    assert "Ada Lovelace" in second and NAME not in second
    # A URL handed out before still downloads what it was given for.
    assert pdf_text(old_url) == first


def test_an_invoice_needs_billing_details(shop):
    # A buyer who gave no name: the order has no billing name.
    order = shop.paid_order(name=None)
    assert order.billing_name is None
    with pytest.raises(MissingInvoiceBillingDetails) as error:
        shop.polar.orders.generate_invoice(order.id)
    assert error.value.status_code == 422
    assert error.value.error.error == "MissingInvoiceBillingDetails"
    assert error.value.error.detail == "Billing name and address are required to generate an invoice for this order."
    blank = shop.polar.orders.update(order.id, billing_name="  ")
    with pytest.raises(MissingInvoiceBillingDetails):
        shop.polar.orders.generate_invoice(blank.id)
    with pytest.raises(ResourceNotFound):
        shop.polar.orders.invoice(order.id)


def test_a_void_order_is_not_eligible(shop):
    order = with_billing(shop, shop.paid_order())
    # No API operation makes a draft or void order yet (refunds and off-session drafts are
    # not built): the test voids the paid order in the database to reach the 409.
    shop.server.sql(f"UPDATE orders SET status = 'void' WHERE id = {sql_id(shop.server, order.id)}")
    with pytest.raises(OrderNotEligibleForInvoice) as error:
        shop.polar.orders.generate_invoice(order.id)
    assert error.value.status_code == 409
    assert error.value.error.error == "OrderNotEligibleForInvoice"
    assert error.value.error.detail == f"Order {order.id} is not eligible for invoice generation (current status: void)."
    # Nor has it a receipt.
    assert shop.raw("GET", f"/v1/orders/{order.id}/receipt").status_code == 404


def test_receipt_is_202_while_drawn_then_its_url(shop):
    order = with_billing(shop, shop.paid_order(product=shop.product(amount=500)))
    first = shop.raw("GET", f"/v1/orders/{order.id}/receipt")
    assert first.status_code in (200, 202)
    if first.status_code == 202:
        assert first.content == b""

    def ready():
        response = shop.raw("GET", f"/v1/orders/{order.id}/receipt")
        return response.status_code == 200 and response

    wait_for(ready, "the receipt")
    receipt = shop.polar.orders.receipt(order.id)
    text = pdf_text(receipt.url)
    paid = created(order)
    paid_on = f"{paid:%B} {paid.day}, {paid:%Y}"
    for expected in ["Receipt", "Paid", paid_on, NAME, "東京都千代田区", "5.00 USD", "Amount paid",
                     order.invoice_number]:
        assert expected in text, f"{expected!r} not in {text!r}"
    # A receipt is not an invoice: the order's flag is the invoice's.
    assert shop.polar.orders.get(order.id).is_invoice_generated is False


def test_documents_of_another_organization_are_404(server, shop):
    order = with_billing(shop, shop.paid_order())
    other = Shop(server)
    for call in (other.polar.orders.generate_invoice, other.polar.orders.invoice, other.polar.orders.receipt):
        with pytest.raises(ResourceNotFound):
            call(order.id)
    assert document_rows(shop.server, order.id, "count(*)") == [("0",)]


def test_a_document_due_at_a_restart_is_drawn_after_it(own_floe):
    server = own_floe()
    shop = Shop(server)
    order = with_billing(shop, shop.paid_order())
    shop.polar.orders.generate_invoice(order.id)
    invoice_url(shop, order.id)
    # Asked for again and cut short by a crash: the row says it is due, nothing draws it.
    server.kill()
    server.sql(f"UPDATE order_documents SET requested = requested + 1, due_at = created_at "
               f"WHERE order_id = {sql_id(shop.server, order.id)}")
    server.start()
    wait_for(lambda: document_rows(server, order.id, "requested = rendered") in ([("1",)], [("t",)]),
             "the sweep after the restart")


def created(order):
    """The SDK gives times as text."""
    return datetime.fromisoformat(order.created_at)


def export_rows(shop, **params):
    text = shop.polar.orders.export(**params)
    return list(csv.reader(io.StringIO(text)))


def test_export_columns_filters_and_time_zone(shop):
    pro = shop.product(name="Pro", amount=1950)
    team = shop.product(name="=Team", amount=500)
    first = with_billing(shop, shop.paid_order(product=pro, email="first@example.com"))
    second = shop.paid_order(product=team, email="second@example.com", name="Ελληνικά")
    slug = shop.organization["slug"].upper()

    rows = export_rows(shop)
    assert rows[0] == DEFAULT_HEADINGS
    assert [r[0] for r in rows[1:]] == ["second@example.com", "first@example.com"]  # newest first
    assert rows[2][2:] == ["Pro", "19.5", "usd", "paid", f"{slug}-0001"]
    # A product name that looks like a formula is defused.
    assert rows[1][2] == "'=Team" and rows[1][3] == "5.0"
    assert rows[2][1].startswith(created(first).strftime("%Y-%m-%dT%H:%M:%S")) and rows[2][1].endswith("+00:00")

    # Another zone shifts the dates and shows its offset.
    tokyo = export_rows(shop, timezone="Asia/Tokyo")
    assert all(r[1].endswith("+09:00") for r in tokyo[1:])
    assert tokyo[2][1] != rows[2][1]

    everything = ["email", "created_at", "product", "net_amount", "currency", "status", "invoice_number",
                  "customer_name", "billing_name", "billing_country", "subtotal_amount", "discount_amount",
                  "tax_amount", "total_amount", "refunded_amount", "billing_reason"]
    full = export_rows(shop, columns=everything)
    assert full[0] == DEFAULT_HEADINGS + ["Customer Name", "Billing Name", "Billing Country", "Subtotal",
                                          "Discount", "Tax", "Total", "Refunded Amount", "Billing Reason"]
    assert full[2][7:] == [NAME, NAME, "JP", "19.5", "0.0", "0.0", "19.5", "0.0", "purchase"]
    assert full[1][7:9] == ["Ελληνικά", "Ελληνικά"]

    # Columns in the order asked for.
    assert export_rows(shop, columns=["invoice_number", "email"])[1:] == [
        [f"{slug}-0002", "second@example.com"], [f"{slug}-0001", "first@example.com"]]

    # Filters.
    assert [r[0] for r in export_rows(shop, product_id=pro.id)[1:]] == ["first@example.com"]
    assert [r[0] for r in export_rows(shop, product_id=[pro.id, team.id])[1:]] == [
        "second@example.com", "first@example.com"]
    assert export_rows(shop, status="refunded")[1:] == []
    assert len(export_rows(shop, status=["paid", "refunded"])) == 3
    between = created(second).isoformat()
    assert [r[0] for r in export_rows(shop, created_before=between)[1:]] == ["first@example.com"]
    assert [r[0] for r in export_rows(shop, created_after=created(first).isoformat())[1:]] == [
        "second@example.com"]

    response = shop.raw("GET", "/v1/orders/export", params={"created_after": between, "timezone": "Asia/Tokyo"})
    assert response.headers["content-type"].startswith("text/csv")
    day = created(second).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d")
    assert response.headers["content-disposition"] == f'attachment; filename="polar-orders-{day}.csv"'


def test_export_refuses_what_it_cannot_read(shop):
    with pytest.raises(HTTPValidationError) as error:
        shop.polar.orders.export(timezone="Mars/Olympus")
    assert [list(d.loc) for d in error.value.error.detail] == [["query", "timezone"]]
    bad = shop.raw("GET", "/v1/orders/export", params={"columns": ["email", "password"]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "columns", 1]
    assert shop.raw("GET", "/v1/orders/export", params={"created_after": "yesterday"}).status_code == 422


def test_export_shows_nothing_of_another_organization(server, shop):
    shop.paid_order(email="mine@example.com")
    other = Shop(server)
    assert export_rows(other) == [DEFAULT_HEADINGS]
    # Naming the owner's organization does not reach its orders either.
    assert other.raw("GET", "/v1/orders/export", params={"organization_id": shop.organization["id"]}).text \
        .splitlines() == [",".join(DEFAULT_HEADINGS)]
    assert len(export_rows(shop)) == 2
