"""A local fake of the few Stripe API calls floe's Stripe adapter makes, for its tests
(Stripe itself cannot be reached from here, and tests never call it).

- Answers follow Stripe's published example objects (`../shared/stripe/fixtures3.json`),
  with the IDs, amounts and statuses of the call filled in.
- Requests are checked against the parameter lists of the official `stripe` Python
  package (`PaymentIntentCreateParams`, `SetupIntentCreateParams`, `CustomerCreateParams`):
  a parameter Stripe does not know is recorded as a violation, as is a POST without an
  `Idempotency-Key`, a PaymentIntent of amount 0 (Stripe refuses it: a setup is a
  SetupIntent) and an off-session PaymentIntent without its customer or saved method.
- `Idempotency-Key` is honoured: the same key answers the same body again.
- Confirmation tokens choose the outcome, for PaymentIntents and SetupIntents alike:
  `ctoken_visa` succeeds, `ctoken_declined` is a card decline (402 `card_error`),
  `ctoken_3ds` requires an authentication step. The payment method a token makes keeps its
  token's fate for later off-session charges: `ctoken_customer_fail` succeeds now and is
  declined later, `ctoken_auth_later` succeeds now and later asks for authentication
  (402 `authentication_required`, as Stripe answers off session).
- `lose_next_answer` makes the next intent happen (and its webhook go out) but answer 500;
  `hold_events` keeps webhooks back until `release()` (a crash before they arrive).
- Webhook events are signed with the package's own helper
  (`stripe.WebhookSignature.generate_signature_header`).
"""

import copy
import http.server
import json
import os
import threading
import urllib.parse
import uuid

import httpx
import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams, RefundCreateParams, SetupIntentCreateParams

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "stripe", "fixtures3.json")
_VENDORED = os.path.join(os.path.dirname(__file__), "stripe_fixtures.json")


def fixtures():
    for path in (_VENDORED, FIXTURES, "/work/shared/stripe/fixtures3.json"):
        if os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            return data.get("resources", data)
    raise FileNotFoundError("Stripe's example objects (fixtures3.json) are needed")


def allowed(params_type):
    """The parameter names a `*Params` TypedDict of the package declares (its own and
    inherited; annotations are not evaluated)."""
    from stripe._request_options import RequestOptions

    return set(params_type.__annotations__) - set(RequestOptions.__annotations__)


ALLOWED = {
    "/v1/customers": allowed(CustomerCreateParams),
    "/v1/payment_intents": allowed(PaymentIntentCreateParams),
    "/v1/setup_intents": allowed(SetupIntentCreateParams),
    "/v1/refunds": allowed(RefundCreateParams),
}
INTENTS = ("/v1/payment_intents", "/v1/setup_intents")


def top_level(form):
    return {key.split("[", 1)[0] for key in form}


