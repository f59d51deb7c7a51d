"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that records every
delivery and answers as a test tells it to (fail the first N attempts, always fail,
hang for a while)."""

import http.server
import json
import threading
import time


class Delivery:
    def __init__(self, headers, body, path="/hook"):
        self.path = path
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.id = self.headers.get("webhook-id")
        self.received_at = time.time()

    @property
    def json(self):
        return json.loads(self.body)


class Receiver:
    def __init__(self):
        self.deliveries = []
        self.lock = threading.Lock()
        self.fail_first = 0  # answer 500 to this many requests, then 200
        self.fail_on = set()  # and to these attempts (1 is the first request)
        self.always_fail = False
        self.hang_seconds = 0.0  # wait this long before answering
        self.status_on_failure = 500
        self.attempts = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode()
                with receiver.lock:
                    receiver.attempts += 1
                    attempt = receiver.attempts
                    fail = receiver.always_fail or attempt <= receiver.fail_first or attempt in receiver.fail_on
                    hang = receiver.hang_seconds
                    receiver.deliveries.append((Delivery(dict(self.headers), body, self.path), not fail))
                if hang:
                    time.sleep(hang)
                status = receiver.status_on_failure if fail else 200
                reply = b'{"error": "receiver told to fail"}' if fail else b"ok"
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", receiver.url + "/elsewhere")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self):
        """Deliveries answered with 200, in arrival order."""
        with self.lock:
            return [d for d, ok in self.deliveries if ok]

    def all(self):
        with self.lock:
            return [d for d, _ in self.deliveries]

    def wait_for(self, count, timeout=20, accepted=True):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.accepted() if accepted else self.all()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        got = self.accepted() if accepted else self.all()
        raise AssertionError(f"expected {count} deliveries, got {len(got)}: {[d.json.get('type') for d in got]}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
