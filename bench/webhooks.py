"""Webhook fan-out: events per second from commit to a 2xx at a local receiver, for 1 and 10
endpoints, on SQLite and PostgreSQL, against the rate at which the same receiver accepts the
same POSTs from a plain client with as many connections as there are endpoints. Also the
commit-to-delivery latency (p50, p99). Standard library only.

usage: python3 bench/webhooks.py --bin target/release/floe [--events 400] [--drain 4000]"""

import argparse
import http.client
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

POSTGRES = os.environ.get("FLOE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def receiver_main(port_file):
    """A receiver process: answers 200 to every POST and logs (customer id, time received)."""
    received = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm holds the
            # second until the client's delayed ACK (40 ms per request).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            at = time.time()
            try:
                data = json.loads(body).get("data", {}).get("id")
            except ValueError:
                data = None
            with lock:
                received.append((data, at))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):
            with lock:
                payload = json.dumps(received).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


def start_receiver():
    port_file = tempfile.mktemp()
    process = subprocess.Popen([sys.executable, __file__, "--receiver", port_file])
    while not os.path.exists(port_file) or not open(port_file).read():
        time.sleep(0.05)
    return process, int(open(port_file).read())


def received(port):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/")
    return json.loads(connection.getresponse().read())


def baseline(port, count, connections):
    """The receiver's own rate: the same POST from `connections` plain keep-alive clients."""
    body = json.dumps({"type": "customer.created", "data": {"id": "baseline"}}).encode()
    per = count // connections

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(per):
            connection.request("POST", "/hook", body=body, headers={"content-type": "application/json"})
            connection.getresponse().read()

    started = time.time()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * connections / (time.time() - started)


