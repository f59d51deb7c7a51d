"""A local fake of the few Stripe API calls floe's Stripe adapter makes, for its tests
(Stripe itself cannot be reached from here, and tests never call it).

- Answers follow Stripe's published example objects (`../shared/stripe/fixtures3.json`),
  with the IDs, amounts and statuses of the call filled in.
- Requests are checked against the parameter lists of the official `stripe` Python
  package (`PaymentIntentCreateParams`, `CustomerCreateParams`): a parameter Stripe does not
  know is recorded as a violation, as is a POST without an `Idempotency-Key`.
- `Idempotency-Key` is honoured: the same key answers the same body again.
- Confirmation tokens choose the outcome: `ctoken_visa` succeeds, `ctoken_declined` is a
  card decline (402 `card_error`), `ctoken_3ds` requires an authentication step.
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
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams

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
}


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
        self.lose_next_answer = False
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
                    lose = fake.lose_next_answer and self.path == "/v1/payment_intents"
                    if lose:
                        fake.lose_next_answer = False
                if event:
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

    def card(self, brand="visa", last4="4242"):
        method = copy.deepcopy(self.examples["payment_method"])
        method["id"] = self.new_id("pm")
        method["type"] = "card"
        method["card"] = {**method.get("card", {}), "brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034}
        self.methods[method["id"]] = method
        return method

    def handle(self, path, form):
        if path == "/v1/customers":
            customer = copy.deepcopy(self.examples["customer"])
            customer.update(id=self.new_id("cus"), email=form.get("email"), name=form.get("name"))
            return 200, customer, None
        if path == "/v1/payment_intents":
            intent = copy.deepcopy(self.examples["payment_intent"])
            method = self.card()
            intent.update(
                id=self.new_id("pi"), amount=int(form["amount"]), currency=form["currency"],
                customer=form.get("customer"), payment_method=method,
                metadata={k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")},
            )
            intent["client_secret"] = f"{intent['id']}_secret_{uuid.uuid4().hex[:8]}"
            token = form.get("confirmation_token") or form.get("payment_method", "")
            if "declined" in token:
                intent.update(status="requires_payment_method", last_payment_error={
                    "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                    "message": "Your card was declined."})
                self.intents[intent["id"]] = intent
                error = {"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                                   "message": "Your card was declined.", "payment_intent": intent}}
                return 402, error, self.event("payment_intent.payment_failed", intent)
            if "3ds" in token:
                intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
                self.intents[intent["id"]] = intent
                return 200, intent, None
            intent.update(status="succeeded")
            self.intents[intent["id"]] = intent
            return 200, intent, self.event("payment_intent.succeeded", intent)
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unknown path {path}"}}, None

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