class FakeStripe:
    def __init__(self, webhook_secret="whsec_fake"):
        self.examples = fixtures()
        self.webhook_secret = webhook_secret
        self.webhook_url = None
        self.requests = []  # (method, path, headers, form)
        self.violations = []
        self.events = []
        self.by_key = {}
        self.intents = {}
        self.methods = {}
        self.fates = {}  # payment method ID -> the token it was made from
        self.refunds = {}
        self.disputes = {}
        self.refund_status = "succeeded"  # what the next refund answers: succeeded or pending
        self.lose_next_answer = False
        self.hold_events = False
        self.held = []
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                with fake.lock:
                    fake.requests.append(("GET", self.path, dict(self.headers), {}))
                if self.path.startswith("/v1/setup_intents/"):
                    intent = fake.intents.get(self.path.split("?", 1)[0].rsplit("/", 1)[1])
                    return self._answer(200 if intent else 404, intent or {"error": {"type": "invalid_request_error"}})
                if self.path.startswith("/v1/refunds/"):
                    refund = fake.refunds.get(self.path.rsplit("/", 1)[1])
                    return self._answer(200 if refund else 404, refund or {"error": {"type": "invalid_request_error"}})
                if self.path.startswith("/v1/payment_methods/"):
                    method = fake.methods.get(self.path.rsplit("/", 1)[1])
                    return self._answer(200 if method else 404, method or {"error": {"type": "invalid_request_error"}})
                self._answer(404, {"error": {"type": "invalid_request_error", "message": "Unknown path"}})

            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length).decode()
                form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake.lock:
                    fake.requests.append(("POST", self.path, headers, form))
                    key = headers.get("idempotency-key")
                    if not key:
                        fake.violations.append(f"POST {self.path} without an Idempotency-Key")
                    if not headers.get("authorization", "").startswith("Basic "):
                        fake.violations.append(f"POST {self.path} without the secret key")
                    unknown = top_level(form) - ALLOWED.get(self.path, set())
                    if unknown:
                        fake.violations.append(f"POST {self.path} with parameters Stripe does not take: {sorted(unknown)}")
                    if key and (self.path, key) in fake.by_key:
                        status, body = fake.by_key[(self.path, key)]
                        return self._answer(status, body)
                    status, body, event = fake.handle(self.path, form)
                    if key:
                        fake.by_key[(self.path, key)] = (status, body)
                    lose = fake.lose_next_answer and self.path in INTENTS
                    if lose:
                        fake.lose_next_answer = False
                    hold = fake.hold_events
                    if event and hold:
                        fake.held.append(event)
                if event and not hold:
                    fake.send(event)
                if lose:
                    # The charge happened; its answer never arrives.
                    return self._answer(500, {"error": {"type": "api_error", "message": "lost"}})
                self._answer(status, body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def new_id(self, prefix):
        return f"{prefix}_{uuid.uuid4().hex[:24]}"

    def card(self, token="", brand="visa", last4="4242"):
        method = copy.deepcopy(self.examples["payment_method"])
        method["id"] = self.new_id("pm")
        method["type"] = "card"
        method["card"] = {**method.get("card", {}), "brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034}
        self.methods[method["id"]] = method
        self.fates[method["id"]] = token
        return method

    def metadata(self, form):
        return {k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")}

    def refuse(self, message):
        self.violations.append(message)
        return 400, {"error": {"type": "invalid_request_error", "message": message}}, None

    def handle(self, path, form):
        if path == "/v1/customers":
            customer = copy.deepcopy(self.examples["customer"])
            customer.update(id=self.new_id("cus"), email=form.get("email"), name=form.get("name"))
            return 200, customer, None
        if path == "/v1/payment_intents":
            return self.payment_intent(form)
        if path == "/v1/setup_intents":
            return self.setup_intent(form)
        if path == "/v1/refunds":
            return self.refund(form)
        if path.startswith("/v1/disputes/") and path.endswith("/close"):
            return self.close_dispute(path.split("/")[3])
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unknown path {path}"}}, None

    def payment_intent(self, form):
        if int(form.get("amount", "0")) < 1:
            return self.refuse("PaymentIntent with amount 0: Stripe refuses it (use a SetupIntent)")
        off_session = form.get("off_session") == "true"
        if off_session:
            method = self.methods.get(form.get("payment_method", ""))
            if method is None or not form.get("customer"):
                return self.refuse("an off-session PaymentIntent needs the customer and a saved payment method")
            token = self.fates[method["id"]]
            # Off session, a card that wants authentication is declined with that code.
            if "auth_later" in token or "3ds" in token:
                token = "authentication_required"
            elif "customer_fail" in token:
                token = "declined"
        else:
            token = form.get("confirmation_token", "")
            method = self.card(token)
        intent = copy.deepcopy(self.examples["payment_intent"])
        intent.update(
            id=self.new_id("pi"), amount=int(form["amount"]), currency=form["currency"],
            customer=form.get("customer"), payment_method=method, metadata=self.metadata(form),
            setup_future_usage=form.get("setup_future_usage"), last_payment_error=None, next_action=None,
        )
        intent["client_secret"] = f"{intent['id']}_secret_{uuid.uuid4().hex[:8]}"
        if "declined" in token or token == "authentication_required":
            code = "authentication_required" if token == "authentication_required" else "card_declined"
            decline = "authentication_required" if token == "authentication_required" else "generic_decline"
            message = ("Your card was declined. This transaction requires authentication."
                       if token == "authentication_required" else "Your card was declined.")
            error = {"type": "card_error", "code": code, "decline_code": decline, "message": message}
            intent.update(status="requires_payment_method", last_payment_error=error)
            self.intents[intent["id"]] = intent
            return 402, {"error": {**error, "payment_intent": intent}}, self.event("payment_intent.payment_failed", intent)
        if "3ds" in token:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
            self.intents[intent["id"]] = intent
            return 200, intent, None
        intent.update(status="succeeded")
        self.intents[intent["id"]] = intent
        return 200, intent, self.event("payment_intent.succeeded", intent)

    def setup_intent(self, form):
        if form.get("confirm") == "true" and not form.get("confirmation_token"):
            return self.refuse("a confirmed SetupIntent needs a confirmation token here")
        token = form.get("confirmation_token", "")
        method = self.card(token)
        intent = copy.deepcopy(self.examples["setup_intent"])
        intent.update(
            id=self.new_id("seti"), customer=form.get("customer"), payment_method=method,
            metadata=self.metadata(form), usage=form.get("usage", "off_session"),
            description=form.get("description"), last_setup_error=None, next_action=None,
        )
        intent["client_secret"] = f"{intent['id']}_secret_{uuid.uuid4().hex[:8]}"
        if "declined" in token:
            error = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                     "message": "Your card was declined."}
            intent.update(status="requires_payment_method", last_setup_error=error)
            self.intents[intent["id"]] = intent
            return 402, {"error": {**error, "setup_intent": intent}}, self.event("setup_intent.setup_failed", intent)
        if "3ds" in token:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
            self.intents[intent["id"]] = intent
            return 200, intent, None
        intent.update(status="succeeded")
        self.intents[intent["id"]] = intent
        return 200, intent, self.event("setup_intent.succeeded", intent)

    def refund(self, form, metadata=None):
        """A refund of a succeeded PaymentIntent, never of more than is left of it (Stripe's
        `charge_already_refunded`), answered `refund_status`, with its `refund.created`."""
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["object"] != "payment_intent" or intent["status"] != "succeeded":
            return self.refuse(f"No such payment_intent: {form.get('payment_intent')}")
        amount = int(form.get("amount", intent["amount"]))
        refunded = sum(r["amount"] for r in self.refunds.values()
                       if r["payment_intent"] == intent["id"] and r["status"] in ("pending", "succeeded"))
        if amount <= 0 or refunded + amount > intent["amount"]:
            return 400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                                   "message": "Refund amount is greater than unrefunded amount on charge"}}, None
        refund = copy.deepcopy(self.examples["refund"])
        refund.update(id=self.new_id("re"), amount=amount, currency=intent["currency"], payment_intent=intent["id"],
                      charge=self.new_id("ch"), reason=form.get("reason"), status=self.refund_status,
                      metadata=self.metadata(form) if metadata is None else metadata)
        self.refunds[refund["id"]] = refund
        return 200, refund, self.event("refund.created", refund)

    def settle_refund(self, refund_id, status, failure_reason=None):
        """The bank settled a refund (or refused it after all): `refund.updated`, and
        `refund.failed` for a failure, as Stripe sends them. Returns floe's answers."""
        with self.lock:
            refund = self.refunds[refund_id]
            refund.update(status=status)
            if failure_reason:
                refund["failure_reason"] = failure_reason
            events = [self.event("refund.updated", refund)]
            if status == "failed":
                events.append(self.event("refund.failed", refund))
        return [self.send(event) for event in events]

    def dashboard_refund(self, intent_id, amount):
        """A refund made in Stripe's dashboard (floe did not ask for it); returns floe's
        answer to its `refund.created`."""
        with self.lock:
            status, refund, event = self.refund({"payment_intent": intent_id, "amount": str(amount),
                                                 "reason": "requested_by_customer"}, metadata={})
        assert status == 200, refund
        return refund, self.send(event)

    def dispute(self, intent_id, status="needs_response", reason="fraudulent", amount=None, dispute_id=None):
        """The bank disputes a PaymentIntent's charge (or the dispute moves on): the
        dispute as Stripe keeps it, and its event (`charge.dispute.created` the first time,
        `…closed` for won, lost and warning_closed, else `…updated`). Returns (dispute,
        floe's answer)."""
        with self.lock:
            intent = self.intents[intent_id]
            known = self.disputes.get(dispute_id) if dispute_id else None
            dispute = known or copy.deepcopy(self.examples["dispute"])
            if known is None:
                dispute.update(id=self.new_id("dp"), charge=self.new_id("ch"), payment_intent=intent["id"],
                               amount=intent["amount"] if amount is None else amount, currency=intent["currency"])
                dispute["evidence_details"]["due_by"] = 1893456000
            dispute.update(status=status, reason=reason)
            self.disputes[dispute["id"]] = dispute
            closed = status in ("won", "lost", "warning_closed")
            kind = "charge.dispute.created" if known is None else (
                "charge.dispute.closed" if closed else "charge.dispute.updated")
            event = self.event(kind, dispute)
        return dispute, self.send(event)

    def close_dispute(self, dispute_id):
        """The merchant concedes (`POST /v1/disputes/{id}/close`): lost, with its event."""
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            return 404, {"error": {"type": "invalid_request_error", "message": f"No such dispute: {dispute_id}"}}, None
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "This dispute is already closed or under review"}}, None
        dispute["status"] = "lost"
        return 200, dispute, self.event("charge.dispute.closed", dispute)

    def complete_action(self, intent_id, succeeded=True):
        """The buyer answered the bank's step in Stripe.js: the intent settles and its
        webhook goes out. Returns floe's answer to the webhook."""
        with self.lock:
            intent = self.intents[intent_id]
            setup = intent["object"] == "setup_intent"
            if succeeded:
                intent.update(status="succeeded", next_action=None)
                kind = "setup_intent.succeeded" if setup else "payment_intent.succeeded"
            else:
                error = {"type": "card_error", "code": "authentication_failed",
                         "message": "We are unable to authenticate your payment method."}
                intent.update(status="requires_payment_method", next_action=None,
                              **{"last_setup_error" if setup else "last_payment_error": error})
                kind = "setup_intent.setup_failed" if setup else "payment_intent.payment_failed"
            event = self.event(kind, intent)
        return self.send(event)

    def release(self):
        """Delivers the webhooks held back; returns floe's answers."""
        with self.lock:
            held, self.held = self.held, []
            self.hold_events = False
        return [self.send(event) for event in held]

    def event(self, kind, intent):
        event = copy.deepcopy(self.examples["event"])
        shown = copy.deepcopy(intent)
        # Events carry the payment method's ID, not the object.
        if isinstance(shown.get("payment_method"), dict):
            shown["payment_method"] = shown["payment_method"]["id"]
        event.update(id=self.new_id("evt"), type=kind, data={"object": shown})
        self.events.append(event)
        return event

    def send(self, event, secret=None, timestamp=None):
        """Delivers `event` to floe, signed as Stripe signs it; returns floe's answer."""
        if not self.webhook_url:
            return None
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, secret or self.webhook_secret, timestamp)
        return httpx.post(self.webhook_url, content=payload,
                          headers={"Stripe-Signature": header, "Content-Type": "application/json"}, timeout=30)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