class Floe:
    """A floe server on a fresh database, stopped and started again by the benchmark."""

    def __init__(self, bin_path, database):
        self.bin = bin_path
        self.data_dir = tempfile.mkdtemp(prefix="floe-bench-hooks-")
        self.env = dict(os.environ, FLOE_DATA_DIR=self.data_dir, FLOE_LOG_JSON="1", RUST_LOG="warn,floe=info", FLOE_ALLOW_PRIVATE_WEBHOOKS="1")
        self.pg_db = None
        if database == "postgres":
            self.pg_db = f"floe_bench_{uuid.uuid4().hex}"
            subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"CREATE DATABASE {self.pg_db}"], check=True)
            self.env["FLOE_DATABASE_URL"] = f"{POSTGRES}/{self.pg_db}"
        subprocess.run([bin_path, "organization", "create", "--name", "bench", "--slug", "bench"], env=self.env, check=True, capture_output=True)
        token = subprocess.run([bin_path, "token", "create", "--organization", "bench"], env=self.env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.server = None

    def start(self, workers=True):
        env = dict(self.env) if workers else dict(self.env, FLOE_NO_WORKERS="1")
        self.server = subprocess.Popen([self.bin, "serve", "--listen", "127.0.0.1:0"], env=env, stderr=subprocess.PIPE, text=True)
        for line in self.server.stderr:
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("message") == "floe is serving":
                host, port = entry["listen"].rsplit(":", 1)
                self.host, self.port = host, int(port)
                break
        started = time.time()
        server = self.server
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        return started

    def twin(self, **env):
        """A second server on the same data, with more environment (not started)."""
        twin = Floe.__new__(Floe)
        twin.bin, twin.data_dir, twin.headers, twin.server = self.bin, self.data_dir, self.headers, None
        twin.env = dict(self.env, **env)
        twin.pg_db = None  # the original owns the database
        return twin

    def stop(self):
        self.server.terminate()
        self.server.wait()

    def close(self):
        if self.server and self.server.poll() is None:
            self.stop()
        if self.pg_db:
            subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)"], check=False)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def add_endpoint(self, receiver_port):
        api = http.client.HTTPConnection(self.host, self.port)
        api.request("POST", "/v1/webhooks/endpoints", body=json.dumps({
            "url": f"http://127.0.0.1:{receiver_port}/hook", "format": "raw", "events": ["customer.created"],
        }), headers=self.headers)
        response = api.getresponse()
        assert response.status == 201, response.read()
        response.read()

    def create_customers(self, count, clients=2):
        """Creates `count` customers from `clients` connections; returns {id: commit time}."""
        committed = {}
        lock = threading.Lock()

        def create(n):
            connection = http.client.HTTPConnection(self.host, self.port)
            for i in range(count // clients):
                connection.request("POST", "/v1/customers", body=json.dumps({"email": f"c{n}-{i}-{uuid.uuid4().hex[:8]}@example.com"}), headers=self.headers)
                response = connection.getresponse()
                body = json.loads(response.read())
                assert response.status == 201, body
                with lock:
                    committed[body["id"]] = time.time()

        threads = [threading.Thread(target=create, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return committed


def wait_for(receiver_port, ids, expected):
    deadline = time.time() + 300
    while True:
        got = [r for r in received(receiver_port) if r[0] in ids]
        if len(got) >= expected or time.time() > deadline:
            return got
        time.sleep(0.1)


def fan_out(bin_path, database, endpoints, live_events, drain_deliveries):
    """Two measurements on one server and receiver:
    - live: customers are created by 2 clients while floe delivers; the rate is deliveries
      over the time from the first creation to the last delivery, and each delivery's
      latency is from its customer's commit (the 201) to its arrival;
    - drain: events are committed while floe's worker is off, then floe starts; the rate is
      deliveries over the time from the start to the last delivery. This is the fan-out's
      own capacity, which the live rate cannot show when creating customers is slower."""
    floe = Floe(bin_path, database)
    receiver, receiver_port = start_receiver()
    try:
        floe.start()
        for _ in range(endpoints):
            floe.add_endpoint(receiver_port)
        started = time.time()
        committed = floe.create_customers(live_events)
        produced = len(committed) / (time.time() - started)
        got = wait_for(receiver_port, committed, len(committed) * endpoints)
        live_rate = len(got) / (max(at for _, at in got) - started)
        latencies = sorted((at - committed[customer]) * 1000 for customer, at in got)
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        live_missing = len(committed) * endpoints - len(got)

        floe.stop()
        floe.start(workers=False)
        queued = floe.create_customers(drain_deliveries // endpoints)
        floe.stop()
        started = floe.start()
        got = wait_for(receiver_port, queued, len(queued) * endpoints)
        drain_rate = len(got) / (max(at for _, at in got) - started)
        drain_missing = len(queued) * endpoints - len(got)

        raw = baseline(receiver_port, 2000, endpoints)
        return {
            "live": live_rate, "produced": produced, "drain": drain_rate, "raw": raw, "p50": p50, "p99": p99,
            "missing": live_missing + drain_missing,
        }
    finally:
        receiver.terminate()
        floe.close()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--receiver":
        receiver_main(sys.argv[2])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--events", type=int, default=400, help="customers created in the live run")
    parser.add_argument("--drain", type=int, default=4000, help="deliveries queued for the drain run")
    args = parser.parse_args()
    for database in ("sqlite", "postgres"):
        for endpoints in (1, 10):
            r = fan_out(args.bin, database, endpoints, args.events, args.drain)
            print(f"webhooks, {database}, {endpoints} endpoint(s): receiver {r['raw']:,.0f}/s; "
                  f"drain {r['drain']:,.0f}/s ratio {r['drain'] / r['raw']:.2f} (target 0.5); "
                  f"live {r['live']:,.0f}/s ratio {r['live'] / r['raw']:.2f} "
                  f"(customers created at {r['produced']:,.0f}/s, so deliveries kept "
                  f"{r['live'] / (r['produced'] * endpoints):.2f} of the pace of events); "
                  f"commit-to-delivery p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms; "
                  f"{r['missing']} not delivered", flush=True)


if __name__ == "__main__":
    main()
