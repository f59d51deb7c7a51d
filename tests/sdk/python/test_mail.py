"""Outgoing mail: the component floe sends notices through. With an SMTP server configured
(here a local one the test runs, aiosmtpd), messages arrive there; without one, each is
written as an `.eml` file under the data dir. Messages are queued in the transaction of the
change they tell about, so the first notice is a renewal's failed charge."""

import email
import glob
import os
import socket
import time
import uuid
from datetime import timedelta
from email import policy

from aiosmtpd.controller import Controller

from conftest import Floe
from test_subscriptions import Shop, ts


class Sink:
    """An SMTP server that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def fail_a_renewal(server, email_address):
    shop = Shop(server)
    subscription = shop.subscribe(shop.monthly(amount=2500), card="pm_card_chargeCustomerFail", email=email_address)
    shop.advance(ts(subscription.current_period_end) + timedelta(hours=1))
    assert shop.polar.subscriptions.get(subscription.id).status == "past_due"
    return shop, subscription


def smtp_sink():
    """A local SMTP server collecting what it receives: (controller, sink, port)."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink, port


def test_mail_goes_through_the_smtp_server():
    controller, sink, port = smtp_sink()
    server = Floe(env={"FLOE_SMTP_URL": f"smtp://127.0.0.1:{port}", "FLOE_MAIL_FROM": "Acme billing <billing@acme.test>",
                       "FLOE_SWEEP_INTERVAL": "1"})
    try:
        address = f"payer-{uuid.uuid4().hex[:6]}@example.com"
        _, subscription = fail_a_renewal(server, address)
        [(recipients, message)] = wait_for(lambda: sink.messages, "the notice")
        assert recipients == [address]
        assert message["From"] == "Acme billing <billing@acme.test>"
        assert message["Subject"] == "Payment failed for your Monthly subscription"
        text = message.get_content()
        assert "25.00 USD" in text and "try again on" in text and subscription.id in text
        assert message["Message-ID"].endswith("@floe>")
    finally:
        server.stop()
        controller.stop()


def test_without_smtp_mail_is_written_as_eml_files():
    server = Floe(env={"FLOE_SWEEP_INTERVAL": "1"})
    try:
        address = f"files-{uuid.uuid4().hex[:6]}@example.com"
        fail_a_renewal(server, address)
        [path] = wait_for(lambda: glob.glob(os.path.join(server.dir, "mail", "*.eml")), "the .eml file")
        with open(path, "rb") as f:
            message = email.message_from_bytes(f.read(), policy=policy.default)
        assert message["To"] == address and message["Subject"].startswith("Payment failed")
        # The path is in the log, for whoever runs floe without SMTP.
        assert path in open(server.log.name).read()
    finally:
        server.stop()


def test_an_unreachable_smtp_server_is_retried_not_lost():
    port = free_port()
    server = Floe(env={"FLOE_SMTP_URL": f"smtp://127.0.0.1:{port}", "FLOE_SWEEP_INTERVAL": "1"})
    try:
        fail_a_renewal(server, f"later-{uuid.uuid4().hex[:6]}@example.com")
        row = wait_for(lambda: server.sql("SELECT attempts, last_error FROM outgoing_mails WHERE attempts > 0 AND sent_at IS NULL"),
                       "a failed attempt")
        attempts, error = row[0]
        assert int(attempts) >= 1 and error
    finally:
        server.stop()
